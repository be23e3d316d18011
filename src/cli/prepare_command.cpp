// `dermsim prepare`: validate metadata -> patient-grouped split -> image cache, into a run folder.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "cli/commands.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/csv.h"
#include "common/hash.h"
#include "common/progress.h"
#include "common/run_dir.h"
#include "data/metadata.h"
#include "data/split.h"
#include "image/cache.h"

namespace dermsim::cli {
namespace {

struct PrepareArgs {
  LoadOptions load;
  SplitOptions split;
  std::string out;
  int image_size = 128;
  std::string fit = "crop";
  int threads = 0;
};

std::string format_number(double value, int digits) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

void write_images_csv(const RunDir& run, const LoadedDataset& data) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : data.records)
    rows.push_back({r.image_name, r.patient_id, std::to_string(r.target), r.diagnosis, r.sex,
                    std::isnan(r.age) ? "" : format_number(r.age, 0), r.site, r.image_path});
  write_csv(run.images(), {"image_name", "patient_id", "target", "diagnosis", "sex", "age_approx",
                           "site", "image_path"},
            rows);
}

void run_prepare(const PrepareArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  std::filesystem::create_directories(args.out);
  RunDir run{args.out};

  LoadedDataset data = load_dataset(args.load);
  if (!data.missing_images.empty()) {
    write_missing_list(run.missing(), data.missing_images);
    std::fprintf(stderr, "warning: %zu images missing, skipped (list in %s)\n",
                 data.missing_images.size(), run.missing().c_str());
  }
  write_images_csv(run, data);

  std::vector<SplitRow> split = make_split(data.records, data.duplicate_pairs, args.split);
  write_split_csv(run.split(), split);

  std::vector<std::string> names, paths;
  for (const auto& r : data.records) {
    names.push_back(r.image_name);
    paths.push_back(r.image_path);
  }
  CacheBuildOptions cache_options;
  cache_options.image_size = args.image_size;
  cache_options.fit = args.fit == "pad" ? FitMode::kPad : FitMode::kCenterCrop;
  cache_options.threads = args.threads;
  CacheBuildResult cache_result = build_image_cache(names, paths, run.cache(), cache_options);

  // Normalisation statistics come from the training part only: val/test must not shape the model.
  ImageCache cache = ImageCache::open(run.cache());
  std::vector<size_t> train_indices;
  for (size_t i = 0; i < split.size(); ++i)
    if (split[i].part == Part::kTrain) train_indices.push_back(i);
  ChannelStats stats = channel_stats(cache, train_indices);

  Fnv1a csv_checksum;
  csv_checksum.add(read_file(data.csv_path));
  auto summary = summarize_split(split);
  nlohmann::json parts;
  for (const auto& [part, s] : summary)
    parts[to_string(part)] = {{"images", s.images}, {"groups", s.groups}, {"malignant", s.malignant}};
  nlohmann::json manifest = {
      {"command", "prepare"},
      {"created_unix", static_cast<long long>(std::time(nullptr))},
      {"data",
       {{"dir", args.load.data_dir}, {"layout", data.layout}, {"csv", data.csv_path},
        {"csv_fnv1a", csv_checksum.hex()}, {"images", data.records.size()},
        {"missing_images", data.missing_images.size()},
        {"duplicate_pairs_in_data", data.duplicate_pairs.size()}}},
      {"split",
       {{"seed", args.split.seed}, {"val_fraction", args.split.val_fraction},
        {"test_fraction", args.split.test_fraction}, {"folds", args.split.folds},
        {"val_fold", args.split.val_fold}, {"parts", parts}}},
      {"cache",
       {{"image_size", args.image_size}, {"fit", args.fit},
        {"source_checksum", cache.source_checksum()}, {"bytes", cache_result.bytes}}},
      {"normalisation",
       {{"mean", {stats.mean[0], stats.mean[1], stats.mean[2]}},
        {"std", {stats.std[0], stats.std[1], stats.std[2]}}}},
      {"build", build_info()}};
  write_json_file(run.manifest(), manifest);

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("prepared %s (%s layout): %zu images\n", args.out.c_str(), data.layout.c_str(),
              data.records.size());
  std::printf("  %-6s %8s %9s %10s %8s\n", "part", "images", "patients", "malignant", "share");
  for (const auto& [part, s] : summary)
    std::printf("  %-6s %8ld %9ld %10ld %7.1f%%\n", to_string(part).c_str(), s.images, s.groups,
                s.malignant, s.images ? 100.0 * s.malignant / s.images : 0.0);
  std::printf("  no patient appears in two parts (checked on %zu groups)\n",
              [&] { size_t n = 0; for (const auto& [p, s] : summary) n += s.groups; return n; }());
  std::printf("  cache: %s, %d px, %s, %s (%.0f images/s)\n", run.cache().c_str(), args.image_size,
              human_bytes(double(cache_result.bytes)).c_str(),
              cache_result.reused ? "unchanged, reused" : "built",
              cache_result.reused || cache_result.seconds <= 0 ? 0.0
                                                               : cache_result.images / cache_result.seconds);
  std::printf("  done in %s\n", human_duration(seconds).c_str());
}

}  // namespace

void add_prepare_command(CLI::App& app) {
  auto args = std::make_shared<PrepareArgs>();
  auto* cmd = app.add_subcommand(
      "prepare", "validate metadata, split by patient, decode and resize images into a cache");
  cmd->add_option("--data", args->load.data_dir,
                  "folder with the official ISIC 2020 layout (ISIC_2020_Training_GroundTruth.csv + "
                  "train/) or Kaggle's (train-metadata.csv + train-image/image/)");
  cmd->add_option("--csv", args->load.csv_path, "metadata CSV (instead of detecting it in --data)");
  cmd->add_option("--images", args->load.image_dir, "image folder (with --csv)");
  cmd->add_option("--out", args->out, "run folder to create or update")->required();
  cmd->add_option("--image-size", args->image_size, "side of the cached square images, px")
      ->capture_default_str()
      ->check(CLI::Range(32, 1024));
  cmd->add_option("--fit", args->fit,
                  "crop: centre-crop to a square (keeps lesion shape); pad: pad to a square")
      ->capture_default_str()
      ->check(CLI::IsMember({"crop", "pad"}));
  cmd->add_option("--seed", args->split.seed, "seed of the split")->capture_default_str();
  cmd->add_option("--val", args->split.val_fraction, "validation fraction")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--test", args->split.test_fraction, "held-out test fraction")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--folds", args->split.folds,
                  "k-fold assignment of the non-test images (0 = plain train/val split)")
      ->check(CLI::Range(0, 20));
  cmd->add_option("--val-fold", args->split.val_fold, "with --folds: the fold used as validation");
  cmd->add_option("--image-column", args->load.columns.image, "override: column of image names");
  cmd->add_option("--patient-column", args->load.columns.patient, "override: column of patient ids");
  cmd->add_option("--target-column", args->load.columns.target, "override: column of 0/1 labels");
  cmd->add_flag("--skip-missing", args->load.skip_missing,
                "go on when image files are missing (listed in RUN/missing-images.txt)");
  cmd->add_option("--threads", args->threads, "decoding threads (0 = all cores)");
  cmd->callback([args] {
    if (args->load.data_dir.empty() && args->load.csv_path.empty())
      throw UserError("prepare: give --data DIR (or --csv FILE --images DIR)");
    run_prepare(*args);
  });
}

}  // namespace dermsim::cli
