// Metric-learning losses on in-batch pairs (embed each image once, use every pair or triplet of
// the batch), plus the explicit-pairs contrastive loss and the BCE baseline.
#pragma once

#include <torch/torch.h>

#include <string>

namespace dermsim {

// Hadsell, Chopra & LeCun 2006. d = sqrt(||e_i - e_j||^2 + eps) (eps keeps the gradient finite
// at d = 0). Same label: d^2/2 (eps left out: a constant); different: max(0, margin - d)^2/2.
struct ContrastiveOptions {
  double margin = 1.0;
  double positive_weight = 1.0;
  double negative_weight = 1.0;
  // true: (w+ * mean over positive pairs + w- * mean over negative pairs) / 2, so the batch's class
  // mix does not set the weighting; a side with no pairs drops out (the other side alone).
  // false: mean over all pairs of the weighted per-pair terms.
  bool balance_pairs = true;
};

// embeddings: N x D float; labels: int64 N. All N(N-1)/2 unordered pairs i < j.
// Returns 0 (connected to the graph) when N < 2.
torch::Tensor contrastive_loss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                               const ContrastiveOptions& options = {});
// Explicit pairs (two forward passes): pair k is (e1[k], e2[k]); same: bool or integer M, non-zero
// for a same-class pair. Same per-pair terms and balancing as contrastive_loss.
torch::Tensor contrastive_loss_pairs(const torch::Tensor& e1, const torch::Tensor& e2,
                                     const torch::Tensor& same,
                                     const ContrastiveOptions& options = {});

enum class Mining { kBatchAll, kSemiHard, kHard };

// Triplet loss max(0, d_ap - d_an + margin) on Euclidean distances (not squared; Hermans et al.).
//  kBatchAll: every valid (a, p, n); mean over the triplets with a positive loss.
//  kHard: per anchor, the farthest positive and the nearest negative; mean over anchors.
//  kSemiHard (FaceNet): per anchor-positive pair, the nearest negative with d_an > d_ap (if it is
//    beyond the margin the pair is already satisfied and adds 0). Fallback when no negative is
//    farther than the positive: the farthest negative (the least hard of the hard ones), as in
//    TF-Addons' triplet_semihard_loss. Mean over all anchor-positive pairs.
// Anchors without a positive or without a negative are skipped; 0 (with grad) if nothing is valid.
struct TripletOptions {
  double margin = 0.2;
  Mining mining = Mining::kSemiHard;
};

torch::Tensor triplet_loss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                           const TripletOptions& options = {});

// Supervised contrastive loss (Khosla et al. 2020, L_out): on L2-normalised rows z, for each anchor
// i with at least one same-label row, -mean over its positives p of
// log(exp(z_i.z_p / t) / sum over a != i of exp(z_i.z_a / t)); mean over those anchors. Unlike the
// pair losses every row is weighed against the whole batch at once, so the hardest negatives
// dominate the denominator. Rows are normalised here (a no-op for the network's output).
// 0 (with grad) when no anchor has a positive.
torch::Tensor supervised_contrastive_loss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                          double temperature = 0.1);

// Binary cross-entropy on logits (shape N) against 0/1 labels (any numeric dtype), mean over N;
// positive_weight multiplies the loss of positive examples (class imbalance).
torch::Tensor bce_loss(const torch::Tensor& logits, const torch::Tensor& labels,
                       double positive_weight = 1.0);

// "batch-all" | "semi-hard" | "hard" (also "all", "semihard", "batch-hard"); UserError otherwise.
Mining parse_mining(const std::string& name);
std::string mining_name(Mining mining);

}  // namespace dermsim
