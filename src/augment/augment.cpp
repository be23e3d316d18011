// Augmentation: parameter sampling on the CPU, geometry and colour jitter as batched tensor ops.
#include "augment/augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>
#include <string>

#include "augment/counter_rng.h"
#include "common/error.h"

namespace dermsim {
namespace {

namespace F = torch::nn::functional;

constexpr double kPi = 3.14159265358979323846;
constexpr uint64_t kAugmentStream = 0xA6;
// torchvision's rgb_to_grayscale weights, so contrast and saturation match its definitions.
constexpr double kGrey[3] = {0.2989, 0.587, 0.114};
// RGB -> YIQ (FCC NTSC). Its inverse is computed, not typed, so that M^-1 M = I to double precision.
constexpr double kRgbToYiq[3][3] = {{0.299, 0.587, 0.114},
                                    {0.595716, -0.274453, -0.321263},
                                    {0.211456, -0.522591, 0.311135}};

using Mat3 = std::array<std::array<double, 3>, 3>;

Mat3 multiply(const Mat3& a, const Mat3& b) {
  Mat3 c{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) c[i][j] += a[i][k] * b[k][j];
  return c;
}

Mat3 yiq_matrix() {
  Mat3 m{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) m[i][j] = kRgbToYiq[i][j];
  return m;
}

Mat3 inverse(const Mat3& m) {
  Mat3 cof{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      const int r0 = (i + 1) % 3, r1 = (i + 2) % 3, c0 = (j + 1) % 3, c1 = (j + 2) % 3;
      cof[j][i] = m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];  // transposed: the adjugate
    }
  const double det = m[0][0] * cof[0][0] + m[0][1] * cof[1][0] + m[0][2] * cof[2][0];
  for (auto& row : cof)
    for (double& v : row) v /= det;
  return cof;
}

// RGB -> RGB map that turns the YIQ chroma plane by `turns`, keeping luma.
Mat3 hue_matrix(double turns) {
  static const Mat3 to_yiq = yiq_matrix();
  static const Mat3 from_yiq = inverse(to_yiq);
  const double angle = 2 * kPi * turns;
  const Mat3 turn = {{{1, 0, 0},
                      {0, std::cos(angle), -std::sin(angle)},
                      {0, std::sin(angle), std::cos(angle)}}};
  return multiply(from_yiq, multiply(turn, to_yiq));
}

void check_batch(const torch::Tensor& images, size_t params, const char* function) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, function,
              ": expected N x 3 x H x W images, got ", images.sizes());
  TORCH_CHECK(images.size(2) == images.size(3), function, ": expected square images, got ",
              images.sizes());
  TORCH_CHECK(images.is_floating_point(), function, ": expected float images");
  TORCH_CHECK(static_cast<int64_t>(params) == images.size(0), function, ": ", params,
              " parameter sets for ", images.size(0), " images");
}

bool needs_interpolation(const AugmentParams& p) {
  return p.rotation_degrees != 0 || p.crop_width != 1 || p.crop_height != 1 ||
         p.crop_center_x != 0 || p.crop_center_y != 0;
}

int dihedral_variant(const AugmentParams& p) {
  return (p.flip_horizontal ? 1 : 0) | (p.flip_vertical ? 2 : 0) | (p.transpose ? 4 : 0);
}

template <typename Member>
bool all_equal(const std::vector<AugmentParams>& params, Member member, double value) {
  for (const AugmentParams& p : params)
    if (p.*member != value) return false;
  return true;
}

void check_strength(double value, const char* name) {
  if (!(value >= 0)) {
    throw UserError(std::string("augment options: ") + name + " is " + std::to_string(value) +
                    "; expected a value >= 0");
  }
}

}  // namespace

