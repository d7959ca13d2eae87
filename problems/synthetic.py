"""Synthetic problem generators with seeds and (where possible) known optima.

* ``quadratic(n, cond, outliers, ...)``: ``1/2 x^T Q x - b^T x`` with a prescribed
  spectrum (geometric between ``1/cond`` and 1, optionally ``outliers`` large outlying
  eigenvalues — the setting of polynomial preconditioning); exact optimum by a solve.
* ``sparse_regression(n, p, k, rho)``: correlated Gaussian design (Toeplitz
  correlation ``rho^|i-j|``), ``k``-sparse truth, noise; lasso problem.
* ``logistic(n, p, cond)``: ill-conditioned logistic regression.
* ``eq_qp(n, m)``: equality-constrained QP ``min 1/2 x^T Q x + c^T x s.t. A x = b`` with
  its KKT solution.
"""
from __future__ import annotations

import numpy as np

import numopt
from numopt.oracles import EqualityConstraints, QuadraticForm

from ._lookup import check_int, check_real, check_seed
from .models import make_model

__all__ = ["Quadratic", "quadratic", "sparse_regression", "logistic", "eq_qp", "get", "list_problems"]


class Quadratic(QuadraticForm):
    """``f(x) = 1/2 x^T Q x - b^T x`` (numopt's :class:`~numopt.oracles.QuadraticForm`) with
    its spectrum: exact ``lipschitz`` and ``strong_convexity``, ``eigenvalues``; ``Q`` and
    ``b`` name the matrix and vector (``A`` and ``c`` of the oracle)."""

    def __init__(self, Q, b):
        super().__init__(Q, b)
        self.Q, self.b = self.A, self.c
        ev = np.linalg.eigvalsh(self.Q)
        self.eigenvalues = ev
        self._L = float(ev[-1])
        self.strong_convexity = float(max(ev[0], 0.0))


def _rng(seed):
    return np.random.default_rng(seed)


def quadratic(n=100, cond=1e3, outliers=0, outlier_scale=100.0, spectrum=None, seed=0):
    """Quadratic with eigenvalues geometric in [1/cond, 1] plus ``outliers`` eigenvalues
    spread in [outlier_scale/2, outlier_scale] (or an explicit ``spectrum``: n finite
    positive eigenvalues). ``n`` >= 1, ``cond`` finite >= 1, ``outliers`` in [0, n),
    ``outlier_scale`` finite > 0."""
    n = check_int(n, "n", lower=1)
    rng = _rng(check_seed(seed))
    if spectrum is None:
        cond = check_real(cond, "cond", lower=1)
        outliers = check_int(outliers, "outliers", lower=0)
        if outliers >= n:
            raise ValueError(f"`outliers` must be in [0, n), got {outliers} with n = {n}")
        outlier_scale = check_real(outlier_scale, "outlier_scale", lower=0, lower_open=True)
        base = np.geomspace(1.0 / cond, 1.0, n - outliers)
        spectrum = np.concatenate([base, np.linspace(outlier_scale / 2, outlier_scale, outliers)])
    try:
        spectrum = np.sort(np.asarray(spectrum, dtype=float))
    except (TypeError, ValueError):
        raise TypeError(f"`spectrum` must be an array of real numbers, got {type(spectrum).__name__}") from None
    if spectrum.shape != (n,):
        raise ValueError(f"`spectrum` must have length n = {n}, got shape {spectrum.shape}")
    if not np.all(np.isfinite(spectrum)) or spectrum[0] <= 0:
        raise ValueError("`spectrum` must be finite and > 0 (the quadratic needs a unique minimizer)")
    Qm, _ = np.linalg.qr(rng.standard_normal((n, n)))
    Q = (Qm * spectrum) @ Qm.T
    Q = 0.5 * (Q + Q.T)
    b = rng.standard_normal(n)
    f = Quadratic(Q, b)
    xs = np.linalg.solve(Q, b)
    return numopt.Problem(objective=f, x0=np.zeros(n), x_star=xs, f_star=f.value(xs), f_star_tol=1e-12,
                          name="synthetic/quadratic", source="closed form (linear solve)",
                          meta={"spectrum": spectrum})


