import warnings

from benchopt import BaseSolver
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression


class Solver(BaseSolver):
    """liblinear's l1 logistic regression (C = 1 / (n lam) gives the per-sample scaling)."""
    name = "sklearn-liblinear"
    sampling_strategy = "iteration"

    def set_objective(self, X, y, lam):
        self.X, self.y = X, y
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)  # (penalty= is deprecated in sklearn >= 1.8)
        self.clf = LogisticRegression(penalty="l1", C=1 / (X.shape[0] * lam), solver="liblinear",
                                      fit_intercept=False, tol=1e-14)

    def run(self, n_iter):
        self.clf.max_iter = max(1, n_iter)
        self.clf.fit(self.X, self.y)

    def get_result(self):
        return dict(beta=self.clf.coef_.ravel().copy())
