#!/usr/bin/env python3
"""Summarises evaluated runs of one configuration over training seeds: each figure of
metrics-SPLIT.json as mean +- sd (min-max). Reads only the runs' own files.
A k-fold run (`train --folds`) gives --split oof (every non-test image scored by the fold that did
not train on it) or --split test (the fold ensemble); its options are read from fold 0.
With several runs it also scores each image by the mean of the runs' scores (an ensemble over
seeds), overall and within each stratum of --strata FILE (image_name,source), with scikit-learn.
Usage: python3 scripts/seed_table.py [--split test|oof] [--strata FILE] RUN [RUN...]"""
import csv
import glob
import json
import os
import statistics
import sys


def is_folds_run(run):
    return os.path.isdir(f"{run}/folds")


def train_options(run):
    return json.load(open(f"{run}/folds/0/train.json" if is_folds_run(run) else f"{run}/train.json"))


def validation_auc(run, m):
    if not is_folds_run(run):
        return m["chosen"]["validation_auc"]
    # Each fold chose its classifier on its own validation fold: their mean.
    cards = sorted(glob.glob(f"{run}/folds/*/model.json"))
    return statistics.mean(json.load(open(c))["validation_auc"] for c in cards)


def figures(run, split):
    m = json.load(open(f"{run}/metrics-{split}.json"))
    name = "out-of-fold" if split == "oof" else split
    metrics = m["metrics"]
    f = {
        "val AUC (chosen classifier" + ("s, mean of folds)" if is_folds_run(run) else ")"):
            validation_auc(run, m),
        f"{name} AUC": metrics["auc"],
        f"{name} AUC 95% CI lower": metrics.get("auc_ci", {}).get("lower"),
        f"{name} AUC 95% CI upper": metrics.get("auc_ci", {}).get("upper"),
        f"{name} pAUC@80%TPR": metrics["pauc"],
        "balanced accuracy": metrics["balanced_accuracy"],
        "sensitivity": metrics["sensitivity"],
        "specificity": metrics["specificity"],
    }
    for s in m.get("strata") or []:
        if s["auc"] is not None:
            f[f"AUC within {s['stratum']}"] = s["auc"]
    fallback = m.get("image_only")  # the image-only classifier of a card that reads metadata
    if fallback:
        f[f"image-only fallback: {name} AUC"] = fallback["metrics"]["auc"]
        f["image-only fallback: balanced accuracy"] = fallback["metrics"]["balanced_accuracy"]
    return f


def auc_and_pauc(y, s):
    import numpy as np
    from sklearn.metrics import roc_auc_score, roc_curve
    fpr, tpr, _ = roc_curve(y, s)
    # pAUC above 80 % TPR: the area between the ROC and TPR 0.8 (0 to 0.2), as dermsim reports it
    return roc_auc_score(y, s), float(np.trapz(np.maximum(tpr - 0.8, 0), fpr))


def seed_ensemble(split, runs, strata_csv):
    scores, target = {}, {}
    for run in runs:
        for r in csv.DictReader(open(f"{run}/scores-{split}.csv")):
            scores.setdefault(r["image_name"], []).append(float(r["score"]))
            target[r["image_name"]] = int(r["target"])
    names = [n for n in scores if len(scores[n]) == len(runs)]
    if len(names) != len(scores):
        sys.exit("the runs did not score the same images: no ensemble over seeds")
    groups = {"all": names}
    if strata_csv:
        stratum = {r["image_name"]: r["source"] for r in csv.DictReader(open(strata_csv))}
        for n in names:
            groups.setdefault(stratum[n], []).append(n)
    print(f"\neach image scored by the mean of the {len(runs)} runs' {split} scores:")
    for group, members in groups.items():
        y = [target[n] for n in members]
        auc, pauc = auc_and_pauc(y, [sum(scores[n]) / len(runs) for n in members])
        print(f"  {group:<8} {len(members):5d} images {sum(y):4d} malignant  AUC {auc:.3f}  pAUC {pauc:.3f}")


def main(split, runs, strata_csv):
    rows = [figures(r, split) for r in runs]
    trained = [train_options(r) for r in runs]
    options = trained[0]
    commits = sorted({t["provenance"]["dermsim_commit"] for t in trained})
    seeds = [t["seed"] for t in trained]
    threads = sorted({t["threads"] for t in trained})
    folds = len(glob.glob(f"{runs[0]}/folds/*/model.json"))
    print(f"dermsim commit {', '.join(commits)}, seeds {seeds}, threads {threads}, "
          f"epochs {options['epochs']}, ema_decay {options.get('ema_decay', 0)}, "
          f"select {options.get('select', 'best-val')}" + (f", {folds} folds" if folds else ""))
    print(f"| figure | {' | '.join(f'seed {s}' for s in seeds)} | mean ± sd | min–max |")
    print("|---|" + "---|" * (len(seeds) + 2))
    for key in rows[0]:
        values = [r.get(key) for r in rows]
        if any(v is None for v in values):
            continue
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"| {key} | {' | '.join(f'{v:.3f}' for v in values)} | "
              f"{statistics.mean(values):.3f} ± {sd:.3f} | {min(values):.3f}–{max(values):.3f} |")
    if len(runs) > 1:
        seed_ensemble(split, runs, strata_csv)


if __name__ == "__main__":
    args = sys.argv[1:]
    split, strata_csv = "test", None
    while args[:1] in (["--split"], ["--strata"]) and len(args) > 1:
        if args[0] == "--split":
            split = args[1]
        else:
            strata_csv = args[1]
        args = args[2:]
    if not args or split not in ("test", "oof"):
        sys.exit(__doc__)
    main(split, args, strata_csv)
