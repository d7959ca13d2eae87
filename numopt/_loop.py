"""One iteration loop shared by every solver.

A solver is written as a generator that yields one :class:`Step` per iteration,
the starting point first. The loop owns ``maxiter``, ``tol``, ``max_time``, the
trace, the callback (``StopIteration`` ends the run with status 99), non-finite
detection and ``KeyboardInterrupt`` (returns the best iterate so far). A solver
that must stop by itself (a failed line search, say) returns ``(status, message)``
from the generator.
"""
from __future__ import annotations

import inspect
import math
import time

import numpy as np

from ._oracle_base import as_scalar

__all__ = ["Step", "run_loop", "STATUS"]

STATUS = {
    0: "Optimality measure below tol.",
    1: "Maximum number of iterations reached.",
    2: "Non-finite value encountered; returning the last finite iterate.",
    3: "Time limit (max_time) reached.",
    4: "Interrupted by the user (KeyboardInterrupt); returning the best iterate so far.",
    5: "Solver stopped early.",
    6: "Relative decrease of f below ftol; not an optimality certificate.",
    99: "Stopped by the callback (StopIteration).",
}


class Step:
    """What a solver reports after one iteration.

    ``x``: the iterate; ``fun``: the objective there (float); ``optimality``: the
    method's documented optimality measure (float, compared with ``tol``);
    ``jac``: optional gradient at ``x``; ``extras``: further scalars recorded in the
    trace (e.g. ``gap``) and arrays/values copied into the result (e.g. ``plan``).

    Two protocol fields: ``stop_ok=False`` marks a step whose measure must not end the
    run even when it is below ``tol`` (an annealing or warm-up phase measures a
    different problem); ``work`` is the number of iterations the step stands for
    (a solver that reports every ``check_every`` row updates yields ``work=check_every``),
    so ``nit`` and ``maxiter`` count the method's own iterations.
    """

    __slots__ = ("x", "fun", "optimality", "jac", "extras", "stop_ok", "work")

    def __init__(self, x, fun, optimality=None, jac=None, *, stop_ok=True, work=1, **extras):
        self.x, self.fun, self.optimality, self.jac, self.extras = x, fun, optimality, jac, extras
        self.stop_ok, self.work = stop_ok, work


def _callback_style(callback):
    if callback is None:
        return None
    if not callable(callback):
        raise TypeError("`callback` must be callable or None")
    try:
        params = list(inspect.signature(callback).parameters)
    except (TypeError, ValueError):
        return "new"
    return "new" if params and params[0] == "intermediate_result" else "old"


def _finite(v):
    """None (not reported) or a finite real (NaN and inf are not)."""
    return v is None or math.isfinite(v)


_NP_SCALARS = (np.float64, np.float32, np.int64, np.int32)


class _Trace:
    """The per-iteration record: nit, fun, optimality, time, oracle counts and the
    scalar extras of each step (a column that appears late is NaN-padded)."""

    def __init__(self, counter, record):
        self.counter, self.record = counter, record
        self.counts = [] if counter is None else list(counter.as_dict())
        self.cols = {k: [] for k in ("nit", "fun", "optimality", "time", *self.counts)}

    def add(self, step, nit, elapsed):
        if not self.record:
            return
        cols = self.cols
        n = len(cols["nit"])
        cols["nit"].append(nit)
        cols["fun"].append(np.nan if step.fun is None else step.fun)
        cols["optimality"].append(np.nan if step.optimality is None else float(step.optimality))
        cols["time"].append(elapsed)
        if self.counts:
            c = self.counter.as_dict()
            for k in self.counts:
                cols[k].append(c[k])
        for k, v in step.extras.items():
            t = type(v)
            if t is float or t is int or t in _NP_SCALARS or (
                    t is not bool and isinstance(v, (int, float, np.floating, np.integer))):
                col = cols.get(k)
                if col is None:
                    col = cols[k] = [np.nan] * n
                if len(col) == n:  # (a key given twice in one step keeps its first value)
                    col.append(float(v))
        for col in cols.values():  # a column this step did not report
            if len(col) == n:
                col.append(np.nan)

    def arrays(self):
        return {k: np.asarray(v, dtype=float) for k, v in self.cols.items()} if self.record else None


def _checked(step, nit):
    """Scalar fun / optimality of ``step``; None when one is not finite (a ValueError at x0)."""
    step.fun = as_scalar(step.fun, "fun") if step.fun is not None else None
    if step.optimality is not None:
        step.optimality = as_scalar(step.optimality, "optimality")
    if _finite(step.fun) and _finite(step.optimality):
        return step
    if nit == 0:
        raise ValueError(f"the objective is not finite at x0 (f(x0) = {step.fun}, "
                         f"optimality = {step.optimality})")
    return None


