"""Quasi-Newton, nonlinear conjugate gradient and trust-region Newton-CG methods.

Three line-search engines and one trust-region engine, each registered once:

* ``"lbfgs"``: limited-memory BFGS, two-loop recursion (Nocedal 1980; Liu & Nocedal 1989);
* ``"bfgs"``: BFGS on a dense inverse-Hessian approximation with the Shanno–Phua
  initial scaling (Broyden, Fletcher, Goldfarb, Shanno 1970; Shanno & Phua 1978);
* ``"nonlinear-cg"``: nonlinear conjugate gradient with the Hager–Zhang or the
  Polak–Ribière+ formula (Hager & Zhang 2005; Gilbert & Nocedal 1992);
* ``"trust-ncg"``: Newton's method in a trust region, the step from Steihaug–Toint
  truncated conjugate gradient (Steihaug 1983; Toint 1981).

The line-search methods share :func:`numopt._linesearch.strong_wolfe` (Moré–Thuente).
Everything runs in the array namespace of ``x0`` (numpy, array_api_strict, CuPy);
scalars of the recursions are Python floats. The optimality measure is
``||grad f(x_k)||_inf`` (scipy's ``gtol`` convention; ``norm`` changes the order for
``bfgs`` and ``nonlinear-cg``).

Status codes beyond the loop's: 5 = the line search failed twice in a row (after a
restart from steepest descent), 6 = stagnation: the relative reduction of f fell below
``ftol`` (``lbfgs``) or the trust radius below ``xtol`` (``trust-ncg``) while the
gradient measure is still above ``tol`` (not a first-order certificate).

References
----------
* J. Nocedal. Updating quasi-Newton matrices with limited storage. Math. Comp. 35, 1980.
* D. C. Liu, J. Nocedal. On the limited memory BFGS method for large scale optimization.
  Math. Programming 45, 1989.
* D. F. Shanno, K. H. Phua. Matrix conditioning and nonlinear optimization. Math.
  Programming 14, 1978.
* J. E. Dennis, J. J. Moré. Quasi-Newton methods, motivation and theory. SIAM Review 19, 1977.
* W. W. Hager, H. Zhang. A new conjugate gradient method with guaranteed descent and an
  efficient line search. SIAM J. Optim. 16(1), 2005.
* J. C. Gilbert, J. Nocedal. Global convergence properties of conjugate gradient methods
  for optimization. SIAM J. Optim. 2(1), 1992.
* T. Steihaug. The conjugate gradient method and trust regions in large scale
  optimization. SIAM J. Numer. Anal. 20(3), 1983.
"""
from __future__ import annotations

import math

from .._backend import get_namespace, norm, vdot
from .._function_oracle import confirm_gradient, fd_hint, refine_gradient
from .._linesearch import LineSearchResult, strong_wolfe
from .._loop import Step
from .._options import Choices, Interval, NoneOr, Option
from .._registry import MethodSpec, register

__all__ = []

_STAGNATION = 6


def _gnorm(g, xp, order=math.inf):
    """``||g||_order`` as a Python float (NaN stays NaN: the loop reports it)."""
    a = xp.abs(g)
    if order == math.inf:
        return float(xp.max(a))
    if order == 1:
        return float(xp.sum(a))
    if order == 2:
        return norm(g, xp)
    return float(xp.sum(a ** order)) ** (1.0 / order)


class _Budget:
    """Function evaluations of the run (the front door's counter when there is one),
    against ``maxfun``."""

    def __init__(self, f, maxfun):
        from .._counting import Counted

        self.counter = f.counter if isinstance(f, Counted) else None
        self.own, self.maxfun = 0, maxfun

    def used(self):
        return self.counter.nfev if self.counter is not None else self.own

    def left(self):
        return math.inf if self.maxfun is None else self.maxfun - self.used()

    def message(self):
        return (f"Maximum number of function evaluations (maxfun = {self.maxfun}) reached "
                f"({self.used()} evaluations).")


def _check_wolfe(opts):
    if not opts["c1"] < opts["c2"]:
        raise ValueError(f"options `c1` and `c2` must satisfy 0 < c1 < c2 < 1, got c1 = {opts['c1']}, "
                         f"c2 = {opts['c2']}")


def _reject_terms(problem, method):
    from .first_order import reject_unused_terms

    reject_unused_terms(problem, method)


