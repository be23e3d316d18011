// Decoding tests: shipped ISIC/HAM JPEGs against Pillow's decoder, DCT scaling of a large synthetic
// JPEG, PNG, and one UserError naming the file for every kind of bad input.
#include <gtest/gtest.h>
#include <png.h>
#include <turbojpeg.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/atomic_file.h"
#include "common/error.h"
#include "image/decode.h"
#include "support/oracle.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = DERMSIM_SOURCE_DIR;

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("dermsim_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<std::string> first_jpegs(const fs::path& dir, size_t n) {
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".jpg") paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  if (paths.size() > n) paths.resize(n);
  return paths;
}

bool have_pillow() {
  return std::system("/usr/bin/python3 -c 'import PIL' >/dev/null 2>&1") == 0;
}

// Pillow's decode of `path`, with draft() at `draft_side` (0 = full size), as an RgbImage.
RgbImage pillow_decode(const std::string& path, int draft_side, const fs::path& dir) {
  const auto script = dir / "decode.py", out = dir / "pillow.raw";
  write_file_atomic(script.string(),
                    "import sys, struct\nfrom PIL import Image\n"
                    "im = Image.open(sys.argv[1])\nd = int(sys.argv[2])\n"
                    "if d > 0: im.draft('RGB', (d, d))\n"
                    "im = im.convert('RGB')\n"
                    "open(sys.argv[3], 'wb').write(struct.pack('<ii', *im.size) + im.tobytes())\n");
  const std::string command = "/usr/bin/python3 " + script.string() + " " + path + " " +
                              std::to_string(draft_side) + " " + out.string();
  if (std::system(command.c_str()) != 0) throw std::runtime_error("pillow failed: " + command);
  const std::string bytes = read_file(out.string());
  RgbImage image;
  std::memcpy(&image.width, bytes.data(), 4);
  std::memcpy(&image.height, bytes.data() + 4, 4);
  image.pixels.assign(bytes.begin() + 8, bytes.end());
  return image;
}

int max_difference(const RgbImage& a, const RgbImage& b) {
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  if (a.pixels.size() != b.pixels.size()) return 256;
  int worst = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i)
    worst = std::max(worst, std::abs(a.pixels[i] - b.pixels[i]));
  return worst;
}

// A smooth colour field: JPEG keeps it nearly exactly, so decoded values can be checked by formula.
uint8_t gradient(int x, int y, int c, int width, int height) {
  const double value = c == 0 ? 255.0 * x / width : c == 1 ? 255.0 * y / height : 128.0;
  return static_cast<uint8_t>(value);
}

void write_synthetic_jpeg(const std::string& path, int width, int height) {
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        rgb[(static_cast<size_t>(y) * width + x) * 3 + c] = gradient(x, y, c, width, height);
  tjhandle tj = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long jpeg_size = 0;
  ASSERT_EQ(
      tjCompress2(tj, rgb.data(), width, 0, height, TJPF_RGB, &jpeg, &jpeg_size, TJSAMP_420, 90, 0),
      0)
      << tjGetErrorStr2(tj);
  write_file_atomic(path, std::string(reinterpret_cast<char*>(jpeg), jpeg_size));
  tjFree(jpeg);
  tjDestroy(tj);
}

TEST(DecodeImage, ShippedJpegsMatchPillowAtFullAndScaledSize) {
  const auto isic = first_jpegs(kSource / "data/isic2020/train", 3);
  const auto ham = first_jpegs(kSource / "data/ham10000/train", 3);
  ASSERT_EQ(isic.size(), 3u);
  ASSERT_EQ(ham.size(), 3u);
  for (const auto& path : isic) {
    const RgbImage full = decode_image_file(path, 0);
    EXPECT_EQ(full.width, 256);
    EXPECT_EQ(full.height, 256);
    EXPECT_EQ(decode_image_file(path, 100).width, 128)
        << "256 px at 1/2 is the smallest side >= 100";
    EXPECT_EQ(decode_image_file(path, 129).width, 160) << "5/8 is the next factor above 1/2";
  }
  for (const auto& path : ham) {
    const RgbImage full = decode_image_file(path, 0);
    EXPECT_EQ(full.width, 224);
    EXPECT_EQ(full.height, 224);
    EXPECT_EQ(decode_image_file(path, 300).width, 224) << "never upscales in the DCT domain";
  }
  if (!have_pillow())
    ORACLE_UNAVAILABLE("/usr/bin/python3 with Pillow not available for the pixel oracle");
  const auto dir = fresh_dir("decode_pillow");
  for (const auto& path : {isic[0], isic[1], ham[0], ham[1]}) {
    EXPECT_LE(max_difference(decode_image_file(path, 0), pillow_decode(path, 0, dir)), 1) << path;
    // Pillow's draft() picks 1/2 for these sizes too, so both scaled decodes must agree.
    EXPECT_LE(max_difference(decode_image_file(path, 100), pillow_decode(path, 100, dir)), 1)
        << path;
  }
  fs::remove_all(dir);
}

