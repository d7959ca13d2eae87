"""Bilevel test problems: toys with known solutions and hyperparameter-learning applications.

``problems.get("bilevel/NAME", **params)`` returns a :class:`BilevelInstance` whose
``problem`` is a :class:`numopt.BilevelProblem`; ``x0``/``y0`` are starting points, and
``x_star``/``y_star`` the known solution where there is one. ``solve_lower(x, y0, tol)``
solves the lower level (closed form or L-BFGS) and can be passed as ``inner=`` to the
implicit/HOAG methods.

* ``bda-toy``: F = 1/2||x - y2||^2 + 1/2||y1 - e||^2, G = 1/2||y1||^2 - x^T y1 (y2 does not
  enter G: the lower-level solution set {y1 = x} is not a singleton); the optimistic
  solution is x = y1 = y2 = e (Liu et al., BDA, ICML 2020; used by sl-BAMM, ICML 2023).
* ``lv-hba-toy``: the same F, G = 1/2||y1||^2 - x^T y1 + e^T y2, with the coupled lower-level
  constraint x + y1 + y2 = 0; eliminating y2 gives x = -0.3e, y1 = 0.7e, y2 = -0.4e (the
  solution quoted for the LV-HBA toy, Yao et al., ICLR 2024).
* ``sin-toy``: a nonconvex lower level, G = sum_i sin(x + y_i - c_i), F = 1/2 x^2 +
  1/2||y - a||^2: the lower-level minimizers are y_i = c_i - x - pi/2 + 2 pi k_i, so the
  reduced problem is piecewise quadratic; ``branch_solution(y)`` gives the optimum of
  the branch (k_i) that y lies on and ``x_star`` the global one.
* ``quadratic``: F = 1/2||x - a||^2 + 1/2||y - b||^2, G = 1/2 y^T H y - y^T B x with H of
  condition number ``cond``; x* = (I + M^T M)^{-1}(a + M^T b), M = H^{-1} B.
* ``ridge``: validation least squares of ridge regression with regularization e^x (scalar,
  or per feature with ``per_feature=True``) on synthetic data or a LIBSVM dataset
  (``dataset="housing_scale"``); exact second-order products; both levels declared as finite
  sums (``n_samples=(n_val, n_train)``, oracles ``upper(x, w, idx)``/``lower(x, w, idx)``) for
  the stochastic methods; ``meta["value"](x)`` is the closed-form value function.
* ``logreg``: l2-regularized logistic regression on a LIBSVM dataset (default a9a), with
  regularization e^x (scalar or per feature); validation loss on the test split, as in
  benchopt's bilevel benchmark; finite-sum oracles as for ``ridge``.
* ``bome-coreset``: the toy coreset problem of BOME (Liu, Ye, Wright, Stone & Liu, NeurIPS
  2022): the lower level places a point y in R^2 at the convex combination softmax(x)^T C of
  four points C (x in R^4 are logits), the upper level pulls it to a target t:
  F = 0.1||y - t||^2, G = ||C^T softmax(x) - y||^2. The known solution y* = (1.8, 0.4) (the
  paper's "x*", its lower variable) is the projection of t onto the hull of C; see
  :func:`bome_coreset` for what is reconstructed and why the logits have no finite optimum.
* ``multiblock-quadratic`` (a :class:`numopt.solvers.bilevel.MultiBlockBilevelProblem`, for
  ``method="bsvrb"``): m blocks, each with its own least-squares lower level
  g_i = mean_j 1/2 (a_ij^T y - b_ij^T x)^2 + lam/2 ||y||^2 and validation upper level
  f_i = mean_j 1/2 (p_ij^T y - q_ij)^2 + rho/2 ||x||^2; both finite sums; x* in closed form.
* ``multitask-ridge`` (multi-block): one shared log-regularization x (scalar or per
  feature) for the ridge regressions of m tasks, validation loss averaged over the tasks;
  ``meta["value"](x)`` is the closed-form value function (the reference x* comes from a
  scalar search / L-BFGS on it).
* ``hyper-cleaning``: per-sample weights sigmoid(x_i) on a linear softmax model trained on
  scikit-learn's digits with a fraction of the training labels corrupted; upper level =
  validation cross-entropy on clean data. ``meta["corrupted"]`` marks the corrupted samples.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from numopt.solvers.bilevel import BilevelProblem

__all__ = ["BilevelInstance", "get", "list_problems"]


@dataclass
class BilevelInstance:
    problem: BilevelProblem
    x0: np.ndarray
    y0: np.ndarray
    name: str
    x_star: np.ndarray | None = None
    y_star: np.ndarray | None = None
    solve_lower: object = None
    meta: dict = field(default_factory=dict)


def _rng(seed):
    return np.random.default_rng(seed)


def bda_toy(n=10):
    e = np.ones(n)

    def upper(x, y):
        y1, y2 = y[:n], y[n:]
        return (0.5 * np.sum((x - y2) ** 2) + 0.5 * np.sum((y1 - e) ** 2), x - y2,
                np.concatenate([y1 - e, y2 - x]))

    def lower(x, y):
        y1 = y[:n]
        return 0.5 * y1 @ y1 - x @ y1, -y1, np.concatenate([y1 - x, np.zeros(n)])

    def hvp(x, y, v):
        return np.concatenate([v[:n], np.zeros(n)])

    def cross(x, y, v):
        return -v[:n]

    P = BilevelProblem(upper, lower, lower_hvp=hvp, lower_cross=cross)
    return BilevelInstance(P, np.zeros(n), np.zeros(2 * n), "bda-toy", x_star=e.copy(),
                           y_star=np.concatenate([e, e]), meta={"singleton_lower": False})


def lv_hba_toy(n=100):
    e = np.ones(n)

    def upper(x, y):
        y1, y2 = y[:n], y[n:]
        return (0.5 * np.sum((x - y2) ** 2) + 0.5 * np.sum((y1 - e) ** 2), x - y2,
                np.concatenate([y1 - e, y2 - x]))

    def lower(x, y):
        y1, y2 = y[:n], y[n:]
        return 0.5 * y1 @ y1 - x @ y1 + e @ y2, -y1, np.concatenate([y1 - x, e])

    eye = np.eye(n)
    P = BilevelProblem(upper, lower, coupled=(eye, np.hstack([eye, eye]), np.zeros(n)))
    return BilevelInstance(P, np.zeros(n), np.zeros(2 * n), "lv-hba-toy", x_star=-0.3 * e,
                           y_star=np.concatenate([0.7 * e, -0.4 * e]))


def sin_toy(n=5, seed=0):
    rng = _rng(seed)
    a, c = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)

    def upper(x, y):
        return 0.5 * x @ x + 0.5 * np.sum((y - a) ** 2), x.copy(), y - a

    def lower(x, y):
        t = x[0] + y - c
        return float(np.sum(np.sin(t))), np.array([np.sum(np.cos(t))]), np.cos(t)

    d = c - math.pi / 2 - a  # branch k: y_i - a_i = d_i - x + 2 pi k_i

    def branch_solution(y, x=None):
        """Optimum (x, y) of the reduced problem on the branch containing y."""
        x = 0.0 if x is None else float(np.ravel(x)[0])
        k = np.round((y - (c - x - math.pi / 2)) / (2 * math.pi))
        xs = np.sum(d + 2 * math.pi * k) / (n + 1)
        return np.array([xs]), c - xs - math.pi / 2 + 2 * math.pi * k

    def phi(x):  # optimistic value function: best branch for each coordinate
        r = d - x
        r = r - 2 * math.pi * np.round(r / (2 * math.pi))
        return 0.5 * x * x + 0.5 * np.sum(r ** 2)

    grid = np.linspace(-2 * math.pi, 2 * math.pi, 4001)
    xg = grid[np.argmin([phi(t) for t in grid])]
    k0 = np.round(-(d - xg) / (2 * math.pi))
    x_star, y_star = branch_solution(c - xg - math.pi / 2 + 2 * math.pi * k0, xg)
    P = BilevelProblem(upper, lower)
    return BilevelInstance(P, np.zeros(1), np.zeros(n), "sin-toy", x_star=x_star, y_star=y_star,
                           meta={"branch_solution": branch_solution, "a": a, "c": c, "singleton_lower": False})


def quadratic(n=10, m=None, cond=100.0, seed=0):
    rng = _rng(seed)
    m = n if m is None else m
    a, b = rng.standard_normal(n), rng.standard_normal(m)
    Q, _ = np.linalg.qr(rng.standard_normal((m, m)))
    H = (Q * np.geomspace(1.0, cond, m)) @ Q.T
    B = rng.standard_normal((m, n)) / math.sqrt(n)

    def upper(x, y):
        return 0.5 * np.sum((x - a) ** 2) + 0.5 * np.sum((y - b) ** 2), x - a, y - b

    def lower(x, y):
        Hy, Bx = H @ y, B @ x
        return 0.5 * y @ Hy - y @ Bx, -B.T @ y, Hy - Bx

    M = np.linalg.solve(H, B)
    xs = np.linalg.solve(np.eye(n) + M.T @ M, a + M.T @ b)
    P = BilevelProblem(upper, lower, lower_hvp=lambda x, y, v: H @ v, lower_cross=lambda x, y, v: -B.T @ v)
    return BilevelInstance(P, np.zeros(n), np.zeros(m), "quadratic", x_star=xs, y_star=M @ xs,
                           solve_lower=lambda x, y0, tol: np.linalg.solve(H, B @ x), meta={"H": H, "B": B})


def _ridge_data(dataset, n, p, seed, data_dir, noise=1.0):
    if dataset is None:
        rng = _rng(seed)
        wt = rng.standard_normal(p) * (rng.random(p) < 0.5)
        X = rng.standard_normal((n, p))
        Xv = rng.standard_normal((max(n, 200), p))
        return X, X @ wt + noise * rng.standard_normal(n), Xv, Xv @ wt + rng.standard_normal(Xv.shape[0])
    from problems import libsvm
    X, y, Xv, yv = libsvm.train_test(dataset, data_dir=data_dir, seed=seed)
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X, float)
    Xv = Xv.toarray() if hasattr(Xv, "toarray") else np.asarray(Xv, float)
    y, yv = np.asarray(y, float), np.asarray(yv, float)
    # centre features and targets with the training means: an unpenalized intercept
    mx, my = X.mean(axis=0), y.mean()
    return X - mx, y - my, Xv - mx, yv - my


def ridge(dataset=None, per_feature=False, n=60, p=20, seed=0, data_dir=None, noise=1.0):
    """Hyperparameter x = log regularization of ridge regression (scalar or per feature).

    Synthetic data (``dataset=None``): Gaussian design, a half-sparse truth, training noise of
    standard deviation ``noise`` (validation noise 1). LIBSVM data: features and targets
    centred with the training means (an unpenalized intercept). Both levels are declared as
    finite sums (``n_samples=(n_val, n_train)``): ``upper(x, w, idx)`` and ``lower(x, w, idx)``
    average the validation / training terms ``idx`` (the l2 term is in every lower term), for
    the stochastic methods (``batch_size=``)."""
    X, y, Xv, yv = _ridge_data(dataset, n, p, seed, data_dir, noise)
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X, float)
    Xv = Xv.toarray() if hasattr(Xv, "toarray") else np.asarray(Xv, float)
    n, p = X.shape
    nv = Xv.shape[0]
    XtX, Xty = X.T @ X / n, X.T @ y / n
    d = p if per_feature else 1

    def reg(x):
        return np.exp(x) if per_feature else np.full(p, np.exp(x[0]))

    def rows(A, b, idx):
        return (A, b) if idx is None else (A[idx], b[idx])

    def lower(x, w, idx=None):
        A, b = rows(X, y, idx)
        r = A @ w - b
        lam = reg(x)
        gx = 0.5 * lam * w * w
        m = A.shape[0]
        return 0.5 * r @ r / m + 0.5 * lam @ (w * w), gx if per_feature else np.array([gx.sum()]), A.T @ r / m + lam * w

    def upper(x, w, idx=None):
        A, b = rows(Xv, yv, idx)
        r = A @ w - b
        return 0.5 * r @ r / A.shape[0], np.zeros(d), A.T @ r / A.shape[0]

    def hvp(x, w, v, idx=None):
        if idx is None:
            return XtX @ v + reg(x) * v
        A = X[idx]
        return A.T @ (A @ v) / A.shape[0] + reg(x) * v

    def cross(x, w, v, idx=None):
        t = reg(x) * w * v
        return t if per_feature else np.array([t.sum()])

    def solve_lower(x, w0=None, tol=None):
        return np.linalg.solve(XtX + np.diag(reg(np.asarray(x, float))), Xty)

    def value(x):
        """The value function Phi(x) = F(x, w*(x)) (closed-form lower level)."""
        x = np.atleast_1d(np.asarray(x, float))
        r = Xv @ solve_lower(x) - yv
        return 0.5 * r @ r / nv

    P = BilevelProblem(upper, lower, lower_hvp=hvp, lower_cross=cross, n_samples=(nv, n))
    return BilevelInstance(P, np.zeros(d), np.zeros(p), "ridge", solve_lower=solve_lower,
                           meta={"X": X, "y": y, "Xv": Xv, "yv": yv, "value": value})


def _lbfgs_lower(G, tol):
    from scipy.optimize import minimize

    def solve(x, y0, tol_=None):
        r = minimize(lambda w: G(x, w)[::2], y0, jac=True, method="L-BFGS-B",
                     options={"gtol": tol_ or tol, "ftol": 0.0, "maxiter": 10000, "maxcor": 20})
        return r.x
    return solve


def logreg(dataset="a9a", per_feature=False, n_samples=None, seed=0, data_dir=None, inner_tol=1e-10):
    """Hyperparameter x = log l2 regularization of logistic regression on a LIBSVM dataset."""
    import scipy.sparse as sp
    from scipy.special import expit, log_expit

    from problems import libsvm
    X, y, Xv, yv = libsvm.train_test(dataset, data_dir=data_dir, seed=seed)
    if n_samples is not None:
        X, y = X[:n_samples], y[:n_samples]
    X, Xv = sp.csr_matrix(X), sp.csr_matrix(Xv)
    y, yv = np.where(np.asarray(y) > 0, 1.0, -1.0), np.where(np.asarray(yv) > 0, 1.0, -1.0)
    n, p = X.shape
    nv = Xv.shape[0]
    d = p if per_feature else 1

    def reg(x):
        return np.exp(x) if per_feature else np.full(p, np.exp(x[0]))

    def rows(A, b, idx):
        return (A, b) if idx is None else (A[idx], b[idx])

    def lower(x, w, idx=None):
        A, b = rows(X, y, idx)
        m = b * (A @ w)
        lam = reg(x)
        gx = 0.5 * lam * w * w
        return (-np.mean(log_expit(m)) + 0.5 * lam @ (w * w), gx if per_feature else np.array([gx.sum()]),
                A.T @ (-b * expit(-m)) / b.size + lam * w)

    def upper(x, w, idx=None):
        A, b = rows(Xv, yv, idx)
        m = b * (A @ w)
        return -np.mean(log_expit(m)), np.zeros(d), A.T @ (-b * expit(-m)) / b.size

    def hvp(x, w, v, idx=None):
        A, b = rows(X, y, idx)
        s = expit(b * (A @ w))
        return A.T @ (s * (1 - s) * (A @ v)) / b.size + reg(x) * v

    def cross(x, w, v, idx=None):
        t = reg(x) * w * v
        return t if per_feature else np.array([t.sum()])

    P = BilevelProblem(upper, lower, lower_hvp=hvp, lower_cross=cross, n_samples=(nv, n))
    return BilevelInstance(P, np.zeros(d), np.zeros(p), f"logreg-{dataset}", solve_lower=_lbfgs_lower(lower, inner_tol),
                           meta={"n": n, "p": p})


def hyper_cleaning(n_train=300, n_val=300, corruption=0.5, rho=1e-3, seed=0, inner_tol=1e-9):
    """Data hyper-cleaning on scikit-learn's digits (8x8 images, 10 classes)."""
    from scipy.special import expit, log_softmax, softmax
    from sklearn.datasets import load_digits

    rng = _rng(seed)
    A, lab = load_digits(return_X_y=True)
    A = np.hstack([A / 16.0, np.ones((A.shape[0], 1))])
    perm = rng.permutation(A.shape[0])
    tr, va = perm[:n_train], perm[n_train:n_train + n_val]
    At, bt, Av, bv = A[tr], lab[tr].copy(), A[va], lab[va]
    K, p = 10, A.shape[1]
    bad = rng.random(n_train) < corruption
    bt[bad] = (bt[bad] + rng.integers(1, K, bad.sum())) % K  # a different label
    Yt, Yv = np.eye(K)[bt], np.eye(K)[bv]
    n = n_train

    def lower(x, w):
        W = w.reshape(p, K)
        Z = At @ W
        ce = -np.sum(Yt * log_softmax(Z, axis=1), axis=1)
        s = expit(x)
        R = (softmax(Z, axis=1) - Yt) * (s / n)[:, None]
        return (s @ ce / n + 0.5 * rho * w @ w, expit(x) * (1 - expit(x)) * ce / n,
                (At.T @ R).ravel() + rho * w)

    def upper(x, w):
        Z = Av @ w.reshape(p, K)
        return (-np.mean(np.sum(Yv * log_softmax(Z, axis=1), axis=1)), np.zeros(n),
                (Av.T @ (softmax(Z, axis=1) - Yv)).ravel() / Av.shape[0])

    def hvp(x, w, v):
        P_ = softmax(At @ w.reshape(p, K), axis=1)
        S = At @ v.reshape(p, K)
        T = P_ * S - P_ * np.sum(P_ * S, axis=1, keepdims=True)
        return (At.T @ (T * (expit(x) / n)[:, None])).ravel() + rho * v

    def cross(x, w, v):
        P_ = softmax(At @ w.reshape(p, K), axis=1)
        s = expit(x)
        return s * (1 - s) / n * np.sum((P_ - Yt) * (At @ v.reshape(p, K)), axis=1)

    P = BilevelProblem(upper, lower, lower_hvp=hvp, lower_cross=cross)
    return BilevelInstance(P, np.zeros(n), np.zeros(p * K), "hyper-cleaning",
                           solve_lower=_lbfgs_lower(lower, inner_tol), meta={"corrupted": bad, "n_classes": K})


