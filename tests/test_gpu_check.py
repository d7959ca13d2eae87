"""benchmarks/gpu_check.py: the no-CUDA exit path, and the whole pipeline with numpy
(and array_api_strict) standing in for CuPy."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"


def _load():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gc = _load()


def test_without_cuda_it_skips_and_exits_0():
    dev, why = gc.cuda_device()
    if dev is not None:
        pytest.skip("a CUDA device is present")
    out = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "skipped" in out.stdout and why.split(" ")[0] in out.stdout


def test_peak_bandwidth_from_device_properties():
    # H100 SXM: 2619 MHz HBM3 clock, 5120-bit bus -> 3.35 TB/s
    assert gc.peak_bandwidth({"memoryClockRate": 2_619_000, "memoryBusWidth": 5120}) == pytest.approx(3.352e12, rel=1e-3)


def test_dry_run_numpy_covers_every_check(tmp_path):
    rc = gc.main(["--dry-run-numpy", "--out", str(tmp_path / "g")])
    report = json.loads((tmp_path / "g.json").read_text())
    md = (tmp_path / "g.md").read_text()
    rows = report["rows"]
    assert rc == 0 and report["dry_run"] and not any(r["ok"] is False for r in rows)
    seen = {(r["check"].split(" ")[0], r["method"]) for r in rows}
    for method in ("sinkhorn", "sinkhorn-log", "sns"):
        assert ("ot", method) in seen
    for method in ("poly-gd", "poly-fgm", "gd", "agd", "fista", "lbfgs", "frank-wolfe", "away-fw", "pairwise-fw",
                   "eal"):
        assert any(m == method for _, m in seen), method
    ran = [r for r in rows if r["ok"]]
    assert len(ran) >= 14 and all(r["error"] <= r["tol"] for r in ran)
    # skipped rows say why (sns is numpy-only): never silently dropped
    assert all(r.get("skipped") for r in rows if r["ok"] is None)
    # bandwidth = bytes of K read per iteration / time per iteration, as a fraction of the peak
    for r in rows:
        if r["check"] == "ot" and r["ok"]:
            nbytes = 2 * r["n"] ** 2 * np.dtype(r["dtype"]).itemsize
            bw = nbytes / (r["ms_per_iteration_device"] * 1e-3)
            assert r["bandwidth_GBs"] == pytest.approx(bw / 1e9, rel=1e-9)
            assert r["bandwidth_fraction"] == pytest.approx(bw / (report["device"]["peak_GBs"] * 1e9), rel=1e-9)
    assert md.count("\n| ") == len(rows) + 1  # header + one line per row


def test_a_device_that_loses_precision_is_caught():
    """The comparison can fail: a stand-in that computes in float32 what numpy computes in
    float64 misses the float64 tolerance (measured error 1.0e-7 against tol 1e-8)."""

    class Float32Device(gc.Device):
        def asarray(self, x):
            x = np.asarray(x)
            return x.astype(np.float32) if x.dtype == np.float64 else x

    dev = Float32Device(np, "float32 stand-in", {"memoryClockRate": 1_000_000, "memoryBusWidth": 128}, dry_run=True)
    rows = gc.check_ot(dev, 40, 5)
    row = next(r for r in rows if r["method"] == "sinkhorn" and r.get("dtype") == "float64")
    assert row["ok"] is False and row["error"] > 5 * row["tol"]


def test_dry_run_with_a_foreign_namespace():
    """array_api_strict stands in for cupy: no numpy-only operation in the OT paths."""
    xps = pytest.importorskip("array_api_strict")
    rows = gc.check_ot(gc.numpy_stand_in(xps), 30, 5)
    ran = [r for r in rows if r["ok"] is not None]
    assert len(ran) == 3 and all(r["ok"] for r in ran), ran
