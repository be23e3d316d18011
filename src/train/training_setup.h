// Where a `train` call starts from: a fresh training (an earlier one is set aside first, so no file
// of the old network survives beside the new one) or a resumed one (its own options, refusing any
// explicitly changed option that would change the result).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "image/run_data.h"
#include "model/embedding_net.h"
#include "train/checkpoint.h"
#include "train/train_options.h"

namespace dermsim {

struct TrainRequest {
  TrainOptions options;
  std::vector<std::string> given;  // to_json keys the user set explicitly (e.g. "epochs")
  bool resume = false;
  // Data-parallel ranks other than 0 read the run and write nothing (rank 0 holds the lock).
  bool writes = true;
  int local_rank = 0;  // this rank's GPU on its host, when the device is CUDA without an index
  int ranks = 1;       // data-parallel ranks of this training (recorded in the options)
  std::string progress_label = "train";  // e.g. "fold 2/5" in a k-fold training
};

struct TrainingSetup {
  TrainOptions options;  // what this training runs with: the checkpoint's own when resuming
  torch::Device device{torch::kCPU};
  EmbeddingNet net{nullptr};
  EmbeddingNet average{nullptr};  // the weights' moving average, when options.ema_decay > 0
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  TrainingProgress progress;
  bool resumed = false;
  std::vector<std::string> notes;  // what the user should know (set aside to, thread count, ...)
  std::string progress_label = "train";

  // The network that is validated and shipped: the average when there is one.
  EmbeddingNet& shipped() { return average.is_empty() ? net : average; }
};

// Call while holding the run's lock. Throws UserError, before any training, for options that
// cannot train, a split without training images of both classes or without a validation part of
// both classes, and a resume with changed options (naming them). Writes RUN/train.json (when
// request.writes).
TrainingSetup start_training(const RunData& data, const TrainRequest& request);

}  // namespace dermsim
