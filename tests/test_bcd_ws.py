"""BCD working sets (wide data), gap-safe screening, Anderson extrapolation and greedy
rules on the logistic fast path: optima vs scikit-learn and the full-set solver, duality
gap certificates, maintained gradients."""
import numpy as np
import pytest
import scipy.sparse as sp

import numopt
from problems.models import make_model


def _wide(n=500, p=50000, density=0.01, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csc", random_state=rng, data_rvs=rng.standard_normal)
    w = np.zeros(p)
    w[rng.choice(p, 20, replace=False)] = rng.standard_normal(20)
    return X, X @ w + 0.1 * rng.standard_normal(n)


@pytest.fixture(scope="module")
def wide():
    return _wide()


def _rel_gap(P, x):
    return P.duality_gap(x)[0] / P.value(np.zeros_like(x))


def test_wide_lasso_working_sets_match_sklearn_and_full_solver(wide):
    from sklearn.linear_model import Lasso

    X, y = wide
    P = make_model(X, y, "lasso", lam_ratio=0.05)
    ws = numopt.bcd(P, selection="cyclic", working_set=True, tol=1e-12, maxiter=1000)
    full = numopt.bcd(P, selection="cyclic", working_set=False, tol=1e-12, maxiter=100000)
    ref = Lasso(alpha=P.meta["lam"], fit_intercept=False, tol=1e-12, max_iter=10**6).fit(X, y)
    assert ws.success and full.success
    assert ws.fun == pytest.approx(full.fun, rel=1e-10)
    assert ws.fun <= P.value(ref.coef_) * (1 + 1e-10)
    assert ws.fun == pytest.approx(P.value(ref.coef_), rel=1e-8)
    assert 0 <= _rel_gap(P, ws.x) <= 1e-12  # certificate, recomputed independently of the solver
    np.testing.assert_array_equal(ws.x != 0, full.x != 0)
    # working sets + screening touch far fewer coordinates than full epochs
    assert ws.n_screened > 0.9 * X.shape[1]
    assert ws.coordinate_updates < full.coordinate_updates / 20


@pytest.mark.parametrize("selection", ["gsl", "gs-q", "random"])
def test_wide_lasso_working_set_rules(wide, selection):
    X, y = wide
    P = make_model(X, y, "lasso", lam_ratio=0.1)
    ref = numopt.bcd(P, selection="cyclic", working_set=True, tol=1e-13, maxiter=1000)
    res = numopt.bcd(P, selection=selection, working_set=True, tol=1e-12, maxiter=1000, rng=0)
    assert res.success and res.fun == pytest.approx(ref.fun, rel=1e-9)
    assert _rel_gap(P, res.x) <= 1e-11


def test_screening_and_anderson_do_not_change_the_optimum(wide):
    X, y = wide
    P = make_model(X, y, "lasso", lam_ratio=0.05)
    a = numopt.bcd(P, selection="cyclic", working_set=True, tol=1e-12)
    b = numopt.bcd(P, selection="cyclic", working_set=True, screening=False, anderson=False, tol=1e-12)
    assert a.success and b.success and b.n_screened == 0 and b.anderson_steps == 0
    assert a.anderson_steps > 0
    assert a.fun == pytest.approx(b.fun, rel=1e-10)
    np.testing.assert_allclose(a.x, b.x, atol=1e-6 * np.abs(b.x).max())


def test_wide_enet_working_sets():
    X, y = _wide(p=8000, seed=1)
    P = make_model(X, y, "enet", lam_ratio=0.05, l1_ratio=0.7)
    ws = numopt.bcd(P, selection="cyclic", working_set=True, tol=1e-13)
    full = numopt.bcd(P, selection="cyclic", working_set=False, tol=1e-12, maxiter=100000)
    assert ws.success and ws.fun == pytest.approx(full.fun, rel=1e-10)
    assert _rel_gap(P, ws.x) <= 1e-12


def test_wide_logistic_working_sets_match_skglm():
    SparseLogisticRegression = pytest.importorskip("skglm").SparseLogisticRegression  # prox-Newton + working sets

    X, y = _wide(n=300, p=20000, seed=2)
    y = np.where(y > 0, 1.0, -1.0)
    P = make_model(X, y, "logreg", lam_ratio=0.2)
    ws = numopt.bcd(P, selection="cyclic", tol=1e-12)  # working_set="auto": on for p > 5000
    assert ws.working_set_size < X.shape[1]
    full = numopt.bcd(P, selection="cyclic", working_set=False, tol=1e-12, maxiter=100000)
    ref = SparseLogisticRegression(alpha=P.meta["lam"], fit_intercept=False, tol=1e-12, max_iter=1000).fit(X, y)
    assert ws.success and full.success
    assert ws.fun == pytest.approx(full.fun, rel=1e-10)
    assert ws.fun <= P.value(ref.coef_.ravel()) + 1e-10
    assert ws.fun == pytest.approx(P.value(ref.coef_.ravel()), rel=1e-7)
    assert _rel_gap(P, ws.x) <= 1e-12
    assert ws.coordinate_updates < full.coordinate_updates / 10


@pytest.mark.parametrize("selection", ["gs", "gsl", "gs-r", "gs-q"])
def test_greedy_logistic_fast_path(selection):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((120, 30)) * np.geomspace(0.2, 5, 30)
    y = np.where(X[:, :4] @ rng.standard_normal(4) + 0.3 * rng.standard_normal(120) > 0, 1.0, -1.0)
    P = make_model(X, y, "logreg", lam_ratio=0.05)
    ref = numopt.bcd(P, selection="cyclic", tol=1e-14, maxiter=100000)
    res = numopt.bcd(P, selection=selection, tol=1e-13, maxiter=100000)  # 5e-14: gs-r stalls (maxiter)
    assert res.success and res.fun == pytest.approx(ref.fun, rel=1e-10)
    assert _rel_gap(P, res.x) <= 1e-12
    if selection == "gs-r":  # the generic path scores GS-r as L_j |step|, the kernels as |step|
        return
    # one greedy epoch on the fast path = p greedy steps of the generic (full gradient) path
    fast = numopt.bcd(P, selection=selection, tol=0, maxiter=3)
    slow = numopt.bcd(P, selection=selection, tol=0, maxiter=3, backend="array_api")
    np.testing.assert_allclose(fast.x, slow.x, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("logistic", [False, True])
def test_greedy_kernel_maintains_the_gradient(logistic):
    from numopt.solvers import _bcd_kernels as K

    rng = np.random.default_rng(4)
    n, p = 80, 200
    X = sp.random(n, p, density=0.05, format="csc", random_state=rng, data_rvs=rng.standard_normal)
    X.sort_indices()
    y = np.where(rng.standard_normal(n) > 0, 1.0, -1.0)
    W = np.sort(rng.choice(p, 60, replace=False)).astype(np.int64)
    R = X[:, W].tocsr()
    R.sort_indices()
    w = np.zeros(p)
    state = np.zeros(n) if logistic else y.copy()
    u = -y / (1 + np.exp(y * state)) / n if logistic else -state / n
    g = X[:, W].T @ u
    ind, ptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    Lj = (0.25 if logistic else 1.0) * np.asarray(X.multiply(X).sum(0)).ravel() / n
    l1 = 0.05 * np.abs(g).max()
    took = K.greedy_ws(logistic, X.data, ind, ptr, R.data, R.indices.astype(np.int64), R.indptr.astype(np.int64),
                       W, w, state, y, u, g, l1, 0.01, Lj, 1.0 / n, 3, 200)
    assert took > 10 and np.count_nonzero(w) > 3
    assert np.all(w[np.setdiff1d(np.arange(p), W)] == 0)
    z = X @ w
    np.testing.assert_allclose(state, z if logistic else y - z, atol=1e-12)
    u_true = -y / (1 + np.exp(y * z)) / n if logistic else (z - y) / n
    np.testing.assert_allclose(u, u_true, atol=1e-14)
    np.testing.assert_allclose(g, X[:, W].T @ u_true, atol=1e-13)


def test_working_set_bad_inputs():
    X, y = _wide(n=50, p=300, seed=5)
    P = make_model(X, y, "lasso", lam_ratio=0.1)
    with pytest.raises(ValueError, match="working_set"):
        numopt.bcd(P, working_set="yes")
    with pytest.raises(ValueError, match="ws_inner"):
        numopt.bcd(P, working_set=True, ws_inner=1.5)
    with pytest.raises(ValueError, match="ws_start"):
        numopt.bcd(P, working_set=True, ws_start=0)
    with pytest.raises(ValueError, match="working_set"):
        numopt.bcd(P, working_set=True, backend="array_api")


def test_gram_kernel_and_gram_gap_match_direct_computation():
    """The numba X^T X kernel equals scipy's product, and the greedy least-squares path (gap
    and objective from the Gram matrix, never from X) reports the gap duality_gap computes."""
    import scipy.sparse as sp

    from numopt.solvers import _bcd_kernels as K

    rng = np.random.default_rng(5)
    X = sp.random(400, 60, density=0.1, format="csr", random_state=rng, data_rvs=rng.standard_normal)
    X.sort_indices()
    G = K.gram_csr(X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64), 60)
    np.testing.assert_allclose(G, (X.T @ X).toarray(), atol=1e-12)
    y = X @ rng.standard_normal(60) + 0.1 * rng.standard_normal(400)
    for model, kw in (("lasso", {}), ("enet", {"l1_ratio": 0.7})):
        P = make_model(X.tocsc(), y, model, lam_ratio=0.05, **kw)
        for maxiter in (1, 3, 50):
            res = numopt.bcd(P, selection="gsl", tol=1e-14, maxiter=maxiter)
            assert res.optimality == pytest.approx(_rel_gap(P, res.x), rel=1e-6, abs=1e-13)
            assert res.fun == pytest.approx(P.value(res.x), rel=1e-12)


def test_prox_newton_model_solvers_agree():
    """The Gram-form prox-Newton inner solver and the column-wise one minimize the same model:
    run to convergence they return the same step, and it satisfies the model's optimality
    condition (0 in g + H d + l1 * subdifferential + l2 (w + d))."""
    from numopt.solvers import _bcd_kernels as K

    rng = np.random.default_rng(7)
    X = sp.random(300, 40, density=0.15, format="csc", random_state=rng, data_rvs=rng.standard_normal)
    X.sort_indices()
    W = np.arange(0, 40, 2, dtype=np.int64)
    w = np.zeros(40)
    w[W[:5]] = rng.standard_normal(5)
    h = rng.uniform(0.01, 0.25, 300) / 300
    g = rng.standard_normal(W.size) * 0.05
    l1, l2 = 0.01, 0.001
    XW = X[:, W]
    Hj = np.asarray(XW.multiply(XW).T @ h).ravel()
    d1, Xd1 = np.zeros(W.size), np.zeros(300)
    K.prox_newton_cd(X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64), W, w, d1, Xd1, h, g, Hj,
                     l1, l2, 100000, 1e-14)
    R = XW.tocsr()
    R.sort_indices()
    H = K.gram_masked_rows(R.data, R.indices.astype(np.int64), R.indptr.astype(np.int64),
                           np.arange(W.size, dtype=np.int64), h, W.size, 1)  # X_W's own rows
    np.testing.assert_allclose(H, (XW.T @ sp.diags(h) @ XW).toarray(), atol=1e-14)
    # the same Hessian from the whole design's CSR rows with the columns outside W masked
    Xr = X.tocsr()
    pos = np.full(40, -1, dtype=np.int64)
    pos[W] = np.arange(W.size)
    rows = (Xr.data, Xr.indices.astype(np.int64), Xr.indptr.astype(np.int64))
    for nblocks in (1, 3):  # serial, and rows split over three accumulators
        np.testing.assert_allclose(K.gram_masked_rows(*rows, pos, h, W.size, nblocks), H, atol=1e-14)
    cnt = np.diff(R.indptr).astype(float)
    assert K.masked_rows_cost(rows[1], rows[2], pos) == (pytest.approx(0.5 * cnt @ (cnt + 1)), XW.nnz)
    # every 3rd row (0, 3, ...), scaled by 3
    assert K.masked_rows_cost(rows[1], rows[2], pos, 3) == (pytest.approx(1.5 * cnt[::3] @ (cnt[::3] + 1)),
                                                            3 * cnt[::3].sum())
    Hj2 = np.empty(W.size)
    K.cols_weighted_sq(X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64), W, h, Hj2)
    np.testing.assert_allclose(Hj2, Hj, rtol=1e-13)
    d2 = np.zeros(W.size)
    K.prox_newton_cd_gram(H, g, w[W], d2, l1, l2, 100000, 1e-14)
    np.testing.assert_allclose(d1, d2, atol=1e-10)
    np.testing.assert_allclose(Xd1, XW @ d1, atol=1e-12)
    Xd2 = np.full(300, np.nan)
    K.cols_matvec(X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64), W, d2, Xd2)
    np.testing.assert_allclose(Xd2, XW @ d2, atol=1e-12)
    v = w[W] + d2
    r = g + H @ d2 + l2 * v
    on = v != 0
    np.testing.assert_allclose(r[on], -l1 * np.sign(v[on]), atol=1e-9)
    assert np.all(np.abs(r[~on]) <= l1 + 1e-9)


