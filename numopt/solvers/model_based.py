"""Stochastic model-based minimization of weakly convex composite finite sums.

Problem: ``min_x F(x) = (1/m) sum_i |c_i(x)| + r(x)`` with smooth ``c_i`` and a closed
convex ``r`` (``None`` or a numopt.prox object with ``value`` and ``prox(x, step)``).
At step t a sample ``i`` is drawn uniformly and the next iterate minimizes a *model*
of ``|c_i(.)|`` around ``x_t`` plus ``r`` plus ``(1/(2 alpha_t)) ||. - x_t||^2``
(Davis & Drusvyatskiy, "Stochastic model-based minimization of weakly convex
functions", SIAM J. Optim. 29(1), 2019):

* ``model="subgradient"`` (stochastic proximal subgradient):
  ``x+ = prox_{alpha r}(x - alpha sign(c_i(x)) grad c_i(x))``.
* ``model="prox-linear"`` (stochastic prox-linear): the model ``|c + g^T (y - x)|``
  with ``c = c_i(x)``, ``g = grad c_i(x)``. Without ``r`` the minimizer is the
  *clipped* step ``x+ = x - alpha lam g`` with ``lam = clip(c / (alpha ||g||^2), -1, 1)``
  (a Gauss-Newton/Polyak step when the clip is inactive, a subgradient step otherwise);
  with ``r`` the multiplier ``lam`` in [-1, 1] is found as the root of the monotone
  residual ``c + g^T(prox_{alpha r}(x - alpha lam g) - x)`` (Illinois regula falsi).
* ``model="prox-point"`` (stochastic proximal point): the model is ``|c_i(.)|`` itself;
  the problem class supplies the closed form (:class:`PhaseRetrieval`: a 1-D problem in
  ``u = a^T y`` solved exactly over its kinks and stationary points; affine ``c_i``:
  identical to prox-linear).

Step schedule (the paper's): ``schedule="constant"``: ``alpha_t = step / sqrt(T + 1)``
for the horizon ``T = maxiter * m`` stochastic steps, fixed in advance; or
``schedule="decaying"``: ``alpha_t = step / sqrt(t + 1)``. The paper's guarantee is for
the iterate ``x_{t*}`` with ``t*`` drawn from {0, ..., T} with probability
proportional to ``alpha_t`` (``output="sampled"``, done by weighted reservoir sampling, so
it is exact even when a run stops early); ``output="last"`` (default) returns ``x_T``,
which is what one uses in practice. Both are in the result (``x_last``, ``x_sampled``).

Rate (Davis & Drusvyatskiy 2019, the main complexity theorem and its corollaries for the
three models):
for rho-weakly convex F, L-Lipschitz samples and ``rho_bar > rho`` (we use
``rho_bar = 2 rho``), with the constant schedule
``E ||grad F_{1/rho_bar}(x_{t*})||^2 <= C (Delta + rho_bar L^2 step^2) / (step sqrt(T + 1))``
where ``F_{1/rho_bar}`` is the Moreau envelope, ``Delta = F_{1/rho_bar}(x_0) - min F`` and C
depends only on ``rho_bar / (rho_bar - rho)``: ``O(1/sqrt(T))``, i.e. ``O(eps^-4)`` steps
for an eps-stationary point, the same for all three models.

Stationarity measure (``optimality`` in the trace when measured): the Moreau-envelope
gradient norm ``||grad F_{1/rho_bar}(x)|| = rho_bar ||x - prox_{F/rho_bar}(x)||``, computed
by :func:`moreau_gradient_norm` (deterministic prox-linear outer loop on the
rho_bar - rho strongly convex subproblem, each step solved through its smooth box-constrained
dual by L-BFGS-B with a duality-gap check). It costs many full passes over the data,
so it is only measured every ``measure_every`` epochs (0: never, the default).

One trace row = one epoch of ``m`` stochastic steps; ``fun`` is the full objective.
Oracle counts: ``njev`` = per-sample (c_i, grad c_i) evaluations, ``nprox`` =
per-sample model subproblems solved (and prox of r), ``nfev`` = full objective passes.
"""
from __future__ import annotations

import math

import numpy as np

