// Retrieval: brute-force nearest references and precision@k / mAP of malignant queries.
#include "classify/retrieval.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace dermsim {
namespace {

// All eligible references, nearest first (ties by lower index), with k limiting the sorted prefix.
std::vector<Neighbour> ranked(const Embeddings& reference, const float* query, size_t k,
                              const std::vector<std::string>* groups, const std::string* exclude) {
  std::vector<Neighbour> all;
  all.reserve(reference.size());
  for (size_t i = 0; i < reference.size(); ++i) {
    if (groups != nullptr && exclude != nullptr && (*groups)[i] == *exclude) continue;
    all.push_back({i, std::sqrt(squared_distance(query, reference.row(i), reference.dim))});
  }
  auto nearer = [](const Neighbour& a, const Neighbour& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.index < b.index);
  };
  k = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(), nearer);
  all.resize(k);
  return all;
}

// sklearn average_precision_score on (relevant, -distance): a block of equal distances is one
// threshold, contributing (recall gain) x (precision after the whole block).
double average_precision(const std::vector<Neighbour>& ranking, const std::vector<int>& labels) {
  long positives = 0;
  for (const auto& nb : ranking) positives += labels[nb.index] == 1;
  if (positives == 0) return 0.0;
  double ap = 0.0;
  long true_positives = 0, seen = 0, previous_tp = 0;
  for (size_t i = 0; i < ranking.size(); ++i) {
    true_positives += labels[ranking[i].index] == 1;
    ++seen;
    const bool block_ends =
        i + 1 == ranking.size() || ranking[i + 1].distance != ranking[i].distance;
    if (!block_ends) continue;
    const double precision = static_cast<double>(true_positives) / static_cast<double>(seen);
    ap += precision * static_cast<double>(true_positives - previous_tp) /
          static_cast<double>(positives);
    previous_tp = true_positives;
  }
  return ap;
}

}  // namespace

std::vector<Neighbour> nearest_neighbours(const Embeddings& reference, const float* query, int k,
                                          const std::vector<std::string>* reference_groups,
                                          const std::string* exclude_group) {
  check_embeddings(reference, "nearest_neighbours");
  if (k < 0) throw std::invalid_argument("nearest_neighbours: k must be >= 0");
  if (reference_groups != nullptr && reference_groups->size() != reference.size()) {
    throw std::invalid_argument("nearest_neighbours: reference_groups size mismatch");
  }
  return ranked(reference, query, static_cast<size_t>(k), reference_groups, exclude_group);
}

RetrievalMetrics retrieval_metrics(const Embeddings& queries, const std::vector<int>& query_labels,
                                   const std::vector<std::string>& query_groups,
                                   const Embeddings& reference,
                                   const std::vector<int>& reference_labels,
                                   const std::vector<std::string>& reference_groups, int k) {
  check_labels(queries, query_labels, "retrieval_metrics (queries)");
  check_labels(reference, reference_labels, "retrieval_metrics (reference)");
  if (queries.dim != reference.dim || query_groups.size() != queries.size() ||
      reference_groups.size() != reference.size()) {
    throw std::invalid_argument("retrieval_metrics: size mismatch");
  }
  if (k < 1) throw std::invalid_argument("retrieval_metrics: k must be >= 1");
  double precision_sum = 0.0, ap_sum = 0.0;
  long counted = 0;
  for (size_t q = 0; q < queries.size(); ++q) {
    if (query_labels[q] != 1) continue;
    const auto ranking =
        ranked(reference, queries.row(q), reference.size(), &reference_groups, &query_groups[q]);
    if (ranking.empty()) continue;
    const size_t top = std::min(static_cast<size_t>(k), ranking.size());
    long hits = 0;
    for (size_t i = 0; i < top; ++i) hits += reference_labels[ranking[i].index] == 1;
    precision_sum += static_cast<double>(hits) / static_cast<double>(top);
    ap_sum += average_precision(ranking, reference_labels);
    ++counted;
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return {counted > 0 ? precision_sum / counted : nan, counted > 0 ? ap_sum / counted : nan, k,
          counted};
}

}  // namespace dermsim
