// The one thread pool of dermsim: body(i) for every i in [0, n) on a few threads, for work whose
// items are independent (decoding images, building the cache). Each index runs exactly once.
#pragma once

#include <cstddef>
#include <functional>

namespace dermsim {

// threads <= 0 means std::thread::hardware_concurrency(); never more threads than items, and the
// calling thread is one of them (threads == 1 runs body(0), body(1), ... in order, inline).
// The first exception thrown by body stops new items from starting (those already running finish)
// and is rethrown here once every thread has stopped; later exceptions are dropped.
void parallel_for(size_t n, int threads, const std::function<void(size_t)>& body);

}  // namespace dermsim
