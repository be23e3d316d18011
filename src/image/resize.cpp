// Pillow-compatible antialiased bilinear resize (per-output-pixel normalised weights, fixed point)
// and the crop/pad step that turns any image into the cache's square.
#include "image/resize.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

namespace dermsim {

namespace {

// 32-bit accumulators: 8 bits of pixel, 2 of headroom for negative lobes, the rest for the weights.
constexpr int kPrecisionBits = 32 - 8 - 2;

double triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// For each output pixel: the first input pixel it reads and its fixed-point weights.
struct FilterTaps {
  int taps = 0;  // weights per output pixel (some trailing ones may be zero)
  std::vector<int> first, count;
  std::vector<int32_t> weights;  // out_size * taps
};

FilterTaps make_taps(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);  // widen the kernel only when shrinking
  const double support = 1.0 * filter_scale;
  FilterTaps t;
  t.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(out_size);
  t.count.resize(out_size);
  t.weights.assign(static_cast<size_t>(out_size) * t.taps, 0);
  std::vector<double> w(t.taps);
  for (int o = 0; o < out_size; ++o) {
    const double centre = (o + 0.5) * scale;
    const int lo = std::max(0, static_cast<int>(centre - support + 0.5));
    const int hi = std::min(in_size, static_cast<int>(centre + support + 0.5));
    const int n = hi - lo;
    double total = 0;
    for (int k = 0; k < n; ++k) total += w[k] = triangle((lo + k - centre + 0.5) / filter_scale);
    for (int k = 0; k < n; ++k) {
      const double v = (total != 0 ? w[k] / total : w[k]) * (1 << kPrecisionBits);
      t.weights[static_cast<size_t>(o) * t.taps + k] =
          static_cast<int32_t>(v < 0 ? v - 0.5 : v + 0.5);
    }
    t.first[o] = lo;
    t.count[o] = n;
  }
  return t;
}

uint8_t clip8(int32_t accumulated) {
  const int32_t v = accumulated >> kPrecisionBits;
  return static_cast<uint8_t>(std::clamp(v, 0, 255));
}

RgbImage resize_horizontal(const RgbImage& in, int out_width) {
  const FilterTaps t = make_taps(in.width, out_width);
  RgbImage out{out_width, in.height,
               std::vector<uint8_t>(static_cast<size_t>(out_width) * in.height * 3)};
  for (int y = 0; y < in.height; ++y) {
    const uint8_t* row = &in.pixels[static_cast<size_t>(y) * in.width * 3];
    uint8_t* dst = &out.pixels[static_cast<size_t>(y) * out_width * 3];
    for (int x = 0; x < out_width; ++x) {
      const int32_t* w = &t.weights[static_cast<size_t>(x) * t.taps];
      const uint8_t* src = row + static_cast<size_t>(t.first[x]) * 3;
      int32_t r = 1 << (kPrecisionBits - 1), g = r, b = r;
      for (int k = 0; k < t.count[x]; ++k) {
        r += src[3 * k] * w[k];
        g += src[3 * k + 1] * w[k];
        b += src[3 * k + 2] * w[k];
      }
      dst[3 * x] = clip8(r);
      dst[3 * x + 1] = clip8(g);
      dst[3 * x + 2] = clip8(b);
    }
  }
  return out;
}

RgbImage resize_vertical(const RgbImage& in, int out_height) {
  const FilterTaps t = make_taps(in.height, out_height);
  const size_t stride = static_cast<size_t>(in.width) * 3;
  RgbImage out{in.width, out_height, std::vector<uint8_t>(stride * out_height)};
  std::vector<int32_t> acc(stride);
  for (int y = 0; y < out_height; ++y) {
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    const int32_t* w = &t.weights[static_cast<size_t>(y) * t.taps];
    for (int k = 0; k < t.count[y]; ++k) {
      const uint8_t* src = &in.pixels[(t.first[y] + k) * stride];
      for (size_t i = 0; i < stride; ++i) acc[i] += src[i] * w[k];
    }
    uint8_t* dst = &out.pixels[y * stride];
    for (size_t i = 0; i < stride; ++i) dst[i] = clip8(acc[i]);
  }
  return out;
}

RgbImage crop(const RgbImage& in, int x0, int y0, int width, int height) {
  RgbImage out{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3)};
  for (int y = 0; y < height; ++y)
    std::copy_n(&in.pixels[(static_cast<size_t>(y0 + y) * in.width + x0) * 3],
                static_cast<size_t>(width) * 3, &out.pixels[static_cast<size_t>(y) * width * 3]);
  return out;
}

// Mean colour of the outermost rows and columns: dermoscopy borders are the dark vignette or skin,
// so padding with it adds no edge for the network to latch onto.
void mean_border_colour(const RgbImage& in, uint8_t colour[3]) {
  double sum[3] = {0, 0, 0};
  long long n = 0;
  auto add = [&](int x, int y) {
    const uint8_t* p = &in.pixels[(static_cast<size_t>(y) * in.width + x) * 3];
    for (int c = 0; c < 3; ++c) sum[c] += p[c];
    ++n;
  };
  for (int x = 0; x < in.width; ++x) {
    add(x, 0);
    if (in.height > 1) add(x, in.height - 1);
  }
  for (int y = 1; y + 1 < in.height; ++y) {
    add(0, y);
    if (in.width > 1) add(in.width - 1, y);
  }
  for (int c = 0; c < 3; ++c) colour[c] = static_cast<uint8_t>(std::lround(sum[c] / n));
}

