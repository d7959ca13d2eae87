"""Multi-block bilevel optimization and BSVRB.

    min_x  Phi(x) = (1/m) sum_i f_i(x, y_i*(x)),     y_i*(x) = argmin_y g_i(x, y),  i = 1..m,

with one lower-level problem per block (a task, a data owner, a constraint...), each
strongly convex in its own y_i in R^{d_y}. Declare it with :class:`MultiBlockBilevelProblem`
and solve it with ``numopt.bilevel(problem, x0, Y0, method="bsvrb")`` (``Y0`` of shape
``(m, d_y)``, one row per block).

BSVRB: the blockwise stochastic variance-reduced bilevel method of Hu, Qiu, Guo, Zhang &
Yang, "Blockwise Stochastic Variance-Reduced Methods with Parallel Speedup for Multi-Block
Bilevel Optimization", ICML 2023 (BSVRB^{v1} and BSVRB^{v2}). Per iteration it samples
``block_batch`` = S of the m blocks and, in each sampled block, minibatches of the block's
samples (``batch_size``), and keeps per-block estimators updated with the MSVR estimator
(multi-block single-probe variance reduction, Jiang et al. 2022): for a block i sampled at
iteration t and a quantity h_i (lower gradient, Hessian, linear-system residual)

    u_i <- (1 - beta) u_i + beta h_i(w_t; B) + gamma (h_i(w_t; B) - h_i(w_{t-1}; B)),
    gamma = (m - S) / (S (1 - beta)) + (1 - beta),

with the same minibatch B at the current and the previous state (blocks not sampled keep
their estimators). Then

* lower variables: ``y_i <- y_i - inner_step * u_i`` (u_i estimates grad_y g_i(x, y_i));
* v1: the Hessian ``grad_yy g_i`` (a d_y x d_y matrix from d_y Hessian-vector products, or
  ``lower_hessian``) is MSVR-estimated, symmetrized and projected onto ``{H >= hessian_floor I}``
  by an eigenvalue floor, and inverted; v2 (Hessian-inverse free): s_i ~ [grad_yy g_i]^{-1}
  grad_y f_i is tracked by steps ``s_i <- s_i - z_step * r_i`` with r_i the MSVR estimate of
  the linear-system residual ``grad_yy g_i s_i - grad_y f_i``;
* hypergradient: the block estimates
  ``phi_i = grad_x f_i - grad_xy g_i [H_i^{-1} grad_y f_i or s_i]`` averaged over the sampled
  blocks enter a STORM/MSVR momentum estimator
  ``v_t = mean_i phi_i(w_t) + (1 - beta_x) (v_{t-1} - mean_i phi_i(w_{t-1}))`` (same blocks and
  samples at both states); ``x <- x - step * v_t``.

The paper states, for smooth f_i and strongly convex smooth g_i, an iteration complexity
``O(m eps^{-3} 1{S < m} / (S sqrt(S)) + m eps^{-3} / (S sqrt(B)))`` for an eps-stationary
point: a parallel speedup in both the number of sampled blocks S and the per-block batch B
(quoted from our reading of the paper's abstract; the theorem's conditions and constants
were not re-derived here). What is our reading rather than
the paper's text: the order of the updates inside an iteration, the STORM difference taken
between the block estimators before and after this iteration's update, the lazy
initialization of a block's estimators at its first sampling, and v2's residual estimator.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .._loop import Step
from ..oracles import check_scalar

__all__ = ["MultiBlockBilevelProblem", "BSVRB_DEFAULTS"]


def _per_block_sizes(v, m, name):
    if v is None:
        return None
    if isinstance(v, (list, tuple, np.ndarray)):
        if len(v) != m:
            raise ValueError(f"`{name}`: {len(v)} per-block sample counts for n_blocks = {m} blocks")
        out = []
        for c in v:
            check_scalar(int(c) if isinstance(c, np.integer) else c, name, lower=1, integer=True)
            out.append(int(c))
        return out
    check_scalar(v, name, lower=1, integer=True)
    return [int(v)] * m


class MultiBlockBilevelProblem:
    """``min_x (1/m) sum_i f_i(x, y_i*(x))``, ``y_i*(x) = argmin_y g_i(x, y)``, i = 0..m-1.

    ``upper(i, x, y_i)`` and ``lower(i, x, y_i)`` return ``(value, grad_x, grad_y)`` of f_i and
    g_i for block i (y_i: the block's lower variable, a vector of length d_y, the same for all
    blocks). Optional second-order oracles of g_i: ``lower_hvp(i, x, y_i, v)`` =
    grad_yy g_i v, ``lower_cross(i, x, y_i, v)`` = grad_xy g_i v (a y-vector to an x-vector),
    ``lower_hessian(i, x, y_i)`` = the d_y x d_y matrix (else d_y Hessian-vector products);
    missing ones come from central differences of the gradients.

    ``n_samples``: None (deterministic blocks), an int (every level of every block is an
    average of that many samples), or a pair ``(n_upper, n_lower)`` whose entries are None, an
    int or a sequence of m per-block counts. A finite-sum level's oracles accept an extra
    ``idx`` (integer array) and return the average over those samples, e.g.
    ``lower(i, x, y_i, idx)``, ``lower_hvp(i, x, y_i, v, idx)``."""

    def __init__(self, upper, lower, n_blocks, lower_hvp=None, lower_cross=None, lower_hessian=None,
                 n_samples=None, fd_step=1e-6):
        for name, fn in (("upper", upper), ("lower", lower)):
            if not callable(fn):
                raise TypeError(f"`{name}` must be callable: (i, x, y_i) -> (value, grad_x, grad_y)")
        for name, fn in (("lower_hvp", lower_hvp), ("lower_cross", lower_cross), ("lower_hessian", lower_hessian)):
            if fn is not None and not callable(fn):
                raise TypeError(f"`{name}` must be callable or None")
        if isinstance(n_blocks, bool) or not isinstance(n_blocks, numbers.Integral) or n_blocks < 1:
            raise ValueError(f"`n_blocks` must be a positive integer, got {n_blocks!r}")
        self.m = int(n_blocks)
        self._upper, self._lower = upper, lower
        self._hvp, self._cross, self._hess, self.h = lower_hvp, lower_cross, lower_hessian, fd_step
        if n_samples is None:
            pair = (None, None)
        elif isinstance(n_samples, tuple):
            if len(n_samples) != 2:
                raise ValueError("`n_samples` must be an int or a pair (n_upper, n_lower)")
            pair = n_samples
        else:
            pair = (n_samples, n_samples)
        self.n_samples = (_per_block_sizes(pair[0], self.m, "n_samples"), _per_block_sizes(pair[1], self.m, "n_samples"))
        self.counts = {"upper": 0, "lower": 0, "upper_samples": 0, "lower_samples": 0}

    # -- oracles ---------------------------------------------------------------------------
    def is_finite_sum(self, name):
        return self.n_samples[0 if name == "upper" else 1] is not None

    def _block(self, i):
        if not 0 <= i < self.m:
            raise IndexError(f"block {i} out of range (n_blocks = {self.m})")

    def _call(self, fn, name, i, x, y, idx):
        if not 0 <= i < self.m:
            self._block(i)
        sizes = self.n_samples[0 if name == "upper" else 1]
        if idx is None:
            out = fn(i, x, y)
        else:
            if sizes is None:
                raise ValueError(f"a minibatch of `{name}` was requested but `{name}` is not declared as a finite "
                                 "sum: pass n_samples to MultiBlockBilevelProblem")
            out = fn(i, x, y, idx)
        self.counts[name] += 1
        self.counts[name + "_samples"] += (1 if sizes is None else sizes[i]) if idx is None else len(idx)
        if not (isinstance(out, tuple) and len(out) == 3):
            raise ValueError(f"`{name}(i, x, y_i)` must return (value, grad_x, grad_y)")
        v, gx, gy = float(out[0]), np.asarray(out[1], dtype=float), np.asarray(out[2], dtype=float)
        if gx.shape != x.shape or gy.shape != y.shape:
            raise ValueError(f"`{name}` of block {i} returned grad_x of shape {gx.shape} and grad_y of shape "
                             f"{gy.shape}; expected {np.shape(x)} and {np.shape(y)}")
        return v, gx, gy

    def upper(self, i, x, y, idx=None):
        """``(f_i, grad_x f_i, grad_y f_i)`` (with ``idx``: the minibatch average)."""
        return self._call(self._upper, "upper", i, x, y, idx)

    def lower(self, i, x, y, idx=None):
        """``(g_i, grad_x g_i, grad_y g_i)`` (with ``idx``: the minibatch average)."""
        return self._call(self._lower, "lower", i, x, y, idx)

    def _second(self, fn, i, x, y, v, idx):
        out = fn(i, x, y, v) if idx is None else fn(i, x, y, v, idx)
        return np.asarray(out, dtype=float)

    def _fd(self, i, x, y, v, part, idx):
        nv = np.linalg.norm(v)
        if nv == 0:
            return np.zeros_like(y if part == 2 else x)
        t = self.h * max(1.0, np.linalg.norm(y)) / nv
        return (self.lower(i, x, y + t * v, idx)[part] - self.lower(i, x, y - t * v, idx)[part]) / (2 * t)

    def hvp_yy(self, i, x, y, v, idx=None):
        """grad_yy g_i v."""
        self._block(i)
        if self._hvp is not None:
            return self._second(self._hvp, i, x, y, v, idx)
        return self._fd(i, x, y, v, 2, idx)

    def cross(self, i, x, y, v, idx=None):
        """grad_xy g_i v (a y-vector to an x-vector)."""
        self._block(i)
        if self._cross is not None:
            return self._second(self._cross, i, x, y, v, idx)
        return self._fd(i, x, y, v, 1, idx)

    def hessian_yy(self, i, x, y, idx=None):
        """The d_y x d_y matrix grad_yy g_i (``lower_hessian`` or d_y Hessian-vector products)."""
        self._block(i)
        if self._hess is not None:
            H = np.asarray(self._hess(i, x, y) if idx is None else self._hess(i, x, y, idx), dtype=float)
            if H.shape != (y.size, y.size):
                raise ValueError(f"`lower_hessian` returned shape {H.shape}; expected {(y.size, y.size)}")
            return H
        return np.column_stack([self.hvp_yy(i, x, y, e, idx) for e in np.eye(y.size)])

    def value(self, x, Y):
        """(1/m) sum_i f_i(x, Y[i]) (full sums)."""
        return float(np.mean([self.upper(i, x, Y[i])[0] for i in range(self.m)]))

    def hypergradient(self, x, Y):
        """(1/m) sum_i [grad_x f_i - grad_xy g_i (grad_yy g_i)^{-1} grad_y f_i] at (x, Y), with the
        linear systems solved exactly (dense Hessians): the hypergradient when Y = Y*(x)."""
        x = np.asarray(x, dtype=float)
        out = np.zeros_like(x)
        for i in range(self.m):
            _, fx, fy = self.upper(i, x, Y[i])
            H = self.hessian_yy(i, x, Y[i])
            out += fx - self.cross(i, x, Y[i], np.linalg.solve(0.5 * (H + H.T), fy))
        return out / self.m

    def check(self, x0, Y0):
        """Shape checks of the starting point and one call of each block's oracles."""
        x0 = np.asarray(x0, dtype=float)
        Y0 = np.asarray(Y0, dtype=float)
        if x0.ndim != 1:
            raise ValueError(f"`x0` must be a 1-D array, got shape {x0.shape}")
        if Y0.ndim != 2 or Y0.shape[0] != self.m:
            raise ValueError(f"`y0` must have shape (n_blocks, d_y) = ({self.m}, d_y) for a multi-block problem, "
                             f"got {Y0.shape}")
        for i in range(self.m):
            self.upper(i, x0, Y0[i])
            self.lower(i, x0, Y0[i])
        return x0, Y0


