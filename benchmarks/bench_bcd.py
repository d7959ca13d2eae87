"""Lasso on real LIBSVM data: numopt.bcd vs scikit-learn, skglm and celer, time to the
same duality gap (one process, warm-up first, best of `repeat`).

Each peer runs at its own tolerance; its achieved duality gap (numopt.datafits.duality_gap,
the same formula for everyone, relative to P(0) = ||y||^2/(2n)) becomes numopt's target
``tol``, so numopt is timed to a gap at least as small as the peer's.

    python benchmarks/bench_bcd.py [--quick] [--data DIR]
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

import numopt
import problems

sys.path.insert(0, str(Path(__file__).parent))
from runner import timed  # noqa: E402

warnings.filterwarnings("ignore")
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "libsvm"



def peers(X, y, lam):
    from sklearn.linear_model import Lasso

    out = {"sklearn": lambda: Lasso(alpha=lam, fit_intercept=False, tol=1e-6, max_iter=100000).fit(X, y).coef_}
    try:
        from skglm import Lasso as SkLasso

        out["skglm"] = lambda: SkLasso(alpha=lam, fit_intercept=False, tol=1e-6, max_iter=1000).fit(X, y).coef_
    except ImportError:
        pass
    try:
        from celer import Lasso as CeLasso

        out["celer"] = lambda: CeLasso(alpha=lam, fit_intercept=False, tol=1e-6, max_iter=1000).fit(X, y).coef_
    except ImportError:
        pass
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--selection", default="gsl")
    args = ap.parse_args(argv)
    if not Path(args.data).is_dir():
        print(f"no LIBSVM data at {args.data}")
        return 1
    cases = [("a9a", 10), ("a9a", 100), ("a9a", 1000)] if args.quick else \
        [("a9a", 10), ("a9a", 100), ("a9a", 1000), ("w8a", 100), ("w8a", 3000), ("ijcnn1", 100),
         ("mushrooms", 100), ("mushrooms", 1000)]
    repeat = 1 if args.quick else 3
    print(f"{'case':<22} {'peer':<8} {'peer s':>8} {'peer rel gap':>13} {'numopt s':>9} {'numopt gap':>11} {'ratio':>6}")
    for name, ratio in cases:
        p = problems.get(f"libsvm/{name}", model="lasso", lam_ratio=1.0 / ratio, data_dir=args.data)
        X, y, lam = p.objective.A, p.objective.loss.y, p.meta["lam"]
        p0 = float(y @ y) / (2 * len(y))
        for peer, fit in peers(X, y, lam).items():
            tp, coef = timed(fit, repeat)
            g_peer = p.duality_gap(np.asarray(coef).ravel())[0] / p0
            target = max(g_peer, 1e-14)
            to, res = timed(lambda: numopt.bcd(p, selection=args.selection, tol=target, maxiter=100000,
                                               trace=False), repeat)
            g_ours = p.duality_gap(res.x)[0] / p0
            print(f"{name + ' lmax/' + str(ratio):<22} {peer:<8} {tp:>8.3f} {g_peer:>13.2e} {to:>9.3f} "
                  f"{g_ours:>11.2e} {to / tp:>6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
