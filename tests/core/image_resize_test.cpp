// Resize tests: resize_bilinear against Pillow's antialiased BILINEAR on random images (up, down,
// one axis), and fit_square's crop and pad geometry.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/atomic_file.h"
#include "image/resize.h"
#include "support/oracle.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;

RgbImage random_image(int width, int height, unsigned seed) {
  RgbImage image{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3)};
  std::mt19937 rng(seed);
  for (auto& v : image.pixels) v = static_cast<uint8_t>(rng());
  return image;
}

RgbImage solid_image(int width, int height, uint8_t r, uint8_t g, uint8_t b) {
  RgbImage image{width, height, {}};
  for (int i = 0; i < width * height; ++i) image.pixels.insert(image.pixels.end(), {r, g, b});
  return image;
}

const uint8_t* pixel(const RgbImage& image, int x, int y) {
  return &image.pixels[(static_cast<size_t>(y) * image.width + x) * 3];
}

struct ResizeCase {
  int in_width, in_height, out_width, out_height;
};

TEST(ResizeBilinear, MatchesPillowWithinOneLevel) {
  if (std::system("/usr/bin/python3 -c 'import PIL' >/dev/null 2>&1") != 0)
    ORACLE_UNAVAILABLE("/usr/bin/python3 with Pillow not available for the oracle");
  const std::vector<ResizeCase> cases = {
      {256, 256, 128, 128}, {300, 200, 128, 128}, {97, 61, 32, 20},   {1000, 700, 37, 129},  // down
      {64, 64, 200, 150},   {13, 7, 52, 41},                                                 // up
      {50, 80, 50, 33},     {40, 30, 73, 30},     {120, 90, 31, 200},  // one axis, mixed
  };
  const auto dir = fs::temp_directory_path() / ("dermsim_resize_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string jobs;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const RgbImage input = random_image(c.in_width, c.in_height, static_cast<unsigned>(i + 1));
    write_file_atomic((dir / ("in" + std::to_string(i))).string(),
                      std::string(input.pixels.begin(), input.pixels.end()));
    jobs += std::to_string(i) + " " + std::to_string(c.in_width) + " " +
            std::to_string(c.in_height) + " " + std::to_string(c.out_width) + " " +
            std::to_string(c.out_height) + "\n";
  }
  write_file_atomic((dir / "jobs").string(), jobs);
  write_file_atomic((dir / "resize.py").string(),
                    "import sys, os\nfrom PIL import Image\nd = sys.argv[1]\n"
                    "for line in open(os.path.join(d, 'jobs')):\n"
                    "    i, w, h, ow, oh = line.split()\n"
                    "    data = open(os.path.join(d, 'in' + i), 'rb').read()\n"
                    "    im = Image.frombytes('RGB', (int(w), int(h)), data)\n"
                    "    out = im.resize((int(ow), int(oh)), Image.BILINEAR)\n"
                    "    open(os.path.join(d, 'out' + i), 'wb').write(out.tobytes())\n");
  ASSERT_EQ(std::system(
                ("/usr/bin/python3 " + (dir / "resize.py").string() + " " + dir.string()).c_str()),
            0);
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const RgbImage ours =
        resize_bilinear(random_image(c.in_width, c.in_height, static_cast<unsigned>(i + 1)),
                        c.out_width, c.out_height);
    const std::string pillow = read_file((dir / ("out" + std::to_string(i))).string());
    ASSERT_EQ(ours.width, c.out_width);
    ASSERT_EQ(ours.height, c.out_height);
    ASSERT_EQ(ours.pixels.size(), pillow.size());
    int worst = 0;
    for (size_t k = 0; k < pillow.size(); ++k)
      worst = std::max(worst, std::abs(ours.pixels[k] - static_cast<uint8_t>(pillow[k])));
    EXPECT_LE(worst, 1) << c.in_width << "x" << c.in_height << " -> " << c.out_width << "x"
                        << c.out_height;
  }
  fs::remove_all(dir);
}

