"""Regenerate problems/references.json: reference solutions of LIBSVM models, computed
with scikit-learn (an independent solver) at tight tolerance and certified by the duality
gap. Each entry stores ``f_star`` and the sparse minimizer ``x_star`` (``idx``/``val`` of
its nonzeros, a few hundred bytes: the l1 solutions are sparse), which
``numopt.rates.reference_solution`` uses as a warm start.

    python -m problems._make_references [DATA_DIR]            # everything, from scratch
    python -m problems._make_references --x-star [DATA_DIR]   # add x_star, keep the f_star values
"""
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


def sparse_x(w):
    """The nonzeros of ``w`` as ``{"idx": [...], "val": [...]}`` (floats round-trip exactly)."""
    idx = np.flatnonzero(w)
    return {"n": int(w.size), "idx": [int(i) for i in idx], "val": [float(w[i]) for i in idx]}


def main(data_dir=None):
    refs = []
    for name, model, ratio in CASES:
        p = problems.get(f"libsvm/{name}", model=model, lam_ratio=ratio, data_dir=data_dir)
        w = solve(p, model)
        gap, primal, _ = p.duality_gap(w)
        refs.append({"dataset": name, "model": model, "penalty": "l1", "lam_ratio": ratio, "lam": p.meta["lam"],
                     "f_star": primal, "gap": max(gap, 0.0), "f_star_tol": max(gap, 0.0) / abs(primal),
                     "solver": "scikit-learn " + ("Lasso (cd)" if model == "lasso" else "liblinear"),
                     "nnz": int(np.count_nonzero(w)), "x_star": sparse_x(w)})
        print(f"{name:22s} {model:7s} {ratio:5} f*={primal:.12g} gap={gap:.1e}")
    OUT.write_text(json.dumps(refs, indent=1))


def add_x_star(data_dir=None):
    """Add ``x_star`` to the existing entries (same solver), keeping their ``f_star``; the
    new solution must reproduce the stored value within its certificate."""
    refs = json.loads(OUT.read_text())
    for ref in refs:
        p = problems.get(f"libsvm/{ref['dataset']}", model=ref["model"], lam_ratio=ref["lam_ratio"],
                         data_dir=data_dir)
        w = solve(p, ref["model"])
        gap, primal, _ = p.duality_gap(w)
        tol = max(ref["gap"], gap, 1e-12 * abs(primal))
        if abs(primal - ref["f_star"]) > 10 * tol:
            raise RuntimeError(f"{ref['dataset']} {ref['model']} {ref['lam_ratio']}: F(x_star) = {primal!r} "
                               f"differs from the stored f_star = {ref['f_star']!r} by more than 10 x {tol:.1e}")
        ref["x_star"] = sparse_x(w)
        print(f"{ref['dataset']:22s} {ref['model']:7s} {ref['lam_ratio']:5} nnz={len(ref['x_star']['idx'])} "
              f"|F(x*) - f*| = {abs(primal - ref['f_star']):.1e}")
    OUT.write_text(json.dumps(refs, indent=1))


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--x-star"]:
        add_x_star(args[1] if len(args) > 1 else None)
    else:
        main(args[0] if args else None)
