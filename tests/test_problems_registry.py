import numpy as np
import pytest

import numopt
import problems
from problems import synthetic


def test_get_unknown_family_and_name():
    with pytest.raises(ValueError, match="did you mean 'libsvm'"):
        problems.get("libsvn/a9a")
    with pytest.raises(ValueError, match="Did you mean 'a9a'"):
        problems.get("libsvm/a9b")
    with pytest.raises(ValueError, match="family/name"):
        problems.get("a9a")


def test_list_problems_prefix():
    names = problems.list_problems(prefix="synthetic")
    assert names and all(n.startswith("synthetic/") for n in names)
    assert "libsvm/a9a" in problems.list_problems()


def test_libsvm_problem_pinned_scaling(libsvm_dir):
    prob = problems.get("libsvm/heart_scale", model="logreg", penalty="l1", lam=0.01, data_dir=libsvm_dir)
    X, y = prob.objective.A, prob.objective.loss.y
    w = np.linspace(-0.2, 0.2, X.shape[1])
    expected = np.mean(np.log1p(np.exp(-y * (X @ w)))) + 0.01 * np.abs(w).sum()
    assert prob.value(w) == pytest.approx(expected, rel=1e-12)
    assert prob.x0.shape == (13,) and not np.any(prob.x0)


def test_quadratic_spectrum_and_optimum():
    p = synthetic.quadratic(n=40, cond=100, outliers=3, outlier_scale=50, seed=1)
    ev = np.linalg.eigvalsh(p.objective.Q)
    assert ev[0] == pytest.approx(0.01) and ev[-1] == pytest.approx(50)
    assert np.sum(ev > 10) == 3
    res = numopt.minimize(p, method="agd", tol=1e-10, options={"maxiter": 50000, "restart": "gradient"})
    assert abs(res.fun - p.f_star) <= 1e-8 * abs(p.f_star)


def test_eq_qp_kkt():
    p = synthetic.eq_qp(n=12, m=4, seed=2)
    A, b = p.meta["A"], p.meta["b"]
    np.testing.assert_allclose(A @ p.x_star, b, atol=1e-12)
    grad = p.objective.grad(p.x_star) + A.T @ p.meta["multipliers"]
    np.testing.assert_allclose(grad, 0, atol=1e-10)


def test_sparse_regression_and_logistic_generators():
    p = synthetic.sparse_regression(n=50, p=80, k=5, seed=3)
    assert np.count_nonzero(p.meta["w_true"]) == 5
    q = synthetic.sparse_regression(n=50, p=80, k=5, seed=3)
    np.testing.assert_array_equal(p.objective.A, q.objective.A)  # seeded
    lg = synthetic.logistic(n=100, p=10, cond=1e4, seed=0)
    s = np.linalg.svd(lg.objective.A, compute_uv=False)
    assert s[0] / s[-1] == pytest.approx(100, rel=1e-8)
    with pytest.raises(ValueError, match="rho"):
        synthetic.sparse_regression(rho=1.5)
