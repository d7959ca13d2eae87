import numpy as np
import pytest

import numopt
import problems
from numopt.solvers.second_order import cubic_step


def test_cubic_step_solves_the_model(rng):
    for _ in range(5):
        A = rng.standard_normal((6, 6))
        H = 0.5 * (A + A.T)  # indefinite
        g = rng.standard_normal(6)
        M = 2.0
        lam, U = np.linalg.eigh(H)
        hb, r = cubic_step(lam, U.T @ g, M)
        h = U @ hb
        model = lambda v: g @ v + 0.5 * v @ H @ v + M / 6 * np.linalg.norm(v) ** 3  # noqa: E731
        # global minimizer conditions of the cubic model (Nesterov & Polyak 2006, Thm 10)
        np.testing.assert_allclose(H @ h + r * h, -g, atol=1e-8)
        assert r == pytest.approx(M / 2 * np.linalg.norm(h), rel=1e-8)
        assert np.linalg.eigvalsh(H + r * np.eye(6))[0] >= -1e-8
        for _ in range(50):
            assert model(h) <= model(h + 0.1 * rng.standard_normal(6)) + 1e-12


def test_second_order_stationary_point_from_a_saddle():
    # f = x^4/4 - x^2/2 + y^2/2 has a strict saddle at 0 and minima at (+-1, 0)
    f = lambda v: float(v[0] ** 4 / 4 - v[0] ** 2 / 2 + v[1] ** 2 / 2)  # noqa: E731
    g = lambda v: np.array([v[0] ** 3 - v[0], v[1]])  # noqa: E731
    H = lambda v: np.diag([3 * v[0] ** 2 - 1, 1.0])  # noqa: E731
    res = numopt.minimize(f, np.array([1e-12, 0.5]), jac=g, hess=H, method="lazy-newton", tol=1e-10)
    assert res.success and abs(abs(res.x[0]) - 1) < 1e-8
    assert np.linalg.eigvalsh(H(res.x))[0] > 0  # second-order stationary


def test_superlinear_on_strongly_convex_and_lazy_counts():
    p = problems.synthetic.logistic(n=200, p=10, cond=100, penalty="l2", lam_ratio=0.01, seed=0)
    f, reg = p.objective, p.regularizer

    def fun(w):
        return f.value(w) + reg.value(w)

    def jac(w):
        return f.grad(w) + reg.lam * w

    def hess(w):
        return f.hess(w) + reg.lam * np.eye(10)

    res = numopt.minimize(fun, np.zeros(10), jac=jac, hess=hess, method="lazy-newton", tol=1e-11,
                          options={"m": 5})
    assert res.success
    gn = res.trace["optimality"]
    assert gn[-1] <= 1e-11 and gn[-1] < 1e-3 * gn[-3]  # fast local phase
    assert res.nhev == int(np.ceil(res.nit / 5))  # one Hessian per m = 5 steps
    import scipy.optimize as so

    ref = so.minimize(fun, np.zeros(10), jac=jac, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 0})
    assert res.fun == pytest.approx(ref.fun, rel=1e-10)
    fresh = numopt.minimize(fun, np.zeros(10), jac=jac, hess=hess, method="lazy-newton", tol=1e-11,
                            options={"m": 1})
    assert fresh.nhev == fresh.nit and res.nhev < fresh.nhev


def test_requires_hessian_and_bad_parameters():
    with pytest.raises(ValueError, match="Hessian"):
        numopt.minimize(lambda x: float(x @ x), np.ones(2), jac=lambda x: 2 * x, method="lazy-newton")
    with pytest.raises(ValueError, match="M0"):
        numopt.minimize(lambda x: float(x @ x), np.ones(2), jac=lambda x: 2 * x, hess=lambda x: 2 * np.eye(2),
                        method="lazy-newton", options={"M0": -1.0})
