"""Pieces shared by the bilevel methods: option checks, the step report (dtype of the
starting points), the inner gradient descent, curvature estimates, minibatch sampling and
the small example instances of the registry's contract tests."""
from __future__ import annotations

import math

import numpy as np

from ..._loop import Step
from ..._options import Interval, NoneOr, Option, Seed, generator

# ------------------------------------------------------------------------ option checks

POSITIVE = Interval(0, math.inf, open=("lo", "hi"))      # finite and > 0
NONNEGATIVE = Interval(0, math.inf, open=("hi",))         # finite and >= 0
UNIT_OPEN = Interval(0, 1, open=("lo", "hi"))             # (0, 1)


def count(lo=1):
    """An integer >= lo."""
    return Interval(lo, integer=True)


class BatchSize:
    """A minibatch size: an integer >= 1 for both levels, or a pair (upper, lower) of such
    integers or None (that level is used in full)."""

    _one = Interval(1, integer=True)

    def __call__(self, name, value):
        if isinstance(value, (tuple, list)):
            if len(value) != 2:
                raise ValueError(f"option `{name}` must be an int or a pair (upper, lower), got {value!r}")
            return tuple(None if v is None else self._one(name, v) for v in value)
        return self._one(name, value)

    def __str__(self):
        return "integer >= 1 or a pair (upper, lower) of such integers or None"

    __repr__ = __str__


RngLike = Seed  # the one rng check (numopt._options.Seed)


class InnerSolver:
    """The lower-level solver of the implicit methods: a callable ``inner(x, y0, tol) -> y`` or
    the name of a ``numopt.minimize`` method."""

    def __call__(self, name, value):
        if callable(value):
            return value
        if isinstance(value, str):
            from ..._registry import get_method

            try:
                return get_method(value, kind="minimize").name
            except ValueError as e:
                raise ValueError(f"option `{name}`: {e}") from None
        raise TypeError(f"option `{name}` must be None, a numopt method name or a callable inner(x, y0, tol) -> y, "
                        f"got {type(value).__name__}")

    def __str__(self):
        return "a callable inner(x, y0, tol) -> y or a numopt.minimize method name"

    __repr__ = __str__


def tol_option(default=1e-6, measure="the method's optimality measure"):
    return Option(default, f"Tolerance on {measure} (>= 0).", Interval(0))


def maxiter_option(default, what="outer iterations"):
    return Option(default, f"Maximum number of {what} (default {default}).", Interval(0, integer=True))


RNG = Option(None, "Seed or numpy Generator of the minibatch draws; None = a fixed seed (0): runs are "
                   "reproducible.", NoneOr(RngLike()))
BATCH = Option(None, "Minibatch size (an int for both levels or a pair (upper, lower)); None = full "
                     "(deterministic) oracles. Needs BilevelProblem(..., n_samples=...).", NoneOr(BatchSize()))

# --------------------------------------------------------------------- loop helpers

_UNCAPPED = 10 ** 7  # iteration cap of a generator driven without the front door's maxiter


def iterations(opts):
    """The outer iteration counter of a method's generator: ``range(maxiter + 1)`` (the shared
    loop stops it at ``maxiter`` anyway; the cap keeps every loop bounded on its own)."""
    return range(int(opts.get("maxiter", _UNCAPPED)) + 1)


EXHAUSTED = (1, "Maximum number of iterations reached.")


def _float_dtype(v):
    dt = np.asarray(v).dtype
    return dt if np.issubdtype(dt, np.floating) else np.dtype(np.float64)


def reporter(x0, y0):
    """``step(x, fun, optimality, y, hypergrad=None, **extras) -> Step``: the methods iterate
    in float64 and report x, y and the hypergradient in the floating dtypes of ``x0`` and
    ``y0`` (float32 in, float32 out). The hypergradient is also the Step's ``jac``."""
    dx, dy = _float_dtype(x0), _float_dtype(y0)

    def step(x, fun, optimality, y, hypergrad=None, **extras):
        if hypergrad is not None:
            hypergrad = extras["hypergrad"] = np.asarray(hypergrad).astype(dx)
        return Step(x.astype(dx), fun, optimality, jac=hypergrad, y=y.astype(dy), **extras)
    return step


