"""Coordinate descent for fractional minimization (Yuan, "Coordinate Descent Methods for
Fractional Minimization", ICML 2023).

Problem: ``min_x F(x) = (f(x) + lam ||x||_1) / g(x)`` with quadratic
``f(x) = 1/2 x^T A x + a^T x + alpha`` and ``g(x) = 1/2 x^T B x + b^T x + beta > 0``,
optionally over the box ``||x||_inf <= radius``
(sparse Fisher discriminant analysis, l1-regularized Rayleigh quotients / generalized
eigenvalue problems, sparse PCA-type ratios). Each step picks a coordinate i (cyclic or
uniformly at random) and replaces ``x_i`` by a *global* minimizer of the one-dimensional
fractional problem ``t -> F(x + t e_i)``: on each side of the breakpoint ``t = -x_i`` the
numerator and denominator are quadratics ``N(t)``, ``D(t)`` and ``(N/D)' = 0`` reduces to the
quadratic ``(p2 q1 - p1 q2) t^2 + 2 (p2 q0 - p0 q2) t + (p1 q0 - p0 q1) = 0``, so the global
minimizer is among at most seven candidates (two roots per side, the breakpoint, the box
ends, t = 0).

Guarantees (Yuan 2023): F(x_k) is nonincreasing and every limit point is a
*coordinate-wise stationary* point (no single coordinate change lowers F), a stronger
condition than criticality (the paper's optimality hierarchy); with random selection the
expected violation decreases at a sublinear rate. ``A``, ``B`` dense (n x n), ``Ax``/``Bx``
maintained (O(n) per coordinate update, numba loop).

The trace records ``fun`` = F(x) and ``optimality`` = the largest decrease a single
coordinate step would still achieve (0 at a coordinate-wise stationary point). A sweep that
meets a non-finite ratio (a denominator that is no longer positive, NaN data) reports a NaN
optimality: the run ends with status 2 and the last finite iterate, never with success.

Kind. Fractional programs are the problem kind ``"fractional"`` with the front door
:func:`fractional_cd` (``numopt.fractional_cd``; method ``"fractional-cd"``). They do not
run through ``numopt.minimize``: the method needs the quadratic data ``A, B, a, b, alpha,
beta`` and the l1 weight themselves (each coordinate step solves the one-dimensional
ratio exactly from them), not a ``fun``/``jac`` pair. ``x`` comes back in ``x0``'s
floating dtype (the sweeps run in float64). One iteration = one sweep of n coordinate
steps; the default ``maxiter`` is 1000 sweeps. The hot loop is numba (``kernel="auto"``
or ``"numba"``) or the identical Python sweep (``kernel="numpy"``).
"""
from __future__ import annotations

import math

import numpy as np

from .._loop import Step
from .._options import Choices, Interval, Option, generator
from .._registry import MethodSpec, merge_options, register, resolve_options, run_method
from ..oracles import check_scalar
from .dca import numpy_only, pick_method
from .._options import Seed as Rng

# Exported as numopt.<name> (lazily; numopt/__init__.py reads this tuple without importing the module).
__numopt_public__ = ('fractional_cd',)
__all__ = ["fractional_cd", "coordinate_subproblem"]


def coordinate_subproblem(p2, p1, p0, q2, q1, q0, lam, xi, rest_l1, r=math.inf):
    """Global minimizer t of (p2 t^2 + p1 t + p0 + lam |xi + t| + rest_l1) / (q2 t^2 + q1 t + q0)
    over |xi + t| <= r.

    ``p*``/``q*``: the smooth numerator/denominator along the coordinate (``p0 = f(x)``,
    ``q0 = g(x)``); returns (t, value)."""
    return _subproblem(p2, p1, p0, q2, q1, q0, lam, xi, rest_l1, r)


def _subproblem(p2, p1, p0, q2, q1, q0, lam, xi, rest_l1, r):
    best_t, best_v = 0.0, math.inf
    cands = [0.0, -xi, -r - xi, r - xi]
    for s in (1.0, -1.0):
        P1 = p1 + lam * s
        P0 = p0 + lam * s * xi + rest_l1
        a2, a1, a0 = p2 * q1 - P1 * q2, 2.0 * (p2 * q0 - P0 * q2), P1 * q0 - P0 * q1
        if abs(a2) > 1e-300:
            disc = a1 * a1 - 4 * a2 * a0
            if disc >= 0:
                sq = math.sqrt(disc)
                cands += [(-a1 + sq) / (2 * a2), (-a1 - sq) / (2 * a2)]
        elif abs(a1) > 1e-300:
            cands.append(-a0 / a1)
    for t in cands:
        if not math.isfinite(t) or abs(xi + t) > r * (1 + 1e-15):
            continue
        d = q2 * t * t + q1 * t + q0
        if d <= 0:
            continue
        v = (p2 * t * t + p1 * t + p0 + lam * abs(xi + t) + rest_l1) / d
        if v < best_v:
            best_t, best_v = t, v
    return best_t, best_v


