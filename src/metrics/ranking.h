// Threshold-free ranking metrics (ROC AUC, ISIC 2024 partial AUC, average precision, their curves)
// and the operating thresholds chosen from the ROC curve on validation data.
// Labels: 0 benign, 1 malignant; scores: higher = more malignant. Bad input throws UserError.
#pragma once

#include <vector>

namespace dermsim {

// Equal to sklearn.metrics.roc_curve(y, score, drop_intermediate=False) except thresholds[0], which
// is +infinity here (sklearn 1.2 writes max(score) + 1, later versions +inf): the point (0, 0) where
// nothing is called malignant. Thresholds decrease; a case is called malignant when score >= threshold.
struct RocCurve {
  std::vector<double> fpr, tpr, thresholds;
};

// Equal to sklearn.metrics.precision_recall_curve: precision and recall have one more entry than
// thresholds (the final point precision 1, recall 0); thresholds increase.
struct PrCurve {
  std::vector<double> precision, recall, thresholds;
};

// Mann-Whitney U / (P * N) with ties counted one half (== sklearn roc_auc_score). O(n log n).
double roc_auc(const std::vector<int>& y, const std::vector<double>& score);

RocCurve roc_curve(const std::vector<int>& y, const std::vector<double>& score);

// The ISIC 2024 metric: area of the ROC region above TPR = min_tpr, in [0, 1 - min_tpr]
// (random ~ 0.02 for 0.8). Computed as the official scorer does: ROC of the flipped problem
// (benign positive, score negated), cut at FPR = 1 - min_tpr with one linearly interpolated point,
// trapezoidal area.
double partial_auc_above_tpr(const std::vector<int>& y, const std::vector<double>& score,
                             double min_tpr = 0.8);

// Step-function area under the PR curve (== sklearn average_precision_score).
double average_precision(const std::vector<int>& y, const std::vector<double>& score);
PrCurve precision_recall_curve(const std::vector<int>& y, const std::vector<double>& score);

// Threshold maximising Youden's J = TPR - FPR over the finite ROC thresholds (the observed scores);
// among equal J the higher threshold wins (fewer cases called malignant for the same J).
double youden_threshold(const std::vector<int>& y, const std::vector<double>& score);

// Highest finite ROC threshold whose sensitivity (TPR) is >= target_sensitivity, target in [0, 1].
double threshold_for_sensitivity(const std::vector<int>& y, const std::vector<double>& score,
                                 double target_sensitivity);

}  // namespace dermsim
