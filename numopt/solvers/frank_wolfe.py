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

from .._backend import get_namespace, norm, to_numpy, vdot
from .._loop import STATUS, Step
from .._registry import MethodSpec, register
from ..oracles import FiniteSum, check_scalar

__all__ = ["frank_wolfe", "OpenLoop", "ShortStep", "Adaptive", "ExactQuadratic", "LineSearch"]


_EINSUM = {1: "i,i->", 2: "ij,ij->"}
STATUS_2 = STATUS[2]


def _vd(a, b, xp=None):
    """<a, b> as a float; plain numpy without the array-API wrappers (hot in FW loops):
    BLAS for short vectors, einsum (no temporary, no BLAS threads, which stall on a busy
    machine) for long ones."""
    if xp is np:
        if a.size <= 8192:
            return float(np.vdot(a, b))
        sub = _EINSUM.get(a.ndim)
        return float(np.einsum(sub, a, b)) if sub else float((a * b).sum())
    return vdot(a, b, xp)


def _clip_step(gamma, gamma_max):
    """gamma clipped to [0, gamma_max]; NaN stays NaN (the solver then stops with status 2)
    instead of being read as 0 or gamma_max by Python's min/max."""
    if gamma != gamma:
        return gamma
    return 0.0 if gamma < 0 else (gamma_max if gamma > gamma_max else gamma)


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


class _Line:
    """f restricted to the segment x + gamma d (what a step rule sees).

    ``fx`` = f(x), ``g`` = grad f(x), ``gd`` = <-g, d>, ``dd`` = ||d||^2; ``value(gamma)``,
    ``grad(gamma)`` and ``curvature()`` (<d, H(x) d>) evaluate the objective at the point.
    The composite fast path (:class:`_CompositeLine`) answers the same questions from
    the predictions ``z = A x`` and ``A d`` without touching ``A``.
    """

    def __init__(self, f, x, d, g, fx=None, xp=None, gd=None):
        xp = xp or get_namespace(x)
        self.f, self.x, self.d, self.g, self._fx, self.xp = f, x, d, g, fx, xp
        self.gd = -_vd(g, d, xp) if gd is None else gd
        self.dd = _vd(d, d, xp)
        self._pt = (None, None)

    @property
    def fx(self):
        if self._fx is None:
            self._fx = float(self.f.value(self.x))
        return self._fx

    def point(self, gamma):
        """x + gamma d (the last one is kept: the solver moves to that very array, so the
        value the step rule computed there is found by identity)."""
        if self._pt[0] != gamma:
            self._pt = (gamma, self.x + gamma * self.d)
        return self._pt[1]

    def value(self, gamma):
        return self.f.value(self.point(gamma))

    def grad(self, gamma):
        return self.f.grad(self.point(gamma))

    def slope(self, gamma):
        """phi'(gamma) = <grad f(x + gamma d), d>."""
        return _vd(self.f.grad(self.point(gamma)), self.d, self.xp)

    def curvature(self):
        return _vd(self.d, self.f.hvp(self.x, self.d), self.xp)


class OpenLoop:
    """gamma_k = ell / (k + ell) (ell = 2: the classical 2/(k+2))."""

    def __init__(self, ell=2.0):
        self.ell = ell

    def search(self, line, gamma_max, k):
        return min(gamma_max, self.ell / (k + self.ell))

    def step(self, f, x, d, g, gamma_max, k):
        return self.search(None, gamma_max, k)


class ShortStep:
    """gamma = min(gamma_max, <-g, d> / (L ||d||^2)) with a known smoothness constant L."""

    def __init__(self, L):
        if not L or L <= 0:
            raise ValueError("the short step needs a Lipschitz constant L > 0 (option `L`)")
        self.L = float(L)

    def search(self, line, gamma_max, k):
        return 0.0 if line.dd == 0 else _clip_step(line.gd / (self.L * line.dd), gamma_max)

    def step(self, f, x, d, g, gamma_max, k):
        return self.search(_Line(f, x, d, g), gamma_max, k)


