"""Finite-sum stochastic methods: SGD, SVRG and SAGA, with proximal steps.

The objective must expose finite-sum structure (:class:`numopt.oracles.FiniteSum`
protocol: ``n_samples`` and ``grad_batch(x, idx)``, the mean gradient over the samples
``idx``; ``numopt.LinearComposite`` models from ``problems`` have it). Randomness comes
only from the ``rng`` option (seed or ``numpy.random.Generator``). One trace row = one
epoch (n_samples / batch_size stochastic steps); the optimality measure is the
prox-gradient norm with the full gradient at the epoch's end.

* ``"sgd"``: ``x <- prox(x - eta_k g_B(x))`` with ``eta_k = step / (1 + decay * k)``
  (Robbins–Monro; O(1/k) in expectation for strongly convex f with this schedule, Bottou,
  Curtis & Nocedal, SIAM Review 2018, Thm 4.7).
* ``"svrg"``: variance-reduced ``g_B(x) - g_B(w) + grad f(w)`` with a snapshot ``w``
  refreshed every epoch (Johnson & Zhang, NeurIPS 2013; prox version Xiao & Zhang 2014):
  linear convergence for strongly convex f with step ``~ 1/(10 L_max)``.
* ``"saga"``: table of per-sample gradients (Defazio, Bach & Lacoste-Julien, NeurIPS
  2014): linear convergence with step ``1/(3 L_max)``.
"""
from __future__ import annotations

import numpy as np

from .._backend import norm
from .._loop import Step
from .._registry import MethodSpec, register


def _check(problem):
    f = problem.objective
    if not (hasattr(f, "grad_batch") and hasattr(f, "n_samples")):
        raise ValueError("stochastic methods need a finite-sum objective with n_samples and grad_batch(x, idx) "
                         "(e.g. numopt.LinearComposite or problems.get('libsvm/...'))")
    return f


def _prox(reg, x, t):
    return x if reg is None else reg.prox(x, t)


def _pgnorm(f, reg, x, L):
    g = f.grad(x)
    return norm(x - _prox(reg, x - g / L, 1.0 / L)) * L


def _step_size(f, opts):
    if opts["step"] is not None:
        return float(opts["step"])
    A = getattr(f, "A", None)
    loss = getattr(f, "loss", None)
    if A is None or loss is None:
        raise ValueError("give `step` (no per-sample smoothness available)")
    rows = np.asarray(A.multiply(A).sum(axis=1)).ravel() if hasattr(A, "multiply") else np.einsum("ij,ij->i", A, A)
    Lmax = float(rows.max()) * loss.smoothness * f.n_samples
    return 1.0 / (opts["safety"] * Lmax)


def _run(problem, x0, opts, kind):
    f = _check(problem)
    reg = problem.regularizer
    rng = np.random.default_rng(opts["rng"])
    n, bs = f.n_samples, opts["batch_size"]
    eta = _step_size(f, opts)
    L_report = 1.0 / eta
    x = x0
    fv = lambda z: f.value(z) + (0.0 if reg is None else reg.value(z))  # noqa: E731
    yield Step(x, fv(x), _pgnorm(f, reg, x, L_report))
    table = None
    if kind == "saga":
        table = np.stack([np.asarray(f.grad_batch(x, np.array([i]))) for i in range(n)])
        avg = table.mean(axis=0)
    k = 0
    while True:
        if kind == "svrg":
            w, mu = x, f.grad(x)
        for t in range(max(1, n // bs)):
            idx = rng.integers(0, n, size=bs)
            if kind == "sgd":
                g = f.grad_batch(x, idx)
                lr = eta / (1 + opts["decay"] * (k * (n // bs) + t) / max(1, n // bs))
            elif kind == "svrg":
                g = f.grad_batch(x, idx) - f.grad_batch(w, idx) + mu
                lr = eta
            else:
                j = int(idx[0])
                gj = np.asarray(f.grad_batch(x, np.array([j])))
                g = gj - table[j] + avg
                avg = avg + (gj - table[j]) / n
                table[j] = gj
                lr = eta
            x = np.asarray(_prox(reg, x - lr * g, lr), dtype=x0.dtype)  # keep the input dtype
        k += 1
        yield Step(x, fv(x), _pgnorm(f, reg, x, L_report), step_size=lr)


def _example(xp):
    from ..datafits import Logistic
    from ..oracles import LinearComposite
    from ..prox import SquaredL2

    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 5))
    y = np.where(A[:, 0] > 0, 1.0, -1.0)
    return dict(fun=LinearComposite(Logistic(y), A), x0=np.zeros(5), prox=SquaredL2(0.1), options={"rng": 0})


_OPTS = {"tol": (1e-8, "Tolerance on the prox-gradient norm (full gradient, checked once per epoch)."),
         "step": (None, "Step size (default from the per-sample smoothness L_max: 1/(safety L_max))."),
         "safety": (3.0, "Default step 1/(safety * L_max)."),
         "batch_size": (1, "Minibatch size."),
         "rng": (None, "Seed or numpy Generator.")}
register(MethodSpec(
    name="sgd", family="stochastic", summary="(Proximal) stochastic gradient descent with a 1/k schedule",
    solve=lambda p, x0, o: _run(p, x0, o, "sgd"), requires=("grad",), backends=("numpy",),
    options=dict(_OPTS, decay=(1.0, "eta_k = step / (1 + decay * epoch)")), example=_example,
    optimality="prox-gradient norm (full gradient) per epoch",
    rate_text="Strongly convex: E f(x_k) - f* = O(1/k) with eta_k ~ 1/k (Bottou, Curtis & Nocedal 2018, Thm 4.7).",
    reference="H. Robbins, S. Monro (1951); L. Bottou, F.E. Curtis, J. Nocedal, SIAM Review 60(2) (2018)."))
register(MethodSpec(
    name="svrg", family="stochastic", summary="(Proximal) stochastic variance-reduced gradient",
    solve=lambda p, x0, o: _run(p, x0, o, "svrg"), requires=("grad",), backends=("numpy",),
    options=dict(_OPTS, safety=(10.0, "Default step 1/(safety * L_max).")), example=_example,
    optimality="prox-gradient norm (full gradient) per epoch",
    rate_text="Strongly convex: linear convergence in expectation (Johnson & Zhang 2013; Xiao & Zhang 2014).",
    reference="R. Johnson, T. Zhang, NeurIPS 2013; L. Xiao, T. Zhang, SIAM J. Optim. 24(4) (2014)."))
register(MethodSpec(
    name="saga", family="stochastic", summary="SAGA (proximal), per-sample gradient table",
    solve=lambda p, x0, o: _run(p, x0, o, "saga"), requires=("grad",), backends=("numpy",),
    options=dict(_OPTS), example=_example,
    optimality="prox-gradient norm (full gradient) per epoch",
    rate_text="Strongly convex: linear convergence in expectation with step 1/(3 L_max) (Defazio et al. 2014).",
    reference="A. Defazio, F. Bach, S. Lacoste-Julien. SAGA. NeurIPS 2014."))
