// `dermsim predict`: P(malignant) and the decision at the saved threshold for new images; writes a
// Kaggle-style submission (image_name,target).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/rank_options.h"
#include "common/csv.h"
#include "common/error.h"
#include "common/progress.h"
#include "data/metadata.h"
#include "distributed/sharded_inference.h"
#include "image/decode_many.h"
#include "classify/metadata_features.h"
#include "classify/model_card.h"
#include "inference/fold_ensemble.h"
#include "inference/run_model.h"

namespace dermsim::cli {
namespace {

// Images decoded and embedded at a time (bounded memory); also the unit the ranks share inputs in.
constexpr size_t kChunk = 256;

struct PredictArgs {
  std::string run, dir, csv, images_dir, out = "predictions.csv", device = "auto";
  std::vector<std::string> files;
  int tta = 0;  // 0 = as chosen by evaluate
  int threads = 0;
  int fold = -1;  // a k-fold training: -1 = the fold ensemble, k = fold k's network alone
  bool kaggle = false;
  RankArgs ranks;
};

// The images to score; with --csv their metadata too (age, sex, site), else only image_path is set.
// Every rank reads the whole list; `report` (rank 0) names the missing images.
std::vector<LesionRecord> input_records(const PredictArgs& args, bool report) {
  if (!args.csv.empty()) {
    LoadOptions load;
    load.csv_path = args.csv;
    load.image_dir = args.images_dir;
    load.require_labels = false;
    load.skip_missing = true;
    LoadedDataset test = load_dataset(load);
    if (test.records.empty() && !test.missing_images.empty())
      throw UserError(test.csv_path + ": none of its " + std::to_string(test.missing_images.size()) +
                      " images was found in " + test.image_dir + " (first: " +
                      test.missing_images.front() + "); give the folder with --images");
    for (const auto& m : report ? test.missing_images : std::vector<std::string>())
      std::fprintf(stderr, "warning: %s: image file not found, skipped\n", m.c_str());
    return test.records;
  }
  std::vector<LesionRecord> records;
  for (const auto& path : args.dir.empty() ? args.files : list_image_files(args.dir)) {
    records.emplace_back();
    records.back().image_path = path;
  }
  return records;
}

// Rows are keyed by image id (the file name without extension): two inputs with one id would give
// two rows nobody can tell apart, so they are refused.
void require_unique_ids(const std::vector<LesionRecord>& records) {
  std::map<std::string, std::string> first_path;
  for (const auto& record : records) {
    const std::string& path = record.image_path;
    auto [it, added] = first_path.emplace(image_id_from_path(path), path);
    if (!added)
      throw UserError(path + ": same image id '" + it->first + "' as " + it->second +
                      "; give each input a distinct file name");
  }
}

// One rank of a prediction (the only one without WORLD_SIZE): it scores its share of the inputs,
// rank 0 gathers the rows in input order and writes them.
void run_predict(const PredictArgs& args, const RankPlace& place) {
  const bool writer = place.rank == 0;
  const RunData data = load_run_data(args.run);
  const RunPredictor predictor = load_run_predictor(data, args.device, args.threads, args.fold);
  const std::vector<LesionRecord> inputs = input_records(args, writer);
  if (inputs.empty()) throw UserError("predict: no images given (IMAGE..., --dir or --csv)");
  require_unique_ids(inputs);
  std::vector<const LesionRecord*> input_pointers;
  for (const auto& r : inputs) input_pointers.push_back(&r);
  const bool with_metadata = records_have_metadata(input_pointers);
  const OperatingPoint& chosen = operating_point(predictor, with_metadata);
  if (uses_image_only(predictor, with_metadata) && writer)
    std::fprintf(stderr, "note: %s; scoring with the image-only classifier (%s, val AUC %.3f; with "
                 "metadata %.3f)\n", args.csv.empty() ? "no --csv, so no age, sex or site"
                 : (args.csv + " gives no sex, age_approx or anatom_site_general").c_str(),
                 chosen.description.c_str(), chosen.validation_auc, predictor.chosen.validation_auc);
  std::vector<std::string> paths;
  for (const auto& r : inputs) paths.push_back(r.image_path);
  const int size = data.cache.image_size();
  const ImageFit fit = image_fit_of(data);

  const std::unique_ptr<ProcessGroup> group = join_inference_ranks(place, args.ranks.dist_timeout);
  if (group && writer)
    std::fprintf(stderr, "note: predicting as %d ranks (%s), %d CPU thread(s) each\n",
                 group->size(), group->backend_name().c_str(), args.threads);
  const InputShare share = input_share(paths.size(), kChunk, place.rank, place.world_size);
  ShareResult mine;  // count: images at or above the threshold
  std::optional<ProgressBar> bar;
  if (writer) bar.emplace("predict", static_cast<long long>(share.end - share.begin), "img");
  for (size_t begin = share.begin; begin < share.end; begin += kChunk) {
    std::vector<std::string> chunk(paths.begin() + begin,
                                   paths.begin() + std::min(share.end, begin + kChunk));
    DecodedImages decoded = decode_and_fit(chunk, size, fit, args.threads);
    std::vector<const uint8_t*> pixels;
    std::vector<const LesionRecord*> records;
    std::vector<size_t> ok;
    for (size_t i = 0; i < chunk.size(); ++i) {
      if (!decoded.errors[i].empty()) {
        mine.skipped.push_back(decoded.errors[i]);
        continue;
      }
      pixels.push_back(decoded.images[i].pixels.data());
      records.push_back(&inputs[begin + i]);
      ok.push_back(i);
    }
    if (!pixels.empty()) {
      const std::vector<double> p =
          predict_probability(predictor, with_metadata, pixels, size, args.tta, &records);
      for (size_t j = 0; j < ok.size(); ++j) {
        const bool malignant = p[j] >= chosen.threshold;
        mine.count += malignant;
        char prob[32];
        std::snprintf(prob, sizeof prob, "%.6f", p[j]);
        std::vector<std::string> row{image_id_from_path(chunk[ok[j]]), prob};
        if (!args.kaggle) row.push_back(malignant ? "1" : "0");
        mine.rows.push_back(std::move(row));
      }
    }
    if (bar) bar->advance(static_cast<long long>(chunk.size()));
  }
  if (bar) bar->finish();
  const ShareResult all = merge_shares(group.get(), std::move(mine));
  if (!writer) return;
  for (const auto& reason : all.skipped) std::fprintf(stderr, "warning: skipped: %s\n", reason.c_str());
  if (all.rows.empty()) throw UserError("predict: none of the " + std::to_string(paths.size()) +
                                        " images could be read (first: " + all.skipped.front() + ")");
  std::vector<std::string> header{"image_name", "target"};
  if (!args.kaggle) header.push_back("malignant_at_threshold");
  write_csv(args.out, header, all.rows);
  std::printf("wrote %s: %zu images, %ld at or above the threshold %.4f (%s), %zu unreadable\n",
              args.out.c_str(), all.rows.size(), all.count, chosen.threshold,
              chosen.threshold_rule.c_str(), all.skipped.size());
  std::printf("classifier: %s%s; target = P(malignant). A research tool, not a diagnostic device.\n",
              chosen.description.c_str(), with_metadata && predictor.needs_metadata() ? " (with each image's age, sex and site from --csv)" : "");
}

}  // namespace

void add_predict_command(CLI::App& app, const std::vector<std::string>& argv) {
  auto args = std::make_shared<PredictArgs>();
  auto* cmd = app.add_subcommand("predict", "malignancy probability for new images -> CSV");
  cmd->add_option("--run", args->run, "trained and evaluated run folder")->required();
  cmd->add_option("images", args->files, "image files");
  cmd->add_option("--dir", args->dir, "every .jpg/.jpeg/.png in this folder");
  cmd->add_option("--csv", args->csv, "test metadata CSV (ISIC_2020_Test_Metadata.csv layout)");
  cmd->add_option("--images", args->images_dir, "image folder for --csv (default: beside the CSV)");
  cmd->add_option("--out", args->out, "output CSV")->capture_default_str();
  cmd->add_flag("--kaggle", args->kaggle, "write only image_name,target (submission format)");
  cmd->add_option("--tta", args->tta, "test-time augmentation variants (default: as evaluated)")
      ->check(CLI::Range(0, 8));
  cmd->add_option("--fold", args->fold,
                  "a k-fold training (`train --folds`) predicts by the mean of its folds, at the "
                  "threshold chosen on their out-of-fold scores; --fold K uses fold K's network and "
                  "card alone")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--device", args->device, "auto | cpu | cuda")->capture_default_str();
  cmd->add_option("--threads", args->threads, "CPU threads (0 = one per core)");
  add_rank_options(cmd, args->ranks);
  cmd->callback([args, cmd, argv] {
    const RankPlace place = rank_place_from_environment();
    if (launched_local_ranks(*cmd, args->ranks, place, argv)) return;
    PredictArgs rank_args = *args;
    rank_args.threads = threads_of_rank(*cmd, args->threads, place);
    rank_args.device = device_of_rank(args->device, place);
    run_predict(rank_args, place);
  });
}

}  // namespace dermsim::cli
