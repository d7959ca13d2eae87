"""Fused numba kernels for log-domain Sinkhorn on numpy inputs (imported lazily).

One pass over a row of C computes ``log sum_j exp((g_j - C_ij)/reg)`` with the
previous potential ``f_i`` as the shift (P_ij <= 1, so no overflow), falling back to
an online-max pass when the shifted sum under- or overflows. Columns use C^T.
"""
import math

import numpy as np
from numba import njit, prange


_EXP_MIN = -708.0  # exp below this is subnormal or 0: flushed to 0 (libm's underflow path is slow)


@njit(cache=True, inline="always")
def _exp0(x):
    """exp(x), with results below the smallest normal double (x < -708) flushed to 0:
    branch-free, so the loop stays vectorizable, and exp never takes libm's slow
    underflow path (2x faster plan evaluations at reg = 1e-4, where a quarter of the
    plan underflows). The flushed entries are < 2.3e-308."""
    return math.exp(max(x, _EXP_MIN)) * (x > _EXP_MIN)



@njit(cache=True, fastmath=True)
def _row_lse(Crow, g, inv_reg, shift):
    s = 0.0
    for j in range(Crow.shape[0]):
        s += _exp0((g[j] - Crow[j]) * inv_reg + shift)
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
            s += _exp0(x - m)
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
def plan_cost_entropy(C, f, g, reg, want_plan, P):
    """(<P, C>, sum_ij P_ij (log P_ij - 1)) for P_ij = exp((f_i + g_j - C_ij) / reg), and P
    itself when ``want_plan``, in one pass (one exponential per entry, per-row sums)."""
    inv = 1.0 / reg
    n, m = C.shape
    row_cost = np.zeros(n)
    row_ent = np.zeros(n)
    for i in prange(n):
        s = 0.0
        e = 0.0
        for j in range(m):
            lp = (f[i] + g[j] - C[i, j]) * inv
            p = _exp0(lp)
            if want_plan:
                P[i, j] = p
            s += p * C[i, j]
            e += p * (lp - 1.0)
        row_cost[i] = s
        row_ent[i] = e
    return row_cost.sum(), row_ent.sum()


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


def _scaling_pass(K, v, a, u_old, u_new, W):
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


def _kernel_mtv(K, x, W):
    """K^T x accumulated in float64 (W (n_blocks, m) is scratch)."""
    n = K.shape[0]
    nb = W.shape[0]
    for t in prange(nb):
        W[t, :] = 0.0
        _mtv_rows(K, x, W[t], t * n // nb, (t + 1) * n // nb)
    return W.sum(axis=0)


@njit(cache=True, fastmath=True, error_model="numpy")
def c_transforms(C):
    """(F, G, max C): F_i = min_j C_ij, G_j = min_i (C_ij - F_i) — the start of the
    log-stabilized iteration, every row and column of its kernel has an entry equal to 1 —
    in two passes over C without temporaries (numpy's ``(C - F[:, None]).min(0)`` builds one).
    fastmath (vectorized min/max) is safe: C is finite (checked at the front door)."""
    n, m = C.shape
    F = np.empty(n)
    G = np.full(m, np.inf)
    cmax = -np.inf
    for i in range(n):
        lo, hi = np.inf, -np.inf
        for j in range(m):
            x = C[i, j]
            lo = min(lo, x)
            hi = max(hi, x)
        F[i] = lo
        cmax = max(cmax, hi)
    i = 0
    while i + 4 <= n:  # four rows per sweep of G: one load/store of G_j for four minima (2x faster)
        f0, f1, f2, f3 = F[i], F[i + 1], F[i + 2], F[i + 3]
        for j in range(m):
            G[j] = min(G[j], min(min(C[i, j] - f0, C[i + 1, j] - f1), min(C[i + 2, j] - f2, C[i + 3, j] - f3)))
        i += 4
    while i < n:
        for j in range(m):
            G[j] = min(G[j], C[i, j] - F[i])
        i += 1
    return F, G, cmax


@njit(cache=True, error_model="numpy")
def divide_and_range(b, w, v, u):
    """v = b / w in place; returns (min u, max u, min v, max v), with min u = 0 (min v = 0)
    when some u_i (v_j) is not finite: a row (column) of the kernel under- or overflowed.
    The log-stabilized iteration's absorption test in one call, without temporaries."""
    u_lo, u_hi = math.inf, -math.inf
    finite = True
    for i in range(u.shape[0]):
        x = u[i]
        finite = finite and math.isfinite(x)
        u_lo = min(u_lo, x)
        u_hi = max(u_hi, x)
    if not finite:
        u_lo = 0.0
    v_lo, v_hi = math.inf, -math.inf
    finite = True
    for j in range(w.shape[0]):
        x = b[j] / w[j]
        v[j] = x
        finite = finite and math.isfinite(x)
        v_lo = min(v_lo, x)
        v_hi = max(v_hi, x)
    return u_lo, u_hi, (v_lo if finite else 0.0), v_hi


def _two_builds(fn):
    """(serial, threaded) builds; the threaded one is a renamed copy (numba's disk cache
    keys functions by qualified name, not by compile flags)."""
    import types

    twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_threaded", fn.__defaults__,
                              fn.__closure__)
    twin.__qualname__ = fn.__qualname__ + "_threaded"
    return (njit(cache=True, error_model="numpy")(fn),
            njit(cache=True, parallel=True, error_model="numpy")(twin))


