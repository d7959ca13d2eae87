"""numopt.rates without hand-fed constants: theory(), reference_solution(), check_bound(),
fit_order(), plot_convergence() and the disp progress bar."""
import numpy as np
import pytest

import numopt
import problems
from numopt import rates
from numopt._registry import get_method
from numopt.datafits import Quadratic as LSQ
from numopt.oracles import QuadraticForm
from numopt.prox import L1


@pytest.fixture(scope="module")
def quad():
    return problems.get("synthetic/quadratic", n=30, cond=100.0, seed=1)


@pytest.fixture(scope="module")
def lasso():
    return problems.get("synthetic/sparse_regression", n=120, p=30, k=5, lam_ratio=0.1, seed=2)


@pytest.fixture(scope="module")
def logistic():
    return problems.get("synthetic/logistic", n=200, p=15, cond=10.0, lam_ratio=0.1, seed=3)


def _run(problem, method, maxiter=150, **options):
    return numopt.minimize(problem, method=method, tol=0, options=dict(maxiter=maxiter, **options))


def _assert_within(problem, res, **kw):
    """The run's errors respect the theory() bound at every iteration k >= 1 (rounding slack
    1e-9 relative, check_bound's default)."""
    ok, e, b = rates.check_bound(res, problem, **kw)
    assert ok, np.max((e / b)[1:])
    return e, b


# --------------------------------------------------------------------- theory: constants

def test_theory_quadratic_constants_from_the_spectrum(quad):
    th = rates.theory("gd", quad)
    # the spectrum is geometric in [1/cond, 1]: L = 1, mu = 1/100 exactly (eigvalsh of Q)
    assert th.kind == "linear"
    assert th.constants["L"] == pytest.approx(1.0, rel=1e-12)
    assert th.constants["mu"] == pytest.approx(0.01, rel=1e-10)
    assert th.q == pytest.approx(0.99, rel=1e-12)
    assert th.kappa == pytest.approx(100.0, rel=1e-10)
    xs = np.linalg.solve(quad.objective.Q, quad.objective.b)
    assert th.C0 == pytest.approx(quad.objective.value(np.zeros(30)) - quad.objective.value(xs), rel=1e-10)
    assert "strong_convexity" in th.sources["mu"] and "reference_solution" in th.sources["f0_gap"]


def test_theory_matches_the_registry_rate(quad, logistic):
    """theory()'s numbers give the same bound as the method's registered rate function."""
    for method, prob in (("gd", quad), ("agd", quad), ("ista", logistic), ("fista", logistic)):
        th = rates.theory(method, prob)
        c = th.constants
        spec = get_method(method)
        for k in (1, 7, 40):
            want = spec.rate(k, L=c["L"], R=c.get("R", 0.0), mu=c.get("mu", 0.0), f0_gap=c.get("f0_gap"))
            if method == "agd":  # the strongly convex statement needs R too
                want = spec.rate(k, L=c["L"], R=c["R"], mu=c["mu"], f0_gap=c["f0_gap"])
            assert th.bound(k) == pytest.approx(want, rel=1e-12), (method, k)


def test_theory_plain_quadratic_form_computes_mu_and_reference(rng):
    M = rng.standard_normal((12, 12))
    A = M @ M.T + 0.5 * np.eye(12)
    c = rng.standard_normal(12)
    prob = numopt.Problem(objective=QuadraticForm(A, c), x0=np.zeros(12))
    ev = np.linalg.eigvalsh(A)
    th = rates.theory("gd", prob)
    assert th.constants["mu"] == pytest.approx(ev[0], rel=1e-10)
    assert th.constants["L"] == pytest.approx(ev[-1], rel=1e-10)
    x, f = rates.reference_solution(prob)
    xs = np.linalg.solve(A, c)
    assert np.linalg.norm(x - xs) <= 1e-10 * np.linalg.norm(xs)
    assert f == pytest.approx(-0.5 * c @ xs, rel=1e-12)
    # AGD uses mu only when given: the oracle states none, so its bound is the convex one
    assert rates.theory("agd", prob).kind == "sublinear"
    assert rates.theory("agd", prob, options={"mu": float(ev[0])}).kind == "linear"


