// Random test data from the project's portable SplitMix64, so generated cases are the same on every
// platform (std distributions are not specified bit-for-bit).
#pragma once

#include "common/splitmix64.h"

namespace dermsim::testing {

// Uniform double in [0, 1) from the top 53 bits of one draw.
inline double uniform01(SplitMix64& rng) {
  return static_cast<double>(rng.next() >> 11) * 0x1.0p-53;
}

}  // namespace dermsim::testing
