"""The scipy-style front door: :func:`minimize`."""
from __future__ import annotations

from ._backend import asarray_float, get_namespace
from ._bounds import as_bounds, clip_to_bounds
from ._registry import check_backend, get_method, methods_accepting_prox, resolve_options, run_method
from .oracles import (Counted, CountedConstraints, CountedRegularizer, CountedSet, FunctionOracle, LinearComposite,
                      OracleCounter, Problem, SmoothSum, as_regularizer, as_set, smooth_regularizer_part)

__all__ = ["minimize", "build_problem", "prepare", "methods_accepting_bounds"]


def _is_oracle(obj):
    return callable(getattr(obj, "value", None)) and callable(getattr(obj, "grad", None))


def _registered(name):
    """Whether method ``name`` is registered (a family may not be loaded in this build)."""
    from ._registry import list_methods

    return name in list_methods(kind="minimize")


def _has_hessian(obj):
    try:
        return bool(obj.has("hess") or obj.has("hvp")) if hasattr(obj, "has") else \
            callable(getattr(obj, "hess", None)) or callable(getattr(obj, "hvp", None))
    except Exception:
        return False


def _default_method(problem):
    """``eal`` with constraints, ``frank-wolfe`` with a set that has an LMO, ``fista`` with a
    nonsmooth regularizer (from ``prox=`` or the Problem; with or without ``bounds``),
    ``l-bfgs-b`` for a smooth problem with ``bounds`` (``projected-newton`` for a plain
    callable given ``hess``/``hessp``), ``lbfgs`` for a smooth problem without a Hessian,
    ``newton-cg`` for a plain callable given ``hess``/``hessp``, else
    ``agd`` (an oracle object or Problem with its own Hessian; a smooth regularizer such
    as squared l2 joins the smooth part)."""
    if problem.constraints is not None:
        return "eal"
    if problem.feasible_set is not None and hasattr(problem.feasible_set, "lmo"):
        return "frank-wolfe"
    reg = problem.regularizer
    if reg is not None and smooth_regularizer_part(reg) is None:
        return "fista"
    hessian = _has_hessian(problem.objective)
    newton = hessian and isinstance(problem.objective, FunctionOracle)  # a callable given hess/hessp
    if problem.bounds is not None:
        return "projected-newton" if newton and _registered("projected-newton") else "l-bfgs-b"
    if not hessian and _registered("lbfgs"):
        return "lbfgs"
    if newton and _registered("newton-cg"):
        return "newton-cg"
    return "agd"


def _as_x0(x0):
    """``x0`` as a floating array of its namespace: lists, tuples and Python scalars are
    accepted (numpy), a 0-d array becomes 1-D (as scipy does)."""
    x0 = asarray_float(x0, name="x0")
    if x0.ndim == 0:
        x0 = get_namespace(x0).reshape(x0, (1,))
    return x0


def build_problem(fun, x0=None, args=(), jac=None, hess=None, hessp=None, bounds=None,
                  constraints=None, prox=None, lmo=None):
    """Turn scipy-style arguments (or a :class:`Problem`, or a smooth oracle) into a Problem."""
    if x0 is not None:
        x0 = _as_x0(x0)
    if isinstance(fun, Problem) or (hasattr(fun, "objective") and hasattr(fun, "x0")):
        p = fun
        px0 = getattr(p, "x0", None)
        if x0 is not None and px0 is not None and tuple(x0.shape) != tuple(px0.shape):
            name = getattr(p, "name", "") or type(p).__name__
            raise ValueError(f"`x0` has shape {tuple(x0.shape)}, but the problem {name!r} has variables "
                             f"of shape {tuple(px0.shape)}")
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
    if problem.bounds is not None:
        x0_ = problem.x0
        if x0_.ndim != 1 or int(x0_.shape[0]) == 0:
            raise ValueError(f"`x0` must be a non-empty 1-D array when `bounds` are given, got shape "
                             f"{tuple(x0_.shape)}")
        problem.bounds = as_bounds(problem.bounds, int(x0_.shape[0]))
    return problem


def _has_grad(obj):
    if hasattr(obj, "has"):
        try:
            return obj.has("grad") if isinstance(obj, (FunctionOracle, SmoothSum)) else True
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
            missing.append("Hessian-vector products (pass `hessp` or `hess`; `hess='2-point'` for finite "
                           "differences)" if req == "hvp"
                           else "the Hessian (pass `hess`: a callable, '2-point' / '3-point' / 'cs', or "
                           "scipy's BFGS() / SR1())")
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
    if problem.feasible_set is not None and not ({"lmo", "project"} & set(spec.requires)):
        raise ValueError(f"method {spec.name!r} does not use a constraint set, but the problem has one "
                         f"({type(problem.feasible_set).__name__}, `lmo=`): it would be silently dropped; "
                         "use a Frank-Wolfe method ('frank-wolfe', 'away-fw', 'pairwise-fw', "
                         "'blended-pairwise-fw') or pass its projection as `prox=` to 'ista'/'fista'")
    if problem.constraints is not None and not spec.accepts_constraints:
        raise ValueError(f"method {spec.name!r} does not handle `constraints`; "
                         "use method='eal' for equality and inequality constraints (with bounds)")
    if problem.bounds is not None and not spec.accepts_bounds:
        raise ValueError(f"method {spec.name!r} does not handle `bounds`; methods that accept them: "
                         f"{', '.join(map(repr, methods_accepting_bounds(spec.kind)))} "
                         "(method=None picks 'l-bfgs-b', or 'fista' with a regularizer)")


