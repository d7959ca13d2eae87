"""Datafits: losses on the predictions ``z = A x`` (the ``f(Ax)`` composite form).

A datafit ``F(z) = sum_i phi_i(z_i)`` (scaled by 1/n as scikit-learn does) has
``value(z)``, ``grad(z)``, ``hess_diag(z)``, ``smoothness`` (a bound on every
``phi_i''``, so that ``||A||^2 * smoothness`` bounds the Lipschitz constant of the
gradient of ``F(Ax)`` and ``||A_j||^2 * smoothness`` the coordinate-wise ones) and,
where it has one, the convex conjugate ``conjugate(u)`` used by :func:`duality_gap`.
Combine with a design matrix through :class:`numopt.LinearComposite`.

The datafit carries its coordinate update for the numba BCD kernels: ``fast_kind`` is
``"quadratic"`` (exact coordinate minimization, the residual ``y - Xw`` maintained), or
``"logistic"`` / ``"smooth"`` with ``coordinate_kernel()`` returning a
:class:`CoordinateKernel` (a numba per-sample derivative ``phi'(z_i, y_i, param)`` and the
bound ``curvature`` on ``phi''``): proximal coordinate gradient steps with the
predictions ``Xw`` maintained ("logistic" adds the logistic-specific working-set
machinery: greedy rules on CSR rows, prox-Newton). ``None``: BCD runs its generic path.
A new separable datafit reaches the fast path by supplying such a kernel.
"""
from __future__ import annotations

import math

from ._backend import get_namespace

__all__ = ["CoordinateKernel", "Quadratic", "Logistic", "SquaredHinge", "Huber", "Multinomial", "duality_gap", "relative_gap_measure", "lambda_max"]


class Quadratic:
    """F(z) = 1/(2n) ||z - y||^2 (least squares, scikit-learn's Lasso scaling)."""

    name = "quadratic"
    fast_kind = "quadratic"  # BCD numba kernels (module docstring)

    def __init__(self, y):
        self.y = y
        self.n = y.shape[0]
        self.smoothness = 1.0 / self.n

    def value(self, z):
        xp = get_namespace(z)
        r = z - self.y
        return float(xp.sum(r * r)) / (2 * self.n)

    def grad(self, z):
        return (z - self.y) / self.n

    def hess_diag(self, z):
        xp = get_namespace(z)
        return xp.full_like(z, 1.0 / self.n)

    def grad_at(self, z_sub, idx):
        """Derivatives phi_i'(z_i) for the samples ``idx`` (minibatch gradients)."""
        return (z_sub - self.y[idx]) / self.n

    def conjugate(self, u):
        """F*(u) = sum_i (u_i y_i + n u_i^2 / 2)."""
        xp = get_namespace(u)
        return float(xp.sum(u * self.y) + 0.5 * self.n * xp.sum(u * u))


class CoordinateKernel:
    """A datafit's coordinate update for the numba BCD kernels: ``deriv(z, y, param)`` is
    phi'(z) for one sample (an ``@njit`` function), ``param`` a float it needs (Huber's
    delta), ``curvature`` a bound on phi'' (the coordinate constant is
    ``curvature * ||X_j||^2 / n``)."""

    def __init__(self, deriv, param, curvature):
        self.deriv, self.param, self.curvature = deriv, float(param), float(curvature)


def _kernel(name, param, curvature):
    from . import _datafit_numba  # numba is imported only when a fast path asks

    return CoordinateKernel(getattr(_datafit_numba, name), param, curvature)


