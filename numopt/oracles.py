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
from ._counting import Counted, CountedConstraints, CountedRegularizer, CountedSet
from ._lipschitz import _norm_sq_upper_bound, _spectral_norm_sq  # noqa: F401 (re-exported)
from ._oracle_base import OracleCounter, SmoothFunction, as_scalar
from ._function_oracle import FunctionOracle, _fd_grad  # noqa: F401 (re-exported)

__all__ = ["as_scalar", "OracleCounter", "SmoothFunction", "FiniteSum", "BlockSmooth", "FunctionOracle", "Counted",
           "CountedRegularizer", "CountedSet", "LinearComposite", "Problem",
           "as_regularizer", "as_set", "EqualityConstraints", "ZeroRegularizer", "SmoothSum",
           "smooth_regularizer_part", "QuadraticForm"]


def smooth_regularizer_part(reg):
    """If the regularizer ``reg`` is smooth, return ``(g, lam)``: an object with ``value``
    and ``grad`` to add to the smooth part (``None`` for ``ZeroRegularizer``: nothing to
    add), and ``lam`` when ``g = lam/2 ||x||^2`` (then its Hessian is ``lam I``), else
    ``None``. Returns ``None`` for a nonsmooth ``reg``.

    Smooth: an object with ``smooth = True`` and a ``grad`` method (``numopt.prox.SquaredL2``),
    and ``numopt.prox.ElasticNet`` with ``l1_ratio = 0`` (a squared l2 term).
    """
    g = reg
    for attr in ("g",):  # CountedRegularizer wraps the user's object
        inner = getattr(g, "__dict__", {}).get(attr)
        if inner is not None:
            g = inner
    from . import prox as _prox

    if isinstance(g, ZeroRegularizer):
        return None, 0.0  # g = 0: nothing to add
    if isinstance(g, _prox.SquaredL2):
        return g, float(g.lam)
    if isinstance(g, _prox.ElasticNet) and float(g.l1_ratio) == 0.0:
        sq = _prox.SquaredL2(g.lam)
        return sq, float(g.lam)
    if getattr(g, "smooth", False) is True and callable(getattr(g, "grad", None)):
        return g, None
    return None


