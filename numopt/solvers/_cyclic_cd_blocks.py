"""Shared machinery of the cyclic block coordinate methods (:mod:`numopt.solvers.cyclic_cd`).

Block partitions (``_make_blocks``, ``_Blocks``: vectors as lists of per-block arrays),
the block-restricted prox (``_BlockProx``), the partial-gradient oracle at mixed points,
full or on a minibatch (``_Oracle``), the optimality measure (``_measure``), the default
smoothness constant (``_lipschitz_opts``) and the common set-up of a run (``_setup``).
These partitions are separate from those of :mod:`numopt.solvers.bcd`.
"""
from __future__ import annotations

import math

import numpy as np

from .._blocks import partition

from .._backend import get_namespace

_ELEMENTWISE = ("L1", "SquaredL2", "ElasticNet", "ZeroRegularizer", "NonNegative")


def _unwrap(obj):
    return getattr(obj, "f", obj)


def _unwrap_reg(reg):
    return getattr(reg, "g", reg)


_make_blocks = partition  # (numopt/_blocks.py: one home for block partitions)


class _Blocks:
    """Vectors are kept as lists of per-block arrays (no in-place updates: array API)."""

    def __init__(self, blocks, d, xp):
        self.xp, self.d, self.blocks = xp, d, blocks
        self.m = len(blocks)
        perm = np.concatenate(blocks)
        self.identity = bool(np.array_equal(perm, np.arange(d)))
        self.idx = [xp.asarray(b) for b in blocks]
        self.invperm = xp.asarray(np.argsort(perm))

    def split(self, x):
        xp = self.xp
        return [xp.take(x, i, axis=0) for i in self.idx]

    def full(self, xb):
        xp = self.xp
        flat = xp.concat(xb) if len(xb) > 1 else xb[0]
        return flat if self.identity else xp.take(flat, self.invperm, axis=0)

    def zeros(self, dtype):
        return [self.xp.zeros(b.size, dtype=dtype) for b in self.blocks]


class _BlockProx:
    """prox of step * g restricted to a block, for g separable over the blocks."""

    def __init__(self, reg, B, dtype):
        self.reg, self.B, self.dtype = reg, B, dtype
        g = _unwrap_reg(reg)
        name = type(g).__name__
        self.elementwise = reg is None or (name in _ELEMENTWISE and getattr(g, "weights", None) is None)

    def __call__(self, u, step, j):
        if self.reg is None:
            return u
        if self.elementwise:
            return self.reg.prox(u, step)
        xp, B = self.B.xp, self.B
        parts = [u if i == j else xp.zeros(B.blocks[i].size, dtype=u.dtype) for i in range(B.m)]
        out = self.reg.prox(B.full(parts), step)
        return xp.take(out, B.idx[j], axis=0)

    def full_prox(self, x, step):
        return x if self.reg is None else self.reg.prox(x, step)

    def value(self, x):
        return 0.0 if self.reg is None else float(self.reg.value(x))


def _strong_convexity(reg):
    from ..prox import ElasticNet, SquaredL2

    g = _unwrap_reg(reg)
    if isinstance(g, SquaredL2):
        return float(g.lam)
    if isinstance(g, ElasticNet):
        return float(g.lam * (1 - g.l1_ratio))
    return 0.0


