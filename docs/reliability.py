"""The fuzz contract of numopt ("no silent wrong answers") and the script that writes
docs/reliability.md from it.

Every public entry point is run on a small valid instance that one corruption at a time
spoils: NaN/inf in an input, a wrong shape, an empty array, a wrong dtype, an invalid
parameter, an unknown option, an objective that turns NaN after ``k`` calls, a callback
that raises ``StopIteration`` or a ``RuntimeError``; for optimal transport also negative
marginals, a mass mismatch and a cost of the wrong shape; for the LIBSVM reader corrupt
files. Each case states what an honest outcome is:

``reject``     a ``ValueError``/``TypeError`` whose message names the argument (in backticks
               or not, any case);
``fail``       that, or a result with ``success=False`` and ``status != 0``;
``any``        that, or an honest result (see below);
``honest``     an honest result (valid input: no exception);
``stop``       the callback's ``StopIteration`` ends the run: ``status == 99``, ``success=False``;
``propagate``  any other exception raised by a callback propagates unchanged (as in
               ``scipy.optimize``): the solver neither swallows it nor reports a status.

A result is honest when ``success == (status == 0)`` and, when ``success`` is True, ``x``
(every array of it), ``fun`` and ``optimality`` are finite and the answer passes the entry
point's certificate (feasibility, residual, marginal error, known optimum). In every case
the caller's arrays are compared before/after (never mutated) and the call runs under a
hard time limit (never a hang).

``tests/test_fuzz_contract.py`` imports this file (``CASES``, ``run_case``) and runs every
case, the numeric corruptions drawn by hypothesis. This script runs each case once with
its representative draw (``Pick``) and writes the table:

    python docs/reliability.py            # rewrite docs/reliability.md
    python docs/reliability.py --failing  # only print the failing cases
"""
from __future__ import annotations

import copy
import functools
import lzma
import math
import os
import re
import signal
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

import numopt

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "reliability.md"
COMMAND = "python docs/reliability.py"
TIME_LIMIT = 10.0  # seconds per case; every valid instance here runs in well under 0.5 s once compiled
WARM_UP_LIMIT = 120.0  # the first (valid) case of an entry point also compiles its numba kernels
BAD = (np.nan, np.inf, -np.inf)

REJECT, FAIL, ANY, HONEST, STOP, PROPAGATE = "reject", "fail", "any", "honest", "stop", "propagate"
EXPECT_TEXT = {REJECT: "error naming {names}", FAIL: "error naming {names} or success=False",
               ANY: "error naming {names} or honest result", HONEST: "honest result",
               STOP: "status 99", PROPAGATE: "RuntimeError propagates"}


# ----------------------------------------------------------------------------- choices

class Pick:
    """The representative choice of every fuzzed quantity (the docs table runs this one;
    the tests draw them with hypothesis through the same four methods)."""

    def index(self, n):
        return n // 2

    def bad(self, values=BAD):
        return values[0]

    def choice(self, seq):
        return seq[0]

    def integer(self, lo, hi):
        return lo


# ----------------------------------------------------------------------------- cases

@dataclass
class Scenario:
    call: Callable[[], Any]
    expect: str = REJECT
    names: tuple = ()
    inputs: dict = field(default_factory=dict)  # caller's objects that must not change
    check: Callable[[Any], list] | None = None  # extra certificate of a returned value
    errors: tuple = (ValueError, TypeError)
    cleanup: Callable[[], None] | None = None
    # decides the expectation after the run (e.g. FAIL only if the NaN reached the solver)
    expect_after: Callable[[], str] | None = None


@dataclass(frozen=True)
class Case:
    entry: str
    name: str
    build: Callable[[Pick], Scenario]
    fuzz: bool = False  # draws from its Pick (hypothesis varies the draws in the tests)

    @property
    def id(self):
        return f"{self.entry}::{self.name}"


@dataclass
class Outcome:
    ok: bool
    summary: str


class CaseTimeout(BaseException):
    """Raised by the alarm; a BaseException so that no `except Exception` in a solver eats it."""


class FuzzCallbackError(RuntimeError):
    pass


class FuzzUserError(Exception):
    """Raised by a user function that checks its input's shape: an error of the user's own
    code propagates unchanged (as in scipy), which is an honest outcome."""


class Entry:
    """An entry point: ``base()`` fresh valid keyword arguments, ``call(kw)`` runs it,
    ``check(kw, out)`` lists what is wrong with a returned value (certificates),
    ``arrays``: the keyword arguments holding caller data (checked for mutation)."""

    def __init__(self, name, base, call, check=None, arrays=(), callback=True, sized=False):
        # sized: base(pick) draws the instance's sizes (hypothesis varies them)
        self.name, self._base, self._call, self._check, self.sized = name, base, call, check, sized
        self.arrays, self.has_callback = arrays, callback
        self.cases: list[Case] = []

    def base(self, pick=None):
        return self._base(pick or Pick()) if self.sized else self._base()

    def scenario(self, kw, expect=HONEST, names=(), errors=(ValueError, TypeError), cleanup=None):
        inputs = {k: kw[k] for k in self.arrays if k in kw}
        check = kw.pop("_check", None)  # a case's own certificate replaces the entry point's
        if check is None and self._check is not None:
            check = functools.partial(self._check, kw)
        after = kw.pop("_expect_after", None)
        return Scenario(lambda: self._call(dict(kw)), expect, tuple(names), inputs, check, errors, cleanup, after)

    def add(self, name, mod, expect=REJECT, names=(), fuzz=False, errors=(ValueError, TypeError)):
        """A case: ``mod(kw, pick)`` corrupts fresh valid arguments in place (it may set
        ``kw["_expect_after"]``, a function deciding the expectation after the run)."""
        def build(pick):
            kw = self.base(pick)
            mod(kw, pick)
            return self.scenario(kw, expect, names, errors)

        self.cases.append(Case(self.name, name, build, fuzz or self.sized))
        return self

    def valid(self):
        return self.add("valid instance", lambda kw, p: None, HONEST)

    def poison(self, arg, names=None, values=BAD, expect=REJECT):
        def mod(kw, p):
            kw[arg] = poison(kw[arg], p, values)
        return self.add(f"`{arg}` non-finite", mod, expect, names or (arg,), fuzz=True)

    def callbacks(self, key="callback"):
        if not self.has_callback:
            return self
        self.add("callback raises StopIteration", lambda kw, p: kw.update({key: stop_callback()}), STOP)
        self.add("callback raises RuntimeError", lambda kw, p: kw.update({key: raising_callback}), PROPAGATE)
        return self


def poison(a, pick, values=BAD):
    """A copy of array ``a`` with one entry (picked) set to a picked non-finite value."""
    if sp.issparse(a):
        a = a.copy()
        a.data = np.asarray(a.data, dtype=float)
        a.data[pick.index(a.data.size)] = pick.bad(values)
        return a
    a = np.array(a, dtype=float, copy=True)
    a.flat[pick.index(a.size)] = pick.bad(values)
    return a


def stop_callback(after=1):
    calls = []

    def cb(intermediate_result=None, *args):
        calls.append(1)
        if len(calls) >= after:
            raise StopIteration

    return cb


def raising_callback(intermediate_result=None, *args):
    raise FuzzCallbackError("fuzz: callback failure")


def _nan_like(out):
    if isinstance(out, (float, np.floating)) or (isinstance(out, (int, np.integer)) and not isinstance(out, bool)):
        return float("nan")
    if isinstance(out, np.ndarray) and out.dtype.kind in "fiuc":
        return np.full(out.shape, np.nan)
    if sp.issparse(out):
        out = out.copy().astype(float)
        out.data[:] = np.nan
        return out
    if isinstance(out, tuple):
        return tuple(_nan_like(o) for o in out)
    if isinstance(out, list):
        return [_nan_like(o) for o in out]
    return out


class NanAfter:
    """Shared counter: callables wrapped by one NanAfter return NaN (same structure) once
    ``k`` calls in total have been made -- an objective that turns NaN mid-run."""

    METHODS = ("value", "grad", "value_and_grad", "hvp", "hess", "grad_batch", "value_batch", "block_grad")

    def __init__(self, k):
        self.k, self.n, self.fired = k, 0, False

    def expect(self):
        """FAIL once a NaN was handed to the solver; before that the run must just be honest
        (a solver using its own kernels on the data may never call the wrapped oracle)."""
        return FAIL if self.fired else ANY

    def fn(self, f):
        if f is None or not callable(f):
            return f

        @functools.wraps(f)
        def wrapped(*a, **kw):
            self.n += 1
            out = f(*a, **kw)
            if self.n > self.k:
                self.fired = True
                return _nan_like(out)
            return out

        return wrapped

    def obj(self, o):
        """A shallow copy of an oracle object whose evaluation methods turn NaN."""
        if not any(hasattr(o, m) for m in self.METHODS):
            return self.fn(o)
        c = copy.copy(o)
        for m in self.METHODS:
            if callable(getattr(o, m, None)):
                setattr(c, m, self.fn(getattr(o, m)))
        return c


def shape_guard(f, shape):
    """``f`` as a careful user writes it: it raises FuzzUserError on an input of another shape."""
    if f is None or not callable(f):
        return f

    @functools.wraps(f)
    def guarded(x, *a, **kw):
        if np.shape(x) != tuple(shape):
            raise FuzzUserError(f"fuzz: user function called with shape {np.shape(x)}, expects {tuple(shape)}")
        return f(x, *a, **kw)

    return guarded


def _names_in(message, names):
    for n in names:
        if re.search(r"(?<![A-Za-z0-9_])`?" + re.escape(n) + r"`?(?![A-Za-z0-9_])", message, re.IGNORECASE):
            return n
    return None


def _finite(v):
    if v is None:
        return True
    if isinstance(v, (tuple, list)):
        return all(_finite(u) for u in v)
    if sp.issparse(v):
        return bool(np.all(np.isfinite(v.data)))
    try:
        a = np.asarray(v)
    except Exception:
        return True
    if a.dtype.kind not in "fiucb":
        return True
    return bool(np.all(np.isfinite(a)))