AugmentParams sample_params(const AugmentOptions& options, uint64_t seed, int index) {
  check_strength(options.max_rotation_degrees, "max_rotation_degrees");
  check_strength(options.brightness, "brightness");
  check_strength(options.contrast, "contrast");
  check_strength(options.saturation, "saturation");
  check_strength(options.hue, "hue");
  if (!(options.crop_scale_min > 0 && options.crop_scale_min <= 1)) {
    throw UserError("augment options: crop_scale_min is " + std::to_string(options.crop_scale_min) +
                    "; expected a value in (0, 1]");
  }
  CounterRng rng(derive_seed(seed, static_cast<uint64_t>(index), 0, kAugmentStream));
  // Draw everything, always, in a fixed order (see the header).
  const bool h = rng.coin(), v = rng.coin(), t = rng.coin();
  const double u_angle = rng.uniform(), u_scale = rng.uniform(), u_ratio = rng.uniform();
  const double u_cx = rng.uniform(), u_cy = rng.uniform();
  const double u_b = rng.uniform(), u_c = rng.uniform(), u_s = rng.uniform(), u_h = rng.uniform();

  AugmentParams p;
  p.flip_horizontal = options.flips && h;
  p.flip_vertical = options.flips && v;
  p.transpose = options.transpose && t;
  p.rotation_degrees = options.max_rotation_degrees * (2 * u_angle - 1);
  if (options.random_resized_crop) {
    const double area = options.crop_scale_min + (1 - options.crop_scale_min) * u_scale;
    const double aspect = std::exp(std::log(3.0 / 4) + (std::log(4.0 / 3) - std::log(3.0 / 4)) * u_ratio);
    p.crop_width = std::min(1.0, std::sqrt(area * aspect));
    p.crop_height = std::min(1.0, std::sqrt(area / aspect));
    p.crop_center_x = (1 - p.crop_width) * (2 * u_cx - 1);
    p.crop_center_y = (1 - p.crop_height) * (2 * u_cy - 1);
  }
  p.brightness = std::max(0.0, 1 + options.brightness * (2 * u_b - 1));
  p.contrast = std::max(0.0, 1 + options.contrast * (2 * u_c - 1));
  p.saturation = std::max(0.0, 1 + options.saturation * (2 * u_s - 1));
  p.hue_turns = options.hue * (2 * u_h - 1);
  return p;
}

std::array<double, 6> affine_theta(const AugmentParams& p) {
  // input = D * (R * (C * output + c)): crop window, then rotation, then the dihedral part
  // D = Transpose * FlipH * FlipV, the composition TestTimeAugmentation::variant applies.
  const double radians = p.rotation_degrees * kPi / 180;
  const double cs = std::cos(radians), sn = std::sin(radians);
  const double rc[2][2] = {{cs * p.crop_width, -sn * p.crop_height},
                           {sn * p.crop_width, cs * p.crop_height}};
  const double shift[2] = {cs * p.crop_center_x - sn * p.crop_center_y,
                           sn * p.crop_center_x + cs * p.crop_center_y};
  double d[2][2] = {{1, 0}, {0, p.flip_vertical ? -1.0 : 1.0}};
  if (p.flip_horizontal) d[0][0] = -d[0][0];
  if (p.transpose) std::swap(d[0], d[1]);
  std::array<double, 6> theta{};
  for (int i = 0; i < 2; ++i) {
    theta[size_t(3 * i + 0)] = d[i][0] * rc[0][0] + d[i][1] * rc[1][0];
    theta[size_t(3 * i + 1)] = d[i][0] * rc[0][1] + d[i][1] * rc[1][1];
    theta[size_t(3 * i + 2)] = d[i][0] * shift[0] + d[i][1] * shift[1];
  }
  return theta;
}

