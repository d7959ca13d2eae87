"""The front door of the "bilevel" kind: :func:`bilevel` dispatches any registered bilevel
method through the registry (options checked once, the shared loop, one result contract)."""
from __future__ import annotations

import numpy as np

from ..._backend import get_namespace
from ..._registry import check_backend, get_method, merge_options, resolve_options, run_method
from ._common import check_minibatch_oracles
from .multiblock import MultiBlockBilevelProblem
from .problem import BilevelProblem, RunCounter, _finite_start

__all__ = ["bilevel"]


def _check_problem(spec, problem):
    """The problem type and terms the method handles: a MultiBlockBilevelProblem for the
    multi-block methods (``"blocks"`` in ``spec.requires``), a BilevelProblem for the others,
    and a coupled lower-level constraint only for a method that accepts it."""
    blocks = "blocks" in spec.requires
    if isinstance(problem, MultiBlockBilevelProblem):
        if not blocks:
            raise ValueError(f"a MultiBlockBilevelProblem is solved by method='bsvrb', not {spec.name!r}")
        return
    if not isinstance(problem, BilevelProblem):
        raise TypeError("`problem` must be a numopt.BilevelProblem or a MultiBlockBilevelProblem")
    if blocks:
        raise TypeError(f"method {spec.name!r} solves multi-block problems: declare a MultiBlockBilevelProblem "
                        "(numopt.MultiBlockBilevelProblem) with per-block upper/lower oracles")
    if problem.coupled is not None and not spec.accepts_constraints:
        raise ValueError(f"the problem has a coupled lower-level constraint; method {spec.name!r} ignores it: "
                         "use 'lv-hba'")


def _check_arrays(spec, x0, y0):
    """A TypeError when ``x0``/``y0`` are arrays of a namespace the method does not declare
    (every bilevel method runs on numpy)."""
    for name, v in (("x0", x0), ("y0", y0)):
        if isinstance(v, (np.ndarray, np.generic, list, tuple, int, float)):
            continue
        try:
            xp = get_namespace(v)
        except TypeError:
            continue  # not an array: the checks of the starting point name it
        check_backend(spec, xp, name)


def bilevel(problem, x0, y0, method="implicit", *, maxiter=None, tol=None, callback=None, options=None, **kwargs):
    """Solve a bilevel problem ``min_x F(x, y*(x))``, ``y*(x) = argmin_y G(x, y)``.

    ``problem``: a :class:`BilevelProblem` (or a :class:`MultiBlockBilevelProblem` for
    ``method="bsvrb"``, with ``y0`` of shape (n_blocks, d_y)); ``method``: one of
    ``numopt.list_methods(kind="bilevel")`` (case-insensitive, '_' and '-' alike);
    ``maxiter``/``tol``: None = the method's default (``numopt.show_options(method)``);
    method options as keywords or as the dict ``options``. ``callback(x)`` (or
    ``callback(intermediate_result=...)``) after each iteration; raising StopIteration ends
    the run with status 99.

    Returns an OptimizeResult with ``x``, ``y`` (the lower variable), ``hypergrad`` (also
    ``jac``: the method's hypergradient estimate at x), ``fun`` (the upper objective),
    ``nit``, ``status``, ``success``, ``message``, ``optimality``, ``lower_residual``,
    ``nupper``/``nlower`` (oracle calls), ``nsamples_upper``/``nsamples_lower`` (per-sample
    gradients), method extras and ``trace`` (per iteration: ``fun``, ``optimality``,
    ``lower_residual``, the counts and the method's scalars). ``x``, ``y`` and ``hypergrad``
    come back in the floating dtypes of ``x0`` and ``y0``; the methods iterate in float64."""
    spec = get_method(method, kind="bilevel")
    _check_problem(spec, problem)
    opts = resolve_options(spec, merge_options(options, kwargs, maxiter=maxiter), tol)
    _check_arrays(spec, x0, y0)
    x0, y0 = _finite_start(x0, "x0"), _finite_start(y0, "y0")
    x64, y64 = np.asarray(x0, dtype=float), np.asarray(y0, dtype=float)
    if isinstance(problem, MultiBlockBilevelProblem):
        problem.check(x64, y64)
    else:
        problem.upper(x64, y64)
        problem.lower(x64, y64)  # shape checks before the first iteration
        check_minibatch_oracles(problem, x64, y64, opts)
    return run_method(spec, problem, (x0, y0), opts, callback=callback, counter=RunCounter(problem))
