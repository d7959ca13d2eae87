"""Data-parallel finite sums on Dask: ``f(x) = loss(X x)`` with ``X`` a row-chunked
``dask.array`` (numpy or scipy.sparse chunks) and the datafit's labels a dask array
chunked like ``X``'s rows.

``numopt.LinearComposite(datafit, X)`` returns a :class:`DaskLinearComposite` when ``X``
is a dask array. Every oracle is a map over the row chunks (each chunk computes its
share of the value / gradient / Hessian-vector product where the chunk lives) followed
by a tree reduction, submitted as ONE graph: one ``dask.compute`` (one round trip to
the scheduler) per oracle call, ``value_and_grad`` included. ``X`` and the labels are
persisted once when the oracle is built, so the data never moves to the client; the
iterate ``x`` is a numpy array on the client and only ``x`` (to the workers) and a
vector of its size (back) cross the network per call. With a ``distributed.Client``
active the graphs run on its cluster, otherwise on Dask's local threaded scheduler.

Counting: :attr:`DaskLinearComposite.round_trips` counts the ``dask.compute`` calls.
"""
from __future__ import annotations

import copy
import math
import uuid

import numpy as np
import scipy.sparse as sp

from .oracles import LinearComposite

__all__ = ["DaskLinearComposite", "is_dask_array", "tree_reduce"]

_FAN_IN = 8  # children per node of the reduction tree
_GATHER = 16  # at most this many partial results go back to the client, which adds them
_INLINE_BYTES = 1 << 20  # arrays up to this size travel inside each chunk task (no extra hop)
_GRAM_EXACT = 200  # features up to which the Gram matrix is reduced and its top eigenvalue taken exactly


# Methods that reach the data only through value / grad / hvp / hess (each one round trip),
# tested on a LocalCluster (tests/test_dask.py); the others read rows or columns of X on
# the client (coordinate, stochastic and Frank-Wolfe methods keep z = X x or sample rows).
DASK_METHODS = ("gd", "agd", "ista", "fista", "lbfgs", "l-bfgs-b", "bfgs", "nonlinear-cg", "trust-ncg",
                "grad-reg-newton", "lazy-newton", "local-svrg")


def is_dask_array(a):
    """Whether ``a`` is a ``dask.array.Array`` (checked without importing dask)."""
    return type(a).__module__.startswith("dask.array") and hasattr(a, "chunks") and hasattr(a, "to_delayed")


# --- worker-side pieces (top-level functions: they are pickled to the workers) --------------

def _supported():
    from . import datafits as D

    return (D.Quadratic, D.Logistic, D.Huber, D.Multinomial, D.SquaredHinge)


def _template(loss):
    """A copy of the datafit without its labels (the workers put their chunk's labels in)."""
    t = copy.copy(loss)
    t.y = None
    if hasattr(t, "Y"):
        t.Y = None
    return t


def _local_loss(tmpl, yb):
    """The datafit on one row chunk: the chunk's labels, the GLOBAL ``n`` (scaling 1/n)."""
    from .datafits import Multinomial

    d = copy.copy(tmpl)
    d.y = np.asarray(yb)
    if isinstance(d, Multinomial):
        d.Y = (np.arange(d.K)[None, :] == d.y.astype(np.int64)[:, None]).astype(np.float64)
    return d


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def _chunk_value(Xb, yb, tmpl, x):
    return float(_local_loss(tmpl, yb).value(Xb @ x))


def _chunk_grad(Xb, yb, tmpl, x):
    return Xb.T @ _local_loss(tmpl, yb).grad(Xb @ x)


def _chunk_value_and_grad(Xb, yb, tmpl, x):
    d = _local_loss(tmpl, yb)
    z = Xb @ x
    return float(d.value(z)), Xb.T @ d.grad(z)


