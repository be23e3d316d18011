// The one place a run's classifier and threshold are chosen: every candidate fitted on the train
// embeddings, the best by validation AUC, its threshold from validation scores. `train` ends with
// it (so predict works right after training) and `evaluate` starts with it; neither looks at test.
#pragma once

#include <optional>
#include <vector>

#include "classify/metadata_features.h"
#include "classify/model_card.h"
#include "classify/model_selection.h"
#include "inference/run_model.h"

namespace dermsim {

struct ChoiceOptions {
  int tta = 1;
  double target_sensitivity = 0;  // 0 = Youden's J on val
  bool show_progress = true;
  bool with_head = true;  // the joint BCE head as a candidate, when the network has one
  bool metadata = false;  // also logistic on [embedding | age, sex, site] (metadata_features.h)
};

struct ModelChoice {
  PartEmbeddings train, val;
  std::vector<Candidate> candidates;  // best first; candidates[0] is the chosen one
  std::vector<double> val_scores;     // P(malignant) of the validation images by the chosen one
  ModelCard card;                     // everything but the classifier, which stays in candidates[0]
  std::optional<MetadataEncoder> encoder;  // fitted on train when options.metadata
};

ModelChoice choose_on_validation(const RunData& data, const LoadedModel& model, const ChoiceOptions& options);

// P(malignant) of `part`'s images by a candidate (a null classifier is the network's joint head;
// a candidate with metadata reads part.metadata, see attach_metadata).
std::vector<double> candidate_scores(const Candidate& candidate, const PartEmbeddings& part);

// Fills part.metadata with the encoded age, sex and site of its images.
void attach_metadata(PartEmbeddings& part, const RunData& data, const MetadataEncoder& encoder);

// Writes RUN/model.json from the choice, moving the chosen classifier into it. Hold the run's lock.
void write_model_card(const RunDir& run, ModelChoice& choice);

}  // namespace dermsim