def _sweep_py(A, B, a, b, alpha, beta, lam, x, Ax, Bx, order, r):
    fx = 0.5 * x @ Ax + a @ x + alpha
    gx = 0.5 * x @ Bx + b @ x + beta
    l1 = float(np.abs(x).sum())
    best_gain = 0.0
    for i in order:
        F0 = (fx + lam * l1) / gx
        rest = lam * (l1 - abs(x[i]))
        t, v = _subproblem(0.5 * A[i, i], Ax[i] + a[i], fx, 0.5 * B[i, i], Bx[i] + b[i], gx, lam, x[i], rest, r)
        gain = F0 - v
        if not math.isfinite(gain):  # no valid candidate (g <= 0) or NaN: report it (not swallowed by max)
            return math.nan
        best_gain = max(best_gain, gain)
        if t != 0.0 and v < F0:
            fx += 0.5 * A[i, i] * t * t + (Ax[i] + a[i]) * t
            gx += 0.5 * B[i, i] * t * t + (Bx[i] + b[i]) * t
            l1 += abs(x[i] + t) - abs(x[i])
            x[i] += t
            Ax += t * A[:, i]
            Bx += t * B[:, i]
    return best_gain


def _kernel(choice="auto"):
    """The sweep: numba (``"auto"`` when numba is installed, or ``"numba"``) or Python."""
    if choice == "numpy":
        return _sweep_py
    try:
        from ._fractional_numba import sweep
        return sweep
    except ImportError:  # pragma: no cover - numba missing
        if choice == "numba":
            raise ImportError("kernel='numba' needs numba installed (kernel='auto' falls back to Python)") from None
        return _sweep_py


def _value(A, B, a, b, alpha, beta, lam, x):
    g = 0.5 * x @ B @ x + b @ x + beta
    num = 0.5 * x @ A @ x + a @ x + alpha + lam * np.abs(x).sum()
    return (num / g if g > 0 else math.nan), g


class _Fractional:
    """The data of ``(1/2 x^T A x + a^T x + alpha + lam ||x||_1) / (1/2 x^T B x + b^T x + beta)``
    over ``||x||_inf <= radius`` (float64, checked by the front door)."""

    def __init__(self, A, B, a, b, alpha, beta, lam, radius):
        self.A, self.B, self.a, self.b = A, B, a, b
        self.alpha, self.beta, self.lam, self.radius = float(alpha), float(beta), float(lam), float(radius)

    def value(self, x):
        return _value(self.A, self.B, self.a, self.b, self.alpha, self.beta, self.lam, x)


def _solve(p, x0, opts):
    """Check the start against the problem, then return the sweep generator."""
    x = np.array(x0, dtype=float)
    if np.abs(x).max(initial=0.0) > p.radius:
        raise ValueError("`x0` must satisfy ||x0||_inf <= radius")
    if not p.value(x)[1] > 0:
        raise ValueError("the denominator g(x0) must be > 0")
    return _iterate(p, x, x0.dtype, opts, _kernel(opts["kernel"]))


def _iterate(p, x, out, opts, sweep):
    n = x.size
    rng = generator(opts["rng"])  # rng=None: a fixed seed (reproducible)
    random = opts["selection"] == "random"
    A, B, a, b, alpha, beta, lam = p.A, p.B, p.a, p.b, p.alpha, p.beta, p.lam
    Ax, Bx = A @ x, B @ x
    F, _ = p.value(x)
    yield Step(x.astype(out), F, None)  # no sweep yet: the measure is not known (and cannot stop the run)
    for _ in range(opts["maxiter"]):  # bounded (the shared loop stops at maxiter as well)
        order = rng.integers(0, n, size=n) if random else np.arange(n)
        gain = sweep(A, B, a, b, alpha, beta, lam, x, Ax, Bx, order, p.radius)
        F, _ = p.value(x)
        # NaN gain or F: the loop ends with status 2 (math.nan / max(...) stays NaN)
        yield Step(x.astype(out), F, gain / max(1.0, abs(F)) if math.isfinite(F) else math.nan)
    return 1, "Maximum number of iterations reached."


_OPTIONS = {
    "maxiter": Option(1000, "Maximum number of sweeps (default 1000; a sweep = n coordinate steps).",
                      Interval(0, integer=True)),
    "tol": Option(1e-12, "Stop when no coordinate step of a sweep decreases F by more than tol * max(1, |F|).",
                  Interval(0)),
    "selection": Option("cyclic", "Coordinates of a sweep: 'cyclic' (0..n-1) or 'random' (n uniform draws).",
                        Choices("cyclic", "random")),
    "rng": Option(None, "Seed or numpy.random.Generator of random selection; None means seed 0 (reproducible).",
                  Rng()),
    "kernel": Option("auto", "Sweep implementation: 'auto' (numba when installed), 'numba' or 'numpy' "
                             "(the identical Python sweep).", Choices("auto", "numba", "numpy"),
                     aliases=("backend",)),
}


