#include "train/epoch_recorder.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/csv.h"
#include "train/trainer.h"
#include "train/training_setup.h"

namespace dermsim {

namespace {

nlohmann::json number_or_null(double value) {
  return std::isnan(value) ? nlohmann::json() : nlohmann::json(value);
}

void write_training_log(const RunDir& run, const nlohmann::json& history) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : history)
    rows.push_back({e["epoch"].dump(), e["step"].dump(), e["train_loss"].dump(),
                    e["val_auc"].dump(), e["val_pauc"].dump(), e["learning_rate"].dump(),
                    e["images_per_second"].dump()});
  write_csv(run.training_log(),
            {"epoch", "step", "train_loss", "val_auc", "val_pauc", "learning_rate",
             "images_per_second"},
            rows);
}

}  // namespace

bool EpochRecorder::record(int epoch, TrainingSetup& setup, const EpochStats& stats,
                           const ValidationScore& score, double images_per_second) {
  TrainingProgress& progress = setup.progress;
  const TrainOptions& options = setup.options;
  progress.history.push_back({{"epoch", epoch},
                              {"step", progress.step},
                              {"train_loss", stats.mean_loss},
                              {"val_auc", number_or_null(score.auc)},
                              {"val_pauc", number_or_null(score.pauc)},
                              {"learning_rate", stats.learning_rate},
                              {"images_per_second", images_per_second}});
  // Best by validation AUC rather than pAUC: with a few dozen malignant validation images the
  // pAUC (which looks only at the top 20 % of sensitivity) varies far more between epochs.
  const bool best = options.select == "final" ||
                    (!std::isnan(score.auc) && score.auc > progress.best_score);
  if (best) {
    progress.best_score = score.auc;
    progress.best_step = progress.step;
  }
  // Best first: a kill between the two writes leaves a last that is at most as new as best.
  torch::optim::Optimizer& optimizer = *setup.optimizer;
  if (best || !std::filesystem::exists(run_.checkpoint_best()))
    save_checkpoint(run_.checkpoint_best(), setup.shipped(), optimizer, progress, options, made_from_);
  save_checkpoint(run_.checkpoint_last(), setup.net, optimizer, progress, options, made_from_,
                  setup.average);
  write_training_log(run_, progress.history);
  std::fprintf(stderr, "%sepoch %d: loss %.4f  val AUC %.4f  pAUC %.4f%s\n",
               isatty(2) ? "\r\033[K" : "", epoch, stats.mean_loss, score.auc, score.pauc,
               best && options.select != "final" ? "  (best)" : "");
  return best;
}

}  // namespace dermsim
