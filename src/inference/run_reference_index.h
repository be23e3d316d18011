// The run's reference index (classify/reference_index.h) built from and checked against the run:
// `evaluate` writes it (and `train` may), `similar`, `explain` and `serve` read it instead of
// embedding the training split again.
#pragma once

#include "classify/reference_index.h"
#include "image/run_data.h"
#include "inference/run_model.h"

namespace dermsim {

// Side of the JPEG thumbnails stored per reference image (smaller caches keep their own size).
constexpr int kThumbnailSize = 64;

// Writes RUN/reference-index.bin from `train`, the train split's embeddings made by `model` with
// `tta` variants: names, patients, labels, thumbnails from the cache's pixels, and the PCA map.
// Records checkpoint-best.pt, cache.bin and model.precision (reference_index_inputs); call it
// holding the run's lock, with the model at the precision of the card written beside it.
void write_reference_index(const RunData& data, const LoadedModel& model, const PartEmbeddings& train,
                           int tta);

// Reads and verifies RUN/reference-index.bin and checks that it was made from the current
// checkpoint and cache at model.precision (the card's: use_card_precision). Missing, damaged or
// stale: UserError naming the file and `dermsim evaluate --run RUN`, which rebuilds it.
ReferenceIndex load_reference_index(const RunData& data, const LoadedModel& model);

}  // namespace dermsim
