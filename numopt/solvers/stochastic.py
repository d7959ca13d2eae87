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
  2014): linear convergence with step ``1/(3 L_max)``. For a ``numopt.LinearComposite``
  ``f(x) = loss(A x)`` the gradient of sample i is ``s_i a_i`` with the scalar
  ``s_i = n phi_i'(a_i x)``, so the table holds one scalar per sample (memory O(n + p));
  a general finite sum keeps the n x p table (option ``table``; ``result.table_kind`` and
  ``result.table_size`` say which). A minibatch uses all its samples:
  ``g = (1/b) sum_{j in B} (grad f_j(x) - table_j) + mean(table)``.
* ``"sarah"``: recursive estimator ``v_t = g_B(x_t) - g_B(x_{t-1}) + v_{t-1}``, restarted
  with a full gradient every epoch (Nguyen, Liu, Scheinberg & Takáč, ICML 2017; proximal
  version ProxSARAH, Pham et al., JMLR 2020): linear convergence for strongly convex f
  with step ``1/(2 L_max)``.
* ``"spider"``: the same estimator with minibatches of size ``batch_size`` (default
  ``sqrt(n)``), a full gradient every ``n / batch_size`` steps and the constant step
  ``1/(2 L)`` of SpiderBoost (Wang, Ji, Zhou, Liang & Tarokh, NeurIPS 2019; SPIDER: Fang,
  Li, Lin & Zhang, NeurIPS 2018): O(n + sqrt(n)/eps^2) gradient evaluations for an
  eps-stationary point of a smooth nonconvex f (optimal in this class).

``max_time`` is honoured inside an epoch: the per-sample loop checks the clock every
``max(1, 64 // batch_size)`` stochastic steps (and SAGA's n x p table while it is built)
against the deadline ``start + max_time`` and ends the epoch early; the partial epoch is
reported as the last trace row (its prox-gradient norm measured with the full gradient, as
every row) and the run stops with status 3. A huge epoch therefore overshoots ``max_time``
by about one step plus one full-gradient evaluation, not by the rest of the epoch.
"""
from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from .._backend import norm
from .._loop import Step
from .._options import Choices, Interval, NoneOr, Option, generator
from .._registry import MethodSpec, register
from .dca import Rng


def _check(problem, method):
    from .first_order import reject_unused_terms

    f = problem.objective
    if not (hasattr(f, "grad_batch") and hasattr(f, "n_samples")):
        raise ValueError("stochastic methods need a finite-sum objective with n_samples and grad_batch(x, idx) "
                         "(e.g. numopt.LinearComposite or problems.get('libsvm/...'))")
    reject_unused_terms(problem, method, regularizer=False)  # the regularizer is used (prox); a set is not
    return f


def _prox(reg, x, t):
    return x if reg is None else reg.prox(x, t)


def _pgnorm(f, reg, x, L):
    g = f.grad(x)
    return norm(x - _prox(reg, x - g / L, 1.0 / L)) * L


def _step_size(f, opts):
    """1/(safety L_max) by default (L_max the largest per-sample smoothness); ``step`` and
    ``safety`` are checked by the front door (their Option checks)."""
    if opts["step"] is not None:
        return float(opts["step"])
    A = getattr(f, "A", None)
    loss = getattr(f, "loss", None)
    if A is None or loss is None:
        raise ValueError("`step` is required: the objective exposes no per-sample smoothness (a "
                         "numopt.LinearComposite has one)")
    rows = np.asarray(A.multiply(A).sum(axis=1)).ravel() if hasattr(A, "multiply") else np.einsum("ij,ij->i", A, A)
    Lmax = float(np.max(rows)) * loss.smoothness * f.n_samples
    if not (math.isfinite(Lmax) and Lmax > 0):
        raise ValueError(f"the per-sample smoothness L_max = {Lmax} is not finite and positive; pass `step`")
    return 1.0 / (opts["safety"] * Lmax)


def _scalar_composite(f):
    """The numopt.LinearComposite behind the (counted) objective when its per-sample gradients
    are exactly ``n phi_i'(a_i x) a_i`` (grad_batch not overridden and the datafit has
    ``grad_at``), else None."""
    from ..oracles import Counted, LinearComposite

    inner = f.f if isinstance(f, Counted) else f
    if not isinstance(inner, LinearComposite) or not hasattr(inner.loss, "grad_at"):
        return None
    if type(inner).grad_batch is not LinearComposite.grad_batch:
        return None
    A = inner.A
    if getattr(A, "ndim", 2) != 2 or not (sp.issparse(A) or isinstance(A, np.ndarray)):
        return None
    return inner


class _DenseTable:
    """SAGA's memory for a general finite sum: the last gradient of every sample (n x p)."""

    kind = "dense"

    def __init__(self, f, x, n, deadline=math.inf):
        """Builds the table row by row; stops (``complete = False``) once ``deadline``
        (a ``time.perf_counter()`` value) has passed."""
        self.f, self.n = f, n
        rows = []
        for i in range(n):
            if i % 64 == 0 and i > 0 and time.perf_counter() >= deadline:
                break
            rows.append(np.asarray(f.grad_batch(x, np.array([i]))))
        self.complete = len(rows) == n
        self.table = np.stack(rows)
        self.avg = self.table.mean(axis=0)
        self.size = int(self.table.size)

    def step(self, x, idx):
        """The SAGA estimate (1/b) sum_{j in idx} (grad f_j(x) - table_j) + mean(table);
        then table_j <- grad f_j(x) for the distinct j in idx."""
        uniq, inv = np.unique(idx, return_inverse=True)
        G = np.stack([np.asarray(self.f.grad_batch(x, np.array([j]))) for j in uniq])
        D = G - self.table[uniq]
        g = D[inv].mean(axis=0) + self.avg
        self.avg = self.avg + D.sum(axis=0) / self.n
        self.table[uniq] = G
        return g


