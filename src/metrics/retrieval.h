// Retrieval metrics of malignant queries against a reference set (precision@k, mAP), the query's
// own patient excluded: how useful the "most similar known cases" are. Ranks with classify's
// nearest_neighbours and scores with this stage's average_precision.
#pragma once

#include <string>
#include <vector>

#include "common/embeddings.h"

namespace dermsim {

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
