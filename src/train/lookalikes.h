// Mining benign look-alikes across the whole training set, not only inside a batch: at the start
// of every epoch after the first, every training image is embedded with the shipped network and
// each melanoma's nearest benign images are listed; the epoch's batches then swap a share of their
// benign entries for look-alikes of the melanomas in the same batch. (Batch-hard triplets, which
// can only pick look-alikes among the 32 benign images a batch happens to hold, collapsed; see
// docs/isic-levers.md.)
//
// Determinism: the table is a function of the weights at an epoch boundary, which is where a
// training resumes, and the swap of step s is a pure function of (seed, s, table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/embeddings.h"

namespace dermsim {

struct LookalikeTable {
  // Per sampler index: its `neighbours` nearest benign sampler indices, nearest first, for a
  // malignant image; empty for a benign one.
  std::vector<std::vector<size_t>> nearest_benign;
};

// `embeddings` has one row per sampler index, `labels` 0 (benign) / 1 (malignant).
LookalikeTable find_lookalikes(const Embeddings& embeddings, const std::vector<int>& labels,
                               int neighbours);

// `batch` as BalancedBatchSampler::batch gives it (K benign, then K malignant). Benign entry j, for
// j < round(fraction * K), becomes one of the look-alikes of malignant entry j, drawn from its list
// by (seed, step). An empty table (the first epoch) leaves the batch as it is.
std::vector<size_t> mix_in_lookalikes(std::vector<size_t> batch, const LookalikeTable& table,
                                      double fraction, uint64_t seed, long step);

}  // namespace dermsim
