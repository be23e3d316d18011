// Decodes one JPEG or PNG file to 8-bit RGB. JPEGs decode with DCT-domain scaling, so a 6000x4000
// original headed for a 128 px cache costs about an eighth of a full decode.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dermsim {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // HWC, RGB, row-major: width * height * 3 bytes
};

// Decodes `path` (format detected from its first bytes, not its extension). A JPEG is decoded at
// the smallest TurboJPEG scaling factor (<= 1) whose scaled width and height are both >= min_side;
// min_side <= 0 decodes at full size. Any unreadable, empty, truncated, corrupt or non-image file
// throws UserError naming the file and the problem.
RgbImage decode_image_file(const std::string& path, int min_side);

// Same, for a file already in memory; `path` is only used in error messages.
RgbImage decode_image_bytes(const std::string& bytes, const std::string& path, int min_side);

}  // namespace dermsim
