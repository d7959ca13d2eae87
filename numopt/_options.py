"""Typed method options: one :class:`Option` schema, checked once in the front door.

A method declares its options as ``{"name": Option(default, doc, check)}``. The front
door (:func:`numopt._registry.resolve_options`) merges the user's options with the
defaults, maps old spellings (``aliases``) to the current name, refuses unknown names
with a did-you-mean hint, and runs each check on the value the user passed, so solvers
read validated values and need no ``check_scalar`` calls of their own.

Checks are small callables ``check(name, value) -> value`` that raise a ValueError or
TypeError naming the option; they also describe themselves (``str(check)``) for
:func:`numopt.show_options` and the generated method pages.
"""
from __future__ import annotations

import math
import numbers

__all__ = ["Option", "Interval", "FiniteInterval", "Choices", "Flag", "IsCallable", "NoneOr", "Any_", "Seed",
           "generator",
           "as_option", "GLOSSARY"]


class Option:
    """One method option: its default, one line of documentation, a check and the
    old spellings it is still reachable by."""

    __slots__ = ("default", "doc", "check", "aliases")

    def __init__(self, default, doc, check=None, aliases=()):
        self.default, self.doc, self.check = default, doc, check
        self.aliases = tuple(aliases)

    def validate(self, name, value):
        return value if self.check is None else self.check(name, value)

    def describe(self):
        return "" if self.check is None else str(self.check)

    # The registry used ``(default, doc)`` tuples; unpacking an Option still works.
    def __iter__(self):
        return iter((self.default, self.doc))

    def __getitem__(self, i):
        return (self.default, self.doc)[i]

    def __repr__(self):
        return f"Option({self.default!r}, {self.doc!r}, {self.check!r})"


def as_option(v):
    """An Option from an Option or a legacy ``(default, doc)`` tuple."""
    if isinstance(v, Option):
        return v
    default, doc = v
    return Option(default, doc)


def _is_real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool) or (
        hasattr(v, "dtype") and getattr(v, "shape", None) == () and v.dtype.kind in "iuf")


class Interval:
    """A real (or integer) number in an interval; ``open`` names the open ends."""

    def __init__(self, lo=None, hi=None, *, open=(), integer=False):
        self.lo, self.hi, self.open, self.integer = lo, hi, tuple(open), integer

    def __call__(self, name, value):
        if self.integer:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                if isinstance(value, float) and value.is_integer() and math.isfinite(value):
                    value = int(value)
                else:
                    raise TypeError(f"option `{name}` must be an integer, got {value!r}")
            value = int(value)
        else:
            if not _is_real(value):
                raise TypeError(f"option `{name}` must be a real number, got {type(value).__name__}")
            value = float(value)
            if math.isnan(value):
                raise ValueError(f"option `{name}` must not be NaN")
        lo_ok = self.lo is None or (value > self.lo if "lo" in self.open else value >= self.lo)
        hi_ok = self.hi is None or (value < self.hi if "hi" in self.open else value <= self.hi)
        if not (lo_ok and hi_ok):
            raise ValueError(f"option `{name}` must be {self}, got {value!r}")
        return value

    def __str__(self):
        kind = "integer" if self.integer else "number"
        lo = "-inf" if self.lo is None else repr(self.lo)
        hi = "inf" if self.hi is None else repr(self.hi)
        lb = "(" if self.lo is None or "lo" in self.open else "["
        rb = ")" if self.hi is None or "hi" in self.open else "]"
        return f"{kind} in {lb}{lo}, {hi}{rb}"

    __repr__ = __str__


class FiniteInterval(Interval):
    """An :class:`Interval` that also refuses +-inf."""

    def __call__(self, name, value):
        value = super().__call__(name, value)
        if not math.isfinite(value):
            raise ValueError(f"option `{name}` must be finite, got {value!r}")
        return value

    def __str__(self):
        return "finite " + super().__str__()

    __repr__ = __str__


class Choices:
    """One of a fixed set of values (strings compared case-insensitively)."""

    def __init__(self, *values):
        self.values = values

    def __call__(self, name, value):
        for v in self.values:
            if v is value or (type(v) is type(value) and v == value):
                return v
            if isinstance(v, str) and isinstance(value, str) and v.lower() == value.lower():
                return v
        raise ValueError(f"option `{name}` must be one of {', '.join(map(repr, self.values))}, "
                         f"got {value!r}")

    def __str__(self):
        return "one of " + ", ".join(map(repr, self.values))

    __repr__ = __str__


