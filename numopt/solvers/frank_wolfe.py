"""Frank–Wolfe (conditional gradient) methods: vanilla, away-step, pairwise, and the
zeroth-order stochastic Frank–Wolfe of Sahu, Zaheer & Kar.

All variants share one iteration: the LMO gives ``s = argmin_{s in D} <grad f(x), s>``,
the Frank–Wolfe gap ``g(x) = <grad f(x), x - s> >= f(x) - f*`` (the certificate, used
for stopping and recorded as ``gap``), a direction and a step from a step-size rule
object. Away and pairwise steps keep the iterate as a convex combination of LMO
vertices (an active set) and move weight away from the worst vertex.

Step rules (``step=``): ``"open-loop"`` (2/(k+2)), ``"short"`` (``<-g, d>/(L ||d||^2)``
with ``L`` given), ``"adaptive"`` (backtracking on L, Pedregosa, Negiar, Askari &
Jaggi, AISTATS 2020 — the default, as in FrankWolfe.jl), ``"exact"`` (exact line search
for quadratics, needs Hessian-vector products); or any object with
``step(f, x, d, g, gamma_max, k)``.

Rates: convex L-smooth f on a set of diameter D: ``f(x_k) - f* <= 2 L D^2 / (k + 2)``
(Frank & Wolfe 1956; Jaggi, ICML 2013) for vanilla FW with open-loop or short steps.
Away-step and pairwise FW converge linearly for strongly convex f on polytopes
(Lacoste-Julien & Jaggi, NeurIPS 2015). Zeroth-order stochastic FW (Sahu, Zaheer & Kar,
AISTATS 2019): ``E f(x_T) - f* = O(d^{1/3} / T^{1/3})`` using only function values.
"""
from __future__ import annotations

import math

import numpy as np

from .._backend import get_namespace, norm, to_numpy, vdot
from .._loop import Step
from .._registry import MethodSpec, register

__all__ = ["frank_wolfe", "OpenLoop", "ShortStep", "Adaptive", "ExactQuadratic"]


class OpenLoop:
    """gamma_k = ell / (k + ell) (ell = 2: the classical 2/(k+2))."""

    def __init__(self, ell=2.0):
        self.ell = ell

    def step(self, f, x, d, g, gamma_max, k):
        return min(gamma_max, self.ell / (k + self.ell))


class ShortStep:
    """gamma = min(gamma_max, <-g, d> / (L ||d||^2)) with a known smoothness constant L."""

    def __init__(self, L):
        if not L or L <= 0:
            raise ValueError("the short step needs a Lipschitz constant L > 0 (option `L`)")
        self.L = float(L)

    def step(self, f, x, d, g, gamma_max, k):
        dd = vdot(d, d)
        return 0.0 if dd == 0 else min(gamma_max, max(0.0, -vdot(g, d) / (self.L * dd)))


class Adaptive:
    """Backtracking on the local smoothness (Pedregosa et al., AISTATS 2020): try
    L <- eta_down * L, double until the quadratic upper bound holds at the short step."""

    def __init__(self, L0=None, eta_down=0.9, eta_up=2.0, max_backtrack=60):
        self.L, self.eta_down, self.eta_up, self.max_backtrack = L0, eta_down, eta_up, max_backtrack

    def step(self, f, x, d, g, gamma_max, k):
        gd, dd = -vdot(g, d), vdot(d, d)
        if dd == 0 or gd <= 0:
            return 0.0
        fx = f.value(x)
        if self.L is None:  # first estimate from a gradient difference along d
            h = 1e-6
            self.L = max(norm(f.grad(x + h * d) - g) / (h * math.sqrt(dd)), 1e-12)
        L = self.L * self.eta_down
        for _ in range(self.max_backtrack):
            gamma = min(gamma_max, gd / (L * dd))
            if f.value(x + gamma * d) <= fx - gamma * gd + 0.5 * L * gamma ** 2 * dd + 1e-14 * abs(fx):
                break
            L *= self.eta_up
        self.L = L
        return gamma


class ExactQuadratic:
    """Exact line search for quadratics: gamma = <-g, d> / <d, H d> (Hessian-vector products)."""

    def step(self, f, x, d, g, gamma_max, k):
        dHd = vdot(d, f.hvp(x, d))
        gd = -vdot(g, d)
        if dHd <= 0:
            return gamma_max
        return min(gamma_max, max(0.0, gd / dHd))


