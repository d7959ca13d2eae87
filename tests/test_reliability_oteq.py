"""Issue 15 ("No silent wrong answers"), optimal transport / equality-constrained /
linear-system part: regression tests. Each one fails on commit 3c54c08 (checked by
running it against that tree, or by the reasoning in its docstring) and passes now."""
import time
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import LinearConstraint

import numopt
import problems
import problems.cutest as cutest
from numopt import sketch
from numopt.solvers.sinkhorn import mirror_sinkhorn, sinkhorn
from numopt.sor import TsallisINF, laplacian_2d, shifted_laplacian_sequence, sor_bandit, sor_solve

METHODS = ["sinkhorn", "sinkhorn_log", "sinkhorn_epsilon_scaling", "sns"]


def _ot(n=20, m=27, seed=9):
    inst = problems.get("ot/point_clouds", n=n, m=m, uniform=False, seed=seed)
    return inst.a, inst.b, inst.C / inst.C.max()


# ----------------------------------------------------------- item 2: mirror_sinkhorn

def test_mirror_sinkhorn_does_not_stop_at_the_feasible_start():
    """a (x) b is feasible: the old marginal-violation test stopped there at iteration 0
    with success=True (cost 0.23 against the LP optimum 0.11)."""
    a, b, C = _ot()
    exact = problems.ot.exact_ot(a, b, C)[0]
    start_cost = float(np.sum(np.outer(a, b) * C))
    assert start_cost > 1.5 * exact  # the premise: the start is far from optimal
    res = mirror_sinkhorn(lambda P: C, a, b, value=lambda P: float(np.sum(P * C)), tol=1e-6, maxiter=200,
                          step=1.0)
    assert res.nit == 200 and res.status == 1 and not res.success
    assert res.gap > 1e-6 and res.fun - exact <= res.gap  # the certificate bounds the true gap


def test_mirror_sinkhorn_success_is_a_measured_gap_certificate():
    a, b, C = _ot()
    exact = problems.ot.exact_ot(a, b, C)[0]
    tol = 0.05
    res = mirror_sinkhorn(lambda P: C, a, b, value=lambda P: float(np.sum(P * C)), tol=tol, maxiter=5000,
                          step=1.0)
    assert res.success and res.status == 0 and res.nit > 0
    # documented accuracy: the returned (feasible) plan is within `gap <= tol` of the LP optimum
    np.testing.assert_allclose(res.plan.sum(1), a, atol=1e-12)
    np.testing.assert_allclose(res.plan.sum(0), b, atol=1e-12)
    assert exact - 1e-12 <= res.fun <= exact + res.gap + 1e-12
    assert res.gap <= tol and res.optimality == res.gap


def test_mirror_sinkhorn_certificate_on_a_nonlinear_objective():
    """Entropic OT as the convex F: its optimum F* comes independently from Sinkhorn."""
    a, b, C = _ot()
    reg = 0.05
    F_star = sinkhorn(a, b, C, reg, method="sinkhorn_log", tol=1e-13, maxiter=100000).reg_cost
    F = lambda P: float(np.sum(P * C) + reg * np.sum(P * (np.log(P) - 1)))  # noqa: E731
    res = mirror_sinkhorn(lambda P: C + reg * np.log(np.maximum(P, 1e-300)), a, b, value=F, tol=0.03,
                          maxiter=5000, step=1.0)
    assert res.success and res.nit > 0
    assert F_star - 1e-12 <= res.fun <= F_star + res.gap + 1e-12 and res.gap <= 0.03


