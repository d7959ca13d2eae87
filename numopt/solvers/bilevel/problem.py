"""The bilevel problem declaration (:class:`BilevelProblem`), checks of the starting
points, and the oracle counter the shared loop reads."""
from __future__ import annotations

import numpy as np

from ..._options import Interval

__all__ = ["BilevelProblem"]


class BilevelProblem:
    """Upper F and lower G of a bilevel problem ``min_x F(x, y*(x))``, ``y*(x) = argmin_y G(x, y)``.

    ``upper(x, y)`` and ``lower(x, y)`` return ``(value, grad_x, grad_y)``; the optional
    second-order products of G are ``lower_hvp(x, y, v) = grad_yy G v`` and
    ``lower_cross(x, y, v) = grad_xy G v`` (a y-vector to an x-vector), taken from central
    differences of the gradients (step ``fd_step``) when not given.

    ``coupled=(Ax, Ay, b)`` declares a lower-level constraint coupling both levels,
    ``Ax x + Ay y = b`` (for each x the lower level is ``min_y G(x, y)`` over that affine
    set); only ``method="lv-hba"`` handles it.

    ``n_samples``: None, an int (both levels are finite sums of that many terms) or a pair
    ``(n_upper, n_lower)`` (None for a level that is not a sum). A finite-sum level's
    callables also accept an index array, ``upper(x, y, idx)``, and return the average over
    those samples (the stochastic versions of f2sa, penalty and bo-rep use them).
    ``counts`` holds the oracle calls and per-sample gradients made so far."""

    def __init__(self, upper, lower, lower_hvp=None, lower_cross=None, fd_step=1e-6, coupled=None, n_samples=None):
        for name, fn in (("upper", upper), ("lower", lower)):
            if not callable(fn):
                raise TypeError(f"`{name}` must be callable: (x, y) -> (value, grad_x, grad_y)")
        for name, fn in (("lower_hvp", lower_hvp), ("lower_cross", lower_cross)):
            if fn is not None and not callable(fn):
                raise TypeError(f"`{name}` must be callable or None")
        if coupled is not None:
            if not (isinstance(coupled, tuple) and len(coupled) == 3):
                raise TypeError("`coupled` must be a tuple (Ax, Ay, b) for the constraint Ax x + Ay y = b")
            Ax, Ay, b = (np.atleast_2d(np.asarray(coupled[0], dtype=float)),
                         np.atleast_2d(np.asarray(coupled[1], dtype=float)),
                         np.atleast_1d(np.asarray(coupled[2], dtype=float)))
            if Ax.shape[0] != Ay.shape[0] or Ax.shape[0] != b.shape[0]:
                raise ValueError(f"`coupled`: Ax {Ax.shape}, Ay {Ay.shape} and b {b.shape} must have the same "
                                 "number of rows")
            coupled = (Ax, Ay, b)
        self._upper, self._lower = upper, lower
        self._hvp, self._cross, self.h = lower_hvp, lower_cross, fd_step
        self.coupled = coupled
        self.n_samples = _parse_n_samples(n_samples)
        self.counts = {"upper": 0, "lower": 0, "upper_samples": 0, "lower_samples": 0}

    def _size(self, name):
        return self.n_samples[0 if name == "upper" else 1]

    def is_finite_sum(self, name):
        """Whether level ``name`` (``"upper"`` or ``"lower"``) was declared as a finite sum."""
        return self._size(name) is not None

    def _count(self, name, idx):
        n = self._size(name)
        self.counts[name] += 1
        self.counts[name + "_samples"] += (1 if n is None else n) if idx is None else len(idx)

    def _call(self, fn, name, x, y, idx=None):
        if idx is None:
            out = fn(x, y)
        else:
            if not self.is_finite_sum(name):
                raise ValueError(f"a minibatch of `{name}` was requested but `{name}` is not declared as a finite "
                                 "sum: pass n_samples to BilevelProblem")
            out = fn(x, y, idx)
        self._count(name, idx)
        if not (isinstance(out, tuple) and len(out) == 3):
            raise ValueError(f"`{name}(x, y)` must return (value, grad_x, grad_y)")
        v, gx, gy = float(out[0]), np.asarray(out[1], dtype=float), np.asarray(out[2], dtype=float)
        if gx.shape != np.shape(x) or gy.shape != np.shape(y):
            raise ValueError(f"`{name}` returned grad_x of shape {gx.shape} and grad_y of shape {gy.shape}; "
                             f"expected {np.shape(x)} and {np.shape(y)}")
        return v, gx, gy

    def upper(self, x, y, idx=None):
        """``(F, grad_x F, grad_y F)``; with ``idx`` (finite-sum upper level only) the average over
        the samples ``idx`` of the upper level."""
        return self._call(self._upper, "upper", x, y, idx)

    def lower(self, x, y, idx=None):
        """``(G, grad_x G, grad_y G)``; with ``idx`` the minibatch average (finite-sum lower level)."""
        return self._call(self._lower, "lower", x, y, idx)

    def _fd(self, fn, x, y, v, part, idx=None):
        """Central difference of the ``part`` gradient of ``fn`` along the y-direction v."""
        nv = np.linalg.norm(v)
        if nv == 0:
            return np.zeros_like(y if part == 2 else x)
        t = self.h * max(1.0, np.linalg.norm(y)) / nv
        return (fn(x, y + t * v, idx)[part] - fn(x, y - t * v, idx)[part]) / (2 * t)

    def _second(self, fn, x, y, v, idx):
        if idx is None:
            return np.asarray(fn(x, y, v), dtype=float)
        return np.asarray(fn(x, y, v, idx), dtype=float)

    def hvp_yy(self, x, y, v, idx=None):
        """grad_yy G v (with ``idx``: of the minibatch average)."""
        if self._hvp is not None:
            return self._second(self._hvp, x, y, v, idx)
        return self._fd(self.lower, x, y, v, 2, idx)

    def cross(self, x, y, v, idx=None):
        """grad_xy G v (maps a y-vector to an x-vector; with ``idx``: of the minibatch average)."""
        if self._cross is not None:
            return self._second(self._cross, x, y, v, idx)
        return self._fd(self.lower, x, y, v, 1, idx)

    def upper_hvp_yy(self, x, y, v, idx=None):
        """grad_yy F v (gradient differences)."""
        return self._fd(self.upper, x, y, v, 2, idx)

    def upper_cross(self, x, y, v, idx=None):
        """grad_xy F v (gradient differences)."""
        return self._fd(self.upper, x, y, v, 1, idx)


