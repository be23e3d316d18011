// RUN/reference-index.bin: the training split's embeddings as every similarity lookup needs them
// (similar, explain, serve), stored once so nothing re-embeds the training set: per row the image
// name, patient, label and a small JPEG thumbnail, plus the 2-D PCA map of the rows. Torch-free:
// this is the file format; inference/run_reference_index builds one from a run and checks it is
// current.
//
// Layout (little-endian): IndexHeader (magic, version, dim, count, sizes, checksum) | meta (JSON:
// names, patients, labels, thumbnail sizes, tta, made_from, map axes) | blob (count x dim float32
// embeddings | count x 2 float32 map coordinates | the thumbnails back to back). The checksum
// covers the header fields, meta and blob, so any damaged byte is refused.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "classify/pca.h"
#include "common/embeddings.h"
#include "common/provenance.h"
#include "common/run_dir.h"

namespace dermsim {

struct ReferenceIndex {
  Embeddings embeddings;
  std::vector<std::string> names, patients;
  std::vector<int> labels;                    // 1 = melanoma
  std::vector<std::string> thumbnails;        // JPEG bytes
  PcaMap map;
  std::vector<std::array<float, 2>> map_points;  // each row on the map's axes
  int tta = 1;         // test-time augmentation the embeddings were made with (queries use the same)
  MadeFrom made_from;  // reference_index_inputs

  size_t size() const { return names.size(); }
};

std::string encode_reference_index(const ReferenceIndex& index);

// Parses and checks (magic, version, every size against the byte count, the checksum, labels
// 0/1, finite values). Anything else throws UserError "PATH: damaged reference index (...)".
ReferenceIndex decode_reference_index(std::string_view bytes, const std::string& path);

// What an index of this run must have been made from: the checkpoint (its identity), the cache
// (its content id) and the precision of its embeddings ("fp32" | "bf16", under the key
// "precision"): queries are embedded at the card's precision, and an index made at another one
// is stale. Not model.json itself: re-choosing a classifier at the same precision leaves the index
// valid (its test-time augmentation is recorded in the index and checked against the card where
// both are used).
MadeFrom reference_index_inputs(const std::string& checkpoint_id, const std::string& cache_content_id,
                                const std::string& precision);

// Reads RUN/reference-index.bin and checks it against `current` (reference_index_inputs). Missing,
// damaged or stale: UserError naming the file and `dermsim evaluate --run RUN`, which rebuilds it.
ReferenceIndex read_reference_index(const RunDir& run, const MadeFrom& current);

// The embedding map as GET /api/map and the report carry it:
// {"method": "pca", "explained_variance": [a, b], "points": [{"x", "y", "label", "image"}, ...]}.
nlohmann::json reference_map_json(const ReferenceIndex& index);

}  // namespace dermsim
