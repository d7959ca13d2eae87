"""Tests of the line searches (numopt._linesearch: strong_wolfe, backtrack_step)."""
import math

import numpy as np
import pytest

from numopt._linesearch import LineSearchResult, backtrack_step, strong_wolfe


# The six test functions of Moré & Thuente (1994), Sec. 5, as (value, slope).
def _mt1(a, b=2.0):
    return -a / (a * a + b), (a * a - b) / (a * a + b) ** 2


def _mt2(a, b=0.004):
    return (a + b) ** 5 - 2 * (a + b) ** 4, 5 * (a + b) ** 4 - 8 * (a + b) ** 3


def _mt3(a, b=0.01, ell=39):
    if a <= 1 - b:
        p0, d0 = 1 - a, -1.0
    elif a >= 1 + b:
        p0, d0 = a - 1, 1.0
    else:
        p0, d0 = (a - 1) ** 2 / (2 * b) + b / 2, (a - 1) / b
    w = ell * math.pi / 2
    return p0 + 2 * (1 - b) / (ell * math.pi) * math.sin(w * a), d0 + (1 - b) * math.cos(w * a)


def _mt_yanai(b1, b2):
    def gam(b):
        return math.sqrt(1 + b * b) - b

    def f(a):
        r1, r2 = math.sqrt((1 - a) ** 2 + b2 ** 2), math.sqrt(a * a + b1 ** 2)
        return gam(b1) * r1 + gam(b2) * r2, -gam(b1) * (1 - a) / r1 + gam(b2) * a / r2
    return f


# (function, c1, c2, {initial step: evaluations in Moré & Thuente's Tables 1-6})
MT_CASES = [
    (_mt1, 1e-3, 0.1, {1e-3: 6, 1e-1: 3, 1e1: 1, 1e3: 4}),
    (_mt2, 0.1, 0.1, {1e-3: 12, 1e-1: 8, 1e1: 8, 1e3: 11}),
    (_mt3, 0.1, 0.1, {1e-3: 12, 1e-1: 12, 1e1: 10, 1e3: 13}),
    (_mt_yanai(1e-3, 1e-3), 1e-3, 1e-3, {1e-3: 4, 1e-1: 1, 1e1: 3, 1e3: 4}),
    (_mt_yanai(1e-2, 1e-3), 1e-3, 1e-3, {1e-3: 6, 1e-1: 3, 1e1: 7, 1e3: 8}),
    (_mt_yanai(1e-3, 1e-2), 1e-3, 1e-3, {1e-3: 13, 1e-1: 11, 1e1: 8, 1e3: 11}),
]


def _phi(f, calls=None):
    def phi(t):
        if calls is not None:
            calls.append(t)
        v, d = f(t)
        return v, d, ("payload", t)
    return phi


@pytest.mark.parametrize("case", range(6))
def test_more_thuente_functions_strong_wolfe(case):
    f, c1, c2, table = MT_CASES[case]
    f0, d0 = f(0.0)
    for a0, n_paper in table.items():
        r = strong_wolfe(_phi(f), f0, d0, step=a0, c1=c1, c2=c2, maxls=50)
        assert r.success, (a0, r.message)
        v, d = f(r.step)
        assert v <= f0 + c1 * r.step * d0          # sufficient decrease
        assert abs(d) <= c2 * abs(d0)              # curvature (strong Wolfe)
        assert (r.f, r.dphi) == (v, d) and r.payload == ("payload", r.step)
        assert r.nfev <= n_paper                   # the evaluation counts of the paper's tables


