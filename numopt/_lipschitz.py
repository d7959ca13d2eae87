"""Lipschitz estimates: the one home of the bounded spectral-norm estimate of a
design matrix and of the secant (gradient-difference) estimate at a point."""
from __future__ import annotations

import math
import time

import numpy as np

from ._backend import get_namespace

__all__ = ["norm_sq_upper_bound", "spectral_norm_sq", "secant_lipschitz"]


def _norm_sq_upper_bound(A):
    """``min(||A||_F^2, ||A||_1 ||A||_inf) >= ||A||_2^2`` in O(nnz), without densifying."""
    import scipy.sparse as sp

    if sp.issparse(A):
        absA = abs(A)
        fro2 = float(A.multiply(A).sum())
        n1 = float(absA.sum(axis=0).max())
        ninf = float(absA.sum(axis=1).max())
    else:
        A = np.asarray(A)
        fro2 = float(np.sum(A * A))
        n1 = float(np.abs(A).sum(axis=0).max())
        ninf = float(np.abs(A).sum(axis=1).max())
    return min(fro2, n1 * ninf)


def _spectral_norm_sq(A, *, max_time=None, rtol=1e-6, maxiter=100, info=None):
    """An upper estimate of ``||A||_2^2`` with bounded work (at most ``maxiter`` products
    with ``A`` and ``A^T`` each, and ``max_time`` seconds).

    Small dense ``A`` (or a Gram matrix of side <= 200): exact. Otherwise the Lanczos
    process on the smaller Gram matrix ``A^T A`` / ``A A^T`` from a seeded start: after
    each step the top Ritz value ``theta`` (a lower bound on ``||A||_2^2``) and its
    residual ``r`` (an eigenvalue lies within ``r`` of ``theta``) give the estimate
    ``theta + r``; it stops when ``r <= rtol * theta``, or at once when ``theta`` comes
    within ``rtol`` of the cheap upper bound ``U = min(||A||_F^2, ||A||_1 ||A||_inf)``
    (e.g. any diagonal ``A``, however clustered its values). The result is
    ``min(U, (theta + r) (1 + rtol))`` (``U`` when no step fits in ``max_time``). Backtracking solvers
    only need an estimate; ``U`` is a guaranteed bound. ``info["timed_out"]`` tells
    whether ``max_time`` cut it short.
    """
    import scipy.sparse as sp

    info = {} if info is None else info
    info["timed_out"] = False
    if not sp.issparse(A) and not isinstance(A, np.ndarray):
        xp = get_namespace(A)
        return float(xp.linalg.matrix_norm(A, ord=2)) ** 2
    m, n = A.shape
    if m == 0 or n == 0:
        return 0.0
    if min(m, n) <= 200 and not sp.issparse(A):
        return float(np.linalg.norm(A, 2)) ** 2
    if min(m, n) == 1:
        return float(sp.linalg.norm(A) if sp.issparse(A) else np.linalg.norm(A)) ** 2
    U = _norm_sq_upper_bound(A)
    if not (U > 0 and math.isfinite(U)):
        return U
    tall = m >= n
    k = n if tall else m
    if k <= 200:  # the Gram matrix is small: exact eigenvalue
        G = (A.T @ A) if tall else (A @ A.T)
        G = G.toarray() if sp.issparse(G) else np.asarray(G)  # k x k, k <= 200 (not the user's A)
        return min(U, float(np.linalg.eigvalsh(0.5 * (G + G.T))[-1]))

    def gram(v):
        w = (A.T @ (A @ v)) if tall else (A @ (A.T @ v))
        return np.asarray(w, dtype=float).ravel()

    return lanczos_top_eig(gram, k, U, max_time=max_time, rtol=rtol, maxiter=maxiter, info=info)


def lanczos_top_eig(gram, k, U, *, max_time=None, rtol=1e-6, maxiter=100, info=None):
    """Upper estimate of the top eigenvalue of the PSD operator ``gram`` (a callable
    ``v -> G v`` on vectors of size ``k``), capped by a known bound ``U``: Lanczos from a
    seeded start; after each step the top Ritz value ``theta`` and its residual ``r`` give
    ``theta + r`` (an eigenvalue lies within ``r`` of ``theta``); stops when
    ``r <= rtol theta``, when ``theta`` reaches ``U``, after ``maxiter`` products or
    ``max_time`` seconds (``info["timed_out"]``). Returns ``min(U, (theta + r)(1 + rtol))``.
    Used for explicit matrices (``_spectral_norm_sq``) and for operators known only by their
    products (numopt._dask: one distributed round trip each)."""
    from scipy.linalg import eigh_tridiagonal

    info = {} if info is None else info
    info["timed_out"] = False
    if not (U > 0 and math.isfinite(U)):
        return U
    t0 = time.perf_counter()
    v = np.random.default_rng(0).standard_normal(k)
    v /= np.linalg.norm(v)
    v_prev = np.zeros(k)
    alphas, betas = [], []
    beta_prev = 0.0
    est = U
    for _ in range(int(maxiter)):
        if max_time is not None and time.perf_counter() - t0 > max_time:
            info["timed_out"] = True
            break
        w = np.asarray(gram(v), dtype=np.float64).ravel()
        alpha = float(v @ w)
        w -= alpha * v + beta_prev * v_prev
        beta = float(np.linalg.norm(w))
        alphas.append(alpha)
        if len(alphas) == 1:
            theta, s_last = alpha, 1.0
        else:
            vals, vecs = eigh_tridiagonal(np.array(alphas), np.array(betas))
            theta, s_last = float(vals[-1]), float(vecs[-1, -1])
        r = abs(beta * s_last)
        if not (math.isfinite(theta) and math.isfinite(r)):
            return U
        est = min(U, (theta + r) * (1 + rtol))
        if theta >= U * (1 - rtol) or r <= rtol * abs(theta) or beta <= 1e-14 * U:
            break
        betas.append(beta)
        v_prev, v = v, w / beta
        beta_prev = beta
    return float(est)


def secant_lipschitz(f, x, g, xp, *, rel_step=1e-4):
    """A local estimate of the gradient's Lipschitz constant at ``x`` from one extra
    gradient: ``||grad f(x - h g) - g|| / (h ||g||)`` with ``h = rel_step max(1, ||x||) / ||g||``;
    1.0 when ``g = 0`` or the estimate is not a positive finite number."""
    from ._backend import norm

    gn = norm(g, xp)
    if gn == 0:
        return 1.0
    h = rel_step * max(1.0, norm(x, xp)) / gn
    est = norm(f.grad(x - h * g) - g, xp) / (h * gn)
    return est if est > 0 and math.isfinite(est) else 1.0


norm_sq_upper_bound = _norm_sq_upper_bound
spectral_norm_sq = _spectral_norm_sq
