"""Empirical rates from a sequence of errors: ``e_k ~ C q^k`` (:func:`fit_linear_rate`),
``e_k ~ C k^{-p}`` (:func:`fit_sublinear_rate`) and the order ``e_{k+1} ~ C e_k^p``
(:func:`fit_order`)."""
from __future__ import annotations

import numpy as np

from typing import NamedTuple

__all__ = ["suboptimality", "fit_linear_rate", "fit_sublinear_rate", "fit_order", "RateFit", "OrderFit"]


class RateFit(dict):
    """Result of a rate fit: ``rate`` (q or p), ``constant`` C, ``r2`` of the log-fit."""

    __getattr__ = dict.__getitem__


def _trace_of(res_or_values, key="fun"):
    if isinstance(res_or_values, dict) and ("trace" in res_or_values or "nit" in res_or_values):
        tr = res_or_values.get("trace")
        if tr is None:
            raise ValueError("the result has no per-iteration trace (it was run with options={'trace': False}); "
                             "rerun with trace=True (the default) to compare it with a rate")
        if key not in tr:
            raise ValueError(f"the result's trace has no {key!r} column; it has {', '.join(sorted(tr))}")
        return np.asarray(tr[key], dtype=float)
    return np.asarray(res_or_values, dtype=float)


def _finite_scalar(v, name):
    try:
        v = float(v)
    except (TypeError, ValueError) as e:
        raise TypeError(f"`{name}` must be a real number, got {type(v).__name__}") from e
    if not np.isfinite(v):
        raise ValueError(f"`{name}` must be finite, got {v!r}")
    return v


def suboptimality(result, f_star, key="fun"):
    """``f(x_k) - f*`` along the trace of ``result`` (or of an array of values)."""
    return _trace_of(result, key) - _finite_scalar(f_star, "f_star")


def _window(e, start, stop, floor):
    k = np.arange(e.size)
    mask = (e > floor) & np.isfinite(e) & (k >= start)
    if stop is not None:
        mask &= k < stop
    return k[mask], e[mask]


def fit_linear_rate(errors, start=0, stop=None, floor=1e-13):
    """Fit ``e_k ≈ C q^k`` by least squares on ``log e_k`` (entries <= floor dropped)."""
    e = np.asarray(errors, dtype=float)
    k, e = _window(e, start, stop, floor)
    if k.size < 3:
        raise ValueError("need at least 3 errors above `floor` to fit a rate")
    A = np.vstack([k, np.ones_like(k)]).T.astype(float)
    coef, res, *_ = np.linalg.lstsq(A, np.log(e), rcond=None)
    pred = A @ coef
    ss = np.sum((np.log(e) - np.log(e).mean()) ** 2)
    r2 = 1 - np.sum((np.log(e) - pred) ** 2) / ss if ss > 0 else 1.0
    return RateFit(rate=float(np.exp(coef[0])), constant=float(np.exp(coef[1])), r2=float(r2))


def fit_sublinear_rate(errors, start=1, stop=None, floor=1e-13):
    """Fit ``e_k ≈ C k^{-p}`` by least squares on ``log e_k`` vs ``log k``; returns ``p``."""
    e = np.asarray(errors, dtype=float)
    k, e = _window(e, max(start, 1), stop, floor)
    if k.size < 3:
        raise ValueError("need at least 3 errors above `floor` to fit a rate")
    A = np.vstack([np.log(k), np.ones_like(k, dtype=float)]).T
    coef, *_ = np.linalg.lstsq(A, np.log(e), rcond=None)
    pred = A @ coef
    ss = np.sum((np.log(e) - np.log(e).mean()) ** 2)
    r2 = 1 - np.sum((np.log(e) - pred) ** 2) / ss if ss > 0 else 1.0
    return RateFit(rate=float(-coef[0]), constant=float(np.exp(coef[1])), r2=float(r2))


class OrderFit(NamedTuple):
    """Result of :func:`fit_order`: the order ``p`` and the constant ``C`` in
    ``e_{k+1} ~ C e_k^p`` (unpacks as ``p, C = fit_order(errors)``)."""

    p: float
    C: float


def fit_order(errors, *, floor=None, start=0, stop=None):
    """Fit the order of convergence: ``(p, C)`` with ``e_{k+1} ≈ C e_k^p``.

    A least-squares line through the points ``(log e_k, log e_{k+1})``: slope ``p``,
    intercept ``log C``. ``p = 1`` is a linear rate (then ``C`` is the factor ``q``),
    ``1 < p < 2`` superlinear, ``p = 2`` quadratic (Newton's method near a nondegenerate
    minimizer). Only consecutive pairs whose two errors are finite and above ``floor``
    enter the fit, so the rounding plateau at the end of a run is left out;
    ``floor`` defaults to ``1e3 * eps * max(errors)`` (errors of size ``max(errors)``
    cannot be measured more finely than that). ``start`` / ``stop`` restrict the pairs
    ``k`` to ``start <= k < stop`` (``stop=None``: to the end).

    Raises a ValueError when fewer than 2 pairs remain, or when the remaining errors
    do not change (the slope is then undefined).
    """
    e = np.asarray(errors, dtype=float).ravel()
    if e.size < 3:
        raise ValueError(f"fit_order needs at least 3 errors, got {e.size}")
    finite = e[np.isfinite(e)]
    if floor is None:
        top = float(np.max(np.abs(finite))) if finite.size else 0.0
        floor = 1e3 * np.finfo(float).eps * top
    floor = _finite_scalar(floor, "floor")
    ok = np.isfinite(e) & (e > floor)
    k = np.arange(e.size - 1)
    pair = ok[:-1] & ok[1:] & (k >= start)
    if stop is not None:
        pair &= k < stop
    if int(pair.sum()) < 2:
        raise ValueError(f"fit_order needs at least 2 consecutive pairs of errors above `floor` = {floor:.3g}, "
                         f"got {int(pair.sum())}")
    u, v = np.log(e[:-1][pair]), np.log(e[1:][pair])
    if np.ptp(u) == 0:
        raise ValueError("fit_order: the errors in the window do not change; the order is undefined")
    A = np.vstack([u, np.ones_like(u)]).T
    (p, logC), *_ = np.linalg.lstsq(A, v, rcond=None)
    return OrderFit(float(p), float(np.exp(logC)))