class _LineSearcher:
    """Runs :func:`strong_wolfe` along ``d`` from ``x`` with one ``value_and_grad`` per trial;
    counts evaluations against ``maxfun``."""

    def __init__(self, f, opts, budget):
        self.f, self.opts, self.budget = f, opts, budget

    def __call__(self, x, fx, g, d, step, xp):
        f = self.f

        def phi(t):
            xt = x + t * d
            ft, gt = f.value_and_grad(xt)
            self.budget.own += 1
            return ft, vdot(gt, d, xp), (xt, gt)

        left = self.budget.left()
        maxls = int(min(self.opts["maxls"], left))
        if maxls < 1:
            return None
        slope = vdot(g, d, xp)
        if not math.isfinite(slope):  # overflow in g'd: no search possible along d
            return LineSearchResult(0.0, fx, slope, None, 0, False, f"non-finite directional derivative g'd = {slope}")
        return strong_wolfe(phi, fx, slope, step=step, c1=self.opts["c1"], c2=self.opts["c2"], maxls=maxls)


def _line_search_engine(problem, x0, opts, method, direction):
    """Shared loop of the line-search methods.

    ``direction`` is an object with ``reset()``, ``is_fresh()`` (no memory: the next
    direction is steepest descent), ``extras()`` (trace entries), ``direction(x, g, xp) ->
    (d, first trial step)`` and ``update(s, y, g_new, step, xp)``; a line search that
    fails along the method's direction is retried once from steepest descent (the
    memory is reset); a second failure ends the run with status 5.
    """
    _reject_terms(problem, method)
    _check_wolfe(opts)
    xp = get_namespace(x0)
    f = problem.objective
    order = opts.get("norm", math.inf)
    budget = _Budget(f, opts["maxfun"])
    search = _LineSearcher(f, opts, budget)
    tol = opts.get("tol")

    def confirmed(x, fx, g):
        """A default forward-difference gradient that meets ``tol`` is not trusted as a
        certificate: central differences there (:func:`confirm_gradient`), memory reset."""
        fx, g, switched = confirm_gradient(f, x, fx, g, _gnorm(g, xp, order), tol)
        if switched:
            direction.reset()
            budget.own += 1
        return fx, g

    x = x0
    fx, g = confirmed(x, *f.value_and_grad(x))
    budget.own += 1
    yield Step(x, fx, _gnorm(g, xp, order), jac=g, **direction.extras())
    ftol = opts.get("ftol", 0.0)
    f_floor = -UNBOUNDED * max(1.0, abs(fx))
    reach = None  # length of the last search's step when it ended still descending (maxls)
    while True:  # bounded by the loop's maxiter
        fresh = direction.is_fresh()
        d, step0 = direction.direction(x, g, xp)
        if fresh and reach is not None:  # start where the last search stopped extrapolating
            step0 = max(step0, reach / max(norm(d, xp), 1e-300))
        reach = None
        ls = search(x, fx, g, d, step0, xp)
        if ls is None:
            return 1, budget.message()
        if not ls.success and not (ls.step > 0 and ls.f < fx):
            if budget.left() < 1:
                return 1, budget.message()
            if not fresh:
                direction.reset()                   # retry once from steepest descent
                d, step0 = direction.direction(x, g, xp)
                ls = search(x, fx, g, d, step0, xp)
                if ls is None:
                    return 1, budget.message()
            if not ls.success and not (ls.step > 0 and ls.f < fx):
                if refine_gradient(f):              # forward differences at their noise floor
                    direction.reset()
                    fx, g = f.value_and_grad(x)
                    budget.own += 1
                    yield Step(x, fx, _gnorm(g, xp, order), jac=g, **direction.extras())
                    continue
                what = "along steepest descent" if fresh else "twice (after a restart from steepest descent)"
                return 5, f"Line search failed {what}: {ls.message}{fd_hint(f)}"
        x_new, g_new = ls.payload
        f_new = ls.f
        if ls.success:
            direction.update(x_new - x, g_new - g, g_new, ls.step, xp)
        else:
            direction.reset()                       # a decrease without the Wolfe conditions
            if ls.dphi < 0:  # still descending at the last trial: f may have no minimum along d
                reach = ls.step * norm(d, xp)
        f_old = fx
        x, (fx, g) = x_new, confirmed(x_new, f_new, g_new)
        yield Step(x, fx, _gnorm(g, xp, order), jac=g, **direction.extras())
        if fx < f_floor:
            return 5, unbounded_message(fx, f_floor)
        if ftol > 0 and (f_old - fx) <= ftol * max(abs(f_old), abs(fx), 1.0):
            return _STAGNATION, (f"Relative reduction of f below ftol = {ftol:g} while the gradient "
                                 f"measure is above tol (stagnation, not a first-order certificate).")
        if budget.left() < 1:
            return 1, budget.message()


