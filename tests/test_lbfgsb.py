"""L-BFGS-B ('l-bfgs-b'): optima against scipy's L-BFGS-B and a bounded least-squares solver,
the projected-gradient certificate, honest statuses, scipy's option names, dtype and
namespaces."""
import math

import numpy as np
import pytest
from scipy.optimize import Bounds, lsq_linear, rosen, rosen_der
from scipy.optimize import minimize as sp_minimize

import numopt
from numopt._backend import to_numpy


def _pg(x, g, lo, hi):
    return float(np.max(np.abs(np.clip(x - g, lo, hi) - x)))


def _lsq(seed=0, m=40, n=15):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    b = rng.standard_normal(m)

    def fun(x):
        r = A @ x - b
        return 0.5 * float(r @ r)

    def jac(x):
        return A.T @ (A @ x - b)

    return A, b, fun, jac


def test_rosenbrock_with_active_upper_bounds_matches_scipy():
    n = 10
    x0 = np.full(n, -1.2)
    bounds = [(-np.inf, 0.5)] * n
    ref = sp_minimize(rosen, x0, jac=rosen_der, method="L-BFGS-B", bounds=bounds,
                      options={"gtol": 1e-12, "ftol": 0, "maxiter": 20000, "maxfun": 50000})
    res = numopt.minimize(rosen, x0, jac=rosen_der, method="L-BFGS-B", bounds=bounds, tol=1e-7,
                          options={"ftol": 0})
    assert res.success and res.status == 0 and res.method == "l-bfgs-b"
    assert res.x[0] == 0.5  # the bound is active at the solution
    # the certificate: the projected gradient, recomputed here, is below tol
    assert _pg(res.x, rosen_der(res.x), -np.inf, 0.5) <= 1e-7
    assert res.optimality <= 1e-7
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-8)   # measured 1.3e-10
    assert res.fun == pytest.approx(ref.fun, rel=1e-12)


def test_bounded_least_squares_matches_bvls():
    A, b, fun, jac = _lsq()
    lo, hi = np.full(15, -0.2), np.full(15, 0.3)
    ref = lsq_linear(A, b, bounds=(lo, hi), method="bvls", tol=1e-14)
    res = numopt.minimize(fun, np.zeros(15), jac=jac, method="l-bfgs-b", bounds=Bounds(lo, hi),
                          tol=1e-9, options={"ftol": 0})
    assert res.success
    assert np.sum((ref.x == lo) | (ref.x == hi)) >= 3       # several bounds active
    assert _pg(res.x, jac(res.x), lo, hi) <= 1e-9
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-8)   # measured ~1e-11
    assert np.all(res.x >= lo) and np.all(res.x <= hi)


def test_x0_outside_the_box_is_clipped_as_scipy_does():
    A, b, fun, jac = _lsq(1)
    bounds = [(0.0, 1.0)] * 15
    x0 = np.linspace(-3, 3, 15)            # most entries outside
    ref = sp_minimize(fun, x0, jac=jac, method="L-BFGS-B", bounds=bounds, options={"gtol": 1e-12, "ftol": 0})
    exact = lsq_linear(A, b, bounds=(0.0, 1.0), method="bvls", tol=1e-14).x
    res = numopt.minimize(fun, x0, jac=jac, method="l-bfgs-b", bounds=bounds, tol=1e-10, options={"ftol": 0})
    assert res.success
    np.testing.assert_allclose(res.x, exact, rtol=0, atol=1e-8)     # measured ~1e-11
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-6)     # scipy's own accuracy: ~1e-8
    # the first iterate of the trace is the clipped x0, and scipy's first step is taken from there too
    assert res.trace["fun"][0] == pytest.approx(fun(np.clip(x0, 0, 1)), rel=1e-14)
    first = numopt.minimize(fun, x0, jac=jac, method="l-bfgs-b", bounds=bounds, options={"maxiter": 1})
    ref1 = sp_minimize(fun, x0, jac=jac, method="L-BFGS-B", bounds=bounds, options={"maxiter": 1})
    np.testing.assert_allclose(first.x, ref1.x, rtol=0, atol=1e-12)


def test_without_bounds_it_is_lbfgs_with_scipys_evaluation_count():
    x0 = np.array([-1.2, 1.0, -1.2, 1.0, 0.5])
    ref = sp_minimize(rosen, x0, jac=rosen_der, method="L-BFGS-B", options={"gtol": 1e-8, "ftol": 0})
    res = numopt.minimize(rosen, x0, jac=rosen_der, method="lbfgsb", tol=1e-8, options={"ftol": 0})
    assert res.success and res.optimality <= 1e-8
    np.testing.assert_allclose(res.x, np.ones(5), atol=1e-7)
    assert res.nfev <= 1.2 * ref.nfev + 5


