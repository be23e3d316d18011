// k-nearest-neighbour classifier: the k nearest stored training rows (classify/neighbours) vote.
#include "classify/knn.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "classify/neighbours.h"
#include "common/base64.h"
#include "common/error.h"

namespace dermsim {
namespace {

// Little-endian float32 bytes regardless of host order, so a saved model reads the same anywhere.
std::string floats_to_base64(const std::vector<float>& values) {
  std::string bytes(values.size() * 4, '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &values[i], 4);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
  }
  return base64_encode(bytes);
}

std::vector<float> base64_to_floats(const std::string& text, const char* field) {
  const std::string where = std::string("classifier json: field '") + field + "'";
  const std::string bytes = base64_decode(text, where);
  if (bytes.size() % 4 != 0)
    throw UserError(where + ": byte count is not a multiple of 4 (float32)");
  std::vector<float> values(bytes.size() / 4);
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits = 0;
    for (int b = 0; b < 4; ++b)
      bits |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i * 4 + b])) << (8 * b);
    std::memcpy(&values[i], &bits, 4);
  }
  return values;
}

}  // namespace

KnnClassifier::KnnClassifier(int k, bool distance_weighted)
    : k_(k), distance_weighted_(distance_weighted) {
  if (k < 1) throw std::invalid_argument("KnnClassifier: k must be >= 1, got " + std::to_string(k));
}

void KnnClassifier::fit(const Embeddings& x, const std::vector<int>& y) {
  check_labels(x, y, "KnnClassifier::fit");
  if (x.size() == 0) throw std::invalid_argument("KnnClassifier::fit: empty training set");
  train_x_ = x;
  train_y_ = y;
}

double KnnClassifier::vote(const std::vector<Neighbour>& neighbours) const {
  if (neighbours.empty()) return 0.5;

  bool any_exact = false;
  for (const Neighbour& nb : neighbours) any_exact = any_exact || nb.distance == 0.0;
  double total = 0.0, malignant = 0.0;
  for (const Neighbour& nb : neighbours) {
    const double d = nb.distance;
    double w = 1.0;
    if (distance_weighted_) w = any_exact ? (d == 0.0 ? 1.0 : 0.0) : 1.0 / d;
    total += w;
    if (train_y_[nb.index] == 1) malignant += w;
  }
  return total > 0.0 ? malignant / total : 0.0;
}

std::vector<double> KnnClassifier::predict_proba(const Embeddings& x) const {
  if (train_y_.empty()) throw std::logic_error("KnnClassifier::predict_proba before fit");
  check_embeddings(x, "KnnClassifier::predict_proba");
  if (x.dim != train_x_.dim)
    throw std::invalid_argument("KnnClassifier::predict_proba: dim mismatch");
  std::vector<double> out;
  for (const auto& neighbours : nearest_neighbours_batch(train_x_, x, k_)) out.push_back(vote(neighbours));
  return out;
}

std::vector<double> KnnClassifier::predict_proba_excluding_groups(
    const Embeddings& x, const std::vector<std::string>& query_groups,
    const std::vector<std::string>& train_groups) const {
  if (train_y_.empty())
    throw std::logic_error("KnnClassifier::predict_proba_excluding_groups before fit");
  check_embeddings(x, "KnnClassifier::predict_proba_excluding_groups");
  if (x.dim != train_x_.dim || query_groups.size() != x.size() ||
      train_groups.size() != train_y_.size()) {
    throw std::invalid_argument("KnnClassifier::predict_proba_excluding_groups: size mismatch");
  }
  std::vector<double> out;
  for (const auto& neighbours : nearest_neighbours_batch(train_x_, x, k_, &train_groups, &query_groups))
    out.push_back(vote(neighbours));
  return out;
}

nlohmann::json KnnClassifier::to_json() const {
  return {{"type", name()},
          {"k", k_},
          {"distance_weighted", distance_weighted_},
          {"dim", train_x_.dim},
          {"train_labels", train_y_},
          {"train_embeddings_f32le_base64", floats_to_base64(train_x_.values)}};
}

KnnClassifier KnnClassifier::from_json(const nlohmann::json& j) {
  return parse_classifier_json("knn", [&] {
    using namespace classifier_json;
    constexpr long long kMaxInt = std::numeric_limits<int>::max();
    KnnClassifier knn(static_cast<int>(integer(j, "k", 1, kMaxInt)), boolean(j, "distance_weighted"));
    Embeddings x;
    x.dim = static_cast<int>(integer(j, "dim", 1, kMaxInt));
    x.values = base64_to_floats(text(j, "train_embeddings_f32le_base64"), "train_embeddings_f32le_base64");
    for (float v : x.values)
      if (!std::isfinite(v))
        throw std::invalid_argument("field 'train_embeddings_f32le_base64': holds NaN or inf");
    if (x.values.empty() || x.values.size() % static_cast<size_t>(x.dim) != 0)
      throw std::invalid_argument("field 'dim': " + std::to_string(x.values.size()) +
                                  " embedding values are not whole rows of " + std::to_string(x.dim));
    const auto labels = integers(j, "train_labels", 0, 1);
    if (labels.size() != x.size())
      throw std::invalid_argument("field 'train_labels': " + std::to_string(labels.size()) +
                                  " labels for " + std::to_string(x.size()) + " embeddings");
    knn.fit(x, std::vector<int>(labels.begin(), labels.end()));
    return knn;
  });
}

}  // namespace dermsim
