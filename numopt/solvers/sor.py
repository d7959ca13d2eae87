"""Successive over-relaxation (SOR) for symmetric positive-definite systems, and the
model problems of the "learning to relax" study.

* method ``"sor"`` of kind ``"linear_system"`` (front door :func:`numopt.solve_linear`;
  :func:`sor_solve` is its older spelling): SOR (Young 1950) for a symmetric
  positive-definite ``A`` (scipy.sparse or dense),
  ``x_{k+1} = x_k + (D/omega + L)^{-1} (b - A x_k)`` with D the diagonal and L the
  strictly lower triangle of A.
* Problem generators: :func:`laplacian_2d`, :func:`shifted_laplacian_sequence`,
  :func:`diffusion_sequence`, and :func:`poisson_optimal_omega`.
* The Tsallis-INF bandit and :func:`sor_bandit` (learning omega across a sequence of
  systems) live in :mod:`numopt.solvers.relax`.

Theory. For SPD A, SOR converges iff 0 < omega < 2 (Ostrowski-Reich). For the model
Poisson problem (5-point Laplacian, mesh h = 1/(N+1)) the Jacobi spectral radius is
mu = cos(pi h), Gauss-Seidel (omega = 1) has spectral radius mu^2 and the optimal
omega* = 2 / (1 + sqrt(1 - mu^2)) = 2 / (1 + sin(pi h)) gives spectral radius
omega* - 1 ~ 1 - 2 pi h (Young 1950): O(N) instead of O(N^2) iterations.

Loop protocol. The solver is a generator of Steps run by the shared loop: one Step per
``check_every`` sweeps (``work=`` the sweeps it stands for), so the trace, the callback
and ``max_time`` see every ``check_every``-th sweep, while the stopping test on the
relative residual runs after every sweep (inside the numba kernel on its fast path):
``nit`` is the exact sweep count at which ``||b - A x|| <= tol ||b||``.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.linalg import splu, spsolve_triangular

from .._loop import Step
from .._options import Choices, Flag, Interval, NoneOr, Option
from .._registry import MethodSpec, register
from .linear import OPTIMALITY, example_system

__all__ = [
    "sor_solve", "laplacian_2d", "shifted_laplacian_sequence", "diffusion_sequence",
    "poisson_optimal_omega",
]


def _rng(rng):
    """A Generator; ``None`` gives a fixed default seed (0), so default runs are reproducible."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, (numbers.Integral, np.random.SeedSequence)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    raise TypeError("`rng` must be None, an int or a numpy.random.Generator")


# --------------------------------------------------------------------------- SOR
def _prepare(system, check_symmetric):
    """SOR's own checks on a validated :class:`~numopt.solvers.linear.LinearSystem`
    (square, positive diagonal, symmetric), done once per system: returns the diagonal."""
    key = ("sor", bool(check_symmetric))
    if key in system.cache:
        return system.cache[key]
    A, sparse = system.A, system.sparse
    if system.m != system.n:
        raise ValueError(f"`A` must be a square matrix, got shape {A.shape}")
    diag = np.asarray(A.diagonal(), dtype=system.dtype)
    if not np.all(diag > 0):
        raise ValueError("`A` must have a positive diagonal (SOR needs A symmetric positive definite)")
    if check_symmetric:
        asym = abs(A - A.T).max() if sparse else np.max(np.abs(A - A.T))
        scale = abs(A).max() if sparse else np.max(np.abs(A))
        if asym > 1e3 * np.finfo(system.dtype).eps * scale:
            raise ValueError("`A` must be symmetric (SOR is guaranteed to converge for "
                             "0 < omega < 2 only on symmetric positive-definite A)")
    system.cache[key] = diag
    if check_symmetric:  # a symmetric system passes the unchecked preparation too
        system.cache[("sor", False)] = diag
    return diag


def _numba_available():
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover
        return False
    return True


def _resolve_kernel(kernel, sparse):
    if kernel == "auto":
        return "numba" if sparse and _numba_available() else "scipy"
    if kernel == "numba" and not sparse:
        raise ValueError("`kernel='numba'` needs a scipy.sparse `A`; use 'scipy' or 'auto'")
    return kernel


_KERNEL = []  # the numba module, imported on first use (``import numopt`` stays light)