def _chunk_hvp(Xb, yb, tmpl, x, v):
    from .datafits import Multinomial

    d = _local_loss(tmpl, yb)
    z, w = Xb @ x, Xb @ v
    if isinstance(d, Multinomial):  # softmax Hessian (diag(p) - p p^T) per sample, applied to w_i
        P = _softmax(z)
        return Xb.T @ ((P * w - P * np.sum(P * w, axis=1, keepdims=True)) / d.n)
    return Xb.T @ (d.hess_diag(z) * w)


def _chunk_hess(Xb, yb, tmpl, x):
    h = np.asarray(_local_loss(tmpl, yb).hess_diag(Xb @ x)).ravel()
    if sp.issparse(Xb):
        return sp.csr_matrix(Xb.T @ (sp.diags(h) @ Xb))
    return Xb.T @ (h[:, None] * Xb)


def _chunk_gram_matvec(Xb, v):
    return np.asarray(Xb.T @ (Xb @ v), dtype=np.float64).ravel()


def _chunk_stats(Xb, gram):
    """Per-chunk pieces of the norm bounds: ||X_b||_F^2, column abs sums, max row abs sum,
    max squared row norm, and (``gram``) the dense Gram matrix X_b^T X_b."""
    if sp.issparse(Xb):
        Xb = sp.csr_matrix(Xb)
        absX = abs(Xb)
        sq = np.asarray(Xb.multiply(Xb).sum(axis=1)).ravel()
        col = np.asarray(absX.sum(axis=0)).ravel()
        row = np.asarray(absX.sum(axis=1)).ravel()
        G = (Xb.T @ Xb).toarray() if gram else None  # p x p with p <= _GRAM_EXACT (not the user's X)
    else:
        Xb = np.asarray(Xb, dtype=np.float64)
        sq = np.einsum("ij,ij->i", Xb, Xb)
        col, row = np.abs(Xb).sum(axis=0), np.abs(Xb).sum(axis=1)
        G = Xb.T @ Xb if gram else None
    rmax = float(row.max()) if row.size else 0.0
    smax = float(sq.max()) if sq.size else 0.0
    return float(sq.sum()), col.astype(np.float64), rmax, smax, G


def _combine_stats(*parts):
    fro2 = sum(p[0] for p in parts)
    col = parts[0][1].copy()
    for p in parts[1:]:
        col += p[1]
    G = None
    if parts[0][4] is not None:
        G = parts[0][4].copy()
        for p in parts[1:]:
            G += p[4]
    return fro2, col, max(p[2] for p in parts), max(p[3] for p in parts), G


def _add(*parts):
    """Sum of ``parts``; tuples are summed entry by entry (value and gradient together)."""
    if isinstance(parts[0], tuple):
        return tuple(_add(*col) for col in zip(*parts))
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out


def tree_reduce(parts, combine=_add, fan_in=_FAN_IN, gather=_GATHER):
    """Reduce a list of delayed values with ``combine`` in a tree of the given fan-in until at
    most ``gather`` remain (no single task collects every chunk's result), returning a delayed
    list of those: the client combines them (:func:`finish`), which saves the last hops
    between workers (each costs a scheduler latency) for a few vectors more on the wire."""
    import dask

    parts = list(parts)
    if not parts:
        raise ValueError("`parts` is empty: nothing to reduce")
    while len(parts) > max(1, gather):
        parts = [dask.delayed(combine)(*parts[i:i + fan_in]) for i in range(0, len(parts), fan_in)]
    return parts


def finish(parts, combine=_add):
    """The client's last reduction step over the list :func:`tree_reduce` left."""
    return combine(*parts)


# --- client side -----------------------------------------------------------------------------

def _check_design(A):
    if A.ndim != 2:
        raise ValueError(f"`A` (a dask array) must be 2-D (samples x features), got {A.ndim}-D")
    if any(isinstance(c, float) and math.isnan(c) for c in A.shape) or \
            any(math.isnan(c) for cs in A.chunks for c in cs):
        raise ValueError("`A` (a dask array) has unknown chunk sizes; call A.compute_chunk_sizes() first")
    if A.numblocks[1] != 1:  # row chunks only: each chunk holds whole rows
        A = A.rechunk({0: A.chunks[0], 1: -1})
    return A


