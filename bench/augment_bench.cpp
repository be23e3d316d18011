// Augmentation throughput on the CPU: 128 px, batch 64; the argument is the intra-op thread count
// (2 = this machine's cores). Reports items_per_second = augmented images per second.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "augment/augment.h"
#include "augment/counter_rng.h"
#include "common/allocator.h"

namespace {

constexpr int kBatch = 64;
constexpr int kSize = 128;

void run(benchmark::State& state, const dermsim::AugmentOptions& options) {
  torch::set_num_threads(static_cast<int>(state.range(0)));
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
  torch::set_num_threads(static_cast<int>(state.range(0)));
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

BENCHMARK(BM_AugmentFull)->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1)->Arg(2);
BENCHMARK(BM_AugmentGeometryOnly)->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1)->Arg(2);
BENCHMARK(BM_AugmentColourOnly)->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1)->Arg(2);
BENCHMARK(BM_AugmentDihedralOnly)->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1)->Arg(2);
BENCHMARK(BM_ToFloatBatch)->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1)->Arg(2);

// glibc returns each freed block above its mmap threshold to the kernel and page-faults it back
// on the next batch; on this machine that made a full augmentation ~5x slower (100 vs 20 ms a
// batch at 1 thread). dermsim's main uses the same policy (common/allocator.h); DERMSIM_DEFAULT_MALLOC=1
// measures without.
// On a shared, loaded host run with OMP_WAIT_POLICY=passive: spinning OpenMP workers made the
// 2-thread figures erratic (up to 250x slower for the many small ops of the dihedral path).
int main(int argc, char** argv) {
  if (std::getenv("DERMSIM_DEFAULT_MALLOC") == nullptr) {
    dermsim::keep_large_buffers_in_heap();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
