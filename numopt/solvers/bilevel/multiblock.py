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

from ..._options import Choices, Interval, NoneOr, Option, generator
from ..._registry import MethodSpec, register
from ._common import BATCH, NONNEGATIVE, POSITIVE, RNG, count, maxiter_option, reporter, tol_option

__all__ = ["MultiBlockBilevelProblem", "BSVRB_DEFAULTS"]

_COUNT = Interval(1, integer=True)


def _per_block_sizes(v, m, name):
    if v is None:
        return None
    if isinstance(v, (list, tuple, np.ndarray)):
        if len(v) != m:
            raise ValueError(f"`{name}`: {len(v)} per-block sample counts for n_blocks = {m} blocks")
        return [_COUNT(name, c) for c in v]
    return [_COUNT(name, v)] * m


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
        self.n_samples = tuple(_per_block_sizes(v, self.m, "n_samples") for v in pair)
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


def _block_sampler(problem, batch_size, rng):
    """Per-block minibatch indices ``draw(i) -> (idx_upper, idx_lower)``; None = the full sum.
    ``batch_size`` (checked by its option) is an int for both levels or a pair."""
    if batch_size is None:
        return lambda i: (None, None)
    if not (problem.is_finite_sum("upper") or problem.is_finite_sum("lower")):
        raise ValueError("`batch_size` needs finite-sum blocks: declare MultiBlockBilevelProblem(..., n_samples=...)")
    pair = tuple(batch_size) if isinstance(batch_size, (tuple, list)) else (batch_size, batch_size)

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


def _block_batch(problem, opts):
    """The number S of blocks sampled per iteration, checked against n_blocks and beta."""
    m = problem.m
    S = m if opts["block_batch"] is None else opts["block_batch"]
    if S > m:
        raise ValueError(f"`block_batch` = {S} exceeds the number of blocks n_blocks = {m}")
    if S < m and opts["beta"] >= 1:
        raise ValueError("`beta` must be < 1 when block_batch < n_blocks (the MSVR weight gamma has 1 - beta "
                         "in its denominator)")
    return S


def _default_steps(problem, x, Y, opts, S):
    """``(tau, floor)``: the lower step and the Hessian floor of v1, from the options or, when
    None, from full block Hessians at the start (at most 8 blocks)."""
    m, beta = problem.m, opts["beta"]
    tau, floor = opts["inner_step"], opts["hessian_floor"]
    if tau is None or (floor is None and opts["variant"] == "v1"):
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
    return tau, floor


class _Estimators:
    """BSVRB's per-block MSVR estimators: U (grad_y g_i), v1's Hhat (grad_yy g_i) and the inverses
    of their floored projections, v2's Z (s_i ~ H_i^{-1} grad_y f_i) and R (residuals
    H_i s_i - grad_y f_i); ``visit`` updates block i and returns its hypergradient estimates at
    the current and the previous state (None at a block's first visit), f_i and ||grad_y g_i||."""

    def __init__(self, problem, Y, opts, gamma, floor, zs):
        m, dy = Y.shape
        self.problem, self.opts, self.gamma, self.floor, self.zs = problem, opts, gamma, floor, zs
        self.v1 = opts["variant"] == "v1"
        self.U = np.zeros_like(Y)
        self.Hhat = np.zeros((m, dy, dy)) if self.v1 else None
        self.Hinv = np.zeros((m, dy, dy)) if self.v1 else None
        self.Z = np.zeros_like(Y)
        self.R = np.zeros_like(Y)
        self.seen = np.zeros(m, dtype=bool)

    def _msvr(self, est, cur, prev):
        beta = self.opts["beta"]
        return (1 - beta) * est + beta * cur + self.gamma * (cur - prev)

    def _phi(self, i, x, y, iu, il, q_of_fy):
        """Block hypergradient estimate grad_x f_i - grad_xy g_i q and f_i's minibatch value."""
        f, fx, fy = self.problem.upper(i, x, y, iu)
        return fx - self.problem.cross(i, x, y, q_of_fy(fy), il), f

    def visit(self, i, x, y, xp, yp, Zp, iu, il):
        P, first = self.problem, not self.seen[i]
        gy = P.lower(i, x, y, il)[2]
        self.U[i] = gy if first else self._msvr(self.U[i], gy, P.lower(i, xp, yp, il)[2])
        if self.v1:
            H = P.hessian_yy(i, x, y, il)
            self.Hhat[i] = H if first else self._msvr(self.Hhat[i], H, P.hessian_yy(i, xp, yp, il))
            self.Hinv[i] = _floor_inverse(self.Hhat[i], self.floor)
            q_of = lambda fy: self.Hinv[i] @ fy  # noqa: E731
        else:
            fy = P.upper(i, x, y, iu)[2]
            rc = P.hvp_yy(i, x, y, self.Z[i], il) - fy
            if first:
                self.R[i] = rc
            else:
                fyp = P.upper(i, xp, yp, iu)[2]
                self.R[i] = self._msvr(self.R[i], rc, P.hvp_yy(i, xp, yp, Zp[i], il) - fyp)
            self.Z[i] = self.Z[i] - self.zs * self.R[i]
            radius = self.opts["z_radius"]
            if radius is not None:
                nz = np.linalg.norm(self.Z[i])
                if nz > radius:
                    self.Z[i] *= radius / nz
            s_i = self.Z[i]
            q_of = lambda fy: s_i  # noqa: E731
        p_cur, f = self._phi(i, x, y, iu, il, q_of)
        p_old = None if first else self._phi(i, xp, yp, iu, il, q_of)[0]
        return p_cur, p_old, f, float(np.linalg.norm(gy))