class _ScalarTable:
    """SAGA's memory for f(x) = loss(A x) (numopt.LinearComposite): grad f_i(x) = s_i a_i with
    the scalar s_i = n phi_i'(a_i x), so one scalar per sample is kept (memory O(n + p))."""

    kind = "scalar"
    complete = True  # built in one O(nnz) pass

    def __init__(self, lc, x, n):
        self.A, self.loss, self.n = lc.A, lc.loss, n
        self.sparse = sp.issparse(self.A)
        if self.sparse:  # rows as slices of the CSR arrays (one copy of A at most, kept sparse)
            A = self.A.tocsr() if self.A.format != "csr" else self.A
            self.indptr, self.indices, self.data = A.indptr, A.indices, A.data
        self.s = np.asarray(self.loss.grad_at(self.A @ x, np.arange(n)), dtype=float) * n
        self.avg = np.asarray(self.A.T @ self.s, dtype=float) / n
        self.size = int(self.s.size)

    def step(self, x, idx):
        if len(idx) == 1:
            uniq, inv = idx, np.zeros(1, dtype=np.intp)
        else:
            uniq, inv = np.unique(idx, return_inverse=True)
        b = len(idx)
        if self.sparse:
            rows = [(self.indices[self.indptr[j]:self.indptr[j + 1]], self.data[self.indptr[j]:self.indptr[j + 1]])
                    for j in uniq]
            z = np.array([float(v @ x[c]) for c, v in rows])
        else:
            Ab = self.A[uniq]
            z = Ab @ x
        s_new = np.asarray(self.loss.grad_at(z, uniq), dtype=float) * self.n
        ds = s_new - self.s[uniq]
        w = np.bincount(inv, minlength=uniq.size) / b  # multiplicity of each sample in the batch
        g = self.avg.astype(np.result_type(self.avg, x), copy=True)
        if self.sparse:
            for (c, v), dj, wj in zip(rows, ds, w):
                g[c] += (wj * dj) * v
                self.avg[c] += (dj / self.n) * v
        else:
            g += Ab.T @ (w * ds)
            self.avg += Ab.T @ ds / self.n
        self.s[uniq] = s_new
        return g


