// The one nearest-neighbour search on embeddings (Euclidean over the reference rows): the kNN
// classifier, similar-case retrieval, the retrieval metrics and the server all rank through it.
// Many queries at once are one matrix product (BLAS sgemm) that picks candidates; the candidates'
// distances are then computed exactly, so the answer is that of a brute-force double loop (which
// is what runs for fewer than 8 queries).
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

// For each query row: the min(k, eligible) nearest reference rows, nearest first, ties in distance
// by lower index. When both reference_groups and query_groups are given (one entry per reference
// row and per query row), reference rows whose group equals the query's are skipped (a query's own
// patient; an empty query group excludes nothing). k < 0 or mismatched sizes is an error.
std::vector<std::vector<Neighbour>> nearest_neighbours_batch(
    const Embeddings& reference, const Embeddings& queries, int k,
    const std::vector<std::string>* reference_groups = nullptr,
    const std::vector<std::string>* query_groups = nullptr, int threads = 0);

// One query (reference.dim floats): the same search. exclude_group as one query's group.
std::vector<Neighbour> nearest_neighbours(
    const Embeddings& reference, const float* query, int k,
    const std::vector<std::string>* reference_groups = nullptr,
    const std::string* exclude_group = nullptr);

// Squared Euclidean distance accumulated in double: float32 inputs, no cancellation surprises
// when two embeddings are nearly equal. nearest_neighbours' distance is its square root.
double squared_distance(const float* a, const float* b, int dim);

}  // namespace dermsim
