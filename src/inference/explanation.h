// Grad-CAM of a run's model on one fitted image, as `explain` and `serve` show it: the score it
// explains is the joint head's logit when the run trained one, else the prototype difference of
// the reference index's class means (smooth, unlike kNN).
#pragma once

#include <string>

#include "classify/reference_index.h"
#include "inference/run_model.h"
#include "model/saliency.h"

namespace dermsim {

struct SaliencyScore {
  EmbeddingScore score;
  std::string description;
};

// kind: "auto" (head when the run trained one), "head" or "prototype". Throws UserError when the
// run has no head for "head", or the reference set lacks one of the classes for "prototype".
SaliencyScore saliency_score(const LoadedModel& model, const ReferenceIndex& reference,
                             const std::string& kind);

// `image`: a square of the cache's size (load_query_image, or an upload fitted like the cache).
// Safe to call from several threads at once: gradients go to the feature map only, never into
// the network's parameters (their .grad stays as it was).
GradCam explain_image(const LoadedModel& model, const RgbImage& image, const EmbeddingScore& score);

}  // namespace dermsim
