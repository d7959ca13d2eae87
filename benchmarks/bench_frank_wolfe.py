"""Frank-Wolfe: time to a given FW gap, numopt vs copt vs cvxpy, on the same instances.

* simplex-constrained least squares 0.5 ||Ax - b||^2, A 2000 x 500;
* nuclear-norm-ball matrix completion 0.5 ||P_Omega(X - M)||^2 (500 x 500, 10% observed,
  rank-5 truth plus noise; radius 0.9 ||M||_*), and a 100 x 100 copy cvxpy can solve;
* l1-ball logistic regression on LIBSVM a9a (if the shared data exists), radius 10.

numopt gets the least-squares and logistic objectives as ``numopt.LinearComposite``
(loss(A x): its Frank-Wolfe solvers keep z = A x, so a line-search value is one loss
evaluation on z + gamma A d and A s of a vertex is one column), the completion objective
as a callable returning (f, grad) with ``jac=True``. copt
(``copt.minimize_frank_wolfe``, vanilla and pairwise, backtracking step, one f_grad
callable built on the same arrays) and numopt stop at the same absolute FW gap
<grad f(x), x - s> (``tol``); cvxpy (Clarabel, or SCS for the nuclear norm) solves at its
default accuracy and we report the FW gap of its answer (after projecting it onto the set;
cvxpy's point may be slightly infeasible).

Timing: best of ``--repeat`` runs; a run under 10 s is preceded by one untimed warm-up
(longer runs are their own warm-up); cvxpy: one timed run.

    python benchmarks/bench_frank_wolfe.py [--data DIR] [--quick] [--repeat 3] [--only NAME]
    python benchmarks/bench_frank_wolfe.py --per-iteration 2000   # a9a: cost per iteration
"""
from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import numopt  # noqa: E402
from numopt import lmo as L  # noqa: E402
from numopt.datafits import Logistic  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "libsvm"


def _copt():
    try:
        import copt

        return copt
    except Exception:  # pragma: no cover - copt is optional
        return None


def best_of(fn, repeat=3, warm_below=10.0):
    """Best wall-clock time of fn() over `repeat` timed runs and the last output; a first
    run shorter than `warm_below` seconds is an untimed warm-up."""
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    times = [] if first < warm_below else [first]
    while len(times) < repeat:
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


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


class HalfSquares:
    """The loss 0.5 ||z - b||^2 on predictions z (for numopt.LinearComposite)."""

    smoothness = 1.0

    def __init__(self, b):
        self.b = b

    def value(self, z):
        r = z - self.b
        return 0.5 * float(r @ r)

    def grad(self, z):
        return z - self.b

    def hess_diag(self, z):
        return np.ones_like(z)


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

    return dict(name=f"simplex LS {m}x{n}", key="simplex", fg=fg, obj=numopt.LinearComposite(HalfSquares(b), A),
                x0=np.eye(n)[0], lmo=L.Simplex(1.0), target=1e-5, A=A, b=b, kind="simplex", radius=1.0,
                numopt=[("numopt BPCG, line-search", "blended-pairwise", {"step": "line-search"}),
                        ("numopt pairwise, line-search", "pairwise", {"step": "line-search"}),
                        ("numopt BPCG, adaptive", "blended-pairwise", {}),
                        ("numopt vanilla, line-search", "vanilla", {"step": "line-search"}),
                        ("numopt vanilla, adaptive", "vanilla", {})],
                copt=("vanilla", "pairwise"))


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
    return dict(name=f"matrix completion {n}x{n} {int(frac * 100)}%", key=f"completion{n}", fg=fg, obj=None,
                x0=np.zeros((n, n)), lmo=L.NuclearNormBall(radius), target=1e-2 * f0, mask=mask, Mobs=Mobs,
                kind="nuclear", radius=radius,
                numopt=[("numopt vanilla, line-search", "vanilla", {"step": "line-search"}),
                        ("numopt vanilla, adaptive", "vanilla", {})]
                + ([("numopt lazy vanilla, line-search", "vanilla", {"step": "line-search", "lazy": True})]
                   if n <= 200 else []),  # lazy: the cache of dense n x n vertices costs more than svds
                copt=("vanilla",))


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

    return dict(name=f"l1-ball logreg a9a (r={radius:g})", key="a9a", fg=fg,
                obj=numopt.LinearComposite(Logistic(y), X), x0=np.zeros(X.shape[1]), lmo=L.L1Ball(radius),
                target=1e-4, X=X, y=y, kind="l1", radius=radius,
                numopt=[("numopt BPCG, line-search", "blended-pairwise", {"step": "line-search"}),
                        ("numopt pairwise, line-search", "pairwise", {"step": "line-search"}),
                        ("numopt BPCG, adaptive", "blended-pairwise", {}),
                        ("numopt vanilla, line-search", "vanilla", {"step": "line-search"})],
                copt=("vanilla", "pairwise"))


# ---------------------------------------------------------------- solvers

