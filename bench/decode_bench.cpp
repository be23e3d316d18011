// Decode + fit to the 128 px cache size: DCT-scaled against full-size TurboJPEG decoding on a large
// synthetic JPEG (ISIC originals are up to 6000x4000), and the shipped 256 px ISIC images.
#include <benchmark/benchmark.h>
#include <turbojpeg.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/atomic_file.h"
#include "image/decode.h"
#include "image/resize.h"

namespace {

namespace fs = std::filesystem;
constexpr int kCacheSize = 128;

// A 4000x3000 4:2:0 JPEG with a gradient plus noise, so its entropy-coded size resembles a photo's.
const std::string& large_jpeg_path() {
  static const std::string path = [] {
    const int width = 4000, height = 3000;
    std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
    std::mt19937 rng(1);
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        for (int c = 0; c < 3; ++c) {
          const int base = c == 0 ? x * 200 / width : c == 1 ? y * 200 / height : 120;
          rgb[(static_cast<size_t>(y) * width + x) * 3 + c] =
              static_cast<uint8_t>(base + rng() % 40);
        }
    tjhandle tj = tjInitCompress();
    unsigned char* jpeg = nullptr;
    unsigned long size = 0;
    if (tjCompress2(tj, rgb.data(), width, 0, height, TJPF_RGB, &jpeg, &size, TJSAMP_420, 90, 0) !=
        0)
      throw std::runtime_error(tjGetErrorStr2(tj));
    const auto file =
        fs::temp_directory_path() / ("dermsim_decode_bench_" + std::to_string(::getpid()) + ".jpg");
    dermsim::write_file_atomic(file.string(), std::string(reinterpret_cast<char*>(jpeg), size));
    tjFree(jpeg);
    tjDestroy(tj);
    std::atexit([] { fs::remove(large_jpeg_path()); });
    return file.string();
  }();
  return path;
}

std::vector<std::string> shipped_jpegs() {
  std::vector<std::string> paths;
  for (const auto& entry :
       fs::directory_iterator(fs::path(DERMSIM_SOURCE_DIR) / "data/isic2020/train"))
    if (entry.path().extension() == ".jpg") paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  return paths;
}

// min_side = kCacheSize lets TurboJPEG scale in the DCT domain; 0 forces a full-size decode.
void decode_and_fit(benchmark::State& state, const std::vector<std::string>& paths, int min_side) {
  size_t next = 0;
  for (auto _ : state) {
    const dermsim::RgbImage image =
        dermsim::decode_image_file(paths[next++ % paths.size()], min_side);
    benchmark::DoNotOptimize(dermsim::fit_square(image, kCacheSize).pixels.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Large4000x3000_DctScaled(benchmark::State& state) {
  decode_and_fit(state, {large_jpeg_path()}, kCacheSize);
}
void BM_Large4000x3000_FullDecode(benchmark::State& state) {
  decode_and_fit(state, {large_jpeg_path()}, 0);
}
void BM_Shipped256_DctScaled(benchmark::State& state) {
  decode_and_fit(state, shipped_jpegs(), kCacheSize);
}
void BM_Shipped256_FullDecode(benchmark::State& state) {
  decode_and_fit(state, shipped_jpegs(), 0);
}

BENCHMARK(BM_Large4000x3000_DctScaled)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Large4000x3000_FullDecode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Shipped256_DctScaled)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Shipped256_FullDecode)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