def test_subsampled_newton_hessian_reaches_the_same_optimum():
    """hessian_sample < 1 forms the prox-Newton model Hessian from a random fraction of the
    samples in the global phase: a different path (other iterates) to the same optimum and
    certified gap as the full Hessian; bad fractions are refused."""
    rng = np.random.default_rng(11)
    n, p = 6000, 60
    X = sp.random(n, p, density=0.2, format="csc", random_state=rng, data_rvs=rng.standard_normal)
    y = np.where(X @ rng.standard_normal(p) + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    P = make_model(X, y, "logreg", lam_ratio=0.02)
    runs = {f: numopt.bcd(P, selection="cyclic", working_set=True, tol=1e-12, maxiter=1000, hessian_sample=f,
                          rng=0) for f in (1.0, 0.2)}
    full, sub = runs[1.0], runs[0.2]
    assert full.success and sub.success
    assert not np.array_equal(full.trace["fun"][:3], sub.trace["fun"][:3])  # the sampled Hessian was used
    assert sub.fun == pytest.approx(full.fun, rel=1e-11)
    np.testing.assert_allclose(sub.x, full.x, atol=1e-7)
    assert _rel_gap(P, sub.x) <= 1e-11
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="hessian_sample"):
            numopt.bcd(P, selection="cyclic", working_set=True, hessian_sample=bad)


