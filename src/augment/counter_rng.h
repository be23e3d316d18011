// A small counter-based random generator: every random choice in training is a pure function of
// (seed, step, ...), so a killed run resumes with the same batches and augmentation on any standard
// library and device (the training itself is bit-exact on the CPU at a fixed thread count).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "common/splitmix64.h"

namespace dermsim {

// splitmix64's output function: a bijective avalanche mix of 64 bits.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Derives an independent stream key from a seed and up to three counters (step, image index,
// purpose tag...). Chaining the mix keeps (a, b) and (b, a) apart.
inline uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  uint64_t h = mix64(seed ^ 0x6a09e667f3bcc908ULL);
  h = mix64(h ^ a);
  h = mix64(h ^ (b + 0x3c6ef372fe94f82bULL));
  return mix64(h ^ (c + 0xa54ff53a5f1d36f1ULL));
}

// splitmix64 stream. Distributions are written here, not taken from <random>, because the standard
// distributions differ between library implementations.
class CounterRng : public SplitMix64 {
 public:
  explicit CounterRng(uint64_t key) : SplitMix64(key) {}

  uint64_t next_u64() { return next(); }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  double uniform(double low, double high) { return low + (high - low) * uniform(); }

  bool coin() { return (next() >> 63) != 0; }

  // Fisher-Yates, with SplitMix64's unbiased below().
  template <typename T>
  void shuffle(std::vector<T>& values) {
    for (size_t i = values.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(below(i));
      std::swap(values[i - 1], values[j]);
    }
  }
};

}  // namespace dermsim
