// Siamese training of the embedding network on class-balanced P x K batches. Each image is embedded
// once and the loss uses every pair (or triplet) inside the batch. Validation AUC of a kNN on the
// embeddings after every epoch picks the best checkpoint.
#pragma once

#include <string>

#include "train/train_options.h"

namespace dermsim {

struct TrainSummary {
  long steps = 0;
  int epochs = 0;
  double best_val_auc = 0;
  int best_epoch = 0;
  double seconds = 0;
  double images_per_second = 0;
  double data_wait_fraction = 0;  // share of the training time spent waiting for batches
};

// Trains the run in `run_root` (prepared by `dermsim prepare`). With resume, continues from
// RUN/checkpoint-last.pt using the options saved in RUN/train.json; `options` is then ignored.
// stop_after_steps > 0 stops early (tests, benchmarks) as if killed after that many steps.
TrainSummary train_embedding_net(const std::string& run_root, const TrainOptions& options,
                                 bool resume, long stop_after_steps = 0);

}  // namespace dermsim