_PASS = _two_builds(_scaling_pass)
_MTV = _two_builds(_kernel_mtv)
THREADED_MIN_ENTRIES = 1 << 20  # below this a pass costs less than waking the threads


def scaling_kernels(n, m):
    """(pass, mtv, n_blocks) for an n x m kernel: serial builds and one block for small
    kernels, threaded builds and a few blocks per thread (load balance on a shared
    machine; each block at least 64 rows) for large ones."""
    import numba

    if n * m < THREADED_MIN_ENTRIES or numba.get_num_threads() == 1:
        return _PASS[0], _MTV[0], 1
    return _PASS[1], _MTV[1], max(1, min(4 * numba.get_num_threads(), n // 64))


# ------------------------------------------------------------- SNS (Newton phase)
#
# The Newton phase evaluates the entropic dual at (f, g) once per trial point: the plan
# P_ij = exp((f_i + g_j - C_ij) / reg) (stored: the sparsified Hessian is read from it),
# its row and column sums and its total mass, in one parallel pass without temporaries;
# the range of log P (over the positive entries) for the sparsification's histogram.


@njit(cache=True, fastmath=_FM, error_model="numpy")
def _plan_rows(C, f, g, inv, P, r, w, lo, hi):
    m = C.shape[1]
    lo_lp, hi_lp = np.inf, -np.inf
    for i in range(lo, hi):
        fi = f[i]
        s = 0.0
        for j in range(m):
            lp = (fi + g[j] - C[i, j]) * inv
            p = _exp0(lp)
            P[i, j] = p
            s += p
            w[j] += p
            lo_lp = min(lo_lp, lp)
            hi_lp = max(hi_lp, lp)
        r[i] = s
    return max(lo_lp, _LOG_TINY), hi_lp


_LOG_TINY = _EXP_MIN  # exp(lp) is flushed to 0 below it


def _plan_eval(C, f, g, reg, P, r, W):
    """P (out), row sums r (out); returns (column sums, min log P, max log P) over the
    positive entries (the min clipped at the log of the smallest positive double; W
    (n_blocks, m) scratch)."""
    n = C.shape[0]
    nb = W.shape[0]
    inv = 1.0 / reg
    los = np.empty(nb)
    his = np.empty(nb)
    for t in prange(nb):
        W[t, :] = 0.0
        los[t], his[t] = _plan_rows(C, f, g, inv, P, r, W[t], t * n // nb, (t + 1) * n // nb)
    return W.sum(axis=0), los.min(), his.max()


def _log_mass_histogram(P, first, last, nbins, H):
    """Mass of the positive entries of P in ``nbins`` equal bins of log P over
    [first, last] (numpy.histogram's binning, weights = P); H (n_blocks, nbins) scratch."""
    n, m = P.shape
    nb = H.shape[0]
    norm = nbins / (last - first)
    for t in prange(nb):
        H[t, :] = 0.0
        for i in range(t * n // nb, (t + 1) * n // nb):
            for j in range(m):
                p = P[i, j]
                if p > 0.0:
                    x = math.log(p)
                    k = int((x - first) * norm)
                    if k >= nbins:
                        k = nbins - 1
                    if k > 0 and x < first + k / norm:
                        k -= 1
                    elif k < nbins - 1 and x >= first + (k + 1) / norm:
                        k += 1
                    if k < 0:
                        k = 0
                    H[t, k] += p
    return H.sum(axis=0)


def _count_at_least(P, t, counts):
    """counts[i] = #{j : P_ij >= t}; returns the total."""
    n, m = P.shape
    for i in prange(n):
        c = 0
        for j in range(m):
            if P[i, j] >= t:
                c += 1
        counts[i] = c
    return counts.sum()


def _csr_at_least(P, t, indptr, indices, data):
    """Fill a CSR matrix with the entries P_ij >= t (indptr given)."""
    n, m = P.shape
    for i in prange(n):
        k = indptr[i]
        for j in range(m):
            p = P[i, j]
            if p >= t:
                indices[k] = j
                data[k] = p
                k += 1


@njit(cache=True, fastmath=_FM, error_model="numpy")
def _sns_hess(indptr, indices, data, r, c, z, out):
    """out = [[diag(r), Ps], [Ps^T, diag(c)]] z for the CSR matrix Ps (n x m)."""
    n, m = r.shape[0], c.shape[0]
    for j in range(m):
        out[n + j] = c[j] * z[n + j]
    for i in range(n):
        zi = z[i]
        s = r[i] * zi
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            s += data[k] * z[n + j]
            out[n + j] += data[k] * zi
        out[i] = s


@njit(cache=True, fastmath=_FM, error_model="numpy")
def sns_pcg(indptr, indices, data, r, c, rhs, rtol, maxiter, x):
    """Jacobi-preconditioned conjugate gradients on the SNS Hessian (times reg):
    ``[[diag(r), Ps], [Ps^T, diag(c)]] x = rhs`` with the preconditioner diag(r, c) > 0,
    from x = 0, until ||residual||_2 <= rtol ||rhs||_2 or ``maxiter`` products (the
    system is singular, with null vector (1, -1), and consistent when rhs is orthogonal to
    it; CG then stays in the range). Returns (iterations, final relative residual)."""
    N = rhs.shape[0]
    n = r.shape[0]
    diag = np.empty(N)
    diag[:n] = r
    diag[n:] = c
    res = rhs.copy()
    x[:] = 0.0
    bnorm = math.sqrt(np.dot(rhs, rhs))
    if bnorm == 0.0:
        return 0, 0.0
    z = res / diag
    p = z.copy()
    q = np.empty(N)
    rz = np.dot(res, z)
    rnorm = bnorm
    it = 0
    while it < maxiter and rnorm > rtol * bnorm:
        _sns_hess(indptr, indices, data, r, c, p, q)
        pq = np.dot(p, q)
        if not pq > 0.0:  # (no descent left, or NaN)
            break
        alpha = rz / pq
        x += alpha * p
        res -= alpha * q
        z = res / diag
        rz_new = np.dot(res, z)
        p = z + (rz_new / rz) * p
        rz = rz_new
        rnorm = math.sqrt(np.dot(res, res))
        it += 1
    return it, rnorm / bnorm


def _stabilized_kernel(C, F, G, reg, K):
    """K_ij = exp((F_i + G_j - C_ij) / reg) in K's dtype, in place."""
    n, m = C.shape
    inv = 1.0 / reg
    for i in prange(n):
        Fi = F[i]
        for j in range(m):
            K[i, j] = _exp0((Fi + G[j] - C[i, j]) * inv)


_SNS_BUILDS = {name: _two_builds(fn) for name, fn in [
    ("plan_eval", _plan_eval), ("log_mass_histogram", _log_mass_histogram), ("count_at_least", _count_at_least),
    ("csr_at_least", _csr_at_least), ("stabilized_kernel", _stabilized_kernel)]}


class Kernels:
    """The one-pass and SNS kernels for an n x m problem: serial builds (one block) below
    THREADED_MIN_ENTRIES entries, threaded builds otherwise (see :func:`scaling_kernels`)."""

    def __init__(self, n, m):
        self.one_pass, self.mtv, self.blocks = scaling_kernels(n, m)
        threaded = self.blocks > 1
        for name, pair in _SNS_BUILDS.items():
            setattr(self, name, pair[1] if threaded else pair[0])
        self.lse_update = lse_update
        self.sns_pcg = sns_pcg
