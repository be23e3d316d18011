// PCA by the cyclic Jacobi eigenvalue method on the dim x dim covariance (dim <= a few hundred:
// milliseconds), after one pass over the rows to accumulate it.
#include "classify/pca.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace dermsim {

namespace {

constexpr int kMaxSweeps = 100;  // Jacobi converges quadratically; 10-20 sweeps are typical

// Eigen-decomposition of the symmetric matrix a (n x n, row-major; destroyed). Returns the
// eigenvalues; column j of vectors is the eigenvector of eigenvalue j.
std::vector<double> jacobi_eigen(std::vector<double>& a, int n, std::vector<double>& vectors) {
  vectors.assign(static_cast<size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) vectors[static_cast<size_t>(i) * n + i] = 1.0;
  auto at = [n](std::vector<double>& m, int r, int c) -> double& { return m[static_cast<size_t>(r) * n + c]; };
  for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
    double off = 0, total = 0;
    for (int p = 0; p < n; ++p)
      for (int q = 0; q < n; ++q) (p == q ? total : off) += at(a, p, q) * at(a, p, q);
    if (off <= 1e-30 * (total + off) || off == 0) break;
    for (int p = 0; p < n - 1; ++p) {
      for (int q = p + 1; q < n; ++q) {
        const double apq = at(a, p, q);
        if (apq == 0) continue;
        const double theta = (at(a, q, q) - at(a, p, p)) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; ++k) {  // columns p and q
          const double akp = at(a, k, p), akq = at(a, k, q);
          at(a, k, p) = c * akp - s * akq;
          at(a, k, q) = s * akp + c * akq;
        }
        for (int k = 0; k < n; ++k) {  // rows p and q
          const double apk = at(a, p, k), aqk = at(a, q, k);
          at(a, p, k) = c * apk - s * aqk;
          at(a, q, k) = s * apk + c * aqk;
        }
        for (int k = 0; k < n; ++k) {
          const double vkp = at(vectors, k, p), vkq = at(vectors, k, q);
          at(vectors, k, p) = c * vkp - s * vkq;
          at(vectors, k, q) = s * vkp + c * vkq;
        }
      }
    }
  }
  std::vector<double> values(n);
  for (int i = 0; i < n; ++i) values[i] = at(a, i, i);
  return values;
}

}  // namespace

PcaMap fit_pca_map(const Embeddings& x) {
  check_embeddings(x, "fit_pca_map");
  if (x.size() == 0) throw std::invalid_argument("fit_pca_map: no rows");
  const int dim = x.dim;
  const size_t n = x.size();
  PcaMap map;
  map.mean.assign(dim, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (int d = 0; d < dim; ++d) map.mean[d] += x.row(i)[d];
  for (double& m : map.mean) m /= static_cast<double>(n);

  std::vector<double> covariance(static_cast<size_t>(dim) * dim, 0.0), centred(dim);
  for (size_t i = 0; i < n; ++i) {
    for (int d = 0; d < dim; ++d) centred[d] = x.row(i)[d] - map.mean[d];
    for (int r = 0; r < dim; ++r)
      for (int c = r; c < dim; ++c) covariance[static_cast<size_t>(r) * dim + c] += centred[r] * centred[c];
  }
  for (int r = 0; r < dim; ++r)
    for (int c = r; c < dim; ++c) covariance[static_cast<size_t>(c) * dim + r] = covariance[static_cast<size_t>(r) * dim + c];

  std::vector<double> vectors;
  const std::vector<double> values = jacobi_eigen(covariance, dim, vectors);
  std::vector<int> order(dim);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return values[a] > values[b]; });
  double total = 0;
  for (double v : values) total += std::max(v, 0.0);
  for (int axis = 0; axis < 2; ++axis) {
    map.axes[axis].assign(dim, 0.0);
    if (axis >= dim) continue;
    const int j = order[axis];
    for (int d = 0; d < dim; ++d) map.axes[axis][d] = vectors[static_cast<size_t>(d) * dim + j];
    const auto largest = std::max_element(map.axes[axis].begin(), map.axes[axis].end(),
                                          [](double a, double b) { return std::abs(a) < std::abs(b); });
    if (*largest < 0)
      for (double& v : map.axes[axis]) v = -v;
    map.explained_variance[axis] = total > 0 ? std::max(values[j], 0.0) / total : 0.0;
  }
  return map;
}

std::array<double, 2> project(const PcaMap& map, const float* row) {
  std::array<double, 2> xy{0.0, 0.0};
  for (int axis = 0; axis < 2; ++axis)
    for (size_t d = 0; d < map.mean.size(); ++d) xy[axis] += (row[d] - map.mean[d]) * map.axes[axis][d];
  return xy;
}

}  // namespace dermsim
