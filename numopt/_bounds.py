"""Bounds ``lb <= x <= ub`` as scipy users pass them, normalized once by the front door.

Accepted: ``None``; a :class:`scipy.optimize.Bounds`; a sequence of ``(lower, upper)``
pairs (``None`` for an infinite side), one per variable; or a
:class:`numopt.sets.Box`. :func:`as_bounds` returns a :class:`numopt.sets.Box` whose
``lower`` and ``upper`` are float64 numpy arrays of the variables' length (``-inf`` /
``+inf`` where a side is free), or ``None`` when every side is free.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["as_bounds", "clip_to_bounds"]


def _side(v, n, name, fill):
    arr = np.asarray([fill if e is None else e for e in v] if isinstance(v, (list, tuple)) else v,
                     dtype=float)
    if arr.ndim == 0 or (arr.shape == (1,) and not isinstance(v, (list, tuple))):
        arr = np.full(n, float(arr.reshape(-1)[0]))  # a scalar side (scipy.optimize.Bounds(0, 1))
    if arr.shape != (n,):
        raise ValueError(f"`bounds`: {name} has shape {arr.shape}, expected ({n},) (one per variable "
                         f"of `x0`, which has {n})")
    if np.isnan(arr).any():
        raise ValueError(f"`bounds`: {name} contains NaN")
    return arr


def as_bounds(bounds, n):
    """Normalize ``bounds`` for ``n`` variables into a :class:`numopt.sets.Box` (or None).

    Raises ``ValueError`` for a wrong length, NaN, or ``lower > upper``, and
    ``TypeError`` for anything that is not bounds."""
    from .sets import Box

    if bounds is None:
        return None
    if isinstance(bounds, Box):
        lo, hi = bounds.lower, bounds.upper
    elif hasattr(bounds, "lb") and hasattr(bounds, "ub"):  # scipy.optimize.Bounds
        lo, hi = bounds.lb, bounds.ub
    elif isinstance(bounds, (list, tuple)) or (isinstance(bounds, np.ndarray) and bounds.ndim == 2):
        pairs = list(bounds)
        if len(pairs) != n:
            raise ValueError(f"`bounds` has {len(pairs)} (lower, upper) pairs, but `x0` has {n} variables "
                             "(one pair per variable)")
        for i, p in enumerate(pairs):
            if not (hasattr(p, "__len__") and len(p) == 2):
                raise ValueError(f"`bounds[{i}]` must be a (lower, upper) pair, got {p!r}")
        lo = [p[0] for p in pairs]
        hi = [p[1] for p in pairs]
    else:
        raise TypeError("`bounds` must be scipy.optimize.Bounds, a sequence of (lower, upper) pairs "
                        f"or numopt.sets.Box, got {type(bounds).__name__}")
    lo = _side(lo, n, "the lower bound", -math.inf)
    hi = _side(hi, n, "the upper bound", math.inf)
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"`bounds`: lower > upper for {bad.size} variable(s), e.g. x[{i}]: "
                         f"{lo[i]} > {hi[i]}")
    if np.all(np.isneginf(lo)) and np.all(np.isposinf(hi)):
        return None
    return Box(lo, hi)


def clip_to_bounds(x0, box):
    """``x0`` clipped into ``box`` (as scipy does for L-BFGS-B), in ``x0``'s namespace and dtype."""
    if box is None:
        return x0
    return box.project(x0)
