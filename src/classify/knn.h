// k-nearest-neighbour classifier on embeddings: Euclidean distance, optionally 1/d weighted with
// sklearn KNeighborsClassifier(weights='distance') semantics, searched by classify/neighbours
// (one matrix product for all queries).
#pragma once

#include <string>
#include <vector>

#include "classify/classifier.h"
#include "classify/neighbours.h"

namespace dermsim {

class KnnClassifier : public EmbeddingClassifier {
 public:
  explicit KnnClassifier(int k, bool distance_weighted = true);

  std::string name() const override { return "knn"; }
  int k() const { return k_; }
  bool distance_weighted() const { return distance_weighted_; }

  // Stores a copy of the training set (kNN has no other model).
  void fit(const Embeddings& x, const std::vector<int>& y) override;
  // Among the min(k, n_train) nearest training rows (ties in distance broken by lower training
  // index): the weighted fraction that is malignant. Distance weights are 1/d; when any neighbour
  // is at distance 0, those exact matches get weight 1 each and all others 0 (as sklearn).
  std::vector<double> predict_proba(const Embeddings& x) const override;
  // Same, but a training row whose group (patient) equals the query's is never a neighbour: for
  // scoring training rows themselves without the leak. train_groups has one entry per training
  // row (in fit order), query_groups one per row of x. A query with no eligible neighbour gets 0.5.
  std::vector<double> predict_proba_excluding_groups(
      const Embeddings& x, const std::vector<std::string>& query_groups,
      const std::vector<std::string>& train_groups) const;

  // The training set is stored inline, as base64 of little-endian float32 (exact, ~2 MB for
  // 3,000 x 128), with the labels as a plain array.
  nlohmann::json to_json() const override;
  static KnnClassifier from_json(const nlohmann::json& j);

 private:
  // The weighted malignant fraction of one query's neighbours (0.5 when it has none).
  double vote(const std::vector<Neighbour>& neighbours) const;

  int k_;
  bool distance_weighted_;
  Embeddings train_x_;
  std::vector<int> train_y_;
};

}  // namespace dermsim
