"""Frank–Wolfe (conditional gradient) methods: vanilla, away-step, pairwise, blended
pairwise (BPCG), their lazified versions, stochastic FW for finite sums and the
zeroth-order stochastic Frank–Wolfe of Sahu, Zaheer & Kar.

All variants share one iteration: the LMO gives ``s = argmin_{s in D} <grad f(x), s>``,
the Frank–Wolfe gap ``g(x) = <grad f(x), x - s> >= f(x) - f*`` (the certificate, used
for stopping and recorded as ``gap``), a direction and a step from a step-size rule
object. Away, pairwise and blended pairwise steps share one active set (the iterate as a
convex combination of LMO vertices, stored as the rows of one array) and move weight away
from the worst vertex ``a = argmax_S <g, v>``; BPCG (Tsuji, Tanaka & Pokutta 2022) takes
pairwise steps between ``a`` and the best active vertex while that local gap beats the FW
gap, and a FW step otherwise. ``lazy=True`` (Braun, Pokutta & Zink 2017) replaces most
LMO calls by a search over the active set (vanilla FW: over a cache of the LMO vertices
seen so far) guided by a dual-gap estimate ``phi`` that is halved when no cached vertex
(and not even the LMO's) promises progress ``phi / K``.

Composite fast path: for a :class:`numopt.LinearComposite` objective ``f(x) = loss(A x)``
the solvers keep the predictions ``z = A x``; a line-search value along ``d`` is then one
loss evaluation on ``z + gamma A d`` (no product with ``A``), the gradient one product
with ``A^T``, and ``A s`` for a sparse vertex (l1 ball, simplex: one column) is gathered
from its nonzero columns. The iterates are those of the generic path (option
``composite=False``) up to rounding.

Step rules (``step=``): ``"open-loop"`` (2/(k+2)), ``"short"`` (``<-g, d>/(L ||d||^2)``
with ``L`` given), ``"adaptive"`` (backtracking on L, Pedregosa, Negiar, Askari &
Jaggi, AISTATS 2020 — the default, as in FrankWolfe.jl), ``"exact"`` (exact line search
for quadratics, needs Hessian-vector products), ``"line-search"`` (approximately exact
line search for any smooth f: secant / bisection on the directional derivative until
``|phi'(gamma)| <= 0.3 |phi'(0)|``, monotone; often several times fewer iterations than
``"adaptive"``, whose quadratic upper bound gives short steps); or any object with
``step(f, x, d, g, gamma_max, k)``. The built-in rules also have
``search(line, gamma_max, k)``, which sees the objective only along the segment
(``line.fx``, ``line.gd`` = <-g, d>, ``line.dd`` = ||d||^2, ``line.value(gamma)``,
``line.grad(gamma)``, ``line.curvature()``), so the composite path can answer cheaply.

Rates: convex L-smooth f on a set of diameter D: ``f(x_k) - f* <= 2 L D^2 / (k + 2)``
(Frank & Wolfe 1956; Jaggi, ICML 2013) for vanilla FW with open-loop or short steps.
Away-step, pairwise and blended pairwise FW converge linearly for strongly convex f on
polytopes (Lacoste-Julien & Jaggi, NeurIPS 2015; Tsuji et al. 2022), lazified versions
too, up to constants (Braun et al. 2017). Stochastic FW with momentum averaging
(Mokhtari, Hassani & Karbasi, JMLR 2020): ``E f(x_t) - f* = O(t^{-1/3})``; with batches
growing like t^2 (Hazan & Luo, ICML 2016): ``O(1/t)``. Zeroth-order stochastic FW (Sahu,
Zaheer & Kar, AISTATS 2019): ``E f(x_T) - f* = O(d^{1/3} / T^{1/3})`` using only function
values.
"""
from __future__ import annotations

import math

import numpy as np

from .._loop import Step
from .._options import Choices, Flag, Interval, NoneOr, Option
from .._registry import MethodSpec, register
# the building blocks live in their own modules; their names stay importable from here
from ._fw_models import _cast, _Composite, _CompositeLine, _linear_composite, _Memo, _model, _Plain  # noqa: F401
from ._fw_random import _finite, _LeastSquaresSum, _stochastic, _value_at_x0, _zeroth_order  # noqa: F401
from ._fw_steps import (Adaptive, ExactQuadratic, LineSearch, OpenLoop, ShortStep, StepRuleCheck,  # noqa: F401
                        _ActiveSet, _clip_step, _Line, _step_rule, _vd, _VertexCache)

