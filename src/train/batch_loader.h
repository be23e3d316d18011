// Prepares the next training batches on a background thread while the current step runs, so the
// model does not wait for gathering and augmentation. Batches come out strictly in step order.
#pragma once

#include <torch/torch.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace dermsim {

struct TrainingBatch {
  long step = 0;
  torch::Tensor images;  // N x 3 x H x W, normalised, augmented
  torch::Tensor labels;  // N, int64
};

class BatchLoader {
 public:
  using MakeBatch = std::function<TrainingBatch(long step)>;
  BatchLoader(MakeBatch make_batch, long first_step, long end_step, int queue_depth = 2);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  TrainingBatch next();                          // blocks until the next step's batch is ready
  double seconds_waited() const { return waited_; }  // time the trainer spent blocked on data

 private:
  void produce();

  MakeBatch make_batch_;
  long next_step_, end_step_;
  size_t depth_;
  std::deque<TrainingBatch> ready_;
  std::exception_ptr error_;
  bool stop_ = false;
  double waited_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::thread worker_;
};

}  // namespace dermsim
