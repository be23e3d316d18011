// Shared by evaluate, predict, embed and similar: the trained network of a run and its embeddings of
// the run's own images (by split part), computed through the one embed_images path.
#pragma once

#include <string>
#include <vector>

#include "classify/classifier.h"
#include "common/embeddings.h"
#include "image/resize.h"
#include "image/run_data.h"
#include "model/embed.h"
#include "train/checkpoint.h"

namespace dermsim::cli {

struct PartEmbeddings {
  std::vector<size_t> indices;  // rows of the run
  Embeddings x;
  std::vector<int> y;
  std::vector<std::string> groups;
  std::vector<double> head_logits;
};

struct LoadedModel {
  EmbeddingNet net{nullptr};
  TrainOptions options;
  torch::Device device{torch::kCPU};
  Normalisation normalisation;
};

// How prepare fitted images to squares (crop or pad): new images must be fitted the same way.
FitMode fit_mode_of(const RunData& data);

// A query image given on the command line: the name of an image of the run (its patient is then
// known) or any image file, decoded and fitted like the cache. Throws UserError naming it.
struct QueryImage {
  RgbImage image;
  std::string id;       // image name (file name without extension)
  std::string patient;  // the run's group of the image when it belongs to the run, else ""
};
QueryImage load_query_image(const RunData& data, const std::string& name_or_path);

LoadedModel load_model(const RunData& data, const std::string& device_name, int threads);

PartEmbeddings embed_part(EmbeddingNet& net, const RunData& data, Part part,
                          const LoadedModel& model, int tta, bool show_progress);

}  // namespace dermsim::cli

namespace dermsim::cli {

// The model card written by evaluate (RUN/model.json): the chosen classifier and threshold.
struct ChosenClassifier {
  std::unique_ptr<EmbeddingClassifier> classifier;  // null when the chosen one is the joint head
  std::string description;
  double threshold = 0.5;
  std::string threshold_rule;
  int tta = 1;
};

ChosenClassifier load_chosen_classifier(const RunDir& run);

// P(malignant) for each embedded image, with the chosen classifier (or the head).
std::vector<double> malignancy_probability(const ChosenClassifier& chosen, const EmbedResult& embedded);

}  // namespace dermsim::cli
