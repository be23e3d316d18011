// Random test data: uniform01 from the project's portable SplitMix64 (the same on every platform),
// and Gaussian embeddings for the classifier tests (std::normal_distribution is not specified
// bit-for-bit, so those tests compare against an oracle fed the same values, never fixed numbers).
#pragma once

#include <cstddef>
#include <random>

#include "common/embeddings.h"
#include "common/splitmix64.h"

namespace dermsim::testing {

// Uniform double in [0, 1) from the top 53 bits of one draw.
inline double uniform01(SplitMix64& rng) {
  return static_cast<double>(rng.next() >> 11) * 0x1.0p-53;
}

// n rows of dim standard-normal floats, drawn row by row.
inline Embeddings random_embeddings(size_t n, int dim, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Embeddings e;
  e.dim = dim;
  e.values.resize(n * static_cast<size_t>(dim));
  for (auto& v : e.values) v = normal(rng);
  return e;
}

}  // namespace dermsim::testing
