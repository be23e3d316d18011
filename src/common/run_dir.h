// The run directory: everything about one experiment lives under one folder, at fixed names, so
// every command finds what the previous one made (prepare -> train -> evaluate -> predict/report).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

namespace dermsim {

struct RunDir {
  std::string root;
  // Where prepare's files are: `root` itself (empty), or for one fold of a k-fold training
  // (RUN/folds/K) the run folder holding it, so every fold reads the one split and cache.
  std::string prepared_root;

  RunDir() = default;
  explicit RunDir(std::string root_folder, std::string prepared_folder = "")
      : root(std::move(root_folder)), prepared_root(std::move(prepared_folder)) {}

  const std::string& prepared() const { return prepared_root.empty() ? root : prepared_root; }
  std::string manifest() const { return prepared() + "/manifest.json"; }  // prepare's args, data checksum
  std::string images() const { return prepared() + "/images.csv"; }       // metadata of every image
  std::string split() const { return prepared() + "/split.csv"; }         // part and fold of every image
  std::string cache() const { return prepared() + "/cache.bin"; }         // decoded, resized pixels
  std::string missing() const { return prepared() + "/missing-images.txt"; }  // --skip-missing list
  std::string train_config() const { return root + "/train.json"; }
  std::string checkpoint_last() const { return root + "/checkpoint-last.pt"; }
  std::string checkpoint_best() const { return root + "/checkpoint-best.pt"; }
  std::string training_log() const { return root + "/training-log.csv"; }
  std::string model_card() const { return root + "/model.json"; }     // chosen classifier, threshold
  std::string metrics(const std::string& part) const { return root + "/metrics-" + part + ".json"; }
  std::string scores(const std::string& part) const { return root + "/scores-" + part + ".csv"; }
  std::string reference_index() const { return root + "/reference-index.bin"; }  // train embeddings
  std::string report() const { return root + "/report.html"; }
  std::string superseded() const { return root + "/superseded"; }    // set-aside earlier training
  // k-fold training (`train --folds`): one training folder per fold, their shared options, and
  // the fold ensemble's card (threshold chosen on the pooled out-of-fold scores).
  std::string folds() const { return root + "/folds"; }
  std::string folds_config() const { return folds() + "/train.json"; }
  RunDir fold(int k) const { return RunDir{folds() + "/" + std::to_string(k), prepared()}; }
  std::string ensemble_card() const { return root + "/ensemble.json"; }
};

// Throws UserError ("RUN: no manifest.json; run `dermsim prepare` first") when the run is not prepared.
RunDir open_run(const std::string& root);

// Moves everything made by or from a training (train.json, checkpoints, training log, model.json,
// metrics, scores, embeddings, reference index, report, the folds/ folder and ensemble.json) into
// RUN/superseded/<UTC time>/, so that a new training never mixes with the old one's files and
// nothing is lost. Returns the folder they went to ("" when there was none).
std::string set_aside_training(const RunDir& run);

// Whether the run holds files of a training (checkpoints or train.json, or a k-fold training).
bool has_training(const RunDir& run);

// Whether the run holds a k-fold training (RUN/folds/train.json, written by `train --folds`).
bool has_fold_training(const RunDir& run);

nlohmann::json read_json_file(const std::string& path);
void write_json_file(const std::string& path, const nlohmann::json& value);  // atomic, pretty

// Provenance recorded in every manifest: dermsim's git commit, compiler, library versions.
nlohmann::json build_info();

}  // namespace dermsim
