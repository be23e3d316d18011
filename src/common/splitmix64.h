// SplitMix64: a tiny portable RNG, so splits, bootstrap intervals and subsamples are identical for a seed on
// every platform and standard library (std distributions are not specified bit-for-bit).
#pragma once

#include <cstdint>

namespace dermsim {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform integer in [0, bound), bound > 0; rejection keeps it unbiased.
  std::uint64_t below(std::uint64_t bound) {
    const std::uint64_t limit = (0 - bound) % bound;  // 2^64 mod bound: values below it are biased
    for (;;) {
      const std::uint64_t r = next();
      if (r >= limit) return r % bound;
    }
  }

 private:
  std::uint64_t state_;
};

}  // namespace dermsim
