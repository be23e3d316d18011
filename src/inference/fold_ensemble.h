// What a k-fold training (inference/fold_training.h) gives: the out-of-fold estimate (each fold's
// validation images scored by that fold's own network and model card, pooled: every non-test
// image once, by the one model that did not train on it) and the fold ensemble (the mean of the K
// folds' P(malignant), read at a threshold chosen on the pooled out-of-fold scores). A plain run
// predicts through the same RunPredictor, as an ensemble of one.
//
// Cards that read age, sex and site keep an image-only fallback (ModelCard::image_only): inputs
// without metadata are scored through each member's fallback (card_for_inputs) and decided at the
// threshold chosen for that case, so a run has two operating points when its cards use metadata.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "classify/model_card.h"
#include "common/provenance.h"
#include "inference/evaluation.h"
#include "inference/run_model.h"

namespace dermsim {

struct PredictorMember {
  LoadedModel model;
  ModelCard card;
};

// The threshold a predictor decides at for one kind of input, and what it is.
struct OperatingPoint {
  double threshold = 0.5;
  std::string threshold_rule;
  std::string description;    // what predicts, for the user
  double validation_auc = 0;  // a card's on val; the fold ensemble's on the pooled out-of-fold scores
};

struct RunPredictor {
  std::vector<PredictorMember> members;  // their mean P(malignant) is the prediction
  OperatingPoint chosen;  // inputs with age, sex and site (every input when no card reads them)
  // Inputs without them, when a card reads them: every member through its fallback. Unset when a
  // card has none (then such inputs are refused, naming `card_path` and `image_only_remedy`).
  std::optional<OperatingPoint> image_only;
  std::string card_path;          // model.json, or ensemble.json of a k-fold training
  std::string image_only_remedy;  // the command that gives such a run its image-only fallback

  bool needs_metadata() const;  // some member's card reads age, sex and site
};

// fold < 0: the run's prediction (its network and model.json; for a k-fold training the K folds
// and RUN/ensemble.json, refused when missing or stale). fold k: that fold's network and card.
RunPredictor load_run_predictor(const RunData& data, const std::string& device, int threads, int fold = -1);

// Whether inputs (not) carrying age, sex and site are scored through the image-only fallbacks.
bool uses_image_only(const RunPredictor& predictor, bool inputs_have_metadata);

// The operating point for inputs (not) carrying age, sex and site; UserError when they carry none
// and a card needs them without a fallback.
const OperatingPoint& operating_point(const RunPredictor& predictor, bool inputs_have_metadata);

// Each member's embeddings of fitted images (image_size squares, as in the cache); tta 0: each
// member's own.
std::vector<EmbedResult> embed_for_members(const RunPredictor& predictor,
                                           const std::vector<const uint8_t*>& pixels, int image_size, int tta);

// The members' mean P(malignant) from their embeddings, each member through
// card_for_inputs(card, inputs_have_metadata); `records` (one per image) give age, sex and site to
// the cards that read them (only used when inputs_have_metadata).
std::vector<double> mean_probability(const RunPredictor& predictor, const std::vector<EmbedResult>& embedded,
                                     bool inputs_have_metadata,
                                     const std::vector<const LesionRecord*>* records);

// embed_for_members, then mean_probability.
std::vector<double> predict_probability(const RunPredictor& predictor, bool inputs_have_metadata,
                                        const std::vector<const uint8_t*>& pixels, int image_size,
                                        int tta, const std::vector<const LesionRecord*>* records);

// One way of scoring the out-of-fold images, pooled over the folds.
struct PooledScores {
  std::vector<double> scores;           // by the fold that validated on the image
  std::vector<double> fold_thresholds;  // that fold's own threshold (its card's, or its fallback's)
  double threshold = 0.5;               // Youden's J on the pooled scores: the ensemble's
};

struct OutOfFold {
  std::vector<size_t> rows;  // rows of the run: every non-test image once
  std::vector<int> y, fold;
  std::vector<std::string> groups;
  PooledScores chosen;  // each fold's card, with its images' age, sex and site
  // Each fold's image-only fallback (its card itself where it reads no metadata): set when some
  // card reads metadata and every such card has a fallback.
  std::optional<PooledScores> image_only;
  MadeFrom members;  // "folds/K/checkpoint-best.pt", "folds/K/model.json" -> identity
};

// Scores every fold's validation images with that fold's network and card (UserError when a fold
// is not trained or stale).
OutOfFold score_out_of_fold(const RunData& data, const std::string& device, int threads);

// RUN/scores-oof.csv (image_name,group,target,score,fold[,image_only_score]) and RUN/ensemble.json
// (the threshold, the image-only threshold when there is one, the identities of every fold's
// checkpoint and card). Hold the run's lock.
void write_out_of_fold(const RunData& data, const OutOfFold& oof);

// `evaluate` on a k-fold training: split "oof" (the pooled out-of-fold scores; rewrites
// scores-oof.csv and ensemble.json) or "test" (the fold ensemble, scored once).
struct FoldEvaluation {
  std::string split;
  std::vector<std::string> image_names, groups;
  std::vector<int> y;
  std::vector<double> scores;
  OperatingPoint point;  // what scored and decided (threshold, rule, description)
  BinaryMetrics metrics;
  // oof only: each image decided at its own fold's threshold (chosen on those same images, so
  // optimistic; the test split is decided at the pooled threshold, chosen without it).
  double balanced_accuracy_at_fold_thresholds = 0;
  std::string strata_column;
  std::vector<StratumAuc> strata;
  // The same images without their metadata (every fold through its image-only fallback), when
  // the folds have one: what `predict` without --csv is measured by.
  std::optional<OperatingPoint> image_only_point;
  std::optional<BinaryMetrics> image_only_metrics;
  std::vector<double> image_only_scores;
  OutOfFold oof;  // split "oof": the scores and identities write_fold_evaluation saves
};

FoldEvaluation evaluate_folds(const RunData& data, const std::string& split, const std::string& device,
                              int threads, const std::string& strata_csv);

// For "oof" write_out_of_fold; then metrics-SPLIT.json (and scores-test.csv), made from
// ensemble.json. Hold the run's lock.
void write_fold_evaluation(const RunData& data, const FoldEvaluation& evaluation);

}  // namespace dermsim