def _honest(out, sc):
    """Problems with a returned value (empty list: honest)."""
    bad = []
    if hasattr(out, "success") or (isinstance(out, dict) and "success" in out):
        success, status = out["success"], out.get("status")
        if not isinstance(success, (bool, np.bool_)):
            bad.append(f"success is {type(success).__name__}, not bool")
        if bool(success) != (status == 0):
            bad.append(f"success={success} with status {status}")
        if success:
            for k in ("x", "fun", "optimality"):
                if not _finite(out.get(k)):
                    bad.append(f"success=True with non-finite {k}")
        elif not out.get("message"):
            bad.append("success=False without a message")
        if success and sc.check is not None and not bad:
            bad += sc.check(out)
    elif sc.check is not None:
        bad += sc.check(out)
    return bad


def _describe_result(out):
    if hasattr(out, "success") or (isinstance(out, dict) and "success" in out):
        return "success" if out["success"] else f"status {out.get('status')}"
    return "returned"


def _short(msg, n=90):
    msg = " ".join(str(msg).split()).replace("|", "\\|")
    return msg if len(msg) <= n else msg[: n - 3] + "..."


def _snapshot(obj):
    if sp.issparse(obj):
        return ("sparse", obj.format, obj.shape, obj.copy(), getattr(obj, "has_sorted_indices", None))
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, (list, tuple)):
        return type(obj)(_snapshot(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _snapshot(v) for k, v in obj.items()}
    return obj


def _same(a, b):
    if isinstance(a, tuple) and len(a) == 5 and a[:1] == ("sparse",):
        if not sp.issparse(b) or b.format != a[1] or b.shape != a[2]:
            return False
        ref = a[3]
        parts = ("data", "indices", "indptr") if ref.format in ("csr", "csc", "bsr") else ("data", "row", "col")
        return all(np.array_equal(np.asarray(getattr(ref, k)), np.asarray(getattr(b, k)),
                                  equal_nan=k == "data" and ref.dtype.kind in "fc") for k in parts if hasattr(ref, k))
    if isinstance(a, np.ndarray):
        if not isinstance(b, np.ndarray) or a.shape != b.shape or a.dtype != b.dtype:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return True


def _with_time_limit(fn, seconds):
    if not hasattr(signal, "setitimer"):  # pragma: no cover - non-POSIX
        return fn()

    def alarm(signum, frame):
        raise CaseTimeout(f"no answer within {seconds:g} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


_WARM = set()


def warm_up(entry_name):
    """Run the entry point's first case once, untimed by the contract, so that compiling numba
    kernels (cold cache in CI) never reads as a hang."""
    if entry_name in _WARM:
        return
    _WARM.add(entry_name)
    first = next((c for c in CASES if c.entry == entry_name), None)
    if first is None:
        return
    try:
        sc = first.build(Pick())
        _with_time_limit(sc.call, WARM_UP_LIMIT)
    except BaseException as e:  # noqa: BLE001 - the real run reports it
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise


def run_case(case, pick=None, time_limit=TIME_LIMIT):
    """Run one case; return its Outcome (``ok`` False with the reason when the contract breaks)."""
    with warnings.catch_warnings():  # numerical warnings of corrupted runs are expected noise here
        warnings.simplefilter("ignore")
        return _run_case(case, pick, time_limit)


_RETRIED = set()


def _run_case(case, pick, time_limit):
    warm_up(case.entry)
    res = _run_once(case, pick, time_limit)
    if res.summary.startswith("FAIL: hang") and case.id not in _RETRIED:
        # once per case, a longer second chance: a numba kernel this case alone reaches may have
        # been compiling (cold cache); a real hang fails again
        _RETRIED.add(case.id)
        res = _run_once(case, pick, 3 * time_limit)
    return res


def _run_once(case, pick, time_limit):
    sc = case.build(pick or Pick())
    names = ", ".join(f"`{n}`" for n in sc.names)
    before = {k: _snapshot(v) for k, v in sc.inputs.items()}
    t0 = time.perf_counter()
    try:
        out = _with_time_limit(sc.call, time_limit)
        if sc.expect_after is not None:
            sc.expect = sc.expect_after()
    except CaseTimeout:
        res = Outcome(False, f"FAIL: hang (no answer within {time_limit:g} s)")
    except FuzzCallbackError:
        res = Outcome(sc.expect == PROPAGATE, "RuntimeError propagates" if sc.expect == PROPAGATE
                      else "FAIL: the callback's RuntimeError escaped")
    except FuzzUserError:
        res = Outcome(sc.expect in (FAIL, ANY), "the user function's own error propagates"
                      if sc.expect in (FAIL, ANY) else f"FAIL: called the user function instead of naming {names}")
    except Exception as e:  # noqa: BLE001 - classify every failure
        if sc.expect_after is not None:
            sc.expect = sc.expect_after()
        kind = type(e).__name__
        named = _names_in(str(e), sc.names) if isinstance(e, sc.errors) else None
        if sc.expect in (REJECT, FAIL, ANY) and named:
            res = Outcome(True, f"{kind} names `{named}`")
        elif sc.expect in (REJECT, FAIL, ANY) and isinstance(e, sc.errors):
            res = Outcome(False, f"FAIL: {kind} does not name {names}: {_short(e)}")
        elif sc.expect == PROPAGATE:
            res = Outcome(False, f"FAIL: {kind} instead of the callback's RuntimeError: {_short(e)}")
        else:
            res = Outcome(False, f"FAIL: {kind}: {_short(e)}")
    else:
        bad = _honest(out, sc)
        got = _describe_result(out)
        if bad:
            res = Outcome(False, "FAIL: " + "; ".join(bad))
        elif sc.expect == HONEST or sc.expect == ANY:
            res = Outcome(True, got if got != "success" else "success (certified)")
        elif sc.expect == FAIL:
            ok = got.startswith("status") and got != "status 0"
            res = Outcome(ok, got if ok else f"FAIL: {got}, expected an error naming {names} or success=False")
        elif sc.expect == STOP:
            ok = got == "status 99"
            res = Outcome(ok, got if ok else f"FAIL: {got}, expected status 99")
        elif sc.expect == PROPAGATE:
            res = Outcome(False, f"FAIL: the callback's RuntimeError was swallowed ({got})")
        else:
            res = Outcome(False, f"FAIL: {got}, expected an error naming {names}")
    finally:
        if sc.cleanup is not None:
            sc.cleanup()
    elapsed = time.perf_counter() - t0
    changed = [k for k, v in before.items() if not _same(v, sc.inputs[k])]
    if changed:
        res = Outcome(False, f"FAIL: mutated {', '.join(f'`{k}`' for k in changed)}; " + res.summary)
    res.elapsed = elapsed
    return res


# ============================================================================ entry points

def _x_ok(x):
    return [] if _finite(x) else ["non-finite x"]


# ---------------------------------------------------------------- numopt.minimize methods

def _minimize_entry(method):
    from numopt._registry import get_method

    spec = get_method(method)

    def base():
        kw = dict(spec.example(np))
        kw.pop("f_star", None)
        opts = dict(kw.pop("options", {}) or {})
        opts.setdefault("maxiter", 30)
        opts["max_time"] = 2.0
        kw["options"] = opts
        kw["method"] = method
        return kw

    def call(kw):
        return numopt.minimize(kw.pop("fun"), kw.pop("x0"), **kw)

    def check(kw, res):
        bad = []
        lmo = kw.get("lmo")
        x = np.asarray(res.x, dtype=float)
        if lmo is not None and type(lmo).__name__ in ("Simplex", "ProbabilitySimplex"):
            r = float(getattr(lmo, "radius", 1.0))
            if x.min() < -1e-9 or abs(x.sum() - r) > 1e-8 * max(1.0, r):
                bad.append(f"success=True outside the simplex (min {x.min():.3g}, sum {x.sum():.10g})")
        cons = kw.get("constraints")
        if isinstance(cons, dict):
            c = np.max(np.abs(np.asarray(cons["fun"](x), dtype=float)))
            if not c <= 1e-6:
                bad.append(f"success=True with constraint violation {c:.3g}")
        return bad

    e = Entry(f"minimize[{method}]", base, call, check, arrays=("x0",))
    e.valid()
    e.poison("x0")

    def wrong_length(kw, p):
        x0 = np.asarray(kw["x0"])
        for k in ("fun", "jac", "hess", "hessp"):
            if callable(kw.get(k)) and not hasattr(kw[k], "value"):  # the user's own functions check shapes
                kw[k] = shape_guard(kw[k], x0.shape)
        kw["x0"] = np.append(x0, 0.5)

    e.add("`x0` wrong length", wrong_length, ANY, names=("x0",))
    e.add("`x0` 3-D", lambda kw, p: kw.update(x0=np.asarray(kw["x0"])[None, None]), names=("x0",))
    e.add("`x0` empty", lambda kw, p: kw.update(x0=np.zeros(0)), names=("x0",))
    e.add("`x0` complex", lambda kw, p: kw.update(x0=np.asarray(kw["x0"]) + 1j), names=("x0",))
    e.add("`x0` strings", lambda kw, p: kw.update(x0=np.asarray(kw["x0"]).astype(str)), names=("x0",))
    e.add("`x0` list of ints", lambda kw, p: kw.update(x0=[int(round(v)) for v in np.ravel(kw["x0"])]), HONEST)
    e.add("`tol` invalid", lambda kw, p: kw.update(tol=p.choice((-1.0, np.nan, -np.inf))), names=("tol",), fuzz=True)
    e.add("`maxiter` negative", lambda kw, p: kw["options"].update(maxiter=-1), names=("maxiter",))
    e.add("`maxiter` not an integer", lambda kw, p: kw["options"].update(maxiter=2.5), names=("maxiter",))
    e.add("unknown option", lambda kw, p: kw["options"].update(fuzz_bogus=1), names=("fuzz_bogus",))

    def nan_mid_run(kw, p):
        w = NanAfter(p.integer(2, 8))
        kw["_expect_after"] = w.expect
        kw["fun"] = w.obj(kw["fun"])
        for k in ("jac", "hess", "hessp"):
            if callable(kw.get(k)):
                kw[k] = w.fn(kw[k])
        if isinstance(kw.get("constraints"), dict):
            kw["constraints"] = {k: w.fn(v) if callable(v) else v for k, v in kw["constraints"].items()}

    e.add("objective turns NaN after k calls", nan_mid_run, FAIL, names=("fun", "objective", "x0", "jac"), fuzz=True)
    ex = base()
    plain_fun = callable(ex["fun"]) and not hasattr(ex["fun"], "value")
    if plain_fun and ex.get("jac") is not True:
        def one_element(kw, p):
            f = kw["fun"]
            kw["fun"] = lambda x, *a: np.array([f(x, *a)])
        e.add("`fun` returns a one-element array", one_element, HONEST)
    if isinstance(ex.get("constraints"), dict):
        def cons_nan(kw, p):
            w = NanAfter(p.integer(2, 8))
            kw["constraints"] = dict(kw["constraints"], fun=w.fn(kw["constraints"]["fun"]))
            kw["_expect_after"] = w.expect
        e.add("constraint turns NaN after k calls", cons_nan, FAIL, names=("constraints", "constraint", "x0"),
              fuzz=True)

        def cons_nan_at_kkt(kw, p):  # max(|grad L|, nan) must not read as a KKT residual of 0
            ref = base()
            res = numopt.minimize(ref.pop("fun"), ref.pop("x0"), **dict(ref, tol=1e-12, options={"maxiter": 500}))
            kw["x0"] = np.asarray(res.x, dtype=float)
            kw["constraints"] = dict(kw["constraints"], fun=NanAfter(0).fn(kw["constraints"]["fun"]))

        e.add("constraint NaN at a KKT point", cons_nan_at_kkt, FAIL, names=("constraints", "constraint", "x0"))
        e.add("constraint Jacobian NaN", lambda kw, p: kw.update(constraints=dict(
            kw["constraints"], jac=NanAfter(0).fn(kw["constraints"]["jac"]))), FAIL,
            names=("jac", "jacobian", "constraint", "constraints"))

    def lasso_problem(kw, p):  # issue 15 item 1: a Problem's regularizer is used or refused, never dropped
        from problems.models import make_model

        X, y = _lasso_data()
        for k in ("jac", "hess", "hessp", "prox", "lmo", "constraints", "bounds"):
            kw.pop(k, None)
        kw["fun"], kw["x0"] = make_model(X, y, model="lasso", lam=LASSO_LAM), None
        kw["options"] = {k: v for k, v in kw["options"].items() if k in ("rng",)}
        kw["options"].update(maxiter=2000, max_time=2.0)
        kw["_check"] = lambda res: lasso_check(X, y, LASSO_LAM, res)

    e.add("lasso `Problem` (L1 regularizer)", lasso_problem, ANY,
          names=("regularizer", "prox", "lmo", "hess", "hessp", "constraints"))
    if not any(ex.get(k) is not None for k in ("prox", "lmo", "constraints")):
        def explicit_prox(kw, p):  # an explicit prox= is used or refused, never dropped
            from numopt.prox import L1

            kw["prox"] = L1(0.1)
            kw["_check"] = functools.partial(_l1_certificate, kw["fun"], kw.get("jac"), 0.1)

        e.add("`prox`=L1 given to a smooth method", explicit_prox, ANY, names=("prox", "regularizer"))
    e.callbacks()
    return e


def _grad(fun, jac, x):
    if callable(jac):
        return np.asarray(jac(x), dtype=float)
    if hasattr(fun, "grad"):
        return np.asarray(fun.grad(x), dtype=float)
    g = np.zeros_like(x)
    for i in range(x.size):
        h = 1e-6 * max(1.0, abs(x.flat[i]))
        e = np.zeros_like(x)
        e.flat[i] = h
        g.flat[i] = (float(fun(x + e)) - float(fun(x - e))) / (2 * h)
    return g


def _l1_certificate(fun, jac, lam, res):
    """Prox-gradient mapping of f + lam ||.||_1 at the answer (zero exactly at its minimizers)."""
    x = np.asarray(res.x, dtype=float)
    t = 1e-2
    v = x - t * _grad(fun, jac, x)
    G = (x - np.sign(v) * np.maximum(np.abs(v) - t * lam, 0.0)) / t
    m = float(np.max(np.abs(G)))
    return [] if m <= 1e-4 else [f"success=True with prox-gradient mapping {m:.3g} for f + {lam:g}||x||_1 "
                                 "(prox dropped?)"]


# ---------------------------------------------------------------- bcd

def _lasso_data(n=30, p=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:3] = (1.0, -2.0, 1.5)
    return X, X @ w + 0.1 * rng.standard_normal(n)


LASSO_LAM = 0.05


def lasso_gap(X, y, lam, x):
    """Duality gap of 1/(2n)||y - Xx||^2 + lam ||x||_1 at x (dual point: the scaled residual)."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    n = X.shape[0]
    x = np.asarray(x, dtype=float)
    r = y - X @ x
    primal = r @ r / (2 * n) + lam * np.abs(x).sum()
    theta = r / max(1.0, np.max(np.abs(X.T @ r)) / (n * lam))
    dual = (y @ y - (y - theta) @ (y - theta)) / (2 * n)
    return primal - dual, primal


def lasso_check(X, y, lam, res, rtol=1e-3):
    """rtol 1e-3: far above any method's own tolerance, far below what dropping the l1 term costs."""
    gap, primal = lasso_gap(X, y, lam, res.x)
    return [] if gap <= rtol * max(1.0, primal) else [f"success=True with lasso duality gap {gap:.3g} "
                                                      "(regularizer dropped?)"]


def _bcd_entry():
    from problems.models import make_model

    def base():
        X, y = _lasso_data()
        return dict(X=X, y=y, x0=np.zeros(X.shape[1]), tol=1e-10, maxiter=200)

    def call(kw):
        P = make_model(kw.pop("X"), kw.pop("y"), model="lasso", lam=LASSO_LAM)
        return numopt.bcd(P, kw.pop("x0"), **kw)

    def check(kw, res):  # the lasso duality gap at the answer, measured independently
        return lasso_check(kw["X"], kw["y"], LASSO_LAM, res, rtol=1e-6)  # bcd's tol is this gap (1e-10)

    e = Entry("bcd", base, call, check, arrays=("X", "y", "x0"))
    e.valid()

    def sparse_unsorted(kw, p):  # a caller's CSC matrix with unsorted indices must stay as given
        A = sp.csc_matrix(kw["X"])
        idx, dat = A.indices.copy(), A.data.copy()
        for j in range(A.shape[1]):
            s, t = A.indptr[j], A.indptr[j + 1]
            A.indices[s:t], A.data[s:t] = idx[s:t][::-1], dat[s:t][::-1]
        A.has_sorted_indices = False
        kw["X"] = A

    e.add("sparse design with unsorted indices", sparse_unsorted, HONEST)
    e.poison("x0")
    e.poison("X", names=("X", "A", "design", "data", "problem"))
    e.poison("y", names=("y", "b", "target", "labels", "data", "problem"))
    e.add("`x0` wrong length", lambda kw, p: kw.update(x0=np.zeros(kw["X"].shape[1] + 1)), names=("x0",))
    e.add("`x0` empty", lambda kw, p: kw.update(x0=np.zeros(0)), names=("x0",))
    e.add("`x0` complex", lambda kw, p: kw.update(x0=kw["x0"] + 1j), names=("x0",))
    e.add("`tol` invalid", lambda kw, p: kw.update(tol=p.choice((-1.0, np.nan))), names=("tol",), fuzz=True)
    e.add("`maxiter` negative", lambda kw, p: kw.update(maxiter=-1), names=("maxiter",))
    e.add("`selection` unknown", lambda kw, p: kw.update(selection="fuzz"), names=("selection",))
    e.add("`update` unknown", lambda kw, p: kw.update(update="fuzz"), names=("update",))
    e.add("`blocks` invalid", lambda kw, p: kw.update(blocks=p.choice((0, -3))), names=("blocks",), fuzz=True)
    e.add("unknown option", lambda kw, p: kw.update(fuzz_bogus=1), names=("fuzz_bogus",))
    e.callbacks()
    return e


# ---------------------------------------------------------------- frank_wolfe

def _fw_entry():
    from numopt import lmo as L

    c = np.linspace(-0.4, 0.6, 8)

    def base():
        return dict(fun=lambda x: 0.5 * float((x - c) @ (x - c)), jac=lambda x: x - c, x0=np.eye(8)[0],
                    lmo=L.Simplex(1.0), tol=1e-8, maxiter=200)

    def call(kw):
        return numopt.frank_wolfe(kw.pop("fun"), kw.pop("x0"), kw.pop("lmo"), **kw)

    def check(kw, res):
        x = np.asarray(res.x, dtype=float)
        bad = []
        if x.min() < -1e-9 or abs(x.sum() - 1) > 1e-8:
            bad.append(f"success=True outside the simplex (min {x.min():.3g}, sum {x.sum():.10g})")
        gap = float((x - c) @ x - np.min(x - c))  # the Frank-Wolfe gap, recomputed
        if not gap <= 1e-6:
            bad.append(f"success=True with Frank-Wolfe gap {gap:.3g}")
        return bad

    e = Entry("frank_wolfe", base, call, check, arrays=("x0",))
    e.valid()
    for v in ("away", "pairwise", "blended-pairwise"):
        e.add(f"variant={v!r}", lambda kw, p, v=v: kw.update(variant=v), HONEST)
    e.poison("x0")
    e.add("`x0` outside the set", lambda kw, p: kw.update(x0=np.full(8, 0.5)), ANY, names=("x0",))
    e.add("`x0` wrong length", lambda kw, p: kw.update(x0=np.eye(9)[0], fun=shape_guard(kw["fun"], (8,)),
                                                      jac=shape_guard(kw["jac"], (8,))), ANY, names=("x0",))
    e.add("`x0` empty", lambda kw, p: kw.update(x0=np.zeros(0)), names=("x0",))
    e.add("`lmo` not a set", lambda kw, p: kw.update(lmo="simplex"), names=("lmo",))
    e.add("`variant` unknown", lambda kw, p: kw.update(variant="fuzz"), names=("variant",))
    e.add("`step` invalid", lambda kw, p: kw.update(step=p.choice(("fuzz", -1.0, np.nan))), names=("step",),
          fuzz=True)
    e.add("`tol` invalid", lambda kw, p: kw.update(tol=p.choice((-1.0, np.nan))), names=("tol",), fuzz=True)
    e.add("`maxiter` negative", lambda kw, p: kw.update(maxiter=-1), names=("maxiter",))
    e.add("unknown option", lambda kw, p: kw.update(fuzz_bogus=1), names=("fuzz_bogus",))

    def nan_mid_run(kw, p):
        w = NanAfter(p.integer(2, 8))
        kw["_expect_after"] = w.expect
        kw["fun"], kw["jac"] = w.fn(kw["fun"]), w.fn(kw["jac"])

    e.add("objective turns NaN after k calls", nan_mid_run, FAIL, names=("fun", "jac", "objective", "x0"), fuzz=True)
    e.callbacks()
    return e


# ---------------------------------------------------------------- optimal transport

def _ot_data(n=5, m=4, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 1.5, n)
    b = rng.uniform(0.5, 1.5, m)
    return a / a.sum(), b / b.sum(), rng.uniform(0.0, 1.0, (n, m))


def _exact_ot(a, b, C):
    from scipy.optimize import linprog

    n, m = C.shape
    A_eq = np.vstack([np.kron(np.eye(n), np.ones(m)), np.kron(np.ones(n), np.eye(m))])
    return linprog(C.ravel(), A_eq=A_eq, b_eq=np.r_[a, b], bounds=(0, None), method="highs").fun


def _marginal_error(P, a, b):
    P = np.asarray(P, dtype=float)
    return float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum())


def _sinkhorn_entry(method):
    def base(pick):
        a, b, C = _ot_data(pick.integer(3, 9), pick.integer(2, 9), pick.integer(0, 100))
        return dict(a=a, b=b, C=C, reg=0.5, method=method, tol=1e-9, maxiter=500)

    def call(kw):
        return numopt.sinkhorn(kw.pop("a"), kw.pop("b"), kw.pop("C"), kw.pop("reg"), **kw)

    def check(kw, res):
        P = np.asarray(res.plan, dtype=float)
        bad = []
        if P.min() < 0:
            bad.append("success=True with a negative plan entry")
        err = _marginal_error(P, np.asarray(kw["a"], float), np.asarray(kw["b"], float))
        tol = kw.get("tol", 1e-9)
        if not err <= 2 * tol + 1e-12:
            bad.append(f"success=True with marginal error {err:.3g} > tol {tol:g}")
        return bad

    e = Entry(f"sinkhorn[{method}]", base, call, check, arrays=("a", "b", "C"), sized=True)
    e.valid()

    def float32(kw, p):  # normalized in float32: the masses agree only to float32 rounding
        rng = np.random.default_rng(p.integer(0, 100))
        a, b = rng.uniform(0.5, 1.5, 60).astype(np.float32), rng.uniform(0.5, 1.5, 50).astype(np.float32)
        kw.update(a=a / a.sum(), b=b / b.sum(), C=rng.uniform(0, 1, (60, 50)).astype(np.float32), tol=1e-4)

    e.add("float32 marginals and cost", float32, HONEST)
    e.add("`C` complex", lambda kw, p: kw.update(C=kw["C"] + 0j), names=("C",))
    e.add("`reg` a numpy scalar", lambda kw, p: kw.update(reg=np.float32(0.5)), HONEST)
    e.poison("a")
    e.poison("b")
    e.poison("C", values=(np.nan, -np.inf))
    e.add("`a` negative entry", lambda kw, p: kw["a"].__setitem__(p.index(kw["a"].size), -0.1), names=("a",),
          fuzz=True)
    e.add("mass mismatch", lambda kw, p: kw.update(b=kw["b"] * 2), names=("a", "b", "mass"))
    e.add("`C` wrong shape", lambda kw, p: kw.update(C=kw["C"][:, :-1]), names=("C",))
    e.add("`a` empty", lambda kw, p: kw.update(a=np.zeros(0)), names=("a",))
    e.add("`reg` invalid", lambda kw, p: kw.update(reg=p.choice((0.0, -1.0, np.nan, np.inf))), names=("reg",),
          fuzz=True)
    e.add("`tol` invalid", lambda kw, p: kw.update(tol=p.choice((-1.0, np.nan))), names=("tol",), fuzz=True)
    e.add("`maxiter` negative", lambda kw, p: kw.update(maxiter=-1), names=("maxiter",))
    e.add("unknown option", lambda kw, p: kw.update(fuzz_bogus=1), names=("fuzz_bogus",))
    e.callbacks()
    return e


def _sinkhorn_common_entry():
    def base():
        a, b, C = _ot_data()
        return dict(a=a, b=b, C=C, reg=0.5)

    e = Entry("sinkhorn", base, lambda kw: numopt.sinkhorn(kw.pop("a"), kw.pop("b"), kw.pop("C"), kw.pop("reg"), **kw),
              arrays=("a", "b", "C"), callback=False)
    e.add("`method` unknown", lambda kw, p: kw.update(method="fuzz"), names=("method",))
    return e


def _mirror_entry():
    from numopt.solvers.sinkhorn import mirror_sinkhorn

    def base(pick):
        a, b, C = _ot_data(pick.integer(3, 8), pick.integer(2, 8), pick.integer(0, 100))
        return dict(a=a, b=b, C=C, maxiter=200, step=1.0)

    def call(kw):
        C = kw.pop("C")
        grad = kw.pop("grad", lambda P: C)
        return mirror_sinkhorn(grad, kw.pop("a"), kw.pop("b"), value=lambda P: float(np.sum(P * C)), **kw)

    def check(kw, res):
        a, b, C = (np.asarray(kw[k], float) for k in ("a", "b", "C"))
        P = np.asarray(res.plan, dtype=float)
        bad = []
        err = _marginal_error(P, a, b)
        if P.min() < 0 or err > 1e-8:
            bad.append(f"success=True with an infeasible plan (marginal error {err:.3g})")
        gap = float(np.sum(P * C)) - _exact_ot(a, b, C)
        if not gap <= 1e-3:
            bad.append(f"success=True {gap:.3g} above the exact OT cost")
        return bad

    e = Entry("mirror_sinkhorn", base, call, check, arrays=("a", "b", "C", "P0"), sized=True)
    e.valid()
    e.add("`tol`=1e-6 (start is feasible)", lambda kw, p: kw.update(tol=1e-6), HONEST)
    e.poison("a")
    e.poison("b")
    e.add("`a` negative entry", lambda kw, p: kw["a"].__setitem__(p.index(kw["a"].size), -0.1), names=("a",),
          fuzz=True)
    e.add("mass mismatch", lambda kw, p: kw.update(b=kw["b"] * 2), names=("a", "b", "mass"))
    e.add("`P0` wrong shape", lambda kw, p: kw.update(P0=np.ones((9, 9)) / 81), names=("P0",))
    e.add("`P0` non-finite", lambda kw, p: kw.update(P0=poison(np.outer(kw["a"], kw["b"]), p)), names=("P0",),
          fuzz=True)
    e.add("`step` invalid", lambda kw, p: kw.update(step=p.choice((-1.0, 0.0, np.nan))), names=("step",), fuzz=True)
    e.add("`tol` invalid", lambda kw, p: kw.update(tol=p.choice((-1.0, np.nan))), names=("tol",), fuzz=True)
    e.add("`maxiter` negative", lambda kw, p: kw.update(maxiter=-1), names=("maxiter",))

    def nan_mid_run(kw, p):
        w = NanAfter(p.integer(2, 8))
        kw["_expect_after"] = w.expect
        C = kw["C"]
        kw["grad"] = w.fn(lambda P: C)

    e.add("gradient turns NaN after k calls", nan_mid_run, FAIL, names=("grad",), fuzz=True)
    e.callbacks()
    return e


# ---------------------------------------------------------------- bilevel

def _bilevel_quadratic(H=None, n=3, seed=0):
    """F = 1/2||x - a||^2 + 1/2||y - b||^2, G = 1/2 y^T H y - y^T B x: y*(x) = H^{-1} B x and
    the hypergradient at (x, y) is (x - a) + B^T H^{-1} (y - b) (H only needs to be invertible)."""
    from numopt.solvers.bilevel import BilevelProblem

    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    B = rng.standard_normal((n, n)) / np.sqrt(n)
    H = np.diag(np.linspace(1.0, 4.0, n)) if H is None else H

    def guard(x, y):  # a careful user: an error of their own on inputs of another shape
        if np.shape(x) != (n,) or np.shape(y) != (n,):
            raise FuzzUserError(f"fuzz: bilevel oracle called with shapes {np.shape(x)}, {np.shape(y)}")

    def upper(x, y):
        guard(x, y)
        return 0.5 * np.sum((x - a) ** 2) + 0.5 * np.sum((y - b) ** 2), x - a, y - b

    def lower(x, y):
        guard(x, y)
        Hy, Bx = H @ y, B @ x
        return 0.5 * y @ Hy - y @ Bx, -B.T @ y, Hy - Bx

    P = BilevelProblem(upper, lower, lower_hvp=lambda x, y, v: H @ v, lower_cross=lambda x, y, v: -B.T @ v)
    M = np.linalg.solve(H, B)
    xs = np.linalg.solve(np.eye(n) + M.T @ M, a + M.T @ b)
    return P, dict(a=a, b=b, B=B, H=H, x_star=xs, hypergrad=lambda x, y: (x - a) + B.T @ np.linalg.solve(H, y - b))


BILEVEL_METHODS = ("implicit", "hoag", "f2sa", "penalty", "meha", "lv-hba", "bamm", "bo-rep", "maid")


def _bilevel_entry(method):
    from numopt.solvers.bilevel import BilevelProblem, bilevel

    def base():
        P, info = _bilevel_quadratic()
        return dict(problem=P, x0=np.zeros(3), y0=np.zeros(3), method=method, maxiter=20, tol=1e-8, _info=info)

    def call(kw):
        kw.pop("_info")
        return bilevel(kw.pop("problem"), kw.pop("x0"), kw.pop("y0"), **kw)

    def check(kw, res):
        xs = kw["_info"]["x_star"]
        err = float(np.linalg.norm(np.asarray(res.x, float) - xs))
        return [] if err <= 1e-3 else [f"success=True {err:.3g} away from the known x*"]

    e = Entry(f"bilevel[{method}]", base, call, check, arrays=("x0", "y0"))
    e.valid()
    e.poison("x0")
    e.poison("y0")
    e.add("`y0` wrong length", lambda kw, p: kw.update(y0=np.zeros(4)), ANY, names=("y0",))
    e.add("`x0` empty", lambda kw, p: kw.update(x0=np.zeros(0)), names=("x0",))
    e.add("`x0` complex", lambda kw, p: kw.update(x0=kw["x0"] + 1j), names=("x0",))
    e.add("`tol` invalid", lambda kw, p: kw.update(tol=p.choice((-1.0, np.nan))), names=("tol",), fuzz=True)
    e.add("`maxiter` negative", lambda kw, p: kw.update(maxiter=-1), names=("maxiter",))
    e.add("unknown option", lambda kw, p: kw.update(fuzz_bogus=1), names=("fuzz_bogus",))

    def nan_mid_run(kw, p):
        w = NanAfter(p.integer(2, 8))
        kw["_expect_after"] = w.expect
        P0 = kw["problem"]
        H = kw["_info"]["H"]
        B = kw["_info"]["B"]
        kw["problem"] = BilevelProblem(w.fn(P0._upper if hasattr(P0, "_upper") else P0.upper),
                                       w.fn(P0._lower if hasattr(P0, "_lower") else P0.lower),
                                       lower_hvp=w.fn(lambda x, y, v: H @ v),
                                       lower_cross=w.fn(lambda x, y, v: -B.T @ v))

    e.add("oracles turn NaN after k calls", nan_mid_run, FAIL, names=("upper", "lower", "x0", "y0"), fuzz=True)
    e.callbacks()
    return e


def _bilevel_common_entry():
    from numopt.solvers.bilevel import bilevel

    def base():
        P, _ = _bilevel_quadratic()
        return dict(problem=P, x0=np.zeros(3), y0=np.zeros(3))

    e = Entry("bilevel", base, lambda kw: bilevel(kw.pop("problem"), kw.pop("x0"), kw.pop("y0"), **kw),
              arrays=("x0", "y0"), callback=False)
    e.add("`method` unknown", lambda kw, p: kw.update(method="fuzz"), names=("method",))
    e.add("`problem` not a BilevelProblem", lambda kw, p: kw.update(problem=object()), names=("problem",))
    return e


def _hypergradient_entry():
    from numopt.solvers.bilevel import bilevel_hypergradient

    def base(H=None):
        P, info = _bilevel_quadratic(H)
        rng = np.random.default_rng(1)
        return dict(problem=P, x=rng.standard_normal(3), y=rng.standard_normal(3), _info=info)

    def call(kw):
        kw.pop("_info")
        return bilevel_hypergradient(kw.pop("problem"), kw.pop("x"), kw.pop("y"), **kw)

    def check(kw, out):
        hg = np.asarray(out[0], dtype=float)
        ref = kw["_info"]["hypergrad"](kw["x"], kw["y"])
        if not _finite(hg):
            return ["returned a non-finite hypergradient"]
        err = float(np.linalg.norm(hg - ref) / max(1e-12, np.linalg.norm(ref)))
        return [] if err <= 1e-6 else [f"returned a hypergradient with relative error {err:.3g}"]

    e = Entry("bilevel_hypergradient", base, call, check, arrays=("x", "y"), callback=False)
    for solver in ("cg", "exact", "neumann"):
        e.add(f"valid, linear_solver={solver!r}", lambda kw, p, s=solver: kw.update(
            linear_solver=s, **({"neumann_step": 0.2, "maxiter": 20000} if s == "neumann" else {})), HONEST)
    e.poison("x")
    e.poison("y")
    e.add("`y` wrong length", lambda kw, p: kw.update(y=np.zeros(4)), ANY, names=("y",))
    e.add("`linear_solver` unknown", lambda kw, p: kw.update(linear_solver="fuzz"), names=("linear_solver",))
    e.add("`tol` invalid", lambda kw, p: kw.update(tol=p.choice((-1.0, np.nan))), names=("tol",), fuzz=True)
    e.add("`maxiter` negative", lambda kw, p: kw.update(maxiter=-1), names=("maxiter",))
    e.add("`neumann_step` invalid", lambda kw, p: kw.update(linear_solver="neumann",
                                                           neumann_step=p.choice((-1.0, 0.0, np.nan))),
          names=("neumann_step",), fuzz=True)
    solver_errors = (ValueError, TypeError, RuntimeError, ArithmeticError, np.linalg.LinAlgError)
    indefinite = ("hessian", "positive definite", "indefinite", "curvature", "linear_solver", "lower")

    def indefinite_case(solver):
        def build(pick):
            kw = base(H=np.diag([2.0, -1.0, 3.0]))
            kw["linear_solver"] = solver
            return e.scenario(kw, ANY, indefinite, errors=solver_errors)
        return Case(e.name, f"indefinite lower Hessian, linear_solver={solver!r}", build)

    e.cases += [indefinite_case("cg"), indefinite_case("neumann")]
    e.add("Neumann series diverges", lambda kw, p: kw.update(linear_solver="neumann", neumann_step=2.0, maxiter=200),
          ANY, names=("neumann_step", "diverge", "diverges", "diverged", "neumann"), errors=solver_errors)

    def nan_lower(kw, p):
        P0 = kw["problem"]
        from numopt.solvers.bilevel import BilevelProblem

        w = NanAfter(0)
        kw["problem"] = BilevelProblem(P0.upper, w.fn(P0.lower), lower_hvp=w.fn(lambda x, y, v: kw["_info"]["H"] @ v),
                                       lower_cross=w.fn(lambda x, y, v: -kw["_info"]["B"].T @ v))

    e.add("lower-level oracles return NaN", nan_lower, ANY, names=("lower", "problem", "nan", "non-finite"),
          errors=solver_errors)
    return e


# ---------------------------------------------------------------- model_based

def _model_based_entry():
    from numopt.solvers.model_based import RobustRegression, model_based, moreau_gradient_norm

    def base():
        rng = np.random.default_rng(0)
        A = rng.standard_normal((40, 3))
        return dict(A=A, b=A @ np.array([1.0, -1.0, 0.5]), x0=np.zeros(3), maxiter=5, rng=0)

    def call(kw):
        return model_based(RobustRegression(kw.pop("A"), kw.pop("b")), kw.pop("x0"), **kw)

    def check(kw, res):
        P = RobustRegression(kw["A"], kw["b"])  # planted solution without outliers: F* = 0
        f0 = float(np.mean(np.abs(kw["b"])))
        F = float(np.mean(np.abs(kw["A"] @ np.asarray(res.x, float) - kw["b"])))
        bad = [] if F <= 1e-3 * f0 else [f"success=True at F = {F:.3g} (F* = 0, F(x0) = {f0:.3g})"]
        tol = kw.get("tol")
        if tol is not None:
            m = moreau_gradient_norm(P, np.asarray(res.x, float))
            m = float(m[0] if isinstance(m, tuple) else m)
            if not m <= 10 * tol:
                bad.append(f"success=True with Moreau-gradient norm {m:.3g} > tol {tol:g}")
        return bad

    e = Entry("model_based", base, call, check, arrays=("A", "b", "x0"))
    e.valid()
    for model in ("prox-linear", "prox-point", "subgradient"):
        e.add(f"model={model!r}, step 1e8", lambda kw, p, m=model: kw.update(model=m, step=1e8), HONEST)
    e.add("model='subgradient', step 1e8, tol=1e-6", lambda kw, p: kw.update(model="subgradient", step=1e8,
                                                                            tol=1e-6), HONEST)
    e.poison("x0")
    e.poison("A", names=("A", "problem"))
    e.poison("b", names=("b", "problem"))
    e.add("`x0` wrong length", lambda kw, p: kw.update(x0=np.zeros(4)), names=("x0",))
    e.add("`step` invalid", lambda kw, p: kw.update(step=p.choice((0.0, -1.0, np.nan, np.inf))), names=("step",),
          fuzz=True)
    e.add("`model` unknown", lambda kw, p: kw.update(model="fuzz"), names=("model",))
    e.add("`schedule` unknown", lambda kw, p: kw.update(schedule="fuzz"), names=("schedule",))
    e.add("`output` unknown", lambda kw, p: kw.update(output="fuzz"), names=("output",))
    e.add("`tol` invalid", lambda kw, p: kw.update(tol=p.choice((-1.0, np.nan))), names=("tol",), fuzz=True)
    e.add("`maxiter` negative", lambda kw, p: kw.update(maxiter=-1), names=("maxiter",))
    e.callbacks()
    return e


# ---------------------------------------------------------------- dca

def _dca_entry():
    from numopt.solvers.dca import dca

    rng = np.random.default_rng(3)
    M = rng.standard_normal((5, 5))
    A = (M + M.T) / 2
    bvec = rng.standard_normal(5)
    rho = float(np.linalg.eigvalsh(A)[-1]) + 1.0

    def proj(v):
        nv = np.linalg.norm(v)
        return v if nv <= 1 else v / nv

    def base():
        return dict(g_solve=lambda y: proj((y - bvec) / rho), h_subgrad=lambda x: rho * x - A @ x,
                    x0=np.full(5, 0.3), objective=lambda x: 0.5 * x @ A @ x + bvec @ x, tol=1e-10, maxiter=200)

    def call(kw):
        return dca(kw.pop("g_solve"), kw.pop("h_subgrad"), kw.pop("x0"), **kw)

    def check(kw, res):  # a DCA critical point of the trust-region problem: x = g_solve(h_subgrad(x))
        x = np.asarray(res.x, float)
        r = np.linalg.norm(proj((rho * x - A @ x - bvec) / rho) - x)
        bad = [] if np.linalg.norm(x) <= 1 + 1e-9 else ["success=True outside the unit ball"]
        return bad + ([] if r <= 1e-6 else [f"success=True with fixed-point residual {r:.3g}"])

    e = Entry("dca", base, call, check, arrays=("x0",))
    e.valid()
    e.poison("x0")
    e.add("`x0` wrong length", lambda kw, p: kw.update(x0=np.zeros(6), h_subgrad=shape_guard(kw["h_subgrad"], (5,)),
                                                      objective=shape_guard(kw["objective"], (5,))),
          ANY, names=("x0",))
    e.add("`x0` empty", lambda kw, p: kw.update(x0=np.zeros(0)), names=("x0",))
    e.add("`x0` complex", lambda kw, p: kw.update(x0=kw["x0"] + 1j), names=("x0",))
    e.add("`g_solve` not callable", lambda kw, p: kw.update(g_solve=None), names=("g_solve",))
    e.add("`select` unknown", lambda kw, p: kw.update(select="fuzz"), names=("select",))
    e.add("complete=True without `h_candidates`", lambda kw, p: kw.update(complete=True), names=("h_candidates",))
    e.add("`tol` invalid", lambda kw, p: kw.update(tol=p.choice((-1.0, np.nan))), names=("tol",), fuzz=True)
    e.add("`maxiter` negative", lambda kw, p: kw.update(maxiter=-1), names=("maxiter",))
    for which in ("g_solve", "h_subgrad", "objective"):
        def nan_mid_run(kw, p, which=which):
            w = NanAfter(p.integer(1, 6))
            kw[which], kw["_expect_after"] = w.fn(kw[which]), w.expect
        e.add(f"`{which}` turns NaN after k calls", nan_mid_run, FAIL, names=(which, "x0", "objective"), fuzz=True)
    e.callbacks()
    return e


# ---------------------------------------------------------------- fractional_cd

def _fractional_entry():
    from numopt.solvers.fractional_cd import fractional_cd

    def base():
        rng = np.random.default_rng(0)
        M, N = rng.standard_normal((6, 6)), rng.standard_normal((6, 12))
        return dict(A=M @ M.T / 6 + 0.1 * np.eye(6), B=N @ N.T / 12 + 0.5 * np.eye(6), x0=rng.uniform(-0.9, 0.9, 6),
                    maxiter=100, tol=1e-12)

    def call(kw):
        return fractional_cd(kw.pop("A"), kw.pop("B"), kw.pop("x0"), **kw)

    def check(kw, res):
        x = np.asarray(res.x, float)
        bad = []
        r = kw.get("radius", np.inf)
        if np.max(np.abs(x)) > r * (1 + 1e-12):
            bad.append("success=True outside the box")
        A, B, lam = kw["A"], kw["B"], kw.get("lam", 0.0)
        F = (0.5 * x @ A @ x + lam * np.abs(x).sum()) / (0.5 * x @ B @ x)
        if not abs(F - res.fun) <= 1e-8 * max(1.0, abs(F)):
            bad.append(f"success=True with fun {res.fun:.10g} but F(x) = {F:.10g}")
        return bad

    e = Entry("fractional_cd", base, call, check, arrays=("A", "B", "x0"))
    e.valid()
    e.add("lam=0.1, radius=1", lambda kw, p: kw.update(lam=0.1, radius=1.0), HONEST)
    e.poison("A")
    e.poison("B")
    e.poison("x0")
    e.add("`x0` wrong length", lambda kw, p: kw.update(x0=np.ones(7)), names=("x0", "A"))
    e.add("`A` complex", lambda kw, p: kw.update(A=kw["A"] + 0j), names=("A",))
    e.add("`x0` zero (denominator 0)", lambda kw, p: kw.update(x0=np.zeros(6)), names=("x0",))
    e.add("`A` not symmetric", lambda kw, p: kw.update(A=kw["A"] + np.triu(np.ones((6, 6)), 1)), names=("A",))
    e.add("`B` not positive definite", lambda kw, p: kw.update(B=-kw["B"]), names=("B", "denominator"))
    e.add("`lam` invalid", lambda kw, p: kw.update(lam=p.choice((-1.0, np.nan))), names=("lam",), fuzz=True)
    e.add("`radius` invalid", lambda kw, p: kw.update(radius=p.choice((0.0, -1.0, np.nan))), names=("radius",),
          fuzz=True)
    e.add("`alpha` non-finite", lambda kw, p: kw.update(alpha=p.bad()), names=("alpha",), fuzz=True)
    e.add("`selection` unknown", lambda kw, p: kw.update(selection="fuzz"), names=("selection",))
    e.add("`tol` invalid", lambda kw, p: kw.update(tol=p.choice((-1.0, np.nan))), names=("tol",), fuzz=True)
    e.add("`maxiter` negative", lambda kw, p: kw.update(maxiter=-1), names=("maxiter",))
    e.callbacks()
    return e


# ---------------------------------------------------------------- nmf_bcd_pr

def _nmf_entry():
    from numopt.solvers.nmf import nmf_bcd_pr

    def base(pick):
        rng = np.random.default_rng(pick.integer(0, 100))
        return dict(X=rng.random((pick.integer(4, 9), 2)) @ rng.random((2, pick.integer(3, 8))), rank=2,
                    maxiter=30, tol=1e-8, rng=0)

    def call(kw):
        return nmf_bcd_pr(kw.pop("X"), kw.pop("rank"), **kw)

    def check(kw, res):
        W, H = (np.asarray(m, float) for m in (res.W, res.H))
        bad = [] if _finite((W, H)) else ["success=True with non-finite W or H"]
        return bad + ([] if min(W.min(), H.min()) >= 0 else ["success=True with negative factors"])

    e = Entry("nmf_bcd_pr", base, call, check, arrays=("X", "W0", "H0"), sized=True)
    e.valid()
    e.poison("X")
    e.add("`X` negative entry", lambda kw, p: kw["X"].__setitem__(np.unravel_index(p.index(kw["X"].size),
                                                                                     kw["X"].shape), -1.0),
          names=("X",))
    e.add("`X` complex", lambda kw, p: kw.update(X=kw["X"] + 0j), names=("X",))
    e.add("`X` empty", lambda kw, p: kw.update(X=np.zeros((0, kw["X"].shape[1]))), names=("X",))
    e.add("`X` 1-D", lambda kw, p: kw.update(X=kw["X"][0]), names=("X",))
    e.add("`rank` invalid", lambda kw, p: kw.update(rank=p.choice((0, -1, 2.5))), names=("rank",), fuzz=True)
    e.add("`lam` invalid", lambda kw, p: kw.update(lam=p.choice((-1.0, np.nan))), names=("lam",), fuzz=True)
    e.add("`inner` unknown", lambda kw, p: kw.update(inner="fuzz"), names=("inner",))
    e.add("`W0` wrong shape", lambda kw, p: kw.update(W0=np.ones((kw["X"].shape[0], 3))), names=("W0",))
    e.add("`W0` negative", lambda kw, p: kw.update(W0=-np.ones((kw["X"].shape[0], 2))), names=("W0",))
    e.add("`H0` non-finite", lambda kw, p: kw.update(H0=poison(np.ones((2, kw["X"].shape[1])), p)), names=("H0",))
    e.add("`tol` invalid", lambda kw, p: kw.update(tol=p.choice((-1.0, np.nan))), names=("tol",), fuzz=True)
    e.add("`maxiter` negative", lambda kw, p: kw.update(maxiter=-1), names=("maxiter",))
    e.add("`backend` unknown", lambda kw, p: kw.update(backend="fuzz"), names=("backend",))
    e.callbacks()
    return e


# ---------------------------------------------------------------- sketch.solve

def _sketch_entry(method):
    from numopt import sketch

    def base(pick):
        m, n = pick.integer(12, 30), pick.integer(3, 6)
        A = np.random.default_rng(pick.integer(0, 100)).standard_normal((m, n))
        return dict(A=A, b=A @ np.arange(1.0, n + 1), method=method, tol=1e-8, maxiter=5000, rng=0,
                    **({"block_size": 4} if method != "kaczmarz" else {}))

    def call(kw):
        return sketch.solve(kw.pop("A"), kw.pop("b"), **kw)

    def check(kw, res):
        A, b = kw["A"], np.asarray(kw["b"], float)
        r = np.linalg.norm(A @ np.asarray(res.x, float) - b)
        tol = kw.get("tol", 1e-8)
        nb = np.linalg.norm(b)
        return [] if r <= 2 * tol * (nb if nb > 0 else 1.0) else [f"success=True with residual {r:.3g}"]

    e = Entry(f"sketch.solve[{method}]", base, call, check, arrays=("A", "b", "x0"), sized=True)
    e.valid()
    e.add("sparse `A`", lambda kw, p: kw.update(A=sp.csr_matrix(kw["A"])), HONEST)
    e.add("inconsistent system", lambda kw, p: kw.update(b=kw["b"] + np.random.default_rng(1).standard_normal(
        kw["b"].size), maxiter=200), FAIL, names=("b",))
    e.add("zero row in `A`", lambda kw, p: kw["A"].__setitem__(p.index(kw["A"].shape[0]), 0.0), ANY, names=("A",))
    e.add("`b` complex", lambda kw, p: kw.update(b=kw["b"] + 1j), names=("b",))
    e.poison("A")
    e.poison("b")
    e.add("`x0` non-finite", lambda kw, p: kw.update(x0=poison(np.zeros(kw["A"].shape[1]), p)), names=("x0",))
    e.add("`b` wrong length", lambda kw, p: kw.update(b=kw["b"][:-1]), names=("b", "A"))
    e.add("`x0` wrong length", lambda kw, p: kw.update(x0=np.zeros(kw["A"].shape[1] + 1)), names=("x0",))
    e.add("`A` empty", lambda kw, p: kw.update(A=np.zeros((0, kw["A"].shape[1])), b=np.zeros(0)), names=("A",))
    e.add("`tol` invalid", lambda kw, p: kw.update(tol=p.choice((-1.0, np.nan))), names=("tol",), fuzz=True)
    e.add("`maxiter` negative", lambda kw, p: kw.update(maxiter=-1), names=("maxiter",))
    e.add("`block_size` invalid", lambda kw, p: kw.update(block_size=p.choice((0, -2, 2.5))),
          names=("block_size",), fuzz=True)
    e.add("`check_every` invalid", lambda kw, p: kw.update(check_every=p.choice((0, -1))), names=("check_every",),
          fuzz=True)
    e.callbacks()
    return e


def _sketch_common_entry():
    from numopt import sketch

    def base():
        A = np.eye(3)
        return dict(A=A, b=np.ones(3))

    e = Entry("sketch.solve", base, lambda kw: sketch.solve(kw.pop("A"), kw.pop("b"), **kw), arrays=("A", "b"),
              callback=False)
    e.add("`method` unknown", lambda kw, p: kw.update(method="fuzz"), names=("method",))
    return e


# ---------------------------------------------------------------- sor

def _laplacian(n=10):
    return sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1], format="csr")


