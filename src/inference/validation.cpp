#include "inference/validation.h"

#include <algorithm>

#include "classify/knn.h"
#include "metrics/ranking.h"
#include "model/embed.h"

namespace dermsim {

namespace {
constexpr int kValidationNeighbours = 11;  // k of the per-epoch kNN score
}  // namespace

Validator make_knn_validator(const RunData& data, const TrainOptions& options,
                             const torch::Device& device) {
  // A fixed subset of training images (every n-th) keeps validation cheap at full ISIC size.
  const std::vector<size_t> train = data.indices(Part::kTrain);
  std::vector<size_t> reference;
  const size_t stride = 1 + train.size() / std::max(1, options.validation_reference_images);
  for (size_t i = 0; i < train.size(); i += stride) reference.push_back(train[i]);
  const std::vector<size_t> val = data.indices(Part::kVal);
  EmbedOptions embed_options;
  embed_options.channels_last = options.channels_last;
  embed_options.precision = parse_precision(options.precision);
  const Normalisation norm{data.mean, data.std};

  return [&data, reference, val, embed_options, norm, device](EmbeddingNet& net) {
    const int size = data.cache.image_size();
    EmbedResult ref = embed_images(net, data.pixels(reference), size, norm, device, embed_options);
    EmbedResult queries = embed_images(net, data.pixels(val), size, norm, device, embed_options);
    KnnClassifier knn(kValidationNeighbours);
    knn.fit(ref.embeddings, data.labels(reference));
    const std::vector<double> scores = knn.predict_proba(queries.embeddings);
    const std::vector<int> y = data.labels(val);
    ValidationScore score;
    const long positives = std::count(y.begin(), y.end(), 1);
    if (positives == 0 || positives == static_cast<long>(y.size())) return score;
    score.auc = roc_auc(y, scores);
    score.pauc = partial_auc_above_tpr(y, scores, 0.8);
    return score;
  };
}

}  // namespace dermsim
