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
    if opts["regularization"] == "quadratic":
        return (yield from _lazy_quadratic(problem, x0, opts))
    if opts["regularization"] != "cubic":
        raise ValueError(f"`regularization` must be 'cubic' or 'quadratic', got {opts['regularization']!r}")
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


def _hessian_eig(f, x):
    H = np.asarray(f.hess(x), dtype=float)
    if not np.all(np.isfinite(H)):
        return None
    return np.linalg.eigh(0.5 * (H + H.T))


def _lazy_quadratic(problem, x0, opts):
    """Lazy Newton with quadratic (gradient) regularization for convex f (Doikov, Chayti &
    Jaggi 2023, Sec. on convex functions): ``x+ = x - (H + lam I)^{-1} grad f(x)`` with
    ``lam = sqrt(M ||grad f(x)||)``, H the Hessian of the last snapshot (eigendecomposed
    once per m steps). M adapts: doubled until the acceptance test
    ``<grad f(x+), x - x+> >= ||grad f(x+)||^2 / (4 lam)`` holds, halved after a success."""
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
    while True:
        if k % m == 0:
            eig = _hessian_eig(f, x)
            if eig is None:
                return 2, "non-finite Hessian"
            lam_H, U = eig
            if lam_H[0] < -1e-10 * max(1.0, abs(lam_H[-1])):
                return 5, ("the Hessian is indefinite: the quadratic-regularization variant is for convex "
                           "functions (use regularization='cubic')")
        Ug = U.T @ g
        gn = float(np.linalg.norm(g))
        for _ in range(60):
            lam = math.sqrt(M * gn)
            h = -(U @ (Ug / (np.maximum(lam_H, 0.0) + lam)))
            fn, gnew = f.value_and_grad(x + h)
            if np.isfinite(fn) and -(gnew @ h) >= (gnew @ gnew) / (4 * lam):
                break
            M *= 2.0
        else:
            return 5, "no accepted step (is the gradient/Hessian correct?)"
        x, fx, g = x + h, fn, gnew
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
             "M_min": (1e-10, "Lower bound on the adaptive M."),
             "regularization": ("cubic", "'cubic' (any f) or 'quadratic' (convex f: lam = sqrt(M ||grad f||))")},
    optimality="||grad f(x_k)||",
    rate_text="min_i ||grad f(x_i)|| = O((sqrt(m) L^{1/2} (f(x0) - f*) / k)^{2/3}) with one Hessian per m steps; "
              "local superlinear convergence (Doikov, Chayti & Jaggi 2023). Quadratic regularization, convex f: "
              "O(1/k^2) global rate (Mishchenko 2023; Doikov & Nesterov 2024), m-dependent constant.",
    rate=None,
    reference="N. Doikov, E.M. Chayti, M. Jaggi. Second-order optimization with lazy Hessians. ICML 2023; "
              "Y. Nesterov, B. Polyak. Cubic regularization of Newton method. Math. Program. 108 (2006)."))


# --- gradient-regularized Newton with approximate Hessians --------------------------------

def _empirical_fisher(f, x):
    """(1/n) sum_i g_i g_i^T with g_i the per-sample gradients: closed form for f = loss(A x)
    (LinearComposite with 1-D predictions), else ``grad_batch(x, [i])`` for each sample of a
    finite-sum objective (e.g. softmax regression on flattened weights)."""
    if not (hasattr(f, "A") and hasattr(getattr(f, "loss", None), "grad_at")):
        G = np.stack([np.asarray(f.grad_batch(x, np.array([i])), dtype=float).ravel() for i in range(f.n_samples)])
        return G.T @ G / f.n_samples
    A, loss = f.A, f.loss
    z = A @ x
    n = A.shape[0]
    d = loss.grad_at(z, np.arange(n)) * n  # phi_i'(z_i)
    As = A.multiply(d[:, None]).tocsr() if hasattr(A, "multiply") and not isinstance(A, np.ndarray) else A * d[:, None]
    F = As.T @ As / n
    return np.asarray(F.toarray() if hasattr(F, "toarray") else F, dtype=float)


