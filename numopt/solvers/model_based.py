"""Stochastic model-based minimization of weakly convex composite finite sums.

Problem: ``min_x F(x) = (1/m) sum_i |c_i(x)| + r(x)`` with smooth ``c_i`` and a closed
convex ``r`` (``None`` or a numopt.prox object with ``value`` and ``prox(x, step)``).
At step t a sample ``i`` is drawn uniformly and the next iterate minimizes a *model*
of ``|c_i(.)|`` around ``x_t`` plus ``r`` plus ``(1/(2 alpha_t)) ||. - x_t||^2``
(Davis & Drusvyatskiy, "Stochastic model-based minimization of weakly convex
functions", SIAM J. Optim. 29(1), 2019). The three models are three registered methods
of one engine:

* ``"subgradient"`` (stochastic proximal subgradient):
  ``x+ = prox_{alpha r}(x - alpha sign(c_i(x)) grad c_i(x))``.
* ``"prox-linear"`` (stochastic prox-linear): the model ``|c + g^T (y - x)|``
  with ``c = c_i(x)``, ``g = grad c_i(x)``. Without ``r`` the minimizer is the
  *clipped* step ``x+ = x - alpha lam g`` with ``lam = clip(c / (alpha ||g||^2), -1, 1)``
  (a Gauss-Newton/Polyak step when the clip is inactive, a subgradient step otherwise);
  with ``r`` the multiplier ``lam`` in [-1, 1] is found as the root of the monotone
  residual ``c + g^T(prox_{alpha r}(x - alpha lam g) - x)`` (Illinois regula falsi).
* ``"prox-point"`` (stochastic proximal point): the model is ``|c_i(.)|`` itself;
  the problem class supplies the closed form (``problems.model_based.PhaseRetrieval``: a
  1-D problem in ``u = a^T y`` solved exactly over its kinks and stationary points; affine
  ``c_i``: identical to prox-linear).

Kind. These methods form the problem kind ``"composite_model"`` with the front door
:func:`model_based` (``numopt.model_based(problem, x0, model=...)``); they do not run
through ``numopt.minimize``, whose problems are ``fun``/``jac``/``prox``: a model-based
step needs per-sample access to the composite structure ``|c_i(x)|`` (residual and
gradient of one sample, and the closed-form prox-point step), which is what a
:class:`CompositeAbsLoss` provides. The front door builds the run, checks the options
once (``numopt.show_options("prox-linear")``) and runs the engine through the shared
loop (``numopt._registry.run_method``); the certification of the returned point is the
registry's ``finalize`` step.

The base protocol :class:`CompositeAbsLoss` lives here; the concrete instances
(``PhaseRetrieval``, ``RobustRegression``) live in the problem library,
``problems/model_based.py``. ``numopt.PhaseRetrieval`` / ``numopt.RobustRegression`` (and
this module's attributes of those names) still work: they import ``problems.model_based``
on first use (the ``problems`` package is installed with numopt), never at import time.

Step schedule: ``schedule="constant"``: ``alpha_t = step / sqrt(T + 1)`` for the horizon
``T = maxiter * m`` stochastic steps; ``"decaying"``: ``alpha_t = step / sqrt(t + 1)``.
The paper's guarantee (``O(1/sqrt(T))`` on the squared Moreau-envelope gradient, i.e.
``O(eps^-4)`` steps, for all three models; see ``rate_text``) is for ``x_{t*}``, ``t*``
drawn with probability proportional to ``alpha_t`` (``output="sampled"``, weighted
reservoir sampling); ``output="last"`` (default) returns ``x_T``. Stationarity measure
(``optimality``): ``||grad F_{1/rho_bar}(x)|| = rho_bar ||x - prox_{F/rho_bar}(x)||`` by
:func:`moreau_gradient_norm`, every ``measure_every`` epochs (0: never, the default) and
at the returned point (``certify``). Details and measurements: docs/model_based.md.

One trace row = one epoch of ``m`` stochastic steps; ``fun`` is the full objective.
Oracle counts: ``njev`` = per-sample (c_i, grad c_i) evaluations, ``nprox`` =
per-sample model subproblems solved (and prox of r), ``nfev`` = full objective passes.

The option checks and the oracle counter shared by the special-structure kinds
(:class:`~numopt.solvers.dca.Rng`, ``FiniteInterval``, ``Counts``, ...) live in
:mod:`numopt.solvers.dca`.
"""
from __future__ import annotations

