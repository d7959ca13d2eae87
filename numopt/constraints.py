"""Conversion of scipy-style equality constraints into one ``c(x) = 0`` oracle."""
from __future__ import annotations

import numpy as np


__all__ = ["as_equality_constraints", "StackedConstraints"]


class StackedConstraints:
    """All equality constraints stacked into one ``c(x)`` with Jacobian and Hessians.

    ``hess(x, lam)`` is the Hessian of ``lam^T c(x)``; it raises when any part has
    no second derivatives (``has("hess")`` tells).
    """

    def __init__(self, parts):
        self.parts = parts  # list of (fun, jac, hess, args, offset)

    def _apply(self, x, what):
        outs = []
        for fun, jac, hess, args, rhs in self.parts:
            if what == "value":
                outs.append(np.atleast_1d(np.asarray(fun(x, *args), dtype=float)) - rhs)
            else:
                if jac is None:
                    raise ValueError("constraint Jacobian required: give 'jac' in each constraint")
                outs.append(np.atleast_2d(np.asarray(jac(x, *args), dtype=float)))
        return np.concatenate(outs) if what == "value" else np.vstack(outs)

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
        H, i = 0.0, 0
        for fun, jac, hess, args, rhs in self.parts:
            mi = np.atleast_1d(np.asarray(fun(x, *args))).shape[0]
            if hess is None:
                raise ValueError("constraint Hessian not available")
            H = H + np.asarray(hess(x, lam[i:i + mi], *args), dtype=float)
            i += mi
        return H


def as_equality_constraints(constraints):
    """Accept a dict, a list of dicts, ``NonlinearConstraint``/``LinearConstraint`` with
    equal bounds, or an oracle with ``value``/``jacobian``."""
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
            jac = c.jac if callable(c.jac) else None
            hess = c.hess if callable(c.hess) else None
            parts.append((c.fun, jac, hess, (), lb))
        elif isinstance(c, LinearConstraint):
            lb, ub = np.atleast_1d(c.lb).astype(float), np.atleast_1d(c.ub).astype(float)
            if not np.array_equal(lb, ub):
                raise ValueError("LinearConstraint must have lb == ub (equality constraints only)")
            A = np.atleast_2d(np.asarray(c.A.toarray() if hasattr(c.A, "toarray") else c.A, dtype=float))
            parts.append((lambda x, A=A: A @ x, lambda x, A=A: A,
                          lambda x, lam, A=A: np.zeros((A.shape[1], A.shape[1])), (), lb))
        else:
            raise TypeError(f"unsupported constraint {type(c).__name__}; use dicts with "
                            "type='eq', NonlinearConstraint or LinearConstraint")
    return StackedConstraints(parts)

