"""Consensus-based optimization (CBO): derivative-free global minimization with
interacting particles.

N particles ``X`` (an (N, d) array of the start point's namespace) are drawn around
``x0`` (or uniformly in ``bounds``) and move by the Euler-Maruyama discretization of

    dX_i = -lam (X_i - v) dt - gradient_weight grad f(X_i) dt + sigma D(X_i - v) dB_i,

with the consensus point, a Gibbs-weighted mean computed in log-sum-exp form,

    v = sum_i w_i X_i,   w_i = exp(-alpha f(X_i) - logsumexp_j(-alpha f(X_j))),

which is stable for any ``alpha`` (Laplace principle: v -> argmin_i f(X_i) as alpha -> inf).
Noise ``D(u)``: ``"anisotropic"`` diag(u) (coordinate-wise; Carrillo, Jin, Li & Zhu 2021,
convergence condition 2 lam > sigma^2 independent of d) or ``"isotropic"`` ||u|| I
(Pinnau, Totzeck, Tse & Martin 2017; Carrillo, Choi, Totzeck & Tse 2018: 2 lam > d sigma^2).
``gradient_weight > 0`` adds the gradient drift of Riedl, Klock, Geldhauser & Fornasier
("Gradient is all you need?", 2023), which needs ``jac``.

Rate: in the mean-field limit the particle variance V_t = E||X_t - x*||^2 decays like
exp(-(2 lam - sigma^2) t) (anisotropic; ``-(2 lam - d sigma^2) t`` isotropic) and the
consensus point reaches an eps-neighbourhood of the global minimizer for alpha large enough
(Fornasier, Klock & Riedl, JMLR 2024, Thm 12) - a guarantee for the PDE, not for finitely
many particles, so results are probabilistic: check success over several seeds.

A regularizer g (``prox=`` or ``Problem.regularizer``) is used through its values: the
particles minimize ``F = f + g`` (no prox is needed, g may be nonsmooth; the gradient drift
is then refused, as it would follow grad f only).

Each trace row is one time step; ``x`` is the consensus point (``x0`` for row 0), the
optimality measure is the spread ``sqrt(mean_i ||X_i - v||^2)`` of the particles around it;
``result.x_best`` / ``result.fun_best`` hold the best particle ever evaluated.

``success`` (status 0) means consensus: the measured spread is <= ``tol`` (finite), i.e. the
particles have collapsed onto the consensus point. It is not a certificate of global, or
even local, optimality (the particles may agree on a non-minimizer when ``sigma`` is small
or the start is poor); the message says so. Status 1 (maxiter) is the usual outcome in the
exploring regime (default ``sigma``), where the spread stays heavy-tailed.
"""
from __future__ import annotations

import math

import numpy as np

from .._backend import asarray_float, get_namespace
from .._loop import Step
from .._options import Choices, Interval, Option, generator
from .._registry import MethodSpec, register
from ..oracles import SmoothFunction
from .dca import Rng

# Exported as numopt.<name> (lazily; numopt/__init__.py reads this tuple without importing the module).
__numopt_public__ = ('cbo',)
__all__ = ["cbo"]

_NOISES = ("anisotropic", "isotropic")


def _parse_bounds(bounds, d):
    """scipy Bounds, a (d, 2) sequence of (lower, upper) pairs -> (lower, upper) numpy arrays."""
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):
        lo, hi = np.asarray(bounds.lb, dtype=float), np.asarray(bounds.ub, dtype=float)
    else:
        try:
            b = np.asarray(bounds, dtype=float)
        except (TypeError, ValueError) as e:
            raise TypeError("`bounds` must be scipy.optimize.Bounds or a sequence of (lower, upper) "
                            "pairs") from e
        if b.ndim != 2 or b.shape[1] != 2:
            raise ValueError(f"`bounds` must be a sequence of (lower, upper) pairs (shape (d, 2)), "
                             f"got shape {b.shape}")
        lo, hi = b[:, 0], b[:, 1]
    lo, hi = np.broadcast_to(lo, (d,)).copy(), np.broadcast_to(hi, (d,)).copy()
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError("`bounds` must be finite (they define where the particles start)")
    if np.any(lo >= hi):
        raise ValueError("`bounds`: every lower bound must be < its upper bound")
    return lo, hi


