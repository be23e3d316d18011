// Validation shared by every metric (see input_checks.h).
#include "metrics/input_checks.h"

#include <cmath>
#include <string>

#include "common/error.h"

namespace dermsim {
namespace metrics_detail {

void check_labels(const char* metric, const std::vector<int>& y, std::size_t n_other) {
  if (y.empty()) throw UserError(std::string(metric) + ": empty input (no labels)");
  if (y.size() != n_other) {
    throw UserError(std::string(metric) + ": size mismatch: " + std::to_string(y.size()) +
                    " labels but " + std::to_string(n_other) + " scores/predictions");
  }
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (y[i] != 0 && y[i] != 1) {
      throw UserError(std::string(metric) + ": label at index " + std::to_string(i) + " is " +
                      std::to_string(y[i]) + "; labels must be 0 (benign) or 1 (malignant)");
    }
  }
}

void check_scores(const char* metric, const std::vector<double>& score) {
  for (std::size_t i = 0; i < score.size(); ++i) {
    if (std::isnan(score[i])) {
      throw UserError(std::string(metric) + ": score at index " + std::to_string(i) + " is NaN");
    }
  }
}

void check_probabilities(const char* metric, const std::vector<double>& prob) {
  for (std::size_t i = 0; i < prob.size(); ++i) {
    if (!(prob[i] >= 0.0 && prob[i] <= 1.0)) {
      throw UserError(std::string(metric) + ": probability at index " + std::to_string(i) + " is " +
                      std::to_string(prob[i]) + "; must lie in [0, 1]");
    }
  }
}

void check_both_classes(const char* metric, const std::vector<int>& y) {
  bool has_benign = false, has_malignant = false;
  for (int label : y) (label == 1 ? has_malignant : has_benign) = true;
  if (!has_benign || !has_malignant) {
    throw UserError(std::string(metric) + ": only one class present (" +
                    (has_malignant ? "all malignant" : "all benign") +
                    "); the metric needs both benign and malignant cases");
  }
}

}  // namespace metrics_detail
}  // namespace dermsim
