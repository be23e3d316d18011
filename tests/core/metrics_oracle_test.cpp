// Every metric in src/metrics against scikit-learn on the same inputs (tests/python/metrics_oracle.py
// computes sklearn's values): random sets of many sizes and prevalences, heavy ties, tiny sets.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/splitmix64.h"
#include "metrics/calibration.h"
#include "metrics/classification.h"
#include "metrics/ranking.h"
#include "support/oracle.h"
#include "support/random.h"

namespace dermsim {
namespace {

constexpr double kTol = 1e-9;

struct Case {
  std::string name;
  std::vector<int> y;
  std::vector<double> score;
  double threshold = 0.5;
  std::vector<double> weights;
  int bins = 10;
  double target = 0.8;
  double min_tpr = 0.8;
};

using testing::uniform01;

// Labels at a prevalence with both classes present; scores shifted up for malignant cases.
Case random_case(SplitMix64& rng, const std::string& name, std::size_t n, double prevalence) {
  Case c;
  c.name = name;
  for (std::size_t i = 0; i < n; ++i) c.y.push_back(uniform01(rng) < prevalence ? 1 : 0);
  c.y[0] = 1;
  c.y[n - 1] = 0;
  const double shift = 2.0 * uniform01(rng);
  for (int label : c.y) {
    const double noise = uniform01(rng) + uniform01(rng) + uniform01(rng) - 1.5;
    c.score.push_back(1.0 / (1.0 + std::exp(-(2.0 * noise + shift * label - 0.5))));
  }
  for (std::size_t i = 0; i < n; ++i) c.weights.push_back(0.25 * (1 + static_cast<double>(rng.below(12))));
  c.threshold = c.score[rng.below(n)];  // an observed score: exercises score == threshold
  c.bins = 2 + static_cast<int>(rng.below(14));
  c.target = uniform01(rng);
  const double min_tprs[] = {0.8, 0.8, 0.5, 0.9, 0.0};
  c.min_tpr = min_tprs[rng.below(5)];
  return c;
}

std::vector<Case> build_cases() {
  SplitMix64 rng(20240611);
  std::vector<Case> cases;
  for (int k = 0; k < 48; ++k) {
    // Log-uniform sizes in [2, 2000], prevalence in [1 %, 50 %].
    const auto n = static_cast<std::size_t>(std::round(2.0 * std::pow(1000.0, uniform01(rng))));
    const double prevalence = 0.01 + 0.49 * uniform01(rng);
    Case c = random_case(rng, "random_" + std::to_string(k), n, prevalence);
    switch (k % 4) {
      case 1:  // heavy ties: scores rounded to one decimal (also lands on bin edges)
        for (double& s : c.score) s = std::round(s * 10) / 10;
        c.threshold = std::round(c.threshold * 10) / 10;
        c.name += "_rounded";
        break;
      case 2:  // raw logits outside [0, 1]: ranking metrics only
        for (double& s : c.score) s = std::log(s / (1 - s)) * 3;
        c.threshold = std::log(c.threshold / (1 - c.threshold)) * 3;
        c.name += "_logit";
        break;
      case 3:
        if (k % 8 == 3) {
          for (double& s : c.score) s = 0.375;
          c.name += "_all_equal";
        }
        break;
      default:
        break;
    }
    cases.push_back(c);
  }
  auto tiny = [&](const std::string& name, std::vector<int> y, std::vector<double> score,
                  double threshold) {
    Case c;
    c.name = name;
    c.y = std::move(y);
    c.score = std::move(score);
    c.threshold = threshold;
    c.weights.assign(c.y.size(), 1.5);
    c.target = 0.5;
    cases.push_back(c);
  };
  tiny("tiny_perfect", {0, 1}, {0.2, 0.8}, 0.5);
  tiny("tiny_reversed", {1, 0}, {0.2, 0.8}, 0.5);
  tiny("tiny_tied", {0, 1}, {0.4, 0.4}, 0.4);
  tiny("tiny_three", {0, 0, 1}, {0.3, 0.7, 0.5}, 0.5);
  tiny("tiny_three_ties", {1, 1, 0}, {0.6, 0.1, 0.6}, 0.9);  // nothing predicted malignant
  tiny("tiny_youden_tie", {1, 0, 1, 0}, {0.9, 0.8, 0.7, 0.6}, 0.75);  // J = 0.5 at 0.9 and 0.7
  tiny("tiny_edges", {0, 1, 0, 1}, {0.0, 1.0, 0.1, 0.3}, 0.0);  // everything predicted malignant
  return cases;
}

struct ErrorCase {
  std::string name;
  std::vector<int> y;
  std::vector<double> score;
  std::string message_part;
};

std::vector<ErrorCase> build_error_cases() {
  return {{"one_class_benign", {0, 0, 0}, {0.1, 0.5, 0.9}, "only one class"},
          {"one_class_malignant", {1, 1}, {0.1, 0.5}, "only one class"},
          {"size_mismatch", {0, 1, 1}, {0.1, 0.5}, "size mismatch"},
          {"empty", {}, {}, "empty"},
          {"label_two", {0, 1, 2}, {0.1, 0.5, 0.9}, "labels must be 0"}};
}

bool python_with_sklearn_available() {
  if (!std::filesystem::exists("/usr/bin/python3")) return false;
  return std::system("/usr/bin/python3 -c 'import sklearn, numpy' > /dev/null 2>&1") == 0;
}

void expect_vectors_near(const std::vector<double>& ours, const nlohmann::json& theirs,
                         const std::string& what) {
  ASSERT_EQ(ours.size(), theirs.size()) << what;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    EXPECT_NEAR(ours[i], theirs[i].get<double>(), kTol) << what << " [" << i << "]";
  }
}

void expect_report_near(const ClassificationReport& ours, const nlohmann::json& theirs,
                        const std::string& what) {
  EXPECT_NEAR(ours.accuracy, theirs["accuracy"].get<double>(), kTol) << what;
  const std::pair<const ClassScores*, const char*> rows[] = {{&ours.benign, "benign"},
                                                             {&ours.malignant, "malignant"},
                                                             {&ours.macro_avg, "macro_avg"},
                                                             {&ours.weighted_avg, "weighted_avg"}};
  for (const auto& [scores, key] : rows) {
    const nlohmann::json& row = theirs[key];
    EXPECT_NEAR(scores->precision, row[0].get<double>(), kTol) << what << " " << key;
    EXPECT_NEAR(scores->recall, row[1].get<double>(), kTol) << what << " " << key;
    EXPECT_NEAR(scores->f1, row[2].get<double>(), kTol) << what << " " << key;
    EXPECT_NEAR(scores->support, row[3].get<double>(), kTol) << what << " " << key;
  }
}

class MetricsOracle : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cases_ = build_cases();
    error_cases_ = build_error_cases();
    if (!python_with_sklearn_available()) {
      skip_reason_ = "/usr/bin/python3 with scikit-learn and numpy is not available";
      return;
    }
    nlohmann::json in = {{"cases", nlohmann::json::array()}, {"errors", nlohmann::json::array()}};
    for (const Case& c : cases_) {
      in["cases"].push_back({{"y", c.y}, {"score", c.score}, {"threshold", c.threshold},
                             {"weights", c.weights}, {"bins", c.bins}, {"target", c.target},
                             {"min_tpr", c.min_tpr}});
    }
    for (const ErrorCase& c : error_cases_) in["errors"].push_back({{"y", c.y}, {"score", c.score}});
    const auto dir = std::filesystem::temp_directory_path() /
                     ("dermsim_metrics_oracle_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string in_path = (dir / "in.json").string(), out_path = (dir / "out.json").string();
    write_file_atomic(in_path, in.dump());
    const std::string command = std::string("/usr/bin/python3 ") + DERMSIM_SOURCE_DIR +
                                "/tests/python/metrics_oracle.py " + in_path + " " + out_path;
    if (std::system(command.c_str()) != 0) {
      failure_ = "oracle failed: " + command;
    } else {
      oracle_ = nlohmann::json::parse(read_file(out_path));
    }
    std::filesystem::remove_all(dir);
  }

