"""Polynomial preconditioning (Doikov & Rodomanov, "Polynomial Preconditioning for
Gradient Methods", ICML 2023): methods ``"poly-gd"`` and ``"poly-fgm"``.

The curvature matrix ``B`` (the Hessian at x0, seen only through Hessian-vector
products) with eigenvalues ``l_1 >= ... >= l_n`` is preconditioned by the symmetric
polynomial of order ``tau``

    P_tau = (1 / e_{tau+1}) * sum_{i=0}^{tau} (-1)^i e_{tau-i} B^i,

``e_k`` the elementary symmetric polynomials of the eigenvalues, obtained from the
traces ``p_k = tr(B^k)`` by Newton's identities ``k e_k = sum_{i=1}^k (-1)^{i-1} e_{k-i} p_i``
(exact traces for n <= ``exact_trace_max``, Hutchinson estimates otherwise).
Applying ``P_tau`` costs ``tau`` products with B. The eigenvalues of ``P_tau B`` are the
volume-sampling inclusion probabilities ``1 - e_{tau+1}(l without l_j) / e_{tau+1}(l)``
in (0, 1], so (shown in the docs and tests)

    kappa(P_tau B) <= (sum_{i > tau} l_i) / l_n:

the gaps between the top tau eigenvalues stop mattering. ``tau = 0`` is ``P = I / tr B``.

* ``poly-gd``: ``x+ = x - h P grad f(x)`` with Armijo backtracking from ``h = 1``;
  rate ``(1 - 1/kappa_tau)^k`` on quadratics.
* ``poly-fgm``: Nesterov's fast gradient method in the metric ``P^{-1}`` (backtracking
  on L from 1); rate ``(1 - 1/sqrt(kappa_tau))^k``.

For comparison (option ``polynomial``): ``"chebyshev"`` uses the degree-tau polynomial
closest to 1/l on [a, b] (Chebyshev semi-iteration; kappa(p(B) B) ~ kappa / (tau + 1)^2:
outliers still count), ``"krylov"`` the adaptive choice of the paper: at each step the
best polynomial in B applied to the gradient, found by minimizing the quadratic model of f
(curvature B) over ``span{g, B g, ..., B^tau g}`` (tau + 1 products with B per step).

Optimality measure: ``||grad f(x_k)||``.
"""
from __future__ import annotations

import math

import numpy as np

from .._backend import get_namespace, norm, vdot
from .._loop import Step
from .._options import Choices, Interval, NoneOr, Option, generator
from .._registry import MethodSpec, register

__all__ = ["elementary_symmetric_from_traces", "PolynomialPreconditioner"]


def elementary_symmetric_from_traces(p, k_max):
    """e_0..e_kmax from power sums p[1..k_max] (p[0] unused) by Newton's identities."""
    e = [1.0]
    for k in range(1, k_max + 1):
        s = sum((-1) ** (i - 1) * e[k - i] * p[i] for i in range(1, k + 1))
        e.append(s / k)
    return e


class PolynomialPreconditioner:
    """P_tau built from Hessian-vector products ``matvec(v) = B v`` (see module docstring)."""

    def __init__(self, matvec, n, tau, xp, dtype, exact_trace_max=500, n_probes=30, rng=None):
        if tau < 0:
            raise ValueError(f"`tau` must be >= 0, got {tau}")
        self.matvec, self.tau = matvec, tau
        p = [0.0] * (tau + 2)
        if n <= exact_trace_max:
            cols = [matvec(xp.asarray(np.eye(n)[i], dtype=dtype)) for i in range(n)]
            B = np.asarray(np.stack([np.asarray(c) for c in cols], axis=1), dtype=float)
            B = 0.5 * (B + B.T)
            M = np.eye(n)
            for k in range(1, tau + 2):
                M = M @ B
                p[k] = float(np.trace(M))
        else:
            g = generator(rng)  # None: reproducible
            for _ in range(n_probes):
                z = xp.asarray(g.choice([-1.0, 1.0], size=n), dtype=dtype)
                v = z
                for k in range(1, tau + 2):
                    v = matvec(v)
                    p[k] += vdot(z, v) / n_probes
        self.e = elementary_symmetric_from_traces(p, tau + 1)
        if not all(math.isfinite(ek) for ek in self.e):
            raise ValueError("the Hessian-vector products at x0 are not finite (traces of B: "
                             f"{p[1:]}); polynomial preconditioning needs a finite curvature matrix")
        if not all(ek > 0 for ek in self.e[1:]):
            raise ValueError("the curvature matrix is not positive definite (e_{tau+1} <= 0): "
                             "polynomial preconditioning needs a convex problem")
        self.coef = [(-1) ** i * self.e[tau - i] / self.e[tau + 1] for i in range(tau + 1)]

    def __call__(self, g):
        """P g by Horner's rule (tau products with B), in g's dtype."""
        out = self.coef[self.tau] * g
        for i in range(self.tau - 1, -1, -1):
            out = self.matvec(out) + self.coef[i] * g
        if out.dtype != g.dtype:
            out = get_namespace(g).astype(out, g.dtype)
        return out


