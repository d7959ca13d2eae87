"""Convergence-rate tools: fit empirical rates from a trace and compare them with
the theoretical bound a method states in the registry.

* :func:`fit_linear_rate` fits ``e_k ~ C q^k`` (returns ``q``);
* :func:`fit_sublinear_rate` fits ``e_k ~ C k^{-p}`` (returns ``p``);
* :func:`theoretical_bound` evaluates the method's bound on ``f(x_k) - f*``;
* :func:`check_bound` tells whether a run's suboptimality stays below the bound;
* :func:`plot_convergence` draws suboptimality vs iterations or time (matplotlib).
"""
from __future__ import annotations

import numpy as np

__all__ = ["suboptimality", "fit_linear_rate", "fit_sublinear_rate", "theoretical_bound",
           "check_bound", "plot_convergence", "RateFit"]


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


def theoretical_bound(method, k, *, L, R, mu=0.0, f0_gap=None, eta=1.0):
    """The bound on ``f(x_k) - f*`` that ``method`` states (see ``show_options``).

    ``L``: smoothness constant; ``R = ||x0 - x*||``; ``mu``: strong convexity;
    ``f0_gap = f(x0) - f*``; ``eta``: the backtracking factor when the line search
    could overshoot ``L`` (the bound then holds with ``eta * L``).
    """
    from ._registry import get_method

    from .oracles import check_scalar

    check_scalar(L, "L", lower=0, lower_inclusive=False)
    check_scalar(R, "R", lower=0)
    check_scalar(mu, "mu", lower=0)
    check_scalar(eta, "eta", lower=1)
    if not (np.isfinite(L) and np.isfinite(R)):
        raise ValueError(f"`L` and `R` must be finite, got L={L!r}, R={R!r}")
    spec = get_method(method)
    if spec.rate is None:
        raise ValueError(f"method {method!r} states no rate bound as a function of k")
    k = np.asarray(k)
    return np.array([spec.rate(int(kk), L=L, R=R, mu=mu, f0_gap=f0_gap, eta=eta) for kk in k.ravel()])


def check_bound(result, f_star, *, method=None, L, R, mu=0.0, eta=1.0, rtol=1e-9):
    """Return ``(ok, errors, bounds)``: whether ``f(x_k) - f* <= bound(k)`` for all k >= 1.

    Needs the per-iteration trace (a result run with ``trace=False`` is a ValueError);
    a non-finite error or bound makes ``ok`` False."""
    method = method or result["method"]
    e = suboptimality(result, f_star)
    k = _trace_of(result, "nit").astype(int)
    f_star = _finite_scalar(f_star, "f_star")
    b = theoretical_bound(method, k, L=L, R=R, mu=mu, f0_gap=float(e[0]), eta=eta)
    sel = k >= 1
    # NaN in e or b fails the comparison (never counted as within the bound)
    ok = bool(np.all(e[sel] <= b[sel] * (1 + rtol) + rtol * max(1.0, abs(f_star))))
    return ok, e, b


def plot_convergence(results, f_star, *, x="nit", ax=None, labels=None, bound=None):
    """Plot ``f(x_k) - f*`` on a log scale against iterations (``x='nit'``) or time
    (``x='time'``) for one result or a list/dict of results. Needs matplotlib."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover
        raise ImportError("plot_convergence needs matplotlib: pip install 'numopt[plot]'") from e
    if isinstance(results, dict) and "trace" not in results:
        labels, results = list(results), list(results.values())
    elif not isinstance(results, (list, tuple)):
        results = [results]
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    for i, r in enumerate(results):
        e = np.maximum(suboptimality(r, f_star), 1e-17)
        lab = labels[i] if labels else r.get("method", f"run {i}")
        ax.semilogy(r["trace"][x], e, label=lab)
    if bound is not None:
        k, b = bound
        ax.semilogy(k, b, "k--", label="theoretical bound")
    ax.set_xlabel("iteration" if x == "nit" else "time (s)")
    ax.set_ylabel("f(x_k) - f*")
    ax.legend()
    return ax