  void SetUp() override {
    if (!skip_reason_.empty()) ORACLE_UNAVAILABLE(skip_reason_);
    ASSERT_TRUE(failure_.empty()) << failure_;
  }

  static std::vector<Case> cases_;
  static std::vector<ErrorCase> error_cases_;
  static nlohmann::json oracle_;
  static std::string skip_reason_, failure_;
};

std::vector<Case> MetricsOracle::cases_;
std::vector<ErrorCase> MetricsOracle::error_cases_;
nlohmann::json MetricsOracle::oracle_;
std::string MetricsOracle::skip_reason_, MetricsOracle::failure_;

TEST_F(MetricsOracle, RocAucAndCurve) {
  for (std::size_t k = 0; k < cases_.size(); ++k) {
    const Case& c = cases_[k];
    const nlohmann::json& o = oracle_["cases"][k];
    EXPECT_NEAR(roc_auc(c.y, c.score), o["auc"].get<double>(), kTol) << c.name;
    const RocCurve roc = roc_curve(c.y, c.score);
    expect_vectors_near(roc.fpr, o["roc"][0], c.name + " fpr");
    expect_vectors_near(roc.tpr, o["roc"][1], c.name + " tpr");
    ASSERT_FALSE(roc.thresholds.empty());
    EXPECT_EQ(roc.thresholds[0], std::numeric_limits<double>::infinity());
    expect_vectors_near({roc.thresholds.begin() + 1, roc.thresholds.end()}, o["roc"][2],
                        c.name + " thresholds");
  }
}