def _example(xp):
    """An l1-regularized Rayleigh quotient on a box (n = 5)."""
    rng = np.random.default_rng(0)
    M = rng.standard_normal((5, 5))
    return {"A": M @ M.T / 5 + 0.1 * np.eye(5), "B": np.eye(5), "x0": np.ones(5), "lam": 0.05, "radius": 2.0}


register(MethodSpec(
    name="fractional-cd", family="fractional_cd", kind="fractional",
    summary="Coordinate descent with globally solved 1-D ratio subproblems for (f + lam||x||_1) / g",
    solve=_solve, options=_OPTIONS, requires=("A", "B"),
    optimality="largest decrease a single coordinate step achieved in the last sweep, relative to max(1, |F|)",
    rate_text="F(x_k) is nonincreasing and limit points are coordinate-wise stationary (no single "
              "coordinate change lowers F), stronger than criticality; random selection: sublinear decrease "
              "of the expected violation (Yuan 2023).",
    reference="G. Yuan, Coordinate Descent Methods for Fractional Minimization, ICML 2023.",
    backends=("numpy",), float64_internal=True, example=_example))


def _data(A, B, x0, a, b, alpha, beta, lam, radius):
    """The problem's arrays as float64, checked (errors name the argument)."""
    for name, arr in (("A", A), ("B", B), ("x0", x0), ("a", a), ("b", b)):
        if arr is not None and np.iscomplexobj(arr):
            raise TypeError(f"`{name}` must be real, got a complex array")
    A = np.asarray(A, dtype=float)
    B = np.asarray(B, dtype=float)
    x0 = np.asarray(x0)
    if x0.ndim != 1:
        raise ValueError(f"`x0` must be a 1-D array, got shape {x0.shape}")
    x0 = x0 if np.issubdtype(x0.dtype, np.floating) else x0.astype(np.float64)
    n = x0.size
    if A.shape != (n, n) or B.shape != (n, n):
        raise ValueError(f"`A` and `B` must be ({n}, {n}) for x0 of size {n}, got {A.shape} and {B.shape}")
    a = np.zeros(n) if a is None else np.asarray(a, dtype=float)
    b = np.zeros(n) if b is None else np.asarray(b, dtype=float)
    for name, arr in (("a", a), ("b", b)):
        if arr.shape != (n,):
            raise ValueError(f"`{name}` must have shape ({n},) to match x0, got {arr.shape}")
    for name, arr in (("A", A), ("B", B), ("a", a), ("b", b), ("x0", x0)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"`{name}` must be finite (got NaN or inf entries)")
    check_scalar(alpha, "alpha")
    check_scalar(beta, "beta")
    if not (math.isfinite(alpha) and math.isfinite(beta)):
        raise ValueError(f"`alpha` and `beta` must be finite, got {alpha!r} and {beta!r}")
    if not (np.allclose(A, A.T) and np.allclose(B, B.T)):
        raise ValueError("`A` and `B` must be symmetric")
    check_scalar(lam, "lam", lower=0)
    check_scalar(radius, "radius", lower=0, lower_inclusive=False)
    return _Fractional(A, B, a, b, alpha, beta, lam, radius), x0


def fractional_cd(A, B, x0, *, a=None, b=None, alpha=0.0, beta=0.0, lam=0.0, radius=math.inf, method=None,
                  tol=None, callback=None, options=None, **kw):
    """Minimize ``(1/2 x^T A x + a^T x + alpha + lam ||x||_1) / (1/2 x^T B x + b^T x + beta)`` by
    coordinate descent with globally solved one-dimensional subproblems (see module doc);
    the front door of the ``"fractional"`` kind (method ``"fractional-cd"``).

    ``radius``: optional box constraint ``||x||_inf <= radius`` (h then also contains its
    indicator; it keeps the minimum attained when the ratio decreases toward infinity).
    ``tol`` (None: 1e-12): stop when no coordinate step decreases F by more than
    ``tol * max(1, |F|)`` during a sweep. Options (``numopt.show_options("fractional-cd")``, as
    keywords or an ``options`` dict):
    ``selection`` ("cyclic": one sweep over n coordinates per iteration, or "random": n
    random coordinates), ``rng`` (None: seed 0), ``maxiter`` (1000 sweeps), ``kernel``
    ("auto"), ``max_time``, ``trace``, ``disp``. ``x`` is returned in ``x0``'s floating dtype."""
    spec = pick_method("fractional", "fractional-cd", method)
    numpy_only(spec, x0, "x0")
    problem, x0 = _data(A, B, x0, a, b, alpha, beta, lam, radius)
    opts = resolve_options(spec, merge_options(options, kw), tol=tol)
    return run_method(spec, problem, x0, opts, callback=callback, counter=None)
