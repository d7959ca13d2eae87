"""Nonnegative matrix factorization by Gauss-Seidel block coordinate descent with proximal
regularization (BCD-PR; Kwon & Lyu, ICML 2023): :func:`nmf_bcd_pr`.

    min_{W, H >= 0} F(W, H) = 1/2 ||X - W H||_F^2,
    W_k = argmin_{W >= 0} F(W, H_{k-1}) + lam/2 ||W - W_{k-1}||_F^2,
    H_k = argmin_{H >= 0} F(W_k, H) + lam/2 ||H - H_{k-1}||_F^2.

Each block problem is a strongly convex nonnegative least-squares problem, row-separable,
solved ``inner="exact"`` (numba coordinate sweeps per row with an exact solve on the
current support every 3 sweeps, until the projected gradient is below ``inner_tol``
relative; ``kernel="numpy"``: scipy's Lawson-Hanson NNLS per row, the reference) or
``inner="pgd"`` (``inner_maxiter`` projected gradient steps of size 1/(||H H^T||_2 + lam)).
Either way the block objective decreases from its value at the previous block, where
the proximal term is zero, so F(W_k, H_k) is nonincreasing.

Kind. Matrix factorization is the problem kind ``"nmf"`` with the front door
:func:`nmf_bcd_pr` (``numopt.nmf_bcd_pr``; method ``"nmf-bcd-pr"``). It does not run
through ``numopt.minimize``: the variable is a pair of matrices ``(W, H)`` and each
block step needs the data matrix ``X`` itself (Gram matrices ``H H^T``, ``X H^T``), not a
``fun``/``jac`` of one vector. This module moved out of ``numopt.solvers.bcd_extra``; the
numba row kernel stays in ``numopt.solvers._bcd_kernels`` (imported, not copied).

Stationarity (``optimality``, compared with ``tol``): ``(||min(W, grad_W F)||_F +
||min(H, grad_H F)||_F) / ||X||_F^2``, zero exactly at KKT points, scale-free in X.
Rate (Kwon & Lyu 2023): an eps-stationary point within O~(eps^-1) iterations, also with
inexact block solves under a summability condition.
"""
from __future__ import annotations

import math

import numpy as np

from .._loop import Step
from .._options import Choices, FiniteInterval, Interval, NoneOr, Option, generator
from .._registry import MethodSpec, merge_options, register, resolve_options, run_method
from ..oracles import check_scalar
from .dca import numpy_only, pick_method
from .._oracle_base import Counts
from .._options import Seed as Rng

# Exported as numopt.<name> (lazily; numopt/__init__.py reads this tuple without importing the module).
__numopt_public__ = ('nmf_bcd_pr',)
__all__ = ["nmf_bcd_pr"]


def _nnls_prox_block(G, R, W_prev, W_start, lam, inner, inner_iter, inner_tol, kernel=False):
    """min_{W >= 0} 1/2 tr(W G W^T) - tr(R^T W) + lam/2 ||W - W_prev||^2 (rows independent).

    ``G`` (r x r) = H H^T, ``R`` (m x r) = X H^T. inner="exact": the strongly convex
    block problem's unique minimizer, row by row: ``kernel=True`` numba coordinate
    minimization + exact solves on the support (projected gradient <= inner_tol
    relative), else scipy's Lawson-Hanson NNLS (reference); inner="pgd": ``inner_iter``
    projected gradient steps of size 1/(||G|| + lam) from ``W_start``.
    """
    W = np.array(W_start, dtype=float, order="C", copy=True)
    Glam = G + lam * np.eye(G.shape[0])
    Rlam = R + lam * W_prev
    if inner == "pgd":
        step = 1.0 / (np.linalg.eigvalsh(Glam)[-1])
        for _ in range(inner_iter):
            W = np.maximum(W - step * (W @ Glam - Rlam), 0.0)
        return W
    scale = float(np.max(np.abs(Rlam), initial=1e-300))  # (NaN propagates)
    if kernel:
        from . import _bcd_kernels as K

        K.nnls_rows(np.ascontiguousarray(Glam), np.ascontiguousarray(Rlam), W, inner_tol * scale, inner_iter)
        return W
    # reference: each row is NNLS  min_w ||L^T w - L^{-1} R_i||  with G + lam I = L L^T,
    # solved exactly by Lawson-Hanson (scipy.optimize.nnls); a python loop over rows
    from scipy.linalg import cholesky, solve_triangular
    from scipy.optimize import nnls

    Lc = cholesky(Glam, lower=True)
    B = solve_triangular(Lc, Rlam.T, lower=True)  # columns L^{-1} R_i
    for i in range(W.shape[0]):
        W[i] = nnls(Lc.T, B[:, i])[0]
    return W