TEST_F(MetricsOracle, PartialAucMatchesOfficialScorerAndMcClishFormula) {
  for (std::size_t k = 0; k < cases_.size(); ++k) {
    const Case& c = cases_[k];
    const nlohmann::json& o = oracle_["cases"][k];
    const double pauc = partial_auc_above_tpr(c.y, c.score, c.min_tpr);
    EXPECT_NEAR(pauc, o["pauc_official"].get<double>(), kTol) << c.name << " min_tpr " << c.min_tpr;
    EXPECT_NEAR(pauc, o["pauc_formula"].get<double>(), kTol) << c.name << " min_tpr " << c.min_tpr;
    EXPECT_GE(pauc, 0.0);
    EXPECT_LE(pauc, 1.0 - c.min_tpr + kTol);
  }
}

TEST_F(MetricsOracle, AveragePrecisionAndPrCurve) {
  for (std::size_t k = 0; k < cases_.size(); ++k) {
    const Case& c = cases_[k];
    const nlohmann::json& o = oracle_["cases"][k];
    EXPECT_NEAR(average_precision(c.y, c.score), o["average_precision"].get<double>(), kTol)
        << c.name;
    const PrCurve pr = precision_recall_curve(c.y, c.score);
    expect_vectors_near(pr.precision, o["pr"][0], c.name + " precision");
    expect_vectors_near(pr.recall, o["pr"][1], c.name + " recall");
    expect_vectors_near(pr.thresholds, o["pr"][2], c.name + " thresholds");
  }
}

TEST_F(MetricsOracle, OperatingThresholds) {
  for (std::size_t k = 0; k < cases_.size(); ++k) {
    const Case& c = cases_[k];
    const nlohmann::json& o = oracle_["cases"][k];
    EXPECT_EQ(youden_threshold(c.y, c.score), o["youden"].get<double>()) << c.name;
    EXPECT_EQ(threshold_for_sensitivity(c.y, c.score, c.target), o["for_sensitivity"].get<double>())
        << c.name << " target " << c.target;
  }
}

TEST_F(MetricsOracle, ConfusionMatrixAndRates) {
  for (std::size_t k = 0; k < cases_.size(); ++k) {
    const Case& c = cases_[k];
    const nlohmann::json& o = oracle_["cases"][k];
    const ConfusionMatrix cm = confusion_at(c.y, c.score, c.threshold);
    const nlohmann::json& expected = o["confusion"];
    EXPECT_EQ(cm.tn, expected[0].get<long long>()) << c.name;
    EXPECT_EQ(cm.fp, expected[1].get<long long>()) << c.name;
    EXPECT_EQ(cm.fn, expected[2].get<long long>()) << c.name;
    EXPECT_EQ(cm.tp, expected[3].get<long long>()) << c.name;
    std::vector<int> pred;
    for (double s : c.score) pred.push_back(s >= c.threshold ? 1 : 0);
    const ConfusionMatrix from_pred = confusion_matrix(c.y, pred);
    EXPECT_EQ(from_pred.tp, cm.tp);
    EXPECT_EQ(from_pred.tn, cm.tn);
    EXPECT_NEAR(accuracy(cm), o["accuracy"].get<double>(), kTol) << c.name;
    EXPECT_NEAR(balanced_accuracy(cm), o["balanced_accuracy"].get<double>(), kTol) << c.name;
    const double sens = o["sensitivity"].get<double>(), spec = o["specificity"].get<double>();
    EXPECT_NEAR(sensitivity(cm), sens, kTol) << c.name;
    EXPECT_NEAR(specificity(cm), spec, kTol) << c.name;
    // Reweighting to a prevalence is the prevalence-weighted mix of the per-class rates; at the
    // data's own prevalence it is the plain accuracy.
    EXPECT_NEAR(accuracy_at_prevalence(cm, 0.0176), 0.0176 * sens + 0.9824 * spec, kTol) << c.name;
    const double own = static_cast<double>(cm.tp + cm.fn) / static_cast<double>(c.y.size());
    EXPECT_NEAR(accuracy_at_prevalence(cm, own), o["accuracy"].get<double>(), 1e-12) << c.name;
  }
}

