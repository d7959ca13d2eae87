"""Numba kernels for successive over-relaxation on CSR matrices (imported lazily by
:mod:`numopt.solvers.sor`; ``import numopt`` never imports it).

One call of :func:`sor_sweeps` runs up to ``nsweeps`` forward sweeps

    x_i <- (1 - omega) x_i + omega (b_i - sum_{j != i} a_ij x_j) / a_ii,   i = 1..n,

(the same update as ``x <- x + (D/omega + L)^{-1} (b - A x)``, L the strictly lower
triangle and D the diagonal, computed by the scipy reference path), each followed by
the residual norm ``||b - A x||`` and the stopping test, so the loop stops at the exact
sweep where the relative residual reaches ``tol`` however many sweeps a call may run.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def residual_norm(indptr, indices, data, b, x):
    """``||b - A x||`` for a CSR ``A`` (accumulated in float64)."""
    n = b.shape[0]
    s = 0.0
    for i in range(n):
        ri = b[i]
        for k in range(indptr[i], indptr[i + 1]):
            ri -= data[k] * x[indices[k]]
        s += ri * ri
    return math.sqrt(s)


@njit(cache=True)
def sor_sweeps(indptr, indices, data, diag, b, x, omega, tol, denom, nsweeps):
    """Up to ``nsweeps`` SOR sweeps in place on ``x``. After each sweep the residual
    norm ``res``; stops early when ``res / denom <= tol`` or ``res`` is not finite.
    Returns ``(sweeps_done, res)`` (``res`` of the last sweep; NaN when none ran)."""
    n = b.shape[0]
    res = np.nan
    for done in range(1, nsweeps + 1):
        for i in range(n):
            sigma = b[i]
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if j != i:
                    sigma -= data[k] * x[j]
            x[i] = (1.0 - omega) * x[i] + omega * sigma / diag[i]
        res = residual_norm(indptr, indices, data, b, x)
        if not math.isfinite(res) or res / denom <= tol:
            return done, res
    return nsweeps, res


def warm_up():
    """Compile (or load from cache) the float64 / int32 specialization."""
    indptr = np.array([0, 1], dtype=np.int32)
    indices = np.array([0], dtype=np.int32)
    data = np.ones(1)
    x = np.zeros(1)
    residual_norm(indptr, indices, data, np.ones(1), x)
    sor_sweeps(indptr, indices, data, data.copy(), np.ones(1), x, 1.0, 1e-12, 1.0, 5)
