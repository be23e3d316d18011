// L2-regularised logistic regression on embeddings, the same objective as sklearn
// LogisticRegression(C, penalty='l2', solver='lbfgs'[, class_weight='balanced']), fitted exactly
// by Newton's method (dim ~128, so the Hessian solve is cheap).
#pragma once

#include <string>
#include <vector>

#include "classify/classifier.h"

namespace dermsim {

struct LogisticOptions {
  double c = 1.0;            // inverse regularisation strength, as sklearn's C
  bool balanced = false;     // class_weight='balanced': weight n / (2 * n_class) per sample
  double tolerance = 1e-10;  // stop when max |gradient| <= tolerance * max(1, C * sum(weights))
  int max_iterations = 100;  // Newton steps; convergence normally takes < 15
};

class LogisticRegression : public EmbeddingClassifier {
 public:
  explicit LogisticRegression(double c = 1.0, bool balanced = false);
  explicit LogisticRegression(LogisticOptions options);

  std::string name() const override { return "logistic"; }
  // Minimises 0.5 |w|^2 + C * sum_i s_i * logloss(y_i, sigmoid(w.x_i + b)); b is not penalised.
  // Throws UserError when y holds only one class (the optimum does not exist).
  void fit(const Embeddings& x, const std::vector<int>& y) override;
  std::vector<double> predict_proba(const Embeddings& x) const override;

  const std::vector<double>& coefficients() const { return w_; }
  double intercept() const { return b_; }
  const LogisticOptions& options() const { return options_; }
  int iterations() const { return iterations_; }

  nlohmann::json to_json() const override;
  static LogisticRegression from_json(const nlohmann::json& j);

 private:
  LogisticOptions options_;
  std::vector<double> w_;
  double b_ = 0.0;
  int iterations_ = 0;
};

}  // namespace dermsim
