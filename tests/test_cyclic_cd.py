"""A-CODER / VR-A-CODER (Lin, Song & Diakonikolas 2023) and cyclic BCD with recursive
variance reduction (Cai, Song, Wright & Diakonikolas 2023): optima against the BCD fast
path, duality-gap certificates, the accelerated dual-averaging bound, nonconvex
stationarity, bad input."""
import numpy as np
import pytest

import numopt
from numopt.datafits import Logistic, Quadratic, duality_gap
from numopt.oracles import FiniteSum, LinearComposite
from numopt.prox import L1, ElasticNet
from numopt.solvers.cyclic_cd import acoder, vr_cyclic_cd


def _lasso(n=80, d=12, lam=0.05, seed=1):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    b = A[:, :3] @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.standard_normal(n)
    return numopt.Problem(LinearComposite(Quadratic(b), A), regularizer=L1(lam))


def _logreg_enet(n=100, d=10, seed=2):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    y = np.sign(A @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n))
    return numopt.Problem(LinearComposite(Logistic(y), A), regularizer=ElasticNet(0.02, l1_ratio=0.5))


def _reference(P, d):
    ref = numopt.bcd(P, np.zeros(d), selection="cyclic", tol=1e-14, maxiter=100000)
    assert ref.success
    return ref


def _rel_gap(P, x):
    f = P.objective
    gap = duality_gap(f.A, f.loss, P.regularizer, x)[0]
    return gap / f.loss.value(np.zeros(f.A.shape[0]))


@pytest.mark.parametrize("blocks", [None, 4])
def test_acoder_lasso_optimum_and_gap(blocks):
    P = _lasso()
    ref = _reference(P, 12)
    res = acoder(P, np.zeros(12), blocks=blocks, tol=5e-8, maxiter=5000)
    assert res.success, res.message
    gap = _rel_gap(P, res.x)  # certificate recomputed outside the solver
    assert 0 <= gap <= 1e-6
    p0 = P.objective.loss.value(np.zeros(80))
    assert -1e-12 <= res.fun - ref.fun <= gap * p0 + 1e-12
    np.testing.assert_allclose(res.x, ref.x, atol=1e-2)


def test_acoder_accelerated_bound():
    """F(y_k) - F* <= ||x0 - x*||^2 / (2 A_k) with A_k >= k^2 / (8 L): the estimate-sequence
    bound of accelerated dual averaging, checked at every sweep."""
    P = _lasso()
    ref = _reference(P, 12)
    res = acoder(P, np.zeros(12), tol=1e-30, maxiter=150)
    F, Ak = np.asarray(res.trace["fun"]), np.asarray(res.trace["A_k"])
    L = res.trace["lipschitz"][0]
    k = np.arange(1, F.size)
    assert np.all(Ak[1:] >= k ** 2 / (8 * L) * (1 - 1e-12))
    R2 = float(ref.x @ ref.x)
    assert np.all(F[1:] - ref.fun <= R2 / (2 * Ak[1:]) + 1e-12)
    # and it is genuinely accelerated: the fitted order of F(y_k) - F* over k = 30..150 is ~k^-2
    kk = np.arange(30, 151)
    slope = np.polyfit(np.log(kk), np.log(F[kk] - ref.fun), 1)[0]
    assert slope < -1.8


def test_acoder_strongly_convex_logistic_linear():
    P = _logreg_enet()
    ref = _reference(P, 10)
    res = acoder(P, np.zeros(10), blocks=[np.arange(0, 10, 2), np.arange(1, 10, 2)], tol=1e-12, maxiter=20000)
    assert res.success
    gap = _rel_gap(P, res.x)
    assert gap <= 1e-11
    assert -1e-12 <= res.fun - ref.fun <= gap * P.objective.loss.value(np.zeros(100)) + 1e-12


