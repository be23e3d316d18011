// The benchmarks' real data: an image cache of the 1,100 shipped ISIC images (data/isic2020) built
// into a temp folder, their labels, channel statistics and the trainer's batch recipe over them.
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/csv.h"
#include "image/cache.h"
#include "model/embed.h"
#include "train/batches.h"
#include "train/sampler.h"

namespace dermsim::bench {

struct SampleData {
  std::string dir;  // temp folder holding the cache; remove_sample_data deletes it
  ImageCache cache;
  std::vector<int> labels;  // per cache index
  Normalisation norm;
  std::unique_ptr<BalancedBatchSampler> sampler;
  BatchSource source;  // the trainer's batch recipe over this cache, channels_last
};

// Throws std::runtime_error (or UserError from the reader) when the sample cannot be cached.
inline std::unique_ptr<SampleData> load_sample_data(int image_size, int images_per_class, uint64_t seed) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(DERMSIM_SOURCE_DIR) / "data" / "isic2020";
  CsvTable truth = read_csv((root / "ISIC_2020_Training_GroundTruth.csv").string());
  const int name_col = truth.column("image_name"), target_col = truth.column("target");
  std::unordered_map<std::string, int> target;
  for (const auto& row : truth.rows) target[row[name_col]] = std::stoi(row[target_col]);

  std::vector<std::string> names, paths;
  for (const auto& entry : fs::directory_iterator(root / "train")) {
    if (entry.path().extension() != ".jpg" || !target.count(entry.path().stem().string())) continue;
    names.push_back(entry.path().stem().string());
    paths.push_back(entry.path().string());
  }
  std::string pattern = (fs::temp_directory_path() / "dermsim_bench.XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  CacheBuildOptions options;
  options.image_size = image_size;
  options.show_progress = false;
  const std::string cache_path = pattern + "/images.cache";
  CacheBuildResult built = build_image_cache(names, paths, cache_path, options);
  std::fprintf(stderr, "image cache: %ld real images at %d px in %.1f s (%s)\n", built.images,
               image_size, built.seconds, cache_path.c_str());

  auto data = std::make_unique<SampleData>(SampleData{pattern, ImageCache::open(cache_path), {}, {}, nullptr, {}});
  std::vector<size_t> all;
  for (size_t i = 0; i < data->cache.size(); ++i) {
    data->labels.push_back(target.at(data->cache.name(i)));
    all.push_back(i);
  }
  ChannelStats stats = channel_stats(data->cache, all);
  for (int c = 0; c < 3; ++c) {
    data->norm.mean[c] = stats.mean[c];
    data->norm.std[c] = stats.std[c];
  }
  SamplerOptions sampler_options;
  sampler_options.images_per_class = images_per_class;
  sampler_options.seed = seed;
  data->sampler = std::make_unique<BalancedBatchSampler>(data->labels, sampler_options);
  data->source.cache = &data->cache;
  data->source.rows = all;
  data->source.labels = data->labels;
  data->source.sampler = data->sampler.get();
  data->source.seed = seed;
  data->source.normalisation = data->norm;
  return data;
}

inline void remove_sample_data(std::unique_ptr<SampleData> data) {
  const std::string dir = data->dir;
  data.reset();  // unmaps the cache before its file goes
  std::filesystem::remove_all(dir);
}

}  // namespace dermsim::bench
