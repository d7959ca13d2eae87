"""Conversion of scipy-style equality constraints into one ``c(x) = 0`` oracle."""
from __future__ import annotations

import numpy as np


__all__ = ["as_equality_constraints", "StackedConstraints"]


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
            return np.concatenate(outs)
        if any(_issparse(J) for J in outs):
            import scipy.sparse as sp

            return sp.vstack([sp.csr_array(J, dtype=float) for J in outs], format="csr")
        return np.vstack(outs)

    def value(self, x):
        return self._apply(x, "value")

    def jacobian(self, x):
        return self._apply(x, "jacobian")

    def has(self, name):
        if name == "jacobian":
            return all(p[1] is not None for p in self.parts)
        if name == "hess":
            return all(p[2] is not None for p in self.parts)
        return False

    def hess(self, x, lam):
        H, i = None, 0
        for fun, jac, hess, args, rhs in self.parts:
            if hess is _linear_hess:
                i += np.size(rhs)  # one bound per row of A
                continue
            mi = np.atleast_1d(np.asarray(fun(x, *args))).shape[0]
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


def as_equality_constraints(constraints):
    """Accept a dict, a list of dicts, ``NonlinearConstraint``/``LinearConstraint`` with
    equal bounds, or an oracle with ``value``/``jacobian``. A sparse
    ``LinearConstraint.A`` is kept sparse (CSR): ``A @ x`` and a sparse Jacobian."""
    from scipy.optimize import LinearConstraint, NonlinearConstraint

    if hasattr(constraints, "value") and hasattr(constraints, "jacobian"):
        return constraints
    if isinstance(constraints, (dict, NonlinearConstraint, LinearConstraint)):
        constraints = [constraints]
    parts = []
    for c in constraints:
        if isinstance(c, dict):
            typ = c.get("type")
            if typ != "eq":
                raise ValueError(f"only equality constraints are supported, got type {typ!r}")
            if not callable(c.get("fun")):
                raise TypeError("constraint dict needs a callable 'fun'")
            parts.append((c["fun"], c.get("jac"), c.get("hess"), tuple(c.get("args", ())), 0.0))
        elif isinstance(c, NonlinearConstraint):
            lb, ub = np.atleast_1d(c.lb).astype(float), np.atleast_1d(c.ub).astype(float)
            if not np.array_equal(lb, ub):
                raise ValueError("NonlinearConstraint must have lb == ub (equality constraints only)")
            if not np.all(np.isfinite(lb)):
                raise ValueError("NonlinearConstraint bounds lb == ub must be finite")
            jac = c.jac if callable(c.jac) else None
            hess = c.hess if callable(c.hess) else None
            parts.append((c.fun, jac, hess, (), lb))
        elif isinstance(c, LinearConstraint):
            lb, ub = np.atleast_1d(c.lb).astype(float), np.atleast_1d(c.ub).astype(float)
            if not np.array_equal(lb, ub):
                raise ValueError("LinearConstraint must have lb == ub (equality constraints only)")
            if not np.all(np.isfinite(lb)):
                raise ValueError("LinearConstraint bounds lb == ub must be finite")
            if _issparse(c.A):
                import scipy.sparse as sp

                A = sp.csr_array(c.A, dtype=float)
                if not np.all(np.isfinite(A.data)):
                    raise ValueError("LinearConstraint `A` contains NaN or inf")
            else:
                A = np.atleast_2d(np.asarray(c.A, dtype=float))
                if not np.all(np.isfinite(A)):
                    raise ValueError("LinearConstraint `A` contains NaN or inf")
            if lb.size not in (1, A.shape[0]):
                raise ValueError(f"LinearConstraint bounds have {lb.size} entries for {A.shape[0]} rows of `A`")
            lb = np.broadcast_to(lb, (A.shape[0],)).copy()
            parts.append((lambda x, A=A: A @ x, lambda x, A=A: A, _linear_hess, (), lb))
        else:
            raise TypeError(f"unsupported constraint {type(c).__name__}; use dicts with "
                            "type='eq', NonlinearConstraint or LinearConstraint")
    return StackedConstraints(parts)
