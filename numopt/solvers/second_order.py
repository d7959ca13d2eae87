"""Second-order methods with lazy Hessians (method ``"lazy-newton"``).

Cubic-regularized Newton that reuses one Hessian for ``m`` steps (Doikov, Chayti &
Jaggi, "Second-order optimization with lazy Hessians", ICML 2023). Every ``m``
iterations the Hessian ``H = U diag(lam) U^T`` is computed and eigendecomposed once;
each step then solves the cubic model

    min_h  <g, h> + 1/2 <H h, h> + M/6 ||h||^3

exactly: ``h = -(H + r I)^{-1} g`` with ``r = M ||h|| / 2`` and ``H + r I`` positive
semidefinite, a 1-D secular equation in ``r`` solved by safeguarded Newton/bisection
in the eigenbasis (O(d^2) per step after the O(d^3) decomposition). ``M`` adapts: it is
halved after a successful step and doubled until ``f(x + h)`` is below the model
(no Lipschitz constant needed). With ``m = d`` the arithmetic cost is a factor
sqrt(d) below cubic Newton with a fresh Hessian each step.

Rate (Doikov et al. 2023, Thm 1): for an L-Lipschitz Hessian, ``min_{i<=k} ||grad
f(x_i)|| = O(sqrt(m) L^{1/2} (f(x0) - f*) / k)^{2/3}`` with one Hessian per m steps;
near a nondegenerate minimizer the convergence is superlinear. Iterates approach
second-order stationary points (the cubic model escapes strict saddles).

Optimality measure (``tol``): ``||grad f(x_k)||``.

Sparse Hessians stay sparse (a scipy.sparse ``hess``, or a ``LinearComposite`` with a
sparse design). ``lazy-newton`` and ``grad-reg-newton`` then work with sparse LU
factorizations of ``H + r I`` / ``H + lam B`` (scipy.sparse.linalg.splu in symmetric
mode, whose pivots give the inertia, i.e. positive definiteness); the cubic step solves
its secular equation in ``r`` by safeguarded Newton/bisection, one factorization per
trial ``r`` (the Hessian is still computed once per ``m`` steps). ``saddle-free-newton``
needs all eigenpairs of ``H`` (``|H| = U |Lambda| U^T``): a sparse ``H`` of dimension up
to the option ``dense_max`` (default 2000) is converted to a dense array for that
(explicit small-matrix fallback); above it the method raises a ValueError (use
``grad-reg-newton`` or ``lazy-newton``).

A ``hess`` returning a :class:`scipy.sparse.linalg.LinearOperator` is used through
``matvec`` only (never densified): ``lazy-newton`` and ``grad-reg-newton`` solve the
shifted systems ``H + r I`` / ``H + lam B`` by conjugate gradients (relative residual
1e-10), where CG meeting non-positive curvature stands in for the inertia of a
factorization (the shift is then too small: r or lam grows; the quadratic variant of
``lazy-newton`` reports an indefinite Hessian). ``saddle-free-newton`` applies the
operator to the identity up to ``dense_max`` variables and raises above it.

All three iterate in float64 and return ``x`` in the input's dtype.

Non-finite values: a non-finite ``f(x0)``, gradient or (saddle-free-newton) Hessian at
``x0`` is a ValueError naming ``x0``; a non-finite value later ends the run with status 2
and the last finite iterate (a non-finite Hessian, a non-finite gradient at an accepted
point, or a step search whose last, shortest trial point is still not finite: near the
current iterate, so the objective itself has turned non-finite, not just left its domain).
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from .._hessian import is_operator
from .._hessian import _is_large, _matvec, _shift_factor, _sparse_cubic_step, _sym_factor  # noqa: F401
from .._loop import Step
from .._options import Any_, Choices, FiniteInterval, Interval, IsCallable, NoneOr, Option
from .._registry import MethodSpec, register


__all__ = ["cubic_step"]


def cubic_step(lam, Ug, M):
    """Minimizer of <g,h> + 1/2 h^T H h + M/6 ||h||^3 in the eigenbasis of H
    (``lam`` eigenvalues, ``Ug = U^T g``). Returns (h in the eigenbasis, r)."""
    lmin = float(lam.min())
    r_lo = max(0.0, -lmin)

    def norm_h(r):
        return math.sqrt(float(np.sum((Ug / (lam + r)) ** 2)))

    # find r >= r_lo with phi(r) = r - M/2 ||h(r)|| = 0 (phi increasing)
    if r_lo > 0:
        r_lo = r_lo * (1 + 1e-12) + 1e-300
    lo = r_lo
    if lo == 0 and norm_h(1e-300 if lmin <= 0 else 0.0) * M / 2 <= 0:
        return np.zeros_like(Ug), 0.0
    hi = max(2 * lo, 1.0)
    for _ in range(2100):  # doubling reaches any finite root (or overflows to inf) well before
        if not (hi - M / 2 * norm_h(hi) < 0):
            break
        hi *= 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid - M / 2 * norm_h(mid) < 0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-14 * max(1.0, hi):
            break
    r = hi
    return -Ug / (lam + r), r


def _neg_part(v):
    """max(0, -v) that propagates NaN (Python's max(0.0, nan) would return 0.0)."""
    v = float(v)
    return -v if not v >= 0 else 0.0


def _check_matrix(H, d, name="hess"):
    """A float64 (d, d) ndarray, a scipy.sparse CSC matrix (kept sparse) or a LinearOperator
    (kept as is; its entries are not inspected); ``None`` when an array has a non-finite
    entry; a ValueError naming ``name`` for a wrong shape."""
    if is_operator(H):  # used through matvec only, never densified
        if tuple(H.shape) != (d, d):
            raise ValueError(f"`{name}` returned a LinearOperator of shape {H.shape}, expected ({d}, {d}) "
                             f"(x0 has {d} entries)")
        return H
    if sp.issparse(H):
        H = sp.csc_matrix(H, dtype=float)
        if H.shape != (d, d):
            raise ValueError(f"`{name}` returned a matrix of shape {H.shape}, expected ({d}, {d}) "
                             f"(x0 has {d} entries)")
        return H if np.all(np.isfinite(H.data)) else None
    H = np.asarray(H, dtype=float)
    if H.shape != (d, d):
        raise ValueError(f"`{name}` returned an array of shape {H.shape}, expected ({d}, {d}) "
                         f"(x0 has {d} entries)")
    return H if np.all(np.isfinite(H)) else None


def _trials_nonfinite(what):
    """The (status, message) of a step search whose shortest trial is not finite."""
    return 2, (f"non-finite objective: the shortest trial step of the {what} still gives a "
               "non-finite value; returning the last finite iterate")


def _check_start(fx, g):
    """A ValueError naming x0 when f(x0) or its gradient is not finite."""
    if not (math.isfinite(fx) and np.all(np.isfinite(g))):
        raise ValueError(f"the objective or its gradient is not finite at x0 (f(x0) = {fx}, "
                         f"||grad f(x0)|| = {float(np.linalg.norm(g))}); start from a point where "
                         "`fun` and `jac` are finite")


def _hessian(f, x):
    """The Hessian of f at x, checked (see :func:`_check_matrix`)."""
    return _check_matrix(f.hess(x), x.size, "hess")


def _lazy_params(opts, d):
    """The Hessian reuse period m (default: the dimension d) and the initial M; the values
    are checked by the front door (the Option checks of ``m``, ``M0`` and ``M_min``)."""
    m = opts["m"]
    return (d if m is None else int(m)), float(opts["M0"])


def _lazy_newton(problem, x0, opts):
    if opts["regularization"] == "quadratic":  # else 'cubic' (the option's check)
        return (yield from _lazy_quadratic(problem, x0, opts))
    f = problem.objective
    x = np.asarray(x0, dtype=float).copy()
    out = np.asarray(x0).dtype
    m, M = _lazy_params(opts, x.size)
    fx, g = f.value_and_grad(x)
    g = np.asarray(g, dtype=float)
    _check_start(fx, g)
    yield Step(x.astype(out), fx, float(np.linalg.norm(g)), jac=g.astype(out))
    k = 0
    lam = U = H = None
    while True:  # bounded by the loop's maxiter
        if k % m == 0:
            H = _hessian(f, x)
            if H is None:
                return 2, "non-finite Hessian; returning the last finite iterate"
            if not _is_large(H):
                lam, U = np.linalg.eigh(0.5 * (H + H.T))
        Ug = None if _is_large(H) else U.T @ g
        fn = None
        for _ in range(60):
            if _is_large(H):
                h, _r = _sparse_cubic_step(H, g, M)
                if h is None:
                    M *= 2.0
                    continue
                model = float(g @ h + 0.5 * h @ _matvec(H, h) + M / 6 * np.linalg.norm(h) ** 3)
            else:
                hb, r = cubic_step(lam, Ug, M)
                h = U @ hb
                model = float(Ug @ hb + 0.5 * np.sum(lam * hb * hb) + M / 6 * np.linalg.norm(hb) ** 3)
            fn = f.value(x + h)
            if np.isfinite(fn) and fn <= fx + model + 1e-14 * abs(fx):
                break
            M *= 2.0
        else:
            if fn is not None and not np.isfinite(fn):
                return _trials_nonfinite("cubic regularization (M doubled 60 times)")
            return 5, "cubic regularization could not find a decrease (is the gradient/Hessian correct?)"
        x = x + h
        fx, g = f.value_and_grad(x)
        g = np.asarray(g, dtype=float)
        M = max(M / 2.0, opts["M_min"])
        k += 1
        yield Step(x.astype(out), fx, float(np.linalg.norm(g)), jac=g.astype(out), M=M, hessian_age=k % m)


def _hessian_eig(f, x, dense_max=None):
    H = _hessian(f, x)
    if H is None:
        return None
    if _is_large(H):
        d = H.shape[0]
        if dense_max is None or d > dense_max:
            raise ValueError(f"saddle-free-newton needs all eigenpairs of the Hessian; a sparse or LinearOperator "
                             f"Hessian of "
                             f"dimension {d} is above the option `dense_max` ({dense_max}) up to which it is "
                             "converted to a dense array. Raise `dense_max`, or use 'grad-reg-newton' or "
                             "'lazy-newton' (sparse factorizations)")
        # explicit small-matrix fallback (d <= dense_max), see the module docstring
        H = np.asarray(H.matmat(np.eye(d)), dtype=float) if is_operator(H) else H.toarray()
    return np.linalg.eigh(0.5 * (H + H.T))


def _lazy_quadratic(problem, x0, opts):
    """Lazy Newton with quadratic (gradient) regularization for convex f (Doikov, Chayti &
    Jaggi 2023, Sec. on convex functions): ``x+ = x - (H + lam I)^{-1} grad f(x)`` with
    ``lam = sqrt(M ||grad f(x)||)``, H the Hessian of the last snapshot (eigendecomposed
    once per m steps; sparse H: checked positive semidefinite by the inertia of a sparse
    factorization of H + 1e-10 max|H_ii| I and factored again for each lam). M adapts:
    doubled until the acceptance test ``<grad f(x+), x - x+> >= ||grad f(x+)||^2 / (4 lam)``
    holds, halved after a success."""
    f = problem.objective
    x = np.asarray(x0, dtype=float).copy()
    out = np.asarray(x0).dtype
    m, M = _lazy_params(opts, x.size)
    fx, g = f.value_and_grad(x)
    g = np.asarray(g, dtype=float)
    _check_start(fx, g)
    yield Step(x.astype(out), fx, float(np.linalg.norm(g)), jac=g.astype(out))
    k = 0
    H = lam_H = U = None
    indefinite = (5, "the Hessian is indefinite: the quadratic-regularization variant is for convex "
                     "functions (use regularization='cubic')")
    while True:  # bounded by the loop's maxiter
        if k % m == 0:
            H = _hessian(f, x)
            if H is None:
                return 2, "non-finite Hessian; returning the last finite iterate"
            if is_operator(H):
                pass  # positive definiteness is checked by CG in each solve below
            elif sp.issparse(H):
                scale = float(abs(H).max()) if H.nnz else 0.0
                _, pd = _sym_factor(H + (1e-10 * max(scale, 1e-300)) * sp.identity(H.shape[0], format="csc"))
                if not pd:
                    return indefinite
            else:
                lam_H, U = np.linalg.eigh(0.5 * (H + H.T))
                if lam_H[0] < -1e-10 * max(1.0, abs(lam_H[-1])):
                    return indefinite
        gn = float(np.linalg.norm(g))
        Ug = None if _is_large(H) else U.T @ g
        fn = None
        for _ in range(60):
            lam = math.sqrt(M * gn)
            if _is_large(H):
                solve, pd = _shift_factor(H, lam, rhs=g)
                if solve is None:
                    if is_operator(H):  # CG met negative curvature of H + lam I
                        return indefinite
                    M *= 2.0
                    continue
                h = -solve(g)
            else:
                h = -(U @ (Ug / (np.maximum(lam_H, 0.0) + lam)))
            fn, gnew = f.value_and_grad(x + h)
            gnew = np.asarray(gnew, dtype=float)
            if np.isfinite(fn) and -(gnew @ h) >= (gnew @ gnew) / (4 * lam):
                break
            M *= 2.0
        else:
            if fn is not None and not np.isfinite(fn):
                return _trials_nonfinite("quadratic regularization (M doubled 60 times)")
            return 5, "no accepted step (is the gradient/Hessian correct?)"
        x, fx, g = x + h, fn, gnew
        M = max(M / 2.0, opts["M_min"])
        k += 1
        yield Step(x.astype(out), fx, float(np.linalg.norm(g)), jac=g.astype(out), M=M, hessian_age=k % m)


_POSITIVE = Interval(0, open=("lo",))
_TOL = Option(1e-8, "Tolerance on ||grad f||.", Interval(0))


def _maxiter(what):
    return Option(1000, f"Maximum number of iterations (default 1000; one iteration = {what}).",
                  Interval(0, integer=True))


class _SquareMatrix:
    """Option check: a square 2-D matrix of real numbers (a scipy.sparse matrix or anything
    ``numpy.asarray`` turns into one); returned unchanged."""

    def __call__(self, name, value):
        try:
            a = value if sp.issparse(value) else np.asarray(value)
        except (TypeError, ValueError):  # e.g. ragged nested lists
            a = np.empty(0, dtype=object)
        dtype, shape = a.dtype, a.shape
        if dtype.kind not in "biuf":
            raise TypeError(f"option `{name}` must be a real matrix, got {type(value).__name__}")
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"option `{name}` must be a square matrix (shape (d, d)), got shape {shape}")
        return value

    def __str__(self):
        return "a square real matrix (numpy or scipy.sparse)"

    __repr__ = __str__


