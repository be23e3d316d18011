#include "train/training_setup.h"

#include <algorithm>
#include <filesystem>

#include "common/error.h"
#include "distributed/process_group.h"
#include "model/device.h"
#include "train/trainer.h"
#include "train/weight_average.h"

namespace dermsim {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// Training needs both classes in train (the P x K batches) and in val (the best checkpoint is
// chosen by validation AUC): refused here rather than after an epoch of work.
void require_trainable_split(const RunData& data) {
  for (Part part : {Part::kTrain, Part::kVal}) {
    const std::vector<int> y = data.labels(data.indices(part));
    const long malignant = std::count(y.begin(), y.end(), 1);
    const std::string name = to_string(part);
    if (y.empty())
      throw UserError(data.run.split() + ": no " + name + " images; training " +
                      (part == Part::kVal ? "chooses its best checkpoint on validation: prepare "
                                            "with --val > 0 (or --folds)"
                                          : "needs images: prepare with smaller --val/--test"));
    if (malignant == 0 || malignant == static_cast<long>(y.size()))
      throw UserError(data.run.split() + ": the " + name + " part holds only " +
                      (malignant == 0 ? "benign" : "malignant") +
                      " images; it needs both classes (more data, or other --val/--test/--seed)");
  }
}

void write_train_config(const RunData& data, const TrainOptions& o) {
  nlohmann::json config = to_json(o);
  config["provenance"] = build_info();
  config["provenance"]["libtorch"] = TORCH_VERSION;
  config["made_from"] = to_json(data.training_inputs());
  write_json_file(data.run.train_config(), config);
}

// A resume continues the run's own options (`saved`, read from `source`); an explicit flag that
// would change the result is refused rather than ignored.
TrainOptions resumed_options(const TrainOptions& saved, const TrainRequest& request,
                             const std::string& source) {
  const std::vector<std::string> changed = changed_options(saved, request.options, request.given);
  if (!changed.empty())
    throw UserError("--resume: " + join(changed) + (changed.size() > 1 ? " differ" : " differs") +
                    " from " + source +
                    "; a resumed run keeps its options (drop the flag, or train without --resume to "
                    "start afresh)");
  TrainOptions o = saved;
  if (std::count(request.given.begin(), request.given.end(), "device")) o.device = request.options.device;
  if (std::count(request.given.begin(), request.given.end(), "threads")) o.threads = request.options.threads;
  return o;
}

// The options of a run killed before its first checkpoint: train.json, if it belongs to this split.
TrainOptions options_of_unfinished_run(const RunData& data) {
  const std::string path = data.run.train_config();
  const nlohmann::json config = read_json_file(path);
  require_made_from(path, config.value("made_from", nlohmann::json()), data.training_inputs(),
                    "train without --resume to start afresh");
  return train_options_from_json(config, path);
}

}  // namespace

TrainingSetup start_training(const RunData& data, const TrainRequest& request) {
  const RunDir& run = data.run;
  require_trainable_split(data);
  TrainingSetup setup;
  setup.progress_label = request.progress_label;
  const bool resuming = request.resume && std::filesystem::exists(run.checkpoint_last());
  CheckpointInfo info;
  if (resuming) {
    info = read_checkpoint_info(run.checkpoint_last(), data.training_inputs());
    setup.options = resumed_options(info.options, request, run.checkpoint_last());
  } else if (request.resume && std::filesystem::exists(run.train_config())) {
    setup.options = resumed_options(options_of_unfinished_run(data), request, run.train_config());
    setup.notes.push_back("no checkpoint yet: training " + run.root + " from step 0 with its options");
  } else {
    if (request.resume)
      setup.notes.push_back(run.root + " has no training to resume: starting a new one");
    setup.options = request.options;
    validate_train_options(setup.options);  // before the old training is set aside
    const std::string aside = request.writes ? set_aside_training(run) : "";
    if (!aside.empty()) setup.notes.push_back("the earlier training of this run was moved to " + aside);
  }
  validate_train_options(setup.options);
  const int saved_threads = setup.options.threads;
  setup.options.threads = configure_cpu_threads(request.options.threads > 0 ? request.options.threads
                                                                            : setup.options.threads);
  if (resuming && saved_threads > 0 && saved_threads != setup.options.threads)
    setup.notes.push_back("resuming on " + std::to_string(setup.options.threads) +
                          " threads, the run used " + std::to_string(saved_threads) +
                          ": results will differ in the last digits from an uninterrupted run");
  setup.device = resolve_device(setup.options.device);
  if (setup.device.is_cuda() && !setup.device.has_index())
    setup.device = torch::Device(torch::kCUDA, static_cast<torch::DeviceIndex>(request.local_rank));
  const int saved_ranks = setup.options.ranks;
  setup.options.ranks = request.ranks;
  setup.options.dist_backend = request.ranks > 1 ? backend_for(setup.device) : "";
  // Allowed: batch s is the same global batch for any N dividing K (each rank takes its slice), so
  // the run goes on with the same data; only batch-norm, which normalises over each rank's images,
  // sees other statistics.
  if (resuming && saved_ranks != setup.options.ranks)
    setup.notes.push_back(
        "resuming as " + std::to_string(setup.options.ranks) + " rank(s), the run used " +
        std::to_string(saved_ranks) +
        ": the batches are the same (each rank takes its share of every global batch), but "
        "batch-norm normalises over each rank's own images, so results will differ from an "
        "uninterrupted run");
  setup.net = make_untrained_net(setup.options, setup.device);
  if (setup.options.channels_last) to_channels_last(setup.net);
  setup.optimizer = make_optimizer(setup.net, setup.options);
  if (setup.options.ema_decay > 0) {
    setup.average = make_untrained_net(setup.options, setup.device);
    if (setup.options.channels_last) to_channels_last(setup.average);
    copy_weights(setup.net, setup.average);  // the average starts at the start weights
  }
  if (resuming) {
    load_checkpoint_state(info, setup.net, setup.optimizer.get(), &setup.average);
    setup.progress = info.progress;
    setup.resumed = true;
  }
  // On a resume too: train.json records the latest session's ranks and threads.
  if (request.writes) write_train_config(data, setup.options);
  return setup;
}

}  // namespace dermsim
