#include "inference/fold_ensemble.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/hash.h"
#include "metrics/ranking.h"

namespace dermsim {

namespace {

constexpr const char* kPooledRule = "Youden's J on the pooled out-of-fold scores";

std::string identity_of(const std::string& path) { return content_hash_hex(read_file(path)); }

// The fold's network and card, and their identities under the names ensemble.json records.
PredictorMember load_member(const RunData& fold, int k, const std::string& device, int threads,
                            MadeFrom* identities) {
  if (!std::filesystem::exists(fold.run.checkpoint_best()))
    throw UserError(fold.run.root + ": fold " + std::to_string(k) + " is not trained yet; run `dermsim train --run " +
                    fold.run.prepared() + " --resume`");
  PredictorMember member{load_model(fold, device, threads), {}};
  member.card = load_model_card(fold.run, member.model.checkpoint_id);
  use_card_precision(member.model, member.card);
  if (identities) {
    const std::string name = "folds/" + std::to_string(k) + "/";
    (*identities)[name + "checkpoint-best.pt"] = member.model.checkpoint_id;
    (*identities)[name + "model.json"] = identity_of(fold.run.model_card());
  }
  return member;
}

std::vector<const LesionRecord*> records_of(const RunData& data, const std::vector<size_t>& rows) {
  std::vector<const LesionRecord*> records;
  for (size_t i : rows) records.push_back(&data.images[i]);
  return records;
}

// Whether every member can score inputs without age, sex and site (card_for_inputs).
bool image_only_possible(const std::vector<PredictorMember>& members) {
  for (const auto& m : members)
    if (card_for_inputs(m.card, false).metadata) return false;
  return true;
}

OperatingPoint point_of(const ModelCard& card, const std::string& prefix) {
  return {card.threshold, card.threshold_rule, prefix + card.description, card.validation_auc};
}

// ensemble.json's point (or its "image_only" one).
OperatingPoint point_from_json(const nlohmann::json& j, const std::string& description) {
  OperatingPoint point;
  point.threshold = j.at("threshold").get<double>();
  point.threshold_rule = j.at("threshold_rule").get<std::string>();
  point.description = description;
  point.validation_auc = j.value("out_of_fold_auc", 0.0);
  if (!std::isfinite(point.threshold)) throw std::invalid_argument("threshold is not a number");
  return point;
}

RunPredictor load_fold_ensemble(const RunData& data, const std::string& device, int threads) {
  const std::string path = data.run.ensemble_card();
  const std::string remedy = "run `dermsim evaluate --run " + data.run.root + " --split oof`";
  if (!std::filesystem::exists(path))
    throw UserError(data.run.root + ": no ensemble.json (its folds are not all trained); run `dermsim train --run " +
                    data.run.root + " --resume`");
  const nlohmann::json card = read_json_file(path);
  RunPredictor predictor;
  MadeFrom identities;
  for (int k = 0; k < fold_count(data); ++k)
    predictor.members.push_back(load_member(as_fold(load_run_data(data.run.root), k), k, device,
                                            threads, &identities));
  require_made_from(path, card.value("made_from", nlohmann::json()), identities, remedy);
  const std::string folds = std::to_string(predictor.members.size());
  try {
    predictor.chosen = point_from_json(card, "fold ensemble: mean of " + folds + " folds' P(malignant)");
    if (predictor.needs_metadata() && card.contains("image_only") && !card.at("image_only").is_null())
      predictor.image_only = point_from_json(
          card.at("image_only"), "fold ensemble: mean of " + folds + " folds' image-only P(malignant)");
  } catch (const std::exception& e) {  // nlohmann's exceptions, or a threshold that is not a number
    throw UserError(path + ": malformed ensemble card (" + e.what() + "); " + remedy);
  }
  predictor.card_path = path;
  predictor.image_only_remedy = image_only_possible(predictor.members)
                                    ? remedy
                                    : "train the folds again (`dermsim train --run " + data.run.root + " --folds`)";
  return predictor;
}

}  // namespace

bool RunPredictor::needs_metadata() const {
  for (const auto& m : members)
    if (m.card.metadata) return true;
  return false;
}

RunPredictor load_run_predictor(const RunData& data, const std::string& device, int threads, int fold) {
  if (fold < 0 && has_fold_training(data.run)) return load_fold_ensemble(data, device, threads);
  RunPredictor predictor;
  if (fold >= 0) {
    const RunData fold_data = trained_fold(load_run_data(data.run.root), fold);
    predictor.members.push_back(load_member(fold_data, fold, device, threads, nullptr));
    predictor.card_path = fold_data.run.model_card();
    predictor.image_only_remedy = "train the folds again (`dermsim train --run " + data.run.root + " --folds`)";
  } else {
    LoadedModel model = load_model(data, device, threads);
    ModelCard card = load_model_card(data.run, model.checkpoint_id);
    use_card_precision(model, card);
    predictor.members.push_back({std::move(model), std::move(card)});
    predictor.card_path = data.run.model_card();
    predictor.image_only_remedy = "run `dermsim evaluate --run " + data.run.root + "`";
  }
  const ModelCard& card = predictor.members.front().card;
  const std::string prefix = fold >= 0 ? "fold " + std::to_string(fold) + ": " : "";
  predictor.chosen = point_of(card, prefix);
  if (card.metadata && card.image_only) predictor.image_only = point_of(*card.image_only, prefix);
  return predictor;
}

bool uses_image_only(const RunPredictor& predictor, bool inputs_have_metadata) {
  return !inputs_have_metadata && predictor.needs_metadata();
}

const OperatingPoint& operating_point(const RunPredictor& predictor, bool inputs_have_metadata) {
  if (!uses_image_only(predictor, inputs_have_metadata)) return predictor.chosen;
  if (!predictor.image_only)  // cards written before image-only fallbacks existed
    throw UserError(predictor.card_path + ": the chosen classifier (" + predictor.chosen.description +
                    ") needs each image's age, sex and site: give the images with --csv FILE "
                    "(columns image, sex, age_approx, anatom_site_general) and --images DIR, or " +
                    predictor.image_only_remedy + " to add an image-only fallback");
  return *predictor.image_only;
}

std::vector<EmbedResult> embed_for_members(const RunPredictor& predictor,
                                           const std::vector<const uint8_t*>& pixels, int image_size, int tta) {
  std::vector<EmbedResult> embedded;
  for (const auto& member : predictor.members)
    embedded.push_back(embed_pixels(member.model, pixels, image_size, tta > 0 ? tta : member.card.tta));
  return embedded;
}

std::vector<double> mean_probability(const RunPredictor& predictor, const std::vector<EmbedResult>& embedded,
                                     bool inputs_have_metadata,
                                     const std::vector<const LesionRecord*>* records) {
  std::vector<double> mean;
  for (size_t m = 0; m < predictor.members.size(); ++m) {
    const ModelCard& card = card_for_inputs(predictor.members[m].card, inputs_have_metadata);
    const std::vector<double> p = malignancy_probability(card, embedded[m].embeddings, embedded[m].head_logits,
                                                         inputs_have_metadata ? records : nullptr);
    mean.resize(p.size(), 0.0);
    for (size_t i = 0; i < p.size(); ++i) mean[i] += p[i];
  }
  for (double& x : mean) x /= static_cast<double>(predictor.members.size());
  return mean;
}

std::vector<double> predict_probability(const RunPredictor& predictor, bool inputs_have_metadata,
                                        const std::vector<const uint8_t*>& pixels, int image_size,
                                        int tta, const std::vector<const LesionRecord*>* records) {
  return mean_probability(predictor, embed_for_members(predictor, pixels, image_size, tta),
                          inputs_have_metadata, records);
}

OutOfFold score_out_of_fold(const RunData& data, const std::string& device, int threads) {
  OutOfFold oof;
  PooledScores image_only;
  bool some_card_reads_metadata = false, every_fold_has_image_only = true;
  for (int k = 0; k < fold_count(data); ++k) {
    const RunData fold = as_fold(load_run_data(data.run.root), k);
    const PredictorMember member = load_member(fold, k, device, threads, &oof.members);
    const std::vector<size_t> rows = fold.indices(Part::kVal);
    const EmbedResult e = embed_pixels(member.model, fold.pixels(rows), fold.cache.image_size(), member.card.tta);
    const std::vector<const LesionRecord*> records = records_of(fold, rows);
    const std::vector<double> p = malignancy_probability(member.card, e.embeddings, e.head_logits, &records);
    // The same images as an input without metadata would be scored: through the fold's fallback.
    const ModelCard& fallback = card_for_inputs(member.card, false);
    some_card_reads_metadata |= member.card.metadata.has_value();
    every_fold_has_image_only &= !fallback.metadata;
    const std::vector<double> q = fallback.metadata ? std::vector<double>()
                                                    : malignancy_probability(fallback, e.embeddings, e.head_logits);
    for (size_t j = 0; j < rows.size(); ++j) {
      oof.rows.push_back(rows[j]);
      oof.y.push_back(fold.split[rows[j]].target);
      oof.groups.push_back(fold.split[rows[j]].group);
      oof.fold.push_back(k);
      oof.chosen.scores.push_back(p[j]);
      oof.chosen.fold_thresholds.push_back(member.card.threshold);
      if (q.empty()) continue;
      image_only.scores.push_back(q[j]);
      image_only.fold_thresholds.push_back(fallback.threshold);
    }
  }
  oof.chosen.threshold = youden_threshold(oof.y, oof.chosen.scores);
  if (some_card_reads_metadata && every_fold_has_image_only) {
    image_only.threshold = youden_threshold(oof.y, image_only.scores);
    oof.image_only = std::move(image_only);
  }
  return oof;
}

void write_out_of_fold(const RunData& data, const OutOfFold& oof) {
  std::vector<std::string> names;
  for (size_t i : oof.rows) names.push_back(data.images[i].image_name);
  const std::string scores_path = data.run.scores("oof");
  write_scores_csv(scores_path, names, oof.groups, oof.y, oof.chosen.scores, &oof.fold,
                   oof.image_only ? &oof.image_only->scores : nullptr);
  nlohmann::json made_from = to_json(oof.members);
  made_from["scores-oof.csv"] = identity_of(scores_path);
  nlohmann::json image_only = nullptr;
  if (oof.image_only)
    image_only = {{"combination", "mean of the folds' P(malignant) for inputs without age, sex or site "
                                  "(each fold's image-only fallback)"},
                  {"threshold", oof.image_only->threshold},
                  {"threshold_rule", kPooledRule},
                  {"out_of_fold_auc", roc_auc(oof.y, oof.image_only->scores)}};
  const nlohmann::json card = {{"folds", fold_count(data)},
                               {"combination", "mean of the folds' P(malignant)"},
                               {"threshold", oof.chosen.threshold},
                               {"threshold_rule", kPooledRule},
                               {"out_of_fold_auc", roc_auc(oof.y, oof.chosen.scores)},
                               {"image_only", image_only},
                               {"made_from", made_from}};
  write_json_file(data.run.ensemble_card(), card);
}

namespace {

// Balanced accuracy when image i is called malignant at or above thresholds[i].
double balanced_accuracy_at(const std::vector<int>& y, const std::vector<double>& scores,
                            const std::vector<double>& thresholds) {
  long tp = 0, positives = 0, tn = 0, negatives = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const bool called = scores[i] >= thresholds[i];
    if (y[i] == 1) {
      ++positives;
      tp += called ? 1 : 0;
    } else {
      ++negatives;
      tn += called ? 0 : 1;
    }
  }
  return 0.5 * (double(tp) / std::max(1L, positives) + double(tn) / std::max(1L, negatives));
}

OperatingPoint pooled_point(const PooledScores& pooled, const std::vector<int>& y, const std::string& description) {
  return {pooled.threshold, kPooledRule, description, roc_auc(y, pooled.scores)};
}

// The out-of-fold figures: each fold's card (and fallback) on its own validation images.
void score_oof_split(const RunData& data, const std::string& device, int threads, FoldEvaluation& ev) {
  ev.oof = score_out_of_fold(data, device, threads);
  ev.scores = ev.oof.chosen.scores;
  ev.point = pooled_point(ev.oof.chosen, ev.oof.y, "each image scored by the fold that validated on it");
  ev.balanced_accuracy_at_fold_thresholds =
      balanced_accuracy_at(ev.oof.y, ev.oof.chosen.scores, ev.oof.chosen.fold_thresholds);
  if (ev.oof.image_only) {
    ev.image_only_scores = ev.oof.image_only->scores;
    ev.image_only_point = pooled_point(*ev.oof.image_only, ev.oof.y,
                                       "each image scored by its fold's image-only fallback");
  }
}

// The fold ensemble on the test split, with the images' metadata and, when the folds read it,
// without (every fold through its fallback); each fold embeds the images once for both.
void score_test_split(const RunData& data, const std::string& device, int threads,
                      const std::vector<size_t>& rows, FoldEvaluation& ev) {
  const RunPredictor ensemble = load_fold_ensemble(data, device, threads);
  const std::vector<const LesionRecord*> records = records_of(data, rows);
  const std::vector<EmbedResult> embedded = embed_for_members(ensemble, data.pixels(rows), data.cache.image_size(), 0);
  ev.scores = mean_probability(ensemble, embedded, true, &records);
  ev.point = ensemble.chosen;
  if (uses_image_only(ensemble, false) && ensemble.image_only) {
    ev.image_only_scores = mean_probability(ensemble, embedded, false, nullptr);
    ev.image_only_point = ensemble.image_only;
  }
}

}  // namespace

