"""Sinkhorn benchmarks against POT, same process, after a warm-up.

Part 0 — the floor: one scaling-Sinkhorn iteration against two BLAS matrix-vector
products with the same kernel (``K @ v``, ``K.T @ u``), float64 and float32, measured
interleaved in one run (medians); per-iteration times are differences of runs with
``it0`` and ``it0 + iters`` iterations, so the one-time kernel build cancels. Reported:
floor fraction = (two mat-vecs) / (one iteration), and POT's ``ot.sinkhorn`` per iteration.
Part 1 — time per iteration (fixed number of iterations, no stopping test: POT's
``stopThr=0``), achieved memory bandwidth (one iteration reads the n x n kernel twice:
16 n^2 bytes) as a fraction of a measured n x n matrix-vector bandwidth.
Part 2 — iterations and time to an l1 marginal violation of 1e-8 (numopt's measure,
checked every iteration) for Sinkhorn (log-stabilized) and SNS; POT's log-domain
Sinkhorn to its own criterion (l2 error of one marginal, checked every 10 iterations)
for reference.

    python benchmarks/bench_sinkhorn.py [--quick] [--floor-only] [--n 4000]
    python benchmarks/bench_sinkhorn.py --part2-only --sizes 500 [--repeat 5] [--no-references] [--json F]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import problems
from numopt.solvers.sinkhorn import sinkhorn

sys.path.insert(0, str(Path(__file__).parent))
from runner import timed  # noqa: E402


def best_time(fn, repeat=3):
    return timed(fn, repeat)[0]


def instances(n):
    pc = problems.get("ot/point_clouds", n=n, seed=0)
    k = int(round(np.sqrt(n)))
    hg = problems.get("ot/histograms_2d", k=k, seed=0)
    for name, inst in (("clouds", pc), ("hist2d", hg)):
        yield name, inst.a, inst.b, np.ascontiguousarray(inst.C / inst.C.max())


def _median_interleaved(fns, rounds):
    """Median time of each callable, the callables run in turn ``rounds`` times."""
    times = [[] for _ in fns]
    for _ in range(rounds):
        for t, fn in zip(times, fns):
            t0 = time.perf_counter()
            fn()
            t.append(time.perf_counter() - t0)
    return [float(np.median(t)) for t in times]


def part0(n=4000, reg=1e-2, iters=40, it0=5, rounds=7):
    """Floor fraction of numopt's scaling Sinkhorn (float64, float32) and POT's time per
    iteration: returns a list of row dicts."""
    import ot

    inst = problems.get("ot/point_clouds", n=n, seed=0)
    a64, b64, C64 = inst.a, inst.b, np.ascontiguousarray(inst.C / inst.C.max())
    print(f"\n## floor fraction at n = {n}, reg = {reg:g} (medians of {rounds} interleaved rounds; "
          f"per-iteration = (t[{it0 + iters} it] - t[{it0} it]) / {iters})")
    print(f"{'dtype':<8} {'2 mat-vecs ms':>14} {'numopt it ms':>13} {'floor frac':>11} {'POT it ms':>10} "
          f"{'POT / numopt':>13}")
    rows = []
    for dt in (np.float64, np.float32):
        a, b, C = a64.astype(dt), b64.astype(dt), C64.astype(dt)
        a, b = a / a.sum(), b / b.sum()
        K = np.exp(-C / reg)
        u, v = np.ones(n, dt), np.ones(n, dt)

        def ours(k):
            return lambda: sinkhorn(a, b, C, reg, method="sinkhorn", tol=0.0, maxiter=k, trace=False, plan=False)

        def pot(k):
            return lambda: ot.sinkhorn(a, b, C, reg, numItermax=k, stopThr=0.0)

        for f in (ours(2), pot(2)):  # warm-up (numba compile)
            f()
        t = _median_interleaved([lambda: (K @ v, K.T @ u), ours(it0), ours(it0 + iters), pot(it0),
                                 pot(it0 + iters)], rounds)
        floor, it_ours, it_pot = t[0], (t[2] - t[1]) / iters, (t[4] - t[3]) / iters
        row = dict(dtype=np.dtype(dt).name, n=n, floor_ms=floor * 1e3, iter_ms=it_ours * 1e3,
                   floor_fraction=floor / it_ours, pot_iter_ms=it_pot * 1e3)
        rows.append(row)
        print(f"{row['dtype']:<8} {floor * 1e3:>14.2f} {it_ours * 1e3:>13.2f} {floor / it_ours:>11.2f} "
              f"{it_pot * 1e3:>10.2f} {it_pot / it_ours:>13.2f}")
    return rows


def part1(sizes, iters=100):
    import ot

    print("\n## time per iteration (ms), fixed iterations, eps = 1e-2 * max(C)")
    print(f"{'inst':<8}{'n':>6} {'POT sinkhorn':>13} {'numopt':>8} {'ratio':>6} {'POT log':>9} "
          f"{'numopt log':>11} {'ratio':>6} {'GB/s':>6} {'matvec GB/s':>12} {'frac':>5}")
    rows = []
    for n in sizes:
        for name, a, b, C in instances(n):
            nn = C.shape[0]
            reg = 1e-2
            K = np.exp(-C / reg)
            v = np.ones(nn)
            t_mv = best_time(lambda: K @ v, 5)
            bw = 8 * nn * nn / t_mv / 1e9
            it_log = max(10, iters // (5 if nn > 2000 else 1))
            t_pot = best_time(lambda: ot.sinkhorn(a, b, C, reg, numItermax=iters, stopThr=0.0)) / iters
            t_our = best_time(lambda: sinkhorn(a, b, C, reg, method="sinkhorn", tol=0.0, maxiter=iters,
                                               trace=False)) / iters
            t_plog = best_time(lambda: ot.bregman.sinkhorn_log(a, b, C, reg, numItermax=it_log, stopThr=0.0),
                               1) / it_log
            t_olog = best_time(lambda: sinkhorn(a, b, C, reg, method="sinkhorn-log", tol=0.0, maxiter=iters,
                                                trace=False)) / iters
            ours_bw = 16 * nn * nn / t_our / 1e9
            print(f"{name:<8}{nn:>6} {t_pot * 1e3:>13.3f} {t_our * 1e3:>8.3f} {t_our / t_pot:>6.2f} "
                  f"{t_plog * 1e3:>9.2f} {t_olog * 1e3:>11.3f} {t_olog / t_our:>6.2f} {ours_bw:>6.1f} "
                  f"{bw:>12.1f} {ours_bw / bw:>5.2f}")
            rows.append((name, nn, t_pot, t_our, t_plog, t_olog, ours_bw, bw))
    return rows


OT_METHODS = ("sinkhorn", "sinkhorn-log", "sinkhorn-epsilon-scaling", "sns")


def part2(sizes, tol=1e-8, cap=20000, max_time=60.0, eps_list=(1e-2, 5e-3, 1e-3, 5e-4, 1e-4), repeat=1,
          references=True):
    """Iterations and seconds to an l1 marginal violation of ``tol`` for every numopt OT
    method (each capped at ``cap`` iterations and ``max_time`` seconds; with ``repeat`` > 1
    the methods run in turn ``repeat`` times and the median time is reported, so every
    method of a row is measured under the same load), Mirror Sinkhorn on the same entropic
    objective (gradient C + eps log P; capped at 10 s: its O(1/sqrt(T)) rate does not reach
    a 1e-8 violation), POT's log-domain Sinkhorn to its own criterion (once each; skipped
    with ``references=False``). Returns rows."""
    if references:
        import ot

        from numopt.solvers.sinkhorn import mirror_sinkhorn

    print(f"\n## to l1 marginal violation {tol:g}: iterations / seconds (cap {cap} iterations, {max_time:g} s; "
          f"median of {repeat} interleaved runs)")
    head = "".join(f"{m:>26}" for m in OT_METHODS)
    ref_head = f" {'mirror-sinkhorn':>22} {'POT log (own test)':>20}" if references else ""
    print(f"{'inst':<8}{'n':>6} {'eps':>7}{head}{ref_head} {'SNS phases':>14} {'winner':>10} {'SNS / best other':>17}")
    rows = []
    for n in sizes:
        for name, a, b, C in instances(n):
            nn = C.shape[0]
            for m in OT_METHODS:  # warm-up: numba compilation of every path, Newton's included
                sinkhorn(a, b, C, 1e-3, method=m, tol=1e-3, maxiter=300, trace=False)
                sinkhorn(a, b, C, 1e-4, method=m, tol=1e-3, maxiter=300, trace=False)
            for eps in eps_list:
                row = dict(inst=name, n=nn, eps=eps)
                times = {m: [] for m in OT_METHODS}
                for _ in range(repeat):
                    for m in OT_METHODS:
                        t0 = time.perf_counter()
                        r = sinkhorn(a, b, C, eps, method=m, tol=tol, maxiter=cap, max_time=max_time)
                        times[m].append(time.perf_counter() - t0)
                        row[m] = dict(nit=int(r.nit), success=bool(r.success), error=float(r.marginal_error))
                        if m == "sns":
                            ph = r.trace["phase"]
                            row["sns_phases"] = [int((ph == 0).sum()) - 1, int((ph == 1).sum()), int((ph == 2).sum())]
                for m in OT_METHODS:
                    row[m]["s"] = float(np.median(times[m]))
                    row[m]["s_all"] = [float(t) for t in times[m]]
                cells = [f"{row[m]['nit']}{'' if row[m]['success'] else '*'} / {row[m]['s']:.3f} s" for m in OT_METHODS]
                solved = [m for m in OT_METHODS if row[m]["success"]]
                winner = min(solved, key=lambda m: row[m]["s"]) if solved else "-"
                others = [row[m]["s"] for m in solved if m != "sns"]
                ratio = row["sns"]["s"] / min(others) if others and row["sns"]["success"] else float("nan")
                row["winner"], row["sns_over_best_other"] = winner, ratio
                refs = ""
                if references:
                    t0 = time.perf_counter()
                    ms = mirror_sinkhorn(lambda P: C + eps * np.log(np.maximum(P, 1e-300)), a, b, maxiter=cap,
                                         options={"max_time": min(max_time, 10.0)})
                    tm = time.perf_counter() - t0
                    row["mirror-sinkhorn"] = dict(nit=int(ms.nit), s=tm, success=False,
                                                  error=float(ms.trace["marginal_error"][-1]))
                    t0 = time.perf_counter()
                    _, log = ot.bregman.sinkhorn_log(a, b, C, eps, numItermax=min(cap, 3000 if nn <= 2000 else 300),
                                                     stopThr=tol, log=True)
                    t3 = time.perf_counter() - t0
                    row["pot_log"] = dict(nit=int(log["niter"]), s=t3)
                    refs = f" {str(ms.nit) + '*'} / {tm:.1f} s".rjust(23) + f"{log['niter']:>11} / {t3:.2f} s"
                rows.append(row)
                phases = "+".join(map(str, row["sns_phases"]))
                print(f"{name:<8}{nn:>6} {eps:>7.0e}" + "".join(f"{c:>26}" for c in cells) + refs
                      + f"{phases:>14} {winner:>10} {ratio:>17.2f}", flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--floor-only", action="store_true", help="only part 0 (the floor fraction)")
    ap.add_argument("--n", type=int, default=4000, help="size of part 0")
    ap.add_argument("--part2-only", action="store_true", help="only part 2 (iterations / time to tol)")
    ap.add_argument("--sizes", default=None, help="part 2 sizes, comma separated")
    ap.add_argument("--repeat", type=int, default=1,
                    help="part 2: runs of each numopt method per row, interleaved; the median time is reported")
    ap.add_argument("--no-references", action="store_true",
                    help="part 2: skip Mirror Sinkhorn and POT (about 1.5 minutes per row)")
    ap.add_argument("--json", default=None, help="part 2: write the rows to this JSON file")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    if args.part2_only:
        sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else [500]
        rows = part2(sizes, repeat=args.repeat, references=not args.no_references)
        if args.json:
            import json
            import platform

            meta = dict(command="python benchmarks/bench_sinkhorn.py " + " ".join(argv if argv is not None
                                                                               else sys.argv[1:]),
                        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine=platform.machine(),
                        python=platform.python_version())
            Path(args.json).write_text(json.dumps(dict(meta=meta, rows=rows), indent=1))
        return rows
    part0(args.n)
    if args.floor_only:
        return
    sizes = [500, 2000] if args.quick else [500, 2000, 5000]
    part1(sizes)
    part2([500] if args.quick else [500, 2000], repeat=args.repeat)
    print("\n(* = iteration or time cap reached before the tolerance; mirror-sinkhorn: the averaged "
          "iterate's marginal violation after the cap, it has no marginal stopping test; SNS phases = "
          "Sinkhorn + Newton + fallback iterations)")


if __name__ == "__main__":
    main()
