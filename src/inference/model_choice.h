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
  // Also logistic on [embedding | age, sex, site] (metadata_features.h), when the training images
  // record any of them; the card then keeps an image-only fallback (ModelCard::image_only).
  bool metadata = true;
};

struct ModelChoice {
  PartEmbeddings train, val;
  std::vector<Candidate> candidates;  // best first; candidates[0] is the chosen one
  std::vector<double> val_scores;     // P(malignant) of the validation images by the chosen one
  ModelCard card;  // everything but the classifiers, which stay in candidates (take_card moves them)
  std::optional<size_t> image_only;        // candidates index of card.image_only's classifier
  std::optional<MetadataEncoder> encoder;  // fitted on train when metadata candidates were fitted
};


ModelChoice choose_on_validation(const RunData& data, const LoadedModel& model, const ChoiceOptions& options);

// P(malignant) of `part`'s images by a candidate (a null classifier is the network's joint head;
// a candidate with metadata reads part.metadata, see attach_metadata).
std::vector<double> candidate_scores(const Candidate& candidate, const PartEmbeddings& part);

// Fills part.metadata with the encoded age, sex and site of its images.
void attach_metadata(PartEmbeddings& part, const RunData& data, const MetadataEncoder& encoder);

// The finished card: the chosen classifier (and the image-only fallback's) moved out of the
// candidates into it. Score candidates before, not after.
ModelCard take_card(ModelChoice& choice);

}  // namespace dermsim
