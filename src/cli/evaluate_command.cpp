// `dermsim evaluate`: classifiers on the embeddings, fitted on train and chosen on validation, scored
// once on the requested split, side by side with the same classifiers on the untrained network.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>

#include "classify/model_selection.h"
#include "classify/neighbours.h"
#include "cli/commands.h"
#include "cli/run_embeddings.h"
#include "common/csv.h"
#include "common/error.h"
#include "common/logistic_math.h"
#include "metrics/classification.h"
#include "metrics/ranking.h"
#include "metrics/retrieval.h"
#include "metrics/summary.h"

namespace dermsim::cli {
namespace {

struct EvaluateArgs {
  std::string run, split = "test", device = "auto";
  int tta = 1, threads = 0, retrieval_k = 8;
  double target_sensitivity = 0;  // 0 = Youden's J
  bool skip_floor = false;
  std::string strata;  // CSV image_name,STRATUM: AUC within each stratum as well
};

// AUC within each stratum (e.g. the image source, the site, the camera): a model can score well
// overall by telling strata apart when a stratum is tied to the label; the within-stratum figure
// is free of that. Strata with a single class are listed without an AUC.
nlohmann::json stratified_auc(const std::string& strata_csv, const RunData& data,
                              const PartEmbeddings& eval, const std::vector<double>& scores) {
  CsvTable table = read_csv(strata_csv);
  const int name_col = require_column(table, {"image_name"});
  if (table.header.size() < 2) throw UserError(strata_csv + ": expected columns image_name,STRATUM");
  const int stratum_col = name_col == 0 ? 1 : 0;
  std::map<std::string, std::string> stratum_of;
  for (const auto& row : table.rows) stratum_of[row[name_col]] = row[stratum_col];
  std::map<std::string, std::pair<std::vector<int>, std::vector<double>>> groups;
  for (size_t j = 0; j < eval.indices.size(); ++j) {
    auto it = stratum_of.find(data.images[eval.indices[j]].image_name);
    auto& g = groups[it == stratum_of.end() ? "(not listed)" : it->second];
    g.first.push_back(eval.y[j]);
    g.second.push_back(scores[j]);
  }
  nlohmann::json out = nlohmann::json::array();
  std::printf("\nAUC within each %s (from %s):\n", table.header[stratum_col].c_str(), strata_csv.c_str());
  for (const auto& [name, g] : groups) {
    const long positives = std::count(g.first.begin(), g.first.end(), 1);
    const bool both = positives > 0 && positives < static_cast<long>(g.first.size());
    const double auc = both ? roc_auc(g.first, g.second) : NAN;
    std::printf("  %-16s %5zu images %4ld malignant  AUC %s\n", name.c_str(), g.first.size(), positives,
                both ? std::to_string(auc).substr(0, 6).c_str() : "n/a (one class)");
    out.push_back({{"stratum", name}, {"images", g.first.size()}, {"malignant", positives},
                   {"auc", both ? nlohmann::json(auc) : nlohmann::json()}});
  }
  return out;
}

constexpr size_t kReportExamples = 4;  // malignant queries shown with their neighbours
constexpr int kReportNeighbours = 5;

// Text that reads back as exactly the same double: saved scores must reproduce the metrics.
std::string exact_decimal(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// The joint head (or the BCE baseline's classifier) as one more candidate, when the run trained it.
// It has nothing to fit, and its scores come from the network's logits (scores_of), not from
// embeddings: this class only gives the head a place in the candidate list and in model.json.
class HeadClassifier : public EmbeddingClassifier {
 public:
  std::string name() const override { return "head"; }
  void fit(const Embeddings&, const std::vector<int>&) override {}
  std::vector<double> predict_proba(const Embeddings&) const override {
    throw std::logic_error("the head's probabilities come from the network's logits");
  }
  nlohmann::json to_json() const override { return {{"type", "head"}}; }
};

// The best candidate of each family (kNN, prototype, logistic, head), best first.
std::vector<const Candidate*> best_per_family(const std::vector<Candidate>& sorted) {
  std::map<std::string, const Candidate*> best;
  std::vector<const Candidate*> out;
  for (const auto& c : sorted) {
    std::string family = c.classifier->name();
    if (!best.count(family)) {
      best[family] = &c;
      out.push_back(&c);
    }
  }
  return out;
}

std::vector<double> scores_of(const Candidate& c, const PartEmbeddings& part) {
  if (c.classifier->name() == "head") {
    std::vector<double> p;
    for (double l : part.head_logits) p.push_back(sigmoid(l));
    return p;
  }
  return c.classifier->predict_proba(part.x);
}

std::vector<Candidate> fit_all(const PartEmbeddings& train, const PartEmbeddings& val,
                               bool with_head) {
  auto auc = [](const std::vector<int>& y, const std::vector<double>& s) { return roc_auc(y, s); };
  std::vector<Candidate> candidates = fit_candidates(train.x, train.y, val.x, val.y, auc);
  if (with_head) {
    Candidate head{"joint BCE head", std::make_unique<HeadClassifier>(), 0};
    head.validation_score = roc_auc(val.y, scores_of(head, val));
    candidates.push_back(std::move(head));
    std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
      return a.validation_score > b.validation_score;
    });
  }
  return candidates;
}

void run_evaluate(const EvaluateArgs& args) {
  const Part part = part_from_string(args.split);
  RunData data = load_run_data(args.run);
  LoadedModel model = load_model(data, args.device, args.threads);
  const bool with_head = model.options.loss == "bce" || model.options.head_weight > 0;

  std::fprintf(stderr, "embedding train, val and %s images (TTA %d)\n", args.split.c_str(), args.tta);
  PartEmbeddings train = embed_part(model.net, data, Part::kTrain, model, args.tta, true);
  PartEmbeddings val = embed_part(model.net, data, Part::kVal, model, args.tta, true);
  PartEmbeddings eval = part == Part::kVal ? val : embed_part(model.net, data, part, model, args.tta, true);
  if (val.y.empty()) throw UserError(args.run + ": the validation split is empty; prepare with --val > 0");

  std::vector<Candidate> candidates = fit_all(train, val, with_head);
  const Candidate& chosen = candidates.front();
  const std::vector<double> val_scores = scores_of(chosen, val);
  const double threshold = args.target_sensitivity > 0
                               ? threshold_for_sensitivity(val.y, val_scores, args.target_sensitivity)
                               : youden_threshold(val.y, val_scores);
  const std::string rule = args.target_sensitivity > 0
                               ? "sensitivity >= " + std::to_string(args.target_sensitivity) + " on val"
                               : "Youden's J on val";

  const std::vector<double> eval_scores = scores_of(chosen, eval);
  BinaryMetrics metrics = compute_binary_metrics(eval.y, eval_scores, threshold, &eval.groups);

  nlohmann::json table = nlohmann::json::array();
  std::printf("\n%s split: %zu images, %ld malignant, %zu patients/groups\n", args.split.c_str(),
              eval.y.size(), static_cast<long>(std::count(eval.y.begin(), eval.y.end(), 1)),
              std::set<std::string>(eval.groups.begin(), eval.groups.end()).size());
  std::printf("\n%-44s %9s %9s %9s\n", "classifier (fit on train)", "val AUC",
              (args.split + " AUC").c_str(), (args.split + " pAUC").c_str());
  for (const Candidate* c : best_per_family(candidates)) {
    std::vector<double> s = scores_of(*c, eval);
    const double auc = roc_auc(eval.y, s), pauc = partial_auc_above_tpr(eval.y, s, 0.8);
    std::printf("%-44s %9.4f %9.4f %9.4f%s\n", c->description.c_str(), c->validation_score, auc,
                pauc, c == &chosen ? "  <- chosen on val" : "");
    table.push_back({{"classifier", c->description}, {"val_auc", c->validation_score},
                     {"auc", auc}, {"pauc", pauc}, {"chosen", c == &chosen}});
  }

  nlohmann::json floor = nlohmann::json::array();
  if (!args.skip_floor) {
    // The same classifiers on the untrained network's embeddings: what training has to beat.
    LoadedModel untrained = model;
    untrained.net = make_untrained_net(model.options, model.device);
    PartEmbeddings ftrain = embed_part(untrained.net, data, Part::kTrain, untrained, args.tta, false);
    PartEmbeddings fval = embed_part(untrained.net, data, Part::kVal, untrained, args.tta, false);
    PartEmbeddings feval = part == Part::kVal ? fval : embed_part(untrained.net, data, part, untrained, args.tta, false);
    std::vector<Candidate> floor_candidates = fit_all(ftrain, fval, false);
    for (const Candidate* c : best_per_family(floor_candidates)) {
      std::vector<double> s = scores_of(*c, feval);
      const double auc = roc_auc(feval.y, s), pauc = partial_auc_above_tpr(feval.y, s, 0.8);
      std::printf("%-44s %9.4f %9.4f %9.4f\n", ("untrained: " + c->description).c_str(),
                  c->validation_score, auc, pauc);
      floor.push_back({{"classifier", c->description}, {"val_auc", c->validation_score},
                       {"auc", auc}, {"pauc", pauc}});
    }
  }

  RetrievalMetrics retrieval = retrieval_metrics(eval.x, eval.y, eval.groups, train.x, train.y,
                                                 train.groups, args.retrieval_k);
  nlohmann::json m = to_json(metrics);
  m["report_text"] = format_classification_report(metrics.report);
  std::printf("\nchosen: %s, threshold %.4f (%s)\n", chosen.description.c_str(), threshold, rule.c_str());
  std::printf("%s AUC %.4f (95%% CI %.4f-%.4f, patients resampled)  pAUC@80%%TPR %.4f (%.4f-%.4f)\n",
              args.split.c_str(), metrics.auc, metrics.auc_ci->lower, metrics.auc_ci->upper,
              metrics.pauc, metrics.pauc_ci->lower, metrics.pauc_ci->upper);
  std::printf("average precision %.4f  Brier %.4f  ECE %.4f\n", metrics.average_precision,
              metrics.brier.value_or(NAN), metrics.ece.value_or(NAN));
  std::printf("\nat the threshold: sensitivity %.3f  specificity %.3f  balanced accuracy %.3f\n",
              metrics.sensitivity, metrics.specificity, metrics.balanced_accuracy);
  std::printf("accuracy on this split %.3f | at ISIC 2020 prevalence (%.2f%%) %.3f | on class-balanced "
              "subsamples %.3f\n",
              metrics.accuracy, 100 * metrics.reference_prevalence,
              metrics.accuracy_at_reference_prevalence, metrics.balanced_subsample_accuracy);
  std::printf("confusion matrix (rows truth, cols predicted):  benign [%lld %lld]  malignant [%lld %lld]\n",
              metrics.confusion.tn, metrics.confusion.fp, metrics.confusion.fn, metrics.confusion.tp);
  std::printf("\n%s\n", format_classification_report(metrics.report).c_str());
  std::printf("retrieval (malignant queries vs training images, own patient excluded): "
              "precision@%d %.3f  mAP %.3f\n", retrieval.k, retrieval.precision_at_k,
              retrieval.mean_average_precision);

  nlohmann::json strata =
      args.strata.empty() ? nlohmann::json() : stratified_auc(args.strata, data, eval, eval_scores);

  nlohmann::json card = {{"classifier", chosen.classifier->to_json()},
                         {"classifier_description", chosen.description},
                         {"threshold", threshold},
                         {"threshold_rule", rule},
                         {"validation_auc", chosen.validation_score},
                         {"tta", args.tta},
                         {"checkpoint", "best"}};
  write_json_file(data.run.model_card(), card);

  // Per-image scores (the report draws its curves from them) and, for the report's retrieval panel,
  // the nearest training lesions of the most confidently malignant images of this split.
  std::vector<std::vector<std::string>> score_rows;
  for (size_t j = 0; j < eval.indices.size(); ++j)
    score_rows.push_back({data.images[eval.indices[j]].image_name, eval.groups[j],
                          std::to_string(eval.y[j]), exact_decimal(eval_scores[j])});
  write_csv(data.run.scores(args.split), {"image_name", "group", "target", "score"}, score_rows);
  std::vector<size_t> order(eval.indices.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return eval_scores[a] > eval_scores[b]; });
  nlohmann::json examples = nlohmann::json::array();
  for (size_t j : order) {
    if (examples.size() >= kReportExamples) break;
    if (eval.y[j] != 1) continue;
    nlohmann::json neighbours = nlohmann::json::array();
    for (const Neighbour& n : nearest_neighbours(train.x, eval.x.row(j), kReportNeighbours,
                                                 &train.groups, &eval.groups[j])) {
      const auto& r = data.images[train.indices[n.index]];
      neighbours.push_back({{"image_name", r.image_name}, {"distance", n.distance},
                            {"target", r.target}, {"diagnosis", r.diagnosis}});
    }
    examples.push_back({{"image_name", data.images[eval.indices[j]].image_name},
                        {"score", eval_scores[j]}, {"target", eval.y[j]}, {"neighbours", neighbours}});
  }
  nlohmann::json out = {{"split", args.split}, {"tta", args.tta}, {"chosen", card},
                        {"classifiers", table}, {"untrained_floor", floor}, {"metrics", m},
                        {"retrieval", {{"k", retrieval.k}, {"precision_at_k", retrieval.precision_at_k},
                                       {"map", retrieval.mean_average_precision},
                                       {"queries", retrieval.queries}}},
                        {"train_options", to_json(model.options)},
                        {"retrieval_examples", examples},
                        {"strata", strata}};
  write_json_file(data.run.metrics(args.split), out);
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
  cmd->add_option("--tta", args->tta, "test-time augmentation variants (1-8)")->capture_default_str()
      ->check(CLI::Range(1, 8));
  cmd->add_option("--target-sensitivity", args->target_sensitivity,
                  "choose the threshold for this sensitivity on val (default: Youden's J)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--k", args->retrieval_k, "k of precision@k for retrieval")->capture_default_str();
  cmd->add_option("--device", args->device, "auto | cpu | cuda")->capture_default_str();
  cmd->add_option("--threads", args->threads, "CPU threads (0 = one per core)");
  cmd->add_flag("--skip-floor", args->skip_floor, "do not evaluate the untrained-network floor");
  cmd->add_option("--strata", args->strata,
                  "CSV image_name,STRATUM (e.g. a data source): also report AUC within each stratum");
  cmd->callback([args] { run_evaluate(*args); });
}

}  // namespace dermsim::cli
