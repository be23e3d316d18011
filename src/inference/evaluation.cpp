#include "inference/evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <optional>

#include "classify/neighbours.h"
#include "common/atomic_file.h"
#include "common/csv.h"
#include "common/error.h"
#include "common/hash.h"
#include "inference/model_choice.h"
#include "inference/run_reference_index.h"
#include "metrics/ranking.h"

namespace dermsim {

namespace {

constexpr size_t kReportExamples = 4;  // malignant queries shown with their neighbours
constexpr int kReportNeighbours = 5;

std::string family_of(const Candidate& c) {
  if (!c.classifier) return "head";
  return c.classifier->name() + (c.with_metadata ? " + metadata" : "");
}

// The best candidate of each family (kNN, prototype, logistic, head), best first, scored on `eval`.
std::vector<ClassifierRow> rows_per_family(const std::vector<Candidate>& sorted,
                                           const PartEmbeddings& eval) {
  std::map<std::string, bool> seen;
  std::vector<ClassifierRow> rows;
  for (const auto& c : sorted) {
    if (seen[family_of(c)]) continue;
    seen[family_of(c)] = true;
    const std::vector<double> s = candidate_scores(c, eval);
    rows.push_back({c.description, c.validation_score, roc_auc(eval.y, s),
                    partial_auc_above_tpr(eval.y, s, 0.8), rows.empty()});
  }
  return rows;
}

// AUC within each stratum (e.g. the image source): a model can score well overall by telling
// strata apart when a stratum is tied to the label; the within-stratum figure is free of that.
void stratified_auc(const Strata& strata, const RunData& data, Evaluation& ev) {
  std::vector<std::string> names;
  for (size_t i : ev.eval.indices) names.push_back(data.images[i].image_name);
  ev.strata_column = strata.column();
  ev.strata = auc_within_strata(strata, names, ev.eval.y, ev.scores);
}

// For the report's retrieval panel: the nearest training lesions of the most confidently
// malignant images of the split.
nlohmann::json retrieval_examples(const RunData& data, const PartEmbeddings& train, const Evaluation& ev) {
  std::vector<size_t> order(ev.eval.indices.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return ev.scores[a] > ev.scores[b]; });
  nlohmann::json examples = nlohmann::json::array();
  for (size_t j : order) {
    if (examples.size() >= kReportExamples) break;
    if (ev.eval.y[j] != 1) continue;
    nlohmann::json neighbours = nlohmann::json::array();
    for (const Neighbour& n : nearest_neighbours(train.x, ev.eval.x.row(j), kReportNeighbours,
                                                 &train.groups, &ev.eval.groups[j])) {
      const auto& r = data.images[train.indices[n.index]];
      neighbours.push_back({{"image_name", r.image_name}, {"distance", n.distance},
                            {"target", r.target}, {"diagnosis", r.diagnosis}});
    }
    examples.push_back({{"image_name", data.images[ev.eval.indices[j]].image_name},
                        {"score", ev.scores[j]}, {"target", ev.eval.y[j]}, {"neighbours", neighbours}});
  }
  return examples;
}

// Text that reads back as exactly the same double: saved scores must reproduce the metrics.
std::string exact_decimal(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

nlohmann::json rows_json(const std::vector<ClassifierRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows)
    out.push_back({{"classifier", r.description}, {"val_auc", r.val_auc}, {"auc", r.auc},
                   {"pauc", r.pauc}, {"chosen", r.chosen}});
  return out;
}

}  // namespace

Strata read_strata(const std::string& strata_csv) {
  Strata strata{read_csv(strata_csv)};
  strata.name_col = require_column(strata.table, {"image_name"});
  if (strata.table.header.size() < 2)
    throw UserError(strata_csv + ": expected columns image_name,STRATUM");
  strata.stratum_col = strata.name_col == 0 ? 1 : 0;
  return strata;
}

std::vector<StratumAuc> auc_within_strata(const Strata& strata, const std::vector<std::string>& image_names,
                                          const std::vector<int>& y, const std::vector<double>& scores) {
  std::map<std::string, std::string> stratum_of;
  for (const auto& row : strata.table.rows) stratum_of[row[strata.name_col]] = row[strata.stratum_col];
  std::map<std::string, std::pair<std::vector<int>, std::vector<double>>> groups;
  for (size_t j = 0; j < image_names.size(); ++j) {
    auto it = stratum_of.find(image_names[j]);
    auto& g = groups[it == stratum_of.end() ? "(not listed)" : it->second];
    g.first.push_back(y[j]);
    g.second.push_back(scores[j]);
  }
  std::vector<StratumAuc> out;
  for (const auto& [name, g] : groups) {
    const long positives = std::count(g.first.begin(), g.first.end(), 1);
    const bool both = positives > 0 && positives < static_cast<long>(g.first.size());
    out.push_back({name, g.first.size(), positives, both ? roc_auc(g.first, g.second) : NAN});
  }
  return out;
}

nlohmann::json to_json(const std::vector<StratumAuc>& strata) {
  nlohmann::json out = nlohmann::json();
  for (const auto& s : strata) {
    if (out.is_null()) out = nlohmann::json::array();
    out.push_back({{"stratum", s.name}, {"images", s.images}, {"malignant", s.malignant},
                   {"auc", std::isnan(s.auc) ? nlohmann::json() : nlohmann::json(s.auc)}});
  }
  return out;
}

