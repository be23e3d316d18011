#include "train/checkpoint.h"

#include <cstdio>
#include <filesystem>

#include "common/error.h"
#include "model/weights_file.h"

namespace dermsim {

void save_checkpoint(const std::string& path, EmbeddingNet& net, torch::optim::Optimizer& optimizer,
                     const TrainingProgress& progress, const TrainOptions& options) {
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  net->save(model_archive);
  optimizer.save(optimizer_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optimizer_archive);
  nlohmann::json meta = {{"step", progress.step},
                         {"best_score", progress.best_score},
                         {"best_step", progress.best_step},
                         {"history", progress.history},
                         {"options", to_json(options)}};
  archive.write("meta", c10::IValue(meta.dump()));
  const std::string temp = path + ".tmp";
  archive.save_to(temp);
  if (std::rename(temp.c_str(), path.c_str()) != 0)
    throw UserError(path + ": cannot replace checkpoint");
}

TrainingProgress load_checkpoint(const std::string& path, EmbeddingNet& net,
                                 torch::optim::Optimizer* optimizer) {
  if (!std::filesystem::exists(path)) throw UserError(path + ": no such checkpoint");
  torch::serialize::InputArchive archive, model_archive;
  c10::IValue meta_value;
  try {
    archive.load_from(path);
    archive.read("model", model_archive);
    net->load(model_archive);
    if (optimizer) {
      torch::serialize::InputArchive optimizer_archive;
      archive.read("optimizer", optimizer_archive);
      optimizer->load(optimizer_archive);
    }
    archive.read("meta", meta_value);
  } catch (const c10::Error& e) {
    throw UserError(path + ": unreadable or incompatible checkpoint: " + e.what_without_backtrace());
  }
  auto meta = nlohmann::json::parse(meta_value.toStringRef());
  TrainingProgress progress;
  progress.step = meta.at("step");
  progress.best_score = meta.at("best_score");
  progress.best_step = meta.at("best_step");
  progress.history = meta.at("history");
  return progress;
}

EmbeddingNet make_untrained_net(const TrainOptions& options, const torch::Device& device) {
  // Same seed, same construction order as training: the exact initial weights of the trained net.
  torch::manual_seed(options.seed);
  EmbeddingNetOptions net_options;
  net_options.backbone = options.backbone;
  net_options.embed_dim = options.embed_dim;
  EmbeddingNet net = make_embedding_net(net_options);
  if (!options.init_weights.empty()) load_weights(*net, options.init_weights, false);
  net->to(device);
  net->eval();
  return net;
}

EmbeddingNet load_trained_net(const RunDir& run, const std::string& which,
                              const torch::Device& device, TrainOptions* options_out) {
  if (!std::filesystem::exists(run.train_config()))
    throw UserError(run.root + ": not trained yet (no train.json); run `dermsim train --run " +
                    run.root + "` first");
  TrainOptions options = train_options_from_json(read_json_file(run.train_config()));
  EmbeddingNetOptions net_options;
  net_options.backbone = options.backbone;
  net_options.embed_dim = options.embed_dim;
  EmbeddingNet net = make_embedding_net(net_options);
  load_checkpoint(which == "last" ? run.checkpoint_last() : run.checkpoint_best(), net, nullptr);
  net->to(device);
  net->eval();
  if (options_out) *options_out = options;
  return net;
}

}  // namespace dermsim