torch::Tensor resample(const torch::Tensor& images, const std::vector<AugmentParams>& params) {
  check_batch(images, params.size(), "resample");
  std::vector<float> thetas;
  thetas.reserve(params.size() * 6);
  for (const AugmentParams& p : params)
    for (double value : affine_theta(p)) thetas.push_back(static_cast<float>(value));
  const torch::Tensor theta = torch::tensor(thetas, torch::kFloat)
                                  .view({images.size(0), 2, 3})
                                  .to(images.device(), images.scalar_type());
  const torch::Tensor grid = F::affine_grid(theta, images.sizes(), /*align_corners=*/false);
  return F::grid_sample(images, grid,
                        F::GridSampleFuncOptions()
                            .mode(torch::kBilinear)
                            .padding_mode(torch::kReflection)
                            .align_corners(false));
}

torch::Tensor jitter_colour(const torch::Tensor& images, const std::vector<AugmentParams>& params) {
  check_batch(images, params.size(), "jitter_colour");
  if (all_equal(params, &AugmentParams::brightness, 1.0) &&
      all_equal(params, &AugmentParams::contrast, 1.0) &&
      all_equal(params, &AugmentParams::saturation, 1.0) &&
      all_equal(params, &AugmentParams::hue_turns, 0.0)) {
    return images;  // exact when off
  }
  // All four steps are affine in the pixel, so per image they compose (in double, on the CPU)
  // into out = A x + mean_grey(x) * v:
  //   brightness x1 = b x;  contrast x2 = c x1 + (1 - c) mean_grey(x1) = c b x + (1 - c) b m 1;
  //   saturation x3 = S x2 with S = s I + (1 - s) 1 w^T;  hue x4 = H x3.
  const int64_t n = images.size(0);
  std::vector<float> matrices, offsets;
  matrices.reserve(params.size() * 9);
  offsets.reserve(params.size() * 3);
  bool needs_mean = false;
  for (const AugmentParams& p : params) {
    Mat3 saturation{};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) saturation[i][j] = (i == j ? p.saturation : 0) + (1 - p.saturation) * kGrey[j];
    const Mat3 hs = p.hue_turns == 0 ? saturation : multiply(hue_matrix(p.hue_turns), saturation);
    for (const auto& row : hs) {
      for (double value : row) matrices.push_back(static_cast<float>(p.contrast * p.brightness * value));
      offsets.push_back(static_cast<float>((1 - p.contrast) * p.brightness * (row[0] + row[1] + row[2])));
    }
    needs_mean = needs_mean || p.contrast != 1;
  }
  const auto on_device = torch::TensorOptions().device(images.device()).dtype(images.scalar_type());
  const torch::Tensor a = torch::tensor(matrices, torch::kFloat).view({n, 3, 3}).to(on_device);
  const torch::Tensor flat = images.reshape({n, 3, -1});
  torch::Tensor out;
  if (needs_mean) {
    // The mean grey is linear too: the grey-weighted sum of the channel means.
    const torch::Tensor weights = torch::tensor({kGrey[0], kGrey[1], kGrey[2]}, torch::kDouble).to(on_device);
    const torch::Tensor mean_grey = (flat.mean(2) * weights).sum(1);  // N
    const torch::Tensor v = torch::tensor(offsets, torch::kFloat).view({n, 3}).to(on_device);
    out = torch::baddbmm((mean_grey.unsqueeze(1) * v).unsqueeze(2), a, flat);
  } else {
    out = torch::bmm(a, flat);
  }
  return out.clamp_(0, 1).view(images.sizes());
}

torch::Tensor apply_params(const torch::Tensor& images, const std::vector<AugmentParams>& params) {
  check_batch(images, params.size(), "apply_params");
  bool interpolate = false;
  bool dihedral = false;
  for (const AugmentParams& p : params) {
    interpolate = interpolate || needs_interpolation(p);
    dihedral = dihedral || dihedral_variant(p) != 0;
  }
  torch::Tensor x = images;
  if (interpolate) {
    x = resample(images, params);
  } else if (dihedral) {
    // Per image: at most one copy for the transform and one into the batch. On the CPU the loop
    // is one parallel region (ops inside it run single-threaded): 128 small ops each with its own
    // thread barrier ran ~300x slower at 2 threads on a loaded host. CUDA keeps the caller's
    // thread, whose current stream the kernels must go to.
    x = torch::empty_like(images);
    const auto transform = [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        x[i].copy_(TestTimeAugmentation::variant(images[i], dihedral_variant(params[size_t(i)])));
    };
    if (images.is_cpu()) {
      at::parallel_for(0, images.size(0), /*grain_size=*/1, transform);
    } else {
      transform(0, images.size(0));
    }
  }
  return jitter_colour(x, params);
}

