// Class-balanced P x K batches for Siamese training, each batch a pure function of (seed, step)
// so that a killed run resumes with exactly the batches it would have seen.
//
// How batches are drawn (labels: 0 = benign, the majority; 1 = malignant, the minority):
// - An epoch is one pass over the benign images in use. Each epoch e takes a fresh seeded
//   permutation of all benign images and uses its first n_used = round(benign_fraction * n_benign)
//   (at least 1), so undersampling sees a different benign subset every epoch.
//   steps_per_epoch = ceil(n_used / K).
// - Step s belongs to epoch s / steps_per_epoch; its K benign entries are the next K of that
//   epoch's permutation. The epoch's last batch, when n_used is not a multiple of K, is filled up
//   from the start of the same permutation: within an epoch every used benign image appears once,
//   plus those fillers.
// - Malignant images are drawn as consecutive shuffled passes over the whole minority class,
//   counted globally across epochs (pass p has its own seeded permutation): every malignant image
//   appears once per pass before any appears again, so counts never differ by more than one.
//   With fewer than K malignant images, or at a pass boundary, one batch can hold the same
//   malignant image twice: two augmentations of one lesion, a positive pair like any other.
// - A batch lists its K benign entries first, then its K malignant ones.
// Nothing is cached between calls: batch(s) costs one permutation of each class (~0.1 ms at ISIC
// size), which is noise next to a training step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dermsim {

struct SamplerOptions {
  int classes_per_batch = 2;  // P; only 2 (benign + malignant) is supported
  int images_per_class = 32;  // K
  double benign_fraction_per_epoch = 1.0;  // < 1 undersamples benign (training only)
  uint64_t seed = 0;
};

class BalancedBatchSampler {
 public:
  // labels: one per TRAIN image, 0 (benign) or 1 (malignant); both classes must be present.
  // Throws UserError for an unsupported option or label.
  BalancedBatchSampler(std::vector<int> labels, SamplerOptions options);

  // Indices into the labels given to the sampler: K benign, then K malignant.
  std::vector<size_t> batch(long step) const;

  long steps_per_epoch() const { return steps_per_epoch_; }
  size_t benign_used_per_epoch() const { return benign_used_; }
  size_t benign_count() const { return benign_.size(); }
  size_t malignant_count() const { return malignant_.size(); }
  const SamplerOptions& options() const { return options_; }

 private:
  std::vector<size_t> benign_permutation(long epoch) const;
  std::vector<size_t> malignant_permutation(long pass) const;

  SamplerOptions options_;
  std::vector<size_t> benign_;     // label indices of class 0, ascending
  std::vector<size_t> malignant_;  // label indices of class 1, ascending
  size_t benign_used_ = 0;
  long steps_per_epoch_ = 0;
};

// The positions in every batch(step) that `rank` of `world_size` data-parallel ranks trains on: its
// share of the benign half and the same share of the malignant half, so each rank's part is as
// balanced as the whole. Throws UserError unless world_size divides images_per_class.
std::vector<size_t> rank_positions(int images_per_class, int rank, int world_size);

}  // namespace dermsim
