"""Mirror Sinkhorn (Ballu & Berthet, ICML 2023), method ``"mirror-sinkhorn"`` of kind
``"ot"``: minimize a convex ``F(P)`` over the transport polytope
``U(a, b) = {P >= 0, P 1 = a, P^T 1 = b}`` in a single loop from (possibly noisy)
gradients. Front door: :func:`mirror_sinkhorn` (it needs ``grad``, not a cost matrix,
so it is not run by :func:`numopt.sinkhorn`).

Reference: G. Ballu, Q. Berthet. Mirror Sinkhorn: fast online optimization on
transport polytopes. ICML 2023. Rounding: J. Altschuler, J. Weed, P. Rigollet,
NeurIPS 2017, Alg. 2.
"""
from __future__ import annotations

import inspect
import math

import numpy as np

from .._backend import get_namespace
from .._loop import STATUS, Step
from .._options import Interval, NoneOr, Option, generator
from .._registry import MethodSpec, check_backend, get_method, merge_options, register, resolve_options, run_method
from ._ot_common import as_array, check_marginals, l1, lse, round_to_polytope

__all__ = ["mirror_sinkhorn", "round_to_polytope"]


def _lp_lower_bound(G, a, b, reg, warm, sweeps, xp):
    """A lower bound of ``min_{Q in U(a, b)} <G, Q>`` by weak duality: ``sweeps``
    log-domain Sinkhorn sweeps on the cost ``G`` at ``reg`` (warm-started from ``warm``),
    then two c-transforms (``g_j = min_i G_ij - f_i``, ``f_i = min_j G_ij - g_j``) make the
    potentials feasible for the LP dual (``f_i + g_j <= G_ij``), so
    ``<f, a> + <g, b> <= <G, Q>`` for every Q in U(a, b) however inexact the Sinkhorn
    potentials are. Returns (bound, Sinkhorn potentials for the next warm start)."""
    log_a, log_b = xp.log(a), xp.log(b)
    g = xp.min(G, axis=0) if warm is None else warm
    for _ in range(sweeps):
        f = reg * (log_a - lse((g[None, :] - G) / reg, 1, xp))
        g = reg * (log_b - lse((f[:, None] - G) / reg, 0, xp))
    if not bool(xp.all(xp.isfinite(g))):
        g = xp.min(G, axis=0)
    warm = g
    f = xp.min(G - g[None, :], axis=1)
    g = xp.min(G - f[:, None], axis=0)
    f = xp.min(G - g[None, :], axis=1)
    return float(xp.sum(f * a)) + float(xp.sum(g * b)), warm


class MirrorProblem:
    """A Mirror Sinkhorn instance after the input checks: the gradient oracle (``G``,
    shape-checked, given the run's rng when it takes one), marginals, optional ``value``,
    and the state of the duality-gap certificate (warm start, last value)."""

    def __init__(self, grad, a, b, value, xp, opts):
        self.a, self.b, self.value, self.xp = a, b, value, xp
        self.grad = grad
        self.rng = generator(opts["rng"])
        try:
            self.takes_rng = len(inspect.signature(grad).parameters) >= 2
        except (TypeError, ValueError):
            self.takes_rng = False
        self.tol, self.check_every = opts["tol"], opts["check_every"]
        self.warm, self.last_gap, self.gap_nit = None, None, -1

    def G(self, P):
        out = self.grad(P, self.rng) if self.takes_rng else self.grad(P)
        out = self.xp.asarray(as_array(out))
        if tuple(out.shape) != tuple(P.shape):
            raise ValueError(f"`grad` returned shape {tuple(out.shape)}, expected {tuple(P.shape)}")
        return out

    def certificate(self, avg, nit):
        """Upper bound of F(round(avg)) - F* (see :func:`mirror_sinkhorn`); NaN when the
        gradient is not finite."""
        xp, a, b = self.xp, self.a, self.b
        Pr = round_to_polytope(avg, a, b)
        Gr = self.G(Pr)
        if not bool(xp.all(xp.isfinite(Gr))):
            return math.nan
        upper = float(xp.sum(Gr * Pr))
        spread = float(xp.max(Gr)) - float(xp.min(Gr))
        if spread <= 0:  # constant gradient: every feasible plan is optimal for the linearization
            gap = 0.0
        else:
            target = self.last_gap if self.last_gap is not None else 0.1 * spread
            sweeps = self.check_every if self.warm is not None else 100  # a cold start gets more
            reg = min(max(0.5 * max(self.tol, target), 1e-6 * spread), 0.1 * spread)
            lower, self.warm = _lp_lower_bound(Gr, a, b, reg, self.warm, sweeps, xp)
            gap = max(upper - lower, 0.0) if math.isfinite(upper - lower) else math.nan
        self.last_gap, self.gap_nit = gap, nit
        return gap

    def violation(self, Q):
        xp = self.xp
        return l1(xp.sum(Q, axis=1) - self.a, xp) + l1(xp.sum(Q, axis=0) - self.b, xp)


