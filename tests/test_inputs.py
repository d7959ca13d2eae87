"""Bad input gets a clear error naming the argument (property-based where it helps)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import numopt
from numopt.prox import L1


def f(x):
    return float(np.sum(x ** 2))


def g(x):
    return 2 * x


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_x0(bad):
    x0 = np.zeros(3)
    x0[1] = bad
    with pytest.raises(ValueError, match="x0"):
        numopt.minimize(f, x0, jac=g, method="gd")


def test_x0_wrong_ndim():
    with pytest.raises(ValueError, match="x0.*1-D or 2-D"):
        numopt.minimize(f, np.zeros((2, 2, 2)), jac=g, method="gd")
    with pytest.raises(ValueError, match="x0.*1-D"):
        numopt.minimize(f, np.zeros((2, 2)), jac=g, hess=lambda x: np.eye(4), method="lazy-newton")


def test_x0_wrong_dtype():
    with pytest.raises(TypeError, match="x0"):
        numopt.minimize(f, np.array(["a", "b"]), jac=g, method="gd")


def test_jac_wrong_shape():
    with pytest.raises(ValueError, match="jac.*shape"):
        numopt.minimize(f, np.zeros(3), jac=lambda x: np.zeros(4), method="gd")


def test_nonfinite_objective_at_x0():
    with pytest.raises(ValueError, match="not finite at x0"):
        numopt.minimize(lambda x: float("nan"), np.zeros(3), jac=g, method="gd")


def test_unknown_method_lists_valid():
    with pytest.raises(ValueError, match="Valid methods.*fista"):
        numopt.minimize(f, np.zeros(3), jac=g, method="fistaa")
    with pytest.raises(ValueError, match="Did you mean 'fista'"):
        numopt.minimize(f, np.zeros(3), jac=g, method="fistaa")


@pytest.mark.parametrize("opt,val,exc", [("maxiter", -1, ValueError), ("maxiter", 1.5, TypeError),
                                         ("max_time", -1.0, ValueError), ("eta", 0.5, ValueError)])
def test_bad_options(opt, val, exc):
    with pytest.raises(exc, match=opt):
        numopt.minimize(f, np.ones(3), jac=g, method="gd", options={opt: val})


def test_negative_tol():
    with pytest.raises(ValueError, match="tol"):
        numopt.minimize(f, np.ones(3), jac=g, method="gd", tol=-1e-3)


def test_missing_prox_named():
    with pytest.raises(ValueError, match="fista.*proximal operator.*prox="):
        numopt.minimize(f, np.ones(3), jac=g, method="fista")


def test_bad_prox_type():
    with pytest.raises(TypeError, match="prox"):
        numopt.minimize(f, np.ones(3), jac=g, method="fista", prox=3)


def test_callable_prox_accepted():
    res = numopt.minimize(f, np.ones(3), jac=g, method="ista", prox=lambda x, t: L1(0.1).prox(x, t),
                          tol=1e-10)
    np.testing.assert_allclose(res.x, 0, atol=1e-10)


def test_constraints_rejected_by_unconstrained_method():
    with pytest.raises(ValueError, match="constraints"):
        numopt.minimize(f, np.ones(3), jac=g, method="gd",
                        constraints={"type": "eq", "fun": lambda x: x[0] - 1, "jac": lambda x: np.eye(3)[:1]})


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e6, 1e6), st.sampled_from([np.nan, np.inf, -np.inf])),
                min_size=1, max_size=6))
def test_x0_validation_property(values):
    x0 = np.array(values)
    if np.all(np.isfinite(x0)):
        res = numopt.minimize(f, x0, jac=g, method="gd", tol=1e-8)
        assert res.success and np.all(np.abs(res.x) < 1e-7)
    else:
        with pytest.raises(ValueError, match="x0"):
            numopt.minimize(f, x0, jac=g, method="gd")


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=-5, max_value=-1))
def test_negative_maxiter_property(m):
    with pytest.raises(ValueError, match="maxiter"):
        numopt.minimize(f, np.ones(2), jac=g, method="agd", options={"maxiter": m})
