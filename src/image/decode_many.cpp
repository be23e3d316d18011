#include "image/decode_many.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "common/error.h"
#include "image/decode.h"

namespace dermsim {

DecodedImages decode_and_fit(const std::vector<std::string>& paths, int size, FitMode fit,
                             int threads) {
  DecodedImages out;
  out.images.resize(paths.size());
  out.errors.resize(paths.size());
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min<int>(threads, static_cast<int>(std::max<size_t>(1, paths.size())));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < paths.size(); i = next++) {
      try {
        out.images[i] = fit_square(decode_image_file(paths[i], size), size, fit);
      } catch (const std::exception& e) {
        out.errors[i] = e.what();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
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
