"""Communication-efficient data-parallel method: local SVRG with periodic averaging.

For ``f(x) = loss(A x) [+ lam/2 ||x||^2]`` with ``A`` a row-chunked dask array
(``numopt.LinearComposite(datafit, A)``, see :mod:`numopt._dask`). One outer iteration
(one communication round) is ONE Dask graph: every chunk runs ``local_steps`` minibatch
SVRG steps on its own rows, started from the anchor ``x~`` and corrected with the full
gradient ``grad f(x~)`` (Johnson & Zhang's control variate), the local iterates are
averaged (weights ``n_b / n``) by a tree reduction, and the full gradient at the average
is reduced in the same graph. The client receives the average, ``f`` and ``grad f`` there:
one round trip and two vectors of size ``p`` per chunk per round, against one round trip
per gradient for the full-gradient methods.

The local steps are Stich's local SGD (periodic averaging); the variance-reduced
direction ``grad l_j(y) - grad l_j(x~) + grad f(x~)`` vanishes at ``y = x~ = x*``, so the
optimum is a fixed point of a round (local SGD with a constant step stalls at a noise
floor instead) and the gradient norm at the averaged iterate, the certificate, goes to 0.

References
----------
* J. D. Lee, Q. Lin, T. Ma, T. Yang. Distributed stochastic variance reduced gradient
  methods by sampling extra data with replacement. JMLR 18(122), 2017.
* S. U. Stich. Local SGD converges fast and communicates little. ICLR 2019.
* R. Johnson, T. Zhang. Accelerating stochastic gradient descent using predictive variance
  reduction. NeurIPS 2013.
* A. Mitra, R. Jaafar, G. Pappas, H. Hassani. Linear convergence in federated learning:
  tackling client heterogeneity and sparse gradients (FedLin). NeurIPS 2021.
"""
from __future__ import annotations

import math

import numpy as np

from .._loop import Step
from .._options import Interval, NoneOr, Option, Seed, generator
from .._registry import MethodSpec, register

__all__ = []


def _local_svrg(Xb, yb, tmpl, reg, x_a, g_a, step, n_steps, batch, seed):
    """Worker side: ``n_steps`` minibatch SVRG steps on one chunk's rows from the anchor
    ``x_a`` (full gradient ``g_a``); returns ``(n_b * y, n_b)`` for the weighted average."""
    from .._dask import _local_loss

    d = _local_loss(tmpl, yb)
    nb, N = Xb.shape[0], d.n
    rng = np.random.default_rng(seed)
    z_a = Xb @ x_a
    y = np.array(x_a, dtype=np.float64, copy=True)
    ga_reg = 0.0 if reg is None else reg.grad(x_a)
    scale = N / batch
    for _ in range(n_steps):
        idx = rng.integers(0, nb, size=batch)
        Xi = Xb[idx]
        u = d.grad_at(Xi @ y, idx) - d.grad_at(z_a[idx], idx)
        v = Xi.T @ (u * scale) + g_a
        if reg is not None:
            v = v + (reg.grad(y) - ga_reg)
        y -= step * np.asarray(v, dtype=np.float64).ravel()
    return nb * y, nb


def _average(parts):
    from .._dask import finish

    s, n = finish(parts)
    return s / n


def _unwrap(problem):
    """(the dask oracle, a smooth regularizer or None) behind the front door's wrappers."""
    from .._dask import DaskLinearComposite
    from ..oracles import SmoothSum

    f = problem.objective
    inner = f.__dict__.get("f", f)
    reg = None
    if isinstance(inner, SmoothSum):
        inner, reg = inner.f, inner.g
    if not isinstance(inner, DaskLinearComposite):
        raise ValueError("method 'local-svrg' needs a data-parallel objective: numopt.LinearComposite(datafit, A) "
                         f"with A a row-chunked dask array, got {type(inner).__name__}")
    if not callable(getattr(inner.loss, "grad_at", None)):
        raise ValueError(f"method 'local-svrg' needs per-sample derivatives (datafit.grad_at); "
                         f"{type(inner.loss).__name__} has none")
    return inner, reg


def _round(F, reg, x, g, step, n_steps, batch, seeds):
    """One communication round as one graph: local steps on every chunk, weighted average,
    value and full gradient at the average."""
    import dask

    from .._dask import _chunk_value_and_grad, tree_reduce

    tmpl, xd, gd = F._shared(F._tmpl), F._shared(x), F._shared(g)
    regd = F._shared(reg) if reg is not None else None
    local = [dask.delayed(_local_svrg)(Xb, yb, tmpl, regd, xd, gd, step, int(h), batch, int(s))
             for (Xb, yb), h, s in zip(F._blocks, n_steps, seeds)]
    avg = dask.delayed(_average)(tree_reduce(local))
    vg = tree_reduce([dask.delayed(_chunk_value_and_grad)(Xb, yb, tmpl, avg) for Xb, yb in F._blocks])
    return F._compute((avg, vg))


