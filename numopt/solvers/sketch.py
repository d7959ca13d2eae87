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

Each is a registry method of kind ``"linear_system"`` (front door
:func:`numopt.solve_linear`; names ``"kaczmarz"``, ``"block-kaczmarz"``,
``"gaussian-sketch"`` (alias ``"gaussian"``) and ``"countsketch"``); :func:`solve` is
the older spelling of the same path. Stopping on the relative residual
``||A x - b|| <= tol ||b||``, tested every ``check_every`` iterations (one product with
A); each test is one Step of the shared loop standing for ``check_every`` iterations
(``work=``), so ``nit`` and ``maxiter`` count row/block projections. Least squares:
``"kaczmarz"`` on the normal equations is not used; for inconsistent systems use
``method="gaussian-sketch"`` with ``block_size = m`` (exact projection) or a Krylov solver.
"""
from __future__ import annotations

import math

import numpy as np

from .._loop import Step
from .._options import Interval, NoneOr, Option, Seed, generator
from .._registry import MethodSpec, register
from .linear import OPTIMALITY, example_system

__all__ = ["solve", "METHODS", "rk_rate"]

# the names `solve(method=...)` has always accepted (each reaches its registry entry)
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


def _sketch_dense(A, b, x, method, block_size, rng, check_every, maxiter, denom):
    """Sketch-and-project on a dense ``A`` (float32 or float64, iterates in that dtype)."""
    m, n = A.shape
    dt = A.dtype
    row_sq = np.einsum("ij,ij->i", A, A)
    p = row_sq.astype(np.float64)  # sampling probabilities in float64 (rng.choice checks their sum)
    p /= p.sum()
    rn = float(np.linalg.norm(A @ x - b))
    yield Step(x, rn, rn / denom)
    k = 0
    while True:  # bounded by run_loop's maxiter
        steps = min(check_every, maxiter - k)  # the last block stops at maxiter
        for _ in range(steps):
            if method == "kaczmarz":
                i = rng.choice(m, p=p)
                ai = A[i]
                x = x + ((b[i] - ai @ x) / row_sq[i]) * ai
            else:
                if method == "block_kaczmarz":
                    idx = rng.choice(m, size=min(block_size, m), replace=False)
                    SA, Sr = A[idx], (A[idx] @ x - b[idx])
                elif method == "gaussian":
                    S = rng.standard_normal((m, block_size)).astype(dt, copy=False)
                    SA, Sr = S.T @ A, S.T @ (A @ x - b)
                else:  # countsketch
                    h = rng.integers(0, block_size, size=m)
                    sg = rng.choice([-1.0, 1.0], size=m).astype(dt, copy=False)
                    SA = np.zeros((block_size, n), dtype=dt)
                    np.add.at(SA, h, sg[:, None] * A)
                    Sr = np.zeros(block_size, dtype=dt)
                    np.add.at(Sr, h, sg * (A @ x - b))
                # projection onto {x : S^T A x = S^T b}: the minimum-norm correction
                # SA^T (SA SA^T)^+ Sr, computed without squaring the conditioning
                x = x - np.linalg.lstsq(SA, Sr, rcond=None)[0]
        k += steps
        rn = float(np.linalg.norm(A @ x - b))
        yield Step(x, rn, rn / denom, work=steps)


def _sketch_sparse(A, b, x, method, block_size, rng, check_every, maxiter, denom):
    """The same sketches for a CSR ``A``, drawn in the same order as the dense path,
    without densifying A: row updates on its CSR arrays, sketched Gram matrices
    ``(S^T A)(S^T A)^T`` of order ``block_size``, products with A and A^T."""
    import scipy.sparse as sp

    m, n = A.shape
    dt = A.dtype
    indptr, indices, data = A.indptr, A.indices, A.data
    row_sq = np.bincount(np.repeat(np.arange(m), np.diff(indptr)), weights=data * data, minlength=m)
    p = row_sq / row_sq.sum()
    x = np.array(x, dtype=dt)
    rn = float(np.linalg.norm(A @ x - b))
    yield Step(x.copy(), rn, rn / denom)
    k = 0
    while True:  # bounded by run_loop's maxiter
        steps = min(check_every, maxiter - k)
        for _ in range(steps):
            if method == "kaczmarz":
                i = rng.choice(m, p=p)
                cols, vals = indices[indptr[i]:indptr[i + 1]], data[indptr[i]:indptr[i + 1]]
                x[cols] += ((b[i] - vals @ x[cols]) / row_sq[i]) * vals
                continue
            if method == "gaussian":
                S = rng.standard_normal((m, block_size)).astype(dt, copy=False)
                SA = (A.T @ S).T  # dense block_size x n, as in the dense path
                x -= np.linalg.lstsq(SA, S.T @ (A @ x - b), rcond=None)[0]
                continue
            if method == "block_kaczmarz":
                idx = rng.choice(m, size=min(block_size, m), replace=False)
                SA, Sr = A[idx], A[idx] @ x - b[idx]
            else:  # countsketch: S has one signed entry per row of A
                h = rng.integers(0, block_size, size=m)
                sg = rng.choice([-1.0, 1.0], size=m).astype(dt, copy=False)
                S = sp.csr_array((sg, (np.arange(m), h)), shape=(m, block_size))
                SA, Sr = (S.T @ A).tocsr(), S.T @ (A @ x - b)
            gram = (SA @ SA.T).toarray()  # block_size x block_size, never n x n
            x -= SA.T @ np.linalg.lstsq(gram, Sr, rcond=None)[0]
        k += steps
        rn = float(np.linalg.norm(A @ x - b))
        yield Step(x.copy(), rn, rn / denom, work=steps)


def _solve(system, x0, opts, method):
    """The registry's ``solve`` of the sketching methods: the method's defaults from the
    system's shape, the seeded generator, then the dense or sparse generator."""
    A = system.A
    if not np.any(A.data if system.sparse else A):
        raise ValueError("`A` is zero")
    m, n = A.shape
    block_size = opts.get("block_size")
    if block_size is None:
        block_size = max(1, min(m, n, 10))
    check_every = opts["check_every"]
    if check_every is None:
        check_every = 1 if method != "kaczmarz" else max(1, min(m, 50))
    # a fixed default seed: two default runs give bit-identical iterates
    rng = generator(opts["rng"])
    gen = _sketch_sparse if system.sparse else _sketch_dense
    return gen(A, system.b, x0, method, block_size, rng, check_every, opts["maxiter"], system.denom)


