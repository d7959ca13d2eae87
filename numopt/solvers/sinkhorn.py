"""Entropic optimal transport (kind ``"ot"``, front door :func:`sinkhorn`):
Sinkhorn–Knopp in the scaling domain (``"sinkhorn"``) and the log domain
(``"sinkhorn-log"``: log-stabilized scaling with absorption, fused numba log-sum-exp
passes, over-relaxation, Anderson acceleration), epsilon scaling
(``"sinkhorn-epsilon-scaling"``) and Sinkhorn–Newton–Sparse (``"sns"``). Mirror
Sinkhorn (a convex F(P) over the transport polytope) lives in
:mod:`numopt.solvers.mirror_sinkhorn` and is re-exported here.

Problem (POT's convention, kernel ``exp(-C/reg)``)::

    min_P  <P, C> + reg * sum_ij P_ij (log P_ij - 1)   s.t.  P 1 = a,  P^T 1 = b,  P >= 0

Dual potentials ``f, g`` give the plan ``P_ij = exp((f_i + g_j - C_ij) / reg)``
(``f = reg log u``, ``g = reg log v`` in the scaling form ``P = diag(u) K diag(v)``).

Stopping measure (``tol``): the l1 marginal violation
``||P 1 - a||_1 + ||P^T 1 - b||_1`` of the current iterate, computed at no extra cost
every iteration (after a column update the column marginals are exact, so it equals
the row violation). POT checks the l2 norm of one marginal every 10 iterations.

Each method is a generator of :class:`~numopt._loop.Step` run by the shared loop
(:func:`numopt._registry.run_method`); its ``x`` is a :class:`~._ot_common.Duals`
(the potentials, converted on demand); :func:`._ot_common.finalize` adds the potentials, the plan
and the costs once after the loop.

References
----------
* R. Sinkhorn, P. Knopp. Concerning nonnegative matrices and doubly stochastic
  matrices. Pacific J. Math. 21 (1967); M. Cuturi. Sinkhorn distances: lightspeed
  computation of optimal transport. NeurIPS 2013. Linear convergence of the marginal
  violation (Franklin & Lorenz 1989); O(1/k) in l1 (Altschuler et al., NeurIPS 2017).
* B. Schmitzer. Stabilized sparse scaling algorithms for entropy regularized transport
  problems. SIAM J. Sci. Comput. 41(3), 2019 (log domain, epsilon scaling).
* X. Tang, M. Shavlovsky, H. Rahmanian, E. Tardini, K.K. Thekumparampil, T. Xiao,
  L. Ying. Accelerating Sinkhorn algorithm with sparse Newton iterations (SNS). ICLR 2024.
* G. Peyré, M. Cuturi. Computational Optimal Transport, 2019 (over-relaxation,
  Anderson acceleration: Thibault et al. 2021; Chizat 2020).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._anderson import anderson_mix
from .._backend import backend_name, get_namespace, is_numpy, to_numpy
from .._loop import Step
from .._options import Choices, Interval, NoneOr, Option
from .._registry import MethodSpec, check_backend, get_method, merge_options, register, resolve_options, run_method
from ._ot_common import (Duals, check_inputs, check_potential, default_marginal_tol, finalize, l1, lse,
                         mtv, mv, round_to_polytope)
from ._sinkhorn_newton import ABSORB, sns_iterations, stabilized_onepass
from .mirror_sinkhorn import mirror_sinkhorn

# Exported as numopt.<name> (lazily; numopt/__init__.py reads this tuple without importing the module).
__numopt_public__ = ('sinkhorn', 'mirror_sinkhorn')
__all__ = ["sinkhorn", "mirror_sinkhorn", "round_to_polytope", "wasserstein_point_clouds", "wasserstein_grid",
           "METHODS", "OTProblem"]

METHODS = ("sinkhorn", "sinkhorn-log", "sinkhorn-epsilon-scaling", "sns")


@dataclass
class OTProblem:
    """An entropic OT instance after the input checks: marginals ``a``, ``b``, cost ``C``,
    ``reg`` (float), their namespace ``xp``, and whether the result carries the plan."""

    a: object
    b: object
    C: object
    reg: float
    xp: object
    plan: bool = True


# ------------------------------------------------------------ scaling domain

def _kernel(C, reg, dtype, xp):
    """K = exp(-C / reg) in ``dtype``: one C-contiguous n x m array on numpy (the division
    and the exponential in place; computed in C's precision, then rounded)."""
    if xp.finfo(dtype).eps < xp.finfo(C.dtype).eps:  # a more precise kernel than C: compute in it
        C = xp.astype(C, dtype)
    if not is_numpy(xp):
        K = xp.exp(-C / reg)
        return K if K.dtype == dtype else xp.astype(K, dtype)
    K = np.empty(C.shape, dtype=C.dtype)
    np.divide(C, -reg, out=K)
    np.exp(K, out=K)
    return K if K.dtype == dtype else K.astype(dtype)


def _scaling(a, b, C, reg, f0, g0, opts, xp, check_every=1):
    """Scaling-domain Sinkhorn through the array namespace (any backend, batches,
    over-relaxation); the marginal violation is measured every ``check_every`` iterations
    (each check is a device-to-host transfer on a GPU)."""
    K = _kernel(C, reg, a.dtype, xp)
    u = xp.ones_like(a) if f0 is None else xp.exp(f0 / reg)
    v = xp.ones_like(b) if g0 is None else xp.exp(g0 / reg)
    omega = opts["relaxation"]
    Kv = mv(K, v, xp)
    err = l1(u * Kv - a, xp) + l1(v * mtv(K, u, xp) - b, xp)
    yield Step(Duals("scaling", (u, v), reg, xp), None, err)
    while True:  # bounded by the loop's maxiter
        for _ in range(check_every):
            unew = a / Kv
            u = unew if omega == 1 else u ** (1 - omega) * unew ** omega
            vnew = b / mtv(K, u, xp)
            v = vnew if omega == 1 else v ** (1 - omega) * vnew ** omega
            Kv = mv(K, v, xp)
        err = l1(u * Kv - a, xp)  # Kv is needed by the next u update anyway
        if omega != 1:
            err += l1(v * mtv(K, u, xp) - b, xp)
        yield Step(Duals("scaling", (u, v), reg, xp), None, err, work=check_every)


def _scaling_onepass(a, b, K, reg, f0, g0):
    """Scaling-domain Sinkhorn reading the kernel once per iteration (numba, 1-D numpy,
    no relaxation): the pass over K that computes ``K v`` for the next ``u`` also gives the
    row violation of the current iterate and ``K^T u`` for the next ``v``. Same iterates
    and measure as :func:`_scaling` (up to summation order); the scalings are float64
    whatever K's dtype (a float32 kernel halves the bytes read, not the accuracy of the
    scalings)."""
    from . import _sinkhorn_numba as nb

    a64, b64 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    n, m = K.shape
    u = np.ones(n) if f0 is None else np.exp(np.asarray(f0, dtype=np.float64) / reg)
    v = np.ones(m) if g0 is None else np.exp(np.asarray(g0, dtype=np.float64) / reg)
    one_pass, mtv_, blocks = nb.scaling_kernels(n, m)
    W = np.empty((blocks, m))
    u_next = np.empty(n)
    err, w = one_pass(K, v, a64, u, u_next, W)  # row violation of (u0, v0); u1; K^T u1
    err += float(np.abs(v * mtv_(K, u, W) - b64).sum())
    yield Step(Duals("scaling", (u, v), reg, np), None, err)
    while True:  # bounded by the loop's maxiter
        u, v = u_next, b64 / w
        u_next = np.empty(n)  # (a fresh vector: a callback may keep the iterate)
        err, w = one_pass(K, v, a64, u, u_next, W)
        yield Step(Duals("scaling", (u, v), reg, np), None, err)


# ---------------------------------------------------------------- log domain

class _LogKernel:
    """Row/column soft-min updates; numba fused kernels for 2-D numpy, xp otherwise."""

    def __init__(self, C, xp, use_numba):
        self.C, self.xp = C, xp
        self.fast = use_numba
        if use_numba:
            from . import _sinkhorn_numba as nb

            self.nb = nb
            self.Cc = np.ascontiguousarray(C)
            self.CT = np.ascontiguousarray(C.T)

    def rows(self, f, g, reg, log_a):
        """(new f, row l1 violation of (f, g))."""
        if self.fast:
            out = np.empty_like(f)
            err = np.empty_like(f)
            self.nb.lse_update(self.Cc, g, f, reg, log_a, out, err)
            return out, float(err.sum())
        xp = self.xp
        s = lse((g[..., None, :] - self.C) / reg, -1, xp)
        err = l1(xp.exp(f / reg + s) - xp.exp(log_a), xp)
        return reg * (log_a - s), err

    def cols(self, f, g, reg, log_b):
        if self.fast:
            out = np.empty_like(g)
            err = np.empty_like(g)
            self.nb.lse_update(self.CT, f, g, reg, log_b, out, err)
            return out, float(err.sum())
        xp = self.xp
        s = lse((f[..., :, None] - self.C) / reg, -2, xp)
        err = l1(xp.exp(g / reg + s) - xp.exp(log_b), xp)
        return reg * (log_b - s), err


def _anderson_try(ker, f_s, g_s, hist_x, hist_gx, r, log_a, log_b):
    """Anderson-mixed (f, g) when it lowers the marginal violation of the plain update
    (f_s, g_s), else None."""
    g_try = anderson_mix(hist_x, hist_gx)
    f_try = ker.rows(f_s, g_try, r, log_a)[0]  # rows balanced for the mixed g
    e_try = ker.rows(f_try, g_try, r, log_a)[1] + ker.cols(f_try, g_try, r, log_b)[1]
    e_plain = ker.rows(f_s, g_s, r, log_a)[1]  # columns of (f_s, g_s) are exact
    return (f_try, g_try) if np.isfinite(e_try) and e_try < e_plain else None


def _log_domain(a, b, C, reg, f0, g0, opts, xp, fast, schedule=None):
    """Log-domain Sinkhorn (soft-min updates of the potentials), optional over-relaxation,
    Anderson mixing of g (numba path) and an epsilon schedule."""
    ker = _LogKernel(C, xp, fast)
    log_a, log_b = xp.log(a), xp.log(b)
    f = xp.zeros_like(a) if f0 is None else xp.asarray(f0, dtype=a.dtype)
    g = xp.zeros_like(b) if g0 is None else xp.asarray(g0, dtype=b.dtype)
    omega = opts["relaxation"]
    depth = opts["anderson"]
    hist_x, hist_gx = [], []
    r = reg if schedule is None else schedule(0)
    fn, err = ker.rows(f, g, r, log_a)
    _, err_c = ker.cols(f, g, r, log_b)
    extra = {} if schedule is None else {"reg_current": r}
    yield Step(Duals("log", (f, g), r, xp), None, err + err_c, stop_ok=r <= reg, **extra)
    k = 0
    while True:  # bounded by the loop's maxiter
        k += 1
        r = reg if schedule is None else schedule(k)
        f_s = fn if omega == 1 else (1 - omega) * f + omega * fn
        g_s, _ = ker.cols(f_s, g, r, log_b)
        if omega != 1:
            g_s = (1 - omega) * g + omega * g_s
        if depth:
            hist_x.append(g.copy())
            hist_gx.append(g_s.copy())
            hist_x, hist_gx = hist_x[-(depth + 1):], hist_gx[-(depth + 1):]
            if len(hist_x) >= 2:
                mixed = _anderson_try(ker, f_s, g_s, hist_x, hist_gx, r, log_a, log_b)
                if mixed is not None:
                    f_s, g_s = mixed
                else:
                    hist_x, hist_gx = [], []
        f, g = f_s, g_s
        fn, err = ker.rows(f, g, r, log_a)  # violation of the current (f, g); next row update
        if omega != 1 or depth:
            _, err_c = ker.cols(f, g, r, log_b)
            err += err_c
        if schedule is not None:
            extra["reg_current"] = r
        # during annealing (r > reg) the violation measures another problem: no stop
        yield Step(Duals("log", (f, g), r, xp), None, err, stop_ok=r <= reg, **extra)


def _stabilized(a, b, C, reg, f0, g0, opts, xp, schedule=None):
    """Log-stabilized scaling (absorption, Schmitzer 2019): scaling-domain iterations on
    the kernel ``exp((F_i + G_j - C_ij) / reg)`` of reference potentials (F, G); the
    scalings are absorbed into (F, G) — and the kernel rebuilt — when they leave
    [exp(-absorb), exp(absorb)] or the kernel underflows. Each iteration costs two
    matrix-vector products, like plain Sinkhorn, and no entry overflows for any reg > 0."""
    bound = opts["absorb"]
    if f0 is None:  # c-transforms: every row and column of the kernel has an entry equal to 1
        F = xp.min(C, axis=-1)
        G = xp.min(C - F[..., :, None], axis=-2)
    else:
        F = xp.asarray(f0, dtype=a.dtype)
        G = xp.asarray(g0, dtype=b.dtype) if g0 is not None else xp.min(C - F[..., :, None], axis=-2)
    r = reg if schedule is None else schedule(0)

    def kernel(F, G, r):
        return xp.exp((F[..., :, None] + G[..., None, :] - C) / r)

    K = kernel(F, G, r)
    u, v = xp.ones_like(a), xp.ones_like(b)
    Kv = mv(K, v, xp)
    err = l1(u * Kv - a, xp) + l1(v * mtv(K, u, xp) - b, xp)
    absorptions = 0
    extra = {} if schedule is None else {"reg_current": r}
    yield Step(Duals("stabilized", (F, G, u, v), r, xp), None, err, stop_ok=r <= reg,
               absorptions=absorptions, **extra)
    k = 0
    while True:  # bounded by the loop's maxiter
        k += 1
        r_new = reg if schedule is None else schedule(k)
        bad = bool(xp.any(Kv <= 0)) or not bool(xp.all(xp.isfinite(Kv)))
        if r_new != r or bad:
            F, G = F + r * xp.log(u), G + r * xp.log(v)
            u, v = xp.ones_like(a), xp.ones_like(b)
            r = r_new
            K = kernel(F, G, r)
            Kv = mv(K, v, xp)
            absorptions += 1
            if bool(xp.any(Kv <= 0)):  # a whole row underflowed: re-anchor on the c-transform
                F = xp.min(C - G[..., None, :], axis=-1)
                K = kernel(F, G, r)
                Kv = mv(K, v, xp)
        u = a / Kv
        v = b / mtv(K, u, xp)
        if float(xp.max(xp.abs(xp.log(u)))) > bound or float(xp.max(xp.abs(xp.log(v)))) > bound:
            F, G = F + r * xp.log(u), G + r * xp.log(v)
            u, v = xp.ones_like(a), xp.ones_like(b)
            K = kernel(F, G, r)
            absorptions += 1
        Kv = mv(K, v, xp)
        err = l1(u * Kv - a, xp)
        if schedule is not None:
            extra["reg_current"] = r
        # during annealing (r > reg) the violation measures another problem: no stop
        yield Step(Duals("stabilized", (F, G, u, v), r, xp), None, err, stop_ok=r <= reg,
                   absorptions=absorptions, **extra)


# ------------------------------------------------------------ solve / finalize

def _start(x0):
    f0, g0 = (None, None) if x0 is None else x0
    return f0, g0


def _compute_dtype(p, opts, xp):
    name = opts.get("compute_dtype")
    if name is None:
        return xp.result_type(p.a.dtype, p.b.dtype, p.C.dtype)
    return getattr(xp, name)


def _solve_scaling(p, x0, opts):
    xp = p.xp
    dtype = _compute_dtype(p, opts, xp)
    fast = is_numpy(xp) and p.C.ndim == 2 and p.a.ndim == 1 and opts["relaxation"] == 1
    kernel = opts["kernel"]
    if kernel == "numba" and not fast:
        raise ValueError("kernel='numba' of method 'sinkhorn' needs 1-D numpy marginals, a 2-D numpy cost "
                         "and relaxation=1")
    if fast and kernel != "array_api":
        return _scaling_onepass(p.a, p.b, _kernel(p.C, p.reg, dtype, xp), p.reg, *_start(x0))
    a, b, C = (z if z.dtype == dtype else xp.astype(z, dtype) for z in (p.a, p.b, p.C))
    f0, g0 = (None if z is None else xp.astype(z, dtype) for z in _start(x0))
    check_every = opts["check_every"]
    if check_every is None:  # free on the host; on a device each check is a synchronization
        check_every = 1 if is_numpy(xp) or backend_name(xp) == "array_api_strict" else 10
    return _scaling(a, b, C, p.reg, f0, g0, opts, xp, check_every)


def _reg_schedule(reg, r0, decay, every):
    """Epsilon scaling: ``k -> max(reg, r0 decay^(k // every))`` (reg of iteration k)."""
    return lambda k: max(reg, r0 * decay ** (k // every))


def _solve_log(p, x0, opts, annealed=False):
    a, b, C, reg, xp = p.a, p.b, p.C, p.reg, p.xp
    schedule = None
    if annealed:
        r0 = opts["reg_start"] if opts["reg_start"] is not None else max(reg, float(xp.max(C)) / 2)
        schedule = _reg_schedule(reg, r0, opts["decay"], opts["every"])
    kernel = opts["kernel"]
    if kernel == "auto" and opts["anderson"] == 0 and opts["relaxation"] == 1:
        return _stabilized(a, b, C, reg, *_start(x0), opts, xp, schedule)
    fast = kernel in ("auto", "numba") and is_numpy(xp) and C.ndim == 2 and a.ndim == 1
    if kernel == "numba" and not fast:
        raise ValueError("kernel='numba' (alias `backend`) needs 1-D numpy marginals and a 2-D numpy cost")
    if opts["anderson"] and not fast:
        raise ValueError("option `anderson` (Anderson acceleration) is implemented for 1-D numpy inputs "
                         "with kernel='auto' or 'numba'")
    return _log_domain(a, b, C, reg, *_start(x0), opts, xp, fast, schedule)


def _solve_sns(p, x0, opts):
    if not is_numpy(p.xp) or p.a.ndim != 1:
        raise ValueError("method='sns' needs 1-D numpy inputs (its kernels are numba code)")
    a, b = (np.asarray(z, dtype=np.float64) for z in (p.a, p.b))  # SNS iterates in float64
    C = np.ascontiguousarray(p.C, dtype=np.float64)
    from . import _sinkhorn_numba as nb

    reg, f0, g0 = p.reg, *_start(x0)
    schedule, start = None, None
    if f0 is None:
        start = nb.c_transforms(C)  # (F, G, max C); min C = min F
        spread = start[2] - start[0].min()
        if spread > opts["anneal"] * reg:
            # small reg: Sinkhorn from a cold start first needs O(spread / reg) iterations just to
            # move the potentials; epsilon scaling gets there in ~every * log2(spread / reg), and
            # Newton then starts at the target reg from a far better dual (2-D histograms, n = 484,
            # reg = 1e-4: 11 Newton steps, was 80 stalled ones then 5953 Sinkhorn iterations)
            schedule = _reg_schedule(reg, spread / 2, opts["anneal_decay"], opts["anneal_every"])
    warm = stabilized_onepass(a, b, C, reg, f0, g0, absorb=ABSORB, schedule=schedule, start=start)
    return sns_iterations(a, b, C, reg, warm, opts)


# --------------------------------------------------------------- the registry

_MAXITER = Option(10000, "Maximum number of iterations (default 10,000; one iteration = one row and one "
                         "column update, or one Newton step).", Interval(0, integer=True))
_TOL = Option(None, "Tolerance on the l1 marginal violation ||P1 - a||_1 + ||P^T 1 - b||_1. None: 1e-9 "
                    "for float64 marginals, max(1e-9, 100 eps * mass) for lower precision.",
              NoneOr(Interval(0)))
_RELAX = Option(1.0, "Over-relaxation factor omega in (0, 2) (1: plain Sinkhorn).",
                Interval(0, 2, open=("lo", "hi")))
_LOG = {
    "maxiter": _MAXITER, "tol": _TOL, "relaxation": _RELAX,
    "anderson": Option(0, "Anderson acceleration depth (0: off); log domain, 1-D numpy inputs.",
                       Interval(0, integer=True)),
    "kernel": Option("auto", "Hot loop: 'auto' (log-stabilized scaling with absorption, two mat-vecs per "
                             "iteration; numba log-sum-exp when `relaxation` or `anderson` is set), "
                             "'numba' (fused log-sum-exp passes, numpy) or 'array_api' (log-sum-exp "
                             "through the array namespace).", Choices("auto", "numba", "array_api"),
                     aliases=("backend",)),
    "absorb": Option(50.0, "Absorb the scalings into the potentials when |log u| or |log v| exceeds this.",
                     Interval(0, open=("lo",))),
}
_EPS = dict(_LOG, **{
    "reg_start": Option(None, "First reg of the schedule (None: max(reg, max(C) / 2)).",
                        NoneOr(Interval(0, math.inf, open=("lo", "hi")))),
    "decay": Option(0.5, "Factor in (0, 1) applied to the current reg every `every` iterations.",
                    Interval(0, 1, open=("lo", "hi"))),
    "every": Option(10, "Iterations per reg value of the schedule.", Interval(1, integer=True)),
})
_SNS = {
    "maxiter": _MAXITER, "tol": _TOL,
    "warmup": Option(200, "Switch to Newton after at most this many Sinkhorn iterations at the target reg "
                          "(while the last error ratio exceeds slow_ratio; annealing sweeps are not "
                          "counted here).", Interval(0, integer=True)),
    "switch_tol": Option(0.1, "Switch to Newton only once the marginal violation is below this.", Interval(0)),
    "switch_after": Option(500.0, "Switch to Newton once Sinkhorn is predicted (from its observed contraction "
                                 "ratio over the last 5 iterations) to need more than this many further "
                                 "iterations to reach tol.", Interval(0)),
    "slow_ratio": Option(0.3, "Switch only while the Sinkhorn error ratio per iteration exceeds this "
                              "(a fast Sinkhorn just finishes the job).", Interval(0)),
    "newton_patience": Option(80, "Newton steps allowed to lower the marginal violation 10x; when they do "
                                  "not, Sinkhorn finishes the run.", Interval(1, integer=True)),
    "keep": Option(3.0, "Keep at least keep * (n + m) entries of the sparsified Hessian.", Interval(0)),
    "drop_mass": Option(1e-6, "Drop the smallest plan entries carrying at most this fraction of the mass.",
                        Interval(0, 1)),
    "cg_rtol": Option(0.1, "Relative CG tolerance (capped by sqrt of the gradient norm).",
                      Interval(0, open=("lo",))),
    "cg_maxiter": Option(None, "CG iterations per Newton step (None: 2 (n + m)).",
                         NoneOr(Interval(1, integer=True))),
    "max_linesearch": Option(10, "Trial steps of the Armijo search per Newton step (each a full plan "
                                 "evaluation; the next trial maximizes the quadratic through the last one, "
                                 "within [1/10, 1/2] of it) before a Sinkhorn sweep instead.",
                             Interval(1, integer=True)),
    "max_move": Option(30.0, "First trial step of the line search: the Newton step shortened so that no "
                             "potential moves by more than max_move * reg (inf: the full step).",
                       Interval(0, open=("lo",))),
    "kernel": Option("auto", "Only 'auto' (the warm-up is the log-stabilized iteration).", Choices("auto"),
                     aliases=("backend",)),
    "anneal": Option(1500.0, "Anneal reg in the Sinkhorn phase (epsilon scaling from (max C - min C) / 2 "
                             "down to reg) when (max C - min C) / reg exceeds this and no f0 is given "
                             "(0: always, inf: never). The annealing sweeps count as iterations.",
                     Interval(0)),
    "anneal_decay": Option(0.5, "Factor in (0, 1) applied to the annealed reg every `anneal_every` iterations.",
                           Interval(0, 1, open=("lo", "hi"))),
    "anneal_every": Option(20, "Sinkhorn iterations per reg value of the annealing.", Interval(1, integer=True)),
}

_OPTIMALITY = ("l1 marginal violation ||P1 - a||_1 + ||P^T 1 - b||_1 of the current iterate, every "
               "iteration")
_SINKHORN_RATE = ("Linear convergence of the marginal violation (Franklin & Lorenz 1989); "
                  "O(1/k) in l1 (Altschuler, Weed & Rigollet 2017).")


def _example(xp):
    """A small entropic OT instance (8 x 9 point clouds, costs in [0, 1], reg = 0.1)."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((8, 2)), rng.standard_normal((9, 2)) + 0.5
    C = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    a, b = rng.uniform(0.5, 1.5, 8), rng.uniform(0.5, 1.5, 9)
    return dict(a=xp.asarray(a / a.sum()), b=xp.asarray(b / b.sum()), C=xp.asarray(C / C.max()), reg=0.1)


def _spec(name, solve, summary, options, reference, backends=("numpy", "array_api_strict", "cupy"),
          rate_text=_SINKHORN_RATE):
    return register(MethodSpec(
        name=name, kind="ot", family="sinkhorn", solve=solve, summary=summary, options=options,
        requires=(), optimality=_OPTIMALITY, rate_text=rate_text, reference=reference, backends=backends,
        finalize=finalize, example=_example))


_SCALING = {
    "maxiter": _MAXITER, "tol": _TOL, "relaxation": _RELAX,
    "kernel": Option("auto", "Hot loop: 'auto' ('numba' for 1-D numpy inputs with relaxation = 1, else "
                             "'array_api'), 'numba' (one pass over the kernel per iteration: K v, the "
                             "marginal violation and K^T u from the same read of each row) or 'array_api' "
                             "(two mat-vecs through the array namespace).",
                     Choices("auto", "numba", "array_api"), aliases=("backend",)),
    "compute_dtype": Option(None, "Precision of the kernel K = exp(-C/reg): None (the inputs' dtype), "
                                  "'float32' (half the bytes per iteration; the default tol then is the "
                                  "float32 one) or 'float64'. Results keep the inputs' dtype.",
                            NoneOr(Choices("float32", "float64")), aliases=("dtype",)),
    "check_every": Option(None, "'array_api' kernel: measure the marginal violation every this many "
                                "iterations (None: 1 on the host, where it is free; 10 on a GPU, where each "
                                "check synchronizes). The 'numba' kernel measures it every iteration at no "
                                "cost.", NoneOr(Interval(1, integer=True))),
}
_spec("sinkhorn", _solve_scaling, "Sinkhorn–Knopp in the scaling domain (fastest when reg is not small)",
      _SCALING,
      "Sinkhorn & Knopp, Pacific J. Math. 21 (1967); Cuturi, NeurIPS 2013.")
_spec("sinkhorn-log", _solve_log, "Log-domain Sinkhorn (stable for any reg > 0; absorption, numba, "
      "over-relaxation, Anderson)", _LOG,
      "Schmitzer, SIAM J. Sci. Comput. 41(3) (2019); Peyré & Cuturi, Computational OT (2019).")
_spec("sinkhorn-epsilon-scaling", lambda p, x0, o: _solve_log(p, x0, o, annealed=True),
      "Log-domain Sinkhorn with reg annealed from reg_start by decay every `every` iterations", _EPS,
      "Schmitzer, SIAM J. Sci. Comput. 41(3) (2019).")
_spec("sns", _solve_sns, "Sinkhorn–Newton–Sparse: Sinkhorn warm-up, then sparse Newton on the dual", _SNS,
      "Tang et al., Accelerating Sinkhorn algorithm with sparse Newton iterations, ICLR 2024.",
      backends=("numpy",), rate_text="Sinkhorn's linear rate in the warm-up; superlinear in the Newton "
                                     "phase (Tang et al. 2024).")


# -------------------------------------------------------------------- front door

def sinkhorn(a, b, C, reg, method="sinkhorn", *, tol=None, maxiter=None, callback=None, f0=None, g0=None,
             plan=True, max_time=None, trace=None, options=None, **kw):
    """Entropic optimal transport between ``a`` and ``b`` with cost ``C`` (the front door
    of the problem kind ``"ot"``).

    Parameters
    ----------
    a, b : arrays (n,), (m,) — or (B, n), (B, m) for a batch of problems
        Positive marginals with equal mass.
    C : array (n, m) or (B, n, m)
    reg : float > 0
        Entropic regularization, kernel ``exp(-C / reg)`` (POT's convention).
    method : ``"sinkhorn"`` (scaling domain, fastest when ``reg`` is not small),
        ``"sinkhorn-log"`` (log domain, stable for any ``reg > 0``; fused numba kernel for
        numpy), ``"sinkhorn-epsilon-scaling"`` (log domain with ``reg`` annealed from
        ``reg_start`` by ``decay`` every ``every`` iterations), ``"sns"``
        (Sinkhorn–Newton–Sparse). Case-insensitive, ``_`` and ``-`` alike (the old
        spellings ``"sinkhorn_log"`` etc. keep working); ``numopt.list_methods(kind="ot")``.
    tol : float, optional
        Tolerance on the l1 marginal violation ``||P1 - a||_1 + ||P^T 1 - b||_1``.
        Default: 1e-9 for float64 marginals; for lower-precision marginals (float32)
        ``max(1e-9, 100 eps * mass)``, what their precision can resolve. The violation
        cannot go below the masses' mismatch ``|sum a - sum b|``; a run whose ``tol`` is
        below it ends with status 1 and a message saying so.
    maxiter : int, optional
        Default 10,000 (every method of this front door).
    callback : ``callback(intermediate_result)`` (scipy style; ``.x`` is the dual iterate,
        a ``Duals`` with ``.f``, ``.g``) or ``callback(x)``; raising StopIteration ends the
        run with status 99.
    f0, g0 : warm-start dual potentials, shapes of ``a`` and ``b``, finite.
    plan : bool
        Return the plan (``result.plan`` and ``result.x``); with False only the costs
        are computed (on numpy, without forming the plan).
    max_time, trace : as for every method (``numopt.show_options(method)``).
    options : dict, optional; ``**kw``: method options by keyword (same names) —
        ``relaxation`` (over-relaxation ω in (0, 2)), ``anderson`` (Anderson depth, log
        domain, numpy), ``kernel`` (old name ``backend``: "auto": the log-stabilized
        scaling iteration with absorption — two matrix-vector products per iteration;
        "numba": fused log-sum-exp passes; "array_api": log-sum-exp through the array
        namespace), ``absorb``, epsilon scaling: ``reg_start``, ``decay``, ``every``; scaling
        Sinkhorn: ``kernel`` ("auto"/"numba": one read of K per iteration; "array_api": two
        mat-vecs), ``compute_dtype`` (alias ``dtype``: "float32" for a float32 kernel),
        ``check_every``; SNS: ``warmup``, ``switch_tol``, ``switch_after``, ``slow_ratio``,
        ``newton_patience``, ``drop_mass``, ``keep``, ``cg_rtol``, ``cg_maxiter``,
        ``max_linesearch``, ``max_move``, ``anneal``, ``anneal_decay``, ``anneal_every``.
        Each is checked (ValueError naming it).

    Returns
    -------
    OptimizeResult with ``plan`` (= ``x``), ``f``, ``g`` (potentials), ``cost`` (``<P, C>``),
    ``reg_cost`` (the regularized objective, also ``fun``), ``marginal_error`` (l1, also
    ``optimality``), ``nit``, ``success``, ``status``, ``message``, ``trace``
    (``optimality`` = marginal violation); ``absorptions`` (log-stabilized path),
    ``reg_current`` (epsilon scaling), ``phase`` (SNS: 0 Sinkhorn, 1 Newton, 2 fallback sweep).
    """
    spec = get_method(method, kind="ot")
    if spec.name == "mirror-sinkhorn":
        raise ValueError("method 'mirror-sinkhorn' minimizes a convex F(P) over the transport polytope from "
                         "its gradient: call numopt.mirror_sinkhorn(grad, a, b, ...)")
    xp, a, b, C, reg = check_inputs(a, b, C, reg)
    check_backend(spec, xp, "a")
    f0 = check_potential(f0, "f0", a, xp)
    g0 = check_potential(g0, "g0", b, xp)
    opts = resolve_options(spec, merge_options(options, kw, maxiter=maxiter, max_time=max_time, trace=trace,
                                               tol=tol))
    if opts["tol"] is None:
        low = opts.get("compute_dtype")
        opts["tol"] = default_marginal_tol(a, b, xp, None if low is None else getattr(xp, low))
    problem = OTProblem(a, b, C, reg, xp, bool(plan))
    return run_method(spec, problem, (f0, g0), opts, callback=callback, counter=None)


# ------------------------------------------------------------- convenience

def wasserstein_point_clouds(X, Y, reg, a=None, b=None, method="sinkhorn-log", **kw):
    """Entropic W2^2 between point clouds X (n, d), Y (m, d) with squared-Euclidean cost."""
    xp = get_namespace(X, Y)
    C = xp.sum(X * X, axis=1)[:, None] + xp.sum(Y * Y, axis=1)[None, :] - 2 * X @ Y.T
    C = xp.maximum(C, xp.zeros_like(C))
    n, m = X.shape[0], Y.shape[0]
    a = xp.full((n,), 1.0 / n, dtype=X.dtype) if a is None else a
    b = xp.full((m,), 1.0 / m, dtype=Y.dtype) if b is None else b
    return sinkhorn(a, b, C, reg, method=method, **kw)


def wasserstein_grid(a, b, reg, p=2, method="sinkhorn-log", **kw):
    """Entropic W_p^p between histograms on the same regular grid of [0, 1]^d
    (``a``, ``b`` of shape (k,) or (k1, k2)); cost ``||x - y||_2^p``."""
    a_np = to_numpy(a)
    shape = a_np.shape
    axes = [(np.arange(s) + 0.5) / s for s in shape]
    G = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(shape))
    D = np.sqrt(((G[:, None, :] - G[None, :, :]) ** 2).sum(-1)) ** p
    xp = get_namespace(a)
    return sinkhorn(xp.reshape(a, (-1,)), xp.reshape(b, (-1,)), xp.asarray(D), reg, method=method, **kw)