def fw_gap(inst, x):
    _, g = inst["fg"](x)
    s = inst["lmo"](g)
    return float(np.sum(g * (x - s)))


def run_numopt(inst, variant, kw, maxiter=100000, tol=None):
    tol = inst["target"] if tol is None else tol
    if inst["obj"] is not None:
        res = numopt.frank_wolfe(inst["obj"], inst["x0"], inst["lmo"], variant=variant, tol=tol, maxiter=maxiter,
                                 trace=False, **kw)
    else:  # fun returns (value, gradient) with jac=True, as copt's f_grad
        res = numopt.frank_wolfe(inst["fg"], inst["x0"], inst["lmo"], jac=True, variant=variant, tol=tol,
                                 maxiter=maxiter, trace=False, **kw)
    return dict(gap=res.gap, nit=res.nit, fun=res.fun, ok=res.success)


def _copt_lmo(inst, variant):
    copt = _copt()
    shape, r = inst["x0"].shape, inst["radius"]
    if inst["kind"] == "l1":
        ball = copt.constraint.L1Ball(r)
        return ball.lmo if variant == "vanilla" else ball.lmo_pairwise
    if inst["kind"] == "nuclear":
        return copt.constraint.TraceBall(r, shape).lmo
    # copt 0.9.2's SimplexConstraint.lmo(u, x) does not match the lmo(u, x, active_set) its
    # minimize_frank_wolfe calls (and is for sum <= s): the same oracles in copt's format,
    # vertex i of the simplex represented by i
    if variant == "vanilla":
        def lmo(u, x, active_set=None):
            i = int(np.argmax(u))
            d = -x.copy()
            d[i] += r
            return d, i, None, 1.0
    else:
        def lmo(u, x, active_set):
            i = int(np.argmax(u))
            a, wa = min(active_set.items(), key=lambda item: u[item[0]])
            d = np.zeros_like(x)
            d[i] += r
            d[a] -= r
            return d, i, a, wa
    return lmo


def run_copt(inst, variant="vanilla", max_iter=100000, tol=None):
    copt = _copt()
    shape, tol = inst["x0"].shape, inst["target"] if tol is None else tol

    def fg(x):
        f, g = inst["fg"](x.reshape(shape))
        return f, np.ravel(g)

    x0, rep = inst["x0"].ravel(), None
    if variant == "pairwise":  # copt's pairwise FW starts at a vertex: the first FW vertex
        g0 = fg(x0)[1]
        if inst["kind"] == "l1":
            i = int(np.argmax(np.abs(g0)))
            sign = -np.sign(g0[i])
            rep, x0 = (sign, i), np.zeros_like(x0)
            x0[i] = sign * inst["radius"]
        else:
            rep = int(np.argmin(g0))
            x0 = np.eye(x0.size)[rep] * inst["radius"]
    with contextlib.redirect_stdout(io.StringIO()):  # copt prints its first Lipschitz estimate
        res = copt.minimize_frank_wolfe(fg, x0, _copt_lmo(inst, variant), x0_rep=rep, variant=variant,
                                        step="backtracking", max_iter=max_iter, tol=tol)
    x = res.x.reshape(shape)
    return dict(gap=fw_gap(inst, x), nit=res.nit, fun=inst["fg"](x)[0], ok=res.certificate <= tol)


def run_cvxpy(inst, time_limit=900.0):
    import cvxpy as cp

    kind = inst["kind"]
    if kind == "simplex":
        w = cp.Variable(inst["x0"].size)
        prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(inst["A"] @ w - inst["b"])), [w >= 0, cp.sum(w) == 1])
        prob.solve(solver=cp.CLARABEL, time_limit=time_limit)
        x = _proj_simplex(w.value)
    elif kind == "l1":
        w = cp.Variable(inst["x0"].size)
        loss = cp.sum(cp.logistic(-cp.multiply(inst["y"], inst["X"] @ w))) / inst["X"].shape[0]
        prob = cp.Problem(cp.Minimize(loss), [cp.norm1(w) <= inst["radius"]])
        prob.solve(solver=cp.CLARABEL, time_limit=time_limit)
        x = _proj_l1(w.value, inst["radius"])
    else:
        Z = cp.Variable(inst["x0"].shape)
        obj = 0.5 * cp.sum_squares(cp.multiply(inst["mask"].astype(float), Z - inst["Mobs"]))
        prob = cp.Problem(cp.Minimize(obj), [cp.normNuc(Z) <= inst["radius"]])
        prob.solve(solver=cp.SCS, time_limit_secs=time_limit)
        x = _proj_nuclear(Z.value, inst["radius"])
    return dict(gap=fw_gap(inst, x), nit=None, fun=inst["fg"](x)[0], ok=prob.status == "optimal")