def _finalize(res, system, opts):
    if res.status == 1 and res.optimality is not None and res.optimality > opts["tol"]:
        res.message = (f"Maximum number of iterations reached with relative residual {res.optimality:.2e} "
                       f"> tol (inconsistent or ill-conditioned system?).")
    return res


_COMMON = {
    "tol": Option(1e-8, "Tolerance on the relative residual ||Ax - b|| / ||b||, tested every `check_every` "
                        "iterations.", Interval(0)),
    "maxiter": Option(100000, "Maximum number of sketch iterations (row or block projections); default "
                              "100,000.", Interval(0, integer=True)),
    "rng": Option(None, "numpy.random.Generator or seed of the sketches; None is seed 0 (reproducible runs).",
                  Seed()),
    "check_every": Option(None, "Test the residual (one product with A, one trace row, one callback call) every "
                                "this many iterations; None: min(m, 50) for 'kaczmarz', else 1.",
                          NoneOr(Interval(1, integer=True))),
}
_BLOCK = dict(_COMMON, block_size=Option(None, "Sketch size s: rows per block, columns of the Gaussian sketch, "
                                               "buckets of the count sketch; None: min(m, n, 10).",
                                         NoneOr(Interval(1, integer=True))))

_RATE_RK = ("Consistent system, full column rank A: E||x_k - x*||^2 <= (1 - sigma_min(A)^2 / ||A||_F^2)^k "
            "||x0 - x*||^2 (Strohmer & Vershynin 2009); `rk_rate(A)` computes the factor.")
