"""The registry core (issue 16): typed options, kinds and their front doors, method
names and aliases, the loop protocol's stop_ok / work / finalize, declared backends,
callable methods."""
import numpy as np
import pytest
from scipy.optimize import OptimizeResult

import numopt
from numopt._loop import Step, run_loop
from numopt._options import Any_, Choices, Flag, Interval, IsCallable, NoneOr, Option
from numopt._registry import KINDS, MethodSpec, get_method, resolve_options


def _quad():
    A = np.diag([1.0, 2.0, 3.0])
    return dict(fun=lambda x: 0.5 * float(x @ A @ x), jac=lambda x: A @ x, x0=np.ones(3))


@pytest.mark.parametrize("check, good, bad, err", [
    (Interval(0, open=("lo",)), 2.5, 0.0, ValueError),
    (Interval(0, 1), 1, 1.5, ValueError),
    (Interval(1, integer=True), 3.0, 2.5, TypeError),
    (Interval(0), 1.0, float("nan"), ValueError),
    (Interval(0), 1.0, "a", TypeError),
    (Choices("gradient", "function", None), "GRADIENT", "grad", ValueError),
    (Flag(), np.bool_(True), 1, TypeError),
    (IsCallable(), print, 3, TypeError),
    (NoneOr(Interval(0)), None, -1.0, ValueError),
    (Any_(Interval(0), Choices("auto")), "auto", "x", ValueError),
])
def test_checks_accept_good_and_name_the_option_on_bad(check, good, bad, err):
    check("opt", good)
    with pytest.raises(err, match="`opt`"):
        check("opt", bad)


def test_choices_return_the_canonical_spelling():
    assert Choices("gradient", None)("r", "Gradient") == "gradient"
    assert Choices("gradient", None)("r", None) is None


def _spec(**kw):
    return MethodSpec(name="toy", solve=None, family="toy", summary="toy", options=kw)


def test_resolve_options_checks_aliases_and_hints():
    spec = _spec(L=Option(None, "Lipschitz", NoneOr(Interval(0, open=("lo",))), aliases=("lipschitz",)),
                 tol=Option(1e-6, "tol", Interval(0)))
    assert resolve_options(spec, {"lipschitz": 2})["L"] == 2.0
    with pytest.raises(ValueError, match="`L`"):
        resolve_options(spec, {"L": -1})
    with pytest.raises(TypeError, match="given twice"):
        resolve_options(spec, {"L": 1, "lipschitz": 2})
    with pytest.raises(TypeError, match="did you mean 'maxiter'"):
        resolve_options(spec, {"maxiterr": 3})
    with pytest.raises(TypeError, match="`options` must be a dict"):
        resolve_options(spec, [("tol", 1)])
    with pytest.raises(ValueError, match="`maxiter`"):
        resolve_options(spec, {"maxiter": -1})
    # legacy (default, doc) tuples still register and unpack
    legacy = _spec(step=(0.1, "step"))
    default, doc = legacy.options["step"]
    assert (default, doc) == (0.1, "step") and resolve_options(legacy, {"step": "x"})["step"] == "x"


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        MethodSpec(name="toy", solve=None, family="toy", summary="toy", kind="nope")
    with pytest.raises(ValueError, match="unknown kind"):
        numopt.list_methods(kind="nope")


def test_every_method_has_a_known_kind_and_show_options():
    methods = numopt.list_methods()
    by_kind = {k: numopt.list_methods(kind=k) for k in KINDS}
    assert sorted(m for ms in by_kind.values() for m in ms) == sorted(methods)
    for m in methods:
        text = numopt.show_options(m, disp=False)
        assert "Kind: " in text and "Options:" in text and "maxiter" in text


def test_method_names_ignore_case_and_separator():
    assert get_method("AGD").name == "agd"
    assert get_method("away_fw").name == "away-fw"
    with pytest.raises(ValueError, match="Did you mean 'agd'"):
        get_method("agdd")
    with pytest.raises(TypeError, match="`method`"):
        get_method(3)


def test_method_of_another_kind_names_its_front_door():
    other = [m for m in numopt.list_methods() if get_method(m).kind != "minimize"]
    if not other:
        pytest.skip("only minimize methods registered")
    spec = get_method(other[0])
    with pytest.raises(ValueError, match=KINDS[spec.kind][0].replace(".", r"\.")):
        get_method(other[0], kind="minimize")


def test_callable_method_follows_scipy():
    seen = {}

    def custom(fun, x0, args=(), jac=None, callback=None, **kw):
        seen.update(kw, args=args)
        return OptimizeResult(x=np.zeros_like(x0), fun=fun(np.zeros_like(x0)), success=True)

    q = _quad()
    res = numopt.minimize(q["fun"], q["x0"], jac=q["jac"], method=custom, options={"stepsize": 0.1})
    assert res.success and res.fun == 0.0 and seen["stepsize"] == 0.1 and seen["args"] == ()


