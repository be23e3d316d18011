// Inference with batch norm folded into the convolutions (batch_norm_folded_copy) against the same
// network unfolded, side by side: every round embeds the same cached images once with each, the
// order flipping every round, through embed_images at batch 64 (what evaluate and predict do).
//   build/bench/fold_bench [--rounds 6] [--batches 4] [--precision fp32|bf16] [--threads N]
// Prints per round the wall-clock images/s and the process CPU milliseconds per image of each (CPU
// time moves far less than wall time on a shared host), and the median (min-max) of the per-round
// speed-up folded / unfolded on both clocks.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include "common/allocator.h"
#include "common/error.h"
#include "model/embed.h"
#include "model/embedding_net.h"
#include "model/precision.h"

#include "sample_data.h"

namespace {

using namespace dermsim;
using Clock = std::chrono::steady_clock;

constexpr int kSize = 128;
constexpr int kBatch = 64;

struct Args {
  int rounds = 6;
  int batches = 4;
  Precision precision = Precision::kFloat32;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
};

Args parse_args(int argc, char** argv) {
  Args a;
  if (argc % 2 == 0) throw UserError(std::string("flag without a value: ") + argv[argc - 1]);
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--rounds") a.rounds = std::max(1, std::atoi(value.c_str()));
    else if (flag == "--batches") a.batches = std::max(1, std::atoi(value.c_str()));
    else if (flag == "--precision") a.precision = parse_precision(value);
    else if (flag == "--threads") a.threads = std::max(1, std::atoi(value.c_str()));
    else throw UserError("unknown flag " + flag);
  }
  return a;
}

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

struct Timing {
  double images_per_second = 0, cpu_ms_per_image = 0;
};

Timing time_embedding(EmbeddingNet& net, const std::vector<const uint8_t*>& pixels,
                      const Normalisation& norm, const EmbedOptions& options) {
  const auto start = Clock::now();
  const double cpu_start = process_cpu_seconds();
  embed_images(net, pixels, kSize, norm, torch::kCPU, options);
  const double cpu = process_cpu_seconds() - cpu_start;
  return {pixels.size() / std::chrono::duration<double>(Clock::now() - start).count(),
          1e3 * cpu / pixels.size()};
}

void print_summary(const char* what, const std::vector<double>& ratios) {
  std::vector<double> sorted = ratios;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  std::printf("folded speed-up, %s: median %.3f (min %.3f, max %.3f) over %zu rounds\n", what, median,
              sorted.front(), sorted.back(), n);
}

}  // namespace

int main(int argc, char** argv) {
  keep_large_buffers_in_heap();  // as dermsim's main does (common/allocator.h)
  try {
    const Args a = parse_args(argc, argv);
    torch::set_num_threads(a.threads);
    auto data = bench::load_sample_data(kSize, /*images_per_class=*/32, /*seed=*/0);
    torch::manual_seed(0);
    EmbeddingNet unfolded = make_embedding_net(EmbeddingNetOptions{});
    unfolded->eval();
    EmbeddingNet folded = batch_norm_folded_copy(unfolded);
    std::vector<const uint8_t*> pixels;
    for (size_t i = 0; i < static_cast<size_t>(a.batches) * kBatch; ++i)
      pixels.push_back(data->cache.image(i % data->cache.size()));
    EmbedOptions options;
    options.batch_size = kBatch;
    options.precision = a.precision;
    time_embedding(unfolded, pixels, data->norm, options);  // warm-up, untimed
    time_embedding(folded, pixels, data->norm, options);
    std::vector<double> wall_ratios, cpu_ratios;
    std::printf("round  unfolded: img/s  cpu ms/img  folded: img/s  cpu ms/img  (%s, %d threads, %zu images)\n",
                precision_name(a.precision).c_str(), a.threads, pixels.size());
    for (int r = 0; r < a.rounds; ++r) {
      Timing plain, fold;
      if (r % 2 == 0) {
        plain = time_embedding(unfolded, pixels, data->norm, options);
        fold = time_embedding(folded, pixels, data->norm, options);
      } else {
        fold = time_embedding(folded, pixels, data->norm, options);
        plain = time_embedding(unfolded, pixels, data->norm, options);
      }
      wall_ratios.push_back(fold.images_per_second / plain.images_per_second);
      cpu_ratios.push_back(plain.cpu_ms_per_image / fold.cpu_ms_per_image);
      std::printf("%5d  %15.1f  %10.2f  %13.1f  %10.2f\n", r + 1, plain.images_per_second,
                  plain.cpu_ms_per_image, fold.images_per_second, fold.cpu_ms_per_image);
    }
    print_summary("wall clock", wall_ratios);
    print_summary("process CPU time", cpu_ratios);
    bench::remove_sample_data(std::move(data));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fold_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
