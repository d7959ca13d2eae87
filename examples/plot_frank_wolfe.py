"""
Frank-Wolfe on a polytope face: vanilla vs away-step, pairwise and blended pairwise
===================================================================================

Minimize a strongly convex quadratic over the probability simplex, with the minimizer
in the relative interior of a face (a few coordinates are zero at ``x*``). Vanilla
Frank-Wolfe (``"frank-wolfe"``) states ``f(x_k) - f* <= 2 L D^2 / (k + 2)`` and, on such a
face, zig-zags towards it at about that speed. The active-set variants (``"away-fw"``,
``"pairwise-fw"``, ``"blended-pairwise-fw"``) can drop vertices and state a linear rate
for strongly convex objectives on polytopes (Lacoste-Julien & Jaggi, 2015; Tsuji,
Tanaka & Pokutta, 2022).

The right panel shows the two randomized variants on a least-squares problem over the
simplex: the stochastic method (``"stochastic-fw"``, minibatch gradients) and the
zeroth-order method (``"zeroth-order-fw"``, function values only), both with the stated
``O(t^{-1/3})`` slope (Mokhtari, Hassani & Karbasi 2020; Sahu, Zaheer & Kar 2019),
anchored at the first iterate.
"""
import matplotlib.pyplot as plt
import numpy as np

import numopt
from numopt import rates
from numopt.lmo import Simplex
from numopt.oracles import Problem, QuadraticForm

rng = np.random.default_rng(0)
d = 30
M = rng.standard_normal((60, d))
# the target is a point of a face: the last 10 coordinates of x* are zero
target = np.r_[rng.dirichlet(np.ones(20)), np.zeros(10)] - np.r_[np.zeros(20), 0.05 * np.ones(10)]
b = M @ target
prob = Problem(objective=QuadraticForm(M.T @ M / 60, M.T @ b / 60), x0=np.eye(d)[0],
               feasible_set=Simplex(), name="quadratic on the simplex")
x_star, f_star = rates.reference_solution(prob)
print("zero coordinates of x*:", int(np.sum(x_star < 1e-9)))

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
methods = ("frank-wolfe", "away-fw", "pairwise-fw", "blended-pairwise-fw")
runs = {m: numopt.minimize(prob, method=m, tol=1e-10, options={"maxiter": 250}) for m in methods}
th = rates.theory("frank-wolfe", prob)
print(f"vanilla FW bound {th.formula} with L = {th.constants['L']:.3g}, D = {th.constants['D']:.3g}; "
      f"holds at every iterate: {rates.check_bound(runs['frank-wolfe'], prob).ok}")
for m in methods[1:]:
    e = rates.suboptimality(runs[m], f_star)
    fit = rates.fit_linear_rate(e, floor=1e-12)
    print(f"{m:20s} {runs[m].nit:4d} iterations, fitted linear rate q = {fit.rate:.3f}")
rates.plot_convergence(runs, f_star, bounds={th.label: th}, ax=ax1)
ax1.set_title("strongly convex quadratic, x* on a face")

# randomized variants: least squares (1/n) sum_i (a_i^T x - b_i)^2 / 2 over the simplex
A = rng.standard_normal((200, 10)); y = A @ rng.dirichlet(np.ones(10)) + 0.1 * rng.standard_normal(200)
from numopt.solvers.frank_wolfe import _LeastSquaresSum  # the registry's example finite sum

fun = _LeastSquaresSum(A, y)
ref = numopt.minimize(fun, np.full(10, 0.1), method="pairwise-fw", lmo=Simplex(), tol=1e-12,
                      options={"maxiter": 2000})
runs2 = {
    "stochastic-fw": numopt.minimize(fun, np.eye(10)[0], method="stochastic-fw", lmo=Simplex(),
                                     options={"maxiter": 1000, "batch_size": 10, "rng": 0}),
    "zeroth-order-fw": numopt.minimize(lambda x: fun.value(x), np.eye(10)[0], method="zeroth-order-fw",
                                       lmo=Simplex(), options={"maxiter": 1000, "rng": 0}),
}
rates.plot_convergence(runs2, ref.fun, ax=ax2)
t = np.arange(1, 1001)
for m, style in (("stochastic-fw", "k--"), ("zeroth-order-fw", "k:")):
    e1 = rates.suboptimality(runs2[m], ref.fun)[1]
    ax2.loglog(t, e1 * t ** (-1 / 3), style, lw=1, label=f"slope t^(-1/3) ({m})")
ax2.legend(fontsize=8)
ax2.set_title("stochastic and zeroth-order FW")
fig.tight_layout()
