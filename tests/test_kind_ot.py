"""The problem kind "ot" (issue 16): every method through its front door
(``numopt.sinkhorn`` for the Sinkhorn family, ``numopt.mirror_sinkhorn``) satisfies the
shared loop/registry contract, and the registry path reproduces the results of the
pre-registry implementation (commit 7f0904b) on the methods' example instances."""
import numpy as np
import pytest

import numopt
from numopt._registry import get_method, list_kinds

SINKHORN = ["sinkhorn", "sinkhorn-log", "sinkhorn-epsilon-scaling", "sns"]
ALL = SINKHORN + ["mirror-sinkhorn"]


def _run(method, options=None, callback=None, xp=np, **kw):
    """Run ``method`` on its registry example through its kind's front door."""
    ex = dict(get_method(method, kind="ot").example(xp))
    ex.pop("f_star", None)
    ex.update(kw)
    if method == "mirror-sinkhorn":
        grad, a, b = ex.pop("grad"), ex.pop("a"), ex.pop("b")
        return numopt.mirror_sinkhorn(grad, a, b, options=options, callback=callback, **ex)
    a, b, C, reg = ex.pop("a"), ex.pop("b"), ex.pop("C"), ex.pop("reg")
    return numopt.sinkhorn(a, b, C, reg, method=method, options=options, callback=callback, **ex)


def test_kind_lists_its_methods():
    assert numopt.list_methods(kind="ot") == sorted(ALL)
    assert list_kinds()["ot"]["front_door"] == "numopt.sinkhorn"
    for old, new in [("sinkhorn_log", "sinkhorn-log"), ("Sinkhorn_Epsilon_Scaling", "sinkhorn-epsilon-scaling"),
                     ("mirror_sinkhorn", "mirror-sinkhorn")]:
        assert get_method(old, kind="ot").name == new
    with pytest.raises(ValueError, match="numopt.sinkhorn"):
        numopt.minimize(lambda x: 0.0, np.zeros(2), method="sinkhorn-log")


@pytest.mark.parametrize("method", ALL)
def test_show_options(method):
    text = numopt.show_options(method, disp=False)
    spec = get_method(method)
    assert spec.kind == "ot" and spec.reference and spec.rate_text and spec.optimality
    for name in spec.all_options():
        assert name in text
    if method != "sinkhorn" and method != "mirror-sinkhorn":
        assert "alias: backend" in text  # the old option name