def _grad_reg_newton(problem, x0, opts):
    """x+ = x - (H + lam B)^{-1} grad f(x), lam = ||grad f(x)|| / gamma (Semenov, Jaggi &
    Doikov 2025); gamma doubled after an accepted step, halved after a rejected one."""
    f = problem.objective
    x = np.asarray(x0, dtype=float).copy()
    out = np.asarray(x0).dtype
    gamma = float(opts["gamma0"])
    if gamma <= 0:
        raise ValueError("`gamma0` must be > 0")
    approx = opts["hessian"]
    inner = getattr(f, "f", f)
    if approx == "empirical-fisher" and not (
            (hasattr(inner, "A") and hasattr(getattr(inner, "loss", None), "grad_at"))
            or (hasattr(inner, "grad_batch") and hasattr(inner, "n_samples"))):
        raise ValueError("hessian='empirical-fisher' needs per-sample gradients: a numopt.LinearComposite or a "
                         "finite-sum objective with n_samples and grad_batch(x, idx)")
    if not (approx in ("exact", "empirical-fisher") or callable(approx)):
        raise ValueError("`hessian` must be 'exact', 'empirical-fisher' or a callable x -> matrix")
    B = opts["B"]
    fx, g = f.value_and_grad(x)
    yield Step(x.astype(out), fx, float(np.linalg.norm(g)), jac=g)
    while True:
        if approx == "exact":
            H = np.asarray(f.hess(x), dtype=float)
        elif approx == "empirical-fisher":
            H = _empirical_fisher(inner, x)
        else:
            H = np.asarray(approx(x), dtype=float)
        if not np.all(np.isfinite(H)):
            return 2, "non-finite Hessian approximation"
        Bm = np.eye(x.size) if B is None else np.asarray(B, dtype=float)
        gn = float(np.linalg.norm(g))
        for _ in range(80):
            lam = gn / gamma
            try:
                d = np.linalg.solve(H + lam * Bm, g)
            except np.linalg.LinAlgError:
                gamma *= 0.5
                continue
            fn, gnew = f.value_and_grad(x - d)
            if np.isfinite(fn) and fn <= fx - opts["c"] * (g @ d) and g @ d > 0:
                break
            # decrease lost in rounding near the solution: accept a step that shrinks the gradient
            if np.isfinite(fn) and abs(fn - fx) <= 1e-14 * max(1.0, abs(fx)) and gnew @ gnew < gn * gn:
                break
            gamma *= 0.5
        else:
            return 5, "no accepted step after 80 halvings of gamma"
        x, fx, g = x - d, fn, gnew
        gamma *= 2.0
        yield Step(x.astype(out), fx, float(np.linalg.norm(g)), jac=g, gamma=gamma, lam=lam)


def _logreg_example(xp):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 5))
    b = np.sign(A @ rng.standard_normal(5) + 0.5 * rng.standard_normal(40))

    def fun(w):
        return float(np.mean(np.logaddexp(0.0, -b * (A @ w))) + 0.05 * w @ w)

    def jac(w):
        s = 1.0 / (1.0 + np.exp(b * (A @ w)))
        return -(A.T @ (b * s)) / 40 + 0.1 * w

    def hess(w):
        s = 1.0 / (1.0 + np.exp(-b * (A @ w)))
        return (A.T * (s * (1 - s))) @ A / 40 + 0.1 * np.eye(5)

    return dict(fun=fun, jac=jac, hess=hess, x0=np.zeros(5))


