"""Cyclic block coordinate methods with extrapolation, acceleration and variance reduction.

Problems: ``min_x F(x) = f(x) + g(x)`` with ``f`` smooth (convex for A-CODER, possibly
nonconvex for VR-CD) and ``g`` convex and separable over the blocks (``prox``). The
blocks ``x = (x^1, ..., x^m)`` are visited in a fixed cyclic order.

**A-CODER** (Lin, Song & Diakonikolas, ICML 2023, Algorithm 1). With ``a_0 = A_0 = 0``,
``y_0 = v_0 = x_0``, ``z_0 = 0``, for ``k = 1, 2, ...``:

1. ``a_k > 0`` with ``a_k^2 = (1 + gamma A_{k-1}) A_k / (2 L)``, ``A_k = A_{k-1} + a_k``
   (``gamma``: strong convexity modulus of ``g``; ``L``: smoothness constant, see below);
2. ``x_k = (A_{k-1} y_{k-1} + a_k v_{k-1}) / A_k``;
3. for each block ``j`` in cyclic order, with the *mixed point* ``w_k^j`` equal to ``y_k`` on
   the blocks already visited in this cycle and to ``x_k`` on the others:

   * ``p_k^j = grad_j f(w_k^j)``  (partial gradient at the mixed point),
   * ``q_k^j = p_k^j + (a_{k-1}/a_k) (grad_j f(x_{k-1}) - p_{k-1}^j)``  (extrapolation),
   * ``z_k^j = z_{k-1}^j + a_k q_k^j``  (dual averaging),
   * ``v_k^j = prox_{A_k g^j}(x_0^j - z_k^j)``,
   * ``y_k^j = (A_{k-1} y_{k-1}^j + a_k v_k^j) / A_k``;

   the output is ``y_k``. (The paper sweeps the blocks from ``m`` down to ``1`` with ``x_k``
   on blocks ``<= j`` and ``y_k`` on blocks ``> j``; sweeping ``1..m`` as here is the same
   method with the block labels reversed.) Cost per iteration: one cyclic sweep of partial
   gradients plus one full gradient at ``x_k`` (the extrapolation term).

   Rate: the paper proves the accelerated ``O(L ||x* - x_0||^2 / k^2)`` rate for
   ``F(y_k) - F*`` (linear when ``gamma > 0``), where ``L`` is a Lipschitz constant of the
   gradient with respect to a Mahalanobis norm adapted to the cyclic order ("the optimal
   convergence rate with improved dependence on the number of blocks"). Step 1 gives
   ``sqrt(A_k) - sqrt(A_{k-1}) >= 1/sqrt(8 L)``, i.e. ``A_k >= k^2 / (8 L)``; we did not
   have the exact constant of the paper's theorem at hand, so ``rate`` is not registered as
   a function and the tests check the measured ``k^-2`` behaviour instead.

   Default ``L`` (``L=None``; old name ``lipschitz``): ``sqrt(L_f * sum_b L_b)`` with ``L_f`` the global
   smoothness constant and ``L_b`` the block constants. It bounds ``sqrt(sum_b M_b^2)``,
   ``M_b`` the Lipschitz constant of ``grad_b f`` with respect to the *whole* ``x`` (for
   ``f = loss(Ax)``: ``M_b = beta ||A_b|| ||A||``; for convex C^2 ``f``: ``M_b^2 <= L_f L_b``),
   which controls the error of the mixed-point partial gradients; it lies between ``L_f``
   and ``sqrt(m) L_f``.

**VR-A-CODER** (same paper, the finite-sum variant ``f = (1/n) sum_i f_i``): epochs
``s = 1, 2, ...``; an epoch fixes a snapshot ``ytilde`` with its full gradient ``mu``, and
a step ``a_s`` (the rule of step 1, ``A_s = A_{s-1} + a_s``), then runs ``K`` inner
A-CODER sweeps whose partial gradients are SVRG estimators on one minibatch ``B`` per sweep,
``grad_j f_B(w) - grad_j f_B(ytilde) + mu^j``, with the couplings
``x = (A_{s-1} ytilde + a_s v) / A_s`` (as in accelerated dual averaging with variance
reduction, VRADA: Song, Jiang & Ma, NeurIPS 2020) and the dual-averaging weight
``K A_{s-1} + k a_s`` at inner step ``k``; the next snapshot is the mean of the inner
``y``. This is our reconstruction from the paper's description (an SVRG-type
estimator inside A-CODER's cyclic, extrapolated dual averaging); its schedule
(``K = ceil(n / batch)``, ``batch = ceil(sqrt(n))``) is ours, and we did not verify it
line by line against the paper's Algorithm 2.

**VR-CD** (Cai, Song, Wright & Diakonikolas, ICML 2023): cyclic proximal block gradient
steps ``x_k^j = prox_{eta g^j}(x_{k-1}^j - eta g_k^j)`` where ``g_k^j`` estimates the partial
gradient at the mixed point ``x_{k,j-1} = (x_k^1, ..., x_k^{j-1}, x_{k-1}^j, ..., x_{k-1}^m)``
recursively (SARAH/SPIDER-type):
``g_k^j = g_{k-1}^j + grad_j f_B(x_{k,j-1}) - grad_j f_B(x_{k-1,j-1})`` with one minibatch
``B`` per cycle, and the exact ``grad_j f(x_{k,j-1})`` every ``refresh`` cycles. ``f`` may be
nonconvex. The paper's guarantee (abstract): the gradient-mapping norm decreases like that
of (full-gradient) gradient descent, ``min_k E||G(x_k)||^2 = O(L (F(x_0) - F*) / K)``, with
``L`` the Mahalanobis-norm Lipschitz constant, and with recursive variance reduction the
arithmetic complexity of the optimal variance-reduced full-gradient methods; linear
convergence under a Polyak-Lojasiewicz condition.

Oracles: ``f = loss(A x)`` (:class:`numopt.LinearComposite`, e.g. from
``problems.get("libsvm/...", model=...)`` or ``problems.synthetic``) runs with maintained
predictions (``O(nnz(A_b))`` per block, or ``O(|B| d_b)`` on a minibatch); any other
objective needs ``block_grad(x, idx)`` (or ``grad``), and for the VR methods
``grad_batch(x, idx)`` and ``n_samples`` (:class:`numopt.oracles.FiniteSum`).
"""
from __future__ import annotations

