"""Hyperparameter selection by bilevel optimization (numopt.bilevel) vs the peers a user
would pick: scikit-learn's RidgeCV / LogisticRegressionCV on the same validation split,
and grid / random search over the same budget of lower-level solves.

    python benchmarks/bench_bilevel.py            # full (about 3 min on 2 cores)
    python benchmarks/bench_bilevel.py --quick    # housing + a9a only

(a) ridge regression, scalar regularization e^x, on LIBSVM regression data (housing_scale,
    abalone_scale; seeded 75/25 train/validation split), lower level in closed form;
(b) l2-logistic regression on a9a, ijcnn1, w8a (first 5,000 training samples; validation =
    the official test split), scalar and per-feature regularization e^{x_j}, lower level by
    L-BFGS (gtol 1e-6 for grid/random search, HOAG's eps_k for HOAG).

Every selected hyperparameter is scored the same way: the validation loss of the lower-level
solution at that x (closed form for ridge, L-BFGS to gtol 1e-8 for logistic). Columns:
validation loss, its excess over the best value found by any method in the table (relative),
lower-level solves, lower-level gradients in full-gradient equivalents (minibatch samples / n),
wall time (ridge: one run after a warm-up run; logistic: one run, after a global warm-up of
the imports) and the time ratio to the scikit-learn peer.
"""
from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np
from scipy.optimize import minimize as sp_minimize

import problems
from numopt import bilevel

DATA = "/work/shared/data/libsvm"


def _lbfgs(P, x, y0, tol):
    """Lower-level solve by L-BFGS on the counted oracle ``P.lower``."""
    r = sp_minimize(lambda w: P.lower(x, w)[::2], y0, jac=True, method="L-BFGS-B",
                    options={"gtol": tol, "ftol": 0.0, "maxiter": 5000, "maxcor": 20})
    return r.x


class Counted:
    """Wrap a lower-level solver ``inner(x, y0, tol) -> y`` and count its calls."""

    def __init__(self, fn):
        self.fn, self.n = fn, 0

    def __call__(self, x, y0, tol):
        self.n += 1
        return self.fn(x, y0, tol)


def _row(name, x, solves, P, samples0, t, score):
    n = P.n_samples[1]
    grads = (P.counts["lower_samples"] - samples0) / n
    return dict(method=name, x=np.atleast_1d(x), val=score(np.atleast_1d(x)), solves=solves, grads=grads, time=t)


def run_method(name, P, score, fn, warmup=True):
    """``fn() -> (x, solves)``; timed (after a warm-up run unless ``warmup=False``, for the
    costly logistic runs); counts lower-level gradients of the timed run."""
    if warmup:
        fn()
    s0 = P.counts["lower_samples"]
    t0 = time.perf_counter()
    x, solves = fn()
    t = time.perf_counter() - t0
    return _row(name, x, solves, P, s0, t, score)


