"""Suboptimality of GD, AGD, ISTA, FISTA with their theoretical bounds (docs figure).

    python benchmarks/plot_first_order_rates.py   # writes docs/img/first_order_rates.png
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import numopt  # noqa: E402
from numopt import rates  # noqa: E402
from numopt.datafits import Quadratic, lambda_max  # noqa: E402
from numopt.prox import L1  # noqa: E402


def main():
    rng = np.random.default_rng(0)
    n = 60
    A = rng.standard_normal((n, n))
    U, _, Vt = np.linalg.svd(A)
    A = U @ np.diag(np.geomspace(1, 1e-2, n)) @ Vt
    b = rng.standard_normal(n)
    df = Quadratic(b)
    f = numopt.LinearComposite(df, A)
    L = f.lipschitz
    lam = lambda_max(A, df) / 20
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, (methods, g) in zip(axes, [(("gd", "agd"), None), (("ista", "fista"), L1(lam))]):
        ref = numopt.minimize(f, np.zeros(n), method="fista", prox=g or L1(0.0), tol=1e-14,
                              options={"maxiter": 10**6, "restart": "gradient"})
        fstar, R = ref.fun, np.linalg.norm(ref.x)
        runs = {m: numopt.minimize(f, np.zeros(n), method=m, prox=g, tol=0,
                                   options={"maxiter": 2000, "L": L, "linesearch": False})
                for m in methods}
        rates.plot_convergence(runs, fstar, ax=ax)
        k = np.arange(1, 2001)
        for m, style in zip(methods, ("k--", "k:")):
            ax.semilogy(k, rates.theoretical_bound(m, k, L=L, R=R), style, label=f"{m} bound")
        ax.legend()
        ax.set_title("least squares" if g is None else "lasso")
    fig.tight_layout()
    out = Path(__file__).resolve().parents[1] / "docs" / "img" / "first_order_rates.png"
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
