// Arithmetic precision of the network's forward pass: fp32 (default) or bf16 autocast, where
// convolutions and matrix products run in bfloat16 (the CPU's avx512_bf16 / a GPU's tensor cores)
// and everything autocast keeps in fp32 stays there. Weights, gradients and the optimiser stay fp32.
#pragma once

#include <torch/torch.h>

#include <string>

#include "model/embedding_net.h"

namespace dermsim {

enum class Precision { kFloat32, kBFloat16 };

// "fp32" | "bf16"; UserError naming --precision otherwise.
Precision parse_precision(const std::string& name);
std::string precision_name(Precision precision);

// Turns autocast on for `device`'s type while it lives (nothing for fp32) and restores the
// previous state after; autocast's cast cache is cleared on exit, as torch.autocast does.
class AutocastGuard {
 public:
  AutocastGuard(Precision precision, const torch::Device& device);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool enabled_ = false;
  torch::DeviceType device_type_ = torch::kCPU;
  bool previous_enabled_ = false;
  torch::ScalarType previous_dtype_ = torch::kFloat;
};

// net->forward(images) at `precision`, embeddings returned as fp32 so that losses and distances
// are computed at full precision. The one forward pass used by training and inference.
torch::Tensor embed_forward(EmbeddingNet& net, const torch::Tensor& images, Precision precision);

}  // namespace dermsim
