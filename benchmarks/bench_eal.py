"""numopt's exact augmented Lagrangian ("eal") vs scipy's trust-constr and SLSQP (and IPOPT
through cyipopt when it is installed: `apt-get install coinor-libipopt-dev liblapack-dev
libblas-dev && pip install cyipopt`) on the
native HS/BT/NE equality-constrained CUTEst problems, one process: success (objective
to 1e-6 relative and feasibility 1e-8 from the standard x0), iterations, function
evaluations, time.

    python benchmarks/bench_eal.py
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import scipy.optimize as so

import numopt
import problems.cutest as C

warnings.filterwarnings("ignore")


def ok(p, x, fun):
    return abs(fun - p.f_star) <= 1e-6 * max(1, abs(p.f_star)) and np.abs(p.constraints.value(x)).max() <= 1e-8


def main():
    try:
        import cyipopt
    except ImportError:
        cyipopt = None
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


if __name__ == "__main__":
    main()
