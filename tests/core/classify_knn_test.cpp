// kNN classifier: hand-checkable cases for exact-match weighting, k capping and group exclusion
// (the sklearn comparison is in classify_oracle_test.cpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "classify/knn.h"

namespace dermsim {
namespace {

Embeddings points_1d(const std::vector<float>& xs) {
  Embeddings e;
  e.dim = 1;
  e.values = xs;
  return e;
}

TEST(Knn, DistanceWeightsAreInverseDistance) {
  KnnClassifier knn(2, true);
  knn.fit(points_1d({0.0f, 3.0f, 10.0f}), {1, 0, 1});
  // Query 1: neighbours at d=1 (malignant) and d=2 (benign): (1/1) / (1/1 + 1/2) = 2/3.
  EXPECT_DOUBLE_EQ(knn.predict_proba(points_1d({1.0f}))[0], 2.0 / 3.0);
  KnnClassifier uniform(2, false);
  uniform.fit(points_1d({0.0f, 3.0f, 10.0f}), {1, 0, 1});
  EXPECT_DOUBLE_EQ(uniform.predict_proba(points_1d({1.0f}))[0], 0.5);
}

TEST(Knn, ExactMatchesTakeAllTheWeight) {
  KnnClassifier knn(3, true);
  knn.fit(points_1d({2.0f, 2.0f, 2.1f, 5.0f}), {1, 0, 1, 1});
  // Two training points equal the query (labels 1 and 0): the third neighbour gets weight 0.
  EXPECT_DOUBLE_EQ(knn.predict_proba(points_1d({2.0f}))[0], 0.5);
}

TEST(Knn, KLargerThanTrainingSetUsesAllPoints) {
  KnnClassifier knn(41, false);
  knn.fit(points_1d({0.0f, 1.0f, 2.0f, 3.0f}), {1, 0, 0, 0});
  EXPECT_DOUBLE_EQ(knn.predict_proba(points_1d({0.5f}))[0], 0.25);
}

TEST(Knn, ExcludingGroupsSkipsTheQuerysOwnPatient) {
  KnnClassifier knn(1, true);
  const auto train = points_1d({0.0f, 0.2f, 5.0f});
  knn.fit(train, {1, 0, 1});
  const std::vector<std::string> train_groups = {"A", "B", "C"};
  // Scoring the training points themselves: without exclusion each finds itself.
  EXPECT_EQ(knn.predict_proba(train), (std::vector<double>{1.0, 0.0, 1.0}));
  const auto excluded = knn.predict_proba_excluding_groups(train, train_groups, train_groups);
  EXPECT_EQ(excluded, (std::vector<double>{0.0, 1.0, 0.0}));
  // A query whose group owns every training row has no neighbour left: 0.5.
  KnnClassifier single(1, true);
  single.fit(points_1d({1.0f}), {1});
  EXPECT_DOUBLE_EQ(single.predict_proba_excluding_groups(points_1d({1.0f}), {"A"}, {"A"})[0], 0.5);
}

TEST(Knn, RejectsBadArguments) {
  EXPECT_THROW(KnnClassifier(0), std::invalid_argument);
  KnnClassifier knn(1);
  EXPECT_THROW(knn.fit(points_1d({0.0f, 1.0f}), {0, 2}), std::invalid_argument);
  EXPECT_THROW(knn.fit(points_1d({0.0f, 1.0f}), {0}), std::invalid_argument);
}

}  // namespace
}  // namespace dermsim