def methods_accepting_bounds(kind="minimize"):
    """Names of the registered methods of ``kind`` that take ``bounds=``."""
    from ._registry import list_methods

    return [m for m in list_methods(kind=kind) if get_method(m).accepts_bounds]


def apply_regularizer(spec, problem):
    """Never drop the regularizer ``g`` for a method that has no proximal step.

    A method that accepts it (``spec.accepts_prox``) gets the problem unchanged. For the
    others a smooth ``g`` (``numopt.prox.SquaredL2``, or any object with ``smooth = True``
    and ``grad``) is added to the smooth part (:class:`numopt.oracles.SmoothSum`), ``g = 0``
    is removed, and any other ``g`` is a ValueError naming the methods that accept it.
    """
    reg = problem.regularizer
    if reg is None or spec.accepts_prox:
        return problem
    part = smooth_regularizer_part(reg)
    if part is None:
        g = getattr(reg, "g", reg)
        what = ("a callable `prox`" if type(g).__name__ == "_CallableProx"
                else f"g = {type(g).__name__}")
        raise ValueError(
            f"method {spec.name!r} minimizes a smooth function only and would drop the regularizer "
            f"({what}, from `prox=` or the problem's regularizer). Methods that accept a regularizer: "
            f"{', '.join(map(repr, methods_accepting_prox()))} (method=None picks 'fista').")
    g, lam = part
    objective = problem.objective if g is None else SmoothSum(problem.objective, g, lam)
    return Problem(objective=objective, x0=problem.x0, regularizer=None,
                   constraints=problem.constraints, feasible_set=problem.feasible_set,
                   bounds=problem.bounds, f_star=problem.f_star, f_star_tol=problem.f_star_tol,
                   x_star=problem.x_star, name=problem.name, source=problem.source, meta=problem.meta)


def _check_dask(spec, problem):
    """A dask design reaches the data through oracle calls only; a method that reads rows or
    columns of X itself would pull them to the client: refuse it, naming those that work."""
    obj = problem.objective
    if type(obj).__name__ != "DaskLinearComposite":
        return
    from ._dask import DASK_METHODS

    if spec.name not in DASK_METHODS:
        raise ValueError(f"method {spec.name!r} reads rows or columns of the design itself and does not run on "
                         f"a dask.array design; methods for a dask LinearComposite: {', '.join(DASK_METHODS)}")


def _check_x0_size(problem, x0, spec):
    if any(int(d) == 0 for d in x0.shape):
        raise ValueError(f"`x0` is empty (shape {tuple(x0.shape)}); method {spec.name!r} needs at least "
                         "one variable")
    obj = problem.objective
    shape = getattr(obj.A, "shape", None) if isinstance(obj, LinearComposite) else None
    if shape is not None and len(shape) == 2 and x0.shape[0] != shape[1]:
        raise ValueError(f"`x0` has {x0.shape[0]} rows (shape {tuple(x0.shape)}), but the objective's "
                         f"matrix A has {shape[1]} columns (A is {shape[0]} x {shape[1]})")