class Adaptive:
    """Backtracking on the local smoothness (Pedregosa, Negiar, Askari & Jaggi, AISTATS
    2020): try L <- eta_down * L, multiply by eta_up until the quadratic upper bound
    f(x + gamma d) <= f(x) - gamma <-g, d> + L gamma^2 ||d||^2 / 2 holds at the short step
    gamma = min(gamma_max, <-g, d> / (L ||d||^2)). The first L comes from a gradient
    difference along d."""

    def __init__(self, L0=None, eta_down=0.9, eta_up=2.0, max_backtrack=60):
        self.L, self.eta_down, self.eta_up, self.max_backtrack = L0, eta_down, eta_up, max_backtrack

    def search(self, line, gamma_max, k):
        gd, dd = line.gd, line.dd
        if not (math.isfinite(gd) and math.isfinite(dd)):
            return float("nan")  # the solver stops with status 2
        if dd == 0 or gd <= 0:
            return 0.0
        fx = line.fx
        if self.L is None:  # first estimate from a gradient difference along d
            h = 1e-6
            est = norm(line.grad(h) - line.g) / (h * math.sqrt(dd))
            self.L = est if est > 1e-12 else 1e-12  # (NaN: start low, backtracking raises it)
        L = self.L * self.eta_down
        for _ in range(self.max_backtrack):
            gamma = _clip_step(gd / (L * dd), gamma_max)
            if line.value(gamma) <= fx - gamma * gd + 0.5 * L * gamma ** 2 * dd + 1e-14 * abs(fx):
                break
            L *= self.eta_up
        self.L = L
        return gamma

    def step(self, f, x, d, g, gamma_max, k):
        return self.search(_Line(f, x, d, g), gamma_max, k)


class LineSearch:
    """Approximately exact line search for any smooth f: a step gamma in [0, gamma_max]
    with |phi'(gamma)| <= c |phi'(0)|, phi(gamma) = f(x + gamma d) (the curvature part of
    the strong Wolfe conditions), or gamma_max when f still decreases there, and with
    phi(gamma) <= phi(0) + 1e-14 |phi(0)| (checked; a step that does not decrease f is
    replaced by the last point known to descend, or halved, at most 10 times). Root
    finding on phi' by secant steps, safeguarded by bisection once the root is bracketed;
    the first trial is the short step with the curvature measured by the previous search.
    Costs directional derivatives and one value (on the composite path: loss derivatives
    and values on z, no product with A); the gradient at the accepted step is the next
    iteration's. ``evals`` counts the directional derivatives over all searches."""

    def __init__(self, c=0.3, max_eval=30):
        if not 0 < c < 1:
            raise ValueError(f"`c` must be in (0, 1), got {c!r}")
        self.c, self.max_eval, self.L = c, int(max_eval), None
        self.evals = 0

    def search(self, line, gamma_max, k):
        gd, dd = line.gd, line.dd
        if not (math.isfinite(gd) and math.isfinite(dd)):
            return float("nan")  # the solver stops with status 2
        if dd == 0 or gd <= 1e-14 * math.sqrt(_vd(line.g, line.g, line.xp) * dd):
            return 0.0  # no descent beyond rounding: slopes along d would be noise
        lo, slo, plo, pslo, hi, shi = 0.0, -gd, 0.0, -gd, None, None
        t = gamma_max if self.L is None else min(gamma_max, gd / (self.L * dd))
        for _ in range(self.max_eval):
            st = line.slope(t)
            self.evals += 1
            if abs(st) <= self.c * gd:
                break
            if st < 0:
                if t >= gamma_max:
                    break  # still descending at the end of the segment
                plo, pslo, lo, slo = lo, slo, t, st
            else:
                hi, shi = t, st
            if hi is None:  # extrapolate (secant through the last two slopes), at most x10
                root = lo - slo * (lo - plo) / (slo - pslo) if slo > pslo else math.inf
                t = min(gamma_max, max(2.0 * lo, min(root, 10.0 * lo)))
            else:  # secant inside the bracket, bisection when it lands near an end
                w = hi - lo
                if w <= 1e-9 * hi:  # slopes at rounding level (converged): stop refining
                    t = lo if lo > 0 else hi
                    break
                t = lo - slo * w / (shi - slo)
                if not lo + 0.05 * w <= t <= hi - 0.05 * w:
                    t = lo + 0.5 * w
        else:  # evaluations exhausted: the last point known to descend
            t = lo
        if t > 0 and st > -gd and t != lo:  # curvature along d seen by this search: the next first trial
            est = (st + gd) / (t * dd)
            self.L = est if est > 1e-300 else 1e-300
        fx = line.fx
        slack = 1e-14 * abs(fx)  # rounding: at convergence f(x + t d) and f(x) agree to ~eps
        for _ in range(10):  # monotone: f(x + t d) <= f(x) (the value is the next iterate's anyway)
            if t == 0 or line.value(t) <= fx + slack:
                return t
            t = lo if 0 < lo < t else 0.5 * t
        return 0.0

    def step(self, f, x, d, g, gamma_max, k):
        return self.search(_Line(f, x, d, g), gamma_max, k)