TEST(DecodeImage, LargeJpegDecodesWithDctScaling) {
  const auto dir = fresh_dir("decode_large");
  const auto path = (dir / "large.jpg").string();
  write_synthetic_jpeg(path, 3000, 2000);
  for (int min_side : {128, 200, 300, 600}) {
    const RgbImage image = decode_image_file(path, min_side);
    const int short_side = std::min(image.width, image.height);
    EXPECT_GE(short_side, min_side);
    EXPECT_LE(short_side, 2 * min_side);
    EXPECT_EQ(image.width * 2, image.height * 3) << "aspect ratio kept";
  }
  const RgbImage small = decode_image_file(path, 200);
  EXPECT_EQ(small.width, 375);  // 1/8 of 3000
  double error = 0;
  for (int y = 0; y < small.height; ++y)
    for (int x = 0; x < small.width; ++x)
      for (int c = 0; c < 3; ++c) {
        // Each scaled pixel averages an 8x8 block whose centre is at 8x+3.5 in the original.
        const double expected = c == 0   ? 255.0 * (8 * x + 3.5) / 3000
                                : c == 1 ? 255.0 * (8 * y + 3.5) / 2000
                                         : 128;
        error +=
            std::abs(small.pixels[(static_cast<size_t>(y) * small.width + x) * 3 + c] - expected);
      }
  EXPECT_LT(error / small.pixels.size(), 2.0) << "mean absolute error against the gradient formula";
  const RgbImage full = decode_image_file(path, 0);
  EXPECT_EQ(full.width, 3000);
  EXPECT_EQ(full.height, 2000);
  fs::remove_all(dir);
}

TEST(DecodeImage, PngDecodesExactlyWhateverItsExtension) {
  const auto dir = fresh_dir("decode_png");
  const int width = 37, height = 23;
  std::vector<uint8_t> rgb(width * height * 3);
  std::mt19937 rng(7);
  for (auto& v : rgb) v = static_cast<uint8_t>(rng());
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = width;
  png.height = height;
  png.format = PNG_FORMAT_RGB;
  const auto path = (dir / "actually_png.jpg").string();
  ASSERT_TRUE(png_image_write_to_file(&png, path.c_str(), 0, rgb.data(), 0, nullptr))
      << png.message;
  const RgbImage image = decode_image_file(path, 8);
  EXPECT_EQ(image.width, width);
  EXPECT_EQ(image.height, height);
  EXPECT_EQ(image.pixels, rgb);

  const std::string bytes = read_file(path);
  const auto truncated = (dir / "truncated.png").string();
  write_file_atomic(truncated, bytes.substr(0, bytes.size() / 2));
  EXPECT_THROW(decode_image_file(truncated, 8), UserError);
  fs::remove_all(dir);
}

void expect_user_error_naming(const std::string& path, const std::string& why) {
  try {
    decode_image_file(path, 64);
    ADD_FAILURE() << why << ": no error for " << path;
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << why << ": " << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line: " << e.what();
  }
}

