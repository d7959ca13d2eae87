"""The front door of the ``linear_system`` kind: :func:`solve_linear` for ``A x = b``.

Every linear-system method (the sketch-and-project family of
:mod:`numopt.solvers.sketch`, SOR of :mod:`numopt.solvers.sor`) is a registry entry
with ``kind="linear_system"``; this module validates the system once
(:class:`LinearSystem`), checks the options with the method's ``Option`` table and
runs the method's generator through the shared loop (``run_method``).

One result contract: ``x`` (the dtype of the inputs: float32 when ``A``, ``b`` and
``x0`` are float32, else float64), ``fun`` = ``||A x - b||`` (the residual norm),
``optimality`` = ``||A x - b|| / ||b||`` (the relative residual; ``||A x - b||``
when ``b = 0``), which ``tol`` is compared with, ``nit`` (the method's own
iterations: row/block projections or SOR sweeps), ``status``, ``success``,
``message``, ``trace`` (one row per residual test) and ``method``.
"""
from __future__ import annotations

import numpy as np

# Exported as numopt.<name> (lazily; numopt/__init__.py reads this tuple without importing the module).
__numopt_public__ = ('solve_linear',)
__all__ = ["solve_linear", "LinearSystem", "OPTIMALITY"]

OPTIMALITY = ("relative residual ||A x - b|| / ||b|| (||A x - b|| when b = 0); the result's `fun` is "
              "the residual norm ||A x - b||")


def _real_dtype(name, dt):
    if not (np.issubdtype(dt, np.floating) or np.issubdtype(dt, np.integer)):
        raise TypeError(f"`{name}` must be a real numeric array, got dtype {dt}")


def _as_array(name, v):
    if isinstance(v, np.ndarray):
        return v
    try:
        return np.asarray(v)
    except (TypeError, ValueError) as e:
        raise ValueError(f"`{name}` must be an array of real numbers with a regular shape: {e}") from e


class LinearSystem:
    """A validated system ``A x = b``: what every ``linear_system`` method receives.

    ``A``: a dense 2-D numpy array or a ``scipy.sparse`` CSR array in canonical form
    (duplicates summed, indices sorted; the caller's matrix is never modified, and
    shared when it is already canonical CSR of the right dtype); ``b``: 1-D, C
    contiguous; ``dtype``: float32 when ``A``, ``b`` (and ``x0``) are float32, else
    float64, and ``A``/``b`` are converted to it; ``bnorm``: ``||b||``. ``cache``
    holds what a method derives once from the system (SOR's diagonal and symmetry
    check), so a sequence of solves on one system pays for it once.
    """

    __slots__ = ("A", "b", "m", "n", "sparse", "dtype", "bnorm", "cache")

    def __init__(self, A, b, x0=None):
        import scipy.sparse as sp

        sparse = sp.issparse(A)
        if not sparse:
            A = _as_array("A", A)
        _real_dtype("A", A.dtype)
        b = _as_array("b", b)
        _real_dtype("b", b.dtype)
        if x0 is not None:
            x0 = _as_array("x0", x0)
            _real_dtype("x0", x0.dtype)
        if A.ndim != 2:
            raise ValueError(f"`A` must be a 2-D matrix, got shape {A.shape}")
        m, n = A.shape
        if m == 0 or n == 0:
            raise ValueError(f"`A` is empty (shape {A.shape})")
        if b.ndim != 1 or b.shape[0] != m:
            raise ValueError(f"`b` must have shape ({m},) to match `A` (shape {A.shape}), got {b.shape}")
        if x0 is not None and x0.shape != (n,):
            raise ValueError(f"`x0` must have shape ({n},) to match `A` (shape {A.shape}), got {x0.shape}")
        dts = [A.dtype, b.dtype, np.float32] + ([] if x0 is None else [x0.dtype])
        dtype = np.result_type(*dts)
        if dtype not in (np.float32, np.float64):
            dtype = np.dtype(np.float64)
        if sparse:
            A = sp.csr_array(A, dtype=dtype)  # may share the caller's arrays: never written to
            if not A.has_canonical_format:
                A = A.copy()
                A.sum_duplicates()  # also sorts the indices
            if A.indptr.dtype != A.indices.dtype:
                A.indptr = A.indptr.astype(A.indices.dtype)
        else:
            A = np.asarray(A, dtype=dtype)
        b = np.ascontiguousarray(b, dtype=dtype)
        if not np.all(np.isfinite(A.data if sparse else A)):
            raise ValueError("`A` contains NaN or inf")
        if not np.all(np.isfinite(b)):
            raise ValueError("`b` contains NaN or inf")
        if x0 is not None and not np.all(np.isfinite(x0)):
            raise ValueError("`x0` contains NaN or inf")
        self.A, self.b, self.m, self.n, self.sparse, self.dtype = A, b, m, n, sparse, dtype
        self.bnorm = float(np.linalg.norm(b))
        self.cache = {}

    def start(self, x0=None):
        """A fresh copy of ``x0`` (validated by the constructor) in the system's dtype, or zeros."""
        if x0 is None:
            return np.zeros(self.n, dtype=self.dtype)
        return np.array(x0, dtype=self.dtype)

    @property
    def denom(self):
        """What the residual norm is divided by: ``||b||``, or 1 when ``b = 0``."""
        return self.bnorm if self.bnorm > 0 else 1.0


