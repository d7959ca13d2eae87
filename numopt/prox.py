"""Proximal operators and projections.

Every object has ``value(x)`` and ``prox(x, step)`` = argmin_z g(z) + ||z - x||^2/(2 step);
indicator functions also have ``project(x)`` (and ``lmo(d)`` where it is cheap).
All code is written against the array API namespace of ``x``.

Validation: constructor parameters are checked once (a ``ValueError``/``TypeError``
naming the parameter); ``prox`` checks that ``step`` is finite and ``>= 0`` with one
scalar comparison (``step = 0`` is the identity for the non-indicator terms; the
indicators project whatever the step); ``lmo`` checks that the direction is non-empty
and finite with one reduction.

Non-finite points: NaN in ``x`` propagates, never a silently finite answer. The
entrywise operators carry NaN entrywise; the projections onto :class:`Simplex` /
:class:`L1Ball` and the SVD of :class:`NuclearNorm`, which cannot place a NaN or inf,
detect it with the one reduction they already need (or one extra sum) and return an
all-NaN array, so a solver sees a non-finite iterate (status 2) instead of a raw
``LinAlgError``. A wrong shape (an empty or non-1-D point for the simplex, a non-2-D
one for the nuclear norm, ``weights`` not matching ``x``) is a ``ValueError`` naming it.

Sets: the indicators :class:`Simplex`, :class:`L1Ball`, :class:`Box`, :class:`NonNegative`
(and :class:`UnitSimplex`, :class:`LpBall`) are the set objects of :mod:`numopt.sets`, re-exported:
one class per set with ``project``, ``prox`` (= ``project``), ``lmo`` and ``value``, the same
classes as ``numopt.lmo.Simplex`` / ``numopt.lmo.L1Ball`` (``numopt.lmo.Box`` is the same box with
finite bounds required).

Smoothness marker: every class has a class attribute ``smooth``. It is ``False`` on
the base class :class:`Regularizer` (and so on every nonsmooth term) and ``True`` on
:class:`SquaredL2`, which also has ``grad(x)`` and ``lipschitz`` so a caller may fold
it into the smooth part of the objective instead of calling its prox.
"""
from __future__ import annotations

import math

import numpy as np

from ._backend import get_namespace, to_numpy
# the sets and the validation helpers live in numopt.sets (one class per set); they are
# re-exported here under their historical names
from .sets import (Box, L1Ball, LpBall, NonNegative, Regularizer, Simplex, UnitSimplex,  # noqa: F401
                   _all_finite, _check_bounds, _check_direction, _check_step, _nan_like, _param, _pos,
                   project_l1_ball, project_simplex)

__all__ = ["Regularizer", "L1", "SquaredL2", "ElasticNet", "GroupLasso", "Box", "NonNegative",
           "Simplex", "L1Ball", "UnitSimplex", "LpBall", "NuclearNorm", "project_simplex", "project_l1_ball",
           "soft_threshold"]


def soft_threshold(x, t, xp=None):
    """sign(x) * max(|x| - t, 0)."""
    xp = xp or get_namespace(x)
    return xp.sign(x) * xp.clip(xp.abs(x) - t, 0, None) if hasattr(xp, "clip") else \
        xp.sign(x) * xp.maximum(xp.abs(x) - t, xp.zeros_like(x))