def _softmax(x):
    z = np.exp(x - np.max(x))
    return z / z.sum()


def bome_coreset(points=None, target=None):
    """BOME's toy coreset problem (Liu, Ye, Wright, Stone & Liu, "BOME! Bilevel Optimization Made
    Easy: A Simple First-Order Approach", NeurIPS 2022, toy experiment).

    Find the convex combination of four points c_1..c_4 in R^2 closest to a target t:
    the upper variable x in R^4 holds logits, p = softmax(x) the weights; the lower variable y
    in R^2 is the combination, y*(x) = argmin_y G(x, y) with

        G(x, y) = ||C^T p(x) - y||^2,     F(x, y) = 0.1 ||y - t||^2,

    C = [(1, 3), (3, 1), (-2, 2), (-3, -2)] (rows), t = (3, -2).

    Reconstruction: the paper describes the problem in words and gives the solution
    (1.8, 0.4), its lower variable (named x there); the points, the target and the 0.1 / no-1/2
    scalings are our reading of the authors' public toy script (reading only; no code is
    taken). The test re-derives the solution independently: the projection of t onto the
    convex hull of C lies on the edge [c_2, c_4] at t' = 0.2, y* = 0.8 c_2 + 0.2 c_4 =
    (1.8, 0.4), and a non-negative least-squares solve on the simplex gives the same point.

    The upper problem in x has an infimum, F* = 0.1 ||y* - t||^2 = 0.72, that no finite x
    attains: y* is on a face of the hull, so it needs weights exactly (0, 0.8, 0, 0.2), i.e.
    x_1, x_3 -> -inf with x_2 - x_4 = log 4. Methods approach y* while x_1, x_3 decrease
    without bound; the excess F - F* is linear in p_1 + p_3, so gradient steps shrink it
    like O(1/k) (``x_star`` is None; ``y_star`` and ``meta["weights_star"]`` give the limit).
    The start is x0 = 0 (uniform weights) and y0 = (0, 3), one of the paper's starts."""
    C = np.array([[1.0, 3.0], [3.0, 1.0], [-2.0, 2.0], [-3.0, -2.0]]) if points is None \
        else np.asarray(points, dtype=float)
    t = np.array([3.0, -2.0]) if target is None else np.asarray(target, dtype=float)
    if C.ndim != 2 or t.shape != (C.shape[1],):
        raise ValueError(f"`points` must be (k, d) and `target` (d,), got {C.shape} and {t.shape}")

    def upper(x, y):
        r = y - t
        return 0.1 * r @ r, np.zeros_like(x), 0.2 * r

    def lower(x, y):
        p = _softmax(x)
        r = C.T @ p - y
        u = 2 * C @ r  # d G / d p
        return r @ r, p * (u - p @ u), -2 * r

    def hvp(x, y, v):
        return 2 * np.asarray(v, dtype=float)

    def cross(x, y, v):  # grad_xy G v = -2 J_p C v with J_p = diag(p) - p p^T
        p = _softmax(x)
        w = C @ v
        return -2 * p * (w - p @ w)

    w_star = np.array([0.0, 0.8, 0.0, 0.2]) if points is None and target is None else None
    y_star = C.T @ w_star if w_star is not None else None
    P = BilevelProblem(upper, lower, lower_hvp=hvp, lower_cross=cross)
    return BilevelInstance(P, np.zeros(C.shape[0]), np.array([0.0, 3.0]) if C.shape[1] == 2 else np.zeros(C.shape[1]),
                           "bome-coreset", x_star=None, y_star=y_star,
                           solve_lower=lambda x, y0=None, tol=None: C.T @ _softmax(np.asarray(x, float)),
                           meta={"points": C, "target": t, "weights_star": w_star, "softmax": _softmax,
                                 "fun_star": None if y_star is None else 0.1 * float(np.sum((y_star - t) ** 2))})


