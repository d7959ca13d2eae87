"""The method registry: one entry per method is the single source of truth for
dispatch (``minimize``), ``show_options``, ``list_methods``, the docs pages, backend
support, the theoretical rate and the cross-method contract tests.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

from ._options import Flag, Interval, Option, Verbosity, as_option

__all__ = ["MethodSpec", "register", "get_method", "list_methods", "show_options",
           "COMMON_OPTIONS", "methods_accepting_prox", "default_tol", "merge_options", "KINDS", "list_kinds"]

# Options every method accepts (handled by the shared loop).
COMMON_OPTIONS = {
    "maxiter": Option(1000, "Maximum number of iterations (>= 0).", Interval(0, integer=True)),
    "max_time": Option(float("inf"), "Wall-clock limit in seconds.", Interval(0, open=("lo",))),
    "trace": Option(True, "Record the per-iteration trace (objective, optimality, time, oracle counts).",
                    Flag()),
    "disp": Option(False, "Progress: True shows a tqdm bar on stderr (objective, optimality measure, bounded by "
                    "maxiter); an integer k prints a line every k iterations; False (default) nothing.", Verbosity()),
}

# Problem kinds: each has one front door driven by the registry. A method declares
# its kind; the front door of that kind dispatches it, checks its options and runs
# it through the shared loop.
KINDS = {
    "minimize": ("numopt.minimize", "Smooth, composite (f + g), set-constrained and equality-"
                 "constrained minimization."),
    "ot": ("numopt.sinkhorn", "Entropic optimal transport between two marginals."),
    "bilevel": ("numopt.bilevel", "Bilevel optimization: min_x F(x, y*(x)), y*(x) = argmin_y G(x, y)."),
    "linear_system": ("numopt.solve_linear", "Linear systems Ax = b (sketching, Kaczmarz, SOR)."),
    "composite_model": ("numopt.model_based", "Stochastic model-based minimization of (1/m) sum_i |c_i(x)| "
                        "+ r(x) from per-sample residuals (prox-linear, prox-point, subgradient)."),
    "dc": ("numopt.dca", "DC programs min g(x) - h(x) from the oracles argmin_x g - <y, x> and dh."),
    "fractional": ("numopt.fractional_cd", "Fractional programs (quadratic + lam ||x||_1) / quadratic, "
                   "optionally on a box."),
    "nmf": ("numopt.nmf_bcd_pr", "Nonnegative matrix factorization min_{W, H >= 0} 1/2 ||X - W H||_F^2."),
}

# Solver modules imported when the registry is first consulted. A module that does
# not exist yet is skipped, so families can be added independently.
SOLVER_MODULES = [
    "numopt.solvers.first_order",
    "numopt.solvers.quasi_newton",
    "numopt.solvers.lbfgsb",
    "numopt.solvers.bcd",
    "numopt.solvers.cyclic_cd",
    "numopt.solvers.frank_wolfe",
    "numopt.solvers.cbo",
    "numopt.solvers.stochastic",
    "numopt.solvers.eal",
    "numopt.solvers.polynomial",
    "numopt.solvers.second_order",
    "numopt.solvers.projected_newton",
    "numopt.solvers.sketch",
    "numopt.solvers.sor",
    "numopt.solvers.model_based",
    "numopt.solvers.dca",
    "numopt.solvers.fractional_cd",
    "numopt.solvers.nmf",
    "numopt.solvers.sinkhorn",
    "numopt.solvers.mirror_sinkhorn",
    "numopt.solvers.bilevel",
    "numopt.solvers.linear",  # the linear_system front door (its methods register in sketch / sor)
    "numopt.solvers.distributed",  # local-svrg over a dask LinearComposite
]

# Submodules reachable as numopt.<name>; the family functions (numopt.bcd, numopt.sinkhorn,
# ...) are found from each solver module's ``__numopt_public__`` tuple (public_names()).
PUBLIC_SUBMODULES = {"lmo": "numopt.lmo", "sketch": "numopt.sketch", "sor": "numopt.sor",
                     "backend": "numopt._backend", "ot": "numopt.solvers.sinkhorn", "sweep": "numopt.sweep"}
_PUBLIC = None


def _declared_public(module):
    """The ``__numopt_public__`` tuple of ``module``, read from its source without
    importing it (``import numopt`` stays light). A module listed in SOLVER_MODULES that
    does not exist is an error."""
    import ast
    import pathlib

    root = pathlib.Path(__file__).resolve().parent
    rel = pathlib.Path(*module.split(".")[1:])
    path = root / rel / "__init__.py" if (root / rel).is_dir() else (root / rel).with_suffix(".py")
    if not path.exists():
        raise ImportError(f"SOLVER_MODULES lists {module!r}, but {path} does not exist")
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__numopt_public__"
                                                for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    return ()


def public_names():
    """``{name: module}`` for everything ``numopt.<name>`` exposes lazily: the submodules of
    PUBLIC_SUBMODULES and the ``__numopt_public__`` names of every solver module. Built
    once from SOLVER_MODULES; a name declared by two modules is an error."""
    global _PUBLIC
    if _PUBLIC is None:
        table = dict(PUBLIC_SUBMODULES)
        for mod in SOLVER_MODULES:
            for name in _declared_public(mod):
                if name in table and table[name] != mod:
                    raise RuntimeError(f"numopt.{name} is declared public by both {table[name]} and {mod}")
                table[name] = mod
        _PUBLIC = table
    return _PUBLIC

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
    # the problem kind (a key of KINDS): which front door runs the method
    kind: str = "minimize"
    # other names the method is reachable by (old spellings, scipy's names)
    aliases: tuple = ()
    # the finite-difference gradient numopt.minimize builds when `jac` is not given:
    # "2-point" (forward, as scipy; switched to central differences once the method's line
    # search stalls on it, see FunctionOracle.refine_gradient) or "3-point" (central, for a
    # method whose merit function contains the gradient itself)
    default_fd: str = "2-point"
    # the Hessian numopt.minimize builds for a method that requires "hvp" when neither `hess`
    # nor `hessp` is given (a plain callable): None (the call is refused, naming the
    # argument) or a finite-difference scheme ("2-point": differences of the gradient)
    default_hess: str | None = None
    # the function that runs the method when it is not its kind's front door (a
    # method whose problem the kind's door cannot build, e.g. "numopt.mirror_sinkhorn")
    front_door: str | None = None
    # finalize(result, problem, options) -> result: method-specific extras added
    # once after the loop (plans, costs, multipliers)
    finalize: Callable | None = None
    # example(xp) -> dict of minimize keyword arguments (fun, x0, jac, prox, lmo,
    # constraints, ...) plus optionally "f_star": a small instance the cross-method
    # contract tests run the method on, in namespace xp.
    example: Callable | None = None

    def __post_init__(self):
        if self.accepts_prox is None:
            self.accepts_prox = "prox" in self.requires
        if self.kind not in KINDS:
            raise ValueError(f"method {self.name!r}: unknown kind {self.kind!r}; "
                             f"valid kinds: {', '.join(KINDS)}")
        self.options = {k: as_option(v) for k, v in self.options.items()}
        if self.front_door is None:
            self.front_door = KINDS[self.kind][0]

    def all_options(self):
        out = dict(COMMON_OPTIONS)
        out.update(self.options)
        return out


def _key(name):
    """Registry key of a method name: case-insensitive, '_' and '-' equivalent."""
    return name.lower().replace("_", "-")


_ALIASES: dict[str, str] = {}

_CONSTRAINED = ("use method='eal' (exact augmented Lagrangian), which takes the same `constraints` "
                "(dicts, LinearConstraint, NonlinearConstraint) and `bounds`, with finite-difference "
                "Jacobians where none is given")
_DERIVATIVE_FREE = ("without a gradient, the default method ('lbfgs') runs on 2-point finite differences, "
                    "as scipy's BFGS does; 'cbo' is numopt's derivative-free (global, particle) method")
_TRUST = "use 'trust-ncg' (trust-region Newton-CG, Steihaug-Toint) or 'newton-cg' (line search)"
#: scipy.optimize.minimize method names numopt does not implement -> what to use instead
#: (the ValueError of :func:`get_method` says it; scipy's other names are registered aliases)
SCIPY_ONLY = {"slsqp": _CONSTRAINED, "trust-constr": _CONSTRAINED,
              "cobyla": "derivative-free constrained methods are not in numopt; " + _CONSTRAINED,
              "cobyqa": "derivative-free constrained methods are not in numopt; " + _CONSTRAINED,
              "nelder-mead": _DERIVATIVE_FREE, "powell": _DERIVATIVE_FREE,
              "tnc": "for bounds use 'l-bfgs-b' (or 'projected-newton' with Hessian-vector products)",
              "dogleg": _TRUST, "trust-exact": _TRUST, "trust-krylov": _TRUST}


def register(spec: MethodSpec):
    key = _key(spec.name)
    if key in _REGISTRY and _REGISTRY[key].solve is not spec.solve:
        raise ValueError(f"method {spec.name!r} registered twice")
    _REGISTRY[key] = spec
    for a in spec.aliases:
        _ALIASES[_key(a)] = key
    return spec


def _load():
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for mod in SOLVER_MODULES:
        importlib.import_module(mod)  # a missing module is a bug, not something to skip


def get_method(name, kind=None) -> MethodSpec:
    """The spec of method ``name`` (case-insensitive; '_' and '-' alike; aliases
    accepted). With ``kind``, a method of another kind is a ValueError naming the
    front door that runs it."""
    _load()
    if not isinstance(name, str):
        raise TypeError(f"`method` must be a string or a callable, got {type(name).__name__}")
    key = _key(name)
    key = _ALIASES.get(key, key)
    pool = {k: s for k, s in _REGISTRY.items() if kind is None or s.kind == kind}
    if key not in pool:
        import difflib

        if key in _REGISTRY:
            door = _REGISTRY[key].front_door
            raise ValueError(f"method {name!r} is a {_REGISTRY[key].kind!r} method: run it with {door}(...)")
        close = difflib.get_close_matches(key, list(pool) + [a for a, k in _ALIASES.items() if k in pool], n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        if kind in (None, "minimize") and key in SCIPY_ONLY:
            hint = f" scipy's {name!r} is not implemented in numopt; {SCIPY_ONLY[key]}."
        raise ValueError(f"unknown method {name!r}.{hint} Valid methods: {', '.join(sorted(pool))}")
    return pool[key]


def list_methods(family=None, kind=None):
    """Names of all registered methods (optionally of one family and/or one kind)."""
    _load()
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    return sorted(s.name for s in _REGISTRY.values()
                  if (family is None or s.family == family) and (kind is None or s.kind == kind))


def list_kinds():
    """The problem kinds, each with its front door and a one-line description."""
    return {k: {"front_door": door, "description": doc} for k, (door, doc) in KINDS.items()}


def methods_accepting_prox():
    """Names of the methods that use a regularizer ``g`` (``prox=`` / ``Problem.regularizer``)."""
    _load()
    return sorted(k for k, s in _REGISTRY.items() if s.accepts_prox)


def show_options(method=None, disp=True):
    """Describe the options of ``method`` (or list all methods). Returns the text."""
    _load()
    if method is None:
        lines = [f"{s.name:<24} {s.kind:<14} {s.family:<14} {s.summary}" for s in
                 sorted(_REGISTRY.values(), key=lambda s: (s.kind, s.family, s.name))]
    else:
        s = get_method(method)
        lines = [f"{s.name}: {s.summary}", "", f"Kind: {s.kind} (front door: {s.front_door})",
                 f"Requires: {', '.join(s.requires) or 'nothing'}",
                 *(["Regularizer g (prox): " + ("used" if s.accepts_prox else
                                               "not accepted (a squared-l2 g is added to the smooth part)")]
                   if s.kind == "minimize" else []),
                 f"Optimality measure (tol): {s.optimality}", f"Rate: {s.rate_text}",
                 f"Reference: {s.reference}", "", "Options:"]
        for k, opt in s.all_options().items():
            allowed = f" [{opt.describe()}]" if opt.describe() else ""
            alias = f" (alias: {', '.join(opt.aliases)})" if opt.aliases else ""
            lines.append(f"  {k} (default {opt.default!r}){allowed}{alias}: {opt.doc}")
    text = "\n".join(lines)
    if disp:
        print(text)
    return text


def check_backend(spec, xp, what="x0"):
    """TypeError when the namespace ``xp`` of the inputs is not one ``spec`` declares."""
    from ._backend import backend_name

    name = backend_name(xp)
    if name not in spec.backends:
        raise TypeError(f"method {spec.name!r} runs on {', '.join(spec.backends)} arrays; `{what}` is "
                        f"a {name} array (convert it, e.g. with numpy.asarray, or pick another method)")
    return name


def run_method(spec, problem, x0, opts, *, callback=None, counter=None):
    """Run ``spec.solve(problem, x0, opts)`` through the shared loop (every front door
    ends here). A solver that returns an OptimizeResult itself is passed through."""
    from ._loop import run_loop

    out = spec.solve(problem, x0, opts)
    if not (hasattr(out, "__next__") or hasattr(out, "send")):
        return out
    fin = None if spec.finalize is None else (lambda res: spec.finalize(res, problem, opts))
    return run_loop(out, counter=counter, options=opts, callback=callback, tol=opts.get("tol"),
                    method=spec.name, finalize=fin)


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


def merge_options(options, keywords=None, **explicit):
    """One options dict from a front door's ``options=`` dict (scipy style), its keyword
    options and the explicit arguments it was given (those not None); a name given twice is
    a TypeError naming it. :func:`resolve_options` then checks the result."""
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"`options` must be a dict or None, got {type(options).__name__}")
    out = dict(options or {})
    given = [*(keywords or {}).items(), *((k, v) for k, v in explicit.items() if v is not None)]
    for k, v in given:
        if k in out:
            raise TypeError(f"option `{k}` given both in `options` and as keywords/arguments (an option given twice)")
        out[k] = v
    return out


def resolve_options(spec: MethodSpec, options: dict | None, tol=None, *, eps=None):
    """Merge user options with defaults, check them once, return the dict the solver reads.

    Unknown names are a TypeError listing the valid ones (with a did-you-mean hint);
    old spellings (``Option.aliases``) map to the current name; every value the user
    passes goes through its option's check. ``eps``: the machine precision of the
    iterates (``finfo(x0.dtype).eps``); when the user gives no ``tol``, the method's
    float64 default is adapted to it (:func:`default_tol`).
    """
    allopts = spec.all_options()
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise TypeError(f"`options` must be a dict or None, got {type(options).__name__}")
    alias_of = {a: k for k, o in allopts.items() for a in o.aliases}
    given = {}
    for k, v in options.items():
        name = alias_of.get(k, k)
        if name in given:
            raise TypeError(f"option {name!r} given twice (as {name!r} and its alias {k!r})")
        given[name] = v
    unknown = sorted(set(given) - set(allopts))
    if unknown:
        import difflib

        hints = []
        for u in unknown:
            close = difflib.get_close_matches(str(u), list(allopts) + list(alias_of), n=1)
            if close:
                hints.append(f"{u!r} -> did you mean {close[0]!r}?")
        hint = f" ({'; '.join(hints)})" if hints else ""
        raise TypeError(f"unknown option(s) {', '.join(map(repr, unknown))} for method "
                        f"{spec.name!r}{hint}; valid options: {', '.join(sorted(allopts))}")
    out = {k: o.default for k, o in allopts.items()}
    typed = {alias_of.get(k, k): k for k in options}
    for k, v in given.items():
        try:
            out[k] = allopts[k].validate(k, v)
        except (TypeError, ValueError) as e:
            if typed[k] == k:
                raise
            # name the spelling the user typed as well as the current one
            raise type(e)(f"{e} (given as `{typed[k]}`, the old name of `{k}`)") from None
    if tol is not None:
        given["tol"] = out["tol"] = Interval(0)("tol", tol)
    elif out.get("tol") is not None and "tol" in given:
        out["tol"] = Interval(0)("tol", out["tol"])
    if "tol" not in given and out.get("tol") is not None:
        out["tol"] = default_tol(out["tol"], eps, float64_internal=spec.float64_internal)
    return out
