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

// The test metrics of evaluate --split test, when they belong to this checkpoint (else null): those
// of the image-only fallback when that is what serves.
nlohmann::json test_metrics(const RunData& data, const LoadedModel& model, bool image_only) {
  const std::string path = data.run.metrics("test");
  if (!std::filesystem::exists(path)) return nullptr;
  const nlohmann::json j = read_json_file(path);
  try {
    if (j.at("made_from").at("checkpoint-best.pt") != model.checkpoint_id) return nullptr;
    if (image_only && !j.value("image_only", nlohmann::json()).is_object()) return nullptr;  // another card's
    const nlohmann::json& m = image_only ? j.at("image_only").at("metrics") : j.at("metrics");
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
  const ModelCard& card = card_for_inputs(s.card, false);  // what scores an upload without metadata
  const ValidationCurve& v = card.validation;
  // The classifier used when an upload gives age, sex or site, beside the image-only one.
  const nlohmann::json with_metadata =
      s.card.metadata ? nlohmann::json{{"description", s.card.description},
                                       {"validation_auc", s.card.validation_auc},
                                       {"threshold", s.card.threshold},
                                       {"sexes", {"female", "male"}},
                                       {"sites", s.card.metadata->sites()}}
                      : nlohmann::json();
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
      {"classifier", {{"description", card.description}, {"threshold", card.threshold},
                      {"threshold_rule", card.threshold_rule},
                      {"precision", precision_name(s.model.precision)},  // of every embedding served
                      {"validation", {{"auc", card.validation_auc}, {"sensitivity", v.sensitivity},
                                      {"specificity", v.specificity}}},
                      {"with_metadata", with_metadata}}},
      {"validation_roc", to_json(v)},
      {"test", test_metrics(s.data, s.model, s.card.image_only != nullptr)},
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
  use_card_precision(s.model, s.card);
  if (s.card.metadata && !s.card.image_only)
    throw UserError(s.data.run.model_card() + ": the chosen classifier reads age, sex and site, which an "
                    "upload may not carry; run `dermsim evaluate --run " + s.data.run.root +
                    "` to add an image-only fallback");
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
  return fit_square(decode_image_bytes(bytes, "upload", size, kMaxUploadPixels), size, image_fit_of(s.data));
}

nlohmann::json predict_json(const ServeSession& s, const RgbImage& image, int k, const LesionRecord& metadata) {
  const EmbedResult e = embed_pixels(s.model, {image.pixels.data()}, image.width, s.card.tta);
  const std::vector<const LesionRecord*> records{&metadata};
  const ModelCard& card = card_for_inputs(s.card, records_have_metadata(records));
  const double probability = malignancy_probability(card, e.embeddings, e.head_logits, &records)[0];
  nlohmann::json similar = nlohmann::json::array();
  for (const Neighbour& n : nearest_neighbours(s.reference.embeddings, e.embeddings.row(0), k)) {
    similar.push_back({{"image", s.reference.names[n.index]}, {"patient", s.reference.patients[n.index]},
                       {"label", s.reference.labels[n.index]}, {"distance", n.distance},
                       {"thumbnail", data_url("image/jpeg", s.reference.thumbnails[n.index])}});
  }
  const auto xy = project(s.reference.map, e.embeddings.row(0));
  return {{"probability", probability},
          {"malignant", probability >= card.threshold},
          {"threshold", card.threshold},
          {"classifier", card.description},
          {"used_metadata", card.metadata.has_value()},
          {"similar", similar},
          {"saliency", data_url("image/png", overlay_png(s, image, false))},
          {"map", {{"x", xy[0]}, {"y", xy[1]}}}};
}

LesionRecord upload_metadata(const std::string& age, const std::string& sex, const std::string& site) {
  LesionRecord r;
  if (!age.empty()) {
    size_t used = 0;
    try {
      r.age = std::stod(age, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != age.size() || !(r.age >= 0 && r.age <= 120))
      throw UserError("age: expected years from 0 to 120, got '" + age.substr(0, 32) + "'");
  }
  if (!sex.empty() && sex != "female" && sex != "male")
    throw UserError("sex: expected female or male, got '" + sex.substr(0, 32) + "'");
  if (site.size() > 64) throw UserError("site: longer than 64 characters");
  r.sex = sex;
  r.site = site;  // a site the training images never had counts as not recorded (metadata_features.h)
  return r;
}

std::string explain_png(const ServeSession& s, const RgbImage& image) { return overlay_png(s, image, true); }

}  // namespace dermsim
