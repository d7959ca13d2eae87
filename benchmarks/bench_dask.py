"""Dask data-parallel oracles: per-iteration overhead against the in-memory run, 1 -> 2
workers, a fitted cost model for more workers, and the out-of-core LIBSVM reader's memory.

    python benchmarks/bench_dask.py [--n 100000] [--p 100] [--iters 30] [--rows 2000000]
                                    [--skip-libsvm] [--save benchmarks/results/bench_dask.json]

1. Overhead: logistic regression on a dense n x p design (4 row chunks), fista (L1) and
   l-bfgs-b for a fixed number of iterations, in memory and on a LocalCluster of 1 and 2
   worker processes (1 thread each). Reported: seconds per iteration, round trips per
   iteration, and the ratios.
2. Cost model, fitted from these measurements (a model, not a measurement of 10 or 100
   workers): one oracle call costs
       T(W) = lat + tasks * per_task + bytes / bandwidth + compute / W,
   ``lat`` and ``per_task`` from round trips on a tiny design with 2, 4, 8, 16 chunks,
   ``compute`` the in-memory time of one call, ``bytes`` = 2 p 8 bytes per chunk (x out,
   a gradient back), ``bandwidth`` an assumed 1 GB/s network (loopback here).
3. Out-of-core LIBSVM: a sparse svmlight file of ``--rows`` rows (generated into a temp
   dir, deleted after) read by byte ranges with problems.libsvm_chunked.load_chunked and
   reduced chunk by chunk (X^T y, nnz) in a child process: its peak RSS against the file
   size and against sklearn's load_svmlight_file of the whole file in another child.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# --- 1. overhead -----------------------------------------------------------------------------

def _data(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = np.where(X @ rng.standard_normal(p) + rng.standard_normal(n) > 0, 1.0, -1.0)
    return X, y


def _run(f, method, p, iters):
    import numopt
    from numopt.prox import L1

    kw = dict(prox=L1(1e-3)) if method == "fista" else {}
    t0 = time.perf_counter()
    res = numopt.minimize(f, np.zeros(p), method=method, tol=0.0, options={"maxiter": iters}, **kw)
    return time.perf_counter() - t0, res


def overhead(n, p, iters, chunks=4):
    import dask.array as da
    import distributed

    import numopt
    from numopt.datafits import Logistic

    X, y = _data(n, p)
    fm = numopt.LinearComposite(Logistic(y), X)
    out = {"n": n, "p": p, "iters": iters, "chunks": chunks, "runs": {}}
    for method in ("fista", "l-bfgs-b"):
        _run(fm, method, p, 2)
        t, res = _run(fm, method, p, iters)
        out["runs"][f"{method}/memory"] = dict(s_per_iter=t / max(res.nit, 1), nit=res.nit, fun=res.fun,
                                                calls=res.nfev + res.njev)
    t0 = time.perf_counter()
    for _ in range(20):
        fm.value_and_grad(np.zeros(p))
    out["compute_per_call"] = (time.perf_counter() - t0) / 20
    for W in (1, 2):
        with distributed.LocalCluster(n_workers=W, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, distributed.Client(cluster):
            Xd = da.from_array(X, chunks=(-(-n // chunks), p))
            fd = numopt.LinearComposite(Logistic(da.from_array(y, chunks=(Xd.chunks[0],))), Xd)
            fd.lipschitz  # warm the workers (imports, numba) and the cached L
            fd.value_and_grad(np.zeros(p))
            for method in ("fista", "l-bfgs-b"):
                rt0 = fd.round_trips
                t, res = _run(fd, method, p, iters)
                ref = out["runs"][f"{method}/memory"]
                out["runs"][f"{method}/dask-{W}w"] = dict(
                    s_per_iter=t / max(res.nit, 1), nit=res.nit, fun=res.fun,
                    round_trips_per_iter=(fd.round_trips - rt0) / max(res.nit, 1),
                    ratio_to_memory=(t / max(res.nit, 1)) / ref["s_per_iter"],
                    same_fun=abs(res.fun - ref["fun"]) <= 1e-10 * max(1.0, abs(ref["fun"])))
            out[f"latency_{W}w"] = _latency(W)
    return out


def _latency(W):
    """Seconds per round trip (value_and_grad) on a tiny design with k chunks: the fixed
    and per-task cost of a round trip on this cluster."""
    import dask.array as da

    import numopt
    from numopt.datafits import Quadratic

    rows = {}
    for k in (2, 4, 8, 16):
        X, y = _data(16 * k, 4, seed=1)
        f = numopt.LinearComposite(Quadratic(da.from_array(y, chunks=16)),
                                   da.from_array(X, chunks=(16, 4)))
        f.value_and_grad(np.zeros(4))
        t0 = time.perf_counter()
        for _ in range(15):
            f.value_and_grad(np.zeros(4))
        rows[k] = (time.perf_counter() - t0) / 15
    return rows


def cost_model(res, bandwidth=1e9):
    """The model T_call(W) = lat + per_task * tasks + bytes / bandwidth + C / W, fitted from
    the measurements: ``lat`` and ``per_task`` by least squares on the tiny-design round trips
    (both cluster sizes), ``C`` (the compute of one call on one worker) by least squares on
    the seconds per round trip of the real runs with 1 and 2 workers (4 chunks) after the
    latency terms. Prediction for W workers holding one chunk each, times the measured
    round trips per iteration."""
    ks, ts = [], []
    for W in (1, 2):
        for k, t in res[f"latency_{W}w"].items():
            ks.append(float(k))
            ts.append(t)
    A = np.column_stack([np.ones(len(ks)), ks])
    (lat, per_task), *_ = np.linalg.lstsq(A, np.array(ts), rcond=None)
    lat, per_task = max(float(lat), 0.0), max(float(per_task), 0.0)
    p, chunks = res["p"], res["chunks"]
    inv_w, rest = [], []
    for method in ("fista", "l-bfgs-b"):
        for W in (1, 2):
            r = res["runs"][f"{method}/dask-{W}w"]
            t_call = r["s_per_iter"] / r["round_trips_per_iter"]
            inv_w.append(1.0 / W)
            rest.append(t_call - lat - per_task * chunks - 2 * p * 8 * chunks / bandwidth)
    C = max(float(np.dot(inv_w, rest) / np.dot(inv_w, inv_w)), 0.0)
    pred = {}
    for method in ("fista", "l-bfgs-b"):
        rt = res["runs"][f"{method}/dask-2w"]["round_trips_per_iter"]
        for W in (1, 2, 10, 100):
            call = lat + per_task * W + 2 * p * 8 * W / bandwidth + C / W
            pred[f"{method}/{W}w"] = rt * call
    return dict(latency_s=lat, per_task_s=per_task, bandwidth_Bps=bandwidth, compute_per_call_s=C,
                compute_per_call_memory_s=res["compute_per_call"], predicted_s_per_iter=pred)


# --- 3. out-of-core LIBSVM ---------------------------------------------------------------------

def write_libsvm(path, rows, p=1000, nnz=10, block=100_000, seed=0):
    """A sparse svmlight file: ``rows`` lines with ``nnz`` sorted random features each."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        for start in range(0, rows, block):
            m = min(block, rows - start)
            idx = np.sort(rng.random((m, p)).argpartition(nnz, axis=1)[:, :nnz], axis=1) + 1
            val = np.round(rng.standard_normal((m, nnz)), 3)
            lab = np.where(rng.random(m) < 0.5, -1, 1)
            f.write("".join(f"{lab[i]} " + " ".join(f"{j}:{v:g}" for j, v in zip(idx[i], val[i])) + "\n"
                            for i in range(m)))