def sparse_regression(n=200, p=500, k=10, rho=0.5, snr=10.0, lam_ratio=0.1, seed=0):
    """Lasso on a correlated design: x_i ~ N(0, Sigma), Sigma_ij = rho^|i-j|.
    ``n``, ``p`` >= 1, ``k`` in [0, p], ``rho`` in [0, 1), ``snr`` and ``lam_ratio``
    finite > 0."""
    n, p = check_int(n, "n", lower=1), check_int(p, "p", lower=1)
    k = check_int(k, "k", lower=0, upper=p)
    rho = check_real(rho, "rho", lower=0, upper=1, upper_open=True)
    snr = check_real(snr, "snr", lower=0, lower_open=True)
    lam_ratio = check_real(lam_ratio, "lam_ratio", lower=0, lower_open=True)
    rng = _rng(check_seed(seed))
    # AR(1) columns give the Toeplitz correlation without forming Sigma
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p))
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho ** 2) * Z[:, j]
    w = np.zeros(p)
    supp = rng.choice(p, size=min(k, p), replace=False)
    w[supp] = rng.choice([-1.0, 1.0], size=supp.size) * rng.uniform(1, 2, size=supp.size)
    signal = X @ w
    noise = rng.standard_normal(n) * np.std(signal) / np.sqrt(snr)
    prob = make_model(X, signal + noise, model="lasso", lam_ratio=lam_ratio,
                      name="synthetic/sparse_regression")
    prob.meta["w_true"] = w
    return prob


def logistic(n=500, p=50, cond=1e3, lam_ratio=0.01, penalty="l1", seed=0):
    """Logistic regression whose design has singular values spread over sqrt(cond).
    ``p`` >= 1, ``n`` >= ``p``, ``cond`` finite >= 1, ``lam_ratio`` finite > 0."""
    p = check_int(p, "p", lower=1)
    n = check_int(n, "n", lower=p)
    cond = check_real(cond, "cond", lower=1)
    lam_ratio = check_real(lam_ratio, "lam_ratio", lower=0, lower_open=True)
    rng = _rng(check_seed(seed))
    U, _ = np.linalg.qr(rng.standard_normal((n, p)))
    V, _ = np.linalg.qr(rng.standard_normal((p, p)))
    X = (U * np.geomspace(1.0, 1.0 / np.sqrt(cond), p)) @ V.T * np.sqrt(n)
    w = rng.standard_normal(p)
    y = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-X @ w)), 1.0, -1.0)
    return make_model(X, y, model="logreg", penalty=penalty, lam_ratio=lam_ratio,
                      name="synthetic/logistic")


def eq_qp(n=20, m=5, seed=0):
    """``min 1/2 x^T Q x + c^T x s.t. A x = b`` (Q positive definite) with KKT solution.
    Integers ``n`` >= 2 and ``m`` in [1, n)."""
    n = check_int(n, "n", lower=2)
    m = check_int(m, "m", lower=1, upper=n - 1)
    rng = _rng(check_seed(seed))
    M = rng.standard_normal((n, n))
    Q = M @ M.T / n + np.eye(n)
    c = rng.standard_normal(n)
    A = rng.standard_normal((m, n))
    b = rng.standard_normal(m)
    K = np.block([[Q, A.T], [A, np.zeros((m, m))]])
    sol = np.linalg.solve(K, np.concatenate([-c, b]))
    xs, lam = sol[:n], sol[n:]
    f = Quadratic(Q, -c)
    cons = EqualityConstraints(lambda x: A @ x - b, lambda x: A, lambda x, l: np.zeros((n, n)))
    cons.m = m
    return numopt.Problem(objective=f, x0=np.zeros(n), constraints=cons, x_star=xs, f_star=f.value(xs),
                          f_star_tol=1e-12, name="synthetic/eq_qp", source="KKT linear solve",
                          meta={"multipliers": lam, "A": A, "b": b})


_GENERATORS = {"quadratic": quadratic, "sparse_regression": sparse_regression,
               "logistic": logistic, "eq_qp": eq_qp}


def list_problems():
    return sorted(_GENERATORS)


def get(name, **params):
    from ._lookup import lookup

    return lookup(_GENERATORS, name, "synthetic problem")(**params)