def _multiblock_instance(name, MB, x0, Y0, x_star=None, **meta):
    return BilevelInstance(MB, x0, Y0, name, x_star=x_star, meta=meta)


def multiblock_quadratic(m=8, n=40, n_val=20, dx=3, dy=4, lam=0.1, rho=0.01, noise=0.1, seed=0):
    """Multi-block bilevel least squares with a closed-form solution (for BSVRB).

    Block i: lower g_i(x, y) = (1/n) sum_j 1/2 (a_ij^T y - b_ij^T x - e_ij)^2 + lam/2 ||y||^2,
    so y_i*(x) = M_i x + c_i with M_i = H_i^{-1} A_i^T B_i / n, c_i = H_i^{-1} A_i^T e_i / n,
    H_i = A_i^T A_i / n + lam I; upper f_i(x, y) = (1/n_val) sum_j 1/2 (p_ij^T y - q_ij)^2 +
    rho/2 ||x||^2. Phi(x) = (1/m) sum_i ||P_i (M_i x + c_i) - q_i||^2 / (2 n_val) + rho/2 ||x||^2
    is a strongly convex quadratic: x* = (K + rho I)^{-1} k with K = (1/m) sum M_i^T P_i^T P_i M_i / n_val,
    k = (1/m) sum M_i^T P_i^T (q_i - P_i c_i) / n_val. Both levels are finite sums
    (``n_samples=(n_val, n)``; oracles take ``idx``); exact Hessian-vector and cross products,
    and dense block Hessians."""
    from numopt.solvers.bilevel import MultiBlockBilevelProblem
    rng = _rng(seed)
    A = rng.standard_normal((m, n, dy))
    C = rng.standard_normal((m, dy, dx)) / math.sqrt(dx)
    Bm = A @ C  # b_ij = C_i^T a_ij: the lower data are consistent up to the noise e_ij
    E = noise * rng.standard_normal((m, n))
    P = rng.standard_normal((m, n_val, dy))
    xt = rng.standard_normal(dx)
    Q = np.empty((m, n_val))
    Ms, cs = [], []
    for i in range(m):
        H = A[i].T @ A[i] / n + lam * np.eye(dy)
        Ms.append(np.linalg.solve(H, A[i].T @ Bm[i] / n))
        cs.append(np.linalg.solve(H, A[i].T @ E[i] / n))
        Q[i] = P[i] @ (Ms[i] @ xt + cs[i]) + noise * rng.standard_normal(n_val)

    # per-block arrays in lists: the oracles are called a few times per block and iteration
    Al, Bl, El, Pl, Ql = list(A), list(Bm), list(E), list(P), list(Q)
    AB = [np.hstack([A[i], Bm[i], E[i][:, None]]) for i in range(m)]  # one gather per minibatch
    eye = np.eye(dy)

    def lower(i, x, y, idx=None):
        if idx is None:
            a, b, e = Al[i], Bl[i], El[i]
        else:
            t = AB[i][idx]
            a, b, e = t[:, :dy], t[:, dy:dy + dx], t[:, -1]
        r = a @ y - b @ x - e
        k = r.size
        return 0.5 * (r @ r) / k + 0.5 * lam * (y @ y), (b.T @ r) / -k, (a.T @ r) / k + lam * y

    def upper(i, x, y, idx=None):
        p, q = (Pl[i], Ql[i]) if idx is None else (Pl[i][idx], Ql[i][idx])
        r = p @ y - q
        return 0.5 * (r @ r) / r.size + 0.5 * rho * (x @ x), rho * x, (p.T @ r) / r.size

    def hvp(i, x, y, v, idx=None):
        a = Al[i] if idx is None else Al[i][idx]
        return a.T @ (a @ v) / a.shape[0] + lam * v

    def cross(i, x, y, v, idx=None):
        if idx is None:
            a, b = Al[i], Bl[i]
        else:
            t = AB[i][idx]
            a, b = t[:, :dy], t[:, dy:dy + dx]
        return (b.T @ (a @ v)) / -a.shape[0]

    def hess(i, x, y, idx=None):
        a = Al[i] if idx is None else Al[i][idx]
        return a.T @ a / a.shape[0] + lam * eye

    K = sum(M.T @ P[i].T @ P[i] @ M for i, M in enumerate(Ms)) / (m * n_val)
    kv = sum(M.T @ P[i].T @ (Q[i] - P[i] @ cs[i]) for i, M in enumerate(Ms)) / (m * n_val)
    xs = np.linalg.solve(K + rho * np.eye(dx), kv)
    MB = MultiBlockBilevelProblem(upper, lower, m, lower_hvp=hvp, lower_cross=cross, lower_hessian=hess,
                                  n_samples=(n_val, n))

    def y_star(x):
        return np.array([M @ x + c for M, c in zip(Ms, cs)])

    def value(x):
        return MB.value(x, y_star(x))
    inst = _multiblock_instance("multiblock-quadratic", MB, np.zeros(dx), np.zeros((m, dy)), x_star=xs,
                                y_star_fn=y_star, value=value, hessian=K + rho * np.eye(dx))
    inst.y_star = y_star(xs)
    inst.solve_lower = lambda x, Y0=None, tol=None: y_star(np.asarray(x, float))
    return inst


