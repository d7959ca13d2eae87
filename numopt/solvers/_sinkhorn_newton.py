"""Sinkhorn–Newton–Sparse (Tang et al., ICLR 2024): the engine of method ``"sns"``.

Phase 0: the log-stabilized Sinkhorn iteration (scalings absorbed into reference
potentials, Schmitzer 2019), reading the kernel once per iteration (the one-pass numba
kernel of :mod:`._sinkhorn_numba`). When reg is small against the cost's spread
(``(max C - min C) / reg > anneal``, 1500) the phase starts with epsilon scaling
(Schmitzer 2019): reg halves every ``anneal_every`` (20) sweeps from ``spread / 2`` down
to the target, so Newton later starts at the target reg from a nearly balanced dual
(from a cold start Sinkhorn at reg = 1e-4 is still at a violation of 0.84 after 200
iterations on 2-D histograms, where damped Newton crawled). Those sweeps are iterations
(Steps with ``reg_current`` > reg and ``stop_ok=False``: they cannot end the run).

Phase 1: Newton steps on the concave entropic dual
``L(f, g) = <f, a> + <g, b> - reg sum_ij exp((f_i + g_j - C_ij) / reg)`` with a
sparsified Hessian (the smallest plan entries carrying at most ``drop_mass`` of the mass
dropped), Jacobi-preconditioned conjugate gradients (numba; the preconditioned Hessian's
spectral gap is Sinkhorn's, so CG needs about the square root of Sinkhorn's iteration
count in sparse products) with an adaptive tolerance, gauge fixing and an Armijo search
whose first trial moves no potential by more than ``max_move * reg`` and whose next trials
maximize a quadratic interpolant. Phase 2: log-domain Sinkhorn sweeps, the safeguard
whenever Newton fails to improve.

The switch is adaptive: Sinkhorn's marginal violation ``e_k`` contracts linearly, with
an observed ratio ``rho`` (geometric mean over the last 5 iterations at the target reg);
Sinkhorn is predicted to need ``log(tol / e_k) / log(rho)`` more iterations. Newton starts
once that prediction (made from the 6th iteration at the target reg on) exceeds
``switch_after`` iterations (a Newton step costs tens of one-pass Sinkhorn iterations
and Newton takes 5–20 steps), the violation is below ``switch_tol`` (a condition dropped
after ``warmup`` Sinkhorn iterations at the target reg) and the last ratio is above
``slow_ratio`` (a fast Sinkhorn just finishes the job). Before the 6th iteration only the
``warmup`` cap switches. When the line search finds no step that raises the dual enough
(Armijo), one log-domain Sinkhorn sweep follows, then Newton is tried again; when
``newton_patience`` Newton steps in a row have not lowered the marginal violation 10x,
Newton stalls and the one-pass Sinkhorn iteration finishes the run (phase 2). (Falling
back whenever a Newton step raises the marginal violation, or sweeping until the
violation is 10x lower, or 1, 2, 4, ... sweeps for consecutive failures, were tried and
rejected: far from the optimum damped Newton steps raise the violation while they make
progress on the dual, and the extra sweeps cost more than they save — 600+ sweeps and
3x the time at reg = 1e-4 on point clouds.)

numpy only, 1-D marginals.
"""
from __future__ import annotations

import math

import numpy as np

from .._loop import STATUS, Step
from ._ot_common import Duals

__all__ = ["sns_iterations", "stabilized_onepass", "ABSORB"]

# Absorption bound of SNS's Sinkhorn phase: |log u|, |log v| <= 300. Safe in float64: a
# plan entry u_i K_ij v_j >= e^-50 (one that matters) needs K_ij >= e^-650, above the
# exponentials' flush to 0 at e^-708, and K v <= m e^300 never overflows. (sinkhorn-log's
# default `absorb` is 50; the larger bound means fewer kernel rebuilds, each as costly as
# ~20 one-pass iterations at n = 500: none on the benchmark's 2-D histograms at reg = 1e-3,
# where the scalings of plain Sinkhorn reach e^250, instead of 8.)
ABSORB = 300.0


# ------------------------------------------------------------------ Sinkhorn phase