torch::Tensor augment_batch(const torch::Tensor& images, const AugmentOptions& options,
                            uint64_t seed, const std::vector<size_t>& positions) {
  if (!options.enabled) return images;
  TORCH_CHECK(positions.empty() || positions.size() == static_cast<size_t>(images.size(0)),
              "augment_batch: one position per image");
  std::vector<AugmentParams> params;
  params.reserve(static_cast<size_t>(images.size(0)));
  for (size_t i = 0; i < static_cast<size_t>(images.size(0)); ++i)
    params.push_back(
        sample_params(options, seed, static_cast<int>(positions.empty() ? i : positions[i])));
  return apply_params(images, params);
}

torch::Tensor to_float_batch(const uint8_t* const* hwc_images, int count, int height, int width,
                             torch::Device device) {
  TORCH_CHECK(count >= 0 && height > 0 && width > 0, "to_float_batch: bad shape");
  torch::Tensor bytes = torch::empty({count, height, width, 3}, torch::kUInt8);
  const size_t image_bytes = static_cast<size_t>(height) * static_cast<size_t>(width) * 3;
  uint8_t* out = bytes.data_ptr<uint8_t>();
  for (int i = 0; i < count; ++i) std::memcpy(out + image_bytes * size_t(i), hwc_images[i], image_bytes);
  return bytes.to(device).permute({0, 3, 1, 2}).to(torch::kFloat).div_(255).contiguous();
}

torch::Tensor normalize(const torch::Tensor& images, const std::array<double, 3>& mean,
                        const std::array<double, 3>& std) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "normalize: expected N x 3 x H x W");
  for (double s : std) TORCH_CHECK(s > 0, "normalize: standard deviations must be > 0");
  const auto options = torch::TensorOptions().dtype(images.scalar_type()).device(images.device());
  const torch::Tensor m = torch::tensor({mean[0], mean[1], mean[2]}, torch::kDouble)
                              .view({1, 3, 1, 1}).to(options);
  const torch::Tensor s = torch::tensor({std[0], std[1], std[2]}, torch::kDouble)
                              .view({1, 3, 1, 1}).to(options);
  return (images - m) / s;
}

torch::Tensor TestTimeAugmentation::variant(const torch::Tensor& images, int variant) {
  TORCH_CHECK(variant >= 0 && variant < kVariants, "tta variant ", variant, " not in 0..7");
  torch::Tensor x = variant & 4 ? images.transpose(-2, -1) : images;
  std::vector<int64_t> flipped;
  if (variant & 1) flipped.push_back(-1);
  if (variant & 2) flipped.push_back(-2);
  // One flip call for both axes; contiguous() is free unless flip kept the transposed strides.
  return flipped.empty() ? x.contiguous() : x.flip(flipped).contiguous();
}

int TestTimeAugmentation::inverse_variant(int variant) {
  // (V^b H^a T)^-1 = T H^a V^b = V^a H^b T: the transpose swaps which axis each flip acts on.
  if (!(variant & 4)) return variant;
  return 4 | ((variant & 1) << 1) | ((variant & 2) >> 1);
}

torch::Tensor TestTimeAugmentation::invert(const torch::Tensor& images, int variant) {
  return TestTimeAugmentation::variant(images, inverse_variant(variant));
}

}  // namespace dermsim
