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


# ---------------------------------------------------------------- one-pass scaling Sinkhorn
#
# One scaling iteration reads the kernel once instead of twice: row i of K gives
# s_i = (K v)_i, the new u_i = a_i / s_i, and (the row still in cache) adds u_i K_i. to
# w = K^T u. The row violation |u_old_i s_i - a_i| of the previous iterate comes out of
# the same pass. Rows go in blocks of 4 (one load of v_j serves four dot products, one
# load/store of w_j four updates); each block of rows has its own accumulator row of W,
# summed afterwards (n_blocks x m, small). Accumulation is in float64 whatever K's dtype.
# fastmath only allows reassociation and contraction (vectorized reductions): NaN and inf
# keep their IEEE behaviour, so an underflowed row shows up as a non-finite iterate.

_FM = {"reassoc", "contract"}


@njit(cache=True, fastmath=_FM, error_model="numpy")
def _scaling_rows(K, v, a, u_old, u_new, w, lo, hi):
    m = K.shape[1]
    e = 0.0
    i = lo
    while i + 4 <= hi:
        r0, r1, r2, r3 = K[i], K[i + 1], K[i + 2], K[i + 3]
        s0 = s1 = s2 = s3 = 0.0
        for j in range(m):
            vj = v[j]
            s0 += r0[j] * vj
            s1 += r1[j] * vj
            s2 += r2[j] * vj
            s3 += r3[j] * vj
        e += (abs(u_old[i] * s0 - a[i]) + abs(u_old[i + 1] * s1 - a[i + 1])
              + abs(u_old[i + 2] * s2 - a[i + 2]) + abs(u_old[i + 3] * s3 - a[i + 3]))
        x0, x1, x2, x3 = a[i] / s0, a[i + 1] / s1, a[i + 2] / s2, a[i + 3] / s3
        u_new[i], u_new[i + 1], u_new[i + 2], u_new[i + 3] = x0, x1, x2, x3
        for j in range(m):
            w[j] += x0 * r0[j] + x1 * r1[j] + x2 * r2[j] + x3 * r3[j]
        i += 4
    while i < hi:
        r0 = K[i]
        s0 = 0.0
        for j in range(m):
            s0 += r0[j] * v[j]
        e += abs(u_old[i] * s0 - a[i])
        x0 = a[i] / s0
        u_new[i] = x0
        for j in range(m):
            w[j] += x0 * r0[j]
        i += 1
    return e


@njit(cache=True, parallel=True, error_model="numpy")
def scaling_pass(K, v, a, u_old, u_new, W):
    """One pass over K: u_new = a / (K v); returns (row l1 violation of (u_old, v),
    K^T u_new) — W (n_blocks, m) is scratch."""
    n = K.shape[0]
    nb = W.shape[0]
    errs = np.zeros(nb)
    for t in prange(nb):
        lo, hi = t * n // nb, (t + 1) * n // nb
        W[t, :] = 0.0
        errs[t] = _scaling_rows(K, v, a, u_old, u_new, W[t], lo, hi)
    return errs.sum(), W.sum(axis=0)


@njit(cache=True, fastmath=_FM, error_model="numpy")
def _mtv_rows(K, x, w, lo, hi):
    m = K.shape[1]
    for i in range(lo, hi):
        xi = x[i]
        r = K[i]
        for j in range(m):
            w[j] += xi * r[j]


@njit(cache=True, parallel=True, error_model="numpy")
def kernel_mtv(K, x, W):
    """K^T x accumulated in float64 (W (n_blocks, m) is scratch)."""
    n = K.shape[0]
    nb = W.shape[0]
    for t in prange(nb):
        W[t, :] = 0.0
        _mtv_rows(K, x, W[t], t * n // nb, (t + 1) * n // nb)
    return W.sum(axis=0)


def n_blocks(n):
    """Row blocks of a pass: a few per thread (load balance on a shared machine), each of
    at least 64 rows."""
    import numba

    return max(1, min(4 * numba.get_num_threads(), n // 64))
