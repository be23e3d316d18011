#include "inference/run_model.h"

#include <filesystem>

#include "common/error.h"
#include "image/decode_many.h"
#include "model/device.h"

namespace dermsim {

LoadedModel load_model(const RunData& data, const std::string& device_name, int threads) {
  const RunDir& run = data.run;
  if (run.prepared_root.empty() && has_fold_training(run) && !std::filesystem::exists(run.checkpoint_best()))
    throw UserError(run.root + " holds a k-fold training (" + run.folds() + "), not one network: " +
                    "`predict` and `evaluate` use its fold ensemble (`predict --fold K` one fold); "
                    "this command needs one network: train a plain run with `dermsim train --run OTHER_RUN`");
  configure_cpu_threads(threads);
  LoadedModel model;
  model.device = resolve_device(device_name);
  TrainedNet trained = load_trained_net(data, "best", model.device);
  // Inference only from here: batch norm folded into the convolutions saves 4-8 % CPU time per
  // image (bench/fold_bench.cpp, docs/benchmarks.md).
  model.net = batch_norm_folded_copy(trained.net);
  model.options = trained.options;
  model.checkpoint_id = trained.checkpoint_id;
  model.normalisation = Normalisation{data.mean, data.std};
  model.precision = parse_precision(model.options.precision);
  return model;
}

Precision card_precision(const ModelCard& card, const TrainOptions& options) {
  return parse_precision(card.precision.empty() ? options.precision : card.precision);
}

void use_card_precision(LoadedModel& model, const ModelCard& card) {
  model.precision = card_precision(card, model.options);
}

LoadedModel untrained_copy(const LoadedModel& model) {
  LoadedModel untrained = model;
  untrained.net = batch_norm_folded_copy(make_untrained_net(model.options, model.device));
  untrained.checkpoint_id.clear();
  return untrained;
}

EmbedResult embed_pixels(const LoadedModel& model, const std::vector<const uint8_t*>& pixels,
                         int image_size, int tta) {
  EmbedOptions options;
  options.tta = tta;
  options.channels_last = model.options.channels_last;
  options.precision = model.precision;
  EmbeddingNet net = model.net;  // a handle: embed_images needs a non-const one
  return embed_images(net, pixels, image_size, model.normalisation, model.device, options);
}

PartEmbeddings embed_part(const LoadedModel& model, const RunData& data, Part part, int tta,
                          bool show_progress) {
  PartEmbeddings out;
  out.indices = data.indices(part);
  out.y = data.labels(out.indices);
  out.groups = data.groups(out.indices);
  EmbedResult r = embed_run_images(model, data, out.indices, tta, show_progress);
  out.x = std::move(r.embeddings);
  out.head_logits = std::move(r.head_logits);
  return out;
}

EmbedResult embed_run_images(const LoadedModel& model, const RunData& data,
                             const std::vector<size_t>& indices, int tta, bool show_progress) {
  EmbedOptions options;
  options.tta = tta;
  options.channels_last = model.options.channels_last;
  options.precision = model.precision;
  options.show_progress = show_progress;
  EmbeddingNet net = model.net;
  return embed_images(net, data.pixels(indices), data.cache.image_size(), model.normalisation,
                      model.device, options);
}

ImageFit image_fit_of(const RunData& data) {
  const nlohmann::json& cache = data.manifest.at("cache");
  try {
    // Runs prepared before the colour step existed have no "colour": their images are as taken.
    return {fit_mode_from_string(cache.value("fit", "crop")),
            colour_mode_from_string(cache.value("colour", "as-taken"))};
  } catch (const std::invalid_argument& e) {
    throw UserError(data.run.manifest() + ": cache: " + e.what());
  }
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
    DecodedImages d = decode_and_fit({name_or_path}, size, image_fit_of(data));
    if (!d.errors[0].empty()) throw UserError(d.errors[0]);
    query.image = std::move(d.images[0]);
    query.id = image_id_from_path(name_or_path);
    row = data.cache.index_of(query.id);  // a file of an image the run also holds
  }
  if (row >= 0) query.patient = data.split[row].group;
  return query;
}

}  // namespace dermsim