def _steps_numba(system, diag, x, omega, tol, maxiter, every):
    """The fast path: sweeps in the compiled CSR kernel, ``every`` per Step."""
    if not _KERNEL:
        from . import _sor_numba

        _KERNEL.append(_sor_numba)
    K = _KERNEL[0]
    A, b, denom = system.A, system.b, system.denom
    csr = (A.indptr, A.indices, A.data)
    res = float(K.residual_norm(*csr, b, x))
    yield Step(x.copy(), res, res / denom, kernel="numba")
    k = 0
    while True:  # bounded by run_loop's maxiter
        done, res = K.sor_sweeps(*csr, diag, b, x, omega, tol, denom, min(every, maxiter - k))
        k += done
        res = float(res)
        yield Step(x.copy(), res, res / denom, work=done, kernel="numba")


def _steps_scipy(system, diag, x, omega, tol, maxiter, every):
    """The reference path: ``x <- x + (D/omega + L)^{-1} r`` with a compiled triangular solve."""
    A, b, denom, dtype = system.A, system.b, system.denom, system.dtype
    if system.sparse:
        M = (sp.tril(A, k=-1, format="csr") + sp.diags_array(diag / omega, format="csr")).tocsr()
        M.sort_indices()

        def tri(r):
            return spsolve_triangular(M, r, lower=True)
    else:
        M = np.tril(A, k=-1) + np.diag(diag / omega)

        def tri(r):
            return scipy.linalg.solve_triangular(M, r, lower=True, check_finite=False)
    r = b - A @ x
    res = float(np.linalg.norm(r))
    yield Step(x, res, res / denom, kernel="scipy")
    k = 0
    while True:  # bounded by run_loop's maxiter
        n_sw, done = min(every, maxiter - k), 0
        while done < n_sw:
            with np.errstate(over="ignore", invalid="ignore"):  # divergence: status 2 says so
                x = x + np.asarray(tri(r), dtype=dtype)
                r = b - A @ x
                res = float(np.linalg.norm(r))
            done += 1
            if not math.isfinite(res) or res / denom <= tol:
                break
        k += done
        yield Step(x, res, res / denom, work=done, kernel="scipy")