class ExactQuadratic:
    """Exact line search for quadratics: gamma = <-g, d> / <d, H d> (Hessian-vector products)."""

    def search(self, line, gamma_max, k):
        dHd = line.curvature()
        if dHd <= 0:
            return gamma_max
        return _clip_step(line.gd / dHd, gamma_max)

    def step(self, f, x, d, g, gamma_max, k):
        return self.search(_Line(f, x, d, g), gamma_max, k)


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
    if spec == "line-search":
        return LineSearch()
    raise ValueError(f"unknown step rule {spec!r}; use 'open-loop', 'short', 'adaptive', 'exact', "
                     "'line-search' or an object")


class _Memo:
    """Remembers the last few objective values so that a step rule's evaluation at the
    accepted point (and the solver's own f(x)) is not paid twice: the next iteration then
    only needs the gradient. Points are matched by identity or exact equality."""

    def __init__(self, f, xp, size=3):
        self.f, self.xp, self.size, self.pts = f, xp, size, []

    def _lookup(self, x, equal=True):
        for y, fy in self.pts:
            if y is x:
                return fy
        if equal:  # (user step rules build their own points)
            for y, fy in self.pts:
                if y.shape == x.shape and bool(self.xp.all(y == x)):
                    return fy
        return None

    def _store(self, x, fx):
        self.pts = [(x, fx)] + self.pts[:self.size - 1]

    def value(self, x):
        fx = self._lookup(x, equal=False)  # trial points of a line search are new arrays
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
        if name in ("f", "xp", "size", "pts"):
            raise AttributeError(name)
        return getattr(self.f, name)


class _Plain:
    """Oracle access through the objective's value / gradient at points (any objective)."""

    def __init__(self, f, x0, xp):
        self.f, self.xp = _Memo(f, xp), xp

    def value_and_grad(self, x):
        return self.f.value_and_grad(x)

    def image(self, v):
        return None

    def delta(self, p, q):
        return None

    def line(self, x, d, g, fx, dz=None, gd=None):
        return _Line(self.f, x, d, g, fx, self.xp, gd)

    def search(self, rule, line, gamma_max, k):
        if hasattr(rule, "search"):
            return float(rule.search(line, gamma_max, k))
        return float(rule.step(self.f, line.x, line.d, line.g, gamma_max, k))

    def move(self, line, gamma):
        return line.point(gamma)

    def reset(self, x):
        pass


