"""Projected Newton method for bound constraints (method ``"projected-newton"``).

Solves ``min f(x) s.t. lower <= x <= upper`` with Hessian(-vector) information, following
D. P. Bertsekas, "Projected Newton methods for optimization problems with simple
constraints", SIAM J. Control Optim. 20(2):221-246 (1982). At ``x`` (always in the box)
with gradient ``g``:

1. the epsilon-active set ``A`` collects the variables within ``eps_k`` of a bound whose
   gradient points out of the box (``x_i <= l_i + eps_k, g_i > 0`` or ``x_i >= u_i - eps_k,
   g_i < 0``), ``eps_k = min(epsilon, ||x - P(x - g)||_inf)`` (Bertsekas' rule: it shrinks
   to 0 at a solution, so the active set is identified without zig-zagging);
2. on the free variables ``F`` the Newton system ``H_FF d_F = -g_F`` is solved by
   truncated conjugate gradients with forcing term ``min(0.5, sqrt(||g_F||)) ||g_F||``;
   where CG meets non-positive curvature the system is shifted, ``(H_FF + lam I)``, with
   ``lam`` raised by twice the curvature met until CG runs through (a Levenberg-type
   regularization, as in Newton methods for nonconvex problems; Nocedal & Wright 2006,
   Sec. 3.4); on ``A`` the step is the gradient step ``d_A = -g_A``;
3. a step longer than ``max_step max(1, ||x||_inf)`` is scaled down to that length;
   the Armijo search along the projection arc ``x(a) = P(x + a d)`` accepts
   ``f(x) - f(x(a)) >= sigma g^T (x - x(a))``, halving ``a`` (the form of C. T. Kelley,
   Iterative Methods for Optimization, SIAM 1999, Sec. 5.5; Bertsekas' own test uses
   ``a g_F^T d_F`` on the free variables, which over-predicts the decrease when a long
   Newton step is cut by the projection). S2MPJ's HS3, whose Hessian is singular, gave a
   CG step of norm 5e36 and failed the search before the cap and this test.

Without bounds it is a line-search truncated Newton (Newton-CG) method.

Rate (Bertsekas 1982, Props. 2-4): every limit point is stationary; near a local minimizer
with positive definite reduced Hessian and strict complementarity the active set is
identified after finitely many iterations, after which the iteration is Newton's method on
the free variables: superlinear (order 1.5 with this forcing term; quadratic with exact
solves), unit steps accepted.

Optimality measure: the projected gradient in gradient units (as ``l-bfgs-b``):
``||pg||_inf`` with ``pg_i = g_i`` inside the bounds, ``min(g_i, 0)`` at a lower bound,
``max(g_i, 0)`` at an upper bound.
"""
from __future__ import annotations

import math

from .._backend import get_namespace, vdot
from .._hessian import cg
from .._loop import Step
from .._options import Interval, NoneOr, Option
from .._registry import MethodSpec, register
from .lbfgsb import _box, _clip, projected_gradient
from .quasi_newton import _hessian_operator

# Exported as numopt.<name> (lazily; numopt/__init__.py reads this tuple without importing the module).
__numopt_public__ = ()
__all__: list = []


def _active(x, g, lo, hi, eps, xp):
    """The epsilon-active mask (variables held at their bound this iteration)."""
    if lo is None:
        return xp.zeros(x.shape, dtype=xp.bool)
    return ((x <= lo + eps) & (g > 0)) | ((x >= hi - eps) & (g < 0))


def _newton_direction(hv, g, free, opts):
    """(d, CG iterations): truncated CG on the free variables for ``(H_FF + lam I) d_F = -g_F``,
    ``lam = 0`` first; where CG meets non-positive curvature ``kappa`` along a direction,
    the system is solved again with ``lam <- lam + 2 |kappa| + sqrt(eps) (1 + lam)``
    (at most 10 shifts; then steepest descent), so a nonconvex region gives a regularized
    Newton step instead of the short CG iterate before the curvature test."""
    xp = get_namespace(g)
    mask = xp.astype(free, g.dtype)
    gF = g * mask
    gnorm = math.sqrt(vdot(gF, gF, xp))
    if gnorm == 0.0:
        return -g * (1 - mask), 0
    forcing = min(0.5, math.sqrt(gnorm))
    maxit = opts["inner_maxiter"] or 2 * g.shape[0] + 20
    lam, total, dF = 0.0, 0, None
    for _ in range(11):
        dF, info = cg(lambda v, lam=lam: mask * hv(mask * v) + lam * v, -gF, forcing, maxit)
        total += info["iterations"] + 1
        kappa = info["curvature"]
        if kappa is None:
            break
        if not math.isfinite(kappa):
            dF = None
            break
        lam = lam + 2 * abs(kappa) + math.sqrt(float(xp.finfo(g.dtype).eps)) * (1 + lam)
        dF = None
    if dF is None:  # no positive definite shift found: steepest descent on the free variables
        dF = -gF
    return dF - g * (1 - mask), total