def _sor_entry(kernel):
    from numopt.sor import sor_solve

    def base(pick):
        n = pick.integer(4, 12)
        return dict(A=_laplacian(n), b=np.linspace(1.0, 2.0, n), omega=1.5, tol=1e-8, maxiter=2000, kernel=kernel)

    def call(kw):
        return sor_solve(kw.pop("A"), kw.pop("b"), kw.pop("omega"), **kw)

    def check(kw, res):
        A, b = kw["A"], np.asarray(kw["b"], float)
        r = np.linalg.norm(A @ np.asarray(res.x, float) - b)
        tol = kw.get("tol", 1e-8)
        nb = np.linalg.norm(b)
        return [] if r <= 2 * tol * (nb if nb > 0 else 1.0) else [f"success=True with residual {r:.3g}"]

    e = Entry(f"sor_solve[{kernel}]", base, call, check, arrays=("A", "b", "x0"), callback=False, sized=True)
    e.valid()
    if kernel != "numba":  # the numba kernel is for sparse A only
        e.add("dense `A`", lambda kw, p: kw.update(A=kw["A"].toarray()), HONEST)
    e.add("`omega` invalid", lambda kw, p: kw.update(omega=p.choice((0.0, 2.0, -1.0, 2.5, np.nan))),
          names=("omega",), fuzz=True)
    e.poison("A")
    e.poison("b")
    e.add("`x0` non-finite", lambda kw, p: kw.update(x0=poison(np.zeros(kw["b"].size), p)), names=("x0",))
    e.add("`b` wrong length", lambda kw, p: kw.update(b=kw["b"][:-1]), names=("b", "A"))
    e.add("`b` complex", lambda kw, p: kw.update(b=kw["b"] + 1j), names=("b",))
    e.add("`x0` wrong length", lambda kw, p: kw.update(x0=np.zeros(kw["b"].size + 1)), names=("x0",))
    e.add("`A` not square", lambda kw, p: kw.update(A=kw["A"][:, :-1]), names=("A",))
    e.add("`A` not symmetric", lambda kw, p: kw.update(A=(kw["A"] + sp.eye(kw["b"].size, k=2)).tocsr()), names=("A",))
    e.add("`A` zero diagonal entry", lambda kw, p: kw.update(A=(kw["A"] - 2 * sp.eye(kw["b"].size)).tocsr()),
          names=("A",))
    e.add("`A` negative definite", lambda kw, p: kw.update(A=-kw["A"], maxiter=200), FAIL, names=("A",))
    e.add("`tol` invalid", lambda kw, p: kw.update(tol=p.choice((-1.0, np.nan))), names=("tol",), fuzz=True)
    e.add("`maxiter` negative", lambda kw, p: kw.update(maxiter=-1), names=("maxiter",))
    e.add("`kernel` unknown", lambda kw, p: kw.update(kernel="fuzz"), names=("kernel",))
    return e


