"""Each proximal operator / projection checked against its definition."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from numopt import prox as P

finite = st.floats(-10, 10, allow_nan=False, width=64)
vecs = arrays(np.float64, st.integers(1, 12), elements=finite)


def _moreau_objective(g, x, step):
    return lambda z: g.value(z) + np.sum((z - x) ** 2) / (2 * step)


def _check_prox_optimal(g, x, step, rng, trials=30):
    """prox(x) must beat random perturbations of itself on the prox objective."""
    p = g.prox(x, step)
    obj = _moreau_objective(g, x, step)
    base = obj(p)
    assert np.isfinite(base)
    for _ in range(trials):
        z = p + rng.standard_normal(p.shape) * 10 ** rng.uniform(-6, 0)
        if hasattr(g, "project"):
            z = g.project(z)
        assert obj(z) >= base - 1e-9 * max(1, abs(base))


@settings(max_examples=60, deadline=None)
@given(vecs, st.floats(0.01, 5), st.floats(0, 3))
def test_l1_elementwise_and_optimal(x, step, lam):
    g = P.L1(lam)
    p = g.prox(x, step)
    np.testing.assert_allclose(p, np.sign(x) * np.maximum(np.abs(x) - step * lam, 0))
    _check_prox_optimal(g, x, step, np.random.default_rng(0))


@settings(max_examples=40, deadline=None)
@given(vecs, st.floats(0.01, 5), st.floats(0.01, 3), st.floats(0, 1))
def test_elastic_net_optimal(x, step, lam, ratio):
    _check_prox_optimal(P.ElasticNet(lam, ratio), x, step, np.random.default_rng(1))


@settings(max_examples=40, deadline=None)
@given(vecs, st.floats(0.01, 5), st.floats(0, 3))
def test_squared_l2_closed_form(x, step, lam):
    np.testing.assert_allclose(P.SquaredL2(lam).prox(x, step), x / (1 + step * lam))


@settings(max_examples=60, deadline=None)
@given(vecs, st.floats(0.1, 5))
def test_simplex_projection_properties(x, radius):
    p = P.project_simplex(x, radius)
    assert np.all(p >= 0)
    assert abs(p.sum() - radius) <= 1e-9 * max(1, radius)
    # optimality (variational inequality): <x - p, s - p> <= 0 for every vertex s
    for i in range(x.size):
        s = np.zeros_like(x)
        s[i] = radius
        assert (x - p) @ (s - p) <= 1e-9 * max(1, np.abs(x).max())


@settings(max_examples=60, deadline=None)
@given(vecs, st.floats(0.1, 5))
def test_l1_ball_projection_properties(x, radius):
    p = P.project_l1_ball(x, radius)
    assert np.abs(p).sum() <= radius * (1 + 1e-9)
    if np.abs(x).sum() <= radius:
        np.testing.assert_array_equal(p, x)
    for i in range(x.size):
        for sgn in (-1, 1):
            s = np.zeros_like(x)
            s[i] = sgn * radius
            assert (x - p) @ (s - p) <= 1e-9 * max(1, np.abs(x).max())


def test_projections_match_cvxpy(rng):
    cp = pytest.importorskip("cvxpy")
    for _ in range(3):
        x = rng.standard_normal(15) * 3
        z = cp.Variable(15)
        cp.Problem(cp.Minimize(cp.sum_squares(z - x)), [z >= 0, cp.sum(z) == 2.0]).solve()
        np.testing.assert_allclose(P.project_simplex(x, 2.0), z.value, atol=1e-6)
        cp.Problem(cp.Minimize(cp.sum_squares(z - x)), [cp.norm1(z) <= 1.5]).solve()
        np.testing.assert_allclose(P.project_l1_ball(x, 1.5), z.value, atol=1e-6)


@pytest.mark.parametrize("groups", [3, [[0, 1, 2], [3, 4], [5, 6, 7, 8]]])
def test_group_lasso_matches_cvxpy(groups, rng):
    cp = pytest.importorskip("cvxpy")
    x = rng.standard_normal(9)
    g = P.GroupLasso(0.7, groups)
    step = 0.8
    idx = [list(range(i, i + 3)) for i in range(0, 9, 3)] if isinstance(groups, int) else groups
    z = cp.Variable(9)
    obj = sum(0.7 * np.sqrt(len(ix)) * cp.norm(z[ix]) for ix in idx)
    cp.Problem(cp.Minimize(step * obj + cp.sum_squares(z - x) / 2)).solve()
    np.testing.assert_allclose(g.prox(x, step), z.value, atol=1e-5)
    assert g.value(x) == pytest.approx(sum(0.7 * np.sqrt(len(ix)) * np.linalg.norm(x[ix]) for ix in idx))


def test_nuclear_norm_matches_cvxpy(rng):
    cp = pytest.importorskip("cvxpy")
    X = rng.standard_normal((5, 4))
    Z = cp.Variable((5, 4))
    cp.Problem(cp.Minimize(0.9 * cp.normNuc(Z) + cp.sum_squares(Z - X) / 2)).solve()
    np.testing.assert_allclose(P.NuclearNorm(0.9).prox(X, 1.0), Z.value, atol=1e-5)


def test_box_and_nonnegative(rng):
    x = rng.standard_normal(10) * 3
    np.testing.assert_array_equal(P.Box(-1, 2).prox(x, 1.0), np.clip(x, -1, 2))
    np.testing.assert_array_equal(P.NonNegative().project(x), np.maximum(x, 0))
    d = rng.standard_normal(10)
    s = P.Box(-1, 2).lmo(d)
    assert d @ s == pytest.approx(np.sum(np.where(d > 0, -d, 2 * d)))


def test_prox_generic_under_array_api_strict(xp, rng):
    x_np = rng.standard_normal(12)
    x = xp.asarray(x_np)
    for g in (P.L1(0.3), P.ElasticNet(0.3, 0.4), P.GroupLasso(0.5, 3), P.Simplex(1.0), P.L1Ball(2.0),
              P.Box(-0.5, 0.5), P.SquaredL2(2.0)):
        out = g.prox(x, 0.7)
        ref = g.prox(x_np, 0.7)
        np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-12, atol=1e-14)
        assert out.dtype == x.dtype


def test_bad_parameters():
    with pytest.raises(ValueError, match="lam"):
        P.L1(-1.0)
    with pytest.raises(ValueError, match="radius"):
        P.Simplex(0.0)
    with pytest.raises(ValueError, match="l1_ratio"):
        P.ElasticNet(1.0, 1.5)
    with pytest.raises(ValueError, match="disjoint"):
        P.GroupLasso(1.0, [[0, 1], [1, 2]])
