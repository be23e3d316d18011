// The one nearest-neighbour search on embeddings (brute-force Euclidean over the reference rows):
// the kNN classifier, similar-case retrieval and the retrieval metrics all rank through it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/embeddings.h"

namespace dermsim {

struct Neighbour {
  size_t index;     // row in the reference set
  double distance;  // Euclidean
};

// The min(k, eligible) nearest reference rows to query (query has reference.dim floats), nearest
// first, ties in distance by lower index. When both reference_groups and exclude_group are given,
// rows whose group equals *exclude_group are skipped (a query's own patient). k < 0 is an error.
std::vector<Neighbour> nearest_neighbours(
    const Embeddings& reference, const float* query, int k,
    const std::vector<std::string>* reference_groups = nullptr,
    const std::string* exclude_group = nullptr);

// Squared Euclidean distance accumulated in double: float32 inputs, no cancellation surprises
// when two embeddings are nearly equal. nearest_neighbours' distance is its square root.
double squared_distance(const float* a, const float* b, int dim);

}  // namespace dermsim
