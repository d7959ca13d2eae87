"""Run numopt's benchopt benchmarks (Lasso, sparse logistic regression, entropic OT) against the
other solvers they define, and summarise: for each problem, the time each solver needs to
reach a relative suboptimality of 1e-6 (best objective of all solvers as the reference) and
its ratio to the fastest.

    python benchmarks/benchopt/run.py --quick          # simulated data only, a few minutes
    python benchmarks/benchopt/run.py                  # + the LIBSVM files of ../shared/data
    python benchmarks/benchopt/run.py --only lasso --out docs/benchopt.md

Each benchmark folder also runs as is with benchopt itself, e.g.
``cd benchmarks/benchopt/lasso && benchopt run . -d simulated -n 20``.
"""
from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK = {
    "lasso": ["-d", "simulated[n_samples=500,n_features=1000,rho=0.6]", "-o", "Lasso[reg=[0.1,0.01]]"],
    "logreg_l1": ["-d", "simulated[n_samples=500,n_features=1000,rho=0.6]",
                  "-o", "Sparse Logistic Regression[reg=[0.1,0.01]]"],
    "ot": ["-d", "point-clouds[n=500]", "-o", "Entropic OT[reg=[1e-2,1e-3]]"],
}
FULL = {
    "lasso": ["-d", "simulated", "-d", "libsvm"],
    "logreg_l1": ["-d", "simulated", "-d", "libsvm[dataset=[heart_scale,a9a]]"],
    "ot": ["-d", "point-clouds"],
}


def run_one(bench, quick, max_runs, timeout, outdir):
    out = outdir / f"{bench}.parquet"
    cmd = ["benchopt", "run", str(HERE / bench), "-n", str(max_runs), "--timeout", str(timeout), "--no-plot",
           "--no-cache", "--output", str(out)] + (QUICK if quick else FULL)[bench]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    return out


def summarise(parquet, rel=1e-6):
    """Rows (problem, solver, time to rel. suboptimality rel, ratio to the fastest, final value)."""
    import pandas as pd

    df = pd.read_parquet(parquet)
    pcols = [c for c in df.columns if c.startswith("p_obj_") or c.startswith("p_dataset_")]
    rows = []
    for key, g in df.groupby(["dataset_name", "objective_name"] + pcols, dropna=False):
        best = g["objective_value"].min()
        thr = best + rel * max(abs(best), 1e-12)
        times = {}
        for solver, s in g.groupby("solver_name"):
            hit = s[s["objective_value"] <= thr]
            times[solver] = (float(hit["time"].min()) if len(hit) else float("inf"),
                             float(s["objective_value"].min()))
        fastest = min(t for t, _ in times.values())
        label = f"{key[0]} / {key[1]}"
        for solver, (t, v) in sorted(times.items(), key=lambda kv: kv[1][0]):
            rows.append((label, solver, t, t / fastest if fastest > 0 and t < float("inf") else float("inf"), v))
    return rows


def markdown(all_rows, cmd):
    lines = [f"Measured {datetime.date.today().isoformat()} on this project's machine with `{cmd}`.",
             "Time to reach a relative suboptimality of 1e-6 (reference: the best objective any solver "
             "reached on that problem); inf: not reached within the run's budget.", "",
             "| problem | solver | time (s) | x fastest | best objective |", "|---|---|---|---|---|"]
    for label, solver, t, r, v in all_rows:
        lines.append(f"| {label} | {solver} | {t:.3g} | {r:.2f} | {v:.10g} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", choices=sorted(QUICK), action="append")
    ap.add_argument("--max-runs", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--outdir", default=str(HERE.parents[0] / "results" / "benchopt"))
    ap.add_argument("--out", default=None, help="write the Markdown summary here too")
    args = ap.parse_args(argv)
    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for bench in args.only or sorted(QUICK):
        rows += summarise(run_one(bench, args.quick, args.max_runs, args.timeout, outdir))
    md = markdown(rows, "python benchmarks/benchopt/run.py " + " ".join(sys.argv[1:] if argv is None else argv))
    print(md)
    (outdir / "summary.md").write_text(md)
    if args.out:
        Path(args.out).write_text(md)


if __name__ == "__main__":
    main()
