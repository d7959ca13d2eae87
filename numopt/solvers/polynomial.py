"""Polynomial preconditioning (Doikov & Rodomanov, "Polynomial Preconditioning for
Gradient Methods", ICML 2023): methods ``"poly-gd"`` and ``"poly-fgm"``.

The curvature matrix ``B`` (the Hessian at x0, seen only through Hessian-vector
products) with eigenvalues ``l_1 >= ... >= l_n`` is preconditioned by the symmetric
polynomial of order ``tau``

    P_tau = (1 / e_{tau+1}) * sum_{i=0}^{tau} (-1)^i e_{tau-i} B^i,

``e_k`` the elementary symmetric polynomials of the eigenvalues, obtained from the
traces ``p_k = tr(B^k)`` by Newton's identities ``k e_k = sum_{i=1}^k (-1)^{i-1} e_{k-i} p_i``
(exact traces for n <= ``exact_trace_max``, Hutchinson estimates otherwise).
Applying ``P_tau`` costs ``tau`` products with B. The eigenvalues of ``P_tau B`` are the
volume-sampling inclusion probabilities ``1 - e_{tau+1}(l without l_j) / e_{tau+1}(l)``
in (0, 1], so (shown in the docs and tests)

    kappa(P_tau B) <= (sum_{i > tau} l_i) / l_n:

the gaps between the top tau eigenvalues stop mattering. ``tau = 0`` is ``P = I / tr B``.

* ``poly-gd``: ``x+ = x - h P grad f(x)`` with Armijo backtracking from ``h = 1``;
  rate ``(1 - 1/kappa_tau)^k`` on quadratics.
* ``poly-fgm``: Nesterov's fast gradient method in the metric ``P^{-1}`` (backtracking
  on L from 1); rate ``(1 - 1/sqrt(kappa_tau))^k``.

Optimality measure: ``||grad f(x_k)||``.
"""
from __future__ import annotations

import math

import numpy as np

from .._backend import get_namespace, norm, vdot
from .._loop import Step
from .._registry import MethodSpec, register

__all__ = ["elementary_symmetric_from_traces", "PolynomialPreconditioner"]


def elementary_symmetric_from_traces(p, k_max):
    """e_0..e_kmax from power sums p[1..k_max] (p[0] unused) by Newton's identities."""
    e = [1.0]
    for k in range(1, k_max + 1):
        s = sum((-1) ** (i - 1) * e[k - i] * p[i] for i in range(1, k + 1))
        e.append(s / k)
    return e


class PolynomialPreconditioner:
    """P_tau built from Hessian-vector products ``matvec(v) = B v`` (see module docstring)."""

    def __init__(self, matvec, n, tau, xp, dtype, exact_trace_max=500, n_probes=30, rng=None):
        if tau < 0:
            raise ValueError(f"`tau` must be >= 0, got {tau}")
        self.matvec, self.tau = matvec, tau
        p = [0.0] * (tau + 2)
        if n <= exact_trace_max:
            cols = [matvec(xp.asarray(np.eye(n)[i], dtype=dtype)) for i in range(n)]
            B = np.asarray(np.stack([np.asarray(c) for c in cols], axis=1), dtype=float)
            B = 0.5 * (B + B.T)
            M = np.eye(n)
            for k in range(1, tau + 2):
                M = M @ B
                p[k] = float(np.trace(M))
        else:
            g = np.random.default_rng(rng)
            for _ in range(n_probes):
                z = xp.asarray(g.choice([-1.0, 1.0], size=n), dtype=dtype)
                v = z
                for k in range(1, tau + 2):
                    v = matvec(v)
                    p[k] += vdot(z, v) / n_probes
        self.e = elementary_symmetric_from_traces(p, tau + 1)
        if not all(ek > 0 for ek in self.e[1:]):
            raise ValueError("the curvature matrix is not positive definite (e_{tau+1} <= 0): "
                             "polynomial preconditioning needs a convex problem")
        self.coef = [(-1) ** i * self.e[tau - i] / self.e[tau + 1] for i in range(tau + 1)]

    def __call__(self, g):
        """P g by Horner's rule (tau products with B), in g's dtype."""
        out = self.coef[self.tau] * g
        for i in range(self.tau - 1, -1, -1):
            out = self.matvec(out) + self.coef[i] * g
        if out.dtype != g.dtype:
            out = get_namespace(g).astype(out, g.dtype)
        return out