def test_prox_newton_line_search_sees_changes_below_rounding(libsvm_dir):
    """a9a, l1-logistic at lambda_max / 10 to a relative gap of 1e-8: the last Newton step
    changes the objective by ~1e-15 relative, below the rounding of f(t) - f(0); the line
    search then sums per-sample differences (Logistic.value_change) and accepts the unit
    step. It had rejected it, or backtracked 20 times, and spent up to 3 more Newton
    steps on some seeds of the sub-sampled Hessian (5 steps on every seed now)."""
    import problems

    P = problems.get("libsvm/a9a", model="logreg", lam_ratio=0.1, data_dir=libsvm_dir)
    for seed in range(12):
        res = numopt.bcd(P, selection="cyclic", working_set=True, tol=1e-8, rng=seed)
        assert res.success and _rel_gap(P, res.x) <= 1e-8
        assert res.prox_newton_steps <= 6, seed


def test_subsampled_hessian_keeps_rare_columns_curved():
    """A rare feature (2 of 5000 rows) whose rows the 1% Hessian sample misses: its model
    curvature would be ~0 and its model step huge (the line search then fails and the solver
    falls back to CD epochs: mushrooms at lambda_max/1000 took 0.4 s instead of 0.04 s on some
    seeds). The sampled Hessian's diagonal is raised to the exact sum_i h_i X_ij^2, so the
    step is finite and accepted."""
    from numopt.datafits import Logistic
    from numopt.prox import L1
    from numopt.solvers import _bcd_kernels as K
    from numopt.solvers.bcd import _CSCData, _prox_newton_step, _WSMatrices

    rng = np.random.default_rng(0)
    n, p = 5000, 6
    X = (rng.random((n, p)) < 0.3).astype(float)
    X[:, 0] = 0.0
    X[:2, 0] = 1.0
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    y[:2] = 1.0
    D = _CSCData(sp.csc_matrix(X))
    W = np.arange(p, dtype=np.int64)
    M = _WSMatrices(D, W, D.rows())
    assert M.gram
    loss = Logistic(y)
    z, w = np.zeros(n), np.zeros(p)
    cur = loss.terms(z)
    gW = np.empty(p)
    K.col_dots(D.data, D.indices, D.indptr, cur[1], W, gW)
    l1 = 0.05 * np.abs(gW).max()
    assert not (np.random.default_rng(3).random(n) < 0.01)[:2].any()  # the sample misses both rows
    _, progressed, new = _prox_newton_step(K, D, W, w, z, loss, L1(l1), l1, 0.0, gW, M, cur, 0.01,
                                           np.random.default_rng(3))
    assert progressed and new is not None
    assert 0 < w[0] < 5 and np.all(np.abs(w[1:]) < 1)
    assert new[0] + l1 * np.abs(w).sum() < np.log(2.0)