def _example(xp):
    def fun(x):
        return float(np.sum((x - 1.0) ** 4) + 0.5 * np.sum(x ** 2))

    return dict(fun=fun, jac=lambda x: 4 * (x - 1.0) ** 3 + x,
                hess=lambda x: np.diag(12 * (x - 1.0) ** 2 + 1.0), x0=np.zeros(4))


register(MethodSpec(
    name="lazy-newton", family="second_order",
    summary="Cubic-regularized Newton with lazy Hessians (one Hessian + eigendecomposition per m steps)",
    solve=_lazy_newton, requires=("grad", "hess"), backends=("numpy",), example=_example, float64_internal=True,
    options={"tol": _TOL,
             "maxiter": _maxiter("one regularized Newton step with the current Hessian snapshot; a new "
                                 "Hessian every m steps"),
             "m": Option(None, "Hessian reuse period (default: the dimension d).", NoneOr(Interval(1, integer=True))),
             "M0": Option(1.0, "Initial cubic regularization (adapted: halved on success, doubled on failure).",
                          FiniteInterval(0, open=("lo",))),
             "M_min": Option(1e-10, "Lower bound on the adaptive M.", _POSITIVE),
             "regularization": Option("cubic", "'cubic' (any f) or 'quadratic' (convex f: lam = sqrt(M ||grad f||))",
                                      Choices("cubic", "quadratic"))},
    optimality="||grad f(x_k)||",
    rate_text="Proven (Doikov, Chayti & Jaggi 2023): cubic regularization, any f with L-Lipschitz Hessian: "
              "min_i ||grad f(x_i)|| = O((sqrt(m) L^{1/2} (f(x0) - f*) / k)^{2/3}) with one Hessian per m steps, "
              "limit points second-order stationary; local superlinear convergence near a nondegenerate minimizer "
              "(for m = 1 this is cubic Newton's local quadratic rate, Nesterov & Polyak 2006). Quadratic "
              "regularization (convex f): global O(1/k^2)-type rate with an m-dependent constant and local "
              "superlinear rate for strongly convex f (Doikov et al. 2023; for m = 1 Mishchenko 2023).",
    rate=None,
    reference="N. Doikov, E.M. Chayti, M. Jaggi. Second-order optimization with lazy Hessians. ICML 2023; "
              "Y. Nesterov, B. Polyak. Cubic regularization of Newton method. Math. Program. 108 (2006)."))


