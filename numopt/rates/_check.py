"""Compare a run with its method's bound (:func:`check_bound`) and draw convergence plots
(:func:`plot_convergence`)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._fit import _finite_scalar, _trace_of, suboptimality

__all__ = ["check_bound", "plot_convergence", "BoundCheck"]


class BoundCheck(NamedTuple):
    """Result of :func:`check_bound` (unpacks as ``ok, errors, bounds``)."""

    ok: bool
    errors: np.ndarray
    bounds: np.ndarray


def _is_problem(obj):
    return hasattr(obj, "objective") and hasattr(obj, "x0")


def _run_options(result, method, options):
    """The options of ``result`` that its method's bound depends on (what the result reports)."""
    out = {}
    if method == "bcd":
        for key in ("selection", "working_set"):
            if key in result:
                out[key] = result[key]
    out.update(options or {})
    return out


def check_bound(result, problem=None, *, method=None, L=None, R=None, mu=0.0, eta=1.0, rtol=1e-9,
                options=None):
    """Whether ``F(x_k) - F* <= bound(k)`` at every iteration ``k >= 1`` of ``result``'s trace.

    ``check_bound(result, problem)``: the bound from :func:`theory` (``method`` defaults to
    ``result.method``; the options it depends on are read from the result, e.g. BCD's
    ``selection``, or passed as ``options``) and ``F*`` from :func:`reference_solution`:
    no constant by hand. ``check_bound(result, f_star, L=..., R=..., mu=..., eta=...)``:
    the older form, with ``F*`` and the constants given.

    Returns ``BoundCheck(ok, errors, bounds)`` (a 3-tuple). The comparison allows
    ``rtol * bound + rtol * max(1, |F*|)`` (rounding of ``F`` and ``F*``); a non-finite error
    or bound makes ``ok`` False. A bound ``in expectation`` (randomized rules,
    ``theory(...).expectation``) may be exceeded by one run. Needs the per-iteration trace
    (a result run with ``trace=False`` is a ValueError).
    """
    from ._reference import reference_solution
    from ._theory import theoretical_bound, theory

    method = method or result.get("method")
    if not method:
        raise ValueError("check_bound: the result names no method; pass method=")
    k = _trace_of(result, "nit").astype(int)
    if _is_problem(problem):
        th = theory(method, problem, options=_run_options(result, method, options))
        f_star = reference_solution(problem)[1]
        e = suboptimality(result, f_star)
        b = th.bound(k)
    else:
        if problem is None:
            raise TypeError("check_bound needs the problem (check_bound(result, problem)) or f_star with L= and R=")
        f_star = _finite_scalar(problem, "f_star")
        if L is None or R is None:
            raise TypeError("check_bound(result, f_star, ...) needs L= and R= (or pass the problem instead of "
                            "f_star: check_bound(result, problem) computes them)")
        e = suboptimality(result, f_star)
        b = theoretical_bound(method, k, L=L, R=R, mu=mu, f0_gap=float(e[0]), eta=eta)
    sel = k >= 1
    # NaN in e or b fails the comparison (never counted as within the bound)
    ok = bool(np.all(e[sel] <= b[sel] * (1 + rtol) + rtol * max(1.0, abs(f_star))))
    return BoundCheck(ok, e, b)


_XLABEL = {"nit": "iteration", "time": "time (s)", "nfev": "function evaluations", "njev": "gradient evaluations",
           "nhev": "Hessian evaluations", "nprox": "prox calls", "nlmo": "LMO calls"}
_YLABEL = {"fun": "F(x_k) - F*", "optimality": "optimality measure", "gap": "gap"}


def _as_runs(results, labels):
    if isinstance(results, dict) and "trace" not in results:
        return list(results.values()), list(labels or results)
    if not isinstance(results, (list, tuple)):
        results = [results]
    labels = list(labels) if labels is not None else [r.get("method") or f"run {i}" for i, r in enumerate(results)]
    if len(labels) != len(results):
        raise ValueError(f"`labels` has {len(labels)} entries for {len(results)} results")
    return list(results), labels


def _column(r, key):
    tr = r.get("trace")
    if tr is None:
        raise ValueError("a result has no per-iteration trace (run with options={'trace': True})")
    if key not in tr:
        raise ValueError(f"the trace has no column {key!r}; it has {', '.join(sorted(tr))}")
    return np.asarray(tr[key], dtype=float)


