"""Tests of lbfgs, bfgs, nonlinear-cg, trust-ncg and newton-cg (numopt/solvers/quasi_newton.py)."""
import warnings

import numpy as np
import pytest
from scipy.optimize import minimize as sp_minimize
from scipy.optimize import rosen, rosen_der, rosen_hess, rosen_hess_prod

import numopt

METHODS = ["lbfgs", "bfgs", "nonlinear-cg", "trust-ncg", "newton-cg"]
SCIPY_NAME = {"lbfgs": "L-BFGS-B", "bfgs": "BFGS", "nonlinear-cg": "CG", "trust-ncg": "trust-ncg",
              "newton-cg": "Newton-CG"}
HVP = ("trust-ncg", "newton-cg")   # methods that need Hessian-vector products


def _rosen_start(n):
    return np.array([-1.2, 1.0] * (n // 2))


def _run(method, fun, x0, jac, **kw):
    if method in HVP and "hess" not in kw:
        kw.setdefault("hessp", rosen_hess_prod)
    return numopt.minimize(fun, x0, jac=jac, method=method, **kw)


@pytest.mark.parametrize("n", [2, 20])
@pytest.mark.parametrize("method", METHODS)
def test_rosenbrock_minimum_with_certificate(method, n):
    res = _run(method, rosen, _rosen_start(n), rosen_der, tol=1e-9)
    assert res.success and res.status == 0
    g = np.max(np.abs(rosen_der(res.x)))
    assert g <= 1e-9 and res.optimality == pytest.approx(g, rel=1e-12)   # the certificate, measured
    assert np.max(np.abs(res.x - 1.0)) <= 1e-6
    assert res.fun <= 1e-12


@pytest.mark.parametrize("n", [2, 20])
@pytest.mark.parametrize("method", METHODS)
def test_evaluations_within_factor_of_scipy(method, n):
    """Function+gradient evaluations on Rosenbrock within 1.5x scipy's (default options; scipy
    often stops on ftol before its gradient test, numopt runs to ||g||_inf <= 1e-6)."""
    x0 = _rosen_start(n)
    calls = []

    def fg(x):
        calls.append(1)
        return rosen(x), rosen_der(x)
    kw = {"hessp": rosen_hess_prod} if method in HVP else {}
    ref = sp_minimize(fg, x0, jac=True, method=SCIPY_NAME[method], **kw)
    n_scipy = len(calls)
    calls.clear()
    res = numopt.minimize(fg, x0, jac=True, method=method, **kw)
    assert ref.success and res.success
    assert len(calls) == res.nfev
    assert res.nfev <= 1.5 * n_scipy, (res.nfev, n_scipy)


def _native(name):
    cutest = pytest.importorskip("problems.cutest")
    return cutest.get(name)


@pytest.mark.parametrize("name", ["BEALE", "DENSCHNB", "POWELLSG", "BROWNBS"])
def test_agrees_with_scipy_on_cutest(name):
    p = _native(name)
    f, x0 = p.objective, p.x0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sp_minimize(f.value, x0, jac=f.grad, method="BFGS", options={"gtol": 1e-10})
    # BROWNBS (x* = (1e6, 2e-6)) defeats nonlinear CG (scipy's CG fails there too)
    for method in [m for m in METHODS if not (name == "BROWNBS" and m == "nonlinear-cg")]:
        res = numopt.minimize(p, method=method, tol=1e-9)
        assert res.success, (method, res.message)
        assert abs(res.fun - ref.fun) <= 1e-8 * max(1.0, abs(ref.fun)) + 1e-12
        if name != "POWELLSG":   # singular Hessian at x*: only f is well determined
            np.testing.assert_allclose(np.asarray(res.x), ref.x, rtol=1e-5, atol=1e-6)


def test_scipy_names_and_options_reach_the_right_method():
    x0 = _rosen_start(6)
    res = numopt.minimize(rosen, x0, jac=rosen_der, method="BFGS", options={"gtol": 1e-8})
    assert res.method == "bfgs" and res.success and res.optimality <= 1e-8
    res = numopt.minimize(rosen, x0, jac=rosen_der, method="l-bfgs", options={"gtol": 1e-8, "maxcor": 5})
    assert res.method == "lbfgs" and res.success and res.optimality <= 1e-8
    assert np.nanmax(res.trace["memory_used"]) == 5
    res = numopt.minimize(rosen, x0, jac=rosen_der, method="cg", options={"gtol": 1e-7, "maxiter": 5000})
    assert res.method == "nonlinear-cg" and res.success and res.optimality <= 1e-7
    res = numopt.minimize(rosen, x0, jac=rosen_der, hessp=rosen_hess_prod, method="Trust-NCG",
                          options={"gtol": 1e-8})
    assert res.method == "trust-ncg" and res.success and res.optimality <= 1e-8
    # the tol argument overrides gtol; gtol and tol both in options is a TypeError naming tol
    res = numopt.minimize(rosen, x0, jac=rosen_der, method="L-BFGS", tol=1e-3, options={"gtol": 1e-12})
    assert res.success and 1e-4 < res.optimality <= 1e-3
    with pytest.raises(TypeError, match="tol"):
        numopt.minimize(rosen, x0, jac=rosen_der, method="lbfgs", options={"gtol": 1e-8, "tol": 1e-8})


def test_bfgs_norm_option_changes_the_measure():
    x0 = _rosen_start(4)
    res = numopt.minimize(rosen, x0, jac=rosen_der, method="bfgs", options={"norm": 2, "gtol": 1e-8})
    assert res.success and res.optimality == pytest.approx(np.linalg.norm(rosen_der(res.x)), rel=1e-12)


@pytest.mark.parametrize("beta", ["hz", "pr+"])
def test_cg_formulas_reach_the_minimum(beta):
    res = numopt.minimize(rosen, _rosen_start(4), jac=rosen_der, method="nonlinear-cg",
                          options={"beta": beta, "maxiter": 5000}, tol=1e-8)
    assert res.success and np.max(np.abs(res.x - 1)) <= 1e-6


def test_trust_ncg_with_dense_hessian_one_hessian_per_iteration():
    x0 = _rosen_start(10)
    a = numopt.minimize(rosen, x0, jac=rosen_der, hess=rosen_hess, method="trust-ncg", tol=1e-9)
    b = numopt.minimize(rosen, x0, jac=rosen_der, hessp=rosen_hess_prod, method="trust-ncg", tol=1e-9)
    assert a.success and b.success and a.nit == b.nit
    np.testing.assert_allclose(a.x, b.x, rtol=1e-10)
    assert a.nhev == a.nit                          # one Hessian per outer iteration
    assert b.nhev == int(np.sum(b.trace["cg_iterations"]))  # one product per CG iteration


def test_superlinear_tail_bfgs_and_newton_cg():
    """Locally superlinear: the gradient measure falls by 10x or more per iteration at the end."""
    for method in ("bfgs", "trust-ncg", "newton-cg"):
        res = _run(method, rosen, _rosen_start(2), rosen_der, tol=1e-12)
        opt = res.trace["optimality"]
        assert res.success
        tail = opt[-3:] / opt[-4:-1]
        assert np.all(tail < 0.1), (method, opt[-5:])


def test_float32_in_float32_out():
    x0 = np.array([-1.2, 1.0], dtype=np.float32)
    for method in METHODS:
        res = _run(method, rosen, x0, rosen_der)
        assert res.x.dtype == np.float32 and res.success, (method, res.message)
        assert np.max(np.abs(res.x - 1)) <= 0.1


def test_array_api_strict_input():
    xps = pytest.importorskip("array_api_strict")
    A = np.diag(np.arange(1.0, 6.0))
    As, bs = xps.asarray(A), xps.asarray(np.ones(5))

    def fun(x):
        return float(0.5 * xps.sum(x * (As @ x)) - xps.sum(bs * x))

    def jac(x):
        return As @ x - bs
    for method in METHODS:
        kw = {"hessp": lambda x, v: As @ v} if method in HVP else {}
        res = numopt.minimize(fun, xps.zeros(5, dtype=xps.float64), jac=jac, method=method, tol=1e-10, **kw)
        assert type(res.x).__module__.startswith("array_api_strict")
        assert res.success
        np.testing.assert_allclose(np.asarray(res.x), 1.0 / np.arange(1.0, 6.0), rtol=1e-8)


@pytest.mark.parametrize("method", METHODS)
def test_callback_stopiteration_status_99(method):
    def cb(intermediate_result):
        if intermediate_result.nit == 3:
            raise StopIteration
    res = _run(method, rosen, _rosen_start(2), rosen_der, callback=cb)
    assert res.status == 99 and not res.success and res.nit == 3


@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "nonlinear-cg"])
def test_wrong_gradient_is_an_honest_failure(method):
    res = numopt.minimize(rosen, _rosen_start(2), jac=lambda x: -rosen_der(x), method=method)
    assert not res.success and res.status == 5 and "line search" in res.message.lower()


