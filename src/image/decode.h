// Decodes one JPEG or PNG file to 8-bit RGB. JPEGs decode with DCT-domain scaling, so a 6000x4000
// original headed for a 128 px cache costs about an eighth of a full decode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dermsim {

// Image files larger than this are refused before reading: an ISIC 2020 original (6000x4000 JPEG)
// is 2-10 MB and even a 24 Mpx 16-bit PNG is under 150 MB, so 256 MiB fits any dermoscopic image
// while a wrong path (a disk image, a video) cannot fill memory.
constexpr size_t kMaxImageFileBytes = size_t{256} << 20;
// Images whose header claims more pixels than this are refused before any pixel buffer is
// allocated (a forged 100-byte header can claim 65535x65535 = 4.3 Gpx, 12.9 GB of RGB). ISIC's
// largest originals are 6000x4000 = 24 Mpx; 100 Mpx leaves 4x headroom for other dermatoscopes.
constexpr long long kMaxImagePixels = 100'000'000;

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // HWC, RGB, row-major: width * height * 3 bytes
};

// Decodes `path` (format detected from its first bytes, not its extension). A JPEG is decoded at
// the smallest TurboJPEG scaling factor (<= 1) whose scaled width and height are both >= min_side;
// min_side <= 0 decodes at full size. Grey, RGB, CMYK and YCCK JPEGs are supported (CMYK as
// Photoshop writes it, inverted); PNGs of any colour type. Any unreadable, empty, truncated,
// corrupt or non-image file, anything that is not a regular file (directory, device, FIFO), a file
// above kMaxImageFileBytes or an image above kMaxImagePixels throws UserError naming the file.
RgbImage decode_image_file(const std::string& path, int min_side);

// Same, for a file already in memory; `path` is only used in error messages. max_pixels: a lower
// limit for untrusted input (server uploads), checked from the header like kMaxImagePixels.
RgbImage decode_image_bytes(const std::string& bytes, const std::string& path, int min_side,
                            long long max_pixels = kMaxImagePixels);

}  // namespace dermsim
