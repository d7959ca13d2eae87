"""Bilevel optimization: ``min_x F(x, y*(x))`` with ``y*(x) = argmin_y G(x, y)``.

Declare the problem once with :class:`BilevelProblem` (``upper(x, y)`` and
``lower(x, y)`` return ``(value, grad_x, grad_y)``; second-order products of G are
``lower_hvp(x, y, v) = grad_yy G v`` and ``lower_cross(x, y, v) = grad_xy G v``, taken from
gradient differences when not given) and pick a method in :func:`bilevel`:

* ``"implicit"``: hypergradient by the implicit function theorem,
  ``dF/dx = grad_x F - grad_xy G [grad_yy G]^{-1} grad_y F`` with the linear system solved
  by conjugate gradient (``linear_solver="cg"``), a truncated Neumann series
  (``"neumann"``, Lorraine, Vicol & Duvenaud, AISTATS 2020) or exactly (``"exact"``); the
  lower level is solved (warm-started) by gradient descent to ``inner_tol``; the upper
  step is a gradient step with backtracking on the (inexact) value function.
* ``"hoag"``: Pedregosa (ICML 2016): the same with inner and linear-system tolerances
  ``eps_k`` from a summable sequence (``eps_k = eps0 * decay^k``) and a step size adapted
  on the value function.
* ``"f2sa"``: fully first-order (Kwon, Kwon, Wright & Nowak, ICML 2023): no second
  derivatives; the penalty ``F(x, y) + lam (G(x, y) - G(x, z))`` is decreased in (x, y)
  and z tracks argmin G(x, .), with the multiplier ``lam_k`` growing as in the paper
  (``lam_k = lam0 (k + 1)^{gamma}``, ``gamma = 1/2`` by default: the deterministic
  schedule of Kwon et al.'s Theorem, not the faster growth of public benchmark code).

Rates: with exact inner solves the implicit method is gradient descent on the value
function (O(1/k) for smooth nonconvex: ``min ||grad Phi||^2``); HOAG converges when
the tolerances are summable (Pedregosa 2016, Thm 2); F2SA reaches an eps-stationary point
in O(eps^{-7/2}) first-order oracle calls in the deterministic setting (Kwon et al. 2023).

The trace records the upper objective ``fun``, the hypergradient norm ``optimality``
and the lower-level optimality residual ``lower_residual = ||grad_y G||``.
"""
from __future__ import annotations

import math

import numpy as np

from .._loop import Step, run_loop
from ..oracles import OracleCounter, check_scalar

__all__ = ["BilevelProblem", "bilevel", "bilevel_hypergradient", "METHODS"]

METHODS = ("implicit", "hoag", "f2sa")


class BilevelProblem:
    """Upper F and lower G of a bilevel problem (see the module docstring)."""

    def __init__(self, upper, lower, lower_hvp=None, lower_cross=None, fd_step=1e-6):
        for name, fn in (("upper", upper), ("lower", lower)):
            if not callable(fn):
                raise TypeError(f"`{name}` must be callable: (x, y) -> (value, grad_x, grad_y)")
        for name, fn in (("lower_hvp", lower_hvp), ("lower_cross", lower_cross)):
            if fn is not None and not callable(fn):
                raise TypeError(f"`{name}` must be callable or None")
        self._upper, self._lower = upper, lower
        self._hvp, self._cross, self.h = lower_hvp, lower_cross, fd_step

    def _call(self, fn, name, x, y):
        out = fn(x, y)
        if not (isinstance(out, tuple) and len(out) == 3):
            raise ValueError(f"`{name}(x, y)` must return (value, grad_x, grad_y)")
        v, gx, gy = float(out[0]), np.asarray(out[1], dtype=float), np.asarray(out[2], dtype=float)
        if gx.shape != np.shape(x) or gy.shape != np.shape(y):
            raise ValueError(f"`{name}` returned grad_x of shape {gx.shape} and grad_y of shape {gy.shape}; "
                             f"expected {np.shape(x)} and {np.shape(y)}")
        return v, gx, gy

    def upper(self, x, y):
        return self._call(self._upper, "upper", x, y)

    def lower(self, x, y):
        return self._call(self._lower, "lower", x, y)

    def _fd(self, x, y, v, part):
        """Central difference of grad_{part} G(x, y) along y-direction v."""
        nv = np.linalg.norm(v)
        if nv == 0:
            return np.zeros_like(y if part == 2 else x)
        t = self.h * max(1.0, np.linalg.norm(y)) / nv
        return (self.lower(x, y + t * v)[part] - self.lower(x, y - t * v)[part]) / (2 * t)

    def hvp_yy(self, x, y, v):
        """grad_yy G v."""
        if self._hvp is not None:
            return np.asarray(self._hvp(x, y, v), dtype=float)
        return self._fd(x, y, v, 2)

    def cross(self, x, y, v):
        """grad_xy G v (maps a y-vector to an x-vector)."""
        if self._cross is not None:
            return np.asarray(self._cross(x, y, v), dtype=float)
        return self._fd(x, y, v, 1)


