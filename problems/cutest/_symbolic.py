"""Problems written once as symbolic expressions; exact derivatives by sympy.

Each problem gives its objective and equality constraints as functions of a list
of sympy symbols. Gradients, Hessians, constraint Jacobians and Lagrangian
Hessians are differentiated symbolically and compiled with ``sympy.lambdify`` the
first time the problem is built (cached per name and dimension).
"""
from __future__ import annotations

import functools

import numpy as np

from numopt.oracles import SmoothFunction


class SymbolicObjective(SmoothFunction):
    def __init__(self, f, g, H):
        self._f, self._g, self._H = f, g, H

    def value(self, x):
        return float(self._f(*np.asarray(x, dtype=float)))

    def grad(self, x):
        return np.asarray(self._g(*np.asarray(x, dtype=float)), dtype=float).ravel()

    def hess(self, x):
        return np.asarray(self._H(*np.asarray(x, dtype=float)), dtype=float)

    def hvp(self, x, v):
        return self.hess(x) @ v

    def has(self, name):
        return name in ("grad", "hess", "hvp")


class SymbolicConstraints:
    """``c(x) = 0`` with exact Jacobian and Lagrangian Hessian ``hess(x, lam)``."""

    def __init__(self, c, J, HL, m):
        self._c, self._J, self._HL, self.m = c, J, HL, m

    def value(self, x):
        return np.asarray(self._c(*np.asarray(x, dtype=float)), dtype=float).ravel()

    def jacobian(self, x):
        return np.asarray(self._J(*np.asarray(x, dtype=float)), dtype=float).reshape(self.m, -1)

    def hess(self, x, lam):
        return np.asarray(self._HL(*np.asarray(x, dtype=float), *np.asarray(lam, dtype=float)), dtype=float)

    def has(self, name):
        return name in ("jacobian", "hess")


@functools.lru_cache(maxsize=None)
def compile_problem(builder, n):
    """Differentiate and compile ``builder(x) -> (f, [c_i])`` for dimension n."""
    import sympy as sp

    xs = sp.symbols(f"x1:{n + 1}", real=True)
    f, cons = builder(list(xs))
    f = sp.sympify(f)
    grad = [sp.diff(f, v) for v in xs]
    H = sp.hessian(f, xs)
    fo = SymbolicObjective(sp.lambdify(xs, f, "numpy"), sp.lambdify(xs, grad, "numpy"),
                           sp.lambdify(xs, H, "numpy"))
    if not cons:
        return fo, None
    m = len(cons)
    lam = sp.symbols(f"l1:{m + 1}", real=True)
    J = sp.Matrix(cons).jacobian(xs)
    lag = sum(li * ci for li, ci in zip(lam, cons))
    HL = sp.hessian(lag, xs)
    co = SymbolicConstraints(sp.lambdify(xs, list(cons), "numpy"), sp.lambdify(xs, J, "numpy"),
                             sp.lambdify(list(xs) + list(lam), HL, "numpy"), m)
    return fo, co
