// Nearest neighbours: every eligible reference row's distance, then a partial sort of the k nearest.
#include "classify/neighbours.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace dermsim {

double squared_distance(const float* a, const float* b, int dim) {
  // Four independent sums let the compiler vectorise without -ffast-math; the order is fixed, so
  // the result is still deterministic.
  double sum[4] = {0.0, 0.0, 0.0, 0.0};
  int d = 0;
  for (; d + 4 <= dim; d += 4) {
    for (int lane = 0; lane < 4; ++lane) {
      const double diff = static_cast<double>(a[d + lane]) - static_cast<double>(b[d + lane]);
      sum[lane] += diff * diff;
    }
  }
  for (; d < dim; ++d) {
    const double diff = static_cast<double>(a[d]) - static_cast<double>(b[d]);
    sum[0] += diff * diff;
  }
  return (sum[0] + sum[1]) + (sum[2] + sum[3]);
}

std::vector<Neighbour> nearest_neighbours(const Embeddings& reference, const float* query, int k,
                                          const std::vector<std::string>* reference_groups,
                                          const std::string* exclude_group) {
  check_embeddings(reference, "nearest_neighbours");
  if (k < 0) throw std::invalid_argument("nearest_neighbours: k must be >= 0");
  if (reference_groups != nullptr && reference_groups->size() != reference.size()) {
    throw std::invalid_argument("nearest_neighbours: reference_groups size mismatch");
  }
  const bool exclude = reference_groups != nullptr && exclude_group != nullptr;
  std::vector<Neighbour> all;
  all.reserve(reference.size());
  for (size_t i = 0; i < reference.size(); ++i) {
    if (exclude && (*reference_groups)[i] == *exclude_group) continue;
    all.push_back({i, std::sqrt(squared_distance(query, reference.row(i), reference.dim))});
  }
  auto nearer = [](const Neighbour& a, const Neighbour& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.index < b.index);
  };
  const size_t top = std::min(static_cast<size_t>(k), all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(top), all.end(), nearer);
  all.resize(top);
  return all;
}

}  // namespace dermsim