# ------------------------------------------------------------ inner gradient descent

_MAX_HALVINGS = 60  # backtracking cap: 2^-60 ~ 1e-18 of the trial step


def _gd_min(fg, y, tol, maxiter, step):
    """Gradient descent with backtracking on ``fg(y) -> (value, grad)``; returns (y, ||grad||, step).

    Bounded: at most ``maxiter`` steps of at most ``_MAX_HALVINGS`` halvings each. A non-finite
    value or gradient is never accepted; a non-finite start, or no acceptable step, ends the
    descent at the current point (its gradient norm, possibly NaN, tells the caller)."""
    g, gy = fg(y)
    gn = float(np.linalg.norm(gy))
    if not (math.isfinite(step) and step > 0):
        step = 1.0
    if not (math.isfinite(g) and math.isfinite(gn)):
        return y, (gn if not math.isfinite(gn) else math.nan), step
    for _ in range(maxiter):
        if gn <= tol:
            break
        accepted = False
        for _ in range(_MAX_HALVINGS):
            yn = y - step * gy
            gv, gyn = fg(yn)
            gnn = float(np.linalg.norm(gyn))
            if math.isfinite(gv) and math.isfinite(gnn):
                if gv <= g - 0.5 * step * gn ** 2 or step < 1e-16:
                    accepted = True
                    break
                # values equal to rounding: accept a step that decreases the gradient norm
                if abs(gv - g) <= 1e-13 * max(abs(g), 1.0) and gnn < gn:
                    accepted = True
                    break
            if step < 1e-16:
                break
            step *= 0.5
        if not accepted:
            break
        y, g, gy, gn = yn, gv, gyn, gnn
        step *= 1.5
    return y, gn, step


def _gd_inner(problem, x, y, tol, maxiter, step):
    """Gradient descent on G(x, .) with backtracking; returns (y, ||grad_y G||, step)."""
    return _gd_min(lambda u: problem.lower(x, u)[::2], y, tol, maxiter, step)


def _curvature(matvec, n, iters=30, seed=0):
    """Estimate of the largest |eigenvalue| of a symmetric operator (power iteration); NaN when
    the products are not finite (the callers raise)."""
    v = np.random.default_rng(seed).standard_normal(n)
    lam = 0.0
    for _ in range(iters):
        w = matvec(v / np.linalg.norm(v))
        lam = float(np.linalg.norm(w))
        if not math.isfinite(lam):
            return math.nan
        if lam == 0:
            return 0.0
        v = w
    return lam


def _finite_estimate(value, what):
    """``value`` when finite, else a ValueError saying which estimate failed (an oracle returned
    NaN/inf at the starting point)."""
    if not math.isfinite(value):
        raise ValueError(f"{what} is not finite at the starting point (x0, y0): the oracles (`upper`, `lower` "
                         "or their second-order products) returned NaN or inf there")
    return value


def _lipschitz_constants(problem, x, y):
    """(L_F, L_G): curvature of F and G in y at (x, y), by power iteration on Hessian-vector products."""
    n = y.size
    LF = _curvature(lambda v: problem.upper_hvp_yy(x, y, v), n)
    LG = _curvature(lambda v: problem.hvp_yy(x, y, v), n)
    return (_finite_estimate(LF, "the curvature estimate of F in y"),
            _finite_estimate(LG, "the curvature estimate of G in y"))


# -------------------------------------------------------------------------- minibatches

