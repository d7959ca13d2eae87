"""numba kernels for coordinate descent on f(Xw) + l1/elastic-net (imported lazily).

Columns are visited through CSC arrays (data, indices, indptr); a dense design is
passed as CSC too (scipy.sparse.csc_matrix of the dense array) so one kernel serves
both. Residuals / predictions are kept up to date, so one coordinate costs O(nnz(X_j)).
"""
import math

import numpy as np

from numba import njit, prange

from .._numba_builds import two_builds as _two_builds


@njit(cache=True, inline="always")
def _soft(z, t):
    if z > t:
        return z - t
    if z < -t:
        return z + t
    return 0.0


@njit(cache=True)
def lasso_epoch(data, indices, indptr, w, r, l1, l2, Lj, inv_n, order):
    """One pass over ``order`` for 1/(2n)||y - Xw||^2 + l1 ||w||_1 + l2/2 ||w||^2;
    ``r = y - Xw`` is updated in place. Exact coordinate minimization. Returns max |dw|."""
    dmax = 0.0
    for jj in range(order.shape[0]):
        j = order[jj]
        if Lj[j] == 0.0:
            continue
        g = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            g += data[k] * r[indices[k]]
        old = w[j]
        new = _soft(old * Lj[j] + g * inv_n, l1) / (Lj[j] + l2)
        if new != old:
            d = new - old
            for k in range(indptr[j], indptr[j + 1]):
                r[indices[k]] -= data[k] * d
            w[j] = new
            if abs(d) > dmax:
                dmax = abs(d)
    return dmax


@njit(cache=True)
def smooth_epoch(data, indices, indptr, w, z, y, param, deriv, l1, l2, Lj, inv_n, order):
    """One pass of proximal coordinate gradient steps (step 1/L_j, L_j = curvature
    ||X_j||^2 / n) for 1/n sum_i phi(z_i, y_i) + l1 ||w||_1 + l2/2 ||w||^2 with
    ``z = Xw`` updated in place. ``deriv(z_i, y_i, param) = phi'(z_i)`` is the datafit's
    own numba function (numopt.datafits.*.coordinate_kernel), compiled into this loop."""
    dmax = 0.0
    for jj in range(order.shape[0]):
        j = order[jj]
        if Lj[j] == 0.0:
            continue
        g = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            g += data[k] * deriv(z[i], y[i], param)
        g *= inv_n
        old = w[j]
        new = _soft(old * Lj[j] - g, l1) / (Lj[j] + l2)
        if new != old:
            d = new - old
            for k in range(indptr[j], indptr[j + 1]):
                z[indices[k]] += data[k] * d
            w[j] = new
            if abs(d) > dmax:
                dmax = abs(d)
    return dmax


def logreg_epoch(data, indices, indptr, w, z, y, l1, l2, Lj, inv_n, order):
    """:func:`smooth_epoch` with the logistic derivative (L_j = ||X_j||^2 / (4n))."""
    from .._datafit_numba import logistic_deriv

    return smooth_epoch(data, indices, indptr, w, z, y, 0.0, logistic_deriv, l1, l2, Lj, inv_n, order)


@njit(cache=True)
def greedy_quadratic(G, c, w, grad, l1, l2, Lj, rule, nsteps):
    """Greedy coordinate descent for 1/2 w^T G w - c^T w + l1||w||_1 + l2/2||w||^2 with the
    gradient ``grad = G w - c`` maintained in O(p) per step (Gram matrix G = X^T X / n).

    rule 0 = GS-s (largest |min-norm subgradient|), 1 = GS-r (largest |step|),
    2 = GS-q (largest decrease of the coordinate model), 3 = GSL (GS-s scaled by 1/sqrt(L_j)).
    """
    p = w.shape[0]
    for _ in range(nsteps):
        best, jbest, newbest = -1.0, -1, 0.0
        for j in range(p):
            if Lj[j] == 0.0:
                continue
            gj = grad[j] + l2 * w[j]
            new = _soft(w[j] * Lj[j] - grad[j], l1) / (Lj[j] + l2)  # exact coordinate minimizer
            d = new - w[j]
            if rule == 1:
                score = abs(d)
            elif rule == 2:
                score = -(gj * d + 0.5 * (Lj[j] + l2) * d * d + l1 * (abs(new) - abs(w[j])))
            else:
                if w[j] != 0.0:
                    s = abs(gj + l1 * (1.0 if w[j] > 0 else -1.0))
                else:
                    s = max(abs(gj) - l1, 0.0)
                score = s / math.sqrt(Lj[j] + l2) if rule == 3 else s
            if score > best:
                best, jbest, newbest = score, j, new
        if jbest < 0 or best <= 0.0:
            return
        d = newbest - w[jbest]
        w[jbest] = newbest
        for i in range(p):
            grad[i] += G[i, jbest] * d