def _values(f, X, xp):
    """f at every row of X: one batched call when the objective offers ``value_many``."""
    many = getattr(f, "value_many", None)
    if many is not None:
        counter = getattr(f, "counter", None)
        if counter is not None:
            counter.nfev += X.shape[0]
        out = xp.asarray(many(X))
        return xp.astype(out, xp.float64) if out.dtype != xp.float64 else out
    return xp.asarray([f.value(X[i, :]) for i in range(X.shape[0])], dtype=xp.float64)


def _grads(f, X, xp):
    many = getattr(f, "grad_many", None)
    if many is not None:
        counter = getattr(f, "counter", None)
        if counter is not None:
            counter.njev += X.shape[0]
        G = xp.asarray(many(X))
    else:
        G = xp.stack([f.grad(X[i, :]) for i in range(X.shape[0])], axis=0)
    return G if G.dtype == X.dtype else xp.astype(G, X.dtype)


def consensus_point(X, fvals, alpha):
    """Gibbs-weighted mean ``sum_i w_i X_i``, ``w = softmax(-alpha f)``, in log-sum-exp form."""
    xp = get_namespace(X)
    z = -alpha * fvals
    z = z - xp.max(z)  # log-sum-exp shift: the largest weight is exp(0) = 1
    w = xp.exp(z)
    w = w / xp.sum(w)
    return xp.astype(w, X.dtype) @ X


class _PlusRegularizer:
    """F = f + g from values only (CBO is derivative-free, so a nonsmooth g is used as is)."""

    def __init__(self, f, g):
        self.f, self.g = f, g

    def value(self, x):
        return float(self.f.value(x)) + float(self.g.value(x))

    def value_many(self, X):
        xp = get_namespace(X)
        return _values(self.f, X, xp) + xp.asarray([float(self.g.value(X[i, :])) for i in range(X.shape[0])],
                                                   dtype=xp.float64)


def _solve(problem, x0, opts):
    from .first_order import reject_unused_terms

    reject_unused_terms(problem, "cbo", regularizer=False)  # g is used (values); a set is not
    f = problem.objective
    reg = problem.regularizer
    xp = get_namespace(x0)
    if x0.ndim != 1:
        raise ValueError(f"`x0` must be 1-D for CBO, got shape {tuple(x0.shape)}")
    d = x0.shape[0]
    # the option values are checked by the front door (the Option checks of _OPTIONS)
    N, alpha, lam, sigma, dt = (opts[k] for k in ("n_particles", "alpha", "lam", "sigma", "dt"))
    gw, init_std, noise = opts["gradient_weight"], opts["init_std"], opts["noise"]
    if gw > 0 and not (hasattr(f, "has") and f.has("grad")):
        raise ValueError("`gradient_weight` > 0 needs the gradient: pass `jac`")
    if gw > 0 and reg is not None:
        raise ValueError("`gradient_weight` > 0 follows grad f, which would leave out the regularizer g; "
                         "use gradient_weight=0 with a regularizer")
    fgrad = f
    if reg is not None:
        f = _PlusRegularizer(f, reg)  # the particles see F = f + g
    rng = generator(opts["rng"])  # None: reproducible
    dtype = x0.dtype
    box = None
    if problem.bounds is not None:
        lo, hi = _parse_bounds(problem.bounds, d)
        X = xp.asarray(rng.uniform(lo, hi, size=(N, d)), dtype=dtype)
        box = (xp.asarray(lo, dtype=dtype), xp.asarray(hi, dtype=dtype))
    else:
        X = x0 + xp.asarray(init_std * rng.standard_normal((N, d)), dtype=dtype)
    fv = _values(f, X, xp)
    ib = int(xp.argmin(fv))
    x_best, fun_best = X[ib, :], float(fv[ib])
    v = consensus_point(X, fv, alpha)
    spread = math.sqrt(float(xp.sum((X - v) ** 2)) / N)
    f0 = f.value(x0)
    if f0 < fun_best:
        x_best, fun_best = x0, f0
    yield Step(x0, f0, spread, spread=spread, x_best=x_best, fun_best=fun_best)
    sq = math.sqrt(dt)
    while True:  # bounded by the loop's maxiter
        U = X - v
        Z = xp.asarray(rng.standard_normal((N, d)), dtype=dtype)
        if noise == "anisotropic":
            diffusion = U * Z
        else:
            diffusion = xp.sqrt(xp.sum(U * U, axis=1, keepdims=True)) * Z
        X = X - (lam * dt) * U + (sigma * sq) * diffusion
        if gw > 0:
            X = X - (gw * dt) * _grads(fgrad, X, xp)
        if box is not None:
            X = xp.clip(X, box[0], box[1])
        fv = _values(f, X, xp)
        ib = int(xp.argmin(fv))
        if float(fv[ib]) < fun_best:
            x_best, fun_best = X[ib, :], float(fv[ib])
        v = consensus_point(X, fv, alpha)
        spread = math.sqrt(float(xp.sum((X - v) ** 2)) / N)
        fvv = f.value(v)
        if fvv < fun_best:
            x_best, fun_best = v, fvv
        yield Step(v, fvv, spread, spread=spread, x_best=x_best, fun_best=fun_best)


