"""Command line: ``python -m numopt demo | problems list | solve PROBLEM --method M``."""
from __future__ import annotations

import argparse
import sys
import time


def _fmt(v):
    return "n/a" if v is None else f"{v:.3e}"


def _demo(args):
    import numpy as np

    import numopt
    import problems
    from problems import libsvm

    name = args.dataset
    if libsvm.find(name, args.data_dir) is not None:
        prob = problems.get(f"libsvm/{name}", model="logreg", penalty="l1", lam_ratio=args.lam_ratio,
                            data_dir=args.data_dir)
        src = f"LIBSVM {name} ({libsvm.find(name, args.data_dir)})"
    else:  # a real dataset that ships with scikit-learn: nothing to download
        from sklearn.datasets import load_breast_cancer

        from problems.models import make_model

        X, y = load_breast_cancer(return_X_y=True)
        X = (X - X.mean(0)) / X.std(0)
        prob = make_model(X, np.where(y == 1, 1.0, -1.0), model="logreg", penalty="l1",
                          lam_ratio=args.lam_ratio, name="breast_cancer")
        src = "scikit-learn's breast_cancer (LIBSVM data not found; pass --data-dir)"
    X = prob.objective.A
    print(f"l1-regularized logistic regression on {src}: n = {X.shape[0]}, p = {X.shape[1]}, "
          f"lam = {prob.meta['lam']:.3g} (lambda_max * {args.lam_ratio})")
    checkpoints = (0, 10, 30, 100, 300, 1000, 3000)
    rows = {}
    for method in ("ista", "fista"):
        gaps = {}

        def cb(intermediate_result, gaps=gaps):
            if intermediate_result.nit in checkpoints:
                gaps[intermediate_result.nit] = prob.duality_gap(intermediate_result.x)[0]

        t0 = time.perf_counter()
        res = numopt.minimize(prob, method=method, tol=1e-10, callback=cb,
                              options={"maxiter": max(checkpoints), "restart": "gradient"}
                              if method == "fista" else {"maxiter": max(checkpoints)})
        rows[method] = (res, gaps, time.perf_counter() - t0)
    print(f"\n{'iter':>6} " + " ".join(f"{m + ' objective':>18} {m + ' gap':>11}" for m in rows))
    for k in checkpoints:
        line = f"{k:>6} "
        for m, (res, gaps, _) in rows.items():
            tr = res.trace
            if k < len(tr["fun"]):
                line += f"{tr['fun'][k]:>18.10f} {gaps.get(k, float('nan')):>11.2e}"
            else:
                line += f"{'(converged)':>18} {'':>11}"
        print(line)
    print()
    for m, (res, gaps, t) in rows.items():
        gap = prob.duality_gap(res.x)[0]
        print(f"{m:>6}: {res.message} nit = {res.nit}, f = {res.fun:.10f}, duality gap = {gap:.2e}, "
              f"nnz(w) = {int(np.count_nonzero(res.x))}, {t:.2f} s")
    _demo_plot(prob, {m: r[0] for m, r in rows.items()}, args.plot)
    return 0


def _demo_plot(prob, runs, path):
    """Write the demo's convergence plot (F - F* with the methods' bounds from
    numopt.rates.theory) to ``path`` (default: numopt-demo-convergence.png in the temporary
    directory) and print where; skipped with a message when matplotlib is missing."""
    import os
    import tempfile

    try:
        import matplotlib
    except ImportError:
        print("plot skipped: matplotlib is not installed (pip install 'numopt[plot]')")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from numopt import rates

    path = path or os.path.join(tempfile.gettempdir(), "numopt-demo-convergence.png")
    ax = rates.plot_convergence(runs, prob, bounds=[rates.theory(m, prob) for m in runs])
    ax.set_title(f"{prob.name}: l1-logistic regression", fontsize="medium")
    ax.figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(ax.figure)
    print(f"convergence plot (F - F* and the bounds of numopt.rates.theory): {path}")
    return path


def _problems(args):
    import problems

    for name in problems.list_problems(prefix=args.prefix):
        print(name)
    return 0


def _solve(args):
    import json

    import numpy as np

    import numopt
    import problems

    params = json.loads(args.params) if args.params else {}
    prob = problems.get(args.problem, **params)
    # a tqdm progress bar on stderr (objective and optimality measure), bounded by maxiter
    res = numopt.minimize(prob, method=args.method, tol=args.tol,
                          options={"maxiter": args.maxiter, "disp": not args.quiet})
    print(f"{args.problem} with {args.method}: {res.message}")
    print(f"  f = {res.fun:.12g}  nit = {res.nit}  nfev = {res.nfev}  njev = {res.njev}  "
          f"optimality = {_fmt(res.optimality)}  time = {res.elapsed:.3f} s")
    if getattr(prob, "f_star", None) is not None:
        print(f"  reference f* = {prob.f_star:.12g}  (f - f*) = {res.fun - prob.f_star:.3e}")
    if hasattr(prob, "duality_gap"):
        print(f"  duality gap = {prob.duality_gap(np.asarray(res.x))[0]:.3e}")
    return 0 if res.success else 1


def main(argv=None):
    ap = argparse.ArgumentParser(prog="numopt", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="solve a real problem end to end and print a convergence table")
    d.add_argument("--dataset", default="a9a")
    d.add_argument("--data-dir", default=None)
    d.add_argument("--lam-ratio", type=float, default=0.01)
    d.add_argument("--plot", default=None, metavar="PATH",
                   help="where to write the convergence plot (default: a file in the temporary directory)")
    d.set_defaults(fn=_demo)
    p = sub.add_parser("problems", help="list problems")
    p.add_argument("action", choices=["list"])
    p.add_argument("--prefix", default=None)
    p.set_defaults(fn=_problems)
    s = sub.add_parser("solve", help="solve a library problem")
    s.add_argument("problem")
    s.add_argument("--method", default="fista")
    s.add_argument("--tol", type=float, default=None)
    s.add_argument("--maxiter", type=int, default=1000)
    s.add_argument("--params", default=None, help='JSON, e.g. \'{"model": "lasso", "lam_ratio": 0.1}\'')
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(fn=_solve)
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
