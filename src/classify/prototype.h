// Prototype (nearest class mean) classifier on embeddings: P(malignant) is a softmax over
// -squared distance / temperature to the two class means.
#pragma once

#include <string>
#include <vector>

#include "classify/classifier.h"

namespace dermsim {

struct PrototypeOptions {
  // > 0: use this temperature. 0: fit it on the training set (see PrototypeClassifier::fit).
  double temperature = 0.0;
};

class PrototypeClassifier : public EmbeddingClassifier {
 public:
  explicit PrototypeClassifier(PrototypeOptions options = {});

  std::string name() const override { return "prototype"; }
  // Prototypes are the class means. With a fitted temperature, beta = 1/temperature minimises
  //   0.5 * beta^2 + sum_i logloss(y_i, sigmoid(beta * z_i)),  z_i = |x_i - m0|^2 - |x_i - m1|^2,
  // i.e. one-feature L2 logistic regression (C = 1, no intercept), by Newton's method. The penalty
  // keeps beta finite on separable data; beta is kept >= 1e-6 so the ordering never inverts.
  void fit(const Embeddings& x, const std::vector<int>& y) override;
  // sigmoid((|x - m0|^2 - |x - m1|^2) / temperature), the two-class softmax.
  std::vector<double> predict_proba(const Embeddings& x) const override;

  double temperature() const { return temperature_; }
  const std::vector<double>& prototype(int label) const { return label == 1 ? mean1_ : mean0_; }

  nlohmann::json to_json() const override;
  static PrototypeClassifier from_json(const nlohmann::json& j);

 private:
  double score_difference(const float* row, int dim) const;

  PrototypeOptions options_;
  double temperature_ = 1.0;
  std::vector<double> mean0_, mean1_;
};

}  // namespace dermsim