@pytest.mark.parametrize("method", METHODS)
def test_nan_objective_away_from_x0(method):
    """f is NaN outside the ball ||x|| < 2.5: the line search (or the trust region) shrinks
    its steps; the run either reaches the minimum or fails honestly, never success with NaN."""
    def fun(x):
        return rosen(x) if np.linalg.norm(x) < 2.5 else np.nan

    res = _run(method, fun, _rosen_start(2), rosen_der, tol=1e-8)
    assert np.isfinite(res.fun)
    assert res.success and np.max(np.abs(res.x - 1)) <= 1e-5


@pytest.mark.parametrize("method", METHODS)
def test_nan_everywhere_but_x0_fails(method):
    x0 = _rosen_start(2)

    def fun(x):
        return rosen(x) if np.array_equal(x, x0) else np.nan

    res = _run(method, fun, x0, rosen_der)
    assert not res.success and res.status in (1, 5, 6) and np.isfinite(res.fun)
    np.testing.assert_array_equal(res.x, x0)


@pytest.mark.parametrize("method", METHODS)
def test_maxfun_honoured(method):
    res = _run(method, rosen, _rosen_start(2), rosen_der, options={"maxfun": 10})
    assert res.status == 1 and not res.success
    assert res.nfev <= 10 and "maxfun" in res.message


