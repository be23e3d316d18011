// Ranking metrics and ROC-derived thresholds (see ranking.h).
#include "metrics/ranking.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "common/error.h"
#include "metrics/input_checks.h"

namespace dermsim {
namespace {

// Cumulative true/false positive counts at each distinct score, scores taken in decreasing order:
// entry k counts the cases with score >= thresholds[k].
struct CumulativeCounts {
  std::vector<double> thresholds, tps, fps;
};

void check_ranking_input(const char* metric, const std::vector<int>& y,
                         const std::vector<double>& score) {
  metrics_detail::check_labels(metric, y, score.size());
  metrics_detail::check_scores(metric, score);
  metrics_detail::check_both_classes(metric, y);
}

CumulativeCounts cumulative_counts(const std::vector<int>& y, const std::vector<double>& score) {
  std::vector<std::size_t> order(y.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  CumulativeCounts counts;
  double tp = 0, fp = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    (y[order[k]] == 1 ? tp : fp) += 1;
    const bool last_of_group = k + 1 == order.size() || score[order[k + 1]] != score[order[k]];
    if (last_of_group) {
      counts.thresholds.push_back(score[order[k]]);
      counts.tps.push_back(tp);
      counts.fps.push_back(fp);
    }
  }
  return counts;
}

double trapezoid_area(const std::vector<double>& x, const std::vector<double>& y) {
  double area = 0;
  for (std::size_t k = 1; k < x.size(); ++k) area += (x[k] - x[k - 1]) * (y[k] + y[k - 1]) / 2;
  return area;
}

}  // namespace

double roc_auc(const std::vector<int>& y, const std::vector<double>& score) {
  check_ranking_input("roc_auc", y, score);
  const CumulativeCounts c = cumulative_counts(y, score);
  // Walking from the highest score down: each positive in a group beats every negative below the
  // group (none counted yet) and ties with the negatives inside it. Sum counts twice to stay integral.
  const double positives = c.tps.back(), negatives = c.fps.back();
  double twice_u = 0, prev_tp = 0, prev_fp = 0;
  for (std::size_t k = 0; k < c.tps.size(); ++k) {
    const double group_pos = c.tps[k] - prev_tp, group_neg = c.fps[k] - prev_fp;
    twice_u += group_pos * (2 * (negatives - c.fps[k]) + group_neg);
    prev_tp = c.tps[k];
    prev_fp = c.fps[k];
  }
  return twice_u / (2 * positives * negatives);
}

RocCurve roc_curve(const std::vector<int>& y, const std::vector<double>& score) {
  check_ranking_input("roc_curve", y, score);
  const CumulativeCounts c = cumulative_counts(y, score);
  const double positives = c.tps.back(), negatives = c.fps.back();
  RocCurve roc;
  roc.fpr.push_back(0);
  roc.tpr.push_back(0);
  roc.thresholds.push_back(std::numeric_limits<double>::infinity());
  for (std::size_t k = 0; k < c.tps.size(); ++k) {
    roc.fpr.push_back(c.fps[k] / negatives);
    roc.tpr.push_back(c.tps[k] / positives);
    roc.thresholds.push_back(c.thresholds[k]);
  }
  return roc;
}

double partial_auc_above_tpr(const std::vector<int>& y, const std::vector<double>& score,
                             double min_tpr) {
  if (!(min_tpr >= 0.0 && min_tpr < 1.0)) {
    throw UserError("partial_auc_above_tpr: min_tpr " + std::to_string(min_tpr) +
                    " must lie in [0, 1)");
  }
  check_ranking_input("partial_auc_above_tpr", y, score);
  std::vector<int> benign_positive(y.size());
  std::vector<double> negated(score.size());
  for (std::size_t i = 0; i < y.size(); ++i) {
    benign_positive[i] = 1 - y[i];
    negated[i] = -score[i];
  }
  RocCurve flipped = roc_curve(benign_positive, negated);
  const double max_fpr = std::abs(1.0 - min_tpr);
  if (max_fpr == 1.0) return trapezoid_area(flipped.fpr, flipped.tpr);
  // First point strictly beyond the cut; fpr ends at 1 > max_fpr, so it exists and stop >= 1.
  const std::size_t stop = static_cast<std::size_t>(
      std::upper_bound(flipped.fpr.begin(), flipped.fpr.end(), max_fpr) - flipped.fpr.begin());
  const double x0 = flipped.fpr[stop - 1], x1 = flipped.fpr[stop];
  const double y0 = flipped.tpr[stop - 1], y1 = flipped.tpr[stop];
  const double tpr_at_cut = y0 + (y1 - y0) / (x1 - x0) * (max_fpr - x0);
  std::vector<double> fpr(flipped.fpr.begin(), flipped.fpr.begin() + static_cast<long>(stop));
  std::vector<double> tpr(flipped.tpr.begin(), flipped.tpr.begin() + static_cast<long>(stop));
  fpr.push_back(max_fpr);
  tpr.push_back(tpr_at_cut);
  return trapezoid_area(fpr, tpr);
}

PrCurve precision_recall_curve(const std::vector<int>& y, const std::vector<double>& score) {
  check_ranking_input("precision_recall_curve", y, score);
  const CumulativeCounts c = cumulative_counts(y, score);
  const double positives = c.tps.back();
  PrCurve pr;
  for (std::size_t k = c.tps.size(); k-- > 0;) {
    pr.precision.push_back(c.tps[k] / (c.tps[k] + c.fps[k]));
    pr.recall.push_back(c.tps[k] / positives);
    pr.thresholds.push_back(c.thresholds[k]);
  }
  pr.precision.push_back(1.0);
  pr.recall.push_back(0.0);
  return pr;
}

double average_precision(const std::vector<int>& y, const std::vector<double>& score) {
  check_ranking_input("average_precision", y, score);
  const PrCurve pr = precision_recall_curve(y, score);
  // Recall decreases along the curve; each step in recall is weighted by the precision before it.
  double ap = 0;
  for (std::size_t k = 0; k + 1 < pr.recall.size(); ++k) {
    ap += (pr.recall[k] - pr.recall[k + 1]) * pr.precision[k];
  }
  return ap;
}

double youden_threshold(const std::vector<int>& y, const std::vector<double>& score) {
  const RocCurve roc = roc_curve(y, score);
  std::size_t best = 1;
  for (std::size_t k = 2; k < roc.thresholds.size(); ++k) {
    // Strict '>' keeps the earlier (higher) threshold on ties.
    if (roc.tpr[k] - roc.fpr[k] > roc.tpr[best] - roc.fpr[best]) best = k;
  }
  return roc.thresholds[best];
}

double threshold_for_sensitivity(const std::vector<int>& y, const std::vector<double>& score,
                                 double target_sensitivity) {
  if (!(target_sensitivity >= 0.0 && target_sensitivity <= 1.0)) {
    throw UserError("threshold_for_sensitivity: target sensitivity " +
                    std::to_string(target_sensitivity) + " must lie in [0, 1]");
  }
  const RocCurve roc = roc_curve(y, score);
  for (std::size_t k = 1; k < roc.thresholds.size(); ++k) {
    if (roc.tpr[k] >= target_sensitivity) return roc.thresholds[k];
  }
  return roc.thresholds.back();  // unreachable: the lowest threshold has TPR 1
}

}  // namespace dermsim