#: a run whose f falls below -UNBOUNDED max(1, |f(x0)|) stops: the objective is taken to be
#: unbounded below (Knitro's `objrange` test, made relative to the start)
UNBOUNDED = 1e20


def unbounded_message(fx, floor):
    return (f"The objective appears unbounded below: f = {fx:.6g} < {floor:.3g} = -1e20 max(1, |f(x0)|); "
            "returning the last iterate.")


def _first_step(g, xp):
    """First trial step when no curvature is known: a unit-length move (at most 1)."""
    gn = norm(g, xp)
    return min(1.0, 1.0 / gn) if gn > 0 else 1.0


class _LBFGSDirection:
    """Two-loop recursion over the last ``m`` pairs (s, y), scaled by s'y / y'y."""

    def __init__(self, m, eps):
        self.m, self.eps = m, eps
        self.pairs = []

    def reset(self):
        self.pairs = []

    def is_fresh(self):
        return not self.pairs

    def extras(self):
        return {"memory_used": len(self.pairs)}

    def direction(self, x, g, xp):
        if not self.pairs:
            return -g, _first_step(g, xp)
        q = g
        alphas = []
        for s, y, rho in reversed(self.pairs):
            a = rho * vdot(s, q, xp)
            alphas.append(a)
            q = q - a * y
        s, y, rho = self.pairs[-1]
        r = (1.0 / (rho * vdot(y, y, xp))) * q        # gamma = s'y / y'y
        for (s, y, rho), a in zip(self.pairs, reversed(alphas)):
            b = rho * vdot(y, r, xp)
            r = r + (a - b) * s
        return -r, 1.0

    def update(self, s, y, g_new, step, xp):
        sy = vdot(s, y, xp)
        if sy > self.eps * norm(s, xp) * norm(y, xp):   # skip pairs without curvature
            self.pairs.append((s, y, 1.0 / sy))
            if len(self.pairs) > self.m:
                self.pairs.pop(0)


class _BFGSDirection:
    """Dense inverse-Hessian BFGS; H_0 = (s'y / y'y) I before the first update (Shanno–Phua)."""

    def __init__(self, n, dtype, eps, xp):
        self.n, self.dtype, self.eps, self.xp = n, dtype, eps, xp
        self.H = None

    def reset(self):
        self.H = None

    def is_fresh(self):
        return self.H is None

    def extras(self):
        xp = self.xp
        return {"hess_inv": self.H if self.H is not None else xp.eye(self.n, dtype=self.dtype)}

    def direction(self, x, g, xp):
        if self.H is None:
            return -g, _first_step(g, xp)
        return -(self.H @ g), 1.0

    def update(self, s, y, g_new, step, xp):
        sy = vdot(s, y, xp)
        if not sy > self.eps * norm(s, xp) * norm(y, xp):
            return
        rho = 1.0 / sy
        if self.H is None:
            self.H = (sy / vdot(y, y, xp)) * xp.eye(self.n, dtype=self.dtype)
        H = self.H
        Hy = H @ y
        yHy = vdot(y, Hy, xp)
        col = lambda v: xp.reshape(v, (-1, 1))  # noqa: E731
        row = lambda v: xp.reshape(v, (1, -1))  # noqa: E731
        # H+ = (I - rho s y') H (I - rho y s') + rho s s'
        self.H = H - rho * (col(s) @ row(Hy) + col(Hy) @ row(s)) + (rho * rho * yHy + rho) * (col(s) @ row(s))


class _CGDirection:
    """Nonlinear CG: d+ = -g+ + beta d, beta by Hager–Zhang (with its lower bound eta_k)
    or Polak–Ribière+; steepest descent after a reset or when d+ is not a descent direction."""

    def __init__(self, beta):
        self.beta = beta
        self.d = self.g = None
        self.step = None
        self.slope = None
        self.restarts = 0

    def reset(self):
        self.d = self.g = None

    def is_fresh(self):
        return self.d is None

    def extras(self):
        return {"restarts": self.restarts}

    def direction(self, x, g, xp):
        if self.d is None:
            d = -g
            step = _first_step(g, xp) if self.step is None else self._guess(g, d, xp)
        else:
            d = self.d
            step = self._guess(g, d, xp)
        self.d, self.g = d, g
        return d, step

    def _guess(self, g, d, xp):
        """The last step times the ratio of directional derivatives (Nocedal & Wright, (3.59)),
        so that the first-order change of f is the same as on the last iteration."""
        slope = vdot(g, d, xp)
        if self.slope is None or not slope < 0:
            return 1.0
        return min(1e10, max(1e-10, 1.01 * self.step * self.slope / slope))

    def update(self, s, y, g_new, step, xp):
        d, g = self.d, self.g
        self.step, self.slope = step, vdot(g, d, xp)
        if self.beta == "hz":
            dy = vdot(d, y, xp)
            if not dy > 0:
                beta = None
            else:
                yy = vdot(y, y, xp)
                beta_n = (vdot(y, g_new, xp) - 2.0 * yy / dy * vdot(d, g_new, xp)) / dy
                denom = norm(d, xp) * min(0.01, norm(g, xp))
                eta_k = -1.0 / denom if denom > 0 else -math.inf
                beta = max(beta_n, eta_k)
        else:
            gg = vdot(g, g, xp)
            beta = max(0.0, vdot(g_new, y, xp) / gg) if gg > 0 else None
        d_new = -g_new if beta is None else -g_new + beta * d
        if beta is None or not vdot(g_new, d_new, xp) < 0:   # restart on loss of descent
            d_new = -g_new
            self.restarts += 1
        self.d = d_new


