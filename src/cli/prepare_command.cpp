// `dermsim prepare`: validate metadata -> patient-grouped split -> image cache, into a run folder.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "common/error.h"
#include "common/progress.h"
#include "image/prepare.h"

namespace dermsim::cli {
namespace {

struct PrepareArgs {
  PrepareOptions options;
  std::string fit = "crop";
  std::string colour = "as-taken";
};

void run_prepare(PrepareArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  args.options.fit = {fit_mode_from_string(args.fit), colour_mode_from_string(args.colour)};
  const PrepareResult r = prepare_run(args.options);
  const std::string& out = args.options.out;
  if (!r.set_aside_to.empty())
    std::fprintf(stderr, "note: the earlier training of %s was moved to %s\n", out.c_str(),
                 r.set_aside_to.c_str());
  if (!r.left_out.empty())
    std::fprintf(stderr, "warning: %zu images missing or unreadable, left out (list in %s/%s); "
                 "first: %s\n", r.left_out.size(), out.c_str(), "missing-images.txt",
                 r.left_out.front().c_str());
  if (!r.cache.rebuilt_because.empty())
    std::fprintf(stderr, "note: cache rebuilt: %s\n", r.cache.rebuilt_because.c_str());

  const auto summary = summarize_split(r.split);
  std::printf("prepared %s (%s layout): %zu images\n", out.c_str(), r.layout.c_str(), r.images);
  std::printf("  %-6s %8s %9s %10s %8s\n", "part", "images", "patients", "malignant", "share");
  size_t groups = 0;
  for (const auto& [part, s] : summary) {
    std::printf("  %-6s %8ld %9ld %10ld %7.1f%%\n", to_string(part).c_str(), s.images, s.groups,
                s.malignant, s.images ? 100.0 * s.malignant / s.images : 0.0);
    groups += static_cast<size_t>(s.groups);
  }
  std::printf("  no patient appears in two parts (checked on %zu groups)\n", groups);
  const CacheBuildResult& c = r.cache;
  std::printf("  cache: %s/cache.bin, %d px, %s, %s (%.0f images/s)\n", out.c_str(),
              args.options.image_size, human_bytes(double(c.bytes)).c_str(),
              c.reused ? "unchanged, verified, reused" : "built",
              c.reused || c.seconds <= 0 ? 0.0 : c.images / c.seconds);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("  done in %s\n", human_duration(seconds).c_str());
}

}  // namespace

void add_prepare_command(CLI::App& app) {
  auto args = std::make_shared<PrepareArgs>();
  auto* cmd = app.add_subcommand(
      "prepare", "validate metadata, split by patient, decode and resize images into a cache");
  cmd->add_option("--data", args->options.load.data_dir,
                  "folder with the official ISIC 2020 layout (ISIC_2020_Training_GroundTruth.csv + "
                  "train/) or Kaggle's (train-metadata.csv + train-image/image/)");
  cmd->add_option("--csv", args->options.load.csv_path, "metadata CSV (instead of detecting it in --data)");
  cmd->add_option("--images", args->options.load.image_dir, "image folder (with --csv)");
  cmd->add_option("--out", args->options.out, "run folder to create or update")->required();
  cmd->add_option("--image-size", args->options.image_size, "side of the cached square images, px")
      ->capture_default_str()
      ->check(CLI::Range(32, 1024));
  cmd->add_option("--fit", args->fit,
                  "crop: centre-crop to a square (keeps lesion shape); pad: pad to a square")
      ->capture_default_str()
      ->check(CLI::IsMember({"crop", "pad"}));
  cmd->add_option("--colour", args->colour,
                  "as-taken: the camera's colours; shades-of-gray: colour constancy, the illuminant "
                  "estimated from each image divided out (applied the same way to every later image)")
      ->capture_default_str()
      ->check(CLI::IsMember({"as-taken", "shades-of-gray"}));
  cmd->add_option("--seed", args->options.split.seed, "seed of the split")->capture_default_str();
  cmd->add_option("--val", args->options.split.val_fraction, "validation fraction")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--test", args->options.split.test_fraction, "held-out test fraction")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--folds", args->options.split.folds,
                  "k-fold assignment of the non-test images (0 = plain train/val split)")
      ->check(CLI::Range(0, 20));
  cmd->add_option("--val-fold", args->options.split.val_fold, "with --folds: the fold used as validation");
  cmd->add_option("--image-column", args->options.load.columns.image, "override: column of image names");
  cmd->add_option("--patient-column", args->options.load.columns.patient, "override: column of patient ids");
  cmd->add_option("--target-column", args->options.load.columns.target, "override: column of 0/1 labels");
  cmd->add_flag("--skip-missing", args->options.load.skip_missing,
                "go on when image files are missing or unreadable (listed in RUN/missing-images.txt)");
  cmd->add_option("--threads", args->options.threads, "decoding threads (0 = all cores)");
  cmd->add_flag("--fresh", args->options.fresh,
                "on a trained run: set its training aside (RUN/superseded/) so the split or cache "
                "may change");
  cmd->callback([args] {
    if (args->options.load.data_dir.empty() && args->options.load.csv_path.empty())
      throw UserError("prepare: give --data DIR (or --csv FILE --images DIR)");
    run_prepare(*args);
  });
}

}  // namespace dermsim::cli