def _child_chunked(path, chunk_bytes):
    import dask

    from numopt._dask import finish, tree_reduce
    from problems.libsvm_chunked import load_chunked

    X, y = load_chunked(path, chunk_bytes=chunk_bytes)
    parts = [dask.delayed(lambda Xb, yb: (np.asarray(Xb.T @ yb).ravel(), Xb.nnz))(Xb, yb)
             for Xb, yb in zip(X.to_delayed().ravel(), y.to_delayed().ravel())]
    t0 = time.perf_counter()
    xty, nnz = finish(dask.compute(tree_reduce(parts), scheduler="threads", num_workers=2)[0])
    return dict(seconds=time.perf_counter() - t0, rows=X.shape[0], chunks=X.numblocks[0], nnz=int(nnz),
                checksum=float(np.abs(xty).sum()))


def _child_sklearn(path):
    from sklearn.datasets import load_svmlight_file

    t0 = time.perf_counter()
    X, y = load_svmlight_file(path, zero_based=False)
    return dict(seconds=time.perf_counter() - t0, rows=X.shape[0], nnz=int(X.nnz),
                checksum=float(np.abs(np.asarray(X.T @ y)).sum()))


def _proc_mb(field):
    """VmRSS / VmHWM (peak resident set of this process image, reset at exec, unlike
    getrusage's ru_maxrss which keeps the parent's) in MB, from /proc/self/status."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _in_child(kind, path, chunk_bytes):
    cmd = [sys.executable, __file__, "--child", kind, path, str(chunk_bytes)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=str(ROOT))
    return json.loads(out.stdout.strip().splitlines()[-1])


def libsvm_memory(rows, chunk_bytes=8 << 20):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "big.svm")
        t0 = time.perf_counter()
        write_libsvm(path, rows)
        size = os.path.getsize(path)
        gen = time.perf_counter() - t0
        chunked = _in_child("chunked", path, chunk_bytes)
        whole = _in_child("sklearn", path, chunk_bytes)
    return dict(rows=rows, file_MB=size / 2**20, generate_s=gen, chunk_MB=chunk_bytes / 2**20,
                chunked=chunked, sklearn_whole=whole)


def report(res):
    if "runs" in res:
        print(f"# Dask oracle overhead: logistic, dense {res['n']} x {res['p']}, {res['chunks']} row chunks, "
              f"{res['iters']} iterations")
        print(f"{'run':<22} {'s/iter':>9} {'round trips/iter':>17} {'x memory':>9}")
        for k, r in res["runs"].items():
            print(f"{k:<22} {r['s_per_iter']:>9.4f} {r.get('round_trips_per_iter', float('nan')):>17.2f} "
                  f"{r.get('ratio_to_memory', 1.0):>9.1f}")
        m = res["model"]
        print(f"# model: {m['latency_s'] * 1e3:.1f} ms + {m['per_task_s'] * 1e3:.2f} ms/task + bytes / 1 GB/s + "
              f"{m['compute_per_call_s'] * 1e3:.1f} ms / W per round trip")
        for k, v in m["predicted_s_per_iter"].items():
            print(f"  predicted {k:<14} {v:.4f} s/iter")
    if "libsvm" in res:
        lib = res["libsvm"]
        print(f"# out-of-core LIBSVM: {lib['rows']} rows, file {lib['file_MB']:.0f} MB, "
              f"chunks of {lib['chunk_MB']:.0f} MB")
        for k in ("chunked", "sklearn_whole"):
            r = lib[k]
            print(f"  {k:<14} peak RSS {r['peak_rss_MB']:.0f} MB (after imports {r['baseline_rss_MB']:.0f} MB), "
                  f"{r['seconds']:.1f} s, nnz {r['nnz']}, checksum {r['checksum']:.6e}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--p", type=int, default=100)
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--skip-libsvm", action="store_true")
    ap.add_argument("--skip-overhead", action="store_true")
    ap.add_argument("--save", default=str(ROOT / "benchmarks" / "results" / "bench_dask.json"))
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        kind, path, cb = a.child
        import dask  # noqa: F401 (imports before the baseline)
        import sklearn.datasets  # noqa: F401

        import problems.libsvm_chunked  # noqa: F401

        base = _proc_mb("VmRSS")
        r = _child_chunked(path, int(cb)) if kind == "chunked" else _child_sklearn(path)
        r["peak_rss_MB"], r["baseline_rss_MB"] = _proc_mb("VmHWM"), base
        print(json.dumps(r))
        return
    import warnings

    warnings.filterwarnings("ignore", message=".*large graph.*")  # the one-time from_array of X
    saved = Path(a.save) if a.save else None
    res = json.loads(saved.read_text()) if saved is not None and saved.exists() else {}
    if not a.skip_overhead:
        res.update(overhead(a.n, a.p, a.iters))
        res["model"] = cost_model(res)
    if not a.skip_libsvm:
        res["libsvm"] = libsvm_memory(a.rows)
    report(res)
    if saved is not None:  # merged into the saved results: one part can be rerun alone
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    main()
