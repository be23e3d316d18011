// JPEG (TurboJPEG, DCT-scaled) and PNG (libpng simplified API) decoding to RGB, with errors that
// name the file. Corrupt-data warnings count as errors: a half-grey image in the cache is worse
// than a stop.
#include "image/decode.h"

#include <png.h>
#include <turbojpeg.h>

#include <cstring>

#include "common/atomic_file.h"
#include "common/error.h"

namespace dermsim {

namespace {

// Refuse images whose decoded pixels would not fit comfortably in memory (a forged header can claim
// 65535x65535); ISIC originals are at most ~24 Mpx.
constexpr long long kMaxDecodedPixels = 1LL << 28;

bool starts_with(const std::string& bytes, const unsigned char* magic, size_t n) {
  return bytes.size() >= n && std::memcmp(bytes.data(), magic, n) == 0;
}

// One decompressor per thread: creating one per image costs allocations the cache build does 33k
// times.
class ThreadDecompressor {
 public:
  ThreadDecompressor() : handle_(tjInitDecompress()) {}
  ~ThreadDecompressor() {
    if (handle_) tjDestroy(handle_);
  }
  ThreadDecompressor(const ThreadDecompressor&) = delete;
  ThreadDecompressor& operator=(const ThreadDecompressor&) = delete;
  tjhandle get() const { return handle_; }

 private:
  tjhandle handle_;
};

tjhandle thread_decompressor(const std::string& path) {
  thread_local ThreadDecompressor decompressor;
  if (!decompressor.get())
    throw UserError(path + ": cannot start the JPEG decoder: " + tjGetErrorStr2(nullptr));
  return decompressor.get();
}

// The smallest factor <= 1 that keeps both sides >= min_side, so later resizing still has at least
// as many pixels as it outputs; 1/1 if none does.
tjscalingfactor choose_scaling(int width, int height, int min_side) {
  tjscalingfactor best{1, 1};
  if (min_side <= 0) return best;
  int count = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&count);
  for (int i = 0; factors && i < count; ++i) {
    const tjscalingfactor f = factors[i];
    if (f.num > f.denom) continue;
    if (TJSCALED(width, f) < min_side || TJSCALED(height, f) < min_side) continue;
    if (static_cast<long long>(f.num) * best.denom < static_cast<long long>(best.num) * f.denom)
      best = f;
  }
  return best;
}

RgbImage decode_jpeg(const std::string& bytes, const std::string& path, int min_side) {
  tjhandle tj = thread_decompressor(path);
  auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto size = static_cast<unsigned long>(bytes.size());
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(tj, data, size, &width, &height, &subsampling, &colorspace) != 0)
    throw UserError(path + ": corrupt JPEG header: " + tjGetErrorStr2(tj));
  if (width <= 0 || height <= 0) throw UserError(path + ": JPEG has no pixels");

  const tjscalingfactor scale = choose_scaling(width, height, min_side);
  RgbImage image;
  image.width = TJSCALED(width, scale);
  image.height = TJSCALED(height, scale);
  if (static_cast<long long>(image.width) * image.height > kMaxDecodedPixels)
    throw UserError(path + ": JPEG too large (" + std::to_string(width) + "x" +
                    std::to_string(height) + ")");
  image.pixels.resize(static_cast<size_t>(image.width) * image.height * 3);
  // STOPONWARNING: a truncated file is only a libjpeg *warning* ("Premature end of JPEG file").
  if (tjDecompress2(tj, data, size, image.pixels.data(), image.width, 0, image.height, TJPF_RGB,
                    TJFLAG_STOPONWARNING) != 0)
    throw UserError(path + ": corrupt or truncated JPEG: " + tjGetErrorStr2(tj));
  return image;
}

RgbImage decode_png(const std::string& bytes, const std::string& path) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
    throw UserError(path + ": corrupt PNG header: " + png.message);
  png.format = PNG_FORMAT_RGB;  // libpng converts grey, palette and 16-bit, and composites alpha
  RgbImage image;
  image.width = static_cast<int>(png.width);
  image.height = static_cast<int>(png.height);
  if (static_cast<long long>(png.width) * png.height > kMaxDecodedPixels) {
    png_image_free(&png);
    throw UserError(path + ": PNG too large (" + std::to_string(png.width) + "x" +
                    std::to_string(png.height) + ")");
  }
  image.pixels.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr)) {
    const std::string message = png.message;
    png_image_free(&png);
    throw UserError(path + ": corrupt or truncated PNG: " + message);
  }
  return image;
}

}  // namespace

RgbImage decode_image_bytes(const std::string& bytes, const std::string& path, int min_side) {
  static const unsigned char kJpegMagic[] = {0xFF, 0xD8, 0xFF};
  static const unsigned char kPngMagic[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.empty()) throw UserError(path + ": empty file, expected a JPEG or PNG image");
  if (starts_with(bytes, kJpegMagic, sizeof kJpegMagic)) return decode_jpeg(bytes, path, min_side);
  if (starts_with(bytes, kPngMagic, sizeof kPngMagic)) return decode_png(bytes, path);
  throw UserError(path + ": not a JPEG or PNG image (unrecognised first bytes)");
}

RgbImage decode_image_file(const std::string& path, int min_side) {
  return decode_image_bytes(read_file(path), path, min_side);
}

}  // namespace dermsim
