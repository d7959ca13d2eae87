"""The "bilevel" kind (issue 16): every registered bilevel method through its front door
``numopt.bilevel`` on its registry example: callback StopIteration -> status 99, maxiter=0,
unknown options, option checks, trace and counts, dtype, show_options, names; and the
registry path against results recorded from the code before it (commit 39c7949)."""
import numpy as np
import pytest

import numopt
import problems
from numopt._options import Interval, NoneOr
from numopt._registry import get_method, list_kinds, list_methods
from numopt.solvers.bilevel import BilevelProblem, MultiBlockBilevelProblem, bilevel

METHODS = list_methods(kind="bilevel")


def _example(method):
    kw = dict(get_method(method).example(np))
    kw.pop("f_star")
    return kw


def _run(method, **options):
    kw = _example(method)
    return bilevel(kw.pop("problem"), kw.pop("x0"), kw.pop("y0"), method=method, **kw, **options)


def test_all_ten_methods_are_registered_as_bilevel():
    assert METHODS == sorted(["implicit", "hoag", "maid", "f2sa", "penalty", "meha", "lv-hba", "bamm", "bo-rep",
                              "bsvrb"])
    assert list_kinds()["bilevel"]["front_door"] == "numopt.bilevel"
    for m in METHODS:
        spec = get_method(m)
        assert spec.kind == "bilevel" and spec.family == "bilevel" and spec.example is not None
        assert np.isfinite(spec.example(np)["f_star"])
    with pytest.raises(ValueError, match="numopt.bilevel"):
        numopt.minimize(lambda x: 0.0, np.zeros(2), method="hoag")



@pytest.mark.parametrize("method", METHODS)
def test_maxiter_zero_returns_the_start(method):
    kw = _example(method)
    res = _run(method, maxiter=0)
    assert res.status == 1 and res.nit == 0 and not res.success
    x0 = kw["x0"]
    if method in ("lv-hba",):  # the start is projected onto the coupled constraint first
        Ax, Ay, b = kw["problem"].coupled
        assert np.linalg.norm(Ax @ res.x + Ay @ res.y - b) <= 1e-12
    else:
        np.testing.assert_array_equal(res.x, x0)
    assert res.y.shape == kw["y0"].shape and len(res.trace["fun"]) == 1



def _bad_value(check):
    """A value the Interval check (or None-or-Interval) refuses: below its lower end."""
    inner = check.check if isinstance(check, NoneOr) else check
    if isinstance(inner, Interval) and inner.lo is not None:
        return inner.lo - 1
    return None


@pytest.mark.parametrize("method", METHODS)
def test_option_checks_name_the_option(method):
    spec = get_method(method)
    checked = 0
    for name, opt in spec.options.items():
        bad = _bad_value(opt.check)
        if bad is None:
            continue
        with pytest.raises(ValueError, match=f"`{name}`"):
            _run(method, **{name: bad})
        checked += 1
    assert checked >= 3, method
    with pytest.raises(ValueError, match="`maxiter`"):
        _run(method, maxiter=-1)
    with pytest.raises(ValueError, match="`tol`"):
        _run(method, tol=-1.0)


@pytest.mark.parametrize("method", METHODS)
def test_trace_counts_and_result_contract(method):
    res = _run(method, maxiter=5, tol=0)
    for key in ("x", "y", "fun", "nit", "status", "success", "message", "optimality", "hypergrad", "jac",
                "lower_residual", "nupper", "nlower", "nsamples_upper", "nsamples_lower", "trace"):
        assert key in res, key
    assert res.nit == 5 and res.status == 1
    assert res.jac is res.hypergrad and res.hypergrad.shape == res.x.shape
    tr = res.trace
    for key in ("nit", "fun", "optimality", "time", "lower_residual", "nupper", "nlower"):
        assert len(tr[key]) == 6, key
    np.testing.assert_array_equal(tr["nit"], np.arange(6))
    assert tr["nlower"][-1] == res.nlower > 0 and np.all(np.diff(tr["nlower"]) >= 0)
    assert "nfev" not in res and "samples_lower" not in res  # no counts of other families, nothing popped
    assert _run(method, maxiter=2, trace=False).trace is None


@pytest.mark.parametrize("method", METHODS)
def test_float32_is_kept(method):
    kw = _example(method)
    P, x0, y0 = kw.pop("problem"), kw.pop("x0"), kw.pop("y0")
    res = bilevel(P, x0.astype(np.float32), y0.astype(np.float32), method=method, maxiter=5, tol=0)
    assert res.x.dtype == res.y.dtype == res.hypergrad.dtype == np.float32
    ref = bilevel(P, x0, y0, method=method, maxiter=5, tol=0)  # float32 starts are exact in float64
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-6, atol=1e-6)
    mixed = bilevel(P, x0.astype(np.float32), y0, method=method, maxiter=1, tol=0)
    assert mixed.x.dtype == np.float32 and mixed.y.dtype == np.float64


