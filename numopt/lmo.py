"""Linear minimization oracles (LMOs) for Frank–Wolfe methods.

An LMO is one verb: ``s = lmo(direction)`` returns an extreme point ``s`` of the set
minimizing ``<direction, s>`` (also available as ``lmo.lmo(direction)``, so any of these
objects can be passed as ``lmo=`` to :func:`numopt.minimize`). A user-defined set is a
subclass of :class:`LMO` implementing ``lmo(d)``, a :class:`UserLMO` around a function, or
a plain callable. Away/pairwise/blended steps keep their active set of returned vertices
themselves, so an LMO only has to return extreme points.

Sets: :class:`Simplex` (probability simplex scaled by ``radius``), :class:`UnitSimplex`
(``x >= 0, sum x <= radius``), :class:`L1Ball`, :class:`LpBall` (1 < p <= inf),
:class:`Box`, :class:`KSparse`, :class:`NuclearNormBall` (top singular pair:
Gram-matrix eigenpair for small matrices, warm-started Lanczos ``svds`` otherwise),
:class:`Spectrahedron` (smallest eigenpair: dense ``eigh`` or Lanczos ``eigsh``),
:class:`Birkhoff` (Hungarian algorithm).

One object per set: :class:`Simplex`, :class:`UnitSimplex`, :class:`L1Ball`, :class:`LpBall`
and :class:`Box` are the set objects of :mod:`numopt.sets` (``numopt.lmo.Simplex is
numopt.prox.Simplex``), which also have ``project(x)``, ``prox(x, step)`` and ``value(x)``
(the indicator), so the same object serves a Frank-Wolfe method (``lmo=``) and a proximal
one (``prox=``); ``lmo.Box`` requires finite bounds.

Validation: constructor parameters are checked once (``ValueError``/``TypeError``
naming the parameter: radii finite and > 0, ``p`` in (1, inf], ``K`` >= 1, box bounds
finite with ``lower <= upper``); every ``lmo(direction)`` raises a ``ValueError``
naming ``direction`` when it contains NaN or inf (one reduction per call), instead
of returning a vertex chosen by a NaN comparison, or when it is empty (no vertex).
"""
from __future__ import annotations

import numpy as np

from . import sets as _sets
from ._backend import get_namespace, to_numpy
from .oracles import check_scalar
# one class per set: the simplex, l1 ball, ... are the set objects of numopt.sets (also
# numopt.prox.Simplex, ...), with projection, prox, LMO and value
from .sets import (LMO, L1Ball, LpBall, ProbabilitySimplex, Simplex, UnitSimplex, _check_bounds,  # noqa: F401
                   _check_direction, _param, _radius)

__all__ = ["LMO", "UserLMO", "Simplex", "ProbabilitySimplex", "UnitSimplex", "L1Ball", "LpBall", "Box",
           "NuclearNormBall", "Spectrahedron", "Birkhoff", "KSparse"]


class UserLMO(LMO):
    """A user-defined set from one function ``extreme_point(direction) -> s`` (the point of
    the set minimizing ``<direction, s>``). The output is checked once per call for shape."""

    def __init__(self, extreme_point, name="user LMO"):
        if not callable(extreme_point):
            raise TypeError(f"`extreme_point` must be callable, got {type(extreme_point).__name__}")
        self.extreme_point, self.name = extreme_point, name

    def lmo(self, d):
        _check_direction(d)
        s = self.extreme_point(d)
        if tuple(getattr(s, "shape", ())) != tuple(d.shape):
            raise ValueError(f"{self.name}: `extreme_point` returned shape {tuple(getattr(s, 'shape', ()))}, "
                             f"expected the direction's shape {tuple(d.shape)}")
        return s


class Box(_sets.Box):
    """{lower <= x <= upper} with finite bounds (``lower <= upper``; scalars or arrays): the
    set object :class:`numopt.sets.Box` (projection, prox, LMO, value) with this module's
    constructor, which requires both bounds (an unbounded box has no LMO)."""

    def __init__(self, lower, upper):
        _check_bounds(lower, upper, finite=True)
        self._bounded = True
        self.lower, self.upper = lower, upper


class KSparse(LMO):
    """The K-sparse polytope conv{x : ||x||_0 <= K, ||x||_inf <= radius}: -radius sign(d)
    on the K entries of largest |d|."""

    def __init__(self, K, radius=1.0):
        self.K = check_scalar(K, "K", lower=1, integer=True)
        self.radius = _radius(radius)

    def lmo(self, d):
        _check_direction(d)
        xp = get_namespace(d)
        a = to_numpy(xp.abs(d))
        idx = np.argpartition(-a, min(self.K, a.size) - 1)[:self.K]
        mask = np.zeros(a.size, dtype=bool)
        mask[idx] = True
        return xp.where(xp.asarray(mask), -self.radius * xp.sign(d), xp.zeros_like(d))


