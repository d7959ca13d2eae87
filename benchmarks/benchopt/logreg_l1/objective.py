"""Sparse logistic regression: min_w 1/n sum_i log(1 + exp(-y_i x_i^T w)) + lam ||w||_1,
lam = reg * lam_max, labels in {-1, +1} (the scaling of benchopt's community sparse
logistic regression benchmark, per sample). Metrics: objective value, duality gap."""
import numpy as np
from benchopt import BaseObjective
from scipy.special import expit


class Objective(BaseObjective):
    name = "Sparse Logistic Regression"
    min_benchopt_version = "1.5"
    parameters = {"reg": [0.1, 0.01]}
    test_config = {"dataset": {"name": "simulated", "n_samples": 50, "n_features": 20}}

    def set_data(self, X, y):
        self.X, self.y = X, y
        n = X.shape[0]
        self.lam = self.reg * float(np.max(np.abs(X.T @ y))) / (2 * n)

    def get_objective(self):
        return dict(X=self.X, y=self.y, lam=self.lam)

    def evaluate_result(self, beta):
        X, y, lam, n = self.X, self.y, self.lam, self.X.shape[0]
        m = y * (X @ beta)
        primal = float(np.logaddexp(0, -m).sum()) / n + lam * float(np.abs(beta).sum())
        u = -y * expit(-m) / n  # gradient of the datafit in z = Xw
        corr = float(np.max(np.abs(X.T @ u)))
        s = min(1.0, lam / corr) if corr > 0 else 1.0
        p = np.clip(-s * u * y * n, 1e-300, 1 - 1e-16)  # dual variables in (0, 1)
        dual = -float(np.sum(p * np.log(p) + (1 - p) * np.log1p(-p))) / n
        return dict(value=primal, duality_gap=primal - dual, support_size=int(np.sum(beta != 0)))

    def get_one_result(self):
        return dict(beta=np.zeros(self.X.shape[1]))
