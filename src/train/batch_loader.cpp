#include "train/batch_loader.h"

#include <chrono>

namespace dermsim {

BatchLoader::BatchLoader(MakeBatch make_batch, long first_step, long end_step, int queue_depth)
    : make_batch_(std::move(make_batch)), next_step_(first_step), end_step_(end_step),
      depth_(static_cast<size_t>(std::max(1, queue_depth))), worker_([this] { produce(); }) {}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

void BatchLoader::produce() {
  // Inference mode is not needed: batch preparation records no graph because nothing requires grad.
  for (;;) {
    long step;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || ready_.size() < depth_; });
      if (stop_ || next_step_ >= end_step_) return;
      step = next_step_++;
    }
    try {
      TrainingBatch batch = make_batch_(step);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.push_back(std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      stop_ = true;
    }
    changed_.notify_all();
  }
}

TrainingBatch BatchLoader::next() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !ready_.empty() || error_ || stop_; });
  if (ready_.empty() && error_) std::rethrow_exception(error_);
  if (ready_.empty()) throw std::logic_error("BatchLoader::next past the last step");
  TrainingBatch batch = std::move(ready_.front());
  ready_.pop_front();
  waited_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  lock.unlock();
  changed_.notify_all();
  return batch;
}

}  // namespace dermsim