def _check_labels(loss, A):
    if not isinstance(loss, _supported()):
        names = ", ".join(c.__name__ for c in _supported())
        raise TypeError(f"`loss`: a dask array `A` supports the datafits {names} of numopt.datafits, "
                        f"got {type(loss).__name__}")
    y = getattr(loss, "y", None)
    hint = (f"e.g. dask.array.from_array(y, chunks=(A.chunks[0],)) with A.chunks[0] = "
            f"{tuple(A.chunks[0])}")
    if not is_dask_array(y):
        raise ValueError(f"with a dask array `A` the datafit's labels `y` must be a dask array chunked like "
                         f"A's rows, got {type(y).__name__}; {hint}")
    if y.ndim != 1 or tuple(y.chunks[0]) != tuple(A.chunks[0]):
        raise ValueError(f"the datafit's labels `y` must be a 1-D dask array chunked like A's rows: y has "
                         f"chunks {tuple(y.chunks[0]) if y.ndim == 1 else y.chunks}, A's rows "
                         f"{tuple(A.chunks[0])}; {hint}")
    return y


class DaskLinearComposite(LinearComposite):
    """``f(x) = loss(A x)`` with ``A`` a row-chunked dask array (see the module docstring).

    Built by ``numopt.LinearComposite(loss, A)`` when ``A`` is a dask array. ``A`` (with
    its column chunks merged: each chunk holds whole rows) and ``loss.y`` are persisted
    once. ``value``, ``grad``, ``value_and_grad``, ``hvp`` and ``hess`` each cost one round
    trip; the Lipschitz estimate one round trip (at most 200 features: the exact top
    eigenvalue of the reduced Gram matrix, as the in-memory class computes) or one per
    Lanczos step on the distributed Gram operator ``v -> sum_b A_b^T (A_b v)``.
    Per-sample and per-block oracles (``grad_batch``, ``block_grad``) are not offered: a
    method that needs them would pull rows to the client; the data-parallel stochastic
    method is ``method="local-svrg"`` (numopt.solvers.distributed).
    """

    def __init__(self, loss, A):
        import dask

        A = _check_design(A)
        y = _check_labels(loss, A)
        A, y = dask.persist(A, y)
        self.loss, self.A, self.y = loss, A, y
        self._L = None
        self._stats = None
        self._tmpl = _template(loss)
        self._blocks = list(zip(A.to_delayed().ravel(), y.to_delayed().ravel()))
        self.round_trips = 0

    # the structure a client-side solver must not use
    @property
    def grad_batch(self):
        raise AttributeError("grad_batch: a LinearComposite over a dask array has no per-sample oracle on the "
                             "client; use method='local-svrg' (local steps on the workers)")

    @property
    def block_grad(self):
        raise AttributeError("block_grad: not offered for a LinearComposite over a dask array")

    @property
    def block_lipschitz(self):
        raise AttributeError("block_lipschitz: not offered for a LinearComposite over a dask array")

    @property
    def n_chunks(self):
        return len(self._blocks)

    def _shared(self, obj):
        """``obj`` (the iterate, the datafit template) as a task argument: small ones travel inside
        each chunk task, a large array is one graph key that the chunk tasks share."""
        import dask

        if not isinstance(obj, np.ndarray) or obj.nbytes <= _INLINE_BYTES:
            return obj
        return dask.delayed(obj, name=f"numopt-{type(obj).__name__}-{uuid.uuid4().hex}")

    def _compute(self, obj, combine=_add):
        """One round trip: ``obj`` is the list :func:`tree_reduce` returned (or a tuple whose
        last entry is one); the client finishes the reduction."""
        import dask

        self.round_trips += 1
        out = dask.compute(obj)[0]
        if isinstance(obj, tuple):
            return tuple(out[:-1]) + (finish(out[-1], combine),)
        return finish(out, combine)

    def _map(self, fn, *args):
        import dask

        tmpl = self._shared(self._tmpl)
        args = [self._shared(np.asarray(a)) for a in args]
        return tree_reduce([dask.delayed(fn)(Xb, yb, tmpl, *args) for Xb, yb in self._blocks])

    @staticmethod
    def _x(x, name="x"):
        if not isinstance(x, np.ndarray):
            raise TypeError(f"`{name}` must be a numpy array on the client for a dask LinearComposite, "
                            f"got {type(x).__name__}")
        return x

    def value(self, x):
        return float(self._compute(self._map(_chunk_value, self._x(x))))

    def grad(self, x):
        return self._compute(self._map(_chunk_grad, self._x(x)))

    def value_and_grad(self, x):
        fx, g = self._compute(self._map(_chunk_value_and_grad, self._x(x)))
        return float(fx), g

    def hvp(self, x, v):
        return self._compute(self._map(_chunk_hvp, self._x(x), self._x(v, "v")))

    def hess(self, x):
        """``A^T diag(loss'') A`` reduced over the chunks: CSR for sparse chunks, else dense."""
        from .datafits import Multinomial

        if isinstance(self.loss, Multinomial):
            raise NotImplementedError("hess: use hvp for the multinomial loss")
        H = self._compute(self._map(_chunk_hess, self._x(x)))
        return sp.csr_matrix(H) if sp.issparse(H) else H

    # --- norms of A, computed on the workers ------------------------------------------------
    def stats(self):
        """``(||A||_F^2, column abs sums, max row abs sum, max squared row norm, Gram or None)``
        in one round trip (cached). The Gram matrix ``A^T A`` is reduced for at most 200
        features."""
        import dask

        if self._stats is None:
            gram = self.A.shape[1] <= _GRAM_EXACT
            parts = [dask.delayed(_chunk_stats)(Xb, gram) for Xb, _ in self._blocks]
            self._stats = self._compute(tree_reduce(parts, _combine_stats), _combine_stats)
        return self._stats

    def gram_matvec(self, v):
        """``A^T (A v)`` in one round trip."""
        import dask

        vd = self._shared(np.asarray(v, dtype=np.float64))
        parts = [dask.delayed(_chunk_gram_matvec)(Xb, vd) for Xb, _ in self._blocks]
        return self._compute(tree_reduce(parts))

    def estimate_lipschitz(self, max_time=None):
        """``smoothness * ||A||_2^2``: the exact top eigenvalue of the reduced Gram matrix
        (at most 200 features), else Lanczos on the distributed Gram operator (one round
        trip per step, at most 100 steps and ``max_time`` seconds), capped by the bound
        ``min(||A||_F^2, ||A||_1 ||A||_inf)``. Cached unless cut short by ``max_time``."""
        if self._L is not None:
            return self._L
        fro2, col, rmax, _, G = self.stats()
        U = min(fro2, float(col.max()) * rmax) if col.size else 0.0
        info = {}
        if G is not None:
            sq = min(U, float(np.linalg.eigvalsh(0.5 * (G + G.T))[-1]))
        else:
            sq = lanczos_norm_sq(self.gram_matvec, self.A.shape[1], U, max_time=max_time, info=info)
        L = self.loss.smoothness * sq
        if not info.get("timed_out"):
            self._L = L
        return L


def lanczos_norm_sq(gram, k, U, *, max_time=None, rtol=1e-6, maxiter=100, info=None):
    """The top eigenvalue estimate of numopt._lipschitz.lanczos_top_eig for the distributed
    Gram operator (one round trip per product)."""
    from ._lipschitz import lanczos_top_eig

    return lanczos_top_eig(gram, k, U, max_time=max_time, rtol=rtol, maxiter=maxiter, info=info)
