import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/benchopt/_solvers.py

from sklearn.linear_model import LogisticRegression  # noqa: E402
from _solvers import EstimatorSolver  # noqa: E402


class Solver(EstimatorSolver):
    """liblinear's l1 logistic regression (C = 1 / (n lam): the per-sample scaling)."""
    name = "sklearn-liblinear"

    def make(self, X, y, lam):
        return LogisticRegression(penalty="l1", C=1 / (X.shape[0] * lam), solver="liblinear",
                                  fit_intercept=False, tol=1e-14)