@njit(cache=True)
def tree_epoch(ptr, nodes, par, wpar, D, data, indices, indptr, x, g, block_order, r, d):
    """Message-passing block updates x_b <- x_b - A_bb^{-1} g_b for the blocks in
    ``block_order``, with the gradient g = A x - c kept current through the CSC columns of
    A. Block j holds ``nodes[ptr[j]:ptr[j+1]]`` in BFS order (parents first); ``par`` are
    local parent positions (-1 at roots), ``wpar`` the parent-edge entries A_ip and ``D``
    the pivots of the leaves-to-root elimination. O(|b| + nnz(A[:, b])) per block.
    ``r``, ``d``: work arrays of length >= max block size."""
    for jj in range(block_order.shape[0]):
        j = block_order[jj]
        s, e = ptr[j], ptr[j + 1]
        for k in range(s, e):
            r[k - s] = g[nodes[k]]
        for k in range(e - 1, s - 1, -1):  # leaves -> root
            p = par[k]
            if p >= 0:
                r[p] -= wpar[k] * r[k - s] / D[k]
        for k in range(s, e):  # root -> leaves
            p = par[k]
            v = r[k - s]
            if p >= 0:
                v -= wpar[k] * d[p]
            d[k - s] = v / D[k]
        for k in range(s, e):
            dk = d[k - s]
            if dk != 0.0:
                i = nodes[k]
                x[i] -= dk
                for q in range(indptr[i], indptr[i + 1]):
                    g[indices[q]] -= data[q] * dk


@njit(cache=True)
def nnls_rows(G, R, W, tol, max_sweeps):
    """min_{W >= 0} 1/2 tr(W G W^T) - tr(R^T W), rows independent (G SPD, r x r).

    Per row: cyclic coordinate minimization sweeps; every 3 sweeps, try the exact solve
    on the current support F = {k: W_ik > 0} (G_FF z = R_F); accept it when z > 0 and the
    KKT conditions hold off F. Stops when the row's projected gradient
    max_k |min(W_ik, (W G - R)_ik)| <= tol (or after ``max_sweeps`` sweeps). In place."""
    m, r = W.shape
    g = np.empty(r)
    for i in range(m):
        for sweep in range(max_sweeps):
            for k in range(r):
                gk = -R[i, k]
                for l in range(r):
                    gk += W[i, l] * G[l, k]
                new = W[i, k] - gk / G[k, k]
                W[i, k] = new if new > 0.0 else 0.0
            if sweep % 3 == 2:
                F = np.flatnonzero(W[i] > 0.0)
                if F.size > 0:
                    z = np.linalg.solve(G[F][:, F], R[i, F])
                    if np.all(z > 0.0):
                        old = W[i].copy()
                        W[i, :] = 0.0
                        W[i, F] = z
                        ok = True
                        for k in range(r):
                            gk = -R[i, k]
                            for l in range(r):
                                gk += W[i, l] * G[l, k]
                            if W[i, k] == 0.0 and gk < -tol:
                                ok = False
                        if not ok:
                            W[i, :] = old
            worst = 0.0
            for k in range(r):
                gk = -R[i, k]
                for l in range(r):
                    gk += W[i, l] * G[l, k]
                g[k] = gk
                v = min(W[i, k], gk)
                if not abs(v) <= worst:  # (a NaN makes worst NaN: never "converged")
                    worst = abs(v)
            if worst <= tol:
                break


def _col_dots(data, indices, indptr, u, cols, out):
    """out[k] = X[:, cols[k]]^T u (CSC columns). O(nnz(X[:, cols])), columns in parallel."""
    for k in prange(cols.shape[0]):
        j = cols[k]
        s = 0.0
        for q in range(indptr[j], indptr[j + 1]):
            s += data[q] * u[indices[q]]
        out[k] = s