import math

import numpy as np

from .._loop import Step
from .._options import Choices, FiniteInterval, Flag, Interval, NoneOr, Option, generator
from .._registry import MethodSpec, merge_options, register, resolve_options, run_method
from ..oracles import check_scalar
from .dca import numpy_only, pick_method
from .._oracle_base import Counts
from .._options import Seed as Rng

# Exported as numopt.<name> (lazily; numopt/__init__.py reads this tuple without importing the module).
__numopt_public__ = ('model_based', 'PhaseRetrieval', 'RobustRegression', 'CompositeAbsLoss', 'moreau_gradient_norm')
__all__ = ["CompositeAbsLoss", "model_based", "moreau_gradient_norm", "MODELS"]

MODELS = ("prox-linear", "prox-point", "subgradient")


# ------------------------------------------------------------------ problem protocol

class CompositeAbsLoss:
    """``f(x) = (1/m) sum_i |c_i(x)|`` from user callables.

    ``residuals(x) -> (m,)`` array of ``c_i(x)``; ``jacobian(x) -> (m, n)`` array of the
    gradients; optional ``sample(x, i) -> (c_i(x), grad c_i(x))`` (default: slices the
    full ones, slow); ``weak_convexity`` rho of f (>= 0) and ``model_error`` tau with
    ``|f(y) - f_x(y)| <= tau/2 ||y - x||^2`` for the averaged linear model (0 for affine
    ``c_i``). Subclasses may provide ``prox_point(x, i, alpha)``. Concrete instances:
    ``problems.model_based.PhaseRetrieval`` and ``RobustRegression``.
    """

    affine = False

    def __init__(self, residuals, jacobian, n_samples, n_features, *, sample=None, weak_convexity=0.0,
                 model_error=None, affine=False):
        for name, fn in (("residuals", residuals), ("jacobian", jacobian)):
            if not callable(fn):
                raise TypeError(f"`{name}` must be callable")
        if sample is not None and not callable(sample):
            raise TypeError("`sample` must be callable (x, i) -> (c_i(x), grad c_i(x)) or None")
        check_scalar(n_samples, "n_samples", lower=1, integer=True)
        check_scalar(n_features, "n_features", lower=1, integer=True)
        check_scalar(weak_convexity, "weak_convexity", lower=0)
        check_scalar(model_error, "model_error", lower=0, allow_none=True)
        self._res, self._jac, self._sample = residuals, jacobian, sample
        self.n_samples, self.n_features = int(n_samples), int(n_features)
        self.weak_convexity = float(weak_convexity)
        self.model_error = float(weak_convexity if model_error is None else model_error)
        self.affine = bool(affine)

    def residuals(self, x):
        return np.asarray(self._res(x), dtype=float)

    def jacobian(self, x):
        return np.asarray(self._jac(x), dtype=float)

    def sample(self, x, i):
        if self._sample is not None:
            c, g = self._sample(x, i)
            return float(c), np.asarray(g, dtype=float)
        return float(self.residuals(x)[i]), self.jacobian(x)[i]

    def value(self, x):
        return float(np.mean(np.abs(self.residuals(x))))

    def prox_point(self, x, i, alpha):
        """argmin_y |c_i(y)| + ||y - x||^2 / (2 alpha)."""
        if self.affine:
            c, g = self.sample(x, i)
            return _prox_linear_step(x, c, g, alpha, None)
        raise NotImplementedError(f"{type(self).__name__} has no closed-form stochastic proximal point step")


