"""Hessians as scipy users pass them (``minimize(..., hess=...)``), for
:class:`numopt._function_oracle.FunctionOracle`.

* ``hess="2-point" | "3-point" | "cs"``: finite differences, only when asked. With a
  gradient (``jac`` a callable or ``True``) the columns are differences of the gradient
  (forward, central, or a complex step ``Im grad(x + i h e_j) / h`` when ``jac`` accepts
  complex input); without one (``jac=None``, ``"2-point"``, ``"3-point"``, ``"cs"``) they
  come from function values (second differences; ``"cs"``: central differences of the
  complex-step gradient). Steps are relative to the precision of ``x``'s dtype, as
  :func:`numopt._function_oracle._fd_grad` does: ``h = eps^(1/2)``, ``eps^(1/3)`` for a
  first difference of the gradient, ``eps^(1/3)``, ``eps^(1/4)`` for a second difference
  of values, times ``max(1, |x_j|)``; the complex step is ``h = eps max(1, |x_j|)`` (no
  cancellation, error O(h^2)). The result is symmetrized. A Hessian-vector product is one
  directional difference of the gradient (two for "3-point", one complex gradient for
  "cs") when a gradient is available.
* a :class:`scipy.optimize.HessianUpdateStrategy` (``BFGS()``, ``SR1()``): initialized
  with ``n`` at the first gradient and updated with every new pair the oracle sees
  (``s = x_new - x_old``, ``y = g_new - g_old``), as scipy's ``ScalarFunction`` does;
  ``hess(x)`` is ``get_matrix()`` and ``hvp(x, v)`` is ``dot(v)``.

Every function returns the number of calls it made so the oracle can count them
(``nfev``/``njev`` include finite-difference calls).

Large Hessians: :func:`is_operator` recognizes a ``scipy.sparse.linalg.LinearOperator``
(used through ``matvec`` only) and :func:`cg_solve` is the conjugate-gradient solve the
Newton methods use for it, with a non-positive-curvature flag in place of a
factorization's inertia.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ._backend import get_namespace

__all__ = ["FD_SCHEMES", "is_update_strategy", "fd_hessian", "fd_hvp", "cs_grad", "QuasiNewtonHessian",
           "is_operator", "cg", "cg_solve"]

FD_SCHEMES = ("2-point", "3-point", "cs")


def is_update_strategy(obj):
    """Whether ``obj`` is a scipy ``HessianUpdateStrategy`` (``BFGS()``, ``SR1()``, ...)."""
    try:
        from scipy.optimize import HessianUpdateStrategy
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, HessianUpdateStrategy)


def _eps(x, xp):
    return float(xp.finfo(x.dtype).eps)


def _complex_dtype(x, xp):
    return xp.complex64 if x.dtype == xp.float32 else xp.complex128


def _unit(x, xp, j, h):
    """``x + h e_j`` (``h`` a real or complex Python number) in x's (or complex) dtype."""
    idx = xp.arange(x.shape[0])
    return xp.where(idx == j, x + h, x)


def _imag(v, xp, name):
    """Imaginary part of a complex-step evaluation, as an array; a ValueError naming
    ``name`` when the value came back real (the function dropped the imaginary part)."""
    a = xp.asarray(v)
    if not xp.isdtype(a.dtype, "complex floating"):
        raise ValueError(f"complex step: `{name}` returned a real value for a complex input (it must "
                         "propagate complex numbers, e.g. no float(), abs() or .real); use '2-point' or '3-point'")
    return xp.imag(a)


