"""Learning the SOR relaxation parameter across a sequence of systems (numopt.sor).

    python benchmarks/bench_sor.py            # full (about 1 min on 2 cores)
    python benchmarks/bench_sor.py --quick    # smaller sequences

Tables:
1. total SOR iterations over a sequence: Tsallis-INF bandit (Khodak et al. 2024) vs
   the best fixed omega in hindsight vs omega = 1 (Gauss-Seidel), with the regret per
   system at growing prefixes T of the same run (the bandit is anytime);
2. contextual (one bandit per shift bin) vs plain bandit on widely spread shifts;
3. wall time of one SOR solve: numba kernel vs the spsolve_triangular reference path,
   and scipy's sparse direct solver, after a warm-up.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse.linalg as sla

from numopt.sor import (diffusion_sequence, laplacian_2d, poisson_optimal_omega,
                        shifted_laplacian_sequence, sor_bandit, sor_solve)

GRID = np.linspace(1.0, 1.95, 20)


def _prefix_rows(r, table, prefixes):
    """Per prefix T: bandit total, best fixed total and omega, omega=1 total,
    instance-optimal total, regret per system (fixed-omega runs are deterministic, so
    one comparison table serves every seed)."""
    rows = []
    j1 = int(np.argmin(np.abs(GRID - 1.0)))
    for T in prefixes:
        fixed = table[:, :T].sum(axis=1)
        jb = int(np.argmin(fixed))
        bandit = int(r.iterations[:T].sum())
        rows.append((T, bandit, int(fixed[jb]), float(GRID[jb]), int(fixed[j1]),
                     int(table[:, :T].min(axis=0).sum()), (bandit - fixed[jb]) / T))
    return rows


def table_sequence(name, systems, prefixes, seeds, **kw):
    print(f"\n## {name}")
    print("| T | bandit total (mean of seeds) | best fixed ω (total) | ω=1 total | "
          "instance-optimal | bandit / best fixed | bandit / ω=1 | regret per system |")
    print("|---|---|---|---|---|---|---|---|")
    runs = [sor_bandit(systems, omegas=GRID, rng=s, compare=(s == seeds[0]), **kw)
            for s in seeds]
    table = runs[0].fixed_iterations
    per_seed = [_prefix_rows(r, table, prefixes) for r in runs]
    for i, T in enumerate(prefixes):
        bandit = np.mean([p[i][1] for p in per_seed])
        _, _, best, wbest, gs, inst, _ = per_seed[0][i]
        reg = np.mean([p[i][6] for p in per_seed])
        print(f"| {T} | {bandit:.0f} | {best} (ω={wbest:.2f}) | {gs} | {inst} | "
              f"{bandit / best:.2f} | {bandit / gs:.2f} | {reg:.1f} |")
    capped = np.mean([(~r.converged).sum() for r in runs])
    capped_fixed = int((table >= kw["maxiter"]).sum())
    print(f"\n(solves that hit maxiter: bandit {capped:.1f} per run, fixed-ω table "
          f"{capped_fixed} of {table.size}; their counts are capped at maxiter)")


def table_contextual(n_grid, T, seeds, maxiter, n_bins):
    print(f"\n## contextual: shifted Laplacians, n_grid={n_grid}, c_t ~ U[0, 2], "
          f"{n_bins} bins, T={T}")
    rng = np.random.default_rng(7)
    shifts = rng.uniform(0.0, 2.0, T)
    systems = shifted_laplacian_sequence(n_grid, shifts, rng)
    plain = [sor_bandit(systems, omegas=GRID, maxiter=maxiter, rng=s) for s in seeds]
    ctx = [sor_bandit(systems, omegas=GRID, maxiter=maxiter, rng=s, contextual=True,
                      contexts=shifts, n_bins=n_bins, compare=(s == seeds[0])) for s in seeds]
    r = ctx[0]
    print("| policy | total iterations |")
    print("|---|---|")
    print(f"| ω = 1 | {r.fixed_totals[0]} |")
    print(f"| best fixed ω in hindsight (ω={r.best_fixed_omega:.2f}) | {r.best_fixed_total} |")
    print(f"| best fixed ω per bin in hindsight | {r.best_per_bin_total} |")
    print(f"| instance-optimal (best ω per system) | {r.instance_optimal_total} |")
    print(f"| plain Tsallis-INF bandit (mean of {len(seeds)} seeds) | "
          f"{np.mean([p.total_iterations for p in plain]):.0f} |")
    print(f"| contextual (binned) bandit (mean of {len(seeds)} seeds) | "
          f"{np.mean([c.total_iterations for c in ctx]):.0f} |")


def table_timing(n_grid, repeats=3):
    print(f"\n## one solve, 5-point Poisson n_grid={n_grid} (N={n_grid ** 2}), ω*, tol 1e-8")
    A = laplacian_2d(n_grid)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    w = poisson_optimal_omega(n_grid)
    Acsc = A.tocsc()
    peers = {
        "sor_solve kernel='numba'": lambda: sor_solve(A, b, w, kernel="numba"),
        "sor_solve kernel='scipy' (spsolve_triangular)": lambda: sor_solve(A, b, w, kernel="scipy"),
        "scipy.sparse.linalg.spsolve (direct)": lambda: sla.spsolve(Acsc, b),
    }
    times = {}
    for name, f in peers.items():
        f()                                   # warm-up (numba compile / cache load)
        best = np.inf
        for _ in range(repeats):
            t = time.perf_counter()
            out = f()
            best = min(best, time.perf_counter() - t)
        times[name] = (best, getattr(out, "nit", "-"))
    ref = times["sor_solve kernel='numba'"][0]
    print("| solver | sweeps | time | ratio to numba SOR |")
    print("|---|---|---|---|")
    for name, (t, nit) in times.items():
        print(f"| {name} | {nit} | {t * 1e3:.2f} ms | {t / ref:.2f} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    seeds = [0, 1, 2]
    if args.quick:
        n_grid, T, Td = 12, 400, 200
    else:
        n_grid, T, Td = 16, 2000, 1000
    prefixes = [p for p in (10, 50, 100, 200, 500, 1000, 2000) if p <= T]

    rng = np.random.default_rng(0)
    systems = shifted_laplacian_sequence(n_grid, rng.uniform(0.0, 0.5, T), rng)
    table_sequence(f"shifted Laplacians, n_grid={n_grid}, c_t ~ U[0, 0.5], random b_t, "
                   f"maxiter=500", systems, prefixes, seeds, maxiter=500)

    dprefixes = [p for p in (10, 50, 100, 200, 500, 1000) if p <= Td]
    seq = diffusion_sequence(2 * n_grid, Td, 1e-2)
    table_sequence(f"diffusion (implicit Euler), n_grid={2 * n_grid}, dt=1e-2, warm start, "
                   f"maxiter=600", seq, dprefixes, seeds, maxiter=600, warm_start=True)

    table_contextual(n_grid, T, seeds, maxiter=500, n_bins=4)
    table_timing(64)
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
