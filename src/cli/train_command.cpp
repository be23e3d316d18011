// `dermsim train`: Siamese training of the embedding network on a prepared run.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "cli/rank_options.h"
#include "common/error.h"
#include "common/progress.h"
#include "common/run_lock.h"
#include "distributed/process_group.h"
#include "inference/fold_ensemble.h"
#include "inference/fold_training.h"
#include "inference/model_choice.h"
#include "inference/run_reference_index.h"
#include "inference/validation.h"
#include "metrics/ranking.h"
#include "train/sampler.h"
#include "train/trainer.h"

namespace dermsim::cli {

namespace {

// Each flag and the option (a to_json key of TrainOptions) it sets: what `--resume` compares.
const std::vector<std::pair<const char*, const char*>> kFlagKeys = {
    {"--backbone", "backbone"}, {"--init-weights", "init_weights"}, {"--embed-dim", "embed_dim"},
    {"--loss", "loss"}, {"--margin", "margin"}, {"--mining", "mining"},
    {"--temperature", "temperature"},
    {"--head-weight", "head_weight"}, {"--classes-per-batch", "classes_per_batch"},
    {"--images-per-class", "images_per_class"}, {"--benign-fraction", "benign_fraction"},
    {"--lookalike-fraction", "lookalike_fraction"}, {"--lookalike-neighbours", "lookalike_neighbours"},
    {"--epochs", "epochs"}, {"--optimizer", "optimizer"}, {"--lr", "learning_rate"},
    {"--weight-decay", "weight_decay"}, {"--seed", "seed"}, {"--device", "device"},
    {"--threads", "threads"}, {"--precision", "precision"}, {"--no-augment", "augment.enabled"},
    {"--max-rotation", "augment.max_rotation_degrees"}, {"--ema-decay", "ema_decay"},
    {"--select", "select"}};

// Trains `data` (a run, or one fold of it) as `setup`; when the training finished (rank 0), ends
// by choosing the classifier and threshold on validation, so predict works right away.
TrainSummary train_and_choose(const RunData& data, TrainingSetup& setup, ProcessGroup* group,
                              long stop_after_steps) {
  const bool writer = group == nullptr || group->rank() == 0;
  const std::string& run = data.run.root;
  if (!writer) setup.notes.clear();
  for (const auto& note : setup.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  if (setup.resumed && writer)
    std::fprintf(stderr, "resuming %s at step %ld\n", run.c_str(), setup.progress.step);
  const Validator validate =
      writer ? make_knn_validator(data, setup.options, setup.device) : Validator();
  EpochRecorder recorder(data.run, data.training_inputs());
  const TrainSummary s =
      train_embedding_net(data, setup, validate, recorder, group, stop_after_steps);
  if (!writer) return s;
  std::printf("trained %s: %ld steps (%d epochs) in %s, %.1f images/s, data wait %.1f%%",
              run.c_str(), s.steps, s.epochs, human_duration(s.seconds).c_str(),
              s.images_per_second, 100 * s.data_wait_fraction);
  if (group) std::printf(", communication %.1f%% of the step time", 100 * s.communication_fraction);
  std::printf("\n");
  const std::string weights = setup.options.ema_decay > 0
                                  ? "moving average of the weights (decay " +
                                        std::to_string(setup.options.ema_decay).substr(0, 6) + ")"
                                  : "weights";
  if (s.best_epoch > 0)
    std::printf("%s %s of epoch %d, validation AUC %.4f (kNN on embeddings) -> %s/checkpoint-best.pt\n",
                setup.options.select == "final" ? "shipping the" : "best by validation: the",
                weights.c_str(), s.best_epoch, s.best_val_auc, run.c_str());
  else
    std::printf("stopped before the first epoch ended: no checkpoint yet (`--resume` continues)\n");
  if (!s.finished) return s;
  // The classifier and threshold are chosen on validation now, so predict works right away;
  // `evaluate` reports the test split.
  const LoadedModel model = load_model(data, setup.options.device, setup.options.threads);
  ModelChoice choice = choose_on_validation(data, model, {});
  write_reference_index(data, model, choice.train, choice.card.tta);  // similar / serve need it
  const ModelCard card = take_card(choice);
  write_model_card(data.run, card);
  std::printf("chosen on validation: %s (val AUC %.4f), threshold %.4f (%s) -> %s\n",
              card.description.c_str(), card.validation_auc, card.threshold,
              card.threshold_rule.c_str(), data.run.model_card().c_str());
  if (card.image_only)
    std::printf("image-only fallback (inputs without age, sex or site): %s (val AUC %.4f), threshold %.4f\n",
                card.image_only->description.c_str(), card.image_only->validation_auc,
                card.image_only->threshold);
  return s;
}

// One rank of a training (the only one without WORLD_SIZE). Rank 0 alone locks, writes and talks.
void run_train(const std::string& run, TrainRequest& request, const RankPlace& place,
               int timeout_seconds, long stop_after_steps) {
  const bool writer = place.rank == 0;
  std::optional<RunLock> lock;
  if (writer) lock.emplace(run, "train");
  const RunData data = load_run_data(run);
  request.writes = writer;
  request.local_rank = place.local_rank;
  request.ranks = place.world_size;
  TrainingSetup setup = start_training(data, request);
  std::unique_ptr<ProcessGroup> group;
  if (place.world_size > 1)
    group = std::make_unique<ProcessGroup>(place, setup.device,
                                           std::chrono::seconds(timeout_seconds));
  if (group && writer) {
    int64_t gradient_bytes = 0;
    for (const auto& p : setup.net->parameters()) gradient_bytes += p.numel() * p.element_size();
    char note[160];
    std::snprintf(note, sizeof note,
                  "training as %d data-parallel ranks (%s), %d CPU thread(s) each; %.2f MB of "
                  "gradients summed per step",
                  group->size(), group->backend_name().c_str(), setup.options.threads,
                  gradient_bytes / 1e6);
    setup.notes.push_back(note);
  }
  train_and_choose(data, setup, group.get(), stop_after_steps);
}

// `train --folds` (or `--resume` of a k-fold training): fold k = 0..K-1 in turn into
// RUN/folds/k/, finished folds skipped; then the out-of-fold scores and the ensemble's threshold.
// stop_after_steps (tests) counts the steps of all folds together.
void run_fold_training(const std::string& run, const TrainRequest& request, long stop_after_steps) {
  RunLock lock(run, "train");
  const FoldTraining plan = start_fold_training(load_run_data(run), request);
  for (const auto& note : plan.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  long steps_left = stop_after_steps;
  for (int k = 0; k < plan.folds; ++k) {
    const RunData fold = as_fold(load_run_data(run), k);
    const std::string which = "fold " + std::to_string(k + 1) + "/" + std::to_string(plan.folds);
    if (fold_is_trained(fold)) {
      std::printf("%s: %s already trained, skipped\n", which.c_str(), fold.run.root.c_str());
      continue;
    }
    std::printf("%s: training on the other folds, validating on fold %d -> %s\n", which.c_str(), k,
                fold.run.root.c_str());
    std::fflush(stdout);
    TrainRequest fold_request = plan.fold_request;
    fold_request.progress_label = which;
    TrainingSetup setup = start_training(fold, fold_request);
    const long step_before = setup.progress.step;
    const TrainSummary s = train_and_choose(fold, setup, nullptr, steps_left);
    if (!s.finished) return;  // interrupted (--stop-after-steps): --resume continues this fold
    if (stop_after_steps > 0) {
      steps_left -= s.steps - step_before;
      if (steps_left <= 0) return;
    }
  }
  const RunData data = load_run_data(run);
  const OutOfFold oof = score_out_of_fold(data, plan.fold_request.options.device,
                                          plan.fold_request.options.threads);
  write_out_of_fold(data, oof);
  std::printf("out-of-fold (every non-test image scored by the fold that did not train on it): "
              "AUC %.4f over %zu images -> %s; fold ensemble threshold %.4f (Youden's J on them) "
              "-> %s\n",
              roc_auc(oof.y, oof.chosen.scores), oof.chosen.scores.size(), data.run.scores("oof").c_str(),
              oof.chosen.threshold, data.run.ensemble_card().c_str());
  if (oof.image_only)
    std::printf("without age, sex or site (each fold's image-only fallback): out-of-fold AUC %.4f, "
                "threshold %.4f\n", roc_auc(oof.y, oof.image_only->scores), oof.image_only->threshold);
}

}  // namespace

void add_train_command(CLI::App& app, const std::vector<std::string>& argv) {
  struct Args {
    std::string run;
    TrainOptions options;
    bool resume = false;
    bool folds = false;
    bool no_augment = false;
    long stop_after_steps = 0;
    RankArgs ranks;
  };
  auto args = std::make_shared<Args>();
  TrainOptions& o = args->options;
  auto* cmd = app.add_subcommand("train", "train the Siamese embedding network of a prepared run");
  cmd->add_option("--run", args->run, "run folder made by `dermsim prepare`")->required();
  cmd->add_option("--backbone", o.backbone, "small (fast on CPU) or resnet18 (torchvision layout)")
      ->capture_default_str()
      ->check(CLI::IsMember({"small", "resnet18"}));
  cmd->add_option("--init-weights", o.init_weights,
                  "resnet18 weights exported by scripts/export_torchvision_resnet18.py");
  cmd->add_option("--embed-dim", o.embed_dim, "embedding size")->capture_default_str()
      ->check(CLI::Range(2, 4096));
  cmd->add_option("--loss", o.loss,
                  "contrastive | triplet | supcon (supervised contrastive) | bce (plain classifier "
                  "baseline)")
      ->capture_default_str()
      ->check(CLI::IsMember({"contrastive", "triplet", "supcon", "bce"}));
  cmd->add_option("--margin", o.margin, "loss margin (default: contrastive 1.0, triplet 0.2)");
  cmd->add_option("--mining", o.mining, "triplet mining: all | semihard | hard")
      ->capture_default_str()
      ->check(CLI::IsMember({"all", "semihard", "hard"}));
  cmd->add_option("--temperature", o.temperature, "supcon temperature")->capture_default_str();
  cmd->add_option("--head-weight", o.head_weight, "weight of a joint BCE head (0 = none)")
      ->capture_default_str();
  cmd->add_option("--classes-per-batch", o.classes_per_batch, "P of the P x K batches")
      ->capture_default_str();
  cmd->add_option("--images-per-class", o.images_per_class, "K of the P x K batches")
      ->capture_default_str()
      ->check(CLI::Range(2, 1024));
  cmd->add_option("--benign-fraction", o.benign_fraction,
                  "share of benign training images used per epoch (< 1 undersamples)")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 1.0));
  cmd->add_option("--lookalike-fraction", o.lookalike_fraction,
                  "share of each batch's benign images swapped, from the second epoch on, for "
                  "look-alikes of its melanomas mined over the whole training set (0 = none)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--lookalike-neighbours", o.lookalike_neighbours,
                  "how many nearest benign training images count as a melanoma's look-alikes")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--epochs", o.epochs, "epochs (one epoch = one pass over the benign images)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--optimizer", o.optimizer, "adamw | sgd")->capture_default_str()
      ->check(CLI::IsMember({"adamw", "sgd"}));
  cmd->add_option("--lr", o.learning_rate, "peak learning rate")->capture_default_str();
  cmd->add_option("--weight-decay", o.weight_decay, "weight decay")->capture_default_str();
  cmd->add_option("--ema-decay", o.ema_decay,
                  "keep a moving average of the weights with this decay per step (0 = none); it is "
                  "what is validated and shipped")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9999999));
  cmd->add_option("--select", o.select,
                  "which epoch's weights ship: final | best-val (highest validation kNN AUC)")
      ->capture_default_str()
      ->check(CLI::IsMember({"final", "best-val"}));
  cmd->add_option("--seed", o.seed, "seed of weights, batches and augmentation")
      ->capture_default_str();
  cmd->add_option("--device", o.device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  cmd->add_option("--threads", o.threads, "CPU threads (0 = one per core)")->capture_default_str();
  cmd->add_option("--precision", o.precision,
                  "fp32 | bf16 (autocast convolutions and matrix products; also the precision "
                  "the run's card is chosen and used at, unless `evaluate --precision` re-chooses it)")
      ->capture_default_str();
  cmd->add_flag("--no-augment", args->no_augment, "train without augmentation");
  cmd->add_option("--max-rotation", o.augment.max_rotation_degrees, "rotation range, degrees")
      ->capture_default_str();
  cmd->add_flag("--resume", args->resume,
                "continue from RUN/checkpoint-last.pt with its options (a changed option is refused)");
  cmd->add_flag("--folds", args->folds,
                "k-fold training of a run prepared with `--folds K`: fold k = 0..K-1 in turn into "
                "RUN/folds/k/ (validated on fold k), then the out-of-fold scores (RUN/scores-oof.csv) "
                "and the fold ensemble predict uses (RUN/ensemble.json); `--resume` continues the "
                "unfinished fold");
  add_rank_options(cmd, args->ranks);
  cmd->add_option("--stop-after-steps", args->stop_after_steps,
                  "stop after this many steps (as if interrupted); for tests")
      ->group("");
  cmd->callback([args, cmd, argv] {
    const RankPlace place = rank_place_from_environment();
    // A resume continues whichever training the run holds: its folds, or its one network.
    const bool folds = args->folds || (args->resume && has_fold_training(RunDir(args->run)));
    if (folds && (args->ranks.nproc > 1 || place.world_size > 1))
      throw UserError("--folds: k-fold training runs in one process; drop --nproc");
    if (args->ranks.nproc > 1 && place.world_size == 1)  // refused here, not once by each rank
      rank_positions(args->options.images_per_class, 0, args->ranks.nproc);
    if (launched_local_ranks(*cmd, args->ranks, place, argv)) return;
    TrainRequest request;
    request.options = args->options;
    request.options.augment.enabled = !args->no_augment;
    request.resume = args->resume;
    for (const auto& [flag, key] : kFlagKeys)
      if (cmd->count(flag) > 0) request.given.push_back(key);
    request.options.threads = threads_of_rank(*cmd, request.options.threads, place);
    if (folds) return run_fold_training(args->run, request, args->stop_after_steps);
    run_train(args->run, request, place, args->ranks.dist_timeout, args->stop_after_steps);
  });
}

}  // namespace dermsim::cli