@njit(cache=True, inline="always")
def _gscore(wj, gk, L, l1, l2, rule):
    """(score, new value) of one coordinate for the greedy rules (see greedy_ws)."""
    if L == 0.0:
        return -1.0, wj
    new = _soft(wj * L - gk, l1) / (L + l2)
    d = new - wj
    if rule == 1:
        return abs(d), new
    if rule == 2:
        return -(gk * d + 0.5 * L * d * d + l1 * (abs(new) - abs(wj)) + 0.5 * l2 * (new * new - wj * wj)), new
    gj = gk + l2 * wj
    if wj != 0.0:
        sc = abs(gj + l1 * (1.0 if wj > 0 else -1.0))
    else:
        sc = max(abs(gj) - l1, 0.0)
    if rule == 3:
        sc /= math.sqrt(L + l2)
    return sc, new


@njit(cache=True, inline="always")
def _tree_set(tv, ti, size, k, val):
    """Set leaf k of the max-tournament tree (values tv, argmax leaves ti) and repair the path."""
    q = size + k
    tv[q] = val
    q >>= 1
    while q >= 1:
        a, b = 2 * q, 2 * q + 1
        if tv[a] >= tv[b]:
            tv[q], ti[q] = tv[a], ti[a]
        else:
            tv[q], ti[q] = tv[b], ti[b]
        q >>= 1


@njit(cache=True)
def greedy_ws(logistic, data, indices, indptr, rdata, rcols, rptr, W, w, state, y, u, g, l1, l2, Lj, inv_n,
              rule, nsteps):
    """Greedy coordinate descent restricted to the working set ``W`` (global indices) with
    the datafit gradient ``g[k] = X[:, W[k]]^T u`` maintained through the rows touched by
    each update (CSR of X[:, W]: rdata, rcols (local positions), rptr). ``u`` is the
    per-sample datafit derivative (u = -r/n for least squares, ``state`` = r = y - Xw;
    u = -y/(1 + exp(y z))/n for logistic, ``state`` = z = Xw).

    A step on coordinate j minimizes g_j d + L_j/2 d^2 + l1|w_j + d| + l2/2 (w_j + d)^2
    (exact for least squares). The scores live in a max-tournament tree, so the argmax is
    O(1) and a step costs O(T log |W|) with T = sum over the rows i of column j of
    nnz(X[i, W]) (the gradient entries that change), not an O(|W|) rescan.
    rule 0 = GS-s, 1 = GS-r, 2 = GS-q, 3 = GSL. Returns the number of steps taken
    (fewer than ``nsteps`` when no coordinate can move)."""
    m = W.shape[0]
    size = 1
    while size < m:
        size *= 2
    tv = np.full(2 * size, -1.0)
    ti = np.zeros(2 * size, dtype=np.int64)
    for k in range(size):
        ti[size + k] = k
    for k in range(m):
        tv[size + k] = _gscore(w[W[k]], g[k], Lj[W[k]], l1, l2, rule)[0]
    for q in range(size - 1, 0, -1):
        a, b = 2 * q, 2 * q + 1
        if tv[a] >= tv[b]:
            tv[q], ti[q] = tv[a], ti[a]
        else:
            tv[q], ti[q] = tv[b], ti[b]
    mark = np.zeros(m, dtype=np.bool_)
    touched = np.empty(m, dtype=np.int64)
    for step in range(nsteps):
        if tv[1] <= 0.0:
            return step
        kbest = ti[1]
        j = W[kbest]
        new = _gscore(w[j], g[kbest], Lj[j], l1, l2, rule)[1]
        d = new - w[j]
        if d == 0.0:
            return step
        w[j] = new
        nt = 1
        touched[0] = kbest
        mark[kbest] = True
        for q in range(indptr[j], indptr[j + 1]):
            i = indices[q]
            if logistic:
                state[i] += data[q] * d
                unew = -y[i] / (1.0 + math.exp(y[i] * state[i])) * inv_n
                du = unew - u[i]
                u[i] = unew
            else:
                state[i] -= data[q] * d
                du = data[q] * d * inv_n
                u[i] += du
            for t in range(rptr[i], rptr[i + 1]):
                c = rcols[t]
                g[c] += rdata[t] * du
                if not mark[c]:
                    mark[c] = True
                    touched[nt] = c
                    nt += 1
        for t in range(nt):
            c = touched[t]
            mark[c] = False
            _tree_set(tv, ti, size, c, _gscore(w[W[c]], g[c], Lj[W[c]], l1, l2, rule)[0])
    return nsteps


