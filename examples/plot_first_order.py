"""
First-order methods against their bounds: GD, AGD, ISTA, FISTA
==============================================================

Each method states a bound on ``F(x_k) - F*`` (``numopt.show_options("gd")``).
:func:`numopt.rates.theory` turns the statement into numbers for a given problem,
from the constants the problem knows (``L``, ``mu``, ``||x0 - x*||`` with ``x*`` from
:func:`numopt.rates.reference_solution`), so the dashed lines below are the theorems,
not fits.

Left: a strongly convex quadratic (condition number 300), where gradient descent
(``"gd"``) states ``(1 - mu/L)^k`` and Nesterov's method (``"agd"``, given ``mu``) states
``(1 - sqrt(mu/L))^k``. Right: a lasso, convex but not strongly convex, where ISTA
(``"ista"``) states ``L R^2 / (2k)`` and FISTA (``"fista"``) ``2 L R^2 / (k+1)^2``.
"""
import matplotlib.pyplot as plt

import numopt
import problems
from numopt import rates

quad = problems.get("synthetic/quadratic", n=60, cond=300.0)
lasso = problems.get("synthetic/sparse_regression", n=60, p=100)
rates.reference_solution(lasso, tol=1e-8)      # certified x*, F* (cached for theory below)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
summary = []
for ax, prob, methods, opts in [
        (ax1, quad, ("gd", "agd"), {"gd": {}, "agd": {"mu": quad.objective.strong_convexity}}),
        (ax2, lasso, ("ista", "fista"), {"ista": {}, "fista": {}})]:
    runs, bounds = {}, {}
    for m in methods:
        runs[m] = numopt.minimize(prob, method=m, tol=1e-13,
                                  options={"maxiter": 400, **opts[m]})
        th = rates.theory(m, prob, options=opts[m])
        bounds[th.label] = th
        check = rates.check_bound(runs[m], prob, options=opts[m])
        summary.append((m, th.formula, check.ok, runs[m].nit))
    rates.plot_convergence(runs, prob, bounds=bounds, ax=ax)
    ax.set_title(prob.name)
fig.tight_layout()

# %%
# Every iterate sits below its method's bound (``check_bound`` checks each ``k``):
for m, formula, ok, nit in summary:
    print(f"{m:6s} bound {formula:58s} holds at every iterate: {ok}  ({nit} iterations)")
