#include "train/train_options.h"

namespace dermsim {

nlohmann::json to_json(const TrainOptions& o) {
  const AugmentOptions& a = o.augment;
  return {{"backbone", o.backbone},
          {"embed_dim", o.embed_dim},
          {"init_weights", o.init_weights},
          {"loss", o.loss},
          {"margin", effective_margin(o)},
          {"mining", o.mining},
          {"head_weight", o.head_weight},
          {"classes_per_batch", o.classes_per_batch},
          {"images_per_class", o.images_per_class},
          {"benign_fraction", o.benign_fraction},
          {"epochs", o.epochs},
          {"optimizer", o.optimizer},
          {"learning_rate", o.learning_rate},
          {"weight_decay", o.weight_decay},
          {"warmup_fraction", o.warmup_fraction},
          {"seed", o.seed},
          {"device", o.device},
          {"threads", o.threads},
          {"channels_last", o.channels_last},
          {"validation_reference_images", o.validation_reference_images},
          {"augment",
           {{"enabled", a.enabled}, {"flips", a.flips}, {"transpose", a.transpose},
            {"max_rotation_degrees", a.max_rotation_degrees},
            {"random_resized_crop", a.random_resized_crop}, {"crop_scale_min", a.crop_scale_min},
            {"brightness", a.brightness}, {"contrast", a.contrast}, {"saturation", a.saturation},
            {"hue", a.hue}}}};
}

TrainOptions train_options_from_json(const nlohmann::json& j) {
  TrainOptions o;
  o.backbone = j.at("backbone");
  o.embed_dim = j.at("embed_dim");
  o.init_weights = j.value("init_weights", "");
  o.loss = j.at("loss");
  o.margin = j.at("margin");
  o.mining = j.at("mining");
  o.head_weight = j.at("head_weight");
  o.classes_per_batch = j.at("classes_per_batch");
  o.images_per_class = j.at("images_per_class");
  o.benign_fraction = j.at("benign_fraction");
  o.epochs = j.at("epochs");
  o.optimizer = j.at("optimizer");
  o.learning_rate = j.at("learning_rate");
  o.weight_decay = j.at("weight_decay");
  o.warmup_fraction = j.at("warmup_fraction");
  o.seed = j.at("seed");
  o.device = j.at("device");
  o.threads = j.at("threads");
  o.channels_last = j.at("channels_last");
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

double effective_margin(const TrainOptions& o) {
  if (o.margin >= 0) return o.margin;
  return o.loss == "triplet" ? 0.2 : 1.0;
}

}  // namespace dermsim
