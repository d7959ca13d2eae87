"""`bounds=` across methods: normalization and errors, the default method, projection in the
first-order methods (with l1 / elastic net / squared l2 regularizers: clip(prox_g)), and
methods that cannot take bounds."""
import numpy as np
import pytest
from scipy.optimize import Bounds, lsq_linear

import numopt
from numopt._registry import get_method
from numopt.prox import L1, ElasticNet, GroupLasso, SquaredL2
from numopt.sets import Box


def _sep(a):
    """f(x) = 1/2 ||x - a||^2 (separable: the composite problems have closed forms)."""
    return (lambda x: 0.5 * float((x - a) @ (x - a))), (lambda x: x - a)


def _lsq(seed=0, m=30, n=12):
    rng = np.random.default_rng(seed)
    A, b = rng.standard_normal((m, n)), rng.standard_normal(m)
    return A, b, (lambda x: 0.5 * float((A @ x - b) @ (A @ x - b))), (lambda x: A.T @ (A @ x - b))


A_SEP = np.array([2.0, -1.5, 0.3, -0.05, 0.8, -3.0])
LO = np.array([-1.0, -1.0, 0.5, -1.0, -np.inf, -2.0])
HI = np.array([1.0, np.inf, 1.0, 1.0, 0.1, 2.0])


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize("bounds, exc, frag", [
    ([(1.0, 0.0)] * 3, ValueError, "lower > upper"),
    ([(0.0, 1.0)] * 2, ValueError, "`x0` has 3 variables"),
    (Bounds([0, 0], [1, 1]), ValueError, "bounds"),
    ([(np.nan, 1.0)] * 3, ValueError, "NaN"),
    ([(0.0, 1.0, 2.0)] * 3, ValueError, "bounds[0]"),
    ("0 <= x <= 1", TypeError, "bounds"),
    (5.0, TypeError, "bounds"),
])
def test_bad_bounds_are_clear_errors(bounds, exc, frag):
    f, g = _sep(np.zeros(3))
    with pytest.raises(exc) as e:
        numopt.minimize(f, np.zeros(3), jac=g, method="l-bfgs-b", bounds=bounds)
    assert "bounds" in str(e.value) and frag in str(e.value)


def test_a_method_without_bounds_names_those_with():
    f, g = _sep(np.zeros(3))
    can = [m for m in numopt.list_methods(kind="minimize") if get_method(m).accepts_bounds]
    with pytest.raises(ValueError) as e:
        numopt.minimize(f, np.zeros(3), jac=g, method="sgd", bounds=[(0, 1)] * 3)
    msg = str(e.value)
    assert "'sgd' does not handle `bounds`" in msg
    assert all(repr(m) in msg for m in can) and {"l-bfgs-b", "fista", "gd"} <= set(can)


def test_bounds_with_a_nonseparable_regularizer_is_refused():
    f, g = _sep(np.ones(4))
    with pytest.raises(ValueError, match="GroupLasso") as e:
        numopt.minimize(f, np.zeros(4), jac=g, method="fista", prox=GroupLasso(0.1, groups=[[0, 1], [2, 3]]),
                        bounds=[(0, 1)] * 4)
    assert "bounds" in str(e.value)


# ----------------------------------------------------------------------------- the forms of bounds

def test_every_spelling_of_bounds_gives_the_same_answer():
    A, b, f, g = _lsq()
    lo, hi = np.full(12, -0.1), np.full(12, 0.2)
    ref = lsq_linear(A, b, bounds=(lo, hi), method="bvls", tol=1e-14).x
    spellings = [Bounds(lo, hi), list(zip(lo, hi)), Box(lo, hi), [(-0.1, 0.2)] * 12]
    for bd in spellings:
        r = numopt.minimize(f, np.zeros(12), jac=g, method="l-bfgs-b", bounds=bd, tol=1e-10, options={"ftol": 0})
        assert r.success
        np.testing.assert_allclose(r.x, ref, rtol=0, atol=1e-8)
    # None for a free side
    r = numopt.minimize(f, np.zeros(12), jac=g, method="l-bfgs-b", bounds=[(None, 0.2)] * 12, tol=1e-10,
                        options={"ftol": 0})
    ref = lsq_linear(A, b, bounds=(-np.inf, 0.2), method="bvls", tol=1e-14).x
    np.testing.assert_allclose(r.x, ref, rtol=0, atol=1e-8)


# ----------------------------------------------------------------------------- default method

def test_default_method_with_bounds():
    f, g = _sep(A_SEP)
    bounds = list(zip(LO, HI))
    r = numopt.minimize(f, np.zeros(6), jac=g, bounds=bounds)
    assert r.method == "l-bfgs-b" and r.success
    np.testing.assert_allclose(r.x, np.clip(A_SEP, LO, HI), atol=1e-10)
    r = numopt.minimize(f, np.zeros(6), jac=g, bounds=bounds, prox=L1(0.5), tol=1e-10)
    assert r.method == "fista" and r.success
    # a callable given its Hessian: projected Newton uses it (the same clipped solution)
    r = numopt.minimize(f, np.zeros(6), jac=g, hessp=lambda x, v: v, bounds=bounds, tol=1e-10)
    assert r.method == "projected-newton" and r.success
    np.testing.assert_allclose(r.x, np.clip(A_SEP, LO, HI), atol=1e-10)


