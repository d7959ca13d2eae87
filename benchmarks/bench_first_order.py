"""FISTA vs scikit-learn's Lasso on real LIBSVM data: time to the same duality gap.

scikit-learn runs first (coordinate descent, tol=1e-6 relative gap); its achieved
duality gap — computed by numopt.datafits.duality_gap, the same formula for both —
becomes the target at which FISTA (with gradient restart) is stopped; the gap is
checked every 10 iterations through the callback.

    python benchmarks/bench_first_order.py [--data DIR] [--quick]
"""
from __future__ import annotations

import argparse
import lzma
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from runner import Case, run_cases  # noqa: E402

import numopt  # noqa: E402
from numopt.datafits import Quadratic, duality_gap, lambda_max  # noqa: E402
from numopt.prox import L1  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "libsvm"
SHAPES = {"a9a": 123, "w8a": 300, "mushrooms": 112, "ijcnn1": 22, "a1a": 123}


def load(name, data_dir):
    try:
        import problems.libsvm as pl

        return pl.load(name, data_dir=data_dir)
    except Exception:
        from sklearn.datasets import load_svmlight_file

        p = Path(data_dir) / name
        f = lzma.open(str(p) + ".xz") if not p.exists() else open(p, "rb")
        with f:
            X, y = load_svmlight_file(f, n_features=SHAPES[name], zero_based=False)
        return X, y


def make_case(name, ratio, data_dir):
    def setup():
        X, y = load(name, data_dir)
        X = X.tocsc()
        y = np.asarray(y, dtype=float)
        df = Quadratic(y)
        lam = lambda_max(X, df) / ratio
        return {"X": X, "y": y, "df": df, "lam": lam, "f": numopt.LinearComposite(df, X)}

    def peer(inst):
        from sklearn.linear_model import Lasso

        m = Lasso(alpha=inst["lam"], fit_intercept=False, tol=1e-6, max_iter=100000).fit(inst["X"], inst["y"])
        return {"gap": duality_gap(inst["X"], inst["df"], L1(inst["lam"]), m.coef_)[0]}

    def ours(inst):
        X, df, lam = inst["X"], inst["df"], inst["lam"]
        target = inst.get("target", 1e-6)
        state = {}

        def cb(intermediate_result):
            if intermediate_result.nit % 10 == 0:
                gap = duality_gap(X, df, L1(lam), intermediate_result.x)[0]
                state["gap"] = gap
                if gap <= target:
                    raise StopIteration

        res = numopt.minimize(inst["f"], np.zeros(X.shape[1]), method="fista", prox=L1(lam), tol=0,
                              callback=cb, options={"maxiter": 200000, "restart": "gradient",
                                                    "trace": False})
        return {"gap": duality_gap(X, df, L1(lam), res.x)[0], "nit": res.nit}

    return Case(f"lasso {name} lam_max/{ratio}", setup, ours, peer, peer_name="sklearn Lasso")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if not Path(args.data).is_dir():
        print(f"no LIBSVM data at {args.data}; pass --data DIR")
        return 1
    cases = [make_case("a9a", 10, args.data), make_case("a9a", 100, args.data)]
    if not args.quick:
        cases += [make_case("w8a", 10, args.data), make_case("mushrooms", 100, args.data)]
    run_cases(cases, warmup=1, repeat=3 if not args.quick else 1, title="FISTA vs scikit-learn Lasso",
              save=Path(__file__).parent / "results" / "first_order.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
