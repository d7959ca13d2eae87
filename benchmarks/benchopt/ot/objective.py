"""Entropic optimal transport between two point clouds: min_P <C, P> - reg H(P) subject to
P 1 = a, P^T 1 = b (reg relative to the median cost). Metrics: the entropic objective of
the plan (tracked), the transport cost <C, P> and the marginal violation."""
import numpy as np
from benchopt import BaseObjective


class Objective(BaseObjective):
    name = "Entropic OT"
    min_benchopt_version = "1.5"
    parameters = {"reg": [1e-2, 1e-3]}
    test_config = {"dataset": {"name": "point-clouds", "n": 40}}

    def set_data(self, a, b, C):
        self.a, self.b, self.C = a, b, C / np.median(C)

    def get_objective(self):
        return dict(a=self.a, b=self.b, C=self.C, reg=self.reg)

    def evaluate_result(self, P):
        P = np.asarray(P)
        pos = P[P > 0]
        ent = -float(np.sum(pos * (np.log(pos) - 1)))
        cost = float(np.sum(self.C * P))
        viol = float(np.abs(P.sum(1) - self.a).sum() + np.abs(P.sum(0) - self.b).sum())
        return dict(value=cost - self.reg * ent, transport_cost=cost, marginal_violation=viol)

    def get_one_result(self):
        return dict(P=np.outer(self.a, self.b))
