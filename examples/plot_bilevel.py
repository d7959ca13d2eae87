"""
Bilevel methods: measured progress against their statements
===========================================================

``min_x Phi(x) = F(x, y*(x))`` with ``y*(x) = argmin_y G(x, y)``. The bilevel methods'
rates are stated for nonconvex ``Phi`` in terms of a stationarity measure, mostly as
oracle complexities: ``"implicit"`` (exact inner solves: ``min_k ||grad Phi(x_k)||^2 =
O(1/k)``), ``"hoag"`` (Pedregosa 2016: convergence with summable inner tolerances),
``"penalty"`` (Kwon et al. 2024: ``O(lam / eps^2)`` steps), ``"f2sa"`` (Kwon et al.
2023: ``O(eps^(-7/2))``), ``"bo-rep"`` (Hao et al. 2024: ``O~(eps^(-4))``), ``"maid"``
(Salehi et al.: certified descent at every accepted step), ``"meha"`` / ``"lv-hba"`` /
``"bamm"`` (single-loop penalty / Moreau-envelope methods with non-asymptotic residual
rates) and ``"bsvrb"`` (multi-block, variance reduced).

Each method runs on the registry's own small instance for it (``MethodSpec.example``:
a quadratic bilevel problem with known optimum; a coupled-constraint one for
``lv-hba``; a multi-block one for ``bsvrb``). The left panel plots each method's
documented optimality measure with the slope ``k^(-1/2)`` of the ``implicit`` statement
(``||grad Phi|| = O(k^(-1/2))``) for reference; the right panel plots ``|F(x_k, y_k) -
Phi*|``. These instances have a strongly convex ``Phi``, so the exact-hypergradient
methods converge much faster than the worst-case nonconvex statements — the statements
are upper bounds, and the plot shows how loose they are here.
"""
import inspect

import matplotlib.pyplot as plt
import numpy as np

import numopt
from numopt._registry import get_method

methods = ["implicit", "hoag", "maid", "penalty", "f2sa", "bo-rep", "meha", "lv-hba", "bamm", "bsvrb"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
for i, m in enumerate(methods):
    kw = dict(get_method(m).example(np))
    f_star = kw.pop("f_star", None)
    kw.pop("x_star", None)
    kw.setdefault("options", {})
    kw["options"] = {**kw["options"], "maxiter": 800}
    door = numopt.bilevel
    res = door(method=m, **kw) if "method" in inspect.signature(door).parameters else door(**kw)
    k = np.asarray(res.trace["nit"])
    style = "-" if i < 6 else "--"
    ax1.loglog(np.maximum(k, 1), res.trace["optimality"], style, label=m)
    if f_star is not None:
        ax2.loglog(np.maximum(k, 1), np.maximum(np.abs(res.trace["fun"] - f_star), 1e-16), style, label=m)
    print(f"{m:9s} {res.nit:4d} iterations, status {res.status}, optimality {res.optimality:.1e}"
          + ("" if f_star is None else f", |F - Phi*| = {abs(res.fun - f_star):.1e}"))
k = np.arange(1, 801)
ax1.loglog(k, k ** -0.5, "k:", lw=1, label="slope k^(-1/2)")
ax1.set_xlabel("iteration")
ax1.set_ylabel("documented optimality measure")
ax1.legend(fontsize=7, ncol=2)
ax2.set_xlabel("iteration")
ax2.set_ylabel("|F(x_k, y_k) - Phi*|")
ax2.legend(fontsize=7, ncol=2)
fig.tight_layout()