RgbImage pad_square(const RgbImage& in) {
  const int side = std::max(in.width, in.height);
  uint8_t colour[3];
  mean_border_colour(in, colour);
  RgbImage out{side, side, std::vector<uint8_t>(static_cast<size_t>(side) * side * 3)};
  for (size_t i = 0; i < out.pixels.size(); i += 3) std::copy_n(colour, 3, &out.pixels[i]);
  const int x0 = (side - in.width) / 2, y0 = (side - in.height) / 2;
  for (int y = 0; y < in.height; ++y)
    std::copy_n(&in.pixels[static_cast<size_t>(y) * in.width * 3],
                static_cast<size_t>(in.width) * 3,
                &out.pixels[(static_cast<size_t>(y0 + y) * side + x0) * 3]);
  return out;
}

}  // namespace

RgbImage resize_bilinear(const RgbImage& image, int out_width, int out_height) {
  if (image.width <= 0 || image.height <= 0 || out_width <= 0 || out_height <= 0)
    throw std::invalid_argument("resize_bilinear: empty input or output size");
  if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3)
    throw std::invalid_argument("resize_bilinear: pixel buffer does not match width x height x 3");
  // Like Pillow: a pass runs only if its dimension changes, horizontal first (fewer rows to filter
  // when the image is taller than wide after cropping, and the order changes rounding).
  if (out_width == image.width && out_height == image.height) return image;
  if (out_height == image.height) return resize_horizontal(image, out_width);
  if (out_width == image.width) return resize_vertical(image, out_height);
  return resize_vertical(resize_horizontal(image, out_width), out_height);
}

std::string to_string(FitMode mode) { return mode == FitMode::kPad ? "pad" : "crop"; }

std::string to_string(ColourMode colour) {
  return colour == ColourMode::kShadesOfGray ? "shades-of-gray" : "as-taken";
}

FitMode fit_mode_from_string(const std::string& name) {
  if (name == "crop") return FitMode::kCenterCrop;
  if (name == "pad") return FitMode::kPad;
  throw std::invalid_argument("unknown fit mode '" + name + "' (crop | pad)");
}

ColourMode colour_mode_from_string(const std::string& name) {
  if (name == "as-taken") return ColourMode::kAsTaken;
  if (name == "shades-of-gray") return ColourMode::kShadesOfGray;
  throw std::invalid_argument("unknown colour mode '" + name + "' (as-taken | shades-of-gray)");
}

void shades_of_gray(RgbImage& image) {
  constexpr double kP = 6.0;
  const size_t pixels = image.pixels.size() / 3;
  if (pixels == 0) return;
  // (v / 255)^p of each of the 256 values, once: every cached image runs through this.
  static const std::array<double, 256> power = [] {
    std::array<double, 256> table;
    for (int v = 0; v < 256; ++v) table[v] = std::pow(v / 255.0, kP);
    return table;
  }();
  double power_sum[3] = {0, 0, 0};
  for (size_t i = 0; i < pixels; ++i)
    for (int c = 0; c < 3; ++c) power_sum[c] += power[image.pixels[3 * i + c]];
  double e[3], length = 0;
  for (int c = 0; c < 3; ++c) {
    e[c] = std::pow(power_sum[c] / double(pixels), 1.0 / kP);
    length += e[c] * e[c];
  }
  length = std::sqrt(length);
  if (length == 0) return;
  uint8_t table[3][256];  // per channel: old value -> corrected value
  for (int c = 0; c < 3; ++c) {
    // A channel with no light at all stays dark rather than being scaled by infinity.
    const double gain = e[c] > 0 ? length / (std::sqrt(3.0) * e[c]) : 1.0;
    for (int v = 0; v < 256; ++v)
      table[c][v] = static_cast<uint8_t>(std::min(255.0, std::round(v * gain)));
  }
  for (size_t i = 0; i < pixels; ++i)
    for (int c = 0; c < 3; ++c) image.pixels[3 * i + c] = table[c][image.pixels[3 * i + c]];
}

RgbImage fit_square(const RgbImage& image, int size, const ImageFit& fit) {
  if (size <= 0) throw std::invalid_argument("fit_square: size must be positive");
  RgbImage fitted;
  if (image.width == image.height) {
    fitted = resize_bilinear(image, size, size);
  } else if (fit.mode == FitMode::kPad) {
    fitted = resize_bilinear(pad_square(image), size, size);
  } else {
    const int side = std::min(image.width, image.height);
    fitted = resize_bilinear(
        crop(image, (image.width - side) / 2, (image.height - side) / 2, side, side), size, size);
  }
  if (fit.colour == ColourMode::kShadesOfGray) shades_of_gray(fitted);
  return fitted;
}

}  // namespace dermsim
