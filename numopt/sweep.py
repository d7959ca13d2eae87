"""Sweeps: problems x methods x seeds x regularization values, run in parallel, one table.

:func:`sweep` runs ``numopt.minimize`` over every combination and returns one row per
solve with the columns :data:`COLUMNS` (the same schema whatever runs it):

* ``scheduler="tcp://host:port"`` (or a ``distributed.Client``): the tasks run on that
  Dask cluster (``dask.distributed``);
* ``scheduler=None`` (default): local worker processes (``concurrent.futures.
  ProcessPoolExecutor``, spawned);
* ``scheduler="serial"``: in this process (debugging).

A regularization path (``lams``) is either one task per value (``warm_start=False``: the
values run independently, in parallel) or one task per (problem, method, seed) that
solves the values in the given order, each started from the previous solution
(``warm_start=True``: the usual path from large to small lambda).

A problem is a factory ``factory(seed=seed, <lam_name>=lam) -> Problem`` (or a dict of
``minimize`` keyword arguments ``fun``, ``x0``, ``prox``, ...); for the Dask and process
back-ends it must be picklable: a module-level function or a ``functools.partial`` of one.
:func:`write_table` writes the rows as CSV, or Parquet when the path ends in ``.parquet``
(needs pyarrow).
"""
from __future__ import annotations

import csv
import math
import time

__all__ = ["sweep", "write_table", "COLUMNS", "TIMING_COLUMNS"]

COLUMNS = ("problem", "method", "seed", "lam", "fun", "optimality", "nit", "nfev", "njev", "time",
           "success", "status", "message")
TIMING_COLUMNS = ("time",)


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _solve(factory, method, seed, lam, lam_name, x0, options, tol):
    import numopt

    made = factory(seed=seed) if lam is None else factory(seed=seed, **{lam_name: lam})
    kw = dict(made) if isinstance(made, dict) else {"fun": made}
    fun = kw.pop("fun")
    if x0 is not None:
        kw["x0"] = x0
    t0 = time.perf_counter()
    res = numopt.minimize(fun, kw.pop("x0", None), method=method, tol=tol, options=dict(options or {}), **kw)
    return res, time.perf_counter() - t0


def _row(name, method, seed, lam, res, elapsed):
    return {"problem": name, "method": method, "seed": seed, "lam": math.nan if lam is None else float(lam),
            "fun": _num(res.get("fun")), "optimality": _num(res.get("optimality")), "nit": int(res.get("nit", 0)),
            "nfev": int(res.get("nfev", 0) or 0), "njev": int(res.get("njev", 0) or 0), "time": float(elapsed),
            "success": bool(res.get("success", False)), "status": int(res.get("status", -1)),
            "message": str(res.get("message", ""))}


def _error_row(name, method, seed, lam, exc):
    return {"problem": name, "method": method, "seed": seed, "lam": math.nan if lam is None else float(lam),
            "fun": math.nan, "optimality": math.nan, "nit": 0, "nfev": 0, "njev": 0, "time": math.nan,
            "success": False, "status": -1, "message": f"{type(exc).__name__}: {exc}"}


def run_task(task):
    """One unit of work (a dict, see :func:`_tasks`): the rows of its solves, in order."""
    name, factory, method, seed = task["problem"], task["factory"], task["method"], task["seed"]
    rows, x0 = [], None
    for lam in task["lams"]:
        try:
            res, elapsed = _solve(factory, method, seed, lam, task["lam_name"], x0, task["options"], task["tol"])
        except Exception as exc:  # noqa: BLE001 (recorded or re-raised, as the caller chose)
            if task["errors"] == "raise":
                raise
            rows.append(_error_row(name, method, seed, lam, exc))
            x0 = None
            continue
        rows.append(_row(name, method, seed, lam, res, elapsed))
        x0 = res.x if task["warm_start"] else None
    return rows


def _tasks(problems, methods, seeds, lams, warm_start, lam_name, options, tol, errors):
    out = []
    for name, factory in problems.items():
        for method in methods:
            for seed in seeds:
                groups = [list(lams)] if warm_start else [[lam] for lam in lams]
                for group in groups:
                    out.append(dict(problem=name, factory=factory, method=method, seed=seed, lams=group,
                                    lam_name=lam_name, warm_start=warm_start, errors=errors,
                                    options=(options or {}).get(method, {}) if _per_method(options) else options,
                                    tol=tol))
    return out


