"""Issue 15 ("no silent wrong answers"), block coordinate descent family: the default picks
the fast path for the problem (and says which), default runs are reproducible, a sparse
design stays sparse in block Newton steps, a regularizer is never dropped, NaN is never
swallowed into a certificate, degenerate inputs are refused instead of spinning.

Each test fails on the code of commit 3c54c08 (see the comment in each)."""
import numpy as np
import pytest
import scipy.sparse as sp

import numopt
import problems
from numopt.datafits import Logistic, Quadratic, duality_gap
from numopt.oracles import LinearComposite
from numopt.prox import L1, GroupLasso, L1Ball, Simplex
from numopt.solvers.bcd_extra import QuadraticForm, check_forest
from numopt.solvers.nmf import nmf_bcd_pr
from numopt.solvers.cyclic_cd import acoder, vr_cyclic_cd
from problems.models import make_model


def _rel_gap(P, x):
    return P.duality_gap(x)[0] / P.value(np.zeros_like(x))


def _logreg(n=300, p=40, seed=0, lam_ratio=0.05, penalty="l1"):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=0.2, format="csc", random_state=rng, data_rvs=rng.standard_normal)
    y = np.where(X @ rng.standard_normal(p) + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    return make_model(X, y, "logreg", penalty=penalty, lam_ratio=lam_ratio)


# ----------------------------------------------------------------- item 14: the default's path

def test_default_l1_logistic_runs_cyclic_prox_newton_working_sets():
    """numopt.bcd(P) on l1-logistic regression resolves selection='auto' to cyclic prox-Newton
    working sets (a8a at lambda_max/1000: 26-79 s with the former default 'gsl' on the full
    problem, 1.1-1.9 s now, on this shared machine) and reports it; the answer carries its own
    certificate, recomputed here. (3c54c08: no `selection` / `working_set` in the result,
    and the full-problem greedy path ran.)"""
    P = _logreg()
    res = numopt.bcd(P, tol=1e-11)
    assert res.selection == "cyclic" and res.working_set is True
    assert res.prox_newton_steps > 0  # the working-set prox-Newton solver ran
    assert res.success and _rel_gap(P, res.x) <= 1e-10
    ref = numopt.bcd(P, selection="cyclic", working_set=False, tol=1e-13, maxiter=100000)
    assert res.fun == pytest.approx(ref.fun, rel=1e-9)


def test_default_lasso_keeps_the_gram_gsl_path_and_wide_lasso_gets_working_sets():
    """Least squares: 'gsl' on the Gram matrix up to 5000 features (the fast lasso path,
    unchanged), cyclic working sets above (greedy rules inside working sets are 20-30x
    slower). (3c54c08: no `selection` in the result; wide lasso ran 'gsl' in working sets.)"""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 30))
    P = make_model(X, X[:, :3] @ [1.0, -2.0, 0.5] + 0.1 * rng.standard_normal(80), "lasso", lam_ratio=0.05)
    res = numopt.bcd(P, tol=1e-13)
    assert (res.selection, res.working_set) == ("gsl", False)
    assert res.success and _rel_gap(P, res.x) <= 1e-12
    Xw = sp.random(100, 6000, density=0.01, format="csc", random_state=rng, data_rvs=rng.standard_normal)
    w = np.zeros(6000)
    w[:5] = 1.0
    Pw = make_model(Xw, Xw @ w + 0.01 * rng.standard_normal(100), "lasso", lam_ratio=0.1)
    wide = numopt.bcd(Pw, tol=1e-11)
    assert (wide.selection, wide.working_set) == ("cyclic", True)
    assert wide.success and _rel_gap(Pw, wide.x) <= 1e-10