@pytest.mark.parametrize("method", METHODS)
def test_show_options_and_names(method):
    text = numopt.show_options(method, disp=False)
    assert "Kind: bilevel (front door: numopt.bilevel)" in text
    assert f"maxiter (default {get_method(method).options['maxiter'].default})" in text
    assert get_method(method.upper().replace("-", "_"), kind="bilevel").name == method


def test_max_time_and_options_dict():
    res = _run("meha", max_time=1e-9, tol=0)
    assert res.status == 3 and res.nit == 0
    a = _run("f2sa", maxiter=4, options={"step": 0.1, "inner_steps": 3})
    b = _run("f2sa", maxiter=4, step=0.1, inner_steps=3)
    np.testing.assert_array_equal(a.x, b.x)
    with pytest.raises(TypeError, match="`options` must be a dict"):
        _run("f2sa", options=[("step", 0.1)])
    with pytest.raises(TypeError, match="`maxiter` given both"):
        _run("f2sa", maxiter=3, options={"maxiter": 4})
    c = _run("f2sa", options={"maxiter": 4, "step": 0.1, "inner_steps": 3})
    np.testing.assert_array_equal(a.x, c.x)


def test_other_namespaces_are_refused():
    xps = pytest.importorskip("array_api_strict")
    kw = _example("hoag")
    with pytest.raises(TypeError, match="runs on numpy"):
        bilevel(kw["problem"], xps.asarray(kw["x0"]), kw["y0"], method="hoag")


def test_old_spellings_and_problem_kinds():
    inst = problems.get("bilevel/quadratic", n=4, cond=10.0, seed=1)
    a = bilevel(inst.problem, inst.x0, inst.y0, method="maid", maxiter=3, tol=0, lipschitz=5.0)
    b = bilevel(inst.problem, inst.x0, inst.y0, method="maid", maxiter=3, tol=0, K=5.0)
    np.testing.assert_array_equal(a.x, b.x)
    a = bilevel(inst.problem, inst.x0, inst.y0, method="maid", maxiter=6, tol=0, eta=1e-3, max_backtracks=3)
    b = bilevel(inst.problem, inst.x0, inst.y0, method="maid", maxiter=6, tol=0, c1=1e-3, max_backtrack=3)
    np.testing.assert_array_equal(a.x, b.x)
    with pytest.raises(ValueError, match="`max_backtrack`.*`max_backtracks`"):
        bilevel(inst.problem, inst.x0, inst.y0, method="maid", max_backtracks=0)
    r1 = bilevel(inst.problem, inst.x0, inst.y0, method="bo_rep", maxiter=3)
    r2 = bilevel(inst.problem, inst.x0, inst.y0, method="BO-REP", maxiter=3)
    np.testing.assert_array_equal(r1.x, r2.x)
    with pytest.raises(ValueError, match="unknown method 'sinkhorn'|'sinkhorn' is a"):
        bilevel(inst.problem, inst.x0, inst.y0, method="sinkhorn")
    mb = get_method("bsvrb").example(np)["problem"]
    assert isinstance(mb, MultiBlockBilevelProblem)
    with pytest.raises(ValueError, match="bsvrb"):
        bilevel(mb, np.zeros(2), np.zeros((3, 2)), method="hoag")
    with pytest.raises(TypeError, match="MultiBlockBilevelProblem"):
        bilevel(inst.problem, inst.x0, inst.y0, method="bsvrb")
    assert isinstance(inst.problem, BilevelProblem)
    from numopt.solvers.bilevel_multiblock import BSVRB_DEFAULTS
    from numopt.solvers.bilevel_multiblock import MultiBlockBilevelProblem as Old

    assert Old is MultiBlockBilevelProblem and BSVRB_DEFAULTS["variant"] == "v1"


def test_neumann_without_a_step_is_an_error_naming_it():
    inst = problems.get("bilevel/quadratic", n=3)
    with pytest.raises(ValueError, match="`neumann_step`"):
        bilevel(inst.problem, inst.x0, inst.y0, linear_solver="neumann")
    with pytest.raises(ValueError, match="`inner`"):
        bilevel(inst.problem, inst.x0, inst.y0, inner="not-a-method")


# ------------------------------------------------ the registry path vs the code before it

