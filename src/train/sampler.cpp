// BalancedBatchSampler: stateless P x K batch selection (see sampler.h for the scheme).
#include "train/sampler.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "augment/counter_rng.h"
#include "common/error.h"

namespace dermsim {
namespace {

// Purpose tags keep the benign and malignant streams independent under one seed.
constexpr uint64_t kBenignStream = 0xB0;
constexpr uint64_t kMalignantStream = 0xA1;

std::vector<size_t> seeded_permutation(size_t n, uint64_t key) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  CounterRng rng(key);
  rng.shuffle(order);
  return order;
}

}  // namespace

BalancedBatchSampler::BalancedBatchSampler(std::vector<int> labels, SamplerOptions options)
    : options_(options) {
  if (options.classes_per_batch != 2) {
    throw UserError("sampler: classes_per_batch is " + std::to_string(options.classes_per_batch) +
                    "; only 2 (benign + malignant) is supported");
  }
  if (options.images_per_class < 1) {
    throw UserError("sampler: images_per_class is " + std::to_string(options.images_per_class) +
                    "; it must be at least 1");
  }
  if (!(options.benign_fraction_per_epoch > 0.0 && options.benign_fraction_per_epoch <= 1.0)) {
    throw UserError("sampler: benign_fraction_per_epoch is " +
                    std::to_string(options.benign_fraction_per_epoch) + "; expected (0, 1]");
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == 0) {
      benign_.push_back(i);
    } else if (labels[i] == 1) {
      malignant_.push_back(i);
    } else {
      throw UserError("sampler: training label " + std::to_string(i) + " is " +
                      std::to_string(labels[i]) + "; expected 0 (benign) or 1 (malignant)");
    }
  }
  if (benign_.empty() || malignant_.empty()) {
    throw UserError("sampler: the training split has " + std::to_string(benign_.size()) +
                    " benign and " + std::to_string(malignant_.size()) +
                    " malignant images; balanced batches need at least one of each");
  }
  const double wanted = std::round(options.benign_fraction_per_epoch * double(benign_.size()));
  benign_used_ = std::max<size_t>(1, static_cast<size_t>(wanted));
  const size_t k = static_cast<size_t>(options.images_per_class);
  steps_per_epoch_ = static_cast<long>((benign_used_ + k - 1) / k);
}

std::vector<size_t> BalancedBatchSampler::benign_permutation(long epoch) const {
  return seeded_permutation(benign_.size(),
                            derive_seed(options_.seed, uint64_t(epoch), 0, kBenignStream));
}

std::vector<size_t> BalancedBatchSampler::malignant_permutation(long pass) const {
  return seeded_permutation(malignant_.size(),
                            derive_seed(options_.seed, uint64_t(pass), 0, kMalignantStream));
}

std::vector<size_t> BalancedBatchSampler::batch(long step) const {
  if (step < 0) throw std::out_of_range("BalancedBatchSampler::batch: negative step");
  const long k = options_.images_per_class;
  const long epoch = step / steps_per_epoch_;
  std::vector<size_t> indices;
  indices.reserve(size_t(2 * k));

  const std::vector<size_t> benign_order = benign_permutation(epoch);
  const long first_in_epoch = (step - epoch * steps_per_epoch_) * k;
  const long used = static_cast<long>(benign_used_);
  for (long j = 0; j < k; ++j)
    indices.push_back(benign_[benign_order[size_t((first_in_epoch + j) % used)]]);

  // Malignant draws are numbered globally; pass p covers draws [p*n, (p+1)*n).
  const long n = static_cast<long>(malignant_.size());
  std::map<long, std::vector<size_t>> orders;  // pass -> permutation, local to this call
  for (long j = 0; j < k; ++j) {
    const long draw = step * k + j;
    auto it = orders.find(draw / n);
    if (it == orders.end()) it = orders.emplace(draw / n, malignant_permutation(draw / n)).first;
    indices.push_back(malignant_[it->second[size_t(draw % n)]]);
  }
  return indices;
}

std::vector<size_t> rank_positions(int images_per_class, int rank, int world_size) {
  if (world_size < 1 || rank < 0 || rank >= world_size)
    throw std::out_of_range("rank_positions: rank outside the world");
  if (images_per_class % world_size != 0)
    throw UserError("--images-per-class " + std::to_string(images_per_class) + " with " +
                    std::to_string(world_size) + " ranks: each rank takes an equal share of each "
                    "class, so the ranks must divide it");
  const size_t k = static_cast<size_t>(images_per_class);
  const size_t share = k / static_cast<size_t>(world_size);
  std::vector<size_t> positions;
  for (size_t half : {size_t{0}, k})  // benign half, then malignant half
    for (size_t j = 0; j < share; ++j) positions.push_back(half + share * size_t(rank) + j);
  return positions;
}

}  // namespace dermsim
