// Metric-learning losses (see losses.h). Distances are formed from explicit differences, not from
// a Gram matrix, so that d = 0 is exact and the gradient there is the defined one.
#include "train/losses.h"

#include <limits>

#include "common/error.h"

namespace dermsim {
namespace {

// Inside the square root: bounds nothing (|d'| <= 1 anyway) but avoids 0/0 at d = 0.
constexpr double kDistanceEps = 1e-12;

void check_batch(const torch::Tensor& embeddings, const torch::Tensor& labels, const char* who) {
  TORCH_CHECK(embeddings.dim() == 2, who, ": embeddings must be N x D, got ", embeddings.sizes());
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == embeddings.size(0), who,
              ": labels must be a vector of N = ", embeddings.size(0), ", got ", labels.sizes());
}

torch::Tensor zero_with_grad(const torch::Tensor& embeddings) { return embeddings.sum() * 0.0; }

// Per-pair contrastive terms from squared distances, then the (balanced) mean.
torch::Tensor contrastive_from_squared(const torch::Tensor& squared, const torch::Tensor& same,
                                       const ContrastiveOptions& options,
                                       const torch::Tensor& anchor_for_zero) {
  if (squared.numel() == 0) return zero_with_grad(anchor_for_zero);
  const auto distance = torch::sqrt(squared + kDistanceEps);
  const auto positive_terms = squared * (0.5 * options.positive_weight);
  const auto negative_terms =
      torch::relu(options.margin - distance).pow(2) * (0.5 * options.negative_weight);
  if (!options.balance_pairs) return torch::where(same, positive_terms, negative_terms).mean();
  const auto positive = positive_terms.masked_select(same);
  const auto negative = negative_terms.masked_select(same.logical_not());
  if (positive.numel() == 0) return negative.mean();
  if (negative.numel() == 0) return positive.mean();
  return (positive.mean() + negative.mean()) * 0.5;
}

// N x N Euclidean distances with eps inside the root.
torch::Tensor pairwise_distances(const torch::Tensor& embeddings) {
  const auto diff = embeddings.unsqueeze(1) - embeddings.unsqueeze(0);
  return torch::sqrt(diff.pow(2).sum(2) + kDistanceEps);
}

}  // namespace

torch::Tensor contrastive_loss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                               const ContrastiveOptions& options) {
  check_batch(embeddings, labels, "contrastive_loss");
  const int64_t n = embeddings.size(0);
  const auto index = torch::triu_indices(n, n, /*offset=*/1, torch::TensorOptions().device(embeddings.device()));
  const auto first = index[0], second = index[1];
  const auto squared =
      (embeddings.index_select(0, first) - embeddings.index_select(0, second)).pow(2).sum(1);
  const auto label_on_device = labels.to(embeddings.device());
  const auto same = label_on_device.index_select(0, first) == label_on_device.index_select(0, second);
  return contrastive_from_squared(squared, same, options, embeddings);
}

torch::Tensor contrastive_loss_pairs(const torch::Tensor& e1, const torch::Tensor& e2,
                                     const torch::Tensor& same, const ContrastiveOptions& options) {
  TORCH_CHECK(e1.dim() == 2 && e1.sizes() == e2.sizes(), "contrastive_loss_pairs: e1 and e2 must be "
              "M x D of one shape, got ", e1.sizes(), " and ", e2.sizes());
  TORCH_CHECK(same.dim() == 1 && same.size(0) == e1.size(0),
              "contrastive_loss_pairs: same must be a vector of M = ", e1.size(0));
  const auto squared = (e1 - e2).pow(2).sum(1);
  return contrastive_from_squared(squared, same.to(e1.device()).ne(0), options, e1 + e2);
}

