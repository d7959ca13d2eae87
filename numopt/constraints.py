"""Conversion of scipy-style constraints into one constraint oracle.

:func:`as_constraints` (old name :func:`as_equality_constraints`, kept) accepts dicts
``{"type": "eq"|"ineq", "fun", "jac", "hess", "args"}`` (scipy's convention: an
``"ineq"`` constraint means ``fun(x) >= 0``), :class:`scipy.optimize.NonlinearConstraint`
(``lb <= fun(x) <= ub``; ``jac`` a callable or ``"2-point"``/``"3-point"``/``"cs"``/None
for finite differences), :class:`scipy.optimize.LinearConstraint` (``lb <= A x <= ub``;
a sparse ``A`` stays sparse), an oracle with ``value``/``jacobian``, or a list mixing
them. When every row is an equality (``lb == ub``) it returns a
:class:`StackedConstraints` ``c(x) = value - rhs = 0`` (as it always did); otherwise a
:class:`GeneralConstraints` ``lb <= c(x) <= ub`` whose rows are the constraints' rows in
the order given.
"""
from __future__ import annotations

import numpy as np


__all__ = ["as_constraints", "as_equality_constraints", "StackedConstraints", "GeneralConstraints"]


def _linear_hess(x, lam, *args):  # marker: a linear constraint has no curvature (never called)
    raise AssertionError("linear constraints have a zero Hessian")


class StackedConstraints:
    """All equality constraints stacked into one ``c(x)`` with Jacobian and Hessians.

    ``jacobian(x)`` is a dense array, or a ``scipy.sparse`` CSR array when any part's
    Jacobian is sparse (a sparse ``LinearConstraint.A`` stays sparse: it is never
    densified here). ``hess(x, lam)`` is the Hessian of ``lam^T c(x)``: dense when a
    nonlinear part contributes, a sparse zero matrix when every part is linear; it
    raises when a nonlinear part has no second derivatives (``has("hess")`` tells).
    """

    def __init__(self, parts):
        self.parts = parts  # list of (fun, jac, hess, args, offset)
        self._rows = None  # rows of each part, known after the first value(x)

    def _apply(self, x, what):
        outs = []
        for fun, jac, hess, args, rhs in self.parts:
            if what == "value":
                outs.append(np.atleast_1d(np.asarray(fun(x, *args), dtype=float)).ravel() - rhs)
            else:
                if jac is None:
                    raise ValueError("constraint Jacobian required: give 'jac' in each constraint")
                J = jac(x, *args)
                outs.append(J if _issparse(J) else np.atleast_2d(np.asarray(J, dtype=float)))
        if what == "value":
            self._rows = [o.size for o in outs]
            return np.concatenate(outs)
        if any(_issparse(J) for J in outs):
            import scipy.sparse as sp

            return sp.vstack([sp.csr_array(J, dtype=float) for J in outs], format="csr")
        return np.vstack(outs)

    def value(self, x):
        return self._apply(x, "value")

    def jacobian(self, x):
        return self._apply(x, "jacobian")

    @property
    def fd_nfev(self):
        """Calls of the constraint functions made by finite-difference Jacobians so far."""
        return sum(getattr(p[1], "nfev", 0) for p in self.parts if getattr(p[1], "finite_difference", None))

    def has(self, name):
        if name == "jacobian":
            return all(p[1] is not None for p in self.parts)
        if name == "hess":
            return all(p[2] is not None for p in self.parts)
        return False

    def hess(self, x, lam):
        H, i = None, 0
        for k, (fun, jac, hess, args, rhs) in enumerate(self.parts):
            if hess is _linear_hess:
                i += np.size(rhs)  # one bound per row of A
                continue
            # the part's rows: known from an earlier value(x), else one evaluation
            mi = self._rows[k] if self._rows is not None else np.atleast_1d(np.asarray(fun(x, *args))).shape[0]
            if hess is None:
                raise ValueError("constraint Hessian not available")
            Hi = np.asarray(hess(x, lam[i:i + mi], *args), dtype=float)
            H = Hi if H is None else H + Hi
            i += mi
        if H is None:  # only linear constraints: a zero Hessian that costs no n x n memory
            import scipy.sparse as sp

            return sp.csr_array((x.size, x.size), dtype=float)
        return H


def _issparse(A):
    import scipy.sparse as sp

    return sp.issparse(A)


_FD_METHODS = ("2-point", "3-point", "cs")


