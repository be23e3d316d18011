// EmbeddingClassifier: the common interface of the classifiers fitted on embeddings (kNN,
// prototypes, logistic regression), so evaluate can compare them side by side and save the chosen
// one.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/embeddings.h"
#include "common/error.h"

namespace dermsim {

class EmbeddingClassifier {
 public:
  virtual ~EmbeddingClassifier() = default;
  // Short type tag ("knn", "prototype", "logistic"), also the "type" field of to_json().
  virtual std::string name() const = 0;
  // y: 0 benign, 1 malignant, one per row of x.
  virtual void fit(const Embeddings& x, const std::vector<int>& y) = 0;
  // Probability of malignant for each row of x.
  virtual std::vector<double> predict_proba(const Embeddings& x) const = 0;
  // Everything needed to predict again, exactly: classifier_from_json(c.to_json()) gives
  // bit-identical probabilities.
  virtual nlohmann::json to_json() const = 0;
};

// Rebuilds a fitted classifier saved by to_json(). Throws UserError naming the bad field when the
// json is not one of ours (it comes from a file on disk).
std::unique_ptr<EmbeddingClassifier> classifier_from_json(const nlohmann::json& j);

// Runs `parse` and turns a missing/mistyped field or a bad value into one UserError naming the
// classifier type: the shared error path of every classifier's from_json.
template <typename Parse>
auto parse_classifier_json(const char* type, Parse parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const nlohmann::json::exception& e) {
    throw UserError(std::string("classifier json (") + type + "): " + e.what());
  } catch (const std::invalid_argument& e) {
    throw UserError(std::string("classifier json (") + type + "): " + e.what());
  }
}

// Field readers for the from_json functions, to call inside parse_classifier_json: each checks the
// field's type and range and throws std::invalid_argument("field 'F': ...") (made a UserError by
// parse_classifier_json). Plain get<int>() is not enough: on 1e300 it is undefined behaviour, and a
// NaN or infinite number (1e999 parses as inf) would come out as NaN probabilities much later.
namespace classifier_json {
long long integer(const nlohmann::json& j, const char* field, long long min, long long max);
std::vector<long long> integers(const nlohmann::json& j, const char* field, long long min,
                                long long max);
double number(const nlohmann::json& j, const char* field);  // finite
bool boolean(const nlohmann::json& j, const char* field);
std::string text(const nlohmann::json& j, const char* field);
std::vector<double> numbers(const nlohmann::json& j, const char* field);  // each finite
}  // namespace classifier_json

}  // namespace dermsim