@pytest.mark.parametrize("case", range(6))
def test_same_evaluations_as_scipy_dcsrch(case):
    """scipy's DCSRCH (MINPACK-2's Moré–Thuente code) as the reference: same step, same count."""
    dc = pytest.importorskip("scipy.optimize._dcsrch")
    f, c1, c2, table = MT_CASES[case]
    f0, d0 = f(0.0)
    for a0 in table:
        n = []
        ref = dc.DCSRCH(lambda t: n.append(t) or f(t)[0], lambda t: f(t)[1], c1, c2, 1e-14, 0.0, 1e10)
        st, *_ = ref(a0, f0, d0, maxiter=50)
        r = strong_wolfe(_phi(f), f0, d0, step=a0, c1=c1, c2=c2, maxls=50)
        assert r.nfev == len(n)
        assert abs(r.step - st) <= 1e-10 * st


def test_quadratic_exact_step_and_scipy_line_search():
    """On a quadratic, step 1 along the Newton direction is accepted at once (one evaluation);
    scipy.optimize.line_search agrees on the Wolfe conditions along a gradient direction."""
    from scipy.optimize import line_search

    A = np.diag([1.0, 10.0, 100.0])
    x0 = np.array([1.0, 1.0, 1.0])
    fun = lambda x: 0.5 * x @ A @ x  # noqa: E731
    grad = lambda x: A @ x  # noqa: E731
    d_newton = -np.linalg.solve(A, grad(x0))

    def phi_along(d):
        return lambda t: (fun(x0 + t * d), grad(x0 + t * d) @ d, x0 + t * d)
    r = strong_wolfe(phi_along(d_newton), fun(x0), grad(x0) @ d_newton)
    assert r.success and r.step == 1.0 and r.nfev == 1 and np.allclose(r.payload, 0)
    d = -grad(x0)
    r = strong_wolfe(phi_along(d), fun(x0), grad(x0) @ d, c2=0.1)
    ref = line_search(fun, grad, x0, d, c2=0.1)
    assert r.success and ref[0] is not None
    for t in (r.step, ref[0]):
        assert fun(x0 + t * d) <= fun(x0) + 1e-4 * t * (grad(x0) @ d)
        assert abs(grad(x0 + t * d) @ d) <= 0.1 * abs(grad(x0) @ d)
    assert r.nfev <= ref[1] + 2  # evaluation counts of the same order as scipy's


def test_never_beyond_step_max():
    calls = []
    f = lambda t: (-t, -1.0)  # noqa: E731  (unbounded below: extrapolation stops at step_max)
    r = strong_wolfe(_phi(f, calls), 0.0, -1.0, step=1.0, step_max=7.5)
    assert max(calls) <= 7.5 and r.step == 7.5 and r.success
    assert "step_max" in r.message
    calls.clear()
    r = strong_wolfe(_phi(f, calls), 0.0, -1.0, step=100.0, step_max=3.0)
    assert calls == [3.0] and r.step == 3.0


def test_not_a_descent_direction_no_evaluation():
    calls = []
    for d0 in (0.0, 1.5):
        r = strong_wolfe(_phi(_mt1, calls), 0.0, d0)
        assert not r.success and r.nfev == 0 and r.step == 0.0 and "descent" in r.message
    assert calls == []


def test_non_finite_values_shrink_the_step():
    calls = []

    def f(t):  # finite only for t < 0.5; minimum of (t - 0.3)^2 at 0.3
        return (math.inf, math.nan) if t >= 0.5 else ((t - 0.3) ** 2, 2 * (t - 0.3))
    r = strong_wolfe(_phi(f, calls), 0.09, -0.6, step=1.0)
    assert r.success and r.step < 0.5 and all(t < 1.0 + 1e-15 for t in calls)
    v, d = f(r.step)
    assert v <= 0.09 + 1e-4 * r.step * -0.6 and abs(d) <= 0.9 * 0.6
    # everything non-finite: a failure within maxls, no step returned
    r = strong_wolfe(lambda t: (math.nan, math.nan, None), 1.0, -1.0, maxls=7)
    assert not r.success and r.nfev <= 7 and r.step == 0.0 and r.payload is None