def test_vr_acoder_finite_sum():
    P = _lasso(n=40, d=6)
    ref = _reference(P, 6)
    res = acoder(P, np.zeros(6), variance_reduction=True, tol=5e-8, maxiter=3000, rng=0)
    assert res.success, res.message
    gap = _rel_gap(P, res.x)
    assert gap <= 1e-6
    assert -1e-12 <= res.fun - ref.fun <= gap * P.objective.loss.value(np.zeros(40)) + 1e-12
    again = acoder(P, np.zeros(6), variance_reduction=True, tol=5e-8, maxiter=3000, rng=0)
    np.testing.assert_array_equal(res.x, again.x)  # the Generator fixes the minibatches


@pytest.mark.parametrize("vr", [False, True])
def test_vr_cd_lasso_optimum(vr):
    P = _lasso(n=60, d=8)
    ref = _reference(P, 8)
    res = vr_cyclic_cd(P, np.zeros(8), variance_reduction=vr, tol=5e-11, maxiter=5000, rng=1)
    assert res.success, res.message
    gap = _rel_gap(P, res.x)
    assert gap <= 1e-9
    assert -1e-12 <= res.fun - ref.fun <= gap * P.objective.loss.value(np.zeros(60)) + 1e-12


class _Cauchy(FiniteSum):
    """f(x) = (1/n) sum_i log(1 + (a_i^T x - b_i)^2): smooth and nonconvex."""

    def __init__(self, A, b):
        self.A, self.b = A, b
        self.n_samples = A.shape[0]
        self.lipschitz = 2.0 * float(np.max(np.sum(A * A, axis=1)))

    def value(self, x):
        return float(np.mean(np.log1p((self.A @ x - self.b) ** 2)))

    def _g(self, x, rows):
        r = self.A[rows] @ x - self.b[rows]
        return self.A[rows].T @ (2 * r / (1 + r * r)) / len(rows)

    def grad(self, x):
        return self._g(x, np.arange(self.n_samples))

    def grad_batch(self, x, idx):
        return self._g(x, np.asarray(idx))


@pytest.mark.parametrize("vr", [False, True])
def test_vr_cd_nonconvex_stationary(vr):
    rng = np.random.default_rng(3)
    A = rng.standard_normal((50, 6))
    b = A @ rng.standard_normal(6) + rng.standard_cauchy(50)
    f = _Cauchy(A, b)
    P = numopt.Problem(f, regularizer=L1(0.02))
    x0 = rng.standard_normal(6)
    res = vr_cyclic_cd(P, x0, blocks=2, variance_reduction=vr, tol=1e-8, maxiter=20000, rng=0)
    assert res.success, res.message
    g = f.grad(res.x)
    # gradient mapping computed here, independently of the solver
    mapping = res.x - L1(0.02).prox(res.x - g, 1.0)
    assert np.linalg.norm(mapping) <= 1e-6
    assert res.fun < P.value(x0)
    if not vr:  # the deterministic cyclic proximal gradient method (step 1/L) is a descent method
        assert np.all(np.diff(res.trace["fun"]) <= 1e-12)


def test_bad_input():
    P = _lasso()
    with pytest.raises(ValueError, match="blocks"):
        acoder(P, np.zeros(12), blocks=[np.arange(5), np.arange(4, 12)])
    with pytest.raises(ValueError, match="batch_size"):
        acoder(P, np.zeros(12), variance_reduction=True, batch_size=0)
    with pytest.raises(ValueError, match="x0"):
        vr_cyclic_cd(P, np.zeros(11))
    smooth = numopt.Problem(numopt.oracles.FunctionOracle(lambda x: float(x @ x), jac=lambda x: 2 * x, lipschitz=2.0),
                            regularizer=L1(0.1))
    with pytest.raises(ValueError, match="finite-sum"):
        vr_cyclic_cd(smooth, np.ones(3))
    with pytest.raises(TypeError, match="regularizer"):
        numopt.Problem(P.objective, L1(0.1))