def stabilized_onepass(a, b, C, reg, f0, g0, absorb, schedule=None, start=None):
    """Log-stabilized Sinkhorn (the iterates of ``sinkhorn-log``'s default path) with one
    read of the kernel per iteration; a generator of Steps.

    ``schedule`` (optional): ``k -> reg_k``, the entropic parameter of iteration k
    (epsilon scaling, non-increasing down to ``reg``). At each change the scalings are
    absorbed into (F, G) and the kernel is rebuilt; Steps at a reg above the target are
    marked not final (``stop_ok=False``) and carry ``reg_current``. ``start``: the output
    of ``_sinkhorn_numba.c_transforms(C)`` when the caller has it (f0 None)."""
    from . import _sinkhorn_numba as nb

    n, m = C.shape
    if f0 is None:  # c-transforms: every row and column of the kernel has an entry equal to 1
        F, G, _ = nb.c_transforms(C) if start is None else start
    else:
        F = np.asarray(f0, dtype=np.float64)
        G = np.asarray(g0, dtype=np.float64) if g0 is not None else (C - F[:, None]).min(axis=0)
    r = reg if schedule is None else schedule(0)
    ker = nb.Kernels(n, m)
    K = np.empty((n, m))
    ker.stabilized_kernel(C, F, G, r, K)
    one_pass, mtv_, blocks = ker.one_pass, ker.mtv, ker.blocks
    W = np.empty((blocks, m))
    u, v = np.ones(n), np.ones(m)
    u_next = np.empty(n)
    err, w = one_pass(K, v, a, u, u_next, W)
    err += float(np.abs(v * mtv_(K, u, W) - b).sum())
    absorptions = 0
    extra = {} if schedule is None else {"reg_current": r}
    yield Step(Duals("stabilized", (F, G, u, v), r, np), None, err, stop_ok=r <= reg, absorptions=absorptions,
               **extra)
    lim = math.exp(absorb)

    def rebuild(F, G, r):
        """The kernel of the reference potentials (F, G) at r; scalings back to 1."""
        nonlocal absorptions
        ker.stabilized_kernel(C, F, G, r, K)
        absorptions += 1
        return np.ones(n), np.ones(m)

    k = 0
    while True:  # bounded by the caller
        k += 1
        if schedule is not None and schedule(k) != r:  # next level: absorb, rebuild the kernel at the new reg
            F, G = F + r * np.log(u), G + r * np.log(v)
            r = schedule(k)
            extra["reg_current"] = r
            u, v = rebuild(F, G, r)
            err, w = one_pass(K, v, a, u, u_next, W)
        # v = b / w; the ranges of u and v decide on an absorption (one numba call, no temporaries)
        v_next = np.empty(m)
        u_lo, u_hi, v_lo, v_hi = nb.divide_and_range(b, w, v_next, u_next)
        if not (u_lo > 0 and u_hi < math.inf):  # a row of K v underflowed: re-anchor the rows
            G = G + r * np.log(v)
            F = (C - G[None, :]).min(axis=1)
            u, v = rebuild(F, G, r)
            err, w = one_pass(K, v, a, u, u_next, W)
            u_lo, u_hi, v_lo, v_hi = nb.divide_and_range(b, w, v_next, u_next)
        u, v = u_next, v_next
        if not (v_lo > 0 and v_hi < math.inf):  # a column underflowed: re-anchor the columns
            with np.errstate(divide="ignore"):
                F = F + r * np.log(u)
            G = (C - F[:, None]).min(axis=0)
            u, v = rebuild(F, G, r)
        elif u_hi > lim or v_hi > lim or u_lo < 1 / lim or v_lo < 1 / lim:
            F, G = F + r * np.log(u), G + r * np.log(v)
            u, v = rebuild(F, G, r)
        u_next = np.empty(n)
        err, w = one_pass(K, v, a, u, u_next, W)
        yield Step(Duals("stabilized", (F, G, u, v), r, np), None, err, stop_ok=r <= reg, absorptions=absorptions,
                   **extra)


# ------------------------------------------------------------------- Newton phase

class _Dual:
    """Evaluations of the entropic dual: value, plan (stored), row and column sums."""

    def __init__(self, a, b, C, reg):
        from . import _sinkhorn_numba as nb

        n, m = C.shape
        self.nb, self.a, self.b, self.C, self.reg = nb.Kernels(n, m), a, b, C, reg
        self.blocks = self.nb.blocks
        self.W = np.empty((self.blocks, m))
        self.CT = None

    def __call__(self, f, g, P=None):
        """(L(f, g), P, r, c, min log P, max log P)."""
        n, m = self.C.shape
        P = np.empty((n, m)) if P is None else P
        r = np.empty(n)
        c, lo, hi = self.nb.plan_eval(self.C, f, g, self.reg, P, r, self.W)
        val = f @ self.a + g @ self.b - self.reg * r.sum()
        return val, P, r, c, lo, hi

    def error(self, r, c):
        return float(np.abs(r - self.a).sum() + np.abs(c - self.b).sum())

    def sweep(self, f, g):
        """One log-domain Sinkhorn sweep (rows, then columns)."""
        nb = self.nb
        if self.CT is None:
            self.CT = np.ascontiguousarray(self.C.T)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            f_new, g_new = np.empty_like(f), np.empty_like(g)
            nb.lse_update(self.C, g, f, self.reg, np.log(self.a), f_new, np.empty_like(f))
            nb.lse_update(self.CT, f_new, g, self.reg, np.log(self.b), g_new, np.empty_like(g))
        return f_new, g_new


