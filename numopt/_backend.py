"""Array backend: the array namespace of the inputs decides where work happens.

Generic code calls :func:`get_namespace` once at the top and then only uses the
returned namespace ``xp`` (the array API standard). numpy is the default; cupy
arrays keep the work on the GPU; ``array_api_strict`` is used in the tests to
catch numpy-only code. Nothing here imports cupy.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["get_namespace", "backend_name", "is_numpy", "to_numpy", "asarray_float", "vdot",
           "norm", "is_finite_array", "maximum_scalar"]


def get_namespace(*arrays):
    """Return the array-API namespace of ``arrays`` (numpy for plain Python input)."""
    import array_api_compat

    arrs = [a for a in arrays if a is not None and not isinstance(a, (int, float, complex))]
    if not arrs:
        return array_api_compat.array_namespace(np.empty(0))
    return array_api_compat.array_namespace(*arrs)


def backend_name(xp) -> str:
    """The short name of an array namespace: 'numpy', 'cupy', 'array_api_strict', ..."""
    import array_api_compat

    if array_api_compat.is_numpy_namespace(xp):
        return "numpy"
    if array_api_compat.is_cupy_namespace(xp):
        return "cupy"
    name = getattr(xp, "__name__", str(xp))
    return name.split(".")[-1] if name.startswith("array_api_compat.") else name.split(".")[0]


def is_numpy(xp) -> bool:
    """True when ``xp`` is (the compat wrapper of) numpy."""
    import array_api_compat

    return array_api_compat.is_numpy_namespace(xp)


def to_numpy(x):
    """Copy ``x`` to a numpy array (host memory), whatever its namespace."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "get"):  # cupy
        return x.get()
    try:
        return np.asarray(x)
    except Exception:  # array_api_strict refuses __array__ on some versions
        import array_api_compat

        return np.asarray(array_api_compat.to_device(x, "cpu"))


def asarray_float(x, xp=None, name="x0"):
    """Validate and convert ``x`` to a floating array of its namespace.

    Integer input is promoted to float64; floating dtypes are preserved.
    Raises ``ValueError`` naming ``name`` for NaN/inf entries or a ragged list, and
    ``TypeError`` for a non-real dtype.
    """
    if xp is None:
        xp = get_namespace(x) if hasattr(x, "__array_namespace__") or isinstance(x, np.ndarray) else get_namespace()
    try:
        x = xp.asarray(x)
    except (TypeError, ValueError) as e:
        raise ValueError(f"`{name}` must be an array (or list / scalar) of real numbers with a regular "
                         f"shape: {e}") from e
    if not xp.isdtype(x.dtype, "real floating"):
        if xp.isdtype(x.dtype, ("integral", "bool")):
            x = xp.astype(x, xp.float64)
        else:
            raise TypeError(f"`{name}` must be a real floating array, got dtype {x.dtype}")
    if not bool(xp.all(xp.isfinite(x))):
        raise ValueError(f"`{name}` contains NaN or inf entries")
    return x


def vdot(a, b, xp=None) -> float:
    """Inner product of two arrays of any shape, as a Python float."""
    xp = xp or get_namespace(a, b)
    return float(xp.sum(a * b))


def norm(a, xp=None) -> float:
    """Euclidean (Frobenius) norm as a Python float."""
    xp = xp or get_namespace(a)
    return math.sqrt(float(xp.sum(a * a)))


def is_finite_array(a, xp=None) -> bool:
    xp = xp or get_namespace(a)
    return bool(xp.all(xp.isfinite(a)))


def maximum_scalar(a, xp=None) -> float:
    xp = xp or get_namespace(a)
    return float(xp.max(a))
