"""numba kernels for the logistic datafit on float64 numpy arrays: one pass, one exp per
sample (numpy's logaddexp / exp / log chain makes four to six passes). Each kernel has a
serial and a threaded (``prange``) build; the threaded one runs from ``PARALLEL_MIN``
samples on, since a thread launch costs microseconds (measured on 2 cores: 50,000 samples
1.0 ms serial, 0.5 ms threaded; 8,000 samples 0.15 / 0.11 ms)."""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._numba_builds import two_builds as _two_builds

PARALLEL_MIN = 20_000


def _logistic_value(z, y, inv_n):
    """1/n sum_i log(1 + exp(-y_i z_i)), overflow-safe."""
    val = 0.0
    for i in prange(z.size):
        t = -y[i] * z[i]
        val += max(t, 0.0) + math.log1p(math.exp(-abs(t)))
    return val * inv_n


def _logistic_terms(z, y, inv_n, u, h):
    """Value, gradient (into u) and Hessian diagonal (into h) in one pass: with
    s_i = sigmoid(-y_i z_i), u_i = -y_i s_i / n and h_i = s_i (1 - s_i) / n."""
    val = 0.0
    for i in prange(z.size):
        t = -y[i] * z[i]
        e = math.exp(-abs(t))
        val += max(t, 0.0) + math.log1p(e)
        s = (1.0 if t > 0.0 else e) / (1.0 + e)
        u[i] = -y[i] * s * inv_n
        h[i] = s * (1.0 - s) * inv_n
    return val * inv_n


def _logistic_conjugate(u, y, n):
    """1/n sum_i p_i log p_i + (1 - p_i) log(1 - p_i) with p_i = -n u_i y_i, or inf when
    some p_i lies outside [0, 1] (beyond 1e-12), NaN when some p_i is NaN (a NaN fails
    every comparison: it must not count as a zero term)."""
    val = 0.0
    bad = 0
    nan = 0
    for i in prange(u.size):
        p = -n * u[i] * y[i]
        if p != p:
            nan += 1
        elif p < -1e-12 or p > 1.0 + 1e-12:
            bad += 1
        elif p > 0.0 and p < 1.0:
            val += p * math.log(p) + (1.0 - p) * math.log1p(-p)
    if nan > 0:
        return np.nan
    return np.inf if bad > 0 else val / n


def _logistic_change(z, dz, y, inv_n):
    """F(z + dz) - F(z) for F = 1/n sum_i log(1 + exp(-y_i z_i)), summed from per-sample
    differences: with a = -y z and e = -y dz, log(1 + exp(a + e)) - log(1 + exp(a)) =
    log1p(sigmoid(a) expm1(e)), accurate even when the change is far below the rounding
    of F itself (|e| > 1: the two softplus values directly, no cancellation then)."""
    val = 0.0
    for i in prange(z.size):
        a = -y[i] * z[i]
        e = -y[i] * dz[i]
        if abs(e) > 1.0:
            b = a + e
            val += (max(b, 0.0) + math.log1p(math.exp(-abs(b)))) - (max(a, 0.0) + math.log1p(math.exp(-abs(a))))
        else:
            q = math.exp(-abs(a))
            sig = 1.0 / (1.0 + q) if a >= 0.0 else q / (1.0 + q)
            val += math.log1p(sig * math.expm1(e))
    return val * inv_n


_value = _two_builds(_logistic_value)
_change = _two_builds(_logistic_change)
_terms = _two_builds(_logistic_terms)
_conjugate = _two_builds(_logistic_conjugate)


def logistic_value(z, y, inv_n):
    return _value[z.size >= PARALLEL_MIN](z, y, inv_n)


def logistic_change(z, dz, y, inv_n):
    return _change[z.size >= PARALLEL_MIN](z, dz, y, inv_n)


def logistic_terms(z, y, inv_n, u, h):
    return _terms[z.size >= PARALLEL_MIN](z, y, inv_n, u, h)


def logistic_conjugate(u, y, n):
    return _conjugate[u.size >= PARALLEL_MIN](u, y, n)


logistic_value.__doc__ = _logistic_value.__doc__
logistic_terms.__doc__ = _logistic_terms.__doc__
logistic_change.__doc__ = _logistic_change.__doc__
logistic_conjugate.__doc__ = _logistic_conjugate.__doc__


# Per-sample derivatives phi'(z_i) of the datafits' losses (without the 1/n factor): the
# coordinate-descent kernels take one of these as a first-class function argument, so a
# datafit carries its own coordinate update (numopt.datafits.*.coordinate_kernel).
@njit(cache=True, inline="always")
def logistic_deriv(z, y, param):
    return -y / (1.0 + math.exp(y * z))


@njit(cache=True, inline="always")
def huber_deriv(z, y, param):
    r = z - y
    return min(max(r, -param), param)


@njit(cache=True, inline="always")
def squared_hinge_deriv(z, y, param):
    m = 1.0 - y * z
    return -2.0 * y * m if m > 0.0 else 0.0
