// The one way a training batch is made, shared by the trainer and the benchmarks: sample P x K
// images (a pure function of seed and step), gather their pixels from the cache, augment where the
// model runs, normalise.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "augment/augment.h"
#include "image/cache.h"
#include "model/embed.h"
#include "train/batch_loader.h"
#include "train/lookalikes.h"
#include "train/sampler.h"

namespace dermsim {

struct BatchSource {
  const ImageCache* cache = nullptr;
  std::vector<size_t> rows;  // cache row of each image the sampler indexes
  std::vector<int> labels;   // label of each, as given to the sampler
  const BalancedBatchSampler* sampler = nullptr;
  // Look-alikes swapped into the sampler's batches (none when null or empty); unchanged while a
  // loader reads from this source.
  const LookalikeTable* lookalikes = nullptr;
  double lookalike_fraction = 0;
  AugmentOptions augment;
  uint64_t seed = 0;  // augmentation of step s uses derive_seed(seed, s)
  std::vector<size_t> positions;  // this rank's share of each batch (rank_positions); empty: all
  Normalisation normalisation;
  torch::Device device{torch::kCPU};
  bool channels_last = true;
};

TrainingBatch make_training_batch(const BatchSource& source, long step);

}  // namespace dermsim