class Flag:
    """A boolean (numpy bools accepted)."""

    def __call__(self, name, value):
        if isinstance(value, bool) or (type(value).__module__ == "numpy"
                                       and type(value).__name__ in ("bool", "bool_")):
            return bool(value)
        raise TypeError(f"option `{name}` must be True or False, got {value!r}")

    def __str__(self):
        return "True or False"

    __repr__ = __str__


class IsCallable:
    """A callable."""

    def __call__(self, name, value):
        if not callable(value):
            raise TypeError(f"option `{name}` must be callable, got {type(value).__name__}")
        return value

    def __str__(self):
        return "a callable"

    __repr__ = __str__


class NoneOr:
    """None or whatever ``check`` accepts."""

    def __init__(self, check):
        self.check = check

    def __call__(self, name, value):
        return None if value is None else self.check(name, value)

    def __str__(self):
        return f"None or {self.check}"

    __repr__ = __str__


class Any_:
    """Any of several checks (the first that accepts the value wins)."""

    def __init__(self, *checks):
        self.checks = checks

    def __call__(self, name, value):
        errors = []
        for c in self.checks:
            try:
                return c(name, value)
            except (TypeError, ValueError) as e:
                errors.append(e)
        raise (errors[-1] if len(errors) == 1 else
               ValueError(f"option `{name}` must be {self}, got {value!r}"))

    def __str__(self):
        return " or ".join(map(str, self.checks))

    __repr__ = __str__


class Seed:
    """The ``rng`` option: None (a fixed seed, so runs are reproducible), a nonnegative
    integer seed, or a ``numpy.random.Generator`` / ``BitGenerator`` / ``SeedSequence``."""

    def __call__(self, name, value):
        import numpy as np

        if value is None or isinstance(value, (np.random.Generator, np.random.BitGenerator,
                                               np.random.SeedSequence)):
            return value
        if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
            if value < 0:
                raise ValueError(f"option `{name}` must be a nonnegative seed, got {value!r}")
            return int(value)
        raise TypeError(f"option `{name}` must be None, a nonnegative integer seed or a "
                        f"numpy.random.Generator, got {type(value).__name__}")

    def __str__(self):
        return "None, a seed >= 0 or a numpy.random.Generator"

    __repr__ = __str__


def generator(seed):
    """The run's ``numpy.random.Generator`` from an ``rng`` option: the caller's seed or
    Generator, and for None the fixed seed 0, so that a default run is reproducible."""
    import numpy as np

    return np.random.default_rng(0 if seed is None else seed)


class Verbosity:
    """The ``disp`` option: False (nothing), True (a tqdm progress bar on stderr) or an integer
    k >= 1 (a progress line every k iterations)."""

    def __call__(self, name, value):
        if isinstance(value, bool) or (type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")):
            return bool(value)
        return Interval(1, integer=True)(name, value)

    def __str__(self):
        return "True, False or an integer >= 1"

    __repr__ = __str__


# One glossary of option names across families: the name used everywhere, and the
# old spellings kept as aliases where a family used another word for the same thing.
GLOSSARY = {
    "maxiter": "Maximum number of iterations (outer iterations for nested methods).",
    "max_time": "Wall-clock limit in seconds.",
    "tol": "Tolerance on the method's documented optimality measure.",
    "trace": "Record the per-iteration trace.",
    "disp": "Progress: True a tqdm bar on stderr, an integer k a line every k iterations, False nothing.",
    "rng": "numpy.random.Generator or seed; None means a fixed seed (runs are reproducible).",
    "L": "Lipschitz constant of the gradient (alias: `lipschitz`).",
    "mu": "Strong convexity modulus.",
    "step": "Step size (a number, or a rule where the method says so).",
    "eta": "Backtracking factor by which L grows (> 1).",
    "restart": "Adaptive restart rule of an accelerated method.",
    "kernel": "Implementation of the hot loop: 'auto', 'numba' or 'numpy' (alias: `backend`).",
    "inner_maxiter": "Iterations of an inner solver (several families called this `inner`).",
    "inner_tol": "Tolerance of an inner solver.",
    "check_every": "Evaluate the (costly) optimality measure every this many iterations.",
}
