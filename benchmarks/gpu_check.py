"""One command that runs numopt's CuPy paths on a GPU and checks them against numpy.

    python benchmarks/gpu_check.py [--out benchmarks/results/gpu_check] [--quick]
    python benchmarks/gpu_check.py --dry-run-numpy --out /tmp/gpu_check   # no GPU needed

Without CUDA (cupy missing, or no device) it prints that it skipped and exits 0. With a
device it runs, for every check below, the method on CuPy arrays and on numpy arrays
(the reference, on the CPU), compares the results to a stated tolerance, times both,
and writes one JSON file and one Markdown table (``<out>.json``, ``<out>.md``):

* entropic OT (``numopt.sinkhorn``): ``sinkhorn`` float64 and float32 (kernel read twice
  per iteration through the array namespace), ``sinkhorn-log`` (log-stabilized scaling),
  ``sns`` (numpy only: reported as skipped on the device); time per iteration against POT's
  ``ot.sinkhorn`` on the same CuPy arrays (when POT is installed), and the achieved memory
  bandwidth (bytes of K read per iteration / time per iteration) as a fraction of the
  device's peak (``2 * memoryClockRate * memoryBusWidth / 8`` from
  ``cupy.cuda.runtime.getDeviceProperties``);
* polynomial preconditioning ``poly-gd``, ``poly-fgm`` on a dense SPD quadratic (also
  against the exact solution);
* dense least squares with ``gd``, ``agd``, ``fista`` (l1 prox), ``lbfgs`` and
  l2-regularized logistic regression with ``gd``, ``agd``, ``lbfgs`` (methods not
  registered, or without ``"cupy"`` in their backends, are reported as skipped);
* Frank–Wolfe (``frank-wolfe``, ``away-fw``, ``pairwise-fw``) on a dense design over the
  simplex;
* ``eal`` on a dense equality-constrained quadratic (against the closed form).

Every comparison goes through an injectable array namespace (:class:`Device`), so
``--dry-run-numpy`` runs the whole pipeline with numpy standing in for CuPy (small sizes,
a nominal peak bandwidth); ``tests/test_gpu_check.py`` runs it. Sizes of the full run are
chosen to finish in a few minutes on one H100 (``--budget`` seconds: checks that would
start after it are reported as skipped, not silently dropped).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numopt  # noqa: E402
from numopt._registry import get_method  # noqa: E402

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "gpu_check"


# ----------------------------------------------------------------------- devices

def peak_bandwidth(props):
    """Peak memory bandwidth in bytes/s from CUDA device properties (memoryClockRate in
    kHz, memoryBusWidth in bits; double data rate)."""
    return 2.0 * float(props["memoryClockRate"]) * 1e3 * float(props["memoryBusWidth"]) / 8.0


class Device:
    """An array namespace standing for the device: ``xp``, host <-> device copies,
    ``sync()``, its properties (name, peak bandwidth)."""

    def __init__(self, xp, name, props, dry_run=False):
        self.xp, self.name, self.props, self.dry_run = xp, name, props, dry_run
        self.peak = peak_bandwidth(props)

    def asarray(self, x):
        return self.xp.asarray(x)

    def to_numpy(self, x):
        if hasattr(x, "get"):  # cupy
            return np.asarray(x.get())
        try:
            return np.asarray(x)
        except TypeError:  # array_api_strict refuses __array__ for some versions: go through DLPack
            return np.from_dlpack(x)

    def sync(self):
        if not self.dry_run:
            self.xp.cuda.Device().synchronize()


def cuda_device():
    """The CuPy device, or (None, reason) when there is none."""
    try:
        import cupy
    except Exception as exc:  # ImportError, or a broken CUDA install
        return None, f"cupy is not importable ({type(exc).__name__}: {exc})"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None, "no CUDA device"
        props = cupy.cuda.runtime.getDeviceProperties(0)
    except Exception as exc:
        return None, f"no usable CUDA device ({type(exc).__name__}: {exc})"
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    return Device(cupy, name, props), None


def numpy_stand_in(xp=np):
    """``xp`` (numpy, or e.g. array_api_strict: a foreign namespace like CuPy's) in the
    device's role (the dry run), with a nominal 32 GB/s peak."""
    return Device(xp, f"{xp.__name__} stand-in (dry run)", {"memoryClockRate": 1_000_000, "memoryBusWidth": 128},
                  dry_run=True)


def _time(fn, dev=None, repeat=1):
    """(median seconds, last output) of ``fn()`` (device synchronized around each call)."""
    ts, out = [], None
    for _ in range(repeat):
        if dev is not None:
            dev.sync()
        t0 = time.perf_counter()
        out = fn()
        if dev is not None:
            dev.sync()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)), out


