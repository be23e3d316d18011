#!/usr/bin/python3
"""Where the classifier on the embeddings is fitted, on a k-fold run's saved embeddings
(exploration, not the product's path).

The product fits its classifiers on the train part's embeddings: images the network trained on,
whose embeddings may be better separated than those of any image it did not see, so a classifier
fitted there might over-trust the embedding and under-weight age, sex and site. Each fold's
validation part is the only data its network never saw. (Measured: it does not pay; the held-out
variants lose 0.03-0.045 out of fold, see docs/isic-levers.md.) Variants, each scored out of fold (pooled over the
folds' validation parts, as `evaluate --split oof`):

  product            logistic on [embedding | age, sex, site] fitted on train, C chosen on val
  held-out stack     first stage: logistic on the embedding fitted on train (C chosen on val);
                     second stage: logistic on [first-stage logit | age, sex, site] fitted on the
                     validation part, cross-fitted by patient (each image scored by a second stage
                     that never saw its patient), C chosen by inner patient-grouped folds
  held-out only      logistic on [embedding | age, sex, site] fitted on the validation part alone,
                     cross-fitted and C chosen the same way

Every figure is reported within each image source too (`--strata sources.csv`).

Usage: /usr/bin/python3 scripts/classifier_fit_experiments.py --strata sources.csv --folds K
           RUN PREFIX [RUN PREFIX ...]     (PREFIX: the embed --fold K --split all --out, less K)
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from embedding_experiments import (LOGISTIC_CS, bootstrap_difference, fold_run_arguments, load,
                                   logistic_chosen_on_val, metadata_matrix)
from seed_table import auc_and_pauc

INNER_FOLDS = 5


def chosen_c(features, y, group):
    """The C of the grid with the best pooled AUC over patient-grouped inner folds."""
    best, best_auc = LOGISTIC_CS[0], -1
    for c in LOGISTIC_CS:
        score = np.zeros(len(y))
        for fit, held in GroupKFold(INNER_FOLDS).split(features, groups=group):
            score[held] = LogisticRegression(C=c, max_iter=3000).fit(features[fit], y[fit]).decision_function(features[held])
        if roc_auc_score(y, score) > best_auc:
            best, best_auc = c, roc_auc_score(y, score)
    return best


def cross_fitted(features, y, group):
    """Each row's decision value from a logistic fitted on the other patients (C chosen within)."""
    score = np.zeros(len(y))
    for fit, held in GroupKFold(INNER_FOLDS).split(features, groups=group):
        c = chosen_c(features[fit], y[fit], group[fit])
        score[held] = LogisticRegression(C=c, max_iter=3000).fit(features[fit], y[fit]).decision_function(features[held])
    return score


def fold_variants(d):
    """Decision values on the fold's validation part for every variant."""
    train, val = d["part"] == "train", d["part"] == "val"
    meta = metadata_matrix(d["meta"], train)
    product = logistic_chosen_on_val(np.hstack([d["x"], meta]), d["y"], train, val)[val]
    image = logistic_chosen_on_val(d["x"], d["y"], train, val)
    yv, gv = d["y"][val], d["group"][val]
    stack = cross_fitted(np.hstack([image[val, None], meta[val]]), yv, gv)
    held_only = cross_fitted(np.hstack([d["x"][val], meta[val]]), yv, gv)
    train_auc = roc_auc_score(d["y"][train], image[train])
    return {"product": product, "held-out stack": stack, "held-out only": held_only}, train_auc


def out_of_fold(run, prefix, folds, sources):
    pooled, truth, groups = {}, {}, {}
    for k in range(folds):
        d = load(run, f"{prefix}{k}")
        val = d["part"] == "val"
        names = np.array([m["image_name"] for m in d["meta"]])[val]
        variants, train_auc = fold_variants(d)
        print(f"  fold {k}: image-only logistic AUC on its own train part {train_auc:.3f}, "
              f"on validation {roc_auc_score(d['y'][val], variants['product']):.3f} (with metadata)")
        for name, score in variants.items():
            pooled.setdefault(name, {}).update(zip(names, score))
        truth.update({n: (y, sources.get(n, "")) for n, y in zip(names, d["y"][val])})
        groups.update(zip(names, d["group"][val]))
    order = sorted(truth)
    y = np.array([truth[n][0] for n in order])
    source = np.array([truth[n][1] for n in order])
    group = np.array([groups[n] for n in order])
    return {name: np.array([s[n] for n in order]) for name, s in pooled.items()}, y, source, group


def main():
    args, sources = fold_run_arguments(__doc__.splitlines()[0])
    for i in range(0, len(args.pairs), 2):
        print(args.pairs[i])
        scores, y, source, group = out_of_fold(args.pairs[i], args.pairs[i + 1], args.folds, sources)
        print(f"  {'out of fold':16} {'AUC':>6} {'pAUC':>6} {'first':>6} {'second':>6}")
        for name, s in scores.items():
            # Decision values are pooled over folds as they are, as the product pools P(malignant)
            # (a monotone map of them); the cross-fitted variants also pool their inner models'
            # scales, part of what fitting on few images costs.
            auc, pauc = auc_and_pauc(y, s)
            within = [roc_auc_score(y[source == v], s[source == v]) for v in ("first", "second")]
            print(f"  {name:16} {auc:6.3f} {pauc:6.3f} {within[0]:6.3f} {within[1]:6.3f}")
        print("  difference to the product, 95 % interval (patients resampled)")
        for name, s in list(scores.items())[1:]:
            cells = []
            for label, mask in [("all", np.ones(len(y), bool)), ("first", source == "first"),
                                ("second", source == "second")]:
                diff = roc_auc_score(y[mask], s[mask]) - roc_auc_score(y[mask], scores["product"][mask])
                lo, hi = bootstrap_difference(y, group, s, scores["product"], mask)
                cells.append(f"{label} {diff:+.3f} ({lo:+.3f} to {hi:+.3f})")
            print(f"  {name:16} " + "  ".join(cells))


if __name__ == "__main__":
    main()