import math

import numpy as np

from .._backend import get_namespace
from .._loop import Step
from .._registry import MethodSpec, register
from .._options import Flag, Interval, NoneOr, Option
from .._options import Seed as Rng

__all__ = ["acoder", "vr_cyclic_cd"]

_ELEMENTWISE = ("L1", "SquaredL2", "ElasticNet", "ZeroRegularizer", "NonNegative")


def _unwrap(obj):
    return getattr(obj, "f", obj)


def _unwrap_reg(reg):
    return getattr(reg, "g", reg)


def _make_blocks(blocks, d):
    """Partition of range(d) as a list of int64 numpy index arrays (validated)."""
    if blocks is None:
        return [np.array([j], dtype=np.int64) for j in range(d)]
    if isinstance(blocks, (int, np.integer)) and not isinstance(blocks, bool):
        if blocks < 1:
            raise ValueError(f"`blocks` (a block size) must be >= 1, got {blocks}")
        return [np.arange(i, min(i + int(blocks), d), dtype=np.int64) for i in range(0, d, int(blocks))]
    if isinstance(blocks, (str, bytes)) or not hasattr(blocks, "__iter__"):
        raise TypeError(f"`blocks` must be None, an int block size or a list of index arrays, got {blocks!r}")
    out = []
    for b in blocks:
        arr = np.asarray(b)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise TypeError("`blocks` must contain integer index arrays")
        out.append(arr.astype(np.int64).ravel())
    flat = np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
    if any(b.size == 0 for b in out) or flat.size != d or not np.array_equal(np.sort(flat), np.arange(d)):
        raise ValueError(f"`blocks` must partition the {d} variables into nonempty blocks (each index exactly once)")
    return out


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

    def block_grad(self, state, j):
        rows = state["rows"]
        if self.composite:
            if rows is None:
                u = self.loss.grad(state["z"])
            else:
                u = self.loss.grad_at(state["z"], self.B.xp.asarray(rows)) * (self.n / len(rows))
            return state["cols"][j].T @ u
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
            if rows is None:
                u = self.loss.grad(state["z"])
            else:
                u = self.loss.grad_at(state["z"], self.B.xp.asarray(rows)) * (self.n / len(rows))
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
    from ..datafits import duality_gap
    from ..prox import L1, ElasticNet

    g = _unwrap_reg(problem.regularizer)
    xp = B.xp
    if orc.composite and hasattr(orc.loss, "conjugate") and (
            (isinstance(g, L1) and g.weights is None) or isinstance(g, ElasticNet)):
        p0 = float(orc.loss.value(orc.loss.y * 0.0))
        scale = p0 if p0 > 0 else 1.0

        def gap(xb, gb):
            v = float(duality_gap(orc.A, orc.loss, g, B.full(xb))[0])
            # (clipped at 0 from below, but a non-finite gap stays non-finite: Python's max(nan, 0)
            # depends on the argument order, and max(-inf, 0) = 0 would certify anything)
            return (v if v > 0.0 else 0.0) / scale if math.isfinite(v) else math.nan
        return gap, "relative duality gap gap(x)/P(0)"

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