def test_scipy_option_names_reach_the_method():
    A, b, fun, jac = _lsq(2)
    kw = dict(jac=jac, method="L-BFGS-B", bounds=[(-0.1, 0.1)] * 15)
    x0 = np.zeros(15)
    # gtol is the tolerance on the projected gradient
    loose = numopt.minimize(fun, x0, options={"gtol": 1e-2, "ftol": 0}, **kw)
    tight = numopt.minimize(fun, x0, options={"gtol": 1e-9, "ftol": 0}, **kw)
    assert loose.success and tight.success and loose.nit < tight.nit
    assert 1e-9 < loose.optimality <= 1e-2 and tight.optimality <= 1e-9
    # maxfun: status 1, the count is honoured
    r = numopt.minimize(fun, x0, options={"maxfun": 4, "ftol": 0, "gtol": 1e-12}, **kw)
    assert r.status == 1 and not r.success and "maxfun" in r.message and r.nfev <= 5
    # maxcor: the number of pairs kept
    r = numopt.minimize(fun, x0, options={"maxcor": 2, "maxiter": 8, "ftol": 0, "gtol": 1e-14}, **kw)
    assert np.nanmax(r.trace["n_pairs"]) == 2
    # maxls: one evaluation per line search at most
    r = numopt.minimize(rosen, np.full(4, -1.0), jac=rosen_der, method="L-BFGS-B",
                        options={"maxls": 1, "maxiter": 30, "ftol": 0})
    assert np.all(np.diff(r.trace["nfev"]) <= 1)
    # ftol: a distinct, unsuccessful status when the projected gradient is not below tol
    r = numopt.minimize(fun, x0, options={"ftol": 1e-1, "gtol": 1e-12}, **kw)
    assert r.status == 6 and not r.success and "ftol" in r.message and r.optimality > 1e-12


def test_bad_options_name_themselves():
    A, b, fun, jac = _lsq()
    with pytest.raises(ValueError, match="memory"):
        numopt.minimize(fun, np.zeros(15), jac=jac, method="l-bfgs-b", options={"maxcor": 0})
    with pytest.raises(TypeError, match="did you mean"):
        numopt.minimize(fun, np.zeros(15), jac=jac, method="l-bfgs-b", options={"maxcorr": 3})


def test_float32_is_kept():
    A, b, fun, jac = _lsq(3)
    A32, b32 = A.astype(np.float32), b.astype(np.float32)

    def jac32(x):
        return A32.T @ (A32 @ x - b32)

    lo, hi = -0.2, 0.3
    ref = lsq_linear(A, b, bounds=(lo, hi), method="bvls", tol=1e-14)
    res = numopt.minimize(fun, np.zeros(15, dtype=np.float32), jac=jac32, method="l-bfgs-b",
                          bounds=[(lo, hi)] * 15, options={"ftol": 0})
    assert res.x.dtype == np.float32 and res.jac.dtype == np.float32
    assert res.success                      # default tol adapted to float32
    np.testing.assert_allclose(res.x, ref.x, atol=2e-3)   # measured 1.8e-4


def test_array_api_strict_agrees_with_numpy():
    xps = pytest.importorskip("array_api_strict")
    A, b, fun, jac = _lsq(4)
    As, bs = xps.asarray(A), xps.asarray(b)

    def fun_s(x):
        r = As @ x - bs
        return 0.5 * float(xps.sum(r * r))

    def jac_s(x):
        return As.T @ (As @ x - bs)

    bounds = [(-0.2, 0.3)] * 15
    r_np = numopt.minimize(fun, np.zeros(15), jac=jac, method="l-bfgs-b", bounds=bounds, tol=1e-9,
                           options={"ftol": 0})
    r_st = numopt.minimize(fun_s, xps.zeros(15, dtype=xps.float64), jac=jac_s, method="l-bfgs-b",
                           bounds=bounds, tol=1e-9, options={"ftol": 0})
    assert type(r_st.x).__module__.startswith("array_api_strict")
    assert r_np.success and r_st.success and r_np.nit == r_st.nit
    np.testing.assert_allclose(to_numpy(r_st.x), r_np.x, rtol=0, atol=1e-12)


def test_wrong_gradient_is_not_success():
    def jac(x):
        return -rosen_der(x)        # an ascent direction: no step decreases f

    res = numopt.minimize(rosen, np.zeros(3), jac=jac, method="l-bfgs-b", bounds=[(-1, 1)] * 3)
    assert not res.success and res.status == 5 and "ine search" in res.message


def test_nonfinite_region_is_avoided():
    # f is +inf beyond x = 2: the line search shrinks back into the finite region
    def fun(x):
        return math.inf if np.any(x > 2) else float(np.sum((x - 3) ** 2))

    def jac(x):
        return 2 * (x - 3)

    res = numopt.minimize(fun, np.zeros(2), jac=jac, method="l-bfgs-b", bounds=[(None, 2.0)] * 2,
                          tol=1e-10)
    assert res.success
    np.testing.assert_allclose(res.x, [2.0, 2.0], atol=1e-12)


