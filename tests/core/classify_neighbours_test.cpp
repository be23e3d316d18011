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

// The reference answer: every eligible row's exact distance, sorted by (distance, index).
std::vector<Neighbour> brute_force(const Embeddings& reference, const float* query, size_t k,
                                   const std::vector<std::string>& groups, const std::string& exclude) {
  std::vector<Neighbour> all;
  for (size_t i = 0; i < reference.size(); ++i)
    if (exclude.empty() || groups[i] != exclude)
      all.push_back({i, std::sqrt(squared_distance(query, reference.row(i), reference.dim))});
  std::sort(all.begin(), all.end(), [](const Neighbour& a, const Neighbour& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.index < b.index);
  });
  all.resize(std::min(k, all.size()));
  return all;
}

// The batched search (sgemm candidates, exact distances) gives exactly the brute-force answer, also
// where float32 dot products cannot tell the rows apart: unit vectors that differ by about one
// float epsilon, as near-duplicate images give. Queries span several sgemm blocks.
TEST(NearestNeighbours, BatchEqualsBruteForceEvenAmongNearTies) {
  std::mt19937 rng(3);
  const int dim = 128;
  Embeddings reference = testing::random_embeddings(3000, dim, rng);
  std::uniform_int_distribution<size_t> pick(0, 99);
  std::normal_distribution<float> tiny(0.0f, 1e-6f);
  for (size_t i = 100; i < reference.size(); ++i)  // most rows: a base row plus float-level noise
    for (int d = 0; d < dim; ++d)
      reference.values[i * dim + d] = reference.row(pick(rng))[d] + tiny(rng);
  for (size_t i = 0; i < reference.size(); ++i) {  // unit length, as the network's embeddings
    double norm = 0;
    for (int d = 0; d < dim; ++d) norm += double(reference.row(i)[d]) * reference.row(i)[d];
    for (int d = 0; d < dim; ++d) reference.values[i * dim + d] /= static_cast<float>(std::sqrt(norm));
  }
  std::vector<std::string> groups(reference.size());
  for (size_t i = 0; i < groups.size(); ++i) groups[i] = "P" + std::to_string(i % 31);
  Embeddings queries;
  queries.dim = dim;
  std::vector<std::string> query_groups;
  for (size_t q = 0; q < 150; ++q) {
    const size_t from = (q * 37) % reference.size();
    queries.values.insert(queries.values.end(), reference.row(from), reference.row(from) + dim);
    query_groups.push_back(q % 3 == 0 ? "" : groups[(q * 7) % groups.size()]);
  }
  for (int k : {1, 8, 50}) {
    const auto got = nearest_neighbours_batch(reference, queries, k, &groups, &query_groups, 2);
    ASSERT_EQ(got.size(), queries.size());
    for (size_t q = 0; q < queries.size(); ++q) {
      const auto want = brute_force(reference, queries.row(q), k, groups, query_groups[q]);
      ASSERT_EQ(got[q].size(), want.size());
      for (size_t j = 0; j < want.size(); ++j) {
        EXPECT_EQ(got[q][j].index, want[j].index) << "query " << q << " rank " << j << " k " << k;
        EXPECT_EQ(got[q][j].distance, want[j].distance);
      }
    }
  }
  const auto one = nearest_neighbours(reference, queries.row(5), 8, &groups, &query_groups[5]);
  const auto want = brute_force(reference, queries.row(5), 8, groups, query_groups[5]);
  ASSERT_EQ(one.size(), want.size());
  for (size_t j = 0; j < want.size(); ++j) EXPECT_EQ(one[j].index, want[j].index);
  // No queries, k = 0 and mismatched sizes.
  EXPECT_TRUE(nearest_neighbours_batch(reference, Embeddings{dim, {}}, 3).empty());
  EXPECT_TRUE(nearest_neighbours_batch(reference, queries, 0)[0].empty());
  EXPECT_THROW(nearest_neighbours_batch(reference, queries, 3, &groups, &groups), std::invalid_argument);
}

}  // namespace
}  // namespace dermsim