BSVRB_DEFAULTS = {"variant": "v1", "step": 0.1, "inner_step": None, "z_step": None, "beta": 0.2, "beta_x": 0.1,
                  "block_batch": None, "batch_size": None, "hessian_floor": None, "z_radius": None, "step_power": 0.0,
                  "rng": None}


def _sampler(problem, batch_size, rng):
    """Per-block minibatch indices ``draw(i) -> (idx_upper, idx_lower)``; None = the full sum."""
    if batch_size is None:
        return lambda i: (None, None)
    if not (problem.is_finite_sum("upper") or problem.is_finite_sum("lower")):
        raise ValueError("`batch_size` needs finite-sum blocks: declare MultiBlockBilevelProblem(..., n_samples=...)")
    pair = tuple(batch_size) if isinstance(batch_size, (tuple, list)) else (batch_size, batch_size)
    if len(pair) != 2:
        raise ValueError("`batch_size` must be an int or a pair (upper, lower)")
    for b in pair:
        check_scalar(b, "batch_size", lower=1, integer=True, allow_none=True)

    def draw(i):
        out = []
        for sizes, b in zip(problem.n_samples, pair):
            if sizes is None or b is None or b >= sizes[i]:
                out.append(None)
            else:
                out.append(rng.integers(0, sizes[i], b))
        return tuple(out)
    return draw