def _sor_bandit_entry():
    from numopt.sor import sor_bandit

    def base():
        return dict(systems=[(_laplacian(), np.ones(10)), (_laplacian(), np.linspace(0, 1, 10))], maxiter=200, rng=0)

    def call(kw):
        return sor_bandit(kw.pop("systems"), **kw)

    e = Entry("sor_bandit", base, call, arrays=("systems",), callback=False)
    e.valid()
    e.add("`omegas` outside (0, 2)",
          lambda kw, p: kw.update(omegas=np.array([0.5, p.choice((2.0, 0.0, -1.0, np.nan))])),
          names=("omegas",), fuzz=True)
    e.add("`systems` empty", lambda kw, p: kw.update(systems=[]), names=("systems",))
    e.add("`maxiter` negative", lambda kw, p: kw.update(maxiter=-1), names=("maxiter",))
    return e


# ---------------------------------------------------------------- prox and lmo objects

def _prox_entries():
    from numopt import prox as Px

    # (class, valid constructor kwargs, invalid constructor kwargs -> the parameter named)
    table = [
        (Px.L1, {"lam": 0.5}, [({"lam": -1.0}, "lam"), ({"lam": np.nan}, "lam"),
                               ({"lam": 1.0, "weights": -np.ones(6)}, "weights")]),
        (Px.SquaredL2, {"lam": 0.5}, [({"lam": -1.0}, "lam"), ({"lam": np.nan}, "lam")]),
        (Px.ElasticNet, {"lam": 0.5, "l1_ratio": 0.5}, [({"lam": -1.0}, "lam"), ({"l1_ratio": 1.5}, "l1_ratio"),
                                                         ({"l1_ratio": np.nan}, "l1_ratio")]),
        (Px.GroupLasso, {"lam": 0.5, "groups": 2}, [({"lam": -1.0}, "lam"), ({"groups": 0}, "groups"),
                                                     ({"groups": 2, "weights": -np.ones(3)}, "weights")]),
        (Px.Box, {"lower": -1.0, "upper": 1.0}, [({"lower": 1.0, "upper": 0.0}, ("lower", "upper")),
                                                 ({"lower": np.nan, "upper": 1.0}, "lower")]),
        (Px.L1Ball, {"radius": 1.0}, [({"radius": -1.0}, "radius"), ({"radius": np.nan}, "radius")]),
        (Px.Simplex, {"radius": 1.0}, [({"radius": -1.0}, "radius"), ({"radius": np.nan}, "radius")]),
        (Px.NonNegative, {}, []),
        (Px.NuclearNorm, {"lam": 0.5}, [({"lam": -1.0}, "lam"), ({"lam": np.nan}, "lam")]),
    ]
    out = []
    for cls, good, bad in table:
        shape = (3, 2) if cls is Px.NuclearNorm else (6,)

        def base(cls=cls, good=good, shape=shape):
            return dict(cls=cls, params=dict(good), x=np.linspace(-1.5, 2.0, int(np.prod(shape))).reshape(shape),
                        step=0.5)

        def call(kw):
            return kw["cls"](**kw["params"]).prox(kw["x"], kw["step"])

        def check(kw, out):
            y = np.asarray(out)
            if y.shape != np.shape(kw["x"]):
                return [f"prox returned shape {y.shape} for x of shape {np.shape(kw['x'])}"]
            if _finite(kw["x"]) and not _finite(y):
                return ["prox of a finite point is not finite"]
            if np.isnan(kw["x"]).any() and _finite(y):  # (an infinite entry may have a finite projection)
                return ["prox of a point with NaN returned a finite point (silently)"]
            return []

        e = Entry(f"prox.{cls.__name__}", base, call, check, arrays=("x", "params"), callback=False)
        e.valid()
        e.add("step 0 (identity or projection)", lambda kw, p: kw.update(step=0.0), HONEST)
        e.add("`step` invalid", lambda kw, p: kw.update(step=p.choice((-1.0, np.nan, np.inf))), names=("step",),
              fuzz=True)
        e.add("`x` non-finite", lambda kw, p: kw.update(x=poison(kw["x"], p)), ANY, names=("x",), fuzz=True)
        for params, name in bad:
            names = name if isinstance(name, tuple) else (name,)
            e.add(f"constructor {', '.join(f'{k}={_fmt(v)}' for k, v in params.items())}",
                  lambda kw, p, params=params: kw["params"].update(params), names=names)
        out.append(e)
    return out


