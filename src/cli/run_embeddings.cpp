#include "cli/run_embeddings.h"

#include <cmath>
#include <filesystem>

#include "common/error.h"
#include "common/logistic_math.h"
#include "image/decode_many.h"
#include "model/device.h"

namespace dermsim::cli {

FitMode fit_mode_of(const RunData& data) {
  return data.manifest.at("cache").value("fit", "crop") == "pad" ? FitMode::kPad : FitMode::kCenterCrop;
}

QueryImage load_query_image(const RunData& data, const std::string& name_or_path) {
  const int size = data.cache.image_size();
  QueryImage query;
  long row = data.cache.index_of(name_or_path);
  if (row >= 0) {
    query.image.width = query.image.height = size;
    const uint8_t* p = data.cache.image(row);
    query.image.pixels.assign(p, p + static_cast<size_t>(size) * size * 3);
    query.id = name_or_path;
  } else {
    if (!std::filesystem::exists(name_or_path))
      throw UserError(name_or_path + ": neither an image of this run nor an image file");
    DecodedImages d = decode_and_fit({name_or_path}, size, fit_mode_of(data));
    if (!d.errors[0].empty()) throw UserError(d.errors[0]);
    query.image = std::move(d.images[0]);
    query.id = image_id_from_path(name_or_path);
    row = data.cache.index_of(query.id);  // a file of an image the run also holds
  }
  if (row >= 0) query.patient = data.split[row].group;
  return query;
}

LoadedModel load_model(const RunData& data, const std::string& device_name, int threads) {
  configure_cpu_threads(threads);
  LoadedModel model;
  model.device = resolve_device(device_name);
  model.net = load_trained_net(data.run, "best", model.device, &model.options);
  model.normalisation = Normalisation{data.mean, data.std};
  return model;
}

PartEmbeddings embed_part(EmbeddingNet& net, const RunData& data, Part part,
                          const LoadedModel& model, int tta, bool show_progress) {
  PartEmbeddings out;
  out.indices = data.indices(part);
  out.y = data.labels(out.indices);
  out.groups = data.groups(out.indices);
  EmbedOptions options;
  options.tta = tta;
  options.channels_last = model.options.channels_last;
  options.show_progress = show_progress;
  EmbedResult r = embed_images(net, data.pixels(out.indices), data.cache.image_size(),
                               model.normalisation, model.device, options);
  out.x = std::move(r.embeddings);
  out.head_logits = std::move(r.head_logits);
  return out;
}

}  // namespace dermsim::cli

namespace dermsim::cli {

ChosenClassifier load_chosen_classifier(const RunDir& run) {
  if (!std::filesystem::exists(run.model_card()))
    throw UserError(run.root + ": no model.json (no classifier chosen yet); run `dermsim evaluate --run " +
                    run.root + "` first");
  nlohmann::json card = read_json_file(run.model_card());
  ChosenClassifier chosen;
  if (card.at("classifier").value("type", "") != "head")
    chosen.classifier = classifier_from_json(card.at("classifier"));
  chosen.description = card.at("classifier_description");
  chosen.threshold = card.at("threshold");
  chosen.threshold_rule = card.at("threshold_rule");
  chosen.tta = card.value("tta", 1);
  return chosen;
}

std::vector<double> malignancy_probability(const ChosenClassifier& chosen, const EmbedResult& embedded) {
  if (chosen.classifier) return chosen.classifier->predict_proba(embedded.embeddings);
  std::vector<double> p;
  for (double logit : embedded.head_logits) p.push_back(sigmoid(logit));
  return p;
}

}  // namespace dermsim::cli