# Exported as numopt.<name> (lazily; numopt/__init__.py reads this tuple without importing the module).
__numopt_public__ = ('frank_wolfe',)
__all__ = ["frank_wolfe", "OpenLoop", "ShortStep", "Adaptive", "ExactQuadratic", "LineSearch"]


def _gap_measure(gap, gx, gs, k):
    """The optimality measure from a Frank-Wolfe gap g = <grad, x - s> (NaN propagates).

    An exact LMO at a feasible x gives g >= 0; a gap below -(rounding) means the LMO's vertex
    is worse than x (a wrong LMO, or x0 outside the set), never optimality: a ValueError at
    x0 (k = 0), else a stop with status 5. Returns (measure, None) or (None, (status, message))."""
    if gap != gap or not math.isfinite(gap):
        return float("nan"), None
    if gap < -1e-9 * (abs(gx) + abs(gs)) - 1e-300:
        why = (f"the Frank-Wolfe gap <grad f(x), x - s> = {gap:.3e} is negative: the LMO's vertex s is worse than "
               "the iterate x, so the LMO (`lmo`) does not return a minimizer of <grad f(x), s> over the set, or "
               "`x0` is not in the set")
        if k == 0:
            raise ValueError(why)
        return None, (5, why + ". Not a solution.")
    return abs(gap), None


def _fw(problem, x0, opts, variant):
    """Vanilla Frank-Wolfe: x <- x + gamma (s - x), s = LMO(grad f(x)).

    Lazy (Braun, Pokutta & Zink 2017, parameter-free lazy conditional gradients): keep
    the LMO vertices seen so far and a dual-gap estimate phi (phi_0 = gap_0 / 2). Step
    towards the best cached vertex v when it promises progress <g, x - v> >= phi / K;
    otherwise call the LMO: step towards its vertex w, and if even w gives a gap
    < phi / K (so the true gap is < phi / K), set phi <- gap / 2.
    """
    from .first_order import reject_unused_terms

    reject_unused_terms(problem, "frank-wolfe", feasible_set=False)
    D = problem.feasible_set
    M = _model(problem, x0, opts)
    xp = M.xp
    rule = _step_rule(opts["step"], opts)
    lazy = bool(opts.get("lazy", False))
    K = opts.get("lazy_tolerance", 2.0)  # options checked by the front door (option tables below)
    tol = opts.get("tol") or 0.0
    cache = _VertexCache(xp, tuple(x0.shape), opts.get("cache_size", 100)) if lazy else None
    x, k, phi = x0, 0, None
    while True:  # bounded by the loop's maxiter
        fx, g = M.value_and_grad(x)
        gx = _vd(g, x, xp)
        if not math.isfinite(gx):
            yield Step(x, fx, float("nan"), jac=g)  # the loop reports status 2
            return
        s = gap = None
        if lazy and phi is not None and phi > tol:
            i, best = cache.best(g)
            if i is not None and gx - best >= phi / K:
                s, gs = cache.vertex(i), best
        if s is None:
            s = D.lmo(g)
            gs = _vd(g, s, xp)
            gap = gx - gs
            if lazy:
                cache.add(s)
                phi = gap / 2 if phi is None or gap < phi / K else phi
        measure = phi
        if gap is not None:
            measure, stop = _gap_measure(gap, gx, gs, k)
            if stop is not None:
                return stop
        if lazy:
            yield Step(x, fx, measure, jac=g, gap=gap, dual_gap_estimate=phi, cache_size=len(cache))
        else:
            yield Step(x, fx, measure, jac=g, gap=gap)
        line = M.line(x, s - x, g, fx, M.delta(s, None), gd=gx - gs)
        gamma = M.search(rule, line, 1.0, k)
        if not 0 <= gamma <= 1:
            return 2, f"the step rule returned gamma = {gamma} (expected a number in [0, 1])"
        x = M.move(line, gamma) if gamma > 0 else x
        k += 1


def _lazy_kind(variant, phi, K, away_gap, local_gap, pair_gap):
    """The lazy step from the active set when it promises progress >= phi / K, else None."""
    if variant == "away" and max(away_gap, local_gap) >= phi / K:
        return "fw-local" if local_gap >= away_gap else "away"
    if variant == "pairwise" and local_gap >= phi / K:
        return "pair-local"
    if variant == "blended-pairwise" and pair_gap >= phi / K:
        return "pair-local"
    return None


