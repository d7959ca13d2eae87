"""numba kernels for coordinate descent on f(Xw) + l1/elastic-net (imported lazily).

Columns are visited through CSC arrays (data, indices, indptr); a dense design is
passed as CSC too (scipy.sparse.csc_matrix of the dense array) so one kernel serves
both. Residuals / predictions are kept up to date, so one coordinate costs O(nnz(X_j)).
"""
import math

from numba import njit


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
def logreg_epoch(data, indices, indptr, w, z, y, l1, l2, Lj, inv_n, order):
    """One pass of proximal coordinate gradient steps (step 1/L_j, L_j = ||X_j||^2/(4n))
    for 1/n sum log(1 + exp(-y z)) + l1 ||w||_1 + l2/2 ||w||^2; ``z = Xw`` updated."""
    dmax = 0.0
    for jj in range(order.shape[0]):
        j = order[jj]
        if Lj[j] == 0.0:
            continue
        g = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            g -= data[k] * y[i] / (1.0 + math.exp(y[i] * z[i]))
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
            new = _soft(w[j] - gj / Lj[j], l1 / Lj[j])
            d = new - w[j]
            if rule == 1:
                score = abs(d)
            elif rule == 2:
                score = -(gj * d + 0.5 * Lj[j] * d * d + l1 * (abs(new) - abs(w[j])))
            else:
                if w[j] != 0.0:
                    s = abs(gj + l1 * (1.0 if w[j] > 0 else -1.0))
                else:
                    s = max(abs(gj) - l1, 0.0)
                score = s / math.sqrt(Lj[j]) if rule == 3 else s
            if score > best:
                best, jbest, newbest = score, j, new
        if jbest < 0 or best <= 0.0:
            return
        d = newbest - w[jbest]
        w[jbest] = newbest
        for i in range(p):
            grad[i] += G[i, jbest] * d
