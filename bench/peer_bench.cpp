// dermsim's side of the Python peer comparison (bench/peer/compare.py runs it alternately with
// bench/peer/peer_bench.py): one timed measurement per invocation, printed as one JSON line.
//   --mode train-pipeline  what `dermsim train` does: the prefetch thread makes batches
//                          (make_training_batch: cache -> augment -> normalise) while the model steps
//   --mode train-inline    the same without the prefetch thread: each batch is made in the
//                          training thread before its step (bench/loader_threads.py)
//   --mode train-compute   the model step alone on 4 batches made beforehand, cycled
//   --mode infer           embed_images at batch 64 from cached uint8 pixels (what evaluate does)
//   --mode latency         embed_images on one image at a time; per-call milliseconds
// A step is the trainer's: 2 x 32 images, forward (at --precision), contrastive loss over all
// in-batch pairs, loss.item(), backward, AdamW. Warm-up steps are untimed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/allocator.h"
#include "common/error.h"
#include "model/embed.h"
#include "model/embedding_net.h"
#include "model/precision.h"
#include "train/batch_loader.h"
#include "train/batches.h"
#include "train/losses.h"

#include "sample_data.h"

namespace {

using namespace dermsim;
using Clock = std::chrono::steady_clock;

constexpr int kSize = 128;
constexpr int kPerClass = 32;
constexpr int kBatch = 2 * kPerClass;
constexpr int kInferBatch = 64;
constexpr int kPrecomputedBatches = 4;
constexpr uint64_t kSeed = 0;

struct Args {
  std::string mode;
  long steps = 10;
  long warmup = 2;
  Precision precision = Precision::kFloat32;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Model {
  EmbeddingNet net{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer;
};

Model make_model() {
  torch::manual_seed(0);
  Model m;
  m.net = make_embedding_net(EmbeddingNetOptions{});
  to_channels_last(m.net);
  m.optimizer = std::make_unique<torch::optim::AdamW>(
      m.net->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(1e-4));
  return m;
}

void train_step(Model& m, const TrainingBatch& batch, Precision precision) {
  m.net->train();
  torch::Tensor loss = contrastive_loss(embed_forward(m.net, batch.images, precision), batch.labels);
  volatile double value = loss.item<double>();  // the trainer reads the loss every step
  (void)value;
  m.optimizer->zero_grad();
  loss.backward();
  m.optimizer->step();
}

nlohmann::json train_pipeline(const bench::SampleData& data, const Args& a) {
  Model m = make_model();
  BatchLoader loader([&](long step) { return make_training_batch(data.source, step); }, 0,
                     a.warmup + a.steps);
  for (long s = 0; s < a.warmup; ++s) train_step(m, loader.next(), a.precision);
  const double waited_before = loader.seconds_waited();
  const auto start = Clock::now();
  for (long s = 0; s < a.steps; ++s) train_step(m, loader.next(), a.precision);
  const double seconds = seconds_since(start);
  return {{"images_per_second", a.steps * kBatch / seconds},
          {"data_wait_fraction", (loader.seconds_waited() - waited_before) / seconds}};
}

nlohmann::json train_inline(const bench::SampleData& data, const Args& a) {
  Model m = make_model();
  for (long s = 0; s < a.warmup; ++s) train_step(m, make_training_batch(data.source, s), a.precision);
  const auto start = Clock::now();
  for (long s = a.warmup; s < a.warmup + a.steps; ++s)
    train_step(m, make_training_batch(data.source, s), a.precision);
  return {{"images_per_second", a.steps * kBatch / seconds_since(start)}};
}

nlohmann::json train_compute(const bench::SampleData& data, const Args& a) {
  Model m = make_model();
  std::vector<TrainingBatch> batches;
  {
    torch::NoGradGuard no_grad;
    for (long s = 0; s < kPrecomputedBatches; ++s) batches.push_back(make_training_batch(data.source, s));
  }
  long i = 0;
  for (; i < a.warmup; ++i) train_step(m, batches[i % kPrecomputedBatches], a.precision);
  const auto start = Clock::now();
  for (long s = 0; s < a.steps; ++s, ++i) train_step(m, batches[i % kPrecomputedBatches], a.precision);
  return {{"images_per_second", a.steps * kBatch / seconds_since(start)}};
}

std::vector<const uint8_t*> cached_pixels(const bench::SampleData& data, long count) {
  std::vector<const uint8_t*> pixels;
  for (long i = 0; i < count; ++i) pixels.push_back(data.cache.image(static_cast<size_t>(i) % data.cache.size()));
  return pixels;
}

nlohmann::json infer(const bench::SampleData& data, const Args& a) {
  Model m = make_model();
  EmbedOptions options;
  options.batch_size = kInferBatch;
  options.precision = a.precision;
  const auto warm = cached_pixels(data, a.warmup * kInferBatch);
  embed_images(m.net, warm, kSize, data.norm, torch::kCPU, options);
  const auto pixels = cached_pixels(data, a.steps * kInferBatch);
  const auto start = Clock::now();
  embed_images(m.net, pixels, kSize, data.norm, torch::kCPU, options);
  return {{"images_per_second", pixels.size() / seconds_since(start)}};
}

nlohmann::json latency(const bench::SampleData& data, const Args& a) {
  Model m = make_model();
  EmbedOptions options;
  options.batch_size = 1;
  options.precision = a.precision;
  std::vector<double> ms;
  for (long i = 0; i < a.warmup + a.steps; ++i) {
    const std::vector<const uint8_t*> one = {data.cache.image(static_cast<size_t>(i) % data.cache.size())};
    const auto start = Clock::now();
    embed_images(m.net, one, kSize, data.norm, torch::kCPU, options);
    if (i >= a.warmup) ms.push_back(1e3 * seconds_since(start));
  }
  return {{"latency_ms", ms}};
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--mode") a.mode = value;
    else if (flag == "--steps") a.steps = std::max(1L, std::atol(value.c_str()));
    else if (flag == "--warmup") a.warmup = std::max(0L, std::atol(value.c_str()));
    else if (flag == "--precision") a.precision = parse_precision(value);
    else if (flag == "--threads") a.threads = std::max(1, std::atoi(value.c_str()));
    else throw UserError("unknown flag " + flag);
  }
  if (argc % 2 == 0) throw UserError(std::string("flag without a value: ") + argv[argc - 1]);
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  keep_large_buffers_in_heap();  // as dermsim's main does (common/allocator.h)
  try {
    const Args a = parse_args(argc, argv);
    torch::set_num_threads(a.threads);
    const auto setup_start = Clock::now();
    auto data = bench::load_sample_data(kSize, kPerClass, kSeed);
    const double setup_seconds = seconds_since(setup_start);
    nlohmann::json result;
    if (a.mode == "train-pipeline") result = train_pipeline(*data, a);
    else if (a.mode == "train-inline") result = train_inline(*data, a);
    else if (a.mode == "train-compute") result = train_compute(*data, a);
    else if (a.mode == "infer") result = infer(*data, a);
    else if (a.mode == "latency") result = latency(*data, a);
    else throw UserError("--mode " + a.mode + ": expected train-pipeline, train-inline, train-compute, infer or "
                                        "latency");
    result["side"] = "dermsim";
    result["mode"] = a.mode;
    result["precision"] = precision_name(a.precision);
    result["threads"] = a.threads;
    result["steps"] = a.steps;
    result["setup_seconds"] = setup_seconds;
    std::printf("%s\n", result.dump().c_str());
    bench::remove_sample_data(std::move(data));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "peer_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
