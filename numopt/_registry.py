"""The method registry: one entry per method is the single source of truth for
dispatch (``minimize``), ``show_options``, ``list_methods``, the docs pages, backend
support, the theoretical rate and the cross-method contract tests.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["MethodSpec", "register", "get_method", "list_methods", "show_options",
           "COMMON_OPTIONS", "methods_accepting_prox", "default_tol"]

# Options every method accepts (handled by the shared loop).
COMMON_OPTIONS = {
    "maxiter": (1000, "Maximum number of iterations (>= 0)."),
    "max_time": (float("inf"), "Wall-clock limit in seconds."),
    "trace": (True, "Record the per-iteration trace (objective, optimality, time, oracle counts)."),
    "disp": (False, "Print a progress line every `disp` iterations (True = every 10%)."),
}

# Solver modules imported when the registry is first consulted. A module that does
# not exist yet is skipped, so families can be added independently.
SOLVER_MODULES = [
    "numopt.solvers.first_order",
    "numopt.solvers.bcd",
    "numopt.solvers.cyclic_cd",
    "numopt.solvers.frank_wolfe",
    "numopt.solvers.cbo",
    "numopt.solvers.stochastic",
    "numopt.solvers.eal",
    "numopt.solvers.polynomial",
    "numopt.solvers.second_order",
]

_REGISTRY: dict[str, "MethodSpec"] = {}
_LOADED = False


@dataclass
class MethodSpec:
    """Everything numopt knows about one method.

    ``solve(problem, x0, options, callback)`` runs it and returns an OptimizeResult.
    ``requires`` names the oracles it needs (``"grad"``, ``"hvp"``, ``"hess"``,
    ``"prox"``, ``"lmo"``, ``"project"``, ``"constraints"``); the front door checks
    them before the first iteration. ``rate`` is the theoretical bound as a function
    ``rate(k, L=..., mu=..., R=..., f0_gap=...) -> bound on f(x_k) - f*`` (or None) and
    ``rate_text`` states it in words; ``optimality`` documents the stopping measure.

    ``accepts_prox``: whether the method uses the problem's regularizer ``g`` (the
    ``prox=`` argument or ``Problem.regularizer``); default: ``"prox" in requires``.
    The front door never drops ``g`` for a method that does not accept it: a smooth
    ``g`` (squared l2) is added to the smooth part, any other ``g`` is a ValueError
    naming the methods that accept it. ``float64_internal``: the method iterates in
    float64 whatever the input dtype (so its default ``tol`` is not loosened for
    float32 input, see :func:`default_tol`).
    """

    name: str
    solve: Callable
    family: str
    summary: str
    options: dict = field(default_factory=dict)
    requires: tuple = ("grad",)
    optimality: str = ""
    rate_text: str = ""
    rate: Callable | None = None
    reference: str = ""
    backends: tuple = ("numpy", "array_api_strict", "cupy")
    accepts_constraints: bool = False
    accepts_bounds: bool = False
    x_ndim: tuple = (1,)
    accepts_prox: bool | None = None
    float64_internal: bool = False
    # example(xp) -> dict of minimize keyword arguments (fun, x0, jac, prox, lmo,
    # constraints, ...) plus optionally "f_star": a small instance the cross-method
    # contract tests run the method on, in namespace xp.
    example: Callable | None = None

    def __post_init__(self):
        if self.accepts_prox is None:
            self.accepts_prox = "prox" in self.requires

    def all_options(self):
        out = dict(COMMON_OPTIONS)
        out.update(self.options)
        return out


def register(spec: MethodSpec):
    if spec.name in _REGISTRY and _REGISTRY[spec.name].solve is not spec.solve:
        raise ValueError(f"method {spec.name!r} registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def _load():
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for mod in SOLVER_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise


def get_method(name) -> MethodSpec:
    _load()
    if not isinstance(name, str):
        raise TypeError(f"`method` must be a string, got {type(name).__name__}")
    key = name.lower()
    if key not in _REGISTRY:
        import difflib

        close = difflib.get_close_matches(key, _REGISTRY, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"unknown method {name!r}.{hint} Valid methods: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[key]


def list_methods(family=None):
    """Names of all registered methods (optionally of one family)."""
    _load()
    return sorted(k for k, s in _REGISTRY.items() if family is None or s.family == family)


def methods_accepting_prox():
    """Names of the methods that use a regularizer ``g`` (``prox=`` / ``Problem.regularizer``)."""
    _load()
    return sorted(k for k, s in _REGISTRY.items() if s.accepts_prox)


def show_options(method=None, disp=True):
    """Describe the options of ``method`` (or list all methods). Returns the text."""
    _load()
    if method is None:
        lines = [f"{s.name:<16} {s.family:<14} {s.summary}" for s in
                 sorted(_REGISTRY.values(), key=lambda s: (s.family, s.name))]
    else:
        s = get_method(method)
        lines = [f"{s.name}: {s.summary}", "", f"Requires: {', '.join(s.requires) or 'nothing'}",
                 "Regularizer g (prox): " + ("used" if s.accepts_prox else
                                             "not accepted (a squared-l2 g is added to the smooth part)"),
                 f"Optimality measure (tol): {s.optimality}", f"Rate: {s.rate_text}",
                 f"Reference: {s.reference}", "", "Options:"]
        for k, (default, doc) in s.all_options().items():
            lines.append(f"  {k} (default {default!r}): {doc}")
    text = "\n".join(lines)
    if disp:
        print(text)
    return text


_EPS64 = 2.220446049250313e-16  # numpy.finfo(numpy.float64).eps


def default_tol(tol64, eps=None, *, float64_internal=False):
    """The default ``tol`` of a method for iterates of machine precision ``eps``.

    Registry defaults are stated for float64. For a less precise floating dtype the
    default asks for the same share of the available digits: writing
    ``tol64 = eps64 ** a``, the default is ``eps ** a`` (float32: 1e-8 -> 2.9e-4,
    1e-6 -> 2.2e-3), so a float32 run can meet it instead of running to ``maxiter``
    against its rounding floor. Unchanged for float64 (or more precise) iterates,
    for methods that iterate in float64 whatever the input (``float64_internal``),
    and for ``tol64`` outside (0, 1). A ``tol`` passed by the user is never changed.
    """
    import math

    if tol64 is None or eps is None or float64_internal:
        return tol64
    eps = float(eps)
    if not (0 < tol64 < 1) or not (_EPS64 < eps < 1):
        return tol64
    a = math.log(tol64) / math.log(_EPS64)
    return float(eps ** a)


def resolve_options(spec: MethodSpec, options: dict | None, tol=None, *, eps=None):
    """Merge user options with defaults; unknown names are a TypeError listing the valid ones.

    ``eps``: the machine precision of the iterates (``finfo(x0.dtype).eps``); when the
    user gives no ``tol``, the method's float64 default is adapted to it
    (:func:`default_tol`).
    """
    from .oracles import check_scalar

    allopts = spec.all_options()
    options = dict(options or {})
    unknown = sorted(set(options) - set(allopts))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(map(repr, unknown))} for method "
                        f"{spec.name!r}; valid options: {', '.join(sorted(allopts))}")
    out = {k: v[0] for k, v in allopts.items()}
    user_tol = tol is not None or options.get("tol") is not None
    out.update(options)
    check_scalar(out["maxiter"], "maxiter", lower=0, integer=True)
    check_scalar(out["max_time"], "max_time", lower=0, lower_inclusive=False)
    if tol is not None:
        check_scalar(tol, "tol", lower=0)
        out["tol"] = tol
    elif out.get("tol") is not None:
        check_scalar(out["tol"], "tol", lower=0)
    if not user_tol and out.get("tol") is not None:
        out["tol"] = default_tol(out["tol"], eps, float64_internal=spec.float64_internal)
    return out
