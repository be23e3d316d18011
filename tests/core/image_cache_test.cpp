// Image cache tests: round trip against Pillow (draft decode, centre crop, BILINEAR resize), reuse
// and invalidation, bad inputs leaving no cache, refusal of truncated or foreign cache files.
#include <gtest/gtest.h>
#include <turbojpeg.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "common/atomic_file.h"
#include "common/error.h"
#include "image/cache.h"
#include "image/decode.h"
#include "support/oracle.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = DERMSIM_SOURCE_DIR;

class ImageCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dermsim_cache_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "images");
    // Copies, so tests may touch mtimes without changing the repository.
    for (const char* set : {"data/isic2020/train", "data/ham10000/train"}) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::directory_iterator(kSource / set))
        if (entry.path().extension() == ".jpg") found.push_back(entry.path());
      std::sort(found.begin(), found.end());
      for (size_t i = 0; i < 5 && i < found.size(); ++i) add_image(found[i]);
    }
    write_wide_jpeg((dir_ / "images/wide.jpg").string());
    names_.push_back("wide");
    paths_.push_back((dir_ / "images/wide.jpg").string());
    cache_path_ = (dir_ / "cache.bin").string();
    options_.image_size = 100;
    options_.threads = 2;
    options_.show_progress = false;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void add_image(const fs::path& source) {
    const auto copy = dir_ / "images" / source.filename();
    fs::copy_file(source, copy);
    names_.push_back(source.stem().string());
    paths_.push_back(copy.string());
  }

  // 640x480 with distinct left, middle and right content, so a wrong crop shows.
  static void write_wide_jpeg(const std::string& path) {
    const int width = 640, height = 480;
    std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) {
        uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
        p[0] = static_cast<uint8_t>(x * 255 / width);
        p[1] = static_cast<uint8_t>((x / 40 + y / 40) % 2 ? 220 : 30);
        p[2] = static_cast<uint8_t>(y * 255 / height);
      }
    tjhandle tj = tjInitCompress();
    unsigned char* jpeg = nullptr;
    unsigned long size = 0;
    ASSERT_EQ(
        tjCompress2(tj, rgb.data(), width, 0, height, TJPF_RGB, &jpeg, &size, TJSAMP_420, 92, 0),
        0);
    write_file_atomic(path, std::string(reinterpret_cast<char*>(jpeg), size));
    tjFree(jpeg);
    tjDestroy(tj);
  }

  size_t files_in_dir() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }

  fs::path dir_;
  std::vector<std::string> names_, paths_;
  std::string cache_path_;
  CacheBuildOptions options_;
};

TEST_F(ImageCacheTest, RoundTripMatchesDecodeAndPillow) {
  const CacheBuildResult built = build_image_cache(names_, paths_, cache_path_, options_);
  EXPECT_FALSE(built.reused);
  EXPECT_EQ(built.images, static_cast<long>(names_.size()));
  EXPECT_EQ(built.bytes, static_cast<long long>(fs::file_size(cache_path_)));
  const ImageCache cache = ImageCache::open(cache_path_);
  ASSERT_EQ(cache.size(), names_.size());
  EXPECT_EQ(cache.image_size(), 100);
  EXPECT_EQ(cache.source_checksum(), image_cache_checksum(names_, paths_, options_));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(cache.image(0)) % 4096, 0u)
      << "pixel block is page aligned";
  const size_t image_bytes = 100 * 100 * 3;
  for (size_t i = 0; i < names_.size(); ++i) {
    EXPECT_EQ(cache.name(i), names_[i]);
    EXPECT_EQ(cache.index_of(names_[i]), static_cast<long>(i));
    const RgbImage reference =
        fit_square(decode_image_file(paths_[i], 100), 100, {FitMode::kCenterCrop});
    EXPECT_EQ(std::memcmp(cache.image(i), reference.pixels.data(), image_bytes), 0) << names_[i];
  }
  EXPECT_EQ(cache.index_of("ISIC_not_there"), -1);

  if (std::system("/usr/bin/python3 -c 'import PIL' >/dev/null 2>&1") != 0)
    ORACLE_UNAVAILABLE("/usr/bin/python3 with Pillow not available for the independent oracle");
  // Pillow's draft() picks the same DCT scale as ours for these sizes (1/2 for 256 and 224 px, 1/4
  // for 640x480 at 100 px), so its decode + crop + resize is an independent reference.
  std::string list;
  for (const auto& path : paths_) list += path + "\n";
  write_file_atomic((dir_ / "list").string(), list);
  write_file_atomic(
      (dir_ / "oracle.py").string(),
      "import sys\nfrom PIL import Image\nS = int(sys.argv[2])\nout = open(sys.argv[3], 'wb')\n"
      "for path in open(sys.argv[1]).read().split():\n"
      "    im = Image.open(path)\n    im.draft('RGB', (S, S))\n    im = im.convert('RGB')\n"
      "    w, h = im.size\n    s = min(w, h)\n    l, t = (w - s) // 2, (h - s) // 2\n"
      "    out.write(im.crop((l, t, l + s, t + s)).resize((S, S), Image.BILINEAR).tobytes())\n");
  const std::string command = "/usr/bin/python3 " + (dir_ / "oracle.py").string() + " " +
                              (dir_ / "list").string() + " 100 " + (dir_ / "oracle.raw").string();
  ASSERT_EQ(std::system(command.c_str()), 0);
  const std::string pillow = read_file((dir_ / "oracle.raw").string());
  ASSERT_EQ(pillow.size(), names_.size() * image_bytes);
  for (size_t i = 0; i < names_.size(); ++i) {
    int worst = 0;
    for (size_t k = 0; k < image_bytes; ++k)
      worst = std::max(
          worst, std::abs(cache.image(i)[k] - static_cast<uint8_t>(pillow[i * image_bytes + k])));
    EXPECT_LE(worst, 1) << names_[i];
  }
}

