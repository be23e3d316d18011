// Threshold metrics and the classification report (see classification.h).
#include "metrics/classification.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <numeric>

#include "common/error.h"
#include "metrics/input_checks.h"
#include "common/splitmix64.h"

namespace dermsim {
namespace {

void check_predictions(const char* metric, const std::vector<int>& pred) {
  for (std::size_t i = 0; i < pred.size(); ++i) {
    if (pred[i] != 0 && pred[i] != 1) {
      throw UserError(std::string(metric) + ": prediction at index " + std::to_string(i) + " is " +
                      std::to_string(pred[i]) + "; predictions must be 0 or 1");
    }
  }
}

double divide_or_zero(double numerator, double denominator) {
  return denominator == 0 ? 0.0 : numerator / denominator;
}

ClassScores class_scores(double tp, double predicted, double actual) {
  ClassScores s;
  s.precision = divide_or_zero(tp, predicted);
  s.recall = divide_or_zero(tp, actual);
  s.f1 = divide_or_zero(2 * s.precision * s.recall, s.precision + s.recall);
  s.support = actual;
  return s;
}

// Python's str() of a float for the support column of a weighted report ("12.5", "100.0").
std::string python_float_text(double value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);
  std::string text(buffer, result.ptr);
  if (text.find('.') == std::string::npos) text += ".0";
  return text;
}

std::string format_row(const std::string& name, const ClassScores& s, int width, int digits,
                       const std::string& support) {
  char line[256];
  std::snprintf(line, sizeof line, "%*s  %9.*f %9.*f %9.*f %9s\n", width, name.c_str(), digits,
                s.precision, digits, s.recall, digits, s.f1, support.c_str());
  return line;
}

}  // namespace

ConfusionMatrix confusion_at(const std::vector<int>& y, const std::vector<double>& score,
                             double threshold) {
  metrics_detail::check_labels("confusion_at", y, score.size());
  metrics_detail::check_scores("confusion_at", score);
  std::vector<int> pred(score.size());
  for (std::size_t i = 0; i < score.size(); ++i) pred[i] = score[i] >= threshold ? 1 : 0;
  return confusion_matrix(y, pred);
}

ConfusionMatrix confusion_matrix(const std::vector<int>& y, const std::vector<int>& pred) {
  metrics_detail::check_labels("confusion_matrix", y, pred.size());
  check_predictions("confusion_matrix", pred);
  ConfusionMatrix cm;
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (y[i] == 1) {
      (pred[i] == 1 ? cm.tp : cm.fn)++;
    } else {
      (pred[i] == 1 ? cm.fp : cm.tn)++;
    }
  }
  return cm;
}

double accuracy(const ConfusionMatrix& cm) {
  const long long n = cm.tn + cm.fp + cm.fn + cm.tp;
  if (n == 0) throw UserError("accuracy: empty confusion matrix");
  return static_cast<double>(cm.tp + cm.tn) / static_cast<double>(n);
}

double sensitivity(const ConfusionMatrix& cm) {
  if (cm.tp + cm.fn == 0) throw UserError("sensitivity: undefined, no malignant cases");
  return static_cast<double>(cm.tp) / static_cast<double>(cm.tp + cm.fn);
}

double specificity(const ConfusionMatrix& cm) {
  if (cm.tn + cm.fp == 0) throw UserError("specificity: undefined, no benign cases");
  return static_cast<double>(cm.tn) / static_cast<double>(cm.tn + cm.fp);
}

double balanced_accuracy(const ConfusionMatrix& cm) {
  return (sensitivity(cm) + specificity(cm)) / 2;
}

double accuracy_at_prevalence(const ConfusionMatrix& cm, double prevalence) {
  if (!(prevalence > 0.0 && prevalence < 1.0)) {
    throw UserError("accuracy_at_prevalence: prevalence " + std::to_string(prevalence) +
                    " must lie in (0, 1)");
  }
  return prevalence * sensitivity(cm) + (1 - prevalence) * specificity(cm);
}

