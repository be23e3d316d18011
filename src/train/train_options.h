// Everything that defines a training run. Saved as RUN/train.json and inside each checkpoint, so a
// resumed run continues with exactly the settings it started with.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "augment/augment.h"

namespace dermsim {

struct TrainOptions {
  // Model.
  std::string backbone = "small";
  int embed_dim = 128;
  std::string init_weights;  // torchvision resnet18 export (scripts/export_torchvision_resnet18.py)
  // Loss: contrastive | triplet | supcon | bce. head_weight > 0 adds a joint BCE head to the metric
  // loss.
  std::string loss = "contrastive";
  double margin = -1;  // < 0: the loss's own default (contrastive 1.0, triplet 0.2)
  std::string mining = "semihard";
  double temperature = 0.1;  // supcon only (Khosla et al.'s value)
  double head_weight = 0.0;
  // Batches: classes_per_batch x images_per_class, minority oversampled.
  int classes_per_batch = 2;
  int images_per_class = 32;
  double benign_fraction = 1.0;  // < 1 undersamples benign images each epoch (train only)
  // > 0: from the second epoch on, this share of each batch's benign entries are look-alikes of
  // its melanomas, among each melanoma's lookalike_neighbours nearest benign training images
  // (train/lookalikes.h).
  double lookalike_fraction = 0.0;
  int lookalike_neighbours = 5;
  // Optimisation.
  int epochs = 30;  // measured: ~2 min on the HAM sample, ~10 min on the ISIC sample (2 cores)
  std::string optimizer = "adamw";
  double learning_rate = 1e-3;
  double weight_decay = 1e-4;
  double warmup_fraction = 0.05;  // linear warm-up over this share of all steps, then cosine decay
  uint64_t seed = 0;
  // What is shipped. ema_decay > 0 keeps an exponential moving average of the weights, updated
  // after every step; validation, checkpoint-best.pt and everything downstream use it. select:
  // "final" ships the last epoch's weights, "best-val" the epoch of highest validation kNN AUC
  // (a lottery with a few dozen validation melanomas: it swung 0.81-0.88 between epochs, and
  // over three seeds it shipped worse networks than the final weights; see the README's Results).
  double ema_decay = 0.99;
  std::string select = "final";
  // Hardware.
  std::string device = "auto";
  int threads = 0;  // per rank
  // Data-parallel ranks the (latest session of the) training ran as, and their c10d backend ("gloo",
  // "nccl"; "" for one rank). Recorded, not chosen: `--nproc` or torchrun's WORLD_SIZE decide.
  int ranks = 1;
  std::string dist_backend;
  bool channels_last = true;
  // fp32 | bf16 (autocast of convolutions and matrix products; model/precision.h), for training,
  // validation and every later inference of the run.
  std::string precision = "fp32";
  AugmentOptions augment;
  // Validation during training: kNN over this many training images (fixed subset).
  int validation_reference_images = 2000;
};

nlohmann::json to_json(const TrainOptions& options);
// Throws UserError naming `source` (a file) and the field when `value` is not a TrainOptions object.
TrainOptions train_options_from_json(const nlohmann::json& value, const std::string& source);
double effective_margin(const TrainOptions& options);

// Throws UserError naming the option when a value cannot train (NaN or negative learning rate,
// margin, weight decay; an unknown loss; batches without pairs).
void validate_train_options(const TrainOptions& options);

// Options (keys of to_json) that cannot change a result bit for bit on a fixed thread count: a
// resumed run may change them.
bool may_change_on_resume(const std::string& key);

// The keys among `given` (to_json keys the user set explicitly) whose value in `requested` differs
// from `saved`, as "key requested (run: saved)".
std::vector<std::string> changed_options(const TrainOptions& saved, const TrainOptions& requested,
                                         const std::vector<std::string>& given);

}  // namespace dermsim
