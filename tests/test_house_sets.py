"""One house (issue 16) for the set objects and the minimize families first_order,
frank_wolfe, polynomial and eal: one class per set (projection, prox, LMO, value),
typed options checked by the front door, the loop contract of every method, and
agreement with the results before the refactor."""
import math

import numpy as np
import pytest

import numopt
from numopt import lmo as L
from numopt import prox as P
from numopt import sets as S
from numopt._options import Option
from numopt._registry import get_method

# ---------------------------------------------------------------------------- one class per set


def test_prox_and_lmo_sets_are_one_class():
    assert P.Simplex is L.Simplex is S.Simplex is L.ProbabilitySimplex
    assert P.L1Ball is L.L1Ball is S.L1Ball
    assert P.Box is S.Box and issubclass(L.Box, S.Box)  # lmo.Box: the same box, finite bounds required
    assert P.UnitSimplex is L.UnitSimplex and P.LpBall is L.LpBall
    assert P.Regularizer is S.Regularizer and L.LMO is S.LMO
    for s in (P.Simplex(2.0), L.L1Ball(1.5), L.Box(-1.0, 1.0), P.Box(-1.0, 1.0), P.NonNegative(), L.UnitSimplex(),
              L.LpBall(2.0)):
        assert isinstance(s, P.Regularizer) and isinstance(s, L.LMO) and s.smooth is False
        for verb in ("project", "prox", "lmo", "value"):
            assert callable(getattr(s, verb))


def test_both_constructor_spellings():
    assert P.Simplex(radius=2.0).radius == L.Simplex(2.0).radius == 2.0
    assert L.L1Ball(radius=3).radius == 3.0
    b = P.Box()  # prox's defaults: the whole space
    assert b.lower == -math.inf and b.upper == math.inf
    assert L.Box(lower=-1.0, upper=2.0).upper == 2.0
    with pytest.raises(TypeError):
        L.Box()  # lmo's constructor requires both bounds
    with pytest.raises(ValueError, match="`lower` must be finite"):
        L.Box(-np.inf, 1.0)
    with pytest.raises(ValueError, match="unbounded box"):
        P.Box(0.0, np.inf).lmo(np.ones(3))
    assert repr(P.Simplex(2.0)) == "Simplex(radius=2.0)" and repr(P.NonNegative()) == "NonNegative()"


SETS = [S.Simplex(2.0), S.UnitSimplex(1.5), S.L1Ball(1.5), S.LpBall(2.0, 1.2), S.LpBall(np.inf, 0.7),
        S.Box(-0.5, [1.0, 0.2, 0.3, 2.0, 0.5, 1.0]), L.Box(-1.0, 0.5)]


@pytest.mark.parametrize("s", SETS, ids=repr)
def test_projection_prox_lmo_value_agree(s, rng):
    for _ in range(5):
        x = 2.0 * rng.standard_normal(6)
        p = s.project(x)
        assert s.value(p) == 0.0
        np.testing.assert_array_equal(s.prox(x, 0.3), p)  # the prox of an indicator is the projection
        np.testing.assert_array_equal(s.prox(x, 0.0), p)
        d = rng.standard_normal(6)
        v = s.lmo(d)
        np.testing.assert_array_equal(s(d), v)
        assert s.value(v) == 0.0
        # the LMO's vertex minimizes <d, .> over the set: no projected point does better
        assert d @ v <= d @ p + 1e-12
        # projection optimality: <x - p, v - p> <= 0 for every point v of the set
        assert (x - p) @ (v - p) <= 1e-9 * max(1.0, np.abs(x).max())
        if s.value(x) == 0.0:
            np.testing.assert_allclose(p, x)
    assert s.value(np.full(6, 10.0)) == math.inf


def test_unit_simplex_and_lp_ball_projections_against_cvxpy(rng):
    cp = pytest.importorskip("cvxpy")
    x = 2.0 * rng.standard_normal(7)
    z = cp.Variable(7)
    cp.Problem(cp.Minimize(cp.sum_squares(z - x)), [z >= 0, cp.sum(z) <= 1.5]).solve()
    np.testing.assert_allclose(S.UnitSimplex(1.5).project(x), z.value, atol=1e-6)
    cp.Problem(cp.Minimize(cp.sum_squares(z - x)), [cp.norm(z, 2) <= 1.2]).solve()
    np.testing.assert_allclose(S.LpBall(2.0, 1.2).project(x), z.value, atol=1e-6)


