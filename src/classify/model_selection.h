// Hyper-parameter choice on validation: fits every candidate classifier on train, scores it on
// validation with a caller-supplied metric (the metrics stage owns the metric), sorts best first.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "classify/classifier.h"

namespace dermsim {

struct Candidate {
  std::string description;  // e.g. "knn k=11 distance-weighted", "logistic C=0.1"
  std::unique_ptr<EmbeddingClassifier> classifier;
  double validation_score;  // score_fn(val_y, proba on val_x); higher is better
  bool with_metadata = false;  // fitted on [embedding | age, sex, site] (metadata_features.h)
};

// (labels, probability of malignant) -> score, higher better (e.g. ROC AUC).
using ScoreFunction = std::function<double(const std::vector<int>&, const std::vector<double>&)>;

// Candidates, listed simplest first: prototypes (fitted temperature); logistic for
// C in {0.01, 0.1, 1, 10}; distance-weighted kNN for k in {41, 21, 11, 5, 3, 1} (k > train size
// skipped). Returned sorted by validation_score, best first; ties (and NaN scores, put last) keep
// that listing order, so a tie goes to the smoother / more regularised model.
std::vector<Candidate> fit_candidates(const Embeddings& train_x, const std::vector<int>& train_y,
                                      const Embeddings& val_x, const std::vector<int>& val_y,
                                      const ScoreFunction& score_fn);

// Logistic regression alone over the same C grid, descriptions ending in `suffix` (for inputs other
// than the embedding alone, e.g. the embedding joined with metadata columns). Unsorted.
std::vector<Candidate> fit_logistic_candidates(const Embeddings& train_x, const std::vector<int>& train_y,
                                               const Embeddings& val_x, const std::vector<int>& val_y,
                                               const ScoreFunction& score_fn, const std::string& suffix);

// Best validation score first, NaN last, ties keeping their order (fit_candidates' rule).
void sort_candidates(std::vector<Candidate>& candidates);

}  // namespace dermsim
