"""
Quasi-Newton and conjugate-gradient methods: measured rates
===========================================================

The scipy-style methods of the ``quasi_newton`` family state (``numopt.show_options``):

* ``"lbfgs"``: global R-linear convergence on strongly convex functions
  (Liu & Nocedal, 1989), ``f(x_k) - f* <= r^k (f(x0) - f*)`` for some ``r < 1``;
* ``"bfgs"``: Q-superlinear convergence near a minimizer (Dennis & Moré, 1974);
* ``"trust-ncg"``: a local superlinear rate of order 1.5 with its forcing term
  (Steihaug 1983; Dembo, Eisenstat & Steihaug 1982);
* ``"newton-cg"`` (scipy's ``"Newton-CG"``): the same local order 1.5, with a line search
  instead of a trust region (Dembo & Steihaug 1983);
* ``"nonlinear-cg"``: global convergence, ``liminf ||g_k|| = 0`` (Hager & Zhang, 2005);
* ``"l-bfgs-b"``: limit points are stationary (Byrd, Lu, Nocedal & Zhu, 1995), no rate;
* ``"projected-newton"`` (second-order family, bounds): superlinear once the active set is
  identified (Bertsekas, 1982).

On a strongly convex l2-regularized logistic regression, the plot shows ``F(x_k) - F*``
against gradient evaluations, with the fitted linear ratio of L-BFGS and the fitted
local order of BFGS, trust-ncg and newton-cg printed below; ``"agd"`` (optimal first-order rate) is
drawn for reference. L-BFGS-B runs on the same problem with the box ``|x_i| <= 0.2``
(most bounds active at the solution) and is compared with scipy's L-BFGS-B.
"""
import matplotlib.pyplot as plt
import numpy as np

import numopt
import problems
from numopt import rates

prob = problems.get("synthetic/logistic", n=300, p=30, penalty="l2", lam_ratio=0.01)
x_star, f_star = rates.reference_solution(prob)

runs = {m: numopt.minimize(prob, method=m, tol=1e-8, options={"maxiter": 400})
        for m in ("bfgs", "lbfgs", "nonlinear-cg", "trust-ncg", "newton-cg", "agd")}
fig, ax = plt.subplots(figsize=(6, 4))
rates.plot_convergence(runs, f_star, x="njev", ax=ax)
ax.set_title("l2-logistic regression")
fig.tight_layout()

e = rates.suboptimality(runs["lbfgs"], f_star)
print(f"lbfgs: fitted linear ratio r = {rates.fit_linear_rate(e, floor=1e-12).rate:.3f} per iteration "
      f"(status {runs['lbfgs'].status})")
for m in ("bfgs", "trust-ncg", "newton-cg"):
    g = np.asarray(runs[m].trace["optimality"])
    fit = rates.fit_order(g, floor=1e-11, start=max(len(g) - 6, 0))
    print(f"{m}: fitted local order p = {fit.p:.2f} over the last steps (status {runs[m].status})")
print(f"nonlinear-cg: min ||g_k|| = {np.min(runs['nonlinear-cg'].trace['optimality']):.2e} "
      f"after {runs['nonlinear-cg'].nit} iterations")

# %%
# L-BFGS-B with bounds: the optimality measure is the projected gradient norm, and the
# run is compared with scipy's L-BFGS-B on the same bounded problem.
import scipy.optimize

f = prob.objective
lam = prob.meta.get("lam", 0.0)
fun = lambda x: f.value(x) + prob.regularizer.value(x)          # noqa: E731
jac = lambda x: f.grad(x) + lam * x                             # noqa: E731
bounds = [(-0.2, 0.2)] * prob.x0.size
res = numopt.minimize(fun, prob.x0, jac=jac, method="l-bfgs-b", bounds=bounds, tol=1e-8)
ref = scipy.optimize.minimize(fun, prob.x0, jac=jac, method="L-BFGS-B", bounds=bounds,
                              options={"gtol": 1e-10, "ftol": 1e-15})
print(f"l-bfgs-b: status {res.status}, F = {res.fun:.10f}, scipy F = {ref.fun:.10f}, "
      f"active bounds {int(np.sum(np.isclose(np.abs(res.x), 0.2)))}")

# %%
# The Newton family's method for bounds, ``"projected-newton"`` (Bertsekas 1982), on the same
# box from Hessian-vector products: once the active set is identified the iteration is Newton's
# method on the free variables, superlinear (the fitted order of the projected gradient's
# last steps is printed).
hvp = lambda x, v: f.hvp(x, v) + lam * v                        # noqa: E731
pn = numopt.minimize(fun, prob.x0, jac=jac, hessp=hvp, method="projected-newton", bounds=bounds, tol=1e-10)
pg = np.asarray(pn.trace["optimality"])
print(f"projected-newton: status {pn.status}, F = {pn.fun:.10f} in {pn.nit} iterations, |x - x_l-bfgs-b| = "
      f"{np.max(np.abs(pn.x - res.x)):.1e}, fitted order {rates.fit_order(pg, floor=1e-12).p:.2f}")
