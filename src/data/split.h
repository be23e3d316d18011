// Patient-grouped, label-stratified, seeded train/val/test (or k-fold) split, and its CSV form.
// A group (a patient, merged with any duplicate-lesion partner) never crosses parts: checked every
// time a split is made or read.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/splitmix64.h"
#include "data/metadata.h"

namespace dermsim {

enum class Part { kTrain, kVal, kTest };
std::string to_string(Part part);            // "train", "val", "test"
Part part_from_string(const std::string& name);  // throws UserError on anything else

struct SplitOptions {
  double val_fraction = 0.15;   // ignored when folds > 0
  double test_fraction = 0.15;
  int folds = 0;     // 0: one train/val/test split; K >= 2: test held out, the rest in K folds
  int val_fold = 0;  // with folds: the fold used as val
  uint64_t seed = 0;
};

struct SplitRow {
  std::string image_name;
  std::string group;  // patient id, or the image name when there is none; duplicate pairs merged
  int target = -1;
  Part part = Part::kTrain;
  int fold = -1;  // -1 without folds, and for test rows
};

// Rows come back in the records' order. Deterministic for a given seed, whatever the record order.
std::vector<SplitRow> make_split(const std::vector<LesionRecord>& records,
                                 const std::vector<std::pair<std::string, std::string>>& duplicate_pairs,
                                 const SplitOptions& options);

// Columns image_name,group,target,part,fold; written atomically.
void write_split_csv(const std::string& path, const std::vector<SplitRow>& rows);
// Reads and validates (values, duplicate images, groups within one part and fold).
std::vector<SplitRow> read_split_csv(const std::string& path);

// Throws UserError "<context>: group 'G' is in both <part> (image A) and <part> (image B)",
// and likewise for two folds.
void check_no_group_crosses_parts(const std::vector<SplitRow>& rows, const std::string& context);

struct PartSummary {
  long images = 0, groups = 0, malignant = 0;
};
std::map<Part, PartSummary> summarize_split(const std::vector<SplitRow>& rows);


}  // namespace dermsim
