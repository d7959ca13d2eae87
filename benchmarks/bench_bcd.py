"""Lasso on real LIBSVM data: numopt.bcd vs scikit-learn, skglm and celer, time to the
same duality gap (one process, warm-up first, best of `repeat` with the peer's and numopt's
runs alternating, so both minima come from the same stretch of a host whose speed drifts).

Each peer runs at its own tolerance; its achieved duality gap (numopt.datafits.duality_gap,
the same formula for everyone, relative to P(0) = ||y||^2/(2n)) becomes numopt's target
``tol``, so numopt is timed to a gap at least as small as the peer's.

    python benchmarks/bench_bcd.py [--quick] [--data DIR]
    python benchmarks/bench_bcd.py --extras [--data DIR]
    python benchmarks/bench_bcd.py --wide
    python benchmarks/bench_bcd.py --greedy [--data DIR]
    python benchmarks/bench_bcd.py --logreg [--data DIR]
    python benchmarks/bench_bcd.py --interleaved [--data DIR]
    python benchmarks/bench_bcd.py --defaults [--no-former] [--data DIR]

``--extras`` times the pieces of numopt.solvers.bcd_extra (and numopt.solvers.nmf) instead: message passing on
forest blocks of a lattice quadratic (vs single coordinates and scipy's spsolve), Newton
steps on the identified support for l1 problems, and BCD-PR for NMF vs scikit-learn.
``--wide``: a synthetic wide sparse design (n = 500, p = 50000, 1% density, 20 true
features), lasso and l1-logistic, numopt's working sets vs scikit-learn, skglm and celer
(same protocol: numopt timed to each peer's achieved relative gap).
``--logreg``: l1-logistic regression on LIBSVM data vs scikit-learn (liblinear), skglm and
celer (same protocol).
``--interleaved``: l1-logistic vs liblinear with the runs alternating (min / median of 7).
``--ab OPTION=V1,V2[,...]``: numopt against itself on the ``--interleaved`` cases, one bcd
option set to each value in turn (runs alternating, min / median of 9, mean prox-Newton
steps), e.g. ``--ab hessian_sample=0.2,0.1``.
``--greedy``: greedy rules (maintained gradient) vs cyclic on the logistic fast path and
inside working sets: epochs, coordinate updates and time to a relative gap of 1e-8.
``--defaults``: ``numopt.bcd(P)`` with every option at its default (``selection="auto"``,
default tol 1e-8) on a8a / a9a l1-logistic and lasso: the path it resolves to, time (best of
3), and for l1-logistic the former default (``selection="gsl"`` on the full problem, one run:
tens of seconds); ``--no-former`` skips that.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import numopt
import problems

sys.path.insert(0, str(Path(__file__).parent))
from runner import paired, timed  # noqa: E402

warnings.filterwarnings("ignore")
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "libsvm"



def against_peer(p, fit, p0, repeat, **bcd_options):
    """Time the peer's ``fit()`` and numopt.bcd(p, **bcd_options) run to the peer's achieved
    relative gap (same formula for both, relative to ``p0``), runs alternating after one
    warm-up each. Returns (peer s, peer gap, numopt s, numopt gap, numopt result)."""
    g_peer = p.duality_gap(np.asarray(fit()).ravel())[0] / p0  # (also the peer's warm-up)
    target = max(g_peer, 1e-14)

    def ours():
        return numopt.bcd(p, tol=target, trace=False, **bcd_options)

    ours()
    tp, to, _, res = paired(fit, ours, repeat)
    return tp, g_peer, to, p.duality_gap(res.x)[0] / p0, res


def peers(X, y, lam):
    from sklearn.linear_model import Lasso

    out = {"sklearn": lambda: Lasso(alpha=lam, fit_intercept=False, tol=1e-6, max_iter=100000).fit(X, y).coef_}
    try:
        from skglm import Lasso as SkLasso

        out["skglm"] = lambda: SkLasso(alpha=lam, fit_intercept=False, tol=1e-6, max_iter=1000).fit(X, y).coef_
    except ImportError:
        pass
    try:
        from celer import Lasso as CeLasso

        out["celer"] = lambda: CeLasso(alpha=lam, fit_intercept=False, tol=1e-6, max_iter=1000).fit(X, y).coef_
    except ImportError:
        pass
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--selection", default="gsl")
    ap.add_argument("--extras", action="store_true")
    ap.add_argument("--wide", action="store_true")
    ap.add_argument("--greedy", action="store_true")
    ap.add_argument("--logreg", action="store_true")
    ap.add_argument("--interleaved", action="store_true")
    ap.add_argument("--ab", default=None, metavar="OPTION=V1,V2")
    ap.add_argument("--defaults", action="store_true")
    ap.add_argument("--no-former", action="store_true")
    args = ap.parse_args(argv)
    if args.defaults:
        return defaults(args.data, former=not args.no_former)
    if args.ab:
        return option_ab(args.data, args.ab)
    if args.logreg:
        return logreg(args.data)
    if args.interleaved:
        return logreg_interleaved(args.data)
    if args.extras:
        return extras(args.data)
    if args.wide:
        return wide()
    if args.greedy:
        return greedy(args.data)
    if not Path(args.data).is_dir():
        print(f"no LIBSVM data at {args.data}")
        return 1
    cases = [("a9a", 10), ("a9a", 100), ("a9a", 1000)] if args.quick else \
        [("a9a", 10), ("a9a", 100), ("a9a", 1000), ("w8a", 100), ("w8a", 3000), ("ijcnn1", 100),
         ("mushrooms", 100), ("mushrooms", 1000)]
    repeat = 1 if args.quick else 3
    print(f"{'case':<22} {'peer':<8} {'peer s':>8} {'peer rel gap':>13} {'numopt s':>9} {'numopt gap':>11} {'ratio':>6}")
    for name, ratio in cases:
        p = problems.get(f"libsvm/{name}", model="lasso", lam_ratio=1.0 / ratio, data_dir=args.data)
        X, y, lam = p.objective.A, p.objective.loss.y, p.meta["lam"]
        p0 = float(y @ y) / (2 * len(y))
        for peer, fit in peers(X, y, lam).items():
            tp, g_peer, to, g_ours, _ = against_peer(p, fit, p0, repeat, selection=args.selection, maxiter=100000)
            print(f"{name + ' lmax/' + str(ratio):<22} {peer:<8} {tp:>8.3f} {g_peer:>13.2e} {to:>9.3f} "
                  f"{g_ours:>11.2e} {to / tp:>6.2f}", flush=True)
    return 0


def defaults(data, former=True):
    """numopt.bcd(P) with all defaults: the resolved path, time to the default tol (best of 3
    after a warm-up) and the certified relative gap; for l1-logistic also the former default
    (selection="gsl" without working sets on these 123-feature designs), timed once."""
    print("numopt.bcd(P), all defaults (tol 1e-8); best of 3 after a warm-up; 'former' = the default "
          "before selection='auto' (gsl, no working sets for p <= 5000), one run")
    print(f"{'case':<26} {'selection':<9} {'ws':<5} {'nit':>5} {'time s':>8} {'rel gap':>9} {'former s':>9} "
          f"{'former nit':>10}")
    for model in ("logreg", "lasso"):
        for name, ratio in (("a8a", 100), ("a8a", 1000), ("a9a", 100), ("a9a", 1000)):
            p = problems.get(f"libsvm/{name}", model=model, lam_ratio=1.0 / ratio, data_dir=data)
            p0 = p.value(np.zeros(p.objective.A.shape[1]))
            t, r = timed(lambda: numopt.bcd(p, trace=False), 3)
            gap = p.duality_gap(r.x)[0] / p0
            tf, nf = "", ""
            if former and model == "logreg":
                t_old, r_old = timed(lambda: numopt.bcd(p, selection="gsl", working_set=False, trace=False,
                                                        maxiter=100000), 1, 0)
                tf, nf = f"{t_old:.3f}", str(r_old.nit)
            print(f"{model + ' ' + name + ' lmax/' + str(ratio):<26} {r.selection:<9} {str(r.working_set):<5} "
                  f"{r.nit:>5} {t:>8.3f} {gap:>9.2e} {tf:>9} {nf:>10}", flush=True)
    return 0


LOGREG_CASES = (("a9a", 10), ("a9a", 100), ("a9a", 1000), ("w8a", 100), ("w8a", 1000), ("w8a", 3000),
                ("ijcnn1", 100), ("ijcnn1", 1000), ("mushrooms", 100), ("mushrooms", 1000))


def logreg_peers(X, y, lam):
    """l1-logistic peers on mean-loss scaling: (1/n) sum log(1 + exp(-y x^T w)) + lam ||w||_1."""
    from sklearn.linear_model import LogisticRegression

    n = X.shape[0]
    # (random_state fixes liblinear's coordinate shuffling: the same achieved gap every run)
    out = {"sklearn-liblinear": lambda: LogisticRegression(penalty="l1", C=1 / (lam * n), solver="liblinear",
                                                           random_state=0, fit_intercept=False, tol=1e-6,
                                                           max_iter=100000).fit(X, y).coef_}
    out.update({k: v for k, v in _wide_peers("logreg", X, y, lam).items() if k != "sklearn"})
    return out


def logreg(data, selection="cyclic"):
    """l1-logistic regression on LIBSVM data: numopt (working sets with prox-Newton steps)
    vs scikit-learn liblinear, skglm and celer, numopt timed to each peer's gap."""
    print(f"l1-logistic; numopt: selection={selection!r}, working_set=True (prox-Newton); best of 5, runs "
          "alternating with the peer's")
    print(f"{'case':<22} {'peer':<18} {'peer s':>8} {'peer rel gap':>13} {'numopt s':>9} {'numopt gap':>11} "
          f"{'ratio':>6}")
    for name, ratio in LOGREG_CASES:
        p = problems.get(f"libsvm/{name}", model="logreg", lam_ratio=1.0 / ratio, data_dir=data)
        X, y, lam = p.objective.A, p.objective.loss.y, p.meta["lam"]
        p0 = float(np.log(2.0))
        numopt.bcd(p, selection=selection, working_set=True, tol=1e-3, maxiter=3)  # warm-up
        for peer, fit in logreg_peers(X, y, lam).items():
            tp, g_peer, to, g_ours, _ = against_peer(p, fit, p0, 5, selection=selection, working_set=True,
                                                     maxiter=100000)
            print(f"{name + ' lmax/' + str(ratio):<22} {peer:<18} {tp:>8.3f} {g_peer:>13.2e} {to:>9.3f} "
                  f"{g_ours:>11.2e} {to / tp:>6.2f}", flush=True)
    return 0