def _lbfgs(problem, x0, opts):
    xp = get_namespace(x0)
    eps = float(xp.finfo(x0.dtype).eps)
    return _line_search_engine(problem, x0, opts, "lbfgs", _LBFGSDirection(opts["memory"], eps))


def _bfgs(problem, x0, opts):
    xp = get_namespace(x0)
    eps = float(xp.finfo(x0.dtype).eps)
    n = int(x0.shape[0])
    return _line_search_engine(problem, x0, opts, "bfgs", _BFGSDirection(n, x0.dtype, eps, xp))


def _nonlinear_cg(problem, x0, opts):
    return _line_search_engine(problem, x0, opts, "nonlinear-cg", _CGDirection(opts["beta"]))


# ---------------------------------------------------------------------------
# Trust-region Newton-CG

def _hessian_operator(f, x):
    """``v -> H(x) v``: one Hessian per iteration when the user gave ``hess`` but no
    ``hessp`` (a FunctionOracle), else the oracle's Hessian-vector product."""
    xp = get_namespace(x)
    if getattr(f, "hvp_forms_hessian", False):  # FunctionOracle's flag (read through the counting wrapper)
        H = f.hess(x)
        product = lambda v: H @ v  # noqa: E731
    else:
        product = lambda v: f.hvp(x, v)  # noqa: E731

    def hv(v):
        out = product(v)
        if not hasattr(out, "dtype"):
            out = xp.asarray(out)
        if out.dtype != x.dtype:  # keep the iterate's dtype (a float64 Hessian, float32 x)
            out = xp.astype(out, x.dtype)
        if tuple(out.shape) != tuple(x.shape):
            raise ValueError(f"the Hessian-vector product (`hessp` / `hess`) returned shape {tuple(out.shape)}, "
                             f"expected {tuple(x.shape)} (the shape of x0)")
        return out
    return hv


def _to_boundary(z, d, radius, xp):
    """The tau >= 0 with ||z + tau d|| = radius (||z|| <= radius)."""
    a, b, c = vdot(d, d, xp), 2.0 * vdot(z, d, xp), vdot(z, z, xp) - radius * radius
    root = math.sqrt(max(b * b - 4.0 * a * c, 0.0))
    return -2.0 * c / (b + root) if b > 0 else (-b + root) / (2.0 * a)


def _steihaug(hv, g, radius, tol, maxiter, xp):
    """Steihaug–Toint CG on the model g'p + p'Hp/2 within ||p|| <= radius.

    Returns ``(p, r, on_boundary, iterations)`` with ``r = g + H p`` (the model's gradient
    at p), so the predicted reduction is ``-(g'p + r'p) / 2`` without another product."""
    z = xp.zeros_like(g)
    r = g
    d = -g
    rr = vdot(r, r, xp)
    if not rr > 0:  # g = 0: the zero step (the outer loop's test decides)
        return z, r, False, 0
    for it in range(1, maxiter + 1):
        Hd = hv(d)
        dHd = vdot(d, Hd, xp)
        if not dHd > 0:  # negative (or zero) curvature: go to the boundary along d
            tau = _to_boundary(z, d, radius, xp)
            return z + tau * d, r + tau * Hd, True, it
        alpha = rr / dHd
        z_next = z + alpha * d
        if norm(z_next, xp) >= radius:
            tau = _to_boundary(z, d, radius, xp)
            return z + tau * d, r + tau * Hd, True, it
        r = r + alpha * Hd
        rr_next = vdot(r, r, xp)
        z = z_next
        if math.sqrt(rr_next) <= tol:
            return z, r, False, it
        d = -r + (rr_next / rr) * d
        rr = rr_next
    return z, r, False, maxiter


