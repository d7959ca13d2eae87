"""Vanilla vs away-step vs pairwise vs blended pairwise FW on a polytope problem: a strongly
convex quadratic over the simplex whose minimizer lies in the relative interior of a face
(10 of 30 coordinates positive). The active-set variants converge linearly; vanilla FW
zig-zags towards the face at the sublinear O(1/k) rate.

    python benchmarks/plot_fw_rates.py   # writes docs/img/fw_linear_vs_sublinear.png
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import numopt  # noqa: E402
from numopt import lmo as L  # noqa: E402
from numopt import rates  # noqa: E402


def face_quadratic(seed=0, n=30, support=10):
    rng = np.random.default_rng(seed)
    Q = rng.standard_normal((n, n))
    H = Q.T @ Q / n + 0.5 * np.eye(n)
    xs = np.zeros(n)
    xs[:support] = rng.dirichlet(np.full(support, 2.0))
    c = np.full(n, -1.0)
    c[support:] += rng.uniform(0.5, 1.5, n - support)
    y = xs - np.linalg.solve(H, c)
    return (lambda x: 0.5 * float((x - y) @ H @ (x - y))), (lambda x: H @ (x - y)), xs


def main():
    f, g, xs = face_quadratic()
    fstar = f(xs)
    x0 = np.eye(xs.size)[-1]
    runs = {}
    for label, variant in [("vanilla FW", "vanilla"), ("away-step FW", "away"), ("pairwise FW", "pairwise"),
                           ("BPCG", "blended-pairwise")]:
        runs[label] = numopt.frank_wolfe(f, x0, L.Simplex(1.0), jac=g, variant=variant, tol=0, maxiter=300)
    fig, ax = plt.subplots(figsize=(6, 4))
    rates.plot_convergence(runs, fstar, ax=ax)
    k = np.arange(1, 301)
    e = runs["vanilla FW"].trace["fun"] - fstar
    p = rates.fit_sublinear_rate(e, start=10)
    ax.semilogy(k, p.constant * k ** (-p.rate), "k:", label=f"fit C k^-{p.rate:.2f}")
    for label in ("away-step FW", "pairwise FW", "BPCG"):
        q = rates.fit_linear_rate(runs[label].trace["fun"] - fstar, start=5, floor=1e-12).rate
        print(f"{label}: fitted linear rate q = {q:.3f}")
    print(f"vanilla FW: fitted sublinear exponent p = {p.rate:.2f}")
    ax.set_ylim(1e-15, None)
    ax.set_title("strongly convex quadratic over the simplex, optimum on a face", fontsize=9)
    ax.legend(fontsize=8)
    out = Path(__file__).resolve().parents[1] / "docs" / "img" / "fw_linear_vs_sublinear.png"
    out.parent.mkdir(exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
