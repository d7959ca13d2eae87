"""The benchopt objectives of benchmarks/benchopt compute their certificates independently of
numopt: their duality gaps agree with numopt.datafits.duality_gap at random points and vanish
at an optimum certified by scikit-learn; the OT objective scores the Sinkhorn plan."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("benchopt")
ROOT = Path(__file__).resolve().parents[1] / "benchmarks" / "benchopt"


def _objective_module(bench):
    spec = importlib.util.spec_from_file_location(f"bo_{bench}", ROOT / bench / "objective.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _objective(bench, **params):
    mod = _objective_module(bench)
    obj = mod.Objective.__new__(mod.Objective)
    for k, v in params.items():
        setattr(obj, k, v)
    return obj


@pytest.mark.parametrize("bench", ["lasso", "logreg_l1"])
def test_gap_agrees_with_numopt_and_vanishes_at_the_optimum(bench):
    from sklearn.linear_model import Lasso, LogisticRegression

    from numopt.datafits import Logistic, Quadratic, duality_gap
    from numopt.prox import L1

    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 30))
    y = X[:, :3] @ np.ones(3) + 0.3 * rng.standard_normal(80)
    if bench == "logreg_l1":
        y = np.sign(y)
    obj = _objective(bench, reg=0.1)
    obj.set_data(X, y)
    fit = Quadratic(y) if bench == "lasso" else Logistic(y)
    for _ in range(3):
        w = rng.standard_normal(30) * 0.1
        gap = obj.evaluate_result(w)["duality_gap"]
        ref = duality_gap(X, fit, L1(obj.lam), w)[0]
        assert gap == pytest.approx(ref, rel=1e-9, abs=1e-12) and gap > 0
    if bench == "lasso":
        w = Lasso(alpha=obj.lam, fit_intercept=False, tol=1e-14, max_iter=100000).fit(X, y).coef_
    else:
        w = LogisticRegression(l1_ratio=1.0, C=1 / (80 * obj.lam), solver="liblinear", fit_intercept=False,
                               tol=1e-14, max_iter=100000).fit(X, y).coef_.ravel()
    out = obj.evaluate_result(w)
    assert 0 <= out["duality_gap"] <= 1e-8 * out["value"]  # measured ~1e-13 (lasso) / ~1e-11 (logistic)


def test_ot_objective_scores_the_plan():
    import numopt

    rng = np.random.default_rng(1)
    x, z = rng.standard_normal((30, 2)), rng.standard_normal((30, 2)) + 1
    C = ((x[:, None] - z[None]) ** 2).sum(-1)
    a = np.full(30, 1 / 30)
    obj = _objective("ot", reg=0.1)
    obj.set_data(a, a.copy(), C)
    res = numopt.sinkhorn(a, a, obj.C, obj.reg, method="sinkhorn-log", tol=1e-12)
    assert res.success
    out = obj.evaluate_result(res.plan)
    assert out["marginal_violation"] <= 1e-10
    # (scored on the plan rounded onto the polytope: a ~1e-12 marginal correction)
    assert out["transport_cost"] == pytest.approx(float(np.sum(obj.C * res.plan)), rel=1e-9)
    prod = obj.evaluate_result(np.outer(a, a))  # the independent coupling: feasible, not optimal
    assert prod["marginal_violation"] <= 1e-14 and prod["value"] > out["value"]


def test_ot_rounding_gives_a_feasible_plan_that_cannot_beat_the_optimum():
    """An infeasible plan (a few Sinkhorn iterations) is rounded onto the polytope before
    it is scored, so its value is never below the converged one."""
    import numopt

    rng = np.random.default_rng(2)
    x, z = rng.standard_normal((40, 2)), rng.standard_normal((40, 2)) + 1
    C = ((x[:, None] - z[None]) ** 2).sum(-1)
    a = np.full(40, 1 / 40)
    b = rng.uniform(0.5, 1.5, 40)
    b /= b.sum()
    obj = _objective("ot", reg=0.1)
    obj.set_data(a, b, C)
    early = numopt.sinkhorn(a, b, obj.C, obj.reg, method="sinkhorn", maxiter=2)
    Q = _objective_module("ot").round_to_polytope(early.plan, a, b)
    np.testing.assert_allclose(Q.sum(1), a, atol=1e-15)
    np.testing.assert_allclose(Q.sum(0), b, atol=1e-15)
    best = numopt.sinkhorn(a, b, obj.C, obj.reg, method="sinkhorn-log", tol=1e-12)
    assert best.success
    assert obj.evaluate_result(early.plan)["value"] > obj.evaluate_result(best.plan)["value"]
    assert obj.evaluate_result(early.plan)["marginal_violation"] > 1e-6  # it was infeasible
