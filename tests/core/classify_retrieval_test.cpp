// nearest_neighbours against brute force (with group exclusion), and retrieval metrics by hand
// (the sklearn comparison is in classify_oracle_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <tuple>

#include "classify/retrieval.h"

namespace dermsim {
namespace {

TEST(NearestNeighbours, MatchesBruteForceAndExcludesTheGroup) {
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Embeddings reference;
  reference.dim = 6;
  reference.values.resize(200 * 6);
  for (auto& v : reference.values) v = normal(rng);
  std::copy(reference.row(4), reference.row(5),
            reference.values.begin() + 6 * 150);  // a tie: 4 and 150
  std::vector<std::string> groups(200);
  for (size_t i = 0; i < groups.size(); ++i) groups[i] = "P" + std::to_string(i % 17);
  std::vector<float> query(reference.row(4), reference.row(5));
  query[0] += 0.01f;

  const std::string* no_group = nullptr;
  const std::string* own_group = &groups[4];
  for (const std::string* exclude : {no_group, own_group}) {
    std::vector<std::tuple<double, size_t>> brute;
    for (size_t i = 0; i < reference.size(); ++i) {
      if (exclude != nullptr && groups[i] == *exclude) continue;
      double sum = 0;
      for (int d = 0; d < 6; ++d)
        sum += std::pow(double(query[d]) - double(reference.row(i)[d]), 2);
      brute.emplace_back(std::sqrt(sum), i);
    }
    std::sort(brute.begin(), brute.end());
    const auto got = nearest_neighbours(reference, query.data(), 12, &groups, exclude);
    ASSERT_EQ(got.size(), 12u);
    for (size_t j = 0; j < got.size(); ++j) {
      EXPECT_EQ(got[j].index, std::get<1>(brute[j]));
      EXPECT_NEAR(got[j].distance, std::get<0>(brute[j]), 1e-12);
      if (exclude != nullptr) EXPECT_NE(groups[got[j].index], *exclude);
    }
    if (exclude == nullptr) {
      EXPECT_EQ(got[0].index, 4u);  // tie with 150 goes to the lower index
      EXPECT_EQ(got[1].index, 150u);
    }
  }
  // k larger than what is left returns everything eligible.
  EXPECT_EQ(nearest_neighbours(reference, query.data(), 1000).size(), 200u);
  EXPECT_THROW(nearest_neighbours(reference, query.data(), -1), std::invalid_argument);
}

TEST(RetrievalMetrics, HandComputedCase) {
  // 1-D references at 1, 2, 3, 4 with labels 1, 0, 1, 0; query at 0 (malignant, patient Q).
  Embeddings reference;
  reference.dim = 1;
  reference.values = {1, 2, 3, 4, 0.5f};
  const std::vector<int> reference_labels = {1, 0, 1, 0, 1};
  const std::vector<std::string> reference_groups = {"A", "B", "C", "D",
                                                     "Q"};  // last is the query's own
  Embeddings queries;
  queries.dim = 1;
  queries.values = {0, 10};
  const std::vector<int> query_labels = {1, 0};  // the benign query is not counted
  const std::vector<std::string> query_groups = {"Q", "Z"};
  const auto m = retrieval_metrics(queries, query_labels, query_groups, reference, reference_labels,
                                   reference_groups, 2);
  EXPECT_EQ(m.queries, 1);
  EXPECT_EQ(m.k, 2);
  EXPECT_DOUBLE_EQ(m.precision_at_k, 0.5);                              // ranking 1(+), 2(-)
  EXPECT_DOUBLE_EQ(m.mean_average_precision, (1.0 + 2.0 / 3.0) / 2.0);  // hits at ranks 1 and 3
}

}  // namespace
}  // namespace dermsim
