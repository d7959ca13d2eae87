"""The fuzz contract of issue 15 ("no silent wrong answers") over every public entry point.

The case table and the checker live in docs/reliability.py (the script that writes
docs/reliability.md), so the page and these tests cannot drift apart. Each case feeds one
corruption (NaN/inf, wrong shape, empty, wrong dtype, invalid parameter, unknown option,
an objective turning NaN mid-run, a raising callback, ...) and asserts an honest outcome:
a ValueError/TypeError naming the argument, or success=False with a nonzero status; never
success=True with a non-finite or uncertified answer; never a hang; inputs never mutated.
A callback's StopIteration gives status 99; any other exception from a callback propagates
unchanged (as in scipy). Where a case fuzzes, hypothesis draws where the NaN goes, which
value, the sizes and the parameter values (derandomized: reproducible, fixed cost).
"""
import faulthandler
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _load():
    name = "numopt_docs_reliability"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, DOCS / "reliability.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(mod)
    return mod


rel = _load()

FIXED = [c for c in rel.CASES if not c.fuzz]
FUZZED = [c for c in rel.CASES if c.fuzz]
EXAMPLES = 3  # hypothesis draws per fuzzed case (each case is cheap; the whole file stays under a minute)


class HypothesisPick:
    """The four choices of docs/reliability.py's Pick, drawn by hypothesis."""

    def __init__(self, data):
        self.data = data

    def index(self, n):
        return self.data.draw(st.integers(0, n - 1), label="index")

    def bad(self, values=rel.BAD):
        return self.data.draw(st.sampled_from(values), label="value")

    def choice(self, seq):
        return self.data.draw(st.sampled_from(seq), label="choice")

    def integer(self, lo, hi):
        return self.data.draw(st.integers(lo, hi), label="integer")


@pytest.fixture(autouse=True)
def _no_hang_in_compiled_code():
    """run_case's alarm stops a Python-level hang; a hang inside compiled code is ended loudly."""
    faulthandler.dump_traceback_later(20 * rel.TIME_LIMIT, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.mark.parametrize("case", FIXED, ids=lambda c: c.id)
def test_contract(case):
    out = rel.run_case(case)
    assert out.ok, f"{case.id}: {out.summary}"


@pytest.mark.parametrize("case", FUZZED, ids=lambda c: c.id)
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_contract_fuzzed(case, data):
    out = rel.run_case(case, HypothesisPick(data))
    assert out.ok, f"{case.id}: {out.summary}"


# ------------------------------------------------------------------ the checker can fail

def _fake_case(call, expect=rel.HONEST, names=(), inputs=None):
    def build(pick):
        return rel.Scenario(call, expect, names, inputs or {})
    return rel.Case("fake", "fake", build)


def _result(**kw):
    from scipy.optimize import OptimizeResult

    base = dict(x=np.zeros(2), fun=0.0, success=True, status=0, message="ok")
    base.update(kw)
    return OptimizeResult(base)


@pytest.mark.parametrize("res,reason", [
    (_result(x=np.array([np.nan, 0.0])), "non-finite x"),
    (_result(fun=np.inf), "non-finite fun"),
    (_result(optimality=np.nan), "non-finite optimality"),
    (_result(success=True, status=1), "success=True with status 1"),
    (_result(success=False, status=0), "success=False with status 0"),
])
def test_checker_flags_dishonest_results(res, reason):
    out = rel.run_case(_fake_case(lambda: res))
    assert not out.ok and reason in out.summary


def test_checker_error_must_name_the_argument():
    def raises():
        raise ValueError("matmul: dimension mismatch")

    assert not rel.run_case(_fake_case(raises, rel.REJECT, ("x0",))).ok

    def names_it():
        raise ValueError("`x0` contains NaN")

    assert rel.run_case(_fake_case(names_it, rel.REJECT, ("x0",))).ok
    assert not rel.run_case(_fake_case(lambda: _result(success=False, status=1), rel.REJECT, ("x0",))).ok
    assert rel.run_case(_fake_case(lambda: _result(success=False, status=2), rel.FAIL, ("x0",))).ok
    assert not rel.run_case(_fake_case(lambda: _result(), rel.FAIL, ("x0",))).ok
    # a word inside another word is not a name: `tol` is not named by "tolerance"
    assert rel._names_in("tolerance too small", ("tol",)) is None
    assert rel._names_in("`TOL` must be >= 0", ("tol",)) == "tol"


def test_checker_detects_mutation_and_hangs():
    a = np.ones(3)

    def mutate():
        a[0] = 5.0
        return _result()

    out = rel.run_case(_fake_case(mutate, inputs={"a": a}))
    assert not out.ok and "mutated `a`" in out.summary

    def spin():
        while True:  # the hang the contract exists to catch; the alarm ends it
            pass

    t0 = time.perf_counter()
    out = rel.run_case(_fake_case(spin), time_limit=0.2)
    assert not out.ok and "hang" in out.summary
    assert time.perf_counter() - t0 < 2.0


def test_checker_callback_contract():
    def swallow():
        return _result(success=False, status=5)

    assert not rel.run_case(_fake_case(swallow, rel.PROPAGATE)).ok
    assert not rel.run_case(_fake_case(lambda: _result(success=False, status=1), rel.STOP)).ok

    def propagate():
        rel.raising_callback()

    assert rel.run_case(_fake_case(propagate, rel.PROPAGATE)).ok


def test_reliability_page_lists_every_case():
    """docs/reliability.md (written by `python docs/reliability.py`) documents exactly the
    cases of the table (cheap structural check; the outcomes are rerun by the tests above)."""
    text = (DOCS / "reliability.md").read_text()
    documented = rel.documented_cases(text)
    expected = [(c.entry, c.name) for c in rel.CASES]
    missing = sorted(set(expected) - set(documented))
    stale = sorted(set(documented) - set(expected))
    assert not missing and not stale, ("run `python docs/reliability.py`: "
                                      f"missing {missing[:5]}, stale {stale[:5]}")
    assert rel.COMMAND in text