@njit(cache=True)
def prox_newton_cd(data, indices, indptr, W, w, d, Xd, h, g, Hj, l1, l2, max_epochs, rtol):
    """Cyclic CD on the prox-Newton model over the working set W:
    min_d g^T d + 1/2 sum_i h_i (X_W d)_i^2 + l1 ||w_W + d||_1 + l2/2 ||w_W + d||^2
    (g = X_W^T grad F(z), h = diag of the datafit Hessian, Hj[k] = sum_i h_i X_ij^2 for
    j = W[k]); d and Xd = X_W d updated in place. Stops when an epoch's largest change
    is below rtol * max |d| (relative to the Newton step itself, so the model is solved
    accurately also near the optimum where d is tiny). Returns the number of epochs."""
    m = W.shape[0]
    for ep in range(max_epochs):
        dmax, vmax = 0.0, 0.0
        for k in range(m):
            j = W[k]
            H = Hj[k]
            if H + l2 <= 0.0:
                continue
            gj = g[k]
            for q in range(indptr[j], indptr[j + 1]):
                i = indices[q]
                gj += data[q] * h[i] * Xd[i]
            v = w[j] + d[k]
            new = _soft(v * H - gj, l1) / (H + l2)
            if new != v:
                delta = new - v
                d[k] += delta
                for q in range(indptr[j], indptr[j + 1]):
                    Xd[indices[q]] += data[q] * delta
                if abs(delta) > dmax:
                    dmax = abs(delta)
            if abs(d[k]) > vmax:
                vmax = abs(d[k])
        if dmax <= rtol * vmax:
            return ep + 1
    return max_epochs


@njit(cache=True)
def prox_newton_cd_gram(H, g, wW, d, l1, l2, max_epochs, rtol):
    """Cyclic CD on the prox-Newton model with its Hessian H = X_W^T diag(h) X_W formed:
    min_d g^T d + 1/2 d^T H d + l1 ||wW + d||_1 + l2/2 ||wW + d||^2; O(|W|) per coordinate,
    independent of n. Same stopping rule as prox_newton_cd. Returns the number of epochs."""
    m = wW.shape[0]
    Hd = H @ d
    for ep in range(max_epochs):
        dmax, vmax = 0.0, 0.0
        for k in range(m):
            Hkk = H[k, k]
            if Hkk + l2 <= 0.0:
                continue
            v = wW[k] + d[k]
            new = _soft(v * Hkk - (g[k] + Hd[k]), l1) / (Hkk + l2)
            if new != v:
                delta = new - v
                d[k] += delta
                for q in range(m):
                    Hd[q] += H[q, k] * delta
                if abs(delta) > dmax:
                    dmax = abs(delta)
            if abs(d[k]) > vmax:
                vmax = abs(d[k])
        if dmax <= rtol * vmax:
            return ep + 1
    return max_epochs


def gram_csr(data, indices, indptr, p):
    """X^T X from CSR rows: gram_masked_rows with every column kept and unit weights
    (serial), in sum_i nnz_i^2 / 2 multiply-adds."""
    return gram_masked_rows(data, indices, indptr, np.arange(p, dtype=np.int64), np.ones(indptr.size - 1), p, 1)


@njit(cache=True)
def col_sq(data, indptr):
    """Squared norms of the CSC columns."""
    p = indptr.size - 1
    out = np.empty(p)
    for j in range(p):
        s = 0.0
        for q in range(indptr[j], indptr[j + 1]):
            s += data[q] * data[q]
        out[j] = s
    return out


@njit(cache=True)
def cols_matvec(data, indices, indptr, W, d, out):
    """out = X_W d for the CSC columns W (out overwritten)."""
    out[:] = 0.0
    for k in range(W.size):
        dk = d[k]
        if dk == 0.0:
            continue
        j = W[k]
        for q in range(indptr[j], indptr[j + 1]):
            out[indices[q]] += data[q] * dk


