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
    for o in (L.Simplex(), L.L1Ball(2.0), L.LpBall(2.0), L.Box(-1.0, 1.0), L.KSparse(2)):
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
