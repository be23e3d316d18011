#include "image/decode_many.h"

#include <algorithm>
#include <filesystem>

#include "common/error.h"
#include "common/parallel_for.h"
#include "image/decode.h"

namespace dermsim {

DecodedImages decode_and_fit(const std::vector<std::string>& paths, int size, const ImageFit& fit,
                             int threads) {
  DecodedImages out;
  out.images.resize(paths.size());
  out.errors.resize(paths.size());
  parallel_for(paths.size(), threads, [&](size_t i) {
    try {
      out.images[i] = fit_square(decode_image_file(paths[i], size), size, fit);
    } catch (const std::exception& e) {
      out.errors[i] = e.what();
    }
  });
  return out;
}

std::vector<std::string> list_image_files(const std::string& dir) {
  if (!std::filesystem::is_directory(dir)) throw UserError(dir + ": not a folder");
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string image_id_from_path(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

}  // namespace dermsim
