"""Randomized Frank-Wolfe variants: stochastic FW for finite sums (momentum averaging,
Mokhtari, Hassani & Karbasi 2020; growing batches, Hazan & Luo 2016) and the zeroth-order
stochastic FW of Sahu, Zaheer & Kar (2019). Registered in :mod:`numopt.solvers.frank_wolfe`.
"""
from __future__ import annotations

import math

import numpy as np

from .._backend import get_namespace, vdot
from .._loop import STATUS, Step
from ..oracles import FiniteSum
from ._fw_models import _cast
from .._options import generator

STATUS_2 = STATUS[2]

def _value_at_x0(f, x0):
    """f(x0), an evaluation error (e.g. x0 of the wrong length for the objective's data) named
    as such."""
    try:
        return f.value(x0)
    except (ValueError, TypeError) as e:
        if "x0" in str(e):
            raise
        raise type(e)(f"evaluating the objective at `x0` (shape {tuple(x0.shape)}) failed: {e}") from e


def _finite(a, xp):
    return bool(xp.all(xp.isfinite(a)))


def _stochastic(problem, x0, opts):
    """Stochastic FW for f = (1/n) sum_i f_i with minibatch gradients ``grad_batch(x, idx)``.

    ``schedule="momentum"`` (Mokhtari, Hassani & Karbasi, JMLR 2020, SFW): averaged
    gradient d_t = (1 - rho_t) d_{t-1} + rho_t g_B(x_t), rho_t = 4 / (t + 8)^{2/3},
    x_{t+1} = x_t + gamma_t (LMO(d_t) - x_t), gamma_t = 2 / (t + 8); E f(x_t) - f* =
    O(t^{-1/3}) with a constant batch. ``schedule="growing-batch"`` (Hazan & Luo, ICML 2016):
    batch b_t = batch_size (t + 1)^2 (full gradient once b_t >= n), gamma_t = 2 / (t + 2);
    E f(x_t) - f* = O(1/t). One reported iteration = stochastic steps worth one pass
    (n sample gradients) over the data.
    """
    f, D = problem.objective, problem.feasible_set
    if not (hasattr(f, "grad_batch") and hasattr(f, "n_samples")):
        raise ValueError("variant 'stochastic' needs a finite-sum objective with n_samples and "
                         "grad_batch(x, idx) (e.g. numopt.LinearComposite or numopt.oracles.FiniteSum)")
    from .first_order import reject_unused_terms

    reject_unused_terms(problem, "stochastic-fw", feasible_set=False)
    schedule, b0 = opts["schedule"], opts["batch_size"]  # checked by the front door (option table)
    rng = generator(opts["rng"])  # None: reproducible
    n = int(f.n_samples)
    xp = get_namespace(x0)
    x, dbar, t, used = x0, xp.zeros_like(x0), 0, 0
    yield Step(x, _value_at_x0(f, x), None, n_sample_grads=0)
    while True:  # bounded by the loop's maxiter
        budget = used + n
        est_gap = float("nan")
        while used < budget:  # bounded: `used` grows by >= batch_size >= 1
            if schedule == "momentum":
                rho, gamma = 4.0 / (t + 8) ** (2 / 3), 2.0 / (t + 8)
                dbar = (1 - rho) * dbar + rho * _cast(f.grad_batch(x, rng.integers(0, n, size=b0)), x0)
                used += b0
            else:
                b = b0 * (t + 1) ** 2
                if b >= n:
                    dbar, used = f.grad(x), used + n
                else:
                    dbar, used = _cast(f.grad_batch(x, rng.integers(0, n, size=b)), x0), used + b
                gamma = 2.0 / (t + 2)
            if not _finite(dbar, xp):
                return 2, (f"{STATUS_2} (the stochastic gradient estimate is not finite at step {t}: the "
                           "objective's gradient returned NaN/inf)")
            s = D.lmo(dbar)
            est_gap = vdot(dbar, x - s)
            x = x + gamma * (s - x)
            t += 1
        yield Step(x, f.value(x), None, estimated_gap=est_gap, n_sample_grads=used)


def _zeroth_order(problem, x0, opts):
    """Sahu, Zaheer & Kar (2019), Alg. 2 with the I-RDSA estimator (m Gaussian directions)."""
    from .first_order import reject_unused_terms

    reject_unused_terms(problem, "zeroth-order-fw", feasible_set=False)
    f, D = problem.objective, problem.feasible_set
    xp = get_namespace(x0)
    rng = generator(opts["rng"])  # None: reproducible
    d_dim = int(np.prod(x0.shape))
    m = opts["directions"]  # checked by the front door (option table)
    x = x0
    g_avg = xp.zeros_like(x0)
    t = 0
    while True:  # bounded by the loop's maxiter
        fx = _value_at_x0(f, x) if t == 0 else f.value(x)
        c_t = 2.0 / (d_dim ** 1.5 * (t + 8) ** (1 / 3))
        rho_t = 4.0 / (d_dim ** (1 / 3) * (t + 8) ** (2 / 3))
        gamma_t = 2.0 / (t + 8)
        est = xp.zeros_like(x0)
        for _ in range(m):
            z = xp.asarray(rng.standard_normal(x0.shape), dtype=x0.dtype)
            est = est + ((f.value(x + c_t * z) - fx) / c_t) * z
        est = est / m
        g_avg = (1 - rho_t) * g_avg + rho_t * est
        if not (math.isfinite(fx) and _finite(g_avg, xp)):
            msg = (f"the zeroth-order gradient estimate is not finite at step {t}: the objective returned "
                   f"NaN/inf (f(x) = {fx})")
            if t == 0:
                raise ValueError(msg + " at or next to `x0`")
            return 2, f"{STATUS_2} ({msg})"
        s = D.lmo(g_avg)
        gap = vdot(g_avg, x - s)
        yield Step(x, fx, None, estimated_gap=gap)
        x = x + gamma_t * (s - x)
        t += 1


class _LeastSquaresSum(FiniteSum):
    """f(x) = 1/(2n) ||A x - b||^2 as a finite sum (the stochastic variant's example)."""

    def __init__(self, A, b):
        self.A, self.b, self.n_samples = A, b, A.shape[0]

    def value(self, x):
        xp = get_namespace(x)
        r = self.A @ x - self.b
        return float(xp.sum(r * r)) / (2 * self.n_samples)

    def grad(self, x):
        return self.A.T @ (self.A @ x - self.b) / self.n_samples

    def grad_batch(self, x, idx):
        xp = get_namespace(x)
        i = xp.asarray(np.asarray(idx))
        A_B = xp.take(self.A, i, axis=0)
        return A_B.T @ (A_B @ x - xp.take(self.b, i)) / len(idx)
