// `dermsim evaluate`: classifiers on the embeddings, fitted on train and chosen on validation, scored
// once on the requested split, side by side with the same classifiers on the untrained network.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/run_lock.h"
#include "common/error.h"
#include "inference/evaluation.h"
#include "inference/fold_ensemble.h"

namespace dermsim::cli {
namespace {

struct EvaluateArgs {
  std::string run, split = "test", device = "auto";
  std::string precision;  // "" = the training precision
  int threads = 0;
  bool skip_floor = false;
  EvaluateOptions options;
};

void print_classifiers(const Evaluation& ev, const std::string& split) {
  std::printf("\n%-44s %9s %9s %9s\n", "classifier (fit on train)", "val AUC",
              (split + " AUC").c_str(), (split + " pAUC").c_str());
  for (const auto& r : ev.classifiers)
    std::printf("%-44s %9.4f %9.4f %9.4f%s\n", r.description.c_str(), r.val_auc, r.auc, r.pauc,
                r.chosen ? "  <- chosen on val" : "");
  for (const auto& r : ev.floor)
    std::printf("%-44s %9.4f %9.4f %9.4f\n", ("untrained: " + r.description).c_str(), r.val_auc,
                r.auc, r.pauc);
}

void print_binary_metrics(const BinaryMetrics& m, const std::string& split) {
  std::printf("%s AUC %.4f (95%% CI %.4f-%.4f, patients resampled)  pAUC@80%%TPR %.4f (%.4f-%.4f)\n",
              split.c_str(), m.auc, m.auc_ci->lower, m.auc_ci->upper, m.pauc, m.pauc_ci->lower,
              m.pauc_ci->upper);
  std::printf("average precision %.4f  Brier %.4f  ECE %.4f\n", m.average_precision,
              m.brier.value_or(NAN), m.ece.value_or(NAN));
  std::printf("\nat the threshold: sensitivity %.3f  specificity %.3f  balanced accuracy %.3f\n",
              m.sensitivity, m.specificity, m.balanced_accuracy);
  std::printf("accuracy on this split %.3f | at ISIC 2020 prevalence (%.2f%%) %.3f | on class-balanced "
              "subsamples %.3f\n",
              m.accuracy, 100 * m.reference_prevalence, m.accuracy_at_reference_prevalence,
              m.balanced_subsample_accuracy);
  std::printf("confusion matrix (rows truth, cols predicted):  benign [%lld %lld]  malignant [%lld %lld]\n",
              m.confusion.tn, m.confusion.fp, m.confusion.fn, m.confusion.tp);
  std::printf("\n%s\n", format_classification_report(m.report).c_str());
}

void print_strata(const std::string& column, const std::vector<StratumAuc>& strata) {
  if (!strata.empty()) std::printf("\nAUC within each %s (from %s):\n", column.c_str(), "--strata");
  for (const auto& s : strata)
    std::printf("  %-16s %5zu images %4ld malignant  AUC %s\n", s.name.c_str(), s.images, s.malignant,
                std::isnan(s.auc) ? "n/a (one class)" : std::to_string(s.auc).substr(0, 6).c_str());
}

// What inputs without age, sex or site are scored by (serve uploads, predict without --csv).
void print_image_only(const std::string& description, double threshold, const BinaryMetrics& f,
                      const std::string& split) {
  std::printf("\nimage-only fallback (serve uploads, predict without --csv): %s, threshold %.4f\n"
              "  %s AUC %.4f (%.4f-%.4f)  pAUC %.4f  balanced accuracy %.3f (sensitivity %.3f, "
              "specificity %.3f)\n", description.c_str(), threshold, split.c_str(), f.auc,
              f.auc_ci->lower, f.auc_ci->upper, f.pauc, f.balanced_accuracy, f.sensitivity,
              f.specificity);
}

void print_split(const std::string& split, const std::vector<int>& y, const std::vector<std::string>& groups) {
  std::printf("\n%s split: %zu images, %ld malignant, %zu patients/groups\n", split.c_str(), y.size(),
              static_cast<long>(std::count(y.begin(), y.end(), 1)),
              std::set<std::string>(groups.begin(), groups.end()).size());
}

void print_metrics(const Evaluation& ev, const std::string& split) {
  std::printf("\nchosen: %s, threshold %.4f (%s), embeddings at %s\n", ev.card.description.c_str(),
              ev.card.threshold, ev.card.threshold_rule.c_str(), ev.card.precision.c_str());
  print_binary_metrics(ev.metrics, split);
  std::printf("retrieval (malignant queries vs training images, own patient excluded): "
              "precision@%d %.3f  mAP %.3f\n", ev.retrieval.k, ev.retrieval.precision_at_k,
              ev.retrieval.mean_average_precision);
  print_strata(ev.strata_column, ev.strata);
  if (ev.image_only_metrics)
    print_image_only(ev.card.image_only->description, ev.card.image_only->threshold,
                     *ev.image_only_metrics, split);
}

// A k-fold training: the pooled out-of-fold scores, or the fold ensemble on test (scored once).
void evaluate_fold_training(const EvaluateArgs& args, const RunData& data) {
  const EvaluateOptions& o = args.options;
  if (!o.metadata || o.target_sensitivity > 0 || o.tta != 1 || !args.precision.empty())
    throw UserError("--no-metadata, --target-sensitivity, --tta and --precision choose a classifier "
                    "anew; the folds of " +
                    args.run + " chose theirs (and their image-only fallbacks) when they were trained: "
                    "drop them");
  const FoldEvaluation ev =
      evaluate_folds(data, args.split, args.device, args.threads, args.options.strata_csv);
  print_split(args.split, ev.y, ev.groups);
  std::printf("\n%s, threshold %.4f (%s)\n", ev.point.description.c_str(), ev.point.threshold,
              ev.point.threshold_rule.c_str());
  print_binary_metrics(ev.metrics, args.split);
  if (args.split == "oof")
    std::printf("balanced accuracy at each fold's own threshold %.3f (chosen on these same images)\n",
                ev.balanced_accuracy_at_fold_thresholds);
  print_strata(ev.strata_column, ev.strata);
  if (ev.image_only_metrics)
    print_image_only(ev.image_only_point->description, ev.image_only_point->threshold,
                     *ev.image_only_metrics, args.split);
  write_fold_evaluation(data, ev);
  std::printf("\nwrote %s\n", data.run.metrics(args.split).c_str());
}

void run_evaluate(EvaluateArgs& args) {
  EvaluateOptions& o = args.options;
  o.with_floor = !args.skip_floor;
  // Parsed before the lock, so a bad value is refused without touching the run.
  const Precision precision = args.precision.empty() ? Precision::kFloat32 : parse_precision(args.precision);
  RunLock lock(args.run, "evaluate");
  const RunData data = load_run_data(args.run);
  if (has_fold_training(data.run)) return evaluate_fold_training(args, data);
  if (args.split == "oof")
    throw UserError("--split oof: " + args.run + " holds no k-fold training (`dermsim train --folds`)");
  LoadedModel model = load_model(data, args.device, args.threads);
  // The card is chosen, and the test split scored, at this precision; model.json records it.
  if (!args.precision.empty()) model.precision = precision;
  o.part = part_from_string(args.split);
  const Evaluation ev = evaluate_run(data, model, o);
  print_split(args.split, ev.eval.y, ev.eval.groups);
  print_classifiers(ev, args.split);
  print_metrics(ev, args.split);
  write_evaluation(data, model, o, ev);
  std::printf("\nwrote %s and %s\n", data.run.metrics(args.split).c_str(), data.run.model_card().c_str());
}

}  // namespace

void add_evaluate_command(CLI::App& app) {
  auto args = std::make_shared<EvaluateArgs>();
  auto* cmd = app.add_subcommand(
      "evaluate", "fit classifiers on train embeddings, choose on val, report metrics on a split");
  cmd->add_option("--run", args->run, "trained run folder")->required();
  cmd->add_option("--split", args->split,
                  "val | test | oof (a k-fold training: every non-test image scored by the fold that "
                  "did not train on it; its test split is scored by the fold ensemble)")
      ->capture_default_str()
      ->check(CLI::IsMember({"val", "test", "oof"}));
  cmd->add_option("--tta", args->options.tta, "test-time augmentation variants (1-8)")->capture_default_str()
      ->check(CLI::Range(1, 8));
  cmd->add_option("--target-sensitivity", args->options.target_sensitivity,
                  "choose the threshold for this sensitivity on val (default: Youden's J)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--k", args->options.retrieval_k, "k of precision@k for retrieval")->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--precision", args->precision,
                  "fp32 | bf16: embed at this precision and record it in model.json, which every "
                  "inference of the run then uses (default: the training precision)");
  cmd->add_option("--device", args->device, "auto | cpu | cuda")->capture_default_str();
  cmd->add_option("--threads", args->threads, "CPU threads (0 = one per core)");
  cmd->add_flag("--skip-floor", args->skip_floor, "do not evaluate the untrained-network floor");
  cmd->add_flag("--no-metadata{false}", args->options.metadata,
                "consider only classifiers of the embedding (by default logistic regression on the "
                "embedding joined with age, sex and site competes too, when the images record them)");
  cmd->add_option("--strata", args->options.strata_csv,
                  "CSV image_name,STRATUM (e.g. a data source): also report AUC within each stratum");
  cmd->callback([args] { run_evaluate(*args); });
}

}  // namespace dermsim::cli
