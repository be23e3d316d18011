#include "image/run_data.h"

#include <algorithm>

#include "common/atomic_file.h"
#include "common/csv.h"
#include "common/error.h"
#include "common/hash.h"

namespace dermsim {

std::vector<size_t> RunData::indices(Part part) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < split.size(); ++i)
    if (split[i].part == part) out.push_back(i);
  return out;
}

std::vector<int> RunData::labels(const std::vector<size_t>& idx) const {
  std::vector<int> out;
  for (size_t i : idx) out.push_back(split[i].target);
  return out;
}

std::vector<std::string> RunData::groups(const std::vector<size_t>& idx) const {
  std::vector<std::string> out;
  for (size_t i : idx) out.push_back(split[i].group);
  return out;
}

std::vector<const uint8_t*> RunData::pixels(const std::vector<size_t>& idx) const {
  std::vector<const uint8_t*> out;
  for (size_t i : idx) out.push_back(cache.image(i));
  return out;
}

RunData load_run_data(const std::string& root) {
  RunDir run = open_run(root);
  nlohmann::json manifest = read_json_file(run.manifest());
  std::vector<SplitRow> split = read_split_csv(run.split());
  ImageCache cache = ImageCache::open(run.cache());
  const std::string split_id = content_hash_hex(read_file(run.split()));
  const std::string remedy = "run `dermsim prepare --out " + root + "` again";
  require_made_from(run.manifest(), manifest.value("artefacts", nlohmann::json()),
                    {{"images.csv", content_hash_hex(read_file(run.images()))},
                     {"split.csv", split_id},
                     {"cache.bin", cache.content_id()}},
                    remedy);

  CsvTable table = read_csv(run.images());
  const int name_col = require_column(table, {"image_name"}),
            patient_col = require_column(table, {"patient_id"}),
            target_col = require_column(table, {"target"}),
            diagnosis_col = require_column(table, {"diagnosis"}),
            path_col = require_column(table, {"image_path"}),
            sex_col = require_column(table, {"sex"}), age_col = require_column(table, {"age_approx"}),
            site_col = require_column(table, {"site"});
  std::vector<LesionRecord> images;
  for (const auto& row : table.rows) {
    LesionRecord r;
    r.image_name = row[name_col];
    r.patient_id = row[patient_col];
    r.target = std::stoi(row[target_col]);
    r.diagnosis = row[diagnosis_col];
    r.image_path = row[path_col];
    r.sex = row[sex_col];
    r.site = row[site_col];
    if (!row[age_col].empty()) r.age = std::stod(row[age_col]);  // prepare wrote a checked number
    images.push_back(std::move(r));
  }
  if (images.size() != split.size() || cache.size() != split.size())
    throw UserError(root + ": images.csv, split.csv and cache.bin disagree in length (" +
                    std::to_string(images.size()) + ", " + std::to_string(split.size()) + ", " +
                    std::to_string(cache.size()) + "); run `dermsim prepare` again");
  for (size_t i = 0; i < split.size(); ++i)
    if (images[i].image_name != split[i].image_name || cache.name(i) != split[i].image_name)
      throw UserError(root + ": row " + std::to_string(i + 1) + " names differ between images.csv, "
                      "split.csv and cache.bin; run `dermsim prepare` again");
  RunData data{run, manifest, std::move(images), std::move(split), std::move(cache), {}, {}, split_id};
  try {
    const auto& norm = manifest.at("normalisation");
    for (int c = 0; c < 3; ++c) {
      data.mean[c] = norm.at("mean").at(c);
      data.std[c] = norm.at("std").at(c);
    }
  } catch (const nlohmann::json::exception& e) {
    throw UserError(run.manifest() + ": bad normalisation field (" + e.what() + "); " + remedy);
  }
  return data;
}

int fold_count(const RunData& data) {
  int highest = -1;
  for (const auto& row : data.split) highest = std::max(highest, row.fold);
  return highest + 1;
}

RunData as_fold(RunData data, int fold) {
  const int folds = fold_count(data);
  if (folds < 2)
    throw UserError(data.run.split() + ": no folds; prepare with `--folds K` to train folds");
  if (fold < 0 || fold >= folds)
    throw UserError("fold " + std::to_string(fold) + ": the run has folds 0-" + std::to_string(folds - 1));
  for (auto& row : data.split)
    if (row.part != Part::kTest) row.part = row.fold == fold ? Part::kVal : Part::kTrain;
  data.split_id = content_hash_hex(data.split_id + " fold " + std::to_string(fold) + " of " +
                                   std::to_string(folds));
  data.run = data.run.fold(fold);
  return data;
}

RunData trained_fold(RunData data, int fold) {
  if (!has_fold_training(data.run))
    throw UserError("--fold " + std::to_string(fold) + ": " + data.run.root +
                    " holds no k-fold training (train it with `dermsim train --folds`)");
  return as_fold(std::move(data), fold);
}

}  // namespace dermsim
