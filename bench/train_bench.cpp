// Training-step throughput on the CPU (small backbone, 128 px, batches of 2 x 32): the real data
// pipeline against batches already in memory, in-batch pairs against two-forward explicit pairs,
// and channels_last against contiguous. Ratios from the same run are printed at the end.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "augment/augment.h"
#include "common/allocator.h"
#include "image/cache.h"
#include "model/embed.h"
#include "model/embedding_net.h"
#include "train/batch_loader.h"
#include "train/batches.h"
#include "train/losses.h"
#include "train/sampler.h"

#include "sample_data.h"

namespace {

using namespace dermsim;

constexpr int kSize = 128;
constexpr int kPerClass = 32;               // trainer default: 2 classes x 32
constexpr int kBatch = 2 * kPerClass;       // images embedded per step, in every mode
constexpr int kInBatchPairs = kBatch * (kBatch - 1) / 2;  // 2016
constexpr int kExplicitPairs = kBatch / 2;  // 32 pairs = 64 forward images, same cost per step
constexpr int kWarmupSteps = 2;             // untimed: first steps pay allocation and OpenMP start
constexpr int kPrecomputedBatches = 4;      // in-memory modes cycle over these
constexpr uint64_t kSeed = 0;

// The real cache and labels, built once in main before any benchmark runs.
std::unique_ptr<bench::SampleData> g_data;
long g_steps = 10;

// The trainer's own make_training_batch on the CPU: sample, gather from the mmap'd cache, augment,
// normalise.
TrainingBatch make_batch(long step, bool channels_last) {
  BatchSource source = g_data->source;
  source.channels_last = channels_last;
  return make_training_batch(source, step);
}

struct Model {
  EmbeddingNet net{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer;
};

// Same initial weights in every benchmark; trainer's defaults (AdamW 1e-3, weight decay 1e-4).
Model make_model(bool channels_last) {
  torch::manual_seed(0);
  Model m;
  m.net = make_embedding_net(EmbeddingNetOptions{});
  if (channels_last) to_channels_last(m.net);
  m.optimizer = std::make_unique<torch::optim::AdamW>(
      m.net->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(1e-4));
  m.net->train();
  return m;
}

void finish_step(Model& m, const torch::Tensor& loss) {
  benchmark::DoNotOptimize(loss.item<double>());  // the trainer reads the loss every step
  m.optimizer->zero_grad();
  loss.backward();
  m.optimizer->step();
}

// Embed the batch once, contrastive loss over all in-batch pairs.
void in_batch_step(Model& m, const torch::Tensor& images, const torch::Tensor& labels) {
  finish_step(m, contrastive_loss(m.net->forward(images), labels));
}

// Two forward passes per pair, as typical Siamese code does.
void explicit_pairs_step(Model& m, const torch::Tensor& x1, const torch::Tensor& x2,
                         const torch::Tensor& same) {
  torch::Tensor e1 = m.net->forward(x1);
  torch::Tensor e2 = m.net->forward(x2);
  finish_step(m, contrastive_loss_pairs(e1, e2, same));
}

void set_rates(benchmark::State& state, long pairs_per_step) {
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["pairs_per_second"] =
      benchmark::Counter(double(state.iterations() * pairs_per_step), benchmark::Counter::kIsRate);
}

// Batch preparation alone on the calling thread: the rate the prefetch thread can reach at best.
void BM_DataPipelineOnly(benchmark::State& state) {
  torch::NoGradGuard no_grad;
  long step = 0;
  for (; step < kWarmupSteps; ++step) make_batch(step, true);
  for (auto _ : state) benchmark::DoNotOptimize(make_batch(step++, true).images.data_ptr());
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// What train_embedding_net does: BatchLoader prefetches on its own thread while the model steps.
void BM_TrainRealPipeline(benchmark::State& state) {
  const bool channels_last = state.range(0) != 0;
  Model m = make_model(channels_last);
  BatchLoader loader([&](long step) { return make_batch(step, channels_last); }, 0,
                     kWarmupSteps + state.max_iterations);
  for (int i = 0; i < kWarmupSteps; ++i) {
    TrainingBatch b = loader.next();
    in_batch_step(m, b.images, b.labels);
  }
  const double waited_before = loader.seconds_waited();
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    TrainingBatch b = loader.next();
    in_batch_step(m, b.images, b.labels);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  set_rates(state, kInBatchPairs);
  state.counters["data_wait_fraction"] = (loader.seconds_waited() - waited_before) / seconds;
}

std::vector<TrainingBatch> precomputed_batches(bool channels_last) {
  torch::NoGradGuard no_grad;
  std::vector<TrainingBatch> batches;
  for (long s = 0; s < kPrecomputedBatches; ++s) batches.push_back(make_batch(s, channels_last));
  return batches;
}

// Compute-only bound: the same steps on augmented batches already in memory.
void BM_TrainInMemory(benchmark::State& state) {
  const bool channels_last = state.range(0) != 0;
  Model m = make_model(channels_last);
  const std::vector<TrainingBatch> batches = precomputed_batches(channels_last);
  size_t i = 0;
  for (; i < kWarmupSteps; ++i) {
    const TrainingBatch& b = batches[i % batches.size()];
    in_batch_step(m, b.images, b.labels);
  }
  for (auto _ : state) {
    const TrainingBatch& b = batches[i++ % batches.size()];
    in_batch_step(m, b.images, b.labels);
  }
  set_rates(state, kInBatchPairs);
}

// Explicit pairs from the same in-memory images: each batch's 64 images split at random into 32
// pairs (about half same-class), so both modes embed 64 images a step.
void BM_TrainExplicitPairs(benchmark::State& state) {
  const bool channels_last = state.range(0) != 0;
  const auto format = channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  Model m = make_model(channels_last);
  struct Pairs {
    torch::Tensor x1, x2, same;
  };
  std::vector<Pairs> pairs;
  torch::manual_seed(static_cast<int64_t>(kSeed));
  for (const TrainingBatch& b : precomputed_batches(channels_last)) {
    torch::Tensor order = torch::randperm(kBatch, torch::kLong);
    torch::Tensor first = order.slice(0, 0, kExplicitPairs), second = order.slice(0, kExplicitPairs);
    pairs.push_back({b.images.index_select(0, first).contiguous(format),
                     b.images.index_select(0, second).contiguous(format),
                     b.labels.index_select(0, first) == b.labels.index_select(0, second)});
  }
  size_t i = 0;
  for (; i < kWarmupSteps; ++i) {
    const Pairs& p = pairs[i % pairs.size()];
    explicit_pairs_step(m, p.x1, p.x2, p.same);
  }
  for (auto _ : state) {
    const Pairs& p = pairs[i++ % pairs.size()];
    explicit_pairs_step(m, p.x1, p.x2, p.same);
  }
  set_rates(state, kExplicitPairs);
}

// Prints the usual table, and keeps each run's rates for the ratio summary.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(OO_Tabular) {}  // no colour codes in logs
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred || r.run_type != Run::RT_Iteration) continue;
      const std::string key = r.run_name.function_name + "/" + r.run_name.args;
      for (const auto& [name, counter] : r.counters) rates_[key][name] = counter.value;
    }
  }

  void print_ratios() const {
    std::printf("\nRatios (same run):\n");
    ratio("real pipeline / in-memory (channels_last), images/s", "BM_TrainRealPipeline/channels_last:1",
          "BM_TrainInMemory/channels_last:1", "items_per_second");
    ratio("data pipeline alone / in-memory train step, images/s", "BM_DataPipelineOnly/",
          "BM_TrainInMemory/channels_last:1", "items_per_second");
    ratio("in-batch / explicit pairs, pairs/s", "BM_TrainInMemory/channels_last:1",
          "BM_TrainExplicitPairs/channels_last:1", "pairs_per_second");
    ratio("in-batch / explicit pairs, images/s", "BM_TrainInMemory/channels_last:1",
          "BM_TrainExplicitPairs/channels_last:1", "items_per_second");
    ratio("channels_last / contiguous (in-memory step), images/s",
          "BM_TrainInMemory/channels_last:1", "BM_TrainInMemory/channels_last:0", "items_per_second");
    auto it = rates_.find("BM_TrainRealPipeline/channels_last:1");
    if (it != rates_.end() && it->second.count("data_wait_fraction"))
      std::printf("  %-58s %.3f\n", "real pipeline: share of wall time waiting for data",
                  it->second.at("data_wait_fraction"));
  }

 private:
  void ratio(const char* what, const std::string& a, const std::string& b,
             const std::string& counter) const {
    auto ia = rates_.find(a), ib = rates_.find(b);
    if (ia == rates_.end() || ib == rates_.end()) return;  // filtered out
    std::printf("  %-58s %.3f\n", what, ia->second.at(counter) / ib->second.at(counter));
  }
  std::map<std::string, std::map<std::string, double>> rates_;
};

}  // namespace

