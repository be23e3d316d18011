"""Test oracle for src/classify: scikit-learn / numpy reference results for the C++ tests.

Usage: classify_oracle.py INPUT.json OUTPUT.json
INPUT holds any of the sections "knn", "logistic", "retrieval" (a list of specs); OUTPUT has the same
sections with sklearn's answers. One process for all, because importing sklearn costs seconds.
Exits with 77 when numpy/scikit-learn are missing (the C++ test then skips).
Never part of the product path; run with /usr/bin/python3.
"""
import json
import sys
import warnings

try:
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score
    from sklearn.neighbors import KNeighborsClassifier
except ImportError as error:
    print(f"classify_oracle: {error}", file=sys.stderr)
    sys.exit(77)


def matrix(rows, dim):
    # The C++ side stores float32; compute on exactly those values.
    return np.asarray(rows, dtype=np.float32).reshape(-1, dim).astype(np.float64)


def knn(spec):
    x = matrix(spec["train_x"], spec["dim"])
    y = np.asarray(spec["train_y"])
    q = matrix(spec["query_x"], spec["dim"])
    out = []
    for case in spec["cases"]:
        weights = "distance" if case["distance_weighted"] else "uniform"
        # kd_tree computes exact distances, so exact duplicates really are at distance 0.
        model = KNeighborsClassifier(n_neighbors=case["k"], weights=weights, algorithm="kd_tree")
        model.fit(x, y)
        out.append(model.predict_proba(q)[:, list(model.classes_).index(1)].tolist())
    return {"proba": out}


def logistic(spec):
    x = matrix(spec["train_x"], spec["dim"])
    y = np.asarray(spec["train_y"])
    q = matrix(spec["query_x"], spec["dim"])
    out = []
    for case in spec["cases"]:
        model = LogisticRegression(C=case["c"], penalty="l2", solver="lbfgs", tol=1e-10, max_iter=10000,
                                   class_weight="balanced" if case["balanced"] else None, warm_start=True)
        model.fit(x, y)
        plain_proba = model.predict_proba(q)[:, 1].tolist()
        # lbfgs also stops on scipy's relative-decrease test (ftol ~2e-9), which leaves the solution
        # ~1e-5 off the optimum; refitting from the previous solution converges to ~1e-9.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for _ in range(50):
                before = np.append(model.coef_[0], model.intercept_)
                model.fit(x, y)
                if np.abs(np.append(model.coef_[0], model.intercept_) - before).max() < 1e-12:
                    break
        out.append({"coefficients": model.coef_[0].tolist(), "intercept": float(model.intercept_[0]),
                    "proba": model.predict_proba(q)[:, 1].tolist(), "plain_lbfgs_proba": plain_proba})
    return {"cases": out}


def retrieval(spec):
    q = matrix(spec["queries"], spec["dim"])
    r = matrix(spec["reference"], spec["dim"])
    ql, rl = np.asarray(spec["query_labels"]), np.asarray(spec["reference_labels"])
    qg, rg = np.asarray(spec["query_groups"]), np.asarray(spec["reference_groups"])
    k = spec["k"]
    precisions, aps = [], []
    for i in np.flatnonzero(ql == 1):
        keep = rg != qg[i]
        if not keep.any():
            continue
        distance = np.sqrt(((r[keep] - q[i]) ** 2).sum(axis=1))
        relevant = (rl[keep] == 1).astype(int)
        order = np.argsort(distance, kind="stable")  # ties by lower reference index
        top = relevant[order[:k]]
        precisions.append(top.mean())
        # AP of a query without any malignant reference is defined as 0 (sklearn would warn).
        aps.append(average_precision_score(relevant, -distance) if relevant.any() else 0.0)
    nan = float("nan")
    return {"precision_at_k": float(np.mean(precisions)) if precisions else nan,
            "mean_average_precision": float(np.mean(aps)) if aps else nan,
            "queries": len(precisions)}


def main():
    source, target = sys.argv[1:3]
    with open(source) as f:
        spec = json.load(f)
    result = {}
    if "knn" in spec:
        result["knn"] = knn(spec["knn"])
    if "logistic" in spec:
        result["logistic"] = logistic(spec["logistic"])
    if "retrieval" in spec:
        result["retrieval"] = [retrieval(s) for s in spec["retrieval"]]
    with open(target, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
