// Fuzzes classifier_from_json on any JSON text (text that is not JSON is skipped: parsing it is
// nlohmann's business); a classifier that loads must predict on rows of its own dimension and
// survive a to_json/from_json round trip.
#include <nlohmann/json.hpp>
#include <string>

#include "classify/classifier.h"
#include "fuzz_support.h"

namespace {

// The embedding dimension a loaded classifier expects, from the fields it was loaded from.
size_t dimension_of(const nlohmann::json& j) {
  const std::string type = j.at("type");
  if (type == "knn") return j.at("dim").get<size_t>();
  if (type == "logistic") return j.at("coefficients").size();
  return j.at("prototype_benign").size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  dermsim::fuzz::expect_only_user_errors([&] {
    auto classifier = dermsim::classifier_from_json(j);
    dermsim::Embeddings x;
    x.dim = static_cast<int>(dimension_of(j));
    x.values.assign(2 * dimension_of(j), 0.0f);
    for (size_t d = 0; d < dimension_of(j); ++d) x.values[d] = 1.0f;
    const auto before = classifier->predict_proba(x);
    const auto after = dermsim::classifier_from_json(classifier->to_json())->predict_proba(x);
    for (size_t i = 0; i < before.size(); ++i)  // bit-identical, NaN included (NaN != NaN)
      if (!(before[i] == after[i] || (before[i] != before[i] && after[i] != after[i]))) std::abort();
  });
  return 0;
}
