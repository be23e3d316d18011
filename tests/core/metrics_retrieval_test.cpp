// Retrieval metrics by hand (own patient excluded, benign queries not counted); the comparison
// with sklearn's average_precision_score is in classify_oracle_test.cpp, beside the kNN oracle.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "metrics/retrieval.h"

namespace dermsim {
namespace {

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

TEST(RetrievalMetrics, OneClassRankingsAndQueriesWithNothingEligible) {
  Embeddings reference;
  reference.dim = 1;
  reference.values = {1, 2, 3};
  const std::vector<std::string> reference_groups = {"A", "B", "C"};
  Embeddings query;
  query.dim = 1;
  query.values = {0};
  // Every reference relevant: AP 1; none relevant: AP 0 (sklearn would be undefined for both).
  auto all = retrieval_metrics(query, {1}, {"Q"}, reference, {1, 1, 1}, reference_groups, 2);
  EXPECT_EQ(all.queries, 1);
  EXPECT_DOUBLE_EQ(all.precision_at_k, 1.0);
  EXPECT_DOUBLE_EQ(all.mean_average_precision, 1.0);
  auto none = retrieval_metrics(query, {1}, {"Q"}, reference, {0, 0, 0}, reference_groups, 2);
  EXPECT_EQ(none.queries, 1);
  EXPECT_DOUBLE_EQ(none.precision_at_k, 0.0);
  EXPECT_DOUBLE_EQ(none.mean_average_precision, 0.0);
  // The query's own patient owns every reference: not counted, and with no query both are NaN.
  auto own = retrieval_metrics(query, {1}, {"A"}, reference, {1, 0, 1}, {"A", "A", "A"}, 2);
  EXPECT_EQ(own.queries, 0);
  EXPECT_TRUE(std::isnan(own.precision_at_k));
  EXPECT_TRUE(std::isnan(own.mean_average_precision));
}

}  // namespace
}  // namespace dermsim
