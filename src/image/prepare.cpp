#include "image/prepare.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <unordered_set>

#include "common/atomic_file.h"
#include "common/csv.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/run_dir.h"
#include "common/run_lock.h"

namespace dermsim {
namespace {

std::string format_number(double value, int digits) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

void write_images_csv(const RunDir& run, const std::vector<LesionRecord>& records) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : records)
    rows.push_back({r.image_name, r.patient_id, std::to_string(r.target), r.diagnosis, r.sex,
                    std::isnan(r.age) ? "" : format_number(r.age, 0), r.site, r.image_path});
  write_csv(run.images(), {"image_name", "patient_id", "target", "diagnosis", "sex", "age_approx",
                           "site", "image_path"},
            rows);
}

// Everything the split and the cache are made from. Equal identities mean prepare would write the
// same split and cache again, so a trained run may be prepared again safely.
std::string prepare_inputs_identity(const LoadedDataset& data, const std::string& csv_hash,
                                    const PrepareOptions& o, uint64_t cache_source_checksum) {
  ContentHash hash;
  hash.add(csv_hash);
  for (const auto& [a, b] : data.duplicate_pairs) {
    hash.add(a);
    hash.add(b);
  }
  for (const auto& name : data.missing_images) hash.add(name);
  hash.add_u64(o.split.seed);
  hash.add(format_number(o.split.val_fraction, 12) + format_number(o.split.test_fraction, 12));
  hash.add_u64(static_cast<uint64_t>(o.split.folds));
  hash.add_u64(static_cast<uint64_t>(o.split.val_fold));
  hash.add_u64(cache_source_checksum);  // image names, file sizes and times, image size, fit, colour
  hash.add_u64(o.load.skip_missing);
  return hash.hex();
}

CacheBuildOptions cache_options_of(const PrepareOptions& o) {
  CacheBuildOptions c;
  c.image_size = o.image_size;
  c.fit = o.fit;
  c.threads = o.threads;
  c.skip_unreadable = o.load.skip_missing;
  return c;
}

// A trained run keeps its split and cache: refuse (or, with --fresh, set the training aside).
std::string guard_training(const RunDir& run, const std::string& inputs, bool fresh) {
  if (!has_training(run)) return "";
  if (fresh) return set_aside_training(run);
  std::string recorded;
  if (std::filesystem::exists(run.manifest()))
    recorded = read_json_file(run.manifest()).value("prepare_inputs", "");
  if (recorded == inputs) return "";
  throw UserError(run.root + " is trained on its current split and cache, and these data or options "
                  "would change them; prepare into a new --out, or add --fresh to set the training "
                  "aside (into " + run.superseded() + "/)");
}

nlohmann::json manifest_of(const PrepareOptions& o, const LoadedDataset& data, const std::string& csv_hash,
                           const std::vector<SplitRow>& split, const ImageCache& cache,
                           const ChannelStats& stats, const std::string& inputs,
                           const RunDir& run, size_t left_out) {
  nlohmann::json parts;
  for (const auto& [part, s] : summarize_split(split))
    parts[to_string(part)] = {{"images", s.images}, {"groups", s.groups}, {"malignant", s.malignant}};
  return {
      {"command", "prepare"},
      {"created_unix", static_cast<long long>(std::time(nullptr))},
      {"prepare_inputs", inputs},
      {"artefacts",
       {{"images.csv", content_hash_hex(read_file(run.images()))},
        {"split.csv", content_hash_hex(read_file(run.split()))},
        {"cache.bin", cache.content_id()}}},
      {"data",
       {{"dir", o.load.data_dir}, {"layout", data.layout}, {"csv", data.csv_path},
        {"csv_hash", csv_hash}, {"images", split.size()},
        {"missing_or_unreadable_images", left_out},
        {"duplicate_pairs_in_data", data.duplicate_pairs.size()}}},
      {"split",
       {{"seed", o.split.seed}, {"val_fraction", o.split.val_fraction},
        {"test_fraction", o.split.test_fraction}, {"folds", o.split.folds},
        {"val_fold", o.split.val_fold}, {"parts", parts}}},
      {"cache",
       {{"image_size", o.image_size}, {"fit", to_string(o.fit.mode)},
        {"colour", to_string(o.fit.colour)},
        {"source_checksum", cache.source_checksum()}}},
      {"normalisation",
       {{"mean", {stats.mean[0], stats.mean[1], stats.mean[2]}},
        {"std", {stats.std[0], stats.std[1], stats.std[2]}}}},
      {"build", build_info()}};
}

}  // namespace

PrepareResult prepare_run(const PrepareOptions& o) {
  RunLock lock(o.out, "prepare", /*create_folder=*/true);
  const RunDir run{o.out};
  LoadedDataset data = load_dataset(o.load);
  std::vector<std::string> names, paths;
  for (const auto& r : data.records) {
    names.push_back(r.image_name);
    paths.push_back(r.image_path);
  }
  const CacheBuildOptions cache_options = cache_options_of(o);
  const std::string csv_hash = content_hash_hex(read_file(data.csv_path));
  const std::string inputs =
      prepare_inputs_identity(data, csv_hash, o, image_cache_checksum(names, paths, cache_options));
  PrepareResult result;
  result.set_aside_to = guard_training(run, inputs, o.fresh);

  result.cache = build_image_cache(names, paths, run.cache(), cache_options);
  std::unordered_set<std::string> unreadable;
  for (const auto& s : result.cache.skipped) unreadable.insert(s.name);
  std::vector<LesionRecord> kept;
  for (auto& r : data.records)
    if (!unreadable.count(r.image_name)) kept.push_back(std::move(r));
  std::vector<std::vector<std::string>> left_out_rows;
  for (const auto& m : data.missing_images) {
    left_out_rows.push_back({m, "image file not found"});
    result.left_out.push_back(m + ": image file not found");
  }
  for (const auto& s : result.cache.skipped) {
    left_out_rows.push_back({s.name, s.error});
    result.left_out.push_back(s.error);
  }
  if (!left_out_rows.empty()) write_csv(run.missing(), {"image_name", "problem"}, left_out_rows);
  else std::filesystem::remove(run.missing());

  result.split = make_split(kept, data.duplicate_pairs, o.split);
  write_split_csv(run.split(), result.split);
  write_images_csv(run, kept);

  // Normalisation statistics come from the training part only: val/test must not shape the model.
  const ImageCache cache = ImageCache::open(run.cache());
  std::vector<size_t> train_indices;
  for (size_t i = 0; i < result.split.size(); ++i)
    if (result.split[i].part == Part::kTrain) train_indices.push_back(i);
  if (train_indices.empty())
    throw UserError(o.out + ": the split has no training images (--val " +
                    format_number(o.split.val_fraction, 2) + " --test " +
                    format_number(o.split.test_fraction, 2) + ")");
  const ChannelStats stats = channel_stats(cache, train_indices);
  // The manifest goes last: it records the identities of what is on disk now, so a prepare killed
  // before this line leaves a run that every later command refuses until prepare runs again.
  write_json_file(run.manifest(), manifest_of(o, data, csv_hash, result.split, cache, stats, inputs,
                                              run, left_out_rows.size()));
  result.layout = data.layout;
  result.images = kept.size();
  return result;
}

}  // namespace dermsim
