// classifier_from_json: rebuilds whichever classifier a run directory saved.
#include "classify/classifier.h"

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

}  // namespace dermsim