def prepare(spec, problem, x0, options, tol):
    """Validate x0 and options, wrap oracles with counters. Returns (problem, x0, opts, counter).

    The default ``tol`` is adapted to the dtype of ``x0`` (see
    :func:`numopt._registry.default_tol`); a regularizer the method cannot use is added to
    the smooth part when smooth, else rejected (:func:`apply_regularizer`)."""
    x0 = problem.x0 if x0 is None else x0
    x0 = _as_x0(x0)
    xp = get_namespace(x0)
    allowed = getattr(spec, "x_ndim", (1,))
    if x0.ndim not in allowed:
        raise ValueError(f"`x0` must be {' or '.join(f'{d}-D' for d in allowed)} for method "
                         f"{spec.name!r}, got an array of shape {tuple(x0.shape)}")
    check_backend(spec, xp)
    x0 = xp.asarray(x0, copy=True)
    if problem.bounds is not None and spec.accepts_bounds:
        x0 = clip_to_bounds(x0, problem.bounds)  # as scipy does
    _check_x0_size(problem, x0, spec)
    opts = resolve_options(spec, options, tol, eps=float(xp.finfo(x0.dtype).eps))
    check_requirements(spec, problem)
    _check_dask(spec, problem)
    problem = apply_regularizer(spec, problem)
    counter = OracleCounter()
    wrapped = Problem(
        objective=Counted(problem.objective, counter, shape=x0.shape, max_time=opts["max_time"]),
        x0=x0,
        regularizer=None if problem.regularizer is None else CountedRegularizer(problem.regularizer, counter),
        constraints=None if problem.constraints is None else CountedConstraints(problem.constraints, counter),
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
    x0 : array, list or scalar
        Start point (numpy, cupy, or any array-API array; its namespace, device and
        dtype are kept; a list or Python scalar becomes a float64 numpy array, a
        scalar 1-D). Optional when ``fun`` is a Problem with a start point.
    method : str or callable
        One of :func:`numopt.list_methods` (``kind="minimize"``), or a callable
        ``method(fun, x0, args=, jac=, hess=, hessp=, bounds=, constraints=, callback=,
        **options)`` returning an OptimizeResult, as in scipy. Default: ``"eal"`` with ``constraints``,
        ``"frank-wolfe"`` with ``lmo`` (or a Problem's set), ``"fista"`` with a nonsmooth
        regularizer (``prox=`` or a Problem's ``regularizer``; also with ``bounds``),
        ``"l-bfgs-b"`` for a smooth problem with ``bounds`` (``"projected-newton"`` for a
        callable given ``hess`` or ``hessp``), ``"lbfgs"`` for a smooth problem without a
        Hessian (``hess``/``hessp`` not given), ``"newton-cg"`` for a callable given ``hess``
        or ``hessp``, else (an oracle object or Problem) ``"agd"``.
        A regularizer is never dropped: a method without a proximal step adds a smooth
        one (``numopt.prox.SquaredL2``) to the smooth part and refuses any other
        (ValueError listing the methods that accept it).
    jac, hess, hessp, args : as in scipy. ``jac=None`` with a method that needs a gradient
        (a plain callable ``fun``): 2-point finite differences, as scipy does, switched to
        central (3-point) differences once the method's line search stalls on their error
        (``"eal"``, whose merit function contains the gradient: central from the start); otherwise
        finite differences only when asked: ``jac='2-point' | '3-point' | 'cs'``;
        ``hess='2-point' | '3-point' | 'cs'`` (from the
        gradient, or from values without one), a ``scipy.optimize.HessianUpdateStrategy``
        (``BFGS()``, ``SR1()``), or a callable returning an array, a sparse matrix or a
        ``LinearOperator`` (used through products, never densified).
    bounds : ``scipy.optimize.Bounds``, a sequence of ``(lower, upper)`` pairs (``None`` for
        an infinite side) or :class:`numopt.sets.Box`
        ``lower <= x <= upper``; ``x0`` is clipped into them, as scipy does. Handled natively
        by ``"l-bfgs-b"`` and by projection in the first-order methods (``gd``, ``agd``,
        ``ista``, ``fista``: ``clip(prox_g)`` for an l1, squared l2 or elastic net ``g``); any
        other method raises a ValueError naming those that accept bounds.
    constraints : scipy constraint dicts (``{"type": "eq" | "ineq", "fun", "jac"}``),
        ``NonlinearConstraint`` / ``LinearConstraint`` (ranged ``lb <= c(x) <= ub``), or a list
        of them; run by ``"eal"`` (``result.multipliers``).
    tol : float
        Tolerance on the method's optimality measure (see :func:`show_options`). The
        default is the method's, stated for float64; for float32 ``x0`` it asks for the
        same share of the available digits (``numopt._registry.default_tol``).
    callback : ``callback(intermediate_result)``; raise ``StopIteration`` to stop (status 99).
    options : dict
        Method options; unknown names raise ``TypeError``.
    prox : callable ``prox(x, step)`` or object with ``.prox(x, step)`` and ``.value(x)``.
    lmo : callable ``lmo(direction)`` or set object with ``.lmo``.

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x, fun, jac, nit, nfev, njev, nhev, nprox, nlmo, nproj, status, success, message,
        optimality, trace`` (with ``constraints``: ``constr_nfev, constr_njev, constr_nhev``,
        the constraint oracle's calls) and method-specific extras.
    """
    if callable(method):  # scipy's custom-method protocol
        return method(fun, x0, args=args, jac=jac, hess=hess, hessp=hessp, bounds=bounds,
                      constraints=constraints, callback=callback, **dict(options or {}))
    problem = build_problem(fun, x0, args, jac, hess, hessp, bounds, constraints, prox, lmo)
    if method is None:
        method = _default_method(problem)
    spec = get_method(method, kind="minimize")
    if isinstance(problem.objective, FunctionOracle) and problem.objective is not fun:  # from a plain callable
        # without `jac`: finite differences, 2-point as scipy.optimize.minimize (central once the
        # forward ones stall a line search: refine_gradient), or the method's own; without
        # `hess`/`hessp`, the method's default Hessian (scipy's Newton-CG: differences of the gradient)
        fd_grad = jac is None and "grad" in spec.requires and not _has_grad(problem.objective)
        fd_hess = (hess is None and hessp is None and "hvp" in spec.requires and spec.default_hess is not None)
        if fd_grad or fd_hess:
            problem.objective = FunctionOracle(fun, jac=spec.default_fd if fd_grad else jac,
                                               hess=spec.default_hess if fd_hess else hess, hessp=hessp,
                                               args=args, refine=fd_grad)
    problem, x0, opts, counter = prepare(spec, problem, x0, options, tol)
    return run_method(spec, problem, x0, opts, callback=callback, counter=counter)
