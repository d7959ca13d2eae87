"""Successive over-relaxation (SOR) with the relaxation parameter learned across a
sequence of linear systems.

* :func:`sor_solve` -- SOR (Young 1950) for a symmetric positive-definite ``A``
  (scipy.sparse or dense): ``x_{k+1} = x_k + (D/omega + L)^{-1} (b - A x_k)`` with D
  the diagonal and L the strictly lower triangle of A.
* :class:`TsallisINF` -- the 1/2-Tsallis-INF bandit (Zimmert & Seldin, JMLR 2021).
* :func:`sor_bandit` -- "Learning to relax" (Khodak, Chow, Balcan & Talwalkar, ICLR
  2024): pick omega_t for each system of a sequence by Tsallis-INF over a grid of
  omegas with the normalized iteration count as the loss; optionally one bandit per
  bin of a scalar context (diagonal shift), a simple version of the paper's
  contextual setting.
* Problem generators: :func:`laplacian_2d`, :func:`shifted_laplacian_sequence`,
  :func:`diffusion_sequence`, and :func:`poisson_optimal_omega`.

Theory. For SPD A, SOR converges iff 0 < omega < 2 (Ostrowski-Reich). For the model
Poisson problem (5-point Laplacian, mesh h = 1/(N+1)) the Jacobi spectral radius is
mu = cos(pi h), Gauss-Seidel (omega = 1) has spectral radius mu^2 and the optimal
omega* = 2 / (1 + sqrt(1 - mu^2)) = 2 / (1 + sin(pi h)) gives spectral radius
omega* - 1 ~ 1 - 2 pi h (Young 1950): O(N) instead of O(N^2) iterations.
Tsallis-INF has pseudo-regret O(sqrt(K T)) against adversarial losses and
O(sum_i log(T) / Delta_i) on stochastic ones; Khodak et al. turn this into sublinear
regret for the total SOR iteration count against the best fixed omega in hindsight.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.optimize import OptimizeResult
from scipy.sparse.linalg import splu, spsolve_triangular

__all__ = [
    "sor_solve", "TsallisINF", "sor_bandit", "laplacian_2d", "shifted_laplacian_sequence",
    "diffusion_sequence", "poisson_optimal_omega", "tsallis_inf_weights",
]

_MESSAGES = {
    0: "Relative residual ||b - Ax|| / ||b|| below tol.",
    1: "Maximum number of iterations reached.",
    2: "Non-finite residual: SOR diverged (is A symmetric positive definite?).",
}


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
class _System:
    """A validated (A, b) pair with what SOR needs, built once per system."""

    __slots__ = ("A", "b", "n", "sparse", "diag", "bnorm", "dtype")

    def __init__(self, A, b, check_symmetric=True):
        sparse = sp.issparse(A)
        if not sparse:
            if not isinstance(A, np.ndarray):
                A = np.asarray(A)
            if A.dtype == object or not (np.issubdtype(A.dtype, np.floating)
                                         or np.issubdtype(A.dtype, np.integer)):
                raise TypeError("`A` must be a real numeric array or scipy.sparse matrix")
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"`A` must be a square matrix, got shape {A.shape}")
        b = np.asarray(b)
        if b.ndim != 1 or b.shape[0] != A.shape[0]:
            raise ValueError(f"`b` must have shape ({A.shape[0]},) to match `A`, got {b.shape}")
        if not (np.issubdtype(b.dtype, np.floating) or np.issubdtype(b.dtype, np.integer)):
            raise TypeError("`b` must be a real numeric array")
        dtype = np.result_type(A.dtype, b.dtype, np.float32)
        if dtype not in (np.float32, np.float64):
            dtype = np.dtype(np.float64)
        if sparse:
            A = sp.csr_array(A, dtype=dtype)       # may share the caller's arrays
            if not A.has_canonical_format:
                A = A.copy()
                A.sum_duplicates()                  # also sorts the indices
            if A.indptr.dtype != A.indices.dtype:
                A.indptr = A.indptr.astype(A.indices.dtype)
        else:
            A = np.asarray(A, dtype=dtype)
        b = np.ascontiguousarray(b, dtype=dtype)
        if not (np.all(np.isfinite(A.data if sparse else A)) and np.all(np.isfinite(b))):
            raise ValueError("`A` and `b` must be finite")
        diag = np.asarray(A.diagonal(), dtype=dtype)
        if not np.all(diag > 0):
            raise ValueError("`A` must have a positive diagonal (SOR needs A symmetric "
                             "positive definite)")
        if check_symmetric:
            asym = abs(A - A.T).max() if sparse else np.max(np.abs(A - A.T))
            scale = abs(A).max() if sparse else np.max(np.abs(A))
            if asym > 1e3 * np.finfo(dtype).eps * scale:
                raise ValueError("`A` must be symmetric (SOR is guaranteed to converge for "
                                 "0 < omega < 2 only on symmetric positive-definite A)")
        self.A, self.b, self.n, self.sparse, self.diag = A, b, A.shape[0], sparse, diag
        self.bnorm = float(np.linalg.norm(b))
        self.dtype = dtype


def _check_omega(omega):
    if isinstance(omega, (bool, np.bool_)) or not isinstance(omega, numbers.Real):
        raise TypeError(f"`omega` must be a real number, got {type(omega).__name__}")
    omega = float(omega)
    if not 0.0 < omega < 2.0:
        raise ValueError(f"`omega` must lie in the open interval (0, 2), got {omega}")
    return omega


def _check_tol_maxiter(tol, maxiter):
    if not isinstance(tol, numbers.Real) or not tol > 0 or not math.isfinite(tol):
        raise ValueError(f"`tol` must be a positive finite number, got {tol!r}")
    if isinstance(maxiter, bool) or not isinstance(maxiter, numbers.Integral) or maxiter < 0:
        raise ValueError(f"`maxiter` must be a non-negative integer, got {maxiter!r}")
    return float(tol), int(maxiter)


def _numba_available():
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover
        return False
    return True


def _sor_core(sysm, omega, x0, tol, maxiter, kernel):
    """SOR on a validated system. Returns (x, nit, residual_norm, status)."""
    x = np.zeros(sysm.n, dtype=sysm.dtype) if x0 is None else np.array(x0, dtype=sysm.dtype)
    denom = sysm.bnorm if sysm.bnorm > 0 else 1.0
    tol_abs = tol * denom
    if kernel == "numba":
        from . import _sor_numba

        A = sysm.A
        nit, res, status = _sor_numba.sor_csr(A.indptr, A.indices, A.data, sysm.diag, sysm.b,
                                              x, omega, tol_abs, maxiter)
        return x, int(nit), float(res), int(status)
    # reference path: x <- x + (D/omega + L)^{-1} r, with a compiled triangular solve
    if sysm.sparse:
        M = (sp.tril(sysm.A, k=-1, format="csr") + sp.diags_array(sysm.diag / omega, format="csr")).tocsr()
        M.sort_indices()

        def tri(r):
            return spsolve_triangular(M, r, lower=True)
    else:
        M = np.tril(sysm.A, k=-1) + np.diag(sysm.diag / omega)

        def tri(r):
            return scipy.linalg.solve_triangular(M, r, lower=True, check_finite=False)
    nit = 0
    while True:
        r = sysm.b - sysm.A @ x
        res = float(np.linalg.norm(r))
        if not math.isfinite(res):
            return x, nit, res, 2
        if res <= tol_abs:
            return x, nit, res, 0
        if nit >= maxiter:
            return x, nit, res, 1
        x = x + np.asarray(tri(r), dtype=sysm.dtype)
        nit += 1


def _resolve_kernel(kernel, sparse):
    if kernel not in ("auto", "numba", "scipy"):
        raise ValueError(f"`kernel` must be 'auto', 'numba' or 'scipy', got {kernel!r}")
    if kernel == "auto":
        return "numba" if sparse and _numba_available() else "scipy"
    if kernel == "numba" and not sparse:
        raise ValueError("`kernel='numba'` needs a scipy.sparse `A`; use 'scipy' or 'auto'")
    return kernel


def sor_solve(A, b, omega, x0=None, tol=1e-8, maxiter=10000, *, kernel="auto",
              check_symmetric=True):
    """Solve ``A x = b`` by successive over-relaxation.

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

    Returns
    -------
    OptimizeResult with ``x``, ``nit`` (sweeps), ``success``, ``status`` (0 converged,
    1 maxiter, 2 diverged / non-finite), ``message``, ``residual`` (relative residual
    ``||b - A x|| / ||b||`` at ``x``).
    """
    omega = _check_omega(omega)
    tol, maxiter = _check_tol_maxiter(tol, maxiter)
    sysm = _System(A, b, check_symmetric=check_symmetric)
    if x0 is not None:
        x0 = np.asarray(x0)
        if x0.shape != (sysm.n,):
            raise ValueError(f"`x0` must have shape ({sysm.n},), got {x0.shape}")
        if not (np.issubdtype(x0.dtype, np.floating) or np.issubdtype(x0.dtype, np.integer)):
            raise TypeError(f"`x0` must be a real numeric array, got dtype {x0.dtype}")
        if not np.all(np.isfinite(x0)):
            raise ValueError("`x0` contains NaN or inf")
    kernel = _resolve_kernel(kernel, sysm.sparse)
    x, nit, res, status = _sor_core(sysm, omega, x0, tol, maxiter, kernel)
    return _result(sysm, x, nit, res, status)


def _result(sysm, x, nit, res, status):
    denom = sysm.bnorm if sysm.bnorm > 0 else 1.0
    return OptimizeResult(x=x, nit=nit, success=status == 0, status=status,
                          message=_MESSAGES[status], residual=res / denom)


# ------------------------------------------------------------------- Tsallis-INF
def tsallis_inf_weights(loss_estimates, eta, *, tol=1e-12, max_newton=100):
    """The 1/2-Tsallis-INF distribution for cumulative loss estimates ``L`` and
    learning rate ``eta``:

        w = argmin_{w in simplex} <w, L> - (4/eta) sum_i sqrt(w_i),

    whose stationarity condition gives ``w_i = 4 / (eta (L_i - x))^2`` with the
    normalization constant ``x < min_i L_i`` chosen so that ``sum_i w_i = 1``. ``x`` is
    found by Newton's method on the convex increasing ``f(x) = sum_i w_i(x) - 1``,
    started at ``min L - 2/eta`` (where f >= 0, so the iterates decrease monotonically
    to the root), safeguarded by the bracket ``[min L - 2 sqrt(K)/eta, min L - 2/eta]``.
    """
    L = np.asarray(loss_estimates, dtype=np.float64)
    if L.ndim != 1 or L.size == 0:
        raise ValueError("`loss_estimates` must be a non-empty 1-D array")
    if not np.all(np.isfinite(L)):
        raise ValueError("`loss_estimates` contains NaN or inf")
    if not (eta > 0 and math.isfinite(eta)):
        raise ValueError(f"`eta` must be positive, got {eta!r}")
    K = L.size
    Ls = L - L.min()
    hi, lo = -2.0 / eta, -2.0 * math.sqrt(K) / eta        # f(hi) >= 0 >= f(lo)
    x = hi
    c = 4.0 / eta ** 2
    for _ in range(max_newton):
        d = Ls - x
        w = c / d ** 2
        f = w.sum() - 1.0
        if abs(f) <= tol:
            break
        if f > 0:
            hi = x
        else:
            lo = x
        xn = x - f / (2.0 * (w / d).sum())
        x = xn if lo <= xn <= hi else 0.5 * (lo + hi)
    w = c / (Ls - x) ** 2
    return w / w.sum()


class TsallisINF:
    """The 1/2-Tsallis-INF multi-armed bandit (Zimmert & Seldin, "Tsallis-INF: An
    Optimal Algorithm for Stochastic and Adversarial Bandits", JMLR 22(28), 2021).

    Round t = 1, 2, ...: play ``arm ~ w_t`` with ``w_t`` from
    :func:`tsallis_inf_weights` at the cumulative importance-weighted loss estimates
    ``L_hat`` and learning rate ``eta_t = 1/sqrt(t)``; after observing ``loss`` in
    [0, 1] for the played arm, ``L_hat[arm] += loss / w_t[arm]`` (unbiased estimate).

    Guarantee (Zimmert & Seldin 2021): pseudo-regret O(sqrt(K T)) against any
    (oblivious) adversary, and O(sum_{i != i*} log(T) / Delta_i) in stochastic
    environments with gaps Delta_i -- both at once, without knowing which holds.

    Methods: :meth:`probabilities` (current w_t), :meth:`choose` -> arm,
    :meth:`update(arm, loss) <update>`. ``rng``: None (a fixed seed, 0: reproducible),
    int or numpy Generator.
    """

    def __init__(self, n_arms, rng=None):
        if isinstance(n_arms, bool) or not isinstance(n_arms, numbers.Integral) or n_arms < 1:
            raise ValueError(f"`n_arms` must be a positive integer, got {n_arms!r}")
        self.n_arms = int(n_arms)
        self.rng = _rng(rng)
        self.t = 0                                   # completed rounds
        self.loss_estimates = np.zeros(self.n_arms)
        self._p = None

    @property
    def eta(self):
        """Learning rate of the next round, 1/sqrt(t)."""
        return 1.0 / math.sqrt(self.t + 1)

    def probabilities(self):
        """The sampling distribution w_t of the next round."""
        if self._p is None:
            self._p = tsallis_inf_weights(self.loss_estimates, self.eta)
        return self._p.copy()

    def choose(self):
        """Sample an arm from w_t."""
        p = self.probabilities()
        return int(self.rng.choice(self.n_arms, p=p))

    def update(self, arm, loss):
        """Feed back the loss (in [0, 1]) of the arm played this round."""
        if isinstance(arm, bool) or not isinstance(arm, numbers.Integral) \
                or not 0 <= arm < self.n_arms:
            raise ValueError(f"`arm` must be an integer in [0, {self.n_arms}), got {arm!r}")
        loss = float(loss)
        if not 0.0 <= loss <= 1.0:
            raise ValueError(f"`loss` must lie in [0, 1], got {loss}")
        p = self.probabilities()
        self.loss_estimates[arm] += loss / p[arm]
        self.t += 1
        self._p = None


# ---------------------------------------------------------------- learning to relax
def _as_systems(systems, check_symmetric):
    out = []
    for t, item in enumerate(systems):
        try:
            A, b = item
        except (TypeError, ValueError):
            raise TypeError("`systems` must be an iterable of (A, b) pairs") from None
        out.append(_System(A, b, check_symmetric=check_symmetric))
    if not out:
        raise ValueError("`systems` must contain at least one (A, b) pair")
    return out


def sor_bandit(systems, omegas=np.linspace(1.0, 1.95, 20), tol=1e-8, maxiter=1000, rng=None,
               contextual=False, *, contexts=None, n_bins=4, warm_start=False,
               compare=False, kernel="auto", check_symmetric=True):
    """Learn the SOR relaxation parameter across a sequence of linear systems.

    Khodak, Chow, Balcan & Talwalkar, "Learning to Relax: Setting Solver Parameters
    Across a Sequence of Linear System Instances", ICLR 2024. For t = 1..T: the
    Tsallis-INF bandit (:class:`TsallisINF`) over the grid ``omegas`` picks omega_t,
    SOR solves A_t x = b_t to relative residual ``tol`` (at most ``maxiter`` sweeps),
    and the bandit receives the loss ``nit_t / maxiter`` in [0, 1] -- the only feedback
    is the iteration count, no extra matrix computation. Khodak et al. prove that the
    expected total iteration count exceeds that of the best fixed omega in hindsight
    by a sublinear amount in T (regret/T -> 0).

    Contextual variant (``contextual=True``, needs ``contexts``: one scalar c_t per
    system, e.g. the diagonal shift in A_t = A + c_t I): the range of the contexts is
    cut into ``n_bins`` equal bins and an independent Tsallis-INF runs in each bin, so
    the comparator becomes the best fixed omega *per bin*. This is a simple
    discretized version of the paper's contextual setting, not its Chebyshev-regression
    contextual bandit (ChebCB); the bin range is taken from the given contexts, i.e.
    the range (not the costs) is assumed known in advance.

    Parameters
    ----------
    systems : iterable of (A_t, b_t), A_t symmetric positive definite.
    omegas : 1-D grid in (0, 2), the arms.
    tol, maxiter : SOR stopping rule per system; ``maxiter`` also normalizes the loss,
        so choose it as a realistic upper bound on the iterations of a system.
    rng : None, int or Generator (the bandit's sampling; None is a fixed seed, 0, so a
        default run is reproducible).
    contextual, contexts, n_bins : see above.
    warm_start : start SOR on system t from the solution of system t-1 (same size).
    compare : also run every omega of the grid on every system (each fixed omega with
        its own warm-start chain) and report the comparators.
    kernel, check_symmetric : as in :func:`sor_solve`.

    Returns
    -------
    OptimizeResult with ``omegas`` (chosen, (T,)), ``arms`` (grid indices),
    ``iterations`` ((T,)), ``total_iterations``, ``converged`` ((T,) bool), ``x`` (last
    solution), ``success``/``status``/``message`` (0: every system converged, 1: some
    hit ``maxiter``), ``nsystems``, ``grid``; with ``contextual``: ``bins``,
    ``bin_edges``; with ``compare``: ``fixed_iterations`` ((K, T)), ``fixed_totals``,
    ``best_fixed_omega``, ``best_fixed_total``, ``regret`` (total - best fixed total),
    ``instance_optimal_total`` (sum_t min_omega nit), and with ``contextual`` also
    ``best_per_bin_total`` (sum over bins of the best fixed omega in that bin).
    """
    grid = np.asarray(omegas, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError("`omegas` must be a non-empty 1-D grid")
    bad = grid[~((grid > 0) & (grid < 2))]  # also catches NaN
    if bad.size:
        raise ValueError(f"`omegas` must lie in the open interval (0, 2) (SOR's `omega`), got {bad[0]}")
    tol, maxiter = _check_tol_maxiter(tol, maxiter)
    if maxiter < 1:
        raise ValueError("`maxiter` must be at least 1 for sor_bandit (it normalizes the loss)")
    syss = _as_systems(systems, check_symmetric)
    T, K = len(syss), grid.size
    kernels = [_resolve_kernel(kernel, s.sparse) for s in syss]
    rng = _rng(rng)

    if contextual:
        if contexts is None:
            raise ValueError("`contexts` is required when `contextual=True`")
        ctx = np.asarray(contexts, dtype=np.float64)
        if ctx.shape != (T,) or not np.all(np.isfinite(ctx)):
            raise ValueError(f"`contexts` must be {T} finite scalars, one per system")
        if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or n_bins < 1:
            raise ValueError(f"`n_bins` must be a positive integer, got {n_bins!r}")
        lo, hi = float(ctx.min()), float(ctx.max())
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, int(n_bins) + 1)
        bins = np.clip(np.searchsorted(edges, ctx, side="right") - 1, 0, int(n_bins) - 1)
        bandits = [TsallisINF(K, rng=rng) for _ in range(int(n_bins))]
    else:
        if contexts is not None:
            ctx = np.asarray(contexts)
            if ctx.shape != (T,):
                raise ValueError(f"`contexts` must have one entry per system ({T})")
        bins = np.zeros(T, dtype=np.intp)
        bandits = [TsallisINF(K, rng=rng)]

    arms = np.empty(T, dtype=np.intp)
    iters = np.empty(T, dtype=np.int64)
    conv = np.empty(T, dtype=bool)
    x_prev = None
    for t, s in enumerate(syss):
        bandit = bandits[bins[t]]
        k = bandit.choose()
        x0 = x_prev if (warm_start and x_prev is not None and x_prev.shape == (s.n,)) else None
        x, nit, _, status = _sor_core(s, float(grid[k]), x0, tol, maxiter, kernels[t])
        bandit.update(k, min(nit, maxiter) / maxiter)
        arms[t], iters[t], conv[t] = k, nit, status == 0
        x_prev = x

    status = 0 if conv.all() else 1
    res = OptimizeResult(
        x=x_prev, omegas=grid[arms], arms=arms, iterations=iters,
        total_iterations=int(iters.sum()), converged=conv, nsystems=T, grid=grid,
        success=status == 0, status=status,
        message=("Every system solved to tol." if status == 0 else
                 f"{int((~conv).sum())} of {T} systems hit maxiter before tol."))
    if contextual:
        res.bins, res.bin_edges = bins, edges
    if compare:
        fixed = np.empty((K, T), dtype=np.int64)
        for j, w in enumerate(grid):
            xp = None
            for t, s in enumerate(syss):
                x0 = xp if (warm_start and xp is not None and xp.shape == (s.n,)) else None
                xp, fixed[j, t], _, _ = _sor_core(s, float(w), x0, tol, maxiter, kernels[t])
        totals = fixed.sum(axis=1)
        jbest = int(np.argmin(totals))
        res.fixed_iterations = fixed
        res.fixed_totals = totals
        res.best_fixed_omega = float(grid[jbest])
        res.best_fixed_total = int(totals[jbest])
        res.regret = res.total_iterations - res.best_fixed_total
        res.instance_optimal_total = int(fixed.min(axis=0).sum())
        if contextual:
            res.best_per_bin_total = int(sum(fixed[:, bins == m].sum(axis=1).min()
                                             for m in np.unique(bins)))
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
