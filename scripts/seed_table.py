#!/usr/bin/env python3
"""Summarises evaluated runs of one configuration over training seeds: each figure of
metrics-test.json as mean +- sd (min-max). Reads only the runs' own files.
Usage: python3 scripts/seed_table.py RUN [RUN...]"""
import json
import statistics
import sys


def figures(run):
    m = json.load(open(f"{run}/metrics-test.json"))
    f = {
        "val AUC (chosen classifier)": m["chosen"]["validation_auc"],
        "test AUC": m["metrics"]["auc"],
        "test pAUC@80%TPR": m["metrics"]["pauc"],
        "balanced accuracy": m["metrics"]["balanced_accuracy"],
        "sensitivity": m["metrics"]["sensitivity"],
        "specificity": m["metrics"]["specificity"],
    }
    for s in m.get("strata") or []:
        if s["auc"] is not None:
            f[f"AUC within {s['stratum']}"] = s["auc"]
    fallback = m.get("image_only")  # the image-only classifier of a card that reads metadata
    if fallback:
        f["image-only fallback: test AUC"] = fallback["metrics"]["auc"]
        f["image-only fallback: balanced accuracy"] = fallback["metrics"]["balanced_accuracy"]
    return f, m


def main(runs):
    rows = [figures(r) for r in runs]
    options = rows[0][1]["train_options"]
    commits = sorted({json.load(open(f"{r}/train.json"))["provenance"]["dermsim_commit"] for r in runs})
    seeds = [r[1]["train_options"]["seed"] for r in rows]
    print(f"dermsim commit {', '.join(commits)}, seeds {seeds}, threads {options['threads']}, "
          f"epochs {options['epochs']}, ema_decay {options.get('ema_decay', 0)}, "
          f"select {options.get('select', 'best-val')}")
    print(f"| figure | {' | '.join(f'seed {s}' for s in seeds)} | mean ± sd | min–max |")
    print("|---|" + "---|" * (len(seeds) + 2))
    for key in rows[0][0]:
        values = [r[0].get(key) for r in rows]
        if any(v is None for v in values):
            continue
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"| {key} | {' | '.join(f'{v:.3f}' for v in values)} | "
              f"{statistics.mean(values):.3f} ± {sd:.3f} | {min(values):.3f}–{max(values):.3f} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