def _top_pair_gram(A):
    """(u, sigma, v) from the top eigenpair of the smaller Gram matrix (LAPACK syevr on
    one eigenvalue): cheaper than a full SVD or Lanczos for small matrices. <A, u v^T> =
    sigma to rounding (an error of order eps sigma_1^2 / (sigma_1^2 - sigma_2^2) in the
    vectors is second order in the objective)."""
    from scipy.linalg import eigh

    m, n = A.shape
    k = min(m, n)
    G = A.T @ A if m >= n else A @ A.T
    w = eigh(G, subset_by_index=[k - 1, k - 1], driver="evr")[1][:, 0]
    if m >= n:
        v, u = w, A @ w
        sigma = float(np.linalg.norm(u))
        u = u / sigma if sigma > 0 else np.eye(m)[0]
    else:
        u, v = w, A.T @ w
        sigma = float(np.linalg.norm(v))
        v = v / sigma if sigma > 0 else np.eye(n)[0]
    return u, sigma, v


class NuclearNormBall(LMO):
    """{||X||_* <= radius} for matrices: -radius u1 v1^T with (u1, v1) the top singular pair
    of the direction. Up to ``gram_max`` (200) rows or columns: the top eigenpair of the
    smaller Gram matrix (LAPACK syevr, one eigenvalue; several times faster than a full
    SVD or Lanczos there); beyond: Lanczos (scipy's ``svds``, ARPACK, to machine precision
    ``tol=0``) with a dense SVD if ARPACK does not converge.

    ``warm_start=True``: Lanczos starts from the singular vector of the previous call
    (consecutive Frank-Wolfe gradients are close); otherwise, and on the first call, from
    a seeded random vector. Either way it runs to machine precision, so the vertex does
    not depend on the start unless the top singular value is (nearly) repeated."""

    def __init__(self, radius=1.0, warm_start=True, gram_max=200):
        self.radius = _radius(radius)
        self.gram_max = check_scalar(gram_max, "gram_max", lower=0, integer=True)
        self.warm_start = bool(warm_start)
        self._v0 = None

    def lmo(self, D):
        xp = get_namespace(D)
        if D.ndim != 2:
            raise ValueError("NuclearNormBall needs a 2-D direction (a matrix variable)")
        _check_direction(D)
        Dn = np.asarray(to_numpy(D), dtype=np.float64)
        if min(Dn.shape) <= self.gram_max:
            u, _, v = _top_pair_gram(Dn)
            return xp.asarray(-self.radius * np.outer(u, v), dtype=D.dtype)
        from scipy.sparse.linalg import ArpackNoConvergence, svds

        # svds runs Lanczos on the smaller Gram matrix: its start vector is a right
        # singular vector when rows >= columns, a left one otherwise
        v0 = self._v0 if self.warm_start else None
        if v0 is not None and (v0.shape[0] != min(Dn.shape) or not np.any(v0)):
            v0 = None
        try:
            U, s, Vt = svds(Dn, k=1, tol=0, v0=v0, random_state=np.random.default_rng(0))
        except ArpackNoConvergence:  # (nearly) repeated top singular value: dense fallback
            U, s, Vt = np.linalg.svd(Dn, full_matrices=False)
        u, v = U[:, 0], Vt[0]
        if self.warm_start:
            self._v0 = np.array(v if Dn.shape[0] >= Dn.shape[1] else u)
        return xp.asarray(-self.radius * np.outer(u, v), dtype=D.dtype)


class Spectrahedron(LMO):
    """{X symmetric PSD, trace X = radius}: radius v v^T, v the eigenvector of the
    smallest eigenvalue of sym(D) (dense ``eigh`` up to 100 x 100, Lanczos ``eigsh`` beyond)."""

    def __init__(self, radius=1.0):
        self.radius = _radius(radius)

    def lmo(self, D):
        xp = get_namespace(D)
        if D.ndim != 2 or D.shape[0] != D.shape[1]:
            raise ValueError("Spectrahedron needs a square 2-D direction (a symmetric matrix variable)")
        _check_direction(D)
        Dn = to_numpy(D)
        S = 0.5 * (Dn + Dn.T)
        if S.shape[0] <= 100:
            v = np.linalg.eigh(S)[1][:, 0]
        else:
            from scipy.sparse.linalg import eigsh

            v0 = np.random.default_rng(0).standard_normal(S.shape[0])
            v = eigsh(S, k=1, which="SA", tol=1e-10, v0=v0)[1][:, 0]
        return xp.asarray(self.radius * np.outer(v, v), dtype=D.dtype)


class Birkhoff(LMO):
    """Doubly stochastic matrices: the permutation matrix minimizing <D, P>
    (Hungarian algorithm, scipy.optimize.linear_sum_assignment)."""

    def lmo(self, D):
        from scipy.optimize import linear_sum_assignment

        xp = get_namespace(D)
        if D.ndim != 2 or D.shape[0] != D.shape[1]:
            raise ValueError("Birkhoff needs a square 2-D direction (doubly stochastic matrices)")
        _check_direction(D)
        Dn = to_numpy(D)
        r, c = linear_sum_assignment(Dn)
        P = np.zeros_like(Dn)
        P[r, c] = 1.0
        return xp.asarray(P, dtype=D.dtype)
