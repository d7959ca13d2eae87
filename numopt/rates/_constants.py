"""The constants a rate bound needs, computed from a problem's oracles (never hand-fed).

Each function returns ``(value, source)``: the number and a sentence saying where it came
from, so that :func:`numopt.rates.theory` can report every constant it used. A constant
the problem does not determine is ``(None, reason)``; the caller turns that into a
ValueError naming the constant.

* ``smoothness``: L of the smooth part (``LinearComposite(datafit, A)``: the datafit's
  curvature bound times ``||A||_2^2`` from :mod:`numopt._lipschitz`; ``QuadraticForm``:
  its largest eigenvalue; else the oracle's ``lipschitz``);
* ``strong_convexity``: mu (an oracle's ``strong_convexity``; a ``QuadraticForm``'s
  smallest eigenvalue; a strongly convex datafit (least squares) times
  ``sigma_min(A)^2``);
* ``coordinate_lipschitz``: the L_j (column norms of ``A`` times the curvature bound;
  the diagonal of a ``QuadraticForm``);
* ``diameter``: of a set with an LMO (Simplex, UnitSimplex, L1Ball, LpBall, Box).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["unwrap", "smoothness", "strong_convexity", "coordinate_lipschitz", "diameter",
           "smooth_regularizer", "MAX_DENSE"]

#: the largest side of a Gram matrix / quadratic whose extreme eigenvalue is computed densely
MAX_DENSE = 2000
#: a modulus below this fraction of L is rounding of a singular matrix, not strong convexity
_REL_ZERO = 1e-10


def unwrap(obj):
    """The user's object behind numopt's counting wrappers (``Counted.f``,
    ``CountedRegularizer.g``, ``CountedSet.s``)."""
    for _ in range(4):  # bounded: wrappers are at most a few deep
        d = getattr(obj, "__dict__", {})
        inner = next((d[a] for a in ("f", "g", "s") if a in d and type(obj).__name__.startswith("Counted")), None)
        if inner is None:
            return obj
        obj = inner
    return obj


def _positive(v):
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def smooth_regularizer(problem):
    """``lam`` when the problem's regularizer is ``lam/2 ||x||^2`` (a squared l2 term,
    smooth), 0.0 when there is none, None when it is another term."""
    from ..oracles import smooth_regularizer_part

    reg = getattr(problem, "regularizer", None)
    if reg is None:
        return 0.0
    part = smooth_regularizer_part(reg)
    if part is None:
        return None
    return 0.0 if part[0] is None else part[1]


def smoothness(objective):
    """``(L, source)``: the Lipschitz constant of the gradient of ``objective``."""
    from .._lipschitz import spectral_norm_sq
    from ..oracles import LinearComposite, QuadraticForm

    f = unwrap(objective)
    if isinstance(f, LinearComposite):
        if f._L is not None:
            return float(f._L), "objective.lipschitz (set on the LinearComposite)"
        c = _positive(getattr(f.loss, "smoothness", None))
        if c is None:
            return None, f"the datafit {type(f.loss).__name__} states no curvature bound (`smoothness`)"
        s = spectral_norm_sq(f.A)
        return c * s, (f"datafit {type(f.loss).__name__}.smoothness = {c:.4g} x ||A||_2^2 = {s:.6g} "
                       "(numopt._lipschitz.spectral_norm_sq)")
    if isinstance(f, QuadraticForm):
        return float(f.lipschitz), "largest eigenvalue of the QuadraticForm's matrix"
    L = _positive(getattr(f, "lipschitz", None))
    if L is not None:
        return L, f"objective.lipschitz of {type(f).__name__}"
    return None, (f"the problem's objective ({type(f).__name__}) states no Lipschitz constant of its gradient "
                  "(no `lipschitz` attribute, not a LinearComposite or QuadraticForm)")


def _min_eig_sym(M):
    """Smallest eigenvalue of a symmetric matrix (dense eigvalsh up to MAX_DENSE rows,
    else a bounded Lanczos run); None when it cannot be computed within that budget."""
    import scipy.sparse as sp

    n = M.shape[0]
    if n <= MAX_DENSE:
        Md = M.toarray() if sp.issparse(M) else np.asarray(M, dtype=float)  # a Gram / the quadratic's matrix
        return float(np.linalg.eigvalsh(0.5 * (Md + Md.T))[0])
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    try:
        v = eigsh(M, k=1, which="SA", return_eigenvectors=False, tol=1e-8, maxiter=20 * n, v0=np.ones(n))[0]
    except ArpackNoConvergence:
        return None
    return float(v)


def strong_convexity(objective, L=None):
    """``(mu, source)``: the strong convexity modulus of ``objective`` (0.0 when it is
    convex but not strongly convex, with the reason); ``(None, reason)`` when unknown.
    ``L`` (optional) tells a rounding-level eigenvalue from a true one."""
    import scipy.sparse as sp

    from ..oracles import LinearComposite, QuadraticForm

    f = unwrap(objective)
    mu = _positive(getattr(f, "strong_convexity", None))
    if mu is not None:
        return mu, f"objective.strong_convexity of {type(f).__name__}"
    if isinstance(f, QuadraticForm):
        ev = _min_eig_sym(f.A)
        if ev is None:
            return None, "the smallest eigenvalue of the QuadraticForm's matrix (Lanczos did not converge)"
        L = float(f.lipschitz) if L is None else L
        if ev <= _REL_ZERO * L:
            return 0.0, f"the QuadraticForm's smallest eigenvalue is {ev:.3g} (singular: not strongly convex)"
        return ev, "smallest eigenvalue of the QuadraticForm's matrix"
    if isinstance(f, LinearComposite):
        loss = f.loss
        m_loss = _positive(getattr(loss, "strong_convexity", None))
        from ..datafits import Quadratic

        if m_loss is None and isinstance(loss, Quadratic):
            m_loss = float(loss.smoothness)  # 1/(2n)||z - y||^2 has curvature exactly 1/n
        if m_loss is None:
            return 0.0, (f"the datafit {type(loss).__name__} is not strongly convex (no `strong_convexity`): "
                         "f(Ax) has no quadratic growth to rely on")
        m, p = f.A.shape
        if p > m:
            return 0.0, f"A has more columns ({p}) than rows ({m}): f(Ax) is not strongly convex"
        if p > MAX_DENSE:
            return None, f"sigma_min(A)^2 not computed: A has {p} > {MAX_DENSE} columns"
        G = f.A.T @ f.A  # p x p Gram matrix (a new matrix; A itself is not densified)
        G = G.toarray() if sp.issparse(G) else np.asarray(G, dtype=float)
        s = float(np.linalg.eigvalsh(0.5 * (G + G.T))[0])
        top = float(np.linalg.eigvalsh(0.5 * (G + G.T))[-1]) if L is None else L / max(m_loss, 1e-300)
        if s <= _REL_ZERO * top:
            return 0.0, f"sigma_min(A)^2 = {s:.3g} (A is rank deficient): f(Ax) is not strongly convex"
        return m_loss * s, (f"datafit {type(loss).__name__} curvature {m_loss:.4g} x sigma_min(A)^2 = {s:.6g}")
    return None, (f"the problem's objective ({type(f).__name__}) states no strong convexity "
                  "(no `strong_convexity` attribute, not a QuadraticForm or least-squares LinearComposite)")


def coordinate_lipschitz(objective):
    """``(L_j array, source)``: coordinate-wise Lipschitz constants of the gradient."""
    import scipy.sparse as sp

    from ..oracles import LinearComposite, QuadraticForm

    f = unwrap(objective)
    if isinstance(f, LinearComposite):
        A = f.A
        sq = np.asarray(A.multiply(A).sum(axis=0)).ravel() if sp.issparse(A) else np.einsum("ij,ij->j", A, A)
        c = float(f.loss.smoothness)
        return c * sq, f"datafit {type(f.loss).__name__}.smoothness x squared column norms of A"
    if isinstance(f, QuadraticForm):
        d = f.A.diagonal() if sp.issparse(f.A) else np.diag(f.A)
        return np.asarray(d, dtype=float), "diagonal of the QuadraticForm's matrix"
    bl = getattr(f, "block_lipschitz", None)
    n = getattr(f, "n", None)
    if callable(bl) and isinstance(n, int) and n <= MAX_DENSE:
        return np.array([float(bl([j])) for j in range(n)]), "objective.block_lipschitz per coordinate"
    return None, (f"the problem's objective ({type(f).__name__}) states no coordinate-wise Lipschitz constants "
                  "(not a LinearComposite or QuadraticForm)")


def diameter(the_set, n):
    """``(D, source)``: the Euclidean diameter of a set with an LMO in dimension ``n``."""
    from .. import sets as S

    s = unwrap(the_set)
    name = type(s).__name__
    if isinstance(s, S.Box):  # (NonNegative too: unbounded)
        lo = np.broadcast_to(np.asarray(s.lower, dtype=float), (n,))
        hi = np.broadcast_to(np.asarray(s.upper, dtype=float), (n,))
        D = float(np.linalg.norm(hi - lo))
        if not math.isfinite(D):
            return None, f"the {name} is unbounded (infinite diameter)"
        return D, f"||upper - lower|| of the {name}"
    if isinstance(s, (S.Simplex, S.UnitSimplex)):
        r = float(s.radius)
        return (r * math.sqrt(2) if n >= 2 else (r if isinstance(s, S.UnitSimplex) else 0.0)), \
            f"diameter of the {name} of radius {r:g}: distance between two vertices"
    if isinstance(s, S.L1Ball):
        r = float(s.radius)
        return 2 * r, f"diameter 2 r of the L1Ball of radius {r:g}"
    if isinstance(s, S.LpBall):
        r, p = float(s.radius), float(s.p)
        factor = n ** max(0.0, 0.5 - 1.0 / p)  # max ||x||_2 over the unit l_p ball
        return 2 * r * factor, f"diameter 2 r n^max(0, 1/2 - 1/p) of the LpBall (p = {p:g}, r = {r:g})"
    return None, f"the diameter of a {name} is not known to numopt.rates (Simplex, UnitSimplex, L1Ball, LpBall, Box)"
