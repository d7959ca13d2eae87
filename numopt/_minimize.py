"""The scipy-style front door: :func:`minimize`."""
from __future__ import annotations

from ._backend import asarray_float, get_namespace
from ._loop import run_loop
from ._registry import get_method, resolve_options
from .oracles import (Counted, CountedRegularizer, CountedSet, FunctionOracle, OracleCounter,
                      Problem, as_regularizer, as_set)

__all__ = ["minimize", "build_problem", "prepare"]


def _is_oracle(obj):
    return callable(getattr(obj, "value", None)) and callable(getattr(obj, "grad", None))


def _default_method(prox, lmo, constraints):
    if constraints:
        return "eal"
    if lmo is not None:
        return "frank-wolfe"
    if prox is not None:
        return "fista"
    return "agd"


def build_problem(fun, x0=None, args=(), jac=None, hess=None, hessp=None, bounds=None,
                  constraints=None, prox=None, lmo=None):
    """Turn scipy-style arguments (or a :class:`Problem`, or a smooth oracle) into a Problem."""
    if isinstance(fun, Problem) or (hasattr(fun, "objective") and hasattr(fun, "x0")):
        p = fun
        problem = Problem(objective=p.objective, x0=p.x0 if x0 is None else x0,
                          regularizer=getattr(p, "regularizer", None) if prox is None else as_regularizer(prox),
                          constraints=getattr(p, "constraints", None),
                          feasible_set=getattr(p, "feasible_set", None) if lmo is None else as_set(lmo),
                          bounds=getattr(p, "bounds", None) if bounds is None else bounds,
                          f_star=getattr(p, "f_star", None), name=getattr(p, "name", ""))
    else:
        if _is_oracle(fun):
            obj = fun
        else:
            obj = FunctionOracle(fun, jac=jac, hess=hess, hessp=hessp, args=args)
        problem = Problem(objective=obj, x0=x0, regularizer=as_regularizer(prox),
                          feasible_set=as_set(lmo), bounds=bounds)
    if constraints is not None and not (isinstance(constraints, (list, tuple)) and len(constraints) == 0):
        from .constraints import as_equality_constraints

        problem.constraints = as_equality_constraints(constraints)
    if problem.x0 is None:
        raise ValueError("`x0` is required (the problem has no standard start point)")
    return problem


def _has_grad(obj):
    if hasattr(obj, "has"):
        try:
            return obj.has("grad") if isinstance(obj, FunctionOracle) else True
        except Exception:
            return True
    return True


def check_requirements(spec, problem):
    """Raise a ValueError naming every oracle ``spec`` needs that ``problem`` lacks."""
    missing = []
    obj = problem.objective
    for req in spec.requires:
        if req == "grad" and not _has_grad(obj):
            missing.append("a gradient (pass `jac` as a callable, `jac=True`, or `jac='2-point'` "
                           "for finite differences)")
        elif req in ("hvp", "hess") and not (hasattr(obj, "has") and obj.has(req)):
            missing.append("Hessian-vector products (pass `hessp` or `hess`)" if req == "hvp"
                           else "the Hessian (pass `hess`)")
        elif req == "prox" and problem.regularizer is None:
            missing.append("a proximal operator (pass `prox=`: a callable prox(x, step) or an "
                           "object with .prox(x, step) and .value(x))")
        elif req == "lmo" and (problem.feasible_set is None or not hasattr(problem.feasible_set, "lmo")):
            missing.append("a linear minimization oracle (pass `lmo=`)")
        elif req == "project" and (problem.feasible_set is None
                                   or not hasattr(problem.feasible_set, "project")):
            missing.append("a projection (pass a set with .project(x))")
        elif req == "constraints" and problem.constraints is None:
            missing.append("equality constraints (pass `constraints=`)")
    if missing:
        raise ValueError(f"method {spec.name!r} requires " + "; ".join(missing))
    if problem.constraints is not None and not spec.accepts_constraints:
        raise ValueError(f"method {spec.name!r} does not handle `constraints`; "
                         "use method='eal' for equality constraints")
    if problem.bounds is not None and not spec.accepts_bounds:
        raise ValueError(f"method {spec.name!r} does not handle `bounds`; pass them as "
                         "`prox=numopt.prox.Box(lower, upper)` with method='fista'")