def _sampler(problem, opts):
    """Minibatch index sampler for the finite-sum levels: ``draw() -> (idx_upper, idx_lower)``
    (None for a level sampled in full). ``batch_size`` (checked by its option) is an int for
    both levels or a pair; indices are drawn uniformly with replacement from ``rng``."""
    bs = opts.get("batch_size")
    if bs is None:
        return lambda: (None, None)
    pair = tuple(bs) if isinstance(bs, (tuple, list)) else (bs, bs)
    if not (problem.is_finite_sum("upper") or problem.is_finite_sum("lower")):
        raise ValueError("`batch_size` needs a finite-sum problem: declare BilevelProblem(..., n_samples=...) "
                         "with upper(x, y, idx) / lower(x, y, idx)")
    sizes = []
    for name, b in zip(("upper", "lower"), pair):
        n = problem._size(name)
        sizes.append(None if n is None or b is None or b >= n else (n, int(b)))
    rng = generator(opts.get("rng"))  # rng=None: a fixed seed (reproducible)

    def draw():
        return tuple(None if s is None else rng.integers(0, s[0], s[1]) for s in sizes)
    return draw


def check_minibatch_oracles(problem, x0, y0, opts):
    """Call the finite-sum oracles once on a 1-sample minibatch: a clear error if they do not
    accept ``idx``."""
    if opts.get("batch_size") is None:
        return
    for name in ("upper", "lower"):
        if problem.is_finite_sum(name):
            try:
                getattr(problem, name)(x0, y0, np.zeros(1, dtype=np.intp))
            except TypeError as e:
                raise TypeError(f"`{name}` must accept (x, y, idx) when n_samples declares it a finite sum "
                                f"({e})") from e


# ------------------------------------------------------------------- example instances

def quadratic_example(xp=np, n=3, seed=0):
    """A small instance for the contract tests: F = 1/2||x - a||^2 + 1/2||y - b||^2,
    G = 1/2||y - B x||^2, so y*(x) = Bx and x* = (I + B^T B)^{-1}(a + B^T b); ``f_star`` is
    F(x*, y*(x*)). Exact second-order products of G (grad_yy G = I, grad_xy G v = -B^T v)."""
    from .problem import BilevelProblem

    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    B = rng.standard_normal((n, n)) / np.sqrt(n)

    def upper(x, y):
        return 0.5 * float((x - a) @ (x - a)) + 0.5 * float((y - b) @ (y - b)), x - a, y - b

    def lower(x, y):
        r = y - B @ x
        return 0.5 * float(r @ r), -B.T @ r, r

    xs = np.linalg.solve(np.eye(n) + B.T @ B, a + B.T @ b)
    P = BilevelProblem(upper, lower, lower_hvp=lambda x, y, v: v, lower_cross=lambda x, y, v: -B.T @ v)
    return {"problem": P, "x0": np.zeros(n), "y0": np.zeros(n), "f_star": upper(xs, B @ xs)[0]}


def coupled_example(xp=np, n=3):
    """LV-HBA's toy (coupled constraint x + y1 + y2 = 0): F = 1/2||x - y2||^2 + 1/2||y1 - e||^2,
    G = 1/2||y1||^2 - x^T y1 + e^T y2; solution x = -0.3e, y1 = 0.7e, y2 = -0.4e, F* = 0.05 n."""
    from .problem import BilevelProblem

    e = np.ones(n)

    def upper(x, y):
        y1, y2 = y[:n], y[n:]
        return (0.5 * float((x - y2) @ (x - y2)) + 0.5 * float((y1 - e) @ (y1 - e)), x - y2,
                np.concatenate([y1 - e, y2 - x]))

    def lower(x, y):
        y1, y2 = y[:n], y[n:]
        return 0.5 * float(y1 @ y1) - float(x @ y1) + float(e @ y2), -y1, np.concatenate([y1 - x, e])

    eye = np.eye(n)
    P = BilevelProblem(upper, lower, coupled=(eye, np.hstack([eye, eye]), np.zeros(n)))
    return {"problem": P, "x0": np.zeros(n), "y0": np.zeros(2 * n), "f_star": 0.05 * n}


def finalize_minibatch(res, problem, opts):
    """The finalize hook of the methods with minibatch versions: with ``batch_size`` the
    trace's ``fun`` holds minibatch estimates; the result gets the full upper value at the
    returned (x, y) and keeps the last estimate as ``fun_minibatch``."""
    if opts.get("batch_size") is not None:
        res.fun_minibatch = res.fun
        res.fun = problem.upper(np.asarray(res.x, dtype=float), np.asarray(res.y, dtype=float))[0]
    return res