def spectral_interval(matvec, n, xp, dtype, rng=None, iters=None):
    """(l_min, l_max) of a symmetric positive definite operator by Lanczos
    (``scipy.sparse.linalg.eigsh`` on a LinearOperator; numpy vectors at the boundary)."""
    from scipy.sparse.linalg import LinearOperator, eigsh

    def mv(v):
        return np.asarray(matvec(xp.asarray(np.ravel(v), dtype=dtype)), dtype=float)

    op = LinearOperator((n, n), matvec=mv, dtype=float)
    if n <= 2:
        B = np.column_stack([mv(e) for e in np.eye(n)])
        w = np.linalg.eigvalsh(0.5 * (B + B.T))
        return float(w[0]), float(w[-1])
    v0 = generator(rng).standard_normal(n)
    hi = float(eigsh(op, k=1, which="LA", v0=v0, return_eigenvectors=False, maxiter=iters or 20 * n)[0])
    lo = float(eigsh(op, k=1, which="SA", v0=v0, return_eigenvectors=False, maxiter=iters or 20 * n)[0])
    return lo, hi


class ChebyshevPreconditioner:
    """p(B) with 1 - l p(l) = T_{tau+1}((b + a - 2 l)/(b - a)) / T_{tau+1}((b + a)/(b - a)):
    the degree-tau polynomial closest to 1/l uniformly on [a, b] (``tau + 1`` steps of the
    Chebyshev semi-iteration for B z = g from z = 0: tau products with B). Condition number
    of p(B) B: at most about kappa / (tau + 1)^2 for kappa = b/a (the outliers count in full)."""

    def __init__(self, matvec, a, b, tau):
        if not (0 < a <= b):
            raise ValueError(f"the Chebyshev interval must satisfy 0 < a <= b, got ({a}, {b})")
        if tau < 0:
            raise ValueError(f"`tau` must be >= 0, got {tau}")
        self.matvec, self.a, self.b, self.tau = matvec, float(a), float(b), tau

    def __call__(self, g):
        theta, delta = 0.5 * (self.b + self.a), 0.5 * (self.b - self.a)
        d = g / theta
        z = d
        if self.tau == 0 or delta == 0:
            return z
        sigma = theta / delta
        rho = 1.0 / sigma
        r = g
        for _ in range(self.tau):
            r = r - self.matvec(d)
            rho_new = 1.0 / (2 * sigma - rho)
            d = (rho_new * rho) * d + (2 * rho_new / delta) * r
            z = z + d
            rho = rho_new
        return z


def _precond(problem, x0, opts):
    f = problem.objective
    xp = get_namespace(x0)
    kind = opts["polynomial"]
    matvec = (lambda v: f.hvp(x0, v))  # noqa: E731
    if kind == "symmetric":
        return PolynomialPreconditioner(matvec, x0.shape[0], opts["tau"], xp, x0.dtype,
                                        opts["exact_trace_max"], opts["n_probes"], opts["rng"])
    if kind == "chebyshev":
        a, b = opts["interval"] if opts["interval"] is not None else spectral_interval(matvec, x0.shape[0], xp, x0.dtype,
                                                                                         opts["rng"])
        if a <= 0:
            raise ValueError("the curvature matrix is not positive definite (smallest eigenvalue <= 0): "
                             "polynomial preconditioning needs a convex problem")
        return ChebyshevPreconditioner(matvec, a, b, opts["tau"])
    return _KrylovStep(matvec, opts["tau"])  # kind == "krylov" (the option's check)


