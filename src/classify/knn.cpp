// k-nearest-neighbour classifier: brute-force Euclidean search over the stored training set.
#include "classify/knn.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "common/error.h"

namespace dermsim {
namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Little-endian float32 bytes regardless of host order, so a saved model reads the same anywhere.
std::string floats_to_base64(const std::vector<float>& values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &values[i], 4);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<uint8_t>(bits >> (8 * b));
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t left = bytes.size() - i;
    uint32_t chunk = static_cast<uint32_t>(bytes[i]) << 16;
    if (left > 1) chunk |= static_cast<uint32_t>(bytes[i + 1]) << 8;
    if (left > 2) chunk |= bytes[i + 2];
    out += kBase64Alphabet[(chunk >> 18) & 63];
    out += kBase64Alphabet[(chunk >> 12) & 63];
    out += left > 1 ? kBase64Alphabet[(chunk >> 6) & 63] : '=';
    out += left > 2 ? kBase64Alphabet[chunk & 63] : '=';
  }
  return out;
}

std::vector<float> base64_to_floats(const std::string& text, const char* field) {
  auto bad = [&](const std::string& why) {
    return UserError(std::string("classifier json: field '") + field + "': " + why);
  };
  if (text.size() % 4 != 0) throw bad("base64 length is not a multiple of 4");
  std::vector<uint8_t> bytes;
  bytes.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t chunk = 0;
    int padding = 0;
    for (int c = 0; c < 4; ++c) {
      const char ch = text[i + c];
      uint32_t v = 0;
      if (ch == '=' && i + 4 == text.size() && c >= 2) {
        ++padding;
      } else if (padding > 0) {
        throw bad("base64 data after padding");
      } else {
        const char* pos = std::strchr(kBase64Alphabet, ch);
        if (ch == '\0' || pos == nullptr) throw bad("invalid base64 character");
        v = static_cast<uint32_t>(pos - kBase64Alphabet);
      }
      chunk = (chunk << 6) | v;
    }
    bytes.push_back(static_cast<uint8_t>(chunk >> 16));
    if (padding < 2) bytes.push_back(static_cast<uint8_t>(chunk >> 8));
    if (padding < 1) bytes.push_back(static_cast<uint8_t>(chunk));
  }
  if (bytes.size() % 4 != 0) throw bad("byte count is not a multiple of 4 (float32)");
  std::vector<float> values(bytes.size() / 4);
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits = 0;
    for (int b = 0; b < 4; ++b) bits |= static_cast<uint32_t>(bytes[i * 4 + b]) << (8 * b);
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

double KnnClassifier::proba_one(const float* query, const std::vector<std::string>* train_groups,
                                const std::string* exclude_group) const {
  const size_t n = train_y_.size();
  std::vector<std::pair<double, size_t>> candidates;  // (distance, training index)
  candidates.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (exclude_group != nullptr && (*train_groups)[i] == *exclude_group) continue;
    candidates.emplace_back(std::sqrt(squared_distance(query, train_x_.row(i), train_x_.dim)), i);
  }
  if (candidates.empty()) return 0.5;
  const size_t k = std::min(static_cast<size_t>(k_), candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(k),
                    candidates.end());

  bool any_exact = false;
  for (size_t j = 0; j < k; ++j) any_exact = any_exact || candidates[j].first == 0.0;
  double total = 0.0, malignant = 0.0;
  for (size_t j = 0; j < k; ++j) {
    const double d = candidates[j].first;
    double w = 1.0;
    if (distance_weighted_) w = any_exact ? (d == 0.0 ? 1.0 : 0.0) : 1.0 / d;
    total += w;
    if (train_y_[candidates[j].second] == 1) malignant += w;
  }
  return total > 0.0 ? malignant / total : 0.0;
}

std::vector<double> KnnClassifier::predict_proba(const Embeddings& x) const {
  if (train_y_.empty()) throw std::logic_error("KnnClassifier::predict_proba before fit");
  check_embeddings(x, "KnnClassifier::predict_proba");
  if (x.dim != train_x_.dim)
    throw std::invalid_argument("KnnClassifier::predict_proba: dim mismatch");
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = proba_one(x.row(i), nullptr, nullptr);
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
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    out[i] = proba_one(x.row(i), &train_groups, &query_groups[i]);
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
