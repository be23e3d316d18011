#include "inference/fold_training.h"

#include <algorithm>
#include <filesystem>

#include "classify/model_card.h"
#include "common/error.h"
#include "train/checkpoint.h"
#include "train/train_options.h"
#include "train/trainer.h"

namespace dermsim {

namespace {

bool was_given(const TrainRequest& request, const std::string& key) {
  return std::count(request.given.begin(), request.given.end(), key) > 0;
}

// Only the flags a resume may change travel to each fold: the rest are the folds' own options.
std::vector<std::string> changeable_given(const TrainRequest& request) {
  std::vector<std::string> given;
  for (const auto& key : request.given)
    if (may_change_on_resume(key)) given.push_back(key);
  return given;
}

TrainOptions resumed_fold_options(const RunData& data, const TrainRequest& request) {
  const std::string path = data.run.folds_config();
  const nlohmann::json config = read_json_file(path);
  const std::string remedy = "train without --resume to start afresh";
  require_made_from(path, config.value("made_from", nlohmann::json()), data.training_inputs(), remedy);
  TrainOptions o = train_options_from_json(config.value("options", nlohmann::json()), path);
  std::vector<std::string> changed = changed_options(o, request.options, request.given);
  if (!changed.empty()) {
    std::string list;
    for (const auto& c : changed) list += (list.empty() ? "" : ", ") + c;
    throw UserError("--resume: " + list + " differs from " + path +
                    "; resumed folds keep their options (drop the flag, or train without --resume "
                    "to start afresh)");
  }
  if (was_given(request, "device")) o.device = request.options.device;
  if (was_given(request, "threads")) o.threads = request.options.threads;
  return o;
}

// Every checkpoint of every fold must belong to its own fold of this split: refused before any
// fold trains, not after the ones before it.
void require_current_folds(const RunData& data, int folds) {
  for (int k = 0; k < folds; ++k) {
    const RunData fold = as_fold(load_run_data(data.run.root), k);
    for (const std::string& path : {fold.run.checkpoint_last(), fold.run.checkpoint_best()})
      if (std::filesystem::exists(path)) read_checkpoint_info(path, fold.training_inputs());
  }
}

void create_fold_folders(const RunDir& run, int folds) {
  for (int k = 0; k < folds; ++k) {
    std::error_code error;
    std::filesystem::create_directories(run.fold(k).root, error);
    if (error) throw UserError(run.fold(k).root + ": cannot create: " + error.message());
  }
}

}  // namespace

FoldTraining start_fold_training(const RunData& data, const TrainRequest& request) {
  FoldTraining plan;
  plan.folds = fold_count(data);
  if (plan.folds < 2)
    throw UserError(data.run.split() + ": no folds to train; prepare with `dermsim prepare --folds K "
                    "--out " + data.run.root + "` (K >= 2)");
  plan.fold_request = request;
  plan.fold_request.given = changeable_given(request);
  plan.fold_request.writes = true;
  const bool resuming = request.resume && has_fold_training(data.run);
  plan.fold_request.resume = resuming;
  if (resuming) {
    plan.fold_request.options = resumed_fold_options(data, request);
    require_current_folds(data, plan.folds);
    create_fold_folders(data.run, plan.folds);
    return plan;
  }
  if (request.resume)
    plan.notes.push_back(data.run.root + " has no k-fold training to resume: starting a new one");
  validate_train_options(request.options);  // before the old training is set aside
  const std::string aside = set_aside_training(data.run);
  if (!aside.empty()) plan.notes.push_back("the earlier training of this run was moved to " + aside);
  create_fold_folders(data.run, plan.folds);
  nlohmann::json config = {{"folds", plan.folds},
                           {"options", to_json(request.options)},
                           {"made_from", to_json(data.training_inputs())},
                           {"provenance", build_info()}};
  write_json_file(data.run.folds_config(), config);
  return plan;
}

bool fold_is_trained(const RunData& fold) {
  if (!std::filesystem::exists(fold.run.model_card()) ||
      !std::filesystem::exists(fold.run.checkpoint_last()))
    return false;
  const CheckpointInfo last = read_checkpoint_info(fold.run.checkpoint_last(), fold.training_inputs());
  const CheckpointInfo best = read_checkpoint_info(fold.run.checkpoint_best(), fold.training_inputs());
  if (last.progress.step < total_training_steps(fold, last.options)) return false;
  try {
    load_model_card(fold.run, best.identity);
  } catch (const UserError&) {
    return false;  // killed between the last checkpoint and the card: resuming chooses again
  }
  return true;
}

}  // namespace dermsim
