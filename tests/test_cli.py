import subprocess
import sys


def _run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "numopt", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_problems_list():
    out = _run("problems", "list", "--prefix", "synthetic")
    assert out.returncode == 0
    assert "synthetic/quadratic" in out.stdout.split()


def test_solve_prints_summary_and_reaches_reference():
    out = _run("solve", "synthetic/quadratic", "--method", "agd", "--tol", "1e-10", "--maxiter", "20000",
               "--params", '{"n": 30, "cond": 100}')
    assert out.returncode == 0, out.stderr
    assert "Optimality measure below tol" in out.stdout
    diff = float(out.stdout.split("(f - f*) = ")[1].split()[0])
    assert abs(diff) < 1e-9


def test_demo_fallback_dataset_prints_table(tmp_path):
    out = _run("demo", "--dataset", "not-a-dataset", "--data-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "breast_cancer" in out.stdout
    lines = [ln for ln in out.stdout.splitlines() if ln.strip().startswith("fista:")]
    gap = float(lines[0].split("duality gap = ")[1].split(",")[0])
    assert gap < 1e-6