def __getattr__(name):
    # The concrete instances moved to the problem library; imported on first use only.
    if name in ("PhaseRetrieval", "RobustRegression"):
        from problems import model_based as instances

        return getattr(instances, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ----------------------------------------------------------------------------- steps

def _prox_linear_step(x, c, g, alpha, reg):
    """argmin_y |c + g^T (y - x)| + r(y) + ||y - x||^2 / (2 alpha)."""
    gg = float(g @ g)
    if not (math.isfinite(c) and math.isfinite(gg)):
        # a NaN residual or gradient must reach the loop (status 2), not be clipped to a
        # finite step by max(-1, nan) = -1
        return np.full_like(x, np.nan)
    if reg is None:
        if gg == 0.0:
            return x
        lam = min(1.0, max(-1.0, c / (alpha * gg)))
        return x - (alpha * lam) * g

    def y_of(lam):
        return np.asarray(reg.prox(x - (alpha * lam) * g, alpha), dtype=float)

    def resid(lam):  # derivative of the concave dual in lam: nonincreasing
        return c + float(g @ (y_of(lam) - x))

    if resid(1.0) >= 0:
        return y_of(1.0)
    if resid(-1.0) <= 0:
        return y_of(-1.0)
    # Illinois (bracketed regula falsi) on the monotone, piecewise-smooth residual
    lo, hi, flo, fhi = -1.0, 1.0, resid(-1.0), resid(1.0)
    side = 0
    scale = 1e-14 * (1.0 + abs(c))
    mid = 0.0
    for _ in range(100):
        mid = hi - fhi * (hi - lo) / (fhi - flo)
        if not lo < mid < hi:
            mid = 0.5 * (lo + hi)
        fm = resid(mid)
        if abs(fm) <= scale or hi - lo <= 1e-15:
            break
        if fm > 0:
            lo, flo = mid, fm
            if side == -1:
                fhi *= 0.5
            side = -1
        else:
            hi, fhi = mid, fm
            if side == 1:
                flo *= 0.5
            side = 1
    return y_of(mid)


def _subgradient_step(x, c, g, alpha, reg):
    y = x - (alpha * float(np.sign(c))) * g
    return y if reg is None else np.asarray(reg.prox(y, alpha), dtype=float)


# ----------------------------------------------------------- Moreau-envelope measure

def _box_qp(q, U, tol, maxiter=200):
    """min_lam -q^T lam + (1/2)||U^T lam||^2 over [-1, 1]^m by a primal-dual interior-point
    method (slacks ``1 -+ lam`` with multipliers ``z1, z2``; centering parameter from an
    affine-scaling predictor, Mehrotra's heuristic; the diagonal + rank-n Newton matrix is
    inverted by the Woodbury identity, O(m n^2) per iteration)."""
    m, n = U.shape
    lam = np.zeros(m)
    z1 = np.ones(m)
    z2 = np.ones(m)
    s1 = np.ones(m)  # 1 - lam, kept as its own variable: 1 - lam loses digits near lam = 1
    s2 = np.ones(m)  # 1 + lam
    In = np.eye(n)
    rd_tol = max(tol, 1e-12 * (1.0 + float(np.max(np.abs(q)))))
    for _ in range(maxiter):
        rd = U @ (U.T @ lam) - q + z1 - z2
        mu = float(s1 @ z1 + s2 @ z2) / (2 * m)
        if (mu * 2 * m <= tol and float(np.max(np.abs(rd))) <= rd_tol) or not mu > 1e-250:
            break
        dinv = 1.0 / (z1 / s1 + z2 / s2)
        try:
            K = np.linalg.cholesky(In + U.T @ (dinv[:, None] * U))
        except np.linalg.LinAlgError:  # numerically degenerate at the end: keep the current point
            break

        def solve(rhs):
            w = np.linalg.solve(K, U.T @ (dinv * rhs))
            return dinv * rhs - dinv * (U @ np.linalg.solve(K.T, w))

        def direction(sig):
            dl = solve(-rd - sig * mu / s1 + z1 + sig * mu / s2 - z2)
            dz1 = (sig * mu - z1 * s1 + z1 * dl) / s1
            dz2 = (sig * mu - z2 * s2 - z2 * dl) / s2
            return dl, dz1, dz2

        def max_step(dl, dz1, dz2):
            a = 1.0
            for v, dv in ((s1, -dl), (s2, dl), (z1, dz1), (z2, dz2)):
                neg = dv < 0
                if np.any(neg):
                    a = min(a, float(np.min(-v[neg] / dv[neg])))
            return a

        dl, dz1, dz2 = direction(0.0)
        a = max_step(dl, dz1, dz2)
        mu_aff = float((s1 - a * dl) @ (z1 + a * dz1) + (s2 + a * dl) @ (z2 + a * dz2)) / (2 * m)
        sig = min(1.0, (mu_aff / mu) ** 3)
        dl, dz1, dz2 = direction(sig)
        a = min(1.0, 0.99 * max_step(dl, dz1, dz2))
        lam, z1, z2 = lam + a * dl, z1 + a * dz1, z2 + a * dz2
        s1, s2 = s1 - a * dl, s2 + a * dl
    return np.clip(lam, -1.0, 1.0)


def _dual_subproblem(d, J, center, mu, reg, tol):
    """min_z (1/m) sum_i |d_i + J_i z| + r(z) + (mu/2)||z - center||^2 through its dual
    over the box [-1, 1]^m (a box QP for r = None: barrier method; else smooth dual by
    L-BFGS-B). Returns (z, lam, duality gap)."""
    m = d.shape[0]

    def z_of(lam):
        v = center - (J.T @ lam) / (m * mu)
        return v if reg is None else np.asarray(reg.prox(v, 1.0 / mu), dtype=float)

    def primal(z):
        return float(np.mean(np.abs(d + J @ z))) + (0.0 if reg is None else float(reg.value(z))) \
            + 0.5 * mu * float((z - center) @ (z - center))

    def dual(lam):
        z = z_of(lam)
        s = d + J @ z
        val = float(lam @ s) / m + (0.0 if reg is None else float(reg.value(z))) \
            + 0.5 * mu * float((z - center) @ (z - center))
        return val, s / m

    if reg is None:
        lam = _box_qp((d + J @ center) / m, J / (m * math.sqrt(mu)), tol)
    else:
        from scipy.optimize import minimize as sp_minimize

        def neg(lam):
            v, gr = dual(lam)
            return -v, -gr
        lam0 = np.clip(np.sign(d + J @ center), -1, 1)
        lam = sp_minimize(neg, lam0, jac=True, method="L-BFGS-B", bounds=[(-1.0, 1.0)] * m,
                          options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-13}).x
    z = z_of(lam)
    return z, lam, primal(z) - dual(lam)[0]