def _call_complex(func, z, name):
    """``func(z)`` for a complex ``z``; a ValueError naming ``name`` when ``func`` does not
    accept complex input (raises, or discards the imaginary part with a ComplexWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        try:
            return func(z)
        except (TypeError, ValueError, np.exceptions.ComplexWarning) as e:
            raise ValueError(f"complex step needs `{name}` to accept complex input (it raised "
                             f"{type(e).__name__}: {e}); use '2-point' or '3-point'") from e


def cs_grad(fun, x):
    """Complex-step gradient ``g_j = Im f(x + i h e_j) / h``, ``h = eps max(1, |x_j|)``:
    exact to rounding (no subtractive cancellation). ``fun`` must accept complex input.
    Returns ``(gradient, calls of fun)``."""
    xp = get_namespace(x)
    eps = _eps(x, xp)
    xc = xp.astype(x, _complex_dtype(x, xp))
    g = []
    for j in range(x.shape[0]):
        h = eps * max(1.0, abs(float(x[j])))
        v = _call_complex(fun, _unit(xc, xp, j, 1j * h), "fun")
        im = xp.reshape(_imag(v, xp, "fun"), (-1,))
        if im.shape[0] != 1:
            raise ValueError(f"`fun` must return a scalar, got an array of shape {tuple(xp.asarray(v).shape)}")
        g.append(float(im[0]) / h)
    return xp.asarray(g, dtype=x.dtype), x.shape[0]


def _sym(H, xp):
    return 0.5 * (H + xp.permute_dims(H, (1, 0)))


def _hess_from_grad(grad, x, scheme, g0=None):
    """Columns ``(g(x + h e_j) - g(x)) / h`` (2-point), central (3-point) or
    ``Im g(x + i h e_j) / h`` (cs). Returns ``(H, gradient calls)``."""
    xp = get_namespace(x)
    eps, n = _eps(x, xp), x.shape[0]
    cols, calls = [], 0
    if scheme == "2-point" and g0 is None:
        g0, calls = xp.asarray(grad(x), dtype=x.dtype), 1
    xc = xp.astype(x, _complex_dtype(x, xp)) if scheme == "cs" else None
    for j in range(n):
        s = max(1.0, abs(float(x[j])))
        if scheme == "2-point":
            xh = _unit(x, xp, j, math.sqrt(eps) * s)
            cols.append((xp.asarray(grad(xh), dtype=x.dtype) - g0) / float(xh[j] - x[j]))
            calls += 1
        elif scheme == "3-point":
            h = eps ** (1 / 3) * s
            xa, xb = _unit(x, xp, j, h), _unit(x, xp, j, -h)
            cols.append((xp.asarray(grad(xa), dtype=x.dtype) - xp.asarray(grad(xb), dtype=x.dtype))
                        / float(xa[j] - xb[j]))
            calls += 2
        else:
            h = eps * s
            v = _call_complex(grad, _unit(xc, xp, j, 1j * h), "jac")
            cols.append(xp.astype(_imag(v, xp, "jac"), x.dtype) / h)
            calls += 1
    return _sym(xp.stack(cols, axis=1), xp), calls


def _hess_from_values(fun, x, scheme):
    """Second differences of ``fun`` (2-point: forward, 3-point: central) or, for "cs",
    central differences of the complex-step gradient. Returns ``(H, calls of fun)``."""
    xp = get_namespace(x)
    eps, n = _eps(x, xp), x.shape[0]
    if scheme == "cs":
        return _hess_from_grad(lambda z: cs_grad(fun, z)[0], x, "3-point")[0], 2 * n * n
    h = [(eps ** (1 / 3) if scheme == "2-point" else eps ** 0.25) * max(1.0, abs(float(x[j])))
         for j in range(n)]
    idx = xp.arange(n)

    def shifted(pairs):
        z = x
        for j, t in pairs:
            z = xp.where(idx == j, z + t, z)
        return fun(z)

    H = [[0.0] * n for _ in range(n)]
    calls = 0
    if scheme == "2-point":
        f0 = fun(x)
        fi = [shifted([(i, h[i])]) for i in range(n)]
        calls += 1 + n
        for i in range(n):
            for j in range(i, n):
                fij = shifted([(i, h[i]), (j, h[j])]) if i != j else shifted([(i, 2 * h[i])])
                calls += 1
                if i == j:  # (f(x + 2h) - 2 f(x + h) + f(x)) / h^2
                    H[i][i] = (fij - 2 * fi[i] + f0) / (h[i] * h[i])
                else:
                    H[i][j] = H[j][i] = (fij - fi[i] - fi[j] + f0) / (h[i] * h[j])
    else:
        f0 = fun(x)
        calls += 1
        for i in range(n):
            for j in range(i, n):
                if i == j:
                    fp, fm = shifted([(i, 2 * h[i])]), shifted([(i, -2 * h[i])])
                    H[i][i] = (fp - 2 * f0 + fm) / (4 * h[i] * h[i])
                    calls += 2
                else:
                    v = [shifted([(i, a * h[i]), (j, b * h[j])]) for a, b in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
                    H[i][j] = H[j][i] = (v[0] - v[1] - v[2] + v[3]) / (4 * h[i] * h[j])
                    calls += 4
    return xp.asarray(H, dtype=x.dtype), calls


def fd_hessian(x, scheme, fun=None, grad=None):
    """Finite-difference Hessian at ``x``: from ``grad`` when given, else from ``fun``.
    Returns ``(H, fun calls, grad calls)``."""
    if grad is not None:
        H, calls = _hess_from_grad(grad, x, scheme)
        return H, 0, calls
    H, calls = _hess_from_values(fun, x, scheme)
    return H, calls, 0


def fd_hvp(grad, x, v, scheme, g0=None):
    """``H(x) v`` by one directional difference of the gradient: forward
    ``(g(x + h v) - g(x)) / h``, central, or complex ``Im g(x + i h v) / h``, with
    ``h = eps^(1/2 | 1/3 | 1) max(1, ||x||) / ||v||``. Returns ``(Hv, grad calls)``."""
    xp = get_namespace(x)
    eps = _eps(x, xp)
    nv = float(xp.linalg.vector_norm(v))
    if nv == 0:
        return xp.zeros_like(x), 0
    s = max(1.0, float(xp.linalg.vector_norm(x))) / nv
    if scheme == "2-point":
        h = math.sqrt(eps) * s
        if g0 is None:
            g0 = xp.asarray(grad(x), dtype=x.dtype)
            return (xp.asarray(grad(x + h * v), dtype=x.dtype) - g0) / h, 2
        return (xp.asarray(grad(x + h * v), dtype=x.dtype) - g0) / h, 1
    if scheme == "3-point":
        h = eps ** (1 / 3) * s
        return (xp.asarray(grad(x + h * v), dtype=x.dtype) - xp.asarray(grad(x - h * v), dtype=x.dtype)) / (2 * h), 2
    h = eps * s
    z = xp.astype(x, _complex_dtype(x, xp)) + (1j * h) * xp.astype(v, _complex_dtype(x, xp))
    out = _call_complex(grad, z, "jac")
    return xp.astype(_imag(out, xp, "jac"), x.dtype) / h, 1


class QuasiNewtonHessian:
    """A scipy ``HessianUpdateStrategy`` fed by the gradients an oracle computes.

    ``observe(x, g)`` is called with every gradient: the first call initializes the
    strategy with ``n = x.size`` (approximation of the Hessian, not its inverse); each
    later call at a new point updates it with ``s = x - x_prev``, ``y = g - g_prev``.
    ``matrix()`` is ``get_matrix()`` and ``dot(v)`` is the strategy's ``dot``. The
    strategy itself keeps the curvature safeguards of its class (BFGS skips or damps an
    update with ``s^T y <= 0``; SR1 skips a near-singular one)."""

    def __init__(self, strategy):
        self.strategy = strategy
        self._prev = None

    def observe(self, x, g):
        x = np.array(x, dtype=float).ravel()  # scipy's strategies are numpy-only
        g = np.array(g, dtype=float).ravel()
        if self._prev is None:
            self.strategy.initialize(x.size, "hess")
        else:
            s, y = x - self._prev[0], g - self._prev[1]
            if np.any(s != 0):
                self.strategy.update(s, y)
        if self._prev is None or np.any(x != self._prev[0]):
            self._prev = (x, g)

    def _ready(self):
        if self._prev is None:
            raise ValueError("the quasi-Newton Hessian (`hess` = a HessianUpdateStrategy) is used before "
                             "any gradient was computed")

    def matrix(self):
        self._ready()
        return self.strategy.get_matrix()

    def dot(self, v):
        self._ready()
        return self.strategy.dot(np.asarray(v, dtype=float))


def is_operator(H):
    """Whether ``H`` is a :class:`scipy.sparse.linalg.LinearOperator` (used through
    ``matvec`` only, never densified)."""
    try:
        from scipy.sparse.linalg import LinearOperator
    except ImportError:  # pragma: no cover
        return False
    return isinstance(H, LinearOperator)


def cg(matvec, b, tol, maxiter):
    """Conjugate gradient for ``H v = b`` from v = 0, stopping at ``||r|| <= tol ||b||``.

    Returns ``(v, info)``: ``info["converged"]`` (the residual test held), ``info["residual"]``
    (``||b - H v||`` as tracked by the recursion), ``info["iterations"]`` and
    ``info["curvature"]``: None, or the first non-positive (or non-finite) ``p^T H p`` met, in
    which case H is not positive definite (or its products are not finite) and v is the
    iterate before that direction (the caller decides: ``bilevel_hypergradient`` raises, :func:`cg_solve` reports it)."""
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = float(r @ r)
    bn = math.sqrt(float(b @ b)) or 1.0
    info = {"converged": False, "residual": math.sqrt(rr), "iterations": 0, "curvature": None}
    for it in range(maxiter + 1):
        info["iterations"], info["residual"] = it, math.sqrt(rr)
        if math.sqrt(rr) <= tol * bn:
            info["converged"] = True
            break
        if it == maxiter:
            break
        Ap = matvec(p)
        pAp = float(p @ Ap)
        if not pAp > 0:  # not positive definite along p (or a non-finite product): stop and report it
            info["curvature"] = pAp / max(float(p @ p), 1e-300)
            break
        a = rr / pAp
        x += a * p
        r -= a * Ap
        rr_new = float(r @ r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x, info


def cg_solve(matvec, b, rtol=1e-10, maxiter=None):
    """Conjugate gradients for ``K x = b`` with ``K`` given by ``matvec`` (numpy float64).

    Returns ``(x, positive)``: ``positive`` is False when a search direction has
    non-positive (or non-finite) curvature ``p^T K p`` (K is then not positive definite,
    a certificate along the Krylov space, not a full inertia check). Stops when
    ``||b - K x|| <= rtol ||b||`` or after ``maxiter`` (default ``2 n + 20``) products
    (:func:`cg`)."""
    b = np.asarray(b, dtype=float)
    x, info = cg(lambda v: np.asarray(matvec(v), dtype=float).ravel(), b, rtol,
                 2 * b.size + 20 if maxiter is None else int(maxiter))
    return x, info["curvature"] is None


# --- shifted Hessian systems of the Newton family (numopt.solvers.second_order) --------------

def _sym_factor(K):
    """Sparse LU of the symmetric matrix K with symmetric (diagonal) pivoting: returns
    ``(solve, positive_definite)``; ``(None, False)`` when K is singular. With the same row
    and column permutation, K = P^T L D L^T P and the signs of D = diag(U) are K's inertia."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    try:
        lu = spla.splu(sp.csc_matrix(K), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                       options=dict(SymmetricMode=True))
    except RuntimeError:  # exactly singular
        return None, False
    piv = lu.U.diagonal()
    pd = bool(np.array_equal(lu.perm_r, lu.perm_c)) and bool(np.all(piv > 0))
    return lu.solve, pd


