"""Fused numba kernels for log-domain Sinkhorn on numpy inputs (imported lazily).

One pass over a row of C computes ``log sum_j exp((g_j - C_ij)/reg)`` with the
previous potential ``f_i`` as the shift (P_ij <= 1, so no overflow), falling back to
an online-max pass when the shifted sum under- or overflows. Columns use C^T.
"""
import math

import numpy as np
from numba import njit, prange


@njit(cache=True, fastmath=True)
def _row_lse(Crow, g, inv_reg, shift):
    s = 0.0
    for j in range(Crow.shape[0]):
        s += math.exp((g[j] - Crow[j]) * inv_reg + shift)
    if s > 1e-280 and s < 1e280:
        return math.log(s) - shift
    m = -np.inf
    s = 0.0
    for j in range(Crow.shape[0]):
        x = (g[j] - Crow[j]) * inv_reg
        if x > m:
            s = s * math.exp(m - x) + 1.0
            m = x
        else:
            s += math.exp(x - m)
    return m + math.log(s)


@njit(cache=True, parallel=True, fastmath=True)
def lse_update(C, g, f_prev, reg, log_a, out, err_terms):
    """out_i = reg*(log a_i - lse_i); err_terms_i = |exp(f_prev_i/reg + lse_i) - a_i|."""
    inv = 1.0 / reg
    for i in prange(C.shape[0]):
        lse = _row_lse(C[i], g, inv, f_prev[i] * inv)
        err_terms[i] = abs(math.exp(f_prev[i] * inv + lse) - math.exp(log_a[i]))
        out[i] = reg * (log_a[i] - lse)


@njit(cache=True, parallel=True, fastmath=True)
def plan_and_cost(C, f, g, reg, want_plan, P):
    inv = 1.0 / reg
    n, m = C.shape
    row_cost = np.zeros(n)
    for i in prange(n):
        s = 0.0
        for j in range(m):
            p = math.exp((f[i] + g[j] - C[i, j]) * inv)
            if want_plan:
                P[i, j] = p
            s += p * C[i, j]
        row_cost[i] = s
    return row_cost.sum()


@njit(cache=True, parallel=True, fastmath=True)
def entropy_term(C, f, g, reg):
    """sum_ij P_ij (log P_ij - 1) without forming P."""
    inv = 1.0 / reg
    n, m = C.shape
    acc = np.zeros(n)
    for i in prange(n):
        s = 0.0
        for j in range(m):
            lp = (f[i] + g[j] - C[i, j]) * inv
            s += math.exp(lp) * (lp - 1.0)
        acc[i] = s
    return acc.sum()