def moreau_gradient_norm(problem, x, rho_bar=None, *, regularizer=None, tol=1e-9, gap_tol=1e-13, maxiter=200):
    """``||grad F_{1/rho_bar}(x)|| = rho_bar ||x - x_hat||`` with
    ``x_hat = argmin_y F(y) + (rho_bar/2)||y - x||^2`` (strongly convex for rho_bar > rho).

    ``x_hat`` is computed by the deterministic prox-linear method on that subproblem
    (majorization with the problem's ``model_error``; one step is exact for affine c_i),
    each step solved through its dual. Returns ``(norm, x_hat, info)`` with
    ``info = {"iterations", "gap", "multipliers", "converged"}`` (``multipliers`` in
    [-1, 1]^m certify the last step: ``rho_bar (x - x_hat) in (1/m) J^T lam + d r(x_hat)``;
    ``converged``: the prox-linear loop met its step test within ``maxiter`` and the last
    dual gap is finite and at most ``1e-9 max(1, |F(x)|)``, i.e. the value can be trusted as
    a certificate). A non-finite ``x`` gives ``(nan, x, info)`` with ``converged=False``."""
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)):
        return math.nan, x, {"iterations": 0, "gap": math.nan, "multipliers": None, "converged": False}
    rho = problem.weak_convexity
    if rho_bar is None:
        rho_bar = _default_rho_bar(problem)
    check_scalar(rho_bar, "rho_bar", lower=0, lower_inclusive=False)
    if rho_bar <= rho:
        raise ValueError(f"`rho_bar` must exceed the weak-convexity modulus rho = {rho:g}, got {rho_bar!r}")
    tau = 0.0 if problem.affine else problem.model_error
    y = x.copy()
    gap = 0.0
    lam = None
    it = 0
    done = False
    for it in range(1, maxiter + 1):
        C, J = problem.residuals(y), problem.jacobian(y)
        if not (np.all(np.isfinite(C)) and np.all(np.isfinite(J))):
            gap = math.nan
            break
        mu = rho_bar + tau
        center = (rho_bar * x + tau * y) / mu
        z, lam, gap = _dual_subproblem(C - J @ y, J, center, mu, regularizer, gap_tol)
        step = float(np.linalg.norm(z - y))
        y = z
        if tau == 0.0 or step <= tol * max(1.0, float(np.linalg.norm(x))):
            done = True
            break
    scale = max(1.0, abs(float(np.mean(np.abs(problem.residuals(x))))))
    converged = bool(done and math.isfinite(gap) and gap <= 1e-9 * scale)
    val = rho_bar * float(np.linalg.norm(x - y))
    return val, y, {"iterations": it, "gap": gap, "multipliers": lam, "converged": converged}