def _acoder(problem, x0, opts):
    # (a plain function: the two variants are separate generators)
    return (_vr_acoder if opts["variance_reduction"] else _acoder_sweeps)(problem, x0, opts)


def _acoder_sweeps(problem, x0, opts):
    xp, B, orc, prox, x0f, counter = _setup(problem, x0, opts)
    gamma = opts["gamma"]
    gamma = _strong_convexity(problem.regularizer) if gamma is None else float(gamma)
    L = _lipschitz_opts(opts, orc)
    out = x0.dtype
    measure, _ = _measure(problem, orc, prox, B)
    x0b = B.split(x0f)
    v, y = list(x0b), list(x0b)
    z = B.zeros(xp.float64)
    p_prev = gx_prev = None
    a_prev, A = 0.0, 0.0
    gy, fy = orc.full_grad(y)
    yield Step(xp.astype(B.full(y), out), fy + prox.value(B.full(y)), measure(y, gy), A_k=0.0, lipschitz=L)
    while True:
        A_prev = A
        c = 1.0 + gamma * A_prev
        a = (c + math.sqrt(c * c + 8.0 * L * A_prev * c)) / (4.0 * L)
        A = A_prev + a
        x = [(A_prev * yj + a * vj) / A for yj, vj in zip(y, v)]
        gx, _ = orc.full_grad(x)                    # grad f(x_k): the next extrapolation term
        state = orc.start(x)
        ynew, p = [], []
        for j in range(B.m):
            pj = orc.block_grad(state, j)
            qj = pj if p_prev is None else pj + (a_prev / a) * (gx_prev[j] - p_prev[j])
            z[j] = z[j] + a * qj
            v[j] = prox(x0b[j] - z[j], A, j)
            yj = (A_prev * y[j] + a * v[j]) / A
            state = orc.move(state, j, yj - x[j])
            ynew.append(yj)
            p.append(pj)
        orc.sweep_done(None)
        y, p_prev, gx_prev, a_prev = ynew, p, gx, a
        gy, fy = orc.full_grad(y)
        yield Step(xp.astype(B.full(y), out), fy + prox.value(B.full(y)), measure(y, gy), A_k=A, lipschitz=L)