def multitask_ridge(m=6, n=30, n_val=30, p=5, per_feature=False, noise=1.0, seed=0):
    """One regularization e^x (scalar, or per feature) shared by the ridge regressions of m
    tasks (block i: lower = task i's training least squares + e^x/2 ||w||^2, upper = task i's
    validation least squares); Phi(x) = mean_i F_i(x, w_i*(x)) in closed form
    (``meta["value"]``). Tasks share a sparse-ish ground truth plus task-specific deviations,
    so an intermediate regularization is optimal. Finite sums (``n_samples=(n_val, n)``)."""
    from numopt.solvers.bilevel import MultiBlockBilevelProblem
    rng = _rng(seed)
    w0 = rng.standard_normal(p) * (rng.random(p) < 0.6)
    W = w0 + 0.3 * rng.standard_normal((m, p))
    X = rng.standard_normal((m, n, p))
    Yt = np.einsum("inp,ip->in", X, W) + noise * rng.standard_normal((m, n))
    Xv = rng.standard_normal((m, n_val, p))
    Yv = np.einsum("inp,ip->in", Xv, W) + noise * rng.standard_normal((m, n_val))
    d = p if per_feature else 1

    def reg(x):
        return np.exp(x) if per_feature else np.full(p, np.exp(x[0]))

    def rows(i, idx, *arrs):
        return tuple(a[i] if idx is None else a[i][idx] for a in arrs)

    def lower(i, x, w, idx=None):
        a, b = rows(i, idx, X, Yt)
        r = a @ w - b
        lam = reg(x)
        gx = 0.5 * lam * w * w
        return 0.5 * r @ r / r.size + 0.5 * lam @ (w * w), gx if per_feature else np.array([gx.sum()]), \
            a.T @ r / r.size + lam * w

    def upper(i, x, w, idx=None):
        a, b = rows(i, idx, Xv, Yv)
        r = a @ w - b
        return 0.5 * r @ r / r.size, np.zeros(d), a.T @ r / r.size

    def hvp(i, x, w, v, idx=None):
        a, = rows(i, idx, X)
        return a.T @ (a @ v) / a.shape[0] + reg(x) * v

    def cross(i, x, w, v, idx=None):
        t = reg(x) * w * v
        return t if per_feature else np.array([t.sum()])

    def hess(i, x, w, idx=None):
        a, = rows(i, idx, X)
        return a.T @ a / a.shape[0] + np.diag(reg(x))

    def y_star(x):
        x = np.atleast_1d(np.asarray(x, float))
        return np.array([np.linalg.solve(X[i].T @ X[i] / n + np.diag(reg(x)), X[i].T @ Yt[i] / n) for i in range(m)])

    MB = MultiBlockBilevelProblem(upper, lower, m, lower_hvp=hvp, lower_cross=cross, lower_hessian=hess,
                                  n_samples=(n_val, n))

    def value(x):
        x = np.atleast_1d(np.asarray(x, float))
        Ws = y_star(x)
        return float(np.mean([0.5 * np.mean((Xv[i] @ Ws[i] - Yv[i]) ** 2) for i in range(m)]))
    inst = _multiblock_instance("multitask-ridge", MB, np.zeros(d), np.zeros((m, p)), y_star_fn=y_star, value=value)
    inst.solve_lower = lambda x, Y0=None, tol=None: y_star(x)
    return inst


_PROBLEMS = {"bda-toy": bda_toy, "lv-hba-toy": lv_hba_toy, "sin-toy": sin_toy, "quadratic": quadratic,
             "ridge": ridge, "logreg": logreg, "hyper-cleaning": hyper_cleaning,
             "bome-coreset": bome_coreset, "multiblock-quadratic": multiblock_quadratic,
             "multitask-ridge": multitask_ridge}


def list_problems():
    return list(_PROBLEMS)


def get(name, **params):
    if name not in _PROBLEMS:
        raise ValueError(f"unknown bilevel problem {name!r}; available: {', '.join(_PROBLEMS)}")
    return _PROBLEMS[name](**params)