def _default_rho_bar(problem):
    rho = problem.weak_convexity
    if rho > 0:
        return 2.0 * rho
    return float(getattr(problem, "curvature_scale", 1.0)) or 1.0


# ------------------------------------------------------------------------- engine

class _Run:
    """One run of the front door: the loss, the regularizer r, the oracle counts and the
    last few Moreau measures (the finalize step re-measures the returned point)."""

    def __init__(self, loss, regularizer):
        self.loss, self.reg = loss, regularizer
        self.counter = Counts("nfev", "njev", "nprox")
        self._cache = {}

    def F(self, x):
        self.counter.nfev += 1
        return self.loss.value(x) + (0.0 if self.reg is None else float(self.reg.value(x)))

    def measured(self, x, rb):
        """(||grad F_{1/rho_bar}(x)||, trusted)."""
        x = np.asarray(x, dtype=float)
        key = x.tobytes()
        if key not in self._cache:
            if len(self._cache) > 4:
                self._cache.clear()
            val, _, info = moreau_gradient_norm(self.loss, x, rb, regularizer=self.reg)
            self._cache[key] = (val, info["converged"])
        return self._cache[key]


def _rho_bar(run, opts):
    rb = opts["rho_bar"]
    return _default_rho_bar(run.loss) if rb is None else float(rb)


def _updater(run, model):
    """x, i, alpha -> the next iterate of ``model`` (counting the oracle calls)."""
    loss, reg, counter = run.loss, run.reg, run.counter
    if model == "subgradient":
        def update(x, i, a):
            counter.njev += 1
            if reg is not None:
                counter.nprox += 1
            c, g = loss.sample(x, i)
            return _subgradient_step(x, c, g, a, reg)
    elif model == "prox-linear" or loss.affine:
        def update(x, i, a):
            counter.njev += 1
            counter.nprox += 1
            c, g = loss.sample(x, i)
            return _prox_linear_step(x, c, g, a, reg)
    else:
        def update(x, i, a):
            counter.njev += 1
            counter.nprox += 1
            return loss.prox_point(x, i, a)
    return update


