"""
Second-order methods: lazy vs fresh Hessians, local orders, polynomial preconditioning
======================================================================================

**Lazy Hessians.** ``"lazy-newton"`` (Doikov, Chayti & Jaggi, 2023) computes one Hessian
(and its eigendecomposition) every ``m`` steps and reuses it with a cubic regularization
in between: the stated global rate is ``min_i ||grad f(x_i)|| = O((sqrt(m) L^(1/2)
(f(x0) - f*) / k)^(2/3))`` per *iteration*, so ``m > 1`` costs a factor ``m^(1/3)`` in
iterations and saves a factor ``m`` in Hessians. On an l2-regularized logistic
regression the left panel plots the gradient norm against the number of Hessians.

**Local orders.** Near a nondegenerate minimizer, ``"grad-reg-newton"`` (Semenov, Jaggi
& Doikov, 2025) and ``"saddle-free-newton"`` (Dauphin et al., 2014) take Newton steps
and state superlinear / quadratic local convergence. :func:`numopt.rates.fit_order`
fits ``p`` in ``e_(k+1) ~ C e_k^p`` on the gradient norms: the printed orders are
measured, not assumed.

**Polynomial preconditioning on outlier spectra.** A quadratic whose spectrum has 5
outlying eigenvalues (condition number 1e4): ``"poly-gd"`` and ``"poly-fgm"``
(symmetric-polynomial preconditioning with ``tau = 5``) state
``(1 - 1/kappa_tau)^k`` and ``(1 - 1/sqrt(kappa_tau))^k`` with ``kappa_tau <=
(sum_(i > tau) l_i) / l_n``, about 10 times smaller than ``kappa`` here. The right panel
draws gradient descent and AGD for reference, and the two stated linear bounds (``gd``'s
from :func:`numopt.rates.theory`, ``poly-gd``'s from the spectrum).
"""
import matplotlib.pyplot as plt
import numpy as np

import numopt
import problems
from numopt import rates

logreg = problems.get("synthetic/logistic", n=300, p=30, penalty="l2", lam_ratio=0.01)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
for m in (1, 3, 10):
    r = numopt.minimize(logreg, method="lazy-newton", tol=1e-10, options={"m": m, "maxiter": 200})
    ax1.semilogy(r.trace["nhev"], r.trace["optimality"], "o-", ms=3, label=f"lazy-newton m={m}")
    print(f"lazy-newton m={m:2d}: {r.nit:3d} iterations, {r.nhev:3d} Hessians, status {r.status}")
for method in ("grad-reg-newton", "saddle-free-newton"):
    r = numopt.minimize(logreg, method=method, tol=1e-12, options={"maxiter": 100})
    g = np.asarray(r.trace["optimality"])
    order = rates.fit_order(g, floor=1e-13, start=max(len(g) - 5, 0))
    ax1.semilogy(r.trace["nhev"], g, "s--", ms=3, label=f"{method} (order {order.p:.1f})")
    print(f"{method}: {r.nit} iterations, fitted local order p = {order.p:.2f} over the last steps")
ax1.set_xlabel("Hessian evaluations")
ax1.set_ylabel("||grad f(x_k)||")
ax1.legend(fontsize=8)
ax1.set_title("l2-logistic regression")

quad = problems.get("synthetic/quadratic", n=50, cond=100.0, outliers=5, outlier_scale=100.0)
x_star, f_star = rates.reference_solution(quad)
lam = np.sort(quad.meta["spectrum"])[::-1]
tau = 5
kappa, kappa_tau = lam[0] / lam[-1], lam[tau:].sum() / lam[-1]
runs = {m: numopt.minimize(quad, method=m, tol=1e-9, options={"maxiter": 2500, **o})
        for m, o in (("gd", {}), ("agd", {}), ("poly-gd", {"tau": tau}), ("poly-fgm", {"tau": tau}))}
k = np.arange(2501)
e0 = rates.suboptimality(runs["poly-gd"], f_star)[0]
bounds = {rates.theory("gd", quad).label: rates.theory("gd", quad),
          "poly-gd bound: (1 - 1/kappa_tau)^k (f(x0) - f*)": (k, e0 * (1 - 1 / kappa_tau) ** k)}
rates.plot_convergence(runs, f_star, bounds=bounds, ax=ax2)
ax2.set_ylim(1e-14, None)
ax2.set_title(f"outlier spectrum: kappa = {kappa:.0f}, kappa_tau <= {kappa_tau:.0f}")
fig.tight_layout()
for m, r in runs.items():
    q = rates.fit_linear_rate(rates.suboptimality(r, f_star), floor=1e-11).rate
    print(f"{m:9s} {r.nit:5d} iterations, fitted q = {q:.5f}")
print(f"stated: gd 1 - 1/kappa = {1 - 1 / kappa:.5f}, poly-gd 1 - 1/kappa_tau >= {1 - 1 / kappa_tau:.5f}, "
      f"poly-fgm 1 - 1/sqrt(kappa_tau) >= {1 - kappa_tau ** -0.5:.5f} (up to a constant)")
