// Saving and loading classifiers: to_json -> text -> classifier_from_json gives bit-identical
// probabilities for every classifier type; malformed json is a UserError naming the problem.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "classify/classifier.h"
#include "classify/knn.h"
#include "classify/logistic.h"
#include "classify/prototype.h"
#include "common/error.h"
#include "support/random.h"

namespace dermsim {
namespace {

Embeddings unit_rows(size_t n, int dim, std::mt19937& rng) {
  Embeddings e = testing::random_embeddings(n, dim, rng);
  for (size_t i = 0; i < n; ++i) {  // L2-normalised, like the network's embeddings
    double norm = 0;
    for (int d = 0; d < dim; ++d) norm += e.values[i * dim + d] * e.values[i * dim + d];
    for (int d = 0; d < dim; ++d)
      e.values[i * dim + d] = static_cast<float>(e.values[i * dim + d] / std::sqrt(norm));
  }
  return e;
}

TEST(ClassifierJson, RoundTripGivesIdenticalProbabilities) {
  std::mt19937 rng(3);
  // 127 rows of 16: the float payload is not a multiple of 3 bytes, so base64 padding is exercised.
  const Embeddings train = unit_rows(127, 16, rng), test = unit_rows(40, 16, rng);
  std::vector<int> y(train.size());
  for (size_t i = 0; i < y.size(); ++i)
    y[i] = train.row(i)[0] + 0.3f * train.row(i)[1] > 0.1f ? 1 : 0;

  std::vector<std::unique_ptr<EmbeddingClassifier>> models;
  models.push_back(std::make_unique<KnnClassifier>(5, true));
  models.push_back(std::make_unique<KnnClassifier>(3, false));
  models.push_back(std::make_unique<PrototypeClassifier>());
  models.push_back(std::make_unique<PrototypeClassifier>(PrototypeOptions{0.25}));
  models.push_back(std::make_unique<LogisticRegression>(0.1, true));
  for (auto& model : models) {
    SCOPED_TRACE(model->name());
    model->fit(train, y);
    const std::string text = model->to_json().dump();
    const auto loaded = classifier_from_json(nlohmann::json::parse(text));
    EXPECT_EQ(loaded->name(), model->name());
    EXPECT_EQ(loaded->predict_proba(test), model->predict_proba(test));  // exact, not approximate
    EXPECT_EQ(loaded->to_json().dump(), text);
  }
}

TEST(ClassifierJson, MalformedJsonIsAUserErrorNamingTheField) {
  auto message_of = [](const nlohmann::json& j) -> std::string {
    try {
      classifier_from_json(j);
    } catch (const UserError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(message_of({{"k", 3}}).find("'type'"), std::string::npos);
  EXPECT_NE(message_of({{"type", "svm"}}).find("svm"), std::string::npos);
  EXPECT_NE(message_of({{"type", "logistic"}, {"c", 1.0}, {"balanced", false}, {"intercept", 0.0}})
                .find("coefficients"),
            std::string::npos);
  EXPECT_NE(message_of({{"type", "knn"},
                        {"k", 1},
                        {"distance_weighted", true},
                        {"dim", 1},
                        {"train_labels", {1}},
                        {"train_embeddings_f32le_base64", "AAA*"}})
                .find("train_embeddings_f32le_base64"),
            std::string::npos);
}


// Every malformed field of every classifier type: a UserError naming the field, never another
// exception, undefined behaviour or a classifier that would predict NaN.
TEST(ClassifierJson, HostileFieldsAreUserErrorsNamingTheField) {
  using nlohmann::json;
  const json knn = {{"type", "knn"},          {"k", 1},
                    {"distance_weighted", true}, {"dim", 2},
                    {"train_labels", {0, 1}},    {"train_embeddings_f32le_base64", "AAAAAAAAAAAAAIA/AACAPw=="}};
  const json logistic = {{"type", "logistic"}, {"c", 1.0}, {"balanced", false},
                         {"coefficients", {0.5, -0.5}}, {"intercept", 0.0}};
  const json prototype = {{"type", "prototype"}, {"fixed_temperature", 0.0}, {"temperature", 1.0},
                          {"prototype_benign", {0.0, 0.0}}, {"prototype_malignant", {1.0, 1.0}}};
  for (const json& good : {knn, logistic, prototype})
    EXPECT_NO_THROW(classifier_from_json(good)) << good.dump();

  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    json base;
    std::string field;
    json value;
  };
  const std::vector<Case> cases = {
      {knn, "k", 0},
      {knn, "k", -3},
      {knn, "k", 1e300},  // get<int>() of this is undefined behaviour
      {knn, "k", 2.5},
      {knn, "k", "3"},
      {knn, "k", 18446744073709551615ull},
      {knn, "distance_weighted", 1},
      {knn, "dim", 0},
      {knn, "dim", 3},  // 4 values are not whole rows of 3
      {knn, "dim", nullptr},
      {knn, "train_labels", {0, 2}},
      {knn, "train_labels", {0, 0.5}},
      {knn, "train_labels", {0}},  // one label for two rows
      {knn, "train_labels", "01"},
      {knn, "train_embeddings_f32le_base64", "AAAAAAAAAAAAAIA/AACAP!=="},
      {knn, "train_embeddings_f32le_base64", "AAAAAAAAAAAAAIA/AAD"},
      {knn, "train_embeddings_f32le_base64", "AAAAAAAAAAAAAIA/AADAfw=="},  // NaN
      {knn, "train_embeddings_f32le_base64", "AAAAAAAAAAAAAIA/AACAfw=="},  // +inf
      {knn, "train_embeddings_f32le_base64", 7},
      {logistic, "c", -1.0},
      {logistic, "c", nan},
      {logistic, "c", "1"},
      {logistic, "coefficients", json::array()},
      {logistic, "coefficients", {0.5, inf}},
      {logistic, "coefficients", {0.5, "x"}},
      {logistic, "coefficients", 0.5},
      {logistic, "intercept", nan},
      {logistic, "balanced", nullptr},
      {prototype, "fixed_temperature", -1.0},
      {prototype, "temperature", 0.0},
      {prototype, "temperature", inf},
      {prototype, "prototype_benign", {0.0}},  // sizes differ
      {prototype, "prototype_malignant", {1.0, nan}},
      {prototype, "prototype_malignant", json::object()},
  };
  for (const auto& c : cases) {
    json j = c.base;
    j[c.field] = c.value;
    for (const json& input : {j, [&] { json missing = c.base; missing.erase(c.field); return missing; }()}) {
      try {
        classifier_from_json(input);
        ADD_FAILURE() << "accepted " << c.field << " = " << c.value.dump();
      } catch (const UserError& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.rfind("classifier json", 0), 0u) << message;
        EXPECT_NE(message.find("'" + c.field + "'"), std::string::npos) << message;
      } catch (const std::exception& e) {
        ADD_FAILURE() << c.field << " = " << c.value.dump() << ": not a UserError: " << e.what();
      }
    }
  }
}

}  // namespace
}  // namespace dermsim
