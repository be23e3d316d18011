#include "serve/serve_session.h"

#include <filesystem>
#include <set>

#include "classify/neighbours.h"
#include "common/base64.h"
#include "common/error.h"
#include "image/encode.h"
#include "inference/run_reference_index.h"

namespace dermsim {

namespace {

constexpr int kOverlaySize = 256;  // side of the saliency overlay in pixels

nlohmann::json part_counts(const RunData& data, const std::vector<size_t>& rows) {
  std::set<std::string> patients;
  long malignant = 0;
  for (size_t i : rows) {
    patients.insert(data.split[i].group);
    malignant += data.images[i].target == 1;
  }
  return {{"images", rows.size()}, {"patients", patients.size()}, {"malignant", malignant}};
}

nlohmann::json estimate(const nlohmann::json& metrics, const std::string& name) {
  const nlohmann::json ci = metrics.value(name + "_ci", nlohmann::json());
  return {{"value", metrics.at(name)},
          {"low", ci.is_object() ? ci.at("lower") : nlohmann::json()},
          {"high", ci.is_object() ? ci.at("upper") : nlohmann::json()}};
}

// The test metrics of evaluate --split test, when they belong to this checkpoint (else null).
nlohmann::json test_metrics(const RunData& data, const LoadedModel& model) {
  const std::string path = data.run.metrics("test");
  if (!std::filesystem::exists(path)) return nullptr;
  const nlohmann::json j = read_json_file(path);
  try {
    if (j.at("made_from").at("checkpoint-best.pt") != model.checkpoint_id) return nullptr;
    const nlohmann::json& m = j.at("metrics");
    return {{"auc", estimate(m, "auc")}, {"pauc", estimate(m, "pauc")},
            {"balanced_accuracy", estimate(m, "balanced_accuracy")},
            {"sensitivity", m.at("sensitivity")}, {"specificity", m.at("specificity")}};
  } catch (const nlohmann::json::exception& e) {
    throw UserError(path + ": malformed metrics (" + e.what() + "); run `dermsim evaluate --run " +
                    data.run.root + " --split test`");
  }
}

nlohmann::json model_info(const ServeSession& s) {
  std::vector<size_t> all(s.data.images.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  const nlohmann::json everything = part_counts(s.data, all);
  const TrainOptions& o = s.model.options;
  const ValidationCurve& v = s.card.validation;
  return {
      {"disclaimer", "research tool, not a diagnostic device"},
      {"data", {{"run", s.data.run.root}, {"images", everything["images"]},
                {"patients", everything["patients"]},
                {"split", {{"train", part_counts(s.data, s.data.indices(Part::kTrain))},
                           {"val", part_counts(s.data, s.data.indices(Part::kVal))},
                           {"test", part_counts(s.data, s.data.indices(Part::kTest))}}}}},
      {"network", {{"backbone", o.backbone}, {"loss", o.loss}, {"embedding_dim", o.embed_dim},
                   {"image_size", s.data.cache.image_size()}, {"epochs", o.epochs},
                   {"checkpoint", "checkpoint-best.pt"}}},
      {"classifier", {{"description", s.card.description}, {"threshold", s.card.threshold},
                      {"threshold_rule", s.card.threshold_rule},
                      {"validation", {{"auc", s.card.validation_auc}, {"sensitivity", v.sensitivity},
                                      {"specificity", v.specificity}}}}},
      {"validation_roc", to_json(v)},
      {"test", test_metrics(s.data, s.model)},
      {"versions", {{"dermsim", build_info().at("dermsim_commit")}, {"libtorch", TORCH_VERSION}}},
      {"references", s.reference.size()}};
}

std::string data_url(const std::string& type, const std::string& bytes) {
  return "data:" + type + ";base64," + base64_encode(bytes);
}

std::string overlay_png(const ServeSession& s, const RgbImage& image, bool side_by_side) {
  const GradCam cam = explain_image(s.model, image, s.saliency.score);
  OverlayOptions options;
  options.display_size = kOverlaySize;
  options.side_by_side = side_by_side;
  const RgbImage overlay = saliency_overlay(image, cam.map, options);
  return encode_png(overlay.pixels.data(), overlay.width, overlay.height);
}

}  // namespace

ServeSession load_serve_session(const std::string& run, const std::string& device, int torch_threads) {
  ServeSession s{load_run_data(run), {}, {}, {}, {}, {}, {}};
  s.model = load_model(s.data, device, torch_threads);
  s.model.net->eval();  // once, before any request: requests never change the mode
  s.card = load_model_card(s.data.run, s.model.checkpoint_id);
  s.reference = load_reference_index(s.data, s.model);
  if (s.reference.tta != s.card.tta)
    throw UserError(s.data.run.reference_index() + " is stale: made with another --tta than model.json; "
                    "run `dermsim evaluate --run " + s.data.run.root + "`");
  s.saliency = saliency_score(s.model, s.reference, "auto");
  s.model_info = model_info(s);
  s.map = reference_map_json(s.reference);
  return s;
}

RgbImage fit_upload(const ServeSession& s, const std::string& bytes) {
  const int size = s.data.cache.image_size();
  return fit_square(decode_image_bytes(bytes, "upload", size, kMaxUploadPixels), size, fit_mode_of(s.data));
}

nlohmann::json predict_json(const ServeSession& s, const RgbImage& image, int k) {
  const EmbedResult e = embed_pixels(s.model, {image.pixels.data()}, image.width, s.card.tta);
  const double probability = malignancy_probability(s.card, e.embeddings, e.head_logits)[0];
  nlohmann::json similar = nlohmann::json::array();
  for (const Neighbour& n : nearest_neighbours(s.reference.embeddings, e.embeddings.row(0), k)) {
    similar.push_back({{"image", s.reference.names[n.index]}, {"patient", s.reference.patients[n.index]},
                       {"label", s.reference.labels[n.index]}, {"distance", n.distance},
                       {"thumbnail", data_url("image/jpeg", s.reference.thumbnails[n.index])}});
  }
  const auto xy = project(s.reference.map, e.embeddings.row(0));
  return {{"probability", probability},
          {"malignant", probability >= s.card.threshold},
          {"threshold", s.card.threshold},
          {"similar", similar},
          {"saliency", data_url("image/png", overlay_png(s, image, false))},
          {"map", {{"x", xy[0]}, {"y", xy[1]}}}};
}

std::string explain_png(const ServeSession& s, const RgbImage& image) { return overlay_png(s, image, true); }

}  // namespace dermsim