def _linear_composite(f):
    """The numopt.LinearComposite behind the (counted) objective if its value and gradient
    are exactly loss(A x) and A^T loss'(A x) (a subclass overriding them is not used)."""
    from ..oracles import Counted, LinearComposite

    inner = f.f if isinstance(f, Counted) else f
    if not isinstance(inner, LinearComposite):
        return None
    cls = type(inner)
    if any(getattr(cls, m) is not getattr(LinearComposite, m) for m in ("value", "grad", "value_and_grad")):
        return None
    return inner


class _CompositeLine(_Line):
    """The segment x + gamma d for f = loss(A x), from z = A x and dz = A d: each value is
    one loss evaluation on z + gamma dz (no product with A), a gradient one A^T product."""

    def __init__(self, M, x, d, g, fx, dz, gd=None):
        xp = M.xp
        self.M, self.x, self.d, self.g, self._fx, self.z, self.dz, self.xp = M, x, d, g, fx, M.z, dz, xp
        self.gd = -_vd(g, d, xp) if gd is None else gd
        self.dd = _vd(d, d, xp)
        self.last = self.last_lg = None

    @property
    def fx(self):
        if self._fx is None:
            self._fx = self.M.loss_value(self.z)
        return self._fx

    def value(self, gamma):
        zz = self.z + gamma * self.dz
        v = self.M.loss_value(zz)
        self.last = (gamma, zz, v)
        return v

    def grad(self, gamma):
        return self.M.grad_at(self.z + gamma * self.dz)

    def slope(self, gamma):
        """<loss'(z + gamma dz), dz>: no product with A; the loss derivative is kept so
        that the gradient at an accepted step costs only the product with A^T."""
        zz = self.z + gamma * self.dz
        lg = self.M.loss.grad(zz)
        self.last_lg = (gamma, zz, lg)
        return _vd(lg, self.dz, self.M.xp)

    def curvature(self):
        M = self.M
        M.counter.nhev += 1
        return float(M.xp.sum(M.loss.hess_diag(self.z) * self.dz * self.dz))


