from benchopt import BaseSolver

import numopt


class Solver(BaseSolver):
    """numopt's Sinkhorn family: "sinkhorn" (kernel), "sinkhorn-log", "sns" (Sinkhorn-Newton-Sparse)."""
    name = "numopt"
    sampling_strategy = "iteration"
    parameters = {"method": ["sinkhorn", "sinkhorn-log", "sns"]}

    def set_objective(self, a, b, C, reg):
        self.a, self.b, self.C, self.reg = a, b, C, reg

    def warm_up(self):
        self.run(2)

    def run(self, n_iter):
        res = numopt.sinkhorn(self.a, self.b, self.C, self.reg, method=self.method, tol=1e-12,
                              maxiter=max(1, n_iter))
        self.P = res.plan

    def get_result(self):
        return dict(P=self.P)