def prepare(spec, problem, x0, options, tol):
    """Validate x0 and options, wrap oracles with counters. Returns (problem, x0, opts, counter)."""
    x0 = problem.x0 if x0 is None else x0
    x0 = asarray_float(x0, name="x0")
    xp = get_namespace(x0)
    allowed = getattr(spec, "x_ndim", (1,))
    if x0.ndim not in allowed:
        raise ValueError(f"`x0` must be {' or '.join(f'{d}-D' for d in allowed)} for method "
                         f"{spec.name!r}, got an array of shape {tuple(x0.shape)}")
    x0 = xp.asarray(x0, copy=True)
    opts = resolve_options(spec, options, tol)
    check_requirements(spec, problem)
    counter = OracleCounter()
    wrapped = Problem(
        objective=Counted(problem.objective, counter, shape=x0.shape),
        x0=x0,
        regularizer=None if problem.regularizer is None else CountedRegularizer(problem.regularizer, counter),
        constraints=problem.constraints,
        feasible_set=None if problem.feasible_set is None else CountedSet(problem.feasible_set, counter),
        bounds=problem.bounds, f_star=problem.f_star, name=problem.name,
    )
    return wrapped, x0, opts, counter


def minimize(fun, x0=None, args=(), method=None, jac=None, hess=None, hessp=None, bounds=None,
             constraints=None, tol=None, callback=None, options=None, *, prox=None, lmo=None):
    """Minimize ``fun(x) [+ g(x)]``, scipy.optimize.minimize style.

    Parameters
    ----------
    fun : callable, smooth oracle or Problem
        ``fun(x, *args) -> float`` (or ``(float, grad)`` with ``jac=True``); an object
        with ``value``/``grad``; or a :class:`numopt.Problem` from ``problems``.
    x0 : array
        Start point (numpy, cupy, or any array-API array; its namespace, device and
        dtype are kept). Optional when ``fun`` is a Problem with a start point.
    method : str
        One of :func:`numopt.list_methods`. Default: ``"fista"`` when ``prox`` is
        given, ``"frank-wolfe"`` with ``lmo``, ``"eal"`` with ``constraints``, else ``"agd"``.
    jac, hess, hessp, args : as in scipy. Finite differences only with ``jac='2-point'``.
    constraints : scipy constraint dicts / ``NonlinearConstraint`` (equality only).
    tol : float
        Tolerance on the method's optimality measure (see :func:`show_options`).
    callback : ``callback(intermediate_result)``; raise ``StopIteration`` to stop (status 99).
    options : dict
        Method options; unknown names raise ``TypeError``.
    prox : callable ``prox(x, step)`` or object with ``.prox(x, step)`` and ``.value(x)``.
    lmo : callable ``lmo(direction)`` or set object with ``.lmo``.

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x, fun, jac, nit, nfev, njev, nhev, nprox, nlmo, status, success, message,
        optimality, trace`` and method-specific extras.
    """
    if method is None:
        method = _default_method(prox, lmo, constraints)
    spec = get_method(method)
    problem = build_problem(fun, x0, args, jac, hess, hessp, bounds, constraints, prox, lmo)
    problem, x0, opts, counter = prepare(spec, problem, x0, options, tol)
    out = spec.solve(problem, x0, opts)
    if hasattr(out, "__next__") or hasattr(out, "send"):
        return run_loop(out, counter=counter, options=opts, callback=callback,
                        tol=opts.get("tol"), method=spec.name)
    return out  # methods with their own engine return an OptimizeResult directly
