"""Projected Newton for bounds (Bertsekas 1982): known optima, references, rate, errors."""
import numpy as np
import pytest
import scipy.optimize as so
from scipy.optimize import rosen, rosen_der, rosen_hess, rosen_hess_prod

import numopt


def _bounded_lsq(seed=0, m=60, n=25):
    rng = np.random.default_rng(seed)
    A, b = rng.standard_normal((m, n)), rng.standard_normal(m)
    lo, hi = -0.1 * np.ones(n), 0.15 * np.ones(n)
    return A, b, lo, hi


def test_bounded_least_squares_matches_lsq_linear():
    """min 1/2 ||A x - b||^2 on a box (several bounds active): x agrees with scipy's
    lsq_linear (an independent active-set/trust-region solver) to 1e-8, with the projected
    gradient below 1e-10."""
    A, b, lo, hi = _bounded_lsq()
    ref = so.lsq_linear(A, b, bounds=(lo, hi), tol=1e-14, method="bvls")
    res = numopt.minimize(lambda x: 0.5 * float(np.sum((A @ x - b) ** 2)), np.zeros(A.shape[1]),
                          jac=lambda x: A.T @ (A @ x - b), hess=lambda x: A.T @ A,
                          bounds=list(zip(lo, hi)), method="projected-newton", tol=1e-10)
    assert res.success and res.optimality <= 1e-10
    active = np.sum((ref.x <= lo + 1e-12) | (ref.x >= hi - 1e-12))
    assert active >= 5  # the test exercises the active set
    np.testing.assert_allclose(res.x, ref.x, atol=1e-8)
    assert res.nit <= 15


def test_bounded_logistic_regression_matches_lbfgsb():
    """Strongly convex (l2-regularized logistic loss) on [-0.2, 0.2]^8, several bounds
    active: the unique minimizer agrees with scipy's L-BFGS-B at a tight tolerance, from
    Hessian-vector products only (hessp)."""
    from numopt.solvers.quasi_newton import _example

    ex = _example(np, hessp=True)
    bounds = [(-0.2, 0.2)] * 8
    res = numopt.minimize(ex["fun"], ex["x0"], jac=ex["jac"], hessp=ex["hessp"], bounds=bounds,
                          method="projected-newton", tol=1e-10)
    ref = so.minimize(ex["fun"], ex["x0"], jac=ex["jac"], bounds=bounds, method="L-BFGS-B",
                      options={"gtol": 1e-13, "ftol": 1e-16, "maxiter": 10000})
    assert res.success and res.optimality <= 1e-10
    assert np.sum(np.abs(res.x) >= 0.2 - 1e-12) >= 2
    np.testing.assert_allclose(res.x, ref.x, atol=1e-7)
    assert res.fun == pytest.approx(ref.fun, rel=1e-12)


def test_rosenbrock_with_active_bounds_is_a_kkt_point():
    """Rosenbrock in 6 variables on [-2, 0.5]^6 (nonconvex: local minima differ by start and
    method): the returned point is a KKT point by an independent check (projected gradient
    of scipy's rosen_der, in gradient units, below 1e-9; measured 5e-15) with x_1 at its upper
    bound."""
    x0, bounds = np.array([-1.2, 1.0, -0.5, 0.3, 0.1, -1.0]), [(-2.0, 0.5)] * 6
    res = numopt.minimize(rosen, x0, jac=rosen_der, hessp=rosen_hess_prod, bounds=bounds,
                          method="projected-newton", tol=1e-10)
    assert res.success
    g = rosen_der(res.x)
    at_hi, at_lo = res.x >= 0.5, res.x <= -2.0
    pg = np.where(at_hi, np.maximum(g, 0), np.where(at_lo, np.minimum(g, 0), g))
    assert np.max(np.abs(pg)) <= 1e-9 and at_hi[0]


def test_superlinear_local_rate():
    """Once the active set is identified the iteration is Newton's method on the free
    variables: the projected gradient falls superlinearly (the last ratios pg_{k+1} /
    pg_k shrink far below any linear rate)."""
    x0, bounds = np.array([-1.2, 1.0, -0.5, 0.3]), [(-2.0, 0.8)] * 4
    res = numopt.minimize(rosen, x0, jac=rosen_der, hess=rosen_hess, bounds=bounds, method="projected-newton",
                          tol=1e-12)
    pg = np.asarray(res.trace["optimality"])
    assert res.success and pg[-1] <= 1e-12
    # a linear method has pg_{k+1} / pg_k bounded below by its rate; here one step from
    # pg_k <= 1e-3 (above rounding) divides the measure by more than 1e4 (measured 1e6)
    ratios = [b / a for a, b in zip(pg[:-1], pg[1:]) if a <= 1e-3 and b >= 1e-13]
    assert ratios and min(ratios) < 1e-4


def test_without_bounds_is_newton_cg():
    """No bounds: a line-search Newton-CG; the minimizer of Rosenbrock (1, ..., 1)."""
    res = numopt.minimize(rosen, np.full(5, -1.0), jac=rosen_der, hess=rosen_hess, method="projected-newton",
                          tol=1e-10)
    assert res.success
    np.testing.assert_allclose(res.x, np.ones(5), atol=1e-9)


def test_x0_outside_the_box_is_clipped_and_names():
    res = numopt.minimize(lambda x: float(np.sum((x - 3) ** 2)), np.array([10.0, -10.0]),
                          jac=lambda x: 2 * (x - 3), hess=lambda x: 2 * np.eye(2), bounds=[(0, 1), (0, 1)],
                          method="projected_newton")
    assert res.success
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-12)
    with pytest.raises((ValueError, TypeError), match="hess"):
        numopt.minimize(rosen, np.zeros(3), jac=rosen_der, bounds=[(0, 1)] * 3, method="projected-newton")
    with pytest.raises(ValueError, match="bounds"):
        numopt.minimize(rosen, np.zeros(3), jac=rosen_der, hess=rosen_hess, bounds=[(1, 0)] * 3,
                        method="projected-newton")


def test_singular_hessian_step_is_capped():
    """HS3 (S2MPJ): f = x2 + 1e-5 (x2 - x1)^2, x2 >= 0, from (10, 1); the Hessian is singular,
    so CG returns a step of norm ~5e36; the step cap (max_step) and the projected Armijo test
    reach the solution (0, 0) in a few iterations (it failed the search before)."""
    import problems.cutest as C

    p = C.s2mpj("HS3")
    res = numopt.minimize(p, method="projected-newton")
    assert res.success and res.nit <= 10
    np.testing.assert_allclose(res.x, [0.0, 0.0], atol=1e-6)
