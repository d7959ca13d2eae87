"""Sinkhorn–Newton–Sparse (Tang et al., ICLR 2024): the engine of method ``"sns"``.

Sinkhorn warm-up (the log-stabilized iteration of :mod:`numopt.solvers.sinkhorn`),
then Newton steps on the concave entropic dual
``L(f, g) = <f, a> + <g, b> - reg sum_ij exp((f_i + g_j - C_ij) / reg)`` with a
sparsified Hessian (the smallest plan entries carrying at most ``drop_mass`` of the
mass dropped), conjugate gradients with an adaptive tolerance, gauge fixing, an Armijo
search, and a log-domain Sinkhorn sweep whenever Newton fails to improve.
numpy only (scipy.sparse), 1-D marginals.
"""
from __future__ import annotations

import math

import numpy as np

from .._loop import STATUS, Step
from ._ot_common import Duals, lse

__all__ = ["sns_iterations"]


def _dual(f, g, a, b, C, reg):
    """(dual value L(f, g), plan P)."""
    with np.errstate(over="ignore", invalid="ignore"):
        P = np.exp((f[:, None] + g[None, :] - C) / reg)
        val = f @ a + g @ b - reg * P.sum()
    return val, P


def _newton_direction(P, a, b, reg, opts, keep):
    """(dual gradient, its l1 norm, CG Newton direction with the gauge fixed), or None
    when the gradient is not finite."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import LinearOperator, cg

    n, m = P.shape
    r, c = P.sum(1), P.sum(0)
    grad = np.concatenate([a - r, b - c])
    gn1 = np.abs(grad).sum()
    # sparsify: drop the smallest entries carrying at most `drop_mass` of the mass
    # (threshold from a histogram of log P: O(n^2), no sort), keeping at least
    # `keep * (n + m)` entries
    Ps = sp.csr_matrix(np.where(P >= _mass_threshold(P, opts["drop_mass"], keep), P, 0.0))
    PsT = Ps.T.tocsr()

    def hv(z):
        x, y = z[:n], z[n:]
        return np.concatenate([r * x + Ps @ y, PsT @ x + c * y]) / reg

    H = LinearOperator((n + m, n + m), matvec=hv, dtype=float)
    gnorm = np.linalg.norm(grad)
    if not math.isfinite(gnorm):  # (Python's min would swallow a NaN below)
        return None
    rtol = min(opts["cg_rtol"], math.sqrt(gnorm))
    d, _ = cg(H, grad, rtol=rtol, maxiter=opts["cg_maxiter"] or 2 * (n + m))
    d -= (d[:n].sum() - d[n:].sum()) / (n + m) * np.concatenate([np.ones(n), -np.ones(m)])  # gauge
    return grad, gn1, d


def _line_search(f, g, L, d, slope, gn1, a, b, C, reg, opts):
    """Armijo search on the dual along d: (alpha, L_new, P_new), or None when no step is accepted."""
    n = f.shape[0]
    if not (slope > 0 and np.all(np.isfinite(d))):
        return None
    alpha = 1.0
    for _ in range(opts["max_linesearch"]):
        L_new, P_new = _dual(f + alpha * d[:n], g + alpha * d[n:], a, b, C, reg)
        if np.isfinite(L_new) and L_new >= L + 1e-4 * alpha * slope:
            return alpha, L_new, P_new
        # near the optimum the dual value stalls in floating point: accept a step
        # that reduces the marginal violation while the value is flat to rounding
        if np.isfinite(L_new) and L_new >= L - 1e-13 * (1 + abs(L)):
            e_new = np.abs(P_new.sum(1) - a).sum() + np.abs(P_new.sum(0) - b).sum()
            if e_new < 0.5 * gn1:
                return alpha, L_new, P_new
        alpha *= 0.5
    return None


def sns_iterations(a, b, C, reg, warm, opts):
    """Generator of Steps: the steps of the Sinkhorn generator ``warm`` (phase 0) until the
    switch rule fires, then Newton steps (phase 1) or Sinkhorn fallback sweeps (phase 2)."""
    n, m = C.shape
    x, prev = None, None
    for k, step in enumerate(warm):
        x = step.x
        yield Step(x, None, step.optimality, phase=0.0)
        ratio = step.optimality / prev if prev else 1.0
        prev = step.optimality
        # switch to Newton once Sinkhorn is close (switch_tol) or past `warmup`, and only
        # while it is slow: a fast-contracting Sinkhorn just finishes the job
        if (k >= opts["warmup"] or step.optimality <= opts["switch_tol"]) and ratio > opts["slow_ratio"]:
            break
    warm.close()
    f, g = x.potentials()
    keep = int(opts["keep"] * (n + m))
    L, P = _dual(f, g, a, b, C, reg)
    while True:  # bounded by the loop's maxiter
        direction = _newton_direction(P, a, b, reg, opts, keep)
        if direction is None:
            return 2, f"{STATUS[2]} (non-finite dual gradient in the Newton phase)"
        grad, gn1, d = direction
        found = _line_search(f, g, L, d, grad @ d, gn1, a, b, C, reg, opts)
        if found is not None:
            alpha, L, P = found
            f, g = f + alpha * d[:n], g + alpha * d[n:]
            phase = 1.0
        else:  # Newton failed to improve: one Sinkhorn (log-domain) sweep instead
            alpha = 1.0
            with np.errstate(over="ignore", divide="ignore"):
                f = reg * (np.log(a) - lse((g[None, :] - C) / reg, 1, np))
                g = reg * (np.log(b) - lse((f[:, None] - C) / reg, 0, np))
            L, P = _dual(f, g, a, b, C, reg)
            phase = 2.0
        err = np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()
        yield Step(Duals("log", (f, g), reg, np), None, err, phase=phase, step_size=alpha,
                   grad_l1_before=gn1)


def _mass_threshold(P, drop_mass, min_keep):
    """Largest t such that entries below t carry <= drop_mass of the total mass (and at
    least min_keep entries are >= t)."""
    flat = P.ravel()
    total = flat.sum()
    pos = flat[flat > 0]
    if pos.size == 0:
        return 0.0
    logs = np.log(pos)
    hist, edges = np.histogram(logs, bins=512, weights=pos)
    cum = np.cumsum(hist)
    k = np.searchsorted(cum, drop_mass * total, side="right")  # bins [0, k) may be dropped
    t = float(np.exp(edges[k])) if k > 0 else 0.0
    if min_keep < flat.size and np.count_nonzero(flat >= t) < min_keep:
        t = float(np.partition(flat, flat.size - min_keep)[flat.size - min_keep])
    return t