def _threshold(P, total, lo, hi, drop_mass, min_keep, nb):
    """Largest t such that entries below t carry <= drop_mass of the mass (bins of a
    512-bin histogram of log P), lowered until at least ``min_keep`` entries are >= t."""
    if not math.isfinite(lo):
        return 0.0
    first, last = (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)
    H = np.empty((nb.blocks, 512))
    cum = np.cumsum(nb.log_mass_histogram(P, first, last, 512, H))
    k = np.searchsorted(cum, drop_mass * total, side="right")  # bins [0, k) may be dropped
    t = float(np.exp(first + k * (last - first) / 512)) if k > 0 else 0.0
    if min_keep < P.size and nb.count_at_least(P, t, np.empty(P.shape[0], dtype=np.int64)) < min_keep:
        flat = P.ravel()
        t = float(np.partition(flat, flat.size - min_keep)[flat.size - min_keep])
    return t


def _newton_direction(P, r, c, lo, hi, a, b, reg, opts, keep, nb):
    """(dual gradient, its l1 norm, CG Newton direction with the gauge fixed), or None
    when the gradient is not finite; the direction is None when a row or column of the
    plan underflowed (the Hessian is singular there: a Sinkhorn sweep follows)."""
    n, m = P.shape
    grad = np.concatenate([a - r, b - c])
    gn1 = np.abs(grad).sum()
    gnorm = np.linalg.norm(grad)
    if not math.isfinite(gnorm):  # (Python's min would swallow a NaN below)
        return None
    if not (r.min() > 0 and c.min() > 0):  # a row or column of the plan underflowed: no Newton step
        return grad, gn1, None
    t = _threshold(P, r.sum(), lo, hi, opts["drop_mass"], keep, nb)
    counts = np.empty(n, dtype=np.int64)
    nnz = nb.count_at_least(P, t, counts)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices, data = np.empty(nnz, dtype=np.int64), np.empty(nnz)
    nb.csr_at_least(P, t, indptr, indices, data)
    # Hessian of the dual: -(1/reg) [[diag(r), Ps], [Ps^T, diag(c)]] (Ps: the sparsified plan).
    # CG (numba) with the Jacobi preconditioner diag(r, c): the preconditioned Hessian is
    # I + [[0, D_r^-1/2 Ps D_c^-1/2], [.., 0]], whose spectral gap is that of Sinkhorn's
    # iteration map, so CG needs ~ sqrt(Sinkhorn's iteration count) products, not more
    # (without it, hist2d n = 484 at reg 1e-4 stalled: 80 damped steps, then Sinkhorn).
    rtol = min(opts["cg_rtol"], math.sqrt(gnorm))
    d = np.empty(n + m)
    nb.sns_pcg(indptr, indices, data, r, c, reg * grad, rtol, opts["cg_maxiter"] or 2 * (n + m), d)
    d -= (d[:n].sum() - d[n:].sum()) / (n + m) * np.concatenate([np.ones(n), -np.ones(m)])  # gauge
    return grad, gn1, d


def _line_search(f, g, L, d, slope, gn1, dual, P_buf, opts):
    """Armijo search on the dual along d: (alpha, evaluation at the new point), or None
    when no step is accepted within ``max_linesearch`` trial steps. Each trial is a full
    plan evaluation (n m exponentials), so a rejected step is followed by the maximizer
    of the quadratic through L(0), L'(0) and the trial's value, kept in [alpha / 10,
    alpha / 2] (alpha / 10 when the trial's value is not finite)."""
    n = f.shape[0]
    if not (slope > 0 and np.all(np.isfinite(d))):
        return None
    # first trial: the Newton step, shortened so that no potential moves by more than
    # max_move * reg (plan entries change by at most exp(2 max_move)): far from the optimum a
    # nearly empty row (r_i << a_i) asks for d_i ~ reg a_i / r_i, where exp's curvature
    # makes the quadratic model useless (2-D histograms at reg = 1e-4 needed alpha = 1e-12)
    alpha = min(1.0, opts["max_move"] * dual.reg / float(np.max(np.abs(d))))
    for _ in range(opts["max_linesearch"]):
        ev = dual(f + alpha * d[:n], g + alpha * d[n:], P_buf)
        L_new = ev[0]
        if np.isfinite(L_new) and L_new >= L + 1e-4 * alpha * slope:
            return alpha, ev
        # near the optimum the dual value stalls in floating point: accept a step
        # that reduces the marginal violation while the value is flat to rounding
        if np.isfinite(L_new) and L_new >= L - 1e-13 * (1 + abs(L)):
            if dual.error(ev[2], ev[3]) < 0.5 * gn1:
                return alpha, ev
        if np.isfinite(L_new):  # q(t) = L + slope t - k t^2 through (alpha, L_new): max at slope / (2 k)
            excess = L + slope * alpha - L_new  # = k alpha^2 > 0: Armijo failed
            alpha = min(max(slope * alpha / (2 * excess) * alpha, 0.1 * alpha), 0.5 * alpha)
        else:
            alpha *= 0.1
    return None