def test_default_method_without_bounds():
    # smooth, no Hessian: 'lbfgs'; a callable with a Hessian: 'newton-cg' (one Newton step on
    # this quadratic); an oracle object with its own Hessian: 'agd'
    f, g = _sep(A_SEP)
    r = numopt.minimize(f, np.zeros(6), jac=g, tol=1e-10)
    assert r.method == "lbfgs" and r.success
    np.testing.assert_allclose(r.x, A_SEP, atol=1e-10)
    for kw in ({"hess": lambda x: np.eye(6)}, {"hessp": lambda x, v: v}):
        r = numopt.minimize(f, np.zeros(6), jac=g, tol=1e-10, **kw)
        assert r.method == "newton-cg" and r.success and r.nit == 1
        np.testing.assert_allclose(r.x, A_SEP, atol=1e-10)

    class Quadratic(numopt.SmoothFunction):
        def value(self, x):
            return f(x)

        def grad(self, x):
            return g(x)

        def hvp(self, x, v):
            return v

        def has(self, name):
            return name in ("grad", "hvp")
    r = numopt.minimize(Quadratic(), np.zeros(6), tol=1e-10)
    assert r.method == "agd" and r.success


# ----------------------------------------------------------------------------- first-order methods

def _soft(v, t):
    return np.sign(v) * np.maximum(np.abs(v) - t, 0)


@pytest.mark.parametrize("method", ["ista", "fista"])
@pytest.mark.parametrize("reg, closed", [
    (L1(0.5), lambda a: _soft(a, 0.5)),
    (ElasticNet(0.6, 0.5), lambda a: _soft(a, 0.3) / 1.3),
    (SquaredL2(0.5), lambda a: a / 1.5),
])
def test_prox_methods_with_bounds_match_the_closed_form(method, reg, closed):
    # min 1/2 ||x - a||^2 + g(x) on [LO, HI]: x* = clip(prox_g(a), LO, HI) (separable, 1-D convex)
    f, g = _sep(A_SEP)
    x0 = np.array([5.0, 5.0, -5.0, 0.0, 3.0, 0.0])       # outside the box: clipped
    r = numopt.minimize(f, x0, jac=g, method=method, prox=reg, bounds=Bounds(LO, HI), tol=1e-10)
    assert r.success
    np.testing.assert_allclose(r.x, np.clip(closed(A_SEP), LO, HI), rtol=0, atol=1e-9)
    assert np.all(r.x >= LO) and np.all(r.x <= HI)


def test_fista_with_bounds_and_l1_matches_cvxpy():
    cp = pytest.importorskip("cvxpy")
    A, b, f, g = _lsq(1, m=40, n=15)
    lam, lo, hi = 2.0, -0.1, 0.25
    x = cp.Variable(15)
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(A @ x - b) + lam * cp.norm1(x)), [x >= lo, x <= hi])
    prob.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    r = numopt.minimize(f, np.zeros(15), jac=g, method="fista", prox=L1(lam), bounds=[(lo, hi)] * 15, tol=1e-9)
    assert r.success
    F = f(r.x) + lam * np.abs(r.x).sum()
    assert np.sum((np.abs(r.x - lo) < 1e-9) | (np.abs(r.x - hi) < 1e-9)) >= 2    # bounds active
    assert np.sum(np.abs(r.x) < 1e-12) >= 2                                     # l1 active
    np.testing.assert_allclose(r.x, x.value, rtol=0, atol=1e-8)   # measured 1e-11
    assert F <= prob.value + 1e-8


@pytest.mark.parametrize("method", ["gd", "agd"])
def test_projected_gradient_methods_match_bvls(method):
    A, b, f, g = _lsq(2)
    ref = lsq_linear(A, b, bounds=(0.0, 0.3), method="bvls", tol=1e-14).x
    r = numopt.minimize(f, np.full(12, 2.0), jac=g, method=method, bounds=[(0.0, 0.3)] * 12, tol=1e-10,
                        options={"maxiter": 20000})
    assert r.success
    np.testing.assert_allclose(r.x, ref, rtol=0, atol=1e-9)
    # the optimality measure is the gradient mapping: it vanishes at a solution on the boundary
    # although the gradient does not
    assert np.linalg.norm(g(r.x)) > 1e-2 and r.optimality <= 1e-10


def test_family_functions_take_bounds():
    f, g = _sep(A_SEP)
    r = numopt.fista(f, np.zeros(6), jac=g, prox=L1(0.5), bounds=list(zip(LO, HI)), tol=1e-10)
    np.testing.assert_allclose(r.x, np.clip(_soft(A_SEP, 0.5), LO, HI), atol=1e-9)


def test_float32_kept_with_bounds_in_first_order_methods():
    f, g = _sep(A_SEP.astype(np.float32))
    r = numopt.minimize(f, np.zeros(6, dtype=np.float32), jac=g, method="fista", prox=L1(0.5),
                        bounds=list(zip(LO, HI)))
    assert r.x.dtype == np.float32
    np.testing.assert_allclose(r.x, np.clip(_soft(A_SEP, 0.5), LO, HI), atol=1e-4)