def _cols_weighted_sq(data, indices, indptr, W, h, out):
    """out[k] = sum_i h_i X_ij^2 for j = W[k] (columns in parallel)."""
    for k in prange(W.size):
        j = W[k]
        s = 0.0
        for q in range(indptr[j], indptr[j + 1]):
            s += h[indices[q]] * data[q] * data[q]
        out[k] = s


def _masked_rows_cost(rcols, rptr, pos, stride):
    """For the columns with pos[j] >= 0 (a working set): (sum_i c_i (c_i + 1) / 2, sum_i c_i)
    with c_i the row's number of such entries: the pair count of the Gram matrix and nnz.
    With ``stride`` > 1, estimated from every stride-th row (scaled by stride)."""
    pairs, nnz = 0.0, 0
    for r in prange((rptr.size - 2) // stride + 1):
        i = r * stride
        c = 0
        for a in range(rptr[i], rptr[i + 1]):
            if pos[rcols[a]] >= 0:
                c += 1
        pairs += 0.5 * c * (c + 1)
        nnz += c
    return pairs * stride, nnz * stride


def _gram_masked_rows(rdata, rcols, rptr, pos, h, m, nblocks):
    """X_W^T diag(h) X_W from the CSR rows of the whole design: pos[j] = position of column
    j in W, or -1; one pass over nnz(X) to filter plus sum_i nnz_i(W)^2 / 2 multiply-adds.
    The rows are split into ``nblocks`` contiguous blocks accumulated in parallel (numba
    threads), each into its own m x m matrix, then summed."""
    n = rptr.size - 1
    Gs = np.zeros((nblocks, m, m))
    for t in prange(nblocks):
        G = Gs[t]
        kk = np.empty(m, np.int64)
        vv = np.empty(m)
        for i in range(t * n // nblocks, (t + 1) * n // nblocks):
            hi = h[i]
            if hi == 0.0:
                continue
            c = 0
            for a in range(rptr[i], rptr[i + 1]):
                k = pos[rcols[a]]
                if k >= 0:
                    kk[c] = k
                    vv[c] = rdata[a]
                    c += 1
            for a in range(c):
                ka, va = kk[a], hi * vv[a]
                for b in range(a, c):
                    G[ka, kk[b]] += va * vv[b]
    G = Gs[0]
    for t in range(1, nblocks):
        G += Gs[t]
    for a in range(m):
        for b in range(a + 1, m):
            s = G[a, b] + G[b, a]
            G[a, b] = s
            G[b, a] = s
    return G


PARALLEL_MIN = 100_000  # nonzeros touched: below, the serial build (a thread launch costs microseconds)


_col_dots_b = _two_builds(_col_dots)
_cols_weighted_sq_b = _two_builds(_cols_weighted_sq)
_masked_rows_cost_b = _two_builds(_masked_rows_cost)
_gram_masked_rows_b = _two_builds(_gram_masked_rows)


def _big(data, indptr, ncols):
    """Whether ncols average columns of a CSC matrix hold PARALLEL_MIN nonzeros."""
    return data.size * ncols >= PARALLEL_MIN * max(indptr.size - 1, 1)


def col_dots(data, indices, indptr, u, cols, out):
    _col_dots_b[_big(data, indptr, cols.shape[0])](data, indices, indptr, u, cols, out)


def cols_weighted_sq(data, indices, indptr, W, h, out):
    _cols_weighted_sq_b[_big(data, indptr, W.shape[0])](data, indices, indptr, W, h, out)


def masked_rows_cost(rcols, rptr, pos, stride=1):
    return _masked_rows_cost_b[rcols.size >= PARALLEL_MIN * stride](rcols, rptr, pos, stride)


def gram_masked_rows(rdata, rcols, rptr, pos, h, m, nblocks):
    return _gram_masked_rows_b[nblocks > 1](rdata, rcols, rptr, pos, h, m, nblocks)


gram_masked_rows.__doc__ = _gram_masked_rows.__doc__
col_dots.__doc__ = _col_dots.__doc__
cols_weighted_sq.__doc__ = _cols_weighted_sq.__doc__
masked_rows_cost.__doc__ = _masked_rows_cost.__doc__
