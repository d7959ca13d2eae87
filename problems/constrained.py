"""Equality-constrained problems of Hong, Na, Mahoney & Kolar (ICML 2023).

* ``logreg-NAME``: logistic regression on LIBSVM data ``(1/N) sum log(1 + exp(-y_i x_i^T w))``
  subject to 10 random Gaussian linear equalities ``A w = b`` and ``||w||^2 = 1``
  (``b = A w0`` for a random unit ``w0``, so the set is nonempty); ``x0 = 1/sqrt(p)``.
* ``poisson-control``: discrete Poisson control on an N x N interior grid,
  ``min 1/2 ||w - w_true||^2 + 0.1/2 ||z||^2  s.t.  Delta_h w + z = 0`` (5-point Laplacian,
  zero Dirichlet boundary, h = 1/(N+1)), ``w_true(s, t) = sin(pi s) sin(pi t)``; a convex QP
  whose KKT solution is the reference.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

import numopt
from numopt.oracles import SmoothFunction

from ._lookup import check_int, check_real, check_seed, lookup

__all__ = ["logreg", "poisson_control", "get", "list_problems"]


class _Logistic(SmoothFunction):
    def __init__(self, X, y):
        self.X, self.y, self.n = X, y, X.shape[0]

    def value(self, w):
        return float(np.mean(np.logaddexp(0, -self.y * (self.X @ w))))

    def grad(self, w):
        return self.X.T @ (-self.y / (1 + np.exp(self.y * (self.X @ w)))) / self.n

    def hess(self, w):
        s = 1 / (1 + np.exp(-self.y * (self.X @ w)))
        D = s * (1 - s) / self.n
        H = self.X.T @ sp.diags(D) @ self.X if sp.issparse(self.X) else self.X.T @ (D[:, None] * self.X)
        return np.asarray(H.toarray() if sp.issparse(H) else H)

    def hvp(self, w, v):
        s = 1 / (1 + np.exp(-self.y * (self.X @ w)))
        return self.X.T @ (s * (1 - s) * (self.X @ v)) / self.n

    def has(self, name):
        return name in ("grad", "hess", "hvp")


class _Constraints:
    def __init__(self, A, b, quadratic=True, Lap=None):
        self.A, self.b, self.quadratic = A, b, quadratic
        self.m = A.shape[0] + (1 if quadratic else 0)

    def value(self, w):
        lin = self.A @ w - self.b
        return np.concatenate([lin, [w @ w - 1.0]]) if self.quadratic else lin

    def jacobian(self, w):
        A = self.A.toarray() if sp.issparse(self.A) else self.A
        return np.vstack([A, 2 * w[None, :]]) if self.quadratic else A

    def hess(self, w, lam):
        n = w.size
        return 2 * lam[-1] * np.eye(n) if self.quadratic else np.zeros((n, n))

    def has(self, name):
        return name in ("jacobian", "hess")


def logreg(dataset="a9a", n_eq=10, seed=0, data_dir=None):
    from . import libsvm

    n_eq = check_int(n_eq, "n_eq", lower=0)
    seed = check_seed(seed)
    X, y = libsvm.load(dataset, data_dir=data_dir)
    X, y = libsvm.preprocess(X, y, task="binary")
    rng = np.random.default_rng(seed)
    p = X.shape[1]
    A = rng.standard_normal((n_eq, p))
    w0 = rng.standard_normal(p)
    w0 /= np.linalg.norm(w0)
    cons = _Constraints(A, A @ w0)
    return numopt.Problem(objective=_Logistic(X.tocsr(), y), x0=np.full(p, 1 / np.sqrt(p)), constraints=cons,
                          name=f"constrained/logreg-{dataset}", source="Hong et al. (ICML 2023), Sec. 5",
                          meta={"m": cons.m})


class _Quad(SmoothFunction):
    def __init__(self, wt, alpha, N2):
        self.wt, self.alpha, self.N2 = wt, alpha, N2

    def value(self, x):
        w, z = x[:self.N2], x[self.N2:]
        return float(0.5 * np.sum((w - self.wt) ** 2) + 0.5 * self.alpha * z @ z)

    def grad(self, x):
        w, z = x[:self.N2], x[self.N2:]
        return np.concatenate([w - self.wt, self.alpha * z])

    def hess(self, x):
        return np.diag(np.concatenate([np.ones(self.N2), np.full(self.N2, self.alpha)]))

    def hvp(self, x, v):
        return np.concatenate([v[:self.N2], self.alpha * v[self.N2:]])

    def has(self, name):
        return name in ("grad", "hess", "hvp")


def poisson_control(N=10, alpha=0.1):
    N = check_int(N, "N", lower=2)
    alpha = check_real(alpha, "alpha", lower=0, lower_open=True)
    h = 1.0 / (N + 1)
    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(N, N))
    Lap = -(sp.kron(sp.eye(N), T) + sp.kron(T, sp.eye(N))) / h ** 2  # Delta_h (negative definite)
    s = np.arange(1, N + 1) * h
    S, Tt = np.meshgrid(s, s, indexing="ij")
    wt = (np.sin(np.pi * S) * np.sin(np.pi * Tt)).ravel()
    N2 = N * N
    A = sp.hstack([Lap, sp.eye(N2)]).tocsr()
    obj = _Quad(wt, alpha, N2)
    cons = _Constraints(A, np.zeros(N2), quadratic=False)
    # reference: KKT of the QP
    Hd = np.concatenate([np.ones(N2), np.full(N2, alpha)])
    K = sp.bmat([[sp.diags(Hd), A.T], [A, None]]).tocsc()
    sol = sp.linalg.spsolve(K, np.concatenate([np.concatenate([wt, np.zeros(N2)]), np.zeros(N2)]))
    xs = sol[:2 * N2]
    return numopt.Problem(objective=obj, x0=np.zeros(2 * N2), constraints=cons, x_star=xs, f_star=obj.value(xs),
                          f_star_tol=1e-10, name="constrained/poisson-control",
                          source="Hong et al. (ICML 2023); KKT solve", meta={"m": N2, "N": N})


def list_problems():
    from .libsvm import DATASETS

    return sorted([f"logreg-{d}" for d, info in DATASETS.items() if info.task == "binary"
                   and not d.endswith(".t")] + ["poisson-control"])


def get(name, **params):
    if name.startswith("logreg-"):
        return logreg(name[len("logreg-"):], **params)
    return lookup({"poisson-control": poisson_control}, name, "constrained problem")(**params)