class _KrylovStep:
    """The best polynomial step: d = V c minimizing <B d, d>/2 - <g, d> over the Krylov
    subspace V = span{g, B g, ..., B^tau g} (orthonormalized; tau + 1 products with B)."""

    def __init__(self, matvec, tau):
        if tau < 0:
            raise ValueError(f"`tau` must be >= 0, got {tau}")
        self.matvec, self.tau = matvec, tau

    def __call__(self, g):
        xp = get_namespace(g)
        cols, bcols = [], []
        v = g
        for _ in range(self.tau + 1):
            for u in cols:  # modified Gram-Schmidt
                v = v - vdot(u, v) * u
            nv = norm(v)
            if not nv > 1e-14 * norm(g):
                break
            v = v / nv
            cols.append(v)
            bv = self.matvec(v)
            bcols.append(bv)
            v = bv
        V, BV = xp.stack(cols, axis=1), xp.stack(bcols, axis=1)
        T = V.T @ BV
        T = 0.5 * (T + T.T)
        c = xp.linalg.solve(T, V.T @ g[:, None])
        return (V @ c)[:, 0]


def _accept(f, fy, fz, z, d, gd, s, slack_rel=1e-10):
    """Armijo with c = 1/2 for the step z = y - s d (gd = <grad f(y), d> > 0):
    f(z) <= f(y) - s gd / 2. When f(z) and f(y) agree to ``slack_rel`` (relative) their
    difference is mostly rounding (the comparison would fail at random and shrink the step
    for nothing), so the test falls back on the gradient (Hager & Zhang's approximate
    Armijo condition; for quadratics it is the same test): <grad f(z), d> >= 0, the step
    does not pass the minimizer along d. Returns (accepted, grad f(z) or None)."""
    if fz <= fy - 0.5 * s * gd:
        return True, None
    if abs(fz - fy) <= slack_rel * abs(fy):
        gz = f.grad(z)
        return bool(vdot(gz, d) >= 0), gz
    return False, None


def _poly_gd(problem, x0, opts):
    from .first_order import reject_unused_terms

    reject_unused_terms(problem, "poly-gd")
    f = problem.objective
    P = _precond(problem, x0, opts)
    x = x0
    fx, g = f.value_and_grad(x)
    h = 1.0
    yield Step(x, fx, norm(g), jac=g)
    while True:  # bounded by the loop's maxiter
        d = P(g)
        gd = vdot(g, d)
        if not gd > 0:
            return (2, "non-finite preconditioned gradient") if not math.isfinite(gd) else \
                (5, "the preconditioned gradient is not a descent direction (<g, P g> <= 0)")
        for _ in range(60):
            xn = x - h * d
            fn = f.value(xn)
            ok, gn = _accept(f, fx, fn, xn, d, gd, h)
            if ok:
                break
            h *= 0.5
        else:
            return 5, "line search failed (is the Hessian-vector product consistent with the gradient?)"
        x, fx = xn, fn
        g = f.grad(x) if gn is None else gn
        h = min(1.0, 2 * h)
        yield Step(x, fx, norm(g), jac=g, step_size=h)


def _poly_fgm(problem, x0, opts):
    """Nesterov's fast gradient method in the metric P^{-1}: z = y - P g(y) / L with
    backtracking on L (from 1: the eigenvalues of P_tau B are in (0, 1]), momentum
    (t_k - 1)/t_{k+1} and adaptive restart (O'Donoghue & Candes): with ``"gradient"`` (the
    default) momentum is reset when <g(y), z - x> > 0, which recovers the linear rate
    (1 - 1/sqrt(kappa_tau))^k without knowing the strong convexity."""
    from .first_order import reject_unused_terms

    reject_unused_terms(problem, "poly-fgm")
    restart = opts["restart"]
    f = problem.objective
    P = _precond(problem, x0, opts)
    x = y = x0
    fx, g = f.value_and_grad(x)
    yield Step(x, fx, norm(g), jac=g, L=1.0, restarts=0)
    L, t, restarts = 1.0, 1.0, 0
    fy, gy = fx, g
    while True:  # bounded by the loop's maxiter
        d = P(gy)
        gd = vdot(gy, d)
        if not gd > 0:
            return (2, "non-finite preconditioned gradient") if not math.isfinite(gd) else \
                (5, "the preconditioned gradient is not a descent direction (<g, P g> <= 0)")
        for _ in range(60):
            z = y - d / L
            fz = f.value(z)
            ok, gz = _accept(f, fy, fz, z, d, gd, 1.0 / L)
            if ok:
                break
            L *= 2.0
        else:
            return 5, "line search failed"
        gx = f.grad(z) if gz is None else gz
        t_new = 0.5 * (1 + math.sqrt(1 + 4 * t * t))
        y_new = z + ((t - 1) / t_new) * (z - x)
        if restart == "gradient":
            reset = vdot(gy, z - x) > 0  # the step z - x goes uphill for the gradient at y
        elif restart == "function":
            dF, noise = fz - fx, 1e-12 * max(abs(fz), abs(fx))
            reset = dF > noise or (abs(dF) <= noise and vdot(gy, z - x) > 0)
        else:
            reset = False
        if reset:
            t_new, y_new = 1.0, z
            restarts += 1
        x, fx, t, y = z, fz, t_new, y_new
        if y is z:
            fy, gy = fx, gx
        else:
            fy, gy = f.value_and_grad(y)
        yield Step(x, fx, norm(gx), jac=gx, L=L, restarts=restarts)


