"""Shared by the problem families: name lookup (unknown names get close suggestions) and
the checks of numeric parameters (finite, sign, integer), each error naming the parameter."""
from __future__ import annotations

import difflib


def lookup(table, name, kind):
    """``table[name]``, or a ValueError naming close matches and the known names."""
    if name in table:
        return table[name]
    close = difflib.get_close_matches(name, table, n=3)
    raise ValueError(f"unknown {kind} {name!r}" + (f"; did you mean {', '.join(map(repr, close))}?" if close else "")
                     + f" Known: {', '.join(sorted(table))}")


def check_int(value, name, lower=None, upper=None):
    """An integer parameter (``bool`` and floats such as 2.5 or 3.0 refused) within
    ``[lower, upper]``; a ``TypeError``/``ValueError`` naming ``name``."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {value!r}")
    if lower is not None and value < lower:
        raise ValueError(f"`{name}` must be >= {lower}, got {value!r}")
    if upper is not None and value > upper:
        raise ValueError(f"`{name}` must be <= {upper}, got {value!r}")
    return int(value)


def check_real(value, name, lower=None, upper=None, *, lower_open=False, upper_open=False):
    """A finite real parameter within its bounds (``lower_open``: strictly above
    ``lower``; ``upper_open``: strictly below ``upper``); a ``TypeError``/``ValueError``
    naming ``name``."""
    import math
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be finite, got {value!r}")
    if lower is not None and (value <= lower if lower_open else value < lower):
        raise ValueError(f"`{name}` must be {'>' if lower_open else '>='} {lower}, got {value!r}")
    if upper is not None and (value >= upper if upper_open else value > upper):
        raise ValueError(f"`{name}` must be {'<' if upper_open else '<='} {upper}, got {value!r}")
    return float(value)


def check_seed(seed, name="seed"):
    """``None``, an integer >= 0, or a ``numpy.random.Generator`` / ``SeedSequence``."""
    import numpy as np

    if seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence)):
        return seed
    return check_int(seed, name, lower=0)


def check_bool(value, name):
    """A boolean flag (``numpy.bool_`` accepted)."""
    import numpy as np

    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False, got {value!r}")
    return bool(value)
