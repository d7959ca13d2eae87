"""numopt: classical numerical optimization solvers with a scipy-style interface.

``numopt.minimize(fun, x0, method=...)`` is the front door; each family also has its
own function (``numopt.fista``, ``numopt.sinkhorn``, ...). Methods are listed by
:func:`list_methods` and described by :func:`show_options`.
"""
from __future__ import annotations

import importlib

from ._minimize import minimize
from ._registry import list_kinds, list_methods, show_options
from .oracles import Problem, SmoothFunction, LinearComposite, OracleCounter
from . import prox, rates

__version__ = "0.1.0"

# Family functions and submodules are imported on first use, so `import numopt`
# stays light (no numba kernels, no cupy, no matplotlib).
_LAZY = {
    "gd": "numopt.solvers.first_order",
    "agd": "numopt.solvers.first_order",
    "ista": "numopt.solvers.first_order",
    "fista": "numopt.solvers.first_order",
    "bcd": "numopt.solvers.bcd",
    "sinkhorn": "numopt.solvers.sinkhorn",
    "frank_wolfe": "numopt.solvers.frank_wolfe",
    "bilevel": "numopt.solvers.bilevel",
    "bilevel_hypergradient": "numopt.solvers.bilevel",
    "BilevelProblem": "numopt.solvers.bilevel",
    "MultiBlockBilevelProblem": "numopt.solvers.bilevel",
    "lmo": "numopt.lmo",
    "sketch": "numopt.sketch",
    "solve_linear": "numopt.solvers.linear",
    "backend": "numopt._backend",
    "mirror_sinkhorn": "numopt.solvers.sinkhorn",
    "ot": "numopt.solvers.sinkhorn",
    "model_based": "numopt.solvers.model_based",
    "PhaseRetrieval": "numopt.solvers.model_based",
    "RobustRegression": "numopt.solvers.model_based",
    "CompositeAbsLoss": "numopt.solvers.model_based",
    "moreau_gradient_norm": "numopt.solvers.model_based",
    "dca": "numopt.solvers.dca",
    "sor": "numopt.sor",
    "fractional_cd": "numopt.solvers.fractional_cd",
    "cbo": "numopt.solvers.cbo",
    "nmf_bcd_pr": "numopt.solvers.nmf",
    "acoder": "numopt.solvers.cyclic_cd",
    "vr_cyclic_cd": "numopt.solvers.cyclic_cd",
}

__all__ = ["minimize", "list_methods", "list_kinds", "show_options", "Problem", "SmoothFunction",
           "LinearComposite", "OracleCounter", "prox", "rates", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        mod = importlib.import_module(_LAZY[name])
        return getattr(mod, name) if hasattr(mod, name) else mod
    raise AttributeError(f"module 'numopt' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