def test_mirror_sinkhorn_bad_input_and_stochastic_certificate():
    a, b, C = _ot(8, 9)
    g = lambda P: C  # noqa: E731
    with pytest.raises(ValueError, match="`a`"):
        mirror_sinkhorn(g, np.r_[np.nan, a[1:]], b)
    with pytest.raises(ValueError, match="`b`.*negative"):
        mirror_sinkhorn(g, a, -b)
    with pytest.raises(ValueError, match="1-D"):
        mirror_sinkhorn(g, np.stack([a, a]), np.stack([b, b]))
    with pytest.raises(ValueError, match="`P0`"):
        mirror_sinkhorn(g, a, b, P0=np.ones((3, 3)))
    with pytest.raises(ValueError, match="`P0`"):
        mirror_sinkhorn(g, a, b, P0=np.full((8, 9), np.nan))
    with pytest.raises(ValueError, match="`step`"):
        mirror_sinkhorn(g, a, b, step=-1.0)
    with pytest.raises(TypeError, match="`grad`"):
        mirror_sinkhorn(C, a, b)
    with pytest.raises(ValueError, match="deterministic"):
        mirror_sinkhorn(lambda P, rng: C + rng.standard_normal(C.shape), a, b, tol=1e-3)
    calls = {"n": 0}

    def nan_later(P):
        calls["n"] += 1
        return C if calls["n"] < 5 else C * np.nan

    res = mirror_sinkhorn(nan_later, a, b, maxiter=50)
    assert res.status == 2 and not res.success and np.all(np.isfinite(res.plan))


# --------------------------------------------------------------- item 12: sinkhorn input

@pytest.mark.parametrize("method", METHODS)
def test_sinkhorn_reg_as_numpy_scalar(method):
    a, b, C = _ot(10, 12)
    ref = sinkhorn(a, b, C, 0.25, method=method, tol=1e-11)
    for reg in (np.float64(0.25), np.float32(0.25), np.array(0.25)):
        r = sinkhorn(a, b, C, reg, method=method, tol=1e-11)
        assert r.success and r.cost == pytest.approx(ref.cost, rel=1e-12)
    r = sinkhorn(a, b, C, np.int64(1), method=method, tol=1e-11)
    assert r.success
    for bad in (np.float64(np.nan), np.float32(-1), True, "0.1"):
        with pytest.raises(ValueError, match="`reg`"):
            sinkhorn(a, b, C, bad, method=method)


@pytest.mark.parametrize("method", METHODS)
def test_sinkhorn_float32_marginals(method):
    a, b, C = _ot(100, 120, seed=0)
    a32 = a.astype(np.float32)
    a32 /= a32.sum()
    b32 = b.astype(np.float32)
    b32 /= b32.sum()
    mismatch = abs(a32.sum(dtype=np.float64) - b32.sum(dtype=np.float64))
    assert mismatch > 1e-8  # the premise: the old fixed 1e-8 mass check rejected these
    ref = sinkhorn(a, b, C, 0.05, method="sinkhorn_log", tol=1e-12)
    for CC in (C, C.astype(np.float32)):
        r = sinkhorn(a32, b32, CC, 0.05, method=method)
        assert r.success, r.message
        assert r.marginal_error <= 1.2e-5
        assert r.cost == pytest.approx(ref.cost, rel=2e-4)  # measured <= 1.1e-5


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case, exc, match", [
    ("nan_a", ValueError, "`a`"), ("inf_b", ValueError, "`b`"), ("neg_a", ValueError, "`a`.*negative"),
    ("inf_C", ValueError, "`C`"), ("nan_C", ValueError, "`C`"), ("shape_C", ValueError, "`C`"),
    ("batch_C", ValueError, "`C`"), ("ndim", ValueError, "1-D"), ("f0_shape", ValueError, "`f0`"),
    ("f0_nan", ValueError, "`f0`"), ("g0_shape", ValueError, "`g0`"), ("mass", ValueError, "same total mass"),
])
def test_sinkhorn_bad_input_names_the_argument(method, case, exc, match):
    a, b, C = _ot(10, 12)
    kw = {}
    if case == "nan_a":
        a = np.r_[np.nan, a[1:]]
    elif case == "inf_b":
        b = np.r_[b[:-1], np.inf]
    elif case == "neg_a":
        a = a.copy()
        a[0] = -a[0]
    elif case == "inf_C":
        C = np.where(C > 0.5, np.inf, C)
    elif case == "nan_C":
        C = C.copy()
        C[2, 3] = np.nan
    elif case == "shape_C":
        C = C.T
    elif case == "batch_C":
        a, b, C = np.stack([a, a]), np.stack([b, b]), np.stack([C, C, C])
    elif case == "ndim":
        a = a[None]
    elif case == "f0_shape":
        kw["f0"] = np.zeros(3)
    elif case == "f0_nan":
        kw["f0"] = np.full(10, np.nan)
    elif case == "g0_shape":
        kw["g0"] = np.zeros(10)
    elif case == "mass":
        a = 2 * a
    with pytest.raises(exc, match=match):
        sinkhorn(a, b, C, 0.1, method=method, **kw)