TEST_F(MetricsOracle, ClassificationReportWithAndWithoutWeights) {
  int texts_compared = 0;
  for (std::size_t k = 0; k < cases_.size(); ++k) {
    const Case& c = cases_[k];
    const nlohmann::json& o = oracle_["cases"][k];
    std::vector<int> pred;
    for (double s : c.score) pred.push_back(s >= c.threshold ? 1 : 0);
    const ClassificationReport plain = classification_report(c.y, pred);
    expect_report_near(plain, o["report"], c.name);
    const ClassificationReport weighted = classification_report(c.y, pred, &c.weights);
    expect_report_near(weighted, o["report_weighted"], c.name + " weighted");
    // sklearn 1.2 quirk: with no correct prediction at all its counts become floats and the text
    // prints supports as "1.0"; ours stays integral, so the text is compared only otherwise.
    if (plain.accuracy == 0) continue;
    ++texts_compared;
    EXPECT_EQ(format_classification_report(plain), o["report"]["text_3"].get<std::string>()) << c.name;
    EXPECT_EQ(format_classification_report(plain, 2), o["report"]["text_2"].get<std::string>())
        << c.name;
    // Weights are multiples of 0.25, so supports are exact and the text can match to the character.
    EXPECT_EQ(format_classification_report(weighted),
              o["report_weighted"]["text_3"].get<std::string>())
        << c.name;
  }
  EXPECT_GE(texts_compared, 40);
}

TEST_F(MetricsOracle, CalibrationBrierReliabilityEce) {
  int checked = 0;
  for (std::size_t k = 0; k < cases_.size(); ++k) {
    const Case& c = cases_[k];
    const nlohmann::json& o = oracle_["cases"][k];
    if (!o.contains("brier")) continue;  // logit scores: not probabilities
    ++checked;
    EXPECT_NEAR(brier_score(c.y, c.score), o["brier"].get<double>(), kTol) << c.name;
    const std::vector<ReliabilityBin> curve = reliability_curve(c.y, c.score, c.bins);
    ASSERT_EQ(curve.size(), static_cast<std::size_t>(c.bins));
    std::vector<double> fraction_positive, mean_prob;
    long long total = 0;
    for (const ReliabilityBin& bin : curve) {
      total += bin.count;
      if (bin.count == 0) continue;
      fraction_positive.push_back(bin.fraction_positive);
      mean_prob.push_back(bin.mean_prob);
    }
    EXPECT_EQ(total, static_cast<long long>(c.y.size()));
    expect_vectors_near(fraction_positive, o["calibration"][0], c.name + " fraction_positive");
    expect_vectors_near(mean_prob, o["calibration"][1], c.name + " mean_prob");
    EXPECT_NEAR(expected_calibration_error(c.y, c.score, c.bins), o["ece"].get<double>(), kTol)
        << c.name;
  }
  EXPECT_GE(checked, 20);
}

TEST_F(MetricsOracle, RejectsWhatSklearnRejects) {
  for (std::size_t k = 0; k < error_cases_.size(); ++k) {
    const ErrorCase& c = error_cases_[k];
    EXPECT_TRUE(oracle_["errors"][k]["roc_auc_raises"].get<bool>()) << c.name;
    const std::vector<std::function<void()>> calls = {
        [&] { roc_auc(c.y, c.score); },
        [&] { roc_curve(c.y, c.score); },
        [&] { partial_auc_above_tpr(c.y, c.score); },
        [&] { average_precision(c.y, c.score); },
        [&] { precision_recall_curve(c.y, c.score); },
        [&] { youden_threshold(c.y, c.score); },
        [&] { threshold_for_sensitivity(c.y, c.score, 0.9); }};
    for (std::size_t f = 0; f < calls.size(); ++f) {
      try {
        calls[f]();
        ADD_FAILURE() << c.name << ": call " << f << " did not throw";
      } catch (const UserError& e) {
        EXPECT_NE(std::string(e.what()).find(c.message_part), std::string::npos)
            << c.name << ": " << e.what();
      }
    }
  }
}

}  // namespace
}  // namespace dermsim
