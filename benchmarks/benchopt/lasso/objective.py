"""Lasso: min_w 1/(2n) ||y - Xw||^2 + lam ||w||_1 with lam = reg * lam_max (the scaling of
benchopt's community Lasso benchmark and of scikit-learn). Metrics: the objective value
(tracked), the duality gap and the support size."""
import numpy as np
from benchopt import BaseObjective


class Objective(BaseObjective):
    name = "Lasso"
    min_benchopt_version = "1.5"
    parameters = {"reg": [0.1, 0.01]}
    test_config = {"dataset": {"name": "simulated", "n_samples": 50, "n_features": 20}}

    def set_data(self, X, y):
        self.X, self.y = X, y
        n = X.shape[0]
        self.lam = self.reg * float(np.max(np.abs(X.T @ y))) / n

    def get_objective(self):
        return dict(X=self.X, y=self.y, lam=self.lam)

    def evaluate_result(self, beta):
        X, y, lam, n = self.X, self.y, self.lam, self.X.shape[0]
        r = y - X @ beta
        primal = 0.5 * float(r @ r) / n + lam * float(np.abs(beta).sum())
        corr = float(np.max(np.abs(X.T @ r))) / n
        s = min(1.0, lam / corr) if corr > 0 else 1.0  # dual point theta = s r / n
        dual = s * float(r @ y) / n - 0.5 * s * s * float(r @ r) / n
        return dict(value=primal, duality_gap=primal - dual, support_size=int(np.sum(beta != 0)))

    def get_one_result(self):
        return dict(beta=np.zeros(self.X.shape[1]))