def test_lbfgs_ftol_is_not_success():
    res = numopt.minimize(rosen, _rosen_start(2), jac=rosen_der, method="lbfgs", options={"ftol": 1e-2})
    assert res.status == 6 and not res.success and "ftol" in res.message
    assert res.optimality > 1e-6
    # a tol met at the same step wins (the certificate is checked first)
    res = numopt.minimize(rosen, _rosen_start(2), jac=rosen_der, method="lbfgs", tol=1e3,
                          options={"ftol": 1e-2})
    assert res.success and res.nit == 0


def test_trust_ncg_requires_hessian_products():
    with pytest.raises(ValueError, match="hessp"):
        numopt.minimize(rosen, _rosen_start(2), jac=rosen_der, method="trust-ncg")
    res = numopt.minimize(rosen, _rosen_start(2), jac=rosen_der, hessp=rosen_hess_prod, method="trust-ncg",
                          options={"maxiter": 3})
    assert res.nit == 3 and res.status == 1
    # the default maxiter is None, filled with 200 n (scipy's) before the loop reads it
    from numopt._registry import get_method, resolve_options
    from numopt.solvers.quasi_newton import _trust_ncg

    opts = resolve_options(get_method("trust-ncg"), {})
    assert opts["maxiter"] is None
    _trust_ncg(None, np.ones(7), opts)
    assert opts["maxiter"] == 1400


def test_bad_options_name_the_argument():
    x0 = _rosen_start(2)
    with pytest.raises(ValueError, match="c1"):
        numopt.minimize(rosen, x0, jac=rosen_der, method="lbfgs", options={"c1": 0.5, "c2": 0.1})
    with pytest.raises(ValueError, match="memory"):
        numopt.minimize(rosen, x0, jac=rosen_der, method="lbfgs", options={"maxcor": 0})
    with pytest.raises(ValueError, match="beta"):
        numopt.minimize(rosen, x0, jac=rosen_der, method="cg", options={"beta": "fr"})
    with pytest.raises(ValueError, match="initial_trust_radius"):
        numopt.minimize(rosen, x0, jac=rosen_der, hessp=rosen_hess_prod, method="trust-ncg",
                        options={"initial_trust_radius": 10.0, "max_trust_radius": 1.0})
    # no `jac`: 2-point differences as in scipy (tests/test_reliability_front.py), not an error


def _saddle():
    """f = x0^2 - x1^2 + x1^4/4: a saddle at (0, 0), minimizers (0, +-sqrt(2)) with f = -1."""
    def fun(x):
        return x[0] ** 2 - x[1] ** 2 + x[1] ** 4 / 4

    def jac(x):
        return np.array([2 * x[0], -2 * x[1] + x[1] ** 3])

    def hessp(x, v):
        return np.array([2 * v[0], (-2 + 3 * x[1] ** 2) * v[1]])
    return fun, jac, hessp


