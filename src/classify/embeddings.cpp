// Small shared helpers for Embeddings: distance and argument checks.
#include "classify/embeddings.h"

#include <stdexcept>
#include <string>

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

void check_embeddings(const Embeddings& x, const char* what) {
  if (x.dim <= 0 || x.values.size() % static_cast<size_t>(x.dim) != 0) {
    throw std::invalid_argument(std::string(what) + ": embeddings of dim " + std::to_string(x.dim) +
                                " with " + std::to_string(x.values.size()) + " values");
  }
}

void check_labels(const Embeddings& x, const std::vector<int>& y, const char* what) {
  check_embeddings(x, what);
  if (y.size() != x.size()) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(y.size()) +
                                " labels for " + std::to_string(x.size()) + " rows");
  }
  for (size_t i = 0; i < y.size(); ++i) {
    if (y[i] != 0 && y[i] != 1) {
      throw std::invalid_argument(std::string(what) + ": label " + std::to_string(y[i]) +
                                  " at row " + std::to_string(i) + " is not 0 or 1");
    }
  }
}

}  // namespace dermsim
