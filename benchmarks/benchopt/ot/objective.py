"""Entropic optimal transport between two point clouds: min_P <C, P> - reg H(P) subject to
P 1 = a, P^T 1 = b (reg relative to the median cost). A solver's plan is first rounded onto
the transport polytope (Altschuler, Weed & Rigollet, NeurIPS 2017, Algorithm 2), so the
tracked value is the entropic objective of a feasible plan (an upper bound on the optimum:
an infeasible plan cannot look better than the optimum). Also reported: the transport cost
of the rounded plan and the marginal violation of the plan as returned."""
import numpy as np
from benchopt import BaseObjective


def round_to_polytope(P, a, b):
    """Scale rows then columns down to their marginals, then add the rank-one correction
    (missing row mass x missing column mass / total missing): a plan with marginals a, b."""
    P = np.maximum(P, 0.0)
    rows = P.sum(1)
    P = P * np.minimum(1.0, a / np.where(rows > 0, rows, 1.0))[:, None]
    cols = P.sum(0)
    P = P * np.minimum(1.0, b / np.where(cols > 0, cols, 1.0))[None, :]
    ea, eb = a - P.sum(1), b - P.sum(0)
    missing = ea.sum()
    return P + np.outer(ea, eb) / missing if missing > 0 else P


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
        P = np.asarray(P, dtype=float)
        viol = float(np.abs(P.sum(1) - self.a).sum() + np.abs(P.sum(0) - self.b).sum())
        Q = round_to_polytope(P, self.a, self.b)
        pos = Q[Q > 0]
        ent = -float(np.sum(pos * (np.log(pos) - 1)))
        cost = float(np.sum(self.C * Q))
        return dict(value=cost - self.reg * ent, transport_cost=cost, marginal_violation=viol)

    def get_one_result(self):
        return dict(P=np.outer(self.a, self.b))