@pytest.mark.parametrize("method,x0", [("trust-ncg", [1.0, 0.1]), ("newton-cg", [0.0, 0.1])])
def test_negative_curvature_escapes_the_saddle(method, x0):
    """Near the saddle the CG direction has negative curvature: Steihaug's CG (trust-ncg)
    steps to the trust-region boundary, the line-search Newton-CG takes steepest descent
    (from (0, 0.1) at once: the first direction, -g, has negative curvature); both end at a
    minimizer, f = -1."""
    fun, jac, hessp = _saddle()
    res = numopt.minimize(fun, np.array(x0), jac=jac, hessp=hessp, method=method, tol=1e-10)
    assert res.success and abs(res.fun + 1.0) <= 1e-12
    np.testing.assert_allclose(np.abs(res.x), [0.0, np.sqrt(2.0)], atol=1e-9)
    if method == "newton-cg":
        assert res.trace["curvature_stops"][-1] >= 1


# --- newton-cg (line-search truncated Newton, scipy's "Newton-CG") -------------------------

@pytest.mark.parametrize("kw", [{"hess": rosen_hess}, {"hessp": rosen_hess_prod}, {"hess": "2-point"},
                                {"hess": "3-point"}])
def test_newton_cg_scipy_name_and_hessian_forms(kw):
    """scipy's name reaches newton-cg; a dense Hessian, products and finite-difference
    Hessians all give the minimizer with the measured certificate, as scipy's Newton-CG does."""
    x0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])   # from (-1.2, 1, ...) the two may end at different local minima
    res = numopt.minimize(rosen, x0, jac=rosen_der, method="Newton-CG", tol=1e-9, **kw)
    ref = sp_minimize(rosen, x0, jac=rosen_der, method="Newton-CG", options={"xtol": 1e-12}, **kw)
    assert res.method == "newton-cg" and res.success and ref.success
    assert np.max(np.abs(rosen_der(res.x))) <= 1e-9
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
    assert res.nhev >= 1 or kw.get("hess") in ("2-point", "3-point")



def test_truncated_cg_solves_spd_systems_and_stops_on_curvature():
    """The inner solver against numpy: on an SPD matrix with a tight tolerance it returns
    H^{-1}(-g); on an indefinite one whose first direction has negative curvature, -g."""
    from numopt.solvers.quasi_newton import _truncated_cg

    rng = np.random.default_rng(0)
    M = rng.standard_normal((8, 8))
    H = M @ M.T + 0.5 * np.eye(8)
    g = rng.standard_normal(8)
    p, it, curved = _truncated_cg(lambda v: H @ v, g, 1e-12, 100, np)
    assert not curved and it <= 100
    np.testing.assert_allclose(p, np.linalg.solve(H, -g), rtol=1e-8)
    p, it, curved = _truncated_cg(lambda v: -H @ v, g, 1e-12, 100, np)
    assert curved and it == 1
    np.testing.assert_array_equal(p, -g)


def test_newton_cg_xtol_is_stagnation_not_success():
    res = numopt.minimize(rosen, _rosen_start(4), jac=rosen_der, hessp=rosen_hess_prod, method="newton-cg",
                          tol=1e-300, options={"xtol": 1e-3})
    assert res.status == 6 and not res.success and "xtol" in res.message


@pytest.mark.parametrize("name", ["SLSQP", "trust-constr", "Nelder-Mead", "TNC", "dogleg", "COBYLA"])
def test_scipy_methods_numopt_lacks_name_the_replacement(name):
    with pytest.raises(ValueError, match=f"scipy's '{name}' is not implemented in numopt; .*'"):
        numopt.minimize(rosen, _rosen_start(2), method=name)


# --- finite-difference gradients chosen by default --------------------------------------

@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "nonlinear-cg"])
def test_default_gradient_switches_to_central_differences(method):
    """Without `jac`, forward differences stall the line search near Rosenbrock's minimum
    (||g||_inf ~ 2e-6 > tol = 1e-6; an explicit jac='2-point' keeps them and fails honestly,
    naming the cause); the default then switches to central differences and certifies
    ||g||_inf <= tol, also by the exact gradient within the central differences' error."""
    x0 = [1.3, 0.7, 0.8, 1.9, 1.2]
    fwd = numopt.minimize(rosen, x0, method=method, jac="2-point")
    res = numopt.minimize(rosen, x0, method=method)
    assert res.success and res.optimality <= 1e-6
    assert np.max(np.abs(rosen_der(res.x))) <= 1e-5
    assert np.max(np.abs(res.x - 1.0)) <= 1e-5
    if not fwd.success:
        assert fwd.status == 5 and "forward difference" in fwd.message