def _lmo_kind(variant, gap, away_gap, pair_gap):
    """The step after an LMO call with FW gap ``gap``."""
    if variant == "away":
        return "fw" if gap >= away_gap else "away"
    if variant == "pairwise":
        return "pair"
    return "pair-local" if pair_gap >= gap else "fw"


def _active_direction(kind, S, M, x, w, ia, il):
    """(d, gamma_max, A d or None, s) of a step of ``kind`` ('fw', 'fw-local', 'away',
    'pair', 'pair-local') with the LMO vertex w, away vertex ia and local vertex il."""
    if kind in ("fw", "fw-local"):
        s = w if kind == "fw" else S.vertex(il)
        return s - x, 1.0, M.delta(s, None), s
    a = S.vertex(ia)
    if kind == "away":
        wa = float(S.w[ia])
        return x - a, wa / max(1.0 - wa, 1e-300), M.delta(None, a), None
    s = w if kind == "pair" else S.vertex(il)
    return s - a, float(S.w[ia]), M.delta(s, a), s


def _active_move(S, M, line, kind, s, ia, gamma):
    """Update the active set by the step and return the new iterate (recomputed from the
    weights when a vertex was dropped)."""
    if kind in ("fw", "fw-local"):
        dropped = S.fw(s, gamma)
    elif kind == "away":
        dropped = S.away(ia, gamma)
    else:
        dropped = S.pairwise(s, ia, gamma)
    if dropped:
        x = S.point()
        M.reset(x)
        return x
    return M.move(line, gamma)


def _fw_active(problem, x0, opts, variant):
    """Away-step, pairwise and blended pairwise FW on one active set, optionally lazified.

    Non-lazy step choice with the FW vertex w = LMO(g), the away vertex a = argmax_S <g, v>
    and the local FW vertex s = argmin_S <g, v>:
      away:      FW step to w if <g, x - w> >= <g, a - x>, else an away step from a;
      pairwise:  x + gamma (w - a), gamma <= weight of a;
      blended:   local pairwise step x + gamma (s - a) if <g, a - s> >= <g, x - w>,
                 else a FW step to w (Tsuji, Tanaka & Pokutta 2022, Alg. 1).
    Lazy (Braun, Pokutta & Zink 2017): a dual-gap estimate phi (phi_0 = gap_0 / 2); the
    cached vertices are used whenever they promise progress >= phi / K (away: FW to s or
    away from a; pairwise: x + gamma (s - a) if <g, x - s> >= phi / K; blended: local
    pairwise step if <g, a - s> >= phi / K); otherwise the LMO is called and, if even its
    vertex gives a gap < phi / K, phi <- gap / 2 (the non-lazy step is taken with w).
    """
    from .first_order import reject_unused_terms

    reject_unused_terms(problem, _VARIANTS[variant], feasible_set=False)
    D = problem.feasible_set
    M = _model(problem, x0, opts)
    xp = M.xp
    rule = _step_rule(opts["step"], opts)
    lazy = bool(opts.get("lazy", False))
    K = opts.get("lazy_tolerance", 2.0)  # options checked by the front door (option tables below)
    tol = opts.get("tol") or 0.0
    S = _ActiveSet(x0)
    x, k, phi = x0, 0, None
    while True:  # bounded by the loop's maxiter
        fx, g = M.value_and_grad(x)
        sc = S.scores(g)
        gx = _vd(g, x, xp)
        if not (math.isfinite(gx) and np.all(np.isfinite(sc))):
            yield Step(x, fx, float("nan"), jac=g)  # the loop reports status 2
            return
        ia, il = int(np.argmax(sc)), int(np.argmin(sc))
        away_gap, local_gap, pair_gap = sc[ia] - gx, gx - sc[il], sc[ia] - sc[il]
        kind = _lazy_kind(variant, phi, K, away_gap, local_gap, pair_gap) if lazy and phi is not None \
            and phi > tol else None
        gap = w = None
        if kind is None:
            w = D.lmo(g)
            gw = _vd(g, w, xp)
            gap = gx - gw
            if lazy:
                phi = gap / 2 if phi is None or gap < phi / K else phi
            kind = _lmo_kind(variant, gap, away_gap, pair_gap)
        optimality = phi
        if gap is not None:
            optimality, stop = _gap_measure(gap, gx, gw, k)
            if stop is not None:
                return stop
        extras = {"gap": gap, "active_set_size": len(S)}
        if lazy:
            extras["dual_gap_estimate"] = phi
        yield Step(x, fx, optimality, jac=g, **extras)
        d, gmax, dz, s = _active_direction(kind, S, M, x, w, ia, il)
        line = M.line(x, d, g, fx, dz)
        gamma = M.search(rule, line, gmax, k)
        if not 0 <= gamma <= gmax:
            return 2, f"the step rule returned gamma = {gamma} (expected a number in [0, {gmax}])"
        if gamma > 0:
            x = _active_move(S, M, line, kind, s, ia, gamma)
        k += 1


