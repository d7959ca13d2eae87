"""Marginal violation vs time for numopt's Sinkhorn variants (docs figure).

    python benchmarks/plot_sinkhorn.py   # writes docs/img/sinkhorn_error_vs_time.png
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import problems  # noqa: E402
from numopt.solvers.sinkhorn import sinkhorn  # noqa: E402


def main():
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, (name, kw, reg) in zip(axes, [("point_clouds", {"n": 1000}, 1e-3),
                                           ("random_assignment", {"n": 500}, 1 / 1200)]):
        inst = problems.get(f"ot/{name}", seed=0, **kw)
        a, b, C = inst.a, inst.b, inst.C / inst.C.max()
        for method in ("sinkhorn_log", "sinkhorn_epsilon_scaling", "sns"):
            sinkhorn(a, b, C, reg, method=method, tol=1e-3, maxiter=50)  # warm-up (numba compile)
            r = sinkhorn(a, b, C, reg, method=method, tol=1e-12, maxiter=40000)
            ax.loglog(r.trace["time"][1:], r.trace["optimality"][1:], label=f"{method} ({r.nit} it)")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("l1 marginal violation")
        ax.set_title(f"{name}, n={a.size}, reg={reg:.2g} x max C")
        ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(__file__).resolve().parents[1] / "docs" / "img" / "sinkhorn_error_vs_time.png"
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
