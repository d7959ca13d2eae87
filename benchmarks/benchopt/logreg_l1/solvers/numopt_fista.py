import numpy as np
from benchopt import BaseSolver

import numopt
from numopt.datafits import Logistic
from numopt.prox import L1


class Solver(BaseSolver):
    """numopt's FISTA (gradient restart on, the default)."""
    name = "numopt-fista"
    sampling_strategy = "callback"

    def set_objective(self, X, y, lam):
        self.f, self.reg, self.p = numopt.LinearComposite(Logistic(y), X), L1(lam), X.shape[1]

    def warm_up(self):  # (compile what the first iterations need outside the timed run)
        numopt.minimize(self.f, np.zeros(self.p), method="fista", prox=self.reg, options={"maxiter": 3})

    def run(self, cb):
        self.w = np.zeros(self.p)

        def step(intermediate_result):
            self.w = intermediate_result.x
            if not cb():
                raise StopIteration

        cb()
        numopt.minimize(self.f, np.zeros(self.p), method="fista", prox=self.reg, tol=1e-14,
                        options={"maxiter": 100000}, callback=step)

    def get_result(self):
        return dict(beta=self.w)
