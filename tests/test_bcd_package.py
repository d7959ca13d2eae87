"""The BCD package layout (issue 16): old import paths keep working, the fast path is chosen
by the datafit (``fast_kind``), and the Anderson step uses numopt._anderson."""
import numpy as np
import pytest

import numopt
from numopt.datafits import Huber, Logistic, Quadratic, SquaredHinge
from problems.models import make_model


def test_old_import_paths_are_the_package_objects():
    import numopt.solvers.bcd as bcd
    import numopt.solvers.bcd_extra as extra
    from numopt.solvers.bcd import tree

    assert extra.TreeUpdate is tree.TreeUpdate is bcd.TreeUpdate
    assert extra.QuadraticForm is tree.QuadraticForm
    from numopt.solvers import nmf

    assert "nmf_bcd_pr" not in extra.__all__ and extra.nmf_bcd_pr is nmf.nmf_bcd_pr  # moved; old path kept
    for name in ("_CSCData", "_prox_newton_step", "_WSMatrices", "check_block_separable", "SELECTIONS"):
        assert hasattr(bcd, name)
    assert numopt.bcd is bcd.bcd


def test_datafits_name_their_kernels():
    y = np.array([1.0, -1.0, 1.0])
    assert Quadratic(y).fast_kind == "quadratic" and Logistic(y).fast_kind == "logistic"
    assert Huber(y).fast_kind == "smooth" and SquaredHinge(y).fast_kind == "smooth"  # their own coordinate kernels


def test_fast_path_is_chosen_by_the_datafit():
    from numopt.solvers.bcd.common import _fast_kind

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 8))
    y = X[:, 0] + 0.1 * rng.standard_normal(40)
    P = make_model(X, y, "lasso", lam_ratio=0.1)
    assert _fast_kind(P) == "quadratic"

    class NoKernels(Quadratic):
        fast_kind = None

    Q = numopt.Problem(objective=numopt.LinearComposite(NoKernels(y), X), x0=np.zeros(8),
                       regularizer=P.regularizer)
    assert _fast_kind(Q) is None
    fast = numopt.bcd(P, selection="cyclic", tol=1e-12, maxiter=2000)
    slow = numopt.bcd(Q, selection="cyclic", tol=1e-12, maxiter=2000)
    assert fast.success and slow.success
    np.testing.assert_allclose(slow.x, fast.x, atol=1e-6)


def test_anderson_step_matches_the_former_formula():
    from numopt.solvers.bcd.working_set import _anderson_step
    from numopt.prox import L1

    rng = np.random.default_rng(1)
    n, m = 30, 6
    X = rng.standard_normal((n, m))
    y = X @ rng.standard_normal(m)
    loss, reg = Quadratic(y), L1(1e-3)
    hist = np.cumsum(rng.standard_normal((6, m)) * 0.5 ** np.arange(6)[:, None], axis=0)
    W = np.arange(m, dtype=np.int64)
    w = hist[-1].copy()
    r = y - X @ w
    took = _anderson_step(hist, X, W, w, r, y, loss, reg, False)
    U = np.diff(hist, axis=0)
    C = U @ U.T
    c = np.linalg.solve(C + 1e-14 * np.trace(C) * np.eye(C.shape[0]), np.ones(C.shape[0]))
    we = (c / c.sum()) @ hist[1:]
    better = loss.value(X @ we) + reg.value(we) < loss.value(X @ hist[-1]) + reg.value(hist[-1])
    assert took == int(better)
    np.testing.assert_array_equal(w, we if better else hist[-1])
    np.testing.assert_allclose(r, y - X @ w, atol=1e-12)


@pytest.mark.parametrize("model", ["lasso", "logreg"])
def test_working_sets_with_anderson_and_screening_still_certify(model):
    import scipy.sparse as sp

    rng = np.random.default_rng(2)
    X = sp.random(60, 300, density=0.1, format="csc", random_state=3, data_rvs=rng.standard_normal)
    y = X[:, :4] @ np.ones(4) + 0.05 * rng.standard_normal(60)
    if model == "logreg":
        y = np.where(y > np.median(y), 1.0, -1.0)
    P = make_model(X, y, model, lam_ratio=0.05)
    res = numopt.bcd(P, selection="cyclic", working_set=True, ws_solver="cd", tol=1e-10, maxiter=500)
    assert res.success and res.working_set and res.anderson_steps >= 0
    p0 = P.value(np.zeros(300))
    assert P.duality_gap(res.x)[0] / p0 <= 1e-10


def _small_lasso():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((30, 10))
    return make_model(X, X[:, 0] + 0.1 * rng.standard_normal(30), "lasso", lam_ratio=0.1)


@pytest.mark.parametrize("opts,name", [({"ws_inner": 1.5}, "ws_inner"), ({"ws_start": 0}, "ws_start"),
                                       ({"hessian_sample": 0.0}, "hessian_sample"),
                                       ({"newton_patience": 0}, "newton_patience"),
                                       ({"ws_solver": "newton"}, "ws_solver"), ({"working_set": "yes"}, "working_set"),
                                       ({"selection": "best"}, "selection"), ({"update": "exact"}, "update"),
                                       ({"kernel": "cuda"}, "kernel")])
def test_option_checks_name_the_option(opts, name):
    with pytest.raises(ValueError, match=name):
        numopt.bcd(_small_lasso(), **opts)