def test_declared_backends_are_honoured():
    xps = pytest.importorskip("array_api_strict")
    numpy_only = [m for m in numopt.list_methods(kind="minimize")
                  if get_method(m).backends == ("numpy",) and get_method(m).example is not None]
    assert numpy_only
    m = numpy_only[0]
    kw = dict(get_method(m).example(np))
    kw.pop("f_star", None)
    fun, x0 = kw.pop("fun"), kw.pop("x0")
    with pytest.raises(TypeError, match="runs on numpy"):
        numopt.minimize(fun, xps.asarray(np.asarray(x0)), method=m, **kw)


def _gen(steps):
    for s in steps:
        yield s


def test_stop_ok_false_steps_do_not_end_the_run():
    x = np.zeros(1)
    steps = [Step(x, 1.0, 1e-9, stop_ok=False), Step(x, 1.0, 1e-9, stop_ok=False), Step(x, 0.5, 1e-9)]
    res = run_loop(_gen(steps), options={"maxiter": 10, "max_time": np.inf}, tol=1e-6)
    assert res.success and res.nit == 2 and res.fun == 0.5
    # a generator that ends on a stop_ok=False step is not a success
    res = run_loop(_gen(steps[:2]), options={"maxiter": 10, "max_time": np.inf}, tol=1e-6)
    assert not res.success and res.status == 5


def test_work_counts_iterations_and_bounds_maxiter():
    x = np.zeros(1)
    steps = [Step(x, 1.0, 1.0)] + [Step(x, 1.0, 1.0, work=10) for _ in range(10)]
    res = run_loop(_gen(steps), options={"maxiter": 35, "max_time": np.inf}, tol=1e-6)
    assert res.status == 1 and res.nit == 40
    assert list(res.trace["nit"]) == [0, 10, 20, 30, 40]


def test_no_counter_means_no_counts_and_finalize_runs_once():
    calls = []

    def fin(res):
        calls.append(1)
        res.extra = 7
        return res

    res = run_loop(_gen([Step(np.zeros(1), 0.0, 0.0)]), options={"maxiter": 5, "max_time": np.inf},
                   tol=1e-6, finalize=fin)
    assert "nfev" not in res and "nfev" not in res.trace and res.extra == 7 and calls == [1]


def test_architecture_page_example_runs():
    """The plug-in example of docs/architecture.md runs as written."""
    import pathlib
    import re

    from numopt._registry import _REGISTRY

    text = (pathlib.Path(__file__).parents[1] / "docs" / "architecture.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    try:
        exec(compile(code, "architecture.md", "exec"), {})
        assert numopt.show_options("example-gd", disp=False).count("step") >= 2
        with pytest.raises(ValueError, match="`step`"):
            numopt.minimize(lambda x: float(x @ x), np.ones(2), jac=lambda x: 2 * x,
                            method="example-gd", options={"step": -1})
    finally:
        _REGISTRY.pop("example-gd", None)


def test_lazy_table_resolves_and_serves_every_front_door():
    """Every lazily imported name of ``numopt`` resolves (a typo in the table fails here
    instead of at a user's first call), and every kind's front door is reachable."""
    import numopt as pkg

    for name in pkg._LAZY:
        assert getattr(pkg, name) is not None, name
    for door, _ in KINDS.values():
        assert callable(getattr(pkg, door.split(".", 1)[1])), door
    for m in numopt.list_methods():
        door = get_method(m).front_door
        assert callable(getattr(pkg, door.split(".", 1)[1])), (m, door)


def test_lazy_table_comes_from_the_registry_module_list(monkeypatch):
    """numopt.<name> is found from each solver module's __numopt_public__ (read without
    importing it); a module name that does not exist, or a name two modules claim, is an
    error instead of a silently missing attribute."""
    import numopt._registry as reg

    table = reg.public_names()
    assert table["bcd"] == "numopt.solvers.bcd" and table["solve_linear"] == "numopt.solvers.linear"
    assert set(reg.PUBLIC_SUBMODULES) <= set(table)
    monkeypatch.setattr(reg, "_PUBLIC", None)
    monkeypatch.setattr(reg, "SOLVER_MODULES", reg.SOLVER_MODULES + ["numopt.solvers.first_ordr"])
    with pytest.raises(ImportError, match="first_ordr"):
        reg.public_names()
    monkeypatch.setattr(reg, "SOLVER_MODULES", ["numopt.solvers.first_order", "numopt.solvers.first_order2"])
    monkeypatch.setattr(reg, "_declared_public", lambda m: ("gd",))
    with pytest.raises(RuntimeError, match="numopt.gd is declared public by both"):
        reg.public_names()
