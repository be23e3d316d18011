#include "inference/model_choice.h"

#include <algorithm>
#include <memory>

#include "common/error.h"
#include "common/logistic_math.h"
#include "common/run_dir.h"
#include "metrics/ranking.h"

namespace dermsim {

std::vector<double> candidate_scores(const Candidate& c, const PartEmbeddings& part) {
  if (c.classifier && c.with_metadata)
    return c.classifier->predict_proba(concat_columns(part.x, part.metadata));
  if (c.classifier) return c.classifier->predict_proba(part.x);
  std::vector<double> p;
  for (double logit : part.head_logits) p.push_back(sigmoid(logit));
  return p;
}

void attach_metadata(PartEmbeddings& part, const RunData& data, const MetadataEncoder& encoder) {
  std::vector<const LesionRecord*> records;
  for (size_t i : part.indices) records.push_back(&data.images[i]);
  part.metadata = encoder.encode_all(records);
}

namespace {

// The validation ROC without its +infinity first point (one entry per distinct score), and what
// the chosen threshold catches on validation.
ValidationCurve validation_curve(const std::vector<int>& y, const std::vector<double>& scores,
                                 double threshold) {
  const RocCurve roc = roc_curve(y, scores);
  ValidationCurve curve;
  curve.thresholds.assign(roc.thresholds.begin() + 1, roc.thresholds.end());
  curve.tpr.assign(roc.tpr.begin() + 1, roc.tpr.end());
  curve.fpr.assign(roc.fpr.begin() + 1, roc.fpr.end());
  long caught = 0, false_alarms = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    (y[i] == 1 ? curve.positives : curve.negatives) += 1;
    if (scores[i] >= threshold) (y[i] == 1 ? caught : false_alarms) += 1;
  }
  curve.sensitivity = curve.positives > 0 ? double(caught) / curve.positives : 0.0;
  curve.specificity = curve.negatives > 0 ? 1.0 - double(false_alarms) / curve.negatives : 0.0;
  return curve;
}

double auc_of(const std::vector<int>& y, const std::vector<double>& s) { return roc_auc(y, s); }

std::vector<Candidate> fit_all(const PartEmbeddings& train, const PartEmbeddings& val, bool with_head) {
  std::vector<Candidate> candidates = fit_candidates(train.x, train.y, val.x, val.y, auc_of);
  if (with_head) {
    Candidate head{"joint BCE head", nullptr, 0};
    head.validation_score = roc_auc(val.y, candidate_scores(head, val));
    candidates.push_back(std::move(head));
  }
  if (train.metadata.dim > 0) {
    for (Candidate& c : fit_logistic_candidates(concat_columns(train.x, train.metadata), train.y,
                                                concat_columns(val.x, val.metadata), val.y, auc_of,
                                                " + age, sex, site")) {
      c.with_metadata = true;
      candidates.push_back(std::move(c));
    }
  }
  sort_candidates(candidates);
  return candidates;
}

// The card of one candidate (all but its classifier): its threshold and validation curve.
ModelCard card_of(const Candidate& candidate, const PartEmbeddings& val, const LoadedModel& model,
                  const ChoiceOptions& o, std::vector<double>* val_scores) {
  *val_scores = candidate_scores(candidate, val);
  ModelCard card;
  const bool by_sensitivity = o.target_sensitivity > 0;
  card.threshold = by_sensitivity ? threshold_for_sensitivity(val.y, *val_scores, o.target_sensitivity)
                                  : youden_threshold(val.y, *val_scores);
  card.threshold_rule = by_sensitivity
                            ? "sensitivity >= " + std::to_string(o.target_sensitivity) + " on val"
                            : "Youden's J on val";
  card.validation = validation_curve(val.y, *val_scores, card.threshold);
  card.description = candidate.description;
  card.validation_auc = candidate.validation_score;
  card.tta = o.tta;
  card.precision = precision_name(model.precision);
  card.checkpoint_id = model.checkpoint_id;
  return card;
}

}  // namespace

ModelChoice choose_on_validation(const RunData& data, const LoadedModel& model, const ChoiceOptions& o) {
  if (data.indices(Part::kVal).empty())
    throw UserError(data.run.split() + ": the validation split is empty; prepare with --val > 0");
  ModelChoice choice;
  choice.train = embed_part(model, data, Part::kTrain, o.tta, o.show_progress);
  choice.val = embed_part(model, data, Part::kVal, o.tta, o.show_progress);
  std::vector<const LesionRecord*> train_records;
  for (size_t i : choice.train.indices) train_records.push_back(&data.images[i]);
  if (o.metadata && records_have_metadata(train_records)) {
    choice.encoder = MetadataEncoder::fit(train_records);
    attach_metadata(choice.train, data, *choice.encoder);
    attach_metadata(choice.val, data, *choice.encoder);
  }
  choice.candidates = fit_all(choice.train, choice.val, o.with_head && model.has_head());
  const Candidate& chosen = choice.candidates.front();
  choice.card = card_of(chosen, choice.val, model, o, &choice.val_scores);
  if (chosen.with_metadata) {
    choice.card.metadata = choice.encoder;
    // Candidates are sorted, so the first one without metadata is the best image-only one.
    for (size_t i = 1; i < choice.candidates.size() && !choice.image_only; ++i)
      if (!choice.candidates[i].with_metadata) choice.image_only = i;
    std::vector<double> image_only_scores;
    choice.card.image_only = std::make_shared<ModelCard>(
        card_of(choice.candidates[*choice.image_only], choice.val, model, o, &image_only_scores));
  }
  return choice;
}

ModelCard take_card(ModelChoice& choice) {
  ModelCard card = std::move(choice.card);
  card.classifier = std::move(choice.candidates.front().classifier);
  if (card.image_only) card.image_only->classifier = std::move(choice.candidates[*choice.image_only].classifier);
  return card;
}

}  // namespace dermsim