# --- gradient-regularized Newton with approximate Hessians --------------------------------

def _empirical_fisher(f, x):
    """(1/n) sum_i g_i g_i^T with g_i the per-sample gradients: closed form for f = loss(A x)
    (LinearComposite with 1-D predictions), else ``grad_batch(x, [i])`` for each sample of a
    finite-sum objective (e.g. softmax regression on flattened weights)."""
    if not (hasattr(f, "A") and hasattr(getattr(f, "loss", None), "grad_at")):
        G = np.stack([np.asarray(f.grad_batch(x, np.array([i])), dtype=float).ravel() for i in range(f.n_samples)])
        return G.T @ G / f.n_samples
    A, loss = f.A, f.loss
    z = A @ x
    n = A.shape[0]
    d = loss.grad_at(z, np.arange(n)) * n  # phi_i'(z_i)
    if sp.issparse(A):  # stays sparse: (D A)^T (D A) / n
        As = sp.diags(np.asarray(d, dtype=float).ravel()) @ A
        return sp.csc_matrix(As.T @ As / n, dtype=float)
    As = A * d[:, None]
    return np.asarray(As.T @ As / n, dtype=float)


def _solve_shifted(H, lam, Bm, g):
    """Solve (H + lam B) d = g; dense ``np.linalg.solve`` or, for sparse H, a sparse LU
    (B sparse, or a dense user B converted to sparse); a LinearOperator H: conjugate
    gradients (None when CG meets non-positive curvature: gamma is then halved, so lam
    grows until H + lam B is positive definite). None when singular."""
    if is_operator(H):
        solve, _ = _shift_factor(H, lam, Bm, rhs=g)
        return None if solve is None else solve(g)
    if sp.issparse(H):
        K = H + lam * (sp.identity(H.shape[0], format="csc") if Bm is None else Bm)
        solve, _ = _sym_factor(K)
        return None if solve is None else solve(g)
    K = H + lam * (np.eye(H.shape[0]) if Bm is None else (Bm.toarray() if sp.issparse(Bm) else Bm))
    try:
        return np.linalg.solve(K, g)
    except np.linalg.LinAlgError:
        return None


