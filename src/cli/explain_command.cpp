// `dermsim explain`: a Grad-CAM heat map of what drives one image's malignancy score, written as a
// PNG with the original beside the overlay. The score is the joint head's logit when the run trained
// one, else the prototype difference |e - mu_benign|^2 - |e - mu_malignant|^2 (smooth, unlike kNN).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "image/encode.h"
#include "inference/explanation.h"
#include "inference/run_reference_index.h"

namespace dermsim::cli {
namespace {

struct ExplainArgs {
  std::string run, image, out, score = "auto", device = "auto";
  double alpha = 0.45;
  int size = 256, threads = 0;
};

void run_explain(const ExplainArgs& args) {
  const RunData data = load_run_data(args.run);
  LoadedModel model = load_model(data, args.device, args.threads);
  use_card_precision(model, load_model_card(data.run, model.checkpoint_id));

  QueryImage query = load_query_image(data, args.image);
  RgbImage& image = query.image;
  const std::string& image_id = query.id;

  const ReferenceIndex reference = load_reference_index(data, model);
  const SaliencyScore score = saliency_score(model, reference, args.score);
  GradCam cam = explain_image(model, image, score.score);

  OverlayOptions overlay_options;
  overlay_options.alpha = args.alpha;
  overlay_options.display_size = args.size;
  RgbImage overlay = saliency_overlay(image, cam.map, overlay_options);
  const std::string out = args.out.empty() ? image_id + ".gradcam.png" : args.out;
  write_file_atomic(out, encode_png(overlay.pixels.data(), overlay.width, overlay.height));

  std::printf("image     %s\n", args.image.c_str());
  std::printf("score     %.6f (%s; higher = more malignant)\n", cam.score, score.description.c_str());
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