def _nonneg_weights(weights, name="weights"):
    """Validate an array of weights (finite, >= 0) once; returns it unchanged."""
    if weights is None:
        return None
    try:
        w = np.asarray(to_numpy(weights), dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be an array of real numbers, got {type(weights).__name__}") from None
    if w.size and not np.all(np.isfinite(w)):
        raise ValueError(f"`{name}` must be finite, got non-finite entries")
    if w.size and w.min() < 0:
        raise ValueError(f"`{name}` must be >= 0, got a minimum of {float(w.min())}")
    return weights


class L1(Regularizer):
    """g(x) = lam * ||x||_1 (optionally with per-coordinate weights, finite and >= 0).
    Nonsmooth: ``smooth = False``."""

    def __init__(self, lam=1.0, weights=None):
        self.lam = _param(lam, "lam", lower=0)
        self.weights = _nonneg_weights(weights)
        self._wshape = None if weights is None else tuple(np.shape(to_numpy(weights)))

    def _w(self, xp, x):
        if self.weights is None:
            return self.lam
        if self._wshape != tuple(x.shape):
            try:
                ok = np.broadcast_shapes(self._wshape, tuple(x.shape)) == tuple(x.shape)
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(f"`weights` of shape {self._wshape} do not match `x` of shape {tuple(x.shape)}")
        return self.lam * xp.asarray(self.weights, dtype=x.dtype)

    def value(self, x):
        xp = get_namespace(x)
        return float(xp.sum(self._w(xp, x) * xp.abs(x)))

    def prox(self, x, step):
        _check_step(step)
        xp = get_namespace(x)
        return xp.sign(x) * _pos(xp.abs(x) - step * self._w(xp, x), xp)


class SquaredL2(Regularizer):
    """g(x) = (lam / 2) * ||x||^2.

    Smooth: ``smooth = True`` (class attribute), with ``value(x)``, ``grad(x) = lam * x``
    and ``lipschitz = lam`` (the Lipschitz constant of the gradient), so a caller such
    as ``minimize`` may add it to the smooth part of the objective rather than use its
    prox ``x / (1 + step * lam)``; both give the same problem."""

    smooth = True

    def __init__(self, lam=1.0):
        self.lam = _param(lam, "lam", lower=0)

    @property
    def lipschitz(self):
        return self.lam

    def value(self, x):
        xp = get_namespace(x)
        return 0.5 * self.lam * float(xp.sum(x * x))

    def grad(self, x):
        return self.lam * x

    def prox(self, x, step):
        _check_step(step)
        return x / (1.0 + step * self.lam)


class ElasticNet(Regularizer):
    """g(x) = lam * (l1_ratio ||x||_1 + (1 - l1_ratio)/2 ||x||^2) (scikit-learn's convention).
    Nonsmooth (its l1 part): ``smooth = False``."""

    def __init__(self, lam=1.0, l1_ratio=0.5):
        self.lam = _param(lam, "lam", lower=0)
        self.l1_ratio = _param(l1_ratio, "l1_ratio", lower=0, upper=1)

    def value(self, x):
        xp = get_namespace(x)
        a, b = self.lam * self.l1_ratio, self.lam * (1 - self.l1_ratio)
        return a * float(xp.sum(xp.abs(x))) + 0.5 * b * float(xp.sum(x * x))

    def prox(self, x, step):
        _check_step(step)
        xp = get_namespace(x)
        a, b = self.lam * self.l1_ratio, self.lam * (1 - self.l1_ratio)
        return xp.sign(x) * _pos(xp.abs(x) - step * a, xp) / (1.0 + step * b)


class GroupLasso(Regularizer):
    """g(x) = lam * sum_g w_g ||x_g||_2 over disjoint groups. Nonsmooth: ``smooth = False``.

    ``groups`` is an int (contiguous groups of that size) or a list of non-empty index
    lists (indices >= 0). Default weights are sqrt(group size); given weights must be
    finite and >= 0, one per group.
    """

    def __init__(self, lam=1.0, groups=1, weights=None):
        self.lam = _param(lam, "lam", lower=0)
        if isinstance(groups, (int, np.integer)) and not isinstance(groups, bool):
            if groups < 1:
                raise ValueError(f"`groups` must be a positive group size, got {groups}")
            groups = int(groups)
            self._max_index = -1
        else:
            if isinstance(groups, (bool, float, str)):
                raise TypeError(f"`groups` must be a group size (int) or a list of index lists, got {groups!r}")
            groups = [list(map(int, g)) for g in groups]
            if not groups or any(len(g) == 0 for g in groups):
                raise ValueError("`groups` must be a non-empty list of non-empty index lists")
            flat = sorted(i for g in groups for i in g)
            if flat[0] < 0:
                raise ValueError(f"`groups` indices must be >= 0, got {flat[0]}")
            if len(flat) != len(set(flat)):
                raise ValueError("`groups` must be disjoint")
            self._max_index = flat[-1]
            if weights is not None and np.size(to_numpy(weights)) != len(groups):
                raise ValueError(f"`weights` must have one entry per group ({len(groups)}), "
                                 f"got {np.size(to_numpy(weights))}")
        self.groups = groups
        self.weights = _nonneg_weights(weights)

    def _index_groups(self, n):
        if isinstance(self.groups, int):
            if n % self.groups:
                raise ValueError(f"group size {self.groups} does not divide n = {n}")
            if self.weights is not None and np.size(to_numpy(self.weights)) != n // self.groups:
                raise ValueError(f"`weights` must have one entry per group ({n // self.groups}), "
                                 f"got {np.size(to_numpy(self.weights))}")
            return None
        if self._max_index >= n:
            raise ValueError(f"`groups` index {self._max_index} is out of range for n = {n}")
        return self.groups

    def _norms(self, x, xp):
        if x.ndim != 1:
            raise ValueError(f"`x` must be a 1-D array for the group lasso, got shape {tuple(x.shape)}")
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
        _check_step(step)
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


class NuclearNorm(Regularizer):
    """g(X) = lam * ||X||_* for a matrix X (prox = singular value soft-thresholding).
    Nonsmooth: ``smooth = False``."""

    def __init__(self, lam=1.0):
        self.lam = _param(lam, "lam", lower=0)

    @staticmethod
    def _matrix(x, xp):
        if x.ndim != 2:
            raise ValueError(f"`x` must be a 2-D matrix for the nuclear norm, got shape {tuple(x.shape)}")
        return _all_finite(x)

    def value(self, x):
        xp = get_namespace(x)
        if not self._matrix(x, xp):
            return math.nan if bool(xp.any(xp.isnan(x))) else math.inf
        return self.lam * float(xp.sum(xp.linalg.svdvals(x)))

    def prox(self, x, step):
        _check_step(step)
        xp = get_namespace(x)
        if not self._matrix(x, xp):  # one reduction; the SVD of a NaN/inf matrix is undefined
            return _nan_like(x, xp)
        U, s, Vt = xp.linalg.svd(x, full_matrices=False)
        s = _pos(s - step * self.lam, xp)
        return (U * s[None, :]) @ Vt
