"""Hypergradients by implicit differentiation: ``grad Phi(x) = grad_x F - grad_xy G
[grad_yy G]^{-1} grad_y F`` with the linear system solved by conjugate gradient, a
truncated Neumann series (Lorraine, Vicol & Duvenaud, AISTATS 2020) or exactly."""
from __future__ import annotations

import math

import numpy as np

from ..._hessian import cg
from ..._options import Interval
from .problem import _finite_start

_POSITIVE = Interval(0, math.inf, open=("lo", "hi"))

__all__ = ["bilevel_hypergradient"]

_cg = cg  # (the one conjugate-gradient loop, numopt._hessian.cg)


def _linear_solve(problem, x, y, fy, linear_solver, tol, maxiter, neumann_step):
    """``v ~ [grad_yy G]^{-1} grad_y F`` by the chosen solver; returns ``(v, info)`` with
    ``info = {"converged", "residual", "iterations"}`` (``residual = ||H v - grad_y F||``
    where measured). Raises ``numpy.linalg.LinAlgError`` when the lower Hessian is found not
    positive definite (CG meets ``p^T H p <= 0``; ``exact``: an eigenvalue <= 0) or the
    Neumann series diverges, and ``ValueError`` on non-finite Hessian-vector products."""
    def hvp(u):
        out = problem.hvp_yy(x, y, u)
        if not np.all(np.isfinite(out)):
            raise ValueError("the lower level's Hessian-vector product grad_yy G v (`lower_hvp`, or gradient "
                             "differences of `lower`) is not finite at (x, y)")
        return out

    if linear_solver == "cg":
        v, info = _cg(hvp, fy, tol, maxiter)
        if info["curvature"] is not None:
            raise np.linalg.LinAlgError(
                f"the lower-level Hessian grad_yy G is not positive definite at (x, y): conjugate gradient met "
                f"the curvature p^T H p / ||p||^2 = {info['curvature']:.3g} <= 0; the implicit hypergradient "
                "needs a lower level that is strongly convex near y (y a strict local minimizer)")
        return v, info
    if linear_solver == "exact":
        n = y.size
        H = np.column_stack([hvp(e) for e in np.eye(n)])
        H = 0.5 * (H + H.T)
        w = np.linalg.eigvalsh(H)
        if not w[0] > 0:
            raise np.linalg.LinAlgError(
                f"the lower-level Hessian grad_yy G is not positive definite at (x, y): smallest eigenvalue "
                f"{w[0]:.3g} <= 0; the implicit hypergradient needs a strongly convex lower level near y")
        v = np.linalg.solve(H, fy)
        return v, {"converged": True, "residual": float(np.linalg.norm(H @ v - fy)), "iterations": 1}
    if linear_solver == "neumann":
        if neumann_step is None:
            raise ValueError("linear_solver='neumann' needs neumann_step <= 1 / L_y (the lower smoothness)")
        neumann_step = _POSITIVE("neumann_step", neumann_step)
        # v = s sum_k (I - s H)^k grad_y F. For H positive definite and s <= 1/L the terms' norms
        # never increase; a term that grows past twice the smallest so far means s H has an
        # eigenvalue outside (0, 2): the series diverges (step too large or H not positive definite)
        v = fy.copy()
        term = fy.copy()
        tn_min = float(np.linalg.norm(fy))
        converged, it = tn_min == 0.0, 0
        for it in range(1, maxiter + 1):
            if converged:
                break
            term = term - neumann_step * hvp(term)
            v = v + term
            tn = float(np.linalg.norm(term))
            if not math.isfinite(tn) or tn > 2.0 * tn_min:
                raise np.linalg.LinAlgError(
                    f"the Neumann series diverges at (x, y) (term {it} has norm {tn:.3g} > 2 x the smallest "
                    f"earlier one, {tn_min:.3g}): neumann_step * grad_yy G has an eigenvalue outside (0, 2), i.e. "
                    "neumann_step > 2 / L_y or the lower-level Hessian is not positive definite")
            tn_min = min(tn_min, tn)
            converged = tn <= tol * max(float(np.linalg.norm(v)), 1e-300)
        v = v * neumann_step
        return v, {"converged": bool(converged), "residual": float(np.linalg.norm(hvp(v) - fy)), "iterations": it}
    raise ValueError(f"unknown linear_solver {linear_solver!r}; use 'cg', 'neumann' or 'exact'")


def _hypergradient(problem, x, y, linear_solver="cg", tol=1e-10, maxiter=1000, neumann_step=None):
    """``(hypergradient, v, info)`` without input checks (the solvers' internal version)."""
    _, fx, fy = problem.upper(x, y)
    if not (np.all(np.isfinite(fx)) and np.all(np.isfinite(fy))):
        raise ValueError("`upper(x, y)` returned a non-finite gradient at (x, y)")
    v, info = _linear_solve(problem, x, y, fy, linear_solver, tol, maxiter, neumann_step)
    hg = fx - problem.cross(x, y, v)
    if not np.all(np.isfinite(hg)):
        raise ValueError("the cross derivative grad_xy G v (`lower_cross`, or gradient differences of `lower`) "
                         "is not finite at (x, y)")
    return hg, v, info


def bilevel_hypergradient(problem, x, y, *, linear_solver="cg", tol=1e-10, maxiter=1000, neumann_step=None,
                          return_info=False):
    """Hypergradient ``grad Phi(x)`` at (x, y) with y ~ y*(x), by implicit differentiation.

    Returns ``(hypergradient, v)`` with ``v = [grad_yy G]^{-1} grad_y F`` (with
    ``return_info=True``: ``(hypergradient, v, info)``, ``info = {"converged", "residual",
    "iterations"}`` of the linear solve; ``converged`` is False when ``maxiter`` ran out first,
    e.g. a deliberately truncated Neumann series).

    Failures are raised, never returned as numbers: ``ValueError`` naming ``x`` or ``y`` when
    they are not finite, and when an oracle returns non-finite values;
    ``numpy.linalg.LinAlgError`` (a ``ValueError`` subclass) when the lower-level Hessian is
    not positive definite (``"cg"``: a direction with ``p^T H p <= 0``; ``"exact"``: an
    eigenvalue <= 0) or the Neumann series diverges (``neumann_step`` too large for the
    lower smoothness, or an indefinite Hessian)."""
    x = np.asarray(_finite_start(x, "x"), dtype=float)
    y = np.asarray(_finite_start(y, "y"), dtype=float)
    maxiter = Interval(0, integer=True)("maxiter", maxiter)
    tol = Interval(0)("tol", tol)
    hg, v, info = _hypergradient(problem, x, y, linear_solver, tol, maxiter, neumann_step)
    return (hg, v, info) if return_info else (hg, v)