class Logistic:
    """F(z) = 1/n sum_i log(1 + exp(-y_i z_i)) with labels y_i in {-1, +1}."""

    name = "logistic"
    fast_kind = "logistic"

    def __init__(self, y):
        xp = get_namespace(y)
        if not bool(xp.all((y == 1) | (y == -1))):
            raise ValueError("`y` must contain labels in {-1, +1} for the logistic loss")
        self.y = y
        self.n = y.shape[0]
        self.smoothness = 0.25 / self.n

    def coordinate_kernel(self):
        return _kernel("logistic_deriv", 0.0, 0.25)

    def _fast(self, *arrays):
        """Whether the numba kernels apply: float64 numpy arrays (CuPy stays on xp)."""
        import numpy as np

        return all(type(a) is np.ndarray and a.dtype == np.float64 and a.ndim == 1 for a in arrays + (self.y,))

    def value(self, z):
        if self._fast(z):
            from ._datafit_numba import logistic_value

            return logistic_value(z, self.y, 1.0 / self.n)
        xp = get_namespace(z)
        return float(xp.sum(xp.logaddexp(xp.zeros_like(z), -self.y * z))) / self.n

    def grad(self, z):
        xp = get_namespace(z)
        return -self.y / (1.0 + xp.exp(self.y * z)) / self.n

    def value_change(self, z, dz):
        """``value(z + dz) - value(z)`` from per-sample differences
        log1p(sigmoid(-y z) expm1(-y dz)): accurate to its own relative precision, also when
        the change is far below the rounding of ``value`` (line searches at the optimum)."""
        if self._fast(z, dz):
            from ._datafit_numba import logistic_change

            return logistic_change(z, dz, self.y, 1.0 / self.n)
        xp = get_namespace(z)
        a, e = -self.y * z, -self.y * dz
        small = xp.abs(e) <= 1.0
        sig = 1.0 / (1.0 + xp.exp(-a))
        near = xp.log1p(sig * xp.expm1(xp.where(small, e, xp.zeros_like(e))))
        zero = xp.zeros_like(a)
        far = xp.logaddexp(zero, a + e) - xp.logaddexp(zero, a)
        return float(xp.sum(xp.where(small, near, far))) / self.n

    def hess_diag(self, z):
        xp = get_namespace(z)
        s = 1.0 / (1.0 + xp.exp(-self.y * z))
        return s * (1 - s) / self.n

    def terms(self, z):
        """``(value(z), grad(z), hess_diag(z))`` in one pass (one exp per sample on numpy)."""
        if self._fast(z):
            import numpy as np

            from ._datafit_numba import logistic_terms

            u, h = np.empty_like(z), np.empty_like(z)
            return logistic_terms(z, self.y, 1.0 / self.n, u, h), u, h
        return self.value(z), self.grad(z), self.hess_diag(z)

    def grad_at(self, z_sub, idx):
        xp = get_namespace(z_sub)
        y = self.y[idx]
        return -y / (1.0 + xp.exp(y * z_sub)) / self.n

    def conjugate(self, u):
        """F*(u) = 1/n sum p log p + (1-p) log(1-p) with p = -n u_i y_i in [0, 1]."""
        if self._fast(u):
            from ._datafit_numba import logistic_conjugate

            return logistic_conjugate(u, self.y, float(self.n))
        xp = get_namespace(u)
        p = -self.n * u * self.y
        if bool(xp.any(p < -1e-12)) or bool(xp.any(p > 1 + 1e-12)):
            return math.inf
        p = xp.clip(p, 0.0, 1.0)
        ent = xp.where(p > 0, p * xp.log(xp.where(p > 0, p, xp.ones_like(p))), xp.zeros_like(p)) + \
            xp.where(p < 1, (1 - p) * xp.log(xp.where(p < 1, 1 - p, xp.ones_like(p))), xp.zeros_like(p))
        return float(xp.sum(ent)) / self.n


