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
    """The randomized Kaczmarz contraction factor ``1 - sigma_min^2(A) / ||A||_F^2`` (full
    column rank A; ``sigma_min`` is the smallest of the ``min(m, n)`` singular values).

    Dense ``A``: from its singular values. ``scipy.sparse`` ``A`` stays sparse:
    ``sigma_min^2`` is the smallest eigenvalue of the sparse Gram matrix (``A^T A`` or
    ``A A^T``, whichever is smaller), found by ``scipy.sparse.linalg.eigsh`` in
    shift-invert mode around 0 (a sparse LU of the Gram matrix, bounded ARPACK
    iterations); only a Gram matrix of order <= 200 is converted to dense. A singular
    Gram matrix (rank-deficient A) gives 1.0.
    """
    import scipy.sparse as sp

    if not sp.issparse(A):
        A = np.asarray(A, dtype=float)
        if A.ndim != 2 or A.size == 0:
            raise ValueError(f"`A` must be a non-empty 2-D matrix, got shape {A.shape}")
        if not np.all(np.isfinite(A)):
            raise ValueError("`A` contains NaN or inf")
        fro2 = float(np.sum(A * A))
        if fro2 == 0:
            raise ValueError("`A` is zero")
        s = np.linalg.svd(A, compute_uv=False)
        return 1.0 - s[min(A.shape) - 1] ** 2 / fro2
    A = sp.csr_array(A, dtype=float)
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"`A` must be a non-empty 2-D matrix, got shape {A.shape}")
    if not np.all(np.isfinite(A.data)):
        raise ValueError("`A` contains NaN or inf")
    fro2 = float(np.sum(A.data * A.data))
    if fro2 == 0:
        raise ValueError("`A` is zero")
    gram = (A.T @ A if A.shape[0] >= A.shape[1] else A @ A.T).tocsc()
    k = gram.shape[0]
    if k <= 200:  # small Gram matrix: dense eigenvalues
        lmin = float(np.linalg.eigvalsh(gram.toarray())[0])
    else:
        from scipy.sparse.linalg import ArpackNoConvergence, eigsh

        try:
            lmin = float(eigsh(gram, k=1, sigma=0.0, which="LM", maxiter=50 * k, tol=1e-10,
                               return_eigenvectors=False)[0])
        except ArpackNoConvergence as e:
            if len(e.eigenvalues) == 0:
                raise RuntimeError("rk_rate: ARPACK did not converge to sigma_min(A)") from e
            lmin = float(np.min(e.eigenvalues))
        except RuntimeError as e:  # the sparse LU found the Gram matrix singular: sigma_min = 0
            if "singular" not in str(e).lower():
                raise
            lmin = 0.0
    return 1.0 - max(lmin, 0.0) / fro2


def _iterations(A, b, x, method, block_size, rng, check_every, Ad):
    m, n = A.shape
    row_sq = np.einsum("ij,ij->i", Ad, Ad)
    p = row_sq / row_sq.sum()
    bnorm = max(np.linalg.norm(b), 1e-300)
    r = A @ x - b
    yield Step(x, None, np.linalg.norm(r) / bnorm, residual=np.linalg.norm(r))
    while True:  # bounded by run_loop's maxiter
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
        r = A @ x - b
        rn = np.linalg.norm(r)
        yield Step(x, None, rn / bnorm, residual=rn)


