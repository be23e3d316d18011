// Tests for tensor augmentation: exact identities, geometry against torch's own index ops and
// interpolation, colour jitter formulas, determinism, and the test-time dihedral transforms.
#include "augment/augment.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dermsim {
namespace {

torch::Tensor random_images(int n, int size, uint64_t seed = 1) {
  torch::manual_seed(seed);
  return torch::rand({n, 3, size, size});
}

AugmentOptions everything_off() {
  AugmentOptions o;
  o.flips = false;
  o.transpose = false;
  o.max_rotation_degrees = 0;
  o.random_resized_crop = false;
  o.brightness = o.contrast = o.saturation = o.hue = 0;
  return o;
}

torch::Tensor interior(const torch::Tensor& x, int64_t margin) {
  const int64_t h = x.size(-2), w = x.size(-1);
  return x.slice(-2, margin, h - margin).slice(-1, margin, w - margin);
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

TEST(Augment, DisabledOrAllOffIsExactIdentity) {
  const torch::Tensor x = random_images(4, 20);
  AugmentOptions disabled;
  disabled.enabled = false;
  EXPECT_TRUE(torch::equal(augment_batch(x, disabled, 5), x));
  EXPECT_TRUE(torch::equal(augment_batch(x, everything_off(), 5), x));
}

TEST(Augment, FlipOnlyFlipsExactly) {
  const torch::Tensor x = random_images(16, 21);
  AugmentOptions o = everything_off();
  o.flips = true;
  const torch::Tensor y = augment_batch(x, o, 11);
  int horizontal = 0, vertical = 0;
  for (int i = 0; i < 16; ++i) {
    const AugmentParams p = sample_params(o, 11, i);
    torch::Tensor expected = x[i];
    if (p.flip_horizontal) expected = torch::flip(expected, {2}), ++horizontal;
    if (p.flip_vertical) expected = torch::flip(expected, {1}), ++vertical;
    EXPECT_TRUE(torch::equal(y[i], expected)) << "image " << i;
    EXPECT_FALSE(p.transpose);
  }
  EXPECT_GT(horizontal, 0);
  EXPECT_LT(horizontal, 16);
  EXPECT_GT(vertical, 0);
  EXPECT_LT(vertical, 16);
}

TEST(Augment, ResampledDihedralMatchesExactPath) {
  // The affine matrix for flips/transpose must describe the same map as the exact index path.
  const torch::Tensor x = random_images(8, 17);
  std::vector<AugmentParams> params(8);
  for (int v = 0; v < 8; ++v) {
    params[size_t(v)].flip_horizontal = v & 1;
    params[size_t(v)].flip_vertical = v & 2;
    params[size_t(v)].transpose = v & 4;
  }
  const torch::Tensor exact = apply_params(x, params);
  const torch::Tensor sampled = resample(x, params);
  EXPECT_LT(max_abs_diff(exact, sampled), 1e-5);
  for (int v = 0; v < 8; ++v)
    EXPECT_TRUE(torch::equal(exact[v], TestTimeAugmentation::variant(x[v], v))) << v;
}

TEST(Augment, RotationBy90MatchesRot90) {
  const torch::Tensor x = random_images(2, 24);
  std::vector<AugmentParams> params(2);
  params[0].rotation_degrees = 90;
  params[1].rotation_degrees = -90;
  const torch::Tensor y = apply_params(x, params);
  EXPECT_LT(max_abs_diff(interior(y[0], 1), interior(torch::rot90(x[0], 1, {1, 2}), 1)), 1e-5);
  EXPECT_LT(max_abs_diff(interior(y[1], 1), interior(torch::rot90(x[1], -1, {1, 2}), 1)), 1e-5);
}

TEST(Augment, RotationComposesAfterTheDihedralPart) {
  // input = D * R * output: the picture is first transformed by D, then rotated.
  const torch::Tensor x = random_images(8, 16);
  std::vector<AugmentParams> params(8);
  for (int v = 0; v < 8; ++v) {
    params[size_t(v)].flip_horizontal = v & 1;
    params[size_t(v)].flip_vertical = v & 2;
    params[size_t(v)].transpose = v & 4;
    params[size_t(v)].rotation_degrees = 90;
  }
  const torch::Tensor y = apply_params(x, params);
  for (int v = 0; v < 8; ++v) {
    const torch::Tensor expected = torch::rot90(TestTimeAugmentation::variant(x[v], v), 1, {1, 2});
    EXPECT_LT(max_abs_diff(interior(y[v], 1), interior(expected, 1)), 1e-5) << v;
  }
}

TEST(Augment, CropOfAQuadrantIsABilinearUpsampling) {
  // A half-size crop centred on the bottom-right quadrant, against torch's own bilinear resize
  // (which clamps at the border where grid_sample reflects, so only the interior is compared).
  const torch::Tensor x = random_images(1, 32);
  std::vector<AugmentParams> params(1);
  params[0].crop_width = params[0].crop_height = 0.5;
  params[0].crop_center_x = params[0].crop_center_y = 0.5;
  const torch::Tensor y = apply_params(x, params);
  const torch::Tensor quadrant = x.slice(2, 16, 32).slice(3, 16, 32);
  const torch::Tensor expected = torch::nn::functional::interpolate(
      quadrant, torch::nn::functional::InterpolateFuncOptions()
                    .size(std::vector<int64_t>{32, 32})
                    .mode(torch::kBilinear)
                    .align_corners(false));
  EXPECT_LT(max_abs_diff(interior(y, 1), interior(expected, 1)), 1e-5);
}

TEST(Augment, ZeroColourStrengthsAreIdentity) {
  const torch::Tensor x = random_images(4, 12);
  AugmentOptions o = everything_off();
  o.flips = true;  // geometry on, colour off: still an exact permutation of the input's values
  const torch::Tensor y = augment_batch(x, o, 3);
  EXPECT_TRUE(torch::equal(std::get<0>(y.flatten().sort()), std::get<0>(x.flatten().sort())));
}

TEST(Augment, BrightnessScalesThenClamps) {
  const torch::Tensor x = random_images(1, 10);
  std::vector<AugmentParams> params(1);
  params[0].brightness = 1.7;
  const torch::Tensor y = jitter_colour(x, params);
  EXPECT_LT(max_abs_diff(y, (x * 1.7).clamp(0, 1)), 1e-6);
  EXPECT_GT((x * 1.7 > 1).sum().item<int64_t>(), 0);  // the clamp was exercised
}

TEST(Augment, ContrastAndSaturationFollowTheirBlends) {
  const torch::Tensor x = random_images(1, 10);
  const torch::Tensor grey = 0.2989 * x[0][0] + 0.587 * x[0][1] + 0.114 * x[0][2];
  std::vector<AugmentParams> params(1);
  params[0].contrast = 0;  // contrast 0: every pixel becomes the image's mean grey
  torch::Tensor y = jitter_colour(x, params);
  EXPECT_LT(max_abs_diff(y, torch::full_like(y, grey.mean().item<double>())), 1e-6);
  params[0].contrast = 1;
  params[0].saturation = 0;  // saturation 0: every channel becomes the pixel's grey
  y = jitter_colour(x, params);
  for (int c = 0; c < 3; ++c) EXPECT_LT(max_abs_diff(y[0][c], grey), 1e-6);
  params[0].saturation = 0.5;
  y = jitter_colour(x, params);
  EXPECT_LT(max_abs_diff(y[0], 0.5 * x[0] + 0.5 * grey.unsqueeze(0)), 1e-6);
}

// Pixels with small chroma around mid grey, so a hue rotation never needs clamping.
torch::Tensor muted_images() {
  torch::manual_seed(9);
  return 0.5 + 0.1 * (torch::rand({2, 3, 8, 8}) - 0.5);
}

torch::Tensor to_yiq(const torch::Tensor& rgb) {
  const torch::Tensor m = torch::tensor({0.299, 0.587, 0.114, 0.595716, -0.274453, -0.321263,
                                         0.211456, -0.522591, 0.311135}, torch::kFloat).view({3, 3});
  return torch::einsum("ij,njhw->nihw", {m, rgb});
}

TEST(Augment, HueZeroAndFullTurnAreIdentity) {
  const torch::Tensor x = random_images(2, 9);
  std::vector<AugmentParams> params(2);
  EXPECT_TRUE(torch::equal(jitter_colour(x, params), x));
  params[0].hue_turns = 1.0;
  params[1].hue_turns = -1.0;
  EXPECT_LT(max_abs_diff(jitter_colour(muted_images().expand({2, 3, 8, 8}).contiguous(), params),
                         muted_images()),
            1e-5);
}

TEST(Augment, HueRotatesChromaAndKeepsLuma) {
  const torch::Tensor x = muted_images();
  std::vector<AugmentParams> params(2);
  params[0].hue_turns = 0.25;
  params[1].hue_turns = 0.5;
  const torch::Tensor before = to_yiq(x), after = to_yiq(jitter_colour(x, params));
  EXPECT_LT(max_abs_diff(after.select(1, 0), before.select(1, 0)), 1e-5);  // luma kept
  // A quarter turn maps (I, Q) to (-Q, I); a half turn to (-I, -Q).
  EXPECT_LT(max_abs_diff(after[0][1], -before[0][2]), 1e-5);
  EXPECT_LT(max_abs_diff(after[0][2], before[0][1]), 1e-5);
  EXPECT_LT(max_abs_diff(after[1][1], -before[1][1]), 1e-5);
  EXPECT_LT(max_abs_diff(after[1][2], -before[1][2]), 1e-5);
}

TEST(Augment, ComposedColourMapEqualsTheStepsInSequence) {
  // Reference: the four steps one after another (values stay in range, so clamps do not bite).
  const torch::Tensor x = muted_images();
  std::vector<AugmentParams> params(2);
  params[0].brightness = 1.1, params[0].contrast = 0.8, params[0].saturation = 1.2;
  params[0].hue_turns = 0.02;
  params[1].brightness = 0.9, params[1].contrast = 1.15, params[1].saturation = 0.7;
  params[1].hue_turns = -0.03;
  const torch::Tensor yiq = torch::tensor({0.299, 0.587, 0.114, 0.595716, -0.274453, -0.321263,
                                           0.211456, -0.522591, 0.311135}, torch::kDouble).view({3, 3});
  const torch::Tensor rgb = torch::inverse(yiq);
  const auto grey = [](const torch::Tensor& img) {
    return 0.2989 * img[0] + 0.587 * img[1] + 0.114 * img[2];
  };
  const torch::Tensor y = jitter_colour(x, params);
  for (int i = 0; i < 2; ++i) {
    const AugmentParams& p = params[size_t(i)];
    torch::Tensor img = x[i].to(torch::kDouble) * p.brightness;
    img = p.contrast * img + (1 - p.contrast) * grey(img).mean();
    img = p.saturation * img + (1 - p.saturation) * grey(img).unsqueeze(0);
    const double angle = 2 * M_PI * p.hue_turns;
    const torch::Tensor turn = torch::tensor({1.0, 0.0, 0.0, 0.0, std::cos(angle), -std::sin(angle),
                                              0.0, std::sin(angle), std::cos(angle)}, torch::kDouble)
                                   .view({3, 3});
    img = torch::matmul(rgb.matmul(turn).matmul(yiq), img.reshape({3, -1})).view(img.sizes());
    ASSERT_GT(img.min().item<double>(), 0);
    ASSERT_LT(img.max().item<double>(), 1);
    EXPECT_LT(max_abs_diff(y[i].to(torch::kDouble), img), 1e-5) << i;
  }
}

TEST(Augment, SeedDeterminesOutputAndRangeAndShapeHold) {
  const torch::Tensor x = random_images(6, 32);
  const AugmentOptions o;  // the training defaults: everything on
  const torch::Tensor a = augment_batch(x, o, 100);
  const torch::Tensor b = augment_batch(x, o, 100);
  const torch::Tensor c = augment_batch(x, o, 101);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_GT(max_abs_diff(a, c), 0.1);
  EXPECT_EQ(a.sizes(), x.sizes());
  EXPECT_GE(a.min().item<float>(), 0.0f);
  EXPECT_LE(a.max().item<float>(), 1.0f);
  EXPECT_GT(max_abs_diff(a, x), 0.1);  // it did something
}

TEST(Augment, SwitchingOneOptionOffKeepsTheOthersDraws) {
  AugmentOptions on;
  AugmentOptions no_rotation = on;
  no_rotation.max_rotation_degrees = 0;
  for (int i = 0; i < 5; ++i) {
    const AugmentParams a = sample_params(on, 8, i), b = sample_params(no_rotation, 8, i);
    EXPECT_NE(a.rotation_degrees, 0);
    EXPECT_EQ(b.rotation_degrees, 0);
    EXPECT_EQ(a.crop_width, b.crop_width);
    EXPECT_EQ(a.hue_turns, b.hue_turns);
    EXPECT_EQ(a.flip_vertical, b.flip_vertical);
    EXPECT_GE(a.crop_width * a.crop_height, on.crop_scale_min - 1e-12);
    EXPECT_LE(std::abs(a.rotation_degrees), 180);
  }
}

TEST(Augment, SameResultOnCudaAsOnCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Tensor x = random_images(4, 32);
  const torch::Tensor cpu = augment_batch(x, AugmentOptions{}, 77);
  const torch::Tensor gpu = augment_batch(x.to(torch::kCUDA), AugmentOptions{}, 77);
  EXPECT_TRUE(gpu.is_cuda());
  EXPECT_LT(max_abs_diff(cpu, gpu.cpu()), 1e-4);
}

TEST(TestTimeAugmentation, EightDistinctExactInvertibleTransforms) {
  const torch::Tensor x = random_images(2, 7);
  std::vector<torch::Tensor> variants;
  for (int v = 0; v < TestTimeAugmentation::kVariants; ++v) {
    const torch::Tensor y = tta_variant(x, v);
    EXPECT_TRUE(torch::equal(TestTimeAugmentation::invert(y, v), x)) << v;
    EXPECT_TRUE(torch::equal(std::get<0>(y.flatten().sort()), std::get<0>(x.flatten().sort())));
    for (const torch::Tensor& earlier : variants) EXPECT_FALSE(torch::equal(y, earlier)) << v;
    variants.push_back(y);
  }
  EXPECT_TRUE(torch::equal(variants[0], x));
  EXPECT_TRUE(torch::equal(variants[3], torch::rot90(x, 2, {2, 3})));
  // Two of the eight are the quarter turns.
  const torch::Tensor left = torch::rot90(x, 1, {2, 3}), right = torch::rot90(x, -1, {2, 3});
  EXPECT_TRUE(torch::equal(variants[5], left) || torch::equal(variants[5], right));
  EXPECT_TRUE(torch::equal(variants[6], left) || torch::equal(variants[6], right));
  EXPECT_THROW(tta_variant(x, 8), c10::Error);
}

TEST(Augment, ToFloatBatchAndNormalize) {
  std::vector<uint8_t> first(4 * 5 * 3), second(4 * 5 * 3);
  for (size_t i = 0; i < first.size(); ++i) {
    first[i] = uint8_t(i * 3);
    second[i] = uint8_t(255 - i);
  }
  const uint8_t* images[] = {first.data(), second.data()};
  const torch::Tensor x = to_float_batch(images, 2, /*height=*/4, /*width=*/5);
  ASSERT_EQ(x.sizes(), torch::IntArrayRef({2, 3, 4, 5}));
  for (int y = 0; y < 4; ++y)
    for (int col = 0; col < 5; ++col)
      for (int c = 0; c < 3; ++c) {
        const size_t at = size_t((y * 5 + col) * 3 + c);
        EXPECT_FLOAT_EQ(x[0][c][y][col].item<float>(), first[at] / 255.0f);
        EXPECT_FLOAT_EQ(x[1][c][y][col].item<float>(), second[at] / 255.0f);
      }
  const torch::Tensor n = normalize(x, {0.5, 0.4, 0.3}, {0.2, 0.25, 0.5});
  EXPECT_NEAR(n[1][2][3][4].item<double>(), (x[1][2][3][4].item<double>() - 0.3) / 0.5, 1e-6);
  EXPECT_NEAR(n[0][0][1][2].item<double>(), (x[0][0][1][2].item<double>() - 0.5) / 0.2, 1e-6);
}

}  // namespace
}  // namespace dermsim
