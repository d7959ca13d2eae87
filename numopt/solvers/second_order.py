"""Second-order methods with lazy Hessians (method ``"lazy-newton"``).

Cubic-regularized Newton that reuses one Hessian for ``m`` steps (Doikov, Chayti &
Jaggi, "Second-order optimization with lazy Hessians", ICML 2023). Every ``m``
iterations the Hessian ``H = U diag(lam) U^T`` is computed and eigendecomposed once;
each step then solves the cubic model

    min_h  <g, h> + 1/2 <H h, h> + M/6 ||h||^3

exactly: ``h = -(H + r I)^{-1} g`` with ``r = M ||h|| / 2`` and ``H + r I`` positive
semidefinite, a 1-D secular equation in ``r`` solved by safeguarded Newton/bisection
in the eigenbasis (O(d^2) per step after the O(d^3) decomposition). ``M`` adapts: it is
halved after a successful step and doubled until ``f(x + h)`` is below the model
(no Lipschitz constant needed). With ``m = d`` the arithmetic cost is a factor
sqrt(d) below cubic Newton with a fresh Hessian each step.

Rate (Doikov et al. 2023, Thm 1): for an L-Lipschitz Hessian, ``min_{i<=k} ||grad
f(x_i)|| = O(sqrt(m) L^{1/2} (f(x0) - f*) / k)^{2/3}`` with one Hessian per m steps;
near a nondegenerate minimizer the convergence is superlinear. Iterates approach
second-order stationary points (the cubic model escapes strict saddles).

Optimality measure (``tol``): ``||grad f(x_k)||``.
"""
from __future__ import annotations

import math

import numpy as np

from .._loop import Step
from .._registry import MethodSpec, register

__all__ = ["cubic_step"]


def cubic_step(lam, Ug, M):
    """Minimizer of <g,h> + 1/2 h^T H h + M/6 ||h||^3 in the eigenbasis of H
    (``lam`` eigenvalues, ``Ug = U^T g``). Returns (h in the eigenbasis, r)."""
    lmin = float(lam.min())
    r_lo = max(0.0, -lmin)

    def norm_h(r):
        return math.sqrt(float(np.sum((Ug / (lam + r)) ** 2)))

    # find r >= r_lo with phi(r) = r - M/2 ||h(r)|| = 0 (phi increasing)
    if r_lo > 0:
        r_lo = r_lo * (1 + 1e-12) + 1e-300
    lo = r_lo
    if lo == 0 and norm_h(1e-300 if lmin <= 0 else 0.0) * M / 2 <= 0:
        return np.zeros_like(Ug), 0.0
    hi = max(2 * lo, 1.0)
    while hi - M / 2 * norm_h(hi) < 0:
        hi *= 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid - M / 2 * norm_h(mid) < 0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-14 * max(1.0, hi):
            break
    r = hi
    return -Ug / (lam + r), r


def _lazy_newton(problem, x0, opts):
    f = problem.objective
    x = np.asarray(x0, dtype=float).copy()
    out = np.asarray(x0).dtype
    m = opts["m"] or x.size
    M = float(opts["M0"])
    if m < 1 or M <= 0:
        raise ValueError("`m` must be >= 1 and `M0` > 0")
    fx, g = f.value_and_grad(x)
    yield Step(x.astype(out), fx, float(np.linalg.norm(g)), jac=g)
    k = 0
    lam = U = None
    while True:
        if k % m == 0:
            H = np.asarray(f.hess(x), dtype=float)
            if not np.all(np.isfinite(H)):
                return 2, "non-finite Hessian"
            lam, U = np.linalg.eigh(0.5 * (H + H.T))
        Ug = U.T @ g
        for _ in range(60):
            hb, r = cubic_step(lam, Ug, M)
            h = U @ hb
            model = float(Ug @ hb + 0.5 * np.sum(lam * hb * hb) + M / 6 * np.linalg.norm(hb) ** 3)
            fn = f.value(x + h)
            if np.isfinite(fn) and fn <= fx + model + 1e-14 * abs(fx):
                break
            M *= 2.0
        else:
            return 5, "cubic regularization could not find a decrease (is the gradient/Hessian correct?)"
        x = x + h
        fx, g = f.value_and_grad(x)
        M = max(M / 2.0, opts["M_min"])
        k += 1
        yield Step(x.astype(out), fx, float(np.linalg.norm(g)), jac=g, M=M, hessian_age=k % m)


def _example(xp):
    def fun(x):
        return float(np.sum((x - 1.0) ** 4) + 0.5 * np.sum(x ** 2))

    return dict(fun=fun, jac=lambda x: 4 * (x - 1.0) ** 3 + x,
                hess=lambda x: np.diag(12 * (x - 1.0) ** 2 + 1.0), x0=np.zeros(4))


register(MethodSpec(
    name="lazy-newton", family="second_order",
    summary="Cubic-regularized Newton with lazy Hessians (one Hessian + eigendecomposition per m steps)",
    solve=_lazy_newton, requires=("grad", "hess"), backends=("numpy",), example=_example,
    options={"tol": (1e-8, "Tolerance on ||grad f||."),
             "m": (None, "Hessian reuse period (default: the dimension d)."),
             "M0": (1.0, "Initial cubic regularization (adapted: halved on success, doubled on failure)."),
             "M_min": (1e-10, "Lower bound on the adaptive M.")},
    optimality="||grad f(x_k)||",
    rate_text="min_i ||grad f(x_i)|| = O((sqrt(m) L^{1/2} (f(x0) - f*) / k)^{2/3}) with one Hessian per m steps; "
              "local superlinear convergence (Doikov, Chayti & Jaggi 2023).",
    rate=None,
    reference="N. Doikov, E.M. Chayti, M. Jaggi. Second-order optimization with lazy Hessians. ICML 2023; "
              "Y. Nesterov, B. Polyak. Cubic regularization of Newton method. Math. Program. 108 (2006)."))