def _projected_newton(problem, x0, opts):
    """The projected Newton generator (see the module docstring)."""
    from .first_order import reject_unused_terms

    reject_unused_terms(problem, "projected-newton")
    xp = get_namespace(x0)
    f = problem.objective
    lo, hi, _ = _box(problem, x0, xp)
    sigma, maxls = opts["sigma"], opts["maxls"]
    eps = float(xp.finfo(x0.dtype).eps)
    x = _clip(x0, lo, hi, xp)
    fx, g = f.value_and_grad(x)
    yield Step(x, fx, projected_gradient(x, g, lo, hi, xp), jac=g, n_active=0, cg_iterations=0, step_size=0.0)
    while True:  # bounded by the loop's maxiter
        w = float(xp.max(xp.abs(x - _clip(x - g, lo, hi, xp)))) if lo is not None else 0.0
        active = _active(x, g, lo, hi, min(opts["epsilon"], w), xp)
        d, ncg = _newton_direction(_hessian_operator(f, x), g, ~active, opts)
        mask = xp.astype(~active, g.dtype)
        radius = opts["max_step"] * max(1.0, float(xp.max(xp.abs(x))))
        dmax = float(xp.max(xp.abs(d)))
        if dmax > radius:  # a near-singular Hessian gives huge CG steps: cut to the radius
            d = d * (radius / dmax)
        if not vdot(g * mask, d, xp) <= 0:  # (CG iterates from 0 with positive curvature descend)
            d = -g
        alpha, accepted, flat = 1.0, False, None
        for _ in range(maxls):
            xt = _clip(x + alpha * d, lo, hi, xp)
            ft, gt = f.value_and_grad(xt)
            decrease = vdot(g, x - xt, xp)  # the projected displacement's first-order decrease
            if math.isfinite(ft) and decrease > 0 and fx - ft >= sigma * decrease:
                accepted = True
                break
            if math.isfinite(ft) and ft <= fx + 100 * eps * abs(fx):  # f flat within rounding
                pg_t = projected_gradient(xt, gt, lo, hi, xp)
                if flat is None or pg_t < flat[0]:
                    flat = (pg_t, xt, ft, gt, alpha)
            alpha *= 0.5
        if not accepted:
            # near a solution the decrease is lost in rounding; the trial with the smallest
            # projected gradient among those that do not raise f beyond rounding, if it
            # improves the measure (as l-bfgs-b's approximate Wolfe fallback)
            if flat is None or not flat[0] < projected_gradient(x, g, lo, hi, xp):
                return 5, (f"Armijo search along the projection arc failed after maxls = {maxls} halvings "
                           "(rounding near a solution, or a gradient inconsistent with the function)")
            _, xt, ft, gt, alpha = flat
        x, fx, g = xt, ft, gt
        yield Step(x, fx, projected_gradient(x, g, lo, hi, xp), jac=g,
                   n_active=int(xp.sum(xp.astype(active, xp.int64))), cg_iterations=ncg, step_size=alpha)


def _example(xp):
    """Bound-constrained logistic regression (the quasi-Newton family's instance, x in [-0.2, 0.2])."""
    from .quasi_newton import _example as logreg

    ex = logreg(xp, hessp=True)
    ex["x0"] = xp.zeros_like(ex["x0"])  # inside the box (a point outside would be clipped)
    return dict(ex, bounds=[(-0.2, 0.2)] * 8)


register(MethodSpec(
    name="projected-newton", family="second_order", aliases=("projected_newton", "newton-b"),
    summary="Projected Newton for bounds (Bertsekas 1982): epsilon-active set, truncated CG on the free "
            "variables, Armijo search along the projection arc",
    solve=_projected_newton, requires=("grad", "hvp"), accepts_bounds=True, example=_example,
    backends=("numpy", "cupy"),  # numopt._hessian.cg builds its vectors with numpy's array functions
    options={
        "tol": Option(1e-6, "Tolerance on the projected gradient in gradient units (scipy's `gtol`).",
                      Interval(0), aliases=("gtol",)),
        "maxiter": Option(1000, "Maximum number of iterations (default 1000).", Interval(0, integer=True)),
        "epsilon": Option(1e-3, "Largest width of the epsilon-active band next to a bound (Bertsekas' epsilon; "
                                "the band is min(epsilon, ||x - P(x - g)||_inf)).", Interval(0)),
        "max_step": Option(100.0, "Steps longer than max_step max(1, ||x||_inf) (inf-norm) are scaled down to "
                                  "that length before the arc search (a singular Hessian, e.g. a linear "
                                  "objective direction, makes the CG step unbounded).", Interval(0, open=("lo",))),
        "sigma": Option(1e-4, "Armijo constant of the arc search.", Interval(0, 0.5, open=("lo", "hi"))),
        "maxls": Option(40, "Maximum halvings of the arc search.", Interval(1, integer=True)),
        "inner_maxiter": Option(None, "Maximum CG iterations per Newton system; None: 2 n + 20.",
                                NoneOr(Interval(1, integer=True))),
    },
    optimality="projected gradient in gradient units ||pg||_inf: g_i inside the bounds, min(g_i, 0) at a "
               "lower bound, max(g_i, 0) at an upper bound",
    rate_text="Every limit point is stationary; under second-order sufficiency and strict complementarity "
              "the active set is identified in finitely many iterations and the rate is then that of "
              "Newton's method on the free variables: superlinear, of order 1.5 with the forcing term "
              "min(0.5, sqrt(||g_F||)) (quadratic with exact solves), unit steps accepted (Bertsekas 1982, "
              "Props. 2-4; Dembo, Eisenstat & Steihaug 1982 for the inexact solves).",
    reference="D. P. Bertsekas. Projected Newton methods for optimization problems with simple constraints. "
              "SIAM J. Control Optim. 20(2):221-246 (1982); R. S. Dembo, S. C. Eisenstat, T. Steihaug. "
              "Inexact Newton methods. SIAM J. Numer. Anal. 19(2) (1982)."))