def test_theory_lasso_constants_from_the_design(lasso):
    X = lasso.objective.A
    n = X.shape[0]
    s = np.linalg.svd(X, compute_uv=False)
    th = rates.theory("ista", lasso)
    assert th.kind == "linear"
    assert th.constants["L"] == pytest.approx(s[0] ** 2 / n, rel=1e-8)
    assert th.constants["mu"] == pytest.approx(s[-1] ** 2 / n, rel=1e-8)
    thb = rates.theory("bcd", lasso, options={"selection": "gsl"})
    Lj = (X ** 2).sum(0) / n
    assert thb.q == pytest.approx((1 - (s[-1] ** 2 / n) / Lj.sum()) ** X.shape[1], rel=1e-10)
    assert thb.units.startswith("epochs") and not thb.expectation
    assert rates.theory("bcd", lasso, options={"selection": "random"}).expectation


def test_theory_names_the_missing_constant(lasso, logistic):
    smooth = numopt.Problem(objective=lasso.objective, x0=lasso.x0)  # least squares, no mu given
    with pytest.raises(ValueError, match=r"theory\('agd', problem\): needs mu > 0 for the linear rate; "
                                         r"the problem's objective states no strong convexity"):
        rates.theory("agd", smooth, regime="linear")
    with pytest.raises(ValueError, match=r"theory\('fista', problem\): needs mu > 0 for the linear rate"):
        rates.theory("fista", lasso, regime="linear")
    with pytest.raises(ValueError, match="needs mu > 0.*Logistic is not strongly convex"):
        rates.theory("bcd", logistic, options={"selection": "gsl"})
    with pytest.raises(ValueError, match="selection rule"):
        rates.theory("bcd", lasso)
    with pytest.raises(ValueError, match="needs D .*no feasible set"):
        rates.theory("frank-wolfe", smooth)
    opaque = numopt.Problem(objective=numopt.oracles.FunctionOracle(lambda x: float(x @ x), jac=lambda x: 2 * x),
                            x0=np.ones(3))
    with pytest.raises(ValueError, match="needs L; .*states no Lipschitz constant"):
        rates.theory("gd", opaque)
    with pytest.raises(ValueError, match="states no quantitative rate"):
        rates.theory("sgd", lasso)
    assert rates.theory("sgd", lasso, strict=False).kind == "none"
    th = rates.theory("eal", lasso)
    assert th.kind == "superlinear"
    with pytest.raises(ValueError, match="no quantitative bound"):
        th.bound(3)
    with pytest.raises(ValueError, match="does not use the problem's nonsmooth regularizer \\(L1\\)"):
        rates.theory("gd", lasso)
    with pytest.raises(TypeError, match="`problem` must be a numopt.Problem"):
        rates.theory("gd", np.zeros(3))
    with pytest.raises(ValueError, match="`regime`"):
        rates.theory("gd", lasso, regime="fast")


# ------------------------------------------------------------- bounds hold, iteration by iteration

def test_bounds_hold_on_the_quadratic(quad):
    for method, opts in (("gd", {}), ("agd", {}), ("agd", {"restart": None})):
        _assert_within(quad, _run(quad, method, **opts))
    # the sublinear statement of GD holds too, and is the weaker one here
    res = _run(quad, "gd")
    th = rates.theory("gd", quad, regime="sublinear")
    e = res.trace["fun"] - rates.reference_solution(quad)[1]
    assert np.all(e[1:] <= th.bound(np.arange(1, e.size)))


def test_bcd_bounds_hold_on_the_quadratic(quad):
    for sel in ("gsl", "gs"):
        res = numopt.minimize(quad, method="bcd", tol=0, options={"maxiter": 8, "selection": sel})
        _assert_within(quad, res)


def test_bounds_hold_on_the_lasso(lasso):
    for method in ("ista", "fista"):
        _assert_within(lasso, _run(lasso, method))
    for sel in ("gsl", "gs"):
        res = numopt.minimize(lasso, method="bcd", tol=0, options={"maxiter": 30, "selection": sel})
        assert res.selection == sel
        _assert_within(lasso, res)


def test_bounds_hold_on_logistic_regression(logistic):
    for method, opts in (("ista", {}), ("fista", {}), ("fista", {"restart": None})):
        _assert_within(logistic, _run(logistic, method, **opts))


def test_check_bound_detects_a_violation(quad):
    res = _run(quad, "gd", maxiter=20)
    f_star = rates.reference_solution(quad)[1]
    res.trace["fun"] = res.trace["fun"].copy()
    res.trace["fun"][10] = f_star + 2 * rates.theory("gd", quad).bound(10)  # twice the bound at k = 10
    assert not rates.check_bound(res, quad).ok