def _fw_rate(k, L, R, mu=0.0, f0_gap=None, eta=1.0):
    """2 L D^2 / (k + 2), with R read as the diameter D of the set."""
    return 2 * eta * L * R ** 2 / (k + 2)


def _example(xp):
    from ..lmo import Simplex

    rng = np.random.default_rng(0)
    A = xp.asarray(rng.standard_normal((20, 8)))
    b = xp.asarray(rng.standard_normal(20))

    def fun(x):
        r = A @ x - b
        return 0.5 * float(xp.sum(r * r))

    return dict(fun=fun, jac=lambda x: A.T @ (A @ x - b), lmo=Simplex(1.0),
                x0=xp.asarray(np.eye(8)[0]))


def _stochastic_example(xp):
    kw = _example(xp)
    rng = np.random.default_rng(0)
    A = xp.asarray(rng.standard_normal((20, 8)))
    b = xp.asarray(rng.standard_normal(20))
    return dict(fun=_LeastSquaresSum(A, b), x0=kw["x0"], lmo=kw["lmo"], options={"rng": 0, "batch_size": 2})


_LAZY_DOC = ("Lazify (Braun, Pokutta & Zink 2017): use cached active-set vertices while they promise progress "
             ">= phi / lazy_tolerance, call the LMO otherwise; the dual-gap estimate phi is halved when no good "
             "vertex is found. Iterations without an LMO call report phi as optimality and no `gap`.")
_COMMON = {
    "tol": Option(1e-6, "Tolerance on the Frank-Wolfe gap <grad f(x), x - s>.", Interval(0)),
    "maxiter": Option(1000, "Maximum number of iterations (default 1000; one FW, away or pairwise step per "
                            "iteration).", Interval(0, integer=True)),
    "step": Option("adaptive", "Step rule: 'open-loop', 'short', 'adaptive', 'exact' (quadratics), 'line-search' "
                               "(approximately exact, any smooth f) or an object.", StepRuleCheck()),
    "L": Option(None, "Lipschitz constant for the short step (and the adaptive rule's first estimate).",
                NoneOr(Interval(0, open=("lo",))), aliases=("lipschitz",)),
    "composite": Option(True, "For a numopt.LinearComposite objective f(x) = loss(A x) (1-D x): keep z = A x, so a "
                              "line-search value costs one loss evaluation on z + gamma A d (no product with A), a "
                              "gradient one product with A^T, and A s of a sparse vertex only its nonzero columns. "
                              "False: evaluate f and grad f at points like any objective (same iterates).", Flag()),
    "refresh": Option(200, "Composite path: recompute z = A x from x every `refresh` steps (rounding drift).",
                      Interval(1, integer=True)),
}
_LAZY_OPTS = {
    "lazy": Option(False, _LAZY_DOC, Flag()),
    "lazy_tolerance": Option(2.0, "K >= 1 in the lazy acceptance test <g, x - v> >= phi / K.", Interval(1)),
}
_VANILLA_LAZY = {
    "lazy": Option(False, "Lazify (Braun, Pokutta & Zink 2017): keep the LMO vertices seen so far and step "
                          "towards the best cached one while it promises progress >= phi / lazy_tolerance; call "
                          "the LMO otherwise and halve the dual-gap estimate phi (phi <- gap / 2) when even the "
                          "LMO's vertex falls short. Iterations without an LMO call report phi as optimality and "
                          "no `gap`.", Flag()),
    "lazy_tolerance": _LAZY_OPTS["lazy_tolerance"],
    "cache_size": Option(100, "Lazy: at most this many cached vertices (least recently used dropped first).",
                         Interval(1, integer=True)),
}
_RNG = Option(None, "Seed or numpy Generator (None: seed 0, reproducible).")
_STOCHASTIC_OPTS = {
    "tol": Option(None, "Not used for stopping (the FW gap is only estimated); run maxiter iterations.",
                  NoneOr(Interval(0))),
    "maxiter": Option(1000, "Number of iterations (default 1000; one iteration = stochastic steps worth one pass, "
                            "n sample gradients, over the data).", Interval(0, integer=True)),
    "schedule": Option("momentum", "'momentum': averaged gradients, rho_t = 4/(t+8)^(2/3), gamma_t = 2/(t+8) "
                                   "(Mokhtari et al. 2020); 'growing-batch': batch batch_size*(t+1)^2, "
                                   "gamma_t = 2/(t+2) (Hazan & Luo 2016).", Choices("momentum", "growing-batch")),
    "batch_size": Option(1, "Minibatch size (momentum) or initial batch size (growing-batch).",
                         Interval(1, integer=True)),
    "rng": _RNG,
}
_ZEROTH_OPTS = {
    "tol": Option(None, "Not used for stopping (the gap is only estimated); run maxiter iterations.",
                  NoneOr(Interval(0))),
    "maxiter": Option(1000, "Number of iterations (default 1000; 1 + directions function values each).",
                      Interval(0, integer=True)),
    "directions": Option(1, "Gaussian directions per gradient estimate (I-RDSA, m).", Interval(1, integer=True)),
    "rng": _RNG,
}