def test_explicit_choices_are_honoured():
    """An explicit selection is kept, with the size rule for working_set='auto' (on above 5000
    features only), and explicit working_set values are kept. (3c54c08: no `selection` key.)"""
    P = _logreg(seed=2)
    gsl = numopt.bcd(P, selection="gsl", tol=1e-11, maxiter=10000)
    assert (gsl.selection, gsl.working_set) == ("gsl", False)
    cyc = numopt.bcd(P, selection="cyclic", tol=1e-11, maxiter=10000)
    assert (cyc.selection, cyc.working_set) == ("cyclic", False)
    off = numopt.bcd(P, working_set=False, tol=1e-11, maxiter=10000)
    assert (off.selection, off.working_set) == ("cyclic", False)
    for r in (gsl, cyc, off):
        assert r.success and _rel_gap(P, r.x) <= 1e-10
    with pytest.raises(ValueError, match="selection"):
        numopt.bcd(P, selection="fastest")


# ----------------------------------------------------------------- item 16: reproducible defaults

def test_default_runs_with_working_sets_are_reproducible(libsvm_dir):
    """a1a l1-logistic, working sets with the sub-sampled prox-Newton Hessian: rng=None gave
    other samples, iterates and nit on every run (3c54c08: x differed between runs, nit 5/6/5);
    now a fixed default generator, and an explicit seed still changes the samples."""
    P = problems.get("libsvm/a1a", model="logreg", lam_ratio=0.01, data_dir=libsvm_dir)
    runs = [numopt.bcd(P, selection="cyclic", working_set=True, tol=1e-8) for _ in range(3)]
    for r in runs[1:]:
        assert r.nit == runs[0].nit
        np.testing.assert_array_equal(r.x, runs[0].x)
    assert runs[0].success and _rel_gap(P, runs[0].x) <= 1e-7
    d1, d2 = numopt.bcd(P), numopt.bcd(P)
    assert d1.nit == d2.nit
    np.testing.assert_array_equal(d1.x, d2.x)
    seeded = numopt.bcd(P, selection="cyclic", working_set=True, tol=1e-8, rng=123)
    assert not np.array_equal(seeded.trace["fun"], runs[0].trace["fun"])  # the seed is used


def test_vr_cyclic_methods_nmf_and_random_rules_are_reproducible_by_default():
    """vr-cd / VR-A-CODER minibatches, nmf_bcd_pr's random start, random block selection on
    the generic and tree paths: two default runs agree exactly. (3c54c08: unseeded.)"""
    rng = np.random.default_rng(3)
    A = rng.standard_normal((60, 8))
    P = numopt.Problem(LinearComposite(Quadratic(A @ np.ones(8) + 0.1 * rng.standard_normal(60)), A),
                       x0=np.zeros(8), regularizer=L1(0.05))
    for run in (lambda: vr_cyclic_cd(P, np.zeros(8), maxiter=20, tol=0),
                lambda: acoder(P, np.zeros(8), variance_reduction=True, maxiter=5, tol=0),
                lambda: numopt.bcd(P, selection="random", backend="array_api", maxiter=5, tol=0)):
        a, b = run(), run()
        np.testing.assert_array_equal(a.x, b.x)
    X = rng.random((12, 3)) @ rng.random((3, 10))
    m1, m2 = nmf_bcd_pr(X, 3, maxiter=5, tol=0), nmf_bcd_pr(X, 3, maxiter=5, tol=0)
    np.testing.assert_array_equal(m1.W, m2.W)
    Q = sp.diags([-np.ones(19), 2.05 * np.ones(20), -np.ones(19)], [-1, 0, 1], format="csr")
    q = numopt.Problem(QuadraticForm(Q, np.ones(20)), x0=np.zeros(20))
    t1, t2 = (numopt.bcd(q, update="tree", blocks=5, selection="random", maxiter=5, tol=0) for _ in range(2))
    np.testing.assert_array_equal(t1.x, t2.x)


# ----------------------------------------------------------------- item 9: sparse stays sparse

def _no_dense(X):
    def boom(*args, **kwargs):
        raise AssertionError("the caller's sparse design was densified")

    X.toarray = boom
    X.todense = boom
    return X


