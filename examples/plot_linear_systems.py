"""
Linear systems: randomized Kaczmarz, sketch-and-project and SOR against their rates
===================================================================================

**Randomized Kaczmarz** (``"kaczmarz"``, Strohmer & Vershynin 2009) projects onto one
row drawn with probability ``||a_i||^2 / ||A||_F^2`` and states, for a consistent system
with full column rank, ``E||x_k - x*||^2 <= (1 - sigma_min(A)^2 / ||A||_F^2)^k ||x0 -
x*||^2``. **Sketch-and-project** (Gower & Richtárik, 2015) generalizes it: a random block of
rows (``"block-kaczmarz"``), a Gaussian sketch (``"gaussian-sketch"``) or a count sketch
(``"countsketch"``) of ``block_size`` columns, with the rate ``(1 - lambda_min^+(E[Z]))^k``;
for the Gaussian sketch ``E[Z]`` is estimated here by Monte Carlo over 400 draws (for
the other two samplers only the fitted rates are printed). The errors are recorded with
a ``callback(intermediate_result)``; the bounds hold in expectation, one run is drawn.

**SOR** (``"sor"``) on the 5-point Poisson matrix: with Jacobi radius ``mu = cos(pi h)``,
Gauss-Seidel (``omega = 1``) contracts like ``mu^2`` and the optimal ``omega* = 2 / (1 +
sqrt(1 - mu^2))`` like ``omega* - 1`` (Young, 1950). The right panel draws the residuals
with those slopes.
"""
import matplotlib.pyplot as plt
import numpy as np

import numopt
from numopt.sor import laplacian_2d

rng = np.random.default_rng(0)
A = rng.standard_normal((300, 40)) * rng.uniform(0.5, 2.0, 40)
x_true = rng.standard_normal(40)
b = A @ x_true
x0 = np.zeros(40)


def errors_of(method, maxiter, **options):
    errs = [float(np.sum((x0 - x_true) ** 2))]

    def callback(intermediate_result):
        errs.append(float(np.sum((intermediate_result.x - x_true) ** 2)))

    numopt.solve_linear(A, b, method, x0=x0, tol=0.0, callback=callback,
                        options={"maxiter": maxiter, "rng": 0, "check_every": 1, **options})
    return np.array(errs)


def gaussian_sketch_rate(s, draws=400):
    EZ = np.zeros((40, 40))
    for _ in range(draws):
        SA = rng.standard_normal((s, 300)) @ A
        EZ += SA.T @ np.linalg.pinv(SA @ SA.T) @ SA
    return np.linalg.eigvalsh(EZ / draws)[0]


fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
sv = np.linalg.svd(A, compute_uv=False)
q_kacz = 1 - sv[-1] ** 2 / np.sum(sv ** 2)
runs = {"kaczmarz": errors_of("kaczmarz", 1500),
        "block-kaczmarz": errors_of("block-kaczmarz", 300, block_size=5),
        "gaussian-sketch": errors_of("gaussian-sketch", 300, block_size=5),
        "countsketch": errors_of("countsketch", 300, block_size=5)}
q_gauss = 1 - gaussian_sketch_rate(5)
for name, e in runs.items():
    ax1.semilogy(e, label=name)
    k = np.arange(e.size)
    fit = np.exp(np.polyfit(k[e > 1e-24], np.log(e[e > 1e-24]), 1)[0])
    print(f"{name:16s} fitted ratio per iteration {fit:.4f}")
k = np.arange(1501)
ax1.semilogy(k, runs["kaczmarz"][0] * q_kacz ** k, "k--", lw=1, label="kaczmarz bound (expectation)")
k = np.arange(301)
ax1.semilogy(k, runs["gaussian-sketch"][0] * q_gauss ** k, "k:", lw=1,
             label="gaussian-sketch bound (MC E[Z])")
ax1.set_ylim(1e-26, None)
ax1.set_xlabel("iteration")
ax1.set_ylabel("||x_k - x*||^2")
ax1.legend(fontsize=7)
ax1.set_title("300 x 40 consistent system, block_size = 5")
print(f"stated ratios: kaczmarz {q_kacz:.4f}, gaussian-sketch (Monte Carlo E[Z]) {q_gauss:.4f}")

n_grid = 15
P = laplacian_2d(n_grid)
rhs = np.ones(P.shape[0])
mu = np.cos(np.pi / (n_grid + 1))
omega_star = 2 / (1 + np.sqrt(1 - mu ** 2))
for omega, rho, color in ((1.0, mu ** 2, "C0"), (omega_star, omega_star - 1, "C1")):
    r = numopt.solve_linear(P, rhs, "sor", tol=1e-10, options={"omega": omega, "maxiter": 2000})
    res = np.asarray(r.trace["optimality"])
    k = np.asarray(r.trace["nit"])
    ax2.semilogy(k, res, color=color, label=f"sor omega={omega:.3f} ({r.nit} it.)")
    ax2.semilogy(k, res[0] * rho ** k, "--", color=color, lw=1, label=f"slope rho = {rho:.3f}")
ax2.set_ylim(1e-12, 10)
ax2.set_xlabel("iteration")
ax2.set_ylabel("relative residual")
ax2.legend(fontsize=7)
ax2.set_title(f"SOR, 2-D Poisson {n_grid}x{n_grid}")
fig.tight_layout()
