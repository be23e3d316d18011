// Nearest neighbours: float32 dot products of a block of queries against every reference row by
// one sgemm give approximate squared distances; every row that can still be among the k nearest
// (within a rounding bound of the k-th) gets its exact double distance, and those are ranked.
// A handful of queries (a server request) skip the product: the exact loop alone is faster there.
#include "classify/neighbours.h"

#include <cblas.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <stdexcept>

#include "common/parallel_for.h"

namespace dermsim {

namespace {

// Queries per sgemm: 64 x 33k products are 8.5 MB, so one block's products stay in the last-level
// cache while their rows are selected.
constexpr size_t kQueryBlock = 64;
// Below this many queries the exact loop alone is faster: the product's fixed costs (every
// reference's norm, the candidate pass) are a full pass over the references themselves.
constexpr size_t kMinQueriesForProduct = 8;

struct ReferenceNorms {
  std::vector<double> squared;  // |r_i|^2 in double
  double max_norm = 0;          // max |r_i|
};

ReferenceNorms reference_norms(const Embeddings& reference) {
  ReferenceNorms norms;
  norms.squared.resize(reference.size());
  for (size_t i = 0; i < reference.size(); ++i) {
    double sum = 0;
    for (int d = 0; d < reference.dim; ++d) sum += double(reference.row(i)[d]) * reference.row(i)[d];
    norms.squared[i] = sum;
    norms.max_norm = std::max(norms.max_norm, std::sqrt(sum));
  }
  return norms;
}

bool nearer(const Neighbour& a, const Neighbour& b) {
  return a.distance < b.distance || (a.distance == b.distance && a.index < b.index);
}

// Exact distances of the rows `keep` accepts (about `expected` of them), the `top` nearest first.
template <typename Keep>
std::vector<Neighbour> rank_exactly(const Embeddings& reference, const float* query, size_t top,
                                    size_t expected, Keep keep) {
  std::vector<Neighbour> candidates;
  candidates.reserve(expected);
  for (size_t i = 0; i < reference.size(); ++i)
    if (keep(i)) candidates.push_back({i, std::sqrt(squared_distance(query, reference.row(i), reference.dim))});
  top = std::min(top, candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(top),
                    candidates.end(), nearer);
  candidates.resize(top);
  return candidates;
}

// The k nearest of one query from its float dot products with every reference row. A float dot
// product of length dim is within dim * FLT_EPSILON/2 * |q| |r| of the exact one (any summation
// order), so the approximate squared distance is within beta = dim * FLT_EPSILON * |q| |r| of the
// exact. Each true top-k row then has approximate value <= a_k + 2 beta, where a_k is the k-th
// smallest approximate value: those rows, and only those, are measured exactly. The bound used is
// twice that (plus a floor for the double arithmetic), so no true neighbour is ever left out.
std::vector<Neighbour> select_nearest(const Embeddings& reference, const ReferenceNorms& norms,
                                      const float* query, const float* dots, int k,
                                      const std::vector<std::string>* reference_groups,
                                      const std::string* exclude_group) {
  const bool exclude = reference_groups != nullptr && exclude_group != nullptr && !exclude_group->empty();
  auto eligible = [&](size_t i) { return !exclude || (*reference_groups)[i] != *exclude_group; };
  double query_squared = 0;
  for (int d = 0; d < reference.dim; ++d) query_squared += double(query[d]) * query[d];
  auto approximate = [&](size_t i) { return query_squared + norms.squared[i] - 2.0 * dots[i]; };
  // The k smallest approximate values in a max-heap: most rows fail one comparison.
  std::vector<double> heap;
  heap.reserve(static_cast<size_t>(k));
  size_t count = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    if (!eligible(i)) continue;
    ++count;
    const double a = approximate(i);
    if (heap.size() < static_cast<size_t>(k)) {
      heap.push_back(a);
      std::push_heap(heap.begin(), heap.end());
    } else if (a < heap.front()) {
      std::pop_heap(heap.begin(), heap.end());
      heap.back() = a;
      std::push_heap(heap.begin(), heap.end());
    }
  }
  if (count <= static_cast<size_t>(k)) return rank_exactly(reference, query, count, count, eligible);
  const double beta = reference.dim * double(FLT_EPSILON) * std::sqrt(query_squared) * norms.max_norm;
  const double cutoff = heap.front() + 4.0 * beta + 1e-12 * (query_squared + 1.0);
  return rank_exactly(reference, query, static_cast<size_t>(k), 2 * static_cast<size_t>(k),
                      [&](size_t i) { return eligible(i) && approximate(i) <= cutoff; });
}

}  // namespace

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

std::vector<std::vector<Neighbour>> nearest_neighbours_batch(
    const Embeddings& reference, const Embeddings& queries, int k,
    const std::vector<std::string>* reference_groups, const std::vector<std::string>* query_groups,
    int threads) {
  check_embeddings(reference, "nearest_neighbours");
  check_embeddings(queries, "nearest_neighbours (queries)");
  if (k < 0) throw std::invalid_argument("nearest_neighbours: k must be >= 0");
  if (queries.size() > 0 && queries.dim != reference.dim)
    throw std::invalid_argument("nearest_neighbours: query and reference dims differ");
  if (reference_groups != nullptr && reference_groups->size() != reference.size())
    throw std::invalid_argument("nearest_neighbours: reference_groups size mismatch");
  if (query_groups != nullptr && query_groups->size() != queries.size())
    throw std::invalid_argument("nearest_neighbours: query_groups size mismatch");
  std::vector<std::vector<Neighbour>> out(queries.size());
  const size_t n = reference.size();
  if (n == 0 || k == 0 || queries.size() == 0) return out;

  if (queries.size() < kMinQueriesForProduct) {
    for (size_t q = 0; q < queries.size(); ++q) {
      const std::string* group = query_groups ? &(*query_groups)[q] : nullptr;
      const bool exclude = reference_groups != nullptr && group != nullptr && !group->empty();
      out[q] = rank_exactly(reference, queries.row(q), static_cast<size_t>(k), n, [&](size_t i) {
        return !exclude || (*reference_groups)[i] != *group;
      });
    }
    return out;
  }
  const ReferenceNorms norms = reference_norms(reference);
  const int dim = reference.dim;
  std::vector<float> dots(std::min(kQueryBlock, queries.size()) * n);
  for (size_t begin = 0; begin < queries.size(); begin += kQueryBlock) {
    const size_t count = std::min(kQueryBlock, queries.size() - begin);
    // dots (count x n) = Q (count x dim) * R^T (dim x n), all row-major.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(count), static_cast<int>(n),
                dim, 1.0f, queries.row(begin), dim, reference.values.data(), dim, 0.0f, dots.data(),
                static_cast<int>(n));
    auto select = [&](size_t j) {
      const size_t q = begin + j;
      out[q] = select_nearest(reference, norms, queries.row(q), dots.data() + j * n, k,
                              reference_groups, query_groups ? &(*query_groups)[q] : nullptr);
    };
    if (count == 1)
      select(0);
    else
      parallel_for(count, threads, select);
  }
  return out;
}

std::vector<Neighbour> nearest_neighbours(const Embeddings& reference, const float* query, int k,
                                          const std::vector<std::string>* reference_groups,
                                          const std::string* exclude_group) {
  Embeddings one;
  one.dim = reference.dim;
  one.values.assign(query, query + reference.dim);
  const std::vector<std::string> group{exclude_group ? *exclude_group : std::string()};
  return nearest_neighbours_batch(reference, one, k, reference_groups,
                                  exclude_group ? &group : nullptr, 1)[0];
}

}  // namespace dermsim
