"""Convex sets: one object per set, with every operation a solver may ask of it.

Each set is one class (:class:`Simplex`, :class:`UnitSimplex`, :class:`L1Ball`,
:class:`LpBall`, :class:`Box`, :class:`NonNegative`) with

* ``project(x)``: the Euclidean projection onto the set;
* ``prox(x, step)``: the prox of the set's indicator, which is the projection whatever
  the step (``step`` finite and ``>= 0``, checked);
* ``lmo(direction)`` (also ``set(direction)``): an extreme point minimizing
  ``<direction, s>`` over the set, for Frank-Wolfe methods;
* ``value(x)``: the indicator, 0 inside the set (up to a small rounding slack) and
  ``inf`` outside.

So the same object can be passed as ``prox=`` to a proximal method (ISTA, FISTA) or as
``lmo=`` to a Frank-Wolfe method. ``numopt.prox.Simplex`` and ``numopt.lmo.Simplex`` (and
``L1Ball``) are these very classes; ``numopt.lmo.Box`` is :class:`Box` with its historical
constructor, which requires finite bounds (an unbounded box has no LMO), and
``numopt.prox.Box`` is :class:`Box` itself (infinite bounds allowed; its ``lmo`` then
raises). Every set is a :class:`Regularizer` (an indicator: ``smooth = False``) and an
:class:`LMO`.

Validation helpers shared by :mod:`numopt.prox` and :mod:`numopt.lmo` live here too:
constructor parameters are checked once (a ``ValueError``/``TypeError`` naming the
parameter), ``prox`` checks the step with one scalar comparison, ``lmo`` checks that the
direction is non-empty and finite with one reduction, and a projection of a point with
NaN or inf that cannot propagate it entrywise returns an all-NaN array (NaN in, NaN out).
All code is written against the array API namespace of its input.
"""
from __future__ import annotations

import math

import numpy as np

from ._backend import get_namespace, to_numpy
from .oracles import check_scalar

__all__ = ["Regularizer", "LMO", "ConvexSet", "Simplex", "ProbabilitySimplex", "UnitSimplex", "L1Ball",
           "LpBall", "Box", "NonNegative", "project_simplex", "project_l1_ball"]


# ---------------------------------------------------------------------------- checks

def _pos(x, xp):
    return xp.maximum(x, xp.zeros_like(x))


def _param(value, name, *, lower=None, lower_inclusive=True, upper=None, allow_inf=False):
    """A real scalar parameter: finite (unless ``allow_inf``) and within its bounds."""
    check_scalar(value, name)  # TypeError for non-reals and bools
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"`{name}` must be finite, got {value!r}")
    if lower is not None and (value < lower if lower_inclusive else value <= lower):
        raise ValueError(f"`{name}` must be {'>=' if lower_inclusive else '>'} {lower}, got {value!r}")
    if upper is not None and value > upper:
        raise ValueError(f"`{name}` must be <= {upper}, got {value!r}")
    return float(value)


def _radius(radius):
    return _param(radius, "radius", lower=0, lower_inclusive=False)


def _check_step(step):
    """``step`` finite and >= 0: one scalar comparison on the hot path (a Python or numpy
    float); an array of per-coordinate steps is checked with one reduction each way."""
    if isinstance(step, (float, int)) and not isinstance(step, bool):
        if 0.0 <= step < math.inf:  # False for NaN
            return step
        raise ValueError(f"`step` must be finite and >= 0, got {step!r}")
    if isinstance(step, bool) or step is None or isinstance(step, (str, bytes, complex)):
        raise TypeError(f"`step` must be a real number, got {step!r}")
    try:
        lo, hi = float(np.min(to_numpy(step))), float(np.max(to_numpy(step)))
    except (TypeError, ValueError):
        raise TypeError(f"`step` must be a real number (or an array of them), got {step!r}") from None
    if not (0.0 <= lo and hi < math.inf):  # NaN propagates through min/max and fails here
        raise ValueError(f"`step` must be finite and >= 0, got {step!r}")
    return step


def _all_finite(x, total=None):
    """Whether ``x`` is finite: one sum (NaN/inf propagate; pass ``total`` when the caller
    already has it), the exact elementwise check only when the sum itself is not finite
    (NaN/inf entries, or an overflowing sum)."""
    if isinstance(x, np.ndarray):
        if total is None:
            with np.errstate(over="ignore", invalid="ignore"):
                total = np.add.reduce(x, axis=None)
        return math.isfinite(total) or bool(np.all(np.isfinite(x)))
    xp = get_namespace(x)
    if total is None:
        total = float(xp.sum(x))
    return math.isfinite(total) or bool(xp.all(xp.isfinite(x)))


