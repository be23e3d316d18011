// The all-metrics summary and its JSON form (see summary.h).
#include "metrics/summary.h"

#include "metrics/input_checks.h"
#include "metrics/ranking.h"

namespace dermsim {
namespace {

bool all_probabilities(const std::vector<double>& score) {
  for (double s : score) {
    if (!(s >= 0.0 && s <= 1.0)) return false;
  }
  return true;
}

nlohmann::json interval_json(const std::optional<Interval>& interval) {
  if (!interval) return nullptr;
  return {{"estimate", interval->estimate}, {"lower", interval->lower},
          {"upper", interval->upper},       {"level", interval->level},
          {"resamples", interval->resamples}, {"redrawn", interval->redrawn}};
}

nlohmann::json class_json(const ClassScores& s) {
  return {{"precision", s.precision}, {"recall", s.recall}, {"f1", s.f1}, {"support", s.support}};
}

template <typename T>
nlohmann::json optional_json(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

BinaryMetrics compute_binary_metrics(const std::vector<int>& y, const std::vector<double>& score,
                                     double threshold,
                                     const std::vector<std::string>* groups_for_ci,
                                     const BinaryMetricsOptions& options) {
  BinaryMetrics m;
  m.auc = roc_auc(y, score);  // validates y and score first: sizes, labels, NaN, both classes
  m.n = static_cast<long long>(y.size());
  for (int label : y) m.positives += label;
  m.pauc = partial_auc_above_tpr(y, score, options.min_tpr);
  m.average_precision = average_precision(y, score);
  if (groups_for_ci) {
    m.auc_ci = bootstrap_ci(y, score, *groups_for_ci, roc_auc, options.bootstrap_resamples,
                            options.seed, options.bootstrap_level);
    const double min_tpr = options.min_tpr;
    m.pauc_ci = bootstrap_ci(
        y, score, *groups_for_ci,
        [min_tpr](const std::vector<int>& yy, const std::vector<double>& ss) {
          return partial_auc_above_tpr(yy, ss, min_tpr);
        },
        options.bootstrap_resamples, options.seed, options.bootstrap_level);
  }
  if (all_probabilities(score)) {
    m.brier = brier_score(y, score);
    m.ece = expected_calibration_error(y, score, options.calibration_bins);
    m.reliability = reliability_curve(y, score, options.calibration_bins);
  }
  m.threshold = threshold;
  m.confusion = confusion_at(y, score, threshold);
  std::vector<int> pred(score.size());
  for (std::size_t i = 0; i < score.size(); ++i) pred[i] = score[i] >= threshold ? 1 : 0;
  m.report = classification_report(y, pred);
  m.accuracy = accuracy(m.confusion);
  m.balanced_accuracy = balanced_accuracy(m.confusion);
  m.sensitivity = sensitivity(m.confusion);
  m.specificity = specificity(m.confusion);
  m.reference_prevalence = options.reference_prevalence;
  m.accuracy_at_reference_prevalence =
      accuracy_at_prevalence(m.confusion, options.reference_prevalence);
  m.balanced_subsample_accuracy =
      balanced_subsample_accuracy(y, pred, options.seed, options.subsample_repeats);
  return m;
}

nlohmann::json to_json(const BinaryMetrics& m) {
  nlohmann::json reliability = nlohmann::json::array();
  for (const ReliabilityBin& bin : m.reliability) {
    reliability.push_back({{"lower", bin.lower}, {"upper", bin.upper}, {"mean_prob", bin.mean_prob},
                           {"fraction_positive", bin.fraction_positive}, {"count", bin.count}});
  }
  return {
      {"n", m.n},
      {"positives", m.positives},
      {"auc", m.auc},
      {"auc_ci", interval_json(m.auc_ci)},
      {"pauc", m.pauc},
      {"pauc_ci", interval_json(m.pauc_ci)},
      {"average_precision", m.average_precision},
      {"brier", optional_json(m.brier)},
      {"ece", optional_json(m.ece)},
      {"reliability", reliability},
      {"threshold", m.threshold},
      {"confusion_matrix",
       {{"tn", m.confusion.tn}, {"fp", m.confusion.fp}, {"fn", m.confusion.fn}, {"tp", m.confusion.tp}}},
      {"report",
       {{"benign", class_json(m.report.benign)},
        {"malignant", class_json(m.report.malignant)},
        {"macro_avg", class_json(m.report.macro_avg)},
        {"weighted_avg", class_json(m.report.weighted_avg)},
        {"accuracy", m.report.accuracy}}},
      {"accuracy", m.accuracy},
      {"balanced_accuracy", m.balanced_accuracy},
      {"sensitivity", m.sensitivity},
      {"specificity", m.specificity},
      {"reference_prevalence", m.reference_prevalence},
      {"accuracy_at_reference_prevalence", m.accuracy_at_reference_prevalence},
      {"balanced_subsample_accuracy", m.balanced_subsample_accuracy},
  };
}

}  // namespace dermsim