def test_frank_wolfe_bound_on_the_simplex(rng):
    from numopt.sets import Simplex

    M = rng.standard_normal((20, 8))
    prob = numopt.Problem(objective=numopt.LinearComposite(LSQ(rng.standard_normal(20)), M),
                          x0=np.full(8, 1 / 8), feasible_set=Simplex())
    th = rates.theory("frank-wolfe", prob)
    assert th.constants["D"] == pytest.approx(np.sqrt(2))
    assert th.C == pytest.approx(2 * th.constants["L"] * 2)
    res = numopt.minimize(prob, method="frank-wolfe", tol=0, options={"maxiter": 100})
    _assert_within(prob, res)


# ------------------------------------------------------------------------ reference solutions

def test_reference_logistic_agrees_with_lbfgsb(logistic):
    """An independent reference: scipy's L-BFGS-B on the split form w = u - v, u, v >= 0."""
    from scipy.optimize import minimize as sp_minimize

    f, lam, p = logistic.objective, logistic.meta["lam"], logistic.x0.size

    def split(z):
        w = z[:p] - z[p:]
        v, g = f.value_and_grad(w)
        return v + lam * z.sum(), np.concatenate([g + lam, -g + lam])

    sol = sp_minimize(split, np.zeros(2 * p), jac=True, method="L-BFGS-B", bounds=[(0, None)] * (2 * p),
                      options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10 ** 4})
    x, fs = rates.reference_solution(logistic)
    info = rates.reference_info(logistic)
    assert info["certificate_name"] == "duality gap" and info["certificate"] <= 1e-10
    assert fs <= sol.fun + 1e-12           # at least as good as L-BFGS-B's point
    assert sol.fun - fs <= 1e-8            # and the two agree


def test_reference_lasso_agrees_with_sklearn(lasso):
    sk = pytest.importorskip("sklearn.linear_model")
    X, y, lam = lasso.objective.A, lasso.objective.loss.y, lasso.meta["lam"]
    w = sk.Lasso(alpha=lam, fit_intercept=False, tol=1e-14, max_iter=10 ** 6).fit(X, y).coef_
    x, f = rates.reference_solution(lasso)
    assert abs(f - lasso.value(w)) <= 1e-12 * abs(f)   # measured 2e-16
    assert np.linalg.norm(x - w) <= 1e-9 * np.linalg.norm(w)  # measured 1.3e-12


def test_reference_of_a_float32_problem_is_float64(rng):
    A = rng.standard_normal((20, 5)).astype(np.float32)
    prob = numopt.Problem(objective=numopt.LinearComposite(LSQ(rng.standard_normal(20).astype(np.float32)), A),
                          x0=np.zeros(5, dtype=np.float32))
    x, f = rates.reference_solution(prob)
    xs = np.linalg.lstsq(A.astype(float), prob.objective.loss.y.astype(float), rcond=None)[0]
    assert x.dtype == np.float64 and np.linalg.norm(x - xs) <= 1e-8 * np.linalg.norm(xs)


def test_reference_is_cached(quad, monkeypatch):
    from numopt.rates import _reference

    prob = problems.get("synthetic/sparse_regression", n=40, p=10, k=3, seed=4)
    first = rates.reference_solution(prob)
    monkeypatch.setattr(_reference, "_solve", lambda *a: pytest.fail("recomputed a cached reference"))
    again = rates.reference_solution(prob, tol=1e-8)  # looser: the cached pair serves
    assert again[1] == first[1] and np.array_equal(again[0], first[0])
    with pytest.raises(ValueError, match="`tol` must be > 0"):
        rates.reference_solution(prob, tol=0.0)


def test_heart_scale_from_references_json(libsvm_dir):
    import json
    from pathlib import Path

    prob = problems.get("libsvm/heart_scale", model="logreg", lam_ratio=0.01, data_dir=libsvm_dir)
    x, f = rates.reference_solution(prob)
    info = rates.reference_info(prob)
    assert "references.json" in info["source"]
    entry = next(r for r in json.loads(Path(problems.__file__).with_name("references.json").read_text())
                 if (r["dataset"], r["model"], r["lam_ratio"]) == ("heart_scale", "logreg", 0.01))
    # the stored sparse x* reproduces the stored f* (scikit-learn's, certified by its gap)
    xs = np.zeros(x.size)
    xs[entry["x_star"]["idx"]] = entry["x_star"]["val"]
    assert abs(prob.value(xs) - entry["f_star"]) <= 1e-13
    assert f <= entry["f_star"] and entry["f_star"] - f <= 1e-12
    assert prob.duality_gap(x)[0] <= 1e-10
    for method in ("ista", "fista"):
        _assert_within(prob, _run(prob, method, maxiter=100))


