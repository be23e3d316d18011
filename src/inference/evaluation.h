// What `evaluate` computes: classifiers fitted on the train embeddings, the best chosen on
// validation with its threshold, scored once on the requested split, side by side with the same
// classifiers on the untrained network; retrieval metrics and examples for the report.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "image/run_data.h"
#include "classify/model_card.h"
#include "common/csv.h"
#include "inference/run_model.h"
#include "metrics/retrieval.h"
#include "metrics/summary.h"

namespace dermsim {

struct EvaluateOptions {
  Part part = Part::kTest;
  int tta = 1;
  double target_sensitivity = 0;  // 0 = Youden's J on val
  bool with_floor = true;
  int retrieval_k = 8;
  std::string strata_csv;  // CSV image_name,STRATUM: AUC within each stratum as well
  bool metadata = true;    // also candidates on [embedding | age, sex, site] (ChoiceOptions::metadata)
};

struct ClassifierRow {
  std::string description;
  double val_auc = 0, auc = 0, pauc = 0;
  bool chosen = false;
};

struct StratumAuc {
  std::string name;
  size_t images = 0;
  long malignant = 0;
  double auc = 0;  // NaN with one class
};

struct Evaluation {
  ModelCard card;                         // the chosen classifier and threshold
  std::vector<ClassifierRow> classifiers;  // best of each family, best first
  std::vector<ClassifierRow> floor;        // the same on the untrained network
  PartEmbeddings train;                    // the reference set (reference-index.bin)
  PartEmbeddings eval;                     // the scored split
  std::vector<double> scores;              // P(malignant) of each image of the split
  BinaryMetrics metrics;
  std::optional<BinaryMetrics> image_only_metrics;  // of card.image_only, when the card has one
  RetrievalMetrics retrieval;
  std::string strata_column;
  std::vector<StratumAuc> strata;
  nlohmann::json retrieval_examples;  // the report's panel: nearest training lesions of top hits
};

// A strata CSV (image_name,STRATUM), read before any embedding so a bad file is refused at once.
struct Strata {
  CsvTable table;
  int name_col = 0, stratum_col = 1;
  std::string column() const { return table.header[stratum_col]; }
};
Strata read_strata(const std::string& strata_csv);

// AUC within each stratum of the scored images (named by `image_names`); images the CSV does not
// list form the stratum "(not listed)".
std::vector<StratumAuc> auc_within_strata(const Strata& strata, const std::vector<std::string>& image_names,
                                          const std::vector<int>& y, const std::vector<double>& scores);
// [{stratum, images, malignant, auc}] (auc null with one class); null when there are none.
nlohmann::json to_json(const std::vector<StratumAuc>& strata);

// RUN/scores-SPLIT.csv: image_name,group,target,score (+ fold, + image_only_score, when given),
// scores written so that they read back as the same doubles.
void write_scores_csv(const std::string& path, const std::vector<std::string>& image_names,
                      const std::vector<std::string>& groups, const std::vector<int>& y,
                      const std::vector<double>& scores, const std::vector<int>* folds = nullptr,
                      const std::vector<double>* image_only_scores = nullptr);

Evaluation evaluate_run(const RunData& data, const LoadedModel& model, const EvaluateOptions& options);

// model.json, reference-index.bin, metrics-SPLIT.json and scores-SPLIT.csv, each recording the
// checkpoint it came from.
// Call while holding the run's lock.
void write_evaluation(const RunData& data, const LoadedModel& model, const EvaluateOptions& options,
                      const Evaluation& evaluation);

}  // namespace dermsim
