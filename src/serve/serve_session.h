// What `dermsim serve` loads once (the run's data, its network in eval mode, the model card, the
// reference index, the Grad-CAM score) and the work of one request on it. Every function here
// only reads the session, so any number of requests may run them at once: the network's mode is
// set once at load, each request runs under its own no-grad / grad scope, and Grad-CAM takes
// gradients w.r.t. the feature map only (the shared parameters' .grad is never written).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "classify/model_card.h"
#include "classify/reference_index.h"
#include "inference/explanation.h"
#include "inference/run_model.h"

namespace dermsim {

// Uploads are refused above this many pixels (from the header, before decoding): ISIC's largest
// originals are 24 Mpx; a forged 20000 x 20000 PNG header is refused, never allocated.
constexpr long long kMaxUploadPixels = 40'000'000;
constexpr int kMaxNeighbours = 64;  // most `k` a prediction may ask for

struct ServeSession {
  RunData data;
  LoadedModel model;
  ModelCard card;  // with metadata, its image-only fallback scores uploads that give none
  ReferenceIndex reference;
  SaliencyScore saliency;
  nlohmann::json model_info;  // GET /api/model
  nlohmann::json map;         // GET /api/map
};

// Loads and checks everything (UserError naming what is missing or stale). torch_threads: the
// intra-op threads of each inference (0 = LibTorch's default).
ServeSession load_serve_session(const std::string& run, const std::string& device, int torch_threads);

// An uploaded JPEG or PNG, decoded (limit kMaxUploadPixels) and fitted like the run's cache.
// Throws UserError "upload: ..." when it is not a readable image.
RgbImage fit_upload(const ServeSession& session, const std::string& bytes);

// POST /api/predict's answer for an image fitted by fit_upload: probability (as `dermsim predict`
// computes it; with the metadata classifier when the card has one and `metadata` gives age, sex
// or site), decision, the k nearest reference images, the saliency overlay, the map position.
nlohmann::json predict_json(const ServeSession& session, const RgbImage& image, int k,
                            const LesionRecord& metadata);

// The optional age, sex and site of an upload (form fields or query parameters), as a record the
// card's metadata encoder reads. Throws UserError naming a bad field.
LesionRecord upload_metadata(const std::string& age, const std::string& sex, const std::string& site);

// POST /api/explain: the PNG of the image beside its Grad-CAM overlay (as `dermsim explain`).
std::string explain_png(const ServeSession& session, const RgbImage& image);

}  // namespace dermsim
