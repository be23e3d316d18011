// What training keeps after every epoch: checkpoint-last (live weights, optimiser, average: what a
// resume needs), checkpoint-best (the shipped weights, by --select: every epoch for "final", when
// validation AUC improved for "best-val") and the training log, all written atomically; one line
// on the terminal. The one place
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
struct TrainingSetup;
struct ValidationScore;

class EpochRecorder {
 public:
  EpochRecorder(RunDir run, MadeFrom made_from) : run_(std::move(run)), made_from_(std::move(made_from)) {}

  // Appends the epoch to progress.history, updates the best score, writes the files. Returns
  // whether this epoch is the best so far.
  bool record(int epoch, TrainingSetup& setup, const EpochStats& stats, const ValidationScore& score,
              double images_per_second);

 private:
  RunDir run_;
  MadeFrom made_from_;
};

}  // namespace dermsim
