"""Smooth functions built from scipy-style callables (``fun``, ``jac``, ``hess``,
``hessp``), with finite differences only when the user asks for them."""
from __future__ import annotations

import math

from ._backend import get_namespace
from ._hessian import FD_SCHEMES, QuasiNewtonHessian, cs_grad, fd_hessian, fd_hvp, is_update_strategy
from ._oracle_base import SmoothFunction, as_scalar

__all__ = ["FunctionOracle"]


def refine_gradient(f):
    """Ask the objective ``f`` (through wrappers) to switch its default forward-difference
    gradient to central differences (:meth:`FunctionOracle.refine_gradient`); True when
    it did, so the caller recomputes the gradient and goes on."""
    refine = getattr(f, "refine_gradient", None)
    return bool(refine()) if callable(refine) else False


def confirm_gradient(f, x, fx, g, measure, tol):
    """``(f(x), g, switched)``: when ``g`` is the default forward difference (see
    :func:`refine_gradient`) and its optimality ``measure`` meets ``tol``, the value and
    gradient at ``x`` recomputed by central differences (``switched`` True; the method goes
    on with them); otherwise ``(fx, g, False)`` unchanged. A forward difference is biased by
    about ``h f''/2`` and can meet ``tol`` where the true gradient does not."""
    if tol is not None and measure <= tol and refine_gradient(f):
        fx, g = f.value_and_grad(x)
        return fx, g, True
    return fx, g, False


def fd_hint(f):
    """A sentence for a failure message when the gradient is a finite difference (empty
    otherwise): its accuracy may be what stopped the method."""
    scheme = getattr(f, "gradient_scheme", None)
    if scheme == "2-point":
        return (" (the gradient is a forward difference, accurate to about sqrt(eps) relative: pass `jac`, "
                "jac='3-point', or a larger tol)")
    if scheme == "3-point":
        return " (the gradient is a central difference: pass `jac` for an exact one, or a larger tol)"
    return ""


def _fd_grad(fun, x, xp, scheme, f0=None):
    """Finite-difference gradient (only used when the user asks: jac='2-point'/'3-point').

    Steps are relative to the precision of ``x``'s dtype (a float64 step would vanish
    in a float32 ``x + h``). Returns ``(gradient, number of calls of fun)``."""
    n = x.shape[0]
    eps_base = float(xp.finfo(x.dtype).eps)
    g = []
    calls = 0
    if scheme == "2-point" and f0 is None:
        f0 = fun(x)
        calls += 1
    idx = xp.arange(n)
    for i in range(n):
        xi = float(x[i])
        if scheme == "2-point":
            h = math.sqrt(eps_base) * max(1.0, abs(xi))
            xh = xp.where(idx == i, x + xp.asarray(h, dtype=x.dtype), x)
            g.append((fun(xh) - f0) / float(xh[i] - x[i]))
            calls += 1
        else:
            h = eps_base ** (1 / 3) * max(1.0, abs(xi))
            xp_ = xp.where(idx == i, x + xp.asarray(h, dtype=x.dtype), x)
            xm_ = xp.where(idx == i, x - xp.asarray(h, dtype=x.dtype), x)
            g.append((fun(xp_) - fun(xm_)) / float(xp_[i] - xm_[i]))
            calls += 2
    return xp.asarray(g, dtype=x.dtype), calls


