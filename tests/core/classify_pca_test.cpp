// fit_pca_map on data whose principal axes are known by construction.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "classify/pca.h"

namespace dermsim {
namespace {

TEST(PcaMap, FindsTheAxesOfKnownVarianceAndProjectsOntoThem) {
  // Rows = centre + 3 a u + 1 b v + 0.1 noise, with u, v orthonormal in 5-D and a, b ~ N(0, 1):
  // the axes are +-u and +-v, and the explained variance close to 9 : 1 : 0.01 ... of the total.
  const int dim = 5;
  const double s = 1 / std::sqrt(2.0);
  const double u[dim] = {s, s, 0, 0, 0}, v[dim] = {0, 0, 0, 0.6, -0.8}, centre[dim] = {1, -2, 3, 0, 0.5};
  std::mt19937 rng(1);
  std::normal_distribution<double> normal(0, 1);
  Embeddings x;
  x.dim = dim;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    const double a = normal(rng), b = normal(rng);
    for (int d = 0; d < dim; ++d)
      x.values.push_back(static_cast<float>(centre[d] + 3 * a * u[d] + b * v[d] + 0.1 * normal(rng)));
  }
  const PcaMap map = fit_pca_map(x);
  double dot_u = 0, dot_v = 0, norm0 = 0;
  for (int d = 0; d < dim; ++d) {
    dot_u += map.axes[0][d] * u[d];
    dot_v += map.axes[1][d] * v[d];
    norm0 += map.axes[0][d] * map.axes[0][d];
    EXPECT_NEAR(map.mean[d], centre[d], 0.15);
  }
  EXPECT_NEAR(norm0, 1.0, 1e-9);
  EXPECT_GT(std::abs(dot_u), 0.999);
  EXPECT_GT(std::abs(dot_v), 0.999);
  // Sign rule: the largest-magnitude component is positive (v's is -0.8, so the axis is -v).
  EXPECT_LT(dot_v, 0.0);
  const double total = 9 + 1 + dim * 0.01;
  EXPECT_NEAR(map.explained_variance[0], 9 / total, 0.03);
  EXPECT_NEAR(map.explained_variance[1], 1 / total, 0.01);

  // A row's projection is its centred dot product with each axis.
  const auto xy = project(map, x.row(7));
  double want0 = 0;
  for (int d = 0; d < dim; ++d) want0 += (x.row(7)[d] - map.mean[d]) * map.axes[0][d];
  EXPECT_NEAR(xy[0], want0, 1e-12);
}

TEST(PcaMap, OneDimensionAndOneRow) {
  Embeddings line{1, {1.0f, 2.0f, 4.0f}};
  const PcaMap map = fit_pca_map(line);
  EXPECT_DOUBLE_EQ(map.axes[0][0], 1.0);
  EXPECT_DOUBLE_EQ(map.axes[1][0], 0.0);
  EXPECT_DOUBLE_EQ(map.explained_variance[0], 1.0);
  const PcaMap single = fit_pca_map(Embeddings{3, {1, 2, 3}});
  EXPECT_DOUBLE_EQ(single.explained_variance[0], 0.0);
  EXPECT_THROW(fit_pca_map(Embeddings{3, {}}), std::invalid_argument);
}

}  // namespace
}  // namespace dermsim