# ------------------------------------------------------------------------------------ fit_order

@pytest.mark.parametrize("p, C", [(1.0, 0.7), (1.5, 1.0), (2.0, 0.5)])
def test_fit_order_synthetic(p, C):
    e = [0.5]
    while e[-1] > 1e-30 and len(e) < 200:
        e.append(C * e[-1] ** p)
    fit = rates.fit_order(e)
    assert abs(fit.p - p) <= 0.01  # (exact up to rounding: the asserted band in the brief is 0.1)
    assert fit.C == pytest.approx(C, rel=1e-6)


def test_fit_order_ignores_the_rounding_floor():
    e = np.concatenate([0.5 * 0.8 ** np.arange(150), np.full(20, 1e-17)])  # a plateau at the end
    p, C = rates.fit_order(e, floor=1e-15)
    assert abs(p - 1) <= 0.01 and C == pytest.approx(0.8, rel=1e-6)
    with pytest.raises(ValueError, match="at least 2 consecutive pairs"):
        rates.fit_order([1.0, 1e-20, 1e-30])


def test_fit_order_newton_quadratic_convergence():
    # Newton on f(x) = exp(x) - 2x (minimizer log 2): quadratic convergence, p = 2 and
    # C = f'''(x*) / (2 f''(x*)) = 1/2; the first pair is pre-asymptotic (start=1)
    x, errs = 1.0, []
    for _ in range(8):
        errs.append(abs(x - np.log(2)))
        x -= (np.exp(x) - 2) / np.exp(x)
    p, C = rates.fit_order(errs, start=1)
    assert abs(p - 2) <= 0.1      # measured 1.999
    assert C == pytest.approx(0.5, rel=0.2)  # measured 0.493


def test_fit_order_on_a_newton_method_trace():
    c = np.linspace(-1, 1, 5)
    res = numopt.minimize(lambda x: float(np.sum(np.exp(x) - 2 * x) + 0.5 * np.sum((x - c) ** 2)),
                          np.full(5, 2.0), jac=lambda x: np.exp(x) - 2 + (x - c),
                          hess=lambda x: np.diag(np.exp(x) + 1), method="grad-reg-newton", tol=1e-15,
                          options={"maxiter": 50})
    p, _ = rates.fit_order(res.trace["optimality"], start=4)  # the local phase: ||grad|| < 0.5
    assert abs(p - 2) <= 0.25     # measured 1.975 (gradient norms 0.47, 1.9e-2, 3.3e-5, 1.2e-10)


# ---------------------------------------------------------------------------- plot_convergence

def test_plot_convergence_two_bounds_no_nonpositive_points(tmp_path, logistic):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    runs = {m: _run(logistic, m, maxiter=400) for m in ("ista", "fista")}
    bounds = [rates.theory("ista", logistic), rates.theory("fista", logistic)]
    ax = rates.plot_convergence(runs, logistic, bounds=bounds)
    lines = ax.get_lines()
    assert len(lines) == 4
    for ln in lines:
        y = np.asarray(ln.get_ydata(), dtype=float)
        assert y.size > 0 and np.all(np.isfinite(y)) and np.all(y > 0)
    # fista reaches F* within rounding: those points are dropped, not drawn as noise
    f_star = rates.reference_solution(logistic)[1]
    e = runs["fista"].trace["fun"] - f_star
    assert np.sum(e <= 16 * np.finfo(float).eps * abs(f_star)) > 0
    assert lines[1].get_ydata().size == np.sum(e > 16 * np.finfo(float).eps * abs(f_star))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[2:] == [b.label for b in bounds] and "fista bound: 2 L" in labels[3]
    ax.figure.savefig(tmp_path / "conv.png", bbox_inches="tight")
    assert (tmp_path / "conv.png").stat().st_size > 1000
    # other axes: oracle calls, and a trace column as recorded
    ax2 = rates.plot_convergence(runs["ista"], logistic, x="nfev", y="optimality")
    assert ax2.get_xlabel() == "function evaluations"
    np.testing.assert_array_equal(ax2.get_lines()[0].get_xdata(), runs["ista"].trace["nfev"])
    with pytest.raises(ValueError, match="no column 'nope'"):
        rates.plot_convergence(runs, logistic, x="nope")


# -------------------------------------------------------------------------------- progress bar

def _small():
    rng = np.random.default_rng(0)
    f = numopt.LinearComposite(LSQ(rng.standard_normal(30)), rng.standard_normal((30, 6)))
    return f, np.zeros(6)


