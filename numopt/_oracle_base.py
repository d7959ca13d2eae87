"""Base oracle pieces shared by :mod:`numopt.oracles` and the counting wrappers:
the call counter, the smooth-function base class and the scalar check of ``fun``."""
from __future__ import annotations

import numbers
from dataclasses import dataclass

from ._backend import get_namespace

__all__ = ["OracleCounter", "Counts", "SmoothFunction", "as_scalar"]


@dataclass
class OracleCounter:
    """Counts of oracle calls, shared by the wrappers of one run."""

    nfev: int = 0
    njev: int = 0
    nhev: int = 0
    nprox: int = 0
    nlmo: int = 0
    nproj: int = 0
    # constraint oracle calls (scipy's trust-constr names), reported only when the run has
    # constraints (``constrained``): finite-difference calls of a constraint function count
    # in ``constr_nfev``
    constr_nfev: int = 0
    constr_njev: int = 0
    constr_nhev: int = 0
    constrained: bool = False

    def as_dict(self):
        keys = ("nfev", "njev", "nhev", "nprox", "nlmo", "nproj") + (
            ("constr_nfev", "constr_njev", "constr_nhev") if self.constrained else ())
        return {k: getattr(self, k) for k in keys}


class Counts:
    """Oracle counts of a family that has only some of them (``run_loop`` reads
    ``as_dict``; reporting the others as zeros would be wrong, not just noisy)."""

    def __init__(self, *names):
        self._names = names
        for n in names:
            setattr(self, n, 0)

    def as_dict(self):
        return {n: getattr(self, n) for n in self._names}


class SmoothFunction:
    """Base class for smooth functions. Subclasses implement ``value`` and ``grad``.

    ``lipschitz`` is an upper estimate of the gradient's Lipschitz constant (or
    ``None`` when unknown); ``strong_convexity`` a lower estimate of the strong
    convexity modulus (0 when unknown).
    """

    lipschitz = None
    strong_convexity = 0.0

    def value(self, x):
        raise NotImplementedError

    def grad(self, x):
        raise NotImplementedError

    def value_and_grad(self, x):
        return self.value(x), self.grad(x)

    def hvp(self, x, v):
        raise NotImplementedError(f"{type(self).__name__} has no Hessian-vector product")

    def has(self, name):
        """Whether the optional oracle ``name`` (``"hvp"``, ``"hess"``) is implemented."""
        meth = getattr(type(self), name, None)
        return meth is not None and meth is not getattr(SmoothFunction, name, None)


def as_scalar(v, name="fun"):
    """``v`` as a Python float: a real number, a 0-d array or a one-element array
    (as scipy accepts); anything else is an error naming ``name``."""
    if isinstance(v, numbers.Real):
        return float(v)
    shape = getattr(v, "shape", None)
    if shape is not None:
        size = 1
        for s in shape:
            size *= int(s)
        if size != 1:
            raise ValueError(f"`{name}` must return a scalar, got an array of shape {tuple(shape)}")
        if len(shape):
            v = get_namespace(v).reshape(v, ())
    try:
        return float(v)
    except (TypeError, ValueError) as e:
        raise TypeError(f"`{name}` must return a real scalar, got {type(v).__name__}") from e
