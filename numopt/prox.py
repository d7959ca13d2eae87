"""Proximal operators and projections.

Every object has ``value(x)`` and ``prox(x, step)`` = argmin_z g(z) + ||z - x||^2/(2 step);
indicator functions also have ``project(x)`` (and ``lmo(d)`` where it is cheap).
All code is written against the array API namespace of ``x``.
"""
from __future__ import annotations

import math

from ._backend import get_namespace
from .oracles import check_scalar

__all__ = ["L1", "SquaredL2", "ElasticNet", "GroupLasso", "Box", "NonNegative",
           "Simplex", "L1Ball", "NuclearNorm", "project_simplex", "project_l1_ball",
           "soft_threshold"]


def soft_threshold(x, t, xp=None):
    """sign(x) * max(|x| - t, 0)."""
    xp = xp or get_namespace(x)
    return xp.sign(x) * xp.clip(xp.abs(x) - t, 0, None) if hasattr(xp, "clip") else \
        xp.sign(x) * xp.maximum(xp.abs(x) - t, xp.zeros_like(x))


def _pos(x, xp):
    return xp.maximum(x, xp.zeros_like(x))


class L1:
    """g(x) = lam * ||x||_1 (optionally with per-coordinate weights)."""

    def __init__(self, lam=1.0, weights=None):
        self.lam = check_scalar(lam, "lam", lower=0)
        self.weights = weights

    def _w(self, xp, x):
        return self.lam if self.weights is None else self.lam * xp.asarray(self.weights, dtype=x.dtype)

    def value(self, x):
        xp = get_namespace(x)
        return float(xp.sum(self._w(xp, x) * xp.abs(x)))

    def prox(self, x, step):
        xp = get_namespace(x)
        return xp.sign(x) * _pos(xp.abs(x) - step * self._w(xp, x), xp)


class SquaredL2:
    """g(x) = (lam / 2) * ||x||^2."""

    def __init__(self, lam=1.0):
        self.lam = check_scalar(lam, "lam", lower=0)

    def value(self, x):
        xp = get_namespace(x)
        return 0.5 * self.lam * float(xp.sum(x * x))

    def prox(self, x, step):
        return x / (1.0 + step * self.lam)


class ElasticNet:
    """g(x) = lam * (l1_ratio ||x||_1 + (1 - l1_ratio)/2 ||x||^2) (scikit-learn's convention)."""

    def __init__(self, lam=1.0, l1_ratio=0.5):
        self.lam = check_scalar(lam, "lam", lower=0)
        self.l1_ratio = check_scalar(l1_ratio, "l1_ratio", lower=0)
        if l1_ratio > 1:
            raise ValueError(f"`l1_ratio` must be in [0, 1], got {l1_ratio}")

    def value(self, x):
        xp = get_namespace(x)
        a, b = self.lam * self.l1_ratio, self.lam * (1 - self.l1_ratio)
        return a * float(xp.sum(xp.abs(x))) + 0.5 * b * float(xp.sum(x * x))

    def prox(self, x, step):
        xp = get_namespace(x)
        a, b = self.lam * self.l1_ratio, self.lam * (1 - self.l1_ratio)
        return xp.sign(x) * _pos(xp.abs(x) - step * a, xp) / (1.0 + step * b)


