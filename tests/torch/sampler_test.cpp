// Tests for BalancedBatchSampler: balance, epoch coverage, minority passes, and resumability.
#include "train/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "augment/counter_rng.h"
#include "common/error.h"

namespace dermsim {
namespace {

// An imbalanced split like ISIC's: mostly benign, malignant scattered through the list so that
// label index != rank within its class. 7919 is prime, so m * 7919 mod total never collides.
std::vector<int> make_labels(int benign, int malignant) {
  std::vector<int> labels(size_t(benign + malignant), 0);
  for (int m = 0; m < malignant; ++m) labels[size_t((m * 7919) % (benign + malignant))] = 1;
  return labels;
}

SamplerOptions options_with(int k, double fraction = 1.0, uint64_t seed = 7) {
  SamplerOptions o;
  o.images_per_class = k;
  o.benign_fraction_per_epoch = fraction;
  o.seed = seed;
  return o;
}

TEST(BalancedBatchSampler, EveryBatchHasKOfEachClass) {
  const std::vector<int> labels = make_labels(500, 37);
  const BalancedBatchSampler sampler(labels, options_with(16));
  for (long step = 0; step < 3 * sampler.steps_per_epoch(); ++step) {
    const std::vector<size_t> b = sampler.batch(step);
    ASSERT_EQ(b.size(), 32u);
    for (size_t j = 0; j < 16; ++j) EXPECT_EQ(labels[b[j]], 0) << "step " << step;
    for (size_t j = 16; j < 32; ++j) EXPECT_EQ(labels[b[j]], 1) << "step " << step;
  }
}

TEST(BalancedBatchSampler, EachBenignOncePerEpoch) {
  const std::vector<int> labels = make_labels(203, 20);  // 203 is not a multiple of K
  const BalancedBatchSampler sampler(labels, options_with(8));
  const size_t benign = sampler.benign_count();
  ASSERT_EQ(sampler.steps_per_epoch(), long((benign + 7) / 8));
  for (long epoch = 0; epoch < 3; ++epoch) {
    std::map<size_t, int> showings;
    for (long s = 0; s < sampler.steps_per_epoch(); ++s)
      for (size_t j = 0; j < 8; ++j) ++showings[sampler.batch(epoch * sampler.steps_per_epoch() + s)[j]];
    EXPECT_EQ(showings.size(), benign);
    int twice = 0;
    for (const auto& [index, count] : showings) {
      EXPECT_GE(count, 1) << index;
      EXPECT_LE(count, 2) << index;
      twice += count == 2;
    }
    // Only the epoch's last batch is filled up from the start of the permutation.
    EXPECT_EQ(size_t(twice), sampler.steps_per_epoch() * 8 - benign);
  }
}

TEST(BalancedBatchSampler, MalignantPassesAreBalanced) {
  const std::vector<int> labels = make_labels(400, 13);
  const BalancedBatchSampler sampler(labels, options_with(5));
  const size_t n = sampler.malignant_count();
  std::map<size_t, int> counts;
  long draws = 0;
  for (long step = 0; step < 40; ++step) {
    const std::vector<size_t> b = sampler.batch(step);
    for (size_t j = 5; j < 10; ++j) ++counts[b[j]];
    draws += 5;
    int low = 1 << 30, high = 0;
    for (const auto& [index, count] : counts) {
      low = std::min(low, count);
      high = std::max(high, count);
    }
    if (counts.size() < n) low = 0;
    EXPECT_LE(high - low, 1) << "after step " << step;  // at any point, not only at pass ends
    if (draws % long(n) == 0) EXPECT_EQ(high, low) << "whole passes at step " << step;
  }
  EXPECT_EQ(counts.size(), n);
}

TEST(BalancedBatchSampler, BatchIsAPureFunctionOfSeedAndStep) {
  const std::vector<int> labels = make_labels(300, 25);
  const BalancedBatchSampler a(labels, options_with(8, 1.0, 42));
  for (long step : {0L, 1L, 17L, 38L, 39L, 1000L}) {
    const BalancedBatchSampler fresh(labels, options_with(8, 1.0, 42));  // a resumed run
    EXPECT_EQ(a.batch(step), a.batch(step));
    EXPECT_EQ(a.batch(step), fresh.batch(step));
  }
}

TEST(BalancedBatchSampler, DifferentSeedsDiffer) {
  const std::vector<int> labels = make_labels(300, 25);
  const BalancedBatchSampler a(labels, options_with(8, 1.0, 1));
  const BalancedBatchSampler b(labels, options_with(8, 1.0, 2));
  int differing = 0;
  for (long step = 0; step < 10; ++step) differing += a.batch(step) != b.batch(step);
  EXPECT_EQ(differing, 10);
  // Consecutive epochs use different benign orders too.
  EXPECT_NE(a.batch(0), a.batch(a.steps_per_epoch()));
}

TEST(BalancedBatchSampler, UndersamplingShortensTheEpoch) {
  const std::vector<int> labels = make_labels(1000, 30);
  const BalancedBatchSampler full(labels, options_with(10, 1.0));
  const BalancedBatchSampler quarter(labels, options_with(10, 0.25));
  EXPECT_EQ(full.steps_per_epoch(), 100);
  EXPECT_EQ(quarter.benign_used_per_epoch(), 250u);
  EXPECT_EQ(quarter.steps_per_epoch(), 25);
  // The used subset changes between epochs, and within one epoch nothing repeats.
  std::set<size_t> epoch0, epoch1;
  for (long s = 0; s < 25; ++s) {
    for (size_t j = 0; j < 10; ++j) {
      EXPECT_TRUE(epoch0.insert(quarter.batch(s)[j]).second);
      epoch1.insert(quarter.batch(25 + s)[j]);
    }
  }
  EXPECT_EQ(epoch0.size(), 250u);
  EXPECT_NE(epoch0, epoch1);
}

TEST(BalancedBatchSampler, RejectsBadInputWithAMessage) {
  SamplerOptions three = options_with(4);
  three.classes_per_batch = 3;
  EXPECT_THROW(BalancedBatchSampler(make_labels(10, 3), three), UserError);
  try {
    BalancedBatchSampler(std::vector<int>{0, 1, 2}, options_with(4));
    FAIL() << "label 2 accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("training label 2 is 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(BalancedBatchSampler(std::vector<int>{0, 0, 0}, options_with(4)), UserError);
  EXPECT_THROW(BalancedBatchSampler(make_labels(10, 3), options_with(4, 0.0)), UserError);
  EXPECT_THROW(BalancedBatchSampler(make_labels(10, 3), options_with(0)), UserError);
}

TEST(CounterRng, BelowIsUniformAndShuffleIsAPermutation) {
  CounterRng rng(derive_seed(3, 4));
  std::vector<int> counts(6, 0);
  for (int i = 0; i < 60000; ++i) ++counts[size_t(rng.below(6))];
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);  // ~5 sigma
  std::vector<int> values(100);
  for (int i = 0; i < 100; ++i) values[size_t(i)] = i;
  rng.shuffle(values);
  std::vector<int> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sorted[size_t(i)], i);
  EXPECT_NE(values, sorted);
  EXPECT_NE(derive_seed(1, 2, 3), derive_seed(1, 3, 2));
}

}  // namespace
}  // namespace dermsim