def _solve(system, x0, opts):
    """The registry's ``solve`` of ``"sor"``: SOR's checks, the kernel, the generator."""
    diag = _prepare(system, opts["check_symmetric"])
    kernel = _resolve_kernel(opts["kernel"], system.sparse)
    steps = _steps_numba if kernel == "numba" else _steps_scipy
    x = np.array(x0, dtype=system.dtype)  # the numba kernel works in place
    every = opts["check_every"]
    if every is None:  # a reported step spans about 250,000 nonzero products (>= 10 sweeps)
        nnz = system.A.nnz if system.sparse else system.n * system.n
        every = max(10, -(-250_000 // max(nnz, 1)))
    return steps(system, diag, x, float(opts["omega"]), opts["tol"], opts["maxiter"], every)


def _positive_tol(tol):
    """``sor_solve`` and ``sor_bandit`` have always refused ``tol <= 0`` (the front door
    accepts 0, as every method does: run to ``maxiter``)."""
    if isinstance(tol, numbers.Real) and not isinstance(tol, bool) and not tol > 0:
        raise ValueError(f"`tol` must be a positive finite number, got {tol!r}")


def _finalize(res, system, opts):
    if res.status == 2:
        res.message += " SOR diverged: is A symmetric positive definite?"
    return res


_SOR_OPTIONS = {
    "omega": Option(1.0, "Relaxation parameter in (0, 2); 1 is Gauss-Seidel. For consistently ordered A "
                         "with Jacobi spectral radius mu the optimum is 2 / (1 + sqrt(1 - mu^2)) "
                         "(`poisson_optimal_omega` for the 5-point Laplacian).",
                    Interval(0, 2, open=("lo", "hi"))),
    "tol": Option(1e-8, "Tolerance on the relative residual ||b - Ax|| / ||b||, tested after every sweep "
                        "(0: run to maxiter unless the residual vanishes).",
                  Interval(0, math.inf, open=("hi",))),
    "maxiter": Option(10000, "Maximum number of sweeps; default 10,000.", Interval(0, integer=True)),
    "kernel": Option("auto", "Sweep implementation: 'numba' (compiled CSR loop, sparse A only), 'scipy' "
                             "(triangular solves on D/omega + L) or 'auto' (numba for sparse A, else scipy); "
                             "same iterates.", Choices("auto", "numba", "scipy"), aliases=("backend",)),
    "check_every": Option(None, "Sweeps per reported step (trace row, callback call, max_time test); the "
                                "residual test runs after every sweep whatever this is. None: "
                                "max(10, ceil(250000 / nnz(A))), so the loop's per-step cost stays small next "
                                "to the sweeps on small systems.",
                          NoneOr(Interval(1, integer=True))),
    "check_symmetric": Option(True, "Refuse a non-symmetric A (ValueError).", Flag()),
}

register(MethodSpec(
    name="sor", kind="linear_system", family="sor",
    summary="Successive over-relaxation for symmetric positive-definite A (numba CSR kernel)",
    solve=_solve, options=_SOR_OPTIONS, requires=(), optimality=OPTIMALITY,
    rate_text="Symmetric positive-definite A: converges iff 0 < omega < 2 (Ostrowski-Reich), "
              "||x_k - x*|| = O(rho^k) with rho the spectral radius of the iteration matrix. Consistently "
              "ordered A, Jacobi radius mu: rho = mu^2 for omega = 1 and rho = omega* - 1 at "
              "omega* = 2 / (1 + sqrt(1 - mu^2)); 5-point Poisson: omega* - 1 ~ 1 - 2 pi h.",
    reference="D. M. Young, PhD thesis, Harvard (1950); Y. Saad, Iterative Methods for Sparse Linear "
              "Systems (2003), Sec. 4.1.",
    backends=("numpy",), finalize=_finalize, example=lambda xp: example_system("spd")))


def sor_solve(A, b, omega, x0=None, tol=1e-8, maxiter=10000, *, kernel="auto", check_symmetric=True,
              **options):
    """Solve ``A x = b`` by successive over-relaxation.

    The older spelling of ``numopt.solve_linear(A, b, "sor", omega=omega, ...)``: the
    same registry path and results.

    Algorithm (Young 1950). Split ``A = D + L + U`` (diagonal, strictly lower, strictly
    upper). Each iteration (one forward sweep) is

        x_{k+1} = x_k + (D/omega + L)^{-1} (b - A x_k),

    i.e. ``x_i <- (1-omega) x_i + omega (b_i - sum_{j<i} a_ij x_j^{new} -
    sum_{j>i} a_ij x_j) / a_ii``; omega = 1 is Gauss-Seidel.

    Rate. For symmetric positive-definite A the iteration matrix has spectral radius < 1
    iff 0 < omega < 2, so ``||x_k - x*|| = O(rho^k)``. For consistently ordered matrices
    (e.g. the 5-point Laplacian) with Jacobi spectral radius mu, the optimum is
    ``omega* = 2/(1 + sqrt(1 - mu^2))`` with rho = omega* - 1, against rho = mu^2 for
    Gauss-Seidel; for the model Poisson problem omega* = 2/(1 + sin(pi h)).

    Parameters
    ----------
    A : (n, n) scipy.sparse matrix/array or dense array, symmetric positive definite.
    b : (n,) array.
    omega : float in (0, 2), the relaxation parameter.
    x0 : (n,) array, optional starting point (default zeros); not modified.
    tol : float, stop when ``||b - A x|| <= tol * ||b||`` (``tol`` absolute if b = 0).
    maxiter : int, maximum number of sweeps.
    kernel : ``"auto"`` (numba for sparse A, else scipy), ``"numba"`` (compiled CSR
        sweep, sparse only) or ``"scipy"`` (``spsolve_triangular`` /
        ``scipy.linalg.solve_triangular`` on ``D/omega + L``).
    check_symmetric : bool, raise ValueError if A is not symmetric (default True).
    **options : further options of ``"sor"`` (``check_every``, ``trace``, ``max_time``,
        ``callback``, ``disp``; see ``numopt.show_options("sor")``).

    Returns
    -------
    OptimizeResult with ``x`` (dtype of the inputs), ``nit`` (sweeps), ``success``,
    ``status`` (0 converged, 1 maxiter, 2 diverged / non-finite), ``message``,
    ``residual`` and ``optimality`` (relative residual ``||b - A x|| / ||b||`` at ``x``),
    ``fun`` (``||b - A x||``), ``kernel`` (the one that ran) and ``trace``.
    """
    from .linear import solve_linear

    _positive_tol(tol)
    callback = options.pop("callback", None)
    opts = dict(omega=omega, tol=tol, maxiter=maxiter, kernel=kernel, check_symmetric=check_symmetric,
                **options)
    res = solve_linear(A, b, "sor", x0=x0, callback=callback, options=opts)
    res.residual = res.optimality
    return res


# ------------------------------------------------------------------- generators
def laplacian_2d(n_grid):
    """The 5-point Laplacian stencil (4 on the diagonal, -1 for the four neighbours) on
    an ``n_grid x n_grid`` interior grid with Dirichlet boundary, as a CSR array of size
    ``n_grid**2`` (not scaled by 1/h^2). Eigenvalues ``4 sin^2(i pi h/2) +
    4 sin^2(j pi h/2)``, h = 1/(n_grid+1)."""
    if isinstance(n_grid, bool) or not isinstance(n_grid, numbers.Integral) or n_grid < 1:
        raise ValueError(f"`n_grid` must be a positive integer, got {n_grid!r}")
    n = int(n_grid)
    T1 = sp.diags_array([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], offsets=[-1, 0, 1],
                        shape=(n, n), dtype=np.float64)
    I1 = sp.eye_array(n, dtype=np.float64)
    return (sp.kron(T1, I1) + sp.kron(I1, T1)).tocsr()


def poisson_optimal_omega(n_grid):
    """Young's optimal omega for the 5-point Laplacian on an n_grid x n_grid grid:
    2 / (1 + sin(pi h)), h = 1/(n_grid + 1)."""
    h = 1.0 / (n_grid + 1)
    return 2.0 / (1.0 + math.sin(math.pi * h))


def shifted_laplacian_sequence(n_grid, shifts, rng=None):
    """Systems ``(L + c_t I, b_t)`` for each shift c_t >= 0 in ``shifts``: L the 5-point
    Laplacian of :func:`laplacian_2d` (unscaled, eigenvalues in (0, 8)), b_t standard
    normal (``rng``: None (seed 0), int or Generator). Returns a list of (A_t, b_t); the
    shifts are the contexts for ``sor_bandit(..., contextual=True, contexts=shifts)``."""
    shifts = np.asarray(shifts, dtype=np.float64)
    if shifts.ndim != 1 or not np.all(np.isfinite(shifts)):
        raise ValueError("`shifts` must be a 1-D array of finite numbers")
    if np.any(shifts < 0):
        raise ValueError("`shifts` must be non-negative (A + c I must stay positive definite)")
    rng = _rng(rng)
    L = laplacian_2d(n_grid)
    N = L.shape[0]
    I = sp.eye_array(N, dtype=np.float64, format="csr")
    return [((L + c * I).tocsr(), rng.standard_normal(N)) for c in shifts]


def diffusion_sequence(n_grid, n_steps, dt, u0=None):
    """Time steps of the heat equation u_t = Laplace(u) on the unit square (zero
    Dirichlet boundary), implicit Euler: ``(I + dt * Lap) u_{k+1} = u_k`` with Lap the
    5-point negative Laplacian scaled by 1/h^2, h = 1/(n_grid+1). Returns the list of
    systems ``(I + dt*Lap, u_k)``, k = 0..n_steps-1, where u_{k+1} is the exact (sparse
    LU) solution of step k. ``u0`` defaults to an off-centre Gaussian bump."""
    if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral) or n_steps < 1:
        raise ValueError(f"`n_steps` must be a positive integer, got {n_steps!r}")
    if not (isinstance(dt, numbers.Real) and dt > 0 and math.isfinite(dt)):
        raise ValueError(f"`dt` must be a positive number, got {dt!r}")
    h = 1.0 / (n_grid + 1)
    L = laplacian_2d(n_grid) / h ** 2
    N = L.shape[0]
    A = (sp.eye_array(N, dtype=np.float64, format="csr") + dt * L).tocsr()
    if u0 is None:
        g = np.arange(1, n_grid + 1) * h
        X, Y = np.meshgrid(g, g, indexing="ij")
        u = np.exp(-((X - 0.3) ** 2 + (Y - 0.6) ** 2) / 0.02).ravel()
    else:
        u = np.asarray(u0, dtype=np.float64)
        if u.shape != (N,):
            raise ValueError(f"`u0` must have shape ({N},), got {u.shape}")
        if not np.all(np.isfinite(u)):
            raise ValueError("`u0` contains NaN or inf")
    lu = splu(A.tocsc())
    out = []
    for _ in range(int(n_steps)):
        out.append((A, u))
        u = lu.solve(u)
    return out