def _finalize(res, problem, opts):
    """Status 0 comes only from the spread test: say what it certifies (and what it does not)."""
    if res.status == 0:
        res.message = (f"Consensus reached: particle spread {float(res.optimality):.3g} <= tol = "
                       f"{float(opts['tol']):.3g} (the particles agree on x; a consensus, not a certificate "
                       "of global optimality: compare fun_best over several seeds).")
    return res


class _Vectorized(SmoothFunction):
    """A user function ``fun(X)`` on an (N, d) batch -> (N,) values (``vectorized=True``)."""

    def __init__(self, fun, jac=None):
        self._fun, self._jac = fun, jac

    def value_many(self, X):
        return self._fun(X)

    def value(self, x):
        xp = get_namespace(x)
        return float(self._fun(xp.reshape(x, (1, -1)))[0])

    def grad_many(self, X):
        return self._jac(X)

    def grad(self, x):
        xp = get_namespace(x)
        return xp.reshape(self._jac(xp.reshape(x, (1, -1))), (-1,))

    def has(self, name):
        return name == "grad" and self._jac is not None


def _example(xp):
    def rastrigin(x):
        return float(10 * x.shape[0] + xp.sum(x * x - 10 * xp.cos(2 * math.pi * x)))

    return dict(fun=rastrigin, x0=xp.asarray([1.5, -2.0, 0.7]),
                options={"rng": 0, "n_particles": 20}, f_star=0.0)


_NONNEG = Interval(0)
_POSITIVE = Interval(0, open=("lo",))
_OPTIONS = {
    "tol": Option(1e-8, "Stop when the particle spread sqrt(mean ||X_i - v||^2) is below tol.", _NONNEG),
    "maxiter": Option(1000, "Maximum number of time steps (default 1000; one Euler-Maruyama step of all N "
                            "particles, N + 1 function values, per iteration).", Interval(0, integer=True)),
    "n_particles": Option(200, "Number of particles N.", Interval(2, integer=True)),
    "alpha": Option(1e5, "Inverse temperature of the Gibbs weights exp(-alpha f) (log-sum-exp, any size).",
                    _NONNEG),
    "lam": Option(1.0, "Drift strength towards the consensus point.", _NONNEG),
    "sigma": Option(8.0, "Noise strength. sigma^2 < 2 lam (anisotropic; d sigma^2 < 2 lam isotropic): the spread "
                         "contracts to 0 (tol stops the run); larger sigma explores more (the default, tuned on "
                         "Rastrigin): the consensus point still converges, the spread stays heavy-tailed, run "
                         "maxiter.", _NONNEG),
    "dt": Option(0.01, "Time step of the Euler-Maruyama scheme.", _POSITIVE),
    "noise": Option("anisotropic", "'anisotropic' (diag(X - v) dB) or 'isotropic' (||X - v|| dB).",
                    Choices(*_NOISES)),
    "gradient_weight": Option(0.0, "Weight of the gradient drift -grad f(X) dt (Riedl et al. 2023); needs jac.",
                              _NONNEG),
    "init_std": Option(1.0, "Standard deviation of the initial particles around x0 (when no bounds are given).",
                       _POSITIVE),
    "rng": Option(None, "Seed or numpy Generator (initial particles and Brownian increments; None: seed 0, "
                        "reproducible).", Rng()),
}

