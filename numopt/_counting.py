"""Counting wrappers: every oracle call of a run is counted in one
:class:`~numopt._oracle_base.OracleCounter` (``nfev``, ``njev``, ``nhev``, ``nprox``,
``nlmo``, ``nproj``, and ``constr_nfev``, ``constr_njev``, ``constr_nhev`` for constraints);
the front door wraps the problem's oracles with these."""
from __future__ import annotations

from ._backend import get_namespace
from ._oracle_base import OracleCounter, SmoothFunction, as_scalar

__all__ = ["Counted", "CountedConstraints", "CountedRegularizer", "CountedSet"]

_UNSET = object()


class Counted(SmoothFunction):
    """Wrap a smooth function, count its calls and check the gradient's shape.

    Calls of ``fun`` made by finite differences (``jac='2-point'``) count in ``nfev``.
    ``lipschitz`` is looked up lazily (on first use, inside the solver's timed loop);
    an objective with ``estimate_lipschitz(max_time=...)`` (``LinearComposite``) gets
    ``max_time`` seconds for it.
    """

    def __init__(self, f, counter: OracleCounter, shape=None, max_time=None):
        self.f = f
        self.counter = counter
        self.shape = shape
        self.max_time = max_time
        self._lipschitz = _UNSET
        self.strong_convexity = getattr(f, "strong_convexity", 0.0) or 0.0

    @property
    def lipschitz(self):
        if self._lipschitz is _UNSET:
            est = getattr(self.f, "estimate_lipschitz", None)
            try:
                self._lipschitz = est(max_time=self.max_time) if callable(est) else \
                    getattr(self.f, "lipschitz", None)
            except TypeError:  # a user's estimate_lipschitz without the max_time keyword
                self._lipschitz = getattr(self.f, "lipschitz", None)
        return self._lipschitz

    @lipschitz.setter
    def lipschitz(self, value):
        self._lipschitz = value

    def _fd_calls(self):
        return getattr(self.f, "fd_nfev", 0) or 0

    def _check(self, g, x):
        shape = self.shape if self.shape is not None else x.shape
        if not hasattr(g, "shape"):
            g = get_namespace(x).asarray(g, dtype=x.dtype)
        if g.dtype != x.dtype:  # keep the iterate's dtype (float32 in, float32 out)
            g = get_namespace(x).astype(g, x.dtype)
        if tuple(g.shape) != tuple(shape):
            raise ValueError(f"`jac` returned an array of shape {tuple(g.shape)}, expected "
                             f"{tuple(shape)} (the shape of x0)")
        return g

    def value(self, x):
        self.counter.nfev += 1
        return as_scalar(self.f.value(x), "fun")

    def grad(self, x):
        self.counter.njev += 1
        before = self._fd_calls()
        g = self.f.grad(x)
        self.counter.nfev += self._fd_calls() - before
        return self._check(g, x)

    def value_and_grad(self, x):
        self.counter.nfev += 1
        self.counter.njev += 1
        before = self._fd_calls()
        f, g = self.f.value_and_grad(x)
        self.counter.nfev += self._fd_calls() - before
        return as_scalar(f, "fun"), self._check(g, x)

    def _second_order(self, call):
        """A Hessian (product) call; finite-difference Hessians add their function and
        gradient calls (``fd_nfev`` / ``fd_njev`` of the oracle) to nfev / njev."""
        self.counter.nhev += 1
        nf, nj = self._fd_calls(), getattr(self.f, "fd_njev", 0) or 0
        out = call()
        self.counter.nfev += self._fd_calls() - nf
        self.counter.njev += (getattr(self.f, "fd_njev", 0) or 0) - nj
        return out

    def hvp(self, x, v):
        return self._second_order(lambda: self.f.hvp(x, v))

    def hess(self, x):
        return self._second_order(lambda: self.f.hess(x))

    def has(self, name):
        if hasattr(self.f, "has"):
            return self.f.has(name)
        return callable(getattr(self.f, name, None))

    def __getattr__(self, name):  # expose extra structure (A, loss, ...) of the wrapped oracle
        if name.startswith("__") or name in ("f", "counter", "shape", "max_time", "_lipschitz"):
            raise AttributeError(name)
        return getattr(self.f, name)


class CountedRegularizer:
    def __init__(self, g, counter):
        self.g, self.counter = g, counter

    def value(self, x):
        return float(self.g.value(x))

    def prox(self, x, step):
        self.counter.nprox += 1
        return self.g.prox(x, step)

    def __getattr__(self, name):
        if name.startswith("__") or name in ("g", "counter"):
            raise AttributeError(name)
        return getattr(self.g, name)


class CountedSet:
    def __init__(self, s, counter):
        self.s, self.counter = s, counter

    def lmo(self, d):
        self.counter.nlmo += 1
        return self.s.lmo(d)

    def project(self, x):
        self.counter.nproj += 1
        return self.s.project(x)

    def __getattr__(self, name):
        if name.startswith("__") or name in ("s", "counter"):
            raise AttributeError(name)
        return getattr(self.s, name)


class CountedConstraints:
    """Wrap a constraint oracle (``value``, ``jacobian``, ``hess``) and count its calls in
    ``constr_nfev`` / ``constr_njev`` / ``constr_nhev``; calls of the constraint functions
    that the oracle makes itself (finite-difference Jacobians, counting the rows in
    ``row_bounds``: its ``fd_nfev``) count in ``constr_nfev``. Everything else (``has``,
    ...) is the wrapped oracle's."""

    def __init__(self, c, counter):
        self.c, self.counter = c, counter
        counter.constrained = True

    def _counted(self, call):
        before = getattr(self.c, "fd_nfev", 0) or 0
        out = call()
        self.counter.constr_nfev += (getattr(self.c, "fd_nfev", 0) or 0) - before
        return out

    def value(self, x):
        self.counter.constr_nfev += 1
        return self.c.value(x)

    def jacobian(self, x):
        self.counter.constr_njev += 1
        return self._counted(lambda: self.c.jacobian(x))

    def hess(self, x, lam):
        self.counter.constr_nhev += 1
        return self._counted(lambda: self.c.hess(x, lam))

    def __getattr__(self, name):
        if name.startswith("__") or name in ("c", "counter"):
            raise AttributeError(name)
        attr = getattr(self.c, name)
        if name == "row_bounds":  # may evaluate the functions once to count their rows
            return lambda x: self._counted(lambda: attr(x))
        return attr
