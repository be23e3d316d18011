// fit_candidates: every classifier family over a small fixed grid, scored on validation.
#include "classify/model_selection.h"

#include <algorithm>
#include <cmath>

#include "classify/knn.h"
#include "classify/logistic.h"
#include "classify/prototype.h"

namespace dermsim {
namespace {

constexpr double kLogisticCs[] = {0.01, 0.1, 1.0, 10.0};
constexpr int kKnnKs[] = {41, 21, 11, 5, 3, 1};

std::string format_c(double c) {
  std::string s = std::to_string(c);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

Candidate fit_and_score(std::string description, std::unique_ptr<EmbeddingClassifier> classifier,
                        const Embeddings& train_x, const std::vector<int>& train_y,
                        const Embeddings& val_x, const std::vector<int>& val_y,
                        const ScoreFunction& score_fn) {
  classifier->fit(train_x, train_y);
  const double score = score_fn(val_y, classifier->predict_proba(val_x));
  return Candidate{std::move(description), std::move(classifier), score};
}

}  // namespace

void sort_candidates(std::vector<Candidate>& candidates) {
  // NaN compares false both ways: rank it below every number so it never wins.
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) {
                     if (std::isnan(a.validation_score)) return false;
                     if (std::isnan(b.validation_score)) return true;
                     return a.validation_score > b.validation_score;
                   });
}

std::vector<Candidate> fit_logistic_candidates(const Embeddings& train_x, const std::vector<int>& train_y,
                                               const Embeddings& val_x, const std::vector<int>& val_y,
                                               const ScoreFunction& score_fn, const std::string& suffix) {
  check_labels(train_x, train_y, "fit_logistic_candidates (train)");
  check_labels(val_x, val_y, "fit_logistic_candidates (validation)");
  std::vector<Candidate> candidates;
  for (double c : kLogisticCs)
    candidates.push_back(fit_and_score("logistic C=" + format_c(c) + suffix,
                                       std::make_unique<LogisticRegression>(c), train_x, train_y,
                                       val_x, val_y, score_fn));
  return candidates;
}

std::vector<Candidate> fit_candidates(const Embeddings& train_x, const std::vector<int>& train_y,
                                      const Embeddings& val_x, const std::vector<int>& val_y,
                                      const ScoreFunction& score_fn) {
  check_labels(train_x, train_y, "fit_candidates (train)");
  check_labels(val_x, val_y, "fit_candidates (validation)");
  std::vector<Candidate> candidates;
  auto add = [&](std::string description, std::unique_ptr<EmbeddingClassifier> classifier) {
    candidates.push_back(fit_and_score(std::move(description), std::move(classifier), train_x,
                                       train_y, val_x, val_y, score_fn));
  };
  add("prototypes, fitted temperature", std::make_unique<PrototypeClassifier>());
  for (Candidate& c : fit_logistic_candidates(train_x, train_y, val_x, val_y, score_fn, ""))
    candidates.push_back(std::move(c));
  for (int k : kKnnKs) {
    if (static_cast<size_t>(k) > train_x.size()) continue;
    add("knn k=" + std::to_string(k) + " distance-weighted",
        std::make_unique<KnnClassifier>(k, true));
  }
  sort_candidates(candidates);
  return candidates;
}

}  // namespace dermsim
