"""Regenerate problems/references.json: reference optimal values of LIBSVM models,
computed with scikit-learn (an independent solver) at tight tolerance and certified by
the duality gap. Run: python -m problems._make_references [DATA_DIR]"""
from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np

import problems

CASES = [(name, model, ratio) for name in ("heart_scale", "australian_scale", "breast-cancer_scale",
                                          "diabetes_scale", "german.numer_scale", "a1a")
         for model in ("lasso", "logreg") for ratio in (0.1, 0.01)] + \
        [("housing_scale", "lasso", 0.1), ("housing_scale", "lasso", 0.01),
         ("abalone_scale", "lasso", 0.1), ("abalone_scale", "lasso", 0.01)]

OUT = Path(__file__).with_name("references.json")


def solve(p, model):
    from sklearn.linear_model import Lasso, LogisticRegression

    X, y, lam = p.objective.A, p.objective.loss.y, p.meta["lam"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model == "lasso":
            w = Lasso(alpha=lam, fit_intercept=False, tol=1e-15, max_iter=10**6).fit(X, y).coef_
        else:
            w = LogisticRegression(l1_ratio=1.0, C=1 / (lam * X.shape[0]), solver="liblinear",
                                   fit_intercept=False, tol=1e-15, max_iter=10**6).fit(X, y).coef_.ravel()
    return np.asarray(w)


def main(data_dir=None):
    refs = []
    for name, model, ratio in CASES:
        p = problems.get(f"libsvm/{name}", model=model, lam_ratio=ratio, data_dir=data_dir)
        w = solve(p, model)
        gap, primal, _ = p.duality_gap(w)
        refs.append({"dataset": name, "model": model, "penalty": "l1", "lam_ratio": ratio, "lam": p.meta["lam"],
                     "f_star": primal, "gap": max(gap, 0.0), "f_star_tol": max(gap, 0.0) / abs(primal),
                     "solver": "scikit-learn " + ("Lasso (cd)" if model == "lasso" else "liblinear"),
                     "nnz": int(np.count_nonzero(w))})
        print(f"{name:22s} {model:7s} {ratio:5} f*={primal:.12g} gap={gap:.1e}")
    OUT.write_text(json.dumps(refs, indent=1))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