def _fmt(v):
    if isinstance(v, np.ndarray):
        return f"array({_fmt(v.flat[0])}, ...)"
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return repr(v)


def _lmo_entries():
    from numopt import lmo as L

    table = [
        (L.Simplex, {"radius": 1.0}, (6,), [({"radius": -1.0}, "radius"), ({"radius": np.nan}, "radius")]),
        (L.UnitSimplex, {"radius": 1.0}, (6,), [({"radius": -1.0}, "radius")]),
        (L.L1Ball, {"radius": 1.0}, (6,), [({"radius": -1.0}, "radius"), ({"radius": np.inf}, "radius")]),
        (L.LpBall, {"p": 3.0, "radius": 1.0}, (6,), [({"p": 0.5}, "p"), ({"p": np.nan}, "p"),
                                                     ({"radius": -1.0}, "radius")]),
        (L.Box, {"lower": -1.0, "upper": 1.0}, (6,), [({"lower": 1.0, "upper": 0.0}, ("lower", "upper")),
                                                      ({"lower": -np.inf, "upper": 1.0}, "lower")]),
        (L.KSparse, {"K": 2, "radius": 1.0}, (6,), [({"K": 0}, "K"), ({"K": 2.5}, "K"), ({"radius": -1.0}, "radius")]),
        (L.NuclearNormBall, {"radius": 1.0}, (3, 2), [({"radius": -1.0}, "radius")]),
        (L.Spectrahedron, {"radius": 1.0}, (3, 3), [({"radius": -1.0}, "radius")]),
        (L.Birkhoff, {}, (3, 3), []),
    ]
    out = []
    for cls, good, shape, bad in table:
        def base(cls=cls, good=good, shape=shape):
            d = np.linspace(-1.0, 1.3, int(np.prod(shape))).reshape(shape)
            if len(shape) == 2 and shape[0] == shape[1]:
                d = d + d.T
            return dict(cls=cls, params=dict(good), direction=d)

        def call(kw):
            return kw["cls"](**kw["params"]).lmo(kw["direction"])

        def check(kw, s):
            s = np.asarray(s)
            if s.shape != np.shape(kw["direction"]):
                return [f"lmo returned shape {s.shape} for a direction of shape {np.shape(kw['direction'])}"]
            return [] if _finite(s) else ["lmo returned a non-finite vertex"]

        e = Entry(f"lmo.{cls.__name__}", base, call, check, arrays=("direction", "params"), callback=False)
        e.valid()
        e.add("`direction` non-finite", lambda kw, p: kw.update(direction=poison(kw["direction"], p)),
              names=("direction",), fuzz=True)
        e.add("`direction` empty", lambda kw, p: kw.update(direction=np.zeros((0,) * len(np.shape(kw["direction"])))),
              names=("direction",))
        for params, name in bad:
            names = name if isinstance(name, tuple) else (name,)
            e.add(f"constructor {', '.join(f'{k}={_fmt(v)}' for k, v in params.items())}",
                  lambda kw, p, params=params: kw["params"].update(params), names=names)
        out.append(e)
    return out


