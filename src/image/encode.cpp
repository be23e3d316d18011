#include "image/encode.h"

#include <png.h>
#include <turbojpeg.h>

#include <cstring>

#include <stdexcept>

namespace dermsim {

std::string encode_jpeg(const uint8_t* rgb, int width, int height, int quality) {
  tjhandle handle = tjInitCompress();
  if (!handle) throw std::runtime_error("encode_jpeg: cannot create a TurboJPEG compressor");
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  const int status = tjCompress2(handle, rgb, width, 0, height, TJPF_RGB, &buffer, &size,
                                 TJSAMP_420, quality, TJFLAG_ACCURATEDCT);
  std::string out;
  if (status == 0) out.assign(reinterpret_cast<const char*>(buffer), size);
  const std::string error = status == 0 ? "" : tjGetErrorStr2(handle);
  tjFree(buffer);
  tjDestroy(handle);
  if (status != 0) throw std::runtime_error("encode_jpeg: " + error);
  return out;
}

std::string encode_png(const uint8_t* rgb, int width, int height) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(width);
  png.height = static_cast<png_uint_32>(height);
  png.format = PNG_FORMAT_RGB;
  // First call sizes the buffer, second fills it (libpng's simplified write-to-memory API).
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&png, nullptr, &size, 0, rgb, 0, nullptr))
    throw std::runtime_error(std::string("encode_png: ") + png.message);
  std::string out(size, '\0');
  if (!png_image_write_to_memory(&png, out.data(), &size, 0, rgb, 0, nullptr))
    throw std::runtime_error(std::string("encode_png: ") + png.message);
  out.resize(size);
  return out;
}

}  // namespace dermsim