class _NMF:
    """One factorization run: X (float64), its rank, the dtype of the answer, the counts."""

    def __init__(self, X, rank, out):
        self.X, self.rank, self.out = X, rank, out
        self.xnorm2 = max(float(np.sum(X * X)), 1e-300)
        self.counter = Counts("nfev", "njev")

    def measures(self, W, H):
        """(F(W, H), stationarity); one objective and one gradient evaluation."""
        E = W @ H - self.X
        GW, GH = E @ H.T, W.T @ E
        stat = (np.linalg.norm(np.minimum(W, GW)) + np.linalg.norm(np.minimum(H, GH))) / self.xnorm2
        self.counter.nfev += 1
        self.counter.njev += 1
        return 0.5 * float(np.sum(E * E)), stat

    def step(self, W, H):
        F, stat = self.measures(W, H)
        out = self.out
        W, H = (W, H) if W.dtype == out else (W.astype(out), H.astype(out))
        return Step((W, H), F, stat, W=W, H=H)


def _iterate(p, x0, opts):
    W, H = x0
    X, lam, inner = p.X, opts["lam"], opts["inner"]
    inner_maxiter = opts["inner_maxiter"]
    if inner_maxiter is None:
        inner_maxiter = 200 if inner == "exact" else 5
    numba = opts["kernel"] != "numpy" and inner == "exact"
    inner_tol = opts["inner_tol"]
    yield p.step(W, H)
    for _ in range(opts["maxiter"]):  # bounded (the shared loop stops at maxiter as well)
        W = _nnls_prox_block(H @ H.T, X @ H.T, W, W, lam, inner, inner_maxiter, inner_tol, numba)
        Ht = _nnls_prox_block(W.T @ W, X.T @ W, H.T, H.T, lam, inner, inner_maxiter, inner_tol, numba)
        H = Ht.T
        yield p.step(W, H)
    return 1, "Maximum number of iterations reached."


def _finalize(res, p, opts):
    res.stationarity = res.optimality
    res.relative_error = math.sqrt(2 * res.fun / p.xnorm2)
    return res


_OPTIONS = {
    "maxiter": Option(1000, "Maximum number of outer iterations (default 1000; one W and one H block each).",
                      Interval(0, integer=True)),
    "tol": Option(1e-8, "Stop when the projected-gradient stationarity / ||X||_F^2 is <= tol.", Interval(0)),
    "lam": Option(1e-3, "Weight of the proximal terms lam/2 ||W - W_{k-1}||^2 (0: plain alternating NNLS).",
                  FiniteInterval(0)),
    "inner": Option("exact", "Block solver: 'exact' (NNLS to inner_tol) or 'pgd' (inner_maxiter projected "
                             "gradient steps).", Choices("exact", "pgd")),
    "inner_maxiter": Option(None, "Sweeps (inner='exact', default 200) or projected gradient steps "
                                  "(inner='pgd', default 5) per block.", NoneOr(Interval(1, integer=True)),
                            aliases=("inner_iter",)),
    "inner_tol": Option(1e-10, "Relative projected-gradient tolerance of the exact block solve.", Interval(0)),
    "rng": Option(None, "Seed or numpy.random.Generator of the random start (when W0/H0 are not given); "
                        "None means seed 0 (reproducible).", Rng()),
    "kernel": Option("auto", "Exact block solver: 'auto'/'numba' (numba row kernel) or 'numpy' (scipy's "
                             "Lawson-Hanson NNLS per row, the reference).", Choices("auto", "numba", "numpy"),
                     aliases=("backend",)),
}


def _example(xp):
    """A planted rank-2 factorization of an 8 x 6 matrix (F* = 0)."""
    rng = np.random.default_rng(0)
    return {"X": rng.uniform(0, 1, (8, 2)) @ rng.uniform(0, 1, (2, 6)), "rank": 2, "f_star": 0.0}


