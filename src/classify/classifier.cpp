// classifier_from_json: rebuilds whichever classifier a run directory saved.
#include "classify/classifier.h"

#include <cmath>
#include <stdexcept>

#include "classify/knn.h"
#include "classify/logistic.h"
#include "classify/prototype.h"
#include "common/error.h"

namespace dermsim {

std::unique_ptr<EmbeddingClassifier> classifier_from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    throw UserError("classifier json: missing string field 'type'");
  }
  const auto type = j["type"].get<std::string>();
  if (type == "knn") return std::make_unique<KnnClassifier>(KnnClassifier::from_json(j));
  if (type == "prototype")
    return std::make_unique<PrototypeClassifier>(PrototypeClassifier::from_json(j));
  if (type == "logistic")
    return std::make_unique<LogisticRegression>(LogisticRegression::from_json(j));
  throw UserError("classifier json: field 'type' is '" + type +
                  "', expected knn, prototype or logistic");
}

namespace classifier_json {
namespace {

std::invalid_argument bad_field(const char* field, const std::string& why) {
  return std::invalid_argument(std::string("field '") + field + "': " + why);
}

long long integer_value(const nlohmann::json& value, const char* field, long long min,
                        long long max) {
  const auto out_of_range = [&] {
    return bad_field(field, "expected an integer in [" + std::to_string(min) + ", " +
                                std::to_string(max) + "], got " + value.dump());
  };
  if (!value.is_number_integer()) throw out_of_range();
  // An unsigned number above LLONG_MAX would not survive get<long long>(); it is out of range.
  if (value.is_number_unsigned() &&
      value.get<unsigned long long>() > static_cast<unsigned long long>(max))
    throw out_of_range();
  const auto v = value.get<long long>();
  if (v < min || v > max) throw out_of_range();
  return v;
}

double number_value(const nlohmann::json& value, const char* field) {
  if (!value.is_number() || !std::isfinite(value.get<double>()))
    throw bad_field(field, "expected a finite number, got " + value.dump());
  return value.get<double>();
}

const nlohmann::json& array_field(const nlohmann::json& j, const char* field) {
  const nlohmann::json& value = j.at(field);
  if (!value.is_array()) throw bad_field(field, "expected an array, got " + value.dump());
  return value;
}

}  // namespace

long long integer(const nlohmann::json& j, const char* field, long long min, long long max) {
  return integer_value(j.at(field), field, min, max);
}

std::vector<long long> integers(const nlohmann::json& j, const char* field, long long min,
                                long long max) {
  std::vector<long long> out;
  for (const auto& value : array_field(j, field)) out.push_back(integer_value(value, field, min, max));
  return out;
}

double number(const nlohmann::json& j, const char* field) { return number_value(j.at(field), field); }

bool boolean(const nlohmann::json& j, const char* field) {
  const nlohmann::json& value = j.at(field);
  if (!value.is_boolean()) throw bad_field(field, "expected true or false, got " + value.dump());
  return value.get<bool>();
}

std::string text(const nlohmann::json& j, const char* field) {
  const nlohmann::json& value = j.at(field);
  if (!value.is_string()) throw bad_field(field, "expected a string, got " + value.dump());
  return value.get<std::string>();
}

std::vector<double> numbers(const nlohmann::json& j, const char* field) {
  std::vector<double> out;
  for (const auto& value : array_field(j, field)) out.push_back(number_value(value, field));
  return out;
}

}  // namespace classifier_json

}  // namespace dermsim
