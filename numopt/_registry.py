"""The method registry: one entry per method is the single source of truth for
dispatch (``minimize``), ``show_options``, ``list_methods``, the docs pages, backend
support, the theoretical rate and the cross-method contract tests.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["MethodSpec", "register", "get_method", "list_methods", "show_options",
           "COMMON_OPTIONS"]

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
    # example(xp) -> dict of minimize keyword arguments (fun, x0, jac, prox, lmo,
    # constraints, ...) plus optionally "f_star": a small instance the cross-method
    # contract tests run the method on, in namespace xp.
    example: Callable | None = None

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


def show_options(method=None, disp=True):
    """Describe the options of ``method`` (or list all methods). Returns the text."""
    _load()
    if method is None:
        lines = [f"{s.name:<16} {s.family:<14} {s.summary}" for s in
                 sorted(_REGISTRY.values(), key=lambda s: (s.family, s.name))]
    else:
        s = get_method(method)
        lines = [f"{s.name}: {s.summary}", "", f"Requires: {', '.join(s.requires) or 'nothing'}",
                 f"Optimality measure (tol): {s.optimality}", f"Rate: {s.rate_text}",
                 f"Reference: {s.reference}", "", "Options:"]
        for k, (default, doc) in s.all_options().items():
            lines.append(f"  {k} (default {default!r}): {doc}")
    text = "\n".join(lines)
    if disp:
        print(text)
    return text


def resolve_options(spec: MethodSpec, options: dict | None, tol=None):
    """Merge user options with defaults; unknown names are a TypeError listing the valid ones."""
    from .oracles import check_scalar

    allopts = spec.all_options()
    options = dict(options or {})
    unknown = sorted(set(options) - set(allopts))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(map(repr, unknown))} for method "
                        f"{spec.name!r}; valid options: {', '.join(sorted(allopts))}")
    out = {k: v[0] for k, v in allopts.items()}
    out.update(options)
    check_scalar(out["maxiter"], "maxiter", lower=0, integer=True)
    check_scalar(out["max_time"], "max_time", lower=0, lower_inclusive=False)
    if tol is not None:
        check_scalar(tol, "tol", lower=0)
        out["tol"] = tol
    elif out.get("tol") is not None:
        check_scalar(out["tol"], "tol", lower=0)
    return out