def _example(xp):
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    A = (Q * np.concatenate([np.geomspace(0.1, 1, 6), [30.0, 50.0]])) @ Q.T
    A = xp.asarray(0.5 * (A + A.T))
    b = xp.asarray(rng.standard_normal(8))
    return dict(fun=lambda x: float(0.5 * xp.sum(x * (A @ x)) - xp.sum(b * x)), jac=lambda x: A @ x - b,
                hessp=lambda x, v: A @ v, x0=xp.zeros(8, dtype=xp.float64))


class _SpectrumInterval:
    """An interval (a, b) with 0 < a <= b < inf (the option ``interval``)."""

    def __call__(self, name, value):
        try:
            a, b = (float(v) for v in value)
        except (TypeError, ValueError):
            raise TypeError(f"option `{name}` must be a pair (a, b) of numbers, got {value!r}") from None
        if not (0 < a <= b < math.inf):
            raise ValueError(f"option `{name}` must satisfy 0 < a <= b < inf, got {value!r}")
        return (a, b)

    def __str__(self):
        return "a pair (a, b), 0 < a <= b < inf"

    __repr__ = __str__


_OPTS = {"tol": Option(1e-8, "Tolerance on ||grad f||.", Interval(0)),
         "maxiter": Option(1000, "Maximum number of iterations (default 1000; one preconditioned gradient step, "
                                 "tau products with B, per iteration).", Interval(0, integer=True)),
         "tau": Option(2, "Order of the symmetric polynomial (tau products with B per step).",
                       Interval(0, integer=True)),
         "exact_trace_max": Option(500, "Exact traces (n Hessian-vector products) up to this dimension.",
                                   Interval(0, integer=True)),
         "n_probes": Option(30, "Hutchinson probes for the traces above exact_trace_max.", Interval(1, integer=True)),
         "rng": Option(None, "Seed or Generator for the Hutchinson probes / the Lanczos start (None: seed 0, "
                             "reproducible)."),
         "polynomial": Option("symmetric", "'symmetric' (Doikov & Rodomanov), 'chebyshev' (on [a, b] = interval or "
                                           "Lanczos estimates) or 'krylov' (best step in span{g, ..., B^tau g}).",
                              Choices("symmetric", "chebyshev", "krylov")),
         "interval": Option(None, "(a, b) containing the spectrum of B, for polynomial='chebyshev' (default: "
                                  "Lanczos).", NoneOr(_SpectrumInterval()))}
_REF = "N. Doikov, A. Rodomanov. Polynomial Preconditioning for Gradient Methods. ICML 2023."
register(MethodSpec(
    name="poly-gd", family="polynomial", summary="Gradient method with symmetric-polynomial preconditioning",
    solve=_poly_gd, requires=("grad", "hvp"), options=dict(_OPTS), example=_example,
    optimality="||grad f(x_k)||",
    rate_text="Quadratics: f(x_k) - f* <= (1 - 1/kappa_tau)^k (f(x0) - f*), kappa_tau = kappa(P_tau B) "
              "<= (sum_{i>tau} l_i) / l_n.", rate=None, reference=_REF))
register(MethodSpec(
    name="poly-fgm", family="polynomial", summary="Fast gradient method with symmetric-polynomial preconditioning",
    solve=_poly_fgm, requires=("grad", "hvp"), example=_example,
    options=dict(_OPTS, restart=Option("gradient", "Adaptive restart of the momentum: 'gradient' (default; "
                                                   "<g(y_k), x_{k+1} - x_k> > 0), 'function' (F increases beyond "
                                                   "its rounding) or None (plain O(1/k^2) momentum, no linear rate).",
                                       Choices("gradient", "function", None))),
    optimality="||grad f(x_k)||",
    rate_text="Quadratics: O((1 - 1/sqrt(kappa_tau))^k), kappa_tau <= (sum_{i>tau} l_i) / l_n.",
    rate=None, reference=_REF))