_REF = ("M. Frank, P. Wolfe, Naval Res. Logist. Q. 3 (1956); M. Jaggi, ICML 2013; "
        "S. Lacoste-Julien, M. Jaggi, NeurIPS 2015 (away/pairwise); F. Pedregosa, G. Negiar, A. Askari, "
        "M. Jaggi, AISTATS 2020 (adaptive step)")
_REF_LAZY = "; G. Braun, S. Pokutta, D. Zink, ICML 2017 (lazy)"
_OPT = "Frank-Wolfe gap <grad f(x_k), x_k - s_k>"
_OPT_LAZY = _OPT + " (lazy: the dual-gap estimate phi at iterations without an LMO call)"
register(MethodSpec(
    name="frank-wolfe", family="frank_wolfe", summary="Frank-Wolfe (conditional gradient), optionally lazified",
    solve=lambda p, x0, o: _fw(p, x0, o, "vanilla"), options=dict(_COMMON, **_VANILLA_LAZY),
    requires=("grad", "lmo"), optimality=_OPT_LAZY, rate=_fw_rate, reference=_REF + _REF_LAZY, x_ndim=(1, 2),
    example=_example,
    rate_text="Convex, L-smooth, diameter D: f(x_k) - f* <= 2 L D^2 / (k + 2); the FW gap bounds f(x_k) - f*. "
              "Lazy: O(1/k) too, with a constant growing with lazy_tolerance (Braun, Pokutta & Zink 2017)."))
for _name, _variant, _summary, _rate_text, _ref in [
    ("away-fw", "away", "Away-step Frank-Wolfe (active set)",
     "Linear convergence for strongly convex f on polytopes (Lacoste-Julien & Jaggi 2015); "
     "2 L D^2/(k+2)-type sublinear bound otherwise. Lazy: same rates up to constants (Braun et al. 2017).",
     _REF),
    ("pairwise-fw", "pairwise", "Pairwise Frank-Wolfe (active set)",
     "Linear convergence for strongly convex f on polytopes (Lacoste-Julien & Jaggi 2015). "
     "Lazy: same rate up to constants (Braun et al. 2017).", _REF),
    ("blended-pairwise-fw", "blended-pairwise", "Blended pairwise conditional gradients (BPCG, active set)",
     "Linear convergence for strongly convex f on polytopes, O(1/k) for convex smooth f "
     "(Tsuji, Tanaka & Pokutta 2022, Thms 3.1-3.2); no swap steps, sparser iterates than pairwise FW.",
     _REF + "; K. Tsuji, K. Tanaka, S. Pokutta, ICML 2022 (blended pairwise)"),
]:
    register(MethodSpec(
        name=_name, family="frank_wolfe", summary=_summary,
        solve=(lambda v: (lambda p, x0, o: _fw_active(p, x0, o, v)))(_variant),
        options=dict(_COMMON, **_LAZY_OPTS), requires=("grad", "lmo"), optimality=_OPT_LAZY,
        rate_text=_rate_text, rate=None, reference=_ref + _REF_LAZY, x_ndim=(1, 2), example=_example))

