#!/usr/bin/python3
"""Patient context ("ugly duckling") on a k-fold run's saved embeddings (exploration, not the
product's path).

Each fold's network embeds every image (`dermsim embed --run RUN --fold K --split all --out
PREFIXK`); logistic regression is fitted on the fold's train part with C chosen on its validation
fold, as the product chooses, and the validation folds are pooled: the out-of-fold score of every
non-test image. Variants add, beside the embedding and age, sex and site, how a lesion differs
from the patient's other lesions, computed only from images of that patient (every image of a
patient lies in one part, so at predict time these are the images a test CSV gives together):

  distance   cosine distance to the mean of the patient's other images, its z-score and rank
             within the patient, and a flag for a patient with one image
  offset     the embedding minus the mean of the patient's other images (a vector)
  count      log of the patient's number of images: a shortcut in this sample (first-source
             patients have many images), shown to expose it, never a candidate

Every figure is reported within each image source too (`--strata sources.csv`): a patient feature
that only helps across sources is the shortcut, not the lesion.

Usage: /usr/bin/python3 scripts/patient_context_experiments.py --strata sources.csv --folds K
           RUN PREFIX [RUN PREFIX ...]     (PREFIX: the embed --out without the fold number)
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from embedding_experiments import (bootstrap_difference, fold_run_arguments, load, logistic_chosen_on_val,
                                   metadata_matrix)
from seed_table import auc_and_pauc


def patient_context(x, group):
    """Distance features and offset vectors of each image against its patient's other images."""
    n = len(x)
    distance = np.zeros((n, 4))
    offset = np.zeros_like(x)
    count = np.zeros((n, 1))
    for patient in np.unique(group):
        rows = np.where(group == patient)[0]
        count[rows, 0] = np.log(len(rows))
        if len(rows) == 1:
            distance[rows, 3] = 1
            continue
        others_mean = (x[rows].sum(0, keepdims=True) - x[rows]) / (len(rows) - 1)
        d = 1 - np.sum(x[rows] * others_mean, 1) / np.linalg.norm(others_mean, axis=1)
        offset[rows] = x[rows] - others_mean
        z = (d - d.mean()) / (d.std() + 1e-6)
        rank = (np.argsort(np.argsort(d)) + 0.5) / len(rows)
        distance[rows, :3] = np.stack([d, z, rank], 1)
    return {"distance": distance, "distance_unflagged": distance[:, :3], "offset": offset, "count": count}


def score_context(score, group):
    """A first-stage score against the patient's other images: difference to their mean, rank."""
    out = np.zeros((len(score), 2))
    for patient in np.unique(group):
        rows = np.where(group == patient)[0]
        if len(rows) == 1:
            continue
        others = (score[rows].sum() - score[rows]) / (len(rows) - 1)
        out[rows, 0] = score[rows] - others
        out[rows, 1] = (np.argsort(np.argsort(score[rows])) + 0.5) / len(rows) - 0.5
    return out


def first_stage_scores(features, y, group, train, val):
    """Base logistic decision values: out of fold on train (patients grouped), fitted on train elsewhere.
    Training images get held-out scores so their context looks like that of images never trained on."""
    score = logistic_chosen_on_val(features, y, train, val)
    rows = np.where(train)[0]
    for fit, held in GroupKFold(5).split(rows, groups=group[rows]):
        model = LogisticRegression(C=0.1, max_iter=3000).fit(features[rows[fit]], y[rows[fit]])
        score[rows[held]] = model.decision_function(features[rows[held]])
    return score


VARIANTS = {
    "embedding + age, sex, site": [],
    "+ distance": ["distance"],
    "+ offset": ["offset"],
    "+ distance, no alone flag": ["distance_unflagged"],
    "+ distance + offset": ["distance", "offset"],
    "+ score context": ["score"],
    "+ offset + score context": ["offset", "score"],
    "+ count (shortcut)": ["count"],
}


def out_of_fold(run, prefix, folds, sources):
    """Pooled out-of-fold decision values of every variant, with labels, groups and sources."""
    pooled = {name: {} for name in VARIANTS}
    truth = {}
    groups = {}
    for k in range(folds):
        d = load(run, f"{prefix}{k}")
        names = [m["image_name"] for m in d["meta"]]
        train, val = d["part"] == "train", d["part"] == "val"
        base = np.hstack([d["x"], metadata_matrix(d["meta"], train)])
        context = patient_context(d["x"], d["group"])
        context["score"] = score_context(first_stage_scores(base, d["y"], d["group"], train, val), d["group"])
        for name, blocks in VARIANTS.items():
            features = np.hstack([base] + [context[b] for b in blocks])
            score = logistic_chosen_on_val(features, d["y"], train, val)
            # P(malignant), pooled over the folds as the product pools them.
            for i in np.where(val)[0]:
                pooled[name][names[i]] = 1 / (1 + np.exp(-score[i]))
                truth[names[i]] = (d["y"][i], sources.get(names[i], ""))
                groups[names[i]] = d["group"][i]
    order = sorted(truth)
    y = np.array([truth[n][0] for n in order])
    source = np.array([truth[n][1] for n in order])
    group = np.array([groups[n] for n in order])
    return {name: np.array([pooled[name][n] for n in order]) for name in VARIANTS}, y, source, group


def main():
    args, sources = fold_run_arguments(__doc__.splitlines()[0])
    table = {name: [] for name in VARIANTS}
    mean_scores = {name: 0 for name in VARIANTS}
    for i in range(0, len(args.pairs), 2):
        scores, y, source, group = out_of_fold(args.pairs[i], args.pairs[i + 1], args.folds, sources)
        for name, s in scores.items():
            mean_scores[name] = mean_scores[name] + s / (len(args.pairs) // 2)
            row = list(auc_and_pauc(y, s))
            row += [roc_auc_score(y[source == v], s[source == v]) for v in ("first", "second")]
            table[name].append(row)
    print(f"{'out of fold, mean ± sd over runs':32} {'AUC':>13} {'pAUC':>13} {'first':>13} {'second':>13}")
    for name, rows in table.items():
        r = np.array(rows)
        cells = [f"{m:.3f} ± {s:.3f}" for m, s in zip(r.mean(0), r.std(0, ddof=1) if len(r) > 1 else 0 * r[0])]
        print(f"{name:32} " + " ".join(f"{c:>13}" for c in cells))
    print("\nscore averaged over the runs: AUC difference to the first row, 95 % interval (patients resampled)")
    base = mean_scores[next(iter(VARIANTS))]
    for name, s in list(mean_scores.items())[1:]:
        cells = []
        for label, mask in [("all", np.ones(len(y), bool)), ("first", source == "first"), ("second", source == "second")]:
            diff = roc_auc_score(y[mask], s[mask]) - roc_auc_score(y[mask], base[mask])
            lo, hi = bootstrap_difference(y, group, s, base, mask)
            cells.append(f"{label} {diff:+.3f} ({lo:+.3f} to {hi:+.3f})")
        print(f"{name:32} " + "  ".join(cells))


if __name__ == "__main__":
    main()
