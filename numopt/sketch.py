"""Randomized sketching solvers for ``A x = b`` (moved to :mod:`numopt.solvers.sketch`;
this module keeps the old import path). The front door of every linear-system method
is :func:`numopt.solve_linear`."""
from .solvers.sketch import METHODS, rk_rate, solve

__all__ = ["solve", "METHODS", "rk_rate"]