def test_block_newton_update_never_densifies_a_sparse_design():
    """update='newton' on f = loss(A x) with a sparse A forms each block Hessian from the
    block's columns A[:, b] only. (3c54c08: LinearComposite.hess -> A.toarray() of the whole
    design.) The answer is certified by the gradient norm, recomputed here."""
    rng = np.random.default_rng(4)
    n, p = 400, 30
    A = sp.random(n, p, density=0.15, format="csr", random_state=rng, data_rvs=rng.standard_normal)
    y = np.where(rng.standard_normal(n) > 0, 1.0, -1.0)  # random labels: not separable, finite optimum
    f = LinearComposite(Logistic(y), _no_dense(A))
    P = numopt.Problem(f, x0=np.zeros(p))
    res = numopt.bcd(P, selection="cyclic", blocks=10, update="newton", tol=1e-10, maxiter=500)
    assert res.success and res.nhev > 0
    assert np.linalg.norm(A.T @ f.loss.grad(A @ res.x)) <= 1e-9


def test_block_newton_update_takes_a_sparse_hessian():
    """An objective whose hess returns a scipy.sparse matrix: its b x b blocks are sliced
    sparse. (3c54c08: np.asarray(sparse) is a 0-d object array, the update failed.)"""
    from scipy.sparse.linalg import spsolve

    Q = sp.diags([-np.ones(39), 2.1 * np.ones(40), -np.ones(39)], [-1, 0, 1], format="csr")
    c = np.linspace(-1.0, 1.0, 40)
    q = numopt.Problem(QuadraticForm(_no_dense(Q.copy()), c), x0=np.zeros(40))
    res = numopt.bcd(q, selection="cyclic", blocks=8, update="newton", tol=1e-10, maxiter=2000)
    assert res.success
    np.testing.assert_allclose(res.x, spsolve(Q.tocsc(), c), atol=1e-8)


# ----------------------------------------------------------------- item 1: never drop g

def test_updates_without_a_prox_step_refuse_a_regularizer():
    """update='tree' (3c54c08: ran on the Hessian and returned the unregularized least-squares
    solution) and an update object that does not declare it applies the prox: ValueError."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 6))
    P = make_model(X, rng.standard_normal(40), "lasso", lam_ratio=0.3)
    with pytest.raises(ValueError, match="regularizer"):
        numopt.bcd(P, update="tree", selection="cyclic")

    class Plain:
        def update(self, state, j):
            return state["x"][state["block"]] - state["grad"][state["block"]] / state["L"]

    with pytest.raises(ValueError, match="uses_regularizer"):
        numopt.bcd(P, update=Plain(), selection="cyclic")

    class Prox(Plain):
        uses_regularizer = True

        def update(self, state, j):
            return state["prox"](super().update(state, j), 1.0 / state["L"])

    res = numopt.bcd(P, update=Prox(), selection="cyclic", tol=1e-11, maxiter=5000)
    assert res.success and _rel_gap(P, res.x) <= 1e-10  # the l1 term is used


def test_non_separable_regularizers_are_refused_and_aligned_groups_solved():
    """Block-wise prox steps need g separable over the blocks: a group lasso split across
    blocks, an l1 ball or a simplex is refused (3c54c08: each block's prox with the other
    blocks zeroed, silently another problem), by bcd and by acoder / vr-cd; a group lasso
    with blocks = groups reaches FISTA's optimum."""
    rng = np.random.default_rng(6)
    X = rng.standard_normal((50, 6))
    f = LinearComposite(Quadratic(X @ np.array([1.0, 1.0, 1.0, 0, 0, 0]) + 0.1 * rng.standard_normal(50)), X)
    grp = numopt.Problem(f, x0=np.zeros(6), regularizer=GroupLasso(0.05, 3))
    with pytest.raises(ValueError, match="GroupLasso"):
        numopt.bcd(grp, selection="cyclic")
    with pytest.raises(ValueError, match="GroupLasso"):
        acoder(grp, np.zeros(6))
    ok = numopt.bcd(grp, blocks=3, selection="cyclic", tol=1e-12, maxiter=20000)
    ref = numopt.minimize(grp, method="fista", tol=1e-13, options={"maxiter": 100000})
    assert ok.success and ok.fun == pytest.approx(ref.fun, rel=1e-9)
    for g in (L1Ball(1.0), Simplex(1.0)):
        P = numopt.Problem(f, x0=np.zeros(6), regularizer=g)
        with pytest.raises(ValueError, match=type(g).__name__):
            numopt.bcd(P, selection="cyclic")
        with pytest.raises(ValueError, match=type(g).__name__):
            vr_cyclic_cd(P, np.zeros(6), variance_reduction=False)