TEST(ResizeBilinear, SolidColourStaysExactAndSameSizeIsIdentity) {
  const RgbImage solid = solid_image(301, 157, 12, 200, 99);
  for (auto [w, h] : {std::pair{128, 128}, std::pair{7, 3}, std::pair{640, 480}}) {
    const RgbImage out = resize_bilinear(solid, w, h);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        ASSERT_EQ(std::memcmp(pixel(out, x, y), pixel(solid, 0, 0), 3), 0);
  }
  const RgbImage noise = random_image(33, 44, 9);
  EXPECT_EQ(resize_bilinear(noise, 33, 44).pixels, noise.pixels);
}

TEST(ResizeBilinear, DownscalingAveragesInsteadOfAliasing) {
  // A one-pixel checkerboard shrunk 8x must come out mid-grey: a non-antialiased bilinear filter
  // samples two neighbours and returns the pattern's aliases instead.
  RgbImage board{256, 256, std::vector<uint8_t>(256 * 256 * 3)};
  for (int y = 0; y < 256; ++y)
    for (int x = 0; x < 256; ++x)
      std::memset(&board.pixels[(y * 256 + x) * 3], (x + y) % 2 ? 255 : 0, 3);
  const RgbImage out = resize_bilinear(board, 32, 32);
  for (uint8_t v : out.pixels) {
    EXPECT_GE(v, 120);
    EXPECT_LE(v, 135);
  }
}

TEST(FitSquare, CenterCropKeepsTheMiddleSquare) {
  // 300x100: a green middle square between a red left and blue right third.
  RgbImage wide = solid_image(300, 100, 255, 0, 0);
  for (int y = 0; y < 100; ++y)
    for (int x = 100; x < 300; ++x) {
      uint8_t* p = &wide.pixels[(static_cast<size_t>(y) * 300 + x) * 3];
      p[0] = 0;
      p[1] = x < 200 ? 255 : 0;
      p[2] = x < 200 ? 0 : 255;
    }
  const RgbImage same = fit_square(wide, 100, {FitMode::kCenterCrop});
  ASSERT_EQ(same.width, 100);
  for (int y = 0; y < 100; ++y)
    for (int x = 0; x < 100; ++x)
      ASSERT_EQ(std::memcmp(pixel(same, x, y), pixel(wide, 100 + x, y), 3), 0);
  const RgbImage small = fit_square(wide, 32);  // crop is the default
  EXPECT_EQ(small.width, 32);
  EXPECT_EQ(small.height, 32);
  for (size_t i = 0; i < small.pixels.size(); i += 3) {
    EXPECT_EQ(small.pixels[i], 0);
    EXPECT_EQ(small.pixels[i + 1], 255);
  }
}

TEST(FitSquare, PadUsesTheMeanBorderColourAndKeepsTheWholeImage) {
  // 60x120 grey-20 frame around a white interior: the border mean is 20, so the padding is 20 too.
  RgbImage tall = solid_image(60, 120, 20, 20, 20);
  for (int y = 1; y < 119; ++y)
    for (int x = 1; x < 59; ++x)
      std::memset(&tall.pixels[(static_cast<size_t>(y) * 60 + x) * 3], 255, 3);
  const RgbImage padded = fit_square(tall, 120, {FitMode::kPad});
  ASSERT_EQ(padded.width, 120);
  ASSERT_EQ(padded.height, 120);
  EXPECT_EQ(pixel(padded, 0, 0)[0], 20);
  EXPECT_EQ(pixel(padded, 119, 60)[1], 20);
  EXPECT_EQ(pixel(padded, 60, 60)[2], 255) << "the image sits in the middle";
  for (int y = 0; y < 120; ++y)
    for (int x = 30; x < 90; ++x)
      ASSERT_EQ(std::memcmp(pixel(padded, x, y), pixel(tall, x - 30, y), 3), 0) << x << "," << y;
}

