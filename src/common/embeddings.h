// Embeddings: a dense row-major matrix of embedding vectors (n x dim floats). Plain data shared
// along the pipeline: the model stage produces it, the classify and metrics stages read it.
#pragma once

#include <cstddef>
#include <vector>

namespace dermsim {

struct Embeddings {
  int dim = 0;
  std::vector<float> values;  // row-major n x dim

  size_t size() const { return dim > 0 ? values.size() / static_cast<size_t>(dim) : 0; }
  const float* row(size_t i) const { return values.data() + i * static_cast<size_t>(dim); }
};

// Throws std::invalid_argument (a programming error, not user input) when values is not a whole
// number of rows of dim, or when labels are not 0/1 or do not match the row count.
void check_embeddings(const Embeddings& x, const char* what);
void check_labels(const Embeddings& x, const std::vector<int>& y, const char* what);

}  // namespace dermsim