def _trust_ncg_steps(problem, x0, opts):
    _reject_terms(problem, "trust-ncg")
    xp = get_namespace(x0)
    f = problem.objective
    n = int(x0.shape[0])
    budget = _Budget(f, opts["maxfun"])
    inner = opts["inner_maxiter"] if opts["inner_maxiter"] is not None else 2 * n
    radius, rmax, eta, xtol = opts["initial_trust_radius"], opts["max_trust_radius"], opts["eta"], opts["xtol"]
    if radius > rmax:
        raise ValueError(f"option `initial_trust_radius` ({radius}) must not exceed `max_trust_radius` ({rmax})")
    tol = opts.get("tol")
    x = x0
    fx, g = f.value_and_grad(x)
    budget.own += 1
    fx, g, switched = confirm_gradient(f, x, fx, g, _gnorm(g, xp), tol)
    budget.own += int(switched)
    yield Step(x, fx, _gnorm(g, xp), jac=g, radius=radius, cg_iterations=0)
    f_floor = -UNBOUNDED * max(1.0, abs(fx))
    while True:  # bounded by the loop's maxiter
        if budget.left() < 1:
            return 1, budget.message()
        gn = norm(g, xp)
        p, r, on_boundary, cg_it = _steihaug(_hessian_operator(f, x), g, radius,
                                              min(0.5, math.sqrt(gn)) * gn, inner, xp)
        predicted = -0.5 * (vdot(g, p, xp) + vdot(r, p, xp))
        x_try = x + p
        f_try, g_try = f.value_and_grad(x_try)
        budget.own += 1
        if predicted > 0 and math.isfinite(f_try) and (fx - f_try) / predicted >= 0:
            ratio = (fx - f_try) / predicted
        else:
            ratio = -1.0  # no model decrease, or a non-finite or increased f: shrink
        if ratio < 0.25:
            radius = 0.25 * min(radius, norm(p, xp))
        elif ratio > 0.75 and on_boundary:
            radius = min(2.0 * radius, rmax)
        if ratio > eta:
            fx, g, switched = confirm_gradient(f, x_try, f_try, g_try, _gnorm(g_try, xp), tol)
            x, budget.own = x_try, budget.own + int(switched)
        yield Step(x, fx, _gnorm(g, xp), jac=g, radius=radius, cg_iterations=cg_it)
        if fx < f_floor:
            return 5, unbounded_message(fx, f_floor)
        if radius <= xtol * max(1.0, norm(x, xp)):
            if refine_gradient(f):  # forward differences at their noise floor: central ones
                fx, g = f.value_and_grad(x)
                budget.own += 1
                radius = opts["initial_trust_radius"]
                continue
            return _STAGNATION, (f"Trust radius {radius:.3g} below xtol = {xtol:g} (relative to ||x||) while "
                                 "the gradient measure is above tol (stagnation, not a first-order "
                                 f"certificate){fd_hint(f)}.")


def _trust_ncg(problem, x0, opts):
    """Plain function (not a generator): fills the size-dependent default of ``maxiter``
    (200 n, scipy's) before the loop reads it."""
    if opts["maxiter"] is None:
        opts["maxiter"] = 200 * int(x0.shape[0])
    return _trust_ncg_steps(problem, x0, opts)


# ---------------------------------------------------------------------------
# Line-search Newton-CG (truncated Newton; scipy's "Newton-CG")

def _truncated_cg(hv, g, tol, maxiter, xp):
    """Conjugate gradient on ``H p = -g`` from ``p = 0``, stopped when ``||H p + g|| <= tol``,
    after ``maxiter`` products, or at the first direction of nonpositive curvature (then
    the last iterate, or ``-g`` if that happens on the first direction: Nocedal & Wright,
    Algorithm 7.1). Returns ``(p, products, curvature_stop)``; ``p`` is a descent
    direction whenever ``g != 0`` (every CG iterate from 0 is one)."""
    z = xp.zeros_like(g)
    r = g
    d = -g
    rr = vdot(r, r, xp)
    for it in range(1, maxiter + 1):
        Hd = hv(d)
        dHd = vdot(d, Hd, xp)
        if not dHd > 0:  # nonpositive (or NaN) curvature
            return (-g if it == 1 else z), it, True
        alpha = rr / dHd
        z = z + alpha * d
        r = r + alpha * Hd
        rr_next = vdot(r, r, xp)
        if math.sqrt(rr_next) <= tol:
            return z, it, False
        d = -r + (rr_next / rr) * d
        rr = rr_next
    return z, maxiter, False