def _iterations(p, P, opts):
    """Generator of Steps: x is the running (eta-weighted) average of the iterates."""
    xp, a, b, tol = p.xp, p.a, p.b, opts["tol"]
    value = p.value
    g = p.G(P)
    if not bool(xp.all(xp.isfinite(g))):
        raise ValueError("`grad` returned NaN or inf at the starting plan")
    step = opts["step"]
    eta0 = step if step is not None else 1.0 / max(float(xp.max(xp.abs(g))), 1e-300)
    avg, wsum = P, 0.0
    opt = p.certificate(avg, 0) if tol > 0 else None
    yield Step(avg, None if value is None else float(value(avg)), opt, last=P, marginal_error=p.violation(avg))
    t = 0
    while True:  # bounded by the loop's maxiter
        eta = eta0 / math.sqrt(t + 1)
        logP = xp.log(xp.maximum(P, xp.full_like(P, 1e-300))) - eta * g
        logP = logP - xp.max(logP)
        P = xp.exp(logP)
        if t % 2 == 0:
            P = P * (a / xp.sum(P, axis=1))[:, None]
        else:
            P = P * (b / xp.sum(P, axis=0))[None, :]
        wsum_new = wsum + eta
        avg = P if wsum == 0 else avg * (wsum / wsum_new) + P * (eta / wsum_new)
        wsum = wsum_new
        t += 1
        err = p.violation(avg)
        if not (math.isfinite(err) and bool(xp.all(xp.isfinite(P)))):
            return 2, f"{STATUS[2]} (non-finite plan at iteration {t}: check `grad` and `step`)"
        g = p.G(P)
        if not bool(xp.all(xp.isfinite(g))):
            return 2, f"{STATUS[2]} (`grad` returned NaN or inf at iteration {t})"
        opt = p.certificate(avg, t) if tol > 0 and t % p.check_every == 0 else None
        yield Step(avg, None if value is None else float(value(avg)), opt, last=P, marginal_error=err)


def _finalize(res, p, opts):
    """The rounded plan, its certificate and value (once, after the loop)."""
    res.average = res.x
    res.plan = res.x = round_to_polytope(res.x, p.a, p.b)
    if p.takes_rng:
        res.gap = None
    elif p.gap_nit == res.nit and p.last_gap is not None:
        res.gap = p.last_gap
    else:
        res.gap = p.certificate(res.average, res.nit)
    res.optimality = res.gap
    tol = opts["tol"]
    if tol > 0 and res.status == 1 and res.gap is not None and math.isfinite(res.gap) and res.gap <= tol:
        res.status, res.success, res.message = 0, True, STATUS[0]
    res.fun = None if p.value is None else float(p.value(res.plan))
    return res