register(MethodSpec(
    name="stochastic-fw", family="frank_wolfe",
    summary="Stochastic Frank-Wolfe for finite sums (momentum averaging or growing batches)",
    solve=_stochastic, requires=("lmo",), x_ndim=(1, 2), example=_stochastic_example,
    options=_STOCHASTIC_OPTS,
    optimality="none (the FW gap of the gradient estimate is recorded as `estimated_gap`)",
    rate_text="Convex smooth f: E f(x_t) - f* = O(t^{-1/3}) with momentum averaging and a constant batch "
              "(Mokhtari, Hassani & Karbasi 2020, Thm 3); O(1/t) with batches growing like t^2 "
              "(Hazan & Luo 2016). One iteration = one pass worth of sample gradients.",
    rate=None,
    reference="A. Mokhtari, H. Hassani, A. Karbasi. Stochastic conditional gradient methods: from convex "
              "minimization to submodular maximization. JMLR 21 (2020); E. Hazan, H. Luo. Variance-reduced "
              "and projection-free stochastic optimization. ICML 2016."))

register(MethodSpec(
    name="zeroth-order-fw", family="frank_wolfe",
    summary="Zeroth-order stochastic Frank-Wolfe (function values only)",
    solve=_zeroth_order, requires=("lmo",), backends=("numpy", "array_api_strict"),
    options=_ZEROTH_OPTS,
    optimality="none (the estimated FW gap is recorded as `estimated_gap`)",
    rate_text="E f(x_T) - f* = O(d^{1/3} / T^{1/3}) for convex smooth f (Sahu, Zaheer & Kar 2019, Thm 3.4).",
    rate=None, x_ndim=(1, 2),
    example=lambda xp: dict({k: v for k, v in _example(xp).items() if k != "jac"}, options={"rng": 0}),
    reference="A.K. Sahu, M. Zaheer, S. Kar. Towards gradient free and projection free stochastic "
              "optimization. AISTATS 2019."))

_VARIANTS = {"vanilla": "frank-wolfe", "away": "away-fw", "pairwise": "pairwise-fw",
             "blended-pairwise": "blended-pairwise-fw", "stochastic": "stochastic-fw",
             "zeroth-order": "zeroth-order-fw"}
_RANDOM = ("stochastic", "zeroth-order")


def frank_wolfe(fun, x0, lmo, *, jac=None, variant="vanilla", tol=None, maxiter=1000, rng=None, step=None,
                lazy=False, callback=None, **options):
    """Frank-Wolfe over the set given by ``lmo``.

    ``variant``: "vanilla", "away", "pairwise", "blended-pairwise" (BPCG), "stochastic"
    (``fun`` a finite-sum oracle with ``n_samples`` and ``grad_batch``) or "zeroth-order"
    (function values only). ``lazy=True`` lazifies vanilla FW (a cache of LMO vertices) and
    the active-set variants (away, pairwise, blended-pairwise). ``rng`` seeds the randomized variants. Further keyword
    arguments are method options (see ``numopt.show_options("blended-pairwise-fw")``).
    ``result.gap`` is the last Frank-Wolfe gap (randomized variants: ``result.estimated_gap``).
    """
    from .._minimize import minimize

    if variant not in _VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; valid: {', '.join(_VARIANTS)}")
    opts = dict(options, maxiter=maxiter)
    if step is not None:
        opts["step"] = step
    if lazy:
        if variant not in ("vanilla", "away", "pairwise", "blended-pairwise"):
            raise ValueError(f"`lazy=True` needs a deterministic variant ('vanilla', 'away', 'pairwise', "
                             f"'blended-pairwise'), got variant={variant!r}")
        opts["lazy"] = True
    if variant in _RANDOM:
        opts["rng"] = rng
    return minimize(fun, x0, jac=jac, method=_VARIANTS[variant], lmo=lmo, tol=tol, callback=callback,
                    options=opts)
