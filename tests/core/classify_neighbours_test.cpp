// nearest_neighbours against brute force (with group exclusion and a tie); the kNN classifier's
// use of it is checked against sklearn in classify_oracle_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "classify/neighbours.h"
#include "support/random.h"

namespace dermsim {
namespace {

TEST(NearestNeighbours, MatchesBruteForceAndExcludesTheGroup) {
  std::mt19937 rng(9);
  Embeddings reference = testing::random_embeddings(200, 6, rng);
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

}  // namespace
}  // namespace dermsim