def _example(xp):
    """Linear objective <C, P> on 6 x 7 point clouds (costs in [0, 1], so the default step is 1)."""
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((6, 2)), rng.standard_normal((7, 2)) + 0.5
    C = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    C = xp.asarray(C / C.max())
    a, b = rng.uniform(0.5, 1.5, 6), rng.uniform(0.5, 1.5, 7)
    return dict(grad=lambda P: C, a=xp.asarray(a / a.sum()), b=xp.asarray(b / b.sum()),
                value=lambda P: float(xp.sum(P * C)))


register(MethodSpec(
    name="mirror-sinkhorn", kind="ot", family="sinkhorn", requires=("grad",), finalize=_finalize,
    front_door="numopt.mirror_sinkhorn",
    solve=lambda p, P0, o: _iterations(p, P0, o), example=_example, backends=("numpy", "array_api_strict", "cupy"),
    summary="Mirror Sinkhorn: a convex F(P) over the transport polytope from (noisy) gradients",
    options={
        "maxiter": Option(1000, "Maximum number of iterations (default 1,000; one mirror step and one "
                                "marginal scaling each).", Interval(0, integer=True)),
        "tol": Option(0.0, "Tolerance on the duality-gap certificate (absolute, in units of F); 0 never "
                           "stops early. tol > 0 needs a deterministic grad(P).", Interval(0)),
        "step": Option(None, "eta0 of the steps eta_t = eta0 / sqrt(t + 1) (None: 1 / max|grad(P0)|).",
                       NoneOr(Interval(0, math.inf, open=("lo", "hi")))),
        "rng": Option(None, "Seed or numpy Generator passed to a stochastic grad(P, rng) (None: seed 0, "
                            "so runs are reproducible)."),
        "check_every": Option(10, "Compute the certificate every this many iterations (it costs one "
                                  "gradient and check_every Sinkhorn sweeps).", Interval(1, integer=True)),
    },
    optimality="upper bound of F(plan) - F* for the returned (rounded, feasible) plan: <G, plan> minus an "
               "LP-dual lower bound of min_Q <G, Q>, G = grad(plan); every `check_every` iterations when "
               "tol > 0, and at the end (result.gap)",
    rate_text="Averaged iterate: F(P_bar_T) - F* = O(log(n) / sqrt(T)) and marginal violation O(1/sqrt(T)) "
              "with eta_t = eta0 / sqrt(t + 1), also for unbiased noisy gradients (Ballu & Berthet 2023, "
              "Thm 3.2).",
    reference="Ballu & Berthet, Mirror Sinkhorn: fast online optimization on transport polytopes, ICML 2023."))


def _check_P0(P0, n, m, xp):
    P = xp.asarray(as_array(P0))
    if tuple(P.shape) != (n, m):
        raise ValueError(f"`P0` must have shape ({n}, {m}), got {tuple(P.shape)}")
    if not xp.isdtype(P.dtype, "real floating"):
        raise TypeError(f"`P0` must be a real floating array, got dtype {P.dtype}")
    if not bool(xp.all(xp.isfinite(P))) or bool(xp.any(P < 0)) or not bool(xp.any(P > 0)):
        raise ValueError("`P0` must be finite, nonnegative and not all zero")
    return P


