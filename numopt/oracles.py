"""Oracle abstractions: smooth functions, regularizers, sets, equality constraints.

A solver talks to a problem only through these small duck-typed interfaces:

* smooth function: ``value(x)``, ``grad(x)``, ``value_and_grad(x)``, optional
  ``hvp(x, v)``, ``hess(x)`` and a smoothness estimate ``lipschitz`` (or ``None``);
* regularizer: ``value(x)``, ``prox(x, step)`` (the proximal operator of
  ``step * g``);
* set: ``project(x)`` and/or ``lmo(direction)`` (an extreme point minimizing
  ``<direction, s>``);
* equality constraints ``c(x) = 0``: ``value(x)`` and ``jacobian(x)`` (optional
  ``hess(x, lam)``: the Hessian of ``lam^T c``).

:class:`Counted` wraps any smooth function and counts calls in an
:class:`OracleCounter`; :func:`minimize` does this automatically so every solver
reports ``nfev``, ``njev``, ``nhev``, ``nprox``, ``nlmo``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from ._backend import get_namespace

__all__ = ["OracleCounter", "SmoothFunction", "FiniteSum", "BlockSmooth", "FunctionOracle", "Counted",
           "CountedRegularizer", "CountedSet", "LinearComposite", "Problem",
           "as_regularizer", "as_set", "EqualityConstraints", "ZeroRegularizer"]


@dataclass
class OracleCounter:
    """Counts of oracle calls, shared by the wrappers of one run."""

    nfev: int = 0
    njev: int = 0
    nhev: int = 0
    nprox: int = 0
    nlmo: int = 0
    nproj: int = 0

    def as_dict(self):
        return {k: getattr(self, k) for k in ("nfev", "njev", "nhev", "nprox", "nlmo", "nproj")}


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


def _fd_grad(fun, x, xp, scheme):
    """Finite-difference gradient (only used when the user asks: jac='2-point'/'3-point')."""
    n = x.shape[0]
    eps_base = np.finfo(np.float64).eps
    g = []
    f0 = fun(x) if scheme == "2-point" else None
    for i in range(n):
        e = xp.zeros(n, dtype=x.dtype)
        xi = float(x[i])
        if scheme == "2-point":
            h = np.sqrt(eps_base) * max(1.0, abs(xi))
            e = xp.where(xp.arange(n) == i, xp.asarray(h, dtype=x.dtype), e)
            g.append((fun(x + e) - f0) / h)
        else:
            h = eps_base ** (1 / 3) * max(1.0, abs(xi))
            e = xp.where(xp.arange(n) == i, xp.asarray(h, dtype=x.dtype), e)
            g.append((fun(x + e) - fun(x - e)) / (2 * h))
    return xp.asarray(g, dtype=x.dtype)


class FunctionOracle(SmoothFunction):
    """Smooth function built from scipy-style callables.

    Parameters follow :func:`scipy.optimize.minimize`: ``fun(x, *args)``; ``jac``
    a callable, ``True`` (``fun`` returns ``(f, g)``), ``"2-point"``/``"3-point"``
    (finite differences, only when asked) or ``None`` (no gradient available);
    ``hess(x, *args)`` and ``hessp(x, p, *args)``.
    """

    def __init__(self, fun, jac=None, hess=None, hessp=None, args=(), lipschitz=None):
        if not callable(fun):
            raise TypeError(f"`fun` must be callable, got {type(fun).__name__}")
        if not isinstance(args, tuple):
            args = (args,)
        if jac is not None and not (callable(jac) or jac is True or jac is False
                                    or jac in ("2-point", "3-point", "cs")):
            raise ValueError("`jac` must be a callable, True, '2-point', '3-point' or None, "
                             f"got {jac!r}")
        if jac == "cs":
            raise ValueError("`jac='cs'` (complex step) is not supported; use '2-point' or '3-point'")
        if hess is not None and not callable(hess):
            raise TypeError("`hess` must be callable or None")
        if hessp is not None and not callable(hessp):
            raise TypeError("`hessp` must be callable or None")
        self._fun, self._jac, self._hess, self._hessp, self._args = fun, jac, hess, hessp, args
        self.lipschitz = lipschitz
        self.has_grad = jac not in (None, False)

    def _memo(self, x):
        """``fun(x) -> (f, g)`` with a one-entry cache (``jac=True``): a line search's value
        at the accepted point also gives the next gradient, as scipy's MemoizeJac does."""
        m = getattr(self, "_last", None)
        if m is not None and m[0].shape == x.shape and bool(get_namespace(x).all(m[0] == x)):
            return m[1], m[2]
        f, g = self._fun(x, *self._args)
        self._last = (get_namespace(x).asarray(x, copy=True), float(f), g)
        return float(f), g

    def _f(self, x):
        if self._jac is True:
            return self._memo(x)[0]
        return float(self._fun(x, *self._args))

    def value(self, x):
        return self._f(x)

    def grad(self, x):
        if self._jac is True:
            return self._memo(x)[1]
        if callable(self._jac):
            return self._jac(x, *self._args)
        if self._jac in ("2-point", "3-point"):
            return _fd_grad(self._f, x, get_namespace(x), self._jac)
        raise ValueError("no gradient available: pass `jac` (a callable, True, or '2-point' "
                         "for finite differences)")

    def value_and_grad(self, x):
        if self._jac is True:
            return self._memo(x)
        return self.value(x), self.grad(x)

    def hvp(self, x, v):
        if self._hessp is not None:
            return self._hessp(x, v, *self._args)
        if self._hess is not None:
            return self._hess(x, *self._args) @ v
        raise ValueError("no Hessian available: pass `hess` or `hessp`")

    def hess(self, x):
        if self._hess is None:
            raise ValueError("no Hessian available: pass `hess`")
        return self._hess(x, *self._args)

    def has(self, name):
        if name == "hvp":
            return self._hess is not None or self._hessp is not None
        if name == "hess":
            return self._hess is not None
        if name == "grad":
            return self.has_grad
        return False


