// Calibration metrics (see calibration.h).
#include "metrics/calibration.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"
#include "metrics/input_checks.h"

namespace dermsim {

double brier_score(const std::vector<int>& y, const std::vector<double>& prob) {
  metrics_detail::check_labels("brier_score", y, prob.size());
  metrics_detail::check_probabilities("brier_score", prob);
  double sum = 0;
  for (std::size_t i = 0; i < y.size(); ++i) sum += (y[i] - prob[i]) * (y[i] - prob[i]);
  return sum / static_cast<double>(y.size());
}

std::vector<ReliabilityBin> reliability_curve(const std::vector<int>& y,
                                              const std::vector<double>& prob, int bins) {
  metrics_detail::check_labels("reliability_curve", y, prob.size());
  metrics_detail::check_probabilities("reliability_curve", prob);
  if (bins < 1) throw UserError("reliability_curve: bins must be >= 1, got " + std::to_string(bins));
  // Edges computed as numpy.linspace does (i * step), so a probability on an edge lands in the same
  // bin as in sklearn.
  const double step = 1.0 / bins;
  std::vector<double> inner_edges;
  for (int i = 1; i < bins; ++i) inner_edges.push_back(i * step);
  std::vector<ReliabilityBin> curve(static_cast<std::size_t>(bins));
  std::vector<double> prob_sum(curve.size(), 0.0), positive_count(curve.size(), 0.0);
  for (std::size_t i = 0; i < y.size(); ++i) {
    const auto bin = static_cast<std::size_t>(
        std::lower_bound(inner_edges.begin(), inner_edges.end(), prob[i]) - inner_edges.begin());
    prob_sum[bin] += prob[i];
    positive_count[bin] += y[i];
    curve[bin].count++;
  }
  for (std::size_t b = 0; b < curve.size(); ++b) {
    curve[b].lower = static_cast<double>(b) * step;
    curve[b].upper = b + 1 == curve.size() ? 1.0 : static_cast<double>(b + 1) * step;
    if (curve[b].count > 0) {
      curve[b].mean_prob = prob_sum[b] / static_cast<double>(curve[b].count);
      curve[b].fraction_positive = positive_count[b] / static_cast<double>(curve[b].count);
    }
  }
  return curve;
}

double expected_calibration_error(const std::vector<int>& y, const std::vector<double>& prob,
                                  int bins) {
  const std::vector<ReliabilityBin> curve = reliability_curve(y, prob, bins);
  double ece = 0;
  for (const ReliabilityBin& bin : curve) {
    ece += static_cast<double>(bin.count) / static_cast<double>(y.size()) *
           std::abs(bin.fraction_positive - bin.mean_prob);
  }
  return ece;
}

}  // namespace dermsim