def test_options_front_door_contract():
    P = _small_lasso()
    with pytest.raises(TypeError, match="selction"):
        numopt.bcd(P, selction="gsl")
    with pytest.raises(TypeError, match="selection"):
        numopt.bcd(P, selection=3)
    old = numopt.bcd(P, selection="cyclic", backend="array_api", maxiter=5, tol=0)
    new = numopt.bcd(P, selection="cyclic", kernel="array_api", maxiter=5, tol=0)
    np.testing.assert_array_equal(old.x, new.x)
    assert numopt.bcd(P, maxiter=0).status == 1
    assert np.all(numopt.bcd(P, maxiter=0).x == 0)

    def stop(*a, **k):
        raise StopIteration

    assert numopt.bcd(P, callback=stop).status == 99
    r32 = numopt.bcd(P, np.zeros(10, dtype=np.float32), selection="cyclic", maxiter=50)
    assert r32.x.dtype == np.float32 and "fun" in r32.trace
    numopt.show_options("bcd")


def test_cyclic_cd_options_are_typed_with_old_names():
    from numopt.solvers.cyclic_cd import acoder, vr_cyclic_cd

    P = _small_lasso()
    np.testing.assert_array_equal(acoder(P, lipschitz=50.0, maxiter=5, tol=0).x, acoder(P, L=50.0, maxiter=5, tol=0).x)
    a = acoder(P, variance_reduction=True, inner=2, batch_size=5, maxiter=3, tol=0)
    b = acoder(P, variance_reduction=True, inner_maxiter=2, batch_size=5, maxiter=3, tol=0)
    np.testing.assert_array_equal(a.x, b.x)
    for fn, opts, name in ((acoder, {"lipschitz": -1.0}, "lipschitz"), (acoder, {"gamma": -1.0}, "gamma"),
                           (acoder, {"inner": 0, "variance_reduction": True}, "inner"),
                           (vr_cyclic_cd, {"step": 0.0}, "step"), (vr_cyclic_cd, {"refresh": 0}, "refresh")):
        with pytest.raises(ValueError, match=name):
            fn(P, **opts)
    for m in ("acoder", "vr-cd"):
        numopt.show_options(m)


def _robust_data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((120, 30))
    w0 = np.zeros(30)
    w0[:4] = 3.0
    yr = X @ w0 + rng.standard_normal(120)
    yr[:8] += 25.0  # outliers: many residuals in Huber's linear zone
    yc = np.sign(X @ w0 + rng.standard_normal(120))
    return X, yr, yc


@pytest.mark.parametrize("which", ["huber", "squared_hinge"])
def test_smooth_datafits_reach_the_numba_path_through_their_own_kernel(which):
    """Huber and squared hinge carry their coordinate update (datafit.coordinate_kernel), so
    BCD runs numba epochs for them: same iterates as the generic array-API path, and the
    optimum of an independent solver (cvxpy)."""
    cp = pytest.importorskip("cvxpy")
    from numopt.datafits import Huber, SquaredHinge
    from numopt.prox import L1

    X, yr, yc = _robust_data()
    loss = Huber(yr, 1.0) if which == "huber" else SquaredHinge(yc)
    assert loss.fast_kind == "smooth" and callable(loss.coordinate_kernel().deriv)
    prob = numopt.Problem(numopt.LinearComposite(loss, X), np.zeros(30), regularizer=L1(0.05))
    fast = numopt.bcd(prob, selection="cyclic", tol=1e-12, maxiter=20000)
    slow = numopt.bcd(prob, selection="cyclic", tol=1e-12, maxiter=20000, kernel="array_api")
    assert "coordinate_updates" in fast and "coordinate_updates" not in slow  # numba epochs vs generic
    assert fast.success and slow.success
    np.testing.assert_allclose(fast.x, slow.x, atol=1e-10)
    w = cp.Variable(30)
    z = X @ w
    if which == "huber":
        data = cp.sum(cp.huber(z - yr, 1.0)) / 2 / 120  # cvxpy's huber is 2x numopt's h_delta
    else:
        data = cp.sum(cp.square(cp.pos(1 - cp.multiply(yc, z)))) / 120
    ref = cp.Problem(cp.Minimize(data + 0.05 * cp.norm1(w))).solve(solver=cp.CLARABEL, tol_gap_abs=1e-12,
                                                                    tol_gap_rel=1e-12, tol_feas=1e-12)
    assert fast.fun <= ref + 1e-9  # (cvxpy's optimum is itself accurate to ~1e-9)
    assert fast.fun == pytest.approx(ref, rel=1e-7)


def test_smooth_datafit_without_kernel_and_working_sets():
    """A datafit naming fast_kind 'smooth' without a coordinate_kernel runs the generic path;
    working_set=True is refused for the smooth datafits (implemented for least squares and
    logistic only) instead of silently ignored."""
    from numopt.datafits import Huber
    from numopt.prox import L1

    X, yr, _ = _robust_data(1)

    class NoKernel(Huber):
        coordinate_kernel = None

    prob = numopt.Problem(numopt.LinearComposite(NoKernel(yr), X), np.zeros(30), regularizer=L1(0.05))
    res = numopt.bcd(prob, selection="cyclic", tol=1e-10, maxiter=5000)
    assert res.success and "coordinate_updates" not in res
    prob = numopt.Problem(numopt.LinearComposite(Huber(yr), X), np.zeros(30), regularizer=L1(0.05))
    with pytest.raises(ValueError, match="working_set=True"):
        numopt.bcd(prob, selection="cyclic", working_set=True)