def _grad_reg_newton(problem, x0, opts):
    """x+ = x - (H + lam B)^{-1} grad f(x), lam = ||grad f(x)|| / gamma (Semenov, Jaggi &
    Doikov 2025); gamma doubled after an accepted step, halved after a rejected one.
    A sparse H (or empirical Fisher of a sparse design) is solved with sparse LU."""
    f = problem.objective
    x = np.asarray(x0, dtype=float).copy()
    out = np.asarray(x0).dtype
    gamma, c = float(opts["gamma0"]), float(opts["c"])  # checked by the front door
    approx = opts["hessian"]  # 'exact', 'empirical-fisher' or a callable (the option's check)
    inner = getattr(f, "f", f)
    if approx == "empirical-fisher" and not (
            (hasattr(inner, "A") and hasattr(getattr(inner, "loss", None), "grad_at"))
            or (hasattr(inner, "grad_batch") and hasattr(inner, "n_samples"))):
        raise ValueError("hessian='empirical-fisher' needs per-sample gradients: a numopt.LinearComposite or a "
                         "finite-sum objective with n_samples and grad_batch(x, idx)")
    if approx == "exact" and not (hasattr(f, "has") and f.has("hess")):
        raise ValueError("hessian='exact' needs the Hessian: pass `hess` (or use hessian='empirical-fisher' "
                         "or a callable)")
    B = opts["B"]
    d_ = x.size
    if B is not None:
        Bm = sp.csc_matrix(B, dtype=float) if sp.issparse(B) else np.asarray(B, dtype=float)
        if Bm.shape != (d_, d_):
            raise ValueError(f"`B` must be a ({d_}, {d_}) matrix, got shape {Bm.shape}")
    else:
        Bm = None
    fx, g = f.value_and_grad(x)
    g = np.asarray(g, dtype=float)
    _check_start(fx, g)
    yield Step(x.astype(out), fx, float(np.linalg.norm(g)), jac=g.astype(out))
    while True:  # bounded by the loop's maxiter
        if approx == "exact":
            H = _hessian(f, x)
        elif approx == "empirical-fisher":
            H = _check_matrix(_empirical_fisher(inner, x), d_, "hessian")
        else:
            H = _check_matrix(approx(x), d_, "hessian")
        if H is None:
            return 2, "non-finite Hessian approximation; returning the last finite iterate"
        if sp.issparse(H) and Bm is not None and not sp.issparse(Bm):
            Bm = sp.csc_matrix(Bm)  # keep the sparse H sparse
        gn = float(np.linalg.norm(g))
        fn = None
        for _ in range(80):
            lam = gn / gamma
            d = _solve_shifted(H, lam, Bm, g)
            if d is None:
                gamma *= 0.5
                continue
            fn, gnew = f.value_and_grad(x - d)
            gnew = np.asarray(gnew, dtype=float)
            if np.isfinite(fn) and fn <= fx - c * (g @ d) and g @ d > 0:
                break
            # decrease lost in rounding near the solution: accept a step that shrinks the gradient
            if np.isfinite(fn) and abs(fn - fx) <= 1e-14 * max(1.0, abs(fx)) and gnew @ gnew < gn * gn:
                break
            gamma *= 0.5
        else:
            if fn is not None and not np.isfinite(fn):
                return _trials_nonfinite("gamma search (80 halvings)")
            return 5, "no accepted step after 80 halvings of gamma"
        x, fx, g = x - d, fn, gnew
        gamma *= 2.0
        yield Step(x.astype(out), fx, float(np.linalg.norm(g)), jac=g.astype(out), gamma=gamma, lam=lam)


