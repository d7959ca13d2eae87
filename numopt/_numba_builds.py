"""Serial and threaded numba builds of one kernel (shared by the datafit and BCD kernels)."""
from __future__ import annotations

import types

from numba import njit


def two_builds(fn):
    """(serial, threaded) numba builds of ``fn``; ``prange`` is ``range`` in the serial one.
    The threaded build compiles a copy named ``<name>_threaded``: numba's on-disk cache keys
    a function by its qualified name and bytecode, not by its compile flags, so two builds of
    one function would overwrite each other's cache entries."""
    twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_threaded", fn.__defaults__,
                              fn.__closure__)
    twin.__qualname__ = fn.__qualname__ + "_threaded"
    twin.__doc__ = fn.__doc__
    return njit(cache=True)(fn), njit(cache=True, parallel=True)(twin)