_N_SAMPLES = Interval(1, integer=True)


def _parse_n_samples(n_samples):
    """``n_samples``: None, an int (both levels are finite sums of that many terms) or a pair
    ``(n_upper, n_lower)`` whose entries are ints or None (that level is not a finite sum)."""
    if n_samples is None:
        return (None, None)
    pair = tuple(n_samples) if isinstance(n_samples, (tuple, list)) else (n_samples, n_samples)
    if len(pair) != 2:
        raise ValueError("`n_samples` must be an int or a pair (n_upper, n_lower)")
    return tuple(None if v is None else _N_SAMPLES("n_samples", v) for v in pair)


# ---------------------------------------------------------------------- starting points

def _real_array(v, name):
    """``v`` as an array of its floating dtype (float64 for integer input); a TypeError naming
    it for complex or non-numeric input (a cast would silently drop the imaginary part)."""
    arr = np.asarray(v)
    if np.iscomplexobj(arr):
        raise TypeError(f"`{name}` must be real, got a complex array")
    if np.issubdtype(arr.dtype, np.floating):
        return arr
    try:
        return np.asarray(arr, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a real numeric array, got dtype {arr.dtype}") from None


def _finite_start(v, name):
    """``v`` checked (real, non-empty, finite) in its floating dtype: the methods iterate in
    float64 and report ``x``/``y``/``hypergrad`` in the dtype of ``x0``/``y0``."""
    v = _real_array(v, name)
    if v.size == 0:
        raise ValueError(f"`{name}` must be non-empty, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"`{name}` must be finite (got NaN or inf entries)")
    return v


# ----------------------------------------------------------------------------- counts

class RunCounter:
    """The oracle counts of one run, for the shared loop (trace columns and result fields):
    ``nupper``/``nlower`` oracle calls and ``nsamples_upper``/``nsamples_lower`` per-sample
    gradients (a full call of a finite-sum level counts n samples, a call of a level that is
    not a sum counts 1), counted from the counter's creation (after the front door's checks)."""

    def __init__(self, problem):
        self.problem = problem
        self.start = dict(problem.counts)

    def as_dict(self):
        c, s = self.problem.counts, self.start
        return {"nupper": c["upper"] - s["upper"], "nlower": c["lower"] - s["lower"],
                "nsamples_upper": c["upper_samples"] - s["upper_samples"],
                "nsamples_lower": c["lower_samples"] - s["lower_samples"]}