FoldEvaluation evaluate_folds(const RunData& data, const std::string& split, const std::string& device,
                              int threads, const std::string& strata_csv) {
  if (split != "oof" && split != "test")
    throw UserError("--split " + split + ": a k-fold training has no single " + split +
                    " part; use --split oof (the pooled out-of-fold scores) or --split test");
  const std::optional<Strata> strata =
      strata_csv.empty() ? std::nullopt : std::optional<Strata>(read_strata(strata_csv));
  FoldEvaluation ev;
  ev.split = split;
  std::vector<size_t> rows;
  if (split == "oof") {
    score_oof_split(data, device, threads, ev);
    rows = ev.oof.rows;
  } else {
    rows = data.indices(Part::kTest);
    if (rows.empty()) throw UserError(data.run.split() + ": no test images to score");
    score_test_split(data, device, threads, rows, ev);
  }
  ev.y = data.labels(rows);
  ev.groups = data.groups(rows);
  for (size_t i : rows) ev.image_names.push_back(data.images[i].image_name);
  ev.metrics = compute_binary_metrics(ev.y, ev.scores, ev.point.threshold, &ev.groups);
  if (ev.image_only_point)
    ev.image_only_metrics =
        compute_binary_metrics(ev.y, ev.image_only_scores, ev.image_only_point->threshold, &ev.groups);
  if (strata) {
    ev.strata_column = strata->column();
    ev.strata = auc_within_strata(*strata, ev.image_names, ev.y, ev.scores);
  }
  return ev;
}