def _nan_like(x, xp):
    """An all-NaN array like ``x``: the prox of a point with NaN/inf where the operator
    cannot propagate them entrywise (NaN in, NaN out; the caller sees a non-finite point)."""
    return xp.full_like(x, math.nan)


def _check_direction(d):
    """``d`` non-empty (an LMO over R^0 has no vertex to return) and finite: one sum
    (NaN/inf propagate); the exact elementwise check only when the sum itself is not
    finite (NaN/inf entries, or an overflowing sum)."""
    if isinstance(d, np.ndarray):
        if d.size == 0:
            raise ValueError(f"`direction` must be non-empty, got shape {d.shape}")
    elif math.prod(shape := tuple(getattr(d, "shape", np.shape(d)))) == 0:
        raise ValueError(f"`direction` must be non-empty, got shape {shape}")
    if _all_finite(d):
        return d
    raise ValueError("`direction` must be finite (it contains NaN or inf)")


def _check_bounds(lower, upper, *, finite=False):
    """Box bounds: real, not NaN, broadcast-compatible and ``lower <= upper``. Returns
    whether both are finite everywhere."""
    out = []
    for v, name in ((lower, "lower"), (upper, "upper")):
        try:
            a = np.asarray(to_numpy(v), dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"`{name}` must be a real number or an array of them, got {v!r}") from None
        if np.any(np.isnan(a)):
            raise ValueError(f"`{name}` must not contain NaN")
        if finite and not np.all(np.isfinite(a)):
            raise ValueError(f"`{name}` must be finite (the LMO of an unbounded box is undefined)")
        out.append(a)
    lo, hi = out
    if np.any(lo == np.inf):
        raise ValueError("`lower` must be < inf (the box would be empty)")
    if np.any(hi == -np.inf):
        raise ValueError("`upper` must be > -inf (the box would be empty)")
    try:
        bad = lo > hi
    except ValueError:
        raise ValueError(f"`lower` (shape {lo.shape}) and `upper` (shape {hi.shape}) must broadcast") from None
    if np.any(bad):
        i = int(np.flatnonzero(np.broadcast_to(bad, bad.shape))[0])
        raise ValueError(f"`lower` must be <= `upper` (empty box): lower {float(np.broadcast_to(lo, bad.shape).flat[i])}"
                         f" > upper {float(np.broadcast_to(hi, bad.shape).flat[i])} at index {i}")
    return bool(np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)))


def _onehot(xp, i, val, like):
    """The array of ``like``'s shape and dtype with ``val`` at flat index ``i``, 0 elsewhere."""
    if isinstance(like, np.ndarray):  # numpy: skip the array-API detour (hot in FW loops)
        out = np.zeros(like.shape, dtype=like.dtype)
        out.flat[i] = val
        return out
    n = math.prod(like.shape)
    flat = xp.where(xp.arange(n) == i, xp.asarray(val, dtype=like.dtype), xp.zeros(n, dtype=like.dtype))
    return flat if like.ndim == 1 else xp.reshape(flat, like.shape)


def _flat(d, xp):
    return d if d.ndim == 1 else xp.reshape(d, (-1,))


# ---------------------------------------------------------------------------- projections

