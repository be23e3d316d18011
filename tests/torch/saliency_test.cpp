// Tests of Grad-CAM (against finite differences and a by-hand map), the PNG encoder (round trip
// through the decoder) and the overlay's layout.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include <unistd.h>

#include "common/atomic_file.h"
#include "image/decode.h"
#include "image/encode.h"
#include "model/saliency.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;

EmbeddingScore dot_score(const torch::Tensor& direction) {
  return [direction](const torch::Tensor& e) { return (e[0] * direction.to(e.scalar_type())).sum(); };
}

// Weights by central finite differences (d score / d eps of A_c + eps, i.e. the spatial *sum* of the
// gradient) and the map by explicit loops: no autograd, no shared code with grad_cam beyond the net.
TEST(GradCam, MatchesFiniteDifferencesAndHandComputedMap) {
  torch::manual_seed(3);
  auto net = make_embedding_net({"small", 16});
  net->to(torch::kDouble);
  net->eval();
  auto image = torch::randn({1, 3, 128, 128}, torch::kDouble);
  auto direction = torch::randn({16}, torch::kDouble);
  const EmbeddingScore score = dot_score(direction);
  GradCam cam = grad_cam(net, image, score);

  torch::NoGradGuard no_grad;
  torch::Tensor a = net->feature_map(image);
  const int64_t channels = a.size(1), h = a.size(2), w = a.size(3);
  ASSERT_EQ(channels, net->feature_dim());
  ASSERT_EQ(h, 4);
  EXPECT_NEAR(cam.score, score(net->forward(image)).item<double>(), 1e-12);

  const double eps = 1e-5;
  std::vector<double> weights(channels);
  for (int64_t c = 0; c < channels; ++c) {
    torch::Tensor bump = torch::zeros_like(a);
    bump[0][c].fill_(eps);
    const double up = score(net->embed_feature_map(a + bump)).item<double>();
    const double down = score(net->embed_feature_map(a - bump)).item<double>();
    weights[c] = (up - down) / (2 * eps) / static_cast<double>(h * w);
  }
  ASSERT_EQ(cam.weights.numel(), channels);
  auto got_w = cam.weights.accessor<double, 1>();
  double scale = 0;
  for (double v : weights) scale = std::max(scale, std::abs(v));
  for (int64_t c = 0; c < channels; ++c) EXPECT_NEAR(got_w[c], weights[c], 1e-6 * scale) << "channel " << c;

  auto act = a.accessor<double, 4>();
  auto raw = cam.raw.accessor<double, 2>();
  ASSERT_EQ(cam.raw.size(0), h);
  double hi = -1;
  int64_t hi_y = 0, hi_x = 0;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      double sum = 0;
      for (int64_t c = 0; c < channels; ++c) sum += weights[c] * act[0][c][y][x];
      const double expected = std::max(0.0, sum);
      EXPECT_NEAR(raw[y][x], expected, 1e-5 * (1 + std::abs(expected))) << y << "," << x;
      if (expected > hi) hi = expected, hi_y = y, hi_x = x;
    }
  ASSERT_GT(hi, 0) << "this seed should give some positive evidence";

  // Upsampled map: image-sized, in [0, 1], and ~1 at the centre of the strongest cell (bilinear,
  // half-pixel centres: pixel 16 of a 32-pixel cell takes ~98 % from its own cell).
  ASSERT_EQ(cam.map.sizes(), (std::vector<int64_t>{128, 128}));
  EXPECT_NEAR(cam.map.min().item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(cam.map.max().item<double>(), 1.0, 1e-6);
  EXPECT_GT(cam.map[hi_y * 32 + 16][hi_x * 32 + 16].item<double>(), 0.98);
}

// No occlusion-localisation test: measured on 12 randomly initialised small nets (128 px, 4 x 4
// map, 32 px cells zeroed), occluding the hottest cell lowered a random-direction score *less* on
// average than occluding the coldest (mean drop -0.002 vs 0.021; hot larger in 4 of 12). With
// untrained weights every cell's receptive field covers most of the image, so that check was noise.

TEST(EncodePng, RoundTripsThroughTheDecoderExactly) {
  const int width = 37, height = 23;  // odd width: rows are not 4-byte aligned
  std::mt19937 rng(7);
  std::vector<uint8_t> pixels(width * height * 3);
  for (auto& p : pixels) p = static_cast<uint8_t>(rng());
  const std::string bytes = encode_png(pixels.data(), width, height);
  ASSERT_EQ(bytes.substr(1, 3), "PNG");
  const fs::path path = fs::temp_directory_path() / ("dermsim_png_test_" + std::to_string(::getpid()) + ".png");
  write_file_atomic(path.string(), bytes);
  RgbImage back = decode_image_file(path.string(), 0);
  fs::remove(path);
  EXPECT_EQ(back.width, width);
  EXPECT_EQ(back.height, height);
  EXPECT_EQ(back.pixels, pixels);
}

TEST(SaliencyOverlay, LayoutAndBlending) {
  RgbImage image;
  image.width = image.height = 64;
  std::mt19937 rng(9);
  for (int i = 0; i < 64 * 64 * 3; ++i) image.pixels.push_back(static_cast<uint8_t>(rng()));
  torch::Tensor map = torch::zeros({4, 4});
  map[0][0] = 1.0;  // hot top-left cell, cold elsewhere

  OverlayOptions options;
  options.display_size = 64;
  options.gap = 8;
  RgbImage both = saliency_overlay(image, map, options);
  ASSERT_EQ(both.width, 64 * 2 + 8);
  ASSERT_EQ(both.height, 64);
  ASSERT_EQ(both.pixels.size(), static_cast<size_t>(both.width) * both.height * 3);
  auto at = [&](int x, int y, int c) { return both.pixels[(static_cast<size_t>(y) * both.width + x) * 3 + c]; };
  for (int y = 0; y < 64; ++y)  // left panel: the original, untouched at the same size
    for (int x = 0; x < 64; ++x)
      for (int c = 0; c < 3; ++c) ASSERT_EQ(at(x, y, c), image.pixels[(y * 64 + x) * 3 + c]);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(at(66, 10, c), 255) << "gap is white";

  options.alpha = 1.0;  // pure heat colour: red-ish at the hot corner, blue-ish at the far corner
  RgbImage heat = saliency_overlay(image, map, options);
  auto px = [&](int x, int y, int c) { return heat.pixels[(static_cast<size_t>(y) * heat.width + x) * 3 + c]; };
  EXPECT_GT(px(72, 0, 0), px(72, 0, 2));
  EXPECT_GT(px(72 + 63, 63, 2), px(72 + 63, 63, 0));

  options.side_by_side = false;
  options.display_size = 100;
  RgbImage single = saliency_overlay(image, map, options);
  EXPECT_EQ(single.width, 100);
  EXPECT_EQ(single.height, 100);
  options.alpha = 0.0;
  options.display_size = 64;
  EXPECT_EQ(saliency_overlay(image, map, options).pixels, image.pixels) << "alpha 0 is the image";
}

}  // namespace
}  // namespace dermsim
