// Age, sex and anatomical site as classifier inputs beside the embedding ("metadata fusion"):
// fitted on the training images only (age standardised with the train mean and sd, the sites seen
// in train one-hot), every missing value imputed as 0 and flagged, so "not recorded" is a value of
// its own. A site never seen in training counts as missing.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/embeddings.h"
#include "data/metadata.h"

namespace dermsim {

class MetadataEncoder {
 public:
  static MetadataEncoder fit(const std::vector<const LesionRecord*>& train);

  int width() const { return 5 + static_cast<int>(sites_.size()); }
  // Names of the columns encode() writes, in order (for reports and messages).
  std::vector<std::string> column_names() const;
  void encode(const LesionRecord& record, float* out) const;
  const std::vector<std::string>& sites() const { return sites_; }
  // One row per record.
  Embeddings encode_all(const std::vector<const LesionRecord*>& records) const;

  nlohmann::json to_json() const;
  // Throws UserError naming `source` and the field.
  static MetadataEncoder from_json(const nlohmann::json& j, const std::string& source);

 private:
  double age_mean_ = 0, age_sd_ = 1;
  std::vector<std::string> sites_;  // sorted
};

// True when any record has an age, a sex or a site.
bool records_have_metadata(const std::vector<const LesionRecord*>& records);

// [x | m]: each row of x followed by the same row of m (m.rows == x.rows).
Embeddings concat_columns(const Embeddings& x, const Embeddings& m);

}  // namespace dermsim
