// Prototype classifier: class means plus a temperature fitted as a one-feature logistic model.
#include "classify/prototype.h"

#include <cmath>
#include <stdexcept>

#include "common/error.h"
#include "common/logistic_math.h"

namespace dermsim {
namespace {

constexpr double kMinBeta = 1e-6;  // keeps temperature finite and the score's direction fixed

// argmin over beta >= kMinBeta of 0.5 beta^2 + sum softplus(beta z) - y beta z (strictly convex).
double fit_beta(const std::vector<double>& z, const std::vector<int>& y) {
  auto objective = [&](double beta) {
    double f = 0.5 * beta * beta;
    for (size_t i = 0; i < z.size(); ++i) f += softplus(beta * z[i]) - y[i] * beta * z[i];
    return f;
  };
  double beta = 1.0;
  for (int iteration = 0; iteration < 100; ++iteration) {
    double gradient = beta, hessian = 1.0;
    for (size_t i = 0; i < z.size(); ++i) {
      const double p = sigmoid(beta * z[i]);
      gradient += (p - y[i]) * z[i];
      hessian += p * (1 - p) * z[i] * z[i];
    }
    const double step = -gradient / hessian;
    const double f0 = objective(beta);
    double t = 1.0, next = beta;
    for (int halving = 0; halving < 60; ++halving, t *= 0.5) {
      next = std::max(kMinBeta, beta + t * step);
      if (objective(next) <= f0) break;
    }
    const double change = std::abs(next - beta);
    beta = next;
    if (change <= 1e-13 * std::max(1.0, beta)) break;
  }
  return beta;
}

}  // namespace

PrototypeClassifier::PrototypeClassifier(PrototypeOptions options) : options_(options) {
  if (!(options.temperature >= 0.0) || !std::isfinite(options.temperature)) {
    throw std::invalid_argument("PrototypeClassifier: temperature must be >= 0 (0 = fit)");
  }
}

double PrototypeClassifier::score_difference(const float* row, int dim) const {
  double d0 = 0.0, d1 = 0.0;
  for (int d = 0; d < dim; ++d) {
    const double a = row[d] - mean0_[d], b = row[d] - mean1_[d];
    d0 += a * a;
    d1 += b * b;
  }
  return d0 - d1;
}

void PrototypeClassifier::fit(const Embeddings& x, const std::vector<int>& y) {
  check_labels(x, y, "PrototypeClassifier::fit");
  const auto dim = static_cast<size_t>(x.dim);
  mean0_.assign(dim, 0.0);
  mean1_.assign(dim, 0.0);
  size_t count[2] = {0, 0};
  for (size_t i = 0; i < x.size(); ++i) {
    auto& mean = y[i] == 1 ? mean1_ : mean0_;
    ++count[y[i]];
    for (size_t d = 0; d < dim; ++d) mean[d] += x.row(i)[d];
  }
  if (count[0] == 0 || count[1] == 0) {
    throw UserError("prototype classifier: the training set holds only one class (" +
                    std::to_string(count[0]) + " benign, " + std::to_string(count[1]) +
                    " malignant)");
  }
  for (size_t d = 0; d < dim; ++d) {
    mean0_[d] /= static_cast<double>(count[0]);
    mean1_[d] /= static_cast<double>(count[1]);
  }
  if (options_.temperature > 0.0) {
    temperature_ = options_.temperature;
    return;
  }
  std::vector<double> z(x.size());
  for (size_t i = 0; i < x.size(); ++i) z[i] = score_difference(x.row(i), x.dim);
  temperature_ = 1.0 / fit_beta(z, y);
}

std::vector<double> PrototypeClassifier::predict_proba(const Embeddings& x) const {
  if (mean0_.empty()) throw std::logic_error("PrototypeClassifier::predict_proba before fit");
  check_embeddings(x, "PrototypeClassifier::predict_proba");
  if (static_cast<size_t>(x.dim) != mean0_.size()) {
    throw std::invalid_argument("PrototypeClassifier::predict_proba: dim mismatch");
  }
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    out[i] = sigmoid(score_difference(x.row(i), x.dim) / temperature_);
  return out;
}

nlohmann::json PrototypeClassifier::to_json() const {
  return {{"type", name()},
          {"fixed_temperature", options_.temperature},
          {"temperature", temperature_},
          {"prototype_benign", mean0_},
          {"prototype_malignant", mean1_}};
}

PrototypeClassifier PrototypeClassifier::from_json(const nlohmann::json& j) {
  return parse_classifier_json("prototype", [&] {
    using namespace classifier_json;
    const double fixed_temperature = number(j, "fixed_temperature");
    if (fixed_temperature < 0.0)
      throw std::invalid_argument("field 'fixed_temperature': must be >= 0 (0 = fitted)");
    PrototypeClassifier p(PrototypeOptions{fixed_temperature});
    p.temperature_ = number(j, "temperature");
    p.mean0_ = numbers(j, "prototype_benign");
    p.mean1_ = numbers(j, "prototype_malignant");
    if (p.mean0_.empty() || p.mean0_.size() != p.mean1_.size())
      throw std::invalid_argument("fields 'prototype_benign' (" + std::to_string(p.mean0_.size()) +
                                  " values) and 'prototype_malignant' (" +
                                  std::to_string(p.mean1_.size()) + "): empty or of different sizes");
    if (!(p.temperature_ > 0.0)) throw std::invalid_argument("field 'temperature': must be > 0");
    return p;
  });
}

}  // namespace dermsim