class SmoothSum(SmoothFunction):
    """``f(x) + g(x)`` as one smooth oracle, ``g`` a smooth regularizer.

    :func:`numopt.minimize` builds it when a method without a proximal step gets a
    smooth regularizer (``numopt.prox.SquaredL2``): the term joins the smooth part
    instead of being dropped. ``lam``: ``g = lam/2 ||x||^2`` (Hessian ``lam I``,
    strong convexity ``lam``). The structure of ``f`` (``A``, ``loss``) is deliberately
    not exposed (a solver using it directly would miss ``g``); per-sample gradients
    (``grad_batch``) are, with ``grad g`` added.
    """

    def __init__(self, f, g, lam=None):
        self.f, self.g, self.lam = f, g, lam

    @staticmethod
    def _lip(obj, max_time=None):
        est = getattr(obj, "estimate_lipschitz", None)
        return est(max_time=max_time) if callable(est) else getattr(obj, "lipschitz", None)

    def estimate_lipschitz(self, max_time=None):
        Lf = self._lip(self.f, max_time)
        Lg = self.lam if self.lam is not None else getattr(self.g, "lipschitz", None)
        if Lf is None or Lg is None:
            return None
        return float(Lf) + float(Lg)

    @property
    def lipschitz(self):
        return self.estimate_lipschitz()

    @property
    def strong_convexity(self):
        mf = float(getattr(self.f, "strong_convexity", 0.0) or 0.0)
        mg = self.lam if self.lam is not None else getattr(self.g, "strong_convexity", 0.0)
        return mf + float(mg or 0.0)

    @property
    def fd_nfev(self):
        return getattr(self.f, "fd_nfev", 0) or 0

    def value(self, x):
        return as_scalar(self.f.value(x), "fun") + float(self.g.value(x))

    def grad(self, x):
        return self.f.grad(x) + self.g.grad(x)

    def value_and_grad(self, x):
        fx, gx = self.f.value_and_grad(x)
        return as_scalar(fx, "fun") + float(self.g.value(x)), gx + self.g.grad(x)

    def hvp(self, x, v):
        if self.lam is not None:
            return self.f.hvp(x, v) + self.lam * v
        return self.f.hvp(x, v) + self.g.hvp(x, v)

    def hess(self, x):
        H = self.f.hess(x)
        if self.lam is None:
            return H + self.g.hess(x)
        import scipy.sparse as sp

        n = int(np.prod(x.shape))
        if sp.issparse(H):
            return (H + self.lam * sp.identity(n, format="csr", dtype=H.dtype)).tocsr()
        xp = get_namespace(H) if hasattr(H, "__array_namespace__") else np
        return H + self.lam * xp.eye(n, dtype=H.dtype)

    def has(self, name):
        f_has = self.f.has(name) if hasattr(self.f, "has") else callable(getattr(self.f, name, None))
        if name in ("hvp", "hess") and self.lam is None:
            return f_has and callable(getattr(self.g, name, None))
        return f_has

    def __getattr__(self, name):
        if name in ("n_samples", "sample"):
            return getattr(self.f, name)
        if name == "grad_batch":
            gb = getattr(self.f, "grad_batch")
            return lambda x, idx: gb(x, idx) + self.g.grad(x)
        raise AttributeError(name)


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

    With ``A`` a row-chunked ``dask.array`` (and the datafit's labels a dask array chunked
    like ``A``'s rows) the constructor returns a :class:`numopt._dask.DaskLinearComposite`:
    the same oracles computed chunk by chunk on the Dask workers, one round trip each.
    """

    def __new__(cls, loss=None, A=None, *args, **kwargs):
        if cls is LinearComposite and type(A).__module__.startswith("dask.array"):
            from ._dask import DaskLinearComposite

            return super().__new__(DaskLinearComposite)
        return super().__new__(cls)

    def __init__(self, loss, A):
        self.loss, self.A = loss, A
        self._L = None

    @property
    def lipschitz(self):
        """``smoothness * ||A||_2^2`` (an upper estimate, see :meth:`estimate_lipschitz`)."""
        return self.estimate_lipschitz()

    @lipschitz.setter
    def lipschitz(self, value):
        self._L = value

    def estimate_lipschitz(self, max_time=None):
        """``smoothness * ||A||_2^2`` with bounded work: exact for small dense ``A``, else a
        Lanczos estimate capped in restarts and in ``max_time`` seconds, falling back to the
        upper bound ``min(||A||_F^2, ||A||_1 ||A||_inf)`` (see :func:`_spectral_norm_sq`).
        Cached unless cut short by ``max_time``."""
        if self._L is not None:
            return self._L
        info = {}
        L = self.loss.smoothness * _spectral_norm_sq(self.A, max_time=max_time, info=info)
        if not info.get("timed_out"):
            self._L = L
        return L

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
        """``A^T diag(loss'') A``: a scipy.sparse (CSR) matrix when ``A`` is sparse (never
        densified), else a dense array."""
        import scipy.sparse as sp

        h = self.loss.hess_diag(self.A @ x)
        if sp.issparse(self.A):
            return sp.csr_matrix(self.A.T @ (sp.diags(np.asarray(h).ravel()) @ self.A))
        return self.A.T @ (h[:, None] * self.A)

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


class QuadraticForm(SmoothFunction):
    """``f(x) = 1/2 x^T A x - c^T x`` with A symmetric (dense or scipy.sparse).

    Exposes ``A``, ``c``, ``hess`` (returns A), ``lipschitz`` (||A||_2) and
    ``block_lipschitz(idx)`` (largest eigenvalue of A_bb), which the BCD quadratic path
    uses to keep the gradient up to date in O(nnz(A[:, b])) per block update. The
    eigenvalues come from a dense ``eigvalsh`` for matrices of at most 300 rows (an
    explicit dense fallback for small blocks: a sparse A is densified only then), from
    Lanczos (``eigsh``, sparse) above.
    """

    def __init__(self, A, c):
        import scipy.sparse as sp

        A = sp.csr_matrix(A) if sp.issparse(A) else np.asarray(A, dtype=float)
        c = np.asarray(c, dtype=float)
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"`A` must be square, got shape {A.shape}")
        if c.shape != (A.shape[0],):
            raise ValueError(f"`c` must have shape ({A.shape[0]},), got {c.shape}")
        self.A, self.c = A, c
        self._L = None

    def value(self, x):
        return float(0.5 * x @ (self.A @ x) - self.c @ x)

    def grad(self, x):
        return self.A @ x - self.c

    def value_and_grad(self, x):
        Ax = self.A @ x
        return float(0.5 * x @ Ax - self.c @ x), Ax - self.c

    def hvp(self, x, v):
        return self.A @ v

    def hess(self, x):
        return self.A

    def has(self, name):
        return name in ("grad", "hvp", "hess")

    @property
    def lipschitz(self):
        if self._L is None:
            self._L = _max_eig(self.A)
        return self._L

    def block_lipschitz(self, idx):
        idx = np.asarray(idx, dtype=np.int64).ravel()
        sub = self.A[idx][:, idx] if not isinstance(self.A, np.ndarray) else self.A[np.ix_(idx, idx)]
        return _max_eig(sub)


def _max_eig(M):
    import scipy.sparse as sp

    n = M.shape[0]
    if n <= 300:
        Md = M.toarray() if sp.issparse(M) else np.asarray(M)
        return float(np.linalg.eigvalsh(Md)[-1])
    from scipy.sparse.linalg import eigsh

    v = eigsh(sp.csr_matrix(M), k=1, which="LA", return_eigenvectors=False, tol=1e-8,
              v0=np.ones(n))[0]
    return float(v) * (1 + 1e-8)


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
