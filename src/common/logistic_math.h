// Numerically stable logistic functions, shared by the classifiers and the commands.
#pragma once

#include <cmath>

namespace dermsim {

// 1 / (1 + exp(-t)) without overflow for large |t|.
inline double sigmoid(double t) {
  if (t >= 0) return 1.0 / (1.0 + std::exp(-t));
  const double e = std::exp(t);
  return e / (1.0 + e);
}

// log(1 + exp(t)) without overflow.
inline double softplus(double t) {
  return t > 0 ? t + std::log1p(std::exp(-t)) : std::log1p(std::exp(t));
}

}  // namespace dermsim