torch::Tensor triplet_loss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                           const TripletOptions& options) {
  check_batch(embeddings, labels, "triplet_loss");
  const int64_t n = embeddings.size(0);
  const auto device = embeddings.device();
  const auto label = labels.to(device);
  const auto same_label = label.unsqueeze(1) == label.unsqueeze(0);
  const auto not_self = torch::eye(n, torch::TensorOptions().dtype(torch::kBool).device(device)).logical_not();
  const auto positive = same_label.logical_and(not_self);  // [a, p]
  const auto negative = same_label.logical_not();           // [a, n]
  const auto distance = pairwise_distances(embeddings);
  const double inf = std::numeric_limits<double>::infinity();

  switch (options.mining) {
    case Mining::kBatchAll: {
      const auto d_ap = distance.unsqueeze(2), d_an = distance.unsqueeze(1);
      const auto valid = positive.unsqueeze(2).logical_and(negative.unsqueeze(1));
      const auto losses = torch::relu(d_ap - d_an + options.margin).masked_select(valid);
      const auto active = losses.gt(0);
      const auto count = active.sum().item<int64_t>();
      if (count == 0) return zero_with_grad(embeddings);
      return losses.sum() / static_cast<double>(count);
    }
    case Mining::kHard: {
      const auto anchors = positive.any(1).logical_and(negative.any(1));
      if (!anchors.any().item<bool>()) return zero_with_grad(embeddings);
      const auto hardest_positive = torch::where(positive, distance, torch::full_like(distance, -inf)).amax(1);
      const auto hardest_negative = torch::where(negative, distance, torch::full_like(distance, inf)).amin(1);
      return torch::relu(hardest_positive - hardest_negative + options.margin).masked_select(anchors).mean();
    }
    case Mining::kSemiHard: {
      const auto valid = positive.logical_and(negative.any(1, /*keepdim=*/true));  // [a, p]
      if (!valid.any().item<bool>()) return zero_with_grad(embeddings);
      const auto d_ap = distance.unsqueeze(2);                    // [a, p, 1]
      const auto d_an = distance.unsqueeze(1).expand({n, n, n});  // [a, 1->p, n]
      const auto farther = negative.unsqueeze(1).logical_and(d_an > d_ap);
      const auto nearest_farther = torch::where(farther, d_an, torch::full_like(d_an, inf)).amin(2);
      const auto farthest = torch::where(negative, distance, torch::full_like(distance, -inf)).amax(1);
      const auto chosen = torch::where(farther.any(2), nearest_farther, farthest.unsqueeze(1).expand({n, n}));
      return torch::relu(distance.masked_select(valid) - chosen.masked_select(valid) + options.margin).mean();
    }
  }
  throw std::logic_error("triplet_loss: unknown mining");
}

torch::Tensor supervised_contrastive_loss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                          double temperature) {
  check_batch(embeddings, labels, "supervised_contrastive_loss");
  TORCH_CHECK(temperature > 0, "supervised_contrastive_loss: temperature must be > 0, got ", temperature);
  const int64_t n = embeddings.size(0);
  const auto device = embeddings.device();
  const auto label = labels.to(device);
  const auto self = torch::eye(n, torch::TensorOptions().dtype(torch::kBool).device(device));
  const auto positive = (label.unsqueeze(1) == label.unsqueeze(0)).logical_and(self.logical_not());
  const auto anchors = positive.any(1);
  if (!anchors.any().item<bool>()) return zero_with_grad(embeddings);
  const auto z = torch::nn::functional::normalize(
      embeddings, torch::nn::functional::NormalizeFuncOptions().dim(1));
  const double inf = std::numeric_limits<double>::infinity();
  // The anchor itself is left out of the denominator: -inf on the diagonal.
  const auto logits = (z.matmul(z.t()) / temperature).masked_fill(self, -inf);
  const auto log_prob = logits - logits.logsumexp(1, /*keepdim=*/true);
  const auto positives = positive.to(log_prob.scalar_type());
  // Zero where not a positive (the diagonal's -inf must not reach the sum: where, not a product).
  const auto positive_log_prob = torch::where(positive, log_prob, torch::zeros_like(log_prob)).sum(1);
  const auto per_anchor = -positive_log_prob / positives.sum(1).clamp_min(1);
  return per_anchor.masked_select(anchors).mean();
}

torch::Tensor bce_loss(const torch::Tensor& logits, const torch::Tensor& labels, double positive_weight) {
  TORCH_CHECK(logits.dim() == 1 && labels.sizes() == logits.sizes(),
              "bce_loss: logits and labels must be vectors of one length, got ", logits.sizes(), " and ",
              labels.sizes());
  const auto target = labels.to(logits.device(), logits.scalar_type());
  const auto weight = torch::full({1}, positive_weight, logits.options());
  return torch::binary_cross_entropy_with_logits(logits, target, /*weight=*/{}, /*pos_weight=*/weight);
}

Mining parse_mining(const std::string& name) {
  if (name == "batch-all" || name == "all") return Mining::kBatchAll;
  if (name == "semi-hard" || name == "semihard") return Mining::kSemiHard;
  if (name == "hard" || name == "batch-hard") return Mining::kHard;
  throw UserError("--mining " + name + ": expected batch-all, semi-hard or hard");
}

std::string mining_name(Mining mining) {
  switch (mining) {
    case Mining::kBatchAll: return "batch-all";
    case Mining::kSemiHard: return "semi-hard";
    case Mining::kHard: return "hard";
  }
  return "unknown";
}

}  // namespace dermsim