def _rel(x, ref):
    x, ref = np.asarray(x, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    return float(np.max(np.abs(x - ref)) / max(float(np.max(np.abs(ref))), 1e-300))


def _row(check, method, n, dtype, err, tol, t_dev, t_np, **extra):
    ok = bool(math.isfinite(err) and err <= tol)
    return dict(check=check, method=method, n=int(n), dtype=dtype, error=float(err), tol=float(tol), ok=ok,
                t_device_s=t_dev, t_numpy_s=t_np,
                speedup=(t_np / t_dev if t_dev and t_np else None), **extra)


def _skip(check, method, why):
    return dict(check=check, method=method, skipped=why, ok=None)


def _available(method):
    """None when ``method`` is registered with a CuPy path, else why not."""
    try:
        spec = get_method(method)
    except ValueError:
        return f"{method!r} is not registered"
    if "cupy" not in spec.backends:
        return f"numpy-only method (backends: {', '.join(spec.backends)})"
    return None


# ----------------------------------------------------------------------- OT

def _ot_instance(n, dtype):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((n, 2)), rng.standard_normal((n, 2)) + 0.5
    C = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    C /= C.max()
    a, b = rng.uniform(0.5, 1.5, n), rng.uniform(0.5, 1.5, n)
    a, b = (a / a.sum()).astype(dtype), (b / b.sum()).astype(dtype)
    return a / a.sum(), b / b.sum(), C.astype(dtype)


def _per_iteration(run, it0, iters, dev, repeat=3):
    """Seconds per iteration of ``run(maxiter)``: difference of the median times of runs
    of ``it0`` and ``it0 + iters`` iterations (the one-time kernel build cancels; when
    timing noise makes the difference non-positive, the longer run's time over its
    iterations, an upper bound), and the longer run's result."""
    t0, _ = _time(lambda: run(it0), dev, repeat)
    t1, out = _time(lambda: run(it0 + iters), dev, repeat)
    return ((t1 - t0) / iters if t1 > t0 else t1 / (it0 + iters)), out


def check_ot(dev, n, iters, reg=2e-2):
    rows = []
    xp = dev.xp
    cases = [("sinkhorn", np.float64, 1e-8), ("sinkhorn", np.float32, 2e-3), ("sinkhorn-log", np.float64, 1e-8)]
    for method, dtype, tol in cases:
        why = _available(method)
        if why:
            rows.append(_skip("ot", method, why))
            continue
        a, b, C = _ot_instance(n, dtype)
        ad, bd, Cd = dev.asarray(a), dev.asarray(b), dev.asarray(C)

        def run_dev(k):
            return numopt.sinkhorn(ad, bd, Cd, reg, method=method, tol=0.0, maxiter=k, trace=False)

        def run_np(k):
            return numopt.sinkhorn(a, b, C, reg, method=method, tol=0.0, maxiter=k, trace=False)

        run_dev(2)  # warm-up (kernels compile)
        run_np(2)
        t_dev, rd = _per_iteration(run_dev, 5, iters, dev)
        t_np, rn = _per_iteration(run_np, 5, iters, None)
        err = _rel(dev.to_numpy(rd.plan), rn.plan)
        itemsize = np.dtype(dtype).itemsize
        bytes_per_it = 2 * n * n * itemsize  # the array-namespace path reads K twice per iteration
        bw = bytes_per_it / t_dev
        extra = dict(ms_per_iteration_device=t_dev * 1e3, ms_per_iteration_numpy=t_np * 1e3,
                     bandwidth_GBs=bw / 1e9, bandwidth_fraction=bw / dev.peak, iterations=iters)
        if method == "sinkhorn":
            extra.update(_pot_per_iteration(dev, ad, bd, Cd, reg, iters, dtype))
        rows.append(_row("ot", method, n, np.dtype(dtype).name, err, tol, t_dev, t_np, **extra))
    why = _available("sns")
    rows.append(_skip("ot", "sns", why or "not run"))
    return rows


def _pot_per_iteration(dev, ad, bd, Cd, reg, iters, dtype):
    try:
        import ot
    except ImportError:
        return {"pot": "POT not installed"}
    import warnings

    def run(k):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ot.sinkhorn(ad, bd, Cd, reg, numItermax=k, stopThr=0.0)

    try:
        run(2)
        t, _ = _per_iteration(run, 5, iters, dev)
    except Exception as exc:  # POT's backend for this array type may be missing
        return {"pot": f"POT failed: {type(exc).__name__}: {exc}"}
    return {"pot_ms_per_iteration": t * 1e3}


# ----------------------------------------------------------------------- smooth problems

def _least_squares(xp, A, b):
    def fun(x):
        r = A @ x - b
        return 0.5 * float(xp.sum(r * r))

    return fun, (lambda x: A.T @ (A @ x - b))


def _logistic(xp, A, y, lam):
    def fun(x):
        z = -y * (A @ x)
        return float(xp.sum(xp.logaddexp(xp.zeros_like(z), z))) + 0.5 * lam * float(xp.sum(x * x))

    def jac(x):
        return -(A.T @ (y / (1.0 + xp.exp(y * (A @ x))))) + lam * x

    return fun, jac


def _minimize_both(dev, method, build, n, err_tol, maxiter, check, err_fn=None, **kw):
    """Run ``build(xp, device_copy) -> minimize kwargs`` on the device and on numpy (solver
    options ``kw``); the error is the relative difference of the two solutions (or
    ``err_fn(x_device)``), asserted below ``err_tol``."""
    why = _available(method)
    if why:
        return _skip(check, method, why)
    out = {}
    for side, xp, to in (("dev", dev.xp, dev.asarray), ("np", np, np.asarray)):
        args = build(xp, to)
        numopt.minimize(**args, method=method, options={"maxiter": 2})  # warm-up
        t, res = _time(lambda: numopt.minimize(**args, method=method, options=dict(maxiter=maxiter, **kw)),
                       dev if side == "dev" else None)
        out[side] = (t, res)
    (t_dev, rd), (t_np, rn) = out["dev"], out["np"]
    xd = dev.to_numpy(rd.x)
    err = _rel(xd, rn.x) if err_fn is None else err_fn(xd)
    return _row(check, method, n, "float64", err, err_tol, t_dev, t_np, nit_device=int(rd.nit), nit_numpy=int(rn.nit),
                fun_device=float(rd.fun), fun_numpy=float(rn.fun))


def check_first_order(dev, m, n):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((m, n)) / math.sqrt(m)
    b = rng.standard_normal(m)
    y = np.sign(rng.standard_normal(m))
    rows = []

    def ls(xp, to):
        fun, jac = _least_squares(xp, to(A), to(b))
        return dict(fun=fun, jac=jac, x0=to(np.zeros(n)))

    def ls_l1(xp, to):
        from numopt.prox import L1

        return dict(ls(xp, to), prox=L1(0.01))

    def logreg(xp, to):
        fun, jac = _logistic(xp, to(A), to(y), 0.1)
        return dict(fun=fun, jac=jac, x0=to(np.zeros(n)))

    for method in ("gd", "agd", "lbfgs"):
        rows.append(_minimize_both(dev, method, ls, n, 1e-6, 3000, "least squares", tol=1e-8))
    rows.append(_minimize_both(dev, "fista", ls_l1, n, 1e-6, 3000, "least squares + l1", tol=1e-8))
    for method in ("gd", "agd", "lbfgs"):
        rows.append(_minimize_both(dev, method, logreg, n, 1e-6, 3000, "logistic", tol=1e-8))
    return rows


def check_polynomial(dev, n):
    rng = np.random.default_rng(2)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    H = (Q * np.geomspace(1e-2, 1.0, n)) @ Q.T
    H = 0.5 * (H + H.T)
    c = rng.standard_normal(n)
    x_star = np.linalg.solve(H, c)

    def quad(xp, to):
        Hd, cd = to(H), to(c)
        return dict(fun=lambda x: float(0.5 * xp.sum(x * (Hd @ x)) - xp.sum(cd * x)), jac=lambda x: Hd @ x - cd,
                    hessp=lambda x, v: Hd @ v, x0=to(np.zeros(n)))

    err_fn = lambda x: _rel(x, x_star)  # noqa: E731  (against the exact solution)
    return [_minimize_both(dev, m, quad, n, 1e-5, 5000, "polynomial (SPD quadratic)", err_fn=err_fn, tol=1e-9)
            for m in ("poly-gd", "poly-fgm")]


def check_frank_wolfe(dev, m, n):
    from numopt.sets import Simplex

    rng = np.random.default_rng(3)
    A = rng.standard_normal((m, n)) / math.sqrt(m)
    b = A @ rng.dirichlet(np.ones(n)) + 0.01 * rng.standard_normal(m)

    def fw(xp, to):
        fun, jac = _least_squares(xp, to(A), to(b))
        return dict(fun=fun, jac=jac, lmo=Simplex(1.0), x0=to(np.eye(n)[0]))

    rows = []
    for method in ("frank-wolfe", "away-fw", "pairwise-fw"):
        row = _minimize_both(dev, method, fw, n, 1e-6, 300, "Frank-Wolfe (dense, simplex)", tol=0.0)
        if "fun_device" in row:  # same iterations: compare the objective values
            row["error"] = abs(row["fun_device"] - row["fun_numpy"]) / max(abs(row["fun_numpy"]), 1e-300)
            row["ok"] = bool(math.isfinite(row["error"]) and row["error"] <= row["tol"])
        rows.append(row)
    return rows


def check_eal(dev, n, p):
    why = _available("eal")
    if why:
        return [_skip("equality-constrained QP", "eal", why)]
    rng = np.random.default_rng(4)
    A = rng.standard_normal((p, n))
    c, d = rng.standard_normal(n), rng.standard_normal(p)
    x_star = c - A.T @ np.linalg.solve(A @ A.T, A @ c - d)

    def qp(xp, to):
        Ad, cd, dd = to(A), to(c), to(d)
        return dict(fun=lambda x: 0.5 * float(xp.sum((x - cd) ** 2)), jac=lambda x: x - cd, x0=to(np.zeros(n)),
                    constraints={"type": "eq", "fun": lambda x: Ad @ x - dd, "jac": lambda x: Ad})

    err_fn = lambda x: _rel(x, x_star)  # noqa: E731
    return [_minimize_both(dev, "eal", qp, n, 1e-6, 200, "equality-constrained QP", err_fn=err_fn, tol=1e-9)]


# ----------------------------------------------------------------------- driver

SIZES = {  # full run (one H100, minutes) and the dry run (numpy stand-in, seconds)
    "full": dict(ot_n=10000, ot_iters=100, fo=(20000, 2000), poly_n=3000, fw=(20000, 2000), eal=(2000, 200)),
    "quick": dict(ot_n=4000, ot_iters=50, fo=(5000, 500), poly_n=1000, fw=(5000, 500), eal=(500, 50)),
    "dry": dict(ot_n=60, ot_iters=10, fo=(80, 12), poly_n=16, fw=(60, 10), eal=(12, 3)),
}


def run_checks(dev, sizes, budget):
    t0 = time.perf_counter()
    plan = [("ot", lambda: check_ot(dev, sizes["ot_n"], sizes["ot_iters"])),
            ("polynomial", lambda: check_polynomial(dev, sizes["poly_n"])),
            ("first order", lambda: check_first_order(dev, *sizes["fo"])),
            ("frank-wolfe", lambda: check_frank_wolfe(dev, *sizes["fw"])),
            ("eal", lambda: check_eal(dev, *sizes["eal"]))]
    rows = []
    for name, fn in plan:
        if time.perf_counter() - t0 > budget:
            rows.append(_skip(name, "*", f"time budget of {budget:.0f} s spent before this check"))
            continue
        try:
            rows.extend(fn())
        except Exception as exc:  # a failing path is a result, not a crash of the whole check
            rows.append(dict(check=name, method="*", ok=False, failed=f"{type(exc).__name__}: {exc}"))
    return rows, time.perf_counter() - t0


def _fmt(v, spec):
    return "" if v is None else format(v, spec)


def markdown(report):
    dev = report["device"]
    lines = [f"# numopt GPU check: {dev['name']}", "",
             f"peak memory bandwidth {dev['peak_GBs']:.0f} GB/s"
             + (" (nominal: numpy stand-in, dry run)" if report["dry_run"] else "")
             + f"; total {report['elapsed_s']:.1f} s", "",
             "| check | method | n | dtype | error | tol | ok | device s | numpy s | speedup | ms/it device "
             "| POT ms/it | GB/s | of peak | note |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        note = r.get("skipped") or r.get("failed") or r.get("pot", "")
        lines.append("| " + " | ".join([
            r["check"], r["method"], str(r.get("n", "")), r.get("dtype", ""), _fmt(r.get("error"), ".1e"),
            _fmt(r.get("tol"), ".0e"), {True: "yes", False: "NO", None: "skipped"}[r["ok"]],
            _fmt(r.get("t_device_s"), ".3g"), _fmt(r.get("t_numpy_s"), ".3g"), _fmt(r.get("speedup"), ".1f"),
            _fmt(r.get("ms_per_iteration_device"), ".3g"), _fmt(r.get("pot_ms_per_iteration"), ".3g"),
            _fmt(r.get("bandwidth_GBs"), ".0f"), _fmt(r.get("bandwidth_fraction"), ".2f"), note]) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="output path without extension (.json and .md)")
    ap.add_argument("--dry-run-numpy", action="store_true",
                    help="run the whole pipeline with numpy standing in for CuPy (small sizes)")
    ap.add_argument("--stand-in", default="numpy", help="with --dry-run-numpy: the module standing in for "
                    "cupy ('numpy' or 'array_api_strict')")
    ap.add_argument("--quick", action="store_true", help="smaller sizes on the device")
    ap.add_argument("--budget", type=float, default=360.0, help="seconds; later checks are skipped (reported)")
    args = ap.parse_args(argv)
    if args.dry_run_numpy:
        import importlib

        dev, sizes = numpy_stand_in(importlib.import_module(args.stand_in)), SIZES["dry"]
    else:
        dev, why = cuda_device()
        if dev is None:
            print(f"gpu_check: skipped: {why}. (--dry-run-numpy runs the pipeline with numpy standing in.)")
            return 0
        sizes = SIZES["quick" if args.quick else "full"]
    rows, elapsed = run_checks(dev, sizes, args.budget)
    report = dict(device=dict(name=dev.name, peak_GBs=dev.peak / 1e9, backend=dev.xp.__name__),
                  dry_run=dev.dry_run, sizes=sizes, elapsed_s=elapsed, rows=rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=1, default=str))
    md = markdown(report)
    out.with_suffix(".md").write_text(md)
    print(md)
    failed = [r for r in rows if r["ok"] is False]
    print(f"gpu_check: {len(rows)} rows, {len(failed)} failed, wrote {out.with_suffix('.json')} and "
          f"{out.with_suffix('.md')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
