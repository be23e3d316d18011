// Non-trivial batch-norm statistics and affine parameters for tests that compare networks: with
// the initial ones (mean 0, var 1, gamma 1, beta 0) a skipped or misapplied batch norm would not show.
#pragma once

#include <torch/torch.h>

#include "model/embedding_net.h"

namespace dermsim::testing {

inline void randomise_batch_norm(EmbeddingNet& net) {
  torch::NoGradGuard no_grad;
  for (auto& module : net->modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      bn->running_mean.copy_(torch::randn_like(bn->running_mean) * 0.1);
      bn->running_var.copy_(torch::rand_like(bn->running_var) + 0.5);
      bn->weight.copy_(torch::rand_like(bn->weight) + 0.5);
      bn->bias.copy_(torch::randn_like(bn->bias) * 0.1);
    }
  }
}

}  // namespace dermsim::testing