def _is_large(H):
    """A Hessian handled by factorizations or iterative solves (not eigendecomposed)."""
    import scipy.sparse as sp  # (imported here: `import numopt` stays free of scipy.sparse)

    return sp.issparse(H) or is_operator(H)


def _matvec(K, v):
    return K.matvec(v) if is_operator(K) else K @ v


def _shift_factor(H, r, B=None, rhs=None):
    """``(solve, positive_definite)`` for K = H + r B (B None: identity). Sparse H: a sparse
    LU (inertia from its pivots). LinearOperator H: conjugate gradients on ``rhs`` (negative
    curvature met by CG means not positive definite), each later ``solve`` one more CG run;
    ``(None, False)`` when K is singular / not positive definite along CG's directions."""
    if not is_operator(H):
        import scipy.sparse as sp

        d = H.shape[0]
        return _sym_factor(H + r * (sp.identity(d, format="csc") if B is None else B))

    def mv(v):
        return np.asarray(H.matvec(v), dtype=float).ravel() + r * (v if B is None else _matvec(B, v))

    first = {}
    if rhs is not None:
        sol, pd = cg_solve(mv, rhs)
        if not pd:
            return None, False
        first["x"] = (rhs, sol)

    def solve(b):
        if "x" in first and first["x"][0] is b:
            return first["x"][1]
        return cg_solve(mv, b)[0]
    return solve, True