class _NewtonCGDirection:
    """Truncated Newton directions, forcing term ``min(0.5, sqrt(||g||)) ||g||``; after a
    reset (a failed search) one steepest-descent direction."""

    def __init__(self, f, inner):
        self.f, self.inner = f, inner
        self.steepest = False
        self.cg_iterations = 0
        self.curvature_stops = 0

    def reset(self):
        self.steepest = True

    def is_fresh(self):
        return self.steepest

    def extras(self):
        return {"cg_iterations": self.cg_iterations, "curvature_stops": self.curvature_stops}

    def direction(self, x, g, xp):
        if self.steepest:
            return -g, _first_step(g, xp)
        gn = norm(g, xp)
        p, it, curved = _truncated_cg(_hessian_operator(self.f, x), g, min(0.5, math.sqrt(gn)) * gn,
                                      self.inner, xp)
        self.cg_iterations += it
        self.curvature_stops += int(curved)
        if curved and it == 1:  # -g without curvature information: a unit-length first trial
            return p, _first_step(g, xp)
        return p, 1.0

    def update(self, s, y, g_new, step, xp):
        self.steepest = False


def _newton_cg_steps(problem, x0, opts):
    xtol = opts["xtol"]
    inner = opts["inner_maxiter"] if opts["inner_maxiter"] is not None else 20 * int(x0.shape[0])
    xp = get_namespace(x0)
    steps = _line_search_engine(problem, x0, opts, "newton-cg", _NewtonCGDirection(problem.objective, inner))
    x_old = None
    while True:  # the engine's steps, with scipy's xtol test on the mean absolute change of x
        try:
            step = next(steps)
        except StopIteration as stop:
            return stop.value
        yield step
        if xtol > 0 and x_old is not None and float(xp.mean(xp.abs(step.x - x_old))) <= xtol:
            return _STAGNATION, (f"Mean absolute change of x below xtol = {xtol:g} while the gradient measure "
                                 "is above tol (scipy's Newton-CG stops here with success; numopt reports "
                                 "stagnation: not a first-order certificate).")
        x_old = step.x


def _newton_cg(problem, x0, opts):
    """Plain function: fills the size-dependent default of ``maxiter`` (200 n, scipy's)."""
    if opts["maxiter"] is None:
        opts["maxiter"] = 200 * int(x0.shape[0])
    return _newton_cg_steps(problem, x0, opts)


# ---------------------------------------------------------------------------
# Example instance (contract tests) and registration

def _example(xp, hessp=False):
    """l2-regularized logistic regression, 40 samples x 8 features, in namespace ``xp``."""
    import numpy as np

    rng = np.random.default_rng(1)
    A = xp.asarray(rng.standard_normal((40, 8)))
    b = xp.asarray(np.sign(rng.standard_normal(40)))
    lam = 0.1

    def fun(x):
        z = -b * (A @ x)
        return float(xp.sum(xp.logaddexp(xp.zeros_like(z), z))) + 0.5 * lam * float(xp.sum(x * x))

    def jac(x):
        sig = 1.0 / (1.0 + xp.exp(b * (A @ x)))     # sigmoid(-b a'x)
        return -(A.T @ (b * sig)) + lam * x

    def hvp(x, v):
        sig = 1.0 / (1.0 + xp.exp(b * (A @ x)))
        return A.T @ (sig * (1.0 - sig) * (A @ v)) + lam * v

    out = dict(fun=fun, jac=jac, x0=xp.ones(8, dtype=xp.float64))
    if hessp:
        out["hessp"] = hvp
    return out


_TOL = Option(1e-6, "Tolerance on ||grad f(x_k)||_inf (scipy's `gtol`; the `tol` argument overrides it).",
              Interval(0), aliases=("gtol",))
_MAXFUN = Option(None, "Maximum number of function evaluations (one value_and_grad counts one); "
                       "None: no limit beyond maxiter x maxls. Reached: status 1.",
                 NoneOr(Interval(1, integer=True)))
_MAXLS = Option(20, "Maximum number of evaluations per line search.", Interval(1, integer=True))
_MAXITER = Option(15000, "Maximum number of iterations (scipy's default).", Interval(0, integer=True))
_NORM = Option(math.inf, "Order of the norm of the gradient in the optimality measure (inf: max-abs).",
               Interval(1))


def _c(default, what):
    return Option(default, f"{what} constant of the strong Wolfe line search (0 < c1 < c2 < 1).",
                  Interval(0, 1, open=("lo", "hi")))


_OPTIMALITY = "||grad f(x_k)||_inf (gradient max-norm, scipy's gtol measure)"

