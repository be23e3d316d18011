// Similar-case retrieval on embeddings: the nearest reference cases to a query (the query's own
// patient excluded), and retrieval metrics of malignant queries (precision@k, mAP).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "classify/embeddings.h"

namespace dermsim {

struct Neighbour {
  size_t index;     // row in the reference set
  double distance;  // Euclidean
};

// The min(k, eligible) nearest reference rows to query (query has reference.dim floats), nearest
// first, ties in distance by lower index. When both reference_groups and exclude_group are given,
// rows whose group equals *exclude_group are skipped. k < 0 is an error.
std::vector<Neighbour> nearest_neighbours(
    const Embeddings& reference, const float* query, int k,
    const std::vector<std::string>* reference_groups = nullptr,
    const std::string* exclude_group = nullptr);

struct RetrievalMetrics {
  double precision_at_k;  // mean over counted queries of (#malignant in top k) / (#returned)
  double mean_average_precision;  // mean over counted queries of AP of the full ranking
  int k;
  long queries;  // malignant queries counted
};

// Over MALIGNANT queries only; relevant = malignant reference; references of the query's own group
// are excluded. AP is sklearn's average_precision_score(relevant, -distance): equal distances form
// one threshold. A query with no eligible reference is not counted; a counted query with no
// malignant reference has AP 0 and precision 0. With no counted query both metrics are NaN.
RetrievalMetrics retrieval_metrics(const Embeddings& queries, const std::vector<int>& query_labels,
                                   const std::vector<std::string>& query_groups,
                                   const Embeddings& reference,
                                   const std::vector<int>& reference_labels,
                                   const std::vector<std::string>& reference_groups, int k);

}  // namespace dermsim