def _local_svrg_solve(problem, x0, opts):
    F, reg = _unwrap(problem)
    counter = getattr(problem.objective, "counter", None)
    out = np.asarray(x0).dtype
    x = np.asarray(x0, dtype=np.float64).copy()
    _, _, _, row_sq_max, _ = F.stats()
    lam = float(getattr(reg, "lipschitz", 0.0) or 0.0) if reg is not None else 0.0
    L_max = F.loss.n * F.loss.smoothness * row_sq_max + lam  # per-sample smoothness bound
    step = opts["step"] if opts["step"] is not None else 1.0 / L_max if L_max > 0 else 1.0
    batch = opts["batch_size"]
    n_steps = [opts["local_steps"] or -(-int(nb) // batch) for nb in F.A.chunks[0]]
    rng = generator(opts["rng"])
    fx, g = problem.objective.value_and_grad(x)
    g = np.asarray(g, dtype=np.float64)
    yield Step(x.astype(out), fx, float(np.linalg.norm(g)), jac=g.astype(out), step=step)
    while True:  # bounded by the loop's maxiter
        seeds = rng.integers(0, 2**62, size=F.n_chunks)
        x_new, (f_new, g_new) = _round(F, reg, x, g, step, n_steps, batch, seeds)
        if reg is not None:
            f_new, g_new = f_new + float(reg.value(x_new)), g_new + reg.grad(x_new)
        if counter is not None:
            counter.nfev += 1
            counter.njev += 1
        x, fx, g = np.asarray(x_new, dtype=np.float64), float(f_new), np.asarray(g_new, dtype=np.float64)
        if not math.isfinite(fx):
            return 2, "non-finite objective after a round: the step is too large (lower `step`)"
        yield Step(x.astype(out), fx, float(np.linalg.norm(g)), jac=g.astype(out), step=step)


def _example(xp):
    import dask.array as da

    from ..datafits import Logistic
    from ..oracles import LinearComposite
    from ..prox import SquaredL2

    rng = np.random.default_rng(0)
    A = rng.standard_normal((80, 4))
    y = np.sign(A @ rng.standard_normal(4) + 0.5 * rng.standard_normal(80))
    Ad, yd = da.from_array(A, chunks=(40, 4)), da.from_array(y, chunks=(40,))
    return dict(fun=LinearComposite(Logistic(yd), Ad), x0=np.zeros(4), prox=SquaredL2(0.1))


register(MethodSpec(
    name="local-svrg", family="distributed", example=_example, backends=("numpy",), float64_internal=True,
    summary="Local SVRG with periodic averaging over the row chunks of a dask array (one round trip per round)",
    solve=_local_svrg_solve, requires=("grad",),
    options={
        "tol": Option(1e-6, "Tolerance on ||grad f(x_k)|| at the averaged iterate.", Interval(0),
                      aliases=("gtol",)),
        "maxiter": Option(500, "Maximum number of communication rounds.", Interval(0, integer=True)),
        "local_steps": Option(None, "Minibatch SVRG steps each chunk runs between two averagings; None: one "
                                    "pass over the chunk's rows (ceil(rows / batch_size)).",
                              NoneOr(Interval(1, integer=True))),
        "batch_size": Option(4, "Rows per local minibatch.", Interval(1, integer=True)),
        "step": Option(None, "Local step size; None: 1 / L_max, L_max the largest per-sample smoothness "
                             "n * smoothness * max_i ||a_i||^2 (+ lam of a squared-l2 term). Lower it if the "
                             "rounds diverge (chunks with very different data).",
                       NoneOr(Interval(0, open=("lo",)))),
        "rng": Option(None, "Seed or numpy.random.Generator of the local minibatches (None: fixed seed).", Seed()),
    },
    optimality="||grad f(x_k)|| (full gradient at the averaged iterate, reduced over the chunks)",
    rate_text="mu-strongly convex f, L-smooth samples, step small enough (about 1/(L * local_steps)): "
              "linear convergence per communication round, ||x_k - x*|| <= (1 - c mu step local_steps)^k "
              "||x_0 - x*|| up to the local variance, which the SVRG correction drives to 0 with x_k "
              "(Mitra et al. 2021, Thm 1, exact local gradients; Lee et al. 2017 for SVRG over machines); "
              "with one chunk a round is an SVRG epoch (Johnson & Zhang 2013).",
    rate=None,
    reference="J. D. Lee, Q. Lin, T. Ma, T. Yang. Distributed stochastic variance reduced gradient methods by "
              "sampling extra data with replacement. JMLR 18(122), 2017; S. U. Stich. Local SGD converges fast "
              "and communicates little. ICLR 2019; R. Johnson, T. Zhang. Accelerating stochastic gradient "
              "descent using predictive variance reduction. NeurIPS 2013.",
))