register(MethodSpec(
    name="lbfgs", family="quasi_newton", aliases=("l-bfgs",), example=_example,
    summary="Limited-memory BFGS (two-loop recursion, Moré–Thuente strong-Wolfe line search)",
    solve=_lbfgs, requires=("grad",), optimality=_OPTIMALITY,
    options={"tol": _TOL, "maxiter": _MAXITER, "maxfun": _MAXFUN, "maxls": _MAXLS,
             "memory": Option(10, "Number of (s, y) pairs kept (scipy's `maxcor`).", Interval(1, integer=True),
                              aliases=("maxcor",)),
             "ftol": Option(0.0, "Stop with status 6 (stagnation, not success) when (f_k - f_{k+1}) / "
                                 "max(|f_k|, |f_{k+1}|, 1) <= ftol. Default 0: off (the test is absolute when "
                                 "|f| < 1 and fires long before the gradient test near f* = 0; scipy's "
                                 "L-BFGS-B uses 2.2e-9 and reports it as success).", Interval(0)),
             "c1": _c(1e-4, "Sufficient-decrease"), "c2": _c(0.9, "Curvature")},
    rate_text="Globally and R-linearly convergent on twice continuously differentiable, strongly "
              "convex functions (Liu & Nocedal 1989, Thm 7.1): f(x_k) - f* <= r^k (f(x_0) - f*) for "
              "some r < 1 depending on the condition number and the memory.",
    reference="J. Nocedal, Math. Comp. 35 (1980); D. C. Liu, J. Nocedal, Math. Programming 45 (1989); "
              "line search: J. J. Moré, D. J. Thuente, ACM TOMS 20(3) (1994)."))

register(MethodSpec(
    name="bfgs", family="quasi_newton", example=_example,
    summary="BFGS with a dense inverse-Hessian approximation (Shanno–Phua scaling, strong-Wolfe line search)",
    solve=_bfgs, requires=("grad",), optimality=_OPTIMALITY.replace("_inf (gradient max-norm, ", " in the "
                                                                      "`norm` order (default inf, "),
    options={"tol": _TOL, "maxiter": _MAXITER, "maxfun": _MAXFUN, "maxls": _MAXLS, "norm": _NORM,
             "c1": _c(1e-4, "Sufficient-decrease"), "c2": _c(0.9, "Curvature")},
    rate_text="Q-superlinear near a minimizer with positive definite, Lipschitz Hessian when unit steps "
              "are eventually accepted (Dennis & Moré 1974/1977); globally convergent on convex functions "
              "with Wolfe steps (Powell 1976). Result extra: hess_inv (the n x n inverse-Hessian approximation).",
    reference="C. G. Broyden (1970), R. Fletcher (1970), D. Goldfarb (1970), D. F. Shanno (1970); "
              "J. E. Dennis, J. J. Moré, SIAM Review 19 (1977); M. J. D. Powell, SIAM-AMS Proc. 9 (1976); "
              "D. F. Shanno, K. H. Phua, Math. Programming 14 (1978)."))

register(MethodSpec(
    name="nonlinear-cg", family="quasi_newton", aliases=("cg",), example=_example,
    summary="Nonlinear conjugate gradient (Hager–Zhang or Polak–Ribière+, strong-Wolfe line search)",
    solve=_nonlinear_cg, requires=("grad",), optimality=_OPTIMALITY.replace("_inf (gradient max-norm, ", " in the "
                                                                              "`norm` order (default inf, "),
    options={"tol": _TOL, "maxiter": _MAXITER, "maxfun": _MAXFUN, "maxls": _MAXLS, "norm": _NORM,
             "beta": Option("hz", "Update formula: 'hz' (Hager–Zhang with the lower bound eta_k) or 'pr+' "
                                  "(Polak–Ribière, clipped at 0).", Choices("hz", "pr+")),
             "c1": _c(1e-4, "Sufficient-decrease"),
             "c2": _c(0.1, "Curvature (0.1: near-exact steps keep conjugacy, n-step termination on "
                           "quadratics; 0.4, scipy's, takes ~20% fewer evaluations on the native CUTEst set "
                           "but fails at tight tol, see docs/quasi_newton.md)")},
    rate_text="Global convergence: 'hz' gives sufficient descent g'd <= -7/8 ||g||^2 and liminf ||g_k|| = 0 "
              "on functions with bounded level sets and Lipschitz gradient under (strong) Wolfe steps "
              "(Hager & Zhang 2005, Thms 1.1, 2.2/3.2); 'pr+' converges globally with sufficient descent "
              "(Gilbert & Nocedal 1992). With exact line searches and restarts every n steps, n-step "
              "quadratic convergence (Cohen 1972); on a strongly convex quadratic with exact steps it is "
              "linear CG (n-step termination). The restart test keeps every direction a descent direction.",
    reference="W. W. Hager, H. Zhang, SIAM J. Optim. 16(1) (2005); J. C. Gilbert, J. Nocedal, SIAM J. Optim. "
              "2(1) (1992); E. Polak, G. Ribière (1969)."))

