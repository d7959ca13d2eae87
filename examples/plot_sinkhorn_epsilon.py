"""
Entropic OT: Sinkhorn vs Sinkhorn-Newton-Sparse as epsilon shrinks
===================================================================

Sinkhorn's iterations converge linearly in the marginal violation ``||P 1 - a||_1 +
||P^T 1 - b||_1`` (Franklin & Lorenz, 1989), but the ratio tends to 1 as the
regularization ``reg`` (epsilon) shrinks relative to the cost, so the iteration count
grows quickly. Sinkhorn-Newton-Sparse (``"sns"``, Tang et al., 2024) warms up with
Sinkhorn and then takes Newton steps on a sparsified Hessian: superlinear in its Newton
phase, and far less sensitive to epsilon.

Point clouds of 100 points, cost normalized to ``max C = 1``. Left: marginal violation per
iteration of log-domain Sinkhorn (``"sinkhorn-log"``) and SNS for three epsilons, with the
fitted linear ratio of Sinkhorn. Right: at ``reg = 0.003``, against time, the
scaling-domain ``"sinkhorn"`` (cheapest per iteration, same linear ratio), epsilon
scaling (``"sinkhorn-epsilon-scaling"``, which anneals reg from a large value) and SNS.
"""
import matplotlib.pyplot as plt
import numpy as np

import numopt
import problems
from numopt import rates

inst = problems.get("ot/point_clouds", n=100, seed=0)
a, b, C = inst.a, inst.b, inst.C / inst.C.max()

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
for reg, color in ((0.01, "C0"), (0.003, "C1"), (0.001, "C2")):
    sk = numopt.sinkhorn(a, b, C, reg, method="sinkhorn-log", tol=1e-10, maxiter=1000)
    sns = numopt.sinkhorn(a, b, C, reg, method="sns", tol=1e-10, maxiter=1000)
    q = rates.fit_linear_rate(sk.trace["optimality"], start=len(sk.trace["nit"]) // 2, floor=1e-10).rate
    ax1.semilogy(sk.trace["nit"], sk.trace["optimality"], color=color, label=f"sinkhorn-log reg={reg} (q={q:.4f})")
    ax1.semilogy(sns.trace["nit"], sns.trace["optimality"], "--", color=color, label=f"sns reg={reg}")
    print(f"reg={reg:5}: sinkhorn-log {sk.nit:5d} iterations (status {sk.status}, fitted q = {q:.4f}); "
          f"sns {sns.nit:4d} iterations (status {sns.status})")
ax1.set_xlabel("iteration")
ax1.set_ylabel("marginal violation (l1)")
ax1.legend(fontsize=7)
ax1.set_title("epsilon shrinks: Sinkhorn slows, SNS does not")

reg = 0.003
for m in ("sinkhorn", "sinkhorn-epsilon-scaling", "sns"):
    r = numopt.sinkhorn(a, b, C, reg, method=m, tol=1e-10, maxiter=500)
    ax2.semilogy(r.trace["time"], np.maximum(r.trace["optimality"], 1e-16), label=f"{m} (status {r.status})")
ax2.set_xlabel("time (s)")
ax2.set_ylabel("marginal violation (l1)")
ax2.legend(fontsize=8)
ax2.set_title(f"reg = {reg}")
fig.tight_layout()

# %%
# Mirror Sinkhorn
# ---------------
# ``"mirror-sinkhorn"`` (Ballu & Berthet, 2023) minimizes a convex ``F(P)`` over the
# transport polytope from gradients only and states ``F(P_bar_T) - F* = O(log(n) /
# sqrt(T))`` and a marginal violation ``O(1/sqrt(T))``. Here ``F(P) = <C, P>`` on 30 x 30
# point clouds, with ``F*`` the exact LP optimum (``inst.exact_cost()``, scipy HiGHS). The
# dotted line is the slope ``T^(-1/2)`` through the value at ``T = 100``; the fitted
# exponents over ``T`` in [100, 3000] are printed: in this range both errors decay more
# slowly than the asymptotic statement's slope (its constant, not its exponent, dominates
# here) — what a user should expect from a few thousand iterations.
small = problems.get("ot/point_clouds", n=30, seed=1)
Cs = small.C / small.C.max()
f_star_ot = small.exact_cost() / small.C.max()
ms = numopt.mirror_sinkhorn(lambda P: Cs, small.a, small.b, value=lambda P: float(np.sum(P * Cs)),
                            maxiter=3000, tol=0.0)
T = ms.trace["nit"][1:]
err = {"F(P_T) - F*": ms.trace["fun"][1:] - f_star_ot, "marginal violation": ms.trace["marginal_error"][1:]}
fig2, ax = plt.subplots(figsize=(5, 3.5))
for name, e in err.items():
    ax.loglog(T, e, label=name)
    i = np.searchsorted(T, 100)
    ax.loglog(T[i:], e[i] * np.sqrt(T[i] / T[i:]), "k:", lw=1)
    p = rates.fit_sublinear_rate(np.r_[np.nan, e], start=100).rate
    print(f"mirror-sinkhorn {name}: fitted exponent {p:.2f} (statement: 0.5 asymptotically)")
ax.set_xlabel("iteration T")
ax.set_ylabel("error")
ax.set_title("mirror-sinkhorn (dotted: slope T^(-1/2))")
ax.legend(fontsize=8)
fig2.tight_layout()