def print_table(title, rows, peer):
    best = min(r["val"] for r in rows)
    tp = next(r["time"] for r in rows if r["method"] == peer)
    print(f"\n### {title}\n")
    print("| method | x (log reg.) | validation loss | excess vs best | lower solves | lower grads (full equiv.) "
          "| time [s] | time / peer |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        xs = f"{r['x'][0]:.3f}" if r["x"].size == 1 else f"{r['x'].size} values, mean {r['x'].mean():.2f}"
        sol = "—" if r["solves"] is None else str(r["solves"])
        print(f"| {r['method']} | {xs} | {r['val']:.6f} | {(r['val'] - best) / abs(best):.1e} | {sol} "
              f"| {r['grads']:.0f} | {r['time']:.3f} | {r['time'] / tp:.2f} |")


# ---------------------------------------------------------------- (a) ridge
def bench_ridge(dataset, budget=30, lo=-14.0, hi=4.0):
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import PredefinedSplit

    inst = problems.get("bilevel/ridge", dataset=dataset, data_dir=DATA)
    P, m = inst.problem, inst.meta
    X, y, Xv, yv = m["X"], m["y"], m["Xv"], m["yv"]
    n = X.shape[0]
    score = m["value"]
    closed = Counted(lambda x, y0, tol: inst.solve_lower(x))
    grid = np.linspace(lo, hi, budget)
    rows = []

    def ridgecv():
        split = PredefinedSplit(np.r_[np.full(n, -1), np.zeros(Xv.shape[0])])
        # sklearn: ||y - Xw||^2 + alpha ||w||^2  <=>  ours with e^x = alpha / n
        est = RidgeCV(alphas=n * np.exp(grid), fit_intercept=False, cv=split, scoring="neg_mean_squared_error")
        est.fit(np.vstack([X, Xv]), np.r_[y, yv])
        return np.array([math.log(est.alpha_ / n)]), budget + 1  # + the refit on train + validation
    rows.append(run_method(f"RidgeCV ({budget}-point log grid, PredefinedSplit)", P, score, ridgecv))

    def grid_search():
        vals = [score(np.array([g])) for g in grid]
        return np.array([grid[int(np.argmin(vals))]]), budget
    rows.append(run_method(f"grid search ({budget} closed-form solves)", P, score, grid_search))

    def random_search():
        xs = np.random.default_rng(0).uniform(lo, hi, budget)
        vals = [score(np.array([g])) for g in xs]
        return np.array([xs[int(np.argmin(vals))]]), budget
    rows.append(run_method(f"random search ({budget} solves, seed 0)", P, score, random_search))

    for method, kw in (("implicit", dict(maxiter=30, tol=1e-7)), ("hoag", dict(maxiter=30, tol=1e-7))):
        def fn(method=method, kw=kw):
            closed.n = 0
            r = bilevel(P, inst.x0, inst.y0, method=method, inner=closed, **kw)
            return r.x, closed.n
        rows.append(run_method(f"numopt {method} (closed-form inner)", P, score, fn))

    def penalty():
        r = bilevel(P, inst.x0, inst.y0, method="penalty", lam=1e3, maxiter=30, tol=1e-6)
        return r.x, None
    rows.append(run_method("numopt penalty (lam=1e3, GD inner)", P, score, penalty))

    def f2sa():
        r = bilevel(P, inst.x0, inst.y0, method="f2sa", maxiter=300, tol=0, step=1.0, lam0=10.0, inner_step=0.1)
        return r.x, None
    rows.append(run_method("numopt f2sa (300 it, step 1)", P, score, f2sa))

    def f2sa_stoch():
        r = bilevel(P, inst.x0, inst.y0, method="f2sa", maxiter=300, tol=0, step=1.0, lam0=10.0, inner_step=0.1,
                    batch_size=32, rng=0)
        return r.x, None
    rows.append(run_method("numopt f2sa stochastic (batch 32, 300 it)", P, score, f2sa_stoch))
    print_table(f"ridge, scalar, {dataset} (n={n}, p={X.shape[1]}, n_val={Xv.shape[0]})", rows, rows[0]["method"])
    return rows


# ---------------------------------------------------------------- (b) logistic
def bench_logreg(dataset, n_train=5000, budget=20, lo=-12.0, hi=0.0, per_feature=True):
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import PredefinedSplit
    import scipy.sparse as sp

    inst = problems.get("bilevel/logreg", dataset=dataset, n_samples=n_train, data_dir=DATA)
    P = inst.problem
    n, p = inst.meta["n"], inst.meta["p"]

    def make_score(Pk):
        cache = {}

        def score(x):
            key = tuple(np.round(x, 12))
            if key not in cache:
                w = _lbfgs_uncounted(Pk, x, np.zeros(p), 1e-8)
                cache[key] = Pk._upper(x, w)[0]
            return cache[key]
        return score
    score = make_score(P)
    grid = np.linspace(lo, hi, budget)
    rows = []

    def lrcv():
        # the same train/validation data, read back from the oracles' closures
        Xtr, ytr, Xva, yva = _logreg_data(dataset, n_train)
        split = PredefinedSplit(np.r_[np.full(Xtr.shape[0], -1), np.zeros(Xva.shape[0])])
        # sklearn: C sum log-loss + 1/2 ||w||^2  <=>  ours with e^x = 1 / (C n)
        est = LogisticRegressionCV(Cs=1.0 / (n * np.exp(grid)), cv=split, fit_intercept=False,
                                   scoring="neg_log_loss", refit=False, tol=1e-6, max_iter=5000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(sp.vstack([Xtr, Xva]).tocsr(), np.r_[ytr, yva])
        return np.array([math.log(1.0 / (est.C_[0] * n))]), budget
    rows.append(run_method(f"LogisticRegressionCV ({budget} Cs, PredefinedSplit)", P, score, lrcv, warmup=False))

    def grid_search():
        w, vals = np.zeros(p), []
        for g in grid[::-1]:  # warm-started path from strong to weak regularization
            w = _lbfgs(P, np.array([g]), w, 1e-6)
            vals.append(P._upper(np.array([g]), w)[0])
        return np.array([grid[::-1][int(np.argmin(vals))]]), budget
    rows.append(run_method(f"grid search ({budget} L-BFGS solves, warm path)", P, score, grid_search, warmup=False))

    def random_search():
        xs = np.random.default_rng(0).uniform(lo, hi, budget)
        vals = [P._upper(np.array([g]), _lbfgs(P, np.array([g]), np.zeros(p), 1e-6))[0] for g in xs]
        return np.array([xs[int(np.argmin(vals))]]), budget
    rows.append(run_method(f"random search ({budget} L-BFGS solves)", P, score, random_search, warmup=False))

    inner = Counted(lambda x, y0, tol: _lbfgs(P, x, y0, max(tol, 1e-9)))
    x0 = np.array([-4.0])
    for method in ("implicit", "hoag"):
        def fn(method=method):
            inner.n = 0
            kw = dict(inner_tol=1e-6) if method == "implicit" else {}
            r = bilevel(P, x0, inst.y0, method=method, inner=inner, maxiter=15, tol=1e-6, cg_maxiter=200, **kw)
            return r.x, inner.n
        rows.append(run_method(f"numopt {method} (L-BFGS inner, x0=-4)", P, score, fn, warmup=False))

    def f2sa():
        r = bilevel(P, x0, inst.y0, method="f2sa", maxiter=200, tol=0, step=20.0, lam0=10.0, inner_step=1.0)
        return r.x, None
    rows.append(run_method("numopt f2sa (200 it, step 20)", P, score, f2sa, warmup=False))

    def f2sa_stoch():
        r = bilevel(P, x0, inst.y0, method="f2sa", maxiter=200, tol=0, step=20.0, lam0=10.0, inner_step=1.0,
                    batch_size=256, rng=0)
        return r.x, None
    rows.append(run_method("numopt f2sa stochastic (batch 256, 200 it)", P, score, f2sa_stoch, warmup=False))
    print_table(f"logistic, scalar, {dataset} (n={n}, p={p}, n_val={P.n_samples[0]})", rows, rows[0]["method"])

    if not per_feature:
        return rows
    # per-feature regularization: p hyperparameters (no grid); random search with HOAG's budget
    inst_f = problems.get("bilevel/logreg", dataset=dataset, n_samples=n_train, data_dir=DATA, per_feature=True)
    Pf = inst_f.problem
    score_f = make_score(Pf)
    xs_scalar = rows[1]["x"][0]  # the scalar grid optimum, as start point and reference
    innerf = Counted(lambda x, y0, tol: _lbfgs(Pf, x, y0, max(tol, 1e-7)))
    frows = []

    def scalar_as_vector(r):
        return dict(r, x=np.full(p, r["x"][0]), val=score_f(np.full(p, r["x"][0])))
    frows.append(scalar_as_vector(rows[0]))
    frows.append(scalar_as_vector(rows[1]))

    def hoag_f():
        innerf.n = 0
        r = bilevel(Pf, np.full(p, xs_scalar), inst_f.y0, method="hoag", inner=innerf, maxiter=10, tol=1e-6,
                    cg_maxiter=100)
        return r.x, innerf.n
    hrow = run_method("numopt hoag, per feature (10 it, from the scalar grid optimum)", Pf, score_f, hoag_f, warmup=False)
    nb = max(hrow["solves"], 1)

    def random_f():
        rng = np.random.default_rng(0)
        best, bx = np.inf, None
        for _ in range(nb):  # log-uniform around the scalar optimum, same budget of solves as HOAG
            x = xs_scalar + rng.uniform(-3, 3, p)
            v = Pf._upper(x, _lbfgs(Pf, x, np.zeros(p), 1e-6))[0]
            if v < best:
                best, bx = v, x
        return bx, nb
    frows.append(run_method(f"random search, per feature ({nb} solves = HOAG's)", Pf, score_f, random_f, warmup=False))
    frows.append(hrow)
    print_table(f"logistic, per-feature ({p} hyperparameters), {dataset}", frows, frows[0]["method"])
    return rows, frows


def _lbfgs_uncounted(P, x, y0, tol):
    r = sp_minimize(lambda w: P._lower(x, w)[::2], y0, jac=True, method="L-BFGS-B",
                    options={"gtol": tol, "ftol": 0.0, "maxiter": 10000, "maxcor": 20})
    return r.x


def _logreg_data(dataset, n_train):
    import scipy.sparse as sp

    from problems import libsvm
    X, y, Xv, yv = libsvm.train_test(dataset, data_dir=DATA, seed=0)
    X, y = sp.csr_matrix(X[:n_train]), np.where(np.asarray(y[:n_train]) > 0, 1.0, -1.0)
    return X, y, sp.csr_matrix(Xv), np.where(np.asarray(yv) > 0, 1.0, -1.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    # global warm-up: imports and first calls of scipy / scikit-learn / numopt
    import sklearn.linear_model  # noqa: F401  (import cost outside the timings)
    w = problems.get("bilevel/ridge", n=30, p=5)
    bilevel(w.problem, w.x0, w.y0, method="hoag", maxiter=3)
    for ds in (("housing_scale",) if args.quick else ("housing_scale", "abalone_scale")):
        bench_ridge(ds)
    for ds in (("a9a",) if args.quick else ("a9a", "ijcnn1", "w8a")):
        bench_logreg(ds)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