def _sparse_cubic_step(H, g, M, max_factor=100):
    """Minimizer of <g,h> + 1/2 h^T H h + M/6 ||h||^3 for a sparse symmetric H (or a
    LinearOperator, solved by CG, see :func:`_shift_factor`): the root
    r >= max(0, -lambda_min(H)) of ``||(H + r I)^{-1} g|| = 2 r / M`` (safeguarded Newton on
    ``1/||h(r)|| - M/(2r)``, bisection fallback), each trial r one sparse factorization
    (at most ``2 max_factor``). Returns (h, r) at the smallest accepted r found (where
    ``||h|| <= 2r/M``: never a step longer than the model's minimizer), or (None, r) if no
    positive definite shift was found."""
    d = H.shape[0]
    gn = float(np.linalg.norm(g))
    if gn == 0:
        return np.zeros(d), 0.0

    def trial(r):
        solve, pd = _shift_factor(H, r, rhs=g)
        return (-solve(g), solve) if pd else None

    lo, hi = 0.0, max(1.0, math.sqrt(M * gn))
    best = None
    for _ in range(max_factor):  # upper end: H + hi I PD and ||h(hi)|| <= 2 hi / M
        t = trial(hi)
        if t is not None and float(np.linalg.norm(t[0])) <= 2 * hi / M:
            best = (hi, t[0])
            break
        lo, hi = hi, 4.0 * hi
    if best is None:
        return None, hi
    r = 0.5 * (lo + hi)
    for _ in range(max_factor):
        t = trial(r)
        if t is None:  # below -lambda_min(H)
            lo = r
        else:
            h, solve = t
            nh = float(np.linalg.norm(h))
            phi = nh - 2 * r / M
            if phi > 0:
                lo = r
            else:
                hi, best = r, (r, h)
            if abs(phi) <= 1e-12 * max(nh, 2 * r / M):
                return h, r
            dpsi = float(h @ solve(h)) / nh ** 3 + M / (2 * r * r)  # psi(r) = 1/||h|| - M/(2r)
            r_new = r - (1.0 / nh - M / (2 * r)) / dpsi
            if lo < r_new < hi:
                r = r_new
                continue
        if hi - lo <= 1e-14 * max(1.0, hi):
            break
        r = 0.5 * (lo + hi)
    return best[1], best[0]
