"""Learning the SOR relaxation parameter across a sequence of linear systems.

* :class:`TsallisINF` -- the 1/2-Tsallis-INF bandit (Zimmert & Seldin, JMLR 2021).
* :func:`sor_bandit` -- "Learning to relax" (Khodak, Chow, Balcan & Talwalkar, ICLR
  2024): pick omega_t for each system of a sequence by Tsallis-INF over a grid of
  omegas with the normalized iteration count as the loss; optionally one bandit per
  bin of a scalar context (diagonal shift), a simple version of the paper's
  contextual setting. Each solve runs the registry's ``"sor"`` method through the
  shared loop (``run_method``), on systems validated once.

Tsallis-INF has pseudo-regret O(sqrt(K T)) against adversarial losses and
O(sum_i log(T) / Delta_i) on stochastic ones; Khodak et al. turn this into sublinear
regret for the total SOR iteration count against the best fixed omega in hindsight.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.optimize import OptimizeResult

from .sor import _positive_tol, _prepare, _resolve_kernel, _rng

__all__ = ["TsallisINF", "sor_bandit", "tsallis_inf_weights"]


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
    """Each (A_t, b_t) validated once (SOR's symmetry check included)."""
    from .linear import LinearSystem

    out = []
    for item in systems:
        try:
            A, b = item
        except (TypeError, ValueError):
            raise TypeError("`systems` must be an iterable of (A, b) pairs") from None
        s = LinearSystem(A, b)
        _prepare(s, check_symmetric)
        out.append(s)
    if not out:
        raise ValueError("`systems` must contain at least one (A, b) pair")
    return out


def _sor_run(spec, system, omega, x0, opts, kernel):
    """One SOR solve through the shared loop: ``(x, sweeps, converged)``. A diverged
    solve (non-finite residual, status 2) counts as ``maxiter`` sweeps."""
    from .._registry import run_method

    r = run_method(spec, system, system.start(x0), dict(opts, omega=float(omega), kernel=kernel))
    nit = opts["maxiter"] if r.status == 2 else r.nit
    return r.x, nit, r.status == 0


def _bins(contextual, contexts, n_bins, T, K, rng):
    """The context bin of each system, the bin edges and one bandit per bin."""
    if not contextual:
        if contexts is not None and np.asarray(contexts).shape != (T,):
            raise ValueError(f"`contexts` must have one entry per system ({T})")
        return np.zeros(T, dtype=np.intp), None, [TsallisINF(K, rng=rng)]
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
    return bins, edges, [TsallisINF(K, rng=rng) for _ in range(int(n_bins))]


def _compare(res, spec, syss, grid, opts, kernels, warm_start, bins):
    """Every omega of the grid on every system (each fixed omega with its own warm-start
    chain): the comparators of the bandit, added to ``res``."""
    K, T = grid.size, len(syss)
    fixed = np.empty((K, T), dtype=np.int64)
    for j, w in enumerate(grid):
        xp = None
        for t, s in enumerate(syss):
            x0 = xp if (warm_start and xp is not None and xp.shape == (s.n,)) else None
            xp, fixed[j, t], _ = _sor_run(spec, s, w, x0, opts, kernels[t])
    totals = fixed.sum(axis=1)
    jbest = int(np.argmin(totals))
    res.fixed_iterations = fixed
    res.fixed_totals = totals
    res.best_fixed_omega = float(grid[jbest])
    res.best_fixed_total = int(totals[jbest])
    res.regret = res.total_iterations - res.best_fixed_total
    res.instance_optimal_total = int(fixed.min(axis=0).sum())
    if bins is not None:
        res.best_per_bin_total = int(sum(fixed[:, bins == m].sum(axis=1).min() for m in np.unique(bins)))


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
    kernel, check_symmetric : options of the ``"sor"`` method (:func:`sor_solve`).

    Returns
    -------
    OptimizeResult with ``omegas`` (chosen, (T,)), ``arms`` (grid indices),
    ``iterations`` ((T,); a solve whose residual became non-finite counts ``maxiter``),
    ``total_iterations``, ``converged`` ((T,) bool), ``x`` (last
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
    from .._registry import get_method, resolve_options

    _positive_tol(tol)
    spec = get_method("sor", kind="linear_system")
    # SOR's own option checks; one Step per solve (the stopping test still runs every sweep)
    opts = resolve_options(spec, dict(tol=tol, maxiter=maxiter, kernel=kernel,
                                      check_symmetric=check_symmetric, trace=False))
    if opts["maxiter"] < 1:
        raise ValueError("`maxiter` must be at least 1 for sor_bandit (it normalizes the loss)")
    maxiter = opts["check_every"] = opts["maxiter"]
    syss = _as_systems(systems, opts["check_symmetric"])
    T, K = len(syss), grid.size
    kernels = [_resolve_kernel(opts["kernel"], s.sparse) for s in syss]
    rng = _rng(rng)

    bins, edges, bandits = _bins(contextual, contexts, n_bins, T, K, rng)

    arms = np.empty(T, dtype=np.intp)
    iters = np.empty(T, dtype=np.int64)
    conv = np.empty(T, dtype=bool)
    x_prev = None
    for t, s in enumerate(syss):
        bandit = bandits[bins[t]]
        k = bandit.choose()
        x0 = x_prev if (warm_start and x_prev is not None and x_prev.shape == (s.n,)) else None
        x, nit, ok = _sor_run(spec, s, grid[k], x0, opts, kernels[t])
        bandit.update(k, min(nit, maxiter) / maxiter)
        arms[t], iters[t], conv[t] = k, nit, ok
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
        _compare(res, spec, syss, grid, opts, kernels, warm_start, bins if contextual else None)
    return res
