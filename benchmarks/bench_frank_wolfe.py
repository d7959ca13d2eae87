"""Frank-Wolfe: time to a given FW gap, numopt vs copt vs cvxpy, on the same instances.

* simplex-constrained least squares 0.5 ||Ax - b||^2, A 2000 x 500;
* nuclear-norm-ball matrix completion 0.5 ||P_Omega(X - M)||^2 (500 x 500, 10% observed,
  rank-5 truth plus noise; radius 0.9 ||M||_*), and a 100 x 100 copy cvxpy can solve;
* l1-ball logistic regression on LIBSVM a9a (if the shared data exists), radius 10.

numopt (separate fun/jac callables: its adaptive step evaluates values only) and copt
(``copt.minimize_frank_wolfe``, vanilla with backtracking, one f_grad callable; copt has no
BPCG) stop at the same absolute FW gap <grad f(x), x - s> (``tol``); cvxpy (Clarabel, or
SCS for the nuclear norm) solves at its default accuracy and we report the FW gap of its
answer (after projecting it onto the set; cvxpy's point may be slightly infeasible).
Each solver is timed after one warm-up run (best of ``--repeat``; cvxpy: one timed run).

    python benchmarks/bench_frank_wolfe.py [--data DIR] [--quick] [--repeat 3]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from runner import timed  # noqa: E402

import numopt  # noqa: E402
from numopt import lmo as L  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "libsvm"


def _copt():
    try:
        import copt

        return copt
    except Exception:  # pragma: no cover - copt is optional
        return None


def _proj_simplex(v, r=1.0):
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - r
    k = np.nonzero(u - css / np.arange(1, v.size + 1) > 0)[0][-1]
    return np.maximum(v - css[k] / (k + 1), 0)


def _proj_l1(v, r):
    if np.abs(v).sum() <= r:
        return v
    return np.sign(v) * _proj_simplex(np.abs(v), r)


def _proj_nuclear(X, r):
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    return (U * _proj_l1(s, r)) @ Vt


# ---------------------------------------------------------------- instances

def simplex_ls(m=2000, n=500, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    xt = np.zeros(n)
    xt[:25] = rng.dirichlet(np.ones(25))
    b = A @ xt + 0.05 * rng.standard_normal(m) / np.sqrt(m)

    def fg(x):
        r = A @ x - b
        return 0.5 * float(r @ r), A.T @ r

    f = lambda x: 0.5 * float(np.sum((A @ x - b) ** 2))  # noqa: E731
    g = lambda x: A.T @ (A @ x - b)  # noqa: E731
    return dict(name=f"simplex LS {m}x{n}", fg=fg, f=f, g=g, x0=np.eye(n)[0], lmo=L.Simplex(1.0), target=1e-5,
                variants=("blended-pairwise", "vanilla"), A=A, b=b, kind="simplex", radius=1.0)


def matrix_completion(n=500, frac=0.1, rank=5, seed=0):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, n)) / np.sqrt(rank)
    mask = rng.uniform(size=(n, n)) < frac
    Mobs = np.where(mask, M + 0.1 * rng.standard_normal((n, n)), 0.0)
    radius = 0.9 * np.linalg.svd(M, compute_uv=False).sum()

    def fg(X):
        R = np.where(mask, X - Mobs, 0.0)
        return 0.5 * float(np.sum(R * R)), R

    f0 = fg(np.zeros((n, n)))[0]
    return dict(name=f"matrix completion {n}x{n} {int(frac * 100)}%", fg=fg, f=lambda X: fg(X)[0],
                g=lambda X: np.where(mask, X - Mobs, 0.0), x0=np.zeros((n, n)),
                lmo=L.NuclearNormBall(radius), target=1e-2 * f0, variants=("vanilla",), mask=mask, Mobs=Mobs,
                kind="nuclear", radius=radius)


def logreg_l1(data_dir, radius=10.0):
    import problems.libsvm as pl

    X, y = pl.load("a9a", data_dir=data_dir)
    X = X.tocsr()
    y = np.asarray(y, dtype=float)
    n = X.shape[0]
    XT = X.T.tocsr()

    def fg(w):
        z = y * (X @ w)
        return float(np.mean(np.logaddexp(0, -z))), XT @ (-y / (1 + np.exp(z))) / n

    f = lambda w: float(np.mean(np.logaddexp(0, -y * (X @ w))))  # noqa: E731
    return dict(name="l1-ball logreg a9a (r=10)", fg=fg, f=f, g=lambda w: fg(w)[1], x0=np.zeros(X.shape[1]),
                lmo=L.L1Ball(radius),
                target=1e-4, variants=("blended-pairwise", "vanilla"), X=X, y=y, kind="l1", radius=radius)


# ---------------------------------------------------------------- solvers

def fw_gap(inst, x):
    _, g = inst["fg"](x)
    s = inst["lmo"](g)
    return float(np.sum(g * (x - s)))


def run_numopt(inst, variant):
    # fun returns (value, gradient) with jac=True, as copt's f_grad: the line search's value at
    # the accepted point then also gives the next gradient (one data pass per evaluation)
    res = numopt.frank_wolfe(inst["fg"], inst["x0"], inst["lmo"], jac=True, variant=variant, tol=inst["target"],
                             maxiter=100000, trace=False)
    return dict(gap=res.gap, nit=res.nit, fun=res.fun, ok=res.success)


def run_copt(inst):
    copt = _copt()
    shape = inst["x0"].shape
    if inst["kind"] == "simplex":
        # copt 0.9.2's SimplexConstraint.lmo(u, x) does not match the lmo(u, x, active_set) its
        # minimize_frank_wolfe calls (and is for sum <= s); the same one-line oracle in copt's format:
        def lmo(u, x, active_set=None):
            i = int(np.argmax(u))
            d = -x.copy()
            d[i] += inst["radius"]
            return d, i, None, 1.0
    elif inst["kind"] == "l1":
        lmo = copt.constraint.L1Ball(inst["radius"]).lmo
    else:
        lmo = copt.constraint.TraceBall(inst["radius"], shape).lmo

    def fg(x):
        f, g = inst["fg"](x.reshape(shape))
        return f, np.ravel(g)

    res = copt.minimize_frank_wolfe(fg, inst["x0"].ravel(), lmo, step="backtracking", max_iter=100000,
                                    tol=inst["target"])
    x = res.x.reshape(shape)
    return dict(gap=fw_gap(inst, x), nit=res.nit, fun=inst["fg"](x)[0], ok=res.certificate <= inst["target"])


def run_cvxpy(inst):
    import cvxpy as cp

    kind = inst["kind"]
    if kind == "simplex":
        w = cp.Variable(inst["x0"].size)
        prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(inst["A"] @ w - inst["b"])), [w >= 0, cp.sum(w) == 1])
        prob.solve(solver=cp.CLARABEL)
        x = _proj_simplex(w.value)
    elif kind == "l1":
        w = cp.Variable(inst["x0"].size)
        loss = cp.sum(cp.logistic(-cp.multiply(inst["y"], inst["X"] @ w))) / inst["X"].shape[0]
        prob = cp.Problem(cp.Minimize(loss), [cp.norm1(w) <= inst["radius"]])
        prob.solve(solver=cp.CLARABEL)
        x = _proj_l1(w.value, inst["radius"])
    else:
        Z = cp.Variable(inst["x0"].shape)
        obj = 0.5 * cp.sum_squares(cp.multiply(inst["mask"].astype(float), Z - inst["Mobs"]))
        prob = cp.Problem(cp.Minimize(obj), [cp.normNuc(Z) <= inst["radius"]])
        prob.solve(solver=cp.SCS)
        x = _proj_nuclear(Z.value, inst["radius"])
    return dict(gap=fw_gap(inst, x), nit=None, fun=inst["fg"](x)[0], ok=prob.status == "optimal")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--quick", action="store_true", help="skip the 500x500 and a9a cases")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cvxpy-large", action="store_true",
                    help="also run cvxpy (SCS, a 1000x1000 PSD cone) on the 500x500 completion: very slow")
    args = ap.parse_args(argv)
    insts = [simplex_ls(), matrix_completion(100, 0.3)]
    if not args.quick:
        insts.append(matrix_completion(500, 0.1))
        if Path(args.data).is_dir():
            insts.append(logreg_l1(args.data))
        else:
            print(f"(no LIBSVM data at {args.data}: a9a case skipped)")
    copt = _copt()
    if copt is None:
        print("(copt not installed: `pip install copt`; copt column skipped)")
    print(f"{'case':<34} {'solver':<26} {'time [s]':>9} {'iters':>7} {'FW gap':>9} {'f - f_numopt':>12} "
          f"{'time / numopt':>13}")
    for inst in insts:
        rows = []
        for v in inst["variants"]:
            t, out = timed(lambda: run_numopt(inst, v), repeat=args.repeat, warmup=1)
            rows.append((f"numopt {v}", t, out))
        t_ref, f_ref = rows[0][1], rows[0][2]["fun"]
        if copt is not None:
            t, out = timed(lambda: run_copt(inst), repeat=args.repeat, warmup=1)
            rows.append(("copt FW (vanilla, bt)", t, out))
        if inst["x0"].size > 100000 and not args.cvxpy_large:
            print(f"{inst['name']:<34} cvxpy skipped (pass --cvxpy-large)")
        else:
            t0 = time.perf_counter()
            out = run_cvxpy(inst)
            rows.append(("cvxpy " + ("SCS" if inst["kind"] == "nuclear" else "Clarabel"),
                         time.perf_counter() - t0, out))
        for label, t, out in rows:
            nit = "-" if out["nit"] is None else str(out["nit"])
            print(f"{inst['name']:<34} {label:<26} {t:>9.3f} {nit:>7} {out['gap']:>9.1e} "
                  f"{out['fun'] - f_ref:>12.1e} {t / t_ref:>13.2f}")
        print(f"{'':<34} target FW gap {inst['target']:.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