def _run(problem, x0, opts, kind):
    # the generator's body starts at the loop's first next(), right after run_loop's clock
    deadline = time.perf_counter() + float(opts.get("max_time", math.inf))
    f = _check(problem, kind)
    reg = problem.regularizer
    rng = generator(opts["rng"])  # None: reproducible
    n = int(f.n_samples)
    eta = _step_size(f, opts)
    L_report = 1.0 / eta
    # batch_size, decay and table are checked by the front door (their Option checks)
    if kind == "spider" and opts["batch_size"] is None:
        bs = max(1, int(round(np.sqrt(n))))
    else:
        bs = int(opts["batch_size"])
    table_opt = opts.get("table", "auto")
    x = x0
    fv = lambda z: f.value(z) + (0.0 if reg is None else reg.value(z))  # noqa: E731
    table, extras = None, {}
    if kind == "saga":
        lc = _scalar_composite(f) if table_opt != "dense" else None
        if table_opt == "scalar" and lc is None:
            raise ValueError("`table='scalar'` needs a numopt.LinearComposite objective (f(x) = loss(A x) with "
                             "a datafit that has grad_at)")
        table = _ScalarTable(lc, x, n) if lc is not None else _DenseTable(f, x, n, deadline)
        extras = {"table_kind": table.kind, "table_size": table.size}
    yield Step(x, fv(x), _pgnorm(f, reg, x, L_report), **extras)
    time_stop = (3, "Time limit (max_time) reached during an epoch; the last trace row is the partial epoch.")
    if table is not None and not table.complete:  # the loop has stopped on max_time already
        return 3, "Time limit (max_time) reached while building SAGA's gradient table."
    steps = max(1, n // bs)  # stochastic steps per epoch (one trace row)
    check_every = max(1, 64 // bs)  # clock checks: about every 64 samples
    k = 0
    lr = eta
    while True:  # bounded by the loop's maxiter (one epoch per iteration) and by max_time
        if time.perf_counter() >= deadline:
            return time_stop
        if kind == "svrg":
            w, mu = x, f.grad(x)
        if kind in ("sarah", "spider"):
            x_prev, v = x, f.grad(x)  # full gradient at the start of each epoch
        done = steps
        for t in range(steps):
            if t % check_every == 0 and time.perf_counter() >= deadline:
                done = t  # end the epoch early: max_time is reached
                break
            idx = rng.integers(0, n, size=bs)
            if kind in ("sarah", "spider"):
                if t > 0:
                    v = f.grad_batch(x, idx) - f.grad_batch(x_prev, idx) + v
                x_prev = x
                g, lr = v, eta
            elif kind == "sgd":
                g = f.grad_batch(x, idx)
                lr = eta / (1 + opts["decay"] * (k * steps + t) / steps)
            elif kind == "svrg":
                g = f.grad_batch(x, idx) - f.grad_batch(w, idx) + mu
                lr = eta
            else:
                g = table.step(x, idx)
                lr = eta
            x = np.asarray(_prox(reg, x - lr * g, lr), dtype=x0.dtype)  # keep the input dtype
        k += 1
        yield Step(x, fv(x), _pgnorm(f, reg, x, L_report), step_size=lr, epoch_fraction=done / steps, **extras)


def _example(xp):
    from ..datafits import Logistic
    from ..oracles import LinearComposite
    from ..prox import SquaredL2

    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 5))
    y = np.where(A[:, 0] > 0, 1.0, -1.0)
    return dict(fun=LinearComposite(Logistic(y), A), x0=np.zeros(5), prox=SquaredL2(0.1), options={"rng": 0})


_POSITIVE = Interval(0, open=("lo",))
_OPTS = {"tol": Option(1e-8, "Tolerance on the prox-gradient norm (full gradient, checked once per epoch).",
                       Interval(0)),
         "maxiter": Option(1000, "Maximum number of epochs (default 1000; one epoch = one trace row = "
                                 "n_samples / batch_size stochastic steps plus one full gradient).",
                           Interval(0, integer=True)),
         "step": Option(None, "Step size (default from the per-sample smoothness L_max: 1/(safety L_max)).",
                        NoneOr(_POSITIVE)),
         "safety": Option(3.0, "Default step 1/(safety * L_max).", _POSITIVE),
         "batch_size": Option(1, "Minibatch size.", Interval(1, integer=True)),
         "rng": Option(None, "Seed or numpy Generator (None: seed 0, reproducible).", Rng())}


def _safety(default):
    return Option(default, "Default step 1/(safety * L_max).", _POSITIVE)


