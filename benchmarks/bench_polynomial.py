"""Polynomial preconditioning (Doikov & Rodomanov, ICML 2023) vs plain GD / FGM, conjugate
gradient and L-BFGS: iterations, Hessian-vector products and time to 1e-8 relative
suboptimality; and the condition number of P_tau B (measured) against the theory's bound
(sum_{i>tau} l_i) / l_n, with the fitted linear rate of poly-gd against 1 - 1/kappa_tau.

    python benchmarks/bench_polynomial.py
"""
from __future__ import annotations

import time

import numpy as np
import scipy.optimize as so
import scipy.sparse.linalg as spla

import numopt
import problems
from numopt.solvers.polynomial import PolynomialPreconditioner

TARGET = 1e-8


def _first_hit(fun_trace, f_star):
    err = (np.asarray(fun_trace) - f_star) / max(abs(f_star), 1e-300)
    hit = np.nonzero(err <= TARGET)[0]
    return int(hit[0]) if hit.size else None


def quadratic_table(n=300, outliers=5, scale=1e4):
    q = problems.get("synthetic/quadratic", n=n, cond=10, outliers=outliers, outlier_scale=scale, seed=0)
    f = q.objective
    Q = f.Q
    lam = np.sort(np.linalg.eigvalsh(Q))[::-1]
    rows = []
    for method, opts in [("gd", {}), ("agd", {})] + [
            (m, {"tau": t, "polynomial": k}) for m in ("poly-gd", "poly-fgm") for t in (1, 3, 5)
            for k in ("symmetric", "chebyshev", "krylov")]:
        t0 = time.perf_counter()
        r = numopt.minimize(f.value, q.x0, jac=f.grad, hessp=f.hvp, method=method, tol=0,
                            options={"maxiter": 3000, **opts})
        dt = time.perf_counter() - t0
        it = _first_hit(r.trace["fun"], q.f_star)
        label = method + ("" if not opts else f" tau={opts['tau']} {opts['polynomial']}")
        rows.append((label, it, r.nhev, dt))
    its = {"n": 0}
    t0 = time.perf_counter()
    spla.cg(Q, -np.asarray(f.grad(q.x0)), rtol=1e-10, maxiter=10000,
            callback=lambda _: its.__setitem__("n", its["n"] + 1))
    rows.append(("scipy cg", its["n"], its["n"], time.perf_counter() - t0))
    t0 = time.perf_counter()
    r = so.minimize(f.value, q.x0, jac=f.grad, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 0, "maxiter": 100000})
    rows.append(("scipy L-BFGS-B", r.nit, 0, time.perf_counter() - t0))
    print(f"\nquadratic n={n}, {outliers} outliers x{scale:g}, kappa = {lam[0] / lam[-1]:.1e}; "
          f"iterations to {TARGET:g} relative suboptimality (None: not in 3000)")
    print("| method | iterations | Hessian-vector products | time |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.3f} s |")
    print("\n| tau | kappa(P_tau B) measured | bound (sum_{i>tau} l_i)/l_n | fitted poly-gd rate | 1 - 1/kappa_tau |")
    print("|---|---|---|---|---|")
    for tau in (0, 1, 3, 5):
        P = PolynomialPreconditioner(lambda v: Q @ v, n, tau, np, np.float64)
        ev = np.sort(np.linalg.eigvals(np.column_stack([P(Q[:, i]) for i in range(n)])).real)
        kappa = ev[-1] / ev[0]
        r = numopt.minimize(f.value, q.x0, jac=f.grad, hessp=f.hvp, method="poly-gd", tol=0,
                            options={"maxiter": 400, "tau": tau})
        gap = np.asarray(r.trace["fun"]) - q.f_star
        fit = numopt.rates.fit_linear_rate(gap, start=5, floor=1e-12 * abs(q.f_star))
        print(f"| {tau} | {kappa:.1f} | {lam[tau:].sum() / lam[-1]:.1f} | {fit.rate:.5f} | {1 - 1 / kappa:.5f} |")


def libsvm_table(names=("a9a", "mushrooms")):
    import os
    data = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "libsvm")
    if not os.path.isdir(data):
        print("\n(no LIBSVM data: skipped)")
        return
    print("\nLIBSVM, iterations / time to 1e-8 relative suboptimality (None: not in 2000)")
    print("| dataset | model | gd | agd | poly-gd tau=3 | poly-fgm tau=3 | poly-fgm krylov tau=3 | L-BFGS-B |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        for model in ("ridge", "logreg"):
            p = problems.get(f"libsvm/{name}", model=model, penalty="l2", lam_ratio=1e-3, data_dir=data)
            f, reg = p.objective, p.regularizer
            lam = reg.lam

            def fun(w):
                return f.value(w) + 0.5 * lam * w @ w

            def jac(w):
                return f.grad(w) + lam * w

            def hvp(w, v):
                return f.hvp(w, v) + lam * v

            ref = so.minimize(fun, p.x0, jac=jac, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 0,
                                                                              "maxiter": 100000})
            fstar = ref.fun
            cells = []
            for method, opts in (("gd", {}), ("agd", {}), ("poly-gd", {"tau": 3}), ("poly-fgm", {"tau": 3}),
                                 ("poly-fgm", {"tau": 3, "polynomial": "krylov"})):
                t0 = time.perf_counter()
                r = numopt.minimize(fun, p.x0, jac=jac, hessp=hvp, method=method, tol=0,
                                    options={"maxiter": 2000, **opts})
                cells.append(f"{_first_hit(r.trace['fun'], fstar)} / {time.perf_counter() - t0:.2f} s")
            t0 = time.perf_counter()
            r = so.minimize(fun, p.x0, jac=jac, method="L-BFGS-B", options={"gtol": 1e-10, "ftol": 0})
            cells.append(f"{r.nit} / {time.perf_counter() - t0:.2f} s")
            print(f"| {name} | {model} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    quadratic_table()
    libsvm_table()
