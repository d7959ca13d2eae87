"""Lazy-Hessian Newton (Doikov, Chayti & Jaggi, ICML 2023) vs fresh-Hessian Newton and
L-BFGS: arithmetic cost and time to ||grad f|| <= 1e-8 on l2-regularized logistic
regression (LIBSVM data when present under ../shared/data/libsvm, else synthetic).

    python benchmarks/bench_lazy_newton.py [--plot docs/img/lazy_newton_cost.png]

Arithmetic cost model (flops, d = dimension, N = samples, nnz = nonzeros of the data):
one gradient 4 nnz; one Hessian evaluation 2 nnz d (X^T D X for sparse X, at most
2 N d^2 dense) + one eigendecomposition 9 d^3; each cubic step after that 4 d^2 (two
products with the eigenbasis) + the secular equation; L-BFGS: 4 nnz + 4 m d per
iteration (m = 10). The lazy theory predicts a sqrt(d) saving for m = d over m = 1
when Hessians dominate.
"""
from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
import scipy.optimize as so

import numopt
import problems

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "libsvm")


def _problem(name):
    if os.path.isdir(DATA) and name != "synthetic":
        p = problems.get(f"libsvm/{name}", model="logreg", penalty="l2", lam_ratio=1e-3, data_dir=DATA)
    else:
        p = problems.synthetic.logistic(n=2000, p=100, cond=100, penalty="l2", lam_ratio=1e-3, seed=0)
    f, reg = p.objective, p.regularizer
    X = f.A
    nnz = X.nnz if hasattr(X, "nnz") else X.size
    lam = reg.lam

    def fun(w):
        return f.value(w) + 0.5 * lam * w @ w

    def jac(w):
        return f.grad(w) + lam * w

    def hess(w):
        H = f.hess(w)
        return np.asarray(H.toarray() if hasattr(H, "toarray") else H) + lam * np.eye(w.size)

    return fun, jac, hess, np.zeros(X.shape[1]), nnz


def _cost_lazy(res, d, nnz):
    k, nh = res.nit, res.nhev
    return res.njev * 4 * nnz + nh * (2 * nnz * d + 9 * d ** 3) + res.nfev * 2 * nnz + k * 4 * d ** 2


def run(names=("a9a", "w8a", "mushrooms"), plot=None):
    rows, curves = [], {}
    for name in names:
        try:
            fun, jac, hess, x0, nnz = _problem(name)
        except (OSError, ValueError) as e:
            print(f"skip {name}: {e}")
            continue
        d = x0.size
        for label, m in (("m=1 (cubic Newton)", 1), ("m=sqrt(d)", max(1, int(round(math.sqrt(d))))), ("m=d", d)):
            t = time.perf_counter()
            r = numopt.minimize(fun, x0, jac=jac, hess=hess, method="lazy-newton", tol=1e-8,
                                options={"m": m, "maxiter": 5000})
            dt = time.perf_counter() - t
            rows.append((name, d, label, r.nit, r.nhev, _cost_lazy(r, d, nnz), dt, r.success))
            if plot and name == names[0]:
                g = np.asarray(r.trace["optimality"])
                # cumulative cost along the run: Hessian + eigendecomposition every m steps
                k = np.arange(len(g))
                cost = k * (4 * nnz + 4 * d * d + 2 * nnz) + np.ceil(k / m) * (2 * nnz * d + 9 * d ** 3)
                curves[label] = (cost, g)
        t = time.perf_counter()
        r = numopt.minimize(fun, x0, jac=jac, hess=hess, method="lazy-newton", tol=1e-8,
                            options={"m": d, "regularization": "quadratic", "maxiter": 5000})
        rows.append((name, d, "quadratic reg., m=d", r.nit, r.nhev, _cost_lazy(r, d, nnz), time.perf_counter() - t,
                     r.success))
        t = time.perf_counter()
        r = numopt.minimize(fun, x0, jac=jac, hess=hess, method="grad-reg-newton", tol=1e-8)
        rows.append((name, d, "grad-reg-newton", r.nit, r.nhev, r.nit * (2 * nnz * d + d ** 3) + r.nfev * 6 * nnz,
                     time.perf_counter() - t, r.success))
        t = time.perf_counter()
        r = so.minimize(fun, x0, jac=jac, method="L-BFGS-B", options={"gtol": 1e-8, "ftol": 0, "maxiter": 100000})
        gn = np.linalg.norm(jac(r.x))
        rows.append((name, d, "scipy L-BFGS-B", r.nit, 0, r.nfev * 4 * nnz + r.nit * 40 * d, time.perf_counter() - t,
                     gn <= 1e-6))
    print("| dataset | d | method | iterations | Hessians | flops (model) | time | converged |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]:.2e} | {r[6]:.2f} s | {r[7]} |")
    if plot and curves:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4))
        for label, (c, g) in curves.items():
            ax.semilogy(c, g, label=label)
        ax.set_xlabel("arithmetic cost (flops, model in bench_lazy_newton.py)")
        ax.set_ylabel("||grad f(x_k)||")
        ax.set_title(f"lazy-Hessian cubic Newton, l2-logistic, {names[0]}")
        ax.legend()
        fig.tight_layout()
        fig.savefig(plot, dpi=110)
        print("wrote", plot)
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--plot", default=None)
    ap.add_argument("--datasets", nargs="*", default=["a9a", "w8a", "mushrooms"])
    a = ap.parse_args()
    run(tuple(a.datasets), a.plot)
