#include "train/train_options.h"

#include <cmath>

#include "common/error.h"
#include "model/precision.h"

namespace dermsim {

nlohmann::json to_json(const TrainOptions& o) {
  const AugmentOptions& a = o.augment;
  return {{"backbone", o.backbone},
          {"embed_dim", o.embed_dim},
          {"init_weights", o.init_weights},
          {"loss", o.loss},
          {"margin", effective_margin(o)},
          {"mining", o.mining},
          {"temperature", o.temperature},
          {"head_weight", o.head_weight},
          {"classes_per_batch", o.classes_per_batch},
          {"images_per_class", o.images_per_class},
          {"benign_fraction", o.benign_fraction},
          {"lookalike_fraction", o.lookalike_fraction},
          {"lookalike_neighbours", o.lookalike_neighbours},
          {"epochs", o.epochs},
          {"optimizer", o.optimizer},
          {"learning_rate", o.learning_rate},
          {"weight_decay", o.weight_decay},
          {"warmup_fraction", o.warmup_fraction},
          {"seed", o.seed},
          {"ema_decay", o.ema_decay},
          {"select", o.select},
          {"device", o.device},
          {"threads", o.threads},
          {"ranks", o.ranks},
          {"dist_backend", o.dist_backend},
          {"channels_last", o.channels_last},
          {"precision", o.precision},
          {"validation_reference_images", o.validation_reference_images},
          {"augment",
           {{"enabled", a.enabled}, {"flips", a.flips}, {"transpose", a.transpose},
            {"max_rotation_degrees", a.max_rotation_degrees},
            {"random_resized_crop", a.random_resized_crop}, {"crop_scale_min", a.crop_scale_min},
            {"brightness", a.brightness}, {"contrast", a.contrast}, {"saturation", a.saturation},
            {"hue", a.hue}}}};
}

namespace {

TrainOptions parse_train_options(const nlohmann::json& j) {
  TrainOptions o;
  o.backbone = j.at("backbone");
  o.embed_dim = j.at("embed_dim");
  o.init_weights = j.value("init_weights", "");
  o.loss = j.at("loss");
  o.margin = j.at("margin");
  o.mining = j.at("mining");
  o.temperature = j.value("temperature", 0.1);  // absent in runs trained before supcon existed
  o.head_weight = j.at("head_weight");
  o.classes_per_batch = j.at("classes_per_batch");
  o.images_per_class = j.at("images_per_class");
  o.benign_fraction = j.at("benign_fraction");
  o.lookalike_fraction = j.value("lookalike_fraction", 0.0);  // absent before look-alike mining
  o.lookalike_neighbours = j.value("lookalike_neighbours", 5);
  o.epochs = j.at("epochs");
  o.optimizer = j.at("optimizer");
  o.learning_rate = j.at("learning_rate");
  o.weight_decay = j.at("weight_decay");
  o.warmup_fraction = j.at("warmup_fraction");
  o.seed = j.at("seed");
  // Runs trained before these options existed had neither an average nor a choice.
  o.ema_decay = j.value("ema_decay", 0.0);
  o.select = j.value("select", "best-val");
  o.device = j.at("device");
  o.threads = j.at("threads");
  o.ranks = j.value("ranks", 1);  // runs trained before data-parallel training: one process
  o.dist_backend = j.value("dist_backend", "");
  o.channels_last = j.at("channels_last");
  o.precision = j.value("precision", "fp32");  // runs trained before the option existed: fp32
  o.validation_reference_images = j.at("validation_reference_images");
  const auto& a = j.at("augment");
  o.augment.enabled = a.at("enabled");
  o.augment.flips = a.at("flips");
  o.augment.transpose = a.at("transpose");
  o.augment.max_rotation_degrees = a.at("max_rotation_degrees");
  o.augment.random_resized_crop = a.at("random_resized_crop");
  o.augment.crop_scale_min = a.at("crop_scale_min");
  o.augment.brightness = a.at("brightness");
  o.augment.contrast = a.at("contrast");
  o.augment.saturation = a.at("saturation");
  o.augment.hue = a.at("hue");
  return o;
}

// The to_json value at a dotted key ("augment.hue"), for comparing two option sets key by key.
nlohmann::json value_at(const nlohmann::json& j, const std::string& key) {
  const size_t dot = key.find('.');
  if (dot == std::string::npos) return j.value(key, nlohmann::json());
  return j.contains(key.substr(0, dot)) ? value_at(j[key.substr(0, dot)], key.substr(dot + 1))
                                        : nlohmann::json();
}

}  // namespace

TrainOptions train_options_from_json(const nlohmann::json& j, const std::string& source) {
  try {
    return parse_train_options(j);
  } catch (const nlohmann::json::exception& e) {
    throw UserError(source + ": not a dermsim training configuration (" + e.what() + ")");
  }
}

void validate_train_options(const TrainOptions& o) {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw UserError(what);
  };
  auto finite = [](double v) { return std::isfinite(v); };
  require(finite(o.learning_rate) && o.learning_rate > 0,
          "--lr " + std::to_string(o.learning_rate) + ": the learning rate must be a positive number");
  require(finite(o.weight_decay) && o.weight_decay >= 0, "--weight-decay: must be a number >= 0");
  require(finite(o.margin), "--margin: must be a number");
  require(finite(o.head_weight) && o.head_weight >= 0, "--head-weight: must be a number >= 0");
  require(finite(o.benign_fraction) && o.benign_fraction > 0 && o.benign_fraction <= 1,
          "--benign-fraction: must be in (0, 1]");
  require(finite(o.lookalike_fraction) && o.lookalike_fraction >= 0 && o.lookalike_fraction <= 1,
          "--lookalike-fraction: must be in [0, 1]");
  require(o.lookalike_neighbours >= 1, "--lookalike-neighbours: at least 1");
  require(finite(o.warmup_fraction) && o.warmup_fraction >= 0 && o.warmup_fraction < 1,
          "warmup_fraction: must be in [0, 1)");
  require(finite(o.augment.max_rotation_degrees), "--max-rotation: must be a number");
  require(finite(o.temperature) && o.temperature > 0, "--temperature: must be a number > 0");
  require(o.loss == "contrastive" || o.loss == "triplet" || o.loss == "supcon" || o.loss == "bce",
          "--loss " + o.loss + ": expected contrastive, triplet, supcon or bce");
  require(o.classes_per_batch == 2,
          "--classes-per-batch " + std::to_string(o.classes_per_batch) +
              ": melanoma vs benign has 2 classes, so P is 2");
  require(o.images_per_class >= 2, "--images-per-class: at least 2 (a batch needs positive pairs)");
  require(o.embed_dim >= 2, "--embed-dim: at least 2");
  require(o.epochs >= 1, "--epochs: at least 1");
  require(finite(o.ema_decay) && o.ema_decay >= 0 && o.ema_decay < 1, "--ema-decay: must be in [0, 1)");
  require(o.select == "final" || o.select == "best-val",
          "--select " + o.select + ": expected final or best-val");
  parse_precision(o.precision);  // throws naming --precision
}

bool may_change_on_resume(const std::string& key) {
  return key == "threads" || key == "device";
}

std::vector<std::string> changed_options(const TrainOptions& saved, const TrainOptions& requested,
                                         const std::vector<std::string>& given) {
  const nlohmann::json a = to_json(saved), b = to_json(requested);
  std::vector<std::string> changed;
  for (const auto& key : given) {
    if (may_change_on_resume(key)) continue;
    const nlohmann::json was = value_at(a, key), now = value_at(b, key);
    if (was != now) changed.push_back(key + " " + now.dump() + " (run: " + was.dump() + ")");
  }
  return changed;
}

double effective_margin(const TrainOptions& o) {
  if (o.margin >= 0) return o.margin;
  return o.loss == "triplet" ? 0.2 : 1.0;
}

}  // namespace dermsim
