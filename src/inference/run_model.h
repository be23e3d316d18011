// The trained model of a run as every inference command uses it (evaluate, predict, embed,
// similar, explain, serve): the network on its device with the run's normalisation, its
// embeddings of the run's own images by split part, and query images fitted like the cache.
#pragma once

#include <string>
#include <vector>

#include "common/embeddings.h"
#include "image/decode.h"
#include "image/resize.h"
#include "classify/model_card.h"
#include "image/run_data.h"
#include "model/embed.h"
#include "train/checkpoint.h"

namespace dermsim {

struct LoadedModel {
  EmbeddingNet net{nullptr};
  TrainOptions options;
  std::string checkpoint_id;
  torch::Device device{torch::kCPU};
  Normalisation normalisation;
  // What every embedding below is made at: the training precision after load_model, the card's
  // after use_card_precision, evaluate's --precision when it chooses a card.
  Precision precision = Precision::kFloat32;

  bool has_head() const { return options.loss == "bce" || options.head_weight > 0; }
};

// checkpoint-best.pt on `device_name` ("auto", "cpu", "cuda"), provenance checked against `data`,
// at the precision it was trained at.
LoadedModel load_model(const RunData& data, const std::string& device_name, int threads);

// The precision `card`'s classifier and threshold were chosen at, which its scores only mean at:
// the recorded one, or for a card that records none (written before evaluate --precision) the
// training precision, the only one cards were chosen at then.
Precision card_precision(const ModelCard& card, const TrainOptions& options);

// Sets model.precision to card_precision: every command that scores with a card, or compares with
// the reference index written beside it, embeds at that precision and no other.
void use_card_precision(LoadedModel& model, const ModelCard& card);

// The same architecture with its initial weights: the floor results are shown beside.
LoadedModel untrained_copy(const LoadedModel& model);

struct PartEmbeddings {
  std::vector<size_t> indices;  // rows of the run
  Embeddings x;
  std::vector<int> y;
  std::vector<std::string> groups;
  std::vector<double> head_logits;
  Embeddings metadata;  // encoded age, sex, site (attach_metadata), when a classifier uses them
};

PartEmbeddings embed_part(const LoadedModel& model, const RunData& data, Part part, int tta,
                          bool show_progress);

// Embeddings of the run's images at rows `indices` (in that order, batches of EmbedOptions'
// batch_size from the first).
EmbedResult embed_run_images(const LoadedModel& model, const RunData& data,
                             const std::vector<size_t>& indices, int tta, bool show_progress);

// Embeddings of already fitted images (image_size squares, as in the cache).
EmbedResult embed_pixels(const LoadedModel& model, const std::vector<const uint8_t*>& pixels,
                         int image_size, int tta);

// How prepare fitted images to squares (crop or pad) and their colours (as taken or Shades of Gray):
// new images must be fitted the same way.
ImageFit image_fit_of(const RunData& data);

// A query image given on the command line: the name of an image of the run (its patient is then
// known) or any image file, decoded and fitted like the cache. Throws UserError naming it.
struct QueryImage {
  RgbImage image;
  std::string id;       // image name (file name without extension)
  std::string patient;  // the run's group of the image when it belongs to the run, else ""
};
QueryImage load_query_image(const RunData& data, const std::string& name_or_path);

}  // namespace dermsim
