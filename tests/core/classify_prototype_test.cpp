// Prototype classifier: a 2-D case checked by hand, and the fitted temperature's optimality.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "classify/prototype.h"
#include "common/error.h"

namespace dermsim {
namespace {

// Benign (0,0),(2,0) -> mean (1,0); malignant (0,2),(0,4) -> mean (0,3).
Embeddings hand_case() {
  Embeddings e;
  e.dim = 2;
  e.values = {0, 0, 2, 0, 0, 2, 0, 4};
  return e;
}
const std::vector<int> kHandLabels = {0, 0, 1, 1};

TEST(Prototype, FixedTemperatureHandCase) {
  PrototypeClassifier p(PrototypeOptions{2.0});
  p.fit(hand_case(), kHandLabels);
  EXPECT_EQ(p.prototype(0), (std::vector<double>{1.0, 0.0}));
  EXPECT_EQ(p.prototype(1), (std::vector<double>{0.0, 3.0}));
  Embeddings q;
  q.dim = 2;
  q.values = {1, 1, 0.5f, 1.5f};
  const auto proba = p.predict_proba(q);
  // (1,1): d0 = 1, d1 = 5 -> e^{-5/2} / (e^{-1/2} + e^{-5/2}) = 1 / (1 + e^2).
  EXPECT_NEAR(proba[0], 1.0 / (1.0 + std::exp(2.0)), 1e-15);
  // (0.5,1.5): equidistant (d0 = d1 = 2.5) -> 1/2.
  EXPECT_NEAR(proba[1], 0.5, 1e-15);
}

TEST(Prototype, FittedTemperatureIsTheRegularisedLikelihoodOptimum) {
  // Overlapping 1-D classes, so the likelihood alone has a finite optimum too.
  Embeddings x;
  x.dim = 1;
  x.values = {-2, -1, -0.5f, 0.3f, 1, -0.2f, 0.4f, 1.2f, 2, 2.5f};
  const std::vector<int> y = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
  PrototypeClassifier p;
  p.fit(x, y);
  const double m0 = p.prototype(0)[0], m1 = p.prototype(1)[0];
  auto objective = [&](double beta) {
    double f = 0.5 * beta * beta;
    for (size_t i = 0; i < y.size(); ++i) {
      const double z =
          (x.values[i] - m0) * (x.values[i] - m0) - (x.values[i] - m1) * (x.values[i] - m1);
      f += std::log1p(std::exp(beta * z)) - y[i] * beta * z;
    }
    return f;
  };
  const double beta = 1.0 / p.temperature();
  const double h = 1e-5;
  EXPECT_NEAR((objective(beta + h) - objective(beta - h)) / (2 * h), 0.0, 1e-6);
  EXPECT_GT(objective(beta * 1.1), objective(beta));
  EXPECT_GT(objective(beta * 0.9), objective(beta));
}

TEST(Prototype, SeparableDataKeepsAFiniteTemperature) {
  PrototypeClassifier p;
  p.fit(hand_case(), kHandLabels);
  EXPECT_TRUE(std::isfinite(p.temperature()));
  EXPECT_GT(p.temperature(), 0.0);
  const auto proba = p.predict_proba(hand_case());
  EXPECT_LT(proba[0], 0.5);
  EXPECT_GT(proba[3], 0.5);
}

TEST(Prototype, OneClassIsAUserError) {
  PrototypeClassifier p;
  EXPECT_THROW(p.fit(hand_case(), {1, 1, 1, 1}), UserError);
}

}  // namespace
}  // namespace dermsim
