// Retrieval metrics: each malignant query's full ranking of the eligible references, precision of
// its top k, and average_precision(relevant, -distance).
#include "metrics/retrieval.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "classify/neighbours.h"
#include "metrics/ranking.h"

namespace dermsim {
namespace {

// average_precision needs both classes; a ranking with only one is 0 (nothing relevant) or 1.
double ranking_average_precision(const std::vector<Neighbour>& ranking,
                                 const std::vector<int>& reference_labels) {
  std::vector<int> relevant(ranking.size());
  std::vector<double> score(ranking.size());
  for (size_t i = 0; i < ranking.size(); ++i) {
    relevant[i] = reference_labels[ranking[i].index] == 1 ? 1 : 0;
    score[i] = -ranking[i].distance;
  }
  const auto positives = std::count(relevant.begin(), relevant.end(), 1);
  if (positives == 0) return 0.0;
  if (positives == static_cast<long>(relevant.size())) return 1.0;
  return average_precision(relevant, score);
}

}  // namespace

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
  const int everything = static_cast<int>(
      std::min<size_t>(reference.size(), static_cast<size_t>(std::numeric_limits<int>::max())));
  double precision_sum = 0.0, ap_sum = 0.0;
  long counted = 0;
  for (size_t q = 0; q < queries.size(); ++q) {
    if (query_labels[q] != 1) continue;
    const auto ranking = nearest_neighbours(reference, queries.row(q), everything,
                                            &reference_groups, &query_groups[q]);
    if (ranking.empty()) continue;
    const size_t top = std::min(static_cast<size_t>(k), ranking.size());
    long hits = 0;
    for (size_t i = 0; i < top; ++i) hits += reference_labels[ranking[i].index] == 1;
    precision_sum += static_cast<double>(hits) / static_cast<double>(top);
    ap_sum += ranking_average_precision(ranking, reference_labels);
    ++counted;
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return {counted > 0 ? precision_sum / counted : nan, counted > 0 ? ap_sum / counted : nan, k,
          counted};
}

}  // namespace dermsim
