import numpy as np
from benchopt import BaseSolver

import numopt
from numopt.datafits import Logistic
from numopt.prox import L1


class Solver(BaseSolver):
    """numopt's block coordinate descent (numba epochs, working sets; selection="auto")."""
    name = "numopt-bcd"
    sampling_strategy = "callback"
    parameters = {"selection": ["auto", "cyclic"]}

    def set_objective(self, X, y, lam):
        self.problem = numopt.Problem(numopt.LinearComposite(Logistic(y), X), np.zeros(X.shape[1]),
                                      regularizer=L1(lam))

    def warm_up(self):
        numopt.bcd(self.problem, selection=self.selection, maxiter=3)  # compiles the numba kernels

    def run(self, cb):
        self.w = np.zeros(self.problem.x0.shape[0])

        def step(intermediate_result):
            self.w = intermediate_result.x
            if not cb():
                raise StopIteration

        cb()
        numopt.bcd(self.problem, selection=self.selection, tol=1e-14, maxiter=100000, callback=step)

    def get_result(self):
        return dict(beta=self.w)