_RATE_SP = ("Consistent system: E||x_k - x*||^2 <= (1 - lambda_min^+(E[Z]))^k ||x0 - x*||^2 with Z the "
            "projection A^T S (S^T A A^T S)^+ S^T A (Gower & Richtarik 2015, Thm 4.6); linear whenever "
            "E[Z] is positive definite on the range of A^T.")
_SPECS = [
    ("kaczmarz", (), "Randomized Kaczmarz: one row, drawn with probability ||a_i||^2 / ||A||_F^2",
     _COMMON, _RATE_RK, "Strohmer & Vershynin, J. Fourier Anal. Appl. 15 (2009)."),
    ("block-kaczmarz", (), "Randomized block Kaczmarz: a uniformly random block of `block_size` rows",
     _BLOCK, _RATE_SP, "Needell & Tropp, Linear Algebra Appl. 441 (2014); Gower & Richtarik, SIMAX 36 (2015)."),
    ("gaussian-sketch", ("gaussian",), "Sketch-and-project with a Gaussian sketch of `block_size` columns",
     _BLOCK, _RATE_SP, "Gower & Richtarik, SIAM J. Matrix Anal. Appl. 36(4) (2015)."),
    ("countsketch", ("count-sketch",), "Sketch-and-project with a count sketch (rows hashed to `block_size` "
                                      "signed buckets)",
     _BLOCK, _RATE_SP, "Clarkson & Woodruff, STOC 2013; Gower & Richtarik, SIMAX 36 (2015)."),
]
_ENGINE = {"kaczmarz": "kaczmarz", "block-kaczmarz": "block_kaczmarz", "gaussian-sketch": "gaussian",
           "countsketch": "countsketch"}

for _name, _aliases, _summary, _opts, _rate, _ref in _SPECS:
    register(MethodSpec(
        name=_name, aliases=_aliases, kind="linear_system", family="sketch", summary=_summary,
        solve=(lambda eng: lambda p, x0, o: _solve(p, x0, o, eng))(_ENGINE[_name]),
        options=dict(_opts), requires=(), optimality=OPTIMALITY, rate_text=_rate, reference=_ref,
        backends=("numpy",), finalize=_finalize, example=lambda xp: example_system("rect")))


def solve(A, b, method="kaczmarz", *, tol=None, maxiter=100000, rng=None, x0=None, block_size=None,
          check_every=None, callback=None, trace=True):
    """Solve ``A x = b`` by a randomized sketch-and-project method.

    The older spelling of ``numopt.solve_linear(A, b, method, ...)`` restricted to the
    sketching methods (``"kaczmarz"``, ``"block_kaczmarz"``, ``"gaussian"``,
    ``"countsketch"``; a ``block_size`` given to ``"kaczmarz"`` is ignored, as it always
    was). ``tol`` (relative residual): None is 1e-8 for float64 input and 2.9e-4 for float32
    input, which now iterates in float32. Returns an OptimizeResult with ``x``, ``nit`` (sketch iterations), ``fun`` and
    ``residual`` (``||Ax - b||``), ``optimality`` (relative residual), ``success``,
    ``status``, ``message`` and ``trace``. ``rng``: seed or ``numpy.random.Generator``
    (default: seed 0, so a default run is reproducible). A ``scipy.sparse`` ``A`` is never
    densified: its iterations use CSR row updates, sketched ``block_size x block_size``
    Gram matrices and products with A and A^T (the Gaussian sketch forms the dense
    ``block_size x n`` matrix ``S^T A``, as it does for dense A).
    """
    from .._registry import get_method
    from .linear import solve_linear

    spec = get_method(method, kind="linear_system") if isinstance(method, str) else None
    if spec is None or spec.family != "sketch":
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    opts = dict(maxiter=maxiter, rng=rng, check_every=check_every, trace=trace)
    if "block_size" in spec.options:
        opts["block_size"] = block_size
    else:  # Kaczmarz has no sketch size: checked as always, then unused
        _BLOCK["block_size"].validate("block_size", block_size)
    res = solve_linear(A, b, spec.name, x0=x0, tol=tol, callback=callback, options=opts)
    res.residual = res.fun
    return res