class _Oracle:
    """Partial gradients at mixed points, full or on a minibatch of samples.

    ``composite``: f = loss(A x); the state of a sweep is the prediction vector A w (on
    the minibatch rows), updated by A_b delta after each block. Otherwise the state is the
    mixed point itself (a block list) and partial gradients come from ``block_grad`` /
    ``grad_batch``.
    """

    def __init__(self, problem, B, counter):
        self.B, self.counter = B, counter
        self.obj = problem.objective
        f = _unwrap(self.obj)
        self.f = f
        self.composite = hasattr(f, "A") and hasattr(f, "loss") and hasattr(f.loss, "grad")
        xp = B.xp
        if self.composite:
            import scipy.sparse as sp

            A = f.A
            self.sparse = sp.issparse(A)
            if self.sparse:
                A = A.tocsc()
                self.cols = [A[:, b] for b in B.blocks]
                self.A_csr = A.tocsr()
            else:
                self.cols = [xp.take(A, i, axis=1) for i in B.idx]
            self.A = A
            self.loss = f.loss
            self.n = int(A.shape[0])
        else:
            self.n = getattr(f, "n_samples", None)

    # -- sizes and constants -------------------------------------------------------------
    def block_lipschitz(self):
        f = self.f
        if hasattr(f, "block_lipschitz"):
            return [float(f.block_lipschitz(b)) for b in self.B.blocks]
        L = self.global_lipschitz()
        return [L] * self.B.m

    def global_lipschitz(self):
        L = getattr(self.f, "lipschitz", None)
        if L is None or not (math.isfinite(float(L)) and float(L) > 0):
            raise ValueError("the objective states no Lipschitz constant (`lipschitz`): pass the option "
                             "`L=` (an upper bound on the smoothness constant)")
        return float(L)

    def component_lipschitz(self):
        """sqrt(mean_i L_i^2) for the components f_i of the finite sum (grad_batch scaling)."""
        if self.composite:
            import scipy.sparse as sp

            A = self.A
            sq = np.asarray(A.multiply(A).sum(axis=1)).ravel() if sp.issparse(A) else \
                np.asarray(self.B.xp.sum(A * A, axis=1), dtype=float)
            Li = self.n * float(self.loss.smoothness) * sq
            return float(np.sqrt(np.mean(Li ** 2)))
        return None

    # -- full gradients -----------------------------------------------------------------
    def predict(self, x_full, rows=None):
        if rows is None:
            return self.A @ x_full
        if self.sparse:
            return self.A_csr[rows] @ x_full
        return self.B.xp.take(self.A, self.B.xp.asarray(rows), axis=0) @ x_full

    def full_grad(self, xb):
        """(grad f(x) as blocks, f(x)); counted as one gradient + one value."""
        self.counter.njev += 1
        self.counter.nfev += 1
        x = self.B.full(xb)
        if self.composite:
            z = self.A @ x
            u = self.loss.grad(z)
            return [c.T @ u for c in self.cols], float(self.loss.value(z))
        fx, g = self.f.value_and_grad(x)
        return self.B.split(g), float(fx)

    def value(self, xb):
        self.counter.nfev += 1
        x = self.B.full(xb)
        return float(self.loss.value(self.A @ x)) if self.composite else float(self.f.value(x))

    # -- sweeps on mixed points ------------------------------------------------------------
    def start(self, xb, rows=None):
        """State for a sweep starting at the point xb (on the minibatch ``rows`` if given)."""
        if self.composite:
            return {"z": self.predict(self.B.full(xb), rows), "rows": rows,
                    "cols": self.cols if rows is None else self._rows_cols(rows)}
        return {"w": list(xb), "rows": rows}

    def _rows_cols(self, rows):
        if self.sparse:
            Ar = self.A_csr[rows].tocsc()
            return [Ar[:, b] for b in self.B.blocks]
        xp = self.B.xp
        ri = xp.asarray(rows)
        return [xp.take(c, ri, axis=0) for c in self.cols]

    def _loss_grad(self, state):
        """The datafit's gradient at the predictions (on the state's rows, rescaled to the mean)."""
        rows = state["rows"]
        if rows is None:
            return self.loss.grad(state["z"])
        return self.loss.grad_at(state["z"], self.B.xp.asarray(rows)) * (self.n / len(rows))

    def block_grad(self, state, j):
        rows = state["rows"]
        if self.composite:
            return state["cols"][j].T @ self._loss_grad(state)
        x = self.B.full(state["w"])
        if rows is None:
            if hasattr(self.f, "block_grad"):
                return self.f.block_grad(x, self.B.blocks[j])
            return self.B.xp.take(self.f.grad(x), self.B.idx[j], axis=0)
        return self.B.xp.take(self.f.grad_batch(x, rows), self.B.idx[j], axis=0)

    def all_block_grads(self, state):
        """All partial gradients at the state's point (no moves): one gradient (batch)."""
        rows = state["rows"]
        if self.composite:
            u = self._loss_grad(state)
            return [c.T @ u for c in state["cols"]]
        x = self.B.full(state["w"])
        g = self.f.grad(x) if rows is None else self.f.grad_batch(x, rows)
        return self.B.split(g)

    def move(self, state, j, delta):
        """The state after block j of the mixed point changed by delta."""
        if self.composite:
            state["z"] = state["z"] + state["cols"][j] @ delta
        else:
            state["w"][j] = state["w"][j] + delta
        return state

    def sweep_done(self, rows):
        n = self.n or 1
        if rows is None:
            self.counter.njev += 1
        else:
            self.counter.njev += max(1, int(round(len(rows) / n))) if len(rows) >= n else 0
            self._batch_samples = getattr(self, "_batch_samples", 0) + len(rows)
            while self._batch_samples >= n:  # a gradient's worth of samples = one njev
                self._batch_samples -= n
                self.counter.njev += 1