class Counted(SmoothFunction):
    """Wrap a smooth function, count its calls and check the gradient's shape."""

    def __init__(self, f, counter: OracleCounter, shape=None):
        self.f = f
        self.counter = counter
        self.shape = shape
        self.lipschitz = getattr(f, "lipschitz", None)
        self.strong_convexity = getattr(f, "strong_convexity", 0.0) or 0.0

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
        return float(self.f.value(x))

    def grad(self, x):
        self.counter.njev += 1
        return self._check(self.f.grad(x), x)

    def value_and_grad(self, x):
        self.counter.nfev += 1
        self.counter.njev += 1
        f, g = self.f.value_and_grad(x)
        return float(f), self._check(g, x)

    def hvp(self, x, v):
        self.counter.nhev += 1
        return self.f.hvp(x, v)

    def hess(self, x):
        self.counter.nhev += 1
        return self.f.hess(x)

    def has(self, name):
        if hasattr(self.f, "has"):
            return self.f.has(name)
        return callable(getattr(self.f, name, None))

    def __getattr__(self, name):  # expose extra structure (A, loss, ...) of the wrapped oracle
        if name.startswith("__") or name in ("f", "counter", "shape"):
            raise AttributeError(name)
        return getattr(self.f, name)


class ZeroRegularizer:
    """g = 0; prox is the identity."""

    def value(self, x):
        return 0.0

    def prox(self, x, step):
        return x


class _CallableProx:
    def __init__(self, prox):
        self._prox = prox

    def value(self, x):  # value of g unknown: the reported objective is the smooth part
        return 0.0

    def prox(self, x, step):
        return self._prox(x, step)


def as_regularizer(prox):
    """Accept a callable ``prox(x, step)`` or an object with ``prox`` and ``value``."""
    if prox is None:
        return None
    if hasattr(prox, "prox"):
        if not callable(getattr(prox, "value", None)):
            raise TypeError("`prox` object must also have a `value(x)` method")
        return prox
    if callable(prox):
        return _CallableProx(prox)
    raise TypeError("`prox` must be a callable prox(x, step) or an object with .prox(x, step) "
                    f"and .value(x), got {type(prox).__name__}")


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


class _CallableLMO:
    def __init__(self, lmo):
        self._lmo = lmo

    def lmo(self, d):
        return self._lmo(d)


