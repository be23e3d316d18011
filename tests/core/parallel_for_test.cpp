// parallel_for: every index exactly once at any thread count, threads == 1 in order on the caller,
// and the first exception of a body reaches the caller and stops new work.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/parallel_for.h"

namespace dermsim {
namespace {

TEST(ParallelFor, VisitsEveryIndexExactlyOnce) {
  for (int threads : {-1, 0, 1, 2, 3, 8, 64}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{5}, size_t{1000}}) {
      std::vector<std::atomic<int>> visits(n);
      parallel_for(n, threads, [&](size_t i) { ++visits[i]; });
      for (size_t i = 0; i < n; ++i)
        EXPECT_EQ(visits[i].load(), 1) << "threads " << threads << ", n " << n << ", index " << i;
    }
  }
}

TEST(ParallelFor, OneThreadRunsInOrderOnTheCaller) {
  std::vector<size_t> order;
  const auto caller = std::this_thread::get_id();
  bool on_caller = true;
  parallel_for(50, 1, [&](size_t i) {
    order.push_back(i);
    on_caller = on_caller && std::this_thread::get_id() == caller;
  });
  ASSERT_EQ(order.size(), 50u);
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i);
  EXPECT_TRUE(on_caller);
}

TEST(ParallelFor, FirstExceptionPropagatesAndStopsNewWork) {
  for (int threads : {1, 4}) {
    std::atomic<size_t> started{0};
    try {
      parallel_for(100000, threads, [&](size_t i) {
        ++started;
        if (i == 10) throw std::runtime_error("item 10 failed");
        // Slow items: without the stop, the other threads would need seconds to finish them all.
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      });
      ADD_FAILURE() << "no exception with " << threads << " threads";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "item 10 failed");
    }
    // With one thread nothing after the failing item starts; with more, little more than what was
    // in flight.
    if (threads == 1) {
      EXPECT_EQ(started.load(), 11u);
    }
    EXPECT_LT(started.load(), 50000u) << threads << " threads";
  }
  // Every item throwing: exactly one exception comes out, not a crash.
  EXPECT_THROW(parallel_for(64, 8, [](size_t) { throw std::logic_error("all fail"); }),
               std::logic_error);
}

}  // namespace
}  // namespace dermsim
