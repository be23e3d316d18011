#include "image/encode.h"

#include <turbojpeg.h>

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

}  // namespace dermsim