@pytest.mark.parametrize("method", SINKHORN)
def test_callback_sees_the_dual_iterate(method):
    got = []
    res = _run(method, callback=lambda intermediate_result: got.append(intermediate_result.x), maxiter=5)
    f, g = got[-1].f, got[-1].g
    np.testing.assert_allclose(f, res.f, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g, res.g, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("method", ALL)
def test_maxiter_zero_returns_the_start(method):
    if method == "mirror-sinkhorn":
        ex = get_method(method).example(np)
        res = _run(method, maxiter=0)
        P0 = np.outer(ex["a"], ex["b"])
        np.testing.assert_array_equal(res.average, P0)
        np.testing.assert_allclose(res.plan, P0, atol=1e-15)  # a b^T is feasible: rounding keeps it
    else:
        ex = get_method(method).example(np)
        f0, g0 = np.linspace(-0.1, 0.1, ex["a"].shape[0]), np.linspace(0.2, -0.2, ex["b"].shape[0])
        res = _run(method, maxiter=0, f0=f0, g0=g0)
        np.testing.assert_allclose(res.f, f0, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(res.g, g0, rtol=1e-13, atol=1e-15)
        P0 = np.exp((f0[:, None] + g0[None, :] - ex["C"]) / ex["reg"])
        np.testing.assert_allclose(res.x, P0, rtol=1e-12)
    assert res.status == 1 and res.nit == 0 and not res.success



@pytest.mark.parametrize("method, option, bad", [
    ("sinkhorn", "relaxation", 2.0), ("sinkhorn", "maxiter", -1), ("sinkhorn-log", "absorb", 0.0),
    ("sinkhorn-log", "kernel", "cuda"), ("sinkhorn-log", "anderson", -2),
    ("sinkhorn-epsilon-scaling", "decay", 1.5), ("sinkhorn-epsilon-scaling", "every", 0),
    ("sinkhorn-epsilon-scaling", "reg_start", float("inf")), ("sns", "drop_mass", 2.0),
    ("sns", "cg_rtol", 0.0), ("sns", "max_linesearch", 0), ("mirror-sinkhorn", "step", -1.0),
    ("mirror-sinkhorn", "check_every", 0), ("mirror-sinkhorn", "tol", float("nan")),
])
def test_option_check_names_the_option(method, option, bad):
    with pytest.raises(ValueError, match=f"`{option}`"):
        _run(method, options={option: bad})


@pytest.mark.parametrize("method", ALL)
def test_result_contract_and_trace(method):
    res = _run(method, maxiter=200)
    for k in ("x", "fun", "nit", "status", "success", "message", "optimality", "trace", "marginal_error", "plan"):
        assert k in res, k
    assert res.x is res.plan and not any(k in res for k in ("nfev", "njev", "state"))  # no counted oracles
    tr = res.trace
    assert len(tr["optimality"]) == res.nit + 1 and tr["nit"][-1] == res.nit
    if method == "mirror-sinkhorn":
        assert res.fun == pytest.approx(float(np.sum(res.plan * get_method(method).example(np)["grad"](None))))
        assert res.optimality == res.gap
    else:
        assert res.success and res.fun == res.reg_cost and res.optimality == res.marginal_error
        assert res.optimality <= 1e-9 and tr["optimality"][-1] == res.optimality


@pytest.mark.parametrize("method", ALL)
def test_float32_kept(method):
    ex = get_method(method).example(np)
    kw = {}
    for k in ("a", "b"):
        v = ex[k].astype(np.float32)
        kw[k] = v / v.sum()
    if method == "mirror-sinkhorn":
        C32 = ex["grad"](None).astype(np.float32)
        kw["grad"] = lambda P: C32
    else:
        kw["C"] = ex["C"].astype(np.float32)
    res = _run(method, maxiter=300, **kw)
    assert res.plan.dtype == np.float32
    if method != "mirror-sinkhorn":
        assert res.success and res.f.dtype == np.float32 and res.g.dtype == np.float32  # sns iterates in float64


def test_array_api_strict_and_declared_backends():
    xps = pytest.importorskip("array_api_strict")
    for method in SINKHORN[:3]:
        res = _run(method, xp=xps)
        ref = _run(method)
        assert type(res.plan).__module__.startswith("array_api_strict") and res.nit == ref.nit
        np.testing.assert_allclose(np.asarray(res.plan), ref.plan, rtol=1e-10, atol=1e-15)
    with pytest.raises(TypeError, match="'sns' runs on numpy"):
        _run("sns", xp=xps)


def test_options_dict_keywords_and_the_backend_alias():
    a = _run("sinkhorn-log", kernel="numba", tol=1e-11)
    b = _run("sinkhorn-log", options={"backend": "numba", "tol": 1e-11})
    c = _run("sinkhorn_log", backend="numba", tol=1e-11)
    assert a.nit == b.nit == c.nit
    np.testing.assert_array_equal(a.plan, b.plan)
    np.testing.assert_array_equal(a.plan, c.plan)
    with pytest.raises(TypeError, match="given twice"):
        _run("sinkhorn-log", options={"kernel": "numba"}, backend="numba")
    with pytest.raises(TypeError, match="given twice"):
        _run("sinkhorn-log", options={"maxiter": 5}, maxiter=5)
    with pytest.raises(TypeError, match="options"):
        _run("sinkhorn", options=[("tol", 1e-3)])


def test_mirror_sinkhorn_is_run_by_its_own_front_door():
    ex = get_method("sinkhorn").example(np)
    with pytest.raises(ValueError, match="mirror_sinkhorn"):
        numopt.sinkhorn(ex["a"], ex["b"], ex["C"], ex["reg"], method="mirror-sinkhorn")


def test_epsilon_scaling_annealing_never_stops_and_reports_the_true_violation():
    """The annealing phase yields Step(stop_ok=False) with its true marginal violation
    (the old generator added 1.0 to it to dodge the stop test): a loose tol stops at the
    first iterate at the target reg, never before."""
    ex = get_method("sinkhorn").example(np)
    reg, r0 = ex["reg"], 0.8
    res = _run("sinkhorn-epsilon-scaling", tol=10.0, reg_start=r0, decay=0.5, every=4)
    k_target = 4 * int(np.ceil(np.log2(r0 / reg)))  # first k with r0 * 0.5 ** (k // 4) <= reg
    assert res.success and res.nit == k_target and res.reg_current == reg
    # below tol from iteration 1 on, yet annealing (reg_current > reg) went on to the target
    assert np.all(res.trace["reg_current"][:-1] > reg) and np.all(res.trace["optimality"][1:] < 10.0)


# --------------------------------------------------- agreement with the old implementation

# (method, options, nit, cost, reg_cost, f[:3], g[:3], trace optimality[:4]) of the code
# before the registry (commit 7f0904b) on the example instance, tol = 1e-12.
OLD = [
    ("sinkhorn", {}, 36, 0.14665535155741938, -0.3442937711824804,
     [-0.35682538508469563, -0.40868328622646904, -0.3757744467482497],
     [-0.05405389356716639, 0.131501793248915, 0.18736727939142436],
     [43.470971234348276, 0.24726908842065742, 0.11515165688177716, 0.05456574353596917]),
    ("sinkhorn_log", {}, 35, 0.1466553515573581, -0.3442937711825383,
     [-0.37110574152974907, -0.42296364267146574, -0.3900548031933111],
     [-0.03977353712204748, 0.14578214969389294, 0.20164763583643042],
     [66.01019109421543, 0.20401183258771416, 0.09639521354377237, 0.04546980444269458]),
    ("sinkhorn_log", {"backend": "numba"}, 36, 0.14665535155741943, -0.34429377118248045,
     [-0.3568253850846965, -0.40868328622646993, -0.37577444674825067],
     [-0.05405389356716548, 0.13150179324891598, 0.18736727939142536],
     [43.470971234348276, 0.2472690884206576, 0.11515165688177717, 0.0545657435359691]),
    ("sinkhorn_log", {"anderson": 3}, 9, 0.14665535155750256, -0.3442937711824019,
     [-0.3573670557934107, -0.40922495693525945, -0.3763161174569549],
     [-0.05351222285854388, 0.13204346395773672, 0.18790895010021],
     [43.470971234348276, 0.2472690884206578, 0.06083374014889907, 0.0008575331235400468]),
    ("sinkhorn_log", {"relaxation": 1.5}, 41, 0.14665535155748055, -0.34429377118241256,
     [-0.6300317841198932, -0.681889685261713, -0.6489808457834769],
     [0.2191525054679764, 0.404708192284168, 0.460573678426631],
     [43.470971234348276, 2.564822909955277, 0.48238276958866433, 0.20850409087894545]),
    # the old annealing phase reported violation + 1.0 (all but the first entry here)
    ("sinkhorn_epsilon_scaling", {}, 60, 0.14665535155738518, -0.3442937711825127,
     [-0.3818385701028036, -0.43369647124454536, -0.4007876317663621],
     [-0.029040708549021885, 0.15651497826698085, 0.2123804644095059],
     [109.60932777715601, 1.0070152294171026 - 1, 1.0003129486018816 - 1, 1.0000144694824942 - 1]),
    ("sns", {"warmup": 3}, 8, 0.14665535155749657, -0.34429377118240734,
     [-0.3707259569147345, -0.42258385805657916, -0.3896750185782785],
     [-0.04015332173721006, 0.14540236507904877, 0.2012678512215228],
     [66.01019109421543, 0.20401183258771416, 0.09639521354377237, 0.04546980444269458]),
]


@pytest.mark.parametrize("case", OLD, ids=[f"{c[0]}-{'-'.join(map(str, c[1].values()))}" for c in OLD])
def test_same_iterates_as_before_the_registry(case):
    method, opts, nit, cost, reg_cost, f3, g3, tr4 = case
    res = _run(method, tol=1e-12, **opts)
    assert res.nit == nit and res.success
    assert res.cost == pytest.approx(cost, rel=1e-12) and res.reg_cost == pytest.approx(reg_cost, rel=1e-12)
    np.testing.assert_allclose(res.f[:3], f3, rtol=1e-12)
    np.testing.assert_allclose(res.g[:3], g3, rtol=1e-12)
    np.testing.assert_allclose(res.trace["optimality"][:4], tr4, rtol=1e-11)


def test_mirror_sinkhorn_same_iterates_as_before_the_registry():
    res = _run("mirror-sinkhorn", maxiter=200)
    assert res.nit == 200 and res.status == 1
    assert res.fun == pytest.approx(0.1295328000769351, rel=1e-12)
    assert res.gap == pytest.approx(0.03722283209581788, rel=1e-10)
    np.testing.assert_allclose(res.plan[0, :3], [0.022479408463382578, 0.04835490248935846, 0.028062653302987295],
                               rtol=1e-12)
    np.testing.assert_allclose(res.trace["marginal_error"][[1, 10, 100]],
                               [0.14940935577292716, 0.05586085833364006, 0.021000645890702635], rtol=1e-12)
