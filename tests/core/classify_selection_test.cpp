// fit_candidates: the whole grid is fitted and scored, sorted best first with a stable tie-break.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>

#include "classify/model_selection.h"

namespace dermsim {
namespace {

// Two Gaussian clusters in 8-D, far apart along the first axis (separable), 20 % malignant.
void clusters(size_t n, std::mt19937& rng, Embeddings& x, std::vector<int>& y) {
  std::normal_distribution<float> normal(0.0f, 0.3f);
  x.dim = 8;
  x.values.resize(n * 8);
  y.resize(n);
  for (size_t i = 0; i < n; ++i) {
    y[i] = i % 5 == 0 ? 1 : 0;
    for (int d = 0; d < 8; ++d)
      x.values[i * 8 + d] = normal(rng) + (d == 0 ? (y[i] ? 2.0f : -2.0f) : 0.0f);
  }
}

double accuracy_at_half(const std::vector<int>& y, const std::vector<double>& p) {
  size_t right = 0;
  for (size_t i = 0; i < y.size(); ++i) right += (p[i] >= 0.5) == (y[i] == 1);
  return static_cast<double>(right) / static_cast<double>(y.size());
}

TEST(FitCandidates, SeparableClustersGivePerfectBestAndSortedList) {
  std::mt19937 rng(1);
  Embeddings train_x, val_x;
  std::vector<int> train_y, val_y;
  clusters(300, rng, train_x, train_y);
  clusters(100, rng, val_x, val_y);
  const auto candidates = fit_candidates(train_x, train_y, val_x, val_y, accuracy_at_half);
  ASSERT_EQ(candidates.size(), 11u);  // prototypes, 4 logistic, 6 kNN
  EXPECT_DOUBLE_EQ(candidates.front().validation_score, 1.0);
  for (size_t i = 1; i < candidates.size(); ++i) {
    EXPECT_GE(candidates[i - 1].validation_score, candidates[i].validation_score);
  }
  // All separate these clusters perfectly, so the documented tie-break decides: listing order.
  EXPECT_EQ(candidates.front().description, "prototypes, fitted temperature");
  EXPECT_EQ(candidates[1].description, "logistic C=0.01");
  // Each reported score is what its own classifier gives on validation.
  for (const auto& c : candidates) {
    EXPECT_EQ(c.validation_score, accuracy_at_half(val_y, c.classifier->predict_proba(val_x)))
        << c.description;
  }
}

TEST(FitCandidates, ScoreDecidesOrderAndLargeKIsSkippedOnSmallTrainingSets) {
  std::mt19937 rng(2);
  Embeddings train_x, val_x;
  std::vector<int> train_y, val_y;
  clusters(15, rng, train_x, train_y);
  clusters(20, rng, val_x, val_y);
  // A metric that rewards kNN with k = 5 only: the ordering must follow the score, not the listing.
  int calls = 0;
  auto favour_fifth_knn = [&](const std::vector<int>&, const std::vector<double>&) {
    ++calls;
    return calls == 7 ? 2.0 : (calls == 2 ? std::numeric_limits<double>::quiet_NaN() : 1.0);
  };
  const auto candidates = fit_candidates(train_x, train_y, val_x, val_y, favour_fifth_knn);
  ASSERT_EQ(candidates.size(), 9u);  // k = 41, 21 skipped (15 training rows): 1 + 4 + 4
  EXPECT_EQ(candidates.front().description, "knn k=5 distance-weighted");
  EXPECT_EQ(candidates[1].description, "prototypes, fitted temperature");
  EXPECT_EQ(candidates.back().description, "logistic C=0.01");  // NaN sorts last
}

}  // namespace
}  // namespace dermsim
