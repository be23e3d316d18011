// Validation shared by every metric: one place that decides what a bad label/score vector is, so
// every metric rejects the same inputs with the same message.
#pragma once

#include <cstddef>
#include <vector>

namespace dermsim {
namespace metrics_detail {

// Throws UserError (naming `metric`) unless y is non-empty, all 0/1, and the same size as `n_other`.
void check_labels(const char* metric, const std::vector<int>& y, std::size_t n_other);
// Throws UserError on a NaN score.
void check_scores(const char* metric, const std::vector<double>& score);
// Throws UserError unless every value is a probability in [0, 1].
void check_probabilities(const char* metric, const std::vector<double>& prob);
// Throws UserError unless both classes occur (AUC-type metrics are undefined otherwise).
void check_both_classes(const char* metric, const std::vector<int>& y);

}  // namespace metrics_detail
}  // namespace dermsim
