"""Bilevel: hypergradients vs closed form and finite differences; methods reach known solutions."""
import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import numopt
from numopt.solvers.bilevel import BilevelProblem, bilevel, bilevel_hypergradient


def _ridge(seed=0, n=30, p=20):
    rng = np.random.default_rng(seed)
    wt = rng.standard_normal(p)
    X = rng.standard_normal((n, p))
    y = X @ wt + 3.0 * rng.standard_normal(n)
    Xv = rng.standard_normal((200, p))
    yv = Xv @ wt + 0.1 * rng.standard_normal(200)

    def lower(t, w):
        r = X @ w - y
        return 0.5 * r @ r + 0.5 * np.exp(t[0]) * w @ w, np.array([0.5 * np.exp(t[0]) * w @ w]), X.T @ r + np.exp(t[0]) * w

    def upper(t, w):
        r = Xv @ w - yv
        return 0.5 * r @ r / 200, np.zeros(1), Xv.T @ r / 200

    def wstar(t):
        return np.linalg.solve(X.T @ X + np.exp(t) * np.eye(p), X.T @ y)

    return BilevelProblem(upper, lower), (X, y, Xv, yv, wstar)


def test_ridge_hypergradient_closed_form_and_finite_differences():
    P, (X, y, Xv, yv, wstar) = _ridge()
    p = X.shape[1]
    for t in (-1.0, 0.5, 2.0):
        w = wstar(t)
        # dPhi/dt = -e^t w*^T (X^T X + e^t I)^{-1} Xv^T (Xv w* - yv) / n_v
        closed = -np.exp(t) * w @ np.linalg.solve(X.T @ X + np.exp(t) * np.eye(p), Xv.T @ (Xv @ w - yv)) / 200
        phi = lambda s: P.upper(np.array([s]), wstar(s))[0]  # noqa: E731
        fd = (phi(t + 1e-5) - phi(t - 1e-5)) / 2e-5
        for solver, kw in (("cg", {}), ("exact", {}), ("neumann", {"neumann_step": 1 / (np.linalg.norm(X, 2) ** 2 + 10),
                                                                     "maxiter": 20000})):
            hg, _ = bilevel_hypergradient(P, np.array([t]), w, linear_solver=solver, **kw)
            assert hg[0] == pytest.approx(closed, rel=1e-5, abs=1e-10)
            assert hg[0] == pytest.approx(fd, rel=1e-4, abs=1e-9)


@pytest.mark.parametrize("method", ["implicit", "hoag"])
def test_ridge_regularization_optimum(method):
    P, (X, y, Xv, yv, wstar) = _ridge()
    ref = minimize_scalar(lambda s: P.upper(np.array([s]), wstar(s))[0], bounds=(-10, 10), method="bounded",
                          options={"xatol": 1e-10})
    # inner problem solved in closed form (any solver can be plugged in)
    res = bilevel(P, np.array([0.0]), np.zeros(20), method=method, maxiter=60, tol=1e-9,
                  inner=lambda t, w0, tol: wstar(t[0]))
    assert res.x[0] == pytest.approx(ref.x, abs=0.05)
    assert res.fun == pytest.approx(ref.fun, rel=1e-6)
    assert res.trace["lower_residual"][-1] <= 1e-6
    np.testing.assert_allclose(res.y, wstar(res.x[0]), atol=1e-6)


def _quadratic_toy(n=5, seed=1):
    """F = 1/2||x - a||^2 + 1/2||y - b||^2, G = 1/2||y - B x||^2: y*(x) = Bx,
    x* = (I + B^T B)^{-1} (a + B^T b)."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    B = rng.standard_normal((n, n)) / np.sqrt(n)

    def upper(x, y):
        return 0.5 * np.sum((x - a) ** 2) + 0.5 * np.sum((y - b) ** 2), x - a, y - b

    def lower(x, y):
        r = y - B @ x
        return 0.5 * r @ r, -B.T @ r, r

    xs = np.linalg.solve(np.eye(n) + B.T @ B, a + B.T @ b)
    return BilevelProblem(upper, lower), xs, B


# measured max errors in x: implicit 1.7e-7 (reached by k = 100; its hypergradient norm then
# stalls at 8e-7, the accuracy of the gradient differences), hoag 1.3e-9, f2sa 5.5e-4
# (lam0 = 30: the 1/lam_k bias is 30x smaller than with 1)
@pytest.mark.parametrize("method,kw,maxiter", [
    ("implicit", {}, 300), ("hoag", {}, 3000),
    ("f2sa", {"step": 0.2, "inner_step": 0.5, "inner_steps": 10, "lam0": 30.0}, 1000)])
def test_quadratic_toy_known_solution(method, kw, maxiter):
    P, xs, B = _quadratic_toy()
    res = bilevel(P, np.zeros(5), np.zeros(5), method=method, maxiter=maxiter, tol=1e-7, **kw)
    tol = 1e-5 if method != "f2sa" else 1e-2  # F2SA's bias shrinks like 1/lam_k
    np.testing.assert_allclose(res.x, xs, atol=tol)
    np.testing.assert_allclose(res.y, B @ res.x, atol=max(tol, 1e-6) * 10)


def test_f2sa_is_first_order_only():
    P, xs, B = _quadratic_toy()
    P._hvp = P._cross = lambda *a: (_ for _ in ()).throw(AssertionError("second-order call"))
    calls = {"n": 0}
    orig = P.hvp_yy

    def spy(*a):
        calls["n"] += 1
        return orig(*a)

    P.hvp_yy = spy
    bilevel(P, np.zeros(5), np.zeros(5), method="f2sa", maxiter=50, tol=0, step=0.2, inner_step=0.5)
    assert calls["n"] == 0


def test_bad_declarations():
    with pytest.raises(TypeError, match="upper"):
        BilevelProblem(3, lambda x, y: (0, x, y))
    P = BilevelProblem(lambda x, y: (0.0, x, y[:2]), lambda x, y: (0.0, x, y))
    with pytest.raises(ValueError, match="grad_y"):
        bilevel(P, np.zeros(2), np.zeros(3))
    Q, _, _ = _quadratic_toy()
    with pytest.raises(ValueError, match="unknown method"):
        bilevel(Q, np.zeros(5), np.zeros(5), method="bome2")
    with pytest.raises(TypeError, match="BilevelProblem"):
        bilevel(object(), np.zeros(2), np.zeros(2))
    assert numopt.bilevel is bilevel and numopt.BilevelProblem is BilevelProblem
