"""Randomized sketching solvers (numopt.sketch) vs scipy's direct and Krylov solvers on
consistent systems A x = b: accuracy reached per floating-point operation and per second.

    python benchmarks/bench_sketch.py

Flop model (dense A, m x n, sketch size s): Kaczmarz 4n per row step; block Kaczmarz
2sn (residual) + 4s^2 n (s x n least squares); Gaussian sketch 2msn (S^T A) + 2mn
(residual) + 4s^2 n; count sketch mn + 2mn + 4s^2 n; plus 2mn per residual check.
scipy.linalg.lstsq ~ 2mn^2 (QR); LSQR 4mn per iteration; CG on the normal equations
4mn per iteration.
"""
from __future__ import annotations

import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse.linalg as spla

from numopt import sketch

TOL = 1e-8


def _instance(m, n, cond, seed=0):
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((m, n)))
    V, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = (U * np.geomspace(1.0, 1.0 / cond, n)) @ V.T
    x = rng.standard_normal(n)
    return A, A @ x


def _flops(method, m, n, s, nit, checks):
    per = {"kaczmarz": 4 * n, "block_kaczmarz": 2 * s * n + 4 * s * s * n,
           "gaussian": 2 * m * s * n + 2 * m * n + 4 * s * s * n,
           "countsketch": m * n + 2 * m * n + 4 * s * s * n}[method]
    return per * nit + 2 * m * n * checks


def run(cases=((2000, 50, 10.0), (2000, 50, 1e3), (5000, 200, 10.0))):
    rows = []
    for m, n, cond in cases:
        A, b = _instance(m, n, cond)
        bn = np.linalg.norm(b)
        for method, s in (("kaczmarz", 1), ("block_kaczmarz", 20), ("gaussian", 20), ("countsketch", 40)):
            t = time.perf_counter()
            cap = 3000 if method == "gaussian" else 400000  # a fresh m x s Gaussian per step is slow
            r = sketch.solve(A, b, method=method, tol=TOL, maxiter=cap, rng=0, block_size=s, trace=True)
            dt = time.perf_counter() - t
            checks = len(r.trace["optimality"])
            rows.append((f"{m}x{n} cond {cond:g}", method, r.nit, _flops(method, m, n, s, r.nit, checks), dt,
                         r.optimality))
        t = time.perf_counter()
        x = sla.lstsq(A, b)[0]
        rows.append((f"{m}x{n} cond {cond:g}", "scipy lstsq", 1, 2 * m * n * n, time.perf_counter() - t,
                     np.linalg.norm(A @ x - b) / bn))
        t = time.perf_counter()
        out = spla.lsqr(A, b, atol=TOL, btol=TOL, iter_lim=100000)
        rows.append((f"{m}x{n} cond {cond:g}", "scipy lsqr", out[2], 4 * m * n * out[2], time.perf_counter() - t,
                     np.linalg.norm(A @ out[0] - b) / bn))
        its = {"n": 0}
        N = spla.LinearOperator((n, n), matvec=lambda v: A.T @ (A @ v))

        def cb(_):
            its["n"] += 1
        t = time.perf_counter()
        xc, _ = spla.cg(N, A.T @ b, rtol=TOL * 1e-2, maxiter=100000, callback=cb)
        rows.append((f"{m}x{n} cond {cond:g}", "scipy cg (normal eq.)", its["n"], 4 * m * n * its["n"],
                     time.perf_counter() - t, np.linalg.norm(A @ xc - b) / bn))
    print("| system | solver | iterations | flops (model) | time | rel. residual |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2e} | {r[4]:.3f} s | {r[5]:.1e} |")
    return rows


if __name__ == "__main__":
    run()
