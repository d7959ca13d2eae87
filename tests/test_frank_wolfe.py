"""Frank-Wolfe variants reach the cvxpy optimum; the FW gap certifies suboptimality;
away/pairwise are linear where vanilla is sublinear; zeroth-order uses no gradients."""
import numpy as np
import pytest

import numopt
from numopt import lmo as L
from numopt import rates


def _simplex_ls(seed=0, m=40, n=15):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    b = A @ rng.dirichlet(np.ones(n) * 0.3) + 0.05 * rng.standard_normal(m)
    return A, b


def _cvx_simplex_ls(A, b):
    cp = pytest.importorskip("cvxpy")
    w = cp.Variable(A.shape[1])
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(A @ w - b)), [w >= 0, cp.sum(w) == 1])
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return prob.value, w.value


@pytest.mark.parametrize("variant", ["away", "pairwise"])
def test_active_set_variants_reach_cvxpy_optimum_linearly(variant):
    A, b = _simplex_ls()
    fstar, wstar = _cvx_simplex_ls(A, b)
    f = lambda x: 0.5 * float(np.sum((A @ x - b) ** 2))  # noqa: E731
    g = lambda x: A.T @ (A @ x - b)  # noqa: E731
    res = numopt.frank_wolfe(f, np.eye(15)[0], L.Simplex(1.0), jac=g, variant=variant, tol=1e-10, maxiter=20000)
    assert res.success and res.gap <= 1e-10
    assert abs(res.fun - fstar) <= 1e-8 * max(1, abs(fstar))
    # FW gap bounds the suboptimality at every iterate
    assert np.all(res.trace["fun"] - fstar <= res.trace["gap"] + 1e-9)
    fit = rates.fit_linear_rate(res.trace["fun"] - fstar, start=5, floor=1e-11)
    assert fit.rate < 0.999 and fit.r2 > 0.8


def test_vanilla_sublinear_and_rate_bound():
    A, b = _simplex_ls(1)
    fstar, _ = _cvx_simplex_ls(A, b)
    Lc = np.linalg.norm(A, 2) ** 2
    f = lambda x: 0.5 * float(np.sum((A @ x - b) ** 2))  # noqa: E731
    g = lambda x: A.T @ (A @ x - b)  # noqa: E731
    res = numopt.frank_wolfe(f, np.eye(15)[0], L.Simplex(1.0), jac=g, tol=0, maxiter=3000, step="open-loop")
    ok, e, bound = rates.check_bound(res, fstar, L=Lc, R=np.sqrt(2))  # simplex diameter sqrt(2)
    assert ok
    assert np.all(e <= res.trace["gap"] + 1e-12)
    away = numopt.frank_wolfe(f, np.eye(15)[0], L.Simplex(1.0), jac=g, variant="away", tol=0, maxiter=3000)
    assert away.fun - fstar < 1e-3 * (res.fun - fstar)  # linear beats sublinear


def test_l1_ball_logistic_matches_cvxpy():
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(3)
    X = rng.standard_normal((100, 10))
    y = np.sign(X[:, 0] - X[:, 1] + 0.3 * rng.standard_normal(100))
    w = cp.Variable(10)
    prob = cp.Problem(cp.Minimize(cp.sum(cp.logistic(-cp.multiply(y, X @ w))) / 100), [cp.norm1(w) <= 1.0])
    prob.solve(solver=cp.CLARABEL)
    f = lambda v: float(np.mean(np.logaddexp(0, -y * (X @ v))))  # noqa: E731
    g = lambda v: X.T @ (-y / (1 + np.exp(y * (X @ v)))) / 100  # noqa: E731
    for variant in ["vanilla", "away", "pairwise"]:
        res = numopt.frank_wolfe(f, np.zeros(10), L.L1Ball(1.0), jac=g, variant=variant, tol=1e-8, maxiter=50000)
        assert res.success
        assert res.fun == pytest.approx(prob.value, abs=2e-7)


def test_nuclear_norm_ball_matrix_completion():
    rng = np.random.default_rng(4)
    U, V = rng.standard_normal((12, 2)), rng.standard_normal((10, 2))
    M = U @ V.T
    mask = rng.uniform(size=M.shape) < 0.5
    radius = 0.8 * np.linalg.svd(M, compute_uv=False).sum()
    f = lambda X: 0.5 * float(np.sum((mask * (X - M)) ** 2))  # noqa: E731
    g = lambda X: mask * (X - M)  # noqa: E731
    res = numopt.frank_wolfe(f, np.zeros_like(M), L.NuclearNormBall(radius), jac=g, tol=1e-3, maxiter=5000)
    assert res.x.shape == M.shape
    assert np.linalg.svd(res.x, compute_uv=False).sum() <= radius * (1 + 1e-9)
    cp = pytest.importorskip("cvxpy")
    Z = cp.Variable(M.shape)
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(cp.multiply(mask, Z - M))), [cp.normNuc(Z) <= radius])
    prob.solve(solver=cp.SCS, eps=1e-9)
    assert res.gap <= 5e-2  # sublinear on this set: the gap decreases slowly
    assert res.trace["gap"][-1] < 1e-3 * res.trace["gap"][0]
    assert -1e-6 <= res.fun - prob.value <= res.gap + 1e-6  # the gap certifies the suboptimality


def test_zeroth_order_uses_no_gradients_and_converges():
    A, b = _simplex_ls(5, 30, 6)
    fstar, _ = _cvx_simplex_ls(A, b)
    f = lambda x: 0.5 * float(np.sum((A @ x - b) ** 2))  # noqa: E731
    finals = []
    for seed in range(5):
        res = numopt.frank_wolfe(f, np.full(6, 1 / 6), L.Simplex(1.0), variant="zeroth-order", maxiter=2000,
                                 rng=seed, directions=5)
        assert res.njev == 0 and res.nfev > 0
        finals.append(res.fun - fstar)
        start_gap = res.trace["fun"][0] - fstar
    assert np.mean(finals) < 0.05 * start_gap


def test_missing_lmo_and_bad_variant():
    with pytest.raises(ValueError, match="linear minimization oracle"):
        numopt.minimize(lambda x: float(x @ x), np.zeros(3), jac=lambda x: 2 * x, method="frank-wolfe")
    with pytest.raises(ValueError, match="variant"):
        numopt.frank_wolfe(lambda x: 0.0, np.zeros(2), L.Simplex(), variant="nope")
