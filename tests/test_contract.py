"""Contract tests run over the whole registry: every method registered for
``numopt.minimize`` must satisfy them on its own example instance."""
import numpy as np
import pytest

import numopt
from numopt._backend import to_numpy
from numopt._registry import get_method

METHODS = numopt.list_methods(kind="minimize")


def _example(method, xp):
    spec = get_method(method)
    if spec.example is None:
        pytest.fail(f"method {method!r} has no example instance for the contract tests")
    if xp is not np and "array_api_strict" not in spec.backends:
        pytest.skip(f"{method} does not support array_api_strict")
    kw = dict(spec.example(xp))
    kw.pop("f_star", None)
    return kw


def _run(method, kw, **extra):
    kw = dict(kw)
    opts = dict(kw.pop("options", {}) or {})
    opts.update(extra.pop("options", {}))
    fun = kw.pop("fun")
    x0 = kw.pop("x0")
    return numopt.minimize(fun, x0, method=method, options=opts, **kw, **extra)


def test_registry_not_empty():
    assert {"gd", "agd", "ista", "fista"} <= set(METHODS)


@pytest.mark.parametrize("method", METHODS)
def test_maxiter_zero_returns_x0(method):
    kw = _example(method, np)
    x0 = np.asarray(kw["x0"]).copy()
    res = _run(method, kw, options={"maxiter": 0})
    assert res.nit == 0
    np.testing.assert_array_equal(to_numpy(res.x), x0)
    assert res.status == 1 and not res.success


@pytest.mark.parametrize("method", METHODS)
def test_callback_stopiteration(method):
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result.nit)
        assert np.isfinite(intermediate_result.fun)
        if len(seen) == 3:
            raise StopIteration

    res = _run(method, _example(method, np), callback=cb, options={"maxiter": 50})
    assert res.status == 99 and not res.success
    assert seen == [0, 1, 2]
    assert res.nit == 2
    assert "callback" in res.message.lower()


@pytest.mark.parametrize("method", METHODS)
def test_x0_not_mutated_and_counts(method):
    kw = _example(method, np)
    x0 = kw["x0"]
    before = np.array(x0, copy=True)
    res = _run(method, kw, options={"maxiter": 5})
    np.testing.assert_array_equal(x0, before)
    assert res.x is not x0
    calls = sum(res.get(k, 0) for k in ("nfev", "njev", "nhev", "nprox", "nlmo"))
    assert calls > 0
    # the trace records one row per iterate, with nondecreasing counts
    tr = res.trace
    assert len(tr["fun"]) == res.nit + 1
    for k in ("nfev", "njev"):
        assert np.all(np.diff(tr[k]) >= 0)


@pytest.mark.parametrize("method", METHODS)
def test_float32_preserved(method):
    kw = _example(method, np)
    kw["x0"] = np.asarray(kw["x0"], dtype=np.float32)
    res = _run(method, kw, options={"maxiter": 5})
    assert res.x.dtype == np.float32


@pytest.mark.parametrize("method", METHODS)
def test_unknown_option_is_typeerror(method):
    with pytest.raises(TypeError, match="valid options"):
        _run(method, _example(method, np), options={"not_an_option": 1})


@pytest.mark.parametrize("method", METHODS)
def test_numpy_and_array_api_strict_agree(method):
    xps = pytest.importorskip("array_api_strict")
    res_np = _run(method, _example(method, np), options={"maxiter": 20})
    res_st = _run(method, _example(method, xps), options={"maxiter": 20})
    assert type(res_st.x).__module__.startswith("array_api_strict")
    np.testing.assert_allclose(to_numpy(res_st.x), to_numpy(res_np.x), rtol=1e-7, atol=1e-10)
    assert res_st.nit == res_np.nit


@pytest.mark.parametrize("method", METHODS)
def test_show_options_documents_method(method):
    text = numopt.show_options(method, disp=False)
    spec = get_method(method)
    assert spec.reference and spec.rate_text and spec.optimality
    for opt in spec.all_options():
        assert opt in text
