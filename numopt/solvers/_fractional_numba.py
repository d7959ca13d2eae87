"""numba kernel of numopt.solvers.fractional_cd (imported lazily)."""
import math

import numpy as np
from numba import njit


@njit(cache=True)
def _subproblem(p2, p1, p0, q2, q1, q0, lam, xi, rest_l1, r):
    cands = np.empty(8)
    cands[0] = 0.0
    cands[1] = -xi
    cands[2] = -r - xi
    cands[3] = r - xi
    nc = 4
    for s in (1.0, -1.0):
        P1 = p1 + lam * s
        P0 = p0 + lam * s * xi + rest_l1
        a2 = p2 * q1 - P1 * q2
        a1 = 2.0 * (p2 * q0 - P0 * q2)
        a0 = P1 * q0 - P0 * q1
        if abs(a2) > 1e-300:
            disc = a1 * a1 - 4 * a2 * a0
            if disc >= 0:
                sq = math.sqrt(disc)
                cands[nc] = (-a1 + sq) / (2 * a2)
                nc += 1
                cands[nc] = (-a1 - sq) / (2 * a2)
                nc += 1
        elif abs(a1) > 1e-300:
            cands[nc] = -a0 / a1
            nc += 1
    best_t, best_v = 0.0, np.inf
    for k in range(nc):
        t = cands[k]
        if not np.isfinite(t) or abs(xi + t) > r * (1 + 1e-15):
            continue
        d = q2 * t * t + q1 * t + q0
        if d <= 0:
            continue
        v = (p2 * t * t + p1 * t + p0 + lam * abs(xi + t) + rest_l1) / d
        if v < best_v:
            best_t, best_v = t, v
    return best_t, best_v


@njit(cache=True)
def sweep(A, B, a, b, alpha, beta, lam, x, Ax, Bx, order, r):
    n = x.size
    fx = alpha
    gx = beta
    l1 = 0.0
    for j in range(n):
        fx += 0.5 * x[j] * Ax[j] + a[j] * x[j]
        gx += 0.5 * x[j] * Bx[j] + b[j] * x[j]
        l1 += abs(x[j])
    best_gain = 0.0
    for i in order:
        F0 = (fx + lam * l1) / gx
        rest = lam * (l1 - abs(x[i]))
        t, v = _subproblem(0.5 * A[i, i], Ax[i] + a[i], fx, 0.5 * B[i, i], Bx[i] + b[i], gx, lam, x[i], rest, r)
        gain = F0 - v
        if not np.isfinite(gain):  # no valid candidate (g <= 0) or NaN: reported, not swallowed
            return np.nan
        if gain > best_gain:
            best_gain = gain
        if t != 0.0 and v < F0:
            fx += 0.5 * A[i, i] * t * t + (Ax[i] + a[i]) * t
            gx += 0.5 * B[i, i] * t * t + (Bx[i] + b[i]) * t
            l1 += abs(x[i] + t) - abs(x[i])
            x[i] += t
            for j in range(n):
                Ax[j] += t * A[j, i]
                Bx[j] += t * B[j, i]
    return best_gain
