"""Coordinate descent for fractional minimization (Yuan, ICML 2023)."""
import numpy as np
import pytest
import scipy.linalg as sla

from numopt.solvers.fractional_cd import _sweep_py, coordinate_subproblem, fractional_cd


def _pair(n=20, seed=0):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    N = rng.standard_normal((n, 2 * n))
    return M @ M.T / n + 0.1 * np.eye(n), N @ N.T / (2 * n) + 0.5 * np.eye(n), rng


def _F(A, B, lam, x):
    return (0.5 * x @ A @ x + lam * np.abs(x).sum()) / (0.5 * x @ B @ x)


def test_one_dimensional_subproblem_is_solved_globally():
    rng = np.random.default_rng(1)
    for _ in range(200):
        p2, p1, p0 = rng.uniform(-1, 2), rng.standard_normal(), rng.uniform(0, 2)
        q2, q0 = rng.uniform(0.1, 2), rng.uniform(0.5, 2)
        q1 = rng.uniform(-1, 1) * np.sqrt(q2 * q0)  # D > 0 everywhere
        lam, xi, rest, r = rng.uniform(0, 1), rng.uniform(-1, 1), rng.uniform(0, 1), 2.0
        t, v = coordinate_subproblem(p2, p1, p0, q2, q1, q0, lam, xi, rest, r)
        grid = np.linspace(-r - xi, r - xi, 200001)
        vals = (p2 * grid ** 2 + p1 * grid + p0 + lam * np.abs(xi + grid) + rest) / (q2 * grid ** 2 + q1 * grid + q0)
        assert v <= vals.min() + 1e-9 and abs(xi + t) <= r + 1e-12


def test_rayleigh_quotient_reaches_the_smallest_generalized_eigenvalue():
    A, B, rng = _pair()
    res = fractional_cd(A, B, rng.standard_normal(20), maxiter=5000, tol=1e-15)
    lmin = sla.eigh(A, B, eigvals_only=True)[0]
    assert res.success and res.fun == pytest.approx(lmin, rel=1e-9)
    assert np.all(np.diff(res.trace["fun"]) <= 1e-15)  # monotone


@pytest.mark.parametrize("selection", ["cyclic", "random"])
def test_l1_fractional_program_ends_coordinatewise_stationary(selection):
    A, B, rng = _pair(seed=2)
    lam = 0.05
    res = fractional_cd(A, B, rng.uniform(-1, 1, 20), lam=lam, radius=1.0, maxiter=5000, tol=1e-14,
                        selection=selection, rng=0)
    assert res.success
    assert np.all(np.diff(res.trace["fun"]) <= 1e-14)
    assert res.fun == pytest.approx(_F(A, B, lam, res.x), rel=1e-12)
    x = res.x
    grid = np.linspace(-1, 1, 4001)
    for i in range(20):  # no single coordinate change (dense grid) lowers F
        X = np.repeat(x[None], grid.size, axis=0)
        X[:, i] = grid
        vals = [(0.5 * z @ A @ z + lam * np.abs(z).sum()) / (0.5 * z @ B @ z) for z in X]
        assert min(vals) >= res.fun - 1e-9
    assert np.abs(x).max() <= 1.0 + 1e-12


def test_numba_sweep_equals_python_sweep():
    from numopt.solvers._fractional_numba import sweep

    A, B, rng = _pair(seed=3)
    x1 = rng.uniform(-1, 1, 20)
    x2 = x1.copy()
    order = rng.integers(0, 20, size=40)
    g1 = _sweep_py(A, B, np.zeros(20), np.zeros(20), 0.0, 0.0, 0.1, x1, A @ x1, B @ x1, order, 1.0)
    g2 = sweep(A, B, np.zeros(20), np.zeros(20), 0.0, 0.0, 0.1, x2, A @ x2, B @ x2, order, 1.0)
    np.testing.assert_allclose(x1, x2, rtol=1e-9, atol=1e-12)
    assert g1 == pytest.approx(g2, rel=1e-10)


def test_bad_inputs():
    A, B, rng = _pair(n=4)
    with pytest.raises(ValueError, match="A"):
        fractional_cd(A[:3, :3], B, np.ones(4))
    with pytest.raises(ValueError, match="symmetric"):
        fractional_cd(A + np.triu(np.ones((4, 4)), 1), B, np.ones(4))
    with pytest.raises(ValueError, match="denominator"):
        fractional_cd(A, B, np.zeros(4))
    with pytest.raises(ValueError, match="lam"):
        fractional_cd(A, B, np.ones(4), lam=-1.0)
    with pytest.raises(ValueError, match="radius"):
        fractional_cd(A, B, np.ones(4), radius=0.5)
    with pytest.raises(ValueError, match="selection"):
        fractional_cd(A, B, np.ones(4), selection="gs")
