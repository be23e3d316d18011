#include "train/checkpoint.h"

#include <filesystem>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/hash.h"
#include "model/weights_file.h"

namespace dermsim {

namespace {

std::string remedy_for(const std::string& path) {
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.parent_path().filename() == "folds")  // RUN/folds/K/: one fold of a k-fold training
    return "train the folds again: `dermsim train --run " +
           folder.parent_path().parent_path().string() + " --folds`";
  return "train again: `dermsim train --run " + folder.string() + "`";
}

// TorchScript's parser errors span several lines; the first non-empty one says what failed.
std::string first_line(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line))
    if (line.find_first_not_of(" \t") != std::string::npos) return line;
  return "damaged archive";
}

// Reads the archive from bytes already in memory, so the identity and the weights are one read.
void load_archive(torch::serialize::InputArchive& archive, const std::string& bytes,
                  const std::string& path) {
  try {
    std::istringstream stream(bytes);
    archive.load_from(stream);
  } catch (const c10::Error& e) {
    throw UserError(path + ": unreadable or incompatible checkpoint: " + e.what_without_backtrace());
  } catch (const std::exception& e) {  // damaged archives also fail in TorchScript's parser
    throw UserError(path + ": unreadable checkpoint: " + first_line(e.what()));
  }
}

nlohmann::json read_meta(torch::serialize::InputArchive& archive, const std::string& path) {
  try {
    c10::IValue meta_value;
    archive.read("meta", meta_value);
    return nlohmann::json::parse(meta_value.toStringRef());
  } catch (const std::exception& e) {  // c10::Error, json::parse_error
    throw UserError(path + ": checkpoint without readable metadata: " + e.what());
  }
}

}  // namespace

void save_checkpoint(const std::string& path, EmbeddingNet& net, torch::optim::Optimizer& optimizer,
                     const TrainingProgress& progress, const TrainOptions& options,
                     const MadeFrom& made_from, EmbeddingNet average) {
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  net->save(model_archive);
  optimizer.save(optimizer_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optimizer_archive);
  if (!average.is_empty()) {
    torch::serialize::OutputArchive average_archive;
    average->save(average_archive);
    archive.write("average", average_archive);
  }
  nlohmann::json meta = {{"step", progress.step},
                         {"best_score", progress.best_score},
                         {"best_step", progress.best_step},
                         {"history", progress.history},
                         {"options", to_json(options)},
                         {"made_from", to_json(made_from)}};
  archive.write("meta", c10::IValue(meta.dump()));
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomic(path, bytes.str());
}

CheckpointInfo read_checkpoint_info(const std::string& path, const MadeFrom& inputs) {
  if (!std::filesystem::exists(path)) throw UserError(path + ": no such checkpoint");
  CheckpointInfo info;
  info.path = path;
  info.bytes = read_file(path);
  torch::serialize::InputArchive archive;
  load_archive(archive, info.bytes, path);
  const nlohmann::json meta = read_meta(archive, path);
  require_made_from(path, meta.value("made_from", nlohmann::json()), inputs, remedy_for(path));
  info.identity = content_hash_hex(info.bytes);
  try {
    info.options = train_options_from_json(meta.at("options"), path);
    info.progress.step = meta.at("step");
    info.progress.best_score = meta.at("best_score");
    info.progress.best_step = meta.at("best_step");
    info.progress.history = meta.at("history");
  } catch (const nlohmann::json::exception& e) {
    throw UserError(path + ": bad checkpoint metadata: " + e.what());
  }
  return info;
}

void load_checkpoint_state(const CheckpointInfo& info, EmbeddingNet& net,
                           torch::optim::Optimizer* optimizer, EmbeddingNet* average) {
  const std::string& path = info.path;
  torch::serialize::InputArchive archive, model_archive;
  load_archive(archive, info.bytes, path);
  try {
    archive.read("model", model_archive);
    net->load(model_archive);
    if (optimizer) {
      torch::serialize::InputArchive optimizer_archive;
      archive.read("optimizer", optimizer_archive);
      optimizer->load(optimizer_archive);
    }
    if (average && !average->is_empty()) {
      torch::serialize::InputArchive average_archive;
      archive.read("average", average_archive);
      (*average)->load(average_archive);
    }
  } catch (const c10::Error& e) {
    throw UserError(path + ": checkpoint does not fit its network: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw UserError(path + ": unreadable checkpoint: " + first_line(e.what()));
  }
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

TrainedNet load_trained_net(const RunData& data, const std::string& which, const torch::Device& device) {
  const RunDir& run = data.run;
  const std::string path = which == "last" ? run.checkpoint_last() : run.checkpoint_best();
  if (!std::filesystem::exists(path))
    throw UserError(run.root + ": not trained yet (no " + std::filesystem::path(path).filename().string() +
                    "); run `dermsim train --run " + run.root + "` first");
  const CheckpointInfo info = read_checkpoint_info(path, data.training_inputs());
  TrainedNet trained;
  trained.options = info.options;
  trained.checkpoint_id = info.identity;
  EmbeddingNetOptions net_options;
  net_options.backbone = info.options.backbone;
  net_options.embed_dim = info.options.embed_dim;
  trained.net = make_embedding_net(net_options);
  load_checkpoint_state(info, trained.net, nullptr);
  trained.net->to(device);
  trained.net->eval();
  return trained;
}

}  // namespace dermsim
