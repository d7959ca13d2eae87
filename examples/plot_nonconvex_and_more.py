"""
Model-based, DC, fractional, NMF, consensus-based and constrained methods
=========================================================================

Six families whose rates are stationarity or monotonicity statements rather than bounds
on ``F(x_k) - F*``; each panel plots the quantity the statement is about, with the
stated slope where there is one.

1. **Stochastic model-based methods** on robust phase retrieval (weakly convex):
   ``"subgradient"``, ``"prox-linear"`` and ``"prox-point"`` (Davis & Drusvyatskiy, 2019;
   Asi & Duchi, 2019) state ``E ||grad F_(1/rho)||^2 <= C / sqrt(T)``: the Moreau-envelope
   gradient norm decays at least like ``T^(-1/4)``. With the default step, the
   prox-linear and prox-point models reach the exact solution within a few epochs
   while the subgradient model stalls: the statement is the same for the three models,
   but better models are robust to the step size (Asi & Duchi, 2019).
2. **DCA** (``"dca"``, ``"complete-dca"``; Pham Dinh & Le Thi) on ``1/2 x^T Q x - c^T x -
   lam ||x||_1``: monotone, and ``min_(k<K) ||x_(k+1) - x_k||^2 <= 2 (f(x0) - f*) / (rho K)``.
3. **Fractional coordinate descent** (``"fractional-cd"``, Yuan 2023): ``F(x_k)``
   nonincreasing, to a coordinate-wise stationary point.
4. **NMF by BCD-PR** (``"nmf-bcd-pr"``, Kwon & Lyu 2023): ``min_(j<=k) stationarity_j^2 =
   O~(1/k)``.
5. **Consensus-based optimization** (``"cbo"``, Fornasier, Klock & Riedl 2024) on the
   Rastrigin function: the particle spread decays like ``exp(-(2 lam - sigma^2) t)`` in the
   mean-field limit.
6. **Exact augmented Lagrangian** (``"eal"``, Hong, Na, Mahoney & Kolar 2023) on HS7:
   local superlinear convergence of the KKT residual (order fitted with
   :func:`numopt.rates.fit_order`).
"""
import matplotlib.pyplot as plt
import numpy as np

import numopt
from numopt import rates
from numopt._registry import get_method

fig, axes = plt.subplots(2, 3, figsize=(13, 7))
rng = np.random.default_rng(0)

# 1. model-based methods on robust phase retrieval
A = rng.standard_normal((200, 10))
x_true = rng.standard_normal(10)
pr = numopt.PhaseRetrieval(A, (A @ x_true) ** 2)
x0 = x_true + rng.standard_normal(10)
ax = axes[0, 0]
for m in ("subgradient", "prox-linear", "prox-point"):
    r = numopt.model_based(pr, x0, method=m, tol=0.0,
                          options={"maxiter": 40, "rng": 0, "measure_every": 4})
    keep = np.isfinite(r.trace["optimality"]) & (r.trace["nit"] > 0)
    ax.loglog(r.trace["nit"][keep], r.trace["optimality"][keep], label=m)
    print(f"{m:12s} Moreau gradient norm {r.trace['optimality'][keep][0]:.2e} -> {r.optimality:.2e}")
T = np.arange(1, 41)
ax.loglog(T, T ** -0.25, "k:", lw=1, label="slope T^(-1/4)")
ax.set_title("model-based: phase retrieval")
ax.set_xlabel("epoch")
ax.legend(fontsize=7)

# 2. DCA on a nonconvex quadratic-minus-l1 problem, g = 1/2 x^T (Q + rho I) x - c^T x,
#    h = rho/2 ||x||^2 + lam ||x||_1 (both rho-strongly convex)
n, rho, lam = 20, 1.0, 0.5
M = rng.standard_normal((n, n))
Q = M @ M.T / n + 0.05 * np.eye(n)
c = rng.standard_normal(n)
Kinv = np.linalg.inv(Q + rho * np.eye(n))
f = lambda x: 0.5 * x @ Q @ x - c @ x - lam * np.abs(x).sum()        # noqa: E731
ax = axes[0, 1]
for complete in (False, True):
    r = numopt.dca(lambda v: Kinv @ (c + v), lambda x: rho * x + lam * np.sign(x), np.ones(n),
                   objective=f, complete=complete, g=lambda x: 0.5 * x @ (Q + rho * np.eye(n)) @ x - c @ x,
                   h=lambda x: 0.5 * rho * x @ x + lam * np.abs(x).sum(),
                   h_candidates=(lambda x: np.array([rho * x + lam * np.where(x == 0, s, np.sign(x))
                                                     for s in (-1.0, 1.0)])) if complete else None,
                   tol=1e-12, options={"maxiter": 100})
    steps = np.asarray(r.trace["optimality"][1:])
    K = np.arange(1, steps.size + 1)
    name = "complete-dca" if complete else "dca"
    ax.loglog(K, np.minimum.accumulate(steps ** 2), label=f"{name}: min step^2")
    assert np.all(np.diff(r.trace["fun"]) <= 1e-12), "DCA is monotone"
    print(f"{name}: {r.nit} iterations, f = {r.fun:.6f}, monotone decrease checked")