def logreg_interleaved(data, rounds=7):
    """l1-logistic against liblinear with the runs interleaved (liblinear, numopt, liblinear,
    ...): on a host whose speed drifts, the ratio of min / median times is steadier than
    two separate best-of-k blocks. numopt is timed to liblinear's achieved gap."""
    warnings.filterwarnings("ignore")
    print(f"l1-logistic vs liblinear, interleaved, {rounds} runs each (min / median seconds)")
    for name, ratio in LOGREG_CASES:
        p = problems.get(f"libsvm/{name}", model="logreg", lam_ratio=1.0 / ratio, data_dir=data)
        lib = logreg_peers(p.objective.A, p.objective.loss.y, p.meta["lam"])["sklearn-liblinear"]
        target = max(p.duality_gap(np.asarray(lib()).ravel())[0] / np.log(2.0), 1e-14)

        def ours():
            return numopt.bcd(p, selection="cyclic", working_set=True, tol=target, maxiter=100000, trace=False)

        ours()
        a, b = [], []
        for _ in range(rounds):
            t = time.perf_counter()
            lib()
            a.append(time.perf_counter() - t)
            t = time.perf_counter()
            ours()
            b.append(time.perf_counter() - t)
        print(f"{name + ' lmax/' + str(ratio):<20} gap {target:.1e}  liblinear {min(a):.3f} / {np.median(a):.3f}  "
              f"numopt {min(b):.3f} / {np.median(b):.3f}  ratio {min(b) / min(a):.2f} / "
              f"{np.median(b) / np.median(a):.2f}", flush=True)
    return 0