def _iterations_sparse(A, b, x, method, block_size, rng, check_every):
    """The same sketches for a CSR ``A``, drawn in the same order as the dense path,
    without densifying A: row updates on its CSR arrays, sketched Gram matrices
    ``(S^T A)(S^T A)^T`` of order ``block_size``, products with A and A^T."""
    import scipy.sparse as sp

    m, n = A.shape
    indptr, indices, data = A.indptr, A.indices, A.data
    row_sq = np.bincount(np.repeat(np.arange(m), np.diff(indptr)), weights=data * data, minlength=m)
    p = row_sq / row_sq.sum()
    bnorm = max(np.linalg.norm(b), 1e-300)
    x = np.array(x, dtype=float)
    r = A @ x - b
    yield Step(x.copy(), None, np.linalg.norm(r) / bnorm, residual=np.linalg.norm(r))
    while True:  # bounded by run_loop's maxiter
        for _ in range(check_every):
            if method == "kaczmarz":
                i = rng.choice(m, p=p)
                cols, vals = indices[indptr[i]:indptr[i + 1]], data[indptr[i]:indptr[i + 1]]
                x[cols] += ((b[i] - vals @ x[cols]) / row_sq[i]) * vals
                continue
            if method == "gaussian":
                S = rng.standard_normal((m, block_size))
                SA = (A.T @ S).T  # dense block_size x n, as in the dense path
                x -= np.linalg.lstsq(SA, S.T @ (A @ x - b), rcond=None)[0]
                continue
            if method == "block_kaczmarz":
                idx = rng.choice(m, size=min(block_size, m), replace=False)
                SA, Sr = A[idx], A[idx] @ x - b[idx]
            else:  # countsketch: S has one signed entry per row of A
                h = rng.integers(0, block_size, size=m)
                sg = rng.choice([-1.0, 1.0], size=m)
                S = sp.csr_array((sg, (np.arange(m), h)), shape=(m, block_size))
                SA, Sr = (S.T @ A).tocsr(), S.T @ (A @ x - b)
            gram = (SA @ SA.T).toarray()  # block_size x block_size, never n x n
            x -= SA.T @ np.linalg.lstsq(gram, Sr, rcond=None)[0]
        r = A @ x - b
        rn = np.linalg.norm(r)
        yield Step(x.copy(), None, rn / bnorm, residual=rn)


def solve(A, b, method="kaczmarz", *, tol=1e-8, maxiter=100000, rng=None, x0=None, block_size=None,
          check_every=None, callback=None, trace=True):
    """Solve ``A x = b`` by a randomized sketch-and-project method.

    Returns an OptimizeResult with ``x``, ``nit`` (sketch iterations), ``residual``
    (``||Ax - b||``), ``optimality`` (relative residual), ``success``, ``status``,
    ``message`` and ``trace``. ``rng``: seed or ``numpy.random.Generator`` (default: seed
    0, so a default run is reproducible). A ``scipy.sparse`` ``A`` is never densified: its
    iterations use CSR row updates, sketched ``block_size x block_size`` Gram matrices and
    products with A and A^T (the Gaussian sketch forms the dense ``block_size x n``
    matrix ``S^T A``, as it does for dense A).
    """
    import scipy.sparse as sp

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    sparse = sp.issparse(A)
    for name, arr in (("A", A), ("b", b), ("x0", x0)):
        if arr is None:
            continue
        dt = arr.dtype if hasattr(arr, "dtype") else np.asarray(arr).dtype
        if not (np.issubdtype(dt, np.floating) or np.issubdtype(dt, np.integer)):
            raise TypeError(f"`{name}` must be a real numeric array, got dtype {dt}")
    A = sp.csr_array(A, dtype=float) if sparse else np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    if A.ndim != 2 or b.ndim != 1 or A.shape[0] != b.shape[0]:
        raise ValueError(f"`A` must be (m, n) and `b` (m,), got {A.shape} and {b.shape}")
    if not np.all(np.isfinite(b)):
        raise ValueError("`b` contains NaN or inf")
    if not np.all(np.isfinite(A.data if sparse else A)):
        raise ValueError("`A` contains NaN or inf")
    if not np.any(A.data if sparse else A):
        raise ValueError("`A` is zero")
    check_scalar(tol, "tol", lower=0)
    check_scalar(maxiter, "maxiter", lower=0, integer=True)
    m, n = A.shape
    if block_size is None:
        block_size = max(1, min(m, n, 10))
    check_scalar(block_size, "block_size", lower=1, integer=True)
    if check_every is None:
        check_every = 1 if method != "kaczmarz" else max(1, min(m, 50))
    check_scalar(check_every, "check_every", lower=1, integer=True)
    # a fixed default seed: two default runs give bit-identical iterates
    rng = np.random.default_rng(0 if rng is None else rng)
    if x0 is None:
        x = np.zeros(n)
    else:
        x = np.array(x0, dtype=float)
        if x.shape != (n,):
            raise ValueError(f"`x0` must have shape ({n},), got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("`x0` contains NaN or inf")
    steps = max(1, math.ceil(maxiter / check_every)) if maxiter else 0
    gen = (_iterations_sparse(A, b, x, method, block_size, rng, check_every) if sparse
           else _iterations(A, b, x, method, block_size, rng, check_every, A))
    res = run_loop(gen, counter=OracleCounter(),
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
