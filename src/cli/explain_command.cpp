// `dermsim explain`: a Grad-CAM heat map of what drives one image's malignancy score, written as a
// PNG with the original beside the overlay. The score is the joint head's logit when the run trained
// one, else the prototype difference |e - mu_benign|^2 - |e - mu_malignant|^2 (smooth, unlike kNN).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>

#include "augment/augment.h"
#include "cli/commands.h"
#include "classify/prototype.h"
#include "inference/run_model.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "image/encode.h"
#include "model/saliency.h"

namespace dermsim::cli {
namespace {

struct ExplainArgs {
  std::string run, image, out, score = "auto", device = "auto";
  double alpha = 0.45;
  int size = 256, threads = 0;
};

// The class prototypes of the run's training embeddings: the same means the prototype classifier
// fits, as tensors for the differentiable score.
std::pair<torch::Tensor, torch::Tensor> class_prototypes(const LoadedModel& model, const RunData& data) {
  const PartEmbeddings train = embed_part(model, data, Part::kTrain, 1, false);
  if (std::count(train.y.begin(), train.y.end(), 1) == 0 || std::count(train.y.begin(), train.y.end(), 0) == 0)
    throw UserError(data.run.split() + ": the training split needs benign and malignant images for the "
                    "class prototypes");
  PrototypeClassifier prototypes;
  prototypes.fit(train.x, train.y);
  auto as_tensor = [](const std::vector<double>& mean) {
    return torch::tensor(mean, torch::kDouble).to(torch::kFloat);
  };
  return {as_tensor(prototypes.prototype(0)), as_tensor(prototypes.prototype(1))};
}

void run_explain(const ExplainArgs& args) {
  const RunData data = load_run_data(args.run);
  LoadedModel model = load_model(data, args.device, args.threads);
  const int size = data.cache.image_size();

  QueryImage query = load_query_image(data, args.image);
  RgbImage& image = query.image;
  const std::string& image_id = query.id;

  const bool has_head = model.has_head();
  std::string score_kind = args.score == "auto" ? (has_head ? "head" : "prototype") : args.score;
  if (score_kind == "head" && !has_head)
    throw UserError("--score head: run " + args.run + " trained no classification head (loss " +
                    model.options.loss + ", head_weight 0); use --score prototype");
  EmbeddingScore score;
  std::string score_description;
  if (score_kind == "head") {
    score = head_logit_score(model.net);
    score_description = "joint head logit";
  } else {
    auto [mu_benign, mu_malignant] = class_prototypes(model, data);
    score = prototype_score(mu_benign, mu_malignant);
    score_description = "prototype score |e - mu_benign|^2 - |e - mu_malignant|^2";
  }

  const uint8_t* pixels = image.pixels.data();
  torch::Tensor input = normalize(to_float_batch(&pixels, 1, size, size).to(model.device),
                                  model.normalisation.mean, model.normalisation.std);
  if (model.options.channels_last) input = input.contiguous(torch::MemoryFormat::ChannelsLast);
  GradCam cam = grad_cam(model.net, input, score);

  OverlayOptions overlay_options;
  overlay_options.alpha = args.alpha;
  overlay_options.display_size = args.size;
  RgbImage overlay = saliency_overlay(image, cam.map, overlay_options);
  const std::string out = args.out.empty() ? image_id + ".gradcam.png" : args.out;
  write_file_atomic(out, encode_png(overlay.pixels.data(), overlay.width, overlay.height));

  std::printf("image     %s\n", args.image.c_str());
  std::printf("score     %.6f (%s; higher = more malignant)\n", cam.score, score_description.c_str());
  std::printf("grad-cam  %lld x %lld map, min %.6g, max %.6g (before normalising to [0, 1])\n",
              static_cast<long long>(cam.raw.size(0)), static_cast<long long>(cam.raw.size(1)),
              cam.raw_min, cam.raw_max);
  if (cam.raw_max <= 0)
    std::printf("          the map is zero: no region raises the score (shown as uniform blue)\n");
  std::printf("wrote     %s (%d x %d: original | overlay)\n", out.c_str(), overlay.width, overlay.height);
}

}  // namespace

void add_explain_command(CLI::App& app) {
  auto args = std::make_shared<ExplainArgs>();
  auto* cmd = app.add_subcommand("explain", "Grad-CAM heat map of what drives an image's malignancy score");
  cmd->add_option("--run", args->run, "trained run folder")->required();
  cmd->add_option("image", args->image, "image file, or the name of an image of the run")->required();
  cmd->add_option("--out", args->out, "PNG to write (default: IMAGE_ID.gradcam.png)");
  cmd->add_option("--alpha", args->alpha, "heat map opacity")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--size", args->size, "side of each panel in pixels")->capture_default_str()->check(CLI::Range(16, 4096));
  cmd->add_option("--score", args->score, "auto | prototype | head (auto: head when the run trained one)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "prototype", "head"}));
  cmd->add_option("--device", args->device, "auto | cpu | cuda")->capture_default_str();
  cmd->add_option("--threads", args->threads, "CPU threads (0 = one per core)");
  cmd->callback([args] { run_explain(*args); });
}

}  // namespace dermsim::cli
