"""Issue 15 ("no silent wrong answers"), items 7, 8, 9 and 17: prox / LMO parameter
checks, the LIBSVM loader and download, sparse standardization, and the default
dimensions of the native CUTEst problems. Each test fails on commit 3c54c08."""
import bz2
import hashlib
import io
import lzma
import urllib.request

import numpy as np
import pytest
import scipy.sparse as sp

from numopt import lmo as L
from numopt import prox as P

# ------------------------------------------------------------------ item 7: prox


X3 = np.array([1.0, -2.0, 3.0])


@pytest.mark.parametrize("g", [P.L1(0.5), P.SquaredL2(1.0), P.ElasticNet(1.0, 0.5), P.GroupLasso(1.0, 3),
                               P.Box(-1.0, 1.0), P.NonNegative(), P.Simplex(1.0), P.L1Ball(1.0)],
                         ids=lambda g: type(g).__name__)
@pytest.mark.parametrize("step", [-1.0, np.nan, np.inf, -np.inf])
def test_prox_rejects_bad_step(g, step):
    with pytest.raises(ValueError, match="`step` must be finite and >= 0"):
        g.prox(X3, step)


def test_l1_negative_step_no_longer_expands():
    # on 3c54c08, L1(.5).prox(x, -1.0) returned x + 0.5 sign(x): an expansion
    with pytest.raises(ValueError, match="step"):
        P.L1(0.5).prox(X3, -1.0)
    with pytest.raises(TypeError, match="step"):
        P.L1(0.5).prox(X3, "1")
    np.testing.assert_array_equal(P.L1(0.5).prox(X3, 0.0), X3)  # step 0: identity
    np.testing.assert_array_equal(P.NuclearNorm(1.0).prox(np.diag([3.0, 1.0]), 0.5), np.diag([2.5, 0.5]))
    # per-coordinate steps (an array) are checked with one reduction
    np.testing.assert_allclose(P.L1(1.0).prox(X3, np.array([0.5, 1.0, 0.0])), [0.5, -1.0, 3.0])
    with pytest.raises(ValueError, match="step"):
        P.L1(1.0).prox(X3, np.array([0.5, -1.0, 0.0]))
    with pytest.raises(ValueError, match="step"):
        P.NuclearNorm(1.0).prox(np.eye(2), np.nan)


@pytest.mark.parametrize("make,frag", [
    (lambda: P.L1(0.5, weights=[1.0, -1.0, 1.0]), "`weights` must be >= 0"),
    (lambda: P.L1(0.5, weights=[1.0, np.nan, 1.0]), "`weights` must be finite"),
    (lambda: P.L1(np.inf), "`lam` must be finite"),
    (lambda: P.L1(np.nan), "lam"),
    (lambda: P.SquaredL2(-1.0), "`lam` must be >= 0"),
    (lambda: P.ElasticNet(1.0, np.nan), "l1_ratio"),
    (lambda: P.ElasticNet(1.0, 1.5), "`l1_ratio` must be <= 1"),
    (lambda: P.GroupLasso(1.0, 2, weights=[1.0, -2.0]), "`weights` must be >= 0"),
    (lambda: P.GroupLasso(1.0, [[0, 1], []]), "groups"),
    (lambda: P.GroupLasso(1.0, [[0, -1]]), "`groups` indices must be >= 0"),
    (lambda: P.GroupLasso(1.0, [[0, 1], [2]], weights=[1.0]), "one entry per group"),
    (lambda: P.NuclearNorm(-0.1), "lam"),
    (lambda: P.Box(1.0, 0.0), "`lower` must be <= `upper`"),
    (lambda: P.Box([0.0, 2.0], [1.0, 1.0]), "index 1"),
    (lambda: P.Box(np.nan, 1.0), "`lower` must not contain NaN"),
    (lambda: P.Box(np.inf, np.inf), "`lower` must be < inf"),
    (lambda: P.Simplex(np.inf), "`radius` must be finite"),
    (lambda: P.L1Ball(0.0), "`radius` must be > 0"),
])
def test_prox_constructors_validate(make, frag):
    with pytest.raises(ValueError, match=frag):
        make()