register(MethodSpec(
    name="grad-reg-newton", family="second_order",
    summary="Gradient-regularized Newton x+ = x - (H + ||grad f||/gamma B)^{-1} grad f, exact or approximate H, adaptive gamma",
    solve=_grad_reg_newton, requires=("grad",), backends=("numpy",), example=_logreg_example,
    options={"tol": (1e-8, "Tolerance on ||grad f||."),
             "gamma0": (1.0, "Initial gamma (doubled after accepted steps, halved after rejected ones)."),
             "hessian": ("exact", "'exact' (needs hess), 'empirical-fisher' (LinearComposite objectives) or a callable x -> matrix."),
             "B": (None, "Regularization matrix (default identity)."),
             "c": (0.25, "Acceptance: f(x+) <= f(x) - c <grad f(x), d>, d = x - x+.")},
    optimality="||grad f(x_k)||",
    rate_text="With the regularizer lam = ||grad f|| / gamma the method adapts to the gradient-normalized smoothness "
              "of f: global rates of Newton-type methods (e.g. O(1/k^2) for convex f with Lipschitz Hessian) without "
              "knowing constants; with an approximate H the rate degrades with the approximation error "
              "(Semenov, Jaggi & Doikov 2025).",
    rate=None,
    reference="A. Semenov, M. Jaggi, N. Doikov. Gradient-normalized smoothness for optimization with approximate "
              "Hessians. 2025; K. Mishchenko. Regularized Newton method with global O(1/k^2) convergence. SIOPT 2023."))


# --- saddle-free Newton -----------------------------------------------------------------

def _saddle_free(problem, x0, opts):
    """x+ = x - t |H|^{-1} grad f with |H| = U |Lambda| U^T (eigenvalues floored at
    ``damping``) and backtracking on f (Dauphin et al. 2014). At a point with (almost) no
    gradient but negative curvature, the step follows the most negative eigenvector.
    Optimality: ||grad f|| + max(0, -lambda_min(H)) (second-order stationarity)."""
    f = problem.objective
    x = np.asarray(x0, dtype=float).copy()
    out = np.asarray(x0).dtype
    damp = float(opts["damping"])
    if damp <= 0:
        raise ValueError("`damping` must be > 0")
    fx, g = f.value_and_grad(x)
    eig = _hessian_eig(f, x)
    if eig is None:
        return 2, "non-finite Hessian"
    yield Step(x.astype(out), fx, float(np.linalg.norm(g)) + max(0.0, -float(eig[0][0])), jac=g)
    while True:
        lam, U = eig
        Ug = U.T @ g
        d = U @ (Ug / np.maximum(np.abs(lam), damp))
        slope = float(g @ d)
        if lam[0] < -damp and np.linalg.norm(Ug) <= 1e-8 * max(1.0, abs(fx)):
            d = -U[:, 0] * math.sqrt(-lam[0])  # negative-curvature direction (sign is irrelevant)
            slope = 0.0
        t = 1.0
        for _ in range(60):
            fn, gnew = f.value_and_grad(x - t * d)
            if np.isfinite(fn) and fn <= fx - 1e-4 * t * slope and fn < fx:
                break
            t *= 0.5
        else:
            return 5, "line search failed: no decrease along the saddle-free Newton direction"
        x, fx, g = x - t * d, fn, gnew
        eig = _hessian_eig(f, x)
        if eig is None:
            return 2, "non-finite Hessian"
        yield Step(x.astype(out), fx, float(np.linalg.norm(g)) + max(0.0, -float(eig[0][0])), jac=g,
                   step_size=t, min_eig=float(eig[0][0]))


register(MethodSpec(
    name="saddle-free-newton", family="second_order",
    summary="Saddle-free Newton: Newton step with |H| = U|Lambda|U^T (escapes saddles), backtracking",
    solve=_saddle_free, requires=("grad", "hess"), backends=("numpy",), example=_example,
    options={"tol": (1e-8, "Tolerance on ||grad f||."),
             "damping": (1e-6, "Floor on |eigenvalues| of the Hessian.")},
    optimality="||grad f(x_k)|| + max(0, -lambda_min(hess f(x_k)))",
    rate_text="Local quadratic convergence near nondegenerate minimizers (|H| = H there); repelled from strict "
              "saddles, where plain Newton is attracted (Dauphin et al. 2014). No global rate.",
    rate=None,
    reference="Y. Dauphin, R. Pascanu, C. Gulcehre, K. Cho, S. Ganguli, Y. Bengio. Identifying and attacking the "
              "saddle point problem in high-dimensional non-convex optimization. NeurIPS 2014."))