register(MethodSpec(
    name="trust-ncg", family="quasi_newton", aliases=("newton-cg-tr",), example=lambda xp: _example(xp, True),
    summary="Trust-region Newton-CG (Steihaug–Toint truncated CG, Hessian-vector products)",
    solve=_trust_ncg, requires=("grad", "hvp"), optimality=_OPTIMALITY,
    options={"tol": _TOL, "maxfun": _MAXFUN,
             "maxiter": Option(None, "Maximum number of (outer) iterations; None: 200 n (scipy's default).",
                               NoneOr(Interval(0, integer=True))),
             "initial_trust_radius": Option(1.0, "Initial trust radius.", Interval(0, open=("lo",))),
             "max_trust_radius": Option(math.inf, "Largest trust radius (scipy's default 1000 caps every step "
                                                  "at length 1000: BROWNBS, x* = (1e6, 2e-6), then needs 1000 "
                                                  "iterations).", Interval(0, open=("lo",))),
             "eta": Option(0.15, "Accept the step when actual/predicted reduction > eta.", Interval(0, 0.25,
                                                                                                     open=("hi",))),
             "xtol": Option(1e-12, "Stop with status 6 (stagnation) when the trust radius falls below "
                                   "xtol * max(1, ||x||).", Interval(0)),
             "inner_maxiter": Option(None, "Maximum CG iterations per step; None: 2 n.",
                                     NoneOr(Interval(1, integer=True)))},
    rate_text="Globally convergent to first-order points (Steihaug 1983; Cauchy decrease); with the "
              "forcing term min(0.5, sqrt(||g||)) ||g|| the inner residual is O(||g||^1.5), so the local "
              "rate near a minimizer with positive definite Lipschitz Hessian is superlinear, of order 1.5 "
              "(Dembo, Eisenstat & Steihaug 1982); quadratic with a forcing term of order ||g||.",
    reference="T. Steihaug, SIAM J. Numer. Anal. 20(3) (1983); Ph. L. Toint, Sparse Matrices and Their Uses "
              "(1981); R. S. Dembo, S. C. Eisenstat, T. Steihaug, SIAM J. Numer. Anal. 19(2) (1982)."))

register(MethodSpec(
    name="newton-cg", family="quasi_newton", aliases=("truncated-newton",), example=lambda xp: _example(xp, True),
    summary="Line-search Newton-CG (truncated Newton: CG on the Newton system, strong-Wolfe line search)",
    solve=_newton_cg, requires=("grad", "hvp"), optimality=_OPTIMALITY,
    default_hess="2-point",  # as scipy's Newton-CG: products by differences of the gradient
    options={"tol": _TOL, "maxfun": _MAXFUN, "maxls": _MAXLS,
             "maxiter": Option(None, "Maximum number of (outer) iterations; None: 200 n (scipy's default).",
                               NoneOr(Interval(0, integer=True))),
             "xtol": Option(0.0, "Stop with status 6 (stagnation, not success) when the mean absolute change "
                                 "of x over an iteration is <= xtol (scipy's Newton-CG test, 1e-5 there, where "
                                 "it means success). Default 0: off.", Interval(0)),
             "inner_maxiter": Option(None, "Maximum CG iterations (Hessian-vector products) per step; None: "
                                           "20 n (scipy's).", NoneOr(Interval(1, integer=True))),
             "c1": _c(1e-4, "Sufficient-decrease"), "c2": _c(0.9, "Curvature")},
    rate_text="Globally convergent to first-order points under Wolfe steps (every truncated-CG iterate from 0 "
              "is a descent direction, and the directions are gradient-related; Nocedal & Wright 2006, "
              "Sec. 7.1). Near a minimizer with positive definite Lipschitz Hessian, unit steps are accepted "
              "and the forcing term min(0.5, sqrt(||g||)) ||g|| gives a superlinear local rate of order 1.5 "
              "(Dembo, Eisenstat & Steihaug 1982; Dembo & Steihaug 1983).",
    reference="R. S. Dembo, T. Steihaug, Truncated-Newton algorithms for large-scale unconstrained "
              "optimization, Math. Programming 26 (1983); R. S. Dembo, S. C. Eisenstat, T. Steihaug, SIAM J. "
              "Numer. Anal. 19(2) (1982); J. Nocedal, S. J. Wright, Numerical Optimization, 2nd ed. (2006), "
              "Algorithm 7.1."))
