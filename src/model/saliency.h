// Grad-CAM saliency in the embedding space (Selvaraju et al. 2017) and the heat-map overlay that
// `dermsim explain` writes: which part of a lesion image drives a differentiable malignancy score.
#pragma once

#include <torch/torch.h>

#include <functional>

#include "image/decode.h"
#include "model/embedding_net.h"

namespace dermsim {

// A differentiable scalar of a 1 x D embedding batch (returns a 0-dim tensor).
using EmbeddingScore = std::function<torch::Tensor(const torch::Tensor& embeddings)>;

// score(e) = |e - mu_benign|^2 - |e - mu_malignant|^2: higher = closer to the malignant prototype.
// The class prototypes are means of training embeddings (1-D tensors of the embedding size); the
// score is smooth where the run's chosen classifier (e.g. kNN) may not be.
EmbeddingScore prototype_score(const torch::Tensor& mu_benign, const torch::Tensor& mu_malignant);

// The joint classification head's logit (runs trained with loss bce or head_weight > 0).
EmbeddingScore head_logit_score(EmbeddingNet& net);

struct GradCam {
  double score = 0;        // score of the image
  torch::Tensor weights;   // C channel weights: spatial mean of d score / d A_c (CPU, A's dtype)
  torch::Tensor raw;       // h x w ReLU(sum_c w_c A_c) at the feature map's resolution (CPU)
  double raw_min = 0, raw_max = 0;
  torch::Tensor map;       // H x W float on CPU: raw bilinearly upsampled to the image, then in [0, 1]
};

// `image`: 1 x 3 x H x W normalised, on the net's device, in the memory format the net expects.
// The net is put in eval mode (BN running statistics), as at inference. A map that is zero
// everywhere (no positive evidence) stays zero rather than being stretched.
GradCam grad_cam(EmbeddingNet& net, const torch::Tensor& image, const EmbeddingScore& score);

struct OverlayOptions {
  double alpha = 0.45;       // heat-map opacity over the image
  int display_size = 256;    // both panels are resized to display_size square
  bool side_by_side = true;  // original on the left, overlay on the right (with a gap)
  int gap = 8;               // white pixels between the panels
};

// The image with a blue-to-red heat map of `map` (H' x W' in [0, 1], any size: resampled to the
// panel) blended over it. Width = 2 * display_size + gap when side by side, else display_size.
RgbImage saliency_overlay(const RgbImage& image, const torch::Tensor& map, const OverlayOptions& options);

}  // namespace dermsim
