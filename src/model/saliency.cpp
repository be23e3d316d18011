// Grad-CAM and its overlay (see saliency.h). Gradients are taken w.r.t. a detached copy of the
// feature map, so the backward pass covers only pooling, projection and score: cheap, and
// independent of whether the backbone's parameters require gradients.
#include "model/saliency.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "image/resize.h"

namespace dermsim {
namespace {

namespace F = torch::nn::functional;

torch::Tensor upsample(const torch::Tensor& map2d, int64_t height, int64_t width) {
  return F::interpolate(map2d.unsqueeze(0).unsqueeze(0),
                        F::InterpolateFuncOptions()
                            .size(std::vector<int64_t>{height, width})
                            .mode(torch::kBilinear)
                            .align_corners(false))
      .squeeze(0)
      .squeeze(0);
}

// A "jet"-like colour map: blue (0) -> cyan -> green -> yellow -> red (1).
std::array<double, 3> heat_colour(double v) {
  auto ramp = [](double x) { return std::clamp(1.5 - std::abs(x), 0.0, 1.0); };
  return {ramp(4 * v - 3), ramp(4 * v - 2), ramp(4 * v - 1)};
}

}  // namespace

EmbeddingScore prototype_score(const torch::Tensor& mu_benign, const torch::Tensor& mu_malignant) {
  return [mu_benign, mu_malignant](const torch::Tensor& e) {
    auto b = mu_benign.to(e.device(), e.scalar_type());
    auto m = mu_malignant.to(e.device(), e.scalar_type());
    return ((e - b).pow(2).sum() - (e - m).pow(2).sum());
  };
}

EmbeddingScore head_logit_score(EmbeddingNet& net) {
  return [net](const torch::Tensor& e) mutable { return net->logit(e).sum(); };
}

GradCam grad_cam(EmbeddingNet& net, const torch::Tensor& image, const EmbeddingScore& score) {
  TORCH_CHECK(image.dim() == 4 && image.size(0) == 1, "grad_cam expects one 1 x 3 x H x W image, got ",
              image.sizes());
  if (net->is_training()) net->eval();  // never written on a shared eval-mode net (see embed.cpp)
  torch::Tensor activations;
  {
    torch::NoGradGuard no_grad;
    activations = net->feature_map(image);
  }
  torch::AutoGradMode enable_grad(true);
  activations = activations.detach().contiguous().requires_grad_(true);
  torch::Tensor s = score(net->embed_feature_map(activations));
  TORCH_CHECK(s.numel() == 1, "grad_cam: the score must be a scalar, got ", s.sizes());
  torch::Tensor gradient = torch::autograd::grad({s}, {activations})[0];

  GradCam out;
  out.score = s.item<double>();
  torch::NoGradGuard no_grad;
  torch::Tensor a = activations.detach()[0];  // C x h x w
  torch::Tensor weights = gradient[0].mean({1, 2});
  torch::Tensor raw = torch::relu((weights.view({-1, 1, 1}) * a).sum(0));
  out.raw_min = raw.min().item<double>();
  out.raw_max = raw.max().item<double>();
  torch::Tensor map = upsample(raw.to(torch::kFloat), image.size(2), image.size(3));
  // Bilinear interpolation of non-negative values is non-negative; normalise by the range.
  const double lo = map.min().item<double>(), hi = map.max().item<double>();
  map = hi > lo ? (map - lo) / (hi - lo) : torch::zeros_like(map);
  out.weights = weights.to(torch::kCPU);
  out.raw = raw.to(torch::kCPU);
  out.map = map.to(torch::kCPU).contiguous();
  return out;
}

RgbImage saliency_overlay(const RgbImage& image, const torch::Tensor& map, const OverlayOptions& options) {
  TORCH_CHECK(map.dim() == 2, "saliency_overlay expects an H x W map, got ", map.sizes());
  const int size = options.display_size;
  RgbImage panel = image.width == size && image.height == size ? image : resize_bilinear(image, size, size);
  torch::Tensor heat = upsample(map.to(torch::kCPU, torch::kFloat), size, size).clamp(0, 1).contiguous();
  const float* h = heat.data_ptr<float>();

  const int offset = options.side_by_side ? size + options.gap : 0;
  RgbImage out;
  out.width = offset + size;
  out.height = size;
  out.pixels.assign(static_cast<size_t>(out.width) * out.height * 3, 255);
  const double alpha = std::clamp(options.alpha, 0.0, 1.0);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const uint8_t* src = &panel.pixels[(static_cast<size_t>(y) * size + x) * 3];
      uint8_t* row = &out.pixels[static_cast<size_t>(y) * out.width * 3];
      if (options.side_by_side) std::copy(src, src + 3, row + x * 3);
      const auto colour = heat_colour(h[static_cast<size_t>(y) * size + x]);
      for (int c = 0; c < 3; ++c) {
        const double v = (1 - alpha) * src[c] + alpha * 255.0 * colour[c];
        row[(offset + x) * 3 + c] = static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 255.0)));
      }
    }
  }
  return out;
}

}  // namespace dermsim
