"""The special-structure kinds behind the registry (issue 16): composite_model
(numopt.model_based: prox-linear, prox-point, subgradient), dc (numopt.dca: dca,
complete-dca), fractional (numopt.fractional_cd: fractional-cd) and nmf
(numopt.nmf_bcd_pr: nmf-bcd-pr). Every method through its front door: callback
StopIteration, maxiter=0, unknown options, option checks, trace, float32, show_options,
old spellings; and the new path against values pinned from the code before the move
(commit 7f0904b; same iterates to 1e-12)."""
import subprocess
import sys

import numpy as np
import pytest

import numopt
from numopt._registry import KINDS, get_method

MISC = {"composite_model": {"prox-linear", "prox-point", "subgradient"}, "dc": {"dca", "complete-dca"},
        "fractional": {"fractional-cd"}, "nmf": {"nmf-bcd-pr"}}
METHODS = sorted(m for ms in MISC.values() for m in ms)
# an option of each method with a value its check refuses
BAD_OPTION = {"prox-linear": ("step", -1.0), "prox-point": ("schedule", "cosine"), "subgradient": ("rng", -3),
              "dca": ("tol", -1.0), "complete-dca": ("select", "best"), "fractional-cd": ("selection", "gs"),
              "nmf-bcd-pr": ("lam", -1.0)}


def _door(kind):
    if kind == "nmf":  # (numopt.nmf_bcd_pr still points at bcd_extra until numopt/__init__.py maps it here)
        from numopt.solvers.nmf import nmf_bcd_pr

        return nmf_bcd_pr
    return getattr(numopt, KINDS[kind][0].split(".", 1)[1])


def _example(method):
    kw = dict(get_method(method).example(np))
    kw.pop("f_star", None)
    return kw


def _run(method, kw=None, **extra):
    kw = _example(method) if kw is None else kw
    return _door(get_method(method).kind)(**kw, method=method, **extra)


def _start(method, kw):
    """The start a run of ``kw`` begins from (nmf: an explicit (W0, H0))."""
    if get_method(method).kind == "nmf":
        m, n = kw["X"].shape
        kw["W0"], kw["H0"] = np.full((m, kw["rank"]), 0.5), np.full((kw["rank"], n), 0.5)
        return kw["W0"], kw["H0"]
    return kw["x0"]


def test_kinds_and_methods_are_registered():
    for kind, methods in MISC.items():
        assert kind in KINDS and set(numopt.list_methods(kind=kind)) == methods
        assert callable(_door(kind))
    for kind in ("composite_model", "dc", "fractional"):
        door = getattr(numopt, KINDS[kind][0].split(".", 1)[1])
        assert door.__module__ == f"numopt.solvers.{get_method(sorted(MISC[kind])[0]).family}"


def test_numopt_nmf_bcd_pr_is_the_registry_front_door():
    from numopt.solvers import nmf

    if numopt.nmf_bcd_pr is not nmf.nmf_bcd_pr:
        pytest.xfail("numopt/__init__.py still maps nmf_bcd_pr to numopt.solvers.bcd_extra (moved to nmf.py)")
    assert numopt.nmf_bcd_pr is nmf.nmf_bcd_pr


@pytest.mark.parametrize("method", METHODS)
def test_show_options_documents_the_method(method):
    spec = get_method(method)
    text = numopt.show_options(method, disp=False)
    assert f"Kind: {spec.kind}" in text and KINDS[spec.kind][0] in text
    assert spec.reference and spec.rate_text and spec.optimality and spec.example is not None
    for name in spec.all_options():
        assert name in text
    assert "default" in spec.all_options()["maxiter"].doc  # the method's own default maxiter is stated



@pytest.mark.parametrize("method", METHODS)
def test_maxiter_zero_returns_the_start(method):
    kw = _example(method)
    start = _start(method, kw)
    res = _run(method, kw, maxiter=0)
    assert res.status == 1 and not res.success and res.nit == 0
    if isinstance(start, tuple):
        for got, want in zip(res.x, start):
            np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_array_equal(res.x, start)
        assert res.x is not start



