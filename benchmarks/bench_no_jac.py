"""The call a scipy user writes without a gradient: ``minimize(fun, x0)``.

    python benchmarks/bench_no_jac.py [--k 3] [--n-max 50] [--max-time 10] [--workers 2] [--numopt-jac 2-point]

numopt's default (``lbfgs`` on forward differences, switched to central differences once
its line search stalls on their error) against scipy's default (``BFGS`` on forward
differences), both with default options, on every k-th unconstrained S2MPJ (CUTEst)
problem with n <= ``--n-max``. Neither solver gets a gradient; the check uses the
problem's exact one:

* solved: ``||grad f(x)||_inf <= 1e-5 max(1, ||grad f(x0)||_inf)`` at the returned x;
* false success: the solver reported success and the check failed;
* evaluations: calls of ``fun`` (finite differences included).

Each solver gets ``--max-time`` seconds of wall clock (scipy through a callback raising
StopIteration). One row per problem, then the summary. ``--numopt-jac 2-point`` gives numopt
``jac="2-point"`` (forward differences throughout, no switch) to measure what the switch buys.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # this checkout's numopt


def run(name, max_time, numopt_jac=None):
    import scipy.optimize as so

    import numopt
    from problems import cutest as C

    warnings.simplefilter("ignore")
    p = C.s2mpj(name)
    x0 = np.asarray(p.x0, dtype=float)
    grad = p.objective.grad
    tol = 1e-5 * max(1.0, float(np.max(np.abs(grad(x0)))))
    out = {"problem": name, "n": x0.size}
    for solver in ("numopt", "scipy"):
        calls = [0]

        def fun(x):
            calls[0] += 1
            return p.objective.value(x)
        t0 = time.perf_counter()

        def stop(intermediate_result):
            if time.perf_counter() - t0 > max_time:
                raise StopIteration
        try:
            if solver == "numopt":
                r = numopt.minimize(fun, x0, jac=numopt_jac, options={"max_time": max_time})
            else:
                r = so.minimize(fun, x0, callback=stop)
            g = float(np.max(np.abs(grad(r.x))))
            ok = bool(np.isfinite(g) and g <= tol)
            out[solver] = {"success": bool(r.success), "solved": ok, "nfev": calls[0],
                           "time": time.perf_counter() - t0, "status": int(r.status)}
        except Exception as e:  # a run that raises counts as unsolved
            out[solver] = {"success": False, "solved": False, "nfev": calls[0],
                           "time": time.perf_counter() - t0, "status": -1, "error": repr(e)[:80]}
    return out


def summary(rows):
    lines = ["| solver | problems | solved | reported success | false successes | solved, not reported | "
             "median evaluations (both solved) |", "|---|---|---|---|---|---|---|"]
    both = [r for r in rows if r["numopt"]["solved"] and r["scipy"]["solved"]]
    for s in ("numopt", "scipy"):
        rs = [r[s] for r in rows]
        lines.append(f"| {s} | {len(rs)} | {sum(r['solved'] for r in rs)} | {sum(r['success'] for r in rs)} | "
                     f"{sum(r['success'] and not r['solved'] for r in rs)} | "
                     f"{sum(r['solved'] and not r['success'] for r in rs)} | "
                     f"{statistics.median([r[s]['nfev'] for r in both]) if both else float('nan'):.0f} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--n-max", type=int, default=50)
    ap.add_argument("--max-time", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--numopt-jac", default=None, choices=[None, "2-point", "3-point"])
    a = ap.parse_args()
    from problems import cutest as C

    names = C.select(type="unconstrained", n_min=2, n_max=a.n_max)[::a.k]
    rows = []
    with mp.get_context("spawn").Pool(a.workers, maxtasksperchild=1) as pool:
        for r in pool.starmap(run, [(n, a.max_time, a.numopt_jac) for n in names], chunksize=1):
            rows.append(r)
            print(f"{r['problem']:12s} n={r['n']:3d} " + "  ".join(
                f"{s}: {'solved' if r[s]['solved'] else '------'} success={r[s]['success']!s:5s} "
                f"nfev={r[s]['nfev']:6d}" for s in ("numopt", "scipy")), flush=True)
    print(summary(rows))


if __name__ == "__main__":
    main()