def _per_method(options):
    return bool(options) and all(isinstance(v, dict) for v in options.values())


def _check(problems, methods, seeds, lams, scheduler, errors):
    if not isinstance(problems, dict) or not problems:
        raise TypeError("`problems` must be a non-empty dict {name: factory(seed=..., lam=...)}")
    for name, f in problems.items():
        if not callable(f):
            raise TypeError(f"`problems[{name!r}]` must be a callable factory, got {type(f).__name__}")
    if isinstance(methods, str) or not methods:
        raise TypeError("`methods` must be a non-empty list of method names")
    if isinstance(seeds, (int, str)) or not list(seeds):
        raise TypeError("`seeds` must be a non-empty list of seeds")
    if isinstance(lams, (int, float)) or not list(lams):
        raise TypeError("`lams` must be a non-empty list (use [None] for no regularization parameter)")
    if errors not in ("raise", "record"):
        raise ValueError(f"`errors` must be 'raise' or 'record', got {errors!r}")
    if scheduler is not None and not (isinstance(scheduler, str) or hasattr(scheduler, "submit")):
        raise TypeError(f"`scheduler` must be None, 'serial', a scheduler address 'tcp://...' or a "
                        f"distributed.Client, got {type(scheduler).__name__}")
    if isinstance(scheduler, str) and scheduler != "serial" and "://" not in scheduler:
        raise ValueError(f"`scheduler` must be 'serial' or an address such as 'tcp://127.0.0.1:8786', "
                         f"got {scheduler!r}")


def _run_dask(tasks, scheduler):
    import distributed

    client = distributed.Client(scheduler) if isinstance(scheduler, str) else scheduler
    try:
        futures = client.map(run_task, tasks, pure=False)
        return client.gather(futures)
    finally:
        if client is not scheduler:
            client.close()


def _run_processes(tasks, max_workers):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=max_workers, mp_context=multiprocessing.get_context("spawn")) as ex:
        return list(ex.map(run_task, tasks))


def sweep(problems, methods, seeds=(0,), lams=(None,), *, scheduler=None, warm_start=False, lam_name="lam",
          options=None, tol=None, max_workers=None, errors="raise", out=None):
    """Solve every (problem, method, seed, lam) and return the rows (a list of dicts with
    the keys :data:`COLUMNS`, in the order problems, methods, seeds, lams).

    ``problems``: ``{name: factory}``, ``factory(seed=seed, <lam_name>=lam)`` returns a
    Problem or a dict of ``minimize`` keyword arguments (``lam=None`` is not passed).
    ``options``: one options dict for every method, or ``{method: options}``.
    ``scheduler``: None (local processes, ``max_workers`` of them), ``"serial"``, a Dask
    scheduler address or a ``distributed.Client``. ``warm_start``: solve each path in
    order, each value from the previous solution. ``errors="record"``: a solve that raises
    gives a row with ``status = -1`` and the error as message instead of stopping the sweep.
    ``out``: also write the table there (:func:`write_table`).
    """
    _check(problems, methods, seeds, lams, scheduler, errors)
    tasks = _tasks(problems, list(methods), list(seeds), list(lams), bool(warm_start), lam_name, options, tol,
                   errors)
    if scheduler == "serial":
        parts = [run_task(t) for t in tasks]
    elif scheduler is None:
        parts = _run_processes(tasks, max_workers)
    else:
        parts = _run_dask(tasks, scheduler)
    rows = [r for part in parts for r in part]
    if out is not None:
        write_table(rows, out)
    return rows


def write_table(rows, path):
    """Write ``rows`` (from :func:`sweep`) with the columns :data:`COLUMNS`: Parquet when
    ``path`` ends in ``.parquet`` (needs pyarrow), else CSV."""
    path = str(path)
    if path.endswith(".parquet"):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as e:
            raise ImportError("writing Parquet needs pyarrow; install it or write a .csv path") from e
        pq.write_table(pa.table({c: [r[c] for r in rows] for c in COLUMNS}), path)
        return path
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({c: r[c] for c in COLUMNS})
    return path
