// Tests of the metric-learning losses: values against plain loops over explicit pairs/triplets,
// gradients against central finite differences (double), semi-hard selection on a 1-D case.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "common/error.h"
#include "train/losses.h"
#include "train/train_options.h"
#include "train/trainer.h"

namespace dermsim {
namespace {

using Matrix = std::vector<std::vector<double>>;

Matrix to_matrix(const torch::Tensor& t) {
  Matrix m(t.size(0), std::vector<double>(t.size(1)));
  auto a = t.to(torch::kFloat64).contiguous();
  for (int64_t i = 0; i < t.size(0); ++i)
    for (int64_t j = 0; j < t.size(1); ++j) m[i][j] = a[i][j].item<double>();
  return m;
}

std::vector<int64_t> to_labels(const torch::Tensor& t) {
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

// The loss definitions, written out as loops, independent of the tensor code.
double dist(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t k = 0; k < a.size(); ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
  return std::sqrt(s + 1e-12);
}

double loop_contrastive(const Matrix& e, const std::vector<int64_t>& y, const ContrastiveOptions& o) {
  double pos = 0, neg = 0;
  int np = 0, nn = 0;
  for (size_t i = 0; i < e.size(); ++i)
    for (size_t j = i + 1; j < e.size(); ++j) {
      const double d = dist(e[i], e[j]);
      if (y[i] == y[j]) {
        pos += o.positive_weight * (d * d - 1e-12) / 2, ++np;
      } else {
        const double h = std::max(0.0, o.margin - d);
        neg += o.negative_weight * h * h / 2, ++nn;
      }
    }
  if (!o.balance_pairs) return (pos + neg) / (np + nn);
  if (np == 0) return neg / nn;
  if (nn == 0) return pos / np;
  return (pos / np + neg / nn) / 2;
}

double loop_triplet(const Matrix& e, const std::vector<int64_t>& y, const TripletOptions& o) {
  const size_t n = e.size();
  const double inf = std::numeric_limits<double>::infinity();
  double total = 0;
  int count = 0;
  for (size_t a = 0; a < n; ++a) {
    double far_pos = -inf, near_neg = inf;
    bool has_neg = false;
    for (size_t m = 0; m < n; ++m)
      if (y[m] != y[a]) has_neg = true, near_neg = std::min(near_neg, dist(e[a], e[m]));
    for (size_t p = 0; p < n; ++p) {
      if (p == a || y[p] != y[a] || !has_neg) continue;
      const double dap = dist(e[a], e[p]);
      far_pos = std::max(far_pos, dap);
      if (o.mining == Mining::kBatchAll) {
        for (size_t m = 0; m < n; ++m) {
          if (y[m] == y[a]) continue;
          const double l = dap - dist(e[a], e[m]) + o.margin;
          if (l > 0) total += l, ++count;
        }
      } else if (o.mining == Mining::kSemiHard) {
        double semi = inf, farthest = -inf;
        for (size_t m = 0; m < n; ++m) {
          if (y[m] == y[a]) continue;
          const double dan = dist(e[a], e[m]);
          farthest = std::max(farthest, dan);
          if (dan > dap) semi = std::min(semi, dan);
        }
        total += std::max(0.0, dap - (semi < inf ? semi : farthest) + o.margin), ++count;
      }
    }
    if (o.mining == Mining::kHard && far_pos > -inf && has_neg)
      total += std::max(0.0, far_pos - near_neg + o.margin), ++count;
  }
  return count == 0 ? 0.0 : total / count;
}

struct Batch {
  torch::Tensor embeddings, labels;
};

Batch random_batch(int64_t seed, int64_t n, int64_t d, int64_t classes) {
  torch::manual_seed(seed);
  return {torch::randn({n, d}, torch::kFloat64) * 0.6, torch::randint(0, classes, {n}, torch::kInt64)};
}

// Khosla et al.'s L_out written out: cosine similarities, the anchor left out of the denominator.
double loop_supervised_contrastive(const Matrix& e, const std::vector<int64_t>& y, double t) {
  const size_t n = e.size();
  auto cosine = [&](size_t a, size_t b) {
    double dot = 0, na = 0, nb = 0;
    for (size_t k = 0; k < e[a].size(); ++k)
      dot += e[a][k] * e[b][k], na += e[a][k] * e[a][k], nb += e[b][k] * e[b][k];
    return dot / std::sqrt(na * nb);
  };
  double total = 0;
  int anchors = 0;
  for (size_t i = 0; i < n; ++i) {
    double denominator = 0, sum_log = 0;
    int positives = 0;
    for (size_t a = 0; a < n; ++a)
      if (a != i) denominator += std::exp(cosine(i, a) / t);
    for (size_t p = 0; p < n; ++p)
      if (p != i && y[p] == y[i])
        sum_log += std::log(std::exp(cosine(i, p) / t) / denominator), ++positives;
    if (positives > 0) total += -sum_log / positives, ++anchors;
  }
  return anchors == 0 ? 0.0 : total / anchors;
}

// Duplicated rows: a same-class pair at distance 0 and a different-class pair at distance 0.
Batch tie_batch() {
  auto b = random_batch(11, 7, 3, 2);
  b.labels = torch::tensor({0, 0, 1, 0, 1, 1, 0}, torch::kInt64);
  b.embeddings[1].copy_(b.embeddings[0]);
  b.embeddings[3].copy_(b.embeddings[2]);
  return b;
}

// Semi-hard mining is discontinuous where d_an = d_ap (a negative enters or leaves the "farther than
// the positive" set), and a cross-class duplicate puts every anchor on that boundary. So semi-hard's
// zero-distance case duplicates a same-class row only.
Batch same_class_tie_batch() {
  auto b = random_batch(12, 7, 3, 2);
  b.labels = torch::tensor({0, 0, 1, 0, 1, 1, 0}, torch::kInt64);
  b.embeddings[1].copy_(b.embeddings[0]);
  return b;
}

void expect_gradient_matches_finite_differences(const std::function<torch::Tensor(torch::Tensor)>& loss,
                                                torch::Tensor x, const std::string& what) {
  x = x.clone().requires_grad_(true);
  const auto analytic = torch::autograd::grad({loss(x)}, {x}, {}, false, false, /*allow_unused=*/true)[0];
  ASSERT_TRUE(analytic.defined()) << what;
  const double h = 1e-6;
  auto base = x.detach().clone();
  for (int64_t i = 0; i < base.size(0); ++i)
    for (int64_t j = 0; j < base.size(1); ++j) {
      auto plus = base.clone(), minus = base.clone();
      plus[i][j] += h;
      minus[i][j] -= h;
      const double numeric = (loss(plus).item<double>() - loss(minus).item<double>()) / (2 * h);
      EXPECT_NEAR(analytic[i][j].item<double>(), numeric, 1e-6 + 1e-5 * std::abs(numeric))
          << what << " at [" << i << "," << j << "]";
    }
}

std::vector<ContrastiveOptions> contrastive_variants() {
  ContrastiveOptions weighted;
  weighted.positive_weight = 0.5;
  weighted.negative_weight = 3.0;
  weighted.margin = 1.5;
  ContrastiveOptions plain;
  plain.balance_pairs = false;
  plain.negative_weight = 2.0;
  return {ContrastiveOptions{}, weighted, plain};
}

std::vector<TripletOptions> triplet_variants() {
  return {{0.2, Mining::kBatchAll}, {0.5, Mining::kSemiHard}, {0.3, Mining::kHard}, {1.0, Mining::kSemiHard}};
}

TEST(Losses, ContrastiveMatchesLoopDefinition) {
  for (int64_t seed = 0; seed < 4; ++seed)
    for (const auto& options : contrastive_variants())
      for (const auto& b : {random_batch(seed, 9, 4, 3), tie_batch()})
        EXPECT_NEAR(contrastive_loss(b.embeddings, b.labels, options).item<double>(),
                    loop_contrastive(to_matrix(b.embeddings), to_labels(b.labels), options), 1e-12)
            << "seed " << seed;
}

TEST(Losses, TripletMatchesLoopDefinition) {
  for (int64_t seed = 0; seed < 6; ++seed)
    for (const auto& options : triplet_variants())
      for (const auto& b : {random_batch(seed, 10, 3, 3), tie_batch()}) {
        const double expected = loop_triplet(to_matrix(b.embeddings), to_labels(b.labels), options);
        EXPECT_NEAR(triplet_loss(b.embeddings, b.labels, options).item<double>(), expected, 1e-12)
            << mining_name(options.mining) << " seed " << seed;
      }
}

TEST(Losses, SupervisedContrastiveMatchesLoopDefinition) {
  for (int64_t seed = 0; seed < 4; ++seed)
    for (double t : {0.07, 0.1, 0.5, 1.0})
      for (const auto& b : {random_batch(seed, 9, 4, 3), random_batch(seed + 40, 6, 2, 2), tie_batch()})
        EXPECT_NEAR(supervised_contrastive_loss(b.embeddings, b.labels, t).item<double>(),
                    loop_supervised_contrastive(to_matrix(b.embeddings), to_labels(b.labels), t), 1e-10)
            << "seed " << seed << " t " << t;
  // It depends on directions only: rows scaled by any positive factor give the same loss.
  auto b = random_batch(3, 8, 5, 2);
  const auto scale = torch::rand({8, 1}, torch::kFloat64) * 4 + 0.1;
  EXPECT_NEAR(supervised_contrastive_loss(b.embeddings * scale, b.labels).item<double>(),
              supervised_contrastive_loss(b.embeddings, b.labels).item<double>(), 1e-12);
}

TEST(Losses, TrainingRunsSupconAtItsTemperature) {
  auto b = random_batch(7, 10, 4, 2);
  BatchOutputs outputs{b.embeddings, torch::randn({10}, torch::kFloat64), b.labels};
  TrainOptions o;
  o.loss = "supcon";
  o.temperature = 0.3;
  EXPECT_NO_THROW(validate_train_options(o));
  const double supcon = supervised_contrastive_loss(b.embeddings, b.labels, 0.3).item<double>();
  EXPECT_NEAR(training_loss(outputs, o).item<double>(), supcon, 1e-12);
  o.head_weight = 0.5;
  EXPECT_NEAR(training_loss(outputs, o).item<double>(),
              supcon + 0.5 * bce_loss(outputs.logits, b.labels).item<double>(), 1e-12);
  // Saved and read back; a run trained before the option existed reads Khosla et al.'s 0.1.
  EXPECT_EQ(train_options_from_json(to_json(o), "train.json").temperature, 0.3);
  nlohmann::json older = to_json(TrainOptions{});
  older.erase("temperature");
  EXPECT_EQ(train_options_from_json(older, "train.json").temperature, 0.1);
  for (double bad : {0.0, -1.0, std::nan("")}) {
    o.temperature = bad;
    EXPECT_THROW(validate_train_options(o), UserError) << bad;
  }
}

TEST(Losses, GradientsMatchFiniteDifferences) {
  for (const auto& b : {random_batch(21, 8, 3, 2), random_batch(22, 7, 2, 3), tie_batch(),
                        same_class_tie_batch()}) {
    const bool cross_class_tie = torch::equal(b.embeddings[2], b.embeddings[3]);
    for (const auto& options : contrastive_variants())
      expect_gradient_matches_finite_differences(
          [&](torch::Tensor x) { return contrastive_loss(x, b.labels, options); }, b.embeddings, "contrastive");
    for (const auto& options : triplet_variants())
      if (!(cross_class_tie && options.mining == Mining::kSemiHard))
        expect_gradient_matches_finite_differences(
          [&](torch::Tensor x) { return triplet_loss(x, b.labels, options); }, b.embeddings,
          "triplet " + mining_name(options.mining));
    for (double t : {0.1, 0.5})
      expect_gradient_matches_finite_differences(
          [&](torch::Tensor x) { return supervised_contrastive_loss(x, b.labels, t); }, b.embeddings,
          "supervised contrastive");
  }
  auto logits = torch::randn({6, 1}, torch::kFloat64);
  auto labels = torch::tensor({1, 0, 0, 1, 0, 0}, torch::kInt64);
  expect_gradient_matches_finite_differences(
      [&](torch::Tensor x) { return bce_loss(x.squeeze(1), labels, 3.0); }, logits, "bce");
  auto e1 = torch::randn({5, 3}, torch::kFloat64);
  auto e2 = torch::randn({5, 3}, torch::kFloat64);
  auto same = torch::tensor({1, 0, 1, 0, 0}, torch::kInt64);
  expect_gradient_matches_finite_differences(
      [&](torch::Tensor x) { return contrastive_loss_pairs(x, e2, same); }, e1, "contrastive pairs");
}

TEST(Losses, InBatchContrastiveEqualsMeanOverExplicitPairs) {
  auto b = random_batch(5, 12, 6, 3);
  const int64_t n = b.embeddings.size(0);
  std::vector<int64_t> first, second;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) first.push_back(i), second.push_back(j);
  const auto i = torch::tensor(first), j = torch::tensor(second);
  for (bool balance : {false, true}) {
    ContrastiveOptions options;
    options.balance_pairs = balance;
    options.margin = 2.0;
    const auto pairs = contrastive_loss_pairs(b.embeddings.index_select(0, i), b.embeddings.index_select(0, j),
                                              b.labels.index_select(0, i) == b.labels.index_select(0, j), options);
    EXPECT_NEAR(contrastive_loss(b.embeddings, b.labels, options).item<double>(), pairs.item<double>(), 1e-12);
  }
}

TEST(Losses, SemiHardPicksNearestNegativeFartherThanPositive) {
  // Anchor 0 and positive 1 (d_ap = 1). Negatives: 0.5 (hard), 1.1 and 1.15 (semi-hard), 3 (easy).
  // From anchor 0 the nearest farther negative is 1.1: loss 1 - 1.1 + 0.2 = 0.1. From anchor 1 the only
  // farther negative is 3 (d = 2): loss 0. Negatives have no positive. Mean over the 2 pairs: 0.05.
  auto e = torch::tensor({0.0, 1.0, 0.5, 1.1, 1.15, 3.0}, torch::kFloat64).unsqueeze(1).requires_grad_(true);
  auto y = torch::tensor({0, 0, 1, 2, 3, 4}, torch::kInt64);
  auto loss = triplet_loss(e, y, {0.2, Mining::kSemiHard});
  EXPECT_NEAR(loss.item<double>(), 0.05, 1e-9);
  loss.backward();
  const auto g = e.grad();
  EXPECT_NEAR(g[3][0].item<double>(), -0.5, 1e-6);  // d(0.5 * -|e3 - e0|)/de3
  for (int k : {2, 4, 5}) EXPECT_EQ(g[k][0].item<double>(), 0.0) << k;

  // No negative farther than the positive: fall back to the farthest negative.
  auto e2 = torch::tensor({0.0, 1.0, 0.3, 0.6}, torch::kFloat64).unsqueeze(1);
  auto y2 = torch::tensor({0, 0, 1, 2}, torch::kInt64);
  // anchor 0: 1 - 0.6 + 0.2 = 0.6; anchor 1: negatives at 0.7 and 0.4, farthest 0.7: 0.5.
  EXPECT_NEAR(triplet_loss(e2, y2, {0.2, Mining::kSemiHard}).item<double>(), 0.55, 1e-9);
  EXPECT_NEAR(triplet_loss(e2, y2, {0.2, Mining::kHard}).item<double>(), (0.9 + 0.8) / 2, 1e-9);
}

TEST(Losses, NoValidTripletGivesZeroWithGradient) {
  auto e = torch::randn({4, 3}, torch::kFloat64).requires_grad_(true);
  for (const auto& labels : {torch::tensor({0, 1, 2, 3}, torch::kInt64), torch::tensor({5, 5, 5, 5}, torch::kInt64)})
    for (const auto& options : triplet_variants()) {
      auto loss = triplet_loss(e, labels, options);
      EXPECT_EQ(loss.item<double>(), 0.0);
      EXPECT_TRUE(loss.requires_grad());
    }
  // Supervised contrastive: no anchor has a positive when every label differs.
  auto no_positive = supervised_contrastive_loss(e, torch::tensor({0, 1, 2, 3}, torch::kInt64));
  EXPECT_EQ(no_positive.item<double>(), 0.0);
  EXPECT_TRUE(no_positive.requires_grad());
  // Batch-all when every triplet is already satisfied.
  auto far = torch::tensor({{0.0}, {0.01}, {5.0}}, torch::kFloat64).requires_grad_(true);
  auto loss = triplet_loss(far, torch::tensor({0, 0, 1}, torch::kInt64), {0.2, Mining::kBatchAll});
  EXPECT_EQ(loss.item<double>(), 0.0);
  loss.backward();
  EXPECT_TRUE(far.grad().defined());
}

TEST(Losses, BceMatchesFormula) {
  auto logits = torch::tensor({-1.0, 0.5, 2.0}, torch::kFloat64);
  auto labels = torch::tensor({1, 0, 1}, torch::kInt64);
  auto sig = [](double z) { return 1.0 / (1.0 + std::exp(-z)); };
  const double w = 2.5;
  const double expected = (-w * std::log(sig(-1.0)) - std::log(1 - sig(0.5)) - w * std::log(sig(2.0))) / 3;
  EXPECT_NEAR(bce_loss(logits, labels, w).item<double>(), expected, 1e-12);
}

TEST(Losses, ParseMining) {
  EXPECT_EQ(parse_mining("semi-hard"), Mining::kSemiHard);
  EXPECT_EQ(parse_mining("hard"), Mining::kHard);
  EXPECT_EQ(parse_mining("batch-all"), Mining::kBatchAll);
  for (auto m : {Mining::kBatchAll, Mining::kSemiHard, Mining::kHard}) EXPECT_EQ(parse_mining(mining_name(m)), m);
  try {
    parse_mining("hardest");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("hardest"), std::string::npos);
  }
}

}  // namespace
}  // namespace dermsim