ax.loglog(K, 2 * (f(np.ones(n)) - r.fun) / (2 * rho * K), "k--", lw=1,
          label="2 (f(x0) - f_K) / ((rho_g + rho_h) K)")
ax.set_title("DCA")
ax.set_xlabel("iteration K")
ax.legend(fontsize=7)

# 3. fractional coordinate descent (registry instance)
kw = dict(get_method("fractional-cd").example(np))
r = numopt.fractional_cd(kw.pop("A"), kw.pop("B"), kw.pop("x0"), method="fractional-cd", tol=1e-14,
                         options={"maxiter": 50}, **kw)
F = np.asarray(r.trace["fun"])
ax = axes[0, 2]
ax.semilogy(r.trace["nit"], np.maximum(F - F.min(), 1e-17), "o-", ms=3, label="F(x_k) - F(x_final)")
ax.semilogy(r.trace["nit"], np.maximum(r.trace["optimality"], 1e-17), "s--", ms=3, label="coordinate violation")
assert np.all(np.diff(F) <= 1e-14)
ax.set_title("fractional-cd (nonincreasing)")
ax.set_xlabel("sweep")
ax.legend(fontsize=7)

# 4. NMF by BCD-PR on a noisy rank-5 matrix
X = rng.uniform(0, 1, (60, 5)) @ rng.uniform(0, 1, (5, 40)) + 0.01 * rng.uniform(0, 1, (60, 40))
r = numopt.nmf_bcd_pr(X, 5, tol=0.0, options={"maxiter": 150, "rng": 0})
s2 = np.minimum.accumulate(np.asarray(r.trace["optimality"]) ** 2)
k = np.arange(1, s2.size)
ax = axes[1, 0]
ax.loglog(k, s2[1:], label="min_j stationarity_j^2")
ax.loglog(k, s2[1] / k, "k--", lw=1, label="slope 1/k")
ax.set_title("nmf-bcd-pr")
ax.set_xlabel("iteration")
ax.legend(fontsize=7)

# 5. consensus-based optimization on Rastrigin in 3-D
rastrigin = lambda x: float(10 * x.size + np.sum(x * x - 10 * np.cos(2 * np.pi * x)))  # noqa: E731
r = numopt.minimize(rastrigin, np.array([1.5, -2.0, 0.7]), method="cbo", tol=1e-6,
                    options={"rng": 0, "n_particles": 50, "maxiter": 400})
spread = np.asarray(r.trace["optimality"])
q = rates.fit_linear_rate(spread, floor=1e-6).rate
ax = axes[1, 1]
ax.semilogy(r.trace["nit"], spread, label=f"particle spread (fitted ratio {q:.3f})")
ax.set_title(f"cbo on Rastrigin: |x - x*| = {np.linalg.norm(r.x):.1e}")
ax.set_xlabel("iteration")
ax.legend(fontsize=7)
print(f"cbo: spread decays by {q:.3f} per iteration; final point {np.round(r.x, 4)} (global minimizer 0)")

# 6. exact augmented Lagrangian on HS7 (registry instance)
kw = dict(get_method("eal").example(np))
f_star = kw.pop("f_star")
r = numopt.minimize(kw.pop("fun"), kw.pop("x0"), method="eal", tol=1e-14, **kw)
kkt = np.asarray(r.trace["optimality"])
p = rates.fit_order(kkt, floor=1e-14, start=max(kkt.size - 5, 0)).p
ax = axes[1, 2]
ax.semilogy(r.trace["nit"], np.maximum(kkt, 1e-17), "o-", ms=3, label=f"KKT residual (local order {p:.1f})")
ax.set_title(f"eal on HS7: |f - f*| = {abs(r.fun - f_star):.1e}")
ax.set_xlabel("iteration")
ax.legend(fontsize=7)
print(f"eal: {r.nit} iterations, fitted local order {p:.2f}")
fig.tight_layout()