# ------------------------------------------------------------------ item 3: eal and NaN

def _eal_nan_at_newton_step():
    t = np.array([1.0, 0.0])

    def c(x):  # NaN on the side where the solution x = t lies: the full Newton step lands there
        return np.array([x[0] - 1.0 if x[0] < 1 - 1e-9 else np.nan])

    return numopt.minimize(lambda x: float(0.5 * np.sum((x - t) ** 2)), np.array([1 - 5e-8, 0.0]),
                           jac=lambda x: x - t, hess=lambda x: np.eye(2), method="eal",
                           constraints={"type": "eq", "fun": c, "jac": lambda x: np.array([[1.0, 0.0]]),
                                        "hess": lambda x, v: np.zeros((2, 2))},
                           options={"max_adjust": 1}), c


def test_eal_nan_constraint_is_failure_not_success():
    """Old code: max(|grad L|, nan) dropped the NaN, optimality read 0.0, success=True."""
    res, c = _eal_nan_at_newton_step()
    assert not res.success and res.status == 2
    assert "non-finite" in res.message
    assert np.all(np.isfinite(res.x)) and np.all(np.isfinite(c(res.x)))  # the last finite iterate


def test_eal_nan_constraint_at_x0_raises():
    """Old code: success=True at iteration 0 with c(x0) = NaN (optimality 0.0)."""
    with pytest.raises(ValueError, match="constraint function at x0"):
        numopt.minimize(lambda x: float(x @ x), np.zeros(2), jac=lambda x: 2 * x, method="eal",
                        constraints={"type": "eq", "fun": lambda x: np.array([np.nan]),
                                     "jac": lambda x: np.array([[1.0, 1.0]])})


def test_eal_nan_jacobian_names_the_jacobian():
    with pytest.raises(ValueError, match="constraint Jacobian"):
        numopt.minimize(lambda x: float(x @ x), np.ones(2), jac=lambda x: 2 * x, method="eal",
                        constraints={"type": "eq", "fun": lambda x: np.array([x.sum() - 1]),
                                     "jac": lambda x: np.array([[np.nan, 1.0]])})
    # NaN next to x0 (where the Hessian differences look): old code raised "`A` contains NaN"
    res = numopt.minimize(lambda x: float(x @ x), np.array([1.0, 0.0]), jac=lambda x: 2 * x, method="eal",
                          constraints={"type": "eq", "fun": lambda x: np.array([x.sum() - 1]),
                                       "jac": lambda x: np.array([[1.0 if x[0] <= 1 else np.nan, 1.0]])})
    assert res.status == 2 and not res.success and "Hessian" in res.message


def test_eal_kkt_measure_propagates_nan():
    from numopt.solvers.eal import _kkt_residual

    assert np.isnan(_kkt_residual(np.zeros(3), np.array([np.nan])))
    assert np.isnan(_kkt_residual(np.array([np.nan]), np.zeros(2)))
    assert _kkt_residual(np.array([1.0, -3.0]), np.array([2.0])) == 3.0
    assert _kkt_residual(np.zeros(2), np.zeros(0)) == 0.0


# ------------------------------------------------------------- item 16: reproducibility

