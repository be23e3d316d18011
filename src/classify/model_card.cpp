#include "classify/model_card.h"

#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "common/error.h"
#include "common/logistic_math.h"
#include "common/provenance.h"

namespace dermsim {

nlohmann::json to_json(const ValidationCurve& curve) {
  return {{"threshold", curve.thresholds}, {"tpr", curve.tpr}, {"fpr", curve.fpr},
          {"positives", curve.positives}, {"negatives", curve.negatives}};
}

nlohmann::json to_json(const ModelCard& card) {
  nlohmann::json j = {{"classifier", card.classifier ? card.classifier->to_json() : nlohmann::json{{"type", "head"}}},
          {"classifier_description", card.description},
          {"threshold", card.threshold},
          {"threshold_rule", card.threshold_rule},
          {"validation_auc", card.validation_auc},
          {"tta", card.tta},
          {"checkpoint", "best"},
          {"validation_roc", to_json(card.validation)},
          {"validation_at_threshold", {{"sensitivity", card.validation.sensitivity},
                                       {"specificity", card.validation.specificity}}},
          {"made_from", {{"checkpoint-best.pt", card.checkpoint_id}}}};
  if (!card.precision.empty()) j["precision"] = card.precision;
  if (card.metadata) j["metadata"] = card.metadata->to_json();
  if (card.image_only) {
    nlohmann::json fallback = to_json(*card.image_only);
    fallback.erase("made_from");
    fallback.erase("checkpoint");
    fallback.erase("precision");  // the card's: one network, one precision
    j["image_only"] = fallback;
  }
  return j;
}

const ModelCard& card_for_inputs(const ModelCard& card, bool inputs_have_metadata) {
  return card.metadata && !inputs_have_metadata && card.image_only ? *card.image_only : card;
}

namespace {

void read_validation_curve(const nlohmann::json& j, ValidationCurve& curve) {
  const auto& roc = j.at("validation_roc");
  curve.thresholds = roc.at("threshold").get<std::vector<double>>();
  curve.tpr = roc.at("tpr").get<std::vector<double>>();
  curve.fpr = roc.at("fpr").get<std::vector<double>>();
  curve.positives = roc.at("positives");
  curve.negatives = roc.at("negatives");
  curve.sensitivity = j.at("validation_at_threshold").at("sensitivity");
  curve.specificity = j.at("validation_at_threshold").at("specificity");
}

// One card's fields (the top-level card, or with `fallback` its image_only fallback, which has none
// of its own); `path` and `remedy` for messages.
ModelCard card_from_json(const nlohmann::json& j, const std::string& path, const std::string& remedy,
                         bool fallback = false) {
  ModelCard card;
  try {
    if (j.at("classifier").at("type").get<std::string>() != "head")
      card.classifier = classifier_from_json(j.at("classifier"));
  } catch (const UserError& e) {
    throw UserError(path + ": " + e.what() + "; " + remedy);
  } catch (const nlohmann::json::exception& e) {
    throw UserError(path + ": malformed model card (" + e.what() + "); " + remedy);
  }
  try {
    card.description = j.at("classifier_description");
    card.threshold = j.at("threshold");
    card.threshold_rule = j.at("threshold_rule");
    card.validation_auc = j.value("validation_auc", 0.0);
    card.tta = j.value("tta", 1);
    card.precision = j.value("precision", "");
    if (j.contains("metadata")) card.metadata = MetadataEncoder::from_json(j.at("metadata"), path);
    if (j.contains("validation_roc")) read_validation_curve(j, card.validation);
    if (j.contains("image_only") && fallback)
      throw UserError(path + ": malformed model card (image_only inside image_only); " + remedy);
    if (j.contains("image_only"))
      card.image_only = std::make_shared<ModelCard>(card_from_json(j.at("image_only"), path, remedy, true));
  } catch (const nlohmann::json::exception& e) {
    throw UserError(path + ": malformed model card (" + e.what() + "); " + remedy);
  }
  const ValidationCurve& v = card.validation;
  if (v.tpr.size() != v.thresholds.size() || v.fpr.size() != v.thresholds.size())
    throw UserError(path + ": malformed model card (validation_roc arrays of different lengths); " + remedy);
  if (!std::isfinite(card.threshold) || card.tta < 1 || card.tta > 8)
    throw UserError(path + ": malformed model card (threshold or tta out of range); " + remedy);
  if (!card.precision.empty() && card.precision != "fp32" && card.precision != "bf16")
    throw UserError(path + ": malformed model card (precision '" + card.precision.substr(0, 16) +
                    "', expected fp32 or bf16); " + remedy);
  if (card.image_only && (card.image_only->metadata || card.image_only->tta != card.tta))
    throw UserError(path + ": malformed model card (image_only must read the embedding alone, at the "
                    "card's tta); " + remedy);
  return card;
}

}  // namespace

ModelCard load_model_card(const RunDir& run, const std::string& checkpoint_id) {
  const std::string path = run.model_card();
  const std::string remedy = "run `dermsim evaluate --run " + run.root + "`";
  if (!std::filesystem::exists(path))
    throw UserError(run.root + ": no model.json (no classifier chosen yet); " + remedy + " first");
  const nlohmann::json j = read_json_file(path);
  require_made_from(path, j.is_object() ? j.value("made_from", nlohmann::json()) : nlohmann::json(),
                    {{"checkpoint-best.pt", checkpoint_id}}, remedy);
  ModelCard card = card_from_json(j, path, remedy);
  card.checkpoint_id = checkpoint_id;
  if (card.image_only) {
    card.image_only->checkpoint_id = checkpoint_id;
    card.image_only->precision = card.precision;
  }
  return card;
}

std::vector<double> malignancy_probability(const ModelCard& card, const Embeddings& embeddings,
                                           const std::vector<double>& head_logits,
                                           const std::vector<const LesionRecord*>* records) {
  if (card.metadata && !records)
    throw UserError("model.json: the chosen classifier (" + card.description +
                    ") needs each image's age, sex and site: give them with --csv (columns "
                    "sex, age_approx, anatom_site_general)");
  if (card.classifier) {
    try {
      if (card.metadata)
        return card.classifier->predict_proba(
            concat_columns(embeddings, card.metadata->encode_all(*records)));
      return card.classifier->predict_proba(embeddings);
    } catch (const std::invalid_argument& e) {  // an edited card whose sizes do not fit the network
      throw UserError(std::string("model.json: the classifier does not fit this network: ") + e.what());
    }
  }
  std::vector<double> p;
  for (double logit : head_logits) p.push_back(sigmoid(logit));
  return p;
}

void write_model_card(const RunDir& run, const ModelCard& card) {
  write_json_file(run.model_card(), to_json(card));
}

}  // namespace dermsim