void write_scores_csv(const std::string& path, const std::vector<std::string>& image_names,
                      const std::vector<std::string>& groups, const std::vector<int>& y,
                      const std::vector<double>& scores, const std::vector<int>* folds,
                      const std::vector<double>* image_only_scores) {
  std::vector<std::string> header{"image_name", "group", "target", "score"};
  if (folds) header.push_back("fold");
  if (image_only_scores) header.push_back("image_only_score");
  std::vector<std::vector<std::string>> rows;
  for (size_t j = 0; j < image_names.size(); ++j) {
    rows.push_back({image_names[j], groups[j], std::to_string(y[j]), exact_decimal(scores[j])});
    if (folds) rows.back().push_back(std::to_string((*folds)[j]));
    if (image_only_scores) rows.back().push_back(exact_decimal((*image_only_scores)[j]));
  }
  write_csv(path, header, rows);
}

Evaluation evaluate_run(const RunData& data, const LoadedModel& model, const EvaluateOptions& o) {
  const std::optional<Strata> strata =
      o.strata_csv.empty() ? std::nullopt : std::optional<Strata>(read_strata(o.strata_csv));
  ModelChoice choice =
      choose_on_validation(data, model, {o.tta, o.target_sensitivity, true, true, o.metadata});
  Evaluation ev;
  ev.eval = o.part == Part::kVal ? choice.val : embed_part(model, data, o.part, o.tta, true);
  if (choice.encoder && o.part != Part::kVal) attach_metadata(ev.eval, data, *choice.encoder);
  ev.classifiers = rows_per_family(choice.candidates, ev.eval);
  ev.scores = candidate_scores(choice.candidates.front(), ev.eval);
  std::vector<double> image_only_scores;
  if (choice.image_only) image_only_scores = candidate_scores(choice.candidates[*choice.image_only], ev.eval);
  ev.card = take_card(choice);
  ev.metrics = compute_binary_metrics(ev.eval.y, ev.scores, ev.card.threshold, &ev.eval.groups);
  if (ev.card.image_only)
    ev.image_only_metrics = compute_binary_metrics(ev.eval.y, image_only_scores,
                                                   ev.card.image_only->threshold, &ev.eval.groups);
  const PartEmbeddings& train = choice.train;
  ev.retrieval = retrieval_metrics(ev.eval.x, ev.eval.y, ev.eval.groups, train.x, train.y,
                                   train.groups, o.retrieval_k);
  if (o.with_floor) {
    const LoadedModel untrained = untrained_copy(model);
    const ModelChoice floor = choose_on_validation(data, untrained, {o.tta, 0, false, false, false});
    const PartEmbeddings floor_eval =
        o.part == Part::kVal ? floor.val : embed_part(untrained, data, o.part, o.tta, false);
    ev.floor = rows_per_family(floor.candidates, floor_eval);
    for (auto& row : ev.floor) row.chosen = false;
  }
  if (strata) stratified_auc(*strata, data, ev);
  ev.retrieval_examples = retrieval_examples(data, train, ev);
  ev.train = std::move(choice.train);
  return ev;
}

void write_evaluation(const RunData& data, const LoadedModel& model, const EvaluateOptions& o,
                      const Evaluation& ev) {
  const RunDir& run = data.run;
  const std::string split = to_string(o.part);
  write_model_card(run, ev.card);
  write_reference_index(data, model, ev.train, o.tta);
  std::vector<std::string> names;
  for (size_t i : ev.eval.indices) names.push_back(data.images[i].image_name);
  write_scores_csv(run.scores(split), names, ev.eval.groups, ev.eval.y, ev.scores);

  nlohmann::json m = to_json(ev.metrics);
  m["report_text"] = format_classification_report(ev.metrics.report);
  nlohmann::json image_only = nullptr;  // what `serve` (uploads without metadata) is measured by
  if (ev.image_only_metrics)
    image_only = {{"classifier", ev.card.image_only->description}, {"metrics", to_json(*ev.image_only_metrics)}};
  const nlohmann::json out = {
      {"split", split}, {"tta", o.tta}, {"chosen", to_json(ev.card)},
      {"classifiers", rows_json(ev.classifiers)}, {"untrained_floor", rows_json(ev.floor)},
      {"metrics", m},
      {"image_only", image_only},
      {"retrieval", {{"k", ev.retrieval.k}, {"precision_at_k", ev.retrieval.precision_at_k},
                     {"map", ev.retrieval.mean_average_precision}, {"queries", ev.retrieval.queries}}},
      {"train_options", to_json(model.options)},
      {"retrieval_examples", ev.retrieval_examples},
      {"strata", to_json(ev.strata)},
      {"made_from", {{"checkpoint-best.pt", model.checkpoint_id},
                     {"model.json", content_hash_hex(read_file(run.model_card()))},
                     {run.scores(split).substr(run.root.size() + 1),
                      content_hash_hex(read_file(run.scores(split)))}}}};
  write_json_file(run.metrics(split), out);
}

}  // namespace dermsim
