// parallel_for: an atomic counter hands out indices; the first exception wins (see parallel_for.h).
#include "common/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace dermsim {

void parallel_for(size_t n, int threads, const std::function<void(size_t)>& body) {
  if (n == 0) return;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const size_t workers = std::min(static_cast<size_t>(threads), n);

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto fail = [&](std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(error_mutex);
    if (!first_error) first_error = std::move(error);
    failed = true;
  };
  auto work = [&] {
    for (size_t i = next++; i < n && !failed; i = next++) {
      try {
        body(i);
      } catch (...) {
        fail(std::current_exception());
      }
    }
  };

  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  try {
    for (size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  } catch (...) {  // could not start a thread: stop the ones that did, then report it
    fail(std::current_exception());
  }
  work();
  for (auto& thread : pool) thread.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace dermsim