void write_fold_evaluation(const RunData& data, const FoldEvaluation& ev) {
  const RunDir& run = data.run;
  if (ev.split == "oof")
    write_out_of_fold(data, ev.oof);
  else
    write_scores_csv(run.scores(ev.split), ev.image_names, ev.groups, ev.y, ev.scores, nullptr,
                     ev.image_only_point ? &ev.image_only_scores : nullptr);
  nlohmann::json image_only = nullptr;  // what `predict` without --csv is measured by
  if (ev.image_only_metrics)
    image_only = {{"classifier", ev.image_only_point->description},
                  {"threshold", ev.image_only_point->threshold},
                  {"threshold_rule", ev.image_only_point->threshold_rule},
                  {"metrics", to_json(*ev.image_only_metrics)}};
  nlohmann::json out = {
      {"split", ev.split},
      {"predictor", ev.split == "oof" ? "each fold's network and model card on its own validation fold"
                                      : "fold ensemble (ensemble.json)"},
      {"threshold", ev.point.threshold},
      {"threshold_rule", ev.point.threshold_rule},
      {"metrics", to_json(ev.metrics)},
      {"image_only", image_only},
      {"strata", to_json(ev.strata)},
      {"made_from", {{"ensemble.json", identity_of(run.ensemble_card())},
                     {"scores-" + ev.split + ".csv", identity_of(run.scores(ev.split))}}}};
  if (ev.split == "oof")
    out["balanced_accuracy_at_fold_thresholds"] = ev.balanced_accuracy_at_fold_thresholds;
  write_json_file(run.metrics(ev.split), out);
}

}  // namespace dermsim
