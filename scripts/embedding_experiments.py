#!/usr/bin/python3
"""Experiments on a trained run's saved embeddings (exploration, not the product's path).

For each run: how much age, sex and site add to the embedding (logistic regression on train, C
chosen on validation, as the product chooses), on validation, on test, and pooled over every image
the network did not train on (validation and test) with a patient-bootstrap interval of the
difference; how well age, sex and site alone separate each split; and stacking kNN with logistic.

Usage (embeddings from `dermsim embed --run RUN --split all --out PREFIX`):
  /usr/bin/python3 scripts/embedding_experiments.py RUN PREFIX [RUN PREFIX ...]
"""
import argparse
import csv
import sys

import numpy as np
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict
from sklearn.neighbors import KNeighborsClassifier

LOGISTIC_CS = [0.01, 0.1, 1, 10]  # the product's grid (src/classify/model_selection.cpp)


def load(run, prefix):
    x = np.load(prefix + ".npy").astype(np.float64)
    rows = list(csv.DictReader(open(prefix + ".csv")))
    records = {r["image_name"]: r for r in csv.DictReader(open(run + "/images.csv"))}
    names = [r["image_name"] for r in rows]
    part = np.array([r["part"] for r in rows])
    return dict(x=x, y=np.array([int(r["target"]) for r in rows]), part=part,
                group=np.array([r["group"] for r in rows]), meta=[records[n] for n in names])


def metadata_matrix(meta, train):
    """Age standardised on train (0 and a flag when missing), sex and site one-hot."""
    ages = np.array([float(m["age_approx"]) if m["age_approx"] else np.nan for m in meta])
    mean, sd = np.nanmean(ages[train]), np.nanstd(ages[train])
    sex = np.array([m["sex"] for m in meta])
    site = np.array([m["site"] for m in meta])
    cols = [np.where(np.isnan(ages), 0, (ages - mean) / sd), np.isnan(ages).astype(float),
            (sex == "male").astype(float), (sex == "female").astype(float)]
    cols += [(site == s).astype(float) for s in sorted(set(site[train]) - {""})]
    return np.stack(cols, 1)


def fold_run_arguments(description):
    """The k-fold scripts' arguments: --strata, --folds and RUN PREFIX pairs; returns them with the
    source of each image (the strata CSV's `source` column)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--strata", required=True)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("pairs", nargs="+")
    args = parser.parse_args()
    return args, {r["image_name"]: r["source"] for r in csv.DictReader(open(args.strata))}


def auc(y, score, mask):
    return roc_auc_score(y[mask], score[mask])


def logistic_chosen_on_val(features, y, train, val):
    """Decision function of the logistic whose C has the best validation AUC."""
    fits = [LogisticRegression(C=c, max_iter=3000).fit(features[train], y[train]).decision_function(features)
            for c in LOGISTIC_CS]
    return max(fits, key=lambda s: auc(y, s, val))


def bootstrap_difference(y, group, a, b, mask, rounds=1000, seed=1):
    """95 % interval of AUC(a) - AUC(b) over images in `mask`, patients resampled."""
    rng = np.random.default_rng(seed)
    patients = np.unique(group[mask])
    rows = {p: np.where(mask & (group == p))[0] for p in patients}
    diffs = []
    for _ in range(rounds):
        idx = np.concatenate([rows[p] for p in rng.choice(patients, len(patients))])
        if len(set(y[idx])) == 2:
            diffs.append(roc_auc_score(y[idx], a[idx]) - roc_auc_score(y[idx], b[idx]))
    return np.percentile(diffs, [2.5, 97.5])


def report(run, prefix):
    d = load(run, prefix)
    x, y, part = d["x"], d["y"], d["part"]
    train, val, test = part == "train", part == "val", part == "test"
    unseen = val | test
    meta = metadata_matrix(d["meta"], train)
    image = logistic_chosen_on_val(x, y, train, val)
    fused = logistic_chosen_on_val(np.hstack([x, meta]), y, train, val)
    meta_only = LogisticRegression(C=1, max_iter=3000).fit(meta[train], y[train]).decision_function(meta)
    meta_cv = cross_val_predict(LogisticRegression(C=1, max_iter=3000), meta[train], y[train], cv=5,
                                method="decision_function")
    lo, hi = bootstrap_difference(y, d["group"], fused, image, unseen)
    print(f"== {run}")
    for name, mask in [("val", val), ("test", test), ("val+test", unseen)]:
        print(f"  {name:9} embedding {auc(y, image, mask):.3f}  + age, sex, site {auc(y, fused, mask):.3f}  "
              f"age, sex, site alone {auc(y, meta_only, mask):.3f}")
    print(f"  val+test difference {auc(y, fused, unseen) - auc(y, image, unseen):+.3f} "
          f"(95 % {lo:+.3f} to {hi:+.3f}); age, sex, site alone on train (5-fold) {roc_auc_score(y[train], meta_cv):.3f}")
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    for k in [21, 41]:
        knn = KNeighborsClassifier(k, weights="distance").fit(unit[train], y[train]).predict_proba(unit)[:, 1]
        stacks = {"ranks": rankdata(knn) + rankdata(fused),
                  "probabilities": knn + 1 / (1 + np.exp(-fused))}
        for name, score in stacks.items():
            print(f"  stack kNN k={k} + logistic (+ age, sex, site), mean of {name}: "
                  f"val {auc(y, score, val):.3f} test {auc(y, score, test):.3f}")


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit(__doc__)
    for i in range(0, len(args), 2):
        report(args[i], args[i + 1])