class SquaredHinge:
    """F(z) = 1/n sum_i max(0, 1 - y_i z_i)^2 (L2-loss SVM), labels in {-1, +1}."""

    name = "squared_hinge"
    fast_kind = "smooth"

    def __init__(self, y):
        self.y = y
        self.n = y.shape[0]
        self.smoothness = 2.0 / self.n

    def coordinate_kernel(self):
        return _kernel("squared_hinge_deriv", 0.0, 2.0)

    def value(self, z):
        xp = get_namespace(z)
        m = xp.clip(1 - self.y * z, 0.0, None)
        return float(xp.sum(m * m)) / self.n

    def grad(self, z):
        xp = get_namespace(z)
        return -2.0 * self.y * xp.clip(1 - self.y * z, 0.0, None) / self.n

    def grad_at(self, z_sub, idx):
        xp = get_namespace(z_sub)
        y = self.y[idx]
        return -2.0 * y * xp.clip(1 - y * z_sub, 0.0, None) / self.n

    def hess_diag(self, z):
        xp = get_namespace(z)
        return xp.where(self.y * z < 1, xp.full_like(z, 2.0 / self.n), xp.zeros_like(z))

    def conjugate(self, u):
        """phi_i(t) = (1 - y_i t)_+^2 / n: with s = -n u_i y_i >= 0, phi*(u_i) = -s/n + s^2/(4n)."""
        xp = get_namespace(u)
        s = -self.n * u * self.y
        if bool(xp.any(s < -1e-12)):
            return math.inf
        s = xp.clip(s, 0.0, None)
        return float(xp.sum(-s + s * s / 4)) / self.n


class Huber:
    """F(z) = 1/n sum_i h_delta(z_i - y_i), h(r) = r^2/2 if |r| <= delta else delta(|r| - delta/2)."""

    name = "huber"
    fast_kind = "smooth"

    def __init__(self, y, delta=1.0):
        if delta <= 0:
            raise ValueError(f"`delta` must be > 0, got {delta}")
        self.y, self.delta = y, float(delta)
        self.n = y.shape[0]
        self.smoothness = 1.0 / self.n

    def coordinate_kernel(self):
        return _kernel("huber_deriv", self.delta, 1.0)

    def value(self, z):
        xp = get_namespace(z)
        r = xp.abs(z - self.y)
        d = self.delta
        return float(xp.sum(xp.where(r <= d, 0.5 * r * r, d * (r - 0.5 * d)))) / self.n

    def grad(self, z):
        xp = get_namespace(z)
        return xp.clip(z - self.y, -self.delta, self.delta) / self.n

    def grad_at(self, z_sub, idx):
        xp = get_namespace(z_sub)
        return xp.clip(z_sub - self.y[idx], -self.delta, self.delta) / self.n

    def hess_diag(self, z):
        xp = get_namespace(z)
        return xp.where(xp.abs(z - self.y) <= self.delta, xp.full_like(z, 1.0 / self.n), xp.zeros_like(z))

    def conjugate(self, u):
        """h*(v) = v^2/2 + y v on |v| <= delta, with v = n u_i."""
        xp = get_namespace(u)
        v = self.n * u
        if bool(xp.any(xp.abs(v) > self.delta * (1 + 1e-12))):
            return math.inf
        return float(xp.sum(0.5 * v * v + self.y * v)) / self.n


class Multinomial:
    """F(Z) = 1/n sum_i [logsumexp(Z_i) - Z_{i, y_i}] for predictions Z = X W of shape (n, K)
    and integer labels y_i in {0, ..., K-1} (softmax regression; W is a (p, K) matrix)."""

    name = "multinomial"
    fast_kind = None  # (no BCD kernels yet: the generic path)

    def __init__(self, y, n_classes=None):
        xp = get_namespace(y)
        self.y = y
        self.n = y.shape[0]
        self.K = int(n_classes if n_classes is not None else int(xp.max(y)) + 1)
        self.Y = xp.astype(xp.arange(self.K)[None, :] == xp.astype(y, xp.int64)[:, None], xp.float64)
        self.smoothness = 0.5 / self.n  # the softmax Hessian is bounded by 1/2 in spectral norm

    def _lse(self, Z, xp):
        m = xp.max(Z, axis=1, keepdims=True)
        return xp.squeeze(m, axis=1) + xp.log(xp.sum(xp.exp(Z - m), axis=1))

    def value(self, Z):
        xp = get_namespace(Z)
        return float(xp.sum(self._lse(Z, xp) - xp.sum(Z * self.Y, axis=1))) / self.n

    def grad(self, Z):
        xp = get_namespace(Z)
        P = xp.exp(Z - self._lse(Z, xp)[:, None])
        return (P - self.Y) / self.n

    def hess_diag(self, Z):  # used by LinearComposite.hvp only for 1-D predictions
        raise NotImplementedError("use hvp_pred for the multinomial loss")