def _logreg_example(xp):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 5))
    b = np.sign(A @ rng.standard_normal(5) + 0.5 * rng.standard_normal(40))

    def fun(w):
        return float(np.mean(np.logaddexp(0.0, -b * (A @ w))) + 0.05 * w @ w)

    def jac(w):
        s = 1.0 / (1.0 + np.exp(b * (A @ w)))
        return -(A.T @ (b * s)) / 40 + 0.1 * w

    def hess(w):
        s = 1.0 / (1.0 + np.exp(-b * (A @ w)))
        return (A.T * (s * (1 - s))) @ A / 40 + 0.1 * np.eye(5)

    return dict(fun=fun, jac=jac, hess=hess, x0=np.zeros(5))


register(MethodSpec(
    name="grad-reg-newton", family="second_order",
    summary="Gradient-regularized Newton x+ = x - (H + ||grad f||/gamma B)^{-1} grad f, exact or approximate H, adaptive gamma",
    solve=_grad_reg_newton, requires=("grad",), backends=("numpy",), example=_logreg_example,
    float64_internal=True,
    options={"tol": _TOL,
             "maxiter": _maxiter("one accepted step x - (H + lam B)^{-1} grad f(x), one Hessian (approximation) "
                                 "and its gamma search"),
             "gamma0": Option(1.0, "Initial gamma (doubled after accepted steps, halved after rejected ones).",
                              _POSITIVE),
             "hessian": Option("exact", "'exact' (needs hess), 'empirical-fisher' (LinearComposite objectives) or "
                                        "a callable x -> matrix.",
                               Any_(Choices("exact", "empirical-fisher"), IsCallable())),
             "B": Option(None, "Regularization matrix (default identity); its shape (d, d) is checked against x0.",
                         NoneOr(_SquareMatrix())),
             "c": Option(0.25, "Acceptance: f(x+) <= f(x) - c <grad f(x), d>, d = x - x+.",
                         Interval(0, 1, open=("lo", "hi")))},
    optimality="||grad f(x_k)||",
    rate_text="Proven (Semenov, Jaggi & Doikov 2025): with lam = ||grad f|| / gamma the method adapts to the "
              "gradient-normalized smoothness of f: global O(1/k^2) on convex f with Lipschitz Hessian (exact H) "
              "without knowing constants (cf. Mishchenko 2023: O(1/k^2) global, superlinear local for "
              "lam = sqrt(L ||grad f||)); with an approximate H the rate degrades with the approximation error. "
              "Local (exact H, nondegenerate minimizer, unit steps accepted): the step differs from Newton's by "
              "O(lam ||d||) = O(||grad f||^2), an inexact Newton step with forcing term O(||grad f||), hence "
              "quadratic (Dembo, Eisenstat & Steihaug 1982; an argument, not a theorem of the cited paper).",
    rate=None,
    reference="A. Semenov, M. Jaggi, N. Doikov. Gradient-normalized smoothness for optimization with approximate "
              "Hessians. 2025; K. Mishchenko. Regularized Newton method with global O(1/k^2) convergence. SIOPT 2023."))