@pytest.mark.parametrize("method", METHODS)
def test_option_checks_name_the_option(method):
    name, bad = BAD_OPTION[method]
    with pytest.raises(ValueError, match=f"`{name}`"):
        _run(method, **{name: bad})
    with pytest.raises(ValueError, match="`maxiter`"):
        _run(method, maxiter=-1)
    with pytest.raises(TypeError, match="`maxiter`"):
        _run(method, maxiter=2.5)


@pytest.mark.parametrize("method", METHODS)
def test_options_dict_equals_keywords(method):
    a = _run(method, options={"maxiter": 2})
    b = _run(method, maxiter=2)
    assert a.nit == b.nit and a.fun == b.fun
    with pytest.raises(TypeError, match="both in `options` and as keywords"):
        _run(method, options={"maxiter": 2}, maxiter=3)


@pytest.mark.parametrize("method", METHODS)
def test_result_contract_and_trace(method):
    res = _run(method, maxiter=3)
    for key in ("x", "fun", "nit", "status", "success", "message", "optimality", "trace", "method"):
        assert key in res, key
    assert res.method == method
    tr = res.trace
    assert len(tr["fun"]) == len(tr["optimality"]) == len(tr["nit"]) == res.nit + 1
    assert tr["fun"][-1] <= tr["fun"][0] + 1e-12  # every method here decreases its objective
    # only the counts the family has (no zeros for oracles it does not call)
    for k in ("nhev", "nlmo", "nproj"):
        assert k not in res and k not in tr
    assert _run(method, maxiter=2, trace=False).trace is None


@pytest.mark.parametrize("method", METHODS)
def test_float32_in_float32_out(method):
    kw = _example(method)
    if get_method(method).kind == "nmf":
        kw["X"] = kw["X"].astype(np.float32)
        res = _run(method, kw, maxiter=3)
        assert res.W.dtype == res.H.dtype == np.float32 and all(v.dtype == np.float32 for v in res.x)
    else:
        kw["x0"] = np.asarray(kw["x0"], dtype=np.float32)
        res = _run(method, kw, maxiter=3)
        assert res.x.dtype == np.float32


@pytest.mark.parametrize("method", METHODS)
def test_other_front_doors_refuse_the_method(method):
    door = KINDS[get_method(method).kind][0]
    with pytest.raises(ValueError, match=door.replace(".", r"\.")):
        numopt.minimize(lambda x: float(x @ x), np.ones(2), method=method)


@pytest.mark.parametrize("method", METHODS)
def test_numpy_only_is_declared_and_checked(method):
    xps = pytest.importorskip("array_api_strict")
    assert get_method(method).backends == ("numpy",)
    kw = _example(method)
    key = "X" if get_method(method).kind == "nmf" else "x0"
    kw[key] = xps.asarray(np.asarray(kw[key]))
    with pytest.raises(TypeError, match="runs on numpy"):
        _run(method, kw)


# ------------------------------------------------------------------ old spellings, choices

