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
LMO calls by a search over the active set guided by a dual-gap estimate ``phi`` that is
halved when no active vertex (and not even the LMO's) promises progress ``phi / K``.

Step rules (``step=``): ``"open-loop"`` (2/(k+2)), ``"short"`` (``<-g, d>/(L ||d||^2)``
with ``L`` given), ``"adaptive"`` (backtracking on L, Pedregosa, Negiar, Askari &
Jaggi, AISTATS 2020 — the default, as in FrankWolfe.jl), ``"exact"`` (exact line search
for quadratics, needs Hessian-vector products); or any object with
``step(f, x, d, g, gamma_max, k)``.

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

from .._backend import get_namespace, norm, to_numpy, vdot
from .._loop import Step
from .._registry import MethodSpec, register
from ..oracles import FiniteSum, check_scalar

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


class _Memo:
    """Remembers the last few objective values so that a step rule's evaluation at the
    accepted point (and the solver's own f(x)) is not paid twice: the next iteration then
    only needs the gradient. Points are matched by identity or exact equality."""

    def __init__(self, f, size=3):
        self.f, self.size, self.pts = f, size, []

    def _lookup(self, x):
        for y, fy in self.pts:
            if y is x or (y.shape == x.shape and bool(get_namespace(x).all(y == x))):
                return fy
        return None

    def _store(self, x, fx):
        self.pts = [(x, fx)] + self.pts[:self.size - 1]

    def value(self, x):
        fx = self._lookup(x)
        if fx is None:
            fx = self.f.value(x)
            self._store(x, fx)
        return fx

    def value_and_grad(self, x):
        fx = self._lookup(x)
        if fx is None:
            fx, g = self.f.value_and_grad(x)
            self._store(x, fx)
            return fx, g
        return fx, self.f.grad(x)

    def __getattr__(self, name):
        if name in ("f", "size", "pts"):
            raise AttributeError(name)
        return getattr(self.f, name)


class _ActiveSet:
    """x = sum_i w_i v_i over LMO vertices (deduplicated by their bytes). The vertices are
    the rows of one (m, n) array of the iterate's namespace, so all the inner products
    ``<g, v_i>`` needed to pick away / local Frank-Wolfe vertices are one matrix-vector
    product; the weights live on the host (float64)."""

    def __init__(self, x0):
        self.xp, self.shape = get_namespace(x0), tuple(x0.shape)
        self.V = self.xp.reshape(x0, (1, -1))
        self.w = np.ones(1)
        self.keys = [self._key(x0)]

    @staticmethod
    def _key(v):
        return to_numpy(v).tobytes()

    def __len__(self):
        return int(self.w.size)

    def scores(self, g):
        """<g, v_i> for every vertex (numpy float64)."""
        xp = self.xp
        return np.asarray(to_numpy(self.V @ xp.reshape(g, (-1,))), dtype=np.float64)

    def vertex(self, i):
        return self.xp.reshape(self.V[i, :], self.shape)

    def _put(self, s, gamma):
        key = self._key(s)
        try:
            self.w[self.keys.index(key)] += gamma
        except ValueError:
            self.V = self.xp.concat([self.V, self.xp.reshape(s, (1, -1))], axis=0)
            self.w = np.append(self.w, gamma)
            self.keys.append(key)

    def fw(self, s, gamma):  # x <- (1 - gamma) x + gamma s
        self.w *= 1 - gamma
        self._put(s, gamma)
        return self._prune()

    def away(self, i, gamma):  # x <- x + gamma (x - v_i)
        self.w *= 1 + gamma
        self.w[i] -= gamma
        return self._prune()

    def pairwise(self, s, i, gamma):  # x <- x + gamma (s - v_i)
        self.w[i] -= gamma
        self._put(s, gamma)
        return self._prune()

    def _prune(self, tol=1e-14):
        """Drop vertices of (numerically) zero weight; True when one was dropped."""
        keep = np.flatnonzero(self.w > tol)
        dropped = keep.size < self.w.size
        if dropped:
            self.V = self.xp.take(self.V, self.xp.asarray(keep), axis=0)
            self.w = self.w[keep]
            self.keys = [self.keys[j] for j in keep]
        self.w /= self.w.sum()
        return dropped

    def point(self):
        xp = self.xp
        w = xp.asarray(self.w, dtype=self.V.dtype)
        return xp.reshape(w @ self.V, self.shape)


def _fw(problem, x0, opts, variant):
    """Vanilla Frank-Wolfe: x <- x + gamma (s - x), s = LMO(grad f(x))."""
    f, D = _Memo(problem.objective), problem.feasible_set
    rule = _step_rule(opts["step"], opts)
    x = x0
    k = 0
    while True:
        fx, g = f.value_and_grad(x)
        s = D.lmo(g)
        gap = vdot(g, x - s)
        yield Step(x, fx, max(gap, 0.0), jac=g, gap=gap)
        d = s - x
        gamma = rule.step(f, x, d, g, 1.0, k)
        x = x + gamma * d
        k += 1


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
    f, D = _Memo(problem.objective), problem.feasible_set
    rule = _step_rule(opts["step"], opts)
    lazy = bool(opts.get("lazy", False))
    K = check_scalar(opts.get("lazy_tolerance", 2.0), "lazy_tolerance", lower=1.0)
    tol = opts.get("tol") or 0.0
    S = _ActiveSet(x0)
    x, k, phi = x0, 0, None
    while True:
        fx, g = f.value_and_grad(x)
        sc = S.scores(g)
        gx = vdot(g, x)
        ia, il = int(np.argmax(sc)), int(np.argmin(sc))
        away_gap, local_gap, pair_gap = sc[ia] - gx, gx - sc[il], sc[ia] - sc[il]
        kind = None
        if lazy and phi is not None and phi > tol:
            if variant == "away" and max(away_gap, local_gap) >= phi / K:
                kind = "fw-local" if local_gap >= away_gap else "away"
            elif variant == "pairwise" and local_gap >= phi / K:
                kind = "pair-local"
            elif variant == "blended-pairwise" and pair_gap >= phi / K:
                kind = "pair-local"
        gap = w = None
        if kind is None:
            w = D.lmo(g)
            gap = gx - vdot(g, w)
            if lazy:
                phi = gap / 2 if phi is None or gap < phi / K else phi
            if variant == "away":
                kind = "fw" if gap >= away_gap else "away"
            elif variant == "pairwise":
                kind = "pair"
            else:
                kind = "pair-local" if pair_gap >= gap else "fw"
        optimality = max(gap, 0.0) if gap is not None else phi
        extras = {"gap": gap, "active_set_size": len(S)}
        if lazy:
            extras["dual_gap_estimate"] = phi
        yield Step(x, fx, optimality, jac=g, **extras)
        a = S.vertex(ia)
        if kind in ("fw", "fw-local"):
            s = w if kind == "fw" else S.vertex(il)
            d, gmax = s - x, 1.0
        elif kind == "away":
            wa = float(S.w[ia])
            d, gmax = x - a, wa / max(1.0 - wa, 1e-300)
        else:
            s = w if kind == "pair" else S.vertex(il)
            d, gmax = s - a, float(S.w[ia])
        gamma = float(rule.step(f, x, d, g, gmax, k))
        if gamma > 0:
            if kind in ("fw", "fw-local"):
                dropped = S.fw(s, gamma)
            elif kind == "away":
                dropped = S.away(ia, gamma)
            else:
                dropped = S.pairwise(s, ia, gamma)
            x = S.point() if dropped else x + gamma * d
        k += 1


def _cast(g, like):
    """Keep the iterate's namespace and dtype (float32 in, float32 out)."""
    xp = get_namespace(like)
    g = xp.asarray(g) if not hasattr(g, "dtype") else g
    return g if g.dtype == like.dtype else xp.astype(g, like.dtype)


def _stochastic(problem, x0, opts):
    """Stochastic FW for f = (1/n) sum_i f_i with minibatch gradients ``grad_batch(x, idx)``.

    ``schedule="momentum"`` (Mokhtari, Hassani & Karbasi, JMLR 2020, SFW): averaged
    gradient d_t = (1 - rho_t) d_{t-1} + rho_t g_B(x_t), rho_t = 4 / (t + 8)^{2/3},
    x_{t+1} = x_t + gamma_t (LMO(d_t) - x_t), gamma_t = 2 / (t + 8); E f(x_t) - f* =
    O(t^{-1/3}) with a constant batch. ``schedule="growing-batch"`` (Hazan & Luo, ICML 2016):
    batch b_t = batch_size (t + 1)^2 (full gradient once b_t >= n), gamma_t = 2 / (t + 2);
    E f(x_t) - f* = O(1/t). One reported iteration = stochastic steps worth one pass
    (n sample gradients) over the data.
    """
    f, D = problem.objective, problem.feasible_set
    if not (hasattr(f, "grad_batch") and hasattr(f, "n_samples")):
        raise ValueError("variant 'stochastic' needs a finite-sum objective with n_samples and "
                         "grad_batch(x, idx) (e.g. numopt.LinearComposite or numopt.oracles.FiniteSum)")
    schedule = opts["schedule"]
    if schedule not in ("momentum", "growing-batch"):
        raise ValueError(f"`schedule` must be 'momentum' or 'growing-batch', got {schedule!r}")
    b0 = check_scalar(opts["batch_size"], "batch_size", lower=1, integer=True)
    rng = np.random.default_rng(opts["rng"])
    n = int(f.n_samples)
    xp = get_namespace(x0)
    x, dbar, t, used = x0, xp.zeros_like(x0), 0, 0
    yield Step(x, f.value(x), None, n_sample_grads=0)
    while True:
        budget = used + n
        est_gap = float("nan")
        while used < budget:
            if schedule == "momentum":
                rho, gamma = 4.0 / (t + 8) ** (2 / 3), 2.0 / (t + 8)
                dbar = (1 - rho) * dbar + rho * _cast(f.grad_batch(x, rng.integers(0, n, size=b0)), x0)
                used += b0
            else:
                b = b0 * (t + 1) ** 2
                if b >= n:
                    dbar, used = f.grad(x), used + n
                else:
                    dbar, used = _cast(f.grad_batch(x, rng.integers(0, n, size=b)), x0), used + b
                gamma = 2.0 / (t + 2)
            s = D.lmo(dbar)
            est_gap = vdot(dbar, x - s)
            x = x + gamma * (s - x)
            t += 1
        yield Step(x, f.value(x), None, estimated_gap=est_gap, n_sample_grads=used)


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


class _LeastSquaresSum(FiniteSum):
    """f(x) = 1/(2n) ||A x - b||^2 as a finite sum (the stochastic variant's example)."""

    def __init__(self, A, b):
        self.A, self.b, self.n_samples = A, b, A.shape[0]

    def value(self, x):
        xp = get_namespace(x)
        r = self.A @ x - self.b
        return float(xp.sum(r * r)) / (2 * self.n_samples)

    def grad(self, x):
        return self.A.T @ (self.A @ x - self.b) / self.n_samples

    def grad_batch(self, x, idx):
        xp = get_namespace(x)
        i = xp.asarray(np.asarray(idx))
        A_B = xp.take(self.A, i, axis=0)
        return A_B.T @ (A_B @ x - xp.take(self.b, i)) / len(idx)


def _stochastic_example(xp):
    kw = _example(xp)
    rng = np.random.default_rng(0)
    A = xp.asarray(rng.standard_normal((20, 8)))
    b = xp.asarray(rng.standard_normal(20))
    return dict(fun=_LeastSquaresSum(A, b), x0=kw["x0"], lmo=kw["lmo"], options={"rng": 0, "batch_size": 2})


_COMMON = {
    "tol": (1e-6, "Tolerance on the Frank-Wolfe gap <grad f(x), x - s>."),
    "step": ("adaptive", "Step rule: 'open-loop', 'short', 'adaptive', 'exact' or an object."),
    "L": (None, "Lipschitz constant for the short step (and the adaptive rule's first estimate)."),
}
_LAZY_OPTS = {
    "lazy": (False, "Lazify (Braun, Pokutta & Zink 2017): use cached active-set vertices while they promise "
                    "progress >= phi / lazy_tolerance, call the LMO otherwise; the dual-gap estimate phi is "
                    "halved when no good vertex is found. Iterations without an LMO call report phi "
                    "as optimality and no `gap`."),
    "lazy_tolerance": (2.0, "K >= 1 in the lazy acceptance test <g, x - v> >= phi / K."),
}
_REF = ("M. Frank, P. Wolfe, Naval Res. Logist. Q. 3 (1956); M. Jaggi, ICML 2013; "
        "S. Lacoste-Julien, M. Jaggi, NeurIPS 2015 (away/pairwise); F. Pedregosa, G. Negiar, A. Askari, "
        "M. Jaggi, AISTATS 2020 (adaptive step)")
_REF_LAZY = "; G. Braun, S. Pokutta, D. Zink, ICML 2017 (lazy)"
_OPT = "Frank-Wolfe gap <grad f(x_k), x_k - s_k>"
_OPT_LAZY = _OPT + " (lazy: the dual-gap estimate phi at iterations without an LMO call)"
register(MethodSpec(
    name="frank-wolfe", family="frank_wolfe", summary="Frank-Wolfe (conditional gradient)",
    solve=lambda p, x0, o: _fw(p, x0, o, "vanilla"), options=dict(_COMMON), requires=("grad", "lmo"),
    optimality=_OPT, rate=_fw_rate, reference=_REF, x_ndim=(1, 2), example=_example,
    rate_text="Convex, L-smooth, diameter D: f(x_k) - f* <= 2 L D^2 / (k + 2); the FW gap bounds f(x_k) - f*."))
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
    options={"tol": (None, "Not used for stopping (the FW gap is only estimated); run maxiter iterations."),
             "schedule": ("momentum", "'momentum': averaged gradients, rho_t = 4/(t+8)^(2/3), gamma_t = 2/(t+8) "
                                      "(Mokhtari et al. 2020); 'growing-batch': batch batch_size*(t+1)^2, "
                                      "gamma_t = 2/(t+2) (Hazan & Luo 2016)."),
             "batch_size": (1, "Minibatch size (momentum) or initial batch size (growing-batch)."),
             "rng": (None, "Seed or numpy Generator.")},
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
             "blended-pairwise": "blended-pairwise-fw", "stochastic": "stochastic-fw",
             "zeroth-order": "zeroth-order-fw"}
_RANDOM = ("stochastic", "zeroth-order")


def frank_wolfe(fun, x0, lmo, *, jac=None, variant="vanilla", tol=None, maxiter=1000, rng=None, step=None,
                lazy=False, callback=None, **options):
    """Frank-Wolfe over the set given by ``lmo``.

    ``variant``: "vanilla", "away", "pairwise", "blended-pairwise" (BPCG), "stochastic"
    (``fun`` a finite-sum oracle with ``n_samples`` and ``grad_batch``) or "zeroth-order"
    (function values only). ``lazy=True`` lazifies the active-set variants (away,
    pairwise, blended-pairwise). ``rng`` seeds the randomized variants. Further keyword
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
        if variant not in ("away", "pairwise", "blended-pairwise"):
            raise ValueError(f"`lazy=True` needs an active-set variant ('away', 'pairwise', "
                             f"'blended-pairwise'), got variant={variant!r}")
        opts["lazy"] = True
    if variant in _RANDOM:
        opts["rng"] = rng
    return minimize(fun, x0, jac=jac, method=_VARIANTS[variant], lmo=lmo, tol=tol, callback=callback,
                    options=opts)