def bsvrb(problem, start, opts):
    """BSVRB^{v1} / BSVRB^{v2} iterations (a generator of Steps; see the module docstring)."""
    report = reporter(*start)
    m, S = problem.m, _block_batch(problem, opts)
    rng = generator(opts["rng"])  # rng=None: a fixed seed (reproducible)
    draw = _block_sampler(problem, opts["batch_size"], rng)
    x = np.asarray(start[0], dtype=float).copy()
    Y = np.asarray(start[1], dtype=float).copy()
    beta, bx = opts["beta"], opts["beta_x"]
    gamma = (m - S) / (S * (1 - beta)) + (1 - beta) if S < m else 1 - beta
    tau, floor = _default_steps(problem, x, Y, opts, S)
    est = _Estimators(problem, Y, opts, gamma, floor, tau if opts["z_step"] is None else opts["z_step"])
    x_prev, Y_prev, Z_prev, v = x.copy(), Y.copy(), est.Z.copy(), None
    for k in range(int(opts.get("maxiter", 10 ** 7)) + 1):  # bounded; the shared loop stops at maxiter
        blocks = rng.choice(m, S, replace=False) if S < m else np.arange(m)
        cur, old, fvals, res = [], [], [], []
        Z_start = None if est.v1 else est.Z.copy()  # s at the start of this iteration (the next one's previous state)
        for i in blocks:
            iu, il = draw(i)
            p_cur, p_old, f, r = est.visit(i, x, Y[i], x_prev, Y_prev[i], Z_prev, iu, il)
            cur.append(p_cur)
            old.append(p_old)
            fvals.append(f)
            res.append(r)
        g_cur = sum(cur) / S
        if v is None:
            v = g_cur
        else:
            # STORM/MSVR momentum; a block visited for the first time has no previous state to
            # difference against: its current estimate stands in (it then enters with weight beta_x)
            g_old = sum(c if o is None else o for c, o in zip(cur, old)) / S
            v = g_cur + (1 - bx) * (v - g_old)
        est.seen[blocks] = True
        # optimality: ||v_t|| plus the sampled blocks' lower-level gradient norms (a small v_t
        # means little while the lower levels are unsolved)
        yield report(x, sum(fvals) / S, float(np.linalg.norm(v)) + sum(res) / S, Y, hypergrad=v,
                     lower_residual=sum(res) / S)
        x_prev, Y_prev = x.copy(), Y.copy()
        if not est.v1:
            Z_prev = Z_start
        x = x - opts["step"] / (k + 1) ** opts["step_power"] * v
        Y[blocks] = Y[blocks] - tau * est.U[blocks]
        if not (math.isfinite(float(np.sum(x))) and math.isfinite(float(np.sum(Y)))):
            return 2, "non-finite iterate (step too large?)"
    return 1, "Maximum number of iterations reached."


# ------------------------------------------------------------------------- registration

_UNIT_CLOSED = Interval(0, 1, open=("lo",))