@pytest.mark.parametrize("name", ["HS7", "HS77"])
def test_eal_default_runs_are_bit_identical(name):
    p = cutest.get(name)
    r1 = numopt.minimize(p, method="eal")
    r2 = numopt.minimize(p, method="eal")
    assert r1.success and r1.nit == r2.nit
    assert np.array_equal(r1.x, r2.x)
    r3 = numopt.minimize(p, method="eal", options={"rng": 0})
    assert np.array_equal(r1.x, r3.x)  # the default is seed 0


@pytest.mark.parametrize("method", sketch.METHODS)
def test_sketch_default_runs_are_bit_identical(method):
    rng = np.random.default_rng(3)
    A = rng.standard_normal((60, 15))
    b = A @ rng.standard_normal(15)
    r1 = sketch.solve(A, b, method=method, tol=1e-10, block_size=5)
    r2 = sketch.solve(A, b, method=method, tol=1e-10, block_size=5)
    assert r1.success and r1.nit == r2.nit and np.array_equal(r1.x, r2.x)


def test_sor_bandit_and_tsallis_default_runs_are_identical():
    systems = shifted_laplacian_sequence(5, np.linspace(0, 0.5, 12))
    again = shifted_laplacian_sequence(5, np.linspace(0, 0.5, 12))
    assert all(np.array_equal(s[1], t[1]) for s, t in zip(systems, again))
    r1 = sor_bandit(systems, maxiter=200)
    r2 = sor_bandit(systems, maxiter=200)
    assert np.array_equal(r1.arms, r2.arms) and np.array_equal(r1.x, r2.x)
    b1, b2 = TsallisINF(6), TsallisINF(6)
    assert [b1.choose() for _ in range(30)] == [b2.choose() for _ in range(30)]


# ------------------------------------------------------------------- item 12: sor x0

def test_sor_nan_x0_names_x0():
    A = laplacian_2d(4)
    x0 = np.ones(16)
    x0[3] = np.nan
    with pytest.raises(ValueError, match="`x0`"):
        sor_solve(A, np.ones(16), 1.5, x0=x0)
    with pytest.raises(ValueError, match="`x0`"):
        sor_solve(A.toarray(), np.ones(16), 1.5, x0=np.full(16, np.inf))


# ------------------------------------------------------------- item 9: sparse stays sparse

def _big_diag(N=200_000):
    return sp.diags_array(np.arange(1.0, N + 1), format="csr")


def test_rk_rate_sparse_diagonal_is_fast_and_small():
    N = 200_000
    D = _big_diag(N)
    tracemalloc.start()
    t0 = time.perf_counter()
    q = sketch.rk_rate(D)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # closed form: sigma_min = 1, ||D||_F^2 = sum i^2
    expected = 1 - 1 / np.sum(np.arange(1.0, N + 1) ** 2)
    assert 1 - q == pytest.approx(1 - expected, rel=1e-8)
    assert elapsed < 20 and peak < 300e6  # dense would be 320 GB; measured ~1 s, ~75 MB


def test_rk_rate_sparse_matches_dense():
    rng = np.random.default_rng(0)
    for shape in [(300, 250), (40, 12), (250, 300)]:
        A = sp.random(*shape, density=0.1, random_state=1, format="csr") + sp.eye(*shape)
        assert sketch.rk_rate(A) == pytest.approx(sketch.rk_rate(A.toarray()), rel=1e-10)
    assert sketch.rk_rate(sp.csr_array(rng.standard_normal((5, 3)))) < 1


def test_sketch_solve_sparse_diagonal_without_densifying():
    D = _big_diag()
    xs = np.ones(D.shape[0])
    tracemalloc.start()
    t0 = time.perf_counter()
    for method in sketch.METHODS:
        r = sketch.solve(D, D @ xs, method=method, block_size=4, maxiter=4, tol=1e-8, check_every=2)
        assert r.nit == 4 and r.status == 1
        assert 0 < r.optimality < 1  # the sketches made progress on the residual
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 30 and peak < 300e6  # measured ~1 s, ~40 MB


