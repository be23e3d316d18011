// What `prepare` left in a run folder, loaded and cross-checked in one call: the images' metadata,
// the split (patient overlap re-checked on load), the pixel cache and the normalisation statistics.
// Row i of images.csv, split.csv and the cache describe the same image.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <string>
#include <vector>

#include "common/provenance.h"
#include "common/run_dir.h"
#include "data/metadata.h"
#include "data/split.h"
#include "image/cache.h"

namespace dermsim {

struct RunData {
  RunDir run;
  nlohmann::json manifest;
  std::vector<LesionRecord> images;
  std::vector<SplitRow> split;
  ImageCache cache;
  std::array<double, 3> mean{}, std{};
  std::string split_id;  // content hash of split.csv

  // What a training of this run is made from: the identities its checkpoints record.
  MadeFrom training_inputs() const {
    return {{"split.csv", split_id}, {"cache.bin", cache.content_id()}};
  }

  std::vector<size_t> indices(Part part) const;
  std::vector<int> labels(const std::vector<size_t>& indices) const;
  std::vector<std::string> groups(const std::vector<size_t>& indices) const;
  std::vector<const uint8_t*> pixels(const std::vector<size_t>& indices) const;
};

// Loads and checks the provenance chain of what prepare wrote: images.csv, split.csv and cache.bin
// must be the files manifest.json records (else UserError: run `dermsim prepare` again).
RunData load_run_data(const std::string& root);

// K of a split prepared with `--folds K` (1 + the highest fold number), 0 without folds.
int fold_count(const RunData& data);

// The run as fold `fold` of a k-fold training sees it: that fold is val, every other fold train,
// test stays test; its training files live in RUN/folds/<fold>/ (run.root) while split.csv and
// cache.bin stay the run's own (run.prepared_root). split_id names the split *and* the fold, so a
// checkpoint of one fold is refused as stale by every other. The normalisation statistics stay
// the run's (computed by prepare on the train part of its --val-fold: pixel means, no labels).
RunData as_fold(RunData data, int fold);

// as_fold for a run that holds a k-fold training (`train --folds`); UserError "--fold K: RUN holds
// no k-fold training" otherwise. What `predict --fold` and `embed --fold` load.
RunData trained_fold(RunData data, int fold);

}  // namespace dermsim
