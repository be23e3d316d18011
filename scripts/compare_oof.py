#!/usr/bin/python3
"""Paired comparison of k-fold runs' out-of-fold scores (RUN/scores-oof.csv) on the same folds:
the AUC of each candidate minus the baseline's, overall and within each source of --strata, with a
95 % interval from resampling patients (both runs score the same images, so the images' own luck
cancels). With several runs on each side, each image's scores are averaged over that side's runs
(the seed-averaged difference). Usage:
  /usr/bin/python3 scripts/compare_oof.py --strata SOURCES.csv --baseline RUN [RUN...] --candidate RUN [RUN...]
"""
import argparse
import csv

import numpy as np
from sklearn.metrics import roc_auc_score

from embedding_experiments import bootstrap_difference


def mean_scores(runs, names, column):
    tables = [{r["image_name"]: float(r[column]) for r in csv.DictReader(open(f"{run}/scores-oof.csv"))}
              for run in runs]
    return np.mean([[t[n] for n in names] for t in tables], axis=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strata", required=True)
    parser.add_argument("--baseline", nargs="+", required=True)
    parser.add_argument("--candidate", nargs="+", required=True)
    parser.add_argument("--column", default="score", help="score or image_only_score")
    args = parser.parse_args()
    rows = list(csv.DictReader(open(f"{args.baseline[0]}/scores-oof.csv")))
    names = [r["image_name"] for r in rows]
    y = np.array([int(r["target"]) for r in rows])
    group = np.array([r["group"] for r in rows])
    source = {r["image_name"]: r["source"] for r in csv.DictReader(open(args.strata))}
    strata = np.array([source[n] for n in names])
    base = mean_scores(args.baseline, names, args.column)
    cand = mean_scores(args.candidate, names, args.column)
    print(f"{' '.join(args.candidate)} minus {' '.join(args.baseline)} ({args.column}):")
    for name, mask in [("all", np.ones(len(y), bool))] + [(s, strata == s) for s in sorted(set(strata))]:
        a, b = roc_auc_score(y[mask], cand[mask]), roc_auc_score(y[mask], base[mask])
        lo, hi = bootstrap_difference(y, group, cand, base, mask)
        print(f"  {name:7s} {int(mask.sum()):5d} images  AUC {a:.3f} vs {b:.3f}: "
              f"{a - b:+.3f} ({lo:+.3f} to {hi:+.3f})")


if __name__ == "__main__":
    main()
