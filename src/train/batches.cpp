#include "train/batches.h"

#include "augment/counter_rng.h"

namespace dermsim {

TrainingBatch make_training_batch(const BatchSource& source, long step) {
  std::vector<size_t> sampled = source.sampler->batch(step);
  if (source.lookalikes)
    sampled = mix_in_lookalikes(std::move(sampled), *source.lookalikes, source.lookalike_fraction,
                                source.seed, step);
  std::vector<size_t> picks;
  for (size_t p : source.positions) picks.push_back(sampled.at(p));
  if (source.positions.empty()) picks = sampled;
  std::vector<const uint8_t*> pixels;
  std::vector<int64_t> labels;
  for (size_t p : picks) {
    pixels.push_back(source.cache->image(source.rows[p]));
    labels.push_back(source.labels[p]);
  }
  const int size = source.cache->image_size();
  torch::Tensor images = to_float_batch(pixels.data(), static_cast<int>(pixels.size()), size, size);
  if (source.device.is_cuda()) images = images.to(source.device);  // augment where the model runs
  images = augment_batch(images, source.augment,
                         derive_seed(source.seed, static_cast<uint64_t>(step)), source.positions);
  images = normalize(images, source.normalisation.mean, source.normalisation.std);
  if (source.channels_last) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
  TrainingBatch batch;
  batch.step = step;
  batch.images = images.to(source.device);
  batch.labels = torch::tensor(labels, torch::kLong).to(source.device);
  return batch;
}

}  // namespace dermsim