def _step_rule(spec, opts):
    if not isinstance(spec, str):
        if not hasattr(spec, "step"):
            raise TypeError("`step` must be a name or an object with .step(f, x, d, g, gamma_max, k)")
        return spec
    if spec == "open-loop":
        return OpenLoop()
    if spec == "short":
        return ShortStep(opts.get("L"))
    if spec == "adaptive":
        return Adaptive(opts.get("L"))
    if spec == "exact":
        return ExactQuadratic()
    raise ValueError(f"unknown step rule {spec!r}; use 'open-loop', 'short', 'adaptive', 'exact' or an object")


class _ActiveSet:
    """x = sum_i w_i v_i over LMO vertices (keyed by their bytes)."""

    def __init__(self, x0):
        self.vertices, self.weights, self.keys = [x0], [1.0], [to_numpy(x0).tobytes()]

    def _put(self, s, gamma):
        key = to_numpy(s).tobytes()
        if key in self.keys:
            self.weights[self.keys.index(key)] += gamma
        else:
            self.vertices.append(s)
            self.weights.append(gamma)
            self.keys.append(key)

    def add(self, s, gamma):  # x <- (1 - gamma) x + gamma s
        self.weights = [w * (1 - gamma) for w in self.weights]
        self._put(s, gamma)
        self._prune()

    def away(self, g):
        vals = [vdot(g, v) for v in self.vertices]
        i = int(np.argmax(vals))
        return i, self.vertices[i], self.weights[i]

    def move_away(self, i, gamma):  # x <- x + gamma (x - v_i)
        self.weights = [w * (1 + gamma) for w in self.weights]
        self.weights[i] -= gamma
        self._prune()

    def pairwise(self, s, i, gamma):  # x <- x + gamma (s - v_i)
        self.weights[i] -= gamma
        self._put(s, gamma)
        self._prune()

    def _prune(self, tol=1e-14):
        keep = [j for j, w in enumerate(self.weights) if w > tol]
        self.vertices = [self.vertices[j] for j in keep]
        self.weights = [self.weights[j] for j in keep]
        self.keys = [self.keys[j] for j in keep]
        tot = sum(self.weights)
        self.weights = [w / tot for w in self.weights]

    def point(self):
        x = self.weights[0] * self.vertices[0]
        for w, v in zip(self.weights[1:], self.vertices[1:]):
            x = x + w * v
        return x


def _fw(problem, x0, opts, variant):
    f, D = problem.objective, problem.feasible_set
    rule = _step_rule(opts["step"], opts)
    x = x0
    active = _ActiveSet(x0) if variant in ("away", "pairwise") else None
    k = 0
    while True:
        fx, g = f.value_and_grad(x)
        s = D.lmo(g)
        gap = vdot(g, x - s)
        yield Step(x, fx, max(gap, 0.0), jac=g, gap=gap, active_set_size=len(active.vertices) if active else 0)
        if variant == "vanilla":
            d, gmax = s - x, 1.0
            gamma = rule.step(f, x, d, g, gmax, k)
            x = x + gamma * d
        else:
            i, v, wv = active.away(g)
            if variant == "away":
                if gap >= vdot(g, v - x):
                    d, gmax, kind = s - x, 1.0, "fw"
                else:
                    d, gmax, kind = x - v, wv / max(1 - wv, 1e-300), "away"
            else:
                d, gmax, kind = s - v, wv, "pair"
            gamma = rule.step(f, x, d, g, gmax, k)
            if kind == "fw":
                active.add(s, gamma)
            elif kind == "away":
                active.move_away(i, gamma)
            else:
                active.pairwise(s, i, gamma)
            x = active.point() if kind != "fw" or gamma in (0.0, 1.0) else x + gamma * d
        k += 1


def _zeroth_order(problem, x0, opts):
    """Sahu, Zaheer & Kar (2019), Alg. 2 with the I-RDSA estimator (m Gaussian directions)."""
    f, D = problem.objective, problem.feasible_set
    xp = get_namespace(x0)
    rng = np.random.default_rng(opts["rng"])
    d_dim = int(np.prod(x0.shape))
    m = opts["directions"]
    x = x0
    g_avg = xp.zeros_like(x0)
    t = 0
    while True:
        fx = f.value(x)
        c_t = 2.0 / (d_dim ** 1.5 * (t + 8) ** (1 / 3))
        rho_t = 4.0 / (d_dim ** (1 / 3) * (t + 8) ** (2 / 3))
        gamma_t = 2.0 / (t + 8)
        est = xp.zeros_like(x0)
        for _ in range(m):
            z = xp.asarray(rng.standard_normal(x0.shape), dtype=x0.dtype)
            est = est + ((f.value(x + c_t * z) - fx) / c_t) * z
        est = est / m
        g_avg = (1 - rho_t) * g_avg + rho_t * est
        s = D.lmo(g_avg)
        gap = vdot(g_avg, x - s)
        yield Step(x, fx, None, estimated_gap=gap)
        x = x + gamma_t * (s - x)
        t += 1


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