def _vr_acoder(problem, x0, opts):
    xp, B, orc, prox, x0f, counter = _setup(problem, x0, opts, need_finite_sum=True)
    gamma = opts["gamma"]
    gamma = _strong_convexity(problem.regularizer) if gamma is None else float(gamma)
    n = int(orc.n)
    b = _batch_opts(opts, n)
    K = opts["inner_maxiter"]
    K = max(1, int(math.ceil(n / b))) if K is None else int(K)
    L = opts["L"]
    if L is None:
        Lc = orc.component_lipschitz()
        if Lc is not None and not (math.isfinite(Lc) and Lc >= 0):
            raise ValueError(f"the components' Lipschitz constant is not finite ({Lc}): check the design `A`")
        L = max(_lipschitz_opts(opts, orc), Lc or 0.0)
    else:
        L = float(L)
    rng = np.random.default_rng(0 if opts["rng"] is None else opts["rng"])  # (None: reproducible)
    out = x0.dtype
    measure, _ = _measure(problem, orc, prox, B)
    x0b = B.split(x0f)
    v, yt = list(x0b), list(x0b)
    z = B.zeros(xp.float64)
    mu, fy = orc.full_grad(yt)
    yield Step(xp.astype(B.full(yt), out), fy + prox.value(B.full(yt)), measure(yt, mu), A_k=0.0, lipschitz=L)
    A, a_last = 0.0, 0.0
    p_prev = r_prev = None
    while True:
        A_prev = A
        c = 1.0 + gamma * A_prev
        a = (c + math.sqrt(c * c + 8.0 * L * A_prev * c)) / (4.0 * L)
        A = A_prev + a
        acc = B.zeros(xp.float64)
        ratio = 1.0 if a_last == 0.0 else a_last / a
        for k in range(1, K + 1):
            rows = np.sort(rng.choice(n, size=b, replace=False)) if b < n else np.arange(n)
            W = K * A_prev + k * a
            x = [(A_prev * tj + a * vj) / A for tj, vj in zip(yt, v)]
            st_snap = orc.start(yt, rows)
            g_snap = orc.all_block_grads(st_snap)   # grad_B f(ytilde)
            state = orc.start(x, rows)
            r = [gx - gs + mj for gx, gs, mj in zip(orc.all_block_grads(state), g_snap, mu)]
            ynew, p = [], []
            for j in range(B.m):
                pj = orc.block_grad(state, j) - g_snap[j] + mu[j]
                qj = pj if p_prev is None else pj + ratio * (r_prev[j] - p_prev[j])
                z[j] = z[j] + a * qj
                v[j] = prox(x0b[j] - z[j], W, j)
                yj = (A_prev * yt[j] + a * v[j]) / A
                state = orc.move(state, j, yj - x[j])
                ynew.append(yj)
                p.append(pj)
            orc.sweep_done(rows)
            orc.sweep_done(rows)
            orc.sweep_done(rows)
            acc = [s + yj for s, yj in zip(acc, ynew)]
            p_prev, r_prev, ratio = p, r, 1.0
        a_last = a
        yt = [s / K for s in acc]
        mu, fy = orc.full_grad(yt)
        yield Step(xp.astype(B.full(yt), out), fy + prox.value(B.full(yt)), measure(yt, mu), A_k=A, lipschitz=L)


def _vr_cd(problem, x0, opts):
    xp, B, orc, prox, x0f, counter = _setup(problem, x0, opts, need_finite_sum=opts["variance_reduction"],
                                            method="vr-cd")
    vr = opts["variance_reduction"]
    n = int(orc.n) if vr else 1
    b = _batch_opts(opts, n) if vr else n
    q = opts["refresh"]
    q = (max(1, int(math.ceil(n / b))) if vr else 1) if q is None else int(q)
    if not vr:
        q = 1
    step = opts["step"]
    if step is None:
        L = _lipschitz_opts(opts, orc)
        if vr:
            Lc = orc.component_lipschitz()
            if Lc is None:
                Lc = orc.global_lipschitz()
            if not (math.isfinite(Lc) and Lc >= 0):
                raise ValueError(f"the components' Lipschitz constant is not finite ({Lc}): check the design `A`")
            L = L + Lc * math.sqrt(q / b)
        step = 1.0 / L
    else:
        step = float(step)
    rng = np.random.default_rng(0 if opts["rng"] is None else opts["rng"])  # (None: reproducible)
    out = x0.dtype
    measure, _ = _measure(problem, orc, prox, B)
    xk = B.split(x0f)
    gfull, fx = orc.full_grad(xk)
    yield Step(xp.astype(B.full(xk), out), fx + prox.value(B.full(xk)), measure(xk, gfull), step=step)
    x_prev = list(xk)          # x_{k-1} (the previous cycle's iterate)
    g = None
    k = 0
    while True:
        k += 1
        full = (k - 1) % q == 0
        rows = None if full else (np.sort(rng.choice(n, size=b, replace=False)) if b < n else np.arange(n))
        st_new = orc.start(xk, rows)                     # mixed points of this cycle
        st_old = None if full else orc.start(x_prev, rows)   # ... and of the previous one
        xnew = []
        gk = []
        for j in range(B.m):
            if full:
                gj = orc.block_grad(st_new, j)
            else:
                gj = g[j] + orc.block_grad(st_new, j) - orc.block_grad(st_old, j)
            xj = prox(xk[j] - step * gj, step, j)
            st_new = orc.move(st_new, j, xj - xk[j])
            if not full:
                st_old = orc.move(st_old, j, xk[j] - x_prev[j])
            xnew.append(xj)
            gk.append(gj)
        orc.sweep_done(rows)
        if not full:
            orc.sweep_done(rows)
        g = gk
        x_prev, xk = xk, xnew
        gfull, fx = orc.full_grad(xk)
        yield Step(xp.astype(B.full(xk), out), fx + prox.value(B.full(xk)), measure(xk, gfull), step=step,
                   full_gradient=bool(full))


