// Decode + fit many image files in parallel for inference (predict, similar, embed --dir).
// A file that cannot be read is reported in `errors`, not fatal: one bad upload must not stop a batch.
#pragma once

#include <string>
#include <vector>

#include "image/resize.h"

namespace dermsim {

struct DecodedImages {
  std::vector<RgbImage> images;    // same order as the paths; empty image where decoding failed
  std::vector<std::string> errors; // "" where decoding succeeded, else the one-line reason
};

DecodedImages decode_and_fit(const std::vector<std::string>& paths, int size, const ImageFit& fit,
                             int threads = 0);

// Image files (.jpg, .jpeg, .png, any case) directly inside `dir`, sorted by name.
std::vector<std::string> list_image_files(const std::string& dir);

// "ISIC_0000000" from "/x/y/ISIC_0000000.jpg": the id used in submissions.
std::string image_id_from_path(const std::string& path);

}  // namespace dermsim
