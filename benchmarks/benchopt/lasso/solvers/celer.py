import warnings

from benchopt import BaseSolver
from celer import Lasso


class Solver(BaseSolver):
    name = "celer"
    sampling_strategy = "iteration"

    def set_objective(self, X, y, lam):
        self.X, self.y = X, y
        self.clf = Lasso(alpha=lam, fit_intercept=False, tol=1e-14, warm_start=False)
        warnings.filterwarnings("ignore")

    def run(self, n_iter):
        self.clf.max_iter = max(1, n_iter)
        self.clf.fit(self.X, self.y)

    def get_result(self):
        return dict(beta=self.clf.coef_.ravel().copy())