def _solve(run, x0, opts, model):
    """Check what depends on the problem, then return the engine's generator."""
    loss = run.loss
    if opts["rho_bar"] is not None and opts["rho_bar"] <= loss.weak_convexity:
        raise ValueError(f"`rho_bar` must exceed the weak-convexity modulus rho = {loss.weak_convexity:g}, "
                         f"got {opts['rho_bar']!r}")
    if model == "prox-point" and not loss.affine:
        if run.reg is not None:
            raise ValueError("model='prox-point' with a regularizer has no closed form for this problem; "
                             "use model='prox-linear'")
        try:
            loss.prox_point(np.asarray(x0, dtype=float), 0, 1.0)
        except NotImplementedError as e:
            raise ValueError(f"model='prox-point' needs problem.prox_point: {e}") from None
    return _iterate(run, x0, opts, _updater(run, model))


def _iterate(run, x0, opts, update):
    """The stochastic model-based loop: one Step per epoch of m sampled steps."""
    m, maxiter, every, step = run.loss.n_samples, opts["maxiter"], opts["measure_every"], opts["step"]
    T = maxiter * m
    rb = _rho_bar(run, opts)
    rng = generator(opts["rng"])
    constant = opts["schedule"] == "constant"
    out = x0.dtype

    def alpha_at(t):
        return step / math.sqrt(T + 1) if constant else step / math.sqrt(t + 1)

    x = np.asarray(x0, dtype=float).copy()
    t = 0
    a = alpha_at(0)
    wsum, xs = a, x.copy()  # weighted reservoir: x_t kept with probability alpha_t / sum_{s<=t} alpha_s
    opt = run.measured(x, rb)[0] if every else None
    yield Step(x.astype(out), run.F(x), opt, step_size=a, x_sampled=xs.astype(out), n_steps=0)
    for epoch in range(1, maxiter + 1):  # bounded (the shared loop stops at maxiter as well)
        idx = rng.integers(0, m, size=m)
        u = rng.random(m)
        # a diverging run (too large a step) ends with status 2 from the loop, not with warnings
        with np.errstate(over="ignore", invalid="ignore"):
            for k in range(m):
                x = update(x, int(idx[k]), a)
                t += 1
                if not np.all(np.isfinite(x)):
                    break
                a = alpha_at(t)
                wsum += a
                if u[k] * wsum < a:
                    xs = x.copy()
            finite = bool(np.all(np.isfinite(x)))
            fx = run.F(x)
        opt = run.measured(x, rb)[0] if (every and finite and (epoch % every == 0 or epoch == maxiter)) else None
        yield Step(x.astype(out), fx, opt, step_size=a, x_sampled=xs.astype(out), n_steps=t)
    return 1, f"Completed the horizon of T = {T} stochastic steps ({maxiter} epochs)."


def _certify(res, run, opts):
    """finalize: the returned iterate (last or sampled) and its stationarity certificate.

    Success is certified, never assumed: status 0 only when the Moreau-envelope gradient
    norm at the returned x is finite, <= tol and computed to an accurate duality gap."""
    tol, rb = opts["tol"], _rho_bar(run, opts)
    res.x_last = res.x
    if opts["output"] == "sampled":
        res.x = res.x_sampled
        res.fun = run.F(np.asarray(res.x, dtype=float))
    res.rho_bar = rb
    if res.status not in (0, 1):  # non-finite, time limit, callback: reported as the loop says
        return res
    T = opts["maxiter"] * run.loss.n_samples
    base = (f"Completed the horizon of T = {T} stochastic steps ({opts['maxiter']} epochs)." if res.status == 1
            else f"Stopped at a measured epoch (T = {res.n_steps} steps).")
    if opts["certify"] or (res.status == 0 and opts["output"] == "last"):
        val, trusted = run.measured(res.x, rb)
        res.optimality = val
        if not math.isfinite(val):
            res.status, res.message = 2, f"{base} The stationarity measure is not finite at the returned point."
        elif trusted and val <= tol:
            res.status, res.message = 0, f"{base} Certified: ||grad F_1/rho_bar(x)|| = {val:.3g} <= tol = {tol:.3g}."
        else:
            why = f"{val:.3g} > tol = {tol:.3g}" if val > tol else \
                f"{val:.3g}, but its subproblem was not solved accurately (duality gap)"
            res.status, res.message = 1, f"{base} Not certified: ||grad F_1/rho_bar(x)|| = {why}."
    else:
        res.status, res.message = 1, f"{base} Not certified (certify=False: the stationarity was not measured)."
    res.success = res.status == 0
    return res