register(MethodSpec(
    name="cbo", family="cbo", summary="Consensus-based optimization (derivative-free, global, particles)",
    solve=_solve, options=_OPTIONS, requires=(), accepts_bounds=True, accepts_prox=True, x_ndim=(1,),
    example=_example, finalize=_finalize,
    optimality="particle spread sqrt(mean_i ||X_i - v||^2) around the consensus point v",
    rate_text="Mean-field: E||X_t - v_t||^2 decays like exp(-(2 lam - sigma^2) t) (anisotropic) and v_t "
              "reaches an eps-neighbourhood of the global minimizer for alpha large enough (Fornasier, Klock "
              "& Riedl 2024; Carrillo, Jin, Li & Zhu 2021); probabilistic for finitely many particles.",
    rate=None,
    reference="R. Pinnau, C. Totzeck, O. Tse, S. Martin, M3AS 27 (2017); J.A. Carrillo, S. Jin, L. Li, Y. Zhu, "
              "ESAIM:COCV 27 (2021) (anisotropic noise); M. Fornasier, T. Klock, K. Riedl, JMLR 25 (2024); "
              "K. Riedl, T. Klock, C. Geldhauser, M. Fornasier, Gradient is all you need? (2023)."))


def cbo(fun, x0_or_bounds, *, n_particles=200, alpha=1e5, lam=1.0, sigma=8.0, dt=0.01, noise="anisotropic",
        gradient_weight=0.0, jac=None, maxiter=1000, tol=1e-8, rng=None, init_std=1.0, vectorized=False,
        callback=None, **options):
    """Consensus-based global minimization of ``fun`` (see the module docstring).

    ``x0_or_bounds``: a start point ``x0`` (1-D array; particles ~ x0 + init_std N(0, I)) or
    bounds (``scipy.optimize.Bounds`` or (lower, upper) pairs; particles uniform in the box and
    kept in it). ``vectorized=True``: ``fun`` maps an (N, d) array of particles to N values
    (and ``jac`` an (N, d) array to (N, d) gradients) - one call per time step.
    Returns an OptimizeResult: ``x`` the consensus point, ``x_best``/``fun_best`` the best
    particle seen, ``spread`` the final spread, the trace per time step. ``success`` means
    consensus (spread <= ``tol``), not certified global optimality (see the module docstring).
    """
    from .._minimize import minimize

    if not callable(fun):
        raise TypeError(f"`fun` must be callable, got {type(fun).__name__}")
    if jac is not None and not callable(jac):
        raise TypeError("`jac` must be callable or None")
    bounds = None
    is_bounds = hasattr(x0_or_bounds, "lb") or (
        isinstance(x0_or_bounds, (list, tuple)) and len(x0_or_bounds) > 0
        and all(isinstance(b, (list, tuple)) and len(b) == 2 for b in x0_or_bounds))
    if is_bounds:
        lo, hi = _parse_bounds(x0_or_bounds, len(np.atleast_1d(getattr(x0_or_bounds, "lb", x0_or_bounds))))
        bounds = np.stack([lo, hi], axis=1)
        x0 = 0.5 * (lo + hi)
    else:
        x0 = asarray_float(x0_or_bounds, name="x0_or_bounds")
        if x0.ndim != 1:
            raise ValueError("`x0_or_bounds` must be a 1-D start point or a sequence of (lower, upper) pairs, "
                             f"got an array of shape {tuple(x0.shape)}")
    objective = _Vectorized(fun, jac) if vectorized else fun
    opts = dict(options, n_particles=n_particles, alpha=alpha, lam=lam, sigma=sigma, dt=dt, noise=noise,
                gradient_weight=gradient_weight, init_std=init_std, rng=rng, maxiter=maxiter)
    return minimize(objective, x0, jac=None if vectorized else jac, method="cbo", bounds=bounds, tol=tol,
                    callback=callback, options=opts)