# --- saddle-free Newton -----------------------------------------------------------------

def _saddle_free(problem, x0, opts):
    """x+ = x - t |H|^{-1} grad f with |H| = U |Lambda| U^T (eigenvalues floored at
    ``damping``) and backtracking on f (Dauphin et al. 2014). At a point with (almost) no
    gradient but negative curvature, the step follows the most negative eigenvector.
    Optimality: ||grad f|| + max(0, -lambda_min(H)) (second-order stationarity).
    A sparse H is converted to dense up to ``dense_max`` variables, else a ValueError."""
    f = problem.objective
    x = np.asarray(x0, dtype=float).copy()
    out = np.asarray(x0).dtype
    damp, dense_max = float(opts["damping"]), int(opts["dense_max"])  # checked by the front door
    fx, g = f.value_and_grad(x)
    g = np.asarray(g, dtype=float)
    _check_start(fx, g)
    eig = _hessian_eig(f, x, dense_max)
    if eig is None:  # the optimality measure at x0 needs lambda_min: no finite iterate to report
        raise ValueError("the Hessian (`hess`) is not finite at x0; start from a point where `fun`, `jac` "
                         "and `hess` are finite")
    yield Step(x.astype(out), fx, float(np.linalg.norm(g)) + _neg_part(eig[0][0]), jac=g.astype(out))
    while True:  # bounded by the loop's maxiter
        lam, U = eig
        Ug = U.T @ g
        d = U @ (Ug / np.maximum(np.abs(lam), damp))
        slope = float(g @ d)
        if lam[0] < -damp and np.linalg.norm(Ug) <= 1e-8 * max(1.0, abs(fx)):
            d = -U[:, 0] * math.sqrt(-lam[0])  # negative-curvature direction (sign is irrelevant)
            slope = 0.0
        t = 1.0
        for _ in range(60):
            fn, gnew = f.value_and_grad(x - t * d)
            if np.isfinite(fn) and fn <= fx - 1e-4 * t * slope and fn < fx:
                break
            t *= 0.5
        else:
            if not np.isfinite(fn):
                return _trials_nonfinite("line search (60 halvings)")
            return 5, "line search failed: no decrease along the saddle-free Newton direction"
        x, fx, g = x - t * d, fn, np.asarray(gnew, dtype=float)
        eig = _hessian_eig(f, x, dense_max)
        if eig is None:
            return 2, "non-finite Hessian; returning the last finite iterate"
        yield Step(x.astype(out), fx, float(np.linalg.norm(g)) + _neg_part(eig[0][0]), jac=g.astype(out),
                   step_size=t, min_eig=float(eig[0][0]))


