// `dermsim evaluate`: classifiers on the embeddings, fitted on train and chosen on validation, scored
// once on the requested split, side by side with the same classifiers on the untrained network.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>

#include "cli/commands.h"
#include "common/run_lock.h"
#include "inference/evaluation.h"

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

void print_metrics(const Evaluation& ev, const std::string& split) {
  const BinaryMetrics& m = ev.metrics;
  std::printf("\nchosen: %s, threshold %.4f (%s), embeddings at %s\n", ev.card.description.c_str(),
              ev.card.threshold, ev.card.threshold_rule.c_str(), ev.card.precision.c_str());
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
  std::printf("retrieval (malignant queries vs training images, own patient excluded): "
              "precision@%d %.3f  mAP %.3f\n", ev.retrieval.k, ev.retrieval.precision_at_k,
              ev.retrieval.mean_average_precision);
  if (!ev.strata.empty())
    std::printf("\nAUC within each %s (from %s):\n", ev.strata_column.c_str(), "--strata");
  for (const auto& s : ev.strata)
    std::printf("  %-16s %5zu images %4ld malignant  AUC %s\n", s.name.c_str(), s.images, s.malignant,
                std::isnan(s.auc) ? "n/a (one class)" : std::to_string(s.auc).substr(0, 6).c_str());
  if (const auto& f = ev.image_only_metrics)
    std::printf("\nimage-only fallback (serve uploads, predict without --csv): %s, threshold %.4f\n"
                "  %s AUC %.4f (%.4f-%.4f)  pAUC %.4f  balanced accuracy %.3f (sensitivity %.3f, "
                "specificity %.3f)\n", ev.card.image_only->description.c_str(), ev.card.image_only->threshold,
                split.c_str(), f->auc, f->auc_ci->lower, f->auc_ci->upper, f->pauc, f->balanced_accuracy,
                f->sensitivity, f->specificity);
}

void run_evaluate(EvaluateArgs& args) {
  EvaluateOptions& o = args.options;
  o.part = part_from_string(args.split);
  o.with_floor = !args.skip_floor;
  const std::optional<Precision> precision =
      args.precision.empty() ? std::nullopt : std::optional<Precision>(parse_precision(args.precision));
  RunLock lock(args.run, "evaluate");
  const RunData data = load_run_data(args.run);
  LoadedModel model = load_model(data, args.device, args.threads);
  // The card is chosen, and the test split scored, at this precision; model.json records it.
  if (precision) model.precision = *precision;
  const Evaluation ev = evaluate_run(data, model, o);
  std::printf("\n%s split: %zu images, %ld malignant, %zu patients/groups\n", args.split.c_str(),
              ev.eval.y.size(), static_cast<long>(std::count(ev.eval.y.begin(), ev.eval.y.end(), 1)),
              std::set<std::string>(ev.eval.groups.begin(), ev.eval.groups.end()).size());
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
  cmd->add_option("--split", args->split, "val | test")->capture_default_str()
      ->check(CLI::IsMember({"val", "test"}));
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