def test_old_spellings_and_method_selection():
    from numopt.solvers.dca import dca
    from numopt.solvers.fractional_cd import fractional_cd
    from numopt.solvers.model_based import model_based
    from numopt.solvers.nmf import nmf_bcd_pr

    kw = _example("prox-linear")
    a = model_based(kw["problem"], kw["x0"], model="prox_linear", maxiter=2)
    b = model_based(kw["problem"], kw["x0"], method="PROX-LINEAR", maxiter=2)
    np.testing.assert_array_equal(a.x, b.x)
    with pytest.raises(ValueError, match="`model`"):
        model_based(kw["problem"], kw["x0"], model="newton")
    with pytest.raises(ValueError, match="give one of them"):
        model_based(kw["problem"], kw["x0"], model="subgradient", method="prox-linear")
    d = _example("complete-dca")
    r1 = dca(**d, complete=True)
    r2 = dca(**d, method="cdca")
    assert r1.method == r2.method == "complete-dca"
    np.testing.assert_array_equal(r1.x, r2.x)
    with pytest.raises(ValueError, match="`select`"):
        dca(**d, select="objective")  # plain DCA has no candidates to select from
    with pytest.raises(ValueError, match="give one of them"):
        dca(**d, complete=True, method="dca")
    with pytest.raises(ValueError, match="h_candidates"):
        dca(d["g_solve"], d["h_subgrad"], d["x0"], g=d["g"], h=d["h"], method="complete-dca")
    f = _example("fractional-cd")
    np.testing.assert_array_equal(fractional_cd(**f, backend="numpy", maxiter=5).x,
                                  fractional_cd(**f, kernel="numba", maxiter=5).x)
    n = _example("nmf-bcd-pr")
    old = nmf_bcd_pr(**n, backend="numpy", inner_iter=3, maxiter=3, method="nmf_bcd_pr")
    new = nmf_bcd_pr(**n, kernel="numpy", inner_maxiter=3, maxiter=3)
    np.testing.assert_array_equal(old.W, new.W)
    with pytest.raises(TypeError, match="given twice"):
        nmf_bcd_pr(**n, inner_iter=3, inner_maxiter=3)


def test_problem_classes_live_in_problems_and_are_reexported_lazily():
    import problems.model_based as pm
    from numopt.solvers import model_based as mb

    assert numopt.PhaseRetrieval is pm.PhaseRetrieval and mb.RobustRegression is pm.RobustRegression
    assert issubclass(pm.PhaseRetrieval, mb.CompositeAbsLoss)
    p, xs = pm.get("phase-retrieval", n=4, m=20, seed=0)
    assert p.value(xs) < 1e-12 and pm.list_problems() == ["phase-retrieval", "robust-regression"]
    # the library does not import the problem library when its registry loads
    code = "import sys, numopt; numopt.list_methods(); print('problems' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ------------------------------------------------- same iterates as before the move

def _pinned_phase():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((40, 6))
    xs = rng.standard_normal(6)
    xs /= np.linalg.norm(xs)
    from problems.model_based import PhaseRetrieval

    return PhaseRetrieval(A, (A @ xs) ** 2)


# values printed by the code of commit 7f0904b (numopt.solvers.model_based / dca /
# fractional_cd / bcd_extra before this change) on the same instances
PINNED_MODEL = {
    "prox-linear": ([-0.038116434019111835, 0.07106004501475244, -0.08067672309491324, 0.6393462649075567,
                     -0.7215586610538459, 0.23995493766513812], 5.796742011317946e-07),
    "prox-point": ([-0.038117022969891126, 0.07105988930599696, -0.08068227505734356, 0.6393413855386124,
                    -0.7215625581272885, 0.23995503054995926], 8.107955020178106e-06),
    "subgradient": ([-0.1802608554253888, 0.27058148292931167, -0.27966256555914387, 0.7703027739910481,
                     0.001971149267504385, 0.6456418073395404], 0.6275064324631714),
}


@pytest.mark.parametrize("model", sorted(PINNED_MODEL))
def test_model_based_iterates_unchanged(model):
    p = _pinned_phase()
    res = numopt.model_based(p, p.spectral_init(), model=model, step=0.5, maxiter=3, rng=3)
    x, fun = PINNED_MODEL[model]
    np.testing.assert_allclose(res.x, x, rtol=0, atol=1e-12)
    assert res.fun == pytest.approx(fun, rel=1e-12, abs=1e-15) and res.nit == 3


