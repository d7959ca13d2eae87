"""Solver bases shared by numopt's benchopt benchmarks (each benchmark folder's solver files
subclass these and set only their name, datafit or estimator)."""
import warnings

import numpy as np
from benchopt import BaseSolver

import numopt
from numopt.prox import L1


class NumoptCallbackSolver(BaseSolver):
    """A numopt solver run once to a tight tol; benchopt samples it through numopt's
    callback(intermediate_result) (StopIteration when benchopt has enough)."""
    sampling_strategy = "callback"
    datafit = None  # a numopt.datafits class, set by the subclass

    def set_objective(self, X, y, lam):
        self.f, self.reg, self.p = numopt.LinearComposite(self.datafit(y), X), L1(lam), X.shape[1]

    def solve(self, callback, maxiter):
        raise NotImplementedError

    def warm_up(self):  # compiles the numba kernels outside the timed runs
        self.solve(None, 3)

    def run(self, cb):
        self.w = np.zeros(self.p)

        def step(intermediate_result):
            self.w = intermediate_result.x
            if not cb():
                raise StopIteration

        cb()
        self.solve(step, 100000)

    def get_result(self):
        return dict(beta=self.w)


class NumoptBCD(NumoptCallbackSolver):
    """numopt's block coordinate descent (numba epochs, working sets; selection="auto")."""
    name = "numopt-bcd"
    parameters = {"selection": ["auto", "cyclic"]}

    def solve(self, callback, maxiter):
        problem = numopt.Problem(self.f, np.zeros(self.p), regularizer=self.reg)
        numopt.bcd(problem, selection=self.selection, tol=1e-14, maxiter=maxiter, callback=callback)


class NumoptFista(NumoptCallbackSolver):
    """numopt's FISTA (gradient restart on, the default)."""
    name = "numopt-fista"

    def solve(self, callback, maxiter):
        numopt.minimize(self.f, np.zeros(self.p), method="fista", prox=self.reg, tol=1e-14,
                        options={"maxiter": maxiter}, callback=callback)


class EstimatorSolver(BaseSolver):
    """A scikit-learn-style estimator refitted with max_iter = n_iter (benchopt's iteration
    sampling); ``make(X, y, lam)`` builds it."""
    sampling_strategy = "iteration"

    def make(self, X, y, lam):
        raise NotImplementedError

    def set_objective(self, X, y, lam):
        warnings.filterwarnings("ignore")  # convergence / deprecation warnings of the peers
        self.X, self.y = X, y
        self.clf = self.make(X, y, lam)

    def warm_up(self):  # (numba-compiled peers compile here)
        self.run(1)

    def run(self, n_iter):
        self.clf.max_iter = max(1, n_iter)
        self.clf.fit(self.X, self.y)

    def get_result(self):
        return dict(beta=np.asarray(self.clf.coef_).ravel().copy())
