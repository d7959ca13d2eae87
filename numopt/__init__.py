"""numopt: classical numerical optimization solvers with a scipy-style interface.

``numopt.minimize(fun, x0, method=...)`` is the front door; each family also has its
own function (``numopt.fista``, ``numopt.sinkhorn``, ...). Methods are listed by
:func:`list_methods` and described by :func:`show_options`.
"""
from __future__ import annotations

import importlib

from ._minimize import minimize
from ._registry import PUBLIC_SUBMODULES, list_kinds, list_methods, public_names, show_options
from .oracles import Problem, SmoothFunction, LinearComposite, OracleCounter
from . import prox, rates

__version__ = "0.1.0"

# Family functions and submodules are imported on first use, so `import numopt`
# stays light (no numba kernels, no cupy, no matplotlib). The table comes from the
# registry's module list: each solver module declares its public names in
# ``__numopt_public__`` (numopt._registry.public_names).
_EAGER = ["minimize", "list_methods", "list_kinds", "show_options", "Problem", "SmoothFunction",
          "LinearComposite", "OracleCounter", "prox", "rates"]


def __getattr__(name):
    if name == "_LAZY":
        return public_names()
    if name == "__all__":
        return _EAGER + sorted(public_names())
    table = public_names()
    if name in table:
        mod = importlib.import_module(table[name])
        return mod if name in PUBLIC_SUBMODULES else getattr(mod, name)
    raise AttributeError(f"module 'numopt' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(public_names()))