def mirror_sinkhorn(grad, a, b, *, value=None, P0=None, step=None, maxiter=None, tol=None, callback=None,
                    rng=None, trace=None, check_every=None, options=None):
    """Mirror Sinkhorn (Ballu & Berthet, ICML 2023): minimize a convex ``F(P)`` over the
    transport polytope ``U(a, b) = {P >= 0, P 1 = a, P^T 1 = b}`` in a single loop.

    Iteration t: ``P <- P * exp(-eta_t * grad(P))`` (an entropic mirror step), then a KL
    projection onto one marginal constraint, alternating rows (t even) and columns
    (t odd). The output is the running average of the iterates (weights eta_t).
    ``grad(P)`` may be noisy/online (an unbiased estimate): with
    ``eta_t = eta0 / sqrt(t + 1)`` the averaged iterate satisfies
    ``F(P_bar_T) - F* = O(log(n) / sqrt(T))`` and a marginal violation ``O(1/sqrt(T))``
    (Ballu & Berthet 2023, Thm 3.2, up to constants).

    Stopping certificate (``tol``, absolute, in units of F): the optimality measure is an
    upper bound of ``F(plan) - F*`` for the returned plan ``plan = round(average)``
    (feasible): with ``G = grad(plan)``, convexity gives
    ``F(plan) - F* <= <G, plan> - min_{Q in U(a, b)} <G, Q> <= <G, plan> - LB``, where
    ``LB = <f, a> + <g, b>`` for dual potentials made LP-feasible (``f_i + g_j <= G_ij``)
    by c-transforms of log-domain Sinkhorn potentials on the cost ``G`` (warm-started,
    entropic parameter half the previous certificate, ``check_every`` Sinkhorn sweeps per
    check, 100 for the first). It costs one gradient at the plan, so it is computed
    every ``check_every`` iterations (the trace's ``optimality`` is NaN in between) and
    once at the end (``result.gap``); ``tol = 0`` (default) never stops early. With
    ``tol > 0`` ``grad`` must be exact and deterministic (``grad(P)``): a stochastic
    gradient gives no certificate. A run that ends at ``maxiter`` with a final certificate
    ``<= tol`` reports success.

    ``grad(P, rng)`` or ``grad(P)``; ``value(P)`` (optional) is recorded in the trace;
    ``step``: ``eta0`` (default ``1 / max|grad(P0)|``); ``rng``: seed or Generator passed to
    a stochastic ``grad`` (default: a fixed seed, so default runs are reproducible);
    ``maxiter`` default 1,000; ``options``: the same options (and ``max_time``, ``disp``)
    as a dict (``numopt.show_options("mirror-sinkhorn")``).
    Returns an OptimizeResult with ``plan`` (= ``x``: the averaged iterate rounded onto
    U(a, b), so feasible; ``fun`` is ``value(plan)``, None without ``value``), ``gap`` (the
    certificate at the plan, also ``optimality``; None for a stochastic ``grad``),
    ``average`` (the averaged iterate), ``last`` (the last iterate) and ``marginal_error``
    (of the average); the trace's ``fun`` and ``marginal_error`` are the value and l1
    marginal violation of the running average.
    """
    spec = get_method("mirror-sinkhorn", kind="ot")
    if not callable(grad):
        raise TypeError(f"`grad` must be callable (grad(P) or grad(P, rng)), got {type(grad).__name__}")
    if value is not None and not callable(value):
        raise TypeError(f"`value` must be callable or None, got {type(value).__name__}")
    a, b = as_array(a), as_array(b)
    xp = get_namespace(a, b)
    a, b = xp.asarray(a), xp.asarray(b)
    check_marginals(a, b, xp)
    check_backend(spec, xp, "a")
    if a.ndim != 1:
        raise ValueError(f"`a` and `b` must be 1-D for mirror_sinkhorn, got shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    given = merge_options(options, step=step, maxiter=maxiter, tol=tol, rng=rng, trace=trace,
                           check_every=check_every)
    opts = resolve_options(spec, given)
    problem = MirrorProblem(grad, a, b, value, xp, opts)
    if problem.takes_rng and opts["tol"] > 0:
        raise ValueError("`tol` > 0 needs a deterministic `grad(P)`: the stopping certificate evaluates the "
                         "gradient at the rounded plan, and a stochastic `grad(P, rng)` gives no certificate")
    n, m = a.shape[0], b.shape[0]
    P = a[:, None] * b[None, :] if P0 is None else _check_P0(P0, n, m, xp)
    return run_method(spec, problem, P, opts, callback=callback, counter=None)