// Every benchmark runs exactly g_steps timed steps (after kWarmupSteps untimed ones), so the
// modes are compared on the same work. Wall-clock time (UseRealTime): the prefetch thread's work
// does not show in the main thread's CPU time. DERMSIM_TRAIN_BENCH_STEPS changes the step count.
// The same allocator policy as dermsim's main (common/allocator.h); DERMSIM_DEFAULT_MALLOC=1
// measures with glibc's defaults. Run with OMP_WAIT_POLICY=passive on a shared host.
int main(int argc, char** argv) {
  if (std::getenv("DERMSIM_DEFAULT_MALLOC") == nullptr) {
    dermsim::keep_large_buffers_in_heap();
  }
  if (const char* steps = std::getenv("DERMSIM_TRAIN_BENCH_STEPS")) g_steps = std::max(1L, std::atol(steps));
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::fprintf(stderr, "torch intra-op threads: %d; %ld timed steps per benchmark\n", threads, g_steps);

  try {
    g_data = bench::load_sample_data(kSize, kPerClass, kSeed);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_bench: cannot build the image cache: %s\n", e.what());
    return 1;
  }
  auto add = [](const char* name, void (*fn)(benchmark::State&)) {
    return benchmark::RegisterBenchmark(name, fn)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(g_steps);
  };
  add("BM_DataPipelineOnly", BM_DataPipelineOnly);
  add("BM_TrainRealPipeline", BM_TrainRealPipeline)->ArgName("channels_last")->Arg(1);
  add("BM_TrainInMemory", BM_TrainInMemory)->ArgName("channels_last")->Arg(1)->Arg(0);
  add("BM_TrainExplicitPairs", BM_TrainExplicitPairs)->ArgName("channels_last")->Arg(1);

  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  bench::remove_sample_data(std::move(g_data));
  return 0;
}