def test_lbfgsb_family_function():
    from numopt.solvers.lbfgsb import lbfgsb

    A, b, fun, jac = _lsq()
    res = lbfgsb(fun, np.zeros(15), jac=jac, bounds=[(0, None)] * 15, tol=1e-9, ftol=0)
    ref = lsq_linear(A, b, bounds=(0, np.inf), method="bvls", tol=1e-14)
    assert res.success
    np.testing.assert_allclose(res.x, ref.x, atol=1e-8)


def _random_model(n=40, m=5, seed=0):
    """A compact L-BFGS model from random pairs with s'y > 0, its dense B, and a point in a box."""
    from numopt.solvers.lbfgsb import _Memory

    rng = np.random.default_rng(seed)
    mem = _Memory(m, np)
    H = rng.standard_normal((n, n))
    H = H @ H.T / n + 0.5 * np.eye(n)
    for _ in range(m + 2):                       # more pairs than memory: the oldest are dropped
        s = rng.standard_normal(n)
        y = H @ s
        assert mem.update(s, y, float(s @ y), float(y @ y))
    W, M, th = mem.W, mem.M, mem.theta
    B = th * np.eye(n) - W @ M @ W.T
    lo, hi = -rng.uniform(0.05, 1, n), rng.uniform(0.05, 1, n)
    lo[:3], hi[3:6] = -np.inf, np.inf
    x = np.clip(rng.uniform(-1, 1, n), lo, hi)
    x[6], x[7] = lo[6], hi[7]                    # start on a bound
    g = 3 * rng.standard_normal(n)
    return mem, B, lo, hi, x, g


def _dense_cauchy(x, g, lo, hi, B):
    """The generalized Cauchy point by walking the segments of P(x - t g) with the dense model."""
    t_old, p = 0.0, x.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        tb = np.where(g < 0, (x - hi) / g, np.where(g > 0, (x - lo) / g, np.inf))
    for t_next in list(np.unique(tb[(tb > 0) & np.isfinite(tb)])) + [np.inf]:
        dseg = np.where(tb > t_old, -g, 0.0)
        q1 = (g + B @ (p - x)) @ dseg
        q2 = dseg @ B @ dseg
        if q1 >= 0:
            return p
        tau = -q1 / q2
        if tau < t_next - t_old:
            return p + tau * dseg
        p = np.clip(x - t_next * g, lo, hi)
        t_old = t_next
    return p


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cauchy_point_matches_a_dense_segment_walk(seed):
    from numopt.solvers.lbfgsb import _cauchy

    mem, B, lo, hi, x, g = _random_model(seed=seed)
    xc, c = _cauchy(x, g, lo, hi, mem, np)
    ref = _dense_cauchy(x, g, lo, hi, B)
    np.testing.assert_allclose(xc, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c, mem.W.T @ (xc - x), rtol=0, atol=1e-10)
    assert np.sum((xc == lo) | (xc == hi)) >= 3        # several breakpoints were passed


@pytest.mark.parametrize("seed", [0, 1])
def test_subspace_step_is_the_reduced_newton_step(seed):
    from numopt.solvers.lbfgsb import _cauchy, _subspace

    mem, B, lo, hi, x, g = _random_model(seed=seed)
    # wide box: the projection of the subspace step changes nothing, so x_bar is the exact
    # minimizer of the model over the free variables with the others fixed at x_c
    lo, hi = np.where(np.isfinite(lo), lo * 20, lo), np.where(np.isfinite(hi), hi * 20, hi)
    xc, c = _cauchy(x, g, lo, hi, mem, np)
    free = (xc > lo) & (xc < hi)
    assert 0 < free.sum() < x.size
    r = (g + B @ (xc - x))[free]
    xr = xc.copy()
    xr[free] += np.linalg.solve(B[np.ix_(free, free)], -r)
    if np.all((xr >= lo) & (xr <= hi)):
        np.testing.assert_allclose(_subspace(x, g, xc, c, lo, hi, mem, np), xr, rtol=0, atol=1e-10)
    else:  # pragma: no cover - the seeds are chosen so the step stays inside
        pytest.fail("the reduced Newton step left the box: pick another seed")


def test_fixed_variables_stay_fixed():
    A, b, fun, jac = _lsq(5)
    lo, hi = np.full(15, -0.3), np.full(15, 0.3)
    lo[:4] = hi[:4] = np.array([0.1, -0.2, 0.0, 0.25])     # lower == upper
    # reference: bvls on the other 11 variables with the fixed ones moved into b
    sub = lsq_linear(A[:, 4:], b - A[:, :4] @ lo[:4], bounds=(lo[4:], hi[4:]), method="bvls", tol=1e-14)
    ref = np.r_[lo[:4], sub.x]
    res = numopt.minimize(fun, np.zeros(15), jac=jac, method="l-bfgs-b", bounds=Bounds(lo, hi), tol=1e-10,
                          options={"ftol": 0})
    assert res.success
    np.testing.assert_array_equal(res.x[:4], lo[:4])
    np.testing.assert_allclose(res.x, ref, rtol=0, atol=1e-8)