class GroupLasso:
    """g(x) = lam * sum_g w_g ||x_g||_2 over disjoint groups.

    ``groups`` is an int (contiguous groups of that size) or a list of index lists.
    Default weights are sqrt(group size).
    """

    def __init__(self, lam=1.0, groups=1, weights=None):
        self.lam = check_scalar(lam, "lam", lower=0)
        if isinstance(groups, int):
            if groups < 1:
                raise ValueError(f"`groups` must be a positive group size, got {groups}")
        else:
            groups = [list(map(int, g)) for g in groups]
            flat = sorted(i for g in groups for i in g)
            if len(flat) != len(set(flat)):
                raise ValueError("`groups` must be disjoint")
        self.groups = groups
        self.weights = weights

    def _index_groups(self, n):
        if isinstance(self.groups, int):
            if n % self.groups:
                raise ValueError(f"group size {self.groups} does not divide n = {n}")
            return None
        return self.groups

    def _norms(self, x, xp):
        n = x.shape[0]
        groups = self._index_groups(n)
        if groups is None:
            s = self.groups
            nrm = xp.sqrt(xp.sum(xp.reshape(x, (n // s, s)) ** 2, axis=1))
            w = math.sqrt(s) if self.weights is None else xp.asarray(self.weights, dtype=x.dtype)
            return nrm, w, None
        nrm = xp.stack([xp.sqrt(xp.sum(xp.take(x, xp.asarray(g), axis=0) ** 2)) for g in groups])
        w = (xp.asarray([math.sqrt(len(g)) for g in groups], dtype=x.dtype)
             if self.weights is None else xp.asarray(self.weights, dtype=x.dtype))
        return nrm, w, groups

    def value(self, x):
        xp = get_namespace(x)
        nrm, w, _ = self._norms(x, xp)
        return self.lam * float(xp.sum(w * nrm))

    def prox(self, x, step):
        xp = get_namespace(x)
        nrm, w, groups = self._norms(x, xp)
        thr = step * self.lam * w
        scale = _pos(1.0 - thr / xp.maximum(nrm, xp.full_like(nrm, 1e-300)), xp)
        n = x.shape[0]
        if groups is None:
            s = self.groups
            return xp.reshape(xp.reshape(x, (n // s, s)) * scale[:, None], (n,))
        # build per-coordinate scale (coordinates outside every group are left unchanged)
        import numpy as np

        owner = np.full(n, len(groups))
        for gi, g in enumerate(groups):
            owner[g] = gi
        ext = xp.concat([scale, xp.ones(1, dtype=x.dtype)])
        return x * xp.take(ext, xp.asarray(owner), axis=0)


class Box:
    """Indicator of the box lower <= x <= upper (scalars or arrays)."""

    def __init__(self, lower=-math.inf, upper=math.inf):
        self.lower, self.upper = lower, upper

    def value(self, x):
        xp = get_namespace(x)
        ok = bool(xp.all(x >= self.lower - 1e-12)) and bool(xp.all(x <= self.upper + 1e-12))
        return 0.0 if ok else math.inf

    def project(self, x):
        xp = get_namespace(x)
        lo = xp.asarray(self.lower, dtype=x.dtype)
        hi = xp.asarray(self.upper, dtype=x.dtype)
        return xp.minimum(xp.maximum(x, lo), hi)

    def prox(self, x, step):
        return self.project(x)

    def lmo(self, d):
        xp = get_namespace(d)
        lo = xp.asarray(self.lower, dtype=d.dtype) * xp.ones_like(d)
        hi = xp.asarray(self.upper, dtype=d.dtype) * xp.ones_like(d)
        if not (bool(xp.all(xp.isfinite(lo))) and bool(xp.all(xp.isfinite(hi)))):
            raise ValueError("the LMO of an unbounded box is undefined")
        return xp.where(d > 0, lo, hi)


class NonNegative(Box):
    """Indicator of x >= 0."""

    def __init__(self):
        super().__init__(0.0, math.inf)


def project_simplex(x, radius=1.0):
    """Euclidean projection onto {z >= 0, sum z = radius} (sort-based, O(n log n))."""
    xp = get_namespace(x)
    n = x.shape[0]
    u = xp.flip(xp.sort(x))
    css = xp.cumulative_sum(u) - radius
    ind = xp.arange(1, n + 1, dtype=x.dtype)
    cond = (u - css / ind) > 0
    rho = int(xp.sum(xp.astype(cond, xp.int32))) - 1  # cond holds on a prefix of the sorted entries
    theta = css[rho] / (rho + 1)
    return _pos(x - theta, xp)


def project_l1_ball(x, radius=1.0):
    """Euclidean projection onto {||z||_1 <= radius}."""
    xp = get_namespace(x)
    if float(xp.sum(xp.abs(x))) <= radius:
        return x
    return xp.sign(x) * project_simplex(xp.abs(x), radius)


class Simplex:
    """The (scaled) probability simplex {x >= 0, sum x = radius}."""

    def __init__(self, radius=1.0):
        self.radius = check_scalar(radius, "radius", lower=0, lower_inclusive=False)

    def value(self, x):
        xp = get_namespace(x)
        ok = bool(xp.all(x >= -1e-10)) and abs(float(xp.sum(x)) - self.radius) <= 1e-8 * max(1, self.radius)
        return 0.0 if ok else math.inf

    def project(self, x):
        return project_simplex(x, self.radius)

    def prox(self, x, step):
        return self.project(x)

    def lmo(self, d):
        xp = get_namespace(d)
        i = int(xp.argmin(d))
        return xp.where(xp.arange(d.shape[0]) == i, xp.asarray(self.radius, dtype=d.dtype),
                        xp.zeros_like(d))


class L1Ball:
    """The l1 ball {||x||_1 <= radius}."""

    def __init__(self, radius=1.0):
        self.radius = check_scalar(radius, "radius", lower=0, lower_inclusive=False)

    def value(self, x):
        xp = get_namespace(x)
        return 0.0 if float(xp.sum(xp.abs(x))) <= self.radius * (1 + 1e-10) else math.inf

    def project(self, x):
        return project_l1_ball(x, self.radius)

    def prox(self, x, step):
        return self.project(x)

    def lmo(self, d):
        xp = get_namespace(d)
        i = int(xp.argmax(xp.abs(d)))
        return xp.where(xp.arange(d.shape[0]) == i, -self.radius * xp.sign(d), xp.zeros_like(d))


class NuclearNorm:
    """g(X) = lam * ||X||_* for a matrix X (prox = singular value soft-thresholding)."""

    def __init__(self, lam=1.0):
        self.lam = check_scalar(lam, "lam", lower=0)

    def value(self, x):
        xp = get_namespace(x)
        return self.lam * float(xp.sum(xp.linalg.svdvals(x)))

    def prox(self, x, step):
        xp = get_namespace(x)
        U, s, Vt = xp.linalg.svd(x, full_matrices=False)
        s = _pos(s - step * self.lam, xp)
        return (U * s[None, :]) @ Vt
