// A two-axis principal component map of embeddings (torch-free): the reference set's embedding map
// that the page and the report draw, with new queries placed on the same axes.
#pragma once

#include <array>
#include <vector>

#include "common/embeddings.h"

namespace dermsim {

struct PcaMap {
  std::vector<double> mean;                     // dim
  std::array<std::vector<double>, 2> axes;      // unit vectors of dim, largest variance first
  std::array<double, 2> explained_variance{};   // fraction of the total variance on each axis
};

// The two leading principal axes of x's rows (covariance eigenvectors, by Jacobi rotations: exact
// and deterministic). Each axis's sign makes its largest-magnitude component positive. Needs at
// least one row; with dim 1 the second axis is zero.
PcaMap fit_pca_map(const Embeddings& x);

// (x, y) of one embedding row on the map's axes.
std::array<double, 2> project(const PcaMap& map, const float* row);

}  // namespace dermsim
