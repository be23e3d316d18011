// RUN/model.json, the model card `evaluate` writes and predict / similar / explain / serve read:
// the classifier chosen on validation, the operating threshold, and the checkpoint it belongs to.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "classify/classifier.h"
#include "classify/metadata_features.h"
#include "common/run_dir.h"

namespace dermsim {

// What the thresholds meant on validation: the page's threshold explorer slides along this curve.
struct ValidationCurve {
  std::vector<double> thresholds, tpr, fpr;  // one per distinct validation score, highest first
  long positives = 0, negatives = 0;
  double sensitivity = 0, specificity = 0;   // at the card's threshold
};

struct ModelCard {
  std::unique_ptr<EmbeddingClassifier> classifier;  // null when the chosen one is the joint head
  std::string description;
  double threshold = 0.5;
  std::string threshold_rule;
  double validation_auc = 0;
  int tta = 1;
  // "fp32" | "bf16": the precision of the embeddings it was fitted and thresholded on, at which every
  // consumer must embed. "" in cards written before it was recorded: the run's training precision.
  std::string precision;
  std::string checkpoint_id;  // identity of the checkpoint-best.pt it was fitted on
  std::optional<MetadataEncoder> metadata;  // set when the classifier reads age, sex and site too
  ValidationCurve validation;  // empty in cards written before it was recorded
  // With metadata: the best classifier of the embedding alone, with its own threshold, for inputs
  // that carry no age, sex or site (a `serve` upload, `predict` without --csv). Null otherwise.
  std::shared_ptr<ModelCard> image_only;
};

// The card to score inputs with: `card` itself, or its image-only fallback when the inputs carry
// no metadata and the card reads it (a card without a fallback is returned as is, and
// malignancy_probability then names what is missing).
const ModelCard& card_for_inputs(const ModelCard& card, bool inputs_have_metadata);

nlohmann::json to_json(const ModelCard& card);
// {"threshold": [...], "tpr": [...], "fpr": [...], "positives": P, "negatives": N}
nlohmann::json to_json(const ValidationCurve& curve);

// Reads RUN/model.json and checks that it belongs to the checkpoint with identity `checkpoint_id`
// (TrainedNet::checkpoint_id). A missing, malformed or stale card throws UserError naming the file
// and the command that rebuilds it.
ModelCard load_model_card(const RunDir& run, const std::string& checkpoint_id);

// Writes RUN/model.json (atomically). Hold the run's lock.
void write_model_card(const RunDir& run, const ModelCard& card);

// P(malignant) of each image from its embedding (or, for the joint head, its logit), and from its
// metadata `records` (one per row) when the card uses metadata: without them that is a UserError
// naming what is missing.
std::vector<double> malignancy_probability(const ModelCard& card, const Embeddings& embeddings,
                                           const std::vector<double>& head_logits,
                                           const std::vector<const LesionRecord*>* records = nullptr);

}  // namespace dermsim