def _notify(callback, style, step, nit):
    """Call the user's callback; True when it asks to stop (StopIteration)."""
    if style is None:
        return False
    from scipy.optimize import OptimizeResult  # (only when there is a callback)

    try:
        if style == "new":
            callback(intermediate_result=OptimizeResult(x=step.x, fun=step.fun, nit=nit,
                                                        optimality=step.optimality))
        else:
            callback(step.x)
    except StopIteration:
        return True
    return False


def _progress(disp, maxiter, method):
    """``(bar, every)`` for the ``disp`` option: ``True`` gives a tqdm progress bar on
    stderr bounded by ``maxiter`` (a line every 10% when tqdm is not installed); an integer
    ``k`` a printed line every ``k`` iterations; ``False`` nothing."""
    if disp is True:
        try:
            from tqdm import tqdm
        except ImportError:  # (a declared dependency; kept working without it)
            return None, max(1, maxiter // 10)
        return tqdm(total=maxiter, desc=method or "numopt", unit="it", dynamic_ncols=True, leave=True), 0
    return None, (int(disp) if disp else 0)


def _advance(bar, step, nit):
    """The progress bar at iteration ``nit``, with the objective and the optimality measure."""
    opt = "n/a" if step.optimality is None else f"{step.optimality:.3e}"
    fun = "n/a" if step.fun is None else f"{step.fun:.6e}"
    bar.set_postfix_str(f"f={fun}, optimality={opt}", refresh=False)
    bar.update(max(0, nit - bar.n))


def _converged(step, tol):
    return tol is not None and step is not None and step.stop_ok and step.optimality is not None \
        and step.optimality <= tol


def run_loop(gen, *, counter=None, options, callback=None, tol=None, method="", finalize=None):
    """Drive a solver generator; return a scipy ``OptimizeResult``.

    ``counter``: the :class:`~numopt.oracles.OracleCounter` of the run's oracle
    wrappers, or None for a family without counted oracles (then no counts are
    reported, rather than zeros). ``finalize(result) -> result`` adds
    method-specific extras once, after the loop.
    """
    maxiter, max_time = options["maxiter"], options["max_time"]
    style = _callback_style(callback)
    bar, disp_every = _progress(options.get("disp", False), maxiter, method)
    trace = _Trace(counter, options.get("trace", True))
    t0 = time.perf_counter()
    last = best = None
    nit, status, message = -1, 1, None
    gen_iter = iter(gen)
    try:
        for _ in range(maxiter + 2):  # the body breaks at nit == maxiter at the latest
            try:
                step = next(gen_iter)
            except StopIteration as stop:
                if stop.value is not None:
                    status, message = stop.value
                else:
                    status = 0 if _converged(last, tol) else 5
                    message = "Solver finished." if status == 5 else None
                break
            work = 1 if nit < 0 else max(1, int(step.work))
            if _checked(step, nit + work) is None:
                status = 2
                message = (f"{STATUS[2]} (objective = {step.fun}, optimality = {step.optimality} at "
                           f"iteration {nit + work})")
                break
            nit += work
            last = step
            if best is None or (step.fun is not None and best.fun is not None and step.fun <= best.fun):
                best = step
            elapsed = time.perf_counter() - t0
            trace.add(step, nit, elapsed)
            if bar is not None:
                _advance(bar, step, nit)
            elif disp_every and nit % disp_every == 0:
                print(f"[{method}] it {nit:6d}  f = {step.fun:.10e}  opt = {step.optimality}")
            if _converged(step, tol):
                status = 0
                break
            if _notify(callback, style, step, nit):
                status = 99
                break
            if nit >= maxiter or elapsed >= max_time:
                status = 1 if nit >= maxiter else 3
                break
    except KeyboardInterrupt:
        status = 4
        last = best if best is not None else last
    finally:
        if bar is not None:
            bar.close()
        close = getattr(gen_iter, "close", None)
        if close is not None:
            close()
    return _result(last, nit, status, message, method, counter, trace, t0, finalize)


def _result(last, nit, status, message, method, counter, trace, t0, finalize):
    from scipy.optimize import OptimizeResult  # imported here: keeps `import numopt` light

    if last is None:
        raise RuntimeError(f"method {method!r} produced no iterate")
    res = OptimizeResult(
        x=last.x, fun=last.fun, jac=last.jac, nit=max(nit, 0), status=status,
        success=status == 0, message=message or STATUS[status],
        optimality=last.optimality, method=method,
    )
    if counter is not None:
        res.update(counter.as_dict())
    for k, v in last.extras.items():
        res[k] = v
    res.trace = trace.arrays()
    res.elapsed = time.perf_counter() - t0
    if finalize is not None:
        res = finalize(res)
    return res