register(MethodSpec(
    name="sgd", family="stochastic", summary="(Proximal) stochastic gradient descent with a 1/k schedule",
    solve=lambda p, x0, o: _run(p, x0, o, "sgd"), requires=("grad",), backends=("numpy",), accepts_prox=True,
    options=dict(_OPTS, decay=Option(1.0, "eta_k = step / (1 + decay * epoch)", Interval(0))), example=_example,
    optimality="prox-gradient norm (full gradient) per epoch",
    rate_text="Strongly convex: E f(x_k) - f* = O(1/k) with eta_k ~ 1/k (Bottou, Curtis & Nocedal 2018, Thm 4.7).",
    reference="H. Robbins, S. Monro (1951); L. Bottou, F.E. Curtis, J. Nocedal, SIAM Review 60(2) (2018)."))
register(MethodSpec(
    name="svrg", family="stochastic", summary="(Proximal) stochastic variance-reduced gradient",
    solve=lambda p, x0, o: _run(p, x0, o, "svrg"), requires=("grad",), backends=("numpy",), accepts_prox=True,
    options=dict(_OPTS, safety=_safety(10.0)), example=_example,
    optimality="prox-gradient norm (full gradient) per epoch",
    rate_text="Strongly convex: linear convergence in expectation (Johnson & Zhang 2013; Xiao & Zhang 2014).",
    reference="R. Johnson, T. Zhang, NeurIPS 2013; L. Xiao, T. Zhang, SIAM J. Optim. 24(4) (2014)."))
register(MethodSpec(
    name="saga", family="stochastic", summary="SAGA (proximal), per-sample gradient table",
    solve=lambda p, x0, o: _run(p, x0, o, "saga"), requires=("grad",), backends=("numpy",), accepts_prox=True,
    options=dict(_OPTS, table=Option("auto", "Gradient memory: 'scalar' (one scalar phi_i' per sample, memory "
                                             "O(n + p); needs a numopt.LinearComposite), 'dense' (the n x p table "
                                             "of per-sample gradients, any finite sum) or 'auto' (scalar when "
                                             "possible).", Choices("auto", "scalar", "dense"))),
    example=_example,
    optimality="prox-gradient norm (full gradient) per epoch",
    rate_text="Strongly convex: linear convergence in expectation with step 1/(3 L_max) (Defazio et al. 2014).",
    reference="A. Defazio, F. Bach, S. Lacoste-Julien. SAGA. NeurIPS 2014."))

register(MethodSpec(
    name="sarah", family="stochastic", summary="(Proximal) SARAH: recursive variance-reduced gradient, full gradient per epoch",
    solve=lambda p, x0, o: _run(p, x0, o, "sarah"), requires=("grad",), backends=("numpy",), accepts_prox=True,
    options=dict(_OPTS, safety=_safety(2.0)), example=_example,
    optimality="prox-gradient norm (full gradient) per epoch",
    rate_text="Strongly convex: linear convergence in expectation with step 1/(2 L_max) (Nguyen et al. 2017, Thm 3).",
    reference="L.M. Nguyen, J. Liu, K. Scheinberg, M. Takac. SARAH. ICML 2017; N.H. Pham, L.M. Nguyen, D.T. Phan, "
              "Q. Tran-Dinh. ProxSARAH. JMLR 21 (2020)."))
register(MethodSpec(
    name="spider", family="stochastic", summary="SpiderBoost: SPIDER estimator with sqrt(n) minibatches and step 1/(2L)",
    solve=lambda p, x0, o: _run(p, x0, o, "spider"), requires=("grad",), backends=("numpy",), accepts_prox=True,
    options=dict(_OPTS, safety=_safety(2.0),
                 batch_size=Option(None, "Minibatch size (default round(sqrt(n_samples))).",
                                   NoneOr(Interval(1, integer=True)))), example=_example,
    optimality="prox-gradient norm (full gradient) per epoch",
    rate_text="Smooth nonconvex: O(n + sqrt(n) / eps^2) stochastic gradients for E||grad f|| <= eps "
              "(Fang et al. 2018; Wang et al. 2019).",
    reference="C. Fang, C.J. Li, Z. Lin, T. Zhang. SPIDER. NeurIPS 2018; Z. Wang, K. Ji, Y. Zhou, Y. Liang, "
              "V. Tarokh. SpiderBoost and momentum. NeurIPS 2019."))