BSVRB_OPTIONS = {
    "maxiter": maxiter_option(1000),
    "tol": tol_option(1e-6, "||v_t|| + the sampled blocks' mean ||grad_y g_i||"),
    "variant": Option("v1", "'v1' (MSVR-tracked Hessian matrices, floored and inverted) or 'v2' (Hessian-vector "
                            "products only).", Choices("v1", "v2")),
    "step": Option(0.1, "Step on x, step / (k+1)^step_power.", POSITIVE),
    "step_power": Option(0.0, "Decay of the x-step.", NONNEGATIVE),
    "inner_step": Option(None, "Step of the lower variables (None: 1/L from the block Hessians at the start, "
                               "divided by 1 + (m - S) / (S (1 - beta)) when blocks are sampled).", NoneOr(POSITIVE)),
    "z_step": Option(None, "v2: step of s_i (None: inner_step).", NoneOr(POSITIVE)),
    "beta": Option(0.2, "MSVR weight of the block estimators, in (0, 1] (< 1 when block_batch < n_blocks).",
                   _UNIT_CLOSED),
    "beta_x": Option(0.1, "STORM weight of the hypergradient estimator, in (0, 1].", _UNIT_CLOSED),
    "block_batch": Option(None, "Blocks sampled per iteration, S <= n_blocks (None: all).", NoneOr(count(1))),
    "batch_size": BATCH,
    "hessian_floor": Option(None, "v1: eigenvalue floor of the Hessian estimators (None: 1e-2 x the smallest "
                                  "eigenvalue at the start).", NoneOr(POSITIVE)),
    "z_radius": Option(None, "v2: radius of the ball s_i is projected on (None: none).", NoneOr(POSITIVE)),
    "rng": RNG,
}

# the defaults as a plain dict (kept for code that read the old module-level table)
BSVRB_DEFAULTS = {k: o.default for k, o in BSVRB_OPTIONS.items() if k not in ("maxiter", "tol")}


def _example(xp=np, m=3, dx=2, dy=2, rho=0.1, seed=0):
    """A small multi-block instance for the contract tests: f_i = 1/2||y - b_i||^2 + rho/2||x||^2,
    g_i = 1/2||y - B_i x||^2 (y_i* = B_i x); x* solves (mean B_i^T B_i + rho I) x = mean B_i^T b_i."""
    rng = np.random.default_rng(seed)
    Bs, bs = rng.standard_normal((m, dy, dx)), rng.standard_normal((m, dy))

    def upper(i, x, y):
        return 0.5 * float((y - bs[i]) @ (y - bs[i])) + 0.5 * rho * float(x @ x), rho * x, y - bs[i]

    def lower(i, x, y):
        r = y - Bs[i] @ x
        return 0.5 * float(r @ r), -Bs[i].T @ r, r

    MB = MultiBlockBilevelProblem(upper, lower, m, lower_hvp=lambda i, x, y, v: v,
                                  lower_cross=lambda i, x, y, v: -Bs[i].T @ v)
    A = np.mean([B.T @ B for B in Bs], axis=0) + rho * np.eye(dx)
    xs = np.linalg.solve(A, np.mean([B.T @ b for B, b in zip(Bs, bs)], axis=0))
    f_star = float(np.mean([upper(i, xs, Bs[i] @ xs)[0] for i in range(m)]))
    return {"problem": MB, "x0": np.zeros(dx), "y0": np.zeros((m, dy)), "f_star": f_star}


def _finalize(res, problem, opts):
    """The trace's ``fun`` holds averages over the sampled blocks (and minibatches): the result
    gets the full value (1/m) sum_i f_i(x, y_i) and keeps the last estimate as ``fun_minibatch``."""
    res.fun_minibatch = res.fun
    res.fun = problem.value(np.asarray(res.x, dtype=float), np.asarray(res.y, dtype=float))
    return res


register(MethodSpec(
    name="bsvrb", summary="BSVRB: blockwise stochastic variance-reduced method for multi-block bilevel problems",
    solve=bsvrb, options=BSVRB_OPTIONS, family="bilevel", kind="bilevel", backends=("numpy",),
    float64_internal=True, requires=("blocks", "upper", "lower", "lower_hvp", "lower_cross"), x_ndim=(1,),
    example=_example, finalize=_finalize,
    optimality="||v_t|| + mean ||grad_y g_i|| over the sampled blocks (v_t: the STORM hypergradient estimate)",
    rate_text="O(m eps^{-3} 1{S < m} / (S sqrt(S)) + m eps^{-3} / (S sqrt(B))) iterations for an eps-stationary "
              "point (quoted from the paper's abstract; not re-derived).",
    reference="Hu, Qiu, Guo, Zhang & Yang, Blockwise stochastic variance-reduced methods with parallel speedup for "
              "multi-block bilevel optimization, ICML 2023."))
