import warnings

import ot
from benchopt import BaseSolver


class Solver(BaseSolver):
    """POT's ot.sinkhorn (numpy backend)."""
    name = "POT"
    sampling_strategy = "iteration"
    parameters = {"method": ["sinkhorn", "sinkhorn_log"]}

    def set_objective(self, a, b, C, reg):
        self.a, self.b, self.C, self.reg = a, b, C, reg
        warnings.filterwarnings("ignore")

    def run(self, n_iter):
        self.P = ot.sinkhorn(self.a, self.b, self.C, self.reg, method=self.method,
                             numItermax=max(1, n_iter), stopThr=1e-12)

    def get_result(self):
        return dict(P=self.P)
