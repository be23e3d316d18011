// The per-epoch validation score training is given as a callback: a kNN on embeddings of a fixed
// subset of training images (the reference) scores the validation images; ROC AUC and pAUC.
#pragma once

#include "image/run_data.h"
#include "train/trainer.h"

namespace dermsim {

Validator make_knn_validator(const RunData& data, const TrainOptions& options,
                             const torch::Device& device);

}  // namespace dermsim