def fd_jacobian(fun, method="3-point", label="constraint"):
    """A Jacobian ``jac(x, *args)`` of ``fun`` by finite differences: ``"2-point"``
    (forward, step sqrt(eps) max(1, |x_i|)), ``"3-point"`` (central, step eps^(1/3)
    max(1, |x_i|); the default for a missing Jacobian) or ``"cs"`` (complex step, needs a
    ``fun`` that accepts complex input). One evaluation of ``fun`` per column (two for
    ``"3-point"``)."""
    if method not in _FD_METHODS:
        raise ValueError(f"{label}: `jac` must be callable, '2-point', '3-point', 'cs' or None, got {method!r}")

    def jac(x, *args):
        x = np.asarray(x, dtype=float)
        n = x.size
        jac.nfev += (1 if method == "2-point" else 0) + (2 if method == "3-point" else 1) * n
        f0 = np.atleast_1d(np.asarray(fun(x, *args), dtype=float)).ravel() if method == "2-point" else None
        cols = []
        for i in range(n):
            if method == "cs":
                xc = x.astype(complex)
                xc[i] += 1e-20j
                cols.append(np.atleast_1d(np.asarray(fun(xc, *args))).ravel().imag / 1e-20)
                continue
            h = (1.5e-8 if method == "2-point" else 6.1e-6) * max(1.0, abs(x[i]))
            xp, xm = x.copy(), x.copy()
            xp[i] += h
            fp = np.atleast_1d(np.asarray(fun(xp, *args), dtype=float)).ravel()
            if method == "2-point":
                cols.append((fp - f0) / (xp[i] - x[i]))
            else:
                xm[i] -= h
                fm = np.atleast_1d(np.asarray(fun(xm, *args), dtype=float)).ravel()
                cols.append((fp - fm) / (xp[i] - xm[i]))
        return np.stack(cols, axis=1) if cols else np.zeros((0, 0))

    jac.finite_difference = method
    jac.nfev = 0  # calls of fun made so far
    return jac


def _jac_of(fun, jac, label):
    """The callable Jacobian of a part: the user's, or finite differences."""
    if callable(jac):
        return jac
    return fd_jacobian(fun, "3-point" if jac is None or jac is False else jac, label)


def _as_bound(v, label, which):
    arr = np.atleast_1d(np.asarray(v, dtype=float)).ravel()
    if np.isnan(arr).any():
        raise ValueError(f"{label}: `{which}` contains NaN")
    return arr


def _linear_part(c, label):
    if _issparse(c.A):
        import scipy.sparse as sp

        A = sp.csr_array(c.A, dtype=float)
        if not np.all(np.isfinite(A.data)):
            raise ValueError(f"{label}: LinearConstraint `A` contains NaN or inf")
    else:
        A = np.atleast_2d(np.asarray(c.A, dtype=float))
        if not np.all(np.isfinite(A)):
            raise ValueError(f"{label}: LinearConstraint `A` contains NaN or inf")
    rows = A.shape[0]
    lb, ub = _as_bound(c.lb, label, "lb"), _as_bound(c.ub, label, "ub")
    for v, nm in ((lb, "lb"), (ub, "ub")):
        if v.size not in (1, rows):
            raise ValueError(f"{label}: LinearConstraint bounds have {v.size} entries for {rows} rows of `A` "
                             f"(`{nm}`)")
    lb, ub = np.broadcast_to(lb, (rows,)).copy(), np.broadcast_to(ub, (rows,)).copy()
    return dict(fun=lambda x, A=A: A @ x, jac=lambda x, A=A: A, hess=_linear_hess, args=(), lb=lb, ub=ub,
                rows=rows, label=label)


def _part(c, label):
    """One constraint as a dict: fun, jac, hess, args, lb, ub (arrays or scalars), rows
    (None until evaluated for a nonlinear part), label."""
    from scipy.optimize import LinearConstraint, NonlinearConstraint

    if isinstance(c, dict):
        typ = c.get("type")
        if typ not in ("eq", "ineq"):
            raise ValueError(f"{label}: constraint dict 'type' must be 'eq' or 'ineq', got {typ!r}")
        if not callable(c.get("fun")):
            raise TypeError(f"{label}: constraint dict needs a callable 'fun'")
        lb, ub = (np.zeros(1), np.zeros(1)) if typ == "eq" else (np.zeros(1), np.full(1, np.inf))
        return dict(fun=c["fun"], jac=_jac_of(c["fun"], c.get("jac"), label), hess=c.get("hess"),
                    args=tuple(c.get("args", ())), lb=lb, ub=ub, rows=None, label=label, scalar_rhs=True)
    if isinstance(c, NonlinearConstraint):
        hess = c.hess if callable(c.hess) and not hasattr(c.hess, "initialize") else None
        return dict(fun=c.fun, jac=_jac_of(c.fun, c.jac, label), hess=hess, args=(),
                    lb=_as_bound(c.lb, label, "lb"), ub=_as_bound(c.ub, label, "ub"), rows=None, label=label)
    if isinstance(c, LinearConstraint):
        return _linear_part(c, label)
    raise TypeError(f"unsupported constraint {type(c).__name__} ({label}); use dicts with type 'eq'/'ineq', "
                    "NonlinearConstraint or LinearConstraint")