def per_iteration(data_dir, iters=2000, repeat=3):
    """a9a: seconds per vanilla-FW iteration and data passes, numopt (generic callable /
    LinearComposite path; adaptive / line-search step) vs copt (backtracking)."""
    inst = logreg_l1(data_dir)
    X = inst["X"]
    calls = {"n": 0}
    fg0 = inst["fg"]

    def counted(w):
        calls["n"] += 1
        return fg0(w)

    rows = []
    for label, obj, kw in [("numopt fg callable, adaptive", None, {}),
                           ("numopt fg callable, line-search", None, {"step": "line-search"}),
                           ("numopt LinearComposite, adaptive", inst["obj"], {}),
                           ("numopt LinearComposite, line-search", inst["obj"], {"step": "line-search"})]:
        def run():
            calls["n"] = 0
            if obj is None:
                r = numopt.frank_wolfe(counted, inst["x0"], inst["lmo"], jac=True, tol=0, maxiter=iters, trace=False,
                                       **kw)
            else:
                r = numopt.frank_wolfe(obj, inst["x0"], inst["lmo"], tol=0, maxiter=iters, trace=False, **kw)
            return r, calls["n"]
        t, (r, n) = best_of(run, repeat)
        # data passes: fg callable = X @ w and X^T @ r per call; composite = X^T @ r per gradient
        # (A s of a vertex is one column, line-search values / slopes touch no matrix)
        passes = 2 * n / iters if obj is None else r.njev / iters
        rows.append((label, t / iters, passes, r.nfev / iters))
    inst_c = dict(inst, fg=counted)

    def run_c():
        calls["n"] = 0
        run_copt(inst_c, "vanilla", max_iter=iters, tol=0)
        return calls["n"]
    t, n = best_of(run_c, repeat)
    rows.append(("copt vanilla, backtracking", t / iters, 2 * n / iters, n / iters))
    print(f"# a9a ({X.shape[0]} x {X.shape[1]}, nnz {X.nnz}), {iters} vanilla FW iterations, best of {repeat}")
    print(f"{'solver':<38} {'ms / iter':>9} {'passes over X / iter':>20} {'f values / iter':>15}")
    for label, t, p, fv in rows:
        print(f"{label:<38} {1e3 * t:>9.3f} {p:>20.2f} {fv:>15.2f}")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--quick", action="store_true", help="skip the 500x500 and a9a cases")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default=None, help="run one case: simplex, completion100, completion500, a9a")
    ap.add_argument("--no-cvxpy", action="store_true")
    ap.add_argument("--cvxpy-large", action="store_true",
                    help="also run cvxpy (SCS, a 1000x1000 PSD cone) on the 500x500 completion: very slow")
    ap.add_argument("--per-iteration", type=int, default=0, metavar="ITERS",
                    help="only measure the per-iteration cost of vanilla FW on a9a")
    args = ap.parse_args(argv)
    if args.per_iteration:
        per_iteration(args.data, args.per_iteration, args.repeat)
        return 0
    makers = [("simplex", simplex_ls), ("completion100", lambda: matrix_completion(100, 0.3))]
    if not args.quick:
        makers.append(("completion500", lambda: matrix_completion(500, 0.1)))
        if Path(args.data).is_dir():
            makers.append(("a9a", lambda: logreg_l1(args.data)))
        else:
            print(f"(no LIBSVM data at {args.data}: a9a case skipped)")
    if args.only:
        makers = [m for m in makers if m[0] == args.only]
    copt = _copt()
    if copt is None:
        print("(copt not installed: `pip install copt`; copt rows skipped)")
    print(f"{'case':<34} {'solver':<34} {'time [s]':>9} {'iters':>7} {'FW gap':>9} {'f - f_first':>12} "
          f"{'time / first':>12}", flush=True)
    for _, make in makers:
        inst = make()
        rows = []
        for label, variant, kw in inst["numopt"]:
            t, out = best_of(lambda: run_numopt(inst, variant, kw), args.repeat)
            rows.append((label, t, out))
        if copt is not None:
            for v in inst["copt"]:
                t, out = best_of(lambda: run_copt(inst, v), args.repeat)
                rows.append((f"copt {v}, backtracking", t, out))
        if args.no_cvxpy:
            pass
        elif inst["x0"].size > 100000 and not args.cvxpy_large:
            print(f"{inst['name']:<34} cvxpy skipped (pass --cvxpy-large)")
        else:
            t0 = time.perf_counter()
            out = run_cvxpy(inst)
            rows.append(("cvxpy " + ("SCS" if inst["kind"] == "nuclear" else "Clarabel"),
                         time.perf_counter() - t0, out))
        t_ref, f_ref = rows[0][1], rows[0][2]["fun"]
        for label, t, out in rows:
            nit = "-" if out["nit"] is None else str(out["nit"])
            flag = "" if out["ok"] else "  (not converged)"
            print(f"{inst['name']:<34} {label:<34} {t:>9.3f} {nit:>7} {out['gap']:>9.1e} "
                  f"{out['fun'] - f_ref:>12.1e} {t / t_ref:>12.2f}{flag}", flush=True)
        print(f"{'':<34} target FW gap {inst['target']:.2e}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
