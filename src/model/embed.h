// Images in, L2-normalised embeddings out: the one path every command uses to embed images (training's
// validation, evaluate, predict, similar, embed, explain), with optional test-time augmentation.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

#include "common/embeddings.h"
#include "model/embedding_net.h"
#include "model/precision.h"

namespace dermsim {

// Per-channel mean/std of the training images, in [0,1] units (RUN/manifest.json "normalisation").
struct Normalisation {
  std::array<double, 3> mean{0.5, 0.5, 0.5};
  std::array<double, 3> std{0.25, 0.25, 0.25};
};

struct EmbedOptions {
  int batch_size = 64;
  int tta = 1;  // 1 = none; up to 8 dihedral variants (flips, transposes), embeddings averaged
  bool channels_last = true;
  Precision precision = Precision::kFloat32;
  bool show_progress = false;
};

struct EmbedResult {
  Embeddings embeddings;
  std::vector<double> head_logits;  // the joint classification head's logit for each image
};

// `images` are uint8 HWC RGB squares of side `image_size` (as stored in the image cache).
EmbedResult embed_images(EmbeddingNet& net, const std::vector<const uint8_t*>& images,
                         int image_size, const Normalisation& normalisation,
                         const torch::Device& device, const EmbedOptions& options);

}  // namespace dermsim