# ---------------------------------------------------------------------- registry

_OPTIONS = {
    "maxiter": Option(50, "Epochs (default 50): one epoch = m stochastic steps, horizon T = maxiter * m; "
                          "one trace row per epoch.", Interval(0, integer=True)),
    "tol": Option(1e-6, "Level of the stationarity certificate ||grad F_1/rho_bar(x)|| at the returned point "
                        "(success only when it is met); a measured epoch below it ends the run.", Interval(0)),
    "step": Option(1.0, "The paper's alpha: alpha_t = step / sqrt(T + 1) ('constant') or step / sqrt(t + 1) "
                        "('decaying').", FiniteInterval(0, open=("lo",))),
    "schedule": Option("constant", "Step schedule: 'constant' (fixed horizon) or 'decaying'.",
                       Choices("constant", "decaying")),
    "output": Option("last", "Returned iterate: 'last' (x_T) or 'sampled' (x_t*, t* drawn with probability "
                             "proportional to alpha_t, the theorem's iterate).", Choices("last", "sampled")),
    "measure_every": Option(0, "Measure the Moreau-envelope gradient norm every this many epochs (0: never; "
                               "costly, small problems only).", Interval(0, integer=True)),
    "rho_bar": Option(None, "Moreau parameter of the measure (> rho; default 2 rho, or lambda_max(A^T A / m) "
                            "for convex problems).", NoneOr(FiniteInterval(0, open=("lo",)))),
    "rng": Option(None, "Seed or numpy.random.Generator of the sampling; None means seed 0 (reproducible).",
                  Rng()),
    "certify": Option(True, "Measure the stationarity at the returned point at the end (False: status 1, "
                            "never success).", Flag()),
}

_RATE = ("rho-weakly convex F, L-Lipschitz samples, constant schedule: E ||grad F_1/rho_bar(x_t*)||^2 <= "
         "C (Delta + rho_bar L^2 step^2) / (step sqrt(T + 1)), i.e. O(eps^-4) steps to an eps-stationary "
         "point (the same for the three models; better models are robust to the step size).")
_OPTIMALITY = ("Moreau-envelope gradient norm ||grad F_1/rho_bar(x)|| = rho_bar ||x - prox_F/rho_bar(x)||, "
               "measured every `measure_every` epochs and at the returned point (certify)")
_REFERENCE = ("D. Davis, D. Drusvyatskiy, Stochastic model-based minimization of weakly convex functions, "
              "SIAM J. Optim. 29(1) (2019); H. Asi, J. Duchi, PNAS 116(46) (2019).")
_SUMMARIES = {
    "prox-linear": "Stochastic prox-linear method for (1/m) sum |c_i(x)| + r(x) (clipped Gauss-Newton steps)",
    "prox-point": "Stochastic proximal point method for (1/m) sum |c_i(x)| (closed-form per-sample prox)",
    "subgradient": "Stochastic proximal subgradient method for (1/m) sum |c_i(x)| + r(x)",
}