TEST_F(ImageCacheTest, ReusedWhenUnchangedRebuiltWhenAnInputOrTheSizeChanges) {
  const uint64_t first = build_image_cache(names_, paths_, cache_path_, options_).bytes;
  EXPECT_GT(first, 0u);
  const auto first_write = fs::last_write_time(cache_path_);
  const CacheBuildResult again = build_image_cache(names_, paths_, cache_path_, options_);
  EXPECT_TRUE(again.reused);
  EXPECT_EQ(fs::last_write_time(cache_path_), first_write);

  fs::last_write_time(paths_[2], fs::last_write_time(paths_[2]) + std::chrono::seconds(5));
  const CacheBuildResult touched = build_image_cache(names_, paths_, cache_path_, options_);
  EXPECT_FALSE(touched.reused);
  EXPECT_TRUE(build_image_cache(names_, paths_, cache_path_, options_).reused);

  options_.image_size = 64;
  EXPECT_FALSE(build_image_cache(names_, paths_, cache_path_, options_).reused);
  EXPECT_EQ(ImageCache::open(cache_path_).image_size(), 64);
  options_.fit.mode = FitMode::kPad;
  EXPECT_FALSE(build_image_cache(names_, paths_, cache_path_, options_).reused);
  options_.fit.colour = ColourMode::kShadesOfGray;
  EXPECT_FALSE(build_image_cache(names_, paths_, cache_path_, options_).reused);
  names_.pop_back();
  paths_.pop_back();
  EXPECT_FALSE(build_image_cache(names_, paths_, cache_path_, options_).reused);
  EXPECT_EQ(ImageCache::open(cache_path_).size(), names_.size());
}

TEST_F(ImageCacheTest, BadImageStopsTheBuildNamingItAndLeavesNoCache) {
  const std::string jpeg = read_file(paths_[1]);
  const auto bad = (dir_ / "images/bad.jpg").string();
  write_file_atomic(bad, jpeg.substr(0, jpeg.size() / 2));
  names_.insert(names_.begin() + 3, "bad");
  paths_.insert(paths_.begin() + 3, bad);
  const size_t files_before = files_in_dir();
  try {
    build_image_cache(names_, paths_, cache_path_, options_);
    ADD_FAILURE() << "no error for a truncated JPEG";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(cache_path_));
  EXPECT_EQ(files_in_dir(), files_before) << "no temp file left behind";

  paths_[3] = (dir_ / "images/missing.jpg").string();
  try {
    build_image_cache(names_, paths_, cache_path_, options_);
    ADD_FAILURE() << "no error for a missing image";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(paths_[3]), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(cache_path_));
}

TEST_F(ImageCacheTest, TruncatedOrForeignCacheIsRefusedWithItsName) {
  build_image_cache(names_, paths_, cache_path_, options_);
  const std::string bytes = read_file(cache_path_);
  const auto truncated = (dir_ / "truncated.bin").string();
  write_file_atomic(truncated, bytes.substr(0, bytes.size() - 5000));
  const auto foreign = (dir_ / "foreign.bin").string();
  write_file_atomic(foreign, std::string(10000, 'x'));
  const auto tiny = (dir_ / "tiny.bin").string();
  write_file_atomic(tiny, "DERMSIMC");
  for (const auto& path : {truncated, foreign, tiny}) {
    try {
      ImageCache::open(path);
      ADD_FAILURE() << "opened " << path;
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  // A damaged cache at the build path is replaced, not an error.
  write_file_atomic(cache_path_, bytes.substr(0, bytes.size() / 2));
  EXPECT_FALSE(build_image_cache(names_, paths_, cache_path_, options_).reused);
  EXPECT_EQ(ImageCache::open(cache_path_).size(), names_.size());
}

TEST_F(ImageCacheTest, MovedCacheKeepsItsMappingAndChannelStatsMatchADirectSum) {
  build_image_cache(names_, paths_, cache_path_, options_);
  ImageCache opened = ImageCache::open(cache_path_);
  const ImageCache cache = std::move(opened);
  EXPECT_EQ(opened.size(), 0u);
  ASSERT_EQ(cache.size(), names_.size());
  const std::vector<size_t> subset = {0, 2, 5, 6};
  const ChannelStats stats = channel_stats(cache, subset);
  const size_t pixels = 100 * 100;
  for (int c = 0; c < 3; ++c) {
    double sum = 0;
    for (size_t i : subset)
      for (size_t k = 0; k < pixels; ++k) sum += cache.image(i)[3 * k + c] / 255.0;
    const double mean = sum / (pixels * subset.size());
    double squares = 0;
    for (size_t i : subset)
      for (size_t k = 0; k < pixels; ++k)
        squares += std::pow(cache.image(i)[3 * k + c] / 255.0 - mean, 2);
    EXPECT_NEAR(stats.mean[c], mean, 1e-9);
    EXPECT_NEAR(stats.std[c], std::sqrt(squares / (pixels * subset.size())), 1e-9);
    EXPECT_GT(stats.std[c], 0.01);
  }
}

}  // namespace
}  // namespace dermsim