def _check_namespace(spec, **arrays):
    """A TypeError naming the argument when a non-numpy array (cupy, array_api_strict)
    reaches a numpy-only method (scipy.sparse matrices are numpy)."""
    from .._backend import get_namespace
    from .._registry import check_backend

    for name, v in arrays.items():
        if v is None or isinstance(v, np.ndarray) or not hasattr(v, "__array_namespace__"):
            continue
        check_backend(spec, get_namespace(v), what=name)


def solve_linear(A, b, method="kaczmarz", *, x0=None, tol=None, callback=None, options=None, **kw):
    """Solve the linear system ``A x = b`` with a registered ``linear_system`` method.

    Parameters
    ----------
    A : (m, n) numpy array or scipy.sparse matrix/array (never densified, never modified).
    b : (m,) array.
    method : str
        ``"kaczmarz"`` (randomized Kaczmarz), ``"block-kaczmarz"``,
        ``"gaussian-sketch"`` (alias ``"gaussian"``), ``"countsketch"``
        (sketch-and-project; any consistent system) or ``"sor"`` (successive
        over-relaxation; square symmetric positive-definite ``A``). Names are
        case-insensitive, ``_`` and ``-`` alike; ``numopt.list_methods(kind="linear_system")``
        lists them and ``numopt.show_options(method)`` describes their options.
    x0 : (n,) array, optional
        Starting point (default zeros); not modified.
    tol : float, optional
        Tolerance on the relative residual ``||A x - b|| / ||b||`` (the method's
        default when None: 1e-8 for float64 input, loosened for float32 input).
    callback : callable, optional
        ``callback(intermediate_result)`` (an OptimizeResult with ``x``, ``fun``, ``nit``,
        ``optimality``) or ``callback(xk)``, called at every residual test; raising
        ``StopIteration`` ends the run with status 99.
    options : dict, optional
        Method options (``maxiter``, ``max_time``, ``trace``, ``rng``, ``block_size``,
        ``check_every``, ``omega``, ``kernel``, ...); they may also be given as keywords.

    Returns
    -------
    scipy.optimize.OptimizeResult with ``x`` (the inputs' dtype), ``fun`` (``||A x - b||``),
    ``optimality`` (relative residual), ``nit``, ``status`` (0 converged, 1 maxiter,
    2 non-finite residual, 3 max_time, 99 callback), ``success``, ``message``,
    ``trace`` and ``method``, plus the method's documented extras.
    """
    from .._registry import get_method, merge_options, resolve_options, run_method

    if not isinstance(method, str):
        raise TypeError(f"`method` must be the name of a linear_system method, got {type(method).__name__}")
    spec = get_method(method, kind="linear_system")
    _check_namespace(spec, A=A, b=b, x0=x0)
    opts = merge_options(options, kw, tol=tol)  # (tol is checked by the method's own `tol` option)
    system = LinearSystem(A, b, x0)
    opts = resolve_options(spec, opts, None, eps=float(np.finfo(system.dtype).eps))
    return run_method(spec, system, system.start(x0), opts, callback=callback, counter=None)


def example_system(kind, seed=0):
    """Small instances for the registry's contract tests: ``"rect"`` a consistent 40 x 20
    Gaussian system (the default sketch size 10 needs several projections), ``"spd"`` the 5-point Laplacian on a 4 x 4 grid (SPD, sparse)."""
    rng = np.random.default_rng(seed)
    if kind == "spd":
        from .sor import laplacian_2d

        A = laplacian_2d(4)
        xs = rng.standard_normal(A.shape[0])
    else:
        A = rng.standard_normal((40, 20))
        xs = rng.standard_normal(20)
    return dict(A=A, b=A @ xs, x0=np.zeros(A.shape[1]), x_star=xs, f_star=0.0)