def _example(xp):
    """Least absolute deviations with exact data (F* = 0) as a user CompositeAbsLoss."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((20, 3))
    b = A @ np.array([1.0, -2.0, 0.5])
    loss = CompositeAbsLoss(lambda x: A @ x - b, lambda x: A, 20, 3, affine=True,
                            sample=lambda x, i: (A[i] @ x - b[i], A[i]))
    return {"problem": loss, "x0": np.zeros(3), "f_star": 0.0}


for _model in MODELS:
    register(MethodSpec(
        name=_model, family="model_based", kind="composite_model", summary=_SUMMARIES[_model],
        solve=(lambda model: lambda run, x0, o: _solve(run, x0, o, model))(_model),
        finalize=_certify, options=dict(_OPTIONS), optimality=_OPTIMALITY, rate_text=_RATE, rate=None,
        requires=("residuals", "jacobian", "sample") + (("prox_point",) if _model == "prox-point" else ()),
        reference=_REFERENCE, backends=("numpy",), float64_internal=True, example=_example))


# ---------------------------------------------------------------------- front door

def _start(x0, n):
    x0 = np.asarray(x0)
    if np.iscomplexobj(x0) or not (np.issubdtype(x0.dtype, np.floating) or np.issubdtype(x0.dtype, np.integer)):
        raise TypeError(f"`x0` must be a real numeric array, got dtype {x0.dtype}")
    if x0.shape != (n,):
        raise ValueError(f"`x0` must have shape ({n},), got {x0.shape}")
    if not np.all(np.isfinite(x0)):
        raise ValueError("`x0` must be finite")
    return x0 if np.issubdtype(x0.dtype, np.floating) else x0.astype(np.float64)


def model_based(problem, x0, *, model=None, regularizer=None, method=None, tol=None, callback=None, options=None,
                **kw):
    """Stochastic model-based minimization (see the module docstring for the algorithms);
    the front door of the ``"composite_model"`` kind.

    ``problem``: a :class:`CompositeAbsLoss` (e.g. ``problems.model_based.PhaseRetrieval``,
    ``RobustRegression``); ``x0``: start (its floating dtype is kept); ``model`` (or
    ``method``; None: ``"prox-linear"``): ``"prox-linear"``, ``"prox-point"`` or ``"subgradient"``; ``regularizer``:
    the closed convex r (numopt.prox object) or None; ``tol`` (None: the default 1e-6):
    level of the stationarity certificate; ``callback`` as in ``numopt.minimize``.
    Options (``numopt.show_options("prox-linear")``, as keywords or an ``options`` dict): ``step`` (1.0), ``schedule``
    ("constant"), ``maxiter`` (50 epochs, ``T = maxiter * m`` stochastic steps), ``output``
    ("last" or "sampled"), ``measure_every`` (0), ``rho_bar``, ``rng`` (None: seed 0),
    ``certify`` (True), ``max_time``, ``trace``, ``disp``.

    Success is certified, never assumed: ``status = 0`` only when ``optimality`` =
    ``||grad F_{1/rho_bar}(x)||`` at the returned ``x`` is finite, at most ``tol``, and
    computed to an accurate duality gap (:func:`moreau_gradient_norm`'s ``converged``).
    Completing the horizon without that certificate is ``status = 1`` (``certify=False``:
    not measured, status 1), non-finite iterates or measure ``status = 2``.

    Returns an OptimizeResult with ``x``, ``fun`` (F at x), ``x_last``, ``x_sampled``,
    ``n_steps``, ``step_size`` (the last alpha_t), ``optimality``, ``rho_bar``, ``trace``
    (per epoch: fun, optimality, step_size, n_steps, counts) and the counts ``njev``,
    ``nprox``, ``nfev``.
    """
    spec = pick_method("composite_model", "prox-linear", method, name="model", legacy=model)
    if not (hasattr(problem, "residuals") and hasattr(problem, "sample") and hasattr(problem, "n_samples")):
        raise TypeError("`problem` must be a numopt CompositeAbsLoss (residuals, jacobian, sample, n_samples), "
                        "e.g. problems.model_based.PhaseRetrieval(A, b) or RobustRegression(A, b)")
    if regularizer is not None and not (hasattr(regularizer, "prox") and hasattr(regularizer, "value")):
        raise TypeError("`regularizer` must have prox(x, step) and value(x) (a numopt.prox object) or be None")
    numpy_only(spec, x0, "x0")
    x0 = _start(x0, problem.n_features)
    opts = resolve_options(spec, merge_options(options, kw), tol=tol)
    run = _Run(problem, regularizer)
    return run_method(spec, run, x0, opts, callback=callback, counter=run.counter)