from .._loop import Step, run_loop
from ..oracles import OracleCounter, check_scalar

__all__ = ["CompositeAbsLoss", "PhaseRetrieval", "RobustRegression", "model_based",
           "moreau_gradient_norm", "MODELS"]

MODELS = ("prox-linear", "prox-point", "subgradient")


class CompositeAbsLoss:
    """``f(x) = (1/m) sum_i |c_i(x)|`` from user callables.

    ``residuals(x) -> (m,)`` array of ``c_i(x)``; ``jacobian(x) -> (m, n)`` array of the
    gradients; optional ``sample(x, i) -> (c_i(x), grad c_i(x))`` (default: slices the
    full ones, slow); ``weak_convexity`` rho of f (>= 0) and ``model_error`` tau with
    ``|f(y) - f_x(y)| <= tau/2 ||y - x||^2`` for the averaged linear model (0 for affine
    ``c_i``). Subclasses may provide ``prox_point(x, i, alpha)``.
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


def _rows(A, b, name):
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    if A.ndim != 2:
        raise ValueError(f"`A` must be a 2-D array for {name}, got shape {A.shape}")
    if b.shape != (A.shape[0],):
        raise ValueError(f"`b` must have shape ({A.shape[0]},) to match A, got {b.shape}")
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
        raise ValueError(f"`A` and `b` must be finite for {name}")
    return A, b


class RobustRegression(CompositeAbsLoss):
    """Least absolute deviations: ``c_i(x) = a_i^T x - b_i`` (convex: rho = 0; prox-point =
    prox-linear, both exact)."""

    affine = True

    def __init__(self, A, b):
        self.A, self.b = _rows(A, b, "RobustRegression")
        self.n_samples, self.n_features = self.A.shape
        self.weak_convexity = 0.0
        self.model_error = 0.0
        self._sq = np.einsum("ij,ij->i", self.A, self.A)
        # Scale for the Moreau-envelope measure of a convex problem (rho = 0).
        self.curvature_scale = float(np.linalg.eigvalsh(self.A.T @ self.A / self.n_samples)[-1])

    def residuals(self, x):
        return self.A @ x - self.b

    def jacobian(self, x):
        return self.A

    def sample(self, x, i):
        a = self.A[i]
        return float(a @ x - self.b[i]), a


class PhaseRetrieval(CompositeAbsLoss):
    """Robust phase retrieval: ``c_i(x) = (a_i^T x)^2 - b_i``.

    ``f`` is rho-weakly convex with ``rho = 2 lambda_max(A^T A / m)`` (``|u^2 - b| + u^2`` is
    convex in u, so ``f(x) + x^T (A^T A/m) x`` is convex), and the averaged linear model errs by at most
    ``d^T (A^T A / m) d``, so ``model_error = rho``. The stochastic proximal point step has
    a closed form: the step is along ``a_i`` and ``u = a_i^T y`` solves
    ``min_u |u^2 - b_i| + (u - a_i^T x)^2 / (2 alpha ||a_i||^2)``, whose minimizer is
    one of the kinks ``+-sqrt(b_i)`` or the stationary point of one of the two quadratic
    pieces (all are compared).
    """

    def __init__(self, A, b):
        self.A, self.b = _rows(A, b, "PhaseRetrieval")
        self.n_samples, self.n_features = self.A.shape
        self._sq = np.einsum("ij,ij->i", self.A, self.A)
        lam = float(np.linalg.eigvalsh(self.A.T @ self.A / self.n_samples)[-1])
        self.weak_convexity = 2.0 * lam
        self.model_error = 2.0 * lam
        self.curvature_scale = lam

    def residuals(self, x):
        return (self.A @ x) ** 2 - self.b

    def jacobian(self, x):
        return 2.0 * (self.A @ x)[:, None] * self.A

    def sample(self, x, i):
        a = self.A[i]
        u = float(a @ x)
        return u * u - self.b[i], (2.0 * u) * a

    def prox_point(self, x, i, alpha):
        a, q, b = self.A[i], self._sq[i], self.b[i]
        if q == 0.0:
            return x
        u0 = float(a @ x)
        kappa = 1.0 / (alpha * q)
        cands = [kappa * u0 / (2.0 + kappa)]  # stationary point of u^2 - b + kappa/2 (u - u0)^2
        if kappa != 2.0:
            cands.append(kappa * u0 / (kappa - 2.0))  # of b - u^2 + kappa/2 (u - u0)^2
        if b >= 0:
            s = math.sqrt(b)
            cands += [s, -s]
        phi = [abs(u * u - b) + 0.5 * kappa * (u - u0) ** 2 for u in cands]
        u = cands[int(np.argmin(phi))]
        return x + ((u - u0) / q) * a

    def spectral_init(self):
        """Spectral start: top eigenvector of ``(1/m) sum_i b_i a_i a_i^T`` scaled by
        ``sqrt(mean(b))`` (for Gaussian a_i, ``E b = ||x*||^2``)."""
        Y = (self.A * self.b[:, None]).T @ self.A / self.n_samples
        w, V = np.linalg.eigh(Y)
        return V[:, -1] * math.sqrt(max(float(np.mean(self.b)), 0.0))


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


# ------------------------------------------------------------------- front door

def model_based(problem, x0, *, model="prox-linear", step=1.0, schedule="constant", maxiter=50,
                regularizer=None, output="last", measure_every=0, rho_bar=None, tol=1e-6, rng=None,
                callback=None, max_time=math.inf, certify=True):
    """Stochastic model-based minimization (see the module docstring for the algorithms).

    ``problem``: a :class:`CompositeAbsLoss` (e.g. :class:`PhaseRetrieval`,
    :class:`RobustRegression`); ``x0``: start; ``model``: ``"prox-linear"``,
    ``"prox-point"`` or ``"subgradient"``; ``step``: the paper's alpha (``alpha_t =
    step / sqrt(T + 1)`` with ``schedule="constant"``, ``step / sqrt(t + 1)`` with
    ``"decaying"``); ``maxiter``: epochs (``T = maxiter * m`` stochastic steps);
    ``regularizer``: closed convex r (numopt.prox object) or None; ``output``: ``"last"``
    or ``"sampled"`` (the theorem's randomly drawn iterate); ``measure_every``: compute
    the Moreau-envelope gradient norm (``optimality``) every that many epochs, 0 = never
    (expensive: small problems only); ``rho_bar``: its parameter (default ``2 rho``, or the
    curvature scale ``lambda_max(A^T A / m)`` for convex problems); ``tol`` (default 1e-6;
    None means the default): the level of the stationarity certificate, and the run stops
    early when a measured optimality is <= tol; ``rng``: seed or Generator (None: the fixed
    seed 0, so a default run is reproducible); ``certify`` (default True): measure the
    Moreau-envelope gradient norm at the returned point at the end.

    Success is certified, never assumed: ``status = 0`` (``success=True``) only when
    ``optimality`` = ``||grad F_{1/rho_bar}(x)||`` at the returned ``x`` is finite, at most
    ``tol``, and computed to an accurate duality gap (:func:`moreau_gradient_norm`'s
    ``converged``). Completing the horizon of ``T`` steps without that certificate is
    ``status = 1`` (or ``certify=False``: not measured, status 1), non-finite iterates or
    measure ``status = 2``; the message gives the measured value.

    Returns an OptimizeResult with ``x``, ``fun`` (F at x), ``x_last``, ``x_sampled``,
    ``n_steps``, ``step_size`` (the last alpha_t), ``optimality`` (the measure at the
    returned point when ``certify``, else the last measured value or None), ``trace`` (per
    epoch: fun, optimality, step_size) and oracle counts.
    """
    if not (hasattr(problem, "residuals") and hasattr(problem, "sample") and hasattr(problem, "n_samples")):
        raise TypeError("`problem` must be a numopt CompositeAbsLoss (residuals, jacobian, sample, n_samples), "
                        "e.g. PhaseRetrieval(A, b) or RobustRegression(A, b)")
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; valid: {', '.join(MODELS)}")
    if schedule not in ("constant", "decaying"):
        raise ValueError(f"unknown schedule {schedule!r}; valid: 'constant', 'decaying'")
    if output not in ("last", "sampled"):
        raise ValueError(f"unknown output {output!r}; valid: 'last', 'sampled'")
    check_scalar(step, "step", lower=0, lower_inclusive=False)
    if not math.isfinite(step):
        raise ValueError(f"`step` must be finite, got {step!r}")
    check_scalar(maxiter, "maxiter", lower=0, integer=True)
    check_scalar(measure_every, "measure_every", lower=0, integer=True)
    check_scalar(tol, "tol", lower=0, allow_none=True)
    tol = 1e-6 if tol is None else float(tol)
    if not isinstance(certify, (bool, np.bool_)):
        raise TypeError(f"`certify` must be True or False, got {certify!r}")
    check_scalar(max_time, "max_time", lower=0)
    if regularizer is not None and not (hasattr(regularizer, "prox") and hasattr(regularizer, "value")):
        raise TypeError("`regularizer` must have prox(x, step) and value(x) (a numopt.prox object) or be None")
    if rho_bar is not None:
        check_scalar(rho_bar, "rho_bar", lower=0, lower_inclusive=False)
        if rho_bar <= problem.weak_convexity:
            raise ValueError(f"`rho_bar` must exceed the weak-convexity modulus rho = {problem.weak_convexity:g}")
    x0_arr = np.asarray(x0)
    if np.iscomplexobj(x0_arr) or not (np.issubdtype(x0_arr.dtype, np.floating)
                                       or np.issubdtype(x0_arr.dtype, np.integer)):
        raise TypeError(f"`x0` must be a real numeric array, got dtype {x0_arr.dtype}")
    n, m = problem.n_features, problem.n_samples
    if x0_arr.shape != (n,):
        raise ValueError(f"`x0` must have shape ({n},), got {x0_arr.shape}")
    if not np.all(np.isfinite(x0_arr)):
        raise ValueError("`x0` must be finite")
    out_dtype = x0_arr.dtype if np.issubdtype(x0_arr.dtype, np.floating) else np.float64
    if model == "prox-point" and not problem.affine:
        if regularizer is not None:
            raise ValueError("model='prox-point' with a regularizer has no closed form for this problem; "
                             "use model='prox-linear'")
        try:
            problem.prox_point(np.asarray(x0_arr, dtype=float), 0, 1.0)
        except NotImplementedError as e:
            raise ValueError(f"model='prox-point' needs problem.prox_point: {e}") from None
    gen_rng = np.random.default_rng(0 if rng is None else rng)
    rb = _default_rho_bar(problem) if rho_bar is None else float(rho_bar)
    counter = OracleCounter()
    T = maxiter * m

    def F(x):
        counter.nfev += 1
        return problem.value(x) + (0.0 if regularizer is None else float(regularizer.value(x)))

    cache = {}

    def measured(x):
        """(||grad F_{1/rho_bar}(x)||, trusted) with the last few results kept."""
        key = np.asarray(x, dtype=float).tobytes()
        if key not in cache:
            if len(cache) > 4:
                cache.clear()
            val, _, info = moreau_gradient_norm(problem, np.asarray(x, dtype=float), rb, regularizer=regularizer)
            cache[key] = (val, info["converged"])
        return cache[key]

    def measure(x):
        return measured(x)[0]

    if model == "subgradient":
        def update(x, i, a):
            counter.njev += 1
            if regularizer is not None:
                counter.nprox += 1
            c, g = problem.sample(x, i)
            return _subgradient_step(x, c, g, a, regularizer)
    elif model == "prox-linear" or problem.affine:
        def update(x, i, a):
            counter.njev += 1
            counter.nprox += 1
            c, g = problem.sample(x, i)
            return _prox_linear_step(x, c, g, a, regularizer)
    else:
        def update(x, i, a):
            counter.njev += 1
            counter.nprox += 1
            return problem.prox_point(x, i, a)

    def alpha_at(t):
        return step / math.sqrt(T + 1) if schedule == "constant" else step / math.sqrt(t + 1)

    def gen():
        x = np.asarray(x0_arr, dtype=float).copy()
        t = 0
        a = alpha_at(0)
        wsum, xs = a, x.copy()  # weighted reservoir: x_t kept with probability alpha_t / sum_{s<=t} alpha_s
        opt = measure(x) if measure_every else None
        yield Step(x.astype(out_dtype), F(x), opt, step_size=a, x_sampled=xs.astype(out_dtype), n_steps=0)
        for epoch in range(1, maxiter + 1):
            idx = gen_rng.integers(0, m, size=m)
            u = gen_rng.random(m)
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
                fx = F(x)
            opt = measure(x) if (measure_every and finite and (epoch % measure_every == 0 or epoch == maxiter)) \
                else None
            yield Step(x.astype(out_dtype), fx, opt, step_size=a, x_sampled=xs.astype(out_dtype), n_steps=t)
        return 1, f"Completed the horizon of T = {T} stochastic steps ({maxiter} epochs)."

    res = run_loop(gen(), counter=counter, options={"maxiter": maxiter + 1, "max_time": max_time, "trace": True},
                   callback=callback, tol=tol, method=f"model_based/{model}")
    for k in ("nhev", "nlmo", "nproj", "jac"):
        res.pop(k, None)
    res.x_last = res.x
    if output == "sampled":
        res.x = res.x_sampled
        res.fun = F(np.asarray(res.x, dtype=float))
    res.rho_bar = rb
    if res.status in (0, 1):  # horizon completed, or stopped on a measured epoch: certify the returned point
        base = res.message if res.status == 1 else f"Stopped at a measured epoch (T = {res.n_steps} steps)."
        xr = np.asarray(res.x, dtype=float)
        if certify or (res.status == 0 and output == "last"):
            val, trusted = measured(xr)
            res.optimality = val
            if not math.isfinite(val):
                res.status, res.message = 2, f"{base} The stationarity measure is not finite at the returned point."
            elif trusted and val <= tol:
                res.status, res.message = 0, (f"{base} Certified: ||grad F_1/rho_bar(x)|| = {val:.3g} <= tol = "
                                              f"{tol:.3g}.")
            else:
                why = f"{val:.3g} > tol = {tol:.3g}" if val > tol else \
                    f"{val:.3g}, but its subproblem was not solved accurately (duality gap)"
                res.status, res.message = 1, f"{base} Not certified: ||grad F_1/rho_bar(x)|| = {why}."
        else:
            res.status, res.message = 1, f"{base} Not certified (certify=False: the stationarity was not measured)."
        res.success = res.status == 0
    return res


def _demo(n=10, m=80, seeds=range(5), epochs=30):
    """The experiment of docs/model_based.md: ``python -m numopt.solvers.model_based``."""
    import time

    print(f"phase retrieval n={n} m={m}, Gaussian a_i, spectral start, {epochs} epochs (T = {epochs * m} steps), "
          f"alpha_t = alpha/sqrt(T+1); medians over {len(seeds)} seeds")
    print(f"{'model':12s} {'alpha':>7s} {'dist to +-x*':>13s} {'||grad F_1/rho_bar||':>21s} "
          f"{'diverged':>9s} {'s/run':>6s}")
    warm = PhaseRetrieval(np.ones((4, 2)), np.ones(4))
    for model in MODELS:
        model_based(warm, np.ones(2), model=model, maxiter=1, rng=0)
    for model in ("subgradient", "prox-linear", "prox-point"):
        for alpha in (0.1, 1.0, 10.0, 100.0):
            dist, meas, div, t = [], [], 0, 0.0
            for s in seeds:
                rng = np.random.default_rng(s)
                A = rng.standard_normal((m, n))
                xs = rng.standard_normal(n)
                xs /= np.linalg.norm(xs)
                p = PhaseRetrieval(A, (A @ xs) ** 2)
                t0 = time.perf_counter()
                res = model_based(p, p.spectral_init(), model=model, step=alpha, maxiter=epochs, rng=s)
                t += time.perf_counter() - t0
                if res.status == 2:
                    div += 1
                    dist.append(np.inf)
                    meas.append(np.inf)
                else:
                    dist.append(min(np.linalg.norm(res.x - xs), np.linalg.norm(res.x + xs)))
                    meas.append(moreau_gradient_norm(p, res.x)[0])
            print(f"{model:12s} {alpha:7.1f} {np.median(dist):13.2e} {np.median(meas):21.2e} {div:>9d} "
                  f"{t / len(seeds):6.3f}")


if __name__ == "__main__":
    _demo()