def test_prox_newton_step_on_the_active_part_matches_the_full_model():
    """Near the optimum the formed-Hessian Newton step is built on the active part of W only
    (nonzero or |g_k| > l1); where no held-out coordinate violates the model's optimality,
    it is the minimizer of the whole model on W, computed here by CD on the full Hessian."""
    from numopt.solvers import _bcd_kernels as K
    from numopt.solvers.bcd import _CSCData, _prox_newton_step, _WSMatrices

    rng = np.random.default_rng(4)
    n, p = 3000, 25
    X = rng.standard_normal((n, p))
    y = np.where(X[:, :4] @ rng.standard_normal(4) + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    P = make_model(X, y, "logreg", lam_ratio=0.05)
    w = numopt.bcd(P, selection="cyclic", working_set=False, tol=1e-4, maxiter=10000).x.copy()
    D = _CSCData(X)
    W = np.arange(p, dtype=np.int64)
    M = _WSMatrices(D, W, D.rows())
    loss, l1 = P.objective.loss, P.meta["lam"]
    z = X @ w
    cur = loss.terms(z)
    gW = X.T @ cur[1]
    act = (w != 0) | (np.abs(gW) > l1)
    assert M.gram and 0 < act.sum() < p
    H = (X.T * cur[2]) @ X + np.diag(1e-12 * D.sq / n)
    d = np.zeros(p)
    K.prox_newton_cd_gram(H, gW, w.copy(), d, l1, 0.0, 100000, 1e-13)  # the whole model, to convergence
    assert np.all(np.abs(gW + H @ d)[(w + d) == 0] <= l1)
    w0 = w.copy()
    _, progressed, _ = _prox_newton_step(K, D, W, w, z, loss, P.regularizer, l1, 0.0, gW, M, cur)
    assert progressed
    np.testing.assert_allclose(w - w0, d, atol=1e-3 * np.abs(d).max())
    assert np.all(w[~act] == 0)
