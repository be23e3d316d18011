// Reads ISIC 2020 style metadata (official download, Kaggle's resized copy, test metadata, or an
// explicit CSV + image folder), checks it row by row, and resolves every image file.
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace dermsim {

struct LesionRecord {
  std::string image_name, patient_id, sex, site, diagnosis;
  double age = std::numeric_limits<double>::quiet_NaN();  // NaN when the CSV leaves it empty
  int target = -1;  // 1 malignant, 0 benign, -1 unlabelled
  std::string image_path;
  long csv_line = 0;  // physical line in the metadata CSV, for messages
};

// Column names in the metadata CSV. Empty = auto-detect among the known aliases
// (official, Kaggle and test spellings); a non-empty name must exist.
struct ColumnNames {
  std::string image, patient, sex, age, site, diagnosis, benign_malignant, target;
};

struct LoadOptions {
  std::string data_dir;   // a folder in one of the known layouts, or empty with csv_path
  std::string csv_path;   // explicit metadata CSV (overrides layout detection)
  std::string image_dir;  // with csv_path; empty = the layout's usual folder next to the CSV
  ColumnNames columns;
  bool skip_missing = false;   // drop rows whose image file is missing instead of failing
  bool require_labels = true;  // training needs target 0/1 and both classes
};

struct LoadedDataset {
  std::string layout;  // "official", "kaggle", "official-test", "explicit"
  std::string csv_path, image_dir;
  std::vector<LesionRecord> records;  // in CSV order
  std::vector<std::string> missing_images;  // image names dropped by skip_missing
  // Same-lesion pairs from ISIC_2020_Training_Duplicates.csv whose both images are in `records`.
  std::vector<std::pair<std::string, std::string>> duplicate_pairs;
};

// Throws UserError (one line naming file, CSV line and column) on the first problem found.
LoadedDataset load_dataset(const LoadOptions& options);

// Writes the images skipped by skip_missing (column image_name) so a run records what it left out.
void write_missing_list(const std::string& path, const std::vector<std::string>& missing_images);

}  // namespace dermsim
