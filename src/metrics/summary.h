// Every binary metric of one evaluation in one struct, and its JSON form: what training, evaluate,
// report and score write and read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/bootstrap.h"
#include "metrics/calibration.h"
#include "metrics/classification.h"

namespace dermsim {

struct BinaryMetricsOptions {
  double min_tpr = 0.8;                  // pAUC above this TPR (ISIC 2024)
  double reference_prevalence = 0.0176;  // ISIC 2020 training set: 584 / 33126 malignant
  int calibration_bins = 10;
  int subsample_repeats = 100;
  int bootstrap_resamples = 1000;
  double bootstrap_level = 0.95;
  std::uint64_t seed = 0;  // bootstrap and balanced subsamples
};

struct BinaryMetrics {
  long long n = 0, positives = 0;
  double auc = 0, pauc = 0, average_precision = 0;
  std::optional<Interval> auc_ci, pauc_ci;  // present when groups were given
  // Calibration only means something when the scores are probabilities; absent otherwise.
  std::optional<double> brier, ece;
  std::vector<ReliabilityBin> reliability;
  double threshold = 0;
  ConfusionMatrix confusion;
  ClassificationReport report;
  double accuracy = 0, balanced_accuracy = 0, sensitivity = 0, specificity = 0;
  double reference_prevalence = 0, accuracy_at_reference_prevalence = 0;
  double balanced_subsample_accuracy = 0;
};

// All metrics of `score` against `y`; hard predictions are score >= threshold. With groups_for_ci
// (one patient id per case) the AUC and pAUC get group-bootstrap intervals.
BinaryMetrics compute_binary_metrics(const std::vector<int>& y, const std::vector<double>& score,
                                     double threshold,
                                     const std::vector<std::string>* groups_for_ci = nullptr,
                                     const BinaryMetricsOptions& options = {});

// Keys: n, positives, auc, auc_ci, pauc, pauc_ci, average_precision, brier, ece, reliability,
// threshold, confusion_matrix {tn, fp, fn, tp}, report {benign, malignant, macro_avg, weighted_avg,
// accuracy}, accuracy, balanced_accuracy, sensitivity, specificity, reference_prevalence,
// accuracy_at_reference_prevalence, balanced_subsample_accuracy. Absent optionals are null.
nlohmann::json to_json(const BinaryMetrics& metrics);

}  // namespace dermsim
