// The moving average of the weights: its formula on every parameter and batch-norm buffer, the
// warm-up of its decay, and that it is an average (it converges to weights that stop moving).
#include <gtest/gtest.h>

#include "train/weight_average.h"

namespace dermsim {
namespace {

std::vector<torch::Tensor> state_of(EmbeddingNet& net) {
  std::vector<torch::Tensor> all;
  for (const auto& p : net->parameters()) all.push_back(p.detach().clone());
  for (const auto& b : net->buffers()) all.push_back(b.clone());
  return all;
}

// Moves every floating tensor of `net` (parameters and batch-norm statistics) and its counters.
void perturb(EmbeddingNet& net, int seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters()) p.add_(torch::randn_like(p));
  for (auto& b : net->buffers()) {
    if (b.is_floating_point())
      b.add_(torch::rand_like(b));
    else
      b.add_(seed);
  }
}

TEST(WeightAverage, DecayWarmsUpFromTheFirstStep) {
  EXPECT_DOUBLE_EQ(average_decay_at(0, 0.99), 0.1);
  EXPECT_DOUBLE_EQ(average_decay_at(8, 0.99), 0.5);
  EXPECT_DOUBLE_EQ(average_decay_at(100000, 0.99), 0.99);
  EXPECT_DOUBLE_EQ(average_decay_at(5, 0.0), 0.0);
}

TEST(WeightAverage, EveryParameterAndStatisticIsAveragedCountersCopied) {
  EmbeddingNet average = make_embedding_net({"small", 16});
  EmbeddingNet live = make_embedding_net({"small", 16});
  perturb(live, 3);
  const std::vector<torch::Tensor> a = state_of(average), w = state_of(live);
  ASSERT_EQ(a.size(), w.size());
  update_weight_average(average, live, 0.75);
  const std::vector<torch::Tensor> after = state_of(average);
  int floating = 0, counters = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].is_floating_point()) {
      ++floating;
      EXPECT_TRUE(torch::allclose(after[i], 0.75 * a[i] + 0.25 * w[i], 1e-6, 1e-6)) << "tensor " << i;
    } else {
      ++counters;
      EXPECT_TRUE(torch::equal(after[i], w[i])) << "counter " << i;
    }
  }
  EXPECT_GT(floating, 10);
  EXPECT_GT(counters, 0) << "batch-norm step counters are buffers too";
}

TEST(WeightAverage, ConvergesToWeightsThatStopMovingAndCopiesExactly) {
  EmbeddingNet average = make_embedding_net({"small", 16});
  EmbeddingNet live = make_embedding_net({"small", 16});
  perturb(live, 5);
  for (long step = 0; step < 400; ++step) update_weight_average(average, live, average_decay_at(step, 0.95));
  const std::vector<torch::Tensor> a = state_of(average), w = state_of(live);
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].is_floating_point()) EXPECT_TRUE(torch::allclose(a[i], w[i], 1e-4, 1e-4)) << i;
  perturb(live, 7);
  copy_weights(live, average);
  const std::vector<torch::Tensor> copied = state_of(average), now = state_of(live);
  for (size_t i = 0; i < copied.size(); ++i) EXPECT_TRUE(torch::equal(copied[i], now[i])) << i;
}

}  // namespace
}  // namespace dermsim
