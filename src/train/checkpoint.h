// Checkpoints: model, optimiser, training progress, options and provenance in one file, written
// atomically. Sampling and augmentation are pure functions of (seed, step), so (weights, optimiser,
// step) is the whole state needed to resume a run bit for bit on the CPU at the same thread count.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>

#include "common/provenance.h"
#include "image/run_data.h"
#include "model/embedding_net.h"
#include "train/train_options.h"

namespace dermsim {

struct TrainingProgress {
  long step = 0;                             // optimiser steps done
  double best_score = -1;                    // best validation AUC so far
  long best_step = -1;
  nlohmann::json history = nlohmann::json::array();  // one object per finished epoch
};

// `made_from`: the identities of the split and cache the network was trained on. `net` is what
// inference loads; a non-empty `average` (the live run's moving average) is kept for a resume.
void save_checkpoint(const std::string& path, EmbeddingNet& net, torch::optim::Optimizer& optimizer,
                     const TrainingProgress& progress, const TrainOptions& options,
                     const MadeFrom& made_from, EmbeddingNet average = EmbeddingNet(nullptr));

// A checkpoint read back: its options, progress, the identity (content hash) of the file and the
// file's bytes, so that loading its weights does not read it again.
struct CheckpointInfo {
  std::string path;
  TrainOptions options;
  TrainingProgress progress;
  std::string identity;
  std::string bytes;
};

// Reads the checkpoint; it must have been trained on `inputs` (RunData::training_inputs()), else
// UserError naming the file. Then load_checkpoint_state loads the weights into `net` (built by the
// caller from info.options: see load_trained_net), the optimiser state when `optimizer` is given
// and the moving average when `average` is given and not empty.
CheckpointInfo read_checkpoint_info(const std::string& path, const MadeFrom& inputs);
void load_checkpoint_state(const CheckpointInfo& info, EmbeddingNet& net,
                           torch::optim::Optimizer* optimizer, EmbeddingNet* average = nullptr);

struct TrainedNet {
  EmbeddingNet net{nullptr};
  TrainOptions options;
  std::string checkpoint_id;  // what model.json and metrics record as made from
};

// The trained network of a run ("best": the weights chosen by --select, averaged when the run had
// --ema-decay; or "last": the live weights at the last epoch), on `device`, in eval mode.
TrainedNet load_trained_net(const RunData& data, const std::string& which, const torch::Device& device);

// The same architecture with its initial (untrained) weights: the floor every result is shown beside.
EmbeddingNet make_untrained_net(const TrainOptions& options, const torch::Device& device);

}  // namespace dermsim
