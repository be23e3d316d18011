"""Test oracle for src/metrics: reads cases (JSON) written by tests/core/metrics_oracle_test.cpp,
computes scikit-learn's values for them and writes them back (JSON). Never used by the product.

usage: /usr/bin/python3 metrics_oracle.py IN.json OUT.json
"""
import json
import sys
import warnings

import numpy as np
from sklearn import metrics
from sklearn.calibration import calibration_curve

TARGET_NAMES = ["benign", "malignant"]


def pauc_official(y, score, min_tpr):
    """ISIC 2024 scorer as PRODUCT.md describes it: flipped problem, cut with one interpolated point."""
    v_gt = 1 - y
    v_pred = -score
    max_fpr = abs(1 - min_tpr)
    fpr, tpr, _ = metrics.roc_curve(v_gt, v_pred)
    if max_fpr == 1:
        return float(metrics.auc(fpr, tpr))
    stop = np.searchsorted(fpr, max_fpr, "right")
    cut_tpr = np.interp(max_fpr, [fpr[stop - 1], fpr[stop]], [tpr[stop - 1], tpr[stop]])
    fpr = np.append(fpr[:stop], max_fpr)
    tpr = np.append(tpr[:stop], cut_tpr)
    return float(metrics.auc(fpr, tpr))


def pauc_formula(y, score, min_tpr):
    """Same quantity from sklearn's McClish-standardised partial AUC."""
    m = 1 - min_tpr
    s = metrics.roc_auc_score(1 - y, -score, max_fpr=m)
    return float(0.5 * m**2 + (m - 0.5 * m**2) / 0.5 * (s - 0.5))


def ece_numpy(y, prob, bins):
    """Expected calibration error by its definition, sklearn's uniform-bin edge convention."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    ids = np.searchsorted(edges[1:-1], prob)
    total = 0.0
    for b in range(bins):
        inside = ids == b
        count = inside.sum()
        if count:
            total += count / len(y) * abs(y[inside].mean() - prob[inside].mean())
    return float(total)


def report_dict(y, pred, weights):
    d = metrics.classification_report(y, pred, labels=[0, 1], target_names=TARGET_NAMES,
                                      sample_weight=weights, output_dict=True, zero_division=0)
    # With one label absent from both y and pred sklearn names the accuracy row "micro avg".
    accuracy = d["accuracy"] if "accuracy" in d else d["micro avg"]["f1-score"]
    out = {"accuracy": float(accuracy)}
    for key, name in [("benign", "benign"), ("malignant", "malignant"),
                      ("macro avg", "macro_avg"), ("weighted avg", "weighted_avg")]:
        out[name] = [float(d[key][k]) for k in ("precision", "recall", "f1-score", "support")]
    for digits in (2, 3):
        out["text_%d" % digits] = metrics.classification_report(
            y, pred, labels=[0, 1], target_names=TARGET_NAMES, sample_weight=weights,
            zero_division=0, digits=digits)
    return out


def one_case(case):
    y = np.asarray(case["y"], dtype=int)
    score = np.asarray(case["score"], dtype=float)
    out = {}
    fpr, tpr, thr = metrics.roc_curve(y, score, drop_intermediate=False)
    out["auc"] = float(metrics.roc_auc_score(y, score))
    out["roc"] = [fpr.tolist(), tpr.tolist(), thr[1:].tolist()]
    out["pauc_official"] = pauc_official(y, score, case["min_tpr"])
    out["pauc_formula"] = pauc_formula(y, score, case["min_tpr"])
    out["average_precision"] = float(metrics.average_precision_score(y, score))
    precision, recall, pr_thr = metrics.precision_recall_curve(y, score)
    out["pr"] = [precision.tolist(), recall.tolist(), pr_thr.tolist()]

    # Operating thresholds over the finite ROC thresholds; argmax keeps the first (highest) on ties.
    j = tpr[1:] - fpr[1:]
    out["youden"] = float(thr[1:][np.argmax(j)])
    out["for_sensitivity"] = float(thr[1:][tpr[1:] >= case["target"]][0])

    pred = (score >= case["threshold"]).astype(int)
    out["confusion"] = metrics.confusion_matrix(y, pred, labels=[0, 1]).ravel().tolist()
    out["accuracy"] = float(metrics.accuracy_score(y, pred))
    out["balanced_accuracy"] = float(metrics.balanced_accuracy_score(y, pred))
    out["sensitivity"] = float(metrics.recall_score(y, pred, pos_label=1))
    out["specificity"] = float(metrics.recall_score(y, pred, pos_label=0))
    out["report"] = report_dict(y, pred, None)
    out["report_weighted"] = report_dict(y, pred, np.asarray(case["weights"], dtype=float))

    if np.all((score >= 0) & (score <= 1)):
        bins = case["bins"]
        out["brier"] = float(metrics.brier_score_loss(y, score))
        prob_true, prob_pred = calibration_curve(y, score, n_bins=bins, strategy="uniform")
        out["calibration"] = [prob_true.tolist(), prob_pred.tolist()]
        out["ece"] = ece_numpy(y, score, bins)
    return out


def raises(fn):
    try:
        fn()
    except Exception:  # sklearn raises ValueError, or IndexError on some empty inputs
        return True
    return False


def error_case(case):
    y = np.asarray(case["y"])
    score = np.asarray(case["score"], dtype=float)
    return {"roc_auc_raises": raises(lambda: metrics.roc_auc_score(y, score))}


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = {"cases": [one_case(c) for c in cases["cases"]],
               "errors": [error_case(c) for c in cases["errors"]]}
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