def _number(text):
    """'300' -> 300, '0.1' -> 0.1, anything else unchanged."""
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def option_ab(data, spec, rounds=9):
    """One bcd option at several values, runs alternating, on the l1-logistic cases at the
    relative gap liblinear reaches (seeded: the same gap every run)."""
    name_, _, vals = spec.partition("=")
    values = [_number(v) for v in vals.split(",")]
    print(f"numopt l1-logistic, {name_} in {values}, interleaved, {rounds} runs each (min / median ms, Newton steps)")
    for name, ratio in LOGREG_CASES:
        p = problems.get(f"libsvm/{name}", model="logreg", lam_ratio=1.0 / ratio, data_dir=data)
        lib = logreg_peers(p.objective.A, p.objective.loss.y, p.meta["lam"])["sklearn-liblinear"]
        tol = max(p.duality_gap(np.asarray(lib()).ravel())[0] / np.log(2.0), 1e-14)

        def run(v):
            return numopt.bcd(p, selection="cyclic", working_set=True, tol=tol, maxiter=100000, trace=False,
                              **{name_: v})

        run(values[0])
        times = {v: [] for v in values}
        steps = {v: [] for v in values}
        for _ in range(rounds):
            for v in values:
                t = time.perf_counter()
                res = run(v)
                times[v].append(time.perf_counter() - t)
                steps[v].append(res.prox_newton_steps)
        print(f"{name + ' lmax/' + str(ratio):<20} gap {tol:.1e}  " + "  ".join(
            f"{v}: {1e3 * min(times[v]):.1f} / {1e3 * np.median(times[v]):.1f} ({np.mean(steps[v]):.1f})"
            for v in values), flush=True)
    return 0


