// Metrics of hard predictions at an operating threshold: confusion matrix, sklearn-style
// classification report, and accuracy named for the class mix it is measured at.
// Labels/predictions: 0 benign, 1 malignant. Bad input throws UserError.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dermsim {

struct ConfusionMatrix {
  long long tn = 0, fp = 0, fn = 0, tp = 0;
};

// Predicts malignant when score >= threshold.
ConfusionMatrix confusion_at(const std::vector<int>& y, const std::vector<double>& score,
                             double threshold);
ConfusionMatrix confusion_matrix(const std::vector<int>& y, const std::vector<int>& pred);

// Accuracy at the class mix of the data the matrix came from.
double accuracy(const ConfusionMatrix& cm);
// Mean of sensitivity and specificity (== sklearn balanced_accuracy_score).
double balanced_accuracy(const ConfusionMatrix& cm);
// TP / (TP + FN); throws UserError when there are no malignant cases.
double sensitivity(const ConfusionMatrix& cm);
// TN / (TN + FP); throws UserError when there are no benign cases.
double specificity(const ConfusionMatrix& cm);

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;
  double support = 0;  // number of true cases of the class (sum of their weights when weighted)
};

struct ClassificationReport {
  ClassScores benign, malignant, macro_avg, weighted_avg;
  double accuracy = 0;
  bool weighted = false;  // built with sample weights: supports are sums of weights
};

// == sklearn classification_report(y, pred, labels=[0, 1], output_dict=True, zero_division=0),
// with or without sample_weight. Both classes are always reported, even when absent from the data.
ClassificationReport classification_report(const std::vector<int>& y, const std::vector<int>& pred,
                                           const std::vector<double>* sample_weight = nullptr);
// Text laid out like sklearn's classification_report with target_names ["benign", "malignant"].
std::string format_classification_report(const ClassificationReport& report, int digits = 3);

// Accuracy if the classes occurred at `prevalence` (fraction malignant, in (0, 1)) instead of the
// data's own mix: prevalence * sensitivity + (1 - prevalence) * specificity. ISIC 2020: 0.0176.
double accuracy_at_prevalence(const ConfusionMatrix& cm, double prevalence);

// Accuracy on class-balanced subsamples: all of the minority class plus as many of the majority
// class drawn without replacement, averaged over `repeats` draws. Deterministic for a seed.
double balanced_subsample_accuracy(const std::vector<int>& y, const std::vector<int>& pred,
                                   std::uint64_t seed, int repeats = 100);

}  // namespace dermsim
