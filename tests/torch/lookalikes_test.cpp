// Tests for look-alike mining over the whole training set: the table lists each melanoma's nearest
// benign images, and the swap into a batch touches only the share of benign entries it should.
#include "train/lookalikes.h"

#include <gtest/gtest.h>

#include <set>

#include "train/sampler.h"

namespace dermsim {
namespace {

Embeddings points(const std::vector<std::pair<float, float>>& xy) {
  Embeddings e;
  e.dim = 2;
  for (auto [x, y] : xy) e.values.insert(e.values.end(), {x, y});
  return e;
}

TEST(FindLookalikes, ListsEachMelanomasNearestBenignImagesNearestFirst) {
  // index:                      0 benign  1 melanoma  2 benign  3 benign   4 melanoma  5 benign
  const Embeddings e = points({{1, 0}, {0, 0}, {0, 3}, {10, 10}, {9, 9}, {0.5f, 0}});
  const std::vector<int> labels = {0, 1, 0, 0, 1, 0};
  const LookalikeTable table = find_lookalikes(e, labels, 2);
  ASSERT_EQ(table.nearest_benign.size(), labels.size());
  EXPECT_EQ(table.nearest_benign[1], (std::vector<size_t>{5, 0}));
  EXPECT_EQ(table.nearest_benign[4], (std::vector<size_t>{3, 2}));  // never the other melanoma
  for (size_t benign : {0, 2, 3, 5}) EXPECT_TRUE(table.nearest_benign[benign].empty());
}

TEST(MixInLookalikes, SwapsTheGivenShareOfBenignEntriesForTheirMelanomasLookalikes) {
  std::vector<int> labels(40, 0);
  for (size_t m = 30; m < 40; ++m) labels[m] = 1;
  SamplerOptions options;
  options.images_per_class = 8;
  const BalancedBatchSampler sampler(labels, options);
  LookalikeTable table;
  table.nearest_benign.resize(labels.size());
  for (size_t m = 30; m < 40; ++m) table.nearest_benign[m] = {m - 30, m - 20};  // benign 0-19
  std::set<size_t> drawn;
  for (long step = 0; step < 50; ++step) {
    const std::vector<size_t> plain = sampler.batch(step);
    const std::vector<size_t> mixed = mix_in_lookalikes(plain, table, 0.5, 3, step);
    ASSERT_EQ(mixed.size(), plain.size());
    EXPECT_EQ(mixed, mix_in_lookalikes(plain, table, 0.5, 3, step)) << "a pure function of the step";
    for (size_t j = 0; j < 4; ++j) {  // round(0.5 * 8) swapped: each a look-alike of melanoma j
      const auto& allowed = table.nearest_benign[plain[8 + j]];
      EXPECT_TRUE(mixed[j] == allowed[0] || mixed[j] == allowed[1]) << "step " << step;
      drawn.insert(mixed[j]);
    }
    for (size_t j = 4; j < 16; ++j) EXPECT_EQ(mixed[j], plain[j]) << "step " << step;
  }
  EXPECT_EQ(drawn.size(), 20u) << "every look-alike of the list gets drawn, not only the nearest";
  const std::vector<size_t> plain = sampler.batch(7);
  EXPECT_EQ(mix_in_lookalikes(plain, table, 0.0, 3, 7), plain);
  EXPECT_EQ(mix_in_lookalikes(plain, LookalikeTable{}, 1.0, 3, 7), plain) << "the first epoch";
}

}  // namespace
}  // namespace dermsim
