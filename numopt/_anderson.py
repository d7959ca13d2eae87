"""Anderson acceleration: the one home of the extrapolation weights.

Given the residuals r_0, ..., r_{K-1} of a fixed-point iteration x -> G(x) (as the
columns, or rows, of ``R``), Anderson's weights solve

    min_c ||sum_i c_i r_i||^2   subject to   sum_i c_i = 1,

that is c = (R^T R)^{-1} 1 / (1^T (R^T R)^{-1} 1), and the extrapolated point is
sum_i c_i G(x_i). Coordinate descent takes r_i = x_{i+1} - x_i (then G(x_i) = x_{i+1});
Sinkhorn takes r_i = G(x_i) - x_i. A Tikhonov term ``reg * trace(R^T R)`` keeps the
small system solvable.

References: D. G. Anderson, "Iterative procedures for nonlinear integral equations",
J. ACM 12 (1965); H. F. Walker, P. Ni, "Anderson acceleration for fixed-point
iterations", SIAM J. Numer. Anal. 49 (2011); Q. Bertrand, M. Massias, "Anderson
acceleration of coordinate descent", AISTATS 2021.
"""
from __future__ import annotations

import numpy as np

__all__ = ["anderson_weights", "anderson_mix"]


def anderson_weights(R, *, reg=1e-10, axis=1):
    """Extrapolation weights for residuals stacked along ``axis`` of ``R`` (numpy).

    Returns the weights (summing to one), or None when the small system is singular
    or its solution is not finite (the caller then keeps its plain iterate)."""
    R = np.asarray(R)
    G = R.T @ R if axis == 1 else R @ R.T
    k = G.shape[0]
    try:
        z = np.linalg.solve(G + (reg * np.trace(G) + 1e-300) * np.eye(k), np.ones(k))
    except np.linalg.LinAlgError:
        return None
    s = z.sum()
    if not (np.isfinite(z).all() and np.isfinite(s)) or s == 0:
        return None
    return z / s


def anderson_mix(hist_x, hist_gx, *, reg=1e-10):
    """Type-II Anderson mixing of fixed-point pairs (x_i, G(x_i)): sum_i c_i G(x_i) with
    the weights of the residuals r_i = G(x_i) - x_i; the last G(x) when the weights fail.

    Computed in the difference form of Walker & Ni (2011): with dR, dG the differences of
    consecutive residuals and images, gamma = argmin ||r_last - dR gamma||^2 (Tikhonov
    ``reg * trace(dR^T dR)``) and the result G(x_last) - dG gamma. Without the Tikhonov
    term this is the point of :func:`anderson_weights`; with it, the regularization is
    relative to the differences, which stay informative when the residuals of a
    converging iteration are nearly parallel (``reg * trace(R^T R)`` then swamps them)."""
    GX = np.stack(hist_gx, 1)
    R = GX - np.stack(hist_x, 1)
    dR, dG = np.diff(R, axis=1), np.diff(GX, axis=1)
    A = dR.T @ dR
    k = A.shape[0]
    try:
        gamma = np.linalg.solve(A + reg * np.trace(A) * np.eye(k) + 1e-300 * np.eye(k), dR.T @ R[:, -1])
    except np.linalg.LinAlgError:
        return GX[:, -1]
    if not np.isfinite(gamma).all():
        return GX[:, -1]
    return GX[:, -1] - dG @ gamma
