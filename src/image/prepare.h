// `prepare` as a library call: metadata -> patient-grouped split -> image cache -> manifest, written
// into a run folder with their provenance (image/run_data.h reads it back and checks it).
#pragma once

#include <string>
#include <vector>

#include "data/metadata.h"
#include "data/split.h"
#include "image/cache.h"

namespace dermsim {

struct PrepareOptions {
  LoadOptions load;
  SplitOptions split;
  std::string out;  // the run folder
  int image_size = 128;
  ImageFit fit;
  int threads = 0;
  // Set a trained run's training aside (RUN/superseded/) so that its split or cache may change.
  bool fresh = false;
};

struct PrepareResult {
  std::string layout;
  size_t images = 0;
  std::vector<SplitRow> split;
  CacheBuildResult cache;
  std::vector<std::string> left_out;  // "name: why" for each missing or unreadable image skipped
  std::string set_aside_to;           // where --fresh moved the earlier training ("" if nowhere)
};

// Refuses (UserError, before writing anything) to change the split or cache under a trained run
// unless options.fresh. Holds the run's lock while it writes.
PrepareResult prepare_run(const PrepareOptions& options);

}  // namespace dermsim
