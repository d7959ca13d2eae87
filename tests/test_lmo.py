"""Each LMO returns an extreme point minimizing <d, s> over its set (checked by LP,
enumeration or an eigen/singular decomposition)."""
import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment, linprog

from numopt import lmo as L


def _lp_min(d, A_eq=None, b_eq=None, bounds=None, A_ub=None, b_ub=None):
    r = linprog(d, A_eq=A_eq, b_eq=b_eq, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    assert r.status == 0
    return r.fun


@pytest.mark.parametrize("seed", range(5))
def test_polytopes_against_lp(seed):
    rng = np.random.default_rng(seed)
    n = 7
    d = rng.standard_normal(n)
    s = L.Simplex(2.0)(d)
    assert d @ s == pytest.approx(_lp_min(d, A_eq=np.ones((1, n)), b_eq=[2.0], bounds=(0, None)))
    assert np.count_nonzero(s) == 1 and s.sum() == pytest.approx(2.0)
    s = L.L1Ball(1.5)(d)  # l1 ball as an LP in (x+, x-)
    lp = _lp_min(np.concatenate([d, -d]), A_ub=np.ones((1, 2 * n)), b_ub=[1.5], bounds=(0, None))
    assert d @ s == pytest.approx(lp) and np.abs(s).sum() == pytest.approx(1.5)
    lo, hi = -rng.uniform(size=n), rng.uniform(size=n)
    s = L.Box(lo, hi)(d)
    assert d @ s == pytest.approx(_lp_min(d, bounds=list(zip(lo, hi))))
    K = 3  # K-sparse polytope: enumerate its vertices
    best = min(d @ v for idx in itertools.combinations(range(n), K)
               for signs in itertools.product([-1, 1], repeat=K)
               for v in [np.bincount(idx, weights=signs, minlength=n).astype(float)])
    assert d @ L.KSparse(K, 1.0)(d) == pytest.approx(best)


@pytest.mark.parametrize("p", [1.5, 2.0, 3.0, np.inf])
def test_lp_ball_holder(p, rng):
    d = rng.standard_normal(6)
    s = L.LpBall(p, 2.0)(d)
    q = 1.0 if p == np.inf else p / (p - 1)
    assert np.linalg.norm(s, p) == pytest.approx(2.0)
    assert d @ s == pytest.approx(-2.0 * np.linalg.norm(d, q))  # Hölder equality


def test_matrix_sets(rng):
    D = rng.standard_normal((6, 4))
    S = L.NuclearNormBall(3.0)(D)
    assert np.sum(D * S) == pytest.approx(-3.0 * np.linalg.norm(D, 2))
    assert np.linalg.svd(S, compute_uv=False)[0] == pytest.approx(3.0)
    big = rng.standard_normal((50, 40))
    Sb = L.NuclearNormBall(1.0)(big)
    assert np.sum(big * Sb) == pytest.approx(-np.linalg.norm(big, 2), rel=1e-8)
    M = rng.standard_normal((5, 5))
    X = L.Spectrahedron(2.0)(M)
    assert np.trace(X) == pytest.approx(2.0) and np.linalg.eigvalsh(X)[0] >= -1e-12
    assert np.sum(M * X) == pytest.approx(2.0 * np.linalg.eigvalsh(0.5 * (M + M.T))[0])
    C = rng.standard_normal((6, 6))
    P = L.Birkhoff()(C)
    r, c = linear_sum_assignment(C)
    assert np.sum(C * P) == pytest.approx(C[r, c].sum())
    np.testing.assert_allclose(P.sum(0), 1) and np.testing.assert_allclose(P.sum(1), 1)


def test_generic_namespace(xp, rng):
    d = xp.asarray(rng.standard_normal(8))
    for o in (L.Simplex(), L.UnitSimplex(), L.L1Ball(2.0), L.LpBall(2.0), L.Box(-1.0, 1.0), L.KSparse(2)):
        s = o(d)
        assert type(s) is type(d)
        np.testing.assert_allclose(np.asarray(s), o(np.asarray(d)))


def test_bad_parameters():
    with pytest.raises(ValueError, match="radius"):
        L.Simplex(-1)
    with pytest.raises(ValueError, match="p"):
        L.LpBall(1.0)
    with pytest.raises(ValueError, match="K"):
        L.KSparse(0)


@pytest.mark.parametrize("seed", range(3))
def test_unit_simplex_and_birkhoff_against_lp(seed):
    rng = np.random.default_rng(seed)
    n = 6
    for d in (rng.standard_normal(n), np.abs(rng.standard_normal(n))):  # mixed signs; all >= 0 (s = 0)
        s = L.UnitSimplex(1.5)(d)
        assert d @ s == pytest.approx(_lp_min(d, A_ub=np.ones((1, n)), b_ub=[1.5], bounds=(0, None)), abs=1e-12)
        assert np.all(s >= 0) and s.sum() <= 1.5 + 1e-12
    C = rng.standard_normal((5, 5))  # Birkhoff polytope as an LP over doubly stochastic matrices
    A_eq = np.vstack([np.kron(np.eye(5), np.ones(5)), np.kron(np.ones(5), np.eye(5))])
    P = L.Birkhoff()(C)
    assert np.sum(C * P) == pytest.approx(_lp_min(C.ravel(), A_eq=A_eq, b_eq=np.ones(10), bounds=(0, None)))
    assert set(np.unique(P)) <= {0.0, 1.0}  # an extreme point: a permutation matrix


def test_spectrahedron_lanczos_path(rng):
    M = rng.standard_normal((150, 150))  # > 100: eigsh
    X = L.Spectrahedron(1.0)(M)
    lam_min = np.linalg.eigvalsh(0.5 * (M + M.T))[0]
    assert np.sum(M * X) == pytest.approx(lam_min, rel=1e-8)
    assert np.trace(X) == pytest.approx(1.0) and np.linalg.matrix_rank(X, tol=1e-8) == 1


def test_user_defined_lmo_in_frank_wolfe():
    """A polytope given by its vertex list: the LMO enumerates; FW reaches cvxpy's optimum."""
    import numopt

    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(0)
    V = rng.standard_normal((12, 4))  # vertices (rows)
    lmo = L.UserLMO(lambda d: V[np.argmin(V @ d)], name="vertex list")
    d = rng.standard_normal(4)
    assert d @ lmo(d) == pytest.approx(min(V @ d))  # enumeration
    y = rng.standard_normal(4) * 3
    lam = cp.Variable(12)
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(V.T @ lam - y)), [lam >= 0, cp.sum(lam) == 1])
    prob.solve(solver=cp.CLARABEL)
    res = numopt.frank_wolfe(lambda x: 0.5 * float(np.sum((x - y) ** 2)), V[0], lmo, jac=lambda x: x - y,
                             variant="blended-pairwise", tol=1e-9, maxiter=5000)
    assert res.success and res.fun == pytest.approx(prob.value, abs=1e-7)
    with pytest.raises(ValueError, match="shape"):
        L.UserLMO(lambda d: d[:2])(np.ones(3))
    with pytest.raises(TypeError, match="extreme_point"):
        L.UserLMO(3)
    with pytest.raises(ValueError, match="square"):
        L.Birkhoff()(np.ones((2, 3)))