_COMMON = {
    "tol": (1e-6, "Tolerance on the Frank-Wolfe gap <grad f(x), x - s>."),
    "step": ("adaptive", "Step rule: 'open-loop', 'short', 'adaptive', 'exact' or an object."),
    "L": (None, "Lipschitz constant for the short step (and the adaptive rule's first estimate)."),
}
_REF = ("M. Frank, P. Wolfe, Naval Res. Logist. Q. 3 (1956); M. Jaggi, ICML 2013; "
        "S. Lacoste-Julien, M. Jaggi, NeurIPS 2015 (away/pairwise); F. Pedregosa, G. Negiar, A. Askari, "
        "M. Jaggi, AISTATS 2020 (adaptive step)")
for _name, _variant, _summary, _rate_text in [
    ("frank-wolfe", "vanilla", "Frank-Wolfe (conditional gradient)",
     "Convex, L-smooth, diameter D: f(x_k) - f* <= 2 L D^2 / (k + 2); the FW gap bounds f(x_k) - f*."),
    ("away-fw", "away", "Away-step Frank-Wolfe (active set)",
     "Linear convergence for strongly convex f on polytopes (Lacoste-Julien & Jaggi 2015); "
     "2 L D^2/(k+2)-type sublinear bound otherwise."),
    ("pairwise-fw", "pairwise", "Pairwise Frank-Wolfe (active set)",
     "Linear convergence for strongly convex f on polytopes (Lacoste-Julien & Jaggi 2015)."),
]:
    register(MethodSpec(
        name=_name, family="frank_wolfe", summary=_summary,
        solve=(lambda v: (lambda p, x0, o: _fw(p, x0, o, v)))(_variant),
        options=dict(_COMMON), requires=("grad", "lmo"), optimality="Frank-Wolfe gap <grad f(x_k), x_k - s_k>",
        rate_text=_rate_text, rate=_fw_rate if _variant == "vanilla" else None, reference=_REF,
        x_ndim=(1, 2), example=_example))

register(MethodSpec(
    name="zeroth-order-fw", family="frank_wolfe",
    summary="Zeroth-order stochastic Frank-Wolfe (function values only)",
    solve=_zeroth_order, requires=("lmo",), backends=("numpy", "array_api_strict"),
    options={"tol": (None, "Not used for stopping (the gap is only estimated); run maxiter iterations."),
             "directions": (1, "Gaussian directions per gradient estimate (I-RDSA, m)."),
             "rng": (None, "Seed or numpy Generator.")},
    optimality="none (the estimated FW gap is recorded as `estimated_gap`)",
    rate_text="E f(x_T) - f* = O(d^{1/3} / T^{1/3}) for convex smooth f (Sahu, Zaheer & Kar 2019, Thm 3.4).",
    rate=None, x_ndim=(1, 2),
    example=lambda xp: dict({k: v for k, v in _example(xp).items() if k != "jac"}, options={"rng": 0}),
    reference="A.K. Sahu, M. Zaheer, S. Kar. Towards gradient free and projection free stochastic "
              "optimization. AISTATS 2019."))

_VARIANTS = {"vanilla": "frank-wolfe", "away": "away-fw", "pairwise": "pairwise-fw",
             "zeroth-order": "zeroth-order-fw"}


def frank_wolfe(fun, x0, lmo, *, jac=None, variant="vanilla", tol=None, maxiter=1000, rng=None, step=None,
                callback=None, **options):
    """Frank-Wolfe over the set given by ``lmo`` (``variant``: "vanilla", "away",
    "pairwise", "zeroth-order"). ``result.gap`` is the last Frank-Wolfe gap (for the
    zeroth-order variant: ``result.estimated_gap``)."""
    from .._minimize import minimize

    if variant not in _VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; valid: {', '.join(_VARIANTS)}")
    opts = dict(options, maxiter=maxiter)
    if step is not None:
        opts["step"] = step
    if variant == "zeroth-order":
        opts["rng"] = rng
    return minimize(fun, x0, jac=jac, method=_VARIANTS[variant], lmo=lmo, tol=tol, callback=callback,
                    options=opts)