class _Composite:
    """Fast path for f(x) = loss(A x) (numopt.LinearComposite, 1-D x): keeps the
    predictions z = A x. A line search then costs loss values on z + gamma A d only, the
    gradient one product with A^T, and the image A s of a sparse LMO vertex (a vertex of
    the l1 ball or the simplex is one column of A) is gathered from its nonzero columns.
    z is recomputed as A x every ``refresh`` moves (against rounding drift). Oracle
    counts: a loss value is one ``nfev``, a gradient one ``njev``."""

    def __init__(self, lc, counter, x0, xp, refresh=200):
        import scipy.sparse as sp

        from .._backend import is_numpy

        self.A, self.loss, self.counter, self.xp, self.refresh = lc.A, lc.loss, counter, xp, refresh
        self.like = x0
        self.sparse = sp.issparse(self.A)
        self.numpy = is_numpy(xp) and (self.sparse or isinstance(self.A, np.ndarray))
        if self.sparse:  # CSC: cheap columns, and A^T @ r runs as a CSR product
            Ac = self.A.tocsc()
            Ac.sort_indices()
            self.Acsc, self.AT = Ac, Ac.T
        else:
            self.Acsc, self.AT = None, self.A.T
        self.moves, self.fz, self.lgz = 0, None, None
        self.cols, self.max_cols = {}, max(1, (64 << 20) // (8 * self.A.shape[0]))
        self.z = self.A @ x0

    def loss_value(self, z):
        self.counter.nfev += 1
        return float(self.loss.value(z))

    def grad_at(self, z):
        self.counter.njev += 1
        return _cast(self.AT @ self.loss.grad(z), self.like)

    def value_and_grad(self, x):
        fx = self.fz if self.fz is not None else self.loss_value(self.z)
        self.fz = fx
        if self.lgz is not None:  # loss'(z) from the line search at the accepted step
            self.counter.njev += 1
            g = _cast(self.AT @ self.lgz, self.like)
            self.lgz = None
            return fx, g
        return fx, self.grad_at(self.z)

    def _column(self, j):
        """Column j of a sparse A as a dense vector (kept: FW revisits the same vertices;
        at most ~64 MB of columns, the least recently used dropped first)."""
        col = self.cols.pop(j, None)
        if col is None:
            A = self.Acsc
            col = np.zeros(A.shape[0], dtype=A.dtype)
            a, b = A.indptr[j], A.indptr[j + 1]
            col[A.indices[a:b]] = A.data[a:b]
            if len(self.cols) >= self.max_cols:
                self.cols.pop(next(iter(self.cols)))
        self.cols[j] = col
        return col

    def image(self, v):
        """A v, from the nonzero columns when v is sparse (numpy; l1-ball and simplex
        vertices have one)."""
        if self.numpy:
            idx = np.flatnonzero(v)
            if idx.size == 1:
                j = int(idx[0])
                return (self._column(j) if self.sparse else self.A[:, j]) * v[j]
            if idx.size * 8 <= v.shape[0]:
                if self.sparse:
                    A = self.Acsc
                    out = np.zeros(A.shape[0], dtype=np.result_type(A.dtype, v.dtype))
                    for j in idx:
                        a, b = A.indptr[j], A.indptr[j + 1]
                        out[A.indices[a:b]] += A.data[a:b] * v[j]
                    return out
                return self.A[:, idx] @ v[idx]
        return self.A @ v

    def delta(self, p, q):
        """A (p - q) for vertices p, q; None stands for the iterate x (image z)."""
        return (self.z if p is None else self.image(p)) - (self.z if q is None else self.image(q))

    def line(self, x, d, g, fx, dz, gd=None):
        return _CompositeLine(self, x, d, g, fx, dz, gd)

    def search(self, rule, line, gamma_max, k):
        if hasattr(rule, "search"):
            return float(rule.search(line, gamma_max, k))
        # a user rule speaks the point-wise protocol: give it the counted objective
        return float(rule.step(_PointOracle(self), line.x, line.d, line.g, gamma_max, k))

    def move(self, line, gamma):
        x = line.x + gamma * line.d
        self.moves += 1
        if self.moves % self.refresh == 0:
            self.reset(x)
            return x
        self.fz = self.lgz = None
        if line.last is not None and line.last[0] == gamma:
            self.z, self.fz = line.last[1], line.last[2]
        if line.last_lg is not None and line.last_lg[0] == gamma:
            self.z, self.lgz = line.last_lg[1], line.last_lg[2]
        if self.fz is None and self.lgz is None:
            self.z = line.z + gamma * line.dz
        return x

    def reset(self, x):
        self.z, self.fz, self.lgz = self.A @ x, None, None


class _PointOracle:
    """value / grad / hvp at points for user step rules on the composite path."""

    def __init__(self, M):
        self.M = M

    def value(self, x):
        return self.M.loss_value(self.M.A @ x)

    def grad(self, x):
        return self.M.grad_at(self.M.A @ x)

    def value_and_grad(self, x):
        z = self.M.A @ x
        return self.M.loss_value(z), self.M.grad_at(z)

    def hvp(self, x, v):
        M = self.M
        M.counter.nhev += 1
        return _cast(M.AT @ (M.loss.hess_diag(M.A @ x) * (M.A @ v)), M.like)


def _model(problem, x0, opts):
    """The composite fast path when the objective allows it (and ``composite`` is on)."""
    xp = np if isinstance(x0, np.ndarray) else get_namespace(x0)  # plain numpy: less per-call overhead
    f = problem.objective
    if opts.get("composite", True) and x0.ndim == 1:
        lc = _linear_composite(f)
        if lc is not None and getattr(lc.A, "ndim", 2) == 2 and lc.A.shape[1] == x0.shape[0] \
                and hasattr(lc.loss, "value") and hasattr(lc.loss, "grad"):
            return _Composite(lc, f.counter, x0, xp, int(opts.get("refresh", 200)))
    return _Plain(f, x0, xp)


class _VertexCache:
    """LMO vertices seen so far (rows of one array; at most ``size``, least recently used
    dropped first) for lazified vanilla FW: the best cached vertex for a gradient is one
    matrix-vector product."""

    def __init__(self, xp, shape, size):
        self.xp, self.shape, self.size = xp, shape, size
        self.V, self.keys, self.used, self.clock = None, [], [], 0

    def __len__(self):
        return len(self.keys)

    def best(self, g):
        """(index, <g, v>) of the cached vertex minimizing <g, v>, or (None, inf)."""
        if self.V is None:
            return None, math.inf
        sc = np.asarray(to_numpy(self.V @ self.xp.reshape(g, (-1,))), dtype=np.float64)
        i = int(np.argmin(sc))
        self.clock += 1
        self.used[i] = self.clock
        return i, float(sc[i])

    def vertex(self, i):
        return self.xp.reshape(self.V[i, :], self.shape)

    def add(self, v):
        key = to_numpy(v).tobytes()
        if key in self.keys:
            return
        self.clock += 1
        row = self.xp.reshape(v, (1, -1))
        if self.V is None:
            self.V = row
        elif len(self.keys) < self.size:
            self.V = self.xp.concat([self.V, row], axis=0)
        else:  # replace the least recently used vertex
            j = int(np.argmin(self.used))
            keep = self.xp.asarray([i for i in range(len(self.keys)) if i != j])
            self.V = self.xp.concat([self.xp.take(self.V, keep, axis=0), row], axis=0)
            del self.keys[j], self.used[j]
        self.keys.append(key)
        self.used.append(self.clock)


class _ActiveSet:
    """x = sum_i w_i v_i over LMO vertices (deduplicated by their bytes). The vertices are
    the rows of one (m, n) array of the iterate's namespace, so all the inner products
    ``<g, v_i>`` needed to pick away / local Frank-Wolfe vertices are one matrix-vector
    product; the weights live on the host (float64)."""

    def __init__(self, x0):
        self.xp = np if isinstance(x0, np.ndarray) else get_namespace(x0)  # plain numpy: less overhead
        self.shape = tuple(x0.shape)
        self.V = self.xp.reshape(x0, (1, -1))
        self.w = np.ones(1)
        self.keys = [self._key(x0)]
        self.index = {self.keys[0]: 0}

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
        i = self.index.get(key)
        if i is not None:
            self.w[i] += gamma
        else:
            self.V = self.xp.concat([self.V, self.xp.reshape(s, (1, -1))], axis=0)
            self.w = np.append(self.w, gamma)
            self.index[key] = len(self.keys)
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
            self.index = {key: i for i, key in enumerate(self.keys)}
        self.w /= self.w.sum()
        return dropped

    def point(self):
        xp = self.xp
        w = xp.asarray(self.w, dtype=self.V.dtype)
        return xp.reshape(w @ self.V, self.shape)


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
    K = check_scalar(opts.get("lazy_tolerance", 2.0), "lazy_tolerance", lower=1.0)
    tol = opts.get("tol") or 0.0
    cache = _VertexCache(xp, tuple(x0.shape), check_scalar(opts.get("cache_size", 100), "cache_size",
                                                           lower=1, integer=True)) if lazy else None
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
    K = check_scalar(opts.get("lazy_tolerance", 2.0), "lazy_tolerance", lower=1.0)
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
            gw = _vd(g, w, xp)
            gap = gx - gw
            if lazy:
                phi = gap / 2 if phi is None or gap < phi / K else phi
            if variant == "away":
                kind = "fw" if gap >= away_gap else "away"
            elif variant == "pairwise":
                kind = "pair"
            else:
                kind = "pair-local" if pair_gap >= gap else "fw"
        optimality = phi
        if gap is not None:
            optimality, stop = _gap_measure(gap, gx, gw, k)
            if stop is not None:
                return stop
        extras = {"gap": gap, "active_set_size": len(S)}
        if lazy:
            extras["dual_gap_estimate"] = phi
        yield Step(x, fx, optimality, jac=g, **extras)
        a = S.vertex(ia)
        if kind in ("fw", "fw-local"):
            s = w if kind == "fw" else S.vertex(il)
            d, gmax, dz = s - x, 1.0, M.delta(s, None)
        elif kind == "away":
            wa = float(S.w[ia])
            d, gmax, dz = x - a, wa / max(1.0 - wa, 1e-300), M.delta(None, a)
        else:
            s = w if kind == "pair" else S.vertex(il)
            d, gmax, dz = s - a, float(S.w[ia]), M.delta(s, a)
        line = M.line(x, d, g, fx, dz)
        gamma = M.search(rule, line, gmax, k)
        if not 0 <= gamma <= gmax:
            return 2, f"the step rule returned gamma = {gamma} (expected a number in [0, {gmax}])"
        if gamma > 0:
            if kind in ("fw", "fw-local"):
                dropped = S.fw(s, gamma)
            elif kind == "away":
                dropped = S.away(ia, gamma)
            else:
                dropped = S.pairwise(s, ia, gamma)
            if dropped:
                x = S.point()
                M.reset(x)
            else:
                x = M.move(line, gamma)
        k += 1


def _cast(g, like):
    """Keep the iterate's namespace and dtype (float32 in, float32 out)."""
    if isinstance(g, np.ndarray) and isinstance(like, np.ndarray) and g.dtype == like.dtype:
        return g
    xp = get_namespace(like)
    g = xp.asarray(g) if not hasattr(g, "dtype") else g
    return g if g.dtype == like.dtype else xp.astype(g, like.dtype)


def _value_at_x0(f, x0):
    """f(x0), an evaluation error (e.g. x0 of the wrong length for the objective's data) named
    as such."""
    try:
        return f.value(x0)
    except (ValueError, TypeError) as e:
        if "x0" in str(e):
            raise
        raise type(e)(f"evaluating the objective at `x0` (shape {tuple(x0.shape)}) failed: {e}") from e


def _finite(a, xp):
    return bool(xp.all(xp.isfinite(a)))


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
    from .first_order import reject_unused_terms

    reject_unused_terms(problem, "stochastic-fw", feasible_set=False)
    schedule = opts["schedule"]
    if schedule not in ("momentum", "growing-batch"):
        raise ValueError(f"`schedule` must be 'momentum' or 'growing-batch', got {schedule!r}")
    b0 = check_scalar(opts["batch_size"], "batch_size", lower=1, integer=True)
    rng = np.random.default_rng(0 if opts["rng"] is None else opts["rng"])  # None: reproducible
    n = int(f.n_samples)
    xp = get_namespace(x0)
    x, dbar, t, used = x0, xp.zeros_like(x0), 0, 0
    yield Step(x, _value_at_x0(f, x), None, n_sample_grads=0)
    while True:  # bounded by the loop's maxiter
        budget = used + n
        est_gap = float("nan")
        while used < budget:  # bounded: `used` grows by >= batch_size >= 1
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
            if not _finite(dbar, xp):
                return 2, (f"{STATUS_2} (the stochastic gradient estimate is not finite at step {t}: the "
                           "objective's gradient returned NaN/inf)")
            s = D.lmo(dbar)
            est_gap = vdot(dbar, x - s)
            x = x + gamma * (s - x)
            t += 1
        yield Step(x, f.value(x), None, estimated_gap=est_gap, n_sample_grads=used)


def _zeroth_order(problem, x0, opts):
    """Sahu, Zaheer & Kar (2019), Alg. 2 with the I-RDSA estimator (m Gaussian directions)."""
    from .first_order import reject_unused_terms

    reject_unused_terms(problem, "zeroth-order-fw", feasible_set=False)
    f, D = problem.objective, problem.feasible_set
    xp = get_namespace(x0)
    rng = np.random.default_rng(0 if opts["rng"] is None else opts["rng"])  # None: reproducible
    d_dim = int(np.prod(x0.shape))
    m = check_scalar(opts["directions"], "directions", lower=1, integer=True)
    x = x0
    g_avg = xp.zeros_like(x0)
    t = 0
    while True:  # bounded by the loop's maxiter
        fx = _value_at_x0(f, x) if t == 0 else f.value(x)
        c_t = 2.0 / (d_dim ** 1.5 * (t + 8) ** (1 / 3))
        rho_t = 4.0 / (d_dim ** (1 / 3) * (t + 8) ** (2 / 3))
        gamma_t = 2.0 / (t + 8)
        est = xp.zeros_like(x0)
        for _ in range(m):
            z = xp.asarray(rng.standard_normal(x0.shape), dtype=x0.dtype)
            est = est + ((f.value(x + c_t * z) - fx) / c_t) * z
        est = est / m
        g_avg = (1 - rho_t) * g_avg + rho_t * est
        if not (math.isfinite(fx) and _finite(g_avg, xp)):
            msg = (f"the zeroth-order gradient estimate is not finite at step {t}: the objective returned "
                   f"NaN/inf (f(x) = {fx})")
            if t == 0:
                raise ValueError(msg + " at or next to `x0`")
            return 2, f"{STATUS_2} ({msg})"
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
    "step": ("adaptive", "Step rule: 'open-loop', 'short', 'adaptive', 'exact' (quadratics), 'line-search' "
                         "(approximately exact, any smooth f) or an object."),
    "L": (None, "Lipschitz constant for the short step (and the adaptive rule's first estimate)."),
    "composite": (True, "For a numopt.LinearComposite objective f(x) = loss(A x) (1-D x): keep z = A x, so a "
                        "line-search value costs one loss evaluation on z + gamma A d (no product with A), a "
                        "gradient one product with A^T, and A s of a sparse vertex only its nonzero columns. "
                        "False: evaluate f and grad f at points like any objective (same iterates)."),
    "refresh": (200, "Composite path: recompute z = A x from x every `refresh` steps (rounding drift)."),
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
_VANILLA_LAZY = {
    "lazy": (False, "Lazify (Braun, Pokutta & Zink 2017): keep the LMO vertices seen so far and step towards "
                    "the best cached one while it promises progress >= phi / lazy_tolerance; call the LMO "
                    "otherwise and halve the dual-gap estimate phi (phi <- gap / 2) when even the LMO's "
                    "vertex falls short. Iterations without an LMO call report phi as optimality and no `gap`."),
    "lazy_tolerance": (2.0, "K >= 1 in the lazy acceptance test <g, x - v> >= phi / K."),
    "cache_size": (100, "Lazy: at most this many cached vertices (least recently used dropped first)."),
}
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
    options={"tol": (None, "Not used for stopping (the FW gap is only estimated); run maxiter iterations."),
             "schedule": ("momentum", "'momentum': averaged gradients, rho_t = 4/(t+8)^(2/3), gamma_t = 2/(t+8) "
                                      "(Mokhtari et al. 2020); 'growing-batch': batch batch_size*(t+1)^2, "
                                      "gamma_t = 2/(t+2) (Hazan & Luo 2016)."),
             "batch_size": (1, "Minibatch size (momentum) or initial batch size (growing-batch)."),
             "rng": (None, "Seed or numpy Generator (None: seed 0, reproducible).")},
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
             "rng": (None, "Seed or numpy Generator (None: seed 0, reproducible).")},
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