def project_simplex(x, radius=1.0):
    """Euclidean projection onto {z >= 0, sum z = radius} (sort-based, O(n log n));
    ``radius`` finite and > 0."""
    if not (isinstance(radius, (float, int)) and 0 < radius < math.inf):
        _radius(radius)
    xp = get_namespace(x)
    if x.ndim != 1:
        raise ValueError(f"`x` must be a 1-D array, got shape {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError("`x` must be non-empty (the simplex of R^0 is empty)")
    n = x.shape[0]
    u = xp.flip(xp.sort(x))
    css = xp.cumulative_sum(u)
    if not _all_finite(x, float(css[-1])):  # the total is the one reduction
        return _nan_like(x, xp)  # NaN/inf in: NaN out (sorting cannot place a NaN)
    css = css - radius
    ind = xp.arange(1, n + 1, dtype=x.dtype)
    cond = (u - css / ind) > 0
    rho = int(xp.sum(xp.astype(cond, xp.int32))) - 1  # cond holds on a prefix of the sorted entries
    theta = css[rho] / (rho + 1)
    return _pos(x - theta, xp)


def project_l1_ball(x, radius=1.0):
    """Euclidean projection onto {||z||_1 <= radius}; ``radius`` finite and > 0."""
    if not (isinstance(radius, (float, int)) and 0 < radius < math.inf):
        _radius(radius)
    xp = get_namespace(x)
    total = float(xp.sum(xp.abs(x)))
    if total <= radius:
        return x
    if not _all_finite(x, total):
        return _nan_like(x, xp)  # NaN/inf in: NaN out
    return xp.sign(x) * project_simplex(xp.abs(x), radius)


# ---------------------------------------------------------------------------- bases

class Regularizer:
    """Base class of the terms ``g`` of :mod:`numopt.prox`: ``smooth = False`` (a nonsmooth
    term, or an indicator: only its ``prox`` is meaningful). Smooth subclasses set
    ``smooth = True`` and implement ``grad(x)``."""

    smooth = False


class LMO:
    """Base class of the linear minimization oracles of :mod:`numopt.lmo`: subclasses
    implement ``lmo(d)``; ``__call__`` is the same."""

    def __call__(self, d):
        return self.lmo(d)

    def lmo(self, d):  # pragma: no cover - abstract
        raise NotImplementedError


class ConvexSet(Regularizer, LMO):
    """A closed convex set: ``project``, ``prox`` (= ``project``), ``lmo`` and ``value``
    (its indicator). Subclasses implement ``project``, ``lmo`` and ``value``."""

    def prox(self, x, step):
        _check_step(step)
        return self.project(x)

    def project(self, x):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no Euclidean projection")

    def value(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


# ---------------------------------------------------------------------------- sets

class Simplex(ConvexSet):
    """The (scaled) probability simplex {x >= 0, sum x = radius} (radius finite, > 0).
    LMO: the vertex radius * e_i with the smallest d_i."""

    def __init__(self, radius=1.0):
        self.radius = _radius(radius)

    def value(self, x):
        xp = get_namespace(x)
        ok = bool(xp.all(x >= -1e-10)) and abs(float(xp.sum(x)) - self.radius) <= 1e-8 * max(1, self.radius)
        return 0.0 if ok else math.inf

    def project(self, x):
        return project_simplex(x, self.radius)

    def lmo(self, d):
        _check_direction(d)
        if isinstance(d, np.ndarray):
            return _onehot(np, int(np.argmin(d)), self.radius, d)
        xp = get_namespace(d)
        return _onehot(xp, int(xp.argmin(_flat(d, xp))), self.radius, d)


ProbabilitySimplex = Simplex


class UnitSimplex(ConvexSet):
    """{x >= 0, sum x <= radius} (radius finite, > 0). LMO: radius * e_i for the smallest
    d_i if d_i < 0, else 0."""

    def __init__(self, radius=1.0):
        self.radius = _radius(radius)

    def value(self, x):
        xp = get_namespace(x)
        ok = bool(xp.all(x >= -1e-10)) and float(xp.sum(x)) <= self.radius + 1e-8 * max(1, self.radius)
        return 0.0 if ok else math.inf

    def project(self, x):
        """max(x, 0) when its sum is within the radius, else the projection onto the
        simplex {sum = radius} (the sum constraint is then active)."""
        xp = get_namespace(x)
        y = _pos(x, xp)
        if float(xp.sum(y)) <= self.radius:  # (False for NaN: project_simplex returns NaN)
            return y
        return project_simplex(x, self.radius)

    def lmo(self, d):
        _check_direction(d)
        xp = np if isinstance(d, np.ndarray) else get_namespace(d)
        df = _flat(d, xp)
        i = int(xp.argmin(df))
        return _onehot(xp, i, self.radius if float(df[i]) < 0 else 0.0, d)


class L1Ball(ConvexSet):
    """The l1 ball {||x||_1 <= radius} (radius finite, > 0). LMO: -radius * sign(d_i) e_i
    with i = argmax |d_i|."""

    def __init__(self, radius=1.0):
        self.radius = _radius(radius)

    def value(self, x):
        xp = get_namespace(x)
        return 0.0 if float(xp.sum(xp.abs(x))) <= self.radius * (1 + 1e-10) else math.inf

    def project(self, x):
        return project_l1_ball(x, self.radius)

    def lmo(self, d):
        _check_direction(d)
        xp = np if isinstance(d, np.ndarray) else get_namespace(d)
        df = _flat(d, xp)
        i = int(xp.argmax(xp.abs(df)))
        s = -self.radius if float(df[i]) > 0 else self.radius
        return _onehot(xp, i, s, d)


class LpBall(ConvexSet):
    """{||x||_p <= radius}, 1 < p <= inf. LMO: s = -radius sign(d) |d|^(q-1) / ||d||_q^(q-1),
    1/p + 1/q = 1. Projection: closed form for p = 2 (scaling) and p = inf (clipping); for
    other p there is none (``project``/``prox`` raise NotImplementedError)."""

    def __init__(self, p=2.0, radius=1.0):
        self.p = _param(p, "p", allow_inf=True)
        if self.p <= 1:
            raise ValueError(f"`p` must be > 1 (use L1Ball for p = 1), got {p}")
        self.radius = _radius(radius)

    def _norm(self, x, xp):
        a = xp.abs(x)
        if self.p == math.inf:
            return float(xp.max(a)) if math.prod(x.shape) else 0.0
        return float(xp.sum(a ** self.p)) ** (1 / self.p)

    def value(self, x):
        xp = get_namespace(x)
        return 0.0 if self._norm(x, xp) <= self.radius * (1 + 1e-10) else math.inf

    def project(self, x):
        xp = get_namespace(x)
        if self.p == math.inf:
            return xp.clip(x, -self.radius, self.radius)
        if self.p == 2.0:
            nrm = self._norm(x, xp)
            if nrm <= self.radius:
                return x
            if not math.isfinite(nrm):
                return _nan_like(x, xp)  # NaN/inf in: NaN out
            return x * (self.radius / nrm)
        raise NotImplementedError(f"the projection onto an l_p ball has no closed form for p = {self.p} "
                                  "(only p = 2 and p = inf); use its LMO (Frank-Wolfe methods)")

    def lmo(self, d):
        _check_direction(d)
        xp = get_namespace(d)
        if self.p == math.inf:
            return -self.radius * xp.sign(d)
        q = self.p / (self.p - 1)
        a = xp.abs(d)
        nq = float(xp.sum(a ** q)) ** (1 / q)
        if nq == 0:
            return xp.zeros_like(d)
        return -self.radius * xp.sign(d) * (a / nq) ** (q - 1)


class Box(ConvexSet):
    """The box {lower <= x <= upper} (scalars or arrays; infinite bounds allowed, NaN not;
    ``lower <= upper`` everywhere, else ``ValueError``). LMO: ``lower`` where d > 0,
    ``upper`` elsewhere (ValueError for an unbounded box)."""

    def __init__(self, lower=-math.inf, upper=math.inf):
        self._bounded = _check_bounds(lower, upper)
        self.lower, self.upper = lower, upper

    @property
    def lb(self):  # scipy.optimize.Bounds spelling
        return self.lower

    @property
    def ub(self):
        return self.upper

    def value(self, x):
        xp = get_namespace(x)
        lo = xp.asarray(self.lower, dtype=x.dtype)  # (list bounds too)
        hi = xp.asarray(self.upper, dtype=x.dtype)
        ok = bool(xp.all(x >= lo - 1e-12)) and bool(xp.all(x <= hi + 1e-12))
        return 0.0 if ok else math.inf

    def project(self, x):
        xp = get_namespace(x)
        lo = xp.asarray(self.lower, dtype=x.dtype)
        hi = xp.asarray(self.upper, dtype=x.dtype)
        return xp.minimum(xp.maximum(x, lo), hi)

    def lmo(self, d):
        _check_direction(d)
        if not self._bounded:
            raise ValueError("the LMO of an unbounded box is undefined")
        xp = get_namespace(d)
        lo = xp.asarray(self.lower, dtype=d.dtype) * xp.ones_like(d)
        hi = xp.asarray(self.upper, dtype=d.dtype) * xp.ones_like(d)
        return xp.where(d > 0, lo, hi)


class NonNegative(Box):
    """The nonnegative orthant {x >= 0} (unbounded: no LMO)."""

    def __init__(self):
        super().__init__(0.0, math.inf)

    def __repr__(self):
        return "NonNegative()"
