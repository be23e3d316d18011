// One allocator policy for every program that trains or augments (the CLI and the benchmarks).
#pragma once

#include <malloc.h>

namespace dermsim {

// Keep freed batch-sized buffers in the heap instead of mapping and unmapping them every step.
// With glibc's defaults augmentation ran ~5x slower (bench/augment_bench); raising the mmap
// threshold is not enough, because glibc caps it at 32 MiB and the small backbone's first conv
// output at batch 64 (64 x 32 x 64 x 64 floats = 33.5 MB) would still be mapped and page-faulted
// every step (3.5-4x slower, bench/train_bench). So large blocks are never mmap'd.
inline void keep_large_buffers_in_heap() {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

}  // namespace dermsim
