// Calibration of predicted probabilities of malignancy: Brier score, reliability curve, ECE.
// Labels: 0 benign, 1 malignant; probabilities must lie in [0, 1]. Bad input throws UserError.
#pragma once

#include <vector>

namespace dermsim {

// Mean squared difference between probability and label (== sklearn brier_score_loss).
double brier_score(const std::vector<int>& y, const std::vector<double>& prob);

// One equal-width bin. Bin i covers (i/bins, (i+1)/bins], the first also includes 0: the edge
// convention of sklearn.calibration.calibration_curve(strategy='uniform').
// An empty bin has count 0 and mean_prob = fraction_positive = 0.
struct ReliabilityBin {
  double lower = 0, upper = 0;
  double mean_prob = 0;          // mean predicted probability of the cases in the bin
  double fraction_positive = 0;  // fraction of those cases that are malignant
  long long count = 0;
};

// All `bins` bins, empty ones included, in increasing order of probability.
std::vector<ReliabilityBin> reliability_curve(const std::vector<int>& y,
                                              const std::vector<double>& prob, int bins = 10);

// Sum over bins of count / n * |fraction_positive - mean_prob|, on the bins above.
double expected_calibration_error(const std::vector<int>& y, const std::vector<double>& prob,
                                  int bins = 10);

}  // namespace dermsim
