"""The stated bound of a registered method as numbers, from the problem's own constants
(see :func:`theory`)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import _constants as K

__all__ = ["Theory", "theory", "theoretical_bound"]


@dataclass
class Theory:
    """A method's stated bound on ``F(x_k) - F*`` for one problem, in numbers.

    ``kind``: ``"linear"`` (``bound(k) = C0 * q**k``), ``"sublinear"``
    (``bound(k) = C / (k + shift)**p``), ``"superlinear"`` (a local, qualitative statement:
    no bound) or ``"none"`` (no quantitative statement; only with ``strict=False``).
    ``k`` counts the iterations of the method's trace (``units`` says what one is: for BCD
    an epoch of ``n`` coordinate updates). ``constants`` holds every number used (``L``,
    ``mu``, ``R``, ``f0_gap``, ``D``, ``kappa``, ...) and ``sources`` where each came from.
    ``expectation=True``: the bound holds for ``E F(x_k) - F*`` (randomized methods).
    Calling the object is ``bound``; it accepts an int or an array of ints.
    """

    method: str
    kind: str
    q: float | None = None
    C0: float | None = None
    C: float | None = None
    p: float | None = None
    shift: float = 0.0
    constants: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    formula: str = ""
    statement: str = ""
    reference: str = ""
    units: str = "iterations"
    expectation: bool = False

    def bound(self, k):
        """The bound at iteration(s) ``k`` (inf where the statement gives none, e.g. k = 0
        of a ``C/k`` bound)."""
        if self.kind == "linear":
            f = lambda kk: self.C0 * self.q ** kk  # noqa: E731
        elif self.kind == "sublinear":
            f = lambda kk: self.C / (kk + self.shift) ** self.p if kk + self.shift > 0 else math.inf  # noqa: E731
        else:
            raise ValueError(f"method {self.method!r} states no quantitative bound ({self.kind}): "
                             f"{self.statement}")
        if np.ndim(k) == 0:
            return float(f(float(k)))
        return np.array([f(float(kk)) for kk in np.asarray(k).ravel()]).reshape(np.shape(k))

    __call__ = bound

    @property
    def label(self):
        """A short legend label: the method and its formula."""
        return f"{self.method} bound: {self.formula}" if self.formula else f"{self.method} bound"

    @property
    def kappa(self):
        return self.constants.get("kappa")


class _Ctx:
    """Lazy constants of one (method, problem) pair with their sources; ``need`` raises
    the ValueError that names a missing constant."""

    def __init__(self, method, problem, options, x0):
        self.method, self.problem, self.options = method, problem, dict(options or {})
        self.x0 = problem.x0 if x0 is None else x0
        self.values, self.sources, self.reasons = {}, {}, {}

    def fail(self, msg):
        raise ValueError(f"theory({self.method!r}, problem): {msg}")

    def put(self, name, value, source):
        self.values[name], self.sources[name] = value, source
        return value

    def need(self, name, why=""):
        v = self.get(name)
        if v is None:
            self.fail(f"needs {name}{why}; {self.reasons.get(name, 'the problem does not state it')}")
        return v

    def get(self, name):
        if name not in self.values and name not in self.reasons:
            v, src = getattr(self, "_" + name)()
            if v is None:
                self.reasons[name] = src
            else:
                self.put(name, v, src)
        return self.values.get(name)

    # -- the constants ------------------------------------------------------------
    def _smooth_lam(self):
        """lam of a squared-l2 regularizer that a smooth-only method adds to f (else 0)."""
        from .._registry import get_method

        if get_method(self.method).accepts_prox:
            return 0.0
        return K.smooth_regularizer(self.problem) or 0.0

    def _L(self):
        L, src = K.smoothness(self.problem.objective)
        lam = self._smooth_lam()
        if L is not None and lam:
            L, src = L + lam, f"{src} + lam = {lam:g} of the squared-l2 regularizer"
        return L, src

    def _mu(self):
        mu, src = K.strong_convexity(self.problem.objective, self.get("L"))
        lam = self._smooth_lam()
        if lam:
            mu, src = (mu or 0.0) + lam, f"({src}) + lam = {lam:g} of the squared-l2 regularizer"
        return mu, src

    def _L_j(self):
        return K.coordinate_lipschitz(self.problem.objective)

    def _reference(self):
        from ._reference import reference_info, reference_solution

        reference_solution(self.problem)
        return reference_info(self.problem)

    def _R(self):
        from .._backend import to_numpy

        ref = self._reference()
        x0 = np.asarray(to_numpy(self.x0), dtype=float)
        return float(np.linalg.norm(x0 - ref["x_star"])), \
            f"||x0 - x*|| with x* from reference_solution ({ref['source']})"

    def _f0_gap(self):
        from ._reference import _value

        ref = self._reference()
        return max(_value(self.problem, self.x0) - ref["f_star"], 0.0), \
            f"F(x0) - F* with F* from reference_solution ({ref['source']})"

    def _D(self):
        s = self.problem.feasible_set
        s = getattr(self.problem, "bounds", None) if s is None else s
        if s is None:
            return None, "the problem has no feasible set (feasible_set / bounds)"
        return K.diameter(s, int(np.prod(np.shape(self.x0))))


def _first_order_L(ctx):
    """The L of the stated bound for the first-order engines: the computed L, or the
    option ``L`` when the run starts above it; a start below it lets backtracking
    overshoot to ``eta * L`` (and without line search there is no guarantee)."""
    L = ctx.need("L")
    L_opt = ctx.options.get("L")
    if L_opt is None or L_opt >= L:
        if L_opt is not None:
            ctx.put("L", float(L_opt), "options['L'] (the run's step is 1/L, L >= the computed constant)")
        return ctx.values["L"]
    if ctx.options.get("linesearch", True) is False:
        ctx.fail(f"options['L'] = {L_opt:g} is below the problem's L = {L:g} with linesearch=False: "
                 "the fixed step 1/L is too long and no bound is stated")
    eta = float(ctx.options.get("eta", 2.0))
    return ctx.put("L", eta * L, f"eta * L = {eta:g} x {L:.6g}: backtracking from options['L'] = {L_opt:g} "
                                 "can overshoot L by the factor eta")


def _mu_for(ctx, regime, *, known_only):
    """mu > 0 for the linear regime, or None for the sublinear one. ``known_only``: the
    method uses mu only when it is given (AGD / FISTA: options['mu'] or the objective's
    ``strong_convexity``), so a mu numopt.rates computes itself does not enter its bound."""
    if known_only:
        mu = ctx.options.get("mu")
        src = "options['mu']"
        if mu is None:
            f = K.unwrap(ctx.problem.objective)
            mu = float(getattr(f, "strong_convexity", 0.0) or 0.0) + ctx._smooth_lam()
            src = "objective.strong_convexity (the modulus the method's momentum uses)"
        if mu > 0:
            ctx.put("mu", float(mu), src)
            return float(mu)
        ctx.reasons["mu"] = ("the problem's objective states no strong convexity (`strong_convexity`), "
                             "and the method uses mu only when given (options={'mu': ...})")
    else:
        mu = ctx.get("mu")
        if mu:
            return mu
        if "mu" in ctx.values:
            ctx.reasons["mu"] = ctx.sources["mu"]
            del ctx.values["mu"], ctx.sources["mu"]
    if regime == "linear":
        ctx.need("mu", " > 0 for the linear rate")
    return None


def _gd(ctx, spec, regime):
    L = _first_order_L(ctx)
    mu = None if regime == "sublinear" else _mu_for(ctx, regime, known_only=False)
    if mu:
        q = 1 - mu / L
        ctx.put("kappa", L / mu, "L / mu")
        return dict(kind="linear", q=q, C0=ctx.need("f0_gap"), formula="(1 - mu/L)^k (F(x0) - F*)")
    R = ctx.need("R")
    return dict(kind="sublinear", C=L * R ** 2 / 2, p=1.0, formula="L ||x0 - x*||^2 / (2k)")


def _agd(ctx, spec, regime):
    L = _first_order_L(ctx)
    mu = None if regime == "sublinear" else _mu_for(ctx, regime, known_only=True)
    R = ctx.need("R")
    if mu:
        q = 1 - math.sqrt(min(mu / L, 1.0))
        ctx.put("kappa", L / mu, "L / mu")
        return dict(kind="linear", q=q, C0=ctx.need("f0_gap") + 0.5 * mu * R ** 2,
                    formula="(1 - sqrt(mu/L))^k (F(x0) - F* + mu/2 ||x0 - x*||^2)")
    return dict(kind="sublinear", C=2 * L * R ** 2, p=2.0, shift=1.0, formula="2 L ||x0 - x*||^2 / (k+1)^2")


def _fw(ctx, spec, regime):
    if regime == "linear":
        ctx.fail("the method states no linear rate (only 2 L D^2 / (k + 2))")
    L, D = ctx.need("L"), ctx.need("D", " (the diameter of the feasible set)")
    return dict(kind="sublinear", C=2 * L * D ** 2, p=1.0, shift=2.0, formula="2 L D^2 / (k + 2)")


_BCD_RULES = {  # rule -> (the modulus ratio per coordinate update, in expectation?)
    "random": ("mu / (n L_max)", True),
    "lipschitz": ("mu / sum_j L_j", True),
    "gs": ("mu / (n L_max)", False),   # mu_1 >= mu / n (Nutini et al.)
    "gsl": ("mu / sum_j L_j", False),  # mu_L >= mu / sum_j L_j
}


def _bcd(ctx, spec, regime):
    o = ctx.options
    sel = o.get("selection", "auto")
    if regime == "sublinear":
        ctx.fail("the method states only linear rates (under strong convexity)")
    if not isinstance(sel, str) or sel == "auto":
        ctx.fail("the rate depends on the selection rule: pass options={'selection': ...} (a run reports the "
                 "rule it used as result.selection; check_bound(result, problem) reads it)")
    if sel not in _BCD_RULES:
        ctx.fail(f"the method states no quantitative rate for selection={sel!r} "
                 f"(stated: {', '.join(_BCD_RULES)})")
    if o.get("working_set") is True or o.get("blocks") is not None:
        ctx.fail("the stated rates are for coordinate updates on the full problem (no working sets, "
                 "blocks=None)")
    Lj = ctx.need("L_j", " (coordinate-wise Lipschitz constants)")
    mu = _mu_for(ctx, "linear", known_only=False)
    n = int(np.size(Lj))
    ratio_text, expectation = _BCD_RULES[sel]
    ratio = mu / (n * float(np.max(Lj))) if "L_max" in ratio_text else mu / float(np.sum(Lj))
    ctx.put("n", n, "number of coordinates")
    q1 = 1 - min(ratio, 1.0)
    return dict(kind="linear", q=q1 ** n, C0=ctx.need("f0_gap"), expectation=expectation,
                units=f"epochs of n = {n} coordinate updates",
                formula=f"(1 - {ratio_text})^(n k) (F(x0) - F*)")


_TABLE = {"gd": _gd, "ista": _gd, "agd": _agd, "fista": _agd, "frank-wolfe": _fw, "bcd": _bcd}


def _qualitative(text):
    t = text.lower()
    return "superlinear" in t or "quadratic convergence" in t


def theory(method, problem, *, options=None, x0=None, regime=None, strict=True):
    """The bound that ``method`` states (registry ``rate`` / ``rate_text``) for ``problem``,
    in numbers, from constants the problem knows: nothing is passed by hand.

    ``L`` (``LinearComposite``: the datafit's curvature bound times ``||A||_2^2``;
    ``QuadraticForm``: its top eigenvalue; else ``objective.lipschitz``), ``mu`` (an
    objective's ``strong_convexity``, a ``QuadraticForm``'s smallest eigenvalue, a
    least-squares datafit times ``sigma_min(A)^2``, plus ``lam`` of a squared-l2
    regularizer for a smooth-only method), the coordinate ``L_j`` (column norms),
    the diameter ``D`` of the feasible set, ``kappa = L / mu``, and ``R = ||x0 - x*||`` and
    ``F(x0) - F*`` from :func:`reference_solution`.

    ``options``: the options of the run the bound is for, where they change it (``L``,
    ``eta``, ``linesearch``, ``mu`` of AGD / FISTA, ``selection`` of BCD). ``x0``: the
    start point (default ``problem.x0``). ``regime``: ``"linear"`` or ``"sublinear"``
    to ask for one of a method's two statements; default: linear when the needed ``mu``
    is positive, else sublinear. AGD / FISTA use ``mu`` only when it is given (option or
    ``objective.strong_convexity``), so only such a ``mu`` gives their linear bound.

    Returns a :class:`Theory`: ``kind``, ``q`` and ``C0`` (linear: ``C0 q^k``), ``C``,
    ``p``, ``shift`` (sublinear: ``C / (k + shift)^p``), ``constants`` and ``sources``,
    and ``bound(k)``. A ValueError names the constant the problem lacks (e.g. ``mu > 0``
    for a linear rate) or says that the method states no quantitative rate
    (``strict=False`` returns ``kind="none"`` instead; a method stating only local
    superlinear convergence gives ``kind="superlinear"`` without a bound).
    """
    from .._registry import get_method
    from ._reference import _check_problem

    spec = get_method(method)
    _check_problem(problem)
    if regime not in (None, "linear", "sublinear"):
        raise ValueError(f"`regime` must be None, 'linear' or 'sublinear', got {regime!r}")
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"`options` must be a dict or None, got {type(options).__name__}")
    base = dict(method=spec.name, statement=spec.rate_text, reference=spec.reference)
    rule = _TABLE.get(spec.name)
    if rule is None:
        if _qualitative(spec.rate_text) and regime is None:
            return Theory(kind="superlinear", **base)
        if strict:
            raise ValueError(f"theory({method!r}, problem): the method states no quantitative rate that "
                             f"numopt.rates evaluates (its statement: {spec.rate_text or 'none'})")
        return Theory(kind="none", **base)
    if not spec.accepts_prox and K.smooth_regularizer(problem) is None:
        raise ValueError(f"theory({method!r}, problem): the method does not use the problem's nonsmooth "
                         f"regularizer ({type(K.unwrap(problem.regularizer)).__name__}), so it states no bound "
                         "for this problem")
    ctx = _Ctx(spec.name, problem, options, x0)
    fields = rule(ctx, spec, regime)
    return Theory(constants=dict(ctx.values), sources=dict(ctx.sources), **base, **fields)


def theoretical_bound(method, k, *, L, R, mu=0.0, f0_gap=None, eta=1.0):
    """The bound on ``f(x_k) - f*`` that ``method`` states, from constants given by hand
    (the older interface; :func:`theory` computes them from a problem).

    ``L``: smoothness constant; ``R = ||x0 - x*||``; ``mu``: strong convexity;
    ``f0_gap = f(x0) - f*``; ``eta``: the backtracking factor when the line search
    could overshoot ``L`` (the bound then holds with ``eta * L``).
    """
    from .._registry import get_method
    from ..oracles import check_scalar

    check_scalar(L, "L", lower=0, lower_inclusive=False)
    check_scalar(R, "R", lower=0)
    check_scalar(mu, "mu", lower=0)
    check_scalar(eta, "eta", lower=1)
    if not (np.isfinite(L) and np.isfinite(R)):
        raise ValueError(f"`L` and `R` must be finite, got L={L!r}, R={R!r}")
    spec = get_method(method)
    if spec.rate is None:
        raise ValueError(f"method {method!r} states no rate bound as a function of k")
    k = np.asarray(k)
    return np.array([spec.rate(int(kk), L=L, R=R, mu=mu, f0_gap=f0_gap, eta=eta) for kk in k.ravel()])