TEST(DecodeImage, BadFilesAreUserErrorsNamingTheFile) {
  const auto dir = fresh_dir("decode_bad");
  const std::string jpeg = read_file(first_jpegs(kSource / "data/isic2020/train", 1).at(0));
  std::mt19937 rng(3);
  std::string noise(5000, '\0');
  for (auto& ch : noise) ch = static_cast<char>(rng());
  std::string corrupt_middle = jpeg;
  for (size_t i = jpeg.size() / 3; i < jpeg.size() / 3 + 2000; ++i)
    corrupt_middle[i] = static_cast<char>(rng());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"truncated.jpg", jpeg.substr(0, jpeg.size() / 2)},
      {"header_only.jpg", jpeg.substr(0, 200)},
      {"noise.jpg", noise},
      {"empty.jpg", ""},
      {"text.jpg", "image_name,target\nISIC_0000000,0\n"},
      {"corrupt_middle.jpg", corrupt_middle},
  };
  for (const auto& [name, contents] : cases) {
    const auto path = (dir / name).string();
    write_file_atomic(path, contents);
    expect_user_error_naming(path, name);
  }
  expect_user_error_naming((dir / "missing.jpg").string(), "missing file");
  fs::remove_all(dir);
}


// Compresses `pixels` (width x height of `format`) with TurboJPEG: CMYK input is stored as YCCK,
// as Photoshop does.
std::string compress_jpeg(const std::vector<uint8_t>& pixels, int width, int height, int format,
                          int subsampling) {
  tjhandle tj = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long jpeg_size = 0;
  const int status = tjCompress2(tj, pixels.data(), width, 0, height, format, &jpeg, &jpeg_size,
                                 subsampling, 95, 0);
  EXPECT_EQ(status, 0) << tjGetErrorStr2(tj);
  std::string bytes(reinterpret_cast<char*>(jpeg), jpeg_size);
  tjFree(jpeg);
  tjDestroy(tj);
  return bytes;
}

int jpeg_colorspace(const std::string& bytes) {
  tjhandle tj = tjInitDecompress();
  int width = 0, height = 0, subsampling = 0, colorspace = -1;
  tjDecompressHeader3(tj, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                      &width, &height, &subsampling, &colorspace);
  tjDestroy(tj);
  return colorspace;
}

TEST(DecodeImage, CmykJpegDecodesToRgb) {
  // Four 8x8 blocks of flat inverted CMYK (255 = no ink) and the RGB each must become:
  // R = C * K / 255 (libjpeg-turbo's convention for Adobe CMYK).
  struct Block {
    uint8_t cmyk[4];
    uint8_t rgb[3];
  };
  const Block blocks[] = {
      {{255, 255, 255, 255}, {255, 255, 255}},  // no ink: white
      {{255, 0, 0, 255}, {255, 0, 0}},          // full magenta + yellow: red
      {{255, 255, 255, 0}, {0, 0, 0}},          // full black
      {{200, 100, 50, 128}, {100, 50, 25}},     // a mix, with some black
  };
  const int width = 16, height = 16;
  std::vector<uint8_t> cmyk(width * height * 4);
  auto block_of = [](int x, int y) { return (y / 8) * 2 + x / 8; };
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      std::memcpy(&cmyk[(y * width + x) * 4], blocks[block_of(x, y)].cmyk, 4);
  const std::string jpeg = compress_jpeg(cmyk, width, height, TJPF_CMYK, TJSAMP_444);
  ASSERT_EQ(jpeg_colorspace(jpeg), TJCS_YCCK) << "the test must exercise the CMYK path";

  const RgbImage image = decode_image_bytes(jpeg, "cmyk.jpg", 0);
  ASSERT_EQ(image.width, width);
  ASSERT_EQ(image.height, height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        EXPECT_NEAR(image.pixels[(y * width + x) * 3 + c], blocks[block_of(x, y)].rgb[c], 6)
            << "pixel " << x << "," << y << " channel " << c;
}

TEST(DecodeImage, GreyJpegDecodesToEqualChannels) {
  std::vector<uint8_t> grey(16 * 16);
  for (size_t i = 0; i < grey.size(); ++i) grey[i] = static_cast<uint8_t>(i);
  const std::string jpeg = compress_jpeg(grey, 16, 16, TJPF_GRAY, TJSAMP_GRAY);
  ASSERT_EQ(jpeg_colorspace(jpeg), TJCS_GRAY);
  const RgbImage image = decode_image_bytes(jpeg, "grey.jpg", 0);
  ASSERT_EQ(image.pixels.size(), grey.size() * 3);
  for (size_t i = 0; i < grey.size(); ++i) {
    EXPECT_NEAR(image.pixels[i * 3], grey[i], 4);
    EXPECT_EQ(image.pixels[i * 3], image.pixels[i * 3 + 1]);
    EXPECT_EQ(image.pixels[i * 3], image.pixels[i * 3 + 2]);
  }
}

TEST(DecodeImage, NonRegularAndOversizedFilesAreRefusedWithoutReading) {
  const auto dir = fresh_dir("decode_special");
  const auto fifo = (dir / "pipe.jpg").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto folder = (dir / "folder.jpg").string();
  fs::create_directories(folder);
  // A sparse file one byte over the cap: no disk used, and it must not be read into memory.
  const auto huge = (dir / "huge.jpg").string();
  { std::ofstream(huge).put('\xFF'); }
  fs::resize_file(huge, kMaxImageFileBytes + 1);
  const std::pair<std::string, std::string> cases[] = {
      {"/dev/zero", "a device"},
      {fifo, "a FIFO"},  // opening it for reading must not wait for a writer
      {folder, "a directory"},
      {huge, "too large"},
  };
  for (const auto& [path, why] : cases) {
    const std::string message = testing::error_of([&] { decode_image_file(path, 0); });
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(why), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
  }
  fs::remove_all(dir);
}

// A valid PNG signature and IHDR (with its CRC) claiming width x height, and no pixel data.
std::string png_header(uint32_t width, uint32_t height) {
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  std::string chunk = "IHDR" + be32(width) + be32(height) + std::string("\x08\x02\x00\x00\x00", 5);
  const auto crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(chunk.data()), static_cast<uInt>(chunk.size())));
  // libpng reads the header up to the first IDAT: an empty one, then IEND.
  std::string out = std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + chunk + be32(crc);
  for (const char* type : {"IDAT", "IEND"})
    out += be32(0) + type + be32(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(type), 4)));
  return out;
}