def test_squared_l2_and_no_regularizer_run_the_fast_path_with_a_certificate():
    """l2-logistic (problems' penalty='l2') runs the numba path and stops on the duality gap of
    f + lam/2 ||x||^2, recomputed here (3c54c08: duality_gap refused SquaredL2; the
    generic path ran). A LinearComposite without a regularizer stops on the gradient norm
    (3c54c08: optimality None on the fast path, so never success: status 1 at maxiter)."""
    P = _logreg(seed=7, penalty="l2", lam_ratio=0.05)
    res = numopt.bcd(P, tol=1e-11)
    assert res.selection == "cyclic" and res.success
    assert 0 <= _rel_gap(P, res.x) <= 1e-10
    assert res.optimality == pytest.approx(_rel_gap(P, res.x), rel=1e-6, abs=1e-14)
    rng = np.random.default_rng(8)
    X = rng.standard_normal((60, 10))
    y = rng.standard_normal(60)
    ls = numopt.Problem(LinearComposite(Quadratic(y), X), x0=np.zeros(10))
    for sel in ("cyclic", "gsl"):
        r = numopt.bcd(ls, selection=sel, tol=1e-12, maxiter=5000)
        assert r.success and r.status == 0
        np.testing.assert_allclose(r.x, np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-10)


# ----------------------------------------------------------------- item 3: NaN, bounded loops

def test_logistic_conjugate_does_not_swallow_nan():
    """A NaN dual coordinate failed every comparison and counted as a zero term of the
    numba conjugate (3c54c08: a finite value), so a NaN dual point gave a finite dual bound."""
    y = np.array([1.0, -1.0, 1.0, 1.0])
    u = np.array([np.nan, 0.1, -0.1, -0.05]) / 4
    assert np.isnan(Logistic(y).conjugate(u))
    X = np.eye(4)
    assert np.isnan(duality_gap(X, Logistic(y), L1(0.1), np.array([np.nan, 0.0, 0.0, 0.0]))[0])


def test_design_with_an_overflowing_column_is_refused_not_spun_on():
    """A column whose squared norm overflows (1e200) has L_j = inf: its coordinate stays 0
    while its dual constraint keeps the gap up, and the working-set loop ran its 10^5-epoch
    cap on every outer iteration (3c54c08: 8 s for maxiter=2, then status 1). Refused."""
    rng = np.random.default_rng(9)
    X = rng.standard_normal((50, 20))
    X[:, 3] *= 1e200
    P = make_model(X, rng.standard_normal(50), "lasso", lam=0.01)
    with pytest.raises(ValueError, match="column 3"):
        numopt.bcd(P, selection="cyclic", working_set=True, maxiter=2)


def test_forest_and_nmf_inputs_with_nan_are_refused():
    """NaN fails every comparison: check_forest's symmetry / pivot tests and nmf_bcd_pr's
    `W0 < 0` test let it through (3c54c08). Also a complex or empty X."""
    A = np.array([[2.0, np.nan], [np.nan, 2.0]])
    with pytest.raises(ValueError, match="finite"):
        check_forest(A, [0, 1])
    X = np.random.default_rng(10).random((6, 5))
    with pytest.raises(ValueError, match="W0"):
        nmf_bcd_pr(X, 2, W0=np.full((6, 2), np.nan), maxiter=3)
    with pytest.raises(TypeError, match="X"):
        nmf_bcd_pr(X + 1j, 2, maxiter=3)
    with pytest.raises(ValueError, match="X"):
        nmf_bcd_pr(np.zeros((0, 5)), 2, maxiter=3)