register(MethodSpec(
    name="saddle-free-newton", family="second_order",
    summary="Saddle-free Newton: Newton step with |H| = U|Lambda|U^T (escapes saddles), backtracking",
    solve=_saddle_free, requires=("grad", "hess"), backends=("numpy",), example=_example,
    float64_internal=True,
    options={"tol": _TOL,
             "maxiter": _maxiter("one eigendecomposition of the Hessian and a backtracking step"),
             "damping": Option(1e-6, "Floor on |eigenvalues| of the Hessian.", _POSITIVE),
             "dense_max": Option(2000, "A sparse Hessian is converted to a dense array for its eigendecomposition "
                                       "up to this dimension; above it the method raises a ValueError.",
                                 Interval(1, integer=True))},
    optimality="||grad f(x_k)|| + max(0, -lambda_min(hess f(x_k)))",
    rate_text="Local quadratic convergence near a nondegenerate minimizer (|H| = H there, so the step is Newton's "
              "and t = 1 is accepted: the classical Newton argument, not proven in Dauphin et al. 2014); repelled "
              "from strict saddles, where plain Newton is attracted (Dauphin et al. 2014, argued, not proven). "
              "No global rate is proven.",
    rate=None,
    reference="Y. Dauphin, R. Pascanu, C. Gulcehre, K. Cho, S. Ganguli, Y. Bengio. Identifying and attacking the "
              "saddle point problem in high-dimensional non-convex optimization. NeurIPS 2014."))