// A real 8x8 JPEG whose SOF0 frame header is patched to claim width x height.
std::string jpeg_claiming(uint16_t width, uint16_t height) {
  std::string jpeg = compress_jpeg(std::vector<uint8_t>(8 * 8 * 3, 128), 8, 8, TJPF_RGB, TJSAMP_444);
  const size_t sof = jpeg.find("\xFF\xC0");
  EXPECT_NE(sof, std::string::npos);
  // FF C0, length (2), precision (1), height (2), width (2)
  jpeg[sof + 5] = static_cast<char>(height >> 8);
  jpeg[sof + 6] = static_cast<char>(height);
  jpeg[sof + 7] = static_cast<char>(width >> 8);
  jpeg[sof + 8] = static_cast<char>(width);
  return jpeg;
}

TEST(DecodeImage, HugeDimensionsAreRefusedBeforeDecoding) {
  // 20000 x 20000 = 400 Mpx, 1.2 GB of RGB: refused from the header alone.
  for (const auto& [name, bytes] : {std::pair{std::string("huge.png"), png_header(20000, 20000)},
                                    std::pair{std::string("huge.jpg"), jpeg_claiming(20000, 20000)}}) {
    const std::string message = testing::error_of([&] { decode_image_bytes(bytes, name, 128); });
    EXPECT_EQ(message.rfind(name + ": ", 0), 0u) << message;
    EXPECT_NE(message.find("20000x20000"), std::string::npos) << message;
    EXPECT_NE(message.find("megapixels"), std::string::npos) << message;
  }
  // An ISIC-sized header is not refused for its size (it has no pixel data, so it fails later).
  const std::string message =
      testing::error_of([] { decode_image_bytes(png_header(6000, 4000), "ok.png", 0); });
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  EXPECT_EQ(message.find("megapixels"), std::string::npos) << message;
}

TEST(DecodeImage, IsicSizedOriginalStillDecodes) {
  // 6000x4000 = 24 Mpx, the largest ISIC 2020 originals.
  std::vector<uint8_t> rgb(6000 * 4000 * 3, 90);
  const std::string jpeg = compress_jpeg(rgb, 6000, 4000, TJPF_RGB, TJSAMP_420);
  const RgbImage image = decode_image_bytes(jpeg, "isic.jpg", 128);
  EXPECT_EQ(image.width, 750);  // 1/8 scale
  EXPECT_EQ(image.height, 500);
}

}  // namespace
}  // namespace dermsim