def test_dca_iterates_unchanged():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((5, 5))
    A, b = (M + M.T) / 2, rng.standard_normal(5)
    rho = float(np.linalg.eigvalsh(A)[-1] + 1)

    def proj(v):
        return v if np.linalg.norm(v) <= 1 else v / np.linalg.norm(v)

    res = numopt.dca(lambda y: proj((y - b) / rho), lambda x: rho * x - A @ x, np.full(5, 0.2),
                     objective=lambda x: 0.5 * x @ A @ x + b @ x, tol=0, maxiter=5)
    np.testing.assert_allclose(res.x, [0.010721975848746212, 0.09327339829448673, 0.9661831747636414,
                                       0.20730465854222305, 0.12124340705720993], rtol=0, atol=1e-12)
    assert res.fun == pytest.approx(-2.20703045903012, rel=1e-12) and res.nit == 5
    assert (res.nfev, res.njev, res.nprox) == (6, 5, 5)


@pytest.mark.parametrize("selection, x, fun", [
    ("cyclic", [0.27335292698683683, -1.0, 1.0, -1.0, 0.03911106606697879, 0.3914194110036435],
     0.12950459018835964),
    ("random", [0.0, -1.0, 1.0, -0.8630648962378806, 0.0, 0.09119277679975202], 0.1448799415779709),
])
def test_fractional_cd_iterates_unchanged(selection, x, fun):
    rng = np.random.default_rng(2)
    M = rng.standard_normal((6, 6))
    A = M @ M.T / 6 + 0.1 * np.eye(6)
    N = rng.standard_normal((6, 12))
    B = N @ N.T / 12 + 0.5 * np.eye(6)
    x0 = rng.uniform(-1, 1, 6)
    for kernel in ("auto", "numpy"):
        res = numopt.fractional_cd(A, B, x0, lam=0.05, radius=1.0, selection=selection, rng=4, maxiter=3, tol=0,
                                   kernel=kernel)
        np.testing.assert_allclose(res.x, x, rtol=0, atol=1e-12)
        assert res.fun == pytest.approx(fun, rel=1e-12) and res.nit == 3
        assert np.isnan(res.trace["optimality"][0])  # no sweep yet: not measured (cannot stop the run)
        assert not any(k in res for k in ("nfev", "njev", "nprox"))  # no oracles: no counts


@pytest.mark.parametrize("inner, W_first, fun, stat", [
    ("exact", [0.24986637574715773, 0.1291785883039861], 0.0010922656346355106, 0.0012176850973040524),
    ("pgd", [0.18672492399099905, 0.15525914502933072], 0.04754911396898305, 0.0016469013024848864),
])
def test_nmf_iterates_unchanged(inner, W_first, fun, stat):
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(8, 2)) @ rng.uniform(size=(2, 6))
    res = numopt.solvers.nmf.nmf_bcd_pr(X, 2, inner=inner, maxiter=4, tol=0, rng=5)
    np.testing.assert_allclose(res.W[0], W_first, rtol=0, atol=1e-12)
    assert res.fun == pytest.approx(fun, rel=1e-10) and res.stationarity == pytest.approx(stat, rel=1e-10)
    assert res.stationarity == res.optimality and res.x[0] is res.W and res.x[1] is res.H
    assert res.relative_error == pytest.approx(np.linalg.norm(X - res.W @ res.H) / np.linalg.norm(X), rel=1e-10)
    assert (res.nfev, res.njev) == (5, 5)


def test_nmf_block_solvers_agree():
    """The numba row kernel and the Lawson-Hanson reference solve the same block problem."""
    from numopt.solvers.nmf import _nnls_prox_block

    rng = np.random.default_rng(4)
    X = rng.uniform(size=(30, 25))
    W, H = rng.uniform(size=(30, 4)), rng.uniform(size=(4, 25))
    G, R = H @ H.T, X @ H.T
    fast = _nnls_prox_block(G, R, W, W, 0.01, "exact", 200, 1e-12, kernel=True)
    ref = _nnls_prox_block(G, R, W, W, 0.01, "exact", 200, 1e-12, kernel=False)
    np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-12)
    assert np.any(ref == 0)