def test_lp_ball_without_closed_form_projection_says_so():
    with pytest.raises(NotImplementedError, match="p = 3.0"):
        S.LpBall(3.0).project(np.ones(3))


def test_new_projections_propagate_nan():
    x = np.array([0.5, np.nan, -1.0])
    for s in (S.UnitSimplex(1.0), S.LpBall(2.0), S.LpBall(np.inf)):
        assert np.isnan(s.project(x)).any()


def test_lmo_of_a_matrix_direction_keeps_its_shape():
    D = np.array([[1.0, 2.0], [-1.0, 0.0]])
    np.testing.assert_array_equal(S.Simplex(1.0).lmo(D), [[0.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(S.L1Ball(2.0).lmo(D), [[0.0, -2.0], [0.0, 0.0]])
    np.testing.assert_array_equal(S.UnitSimplex(1.0).lmo(D), [[0.0, 0.0], [1.0, 0.0]])


def test_one_set_object_serves_fista_and_frank_wolfe():
    rng = np.random.default_rng(3)
    A, b = rng.standard_normal((30, 8)), rng.standard_normal(30)
    fun = lambda x: 0.5 * float(np.sum((A @ x - b) ** 2))  # noqa: E731
    jac = lambda x: A.T @ (A @ x - b)  # noqa: E731
    s = numopt.prox.Simplex(1.0)
    x0 = np.full(8, 1 / 8)
    r1 = numopt.minimize(fun, x0, jac=jac, method="fista", prox=s, tol=1e-10, options={"maxiter": 5000})
    r2 = numopt.minimize(fun, x0, jac=jac, method="blended-pairwise-fw", lmo=s, tol=1e-10,
                         options={"maxiter": 5000, "step": "line-search"})
    assert r1.success and r2.success
    assert r1.fun == pytest.approx(r2.fun, rel=1e-8)
    np.testing.assert_allclose(r1.x, r2.x, atol=1e-5)


# ---------------------------------------------------------------------------- the loop contract

METHODS = ["gd", "agd", "ista", "fista", "frank-wolfe", "away-fw", "pairwise-fw", "blended-pairwise-fw",
           "stochastic-fw", "zeroth-order-fw", "poly-gd", "poly-fgm", "eal"]
# one invalid value per method: (option, value, exception)
BAD = {"gd": ("eta", 0.5, ValueError), "agd": ("restart", "sometimes", ValueError),
       "ista": ("max_backtrack", 0, ValueError), "fista": ("monotone", "yes", TypeError),
       "frank-wolfe": ("cache_size", 0, ValueError), "away-fw": ("lazy_tolerance", 0.5, ValueError),
       "pairwise-fw": ("step", "steepest", ValueError), "blended-pairwise-fw": ("L", -1.0, ValueError),
       "stochastic-fw": ("schedule", "constant", ValueError), "zeroth-order-fw": ("directions", 0, ValueError),
       "poly-gd": ("tau", -1, ValueError), "poly-fgm": ("interval", (2.0, 1.0), ValueError),
       "eal": ("beta", 0.7, ValueError)}
# after 25 iterations on each method's registry example, on the code before the refactor
# (commit 7f0904b): (fun, ||x||, nit)
BEFORE = {
    "gd": (10.110059210155885, 0.4508379225329337, 25),
    "agd": (10.110052922863787, 0.4513100733576312, 25),
    "ista": (11.017152932627559, 0.34998541892242074, 25),
    "fista": (11.017152257223543, 0.3501108068130232, 25),
    "frank-wolfe": (6.962271214220779, 0.5461942644527426, 25),
    "away-fw": (6.962270296618167, 0.5462297389767965, 25),
    "pairwise-fw": (6.962270258774748, 0.546224970376297, 25),
    "blended-pairwise-fw": (6.962270258781244, 0.5462258929565573, 25),
    "stochastic-fw": (0.3660283898425668, 0.4581044134759118, 25),
    "zeroth-order-fw": (7.718580010898335, 0.45149588057578, 25),
    "poly-gd": (-21.43136570573972, 13.152754439898157, 25),
    "poly-fgm": (-22.753759239922687, 17.681476415727687, 25),
    # (-sqrt 3, sqrt 3, 15) before the interpolated line search; 14 iterations with Hessians by differences,
    # the default without Hessians until the BFGS-first default (2026-12-06)
    "eal": (-1.7320508075690189, 1.7320508075690189, 20),
}


def _run(method, dtype=None, callback=None, **options):
    kw = dict(get_method(method).example(np))
    kw.pop("f_star", None)
    opts = dict(kw.pop("options", {}) or {}, **options)
    fun, x0 = kw.pop("fun"), np.asarray(kw.pop("x0"))
    if dtype is not None:
        x0 = x0.astype(dtype)
    return numopt.minimize(fun, x0, method=method, options=opts, callback=callback, **kw), x0


def test_family_list_is_complete():
    fams = {"first_order", "frank_wolfe", "polynomial", "constrained"}
    assert sorted(m for f in fams for m in numopt.list_methods(family=f)) == sorted(METHODS)


@pytest.mark.parametrize("method", METHODS)
def test_callback_stopiteration_is_status_99(method):
    def cb(intermediate_result):
        if intermediate_result.nit == 2:
            raise StopIteration

    res, _ = _run(method, callback=cb, maxiter=50)
    assert res.status == 99 and res.nit == 2 and not res.success


@pytest.mark.parametrize("method", METHODS)
def test_maxiter_zero_returns_x0(method):
    res, x0 = _run(method, maxiter=0)
    assert res.status == 1 and res.nit == 0
    np.testing.assert_array_equal(res.x, x0)
    assert isinstance(res.trace, dict) and len(res.trace["fun"]) == 1


@pytest.mark.parametrize("method", METHODS)
def test_unknown_and_invalid_options(method):
    with pytest.raises(TypeError, match="unknown option"):
        _run(method, maxiterations=3)
    name, value, err = BAD[method]
    with pytest.raises(err, match=f"`{name}`"):
        _run(method, **{name: value})


@pytest.mark.parametrize("method", METHODS)
def test_trace_dtype_and_show_options(method):
    res, x0 = _run(method, dtype=np.float32, maxiter=10)
    assert res.x.dtype == np.float32
    assert {"nit", "fun", "optimality", "time"} <= set(res.trace)
    assert len(res.trace["nit"]) == res.nit + 1
    text = numopt.show_options(method, disp=False)
    assert "maxiter (default 1000)" in text
    spec = get_method(method)
    for name, opt in spec.options.items():
        assert isinstance(opt, Option), (method, name)
        if name != "rng":
            assert opt.check is not None, (method, name)  # every option but the seed is checked


@pytest.mark.parametrize("method", METHODS)
def test_same_results_as_before_the_refactor(method):
    res, _ = _run(method, maxiter=25)
    fun, xnorm, nit = BEFORE[method]
    assert res.nit == nit
    assert res.fun == pytest.approx(fun, rel=1e-12, abs=1e-13)
    assert float(np.linalg.norm(res.x)) == pytest.approx(xnorm, rel=1e-12)


# ---------------------------------------------------------------------------- glossary names


@pytest.mark.parametrize("method", ["gd", "fista", "frank-wolfe", "away-fw"])
def test_lipschitz_is_an_alias_of_L(method):
    a, _ = _run(method, L=50.0, maxiter=5)
    b, _ = _run(method, lipschitz=50.0, maxiter=5)
    np.testing.assert_array_equal(a.x, b.x)
    assert "alias: lipschitz" in numopt.show_options(method, disp=False)


def test_choices_accept_any_case_and_checks_convert():
    res, _ = _run("poly-fgm", restart="Gradient", polynomial="KRYLOV", tau=1.0, maxiter=5)
    assert res.nit == 5
    res, _ = _run("frank-wolfe", step="Line-Search", maxiter=5)
    assert res.nit == 5
    with pytest.raises(TypeError, match="`step`"):
        _run("frank-wolfe", step=3)


def test_frank_wolfe_family_function_is_the_registry_path():
    kw = get_method("away-fw").example(np)
    a = numopt.frank_wolfe(kw["fun"], kw["x0"], kw["lmo"], jac=kw["jac"], variant="away", maxiter=20)
    b = numopt.minimize(kw["fun"], kw["x0"], jac=kw["jac"], lmo=kw["lmo"], method="away-fw",
                        options={"maxiter": 20})
    np.testing.assert_array_equal(a.x, b.x)
    with pytest.raises(ValueError, match="`lazy_tolerance`"):
        numopt.frank_wolfe(kw["fun"], kw["x0"], kw["lmo"], jac=kw["jac"], variant="away", lazy=True,
                           lazy_tolerance=0.5)