def as_set(lmo):
    """Accept a callable ``lmo(direction)`` or an object with ``lmo``/``project``/``__call__``."""
    if lmo is None:
        return None
    if hasattr(lmo, "lmo") or hasattr(lmo, "project"):
        return lmo
    if callable(lmo):
        return _CallableLMO(lmo)
    raise TypeError(f"`lmo` must be callable or have an .lmo(direction) method, got {type(lmo).__name__}")


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


class FiniteSum(SmoothFunction):
    """A finite sum ``f(x) = (1/n) sum_i f_i(x)`` with minibatch oracles.

    Subclasses implement ``grad_batch(x, idx)`` = ``(1/|idx|) sum_{i in idx} grad f_i(x)``
    (an unbiased estimate of ``grad f(x)`` when ``idx`` is drawn uniformly) and
    optionally ``value_batch(x, idx)``. Randomness is always passed in: ``sample(rng,
    batch_size)`` draws indices with an explicit ``numpy.random.Generator``.
    """

    n_samples: int

    def value_batch(self, x, idx):
        raise NotImplementedError

    def grad_batch(self, x, idx):
        raise NotImplementedError

    def sample(self, rng, batch_size=1, replace=True):
        return rng.choice(self.n_samples, size=batch_size, replace=replace)


class BlockSmooth(SmoothFunction):
    """A smooth function with block structure: ``block_grad(x, idx)`` returns the
    partial gradient on the coordinates ``idx`` and ``block_lipschitz(idx)`` the
    Lipschitz constant of that partial gradient (default: the global one)."""

    def block_grad(self, x, idx):
        return self.grad(x)[idx]

    def block_lipschitz(self, idx):
        return self.lipschitz


class LinearComposite(SmoothFunction):
    """The composite form ``f(x) = loss(A @ x)`` with ``A`` dense or scipy.sparse.

    ``loss`` has ``value(z)``, ``grad(z)`` (w.r.t. the predictions ``z``), and
    ``smoothness`` (a scalar bound on the loss' second derivative per entry).
    Keeping ``z = A x`` lets coordinate methods update predictions cheaply.
    """

    def __init__(self, loss, A):
        self.loss, self.A = loss, A
        self._L = None

    @property
    def lipschitz(self):
        if self._L is None:
            self._L = self.loss.smoothness * _spectral_norm_sq(self.A)
        return self._L

    def value(self, x):
        return float(self.loss.value(self.A @ x))

    def grad(self, x):
        return self.A.T @ self.loss.grad(self.A @ x)

    def value_and_grad(self, x):
        z = self.A @ x
        return float(self.loss.value(z)), self.A.T @ self.loss.grad(z)

    def hvp(self, x, v):
        return self.A.T @ (self.loss.hess_diag(self.A @ x) * (self.A @ v))

    def hess(self, x):
        A = self.A.toarray() if hasattr(self.A, "toarray") else self.A
        return A.T @ (self.loss.hess_diag(A @ x)[:, None] * A)

    # finite-sum structure: f(x) = (1/n) sum_i n * phi_i(a_i^T x)
    @property
    def n_samples(self):
        return self.A.shape[0]

    def sample(self, rng, batch_size=1, replace=True):
        return rng.choice(self.n_samples, size=batch_size, replace=replace)

    def grad_batch(self, x, idx):
        """Unbiased minibatch gradient ``(1/|B|) sum_{i in B} n phi_i'(a_i x) a_i``
        (needs the datafit's ``grad_at(z_sub, idx)``: the derivatives phi_i'(z_i))."""
        A_B = self.A[idx]
        return A_B.T @ (self.loss.grad_at(A_B @ x, idx) * (self.n_samples / len(idx)))

    # block structure: partial gradients on coordinate blocks
    def block_grad(self, x, idx):
        return self.grad(x)[idx]

    def block_lipschitz(self, idx):
        """smoothness * ||A[:, idx]||_2^2 (the coordinate-block Lipschitz constant)."""
        import scipy.sparse as sp

        idx = np.asarray(idx).ravel()
        if sp.issparse(self.A):
            B = self.A[:, idx]
            sq = float(B.multiply(B).sum()) if idx.size == 1 else _spectral_norm_sq(B)
        else:
            xp = get_namespace(self.A)
            B = xp.take(self.A, xp.asarray(idx), axis=1)
            sq = float(xp.sum(B * B)) if idx.size == 1 else _spectral_norm_sq(B)
        return self.loss.smoothness * sq