def _floor_inverse(H, floor):
    """Inverse of the projection of sym(H) onto {A >= floor I} (eigenvalues clipped)."""
    w, V = np.linalg.eigh(0.5 * (H + H.T))
    return (V / np.maximum(w, floor)) @ V.T


def bsvrb(problem, x0, Y0, opts):
    """BSVRB^{v1} / BSVRB^{v2} iterations (a generator of :class:`Step`; see the module docstring)."""
    opts = dict(opts)
    if opts["variant"] not in ("v1", "v2"):
        raise ValueError(f"`variant` must be 'v1' or 'v2', got {opts['variant']!r}")
    m = problem.m
    S = m if opts["block_batch"] is None else opts["block_batch"]
    check_scalar(S, "block_batch", lower=1, integer=True)
    if S > m:
        raise ValueError(f"`block_batch` = {S} exceeds the number of blocks n_blocks = {m}")
    for k in ("beta", "beta_x"):
        check_scalar(opts[k], k, lower=0, lower_inclusive=False)
        if opts[k] > 1:
            raise ValueError(f"`{k}` must be in (0, 1], got {opts[k]!r}")
    if S < m and opts["beta"] >= 1:
        raise ValueError("`beta` must be < 1 when block_batch < n_blocks (the MSVR weight gamma has 1 - beta "
                         "in its denominator)")
    check_scalar(opts["step"], "step", lower=0, lower_inclusive=False)
    check_scalar(opts["hessian_floor"], "hessian_floor", lower=0, lower_inclusive=False, allow_none=True)
    check_scalar(opts["step_power"], "step_power", lower=0)
    rng = np.random.default_rng(0 if opts["rng"] is None else opts["rng"])  # rng=None: a fixed seed (reproducible)
    draw = _sampler(problem, opts["batch_size"], rng)
    x = np.asarray(x0, dtype=float).copy()
    Y = np.asarray(Y0, dtype=float).copy()
    dy = Y.shape[1]
    beta, bx = opts["beta"], opts["beta_x"]
    gamma = (m - S) / (S * (1 - beta)) + (1 - beta) if S < m else 1 - beta
    tau, floor = opts["inner_step"], opts["hessian_floor"]
    if tau is None or (floor is None and opts["variant"] == "v1"):
        # 1 / L and a floor for the Hessian estimators, from full block Hessians at the start (at most 8 blocks)
        Hs = [problem.hessian_yy(i, x, Y[i]) for i in range(min(m, 8))]
        if not all(np.all(np.isfinite(H)) for H in Hs):
            raise ValueError("the lower-level Hessians grad_yy g_i are not finite at the starting point (x0, y0): "
                             "the oracles returned NaN or inf there")
        ev = np.array([np.linalg.eigvalsh(0.5 * (H + H.T))[[0, -1]] for H in Hs])
        # with sampled blocks (S < m) the MSVR correction multiplies a block's one-step change (its
        # own y step included) by gamma ~ (m - S) / S, so the default lower step is then
        # 1 / (L (1 + (m - S) / (S (1 - beta)))) rather than 1 / L
        tau = 1.0 / (max(float(ev[:, 1].max()), 1e-12) * (1 + (m - S) / (S * (1 - beta)))) if tau is None else tau
        floor = max(1e-2 * float(ev[:, 0].min()), 1e-10) if floor is None else floor
    check_scalar(tau, "inner_step", lower=0, lower_inclusive=False)
    zs = tau if opts["z_step"] is None else opts["z_step"]
    v1 = opts["variant"] == "v1"
    U = np.zeros_like(Y)                          # MSVR estimators of grad_y g_i
    Hhat = np.zeros((m, dy, dy)) if v1 else None  # v1: MSVR estimators of grad_yy g_i
    Hinv = np.zeros((m, dy, dy)) if v1 else None  # v1: inverses of their floored projections
    Z = np.zeros_like(Y)                          # v2: s_i ~ H_i^{-1} grad_y f_i
    R = np.zeros_like(Y)                          # v2: MSVR estimators of H_i s_i - grad_y f_i
    seen = np.zeros(m, dtype=bool)
    x_prev, Y_prev, Z_prev, v = x.copy(), Y.copy(), Z.copy(), None

    def phi(i, x, y, iu, il, Hinv_i=None, s_i=None):
        """Block hypergradient estimate and f_i's minibatch value at (x, y)."""
        f, fx, fy = problem.upper(i, x, y, iu)
        q = Hinv_i @ fy if v1 else s_i
        return fx - problem.cross(i, x, y, q, il), f

    # bounded: the shared loop stops at maxiter (passed by bilevel() as "_maxiter")
    for k in range(int(opts.get("_maxiter", 10 ** 7)) + 1):
        blocks = rng.choice(m, S, replace=False) if S < m else np.arange(m)
        cur, old, fvals, res = [], [], [], []
        Z_start = None if v1 else Z.copy()  # s at the start of this iteration (the next one's previous state)
        for i in blocks:
            iu, il = draw(i)
            y, yp = Y[i], Y_prev[i]
            gy = problem.lower(i, x, y, il)[2]
            res.append(float(np.linalg.norm(gy)))
            first = not seen[i]
            if first:
                U[i] = gy
            else:
                gyp = problem.lower(i, x_prev, yp, il)[2]
                U[i] = (1 - beta) * U[i] + beta * gy + gamma * (gy - gyp)
            if v1:
                H = problem.hessian_yy(i, x, y, il)
                if first:
                    Hhat[i] = H
                else:
                    Hp = problem.hessian_yy(i, x_prev, yp, il)
                    Hhat[i] = (1 - beta) * Hhat[i] + beta * H + gamma * (H - Hp)
                Hinv[i] = _floor_inverse(Hhat[i], floor)
                p_cur, f = phi(i, x, y, iu, il, Hinv_i=Hinv[i])
                p_old = None if first else phi(i, x_prev, yp, iu, il, Hinv_i=Hinv[i])[0]
            else:
                fy = problem.upper(i, x, y, iu)[2]
                rc = problem.hvp_yy(i, x, y, Z[i], il) - fy
                if first:
                    R[i] = rc
                else:
                    fyp = problem.upper(i, x_prev, yp, iu)[2]
                    rp = problem.hvp_yy(i, x_prev, yp, Z_prev[i], il) - fyp
                    R[i] = (1 - beta) * R[i] + beta * rc + gamma * (rc - rp)
                Z[i] = Z[i] - zs * R[i]
                if opts["z_radius"] is not None:
                    nz = np.linalg.norm(Z[i])
                    if nz > opts["z_radius"]:
                        Z[i] *= opts["z_radius"] / nz
                p_cur, f = phi(i, x, y, iu, il, s_i=Z[i])
                p_old = None if first else phi(i, x_prev, yp, iu, il, s_i=Z[i])[0]
            cur.append(p_cur)
            old.append(p_old)
            fvals.append(f)
        g_cur = sum(cur) / S
        if v is None:
            v = g_cur
        else:
            # STORM/MSVR momentum; a block visited for the first time has no previous state to
            # difference against: its current estimate stands in (it then enters with weight beta_x)
            g_old = sum(c if o is None else o for c, o in zip(cur, old)) / S
            v = g_cur + (1 - bx) * (v - g_old)
        seen[blocks] = True
        # optimality: ||v_t|| plus the sampled blocks' lower-level gradient norms (a small v_t
        # means little while the lower levels are unsolved)
        yield Step(x.copy(), sum(fvals) / S, float(np.linalg.norm(v)) + sum(res) / S, y=Y.copy(),
                   hypergrad=v.copy(),
                   lower_residual=sum(res) / S, samples_upper=problem.counts["upper_samples"],
                   samples_lower=problem.counts["lower_samples"])
        x_prev, Y_prev = x.copy(), Y.copy()
        if not v1:
            Z_prev = Z_start
        x = x - opts["step"] / (k + 1) ** opts["step_power"] * v
        Y[blocks] = Y[blocks] - tau * U[blocks]
        if not (math.isfinite(float(np.sum(x))) and math.isfinite(float(np.sum(Y)))):
            return 2, "non-finite iterate (step too large?)"
    return 1, "Maximum number of iterations reached."