# ---------------------------------------------------------------- problems.get, libsvm.load

def _problems_entry():
    import problems

    def base():
        return dict(name="synthetic/quadratic", n=5)

    def call(kw):
        return problems.get(kw.pop("name"), **kw)

    def check(kw, P):
        x0 = getattr(P, "x0", None)
        return [] if x0 is None or _finite(x0) else ["a problem with a non-finite start"]

    e = Entry("problems.get", base, call, check, callback=False)
    e.valid()
    e.add("unknown family", lambda kw, p: kw.update(name="fuzz/quadratic"), names=("name", "family"))
    e.add("unknown instance", lambda kw, p: kw.update(name="synthetic/fuzz"), names=("name", "fuzz", "problem"))
    e.add("name not a string", lambda kw, p: kw.update(name=3), names=("name",))
    e.add("unknown parameter", lambda kw, p: kw.update(fuzz_bogus=1), names=("fuzz_bogus",))
    e.add("`n` invalid", lambda kw, p: kw.update(n=p.choice((0, -1, 2.5))), names=("n",), fuzz=True)
    e.add("`cond` invalid", lambda kw, p: kw.update(cond=p.choice((-1.0, 0.5, np.nan))), names=("cond",), fuzz=True)
    e.add("sparse_regression `lam_ratio` invalid",
          lambda kw, p: kw.update(name="synthetic/sparse_regression", n=10, p=5, k=2,
                                  lam_ratio=p.choice((-1.0, np.nan))), names=("lam_ratio",), fuzz=True)
    e.add("ot/point_clouds `n` invalid", lambda kw, p: kw.update(name="ot/point_clouds", n=p.choice((0, -3))),
          names=("n",), fuzz=True)
    return e