TEST(ShadesOfGray, LeavesAGreyImageAndABlackOneAsTheyAre) {
  RgbImage grey = random_image(40, 30, 3);
  for (size_t i = 0; i < grey.pixels.size(); i += 3) grey.pixels[i + 1] = grey.pixels[i + 2] = grey.pixels[i];
  const std::vector<uint8_t> before = grey.pixels;
  shades_of_gray(grey);
  EXPECT_EQ(grey.pixels, before);
  RgbImage black = solid_image(8, 8, 0, 0, 0);
  shades_of_gray(black);
  EXPECT_EQ(black.pixels, std::vector<uint8_t>(8 * 8 * 3, 0));
}

TEST(ShadesOfGray, TheSameSceneUnderTwoColourCastsComesOutAlike) {
  // One scene lit reddish (1.0, 0.7, 0.5) and bluish (0.5, 0.7, 1.0): the casts differ by up to 2x
  // per channel before, and by no more than input rounding (a few levels) after. The casts are one
  // another's channels swapped, so they have the same overall brightness, which the step keeps.
  const RgbImage scene = random_image(64, 64, 11);
  auto lit = [&](double r, double g, double b) {
    RgbImage image = scene;
    const double gain[3] = {r, g, b};
    for (size_t i = 0; i < image.pixels.size(); ++i)
      image.pixels[i] = static_cast<uint8_t>(std::lround(scene.pixels[i] * gain[i % 3] * 0.9));
    return image;
  };
  RgbImage red = lit(1.0, 0.7, 0.5), blue = lit(0.5, 0.7, 1.0);
  auto largest_difference = [](const RgbImage& a, const RgbImage& b) {
    int largest = 0;
    for (size_t i = 0; i < a.pixels.size(); ++i)
      largest = std::max(largest, std::abs(int(a.pixels[i]) - int(b.pixels[i])));
    return largest;
  };
  ASSERT_GT(largest_difference(red, blue), 80);
  shades_of_gray(red);
  shades_of_gray(blue);
  EXPECT_LE(largest_difference(red, blue), 4);
}

TEST(ShadesOfGray, MatchesTheFormulaOnAHandCase) {
  // Two pixels, (200, 100, 50) and (100, 100, 100): e_c = ((a^6 + b^6) / 2)^(1/6) per channel in
  // 0..1 units, gain_c = |e| / (sqrt(3) e_c), each value multiplied, rounded and clipped to 255.
  RgbImage image{2, 1, {200, 100, 50, 100, 100, 100}};
  double e[3], length = 0;
  const double a[3] = {200, 100, 50}, b[3] = {100, 100, 100};
  for (int c = 0; c < 3; ++c) {
    e[c] = std::pow((std::pow(a[c] / 255, 6) + std::pow(b[c] / 255, 6)) / 2, 1.0 / 6);
    length += e[c] * e[c];
  }
  length = std::sqrt(length);
  shades_of_gray(image);
  for (int c = 0; c < 3; ++c) {
    const double gain = length / (std::sqrt(3.0) * e[c]);
    EXPECT_EQ(image.pixels[c], std::min(255L, std::lround(a[c] * gain))) << c;
    EXPECT_EQ(image.pixels[3 + c], std::min(255L, std::lround(b[c] * gain))) << c;
  }
  EXPECT_LT(image.pixels[0], 200) << "the strongest channel is turned down";
  EXPECT_GT(image.pixels[5], 100) << "the weakest is turned up";
}

TEST(FitSquare, AppliesTheColourStepAfterFitting) {
  RgbImage tinted = random_image(90, 60, 5);
  for (size_t i = 0; i < tinted.pixels.size(); i += 3) tinted.pixels[i + 2] /= 3;
  RgbImage expected = fit_square(tinted, 32, {FitMode::kPad});
  shades_of_gray(expected);
  EXPECT_EQ(fit_square(tinted, 32, {FitMode::kPad, ColourMode::kShadesOfGray}).pixels, expected.pixels);
  EXPECT_NE(fit_square(tinted, 32, {FitMode::kPad}).pixels, expected.pixels);
}

}  // namespace
}  // namespace dermsim