# (x, fun, nit, status, nupper, nlower, nsamples_lower) recorded with the monolithic
# numopt/solvers/bilevel.py of commit 39c7949 (same cases as _cases below)
RECORDED = {
    "implicit/q": ([-0.10920401139539443, 0.272002160652721, -0.10453696308970624, -1.2173146935563774], 1.208378595746599, 25, 1, 138, 2672, 2672),
    "hoag/q": ([-0.10920296041291458, 0.2720007278045867, -0.10453471438185304, -1.2173185479508901], 1.208377996786705, 25, 1, 78, 213, 213),
    "maid/q": ([-0.10920409233266372, 0.2720022149407054, -0.10453722125139187, -1.2173150105810349], 1.208378595761584, 24, 5, 179, 5209, 5209),
    "f2sa/q": ([-0.01568826655181078, 0.2383898974401959, 0.015020060742954798, -0.9287659698373018], 1.180388264537902, 25, 1, 286, 572, 572),
    "penalty/q": ([-0.10802193108288359, 0.27324930165320566, -0.1030938868381224, -1.2177193428928679], 1.203990893298847, 25, 1, 3199, 6423, 6423),
    "meha/q": ([0.06288516739994635, 0.17543477666526383, 0.08515827197053678, -0.35454982423368986], 1.354328462097575, 25, 1, 86, 78, 78),
    "bamm/q": ([0.03601428968928707, 0.3477693716879686, 0.08915954301158222, -1.1875982761332073], 1.1427306050645372, 25, 1, 240, 26, 26),
    "bo-rep/q": ([0.08084188125538629, 0.34224041793667637, 0.1623311122981628, -1.172308228086024], 1.2992771379797503, 25, 1, 86, 77, 77),
    "implicit/neumann": ([-0.1091938080241893, 0.2718884322231041, -0.10447622341036591, -1.2171650996060501], 1.2083786169335282, 10, 1, 34, 1589, 1589),
    "maid/mu": ([-0.10920423789787859, 0.27200213030338183, -0.10453734519359104, -1.2173148863120464], 1.2083785957616522, 31, 0, 194, 6417, 6417),
    "f2sa/sto": ([-0.0775116086677669], 0.7743652086869471, 20, 1, 231, 462, 3696),
    "penalty/sto": ([-1.5628778750221317], 0.7108163549882047, 20, 1, 231, 462, 3696),
    "bo-rep/sto": ([-1.0000000000000002], 0.8745292599890625, 20, 1, 21, 111, 888),
    "lv-hba": ([-0.37038032390010833, -0.37038032390010833, -0.3703803239001084, -0.3703803239001084, -0.3703803239001084], 0.7967151699955988, 50, 1, 111, 213, 213),
    "bsvrb/v1": ([0.6660507092214546, 1.4671222721170538, 0.14121000264488034], 0.8799425689483754, 20, 1, 80, 80, 400),
    "bsvrb/v2": ([1.0859209382988606, 1.9840140489274054, 0.4407243576935922], 0.15641510715973367, 20, 1, 328, 164, 6560),
    "implicit/q32": ([-0.10919380933046341, 0.2718884348869324, -0.10447622090578079, -1.2171651124954224], 1.2083786169316793, 10, 1, 34, 1642, 1642),
}


def _cases():
    q = lambda: problems.get("bilevel/quadratic", n=4, cond=10.0, seed=1)  # noqa: E731
    r = lambda: problems.get("bilevel/ridge", n=50, p=6, seed=1)  # noqa: E731
    out = {f"{m}/q": (q, m, dict(maxiter=25, tol=1e-8))
           for m in ("implicit", "hoag", "maid", "f2sa", "penalty", "meha", "bamm", "bo-rep")}
    out.update({
        "implicit/neumann": (q, "implicit", dict(maxiter=10, tol=1e-8, linear_solver="neumann", neumann_step=0.1)),
        "maid/mu": (q, "maid", dict(maxiter=40, tol=1e-6, mu=1.0)),
        "f2sa/sto": (r, "f2sa", dict(maxiter=20, tol=0, batch_size=8, rng=3)),
        "penalty/sto": (r, "penalty", dict(maxiter=20, tol=0, batch_size=8, rng=3, lam=30.0)),
        "bo-rep/sto": (r, "bo-rep", dict(maxiter=20, tol=0, batch_size=8, rng=3, inner_step=0.1, refine_steps=50)),
        "lv-hba": (lambda: problems.get("bilevel/lv-hba-toy", n=5), "lv-hba", dict(maxiter=50, tol=0)),
        "bsvrb/v1": (lambda: problems.get("bilevel/multiblock-quadratic", m=4), "bsvrb",
                     dict(maxiter=20, tol=0, block_batch=2, batch_size=5, rng=1)),
        "bsvrb/v2": (lambda: problems.get("bilevel/multiblock-quadratic", m=4), "bsvrb",
                     dict(maxiter=20, tol=0, variant="v2")),
        "implicit/q32": (q, "implicit", dict(maxiter=10, tol=1e-6, _float32=True)),
    })
    return out


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_registry_path_reproduces_the_recorded_runs(case):
    """The algorithms did not change: the same iterates (to 1e-12), objective, iteration
    count, status and oracle counts as before the move to the registry."""
    make, method, kw = _cases()[case]
    inst = make()
    kw = dict(kw)
    x0, y0 = inst.x0, inst.y0
    if kw.pop("_float32", False):
        x0, y0 = x0.astype(np.float32), y0.astype(np.float32)
    res = bilevel(inst.problem, x0, y0, method=method, **kw)
    x, fun, nit, status, nupper, nlower, nsamples_lower = RECORDED[case]
    np.testing.assert_allclose(np.ravel(res.x), x, rtol=1e-12, atol=1e-14)
    assert res.fun == pytest.approx(fun, rel=1e-12)
    assert (res.nit, res.status, res.nupper, res.nlower, res.nsamples_lower) == (nit, status, nupper, nlower,
                                                                                 nsamples_lower)