SMALL_LIBSVM = b"1 1:0.5 3:-1\n-1 2:2.0\n1 1:1 2:1 3:1\n"


def _libsvm_entry():
    from problems import libsvm

    LINE = ("file", "line", "path", "name_or_path")

    def base():
        return dict(content=SMALL_LIBSVM, suffix="")

    def call(kw):
        d = tempfile.mkdtemp(prefix="numopt-fuzz-")
        path = Path(d) / ("fuzz.txt" + kw.pop("suffix"))
        content = kw.pop("content")
        if kw.pop("xz", False):
            content = lzma.compress(content)
        path.write_bytes(content)
        try:
            return libsvm.load(path, **kw)
        finally:
            path.unlink()
            os.rmdir(d)

    def check(kw, out):
        X, y = out
        bad = []
        if X.shape[0] == 0 or X.shape[0] != len(y):
            bad.append(f"returned X of shape {X.shape} with {len(y)} labels")
        if not (_finite(X) and _finite(y)):
            bad.append("returned non-finite data")
        return bad

    e = Entry("libsvm.load", base, call, check, callback=False)
    e.valid()
    e.add(".xz file", lambda kw, p: kw.update(suffix=".xz", xz=True), HONEST)
    e.add("empty file", lambda kw, p: kw.update(content=b""), names=LINE + ("empty",))
    e.add("comment-only file", lambda kw, p: kw.update(content=b"# nothing here\n# still nothing\n"),
          names=LINE + ("empty",))
    e.add("non-finite value", lambda kw, p: kw.update(content=b"1 1:0.5 2:%s\n-1 1:1\n" % p.choice(
        (b"nan", b"inf", b"-inf"))), names=LINE + ("value",), fuzz=True)
    e.add("non-finite label", lambda kw, p: kw.update(content=b"%s 1:0.5\n-1 1:1\n" % p.choice(
        (b"nan", b"inf"))), names=LINE + ("label",), fuzz=True)
    e.add("feature index 1e8", lambda kw, p: kw.update(content=b"1 1:0.5 100000000:1\n-1 1:1\n"),
          names=LINE + ("index", "n_features"))
    e.add("feature index 2^31", lambda kw, p: kw.update(content=b"1 1:0.5 2147483648:1\n-1 1:1\n"),
          names=LINE + ("index", "n_features"))
    e.add("feature index 0", lambda kw, p: kw.update(content=b"1 0:0.5\n-1 1:1\n"), names=LINE + ("index",))
    e.add("negative feature index", lambda kw, p: kw.update(content=b"1 -2:0.5\n-1 1:1\n"), names=LINE + ("index",))
    e.add("malformed token", lambda kw, p: kw.update(content=b"1 1:0.5 3:abc\n"), names=LINE + ("malformed",))
    e.add("corrupt .xz", lambda kw, p: kw.update(suffix=".xz", content=b"\xfd7zXZ\x00garbage"), names=LINE + ("xz",))
    e.add("`n_features` below the largest index", lambda kw, p: kw.update(n_features=2), names=("n_features",))
    e.add("`n_features` invalid", lambda kw, p: kw.update(n_features=p.choice((0, -1, 2.5))), names=("n_features",),
          fuzz=True)
    return e


