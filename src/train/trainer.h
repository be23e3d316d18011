// Siamese training of the embedding network on class-balanced P x K batches. Each image is embedded
// once and the loss uses every pair (or triplet) inside the batch. Free functions in the style of
// pytorch/examples: one epoch's steps (train_epoch), validation passed in as a callback, and what
// is kept after each epoch (checkpoints, log) left to an EpochRecorder.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <string>

#include "model/embedding_net.h"
#include "train/batch_loader.h"
#include "train/checkpoint.h"
#include "train/epoch_recorder.h"
#include "train/train_options.h"
#include "train/training_setup.h"

namespace dermsim {

class ProgressBar;
class ProcessGroup;

struct TrainSchedule {
  long steps_per_epoch = 1;
  long total_steps = 1;
};

// Linear warm-up, then cosine decay to 1 % of the peak: a pure function of the step, so a resumed
// run needs no scheduler state.
double learning_rate_at(long step, const TrainSchedule& schedule, const TrainOptions& options);

std::unique_ptr<torch::optim::Optimizer> make_optimizer(EmbeddingNet& net, const TrainOptions& options);

// What the loss reads from the network for one batch. Everything that depends on the weights is
// computed here, so data-parallel ranks can gather these rows and take the global batch's loss.
struct BatchOutputs {
  torch::Tensor embeddings;  // N x embed_dim
  torch::Tensor logits;      // N; undefined unless a BCE head trains (--loss bce, --head-weight)
  torch::Tensor labels;      // N, int64
};
BatchOutputs forward_batch(EmbeddingNet& net, const TrainingBatch& batch,
                           const TrainOptions& options);

// Every rank's rows in rank order, so the loss sees the pairs of the whole global batch (as
// SimCLR/SupCon implementations gather); the gradient flows back into this rank's rows only.
BatchOutputs gather_outputs(ProcessGroup& group, const BatchOutputs& local);

// The training loss of one batch: contrastive, triplet, supcon or BCE (+ a joint BCE head).
torch::Tensor training_loss(const BatchOutputs& outputs, const TrainOptions& options);

struct EpochStats {
  double mean_loss = 0;
  long steps = 0;
  double seconds = 0;
  double learning_rate = 0;  // at the last step
};

// Steps from progress.step up to the end of its epoch (or end_step, if sooner), batches from
// `loader`; a non-empty `average` is updated after every step (see weight_average.h). Throws
// UserError on a non-finite loss (the last checkpoint on disk stays good). With a process `group`,
// the loader gives this rank's share of each batch, the loss is that of the global batch, and
// gradients are summed over the ranks before the optimizer steps.
EpochStats train_epoch(EmbeddingNet& net, torch::optim::Optimizer& optimizer, BatchLoader& loader,
                       TrainingProgress& progress, long end_step, const TrainSchedule& schedule,
                       const TrainOptions& options, ProgressBar* bar,
                       EmbeddingNet average = EmbeddingNet(nullptr), ProcessGroup* group = nullptr);

// Scores the network on held-out images after each epoch (higher AUC = better).
struct ValidationScore {
  double auc = NAN, pauc = NAN;
};
using Validator = std::function<ValidationScore(EmbeddingNet&)>;

struct TrainSummary {
  long steps = 0;
  int epochs = 0;
  bool finished = false;  // all the schedule's steps done (not stopped early)
  double best_val_auc = 0;
  int best_epoch = 0;
  double seconds = 0;
  double images_per_second = 0;
  double data_wait_fraction = 0;  // share of the training time spent waiting for batches
  double communication_fraction = 0;  // share of the step time spent in collectives (data-parallel)
};

// Optimiser steps of the whole training of `data` with `options` (steps per epoch x epochs).
long total_training_steps(const RunData& data, const TrainOptions& options);

// Trains `setup` (see training_setup.h) to its end, or for stop_after_steps more steps (tests, as
// if killed), validating and recording after every epoch. With a process `group` (data-parallel
// training) rank 0 broadcasts its weights first, batch-norm statistics are averaged over the ranks
// before each validation, and only rank 0 validates, records and shows progress.
TrainSummary train_embedding_net(const RunData& data, TrainingSetup& setup, const Validator& validate,
                                 EpochRecorder& recorder, ProcessGroup* group = nullptr,
                                 long stop_after_steps = 0);

}  // namespace dermsim
