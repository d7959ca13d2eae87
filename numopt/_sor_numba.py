"""Numba kernel for successive over-relaxation on CSR matrices (imported lazily by
:mod:`numopt.sor`; ``import numopt`` never imports it).

One call runs the whole SOR iteration: per iteration, the residual norm
``||b - A x||`` (stopping test) and then one forward sweep

    x_i <- (1 - omega) x_i + omega (b_i - sum_{j != i} a_ij x_j) / a_ii,   i = 1..n,

which is the same update as ``x <- x + (D/omega + L)^{-1} (b - A x)`` (L the strictly
lower triangle, D the diagonal) computed by the scipy reference path.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def sor_csr(indptr, indices, data, diag, b, x, omega, tol_abs, maxiter):
    """Run SOR in place on ``x``. Returns ``(nit, residual_norm, status)`` with status
    0 (residual <= tol_abs), 1 (maxiter sweeps done) or 2 (non-finite residual)."""
    n = b.shape[0]
    nit = 0
    while True:
        s = 0.0
        for i in range(n):
            ri = b[i]
            for k in range(indptr[i], indptr[i + 1]):
                ri -= data[k] * x[indices[k]]
            s += ri * ri
        res = math.sqrt(s)
        if not math.isfinite(res):
            return nit, res, 2
        if res <= tol_abs:
            return nit, res, 0
        if nit >= maxiter:
            return nit, res, 1
        for i in range(n):
            sigma = b[i]
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if j != i:
                    sigma -= data[k] * x[j]
            x[i] = (1.0 - omega) * x[i] + omega * sigma / diag[i]
        nit += 1


def warm_up():
    """Compile (or load from cache) the float64 / int32 specialization."""
    indptr = np.array([0, 1], dtype=np.int32)
    indices = np.array([0], dtype=np.int32)
    data = np.ones(1)
    sor_csr(indptr, indices, data, data.copy(), np.ones(1), np.zeros(1), 1.0, 1e-12, 5)
