// JPEG and PNG encoding of RGB pixels (thumbnails in the report; lossless saliency overlays): the
// writing side of decode.h.
#pragma once

#include <cstdint>
#include <string>

namespace dermsim {

// Returns the JPEG file bytes of an HWC RGB image.
std::string encode_jpeg(const uint8_t* rgb, int width, int height, int quality = 85);

// Returns the PNG file bytes (8-bit RGB, lossless) of an HWC RGB image.
std::string encode_png(const uint8_t* rgb, int width, int height);

}  // namespace dermsim
