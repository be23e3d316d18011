#include "train/lookalikes.h"

#include <cmath>
#include <stdexcept>

#include "augment/counter_rng.h"
#include "classify/neighbours.h"

namespace dermsim {
namespace {

constexpr uint64_t kLookalikeStream = 0x1A;  // independent of the sampler's and augmentation's

Embeddings rows_of(const Embeddings& all, const std::vector<size_t>& rows) {
  Embeddings picked;
  picked.dim = all.dim;
  picked.values.reserve(rows.size() * size_t(all.dim));
  for (size_t r : rows)
    picked.values.insert(picked.values.end(), all.row(r), all.row(r) + all.dim);
  return picked;
}

}  // namespace

LookalikeTable find_lookalikes(const Embeddings& embeddings, const std::vector<int>& labels,
                               int neighbours) {
  if (embeddings.size() != labels.size())
    throw std::invalid_argument("find_lookalikes: one embedding per label");
  std::vector<size_t> benign, malignant;
  for (size_t i = 0; i < labels.size(); ++i) (labels[i] == 1 ? malignant : benign).push_back(i);
  const auto nearest = nearest_neighbours_batch(rows_of(embeddings, benign),
                                                rows_of(embeddings, malignant), neighbours);
  LookalikeTable table;
  table.nearest_benign.resize(labels.size());
  for (size_t m = 0; m < malignant.size(); ++m)
    for (const Neighbour& n : nearest[m])
      table.nearest_benign[malignant[m]].push_back(benign[n.index]);
  return table;
}

std::vector<size_t> mix_in_lookalikes(std::vector<size_t> batch, const LookalikeTable& table,
                                      double fraction, uint64_t seed, long step) {
  if (table.nearest_benign.empty()) return batch;
  const size_t k = batch.size() / 2;
  const size_t swapped = static_cast<size_t>(std::lround(fraction * double(k)));
  CounterRng rng(derive_seed(seed, uint64_t(step), 0, kLookalikeStream));
  for (size_t j = 0; j < swapped && j < k; ++j) {
    const std::vector<size_t>& lookalikes = table.nearest_benign.at(batch[k + j]);
    if (!lookalikes.empty()) batch[j] = lookalikes[static_cast<size_t>(rng.below(lookalikes.size()))];
  }
  return batch;
}

}  // namespace dermsim