def _check_part_bounds(p):
    lb, ub = p["lb"], p["ub"]
    try:
        lo, hi = np.broadcast_arrays(lb, ub)
    except ValueError:
        raise ValueError(f"{p['label']}: `lb` has {lb.size} entries and `ub` {ub.size}: they must have one "
                         "entry per row (or one for all rows)") from None
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{p['label']}: lb > ub in row {i} ({lo[i]} > {hi[i]}); no point satisfies it")
    inf_eq = np.flatnonzero((lo == hi) & ~np.isfinite(lo))
    if inf_eq.size:
        i = int(inf_eq[0])
        raise ValueError(f"{p['label']}: lb == ub = {lo[i]} in row {i}; equality bounds must be finite")


class GeneralConstraints:
    """Constraints ``lb <= c(x) <= ub`` (rows of the parts stacked in the order given;
    ``lb == ub`` rows are equalities, infinite sides are absent).

    ``value(x)`` is ``c(x)``, ``jacobian(x)`` its Jacobian (dense, or CSR when a part is a
    sparse ``LinearConstraint``), ``hess(x, y)`` the Hessian of ``y^T c(x)`` (``has("hess")``
    says whether every nonlinear part gives one). :meth:`row_bounds` returns the ``lb`` and
    ``ub`` arrays, one entry per row (a scalar bound of a vector constraint is broadcast to
    its rows, which needs one evaluation of ``c`` to count them).
    """

    def __init__(self, parts):
        self.parts = parts
        self.stacked = StackedConstraints([(p["fun"], p["jac"], p["hess"], p["args"],
                                            np.zeros(p["rows"]) if p["hess"] is _linear_hess else 0.0)
                                           for p in parts])
        self.lb = self.ub = None
        self.m = None
        self._row_calls = 0

    def value(self, x):
        return self.stacked.value(x)

    def jacobian(self, x):
        return self.stacked.jacobian(x)

    def hess(self, x, y):
        return self.stacked.hess(x, y)

    @property
    def fd_nfev(self):
        """Calls of the constraint functions made by finite-difference Jacobians and by
        :meth:`row_bounds` so far."""
        return self.stacked.fd_nfev + self._row_calls

    def has(self, name):
        return self.stacked.has(name)

    def row_bounds(self, x):
        """(lb, ub): float64 arrays, one entry per row of ``c(x)``; ValueError naming the
        constraint when a part's bounds do not match its number of rows."""
        lbs, ubs = [], []
        for p in self.parts:
            rows = p["rows"]
            if rows is None:
                self._row_calls += 1
                rows = np.atleast_1d(np.asarray(p["fun"](np.asarray(x, dtype=float), *p["args"]))).size
            for v, nm in ((p["lb"], "lb"), (p["ub"], "ub")):
                if v.size not in (1, rows):
                    raise ValueError(f"{p['label']}: `{nm}` has {v.size} entries but the constraint function "
                                     f"returns {rows} values")
            lbs.append(np.broadcast_to(p["lb"], (rows,)))
            ubs.append(np.broadcast_to(p["ub"], (rows,)))
        self.lb = np.concatenate(lbs).astype(float)
        self.ub = np.concatenate(ubs).astype(float)
        self.m = self.lb.size
        return self.lb, self.ub


def as_constraints(constraints):
    """The constraint oracle of scipy-style ``constraints`` (see the module docstring).

    Equality-only input (dict ``type="eq"``, ``NonlinearConstraint``/``LinearConstraint``
    with ``lb == ub``) gives a :class:`StackedConstraints` ``c(x) = 0``; anything with an
    inequality a :class:`GeneralConstraints`. ``lb > ub`` in any row is a ValueError
    naming the constraint (``constraints[i]``). A missing constraint Jacobian (dict
    without ``"jac"``, ``NonlinearConstraint(jac="2-point"|"3-point"|"cs")``) is computed by
    finite differences (central by default). A sparse ``LinearConstraint.A`` is kept
    sparse (CSR): ``A @ x`` and a sparse Jacobian."""
    from scipy.optimize import LinearConstraint, NonlinearConstraint

    if hasattr(constraints, "value") and hasattr(constraints, "jacobian"):
        return constraints
    single = isinstance(constraints, (dict, NonlinearConstraint, LinearConstraint))
    if single:
        constraints = [constraints]
    parts = []
    for i, c in enumerate(constraints):
        p = _part(c, "constraints" if single else f"constraints[{i}]")
        _check_part_bounds(p)
        parts.append(p)
    if all(np.array_equal(*np.broadcast_arrays(p["lb"], p["ub"])) for p in parts):
        return StackedConstraints([(p["fun"], p["jac"], p["hess"], p["args"],
                                    0.0 if p.get("scalar_rhs") else p["lb"]) for p in parts])
    return GeneralConstraints(parts)


def as_equality_constraints(constraints):
    """Old name of :func:`as_constraints` (called by ``numopt.minimize``'s build_problem):
    equality-only input gives the :class:`StackedConstraints` it always gave; input with
    inequalities a :class:`GeneralConstraints`."""
    return as_constraints(constraints)
