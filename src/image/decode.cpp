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

// Checked on the header's size, before anything is allocated or decoded.
void check_pixel_count(long long width, long long height, long long max_pixels, const char* format,
                       const std::string& path) {
  if (width * height > max_pixels)
    throw UserError(path + ": " + format + " too large (" + std::to_string(width) + "x" +
                    std::to_string(height) + " pixels; the limit is " +
                    std::to_string(max_pixels / 1'000'000) + " megapixels)");
}

// TurboJPEG hands CMYK out as stored, which for Adobe/Photoshop files (the only common writer) is
// inverted: 255 means no ink. So R = C * K / 255, as libjpeg-turbo's own tjutil cmyk_to_rgb.
void cmyk_to_rgb(const std::vector<uint8_t>& cmyk, std::vector<uint8_t>& rgb) {
  const size_t pixels = cmyk.size() / 4;
  rgb.resize(pixels * 3);
  for (size_t i = 0; i < pixels; ++i) {
    const unsigned k = cmyk[i * 4 + 3];
    for (int c = 0; c < 3; ++c)
      rgb[i * 3 + c] = static_cast<uint8_t>((cmyk[i * 4 + c] * k + 127) / 255);
  }
}

RgbImage decode_jpeg(const std::string& bytes, const std::string& path, int min_side,
                     long long max_pixels) {
  tjhandle tj = thread_decompressor(path);
  auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto size = static_cast<unsigned long>(bytes.size());
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(tj, data, size, &width, &height, &subsampling, &colorspace) != 0)
    throw UserError(path + ": corrupt JPEG header: " + tjGetErrorStr2(tj));
  if (width <= 0 || height <= 0) throw UserError(path + ": JPEG has no pixels");
  check_pixel_count(width, height, max_pixels, "JPEG", path);

  const tjscalingfactor scale = choose_scaling(width, height, min_side);
  RgbImage image;
  image.width = TJSCALED(width, scale);
  image.height = TJSCALED(height, scale);
  // TurboJPEG converts YCCK to CMYK itself but cannot go from either to RGB.
  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  const int format = cmyk ? TJPF_CMYK : TJPF_RGB;
  std::vector<uint8_t> decoded(static_cast<size_t>(image.width) * image.height * tjPixelSize[format]);
  // STOPONWARNING: a truncated file is only a libjpeg *warning* ("Premature end of JPEG file").
  if (tjDecompress2(tj, data, size, decoded.data(), image.width, 0, image.height, format,
                    TJFLAG_STOPONWARNING) != 0)
    throw UserError(path + ": corrupt or truncated JPEG: " + tjGetErrorStr2(tj));
  if (cmyk)
    cmyk_to_rgb(decoded, image.pixels);
  else
    image.pixels = std::move(decoded);
  return image;
}

RgbImage decode_png(const std::string& bytes, const std::string& path, long long max_pixels) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
    throw UserError(path + ": corrupt PNG header: " + png.message);
  png.format = PNG_FORMAT_RGB;  // libpng converts grey, palette and 16-bit, and composites alpha
  try {
    check_pixel_count(png.width, png.height, max_pixels, "PNG", path);
  } catch (const UserError&) {
    png_image_free(&png);
    throw;
  }
  RgbImage image;
  image.width = static_cast<int>(png.width);
  image.height = static_cast<int>(png.height);
  image.pixels.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr)) {
    const std::string message = png.message;
    png_image_free(&png);
    throw UserError(path + ": corrupt or truncated PNG: " + message);
  }
  return image;
}

}  // namespace

RgbImage decode_image_bytes(const std::string& bytes, const std::string& path, int min_side,
                            long long max_pixels) {
  static const unsigned char kJpegMagic[] = {0xFF, 0xD8, 0xFF};
  static const unsigned char kPngMagic[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.empty()) throw UserError(path + ": empty file, expected a JPEG or PNG image");
  if (starts_with(bytes, kJpegMagic, sizeof kJpegMagic)) return decode_jpeg(bytes, path, min_side, max_pixels);
  if (starts_with(bytes, kPngMagic, sizeof kPngMagic)) return decode_png(bytes, path, max_pixels);
  throw UserError(path + ": not a JPEG or PNG image (unrecognised first bytes)");
}

RgbImage decode_image_file(const std::string& path, int min_side) {
  return decode_image_bytes(read_file(path, kMaxImageFileBytes), path, min_side);
}

}  // namespace dermsim