def _precond(problem, x0, opts):
    f = problem.objective
    xp = get_namespace(x0)
    return PolynomialPreconditioner(lambda v: f.hvp(x0, v), x0.shape[0], opts["tau"], xp, x0.dtype,
                                    opts["exact_trace_max"], opts["n_probes"], opts["rng"])


def _poly_gd(problem, x0, opts):
    f = problem.objective
    P = _precond(problem, x0, opts)
    x = x0
    fx, g = f.value_and_grad(x)
    h = 1.0
    yield Step(x, fx, norm(g), jac=g)
    while True:
        d = P(g)
        gd = vdot(g, d)
        for _ in range(60):
            xn = x - h * d
            fn = f.value(xn)
            if fn <= fx - 0.5 * h * gd + 1e-14 * (1 + abs(fx)):  # slack: rounding of f
                break
            h *= 0.5
        else:
            return 5, "line search failed (is the Hessian-vector product consistent with the gradient?)"
        x, fx = xn, fn
        g = f.grad(x)
        h = min(1.0, 2 * h)
        yield Step(x, fx, norm(g), jac=g, step_size=h)


def _poly_fgm(problem, x0, opts):
    f = problem.objective
    P = _precond(problem, x0, opts)
    x = y = x0
    fx, g = f.value_and_grad(x)
    yield Step(x, fx, norm(g), jac=g)
    L, t = 1.0, 1.0
    fy, gy = fx, g
    while True:
        d = P(gy)
        gd = vdot(gy, d)
        for _ in range(60):
            z = y - d / L
            fz = f.value(z)
            if fz <= fy - gd / (2 * L) + 1e-14 * (1 + abs(fy)):
                break
            L *= 2.0
        else:
            return 5, "line search failed"
        t_new = 0.5 * (1 + math.sqrt(1 + 4 * t * t))
        y_new = z + ((t - 1) / t_new) * (z - x)
        if fz > fx:  # function restart (O'Donoghue & Candès) keeps the method monotone in practice
            t_new, y_new = 1.0, z
        x, fx, t, y = z, fz, t_new, y_new
        fy, gy = f.value_and_grad(y)
        gx = f.grad(x)
        yield Step(x, fx, norm(gx), jac=gx, L=L)


def _example(xp):
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    A = (Q * np.concatenate([np.geomspace(0.1, 1, 6), [30.0, 50.0]])) @ Q.T
    A = xp.asarray(0.5 * (A + A.T))
    b = xp.asarray(rng.standard_normal(8))
    return dict(fun=lambda x: float(0.5 * xp.sum(x * (A @ x)) - xp.sum(b * x)), jac=lambda x: A @ x - b,
                hessp=lambda x, v: A @ v, x0=xp.zeros(8, dtype=xp.float64))


_OPTS = {"tol": (1e-8, "Tolerance on ||grad f||."),
         "tau": (2, "Order of the symmetric polynomial (tau products with B per step)."),
         "exact_trace_max": (500, "Exact traces (n Hessian-vector products) up to this dimension."),
         "n_probes": (30, "Hutchinson probes for the traces above exact_trace_max."),
         "rng": (None, "Seed or Generator for the Hutchinson probes.")}
_REF = "N. Doikov, A. Rodomanov. Polynomial Preconditioning for Gradient Methods. ICML 2023."
register(MethodSpec(
    name="poly-gd", family="polynomial", summary="Gradient method with symmetric-polynomial preconditioning",
    solve=_poly_gd, requires=("grad", "hvp"), options=dict(_OPTS), example=_example,
    optimality="||grad f(x_k)||",
    rate_text="Quadratics: f(x_k) - f* <= (1 - 1/kappa_tau)^k (f(x0) - f*), kappa_tau = kappa(P_tau B) "
              "<= (sum_{i>tau} l_i) / l_n.", rate=None, reference=_REF))
register(MethodSpec(
    name="poly-fgm", family="polynomial", summary="Fast gradient method with symmetric-polynomial preconditioning",
    solve=_poly_fgm, requires=("grad", "hvp"), options=dict(_OPTS), example=_example,
    optimality="||grad f(x_k)||",
    rate_text="Quadratics: O((1 - 1/sqrt(kappa_tau))^k), kappa_tau <= (sum_{i>tau} l_i) / l_n.",
    rate=None, reference=_REF))
