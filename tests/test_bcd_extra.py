"""BCD extras: message passing on forest blocks, active-set identification + Newton on
the support, BCD with proximal regularization for NMF."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import numopt
from numopt.solvers.bcd_extra import (QuadraticForm, TreeUpdate, check_forest, forest_partition, forest_solve,
                                      lattice_forest_blocks)
from numopt.solvers.nmf import nmf_bcd_pr
from problems.models import make_model


# ------------------------------------------------------------------ message passing

def _random_forest_matrix(rng, n, ntrees):
    """SPD matrix whose graph is a random forest with ``ntrees`` trees (random labels)."""
    perm = rng.permutation(n)
    rows, cols = [], []
    for i in range(ntrees, n):  # node perm[i] hangs below a random earlier node of its tree
        rows.append(perm[i])
        cols.append(perm[rng.integers(i) if i > ntrees else rng.integers(ntrees)])
    w = rng.standard_normal(len(rows))
    A = sp.coo_matrix((np.r_[w, w], (np.r_[rows, cols], np.r_[cols, rows])), shape=(n, n)).toarray()
    A += np.diag(np.abs(A).sum(axis=1) * rng.uniform(1.0, 1.5, n) + rng.uniform(0.01, 0.1, n))
    return A  # diagonally dominant (SPD), with pivots that differ from the diagonal


@pytest.mark.parametrize("n,ntrees", [(1, 1), (2, 1), (40, 1), (300, 1), (200, 7), (50, 50)])
def test_message_passing_equals_direct_solve(n, ntrees):
    rng = np.random.default_rng(n + ntrees)
    A = _random_forest_matrix(rng, n, ntrees)
    g = rng.standard_normal(n)
    d = forest_solve(A, np.arange(n), g)
    ref = np.linalg.solve(A, g)
    assert np.max(np.abs(d - ref)) <= 1e-12 * max(1.0, np.max(np.abs(ref)))
    # a block of a larger matrix: only A_bb matters
    big = sp.block_diag([sp.csr_matrix(A), sp.eye(5)]).tolil()
    big[0, n] = big[n, 0] = 0.3
    blk = np.arange(n)
    d2 = forest_solve(big.tocsr(), blk, g)
    np.testing.assert_allclose(d2, ref, rtol=0, atol=1e-12 * max(1.0, np.max(np.abs(ref))))


def _lattice(nr, nc, shift):
    T = lambda m: sp.diags([2 * np.ones(m), -np.ones(m - 1), -np.ones(m - 1)], [0, 1, -1])  # noqa: E731
    return (sp.kron(T(nr), sp.eye(nc)) + sp.kron(sp.eye(nr), T(nc)) + shift * sp.eye(nr * nc)).tocsr()


@pytest.mark.parametrize("kind", ["comb", "red-black"])
def test_lattice_partitions_are_forests(kind):
    A = _lattice(9, 7, 0.1)
    blocks = lattice_forest_blocks((9, 7), kind)
    assert sorted(np.concatenate(blocks).tolist()) == list(range(63))
    trees = [check_forest(A, b) for b in blocks]
    assert trees == ([1, 1] if kind == "comb" else [32, 31])  # two spanning combs; isolated nodes


def test_greedy_forest_partition():
    A = _lattice(12, 10, 0.1)
    blocks = forest_partition(A)
    assert sorted(np.concatenate(blocks).tolist()) == list(range(120))
    for b in blocks:
        check_forest(A, b)
    assert len(blocks) == 2  # a planar lattice splits into two induced forests greedily


def test_tree_bcd_on_lattice_matches_spsolve_and_beats_coordinates():
    from scipy.sparse.linalg import spsolve

    nr = nc = 30
    A = _lattice(nr, nc, 0.05)
    c = np.random.default_rng(0).standard_normal(nr * nc)
    xs = spsolve(A.tocsc(), c)
    q = numopt.Problem(objective=QuadraticForm(A, c), x0=np.zeros(nr * nc))
    tree = numopt.bcd(q, selection="cyclic", blocks=lattice_forest_blocks((nr, nc)), update="tree", tol=1e-10,
                      maxiter=5000)
    assert tree.success
    np.testing.assert_allclose(tree.x, xs, rtol=0, atol=1e-9 * np.abs(xs).max())
    coord = numopt.bcd(q, selection="cyclic", update="tree", tol=1e-10, maxiter=5000)  # singleton blocks
    assert coord.success
    np.testing.assert_allclose(coord.x, xs, rtol=0, atol=1e-9 * np.abs(xs).max())
    assert tree.nit < 0.7 * coord.nit  # measured: 337 vs 662 passes
    # singleton "trees" are exact coordinate minimization: equal to the generic path's
    # single-coordinate cyclic BCD (gradient step 1/A_jj) iterate for iterate
    few = numopt.bcd(q, selection="cyclic", update="tree", tol=0, maxiter=2)
    gen = numopt.bcd(q, selection="cyclic", update="gradient", tol=0, maxiter=2, backend="array_api")
    np.testing.assert_allclose(few.x, gen.x, rtol=1e-12, atol=1e-13)
    # the generic path with the same TreeUpdate object (array-API reference) agrees too
    ref = numopt.bcd(q, selection="cyclic", blocks=lattice_forest_blocks((nr, nc)), update=TreeUpdate(A), tol=0,
                     maxiter=3, backend="array_api")
    fast = numopt.bcd(q, selection="cyclic", blocks=lattice_forest_blocks((nr, nc)), update="tree", tol=0,
                      maxiter=3)
    np.testing.assert_allclose(fast.x, ref.x, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("selection", ["random", "gs"])
def test_tree_bcd_other_selections(selection):
    from scipy.sparse.linalg import spsolve

    A = _lattice(8, 8, 0.2)
    c = np.random.default_rng(1).standard_normal(64)
    q = numopt.Problem(objective=QuadraticForm(A, c), x0=np.zeros(64))
    res = numopt.bcd(q, selection=selection, blocks=forest_partition(A), update="tree", tol=1e-10, maxiter=5000,
                     rng=0)
    assert res.success
    np.testing.assert_allclose(res.x, spsolve(A.tocsc(), c), atol=1e-9)


def test_non_forest_blocks_raise():
    A = _lattice(4, 4, 0.1)
    with pytest.raises(ValueError, match="not a forest"):
        check_forest(A, [0, 1, 4, 5])  # a 4-cycle
    with pytest.raises(ValueError, match="not a forest"):
        forest_solve(A, [0, 1, 4, 5], np.ones(4))
    q = numopt.Problem(objective=QuadraticForm(A, np.ones(16)), x0=np.zeros(16))
    with pytest.raises(ValueError, match="block 1 is not a forest"):
        numopt.bcd(q, blocks=[[0], list(range(1, 16))], update="tree", selection="cyclic")
    with pytest.raises(ValueError, match="not a forest"):
        numopt.bcd(q, blocks=[list(range(16))], update="tree", selection="cyclic", backend="array_api")
    with pytest.raises(ValueError, match="block"):
        forest_solve(A, [0, 16], np.ones(2))
    with pytest.raises(ValueError, match="`g`"):
        forest_solve(A, [0, 1], np.ones(3))
    with pytest.raises(ValueError, match="positive definite"):
        forest_solve(-np.eye(3), [0, 1, 2], np.ones(3))
    with pytest.raises(ValueError, match="update"):
        numopt.bcd(q, update="message")
    with pytest.raises(ValueError, match="kind"):
        lattice_forest_blocks((3, 3), "stripes")


# ------------------------------------------------------------------ active set / Newton

def _lasso(seed=0, n=120, p=60, rho=0.8):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.empty_like(Z)
    X[:, 0] = Z[:, 0]
    for j in range(1, p):  # correlated columns: slow coordinate descent
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho ** 2) * Z[:, j]
    w = np.zeros(p)
    w[rng.choice(p, 8, replace=False)] = rng.uniform(1, 3, 8) * rng.choice([-1, 1], 8)
    y = X @ w + 0.5 * rng.standard_normal(n)
    return X, y


def test_active_set_matches_sklearn_support_and_is_identified():
    from sklearn.linear_model import Lasso

    X, y = _lasso()
    P = make_model(X, y, "lasso", lam_ratio=0.05)
    res = numopt.bcd(P, selection="cyclic", tol=1e-14, maxiter=100000)
    ref = Lasso(alpha=P.meta["lam"], fit_intercept=False, tol=1e-14, max_iter=10 ** 6).fit(X, y)
    np.testing.assert_array_equal(res.x != 0, ref.coef_ != 0)
    assert res.support_size == np.count_nonzero(ref.coef_)
    k = res.active_set_iteration
    assert 0 < k <= res.nit
    # honest check of the report: from iteration k on, the support is the final one; not before
    at_k = numopt.bcd(P, selection="cyclic", tol=0, maxiter=k)
    before = numopt.bcd(P, selection="cyclic", tol=0, maxiter=k - 1)
    np.testing.assert_array_equal(at_k.x != 0, res.x != 0)
    assert not np.array_equal(before.x != 0, res.x != 0)


@pytest.mark.parametrize("model", ["lasso", "logreg"])
def test_newton_on_active_set_cuts_iterations(model):
    X, y = _lasso(1)
    if model == "logreg":
        y = np.sign(y)
    P = make_model(X, y, model, lam_ratio=0.05)
    plain = numopt.bcd(P, selection="cyclic", tol=1e-13, maxiter=100000)
    newt = numopt.bcd(P, selection="cyclic", tol=1e-14, maxiter=100000, newton_on_active=True)
    assert plain.success and newt.success
    assert newt.newton_steps >= 1
    assert newt.nit < 0.5 * plain.nit
    assert newt.fun <= plain.fun + 1e-12 * abs(plain.fun)
    np.testing.assert_array_equal(newt.x != 0, plain.x != 0)
    assert P.duality_gap(newt.x)[0] <= 1e-13 * P.value(np.zeros(X.shape[1])) * 1.01


# ------------------------------------------------------------------ NMF BCD-PR

def _planted(seed=0, m=40, n=30, k=3):
    rng = np.random.default_rng(seed)
    W = rng.uniform(0, 1, (m, k)) * (rng.uniform(size=(m, k)) < 0.6)
    H = rng.uniform(0, 1, (k, n)) * (rng.uniform(size=(k, n)) < 0.6)
    return W, H


@pytest.mark.parametrize("inner", ["exact", "pgd"])
@pytest.mark.parametrize("lam", [1e-3, 1e-1])
def test_nmf_bcd_pr_recovers_planted_factorization(inner, lam):
    W, H = _planted()
    X = W @ H
    res = nmf_bcd_pr(X, 3, lam=lam, inner=inner, maxiter=3000, tol=1e-11, rng=1)
    assert res.success
    f = res.trace["fun"]
    assert np.all(np.diff(f) <= 1e-13 * f[0])  # monotone (sufficient decrease from the prox term)
    assert res.relative_error < 1e-8
    stat = res.trace["optimality"]
    assert stat[-1] <= 1e-10 < stat[0]
    # min_j stat_j^2 = O(1/k): the running minimum times k stays bounded by its start
    runmin = np.minimum.accumulate(stat ** 2)
    k = np.arange(1, stat.size)
    assert np.all(runmin[1:] * k <= 10 * runmin[1] * 1)
    # the factors themselves (sparse planted factors: unique up to scaling / permutation)
    Wn = res.W / np.linalg.norm(res.W, axis=0)
    Wt = W / np.linalg.norm(W, axis=0)
    match = np.abs(Wt.T @ Wn)
    assert np.all(match.max(axis=1) > 1 - 1e-6)


def test_nmf_bcd_pr_matches_sklearn_objective():
    from sklearn.decomposition import NMF

    W, H = _planted(2)
    rng = np.random.default_rng(3)
    X = np.abs(W @ H + 0.05 * rng.standard_normal((40, 30)))
    sc = np.sqrt(X.mean() / 3)
    W0, H0 = rng.uniform(0, 2 * sc, (40, 3)), rng.uniform(0, 2 * sc, (3, 30))
    res = nmf_bcd_pr(X, 3, lam=1e-3, maxiter=3000, tol=1e-9, W0=W0, H0=H0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = NMF(3, init="custom", tol=1e-10, max_iter=5000, solver="cd")
        Wsk = sk.fit_transform(X, W=W0.copy(), H=H0.copy())
    f_sk = 0.5 * np.linalg.norm(X - Wsk @ sk.components_) ** 2
    assert res.success
    assert res.fun <= f_sk * 1.01
    assert np.all(res.W >= 0) and np.all(res.H >= 0)


def test_nmf_bad_inputs():
    X = np.ones((4, 3))
    with pytest.raises(ValueError, match="nonnegative"):
        nmf_bcd_pr(-X, 2)
    with pytest.raises(ValueError, match="inner"):
        nmf_bcd_pr(X, 2, inner="newton")
    with pytest.raises(ValueError, match="lam"):
        nmf_bcd_pr(X, 2, lam=-1.0)
    with pytest.raises(ValueError, match="W0"):
        nmf_bcd_pr(X, 2, W0=np.ones((3, 2)))
    with pytest.raises((ValueError, TypeError), match="rank"):
        nmf_bcd_pr(X, 0)


def test_nmf_numba_block_solver_equals_nnls_reference():
    from numopt.solvers.nmf import _nnls_prox_block

    rng = np.random.default_rng(4)
    X = rng.uniform(size=(30, 25))
    W, H = rng.uniform(size=(30, 4)), rng.uniform(size=(4, 25))
    G, R = H @ H.T, X @ H.T
    fast = _nnls_prox_block(G, R, W, W, 0.01, "exact", 200, 1e-12, kernel=True)
    ref = _nnls_prox_block(G, R, W, W, 0.01, "exact", 200, 1e-12, kernel=False)  # Lawson-Hanson
    np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-12)
    assert np.any(ref == 0)  # constraints active: a real NNLS test
    a = nmf_bcd_pr(X, 4, maxiter=5, tol=0, rng=0)
    b = nmf_bcd_pr(X, 4, maxiter=5, tol=0, rng=0, backend="numpy")
    np.testing.assert_allclose(a.fun, b.fun, rtol=1e-11)
