// k-fold training of a run prepared with `prepare --folds K`: fold k trains on the other folds and
// validates (and chooses its classifier and threshold) on fold k, into RUN/folds/k/, all folds
// reading the run's one split.csv and cache.bin. RUN/folds/train.json holds the options every fold
// shares, so `train --resume` continues the unfinished fold with them and skips finished ones.
#pragma once

#include <string>
#include <vector>

#include "image/run_data.h"
#include "train/training_setup.h"

namespace dermsim {

struct FoldTraining {
  int folds = 0;
  TrainRequest fold_request;  // what start_training gets for each fold (on as_fold(data, k))
  std::vector<std::string> notes;
};

// Hold the run's lock. Fresh (`request.resume` false, or nothing to resume): refuses a run without
// folds or options that cannot train, sets the earlier training aside and writes
// RUN/folds/train.json. Resuming: reads it (refused when stale, or when an explicit flag would
// change a result, naming it); --threads and --device may change.
FoldTraining start_fold_training(const RunData& data, const TrainRequest& request);

// Whether `fold` (as_fold) finished training and holds a model.json of its own shipped
// checkpoint, so a resume skips it. A checkpoint of another split or fold is refused (UserError).
bool fold_is_trained(const RunData& fold);

}  // namespace dermsim