def _example(xp):
    from ..datafits import Quadratic
    from ..oracles import LinearComposite
    from ..prox import L1

    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 10))
    b = rng.standard_normal(30)
    return dict(fun=LinearComposite(Quadratic(xp.asarray(b)), xp.asarray(A)), x0=xp.zeros(10, dtype=xp.float64),
                prox=L1(0.05), options={"rng": 0})


_COMMON = {
    "maxiter": Option(1000, "Maximum number of iterations (default 1000): cyclic sweeps (VR methods: epochs / "
                            "cycles).", Interval(0, integer=True)),
    "blocks": Option(None, "Partition: None (single coordinates), an int block size, or a list of index arrays "
                           "partitioning the variables (g must be separable over it)."),
    "L": Option(None, "Smoothness constant L used by the step rule; default sqrt(L_f * sum_b L_b) (bounds the "
                      "cyclic / Mahalanobis constant), plus the components' mean-square constant for the VR "
                      "methods.", NoneOr(Interval(0, open=("lo",))), aliases=("lipschitz",)),
    "rng": Option(None, "Seed or numpy Generator for the minibatches (variance reduction); None = a fixed default "
                        "seed (0), so that a default run is reproducible.", Rng()),
    "batch_size": Option(None, "Minibatch size for variance reduction (default ceil(sqrt(n))).",
                         NoneOr(Interval(1, integer=True))),
}

register(MethodSpec(
    name="acoder", family="bcd",
    summary="A-CODER: accelerated cyclic coordinate dual averaging with extrapolation (and VR-A-CODER)",
    solve=_acoder, requires=("grad",), example=_example, backends=("numpy", "array_api_strict"), accepts_prox=True,
    float64_internal=True,
    options={
        "tol": Option(1e-8, "Relative duality gap gap/P(0) for l1 / elastic-net GLMs, else the prox-gradient norm.",
                      Interval(0)),
        **_COMMON,
        "variance_reduction": Option(False, "VR-A-CODER: SVRG estimators on minibatches inside the cyclic sweeps "
                                            "(finite sums: LinearComposite or FiniteSum).", Flag()),
        "gamma": Option(None, "Strong convexity modulus of g (default: from SquaredL2 / ElasticNet, else 0).",
                        NoneOr(Interval(0))),
        "inner_maxiter": Option(None, "VR-A-CODER: cyclic sweeps per epoch (default ceil(n / batch_size)).",
                                NoneOr(Interval(1, integer=True)), aliases=("inner",)),
    },
    optimality="relative duality gap gap(y)/P(0) for l1/elastic-net models; else ||y - prox(y - grad f(y))||",
    rate_text="F(y_k) - F* = O(L ||x0 - x*||^2 / k^2) with L the Lipschitz constant of grad f w.r.t. a Mahalanobis "
              "norm (at most sqrt(m) times the Euclidean one); linear when g is strongly convex "
              "(Lin, Song & Diakonikolas 2023). The step rule gives A_k >= k^2/(8L).",
    rate=None,
    reference="C. Y. Lin, C. Song, J. Diakonikolas. Accelerated Cyclic Coordinate Dual Averaging with Extrapolation "
              "for Composite Convex Optimization. ICML 2023 (arXiv:2303.16279)."))

