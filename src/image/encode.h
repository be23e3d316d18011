// JPEG encoding of RGB pixels (thumbnails in the report, overlays): the writing side of decode.h.
#pragma once

#include <cstdint>
#include <string>

namespace dermsim {

// Returns the JPEG file bytes of an HWC RGB image.
std::string encode_jpeg(const uint8_t* rgb, int width, int height, int quality = 85);

}  // namespace dermsim