def _sinkhorn_rest(a, b, C, reg, f, g):
    """The one-pass log-stabilized Sinkhorn from (f, g), as phase-2 Steps (its first
    Step, the current iterate again, is skipped)."""
    steps = stabilized_onepass(a, b, C, reg, f, g, absorb=ABSORB)
    next(steps)
    for step in steps:
        yield Step(step.x, None, step.optimality, phase=2.0, step_size=1.0, grad_l1_before=float("nan"))


def _switch(k, err, history, opts):
    """The switch rule of the module docstring (``history``: the violations so far)."""
    ratio = err / history[-2] if len(history) >= 2 and history[-2] else 1.0
    if not ratio > opts["slow_ratio"]:
        return False
    capped = k >= opts["warmup"]
    if len(history) < 6:  # too early to predict: only the warm-up cap switches
        return capped
    if not (capped or err <= opts["switch_tol"]):
        return False
    rho = (err / history[-6]) ** 0.2 if history[-6] > 0 else 1.0
    if not (0 < rho < 1):  # not contracting (or NaN): Newton's safeguarded steps do better
        return math.isfinite(err)
    tol = opts.get("tol") or 0.0
    remaining = math.log(max(tol, 1e-300) / err) / math.log(rho)
    return remaining > opts["switch_after"]


def sns_iterations(a, b, C, reg, warm, opts):
    """Generator of Steps: the steps of the Sinkhorn generator ``warm`` (phase 0) until the
    switch rule fires, then Newton steps (phase 1) or Sinkhorn fallback sweeps (phase 2)."""
    n, m = C.shape
    x, history = None, []
    for step in warm:
        x = step.x
        if not step.stop_ok:  # annealing (reg above the target): no switch, no stop
            yield Step(x, None, step.optimality, stop_ok=False, phase=0.0, reg_current=step.extras["reg_current"])
            continue
        history.append(step.optimality)
        step.extras["phase"] = 0.0  # (the warm-up's own Step, with its absorption count)
        yield step
        if _switch(len(history) - 1, step.optimality, history, opts):
            break
    warm.close()
    f, g = (np.asarray(z, dtype=np.float64) for z in x.potentials())
    keep = int(opts["keep"] * (n + m))
    dual = _Dual(a, b, C, reg)
    L, P, r, c, lo, hi = dual(f, g)
    P_spare = np.empty_like(P)
    err, target = history[-1], None  # (target not None: a fallback sweep comes next)
    window = [history[-1], 0]  # stall detection: the violation at the window's start, Newton steps since
    while True:  # bounded by the loop's maxiter
        if window[1] >= opts["newton_patience"]:
            if not err <= 0.1 * window[0]:  # Newton stalls: Sinkhorn for the rest of the run
                yield from _sinkhorn_rest(a, b, C, reg, f, g)
                return None
            window = [err, 0]
        found, gn1, alpha = None, float("nan"), 1.0
        if target is None:
            direction = _newton_direction(P, r, c, lo, hi, a, b, reg, opts, keep, dual.nb)
            if direction is None:
                return 2, f"{STATUS[2]} (non-finite dual gradient in the Newton phase)"
            grad, gn1, d = direction
            found = None if d is None else _line_search(f, g, L, d, grad @ d, gn1, dual, P_spare, opts)
            if found is None:  # Newton failed: one Sinkhorn sweep, then Newton again
                target = -math.inf
        if found is not None:
            alpha, (L, P_new, r, c, lo, hi) = found
            f, g = f + alpha * d[:n], g + alpha * d[n:]
            P_spare, P = P, P_new
            phase = 1.0
            window[1] += 1
        else:
            f, g = dual.sweep(f, g)
            L, P, r, c, lo, hi = dual(f, g, P)
            phase = 2.0
        err = dual.error(r, c)
        target = None
        yield Step(Duals("log", (f, g), reg, np), None, err, phase=phase, step_size=alpha, grad_l1_before=gn1)
