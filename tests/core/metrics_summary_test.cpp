// Accuracy named for its class mix, input validation of the threshold/calibration metrics, and the
// all-metrics summary with its JSON form.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/splitmix64.h"
#include "metrics/calibration.h"
#include "metrics/classification.h"
#include "metrics/ranking.h"
#include "metrics/summary.h"
#include "support/random.h"

namespace dermsim {
namespace {

using testing::uniform01;

struct Data {
  std::vector<int> y;
  std::vector<double> score;
  std::vector<int> pred;
  std::vector<std::string> groups;
};

Data make_data(std::size_t n, double prevalence, std::uint64_t seed) {
  SplitMix64 rng(seed);
  Data d;
  for (std::size_t i = 0; i < n; ++i) {
    d.y.push_back(uniform01(rng) < prevalence ? 1 : 0);
    d.score.push_back(std::min(1.0, 0.7 * uniform01(rng) + 0.3 * d.y.back()));
    d.pred.push_back(d.score.back() >= 0.5 ? 1 : 0);
    d.groups.push_back("p" + std::to_string(i / 3));
  }
  d.y[0] = 1;
  d.y[1] = 0;
  return d;
}

TEST(BalancedSubsampleAccuracy, AveragesToBalancedAccuracy) {
  // Every subsample holds all minority cases and a uniform draw of the majority, so its expected
  // accuracy is (minority accuracy + majority accuracy) / 2: the balanced accuracy.
  const Data d = make_data(1500, 0.1, 1);
  const double expected = balanced_accuracy(confusion_matrix(d.y, d.pred));
  EXPECT_NEAR(balanced_subsample_accuracy(d.y, d.pred, 5, 4000), expected, 0.003);
  EXPECT_EQ(balanced_subsample_accuracy(d.y, d.pred, 5, 50),
            balanced_subsample_accuracy(d.y, d.pred, 5, 50));
  EXPECT_NE(balanced_subsample_accuracy(d.y, d.pred, 5, 1),
            balanced_subsample_accuracy(d.y, d.pred, 6, 1));
}

TEST(BalancedSubsampleAccuracy, EqualClassesUseEveryCase) {
  const std::vector<int> y = {0, 1, 0, 1, 1, 0};
  const std::vector<int> pred = {0, 1, 1, 0, 1, 0};
  EXPECT_DOUBLE_EQ(balanced_subsample_accuracy(y, pred, 3, 7), 4.0 / 6.0);
  // One malignant, benign cases right/wrong: a single subsample is exactly 1.0 or 0.5.
  const double one = balanced_subsample_accuracy({1, 0, 0}, {1, 0, 1}, 9, 1);
  EXPECT_TRUE(one == 1.0 || one == 0.5) << one;
}

TEST(AccuracyAtPrevalence, ReweightsTheClasses) {
  ConfusionMatrix cm;
  cm.tp = 8;
  cm.fn = 2;   // sensitivity 0.8
  cm.tn = 45;
  cm.fp = 45;  // specificity 0.5
  EXPECT_DOUBLE_EQ(accuracy_at_prevalence(cm, 0.0176), 0.0176 * 0.8 + 0.9824 * 0.5);
  EXPECT_DOUBLE_EQ(accuracy_at_prevalence(cm, 0.5), balanced_accuracy(cm));
  EXPECT_THROW(accuracy_at_prevalence(cm, 0.0), UserError);
  EXPECT_THROW(accuracy_at_prevalence(cm, 1.0), UserError);
}

TEST(MetricErrors, NameTheProblem) {
  auto message_of = [](const std::function<void()>& call) {
    try {
      call();
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  EXPECT_NE(message_of([] { brier_score({0, 1}, {0.5, 1.5}); }).find("probability at index 1"),
            std::string::npos);
  EXPECT_NE(message_of([] { reliability_curve({0, 1}, {0.5, -0.1}); }).find("[0, 1]"),
            std::string::npos);
  EXPECT_NE(message_of([] { reliability_curve({0, 1}, {0.5, 0.1}, 0); }).find("bins"),
            std::string::npos);
  EXPECT_NE(message_of([] { confusion_matrix({0, 1}, {0, 2}); }).find("prediction at index 1"),
            std::string::npos);
  EXPECT_NE(message_of([] { classification_report({0, 1}, {0}); }).find("size mismatch"),
            std::string::npos);
  const std::vector<double> short_weights = {1.0};
  EXPECT_NE(message_of([&] { classification_report({0, 1}, {0, 1}, &short_weights); })
                .find("sample weights"),
            std::string::npos);
  EXPECT_NE(message_of([] { sensitivity(confusion_matrix({0, 0}, {0, 1})); }).find("no malignant"),
            std::string::npos);
  EXPECT_NE(message_of([] { specificity(confusion_matrix({1, 1}, {0, 1})); }).find("no benign"),
            std::string::npos);
  EXPECT_NE(message_of([] { roc_auc({0, 1}, {0.5, std::nan("")}); }).find("NaN"),
            std::string::npos);
  EXPECT_NE(message_of([] { balanced_subsample_accuracy({1, 1}, {1, 0}, 0); }).find("one class"),
            std::string::npos);
  EXPECT_NE(message_of([] { partial_auc_above_tpr({0, 1}, {0.1, 0.2}, 1.0); }).find("min_tpr"),
            std::string::npos);
  EXPECT_NE(message_of([] { threshold_for_sensitivity({0, 1}, {0.1, 0.2}, 1.5); }).find("target"),
            std::string::npos);
}

TEST(BinaryMetrics, SummaryAgreesWithTheSingleMetrics) {
  const Data d = make_data(600, 0.2, 2);
  BinaryMetricsOptions options;
  options.bootstrap_resamples = 200;
  const double threshold = youden_threshold(d.y, d.score);
  const BinaryMetrics m = compute_binary_metrics(d.y, d.score, threshold, &d.groups, options);
  EXPECT_EQ(m.n, 600);
  EXPECT_DOUBLE_EQ(m.auc, roc_auc(d.y, d.score));
  EXPECT_DOUBLE_EQ(m.pauc, partial_auc_above_tpr(d.y, d.score));
  EXPECT_DOUBLE_EQ(m.average_precision, average_precision(d.y, d.score));
  ASSERT_TRUE(m.brier && m.ece && m.auc_ci && m.pauc_ci);
  EXPECT_DOUBLE_EQ(*m.brier, brier_score(d.y, d.score));
  EXPECT_DOUBLE_EQ(*m.ece, expected_calibration_error(d.y, d.score));
  EXPECT_EQ(m.reliability.size(), 10u);
  const ConfusionMatrix cm = confusion_at(d.y, d.score, threshold);
  EXPECT_EQ(m.confusion.tp, cm.tp);
  EXPECT_EQ(m.confusion.fp, cm.fp);
  EXPECT_DOUBLE_EQ(m.sensitivity, sensitivity(cm));
  EXPECT_DOUBLE_EQ(m.balanced_accuracy, balanced_accuracy(cm));
  EXPECT_DOUBLE_EQ(m.accuracy_at_reference_prevalence, accuracy_at_prevalence(cm, 0.0176));
  EXPECT_DOUBLE_EQ(m.report.malignant.recall, m.sensitivity);
  EXPECT_DOUBLE_EQ(m.auc_ci->estimate, m.auc);
  EXPECT_LE(m.pauc_ci->lower, m.pauc_ci->upper);

  const nlohmann::json j = to_json(m);
  for (const char* key : {"auc", "auc_ci", "pauc", "pauc_ci", "average_precision", "brier", "ece",
                          "reliability", "threshold", "confusion_matrix", "report", "accuracy",
                          "balanced_accuracy", "sensitivity", "specificity",
                          "accuracy_at_reference_prevalence", "balanced_subsample_accuracy"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_DOUBLE_EQ(j["auc_ci"]["lower"].get<double>(), m.auc_ci->lower);
  EXPECT_EQ(j["confusion_matrix"]["tp"].get<long long>(), cm.tp);
  EXPECT_DOUBLE_EQ(j["report"]["malignant"]["f1"].get<double>(), m.report.malignant.f1);
  // Round trip through text keeps every number.
  EXPECT_EQ(nlohmann::json::parse(j.dump()), j);
}

TEST(BinaryMetrics, NoGroupsNoIntervalsAndLogitsNoCalibration) {
  Data d = make_data(200, 0.3, 3);
  for (double& s : d.score) s = 4 * s - 2;  // logits, not probabilities
  const BinaryMetrics m = compute_binary_metrics(d.y, d.score, 0.0);
  EXPECT_FALSE(m.auc_ci.has_value());
  EXPECT_FALSE(m.brier.has_value());
  EXPECT_TRUE(m.reliability.empty());
  const nlohmann::json j = to_json(m);
  EXPECT_TRUE(j["auc_ci"].is_null());
  EXPECT_TRUE(j["brier"].is_null());
  EXPECT_THROW(compute_binary_metrics({0, 0, 0}, {0.1, 0.2, 0.3}, 0.5), UserError);
}

}  // namespace
}  // namespace dermsim