def _cg(matvec, b, tol, maxiter):
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = r @ r
    bn = math.sqrt(b @ b) or 1.0
    for _ in range(maxiter):
        if math.sqrt(rr) <= tol * bn:
            break
        Ap = matvec(p)
        pAp = p @ Ap
        if pAp <= 0:  # not positive definite along p: stop with what we have
            break
        a = rr / pAp
        x += a * p
        r -= a * Ap
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def bilevel_hypergradient(problem, x, y, *, linear_solver="cg", tol=1e-10, maxiter=1000, neumann_step=None):
    """Hypergradient ``grad Phi(x)`` at (x, y) with y ~ y*(x), by implicit differentiation.

    Returns ``(hypergradient, v)`` with ``v = [grad_yy G]^{-1} grad_y F``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    _, fx, fy = problem.upper(x, y)
    if linear_solver == "cg":
        v = _cg(lambda u: problem.hvp_yy(x, y, u), fy, tol, maxiter)
    elif linear_solver == "exact":
        n = y.size
        H = np.column_stack([problem.hvp_yy(x, y, e) for e in np.eye(n)])
        v = np.linalg.solve(0.5 * (H + H.T), fy)
    elif linear_solver == "neumann":
        if neumann_step is None:
            raise ValueError("linear_solver='neumann' needs neumann_step <= 1 / L_y (the lower smoothness)")
        v = fy.copy()
        term = fy.copy()
        for _ in range(maxiter):
            term = term - neumann_step * problem.hvp_yy(x, y, term)
            v = v + term
            if np.linalg.norm(term) <= tol * max(np.linalg.norm(v), 1e-300):
                break
        v *= neumann_step
    else:
        raise ValueError(f"unknown linear_solver {linear_solver!r}; use 'cg', 'neumann' or 'exact'")
    return fx - problem.cross(x, y, v), v


def _gd_inner(problem, x, y, tol, maxiter, step):
    """Gradient descent on G(x, .) with backtracking; returns (y, ||grad_y G||, step)."""
    g, _, gy = problem.lower(x, y)
    for _ in range(maxiter):
        gn = np.linalg.norm(gy)
        if gn <= tol:
            break
        while True:
            yn = y - step * gy
            gv, _, gyn = problem.lower(x, yn)
            if gv <= g - 0.5 * step * gn ** 2 or step < 1e-16:
                break
            step *= 0.5
        y, g, gy = yn, gv, gyn
        step *= 1.5
    return y, float(np.linalg.norm(gy)), step


def _inner_solver(problem, opts):
    """The lower-level solver: gradient descent (default), a numopt method name, or a
    callable ``inner(x, y0, tol) -> y`` (e.g. a closed form)."""
    inner = opts["inner"]
    if inner is None:
        return None
    if callable(inner):
        return inner
    if isinstance(inner, str):
        from .._minimize import minimize

        def solve(x, y0, tol):
            r = minimize(lambda y: problem.lower(x, y)[0], y0, jac=lambda y: problem.lower(x, y)[2],
                         method=inner, tol=tol, options={"maxiter": opts["inner_maxiter"]})
            return r.x
        return solve
    raise TypeError("`inner` must be None, a numopt method name or a callable inner(x, y0, tol) -> y")


def _implicit(problem, x0, y0, opts, hoag):
    x, y = np.asarray(x0, dtype=float).copy(), np.asarray(y0, dtype=float).copy()
    inner_step, alpha = 1.0, opts["step"]
    custom = _inner_solver(problem, opts)

    def _inner(problem, x, y, tol, maxiter, step):  # noqa: F811 - dispatch to the chosen solver
        if custom is None:
            return _gd_inner(problem, x, y, tol, maxiter, step)
        yn = np.asarray(custom(x, y, tol), dtype=float)
        return yn, float(np.linalg.norm(problem.lower(x, yn)[2])), step

    k = 0
    while True:
        eps = opts["inner_tol"] if not hoag else max(opts["eps0"] * opts["decay"] ** k, opts["inner_tol"])
        y, res, inner_step = _inner(problem, x, y, eps, opts["inner_maxiter"], inner_step)
        Fv = problem.upper(x, y)[0]
        hg, _ = bilevel_hypergradient(problem, x, y, linear_solver=opts["linear_solver"], tol=eps,
                                      maxiter=opts["cg_maxiter"], neumann_step=opts["neumann_step"])
        hn = float(np.linalg.norm(hg))
        yield Step(x.copy(), Fv, hn, y=y.copy(), hypergrad=hg, lower_residual=res, step_size=alpha)
        # backtracking on the (approximate) value function Phi(x) = F(x, y*(x))
        for _ in range(40):
            xn = x - alpha * hg
            yn, _, _ = _inner(problem, xn, y.copy(), eps, opts["inner_maxiter"], inner_step)
            Fn = problem.upper(xn, yn)[0]
            slack = 2 * eps * (1 + abs(Fv)) if hoag else 0.0  # HOAG tolerates inexact values
            if Fn <= Fv - 0.25 * alpha * hn ** 2 + slack:
                break
            alpha *= 0.5
        else:
            return 5, "line search on the value function failed (inaccurate hypergradient?)"
        x, y = xn, yn
        alpha *= 1.2
        k += 1


def _f2sa(problem, x0, y0, opts):
    x, y = np.asarray(x0, dtype=float).copy(), np.asarray(y0, dtype=float).copy()
    z = y.copy()
    a, b = opts["step"], opts["inner_step"]
    lam0, gamma = opts["lam0"], opts["lam_power"]
    k = 0
    while True:
        lam = lam0 * (k + 1) ** gamma
        # inner loops: z -> argmin_z G(x, z); y -> argmin_y F(x, y) + lam G(x, y) (step 1/(lam L_G))
        for _ in range(opts["inner_steps"]):
            z = z - b * problem.lower(x, z)[2]
            y = y - (b / lam) * (problem.upper(x, y)[2] + lam * problem.lower(x, y)[2])
        Fv, fx, _ = problem.upper(x, y)
        _, gx_y, gy_y = problem.lower(x, y)
        _, gx_z, _ = problem.lower(x, z)
        hg = fx + lam * (gx_y - gx_z)  # the penalty's x-gradient approximates grad Phi
        yield Step(x.copy(), Fv, float(np.linalg.norm(hg)), y=y.copy(), hypergrad=hg,
                   lower_residual=float(np.linalg.norm(gy_y)), lam=lam)
        x = x - a * hg
        k += 1


_DEFAULTS = {
    "implicit": {"step": 1.0, "inner": None, "inner_tol": 1e-10, "inner_maxiter": 10000, "linear_solver": "cg",
                 "cg_maxiter": 1000, "neumann_step": None},
    "hoag": {"step": 1.0, "inner": None, "inner_tol": 1e-12, "inner_maxiter": 10000, "linear_solver": "cg", "cg_maxiter": 1000,
             "neumann_step": None, "eps0": 1e-2, "decay": 0.8},
    "f2sa": {"step": 0.05, "inner_step": 0.1, "inner_steps": 10, "lam0": 1.0, "lam_power": 0.5},
}


def bilevel(problem, x0, y0, method="implicit", *, maxiter=100, tol=1e-6, callback=None, **options):
    """Solve a bilevel problem; returns an OptimizeResult with ``x``, ``y``, ``hypergrad``,
    ``fun`` (the upper objective), ``lower_residual`` and ``trace``."""
    if not isinstance(problem, BilevelProblem):
        raise TypeError("`problem` must be a numopt.BilevelProblem")
    if method not in _DEFAULTS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(_DEFAULTS)}")
    opts = dict(_DEFAULTS[method])
    unknown = set(options) - set(opts)
    if unknown:
        raise TypeError(f"unknown option(s) {sorted(unknown)} for method {method!r}; valid: {sorted(opts)}")
    opts.update(options)
    check_scalar(maxiter, "maxiter", lower=0, integer=True)
    x0, y0 = np.asarray(x0, dtype=float), np.asarray(y0, dtype=float)
    problem.upper(x0, y0)
    problem.lower(x0, y0)  # shape checks before the first iteration
    gen = _f2sa(problem, x0, y0, opts) if method == "f2sa" else _implicit(problem, x0, y0, opts, method == "hoag")
    res = run_loop(gen, counter=OracleCounter(), options={"maxiter": maxiter, "max_time": math.inf, "trace": True},
                   callback=callback, tol=tol, method=method)
    for k in ("nfev", "njev", "nhev", "nprox", "nlmo", "nproj", "jac"):
        res.pop(k, None)
    return res