register(MethodSpec(
    name="vr-cd", family="bcd",
    summary="Cyclic proximal block coordinate descent with recursive variance reduction (VR-CD; nonconvex f)",
    solve=_vr_cd, requires=("grad",), example=_example, backends=("numpy", "array_api_strict"), accepts_prox=True,
    float64_internal=True,
    options={
        "tol": Option(1e-8, "Relative duality gap for l1/elastic-net GLMs, else the prox-gradient norm.",
                      Interval(0)),
        **_COMMON,
        "variance_reduction": Option(True, "Recursive (SPIDER/SARAH-type) estimators on minibatches; False = the "
                                           "deterministic cyclic proximal block gradient method (P-CCD).", Flag()),
        "step": Option(None, "Step size eta (default 1 / (L + L_bar sqrt(refresh / batch_size))).",
                       NoneOr(Interval(0, open=("lo",)))),
        "refresh": Option(None, "Cycles between exact partial gradients (default ceil(n / batch_size)).",
                          NoneOr(Interval(1, integer=True))),
    },
    optimality="relative duality gap for l1/elastic-net models; else ||x - prox(x - grad f(x))||",
    rate_text="min_k E||G(x_k)||^2 = O(L (F(x0) - F*) / K) for the gradient mapping G with L the Mahalanobis-norm "
              "Lipschitz constant; linear under a PL condition (Cai, Song, Wright & Diakonikolas 2023).",
    rate=None,
    reference="X. Cai, C. Song, S. J. Wright, J. Diakonikolas. Cyclic Block Coordinate Descent With Variance "
              "Reduction for Composite Nonconvex Optimization. ICML 2023 (arXiv:2212.05088)."))


def acoder(problem, x0=None, *, blocks=None, variance_reduction=False, maxiter=1000, tol=1e-8, rng=None,
           callback=None, **options):
    """Minimize ``f(x) + g(x)`` by A-CODER (``variance_reduction=True``: VR-A-CODER).

    ``problem``: a :class:`numopt.Problem` (e.g. ``problems.get("libsvm/a9a", model="logreg",
    lam_ratio=0.01)``) whose objective is convex with block gradients (``LinearComposite`` or
    ``block_grad``), and whose regularizer is separable over ``blocks``. Options:
    ``L`` (old name ``lipschitz``), ``gamma``, ``batch_size``, ``inner_maxiter`` (old name ``inner``)
    (see the module docstring and
    ``numopt.show_options("acoder")``). Returns an ``OptimizeResult`` (``x`` = the last
    ``y_k``; one iteration = one cyclic sweep, or one epoch of VR-A-CODER).
    """
    from .._minimize import minimize

    opts = dict(options, blocks=blocks, variance_reduction=variance_reduction, rng=rng, maxiter=maxiter)
    return minimize(problem, x0, method="acoder", tol=tol, callback=callback, options=opts)


def vr_cyclic_cd(problem, x0=None, *, blocks=None, variance_reduction=True, maxiter=1000, tol=1e-8, rng=None,
                 callback=None, **options):
    """Minimize ``f(x) + g(x)`` (``f`` possibly nonconvex, a finite sum when
    ``variance_reduction``) by cyclic proximal block coordinate descent with recursive
    variance reduction (VR-CD, Cai et al. 2023). Options: ``step``, ``batch_size``,
    ``refresh``, ``L`` (old name ``lipschitz``) (see ``numopt.show_options("vr-cd")``). One iteration = one
    cycle over the blocks."""
    from .._minimize import minimize

    opts = dict(options, blocks=blocks, variance_reduction=variance_reduction, rng=rng, maxiter=maxiter)
    return minimize(problem, x0, method="vr-cd", tol=tol, callback=callback, options=opts)