register(MethodSpec(
    name="nmf-bcd-pr", family="nmf", kind="nmf",
    summary="NMF by Gauss-Seidel block coordinate descent with proximal regularization (BCD-PR)",
    solve=_iterate, finalize=_finalize, options=_OPTIONS, requires=("X",),
    optimality="(||min(W, grad_W F)||_F + ||min(H, grad_H F)||_F) / ||X||_F^2 (0 exactly at KKT points)",
    rate_text="Nonconvex, block-constrained: an eps-stationary point within O~(eps^-1) iterations, i.e. "
              "min_{j <= k} stationarity_j^2 = O~(1/k), also with inexact block solves (Kwon & Lyu 2023).",
    reference="D. Kwon, H. Lyu, Complexity of Block Coordinate Descent with Proximal Regularization and "
              "Applications to Wasserstein CP-dictionary Learning, ICML 2023.",
    backends=("numpy",), float64_internal=True, x_ndim=(2,), example=_example))


def _data(X):
    X = np.asarray(X)
    if np.iscomplexobj(X):
        raise TypeError("`X` must be a real matrix, got a complex array")
    out = X.dtype if np.issubdtype(X.dtype, np.floating) else np.dtype(np.float64)
    try:
        X = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as e:
        raise TypeError(f"`X` must be a real numeric matrix: {e}") from None
    if X.ndim != 2:
        raise ValueError(f"`X` must be a 2-D array, got shape {X.shape}")
    if X.size == 0:
        raise ValueError(f"`X` is empty (shape {X.shape}); it needs at least one row and one column")
    if not np.all(np.isfinite(X)) or np.any(X < 0):
        raise ValueError("`X` must be finite and nonnegative")
    return X, out


def _start(X, rank, W0, H0, rng):
    """(W0, H0) as float64, or a random start scaled to X (W first, then H, from ``rng``)."""
    m, n = X.shape
    gen = generator(rng)
    scale = math.sqrt(max(X.mean(), 1e-300) / rank)
    W = gen.uniform(0, 2 * scale, (m, rank)) if W0 is None else np.array(W0, dtype=float)
    H = gen.uniform(0, 2 * scale, (rank, n)) if H0 is None else np.array(H0, dtype=float)
    if W.shape != (m, rank) or not np.all(W >= 0):  # (NaN fails W >= 0)
        raise ValueError(f"`W0` must be finite and nonnegative with shape ({m}, {rank})")
    if H.shape != (rank, n) or not np.all(H >= 0):
        raise ValueError(f"`H0` must be finite and nonnegative with shape ({rank}, {n})")
    if not np.isfinite(W).all():
        raise ValueError("`W0` must be finite (it has inf entries)")
    if not np.isfinite(H).all():
        raise ValueError("`H0` must be finite (it has inf entries)")
    return W, H


def nmf_bcd_pr(X, rank, *, W0=None, H0=None, method=None, tol=None, callback=None, options=None, **kw):
    """Nonnegative matrix factorization ``min_{W, H >= 0} 1/2 ||X - W H||_F^2`` by BCD-PR (see
    the module docstring); the front door of the ``"nmf"`` kind (method ``"nmf-bcd-pr"``).

    ``X``: nonnegative (m, n) matrix; ``rank``: inner dimension; ``W0`` (m, rank), ``H0``
    (rank, n): nonnegative start (default: uniform on [0, 2 sqrt(mean(X)/rank)] from
    ``rng``); ``tol`` (None: 1e-8) on the stationarity. Options
    (``numopt.show_options("nmf-bcd-pr")``, as keywords or an ``options`` dict): ``lam``
    (1e-3), ``inner`` ("exact" or "pgd"), ``inner_maxiter`` (old name ``inner_iter``),
    ``inner_tol`` (1e-10), ``maxiter`` (1000), ``rng`` (None: seed 0), ``kernel`` (old name
    ``backend``; "auto", "numba" or "numpy"), ``max_time``, ``trace``, ``disp``.

    Returns an ``OptimizeResult`` with ``W``, ``H``, ``x`` (= (W, H)), in X's floating dtype,
    ``fun`` (F), ``stationarity`` (= ``optimality``), ``relative_error`` ||X - WH||_F / ||X||_F,
    ``trace`` (``fun``, ``optimality`` per iteration) and the counts ``nfev``, ``njev``.
    """
    spec = pick_method("nmf", "nmf-bcd-pr", method)
    numpy_only(spec, X, "X")
    X, out = _data(X)
    check_scalar(rank, "rank", lower=1, integer=True)
    opts = resolve_options(spec, merge_options(options, kw), tol=tol)
    p = _NMF(X, int(rank), out)
    return run_method(spec, p, _start(X, int(rank), W0, H0, opts["rng"]), opts, callback=callback,
                      counter=p.counter)
