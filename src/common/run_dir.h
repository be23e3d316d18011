// The run directory: everything about one experiment lives under one folder, at fixed names, so
// every command finds what the previous one made (prepare -> train -> evaluate -> predict/report).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace dermsim {

struct RunDir {
  std::string root;

  std::string manifest() const { return root + "/manifest.json"; }     // prepare's args, data checksum
  std::string images() const { return root + "/images.csv"; }          // metadata of every image
  std::string split() const { return root + "/split.csv"; }            // part and fold of every image
  std::string cache() const { return root + "/cache.bin"; }            // decoded, resized pixels
  std::string missing() const { return root + "/missing-images.txt"; } // --skip-missing list
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
};

// Throws UserError ("RUN: no manifest.json; run `dermsim prepare` first") when the run is not prepared.
RunDir open_run(const std::string& root);

// Moves everything made by or from a training (train.json, checkpoints, training log, model.json,
// metrics, scores, embeddings, reference index, report) into RUN/superseded/<UTC time>/, so that a new training never mixes with
// the old one's files and nothing is lost. Returns the folder they went to ("" when there was none).
std::string set_aside_training(const RunDir& run);

// Whether the run holds files of a training (checkpoints or train.json).
bool has_training(const RunDir& run);

nlohmann::json read_json_file(const std::string& path);
void write_json_file(const std::string& path, const nlohmann::json& value);  // atomic, pretty

// Provenance recorded in every manifest: dermsim's git commit, compiler, library versions.
nlohmann::json build_info();

}  // namespace dermsim