def test_maxls_bounds_evaluations():
    calls = []
    r = strong_wolfe(_phi(_mt2, calls), *_mt2(0.0), step=1e-3, c1=0.1, c2=0.1, maxls=3)
    assert len(calls) == 3 == r.nfev and not r.success and "maxls" in r.message
    # the best point found so far is returned, with its payload
    assert r.step > 0 and r.payload == ("payload", r.step) and r.f < _mt2(0.0)[0]


def test_result_type_and_bad_arguments():
    r = strong_wolfe(_phi(_mt1), *_mt1(0.0))
    assert isinstance(r, LineSearchResult)
    assert set(r._fields) == {"step", "f", "dphi", "payload", "nfev", "success", "message"}
    with pytest.raises(ValueError, match="c1"):
        strong_wolfe(_phi(_mt1), 0.0, -1.0, c1=0.5, c2=0.1)
    with pytest.raises(ValueError, match="step"):
        strong_wolfe(_phi(_mt1), 0.0, -1.0, step=-1.0)
    with pytest.raises(ValueError, match="maxls"):
        strong_wolfe(_phi(_mt1), 0.0, -1.0, maxls=0)
    with pytest.raises(ValueError, match="f0"):
        strong_wolfe(_phi(_mt1), math.nan, -1.0)


# ---- backtrack_step: interpolated Armijo backtracking ------------------------------------

def test_backtrack_step_quadratic_model_is_exact():
    # phi(s) = 1 - s + 4 s^2 (minimizer 1/8): the quadratic through phi(0), phi'(0), phi(1)
    phi = lambda s: 1.0 - s + 4.0 * s * s  # noqa: E731
    assert backtrack_step(1.0, -1.0, 1.0, phi(1.0)) == pytest.approx(0.125, rel=1e-14)


def test_backtrack_step_cubic_model_is_exact():
    # phi(s) = 1 - s + 100 s^3: after trials at 1 and 0.2 the cubic through both is phi itself,
    # whose minimizer 1/sqrt(300) lies inside the safeguard [0.1 t, 0.5 t] of t = 0.2
    phi = lambda s: 1.0 - s + 100.0 * s ** 3  # noqa: E731
    t = backtrack_step(1.0, -1.0, 1.0, phi(1.0))
    assert t == pytest.approx(0.1)  # the quadratic model's minimizer 1/200 is clipped to 0.1
    t2 = backtrack_step(1.0, -1.0, 0.2, phi(0.2), (1.0, phi(1.0)))
    assert t2 == pytest.approx(300 ** -0.5, rel=1e-12)


def test_backtrack_step_safeguards():
    # non-finite value, no minimizer of the model: plain halving; far minimizer: clipped
    assert backtrack_step(1.0, -1.0, 2.0, math.inf) == 1.0
    assert backtrack_step(1.0, -1.0, 2.0, math.nan, (4.0, 3.0)) == 1.0
    assert backtrack_step(1.0, -1.0, 1.0, 1e9) == pytest.approx(0.1)
    # a value barely above the Armijo line puts the model's minimizer near t: capped at 0.5 t
    assert backtrack_step(1.0, -1.0, 1.0, 0.0 + 1e-3) == pytest.approx(0.5)


def test_backtrack_search_needs_fewer_evaluations_than_halving():
    # a steep quadratic whose Armijo steps (c1 = 0.1) are <= 9e-4: halving takes 12 trials,
    # interpolation (each trial at most 10x shorter than the one before) 5
    phi = lambda s: 1.0 - s + 1000.0 * s * s  # noqa: E731
    c1 = 0.1

    def count(next_step):
        t, prev, n = 1.0, None, 0
        while True:
            n += 1
            v = phi(t)
            if v <= 1.0 - c1 * t:
                return n, t
            t, prev = next_step(t, v, prev), (t, v)

    n_half, _ = count(lambda t, v, prev: 0.5 * t)
    n_interp, t = count(lambda t, v, prev: backtrack_step(1.0, -1.0, t, v, prev))
    assert phi(t) <= 1.0 - c1 * t
    assert n_half == 12 and n_interp <= 5
