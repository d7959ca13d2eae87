import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/benchopt/_solvers.py

from skglm import Lasso  # noqa: E402
from _solvers import EstimatorSolver  # noqa: E402


class Solver(EstimatorSolver):
    name = "skglm"

    def make(self, X, y, lam):
        return Lasso(alpha=lam, fit_intercept=False, tol=1e-14)