# ============================================================================ the table

def build_entries():
    entries = [_minimize_entry(m) for m in numopt.list_methods(kind="minimize")]
    entries += [_bcd_entry(), _fw_entry(), _sinkhorn_common_entry()]
    entries += [_sinkhorn_entry(m) for m in ("sinkhorn", "sinkhorn_log", "sinkhorn_epsilon_scaling", "sns")]
    entries += [_mirror_entry(), _bilevel_common_entry()]
    entries += [_bilevel_entry(m) for m in BILEVEL_METHODS]
    entries += [_hypergradient_entry(), _model_based_entry(), _dca_entry(), _fractional_entry(), _nmf_entry(),
                _sketch_common_entry()]
    entries += [_sketch_entry(m) for m in ("kaczmarz", "block_kaczmarz", "gaussian", "countsketch")]
    entries += [_sor_entry(k) for k in ("numba", "scipy")] + [_sor_bandit_entry()]
    entries += _prox_entries() + _lmo_entries()
    entries += [_problems_entry(), _libsvm_entry()]
    return entries


ENTRIES = build_entries()
CASES = [c for e in ENTRIES for c in e.cases]


def expected_text(case):
    sc = case.build(Pick())
    if sc.cleanup is not None:
        sc.cleanup()
    names = "/".join(f"`{n}`" for n in sc.names)
    return EXPECT_TEXT[sc.expect].format(names=names)


def run_all(cases=CASES, progress=None):
    rows = []
    for c in cases:
        out = run_case(c)
        rows.append((c, out))
        if progress:
            progress(c, out)
    return rows


def markdown(rows):
    n_fail = sum(not o.ok for _, o in rows)
    lines = ["# Reliability: the fuzz contract", "",
             f"Generated by `{COMMAND}` (do not edit by hand). Every public entry point runs on a small valid",
             "instance and on corrupted versions of it (NaN/inf inputs, wrong shapes, empty arrays, wrong dtypes,",
             "invalid parameters, unknown options, objectives that turn NaN mid-run, callbacks that raise). The",
             "contract for each case:", "",
             "- bad input: a `ValueError`/`TypeError` whose message names the argument;",
             "- trouble during the run (an objective turning NaN, an inconsistent system): that, or",
             "  `success=False` with a nonzero status (2 = non-finite value);",
             "- `success=True` only with a finite `x`/`fun`/`optimality` that passes the entry point's",
             "  certificate, recomputed here (feasibility, residual, marginal error, duality or Frank-Wolfe gap,",
             "  a known optimum);",
             "- a callback raising `StopIteration` stops the run with status 99; any other exception a callback",
             "  raises propagates unchanged, as in `scipy.optimize` (the solver neither swallows it nor turns it",
             "  into a status);",
             "- the caller's arrays are never mutated and no call hangs "
             f"(hard limit {TIME_LIMIT:g} s per case).", "",
             "`tests/test_fuzz_contract.py` runs the same cases (`docs/reliability.py` holds the table), drawing",
             "the position and value of the corruptions with hypothesis; this page shows one representative draw.",
             "",
             f"**{len(rows) - n_fail} of {len(rows)} cases pass; {n_fail} fail.**", "",
             "## Summary", "", "| entry point | cases | pass | failing cases |", "|---|---|---|---|"]
    by_entry = {}
    for c, o in rows:
        by_entry.setdefault(c.entry, []).append((c, o))
    for entry, items in by_entry.items():
        fails = [c.name for c, o in items if not o.ok]
        lines.append(f"| `{entry}` | {len(items)} | {len(items) - len(fails)} | "
                     f"{'; '.join(fails) if fails else '-'} |")
    lines += ["", "## Cases", ""]
    for entry, items in by_entry.items():
        lines += [f"### `{entry}`", "", "| case | expected | outcome |", "|---|---|---|"]
        for c, o in items:
            lines.append(f"| {c.name} | {expected_text(c)} | {'' if o.ok else '**'}{o.summary}{'' if o.ok else '**'} |")
        lines.append("")
    return "\n".join(lines)


def documented_cases(text):
    """(entry, case) pairs listed in a reliability.md text (for the sync test)."""
    out, entry = [], None
    for line in text.splitlines():
        m = re.match(r"### `(.+)`$", line)
        if m:
            entry = m.group(1)
        elif entry and line.startswith("| ") and not line.startswith("| case |"):
            out.append((entry, line[2:].split(" | ")[0]))
    return out


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--failing", action="store_true", help="print the failing cases only; do not write the page")
    ap.add_argument("-k", default="", help="only cases whose id contains this text (implies --failing)")
    args = ap.parse_args(argv)
    import faulthandler

    faulthandler.dump_traceback_later(30 * TIME_LIMIT, exit=True)  # a hang in compiled code: give up loudly
    cases = [c for c in CASES if args.k in c.id]
    t0 = time.perf_counter()

    def progress(c, o):
        if not o.ok:
            print(f"{c.id}: {o.summary}", flush=True)

    rows = run_all(cases, progress)
    print(f"{sum(o.ok for _, o in rows)}/{len(rows)} cases pass ({time.perf_counter() - t0:.1f} s)")
    if not args.failing and not args.k:
        OUT.write_text(markdown(rows))
        print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