def test_prox_group_index_out_of_range_and_weight_count():
    with pytest.raises(ValueError, match="`groups` index 5 is out of range"):
        P.GroupLasso(1.0, [[0, 1], [5]]).prox(X3, 1.0)
    with pytest.raises(ValueError, match="one entry per group"):
        P.GroupLasso(1.0, 1, weights=[1.0, 1.0]).prox(X3, 1.0)
    with pytest.raises(ValueError, match="project_simplex|radius"):
        P.project_simplex(X3, -1.0)


def test_smooth_marker_and_squared_l2_gradient():
    g = P.SquaredL2(2.0)
    assert g.smooth is True and P.SquaredL2.smooth is True
    for cls in (P.L1, P.ElasticNet, P.GroupLasso, P.Box, P.NonNegative, P.Simplex, P.L1Ball, P.NuclearNorm):
        assert cls.smooth is False, cls
    assert P.Regularizer.smooth is False
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal(6), rng.standard_normal(6)
    h = 1e-6  # gradient against a central difference of value (exact for a quadratic up to rounding)
    fd = (g.value(x + h * v) - g.value(x - h * v)) / (2 * h)
    assert abs(fd - g.grad(x) @ v) <= 1e-7 * max(1.0, abs(fd))
    assert g.lipschitz == 2.0
    # folding into the smooth part gives the same optimum as the prox: argmin lam/2 |z|^2 + |z - x|^2/(2t)
    t = 0.3
    z = g.prox(x, t)
    np.testing.assert_allclose(g.grad(z) + (z - x) / t, 0, atol=1e-12)


# ------------------------------------------------------------------ item 7: LMO


NAN_D = np.array([0.5, np.nan, -1.0, 0.2])
INF_D = np.array([0.5, -np.inf, -1.0, 0.2])


@pytest.mark.parametrize("o", [L.Simplex(), L.UnitSimplex(), L.L1Ball(), L.LpBall(2.0), L.LpBall(np.inf),
                               L.Box(-1.0, 1.0), L.KSparse(2), L.UserLMO(lambda d: np.zeros_like(d)),
                               P.Simplex(), P.L1Ball(), P.Box(-1.0, 1.0)],
                         ids=lambda o: type(o).__module__.rsplit(".", 1)[-1] + "." + type(o).__name__)
@pytest.mark.parametrize("d", [NAN_D, INF_D], ids=["nan", "inf"])
def test_lmo_rejects_nonfinite_direction(o, d):
    f = o if callable(o) else o.lmo
    with pytest.raises(ValueError, match="`direction` must be finite"):
        f(d)


def test_matrix_lmos_reject_nonfinite_direction():
    D = np.eye(3)
    D[1, 2] = np.nan
    for o in (L.NuclearNormBall(1.0), L.Spectrahedron(1.0), L.Birkhoff()):
        with pytest.raises(ValueError, match="`direction` must be finite"):
            o(D)


def test_lmo_finite_check_has_no_false_alarm_on_overflowing_sums():
    d = np.array([1e308, 1e308, -1e308, 5.0])  # the sum overflows; every entry is finite
    s = L.Simplex(2.0)(d)
    np.testing.assert_array_equal(s, [0.0, 0.0, 2.0, 0.0])


@pytest.mark.parametrize("make,frag", [
    (lambda: L.Box(1.0, 0.0), "`lower` must be <= `upper`"),
    (lambda: L.Box(-np.inf, 1.0), "`lower` must be finite"),
    (lambda: L.Box(0.0, [1.0, np.inf]), "`upper` must be finite"),
    (lambda: L.Simplex(np.inf), "`radius` must be finite"),
    (lambda: L.UnitSimplex(np.nan), "radius"),
    (lambda: L.L1Ball(-1.0), "`radius` must be > 0"),
    (lambda: L.LpBall(np.nan), "`p` must be finite"),
    (lambda: L.LpBall(0.5), "`p` must be > 1"),
    (lambda: L.KSparse(2, radius=np.inf), "radius"),
    (lambda: L.NuclearNormBall(0.0), "radius"),
    (lambda: L.Spectrahedron(np.inf), "radius"),
])
def test_lmo_constructors_validate(make, frag):
    with pytest.raises(ValueError, match=frag):
        make()


def test_lmo_type_errors_name_the_parameter():
    with pytest.raises(TypeError, match="`p`"):
        L.LpBall("2")
    with pytest.raises(TypeError, match="`radius`"):
        L.Simplex("1")
