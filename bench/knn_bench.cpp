// The neighbour search at full ISIC 2020 scale: 33,126 synthetic unit-length references of 128
// floats (the train split's size), k = 8. The one batched search (src/classify/neighbours: sgemm
// candidates + exact distances) against the brute-force exact loop it replaced (every reference's
// squared_distance in double, then a partial sort), for one query and for the 10,982 queries of
// a full `predict --csv` of the ISIC test set.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "classify/neighbours.h"

namespace {

constexpr size_t kReferences = 33126, kTestImages = 10982;
constexpr int kDim = 128, kK = 8;

dermsim::Embeddings unit_rows(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  dermsim::Embeddings e;
  e.dim = kDim;
  e.values.resize(n * kDim);
  for (size_t i = 0; i < n; ++i) {
    double norm = 0;
    for (int d = 0; d < kDim; ++d) norm += std::pow(e.values[i * kDim + d] = normal(rng), 2);
    for (int d = 0; d < kDim; ++d) e.values[i * kDim + d] /= static_cast<float>(std::sqrt(norm));
  }
  return e;
}

const dermsim::Embeddings& references() {
  static const dermsim::Embeddings r = unit_rows(kReferences, 1);
  return r;
}
const dermsim::Embeddings& queries() {
  static const dermsim::Embeddings q = unit_rows(kTestImages, 2);
  return q;
}

// The search before the batched form: exact double distances to every row, partial sort.
std::vector<dermsim::Neighbour> brute_force(const dermsim::Embeddings& reference, const float* query, int k) {
  std::vector<dermsim::Neighbour> all(reference.size());
  for (size_t i = 0; i < reference.size(); ++i)
    all[i] = {i, std::sqrt(dermsim::squared_distance(query, reference.row(i), reference.dim))};
  std::partial_sort(all.begin(), all.begin() + k, all.end(), [](const auto& a, const auto& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.index < b.index);
  });
  all.resize(k);
  return all;
}

void BM_OneQuery_Batched(benchmark::State& state) {
  size_t q = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(dermsim::nearest_neighbours(references(), queries().row(q++ % kTestImages), kK));
}
BENCHMARK(BM_OneQuery_Batched)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_OneQuery_BruteForce(benchmark::State& state) {
  size_t q = 0;
  for (auto _ : state) benchmark::DoNotOptimize(brute_force(references(), queries().row(q++ % kTestImages), kK));
}
BENCHMARK(BM_OneQuery_BruteForce)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AllTestQueries_Batched(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(dermsim::nearest_neighbours_batch(references(), queries(), kK));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kTestImages));
}
BENCHMARK(BM_AllTestQueries_Batched)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// The loop the kNN classifier ran before: one brute-force search per query (all 10,982).
void BM_AllTestQueries_BruteForce(benchmark::State& state) {
  for (auto _ : state)
    for (size_t q = 0; q < kTestImages; ++q) benchmark::DoNotOptimize(brute_force(references(), queries().row(q), kK));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kTestImages));
}
BENCHMARK(BM_AllTestQueries_BruteForce)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
