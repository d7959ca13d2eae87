"""Frank-Wolfe building blocks: step-size rules and active sets.

Step rules (``step=`` of the Frank-Wolfe methods, see :mod:`numopt.solvers.frank_wolfe`):
:class:`OpenLoop`, :class:`ShortStep`, :class:`Adaptive`, :class:`LineSearch`,
:class:`ExactQuadratic`, each with ``search(line, gamma_max, k)`` on a :class:`_Line`
(the objective restricted to the segment ``x + gamma d``) and the point-wise
``step(f, x, d, g, gamma_max, k)`` protocol of user rules. Active sets:
:class:`_ActiveSet` (the iterate as a convex combination of LMO vertices, for away /
pairwise / blended pairwise steps) and :class:`_VertexCache` (lazified vanilla FW).
"""
from __future__ import annotations

import math

import numpy as np

from .._backend import get_namespace, norm, to_numpy, vdot

STEP_RULES = ("open-loop", "short", "adaptive", "exact", "line-search")

_EINSUM = {1: "i,i->", 2: "ij,ij->"}


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
                     "'line-search' or an object")  # (the option's check names it first)


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


class StepRuleCheck:
    """The check of option ``step``: a rule name or an object with
    ``step(f, x, d, g, gamma_max, k)``."""

    def __call__(self, name, value):
        if isinstance(value, str):
            for rule in STEP_RULES:
                if value.lower() == rule:
                    return rule
            raise ValueError(f"option `{name}` must be one of {', '.join(map(repr, STEP_RULES))} or an object "
                             f"with .step(f, x, d, g, gamma_max, k), got {value!r}")
        if not callable(getattr(value, "step", None)):
            raise TypeError(f"option `{name}` must be a step rule name or an object with "
                            f".step(f, x, d, g, gamma_max, k), got {type(value).__name__}")
        return value

    def __str__(self):
        return "one of " + ", ".join(map(repr, STEP_RULES)) + " or an object with .step(f, x, d, g, gamma_max, k)"

    __repr__ = __str__