ClassificationReport classification_report(const std::vector<int>& y, const std::vector<int>& pred,
                                           const std::vector<double>* sample_weight) {
  metrics_detail::check_labels("classification_report", y, pred.size());
  check_predictions("classification_report", pred);
  if (sample_weight && sample_weight->size() != y.size()) {
    throw UserError("classification_report: size mismatch: " + std::to_string(y.size()) +
                    " labels but " + std::to_string(sample_weight->size()) + " sample weights");
  }
  double tn = 0, fp = 0, fn = 0, tp = 0;  // weighted confusion matrix
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double w = sample_weight ? (*sample_weight)[i] : 1.0;
    if (y[i] == 1) {
      (pred[i] == 1 ? tp : fn) += w;
    } else {
      (pred[i] == 1 ? fp : tn) += w;
    }
  }
  ClassificationReport r;
  r.weighted = sample_weight != nullptr;
  r.benign = class_scores(tn, tn + fn, tn + fp);
  r.malignant = class_scores(tp, tp + fp, tp + fn);
  const double total = r.benign.support + r.malignant.support;
  r.accuracy = divide_or_zero(tp + tn, total);
  r.macro_avg.precision = (r.benign.precision + r.malignant.precision) / 2;
  r.macro_avg.recall = (r.benign.recall + r.malignant.recall) / 2;
  r.macro_avg.f1 = (r.benign.f1 + r.malignant.f1) / 2;
  r.macro_avg.support = total;
  auto by_support = [&](double benign_value, double malignant_value) {
    return divide_or_zero(benign_value * r.benign.support + malignant_value * r.malignant.support,
                          total);
  };
  r.weighted_avg.precision = by_support(r.benign.precision, r.malignant.precision);
  r.weighted_avg.recall = by_support(r.benign.recall, r.malignant.recall);
  r.weighted_avg.f1 = by_support(r.benign.f1, r.malignant.f1);
  r.weighted_avg.support = total;
  return r;
}

std::string format_classification_report(const ClassificationReport& r, int digits) {
  const int width = std::max(static_cast<int>(std::string("weighted avg").size()), digits);
  auto support_text = [&](double support) {
    return r.weighted ? python_float_text(support) : std::to_string(static_cast<long long>(support));
  };
  char line[256];
  std::snprintf(line, sizeof line, "%*s  %9s %9s %9s %9s\n\n", width, "", "precision", "recall",
                "f1-score", "support");
  std::string text = line;
  text += format_row("benign", r.benign, width, digits, support_text(r.benign.support));
  text += format_row("malignant", r.malignant, width, digits, support_text(r.malignant.support));
  text += "\n";
  std::snprintf(line, sizeof line, "%*s  %9s %9s %9.*f %9s\n", width, "accuracy", "", "", digits,
                r.accuracy, support_text(r.macro_avg.support).c_str());
  text += line;
  text += format_row("macro avg", r.macro_avg, width, digits, support_text(r.macro_avg.support));
  text += format_row("weighted avg", r.weighted_avg, width, digits,
                     support_text(r.weighted_avg.support));
  return text;
}

double balanced_subsample_accuracy(const std::vector<int>& y, const std::vector<int>& pred,
                                   std::uint64_t seed, int repeats) {
  metrics_detail::check_labels("balanced_subsample_accuracy", y, pred.size());
  check_predictions("balanced_subsample_accuracy", pred);
  metrics_detail::check_both_classes("balanced_subsample_accuracy", y);
  if (repeats < 1) throw UserError("balanced_subsample_accuracy: repeats must be >= 1");
  std::vector<std::size_t> benign, malignant;
  for (std::size_t i = 0; i < y.size(); ++i) (y[i] == 1 ? malignant : benign).push_back(i);
  std::vector<std::size_t>& minority = malignant.size() <= benign.size() ? malignant : benign;
  std::vector<std::size_t>& majority = malignant.size() <= benign.size() ? benign : malignant;
  const std::size_t k = minority.size();
  long long minority_correct = 0;
  for (std::size_t i : minority) minority_correct += pred[i] == y[i];
  SplitMix64 rng(seed);
  double accuracy_sum = 0;
  for (int r = 0; r < repeats; ++r) {
    // Partial Fisher-Yates: the first k entries become a uniform draw without replacement.
    long long correct = minority_correct;
    for (std::size_t j = 0; j < k; ++j) {
      const std::size_t pick = j + static_cast<std::size_t>(rng.below(majority.size() - j));
      std::swap(majority[j], majority[pick]);
      correct += pred[majority[j]] == y[majority[j]];
    }
    accuracy_sum += static_cast<double>(correct) / static_cast<double>(2 * k);
  }
  return accuracy_sum / repeats;
}

}  // namespace dermsim
