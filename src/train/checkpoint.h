// Checkpoints: model, optimiser and training progress in one file, written atomically. Sampling and
// augmentation are pure functions of (seed, step), so (weights, optimiser, step) is the whole state
// needed to resume a run bit for bit.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>

#include "common/run_dir.h"
#include "model/embedding_net.h"
#include "train/train_options.h"

namespace dermsim {

struct TrainingProgress {
  long step = 0;                             // optimiser steps done
  double best_score = -1;                    // best validation AUC so far
  long best_step = -1;
  nlohmann::json history = nlohmann::json::array();  // one object per finished epoch
};

void save_checkpoint(const std::string& path, EmbeddingNet& net, torch::optim::Optimizer& optimizer,
                     const TrainingProgress& progress, const TrainOptions& options);

// Loads weights (and the optimiser state when `optimizer` is given). Throws UserError naming the
// file when it is missing or unreadable.
TrainingProgress load_checkpoint(const std::string& path, EmbeddingNet& net,
                                 torch::optim::Optimizer* optimizer);

// The trained network of a run ("best" by validation AUC, or "last"), on `device`, in eval mode.
EmbeddingNet load_trained_net(const RunDir& run, const std::string& which,
                              const torch::Device& device, TrainOptions* options_out = nullptr);

// The same architecture with its initial (untrained) weights: the floor every result is shown beside.
EmbeddingNet make_untrained_net(const TrainOptions& options, const torch::Device& device);

}  // namespace dermsim
