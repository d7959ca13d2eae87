import numpy as np
import pytest
import scipy.sparse as sp

from numopt import rates, sketch


def _system(rng, m=80, n=20):
    A = rng.standard_normal((m, n))
    xs = rng.standard_normal(n)
    return A, A @ xs, xs


@pytest.mark.parametrize("method", sketch.METHODS)
def test_consistent_system_solved(method, rng):
    A, b, xs = _system(rng)
    res = sketch.solve(A, b, method=method, tol=1e-11, rng=0, block_size=8)  # 10x below the asserted 1e-10
    assert res.success
    np.testing.assert_allclose(res.x, xs, atol=1e-8)  # measured <= 2.8e-11
    assert np.linalg.norm(A @ res.x - b) <= 1e-10 * np.linalg.norm(b)  # measured <= 9.8e-12 relative


def test_kaczmarz_linear_rate_matches_theory(rng):
    A, b, xs = _system(rng, 100, 10)
    q = sketch.rk_rate(A)
    # expected squared error over seeds, one step at a time
    K = 300
    errs = np.zeros(K + 1)
    for seed in range(30):
        g = np.random.default_rng(seed)
        x = np.zeros(10)
        row_sq = (A * A).sum(1)
        errs[0] += np.sum((x - xs) ** 2)
        for k in range(K):
            i = g.choice(100, p=row_sq / row_sq.sum())
            x = x + (b[i] - A[i] @ x) / row_sq[i] * A[i]
            errs[k + 1] += np.sum((x - xs) ** 2)
    errs /= 30
    bound = q ** np.arange(K + 1) * errs[0]
    assert np.all(errs <= bound * 1.5)  # the expectation bound (with sampling slack over 30 runs)
    fit = rates.fit_linear_rate(errs, start=10)
    assert fit.rate <= q + 0.01
    # and the library implementation follows the same law
    res = sketch.solve(A, b, method="kaczmarz", tol=1e-12, rng=1, check_every=1)
    assert rates.fit_linear_rate(res.trace["optimality"] ** 2, start=5).rate <= q + 0.02


def test_sparse_matrix_and_block_faster(rng):
    A, b, xs = _system(rng)
    r1 = sketch.solve(sp.csr_matrix(A), b, method="kaczmarz", tol=1e-8, rng=0, check_every=1)
    r2 = sketch.solve(A, b, method="block_kaczmarz", tol=1e-8, rng=0, block_size=10)
    assert r1.success and r2.success and r2.nit < r1.nit


def test_inconsistent_system_reports_failure(rng):
    A = rng.standard_normal((30, 5))
    b = rng.standard_normal(30)
    res = sketch.solve(A, b, method="kaczmarz", tol=1e-10, maxiter=2000, rng=0)
    assert not res.success and "inconsistent" in res.message


def test_bad_input():
    with pytest.raises(ValueError, match="method"):
        sketch.solve(np.eye(2), np.ones(2), method="nope")
    with pytest.raises(ValueError, match="`A`"):
        sketch.solve(np.eye(2), np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        sketch.solve(np.eye(2), np.array([1.0, np.nan]))