def _bound_items(bounds, bound):
    """(label, object) pairs from ``bounds`` (a Theory, a (k, b) pair, a callable, or a
    list / dict of them) and the older ``bound=(k, b)``."""
    items = []
    if bound is not None:
        items.append(("theoretical bound", bound))
    if bounds is None:
        return items
    if isinstance(bounds, dict):
        return items + list(bounds.items())
    if not isinstance(bounds, list):
        bounds = [bounds]
    for b in bounds:
        lab = getattr(b, "label", None) if not isinstance(b, tuple) else None
        items.append((lab or getattr(b, "__name__", None) or "bound", b))
    return items


def _bound_curve(obj, runs, x):
    """(x values, bound values) of one bound, against the axis ``x``."""
    if isinstance(obj, tuple) and len(obj) == 2:
        k, b = np.asarray(obj[0], dtype=float), np.asarray(obj[1], dtype=float)
        return k, b
    run = next((r for r in runs if r.get("method") == getattr(obj, "method", None)), runs[0])
    nit = _column(run, "nit")
    if x == "nit":
        k = np.arange(1, int(nit.max()) + 1) if nit.size and nit.max() >= 1 else np.array([1.0])
        return k, np.asarray(obj(k), dtype=float)
    return _column(run, x), np.asarray(obj(nit.astype(int)), dtype=float)


def _positive(xs, ys, floor):
    keep = np.isfinite(xs) & np.isfinite(ys) & (ys > floor)
    return xs[keep], ys[keep]


def plot_convergence(results, problem_or_f_star=None, *, x="nit", y="fun", bounds=None, ax=None, labels=None,
                     bound=None, floor=None):
    """Plot convergence on a log scale: one line per result, dashed lines for the bounds.

    ``results``: a result, a list of results or a dict ``label -> result``.
    ``problem_or_f_star``: ``F*`` (a number) or a problem (``F*`` from
    :func:`reference_solution`); needed for ``y="fun"``. ``x``: the trace column on the
    horizontal axis: ``"nit"`` (iterations), ``"time"``, ``"nfev"``, ``"njev"``, ... .
    ``y``: ``"fun"`` plots ``F(x_k) - F*``; any other trace column (``"optimality"``,
    ``"gap"``, ...) is plotted as recorded. Points at or below ``floor`` are dropped rather
    than drawn as rounding noise: for ``y="fun"`` the floor defaults to
    ``16 eps max(|F*|, tiny)`` (a difference below it is not measurable), else 0.
    ``bounds``: a :class:`Theory` (from :func:`theory`), a pair ``(k, values)``, a callable
    ``k -> bound`` or a list / dict ``label -> bound`` of them; each is labelled in the
    legend and drawn against the same ``x`` (a Theory against the run of its method).
    ``bound=(k, values)`` is the older single-bound form. Needs matplotlib; returns the axes.
    The legend sits inside the axes, so ``savefig`` (with or without ``bbox_inches="tight"``)
    keeps it.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover
        raise ImportError("plot_convergence needs matplotlib: pip install 'numopt[plot]'") from e
    from ._reference import reference_solution

    runs, labels = _as_runs(results, labels)
    f_star = None
    if _is_problem(problem_or_f_star):
        f_star = reference_solution(problem_or_f_star)[1]
    elif problem_or_f_star is not None:
        f_star = _finite_scalar(problem_or_f_star, "f_star")
    if y == "fun" and f_star is None:
        raise ValueError("plot_convergence(y='fun') needs F*: pass the problem or f_star as the second argument")
    if floor is None:
        floor = 16 * np.finfo(float).eps * max(abs(f_star), np.finfo(float).tiny) if y == "fun" else 0.0
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.8))
    for r, lab in zip(runs, labels):
        ys = _column(r, "fun") - f_star if y == "fun" else _column(r, y)
        xs, ys = _positive(_column(r, x), ys, floor)
        ax.plot(xs, ys, label=lab)
    for i, (lab, obj) in enumerate(_bound_items(bounds, bound)):
        xs, ys = _positive(*_bound_curve(obj, runs, x), 0.0)
        ax.plot(xs, ys, linestyle=("--", ":", "-.")[i % 3], color="k" if i == 0 else None, label=lab)
    ax.set_yscale("log")
    ax.set_xlabel(_XLABEL.get(x, x))
    ax.set_ylabel(_YLABEL.get(y, y))
    ax.legend(loc="best", fontsize="small", framealpha=0.8)
    return ax
