#include "model/embed.h"

#include <algorithm>

#include "augment/augment.h"
#include "common/progress.h"

namespace dermsim {

EmbedResult embed_images(EmbeddingNet& net, const std::vector<const uint8_t*>& images,
                         int image_size, const Normalisation& normalisation,
                         const torch::Device& device, const EmbedOptions& options) {
  torch::NoGradGuard no_grad;
  // Only a module in training mode is switched: a server shares one eval-mode net between threads,
  // and the mode is never written while they run.
  if (net->is_training()) net->eval();
  EmbedResult result;
  const int tta = std::clamp(options.tta, 1, 8);
  std::unique_ptr<ProgressBar> progress;
  if (options.show_progress)
    progress = std::make_unique<ProgressBar>("embed", static_cast<long long>(images.size()), "img");
  for (size_t begin = 0; begin < images.size(); begin += options.batch_size) {
    const size_t end = std::min(images.size(), begin + options.batch_size);
    std::vector<const uint8_t*> chunk(images.begin() + begin, images.begin() + end);
    torch::Tensor batch = to_float_batch(chunk.data(), static_cast<int>(chunk.size()), image_size, image_size);
    batch = normalize(batch.to(device), normalisation.mean, normalisation.std);
    torch::Tensor sum;
    for (int variant = 0; variant < tta; ++variant) {
      torch::Tensor input = tta_variant(batch, variant);
      if (options.channels_last) input = input.contiguous(torch::MemoryFormat::ChannelsLast);
      torch::Tensor e = net->forward(input);
      sum = sum.defined() ? sum + e : e;
    }
    // The mean of unit vectors is shorter than one: renormalise so distances stay comparable.
    torch::Tensor embedding = torch::nn::functional::normalize(
        sum, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
    torch::Tensor logits = net->logit(embedding).reshape({-1}).to(torch::kCPU, torch::kDouble);
    embedding = embedding.to(torch::kCPU, torch::kFloat).contiguous();
    result.embeddings.dim = static_cast<int>(embedding.size(1));
    const float* e = embedding.data_ptr<float>();
    result.embeddings.values.insert(result.embeddings.values.end(), e, e + embedding.numel());
    const double* l = logits.data_ptr<double>();
    result.head_logits.insert(result.head_logits.end(), l, l + logits.numel());
    if (progress) progress->advance(static_cast<long long>(end - begin));
  }
  return result;
}

}  // namespace dermsim
