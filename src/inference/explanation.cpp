#include "inference/explanation.h"

#include <algorithm>

#include "augment/augment.h"
#include "classify/prototype.h"
#include "common/error.h"

namespace dermsim {

SaliencyScore saliency_score(const LoadedModel& model, const ReferenceIndex& reference,
                             const std::string& kind) {
  const std::string chosen = kind == "auto" ? (model.has_head() ? "head" : "prototype") : kind;
  if (chosen == "head") {
    if (!model.has_head())
      throw UserError("--score head: this run trained no classification head (loss " + model.options.loss +
                      ", head_weight 0); use --score prototype");
    EmbeddingNet net = model.net;
    return {head_logit_score(net), "joint head logit"};
  }
  const auto& y = reference.labels;
  if (std::count(y.begin(), y.end(), 1) == 0 || std::count(y.begin(), y.end(), 0) == 0)
    throw UserError("the reference set needs benign and malignant images for the class prototypes");
  PrototypeClassifier prototypes;  // the same class means the prototype classifier fits
  prototypes.fit(reference.embeddings, y);
  auto as_tensor = [](const std::vector<double>& mean) {
    return torch::tensor(mean, torch::kDouble).to(torch::kFloat);
  };
  return {prototype_score(as_tensor(prototypes.prototype(0)), as_tensor(prototypes.prototype(1))),
          "prototype score |e - mu_benign|^2 - |e - mu_malignant|^2"};
}

GradCam explain_image(const LoadedModel& model, const RgbImage& image, const EmbeddingScore& score) {
  const uint8_t* pixels = image.pixels.data();
  torch::Tensor input = normalize(to_float_batch(&pixels, 1, image.height, image.width).to(model.device),
                                  model.normalisation.mean, model.normalisation.std);
  if (model.options.channels_last) input = input.contiguous(torch::MemoryFormat::ChannelsLast);
  EmbeddingNet net = model.net;
  return grad_cam(net, input, score);
}

}  // namespace dermsim
