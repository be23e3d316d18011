// L2 logistic regression fitted by damped Newton steps (IRLS) with a Cholesky solve of the
// (dim+1) x (dim+1) Hessian; the intercept is the last parameter and carries no penalty.
#include "classify/logistic.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/error.h"
#include "common/logistic_math.h"

namespace dermsim {
namespace {

// Solves H s = r in place (H symmetric positive definite, row-major m x m); returns false when H
// is not numerically positive definite.
bool cholesky_solve(std::vector<double>& h, std::vector<double>& r, size_t m) {
  for (size_t j = 0; j < m; ++j) {
    double diag = h[j * m + j];
    for (size_t k = 0; k < j; ++k) diag -= h[j * m + k] * h[j * m + k];
    if (!(diag > 0.0)) return false;
    const double l = std::sqrt(diag);
    h[j * m + j] = l;
    for (size_t i = j + 1; i < m; ++i) {
      double v = h[i * m + j];
      for (size_t k = 0; k < j; ++k) v -= h[i * m + k] * h[j * m + k];
      h[i * m + j] = v / l;
    }
  }
  for (size_t i = 0; i < m; ++i) {  // L y = r
    double v = r[i];
    for (size_t k = 0; k < i; ++k) v -= h[i * m + k] * r[k];
    r[i] = v / h[i * m + i];
  }
  for (size_t i = m; i-- > 0;) {  // L^T s = y
    double v = r[i];
    for (size_t k = i + 1; k < m; ++k) v -= h[k * m + i] * r[k];
    r[i] = v / h[i * m + i];
  }
  return true;
}

}  // namespace

LogisticRegression::LogisticRegression(double c, bool balanced)
    : LogisticRegression(LogisticOptions{c, balanced}) {}

LogisticRegression::LogisticRegression(LogisticOptions options) : options_(options) {
  if (!(options.c > 0.0) || !std::isfinite(options.c)) {
    throw std::invalid_argument("LogisticRegression: C must be a positive number");
  }
}

void LogisticRegression::fit(const Embeddings& x, const std::vector<int>& y) {
  check_labels(x, y, "LogisticRegression::fit");
  const size_t n = x.size(), dim = static_cast<size_t>(x.dim), m = dim + 1;
  size_t count[2] = {0, 0};
  for (int label : y) ++count[label];
  if (count[0] == 0 || count[1] == 0) {
    throw UserError("logistic regression: the training set holds only one class (" +
                    std::to_string(count[0]) + " benign, " + std::to_string(count[1]) +
                    " malignant)");
  }
  // Per-sample weight times C, folded together once.
  double class_weight[2] = {options_.c, options_.c};
  if (options_.balanced) {
    for (int c = 0; c < 2; ++c)
      class_weight[c] *= static_cast<double>(n) / (2.0 * static_cast<double>(count[c]));
  }
  const double weight_total = class_weight[0] * count[0] + class_weight[1] * count[1];

  std::vector<double> theta(m, 0.0), eta(n), candidate(m), eta_candidate(n);
  auto linear = [&](const std::vector<double>& t, std::vector<double>& out) {
    for (size_t i = 0; i < n; ++i) {
      double v = t[dim];
      const float* row = x.row(i);
      for (size_t d = 0; d < dim; ++d) v += t[d] * row[d];
      out[i] = v;
    }
  };
  auto objective = [&](const std::vector<double>& t, const std::vector<double>& e) {
    double f = 0.0;
    for (size_t d = 0; d < dim; ++d) f += 0.5 * t[d] * t[d];
    for (size_t i = 0; i < n; ++i) f += class_weight[y[i]] * (softplus(e[i]) - y[i] * e[i]);
    return f;
  };

  linear(theta, eta);
  double f = objective(theta, eta);
  std::vector<double> gradient(m), hessian(m * m), xi(m);
  iterations_ = 0;
  for (; iterations_ < options_.max_iterations; ++iterations_) {
    std::fill(hessian.begin(), hessian.end(), 0.0);
    for (size_t d = 0; d < dim; ++d) {
      gradient[d] = theta[d];
      hessian[d * m + d] = 1.0;
    }
    gradient[dim] = 0.0;
    for (size_t i = 0; i < n; ++i) {
      const double p = sigmoid(eta[i]);
      const double s = class_weight[y[i]];
      const float* row = x.row(i);
      for (size_t d = 0; d < dim; ++d) xi[d] = row[d];
      xi[dim] = 1.0;
      const double residual = s * (p - y[i]);
      const double curvature = s * p * (1.0 - p);
      for (size_t a = 0; a < m; ++a) {
        gradient[a] += residual * xi[a];
        const double ca = curvature * xi[a];
        for (size_t b = 0; b <= a; ++b) hessian[a * m + b] += ca * xi[b];
      }
    }
    double max_gradient = 0.0;
    for (double g : gradient) max_gradient = std::max(max_gradient, std::abs(g));
    if (max_gradient <= options_.tolerance * std::max(1.0, weight_total)) break;
    for (size_t a = 0; a < m; ++a)
      for (size_t b = a + 1; b < m; ++b) hessian[a * m + b] = hessian[b * m + a];
    std::vector<double> step(gradient);
    for (double& s : step) s = -s;
    if (!cholesky_solve(hessian, step, m)) {
      throw std::runtime_error("LogisticRegression::fit: Hessian not positive definite");
    }
    double slope = 0.0;
    for (size_t a = 0; a < m; ++a) slope += gradient[a] * step[a];
    // Backtracking (Armijo) keeps the far-from-optimum steps from overshooting.
    bool moved = false;
    for (double t = 1.0; t > 1e-10; t *= 0.5) {
      for (size_t a = 0; a < m; ++a) candidate[a] = theta[a] + t * step[a];
      linear(candidate, eta_candidate);
      const double f_candidate = objective(candidate, eta_candidate);
      if (f_candidate <= f + 1e-4 * t * slope) {
        moved = f_candidate < f || t == 1.0;
        theta.swap(candidate);
        eta.swap(eta_candidate);
        f = f_candidate;
        break;
      }
    }
    if (!moved) break;  // at the floor of floating-point precision
  }
  w_.assign(theta.begin(), theta.begin() + static_cast<std::ptrdiff_t>(dim));
  b_ = theta[dim];
}

std::vector<double> LogisticRegression::predict_proba(const Embeddings& x) const {
  if (w_.empty()) throw std::logic_error("LogisticRegression::predict_proba before fit");
  check_embeddings(x, "LogisticRegression::predict_proba");
  if (static_cast<size_t>(x.dim) != w_.size()) {
    throw std::invalid_argument("LogisticRegression::predict_proba: dim mismatch");
  }
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    double v = b_;
    const float* row = x.row(i);
    for (size_t d = 0; d < w_.size(); ++d) v += w_[d] * row[d];
    out[i] = sigmoid(v);
  }
  return out;
}

nlohmann::json LogisticRegression::to_json() const {
  return {{"type", name()},
          {"c", options_.c},
          {"balanced", options_.balanced},
          {"coefficients", w_},
          {"intercept", b_}};
}

LogisticRegression LogisticRegression::from_json(const nlohmann::json& j) {
  return parse_classifier_json("logistic", [&] {
    using namespace classifier_json;
    LogisticOptions options;
    options.c = number(j, "c");
    if (!(options.c > 0.0)) throw std::invalid_argument("field 'c': must be > 0");
    options.balanced = boolean(j, "balanced");
    LogisticRegression model(options);
    model.w_ = numbers(j, "coefficients");
    model.b_ = number(j, "intercept");
    if (model.w_.empty()) throw std::invalid_argument("field 'coefficients': empty");
    return model;
  });
}

}  // namespace dermsim
