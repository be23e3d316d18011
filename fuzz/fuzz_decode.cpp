// Fuzzes JPEG/PNG decoding (decode_image_bytes, at full size and DCT-scaled) and fit_square in
// both modes on whatever decodes.
#include <string>

#include "fuzz_support.h"
#include "image/decode.h"
#include "image/resize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  for (int min_side : {0, 16}) {
    dermsim::fuzz::expect_only_user_errors([&] {
      const dermsim::RgbImage image = dermsim::decode_image_bytes(bytes, "fuzz.img", min_side);
      if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3) std::abort();
      for (dermsim::ImageFit fit : {dermsim::ImageFit{dermsim::FitMode::kCenterCrop},
                                    dermsim::ImageFit{dermsim::FitMode::kPad, dermsim::ColourMode::kShadesOfGray}}) {
        const dermsim::RgbImage square = dermsim::fit_square(image, 8, fit);
        if (square.width != 8 || square.height != 8 || square.pixels.size() != 8 * 8 * 3) std::abort();
      }
    });
  }
  return 0;
}