def test_central_differences_only_for_the_default():
    from numopt._function_oracle import FunctionOracle

    auto = FunctionOracle(rosen, jac="2-point", refine=True)
    asked = FunctionOracle(rosen, jac="2-point")
    assert auto.refine_gradient() and auto.gradient_scheme == "3-point"
    assert not auto.refine_gradient()          # once
    assert not asked.refine_gradient() and asked.gradient_scheme == "2-point"
    x = np.array([1.1, 0.9, 1.3])
    np.testing.assert_allclose(auto.grad(x), rosen_der(x), rtol=1e-8)


def test_l_bfgs_b_default_gradient_with_bounds():
    """The default for bounds without `jac` (l-bfgs-b on 2-point differences) matches scipy's
    L-BFGS-B with the exact gradient and certifies the projected gradient."""
    x0 = [1.3, 0.7, 0.8, 1.9, 1.2]
    b = [(None, 2.0)] * 5
    res = numopt.minimize(rosen, x0, bounds=b)
    ref = sp_minimize(rosen, x0, jac=rosen_der, bounds=b, method="L-BFGS-B", options={"gtol": 1e-10, "ftol": 1e-15})
    assert res.method == "l-bfgs-b" and res.success
    np.testing.assert_allclose(res.x, ref.x, atol=1e-4)


@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "nonlinear-cg", "newton-cg"])
def test_linear_objective_is_reported_unbounded(method):
    """f = x0 + x1: every search ends at maxls still descending; the next one starts where it
    stopped (not at t = 1 again), so f passes -1e20 in two iterations (15000 iterations and
    f = -5e15 before, with the same status 1 as a slow solve)."""
    kw = {"hessp": lambda x, v: 0.0 * v} if method in HVP else {}
    res = numopt.minimize(lambda x: x[0] + x[1], [1.0, 2.0], jac=lambda x: np.ones(2), method=method, **kw)
    assert res.status == 5 and "unbounded below" in res.message and res.nit <= 5


@pytest.mark.parametrize("method", METHODS + ["l-bfgs-b"])
def test_unbounded_objective_is_reported(method):
    """f = -x^2 has no minimum: the run stops once f < -1e20 max(1, |f(x0)|), status 5 with a
    message saying so, instead of running to maxiter (15000 iterations before) or failing
    on an overflowing g'd (l-bfgs-b raised before)."""
    kw = {"hessp": lambda x, v: -2.0 * v} if method in HVP else {}
    res = numopt.minimize(lambda x: -x[0] ** 2, [1.0], jac=lambda x: np.array([-2.0 * x[0]]), method=method, **kw)
    assert res.status == 5 and not res.success and "unbounded below" in res.message
    assert res.fun < -1e20 and res.nit <= (60 if method == "trust-ncg" else 10)  # the radius doubles per step


@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "l-bfgs-b", "trust-ncg"])
def test_default_gradient_is_confirmed_before_success(method):
    """f = 5e5 ||x - 1.3||^2: a forward difference is biased by h f''/2 ~ 1e-2, so it meets
    tol = 1e-6 at x* - h/2, where the true gradient is ~1e-2 (what an explicit
    jac='2-point' reports as success, as the user asked). Without jac, the gradient that
    meets tol is recomputed by central differences first (exact for a quadratic up to
    rounding): the run goes on and certifies the true gradient."""
    f = lambda x: 0.5e6 * np.sum((x - 1.3) ** 2)  # noqa: E731
    true_grad = lambda x: 1e6 * (x - 1.3)  # noqa: E731
    kw = {"hessp": lambda x, v: 1e6 * v} if method in HVP else {}
    fwd = numopt.minimize(f, np.zeros(3), jac="2-point", method=method, **kw)
    assert np.max(np.abs(true_grad(fwd.x))) > 1e-3          # the bias, measured
    res = numopt.minimize(f, np.zeros(3), method=method, **kw)
    assert res.success and np.max(np.abs(true_grad(res.x))) <= 1e-6


def test_newton_cg_without_hessian_uses_gradient_differences_as_scipy():
    """scipy's Newton-CG without `hess`/`hessp` approximates the products by differences of
    the gradient; numopt's does the same (njev counts them), while trust-ncg, like scipy's,
    refuses the call naming the argument."""
    x0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])
    res = numopt.minimize(rosen, x0, jac=rosen_der, method="Newton-CG")
    ref = sp_minimize(rosen, x0, jac=rosen_der, method="Newton-CG", options={"xtol": 1e-12})
    assert res.success and res.njev > res.nit and np.max(np.abs(rosen_der(res.x))) <= 1e-6
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
    with pytest.raises(ValueError, match="hessp"):
        numopt.minimize(rosen, x0, jac=rosen_der, method="trust-ncg")
