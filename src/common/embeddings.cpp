// Argument checks for Embeddings (see embeddings.h).
#include "common/embeddings.h"

#include <stdexcept>
#include <string>

namespace dermsim {

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
