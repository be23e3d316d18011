// Augmentation throughput on the CPU: 128 px, batch 64, 2 intra-op threads (this machine's cores).
// Reports items_per_second = augmented images per second.
#include <benchmark/benchmark.h>

#include "augment/augment.h"
#include "augment/counter_rng.h"

namespace {

constexpr int kBatch = 64;
constexpr int kSize = 128;
constexpr int kThreads = 2;

void run(benchmark::State& state, const dermsim::AugmentOptions& options) {
  torch::set_num_threads(kThreads);
  torch::NoGradGuard no_grad;
  torch::manual_seed(0);
  const torch::Tensor images = torch::rand({kBatch, 3, kSize, kSize});
  uint64_t step = 0;
  for (auto _ : state) {
    torch::Tensor out = dermsim::augment_batch(images, options, dermsim::derive_seed(1, step++));
    benchmark::DoNotOptimize(out.data_ptr<float>());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_AugmentFull(benchmark::State& state) { run(state, dermsim::AugmentOptions{}); }

void BM_AugmentGeometryOnly(benchmark::State& state) {
  dermsim::AugmentOptions o;
  o.brightness = o.contrast = o.saturation = o.hue = 0;
  run(state, o);
}

void BM_AugmentColourOnly(benchmark::State& state) {
  dermsim::AugmentOptions o;
  o.flips = o.transpose = o.random_resized_crop = false;
  o.max_rotation_degrees = 0;
  run(state, o);
}

void BM_AugmentDihedralOnly(benchmark::State& state) {
  dermsim::AugmentOptions o;
  o.random_resized_crop = false;
  o.max_rotation_degrees = 0;
  o.brightness = o.contrast = o.saturation = o.hue = 0;
  run(state, o);
}

void BM_ToFloatBatch(benchmark::State& state) {
  torch::set_num_threads(kThreads);
  std::vector<std::vector<uint8_t>> cache(kBatch, std::vector<uint8_t>(kSize * kSize * 3, 100));
  std::vector<const uint8_t*> pointers;
  for (const auto& image : cache) pointers.push_back(image.data());
  for (auto _ : state) {
    torch::Tensor out = dermsim::to_float_batch(pointers.data(), kBatch, kSize, kSize);
    benchmark::DoNotOptimize(out.data_ptr<float>());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

}  // namespace

BENCHMARK(BM_AugmentFull)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AugmentGeometryOnly)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AugmentColourOnly)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AugmentDihedralOnly)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ToFloatBatch)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