@pytest.mark.parametrize("method", sketch.METHODS)
def test_sketch_sparse_path_agrees_with_dense(method):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((80, 20))
    A[5] = 0.0
    A[-1] = 0.0  # empty rows, the last one too
    xs = rng.standard_normal(20)
    b = A @ xs
    rd = sketch.solve(A, b, method=method, tol=1e-10, rng=0, block_size=8)
    rs = sketch.solve(sp.csr_matrix(A), b, method=method, tol=1e-10, rng=0, block_size=8)
    assert rd.success and rs.success and rd.nit == rs.nit
    np.testing.assert_allclose(rs.x, rd.x, atol=1e-12)
    np.testing.assert_allclose(rs.x, xs, atol=1e-7)


def test_eal_sparse_linear_constraint():
    rng = np.random.default_rng(0)
    n, m = 30, 8
    A = sp.random(m, n, density=0.3, random_state=1, format="csr") + sp.eye(m, n, format="csr")
    bb = rng.standard_normal(m)
    t = rng.standard_normal(n)
    kw = dict(jac=lambda x: x - t, hess=lambda x: np.eye(n), method="eal")
    f = lambda x: float(0.5 * np.sum((x - t) ** 2))  # noqa: E731
    rs = numopt.minimize(f, np.zeros(n), constraints=LinearConstraint(A, bb, bb), **kw)
    Ad = A.toarray()
    x_star = t - Ad.T @ np.linalg.solve(Ad @ Ad.T, Ad @ t - bb)  # projection onto {A x = b}
    assert rs.success
    np.testing.assert_allclose(rs.x, x_star, atol=1e-9)
    # the stacked oracle keeps A sparse
    from numopt.constraints import as_equality_constraints

    c = as_equality_constraints(LinearConstraint(A, bb, bb))
    assert sp.issparse(c.jacobian(np.zeros(n))) and sp.issparse(c.hess(np.zeros(n), np.ones(m)))
    np.testing.assert_allclose(c.value(t), Ad @ t - bb, atol=1e-14)


def test_eal_large_sparse_linear_constraint_is_refused_not_densified():
    N = 200_000
    D = _big_diag(N)
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="dense_limit"):
        numopt.minimize(lambda x: float(x @ x), np.ones(N), jac=lambda x: 2 * x, method="eal",
                        constraints=LinearConstraint(D, np.ones(N), np.ones(N)))
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 10 and peak < 200e6  # dense A would be 320 GB; measured ~0.03 s, ~18 MB


def test_epsilon_scaling_schedule_options_validated():
    """Old code: reg_start=nan was swallowed by max(reg, nan) (no annealing, no error)."""
    a, b, C = _ot(10, 12)
    for kw, name in [(dict(reg_start=float("nan")), "reg_start"), (dict(reg_start=-1.0), "reg_start"),
                     (dict(every=0), "every"), (dict(decay=float("nan")), "decay")]:
        with pytest.raises(ValueError, match=name):
            sinkhorn(a, b, C, 0.01, method="sinkhorn_epsilon_scaling", **kw)
    ok = sinkhorn(a, b, C, 0.01, method="sinkhorn_epsilon_scaling", reg_start=0.5, tol=1e-10)
    ref = sinkhorn(a, b, C, 0.01, method="sinkhorn_log", tol=1e-12)
    assert ok.success and ok.cost == pytest.approx(ref.cost, rel=1e-7)


def test_sketch_complex_input_and_sor_bandit_omegas_named():
    """Old code: a complex `b` was silently cast to its real part (success); a bad grid
    value was reported as `omega`, not `omegas`."""
    with pytest.raises(TypeError, match="`b`"):
        sketch.solve(np.eye(3), np.ones(3) + 1e-3j)
    with pytest.raises(TypeError, match="`A`"):
        sketch.solve(np.eye(3) * (1 + 0j), np.ones(3))
    systems = shifted_laplacian_sequence(4, [0.1, 0.2], rng=0)
    for bad in (2.0, 0.0, np.nan):
        with pytest.raises(ValueError, match="`omegas`"):
            sor_bandit(systems, omegas=[0.5, bad])