def test_disp_true_shows_a_progress_bar_on_stderr(capsys):
    f, x0 = _small()
    res = numopt.minimize(f, x0, method="gd", tol=0, options={"maxiter": 25, "disp": True})
    out, err = capsys.readouterr()
    assert out == ""
    assert "25/25" in err and "optimality=" in err and "gd" in err
    assert f"{res.optimality:.3e}" in err


def test_disp_false_prints_nothing_and_integer_disp_prints_lines(capsys):
    f, x0 = _small()
    numopt.minimize(f, x0, method="gd", tol=0, options={"maxiter": 25})
    assert capsys.readouterr() == ("", "")
    numopt.minimize(f, x0, method="gd", tol=0, options={"maxiter": 25, "disp": 5})
    out, err = capsys.readouterr()
    assert err == "" and len(out.splitlines()) == 6  # iterations 0, 5, ..., 25
    assert out.splitlines()[1].startswith("[gd] it      5")


def test_fista_on_l1_lasso_reference_with_explicit_l1(rng):
    # a Problem assembled by hand (not from problems/): fista reference + gradient-mapping certificate
    A = rng.standard_normal((25, 8))
    prob = numopt.Problem(objective=numopt.LinearComposite(LSQ(rng.standard_normal(25)), A), x0=np.zeros(8),
                          regularizer=L1(0.05))
    x, f = rates.reference_solution(prob)
    info = rates.reference_info(prob)
    assert info["certificate"] <= 1e-10 and "fista" in info["source"]  # measured 6.9e-12
    sk = pytest.importorskip("sklearn.linear_model")
    w = sk.Lasso(alpha=0.05, fit_intercept=False, tol=1e-14, max_iter=10 ** 6).fit(A, prob.objective.loss.y).coef_
    assert abs(f - prob.value(w)) <= 1e-12  # measured 6e-17


# ------------------------------------------------------------------------------------- the CLI

def _cli(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "numopt", *args], capture_output=True, text=True, timeout=120)


def test_cli_solve_shows_the_bar_unless_quiet():
    args = ("solve", "synthetic/quadratic", "--method", "agd", "--maxiter", "40", "--params", '{"n": 10}')
    out = _cli(*args)
    assert "40/40" in out.stderr and "optimality=" in out.stderr
    assert "synthetic/quadratic with agd" in out.stdout
    quiet = _cli(*args, "--quiet")
    assert "it/s" not in quiet.stderr and "40/40" not in quiet.stderr
    assert quiet.stdout.splitlines()[0] == out.stdout.splitlines()[0]


def test_demo_plot_writes_the_figure_or_says_why_not(tmp_path, capsys, logistic, monkeypatch):
    pytest.importorskip("matplotlib")
    from numopt.__main__ import _demo_plot

    runs = {m: _run(logistic, m, maxiter=50) for m in ("ista", "fista")}
    path = tmp_path / "demo.png"
    assert _demo_plot(logistic, runs, str(path)) == str(path)
    assert path.stat().st_size > 1000 and str(path) in capsys.readouterr().out
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    assert _demo_plot(logistic, runs, str(tmp_path / "no.png")) is None
    assert "plot skipped: matplotlib is not installed" in capsys.readouterr().out
    assert not (tmp_path / "no.png").exists()


def test_reference_with_constraints_and_bounds(rng):
    import dataclasses

    from scipy.optimize import lsq_linear

    from numopt.sets import Box

    eq = problems.get("synthetic/eq_qp", n=20, m=5)  # its KKT solve is the independent reference
    no_ref = dataclasses.replace(eq, x_star=None, f_star=None)
    x, f = rates.reference_solution(no_ref)
    info = rates.reference_info(no_ref)
    assert "eal" in info["source"] and info["certificate_name"].startswith("KKT")
    assert np.linalg.norm(x - eq.x_star) <= 1e-9 * np.linalg.norm(eq.x_star)  # measured 1e-13 absolute
    M, y = rng.standard_normal((30, 8)), rng.standard_normal(30)
    boxed = numopt.Problem(objective=numopt.LinearComposite(LSQ(y), M), x0=np.zeros(8),
                           bounds=Box(np.zeros(8), np.full(8, 0.1)))
    x, f = rates.reference_solution(boxed)
    ref = lsq_linear(M, y, bounds=(0, 0.1), tol=1e-15)
    assert np.linalg.norm(x - ref.x) <= 1e-9  # measured 2e-17
    assert rates.theory("frank-wolfe", boxed).constants["D"] == pytest.approx(0.1 * np.sqrt(8))