def _spectral_norm_sq(A):
    """||A||_2^2 (exact for small matrices, Lanczos otherwise)."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    if not sp.issparse(A) and not isinstance(A, np.ndarray):
        xp = get_namespace(A)
        return float(xp.linalg.matrix_norm(A, ord=2)) ** 2
    m, n = A.shape
    if min(m, n) <= 200 and not sp.issparse(A):
        return float(np.linalg.norm(A, 2)) ** 2
    if min(m, n) == 1:
        return float(sp.linalg.norm(A) if sp.issparse(A) else np.linalg.norm(A)) ** 2
    s = spla.svds(spla.aslinearoperator(A), k=1, return_singular_vectors=False, tol=1e-6,
                  random_state=np.random.default_rng(0))
    return float(s[0]) ** 2 * (1 + 1e-6)


class EqualityConstraints:
    """``c(x) = 0`` from callables: ``fun(x)`` -> (m,), ``jac(x)`` -> (m, n), ``hess(x, lam)``."""

    def __init__(self, fun, jac=None, hess=None, args=()):
        self._fun, self._jac, self._hess, self._args = fun, jac, hess, args

    def value(self, x):
        return self._fun(x, *self._args)

    def jacobian(self, x):
        if self._jac is None:
            raise ValueError("constraint Jacobian required: pass 'jac' in the constraint")
        return self._jac(x, *self._args)

    def hess(self, x, lam):
        if self._hess is None:
            raise ValueError("constraint Hessian not available")
        return self._hess(x, lam, *self._args)

    def has(self, name):
        return {"jacobian": self._jac is not None, "hess": self._hess is not None}.get(name, False)


@dataclass
class Problem:
    """An optimization problem: ``min objective(x) + regularizer(x)`` s.t. constraints.

    ``objective`` is a smooth oracle; ``regularizer`` has ``prox``/``value`` (or is
    None); ``constraints`` an equality-constraint oracle or None; ``feasible_set`` a
    set with ``project``/``lmo`` or None. ``f_star`` is a reference optimal value
    known to ``f_star_tol`` (relative), ``x_star`` a reference solution.
    """

    objective: object
    x0: object = None
    regularizer: object = None
    constraints: object = None
    feasible_set: object = None
    bounds: object = None
    f_star: float | None = None
    f_star_tol: float | None = None
    x_star: object = None
    name: str = ""
    source: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.x0 is not None and not (hasattr(self.x0, "shape") and hasattr(self.x0, "dtype")):
            hint = (" (a regularizer? pass it as `regularizer=`)" if hasattr(self.x0, "prox") else "")
            raise TypeError(f"`x0` must be an array or None, got {type(self.x0).__name__}{hint}")
        if self.regularizer is not None and not hasattr(self.regularizer, "value"):
            raise TypeError(f"`regularizer` must have `value` and `prox` (numopt.prox), "
                            f"got {type(self.regularizer).__name__}")

    @property
    def n(self):
        return None if self.x0 is None else int(np.prod(self.x0.shape))

    def value(self, x):
        """Full objective ``f(x) + g(x)``."""
        v = self.objective.value(x)
        if self.regularizer is not None:
            v = v + self.regularizer.value(x)
        return float(v)


def check_scalar(value, name, *, lower=None, lower_inclusive=True, integer=False, allow_none=False):
    """Validate a scalar option; raise ``TypeError``/``ValueError`` naming it."""
    if value is None and allow_none:
        return value
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"`{name}` must be {'an integer' if integer else 'a real number'}, "
                        f"got {value!r}")
    if not np.isfinite(value) and not (value == np.inf and not integer):
        raise ValueError(f"`{name}` must be finite, got {value!r}")
    if lower is not None:
        bad = value < lower if lower_inclusive else value <= lower
        if bad:
            op = ">=" if lower_inclusive else ">"
            raise ValueError(f"`{name}` must be {op} {lower}, got {value!r}")
    return value