class FunctionOracle(SmoothFunction):
    """Smooth function built from scipy-style callables.

    Parameters follow :func:`scipy.optimize.minimize`: ``fun(x, *args)``; ``jac``
    a callable, ``True`` (``fun`` returns ``(f, g)``), ``"2-point"``/``"3-point"``
    (finite differences, only when asked), ``"cs"`` (complex step: ``fun`` must accept
    complex input) or ``None`` (no gradient here; :func:`numopt.minimize` then builds the
    oracle with ``"2-point"`` for a method that needs one, as scipy does); ``hess`` a callable ``hess(x,
    *args)`` returning a dense array, a scipy.sparse matrix or a
    :class:`scipy.sparse.linalg.LinearOperator` (kept as given: ``hvp`` is ``H @ v`` /
    ``H.matvec(v)``), ``"2-point"``/``"3-point"``/``"cs"`` (finite differences, see
    :mod:`numopt._hessian`), or a scipy ``HessianUpdateStrategy`` (``BFGS()``,
    ``SR1()``: updated with every gradient this oracle computes); ``hessp(x, p, *args)``.

    Calls made by finite differences are counted: ``fd_nfev`` (calls of ``fun``) and
    ``fd_njev`` (calls of ``jac``), which the counting wrapper adds to ``nfev``/``njev``.
    ``refine=True`` (with ``jac="2-point"``; what :func:`numopt.minimize` builds when
    ``jac`` is not given) lets a method switch to central differences once its line
    search fails (:meth:`refine_gradient`).
    """

    def __init__(self, fun, jac=None, hess=None, hessp=None, args=(), lipschitz=None, *, refine=False):
        if not callable(fun):
            raise TypeError(f"`fun` must be callable, got {type(fun).__name__}")
        if not isinstance(args, tuple):
            args = (args,)
        if is_update_strategy(jac):
            raise TypeError(f"`jac` cannot be a HessianUpdateStrategy ({type(jac).__name__}): a quasi-Newton "
                            "update approximates the Hessian; pass it as `hess=` and give `jac` as a callable, "
                            "True, '2-point', '3-point' or 'cs'")
        if jac is not None and not (callable(jac) or jac is True or jac is False
                                    or (isinstance(jac, str) and jac in ("2-point", "3-point", "cs"))):
            raise ValueError("`jac` must be a callable, True, '2-point', '3-point', 'cs' or None, "
                             f"got {jac!r}")
        self._strategy = None
        if isinstance(hess, str):
            if hess not in FD_SCHEMES:
                raise ValueError(f"`hess` must be a callable, '2-point', '3-point', 'cs', a HessianUpdateStrategy "
                                 f"or None, got {hess!r}")
        elif is_update_strategy(hess):
            self._strategy = QuasiNewtonHessian(hess)
        elif hess is not None and not callable(hess):
            raise TypeError("`hess` must be callable, '2-point', '3-point', 'cs', a HessianUpdateStrategy "
                            f"(scipy.optimize.BFGS(), SR1()) or None, got {type(hess).__name__}")
        if hessp is not None and not callable(hessp):
            raise TypeError("`hessp` must be callable or None")
        self._fun, self._jac, self._hess, self._hessp, self._args = fun, jac, hess, hessp, args
        self.lipschitz = lipschitz
        self.has_grad = jac not in (None, False)
        self.fd_nfev = 0  # calls of fun made by finite differences (counted as nfev by Counted)
        self.fd_njev = 0  # calls of jac made by finite-difference Hessians (counted as njev)
        self._refine = bool(refine) and jac == "2-point"

    @property
    def gradient_scheme(self):
        """``'2-point'``, ``'3-point'`` or ``'cs'`` for a finite-difference / complex-step
        gradient, else None (exact)."""
        return self._jac if isinstance(self._jac, str) else None

    def refine_gradient(self):
        """Switch forward (2-point) differences to central (3-point) ones, once: the forward
        difference's error, about ``sqrt(eps)`` relative, floors the gradient norm a method
        can certify and breaks its line search near a minimizer; central differences reach
        about ``eps**(2/3)`` at twice the calls (Gill, Murray & Wright, *Practical
        Optimization*, 1981, Sec. 8.6). Only for the gradient the front door chose by
        default (``jac`` not given, ``refine=True``); True when it switched."""
        if not self._refine:
            return False
        self._refine = False
        self._jac = "3-point"
        return True

    def _memo(self, x):
        """``fun(x) -> (f, g)`` with a one-entry cache (``jac=True``): a line search's value
        at the accepted point also gives the next gradient, as scipy's MemoizeJac does."""
        m = getattr(self, "_last", None)
        if m is not None and m[0].shape == x.shape and bool(get_namespace(x).all(m[0] == x)):
            return m[1], m[2]
        out = self._fun(x, *self._args)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ValueError("with `jac=True`, `fun` must return a pair (f, grad), got "
                             f"{type(out).__name__}")
        f, g = as_scalar(out[0], "fun"), out[1]
        self._last = (get_namespace(x).asarray(x, copy=True), f, g)
        return f, g

    def _f(self, x):
        if self._jac is True:
            return self._memo(x)[0]
        return as_scalar(self._fun(x, *self._args), "fun")

    def _raw_f(self, z):
        """fun at a (possibly complex) point, no checks: for complex steps and FD Hessians."""
        out = self._fun(z, *self._args)
        return out[0] if self._jac is True else out

    def _exact_grad(self):
        """The user's gradient as a function of x (None for FD/complex-step/no gradient)."""
        if self._jac is True:
            return lambda z: self._fun(z, *self._args)[1]
        if callable(self._jac):
            return lambda z: self._jac(z, *self._args)
        return None

    def _fd(self, x, f0=None):
        if self._jac == "cs":
            g, calls = cs_grad(self._raw_f, x)
        else:
            g, calls = _fd_grad(self._f, x, get_namespace(x), self._jac, f0=f0)
        self.fd_nfev += calls
        return g

    def _seen(self, x, g):
        if self._strategy is not None:
            self._strategy.observe(x, g)
        return g

    def value(self, x):
        return self._f(x)

    def grad(self, x):
        if self._jac is True:
            return self._seen(x, self._memo(x)[1])
        if callable(self._jac):
            return self._seen(x, self._jac(x, *self._args))
        if self._jac in ("2-point", "3-point", "cs"):
            return self._seen(x, self._fd(x))
        raise ValueError("no gradient available: pass `jac` (a callable, True, or '2-point' "
                         "for finite differences)")

    def value_and_grad(self, x):
        if self._jac is True:
            f, g = self._memo(x)
            return f, self._seen(x, g)
        f = self.value(x)
        if self._jac in ("2-point", "3-point"):
            return f, self._seen(x, self._fd(x, f0=f))
        return f, self.grad(x)

    def hvp(self, x, v):
        if self._hessp is not None:
            return self._hessp(x, v, *self._args)
        if self._strategy is not None:
            return get_namespace(x).asarray(self._strategy.dot(v), dtype=x.dtype)
        if isinstance(self._hess, str):
            grad = self._exact_grad()
            if grad is None:  # no gradient: Hessian from function values, then the product
                return self.hess(x) @ v
            out, calls = fd_hvp(grad, x, v, self._hess)
            self.fd_njev += calls
            return out
        if self._hess is not None:
            H = self._hess(x, *self._args)
            matvec = getattr(H, "matvec", None)  # a LinearOperator: never densified
            return matvec(v) if callable(matvec) and not hasattr(H, "toarray") else H @ v
        raise ValueError("no Hessian available: pass `hess` or `hessp`")

    def hess(self, x):
        if self._hess is None:
            raise ValueError("no Hessian available: pass `hess`")
        if self._strategy is not None:
            return get_namespace(x).asarray(self._strategy.matrix(), dtype=x.dtype)
        if isinstance(self._hess, str):
            H, nf, nj = fd_hessian(x, self._hess, fun=self._raw_f, grad=self._exact_grad())
            self.fd_nfev += nf
            self.fd_njev += nj
            return H
        return self._hess(x, *self._args)

    @property
    def hvp_forms_hessian(self):
        """True when ``hvp`` has no product of its own (``hess`` given, no ``hessp``): a
        method that needs many products at one point forms ``hess(x)`` once instead."""
        return self._hessp is None and self._hess is not None

    def has(self, name):
        if name == "hvp":
            return self._hess is not None or self._hessp is not None
        if name == "hess":
            return self._hess is not None
        if name == "grad":
            return self.has_grad
        return False
