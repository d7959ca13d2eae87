"""
Stochastic methods: SGD's O(1/k) vs variance-reduced linear rates
=================================================================

On a strongly convex finite sum (l2-regularized logistic regression, 400 samples), the
registry states:

* ``"sgd"`` with step ``eta_k ~ 1/k``: ``E f(x_k) - f* = O(1/k)`` (Bottou, Curtis & Nocedal,
  2018, Thm 4.7);
* ``"svrg"`` (Johnson & Zhang, 2013), ``"saga"`` (Defazio et al., 2014), ``"sarah"`` (Nguyen
  et al., 2017): linear convergence in expectation;
* ``"spider"`` (Fang et al., 2018): ``O(n + sqrt(n) / eps^2)`` stochastic gradients for an
  ``eps``-stationary point on smooth nonconvex functions (on this convex instance it
  converges linearly as well);
* ``"local-svrg"`` (Mitra et al., 2021): linear convergence per communication round.

Each method's trace is one point per epoch (``n`` stochastic gradients). The plot
draws ``F(x_k) - F*`` against epochs with the slope ``1/k`` anchored at SGD's first epoch;
the fitted rates are printed (one seeded run each: the statements are in expectation).
"""
import matplotlib.pyplot as plt
import numpy as np

import numopt
import problems
from numopt import rates

prob = problems.get("synthetic/logistic", n=400, p=20, penalty="l2", lam_ratio=0.05)
x_star, f_star = rates.reference_solution(prob)

runs = {}
for m in ("sgd", "svrg", "saga", "sarah", "spider"):
    runs[m] = numopt.minimize(prob, method=m, tol=1e-10, options={"maxiter": 20, "rng": 0})

# local-svrg runs data-parallel: the same data as a row-chunked dask array (4 workers' shards)
import dask.array as da
from numopt.datafits import Logistic
from numopt.prox import SquaredL2

A, y = prob.objective.A, prob.objective.loss.y
dist = numopt.LinearComposite(Logistic(da.from_array(y, chunks=100)), da.from_array(A, chunks=(100, A.shape[1])))
runs["local-svrg"] = numopt.minimize(dist, prob.x0, method="local-svrg", prox=SquaredL2(prob.regularizer.lam),
                                     tol=1e-10, options={"maxiter": 20, "rng": 0})

fig, ax = plt.subplots(figsize=(6, 4))
rates.plot_convergence(runs, f_star, ax=ax)
e_sgd = rates.suboptimality(runs["sgd"], f_star)
k = np.arange(1, runs["sgd"].nit + 1)
ax.semilogy(k, e_sgd[1] / k, "k--", lw=1, label="slope 1/k (sgd statement)")
ax.legend(fontsize=8)
ax.set_xlabel("epoch")
fig.tight_layout()

print(f"sgd: fitted exponent p = {rates.fit_sublinear_rate(e_sgd, start=5).rate:.2f} in e_k ~ C k^-p")
for m in ("svrg", "saga", "sarah", "spider", "local-svrg"):
    e = rates.suboptimality(runs[m], f_star)
    print(f"{m:10s} fitted linear ratio per epoch q = {rates.fit_linear_rate(e, floor=1e-12).rate:.3f} "
          f"({runs[m].nit} epochs, status {runs[m].status})")