def _abs_max(v):
    """max_i |v_i| (0 for an empty v); a NaN entry gives NaN."""
    xp = get_namespace(v)
    if v.shape[0] == 0:
        return 0.0
    return float(xp.max(xp.abs(v)))


def lambda_max(A, datafit):
    """Smallest lam for which x = 0 solves min F(Ax) + lam ||x||_1: ||A^T grad F(0)||_inf."""
    xp = get_namespace(datafit.y)
    z0 = xp.zeros_like(datafit.y)
    return _abs_max(A.T @ datafit.grad(z0))


def relative_gap_measure(A, datafit, penalty):
    """The one home of the relative duality-gap certificate of ``min_x F(Ax) + g(x)``:
    returns ``measure(x, z=None) -> gap(x) / P(0)`` (``P(0) = F(0)``, or 1 when that is not
    positive), clipped at 0 from below (rounding) and NaN when the gap is not finite (a
    failed certificate, never 0). Which penalties a solver certifies this way is its own
    choice (see :func:`duality_gap` for the ones it supports)."""
    import math

    p0 = float(datafit.value(datafit.y * 0.0))
    scale = p0 if p0 > 0 else 1.0

    def measure(x, z=None):
        gap = float(duality_gap(A, datafit, penalty, x, z)[0])
        if not math.isfinite(gap):
            return math.nan
        return (gap if gap > 0.0 else 0.0) / scale
    return measure


def duality_gap(A, datafit, penalty, x, z=None):
    """Duality gap of ``min_x F(Ax) + g(x)`` for g = L1, ElasticNet or SquaredL2 (numopt.prox).

    Returns ``(gap, primal, dual)``. The dual point is ``u = grad F(Ax)``, rescaled
    into the dual-feasible set for the l1 penalty (as scikit-learn and celer do), so
    ``gap >= P(x) - P*`` is a certificate of suboptimality. For ``SquaredL2(lam)``
    (= ElasticNet(lam, l1_ratio=0)) the conjugate is ||v||^2 / (2 lam); with lam = 0 it is
    the indicator of {0}, so the gap is infinite unless A^T u = 0.
    """
    from .prox import L1, ElasticNet, SquaredL2

    xp = get_namespace(x)
    if z is None:
        z = A @ x
    u = datafit.grad(z)
    primal = datafit.value(z) + penalty.value(x)
    v = A.T @ u
    if isinstance(penalty, L1) and penalty.weights is None:
        vmax = _abs_max(v)
        # (a NaN vmax must not become s = 1: Python's min and the comparison swallow it)
        s = math.nan if math.isnan(vmax) else (min(1.0, penalty.lam / vmax) if vmax > 0 else 1.0)
        dual = -datafit.conjugate(s * u)  # ||A^T (s u)||_inf <= lam: dual feasible
    elif isinstance(penalty, ElasticNet):
        a, b = penalty.lam * penalty.l1_ratio, penalty.lam * (1 - penalty.l1_ratio)
        if b == 0:
            return duality_gap(A, datafit, L1(a), x, z)
        gstar = float(xp.sum(xp.clip(xp.abs(v) - a, 0.0, None) ** 2)) / (2 * b)
        dual = -datafit.conjugate(u) - gstar
    elif isinstance(penalty, SquaredL2):
        vv = float(xp.sum(v * v))
        if penalty.lam > 0:
            gstar = vv / (2 * penalty.lam)
        else:
            gstar = 0.0 if vv == 0.0 else (math.inf if vv == vv else math.nan)
        dual = -datafit.conjugate(u) - gstar
    else:
        raise TypeError(f"duality_gap supports L1 (without weights), ElasticNet and SquaredL2 penalties, got "
                        f"{type(penalty).__name__}")
    return primal - dual, primal, dual

