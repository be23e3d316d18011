// What training keeps after every epoch: checkpoint-last, checkpoint-best when validation AUC
// improved, and the training log, all written atomically; one line on the terminal. The one place
// that writes training's files, so a distributed run can let only rank 0 record.
#pragma once

#include <torch/torch.h>

#include "common/provenance.h"
#include "common/run_dir.h"
#include "model/embedding_net.h"
#include "train/checkpoint.h"
#include "train/train_options.h"

namespace dermsim {

struct EpochStats;
struct ValidationScore;

class EpochRecorder {
 public:
  EpochRecorder(RunDir run, MadeFrom made_from) : run_(std::move(run)), made_from_(std::move(made_from)) {}

  // Appends the epoch to progress.history, updates the best score, writes the files. Returns
  // whether this epoch is the best so far.
  bool record(int epoch, EmbeddingNet& net, torch::optim::Optimizer& optimizer,
              TrainingProgress& progress, const TrainOptions& options, const EpochStats& stats,
              const ValidationScore& score, double images_per_second);

 private:
  RunDir run_;
  MadeFrom made_from_;
};

}  // namespace dermsim