def _measure(problem, orc, prox, B):
    """optimality(xb, grad_blocks) -> relative duality gap (l1 / elastic-net GLMs) or the
    prox-gradient norm ||x - prox(x - grad f(x))||."""
    from ..datafits import relative_gap_measure
    from ..prox import L1, ElasticNet

    g = _unwrap_reg(problem.regularizer)
    xp = B.xp
    if orc.composite and hasattr(orc.loss, "conjugate") and (
            (isinstance(g, L1) and g.weights is None) or isinstance(g, ElasticNet)):
        measure = relative_gap_measure(orc.A, orc.loss, g)
        return (lambda xb, gb: measure(B.full(xb))), "relative duality gap gap(x)/P(0)"

    def pg(xb, gb):
        x, gr = B.full(xb), B.full(gb)
        r = x - prox.full_prox(x - gr, 1.0)
        return float(xp.sqrt(xp.sum(r * r)))
    return pg, "prox-gradient norm ||x - prox(x - grad f(x))||"


def _lipschitz_opts(opts, orc):
    L = opts["L"]
    if L is not None:
        return float(L)
    Lf = orc.global_lipschitz()
    Lb = orc.block_lipschitz()
    if not all(math.isfinite(v) and v >= 0 for v in Lb):
        raise ValueError("block Lipschitz constants must be finite and >= 0")
    return max(math.sqrt(Lf * sum(Lb)), Lf)


def _setup(problem, x0, opts, need_finite_sum=False, method="acoder"):
    xp = get_namespace(x0)
    if x0.ndim != 1:
        raise ValueError(f"`x0` must be 1-D, got shape {tuple(x0.shape)}")
    d = int(x0.shape[0])
    B = _Blocks(_make_blocks(opts["blocks"], d), d, xp)
    counter = problem.objective.counter
    orc = _Oracle(problem, B, counter)
    if orc.composite and int(orc.A.shape[1]) != d:
        raise ValueError(f"`x0` has {d} entries but the design matrix has {orc.A.shape[1]} columns")
    if need_finite_sum:
        if orc.composite:
            if not hasattr(orc.loss, "grad_at"):
                raise ValueError("variance reduction needs per-sample derivatives: the datafit has no `grad_at`")
        elif not (hasattr(orc.f, "grad_batch") and getattr(orc.f, "n_samples", None)):
            raise ValueError("variance reduction needs a finite-sum objective with `grad_batch(x, idx)` and "
                             "`n_samples` (numopt.oracles.FiniteSum or a LinearComposite)")
    g = _unwrap_reg(problem.regularizer)
    lam = getattr(g, "lam", None)
    if lam is not None and lam < 0:
        raise ValueError(f"negative regularization lam = {lam}")
    from .bcd.generic import check_block_separable

    check_block_separable(problem.regularizer, B.blocks, d, method)
    prox = _BlockProx(problem.regularizer, B, xp.float64)
    x = xp.astype(x0, xp.float64) if x0.dtype != xp.float64 else x0
    return xp, B, orc, prox, x, counter


def _batch_opts(opts, n):
    b = opts["batch_size"]
    if b is None:
        b = max(1, int(math.ceil(math.sqrt(n))))
    b = min(int(b), n)
    return b
