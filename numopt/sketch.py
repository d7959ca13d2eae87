"""Randomized iterative sketching solvers for linear systems ``A x = b``.

All are sketch-and-project methods (Gower & Richtárik, SIMAX 2015):
``x <- x - A^T S (S^T A A^T S)^+ S^T (A x - b)`` with a random sketch ``S``:

* ``"kaczmarz"``: one row ``i`` drawn with probability ``||a_i||^2 / ||A||_F^2``
  (Strohmer & Vershynin, J. Fourier Anal. Appl. 2009). For consistent systems
  ``E ||x_k - x*||^2 <= (1 - sigma_min^2(A) / ||A||_F^2)^k ||x0 - x*||^2``.
* ``"block_kaczmarz"``: a uniformly random block of ``block_size`` rows
  (Needell & Tropp, Linear Algebra Appl. 2014).
* ``"gaussian"``: ``S`` with i.i.d. N(0, 1) entries, ``block_size`` columns.
* ``"countsketch"``: each row of ``A`` hashed to one of ``block_size`` buckets with a
  random sign (Clarkson & Woodruff, STOC 2013).

Stopping on the relative residual ``||A x - b|| <= tol ||b||`` (checked every
``check_every`` iterations, one product with A). Least squares: ``"kaczmarz"`` on the
normal equations is not used; for inconsistent systems use ``method="gaussian"`` with
``block_size = m`` (exact projection) or a Krylov solver.
"""
from __future__ import annotations

import math

import numpy as np

from ._loop import Step, run_loop
from .oracles import OracleCounter, check_scalar

__all__ = ["solve", "METHODS", "rk_rate"]

METHODS = ("kaczmarz", "block_kaczmarz", "gaussian", "countsketch")


def rk_rate(A):
    """The randomized Kaczmarz contraction factor 1 - sigma_min^2(A) / ||A||_F^2 (full column rank A)."""
    A = np.asarray(A.toarray() if hasattr(A, "toarray") else A, dtype=float)
    s = np.linalg.svd(A, compute_uv=False)
    return 1.0 - s[min(A.shape) - 1] ** 2 / np.sum(A * A)


def _iterations(A, b, x, method, block_size, rng, check_every, Ad):
    m, n = A.shape
    row_sq = np.einsum("ij,ij->i", Ad, Ad)
    if np.any(row_sq == 0) and method == "kaczmarz":
        row_sq = np.where(row_sq == 0, 0.0, row_sq)
    p = row_sq / row_sq.sum()
    bnorm = max(np.linalg.norm(b), 1e-300)
    r = A @ x - b
    yield Step(x, None, np.linalg.norm(r) / bnorm, residual=np.linalg.norm(r))
    k = 0
    while True:
        for _ in range(check_every):
            if method == "kaczmarz":
                i = rng.choice(m, p=p)
                ai = Ad[i]
                x = x + ((b[i] - ai @ x) / row_sq[i]) * ai
            else:
                if method == "block_kaczmarz":
                    idx = rng.choice(m, size=min(block_size, m), replace=False)
                    SA, Sr = Ad[idx], (Ad[idx] @ x - b[idx])
                elif method == "gaussian":
                    S = rng.standard_normal((m, block_size))
                    SA, Sr = S.T @ Ad, S.T @ (Ad @ x - b)
                else:  # countsketch
                    h = rng.integers(0, block_size, size=m)
                    sg = rng.choice([-1.0, 1.0], size=m)
                    SA = np.zeros((block_size, n))
                    np.add.at(SA, h, sg[:, None] * Ad)
                    Sr = np.zeros(block_size)
                    np.add.at(Sr, h, sg * (Ad @ x - b))
                # projection onto {x : S^T A x = S^T b}: the minimum-norm correction
                # SA^T (SA SA^T)^+ Sr, computed without squaring the conditioning
                x = x - np.linalg.lstsq(SA, Sr, rcond=None)[0]
            k += 1
        r = A @ x - b
        rn = np.linalg.norm(r)
        yield Step(x, None, rn / bnorm, residual=rn)


def solve(A, b, method="kaczmarz", *, tol=1e-8, maxiter=100000, rng=None, x0=None, block_size=None,
          check_every=None, callback=None, trace=True):
    """Solve ``A x = b`` by a randomized sketch-and-project method.

    Returns an OptimizeResult with ``x``, ``nit`` (sketch iterations), ``residual``
    (``||Ax - b||``), ``optimality`` (relative residual), ``success``, ``status``,
    ``message`` and ``trace``. ``rng``: seed or ``numpy.random.Generator``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    A = A if hasattr(A, "toarray") else np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    if A.ndim != 2 or b.ndim != 1 or A.shape[0] != b.shape[0]:
        raise ValueError(f"`A` must be (m, n) and `b` (m,), got {A.shape} and {b.shape}")
    if not np.all(np.isfinite(b)):
        raise ValueError("`b` contains NaN or inf")
    Ad = A.toarray() if hasattr(A, "toarray") else A
    if not np.all(np.isfinite(Ad)):
        raise ValueError("`A` contains NaN or inf")
    if not np.any(Ad):
        raise ValueError("`A` is zero")
    check_scalar(tol, "tol", lower=0)
    check_scalar(maxiter, "maxiter", lower=0, integer=True)
    m, n = A.shape
    if block_size is None:
        block_size = max(1, min(m, n, 10))
    check_scalar(block_size, "block_size", lower=1, integer=True)
    if check_every is None:
        check_every = 1 if method != "kaczmarz" else max(1, min(m, 50))
    rng = np.random.default_rng(rng)
    x = np.zeros(n) if x0 is None else np.array(x0, dtype=float)
    steps = max(1, math.ceil(maxiter / check_every)) if maxiter else 0
    res = run_loop(_iterations(A, b, x, method, block_size, rng, check_every, Ad), counter=OracleCounter(),
                   options={"maxiter": steps, "max_time": math.inf, "trace": trace}, callback=callback, tol=tol,
                   method=method)
    res.nit = res.nit * check_every
    if res.trace is not None:
        res.trace["nit"] = res.trace["nit"] * check_every
    for k in ("nfev", "njev", "nhev", "nprox", "nlmo", "nproj", "jac", "fun"):
        res.pop(k, None)
    if res.status == 1 and res.optimality > tol:
        res.message = (f"Maximum number of iterations reached with relative residual {res.optimality:.2e} "
                       f"> tol (inconsistent or ill-conditioned system?).")
    return res