def wide_problem(n=500, p=50000, density=0.01, seed=0):
    """The synthetic wide sparse design of tests/test_bcd_ws.py: (X CSC, y)."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csc", random_state=rng, data_rvs=rng.standard_normal)
    w = np.zeros(p)
    w[rng.choice(p, 20, replace=False)] = rng.standard_normal(20)
    return X, X @ w + 0.1 * rng.standard_normal(n)


def _wide_peers(model, X, y, lam):
    out = {}
    if model == "lasso":
        from sklearn.linear_model import Lasso

        out["sklearn"] = lambda: Lasso(alpha=lam, fit_intercept=False, tol=1e-6, max_iter=100000).fit(X, y).coef_
    try:
        if model == "lasso":
            from skglm import Lasso as SkLasso

            out["skglm"] = lambda: SkLasso(alpha=lam, fit_intercept=False, tol=1e-6, max_iter=1000).fit(X, y).coef_
        else:
            from skglm import SparseLogisticRegression as SkLog

            out["skglm"] = lambda: SkLog(alpha=lam, fit_intercept=False, tol=1e-6, max_iter=1000).fit(X, y).coef_
    except ImportError:
        pass
    try:
        if model == "lasso":
            from celer import Lasso as CeLasso

            out["celer"] = lambda: CeLasso(alpha=lam, fit_intercept=False, tol=1e-6, max_iter=1000).fit(X, y).coef_
        else:
            from celer import LogisticRegression as CeLog

            n = X.shape[0]
            out["celer"] = lambda: CeLog(C=1 / (lam * n), fit_intercept=False, tol=1e-6, max_iter=1000).fit(X, y).coef_
    except ImportError:
        pass
    return out


def wide():
    from problems.models import make_model

    X, y = wide_problem()
    print(f"synthetic wide sparse design {X.shape[0]} x {X.shape[1]}, nnz {X.nnz}; numopt: working_set=True, "
          "selection='cyclic' (Anderson + gap-safe screening), best of 5, runs alternating with the peer's")
    print(f"{'case':<22} {'peer':<8} {'peer s':>8} {'peer rel gap':>13} {'numopt s':>9} {'numopt gap':>11} "
          f"{'ratio':>6} {'upd ws':>10} {'upd full':>10}")
    for model, ratio in (("lasso", 10), ("lasso", 100), ("logreg", 10), ("logreg", 100)):
        yy = y if model == "lasso" else np.where(y > 0, 1.0, -1.0)
        p = make_model(X, yy, model, lam_ratio=1.0 / ratio)
        lam = p.meta["lam"]
        p0 = p.value(np.zeros(X.shape[1]))
        for peer, fit in _wide_peers(model, X, yy, lam).items():
            if (model, ratio, peer) == ("logreg", 100, "celer"):
                print(f"{model + ' lmax/' + str(ratio):<22} {peer:<8} skipped: did not finish within 6 minutes "
                      "(2026-12-02)", flush=True)
                continue
            tp, g_peer, to, g_ours, res = against_peer(p, fit, p0, 5, selection="cyclic", working_set=True,
                                                       maxiter=10000)
            full = numopt.bcd(p, selection="cyclic", working_set=False, tol=max(g_peer, 1e-14), maxiter=100000,
                              trace=False, max_time=20)  # without working sets (coordinate updates; capped at 20 s)
            print(f"{model + ' lmax/' + str(ratio):<22} {peer:<8} {tp:>8.3f} {g_peer:>13.2e} {to:>9.3f} "
                  f"{g_ours:>11.2e} {to / tp:>6.2f} {res.coordinate_updates:>10d} {full.coordinate_updates:>10d}{'' if full.success else '+'}",
                  flush=True)
    return 0


def greedy(data):
    from problems.models import make_model

    print("greedy rules vs cyclic (time and coordinate updates to a relative gap of 1e-8, best of 3)")
    print(f"{'case':<30} {'rule':<7} {'epochs':>7} {'updates':>10} {'time s':>8}")
    cases = []
    for name in ("a9a", "mushrooms"):
        try:
            cases.append((f"{name} logreg lmax/100", problems.get(f"libsvm/{name}", model="logreg", lam_ratio=0.01,
                                                                  data_dir=data), False))
        except Exception as exc:  # noqa: BLE001
            print(f"skip {name}: {exc}")
    X, y = wide_problem()
    cases.append(("wide lasso lmax/100 (ws)", make_model(X, y, "lasso", lam_ratio=0.01), True))
    cases.append(("wide logreg lmax/10 (ws)", make_model(X, np.where(y > 0, 1.0, -1.0), "logreg", lam_ratio=0.1),
                  True))
    for label, p, ws in cases:
        for rule in ("cyclic", "gs", "gsl", "gs-q"):
            t, r = timed(lambda: numopt.bcd(p, selection=rule, working_set=ws, anderson=False, ws_solver="cd",
                                            tol=1e-8, maxiter=100000, trace=False), 3)
            print(f"{label:<30} {rule:<7} {r.nit:>7d} {r.coordinate_updates:>10d} {t:>8.3f}", flush=True)
        if ws:
            t, r = timed(lambda: numopt.bcd(p, selection="cyclic", working_set=True, tol=1e-8, maxiter=100000,
                                            trace=False), 3)
            print(f"{label:<30} {'cyc+AA' if 'lasso' in label else 'cyc+PN':<7} {r.nit:>7d} "
                  f"{r.coordinate_updates:>10d} {t:>8.3f}", flush=True)
    return 0


def _lattice(nr, nc, shift):
    import scipy.sparse as sp

    T = lambda m: sp.diags([2 * np.ones(m), -np.ones(m - 1), -np.ones(m - 1)], [0, 1, -1])  # noqa: E731
    return (sp.kron(T(nr), sp.eye(nc)) + sp.kron(sp.eye(nr), T(nc)) + shift * sp.eye(nr * nc)).tocsr()


def extras(data):
    from scipy.sparse.linalg import spsolve

    from numopt.solvers.bcd_extra import QuadraticForm, lattice_forest_blocks
    from numopt.solvers.nmf import nmf_bcd_pr

    print("message passing: lattice Laplacian + shift, cyclic BCD to ||grad|| <= 1e-8")
    print(f"{'case':<26} {'blocks':<10} {'passes':>7} {'time s':>8} {'max err':>9}")
    for nr, shift in ((100, 0.01), (300, 0.01)):
        A = _lattice(nr, nr, shift)
        c = np.random.default_rng(0).standard_normal(nr * nr)
        ts, xs = timed(lambda: spsolve(A.tocsc(), c), 1)
        q = numopt.Problem(objective=QuadraticForm(A, c), x0=np.zeros(nr * nr))
        for name, blocks in (("coordinate", None), ("red-black", lattice_forest_blocks((nr, nr), "red-black")),
                             ("comb", lattice_forest_blocks((nr, nr)))):
            t, r = timed(lambda: numopt.bcd(q, selection="cyclic", blocks=blocks, update="tree", tol=1e-8,
                                            maxiter=200000, trace=False), 1)
            print(f"{f'{nr}x{nr} shift {shift}':<26} {name:<10} {r.nit:>7d} {t:>8.3f} "
                  f"{np.abs(r.x - xs).max():>9.1e}", flush=True)
        print(f"{f'{nr}x{nr} shift {shift}':<26} {'spsolve':<10} {'':>7} {ts:>8.3f}")
    print("\nNewton steps on the identified support (cyclic CD, relative gap 1e-12)")
    print(f"{'case':<26} {'newton':<7} {'epochs':>7} {'time s':>8} {'supp iter':>9}")
    cases = [("a9a", "logreg", 100), ("a9a", "lasso", 100), ("mushrooms", "logreg", 100)]
    for name, model, ratio in cases:
        try:
            p = problems.get(f"libsvm/{name}", model=model, lam_ratio=1.0 / ratio, data_dir=data)
        except Exception as exc:  # noqa: BLE001
            print(f"skip {name}: {exc}")
            continue
        for nt in (False, True):
            t, r = timed(lambda: numopt.bcd(p, selection="cyclic", tol=1e-12, maxiter=100000, trace=False,
                                            newton_on_active=nt), 1)
            print(f"{f'{name} {model} lmax/{ratio}':<26} {str(nt):<7} {r.nit:>7d} {t:>8.3f} "
                  f"{r.active_set_iteration:>9d}", flush=True)
    print("\nNMF 1/2||X - WH||^2 (same random start): BCD-PR (lam=1e-3) vs scikit-learn NMF(solver='cd')")
    from sklearn.decomposition import NMF

    rng = np.random.default_rng(0)
    for m, n, k in ((200, 150, 10), (500, 400, 20)):
        X = np.abs(rng.uniform(size=(m, k)) @ rng.uniform(size=(k, n)) + 0.05 * rng.standard_normal((m, n)))
        sc = np.sqrt(X.mean() / k)
        W0, H0 = rng.uniform(0, 2 * sc, (m, k)), rng.uniform(0, 2 * sc, (k, n))

        def sk():
            mod = NMF(k, init="custom", tol=1e-6, max_iter=2000, solver="cd")
            W = mod.fit_transform(X, W=W0.copy(), H=H0.copy())
            return 0.5 * np.linalg.norm(X - W @ mod.components_) ** 2

        tsk, fsk = timed(sk, 1)
        for inner in ("exact", "pgd"):
            # stop at the first iterate whose objective is within 1e-6 relative of sklearn's
            def stop(intermediate_result, target=fsk * (1 + 1e-6)):
                if intermediate_result.fun <= target:
                    raise StopIteration

            t, r = timed(lambda: nmf_bcd_pr(X, k, lam=1e-3, inner=inner, maxiter=5000, tol=0, W0=W0, H0=H0,
                                            trace=False, callback=stop), 1)
            print(f"{m}x{n} rank {k}: sklearn {tsk:.3f} s (f={fsk:.6g}); bcd-pr {inner} {t:.3f} s "
                  f"(f={r.fun:.6g}, {r.nit} its), ratio {t / tsk:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
