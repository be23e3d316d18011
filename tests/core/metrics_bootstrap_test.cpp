// Group bootstrap: deterministic for a seed, resamples whole groups (patients), redraws one-class
// resamples, and gives intervals that contain the estimate and narrow with more data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/splitmix64.h"
#include "metrics/bootstrap.h"
#include "metrics/ranking.h"
#include "support/random.h"

namespace dermsim {
namespace {

struct GroupedData {
  std::vector<int> y;
  std::vector<double> score;
  std::vector<std::string> groups;
};

using testing::uniform01;

// `patients` patients with `images_per_patient` images each. With identical_within_patient every image
// of a patient repeats the patient's label and score (perfectly correlated images).
GroupedData make_data(std::size_t patients, std::size_t images_per_patient, std::uint64_t seed,
                      bool identical_within_patient) {
  SplitMix64 rng(seed);
  GroupedData d;
  for (std::size_t p = 0; p < patients; ++p) {
    const int patient_label = uniform01(rng) < 0.3 ? 1 : 0;
    const double patient_score = uniform01(rng) + 0.6 * patient_label;
    for (std::size_t i = 0; i < images_per_patient; ++i) {
      d.y.push_back(identical_within_patient ? patient_label : (uniform01(rng) < 0.3 ? 1 : 0));
      d.score.push_back(identical_within_patient ? patient_score
                                                 : uniform01(rng) + 0.6 * d.y.back());
      d.groups.push_back("patient_" + std::to_string(p));
    }
  }
  return d;
}

std::vector<std::string> one_group_per_image(std::size_t n) {
  std::vector<std::string> groups;
  for (std::size_t i = 0; i < n; ++i) groups.push_back("image_" + std::to_string(i));
  return groups;
}

TEST(Bootstrap, SameSeedSameIntervalOtherSeedOtherInterval) {
  const GroupedData d = make_data(80, 3, 1, false);
  const Interval a = bootstrap_ci(d.y, d.score, d.groups, roc_auc, 300, 42);
  const Interval b = bootstrap_ci(d.y, d.score, d.groups, roc_auc, 300, 42);
  const Interval c = bootstrap_ci(d.y, d.score, d.groups, roc_auc, 300, 43);
  EXPECT_EQ(a.lower, b.lower);
  EXPECT_EQ(a.upper, b.upper);
  EXPECT_EQ(a.redrawn, b.redrawn);
  EXPECT_TRUE(a.lower != c.lower || a.upper != c.upper);
}

TEST(Bootstrap, IntervalContainsEstimate) {
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    const GroupedData d = make_data(150, 2, 100 + seed, false);
    const Interval ci = bootstrap_ci(d.y, d.score, d.groups, roc_auc, 400, seed);
    EXPECT_DOUBLE_EQ(ci.estimate, roc_auc(d.y, d.score));
    EXPECT_LT(ci.lower, ci.estimate);
    EXPECT_GT(ci.upper, ci.estimate);
    EXPECT_EQ(ci.resamples, 400);
    EXPECT_DOUBLE_EQ(ci.level, 0.95);
  }
}

TEST(Bootstrap, ResamplesWholeGroups) {
  // Group a: benign 0.2, malignant 0.8 (AUC 1). Group b: malignant 0.3, benign 0.9 (AUC 0).
  // Drawing two whole groups gives aa -> 1, bb -> 0, ab or ba -> 0.5, nothing else; resampling
  // images one by one would produce other values and other sizes.
  const std::vector<int> y = {0, 1, 1, 0};
  const std::vector<double> score = {0.2, 0.8, 0.3, 0.9};
  const std::vector<std::string> groups = {"a", "a", "b", "b"};
  std::vector<double> seen;
  std::vector<std::size_t> sizes;
  auto recording_auc = [&](const std::vector<int>& yy, const std::vector<double>& ss) {
    const double value = roc_auc(yy, ss);
    seen.push_back(value);
    sizes.push_back(yy.size());
    return value;
  };
  const Interval ci = bootstrap_ci(y, score, groups, recording_auc, 4000, 7);
  ASSERT_EQ(seen.size(), 4001u);  // the estimate, then one call per accepted resample
  EXPECT_DOUBLE_EQ(seen[0], 0.5);
  long long halves = 0;
  for (std::size_t i = 1; i < seen.size(); ++i) {
    EXPECT_EQ(sizes[i], 4u);
    EXPECT_TRUE(seen[i] == 0.0 || seen[i] == 0.5 || seen[i] == 1.0) << seen[i];
    halves += seen[i] == 0.5;
  }
  // aa and bb each hold both classes, so nothing is redrawn; ab/ba happen half the time.
  EXPECT_EQ(ci.redrawn, 0);
  EXPECT_NEAR(static_cast<double>(halves) / 4000.0, 0.5, 0.03);
  EXPECT_EQ(ci.lower, 0.0);
  EXPECT_EQ(ci.upper, 1.0);
}

TEST(Bootstrap, PercentileIntervalInterpolatesBetweenResampledValues) {
  const GroupedData d = make_data(40, 2, 5, false);
  std::vector<double> seen;
  auto recording_auc = [&](const std::vector<int>& yy, const std::vector<double>& ss) {
    seen.push_back(roc_auc(yy, ss));
    return seen.back();
  };
  const Interval ci = bootstrap_ci(d.y, d.score, d.groups, recording_auc, 2, 11, 0.9);
  ASSERT_EQ(seen.size(), 3u);
  const double low = std::min(seen[1], seen[2]), high = std::max(seen[1], seen[2]);
  EXPECT_NEAR(ci.lower, low + 0.05 * (high - low), 1e-15);
  EXPECT_NEAR(ci.upper, low + 0.95 * (high - low), 1e-15);
}

TEST(Bootstrap, CorrelatedImagesWidenTheGroupInterval) {
  // Ten identical images per patient carry the information of one: resampling patients must show
  // that, resampling images would pretend to have ten times the data (interval ~ sqrt(10) narrower).
  const GroupedData d = make_data(60, 10, 3, true);
  const Interval by_patient = bootstrap_ci(d.y, d.score, d.groups, roc_auc, 400, 1);
  const Interval by_image =
      bootstrap_ci(d.y, d.score, one_group_per_image(d.y.size()), roc_auc, 400, 1);
  EXPECT_DOUBLE_EQ(by_patient.estimate, by_image.estimate);
  EXPECT_GT(by_patient.upper - by_patient.lower, 2.0 * (by_image.upper - by_image.lower));
}

TEST(Bootstrap, NarrowsWithMoreData) {
  const GroupedData small = make_data(100, 2, 9, false);
  const GroupedData large = make_data(1000, 2, 9, false);
  const Interval a = bootstrap_ci(small.y, small.score, small.groups, roc_auc, 300, 2);
  const Interval b = bootstrap_ci(large.y, large.score, large.groups, roc_auc, 300, 2);
  EXPECT_LT(b.upper - b.lower, 0.6 * (a.upper - a.lower));
}

TEST(Bootstrap, RedrawsAndCountsOneClassResamples) {
  // One patient holds the only malignant image; a resample misses it with probability (5/6)^6, so
  // about 0.5 redraws per accepted resample. The metric (roc_auc) would throw on a one-class draw.
  const std::vector<int> y = {1, 0, 0, 0, 0, 0, 0};
  const std::vector<double> score = {0.9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
  const std::vector<std::string> groups = {"p", "p", "q", "r", "s", "t", "u"};
  const Interval ci = bootstrap_ci(y, score, groups, roc_auc, 1000, 4);
  const double p_miss = std::pow(5.0 / 6.0, 6);
  EXPECT_NEAR(static_cast<double>(ci.redrawn), 1000 * p_miss / (1 - p_miss), 100);
}

TEST(Bootstrap, RejectsBadInput) {
  const std::vector<int> y = {0, 1, 0, 1};
  const std::vector<double> score = {0.1, 0.2, 0.3, 0.4};
  EXPECT_THROW(bootstrap_ci(y, score, {"a", "b"}, roc_auc), UserError);
  EXPECT_THROW(bootstrap_ci({0, 0}, {0.1, 0.2}, {"a", "b"}, roc_auc), UserError);
  EXPECT_THROW(bootstrap_ci(y, score, {"a", "b", "c", "d"}, roc_auc, 0), UserError);
  EXPECT_THROW(bootstrap_ci(y, score, {"a", "b", "c", "d"}, roc_auc, 10, 0, 1.0), UserError);
}

}  // namespace
}  // namespace dermsim
