"""The registry contract over every method of every kind, through its kind's front door
(tests/test_contract.py holds the deeper minimize-only checks): each registered method
runs its own example instance, stops on StopIteration (status 99), returns its start
with maxiter=0 (status 1), refuses unknown options naming the valid ones, records a
trace, reports success only with a finite measure below tol, and never mutates its
inputs."""
import copy

import numpy as np
import pytest

import numopt
from numopt._registry import KINDS, get_method

# every method of every kind but "minimize" (run by tests/test_contract.py)
METHODS = [m for k in KINDS if k != "minimize" for m in numopt.list_methods(kind=k)]


def _door(method):
    """The function that runs ``method``: its kind's front door unless the spec names
    its own (``MethodSpec.front_door``)."""
    return getattr(numopt, get_method(method).front_door.split(".", 1)[1])


def _example(method):
    spec = get_method(method)
    assert spec.example is not None, f"method {method!r} has no example instance"
    kw = dict(spec.example(np))
    for k in ("f_star", "x_star"):
        kw.pop(k, None)
    return kw


def _run(method, kw=None, **extra):
    import inspect

    kw = _example(method) if kw is None else kw
    door = _door(method)
    if "method" in inspect.signature(door).parameters:  # a method's own door needs no name
        extra["method"] = method
    return door(**kw, **extra)


def test_every_kind_has_methods_and_a_front_door():
    for kind, (door, _) in KINDS.items():
        assert numopt.list_methods(kind=kind), kind
        assert callable(getattr(numopt, door.split(".", 1)[1])), door


@pytest.mark.parametrize("method", METHODS)
def test_callback_stopiteration_ends_with_status_99(method):
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result.nit)
        if len(seen) == 2:
            raise StopIteration

    res = _run(method, callback=cb, options={"maxiter": 50, "tol": 0.0})
    assert res.status == 99 and not res.success and "callback" in res.message.lower()
    assert len(seen) == 2 and seen[0] == 0 and res.nit == seen[-1] > 0


@pytest.mark.parametrize("method", METHODS)
def test_maxiter_zero_is_status_1_at_the_start(method):
    res = _run(method, options={"maxiter": 0})
    assert res.nit == 0 and res.status == 1 and not res.success


@pytest.mark.parametrize("method", METHODS)
def test_unknown_option_lists_the_valid_ones(method):
    with pytest.raises(TypeError, match="valid options"):
        _run(method, options={"no_such_option": 1})
    with pytest.raises(TypeError, match="did you mean 'maxiter'"):
        _run(method, options={"maxiterr": 1})


@pytest.mark.parametrize("method", METHODS)
def test_result_contract_trace_and_inputs_kept(method):
    kw = _example(method)
    before = copy.deepcopy({k: v for k, v in kw.items() if isinstance(v, np.ndarray)})
    res = _run(method, kw, options={"maxiter": 20})
    for key in ("x", "fun", "nit", "status", "success", "message", "optimality", "trace"):
        assert key in res, key
    assert res.success == (res.status == 0)
    if res.success:
        parts = res.x if isinstance(res.x, tuple) else (res.x,)  # nmf: x = (W, H)
        assert np.isfinite(res.optimality) and all(np.all(np.isfinite(np.asarray(p))) for p in parts)
    assert len(res.trace["nit"]) == len(res.trace["optimality"]) >= 1
    assert res.trace["nit"][-1] == res.nit
    for k, v in before.items():
        np.testing.assert_array_equal(kw[k], v, err_msg=f"input {k!r} was mutated")


@pytest.mark.parametrize("method", METHODS)
def test_show_options_names_the_front_door(method):
    text = numopt.show_options(method, disp=False)
    assert get_method(method).front_door in text and "maxiter" in text
