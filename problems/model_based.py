"""Instances of the composite kind ``(1/m) sum_i |c_i(x)|`` (``numopt.model_based``):
robust phase retrieval and least absolute deviations (robust regression).

The problem protocol (:class:`numopt.solvers.model_based.CompositeAbsLoss`) lives in numopt;
these concrete classes live here, in the problem library (numopt re-exports them lazily as
``numopt.PhaseRetrieval`` / ``numopt.RobustRegression``). ``phase_retrieval(...)`` and
``robust_regression(...)`` build planted instances; ``get(name, **params)`` /
``list_problems()`` follow the family protocol of :mod:`problems`.

``python -m problems.model_based`` runs the step-size experiment of docs/model_based.md.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from numopt.solvers.model_based import MODELS, CompositeAbsLoss, model_based, moreau_gradient_norm

__all__ = ["PhaseRetrieval", "RobustRegression", "phase_retrieval", "robust_regression", "get", "list_problems"]


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


# ------------------------------------------------------------------- planted instances

def _count(v, name, lower):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {v!r}")
    if v < lower:
        raise ValueError(f"`{name}` must be >= {lower}, got {v!r}")
    return int(v)


def phase_retrieval(n=10, m=80, seed=0):
    """Noiseless robust phase retrieval with Gaussian a_i and a unit planted x*: returns
    ``(problem, x_star)``; the minimizers are ``+-x_star`` (F* = 0)."""
    n, m = _count(n, "n", 1), _count(m, "m", 1)
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    xs = rng.standard_normal(n)
    xs /= np.linalg.norm(xs)
    return PhaseRetrieval(A, (A @ xs) ** 2), xs


def robust_regression(n=10, m=200, frac=0.2, scale=10.0, seed=0):
    """Least absolute deviations with a share ``frac`` of gross outliers (Gaussian, standard
    deviation ``scale``) on exact measurements of a planted x*: returns ``(problem, x_star)``;
    for small ``frac`` x* is the minimizer."""
    n, m = _count(n, "n", 1), _count(m, "m", 1)
    if not (isinstance(frac, numbers.Real) and 0 <= frac <= 1):
        raise ValueError(f"`frac` must be in [0, 1], got {frac!r}")
    if not (isinstance(scale, numbers.Real) and math.isfinite(scale) and scale >= 0):
        raise ValueError(f"`scale` must be finite and >= 0, got {scale!r}")
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    xs = rng.standard_normal(n)
    b = A @ xs
    out = rng.random(m) < frac
    b[out] += scale * rng.standard_normal(int(out.sum()))
    return RobustRegression(A, b), xs


_PROBLEMS = {"phase-retrieval": phase_retrieval, "robust-regression": robust_regression}


def list_problems():
    return list(_PROBLEMS)


def get(name, **params):
    if name not in _PROBLEMS:
        raise ValueError(f"unknown model_based problem {name!r}; available: {', '.join(_PROBLEMS)}")
    return _PROBLEMS[name](**params)


def _demo(n=10, m=80, seeds=range(5), epochs=30):
    """The experiment of docs/model_based.md: ``python -m problems.model_based``."""
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
