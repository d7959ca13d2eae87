"""Frank-Wolfe oracle models: how the solvers see the objective along a segment.

:class:`_Plain` evaluates any objective at points (remembering the last values, so the
value a step rule computed at the accepted point is not paid twice); :class:`_Composite`
is the fast path for ``f(x) = loss(A x)`` (:class:`numopt.LinearComposite`): it keeps the
predictions ``z = A x``, so a line-search value is one loss evaluation on ``z + gamma A d``,
a gradient one product with ``A^T``, and ``A s`` of a sparse vertex only its nonzero
columns. :func:`_model` picks one.
"""
from __future__ import annotations

import numpy as np

from .._backend import get_namespace
from ._fw_steps import _Line, _vd

class _Memo:
    """Remembers the last few objective values so that a step rule's evaluation at the
    accepted point (and the solver's own f(x)) is not paid twice: the next iteration then
    only needs the gradient. Points are matched by identity or exact equality."""

    def __init__(self, f, xp, size=3):
        self.f, self.xp, self.size, self.pts = f, xp, size, []

    def _lookup(self, x, equal=True):
        for y, fy in self.pts:
            if y is x:
                return fy
        if equal:  # (user step rules build their own points)
            for y, fy in self.pts:
                if y.shape == x.shape and bool(self.xp.all(y == x)):
                    return fy
        return None

    def _store(self, x, fx):
        self.pts = [(x, fx)] + self.pts[:self.size - 1]

    def value(self, x):
        fx = self._lookup(x, equal=False)  # trial points of a line search are new arrays
        if fx is None:
            fx = self.f.value(x)
            self._store(x, fx)
        return fx

    def value_and_grad(self, x):
        fx = self._lookup(x)
        if fx is None:
            fx, g = self.f.value_and_grad(x)
            self._store(x, fx)
            return fx, g
        return fx, self.f.grad(x)

    def __getattr__(self, name):
        if name in ("f", "xp", "size", "pts"):
            raise AttributeError(name)
        return getattr(self.f, name)


class _Plain:
    """Oracle access through the objective's value / gradient at points (any objective)."""

    def __init__(self, f, x0, xp):
        self.f, self.xp = _Memo(f, xp), xp

    def value_and_grad(self, x):
        return self.f.value_and_grad(x)

    def image(self, v):
        return None

    def delta(self, p, q):
        return None

    def line(self, x, d, g, fx, dz=None, gd=None):
        return _Line(self.f, x, d, g, fx, self.xp, gd)

    def search(self, rule, line, gamma_max, k):
        if hasattr(rule, "search"):
            return float(rule.search(line, gamma_max, k))
        return float(rule.step(self.f, line.x, line.d, line.g, gamma_max, k))

    def move(self, line, gamma):
        return line.point(gamma)

    def reset(self, x):
        pass


def _linear_composite(f):
    """The numopt.LinearComposite behind the (counted) objective if its value and gradient
    are exactly loss(A x) and A^T loss'(A x) (a subclass overriding them is not used)."""
    from ..oracles import Counted, LinearComposite

    inner = f.f if isinstance(f, Counted) else f
    if not isinstance(inner, LinearComposite):
        return None
    cls = type(inner)
    if any(getattr(cls, m) is not getattr(LinearComposite, m) for m in ("value", "grad", "value_and_grad")):
        return None
    return inner


class _CompositeLine(_Line):
    """The segment x + gamma d for f = loss(A x), from z = A x and dz = A d: each value is
    one loss evaluation on z + gamma dz (no product with A), a gradient one A^T product."""

    def __init__(self, M, x, d, g, fx, dz, gd=None):
        xp = M.xp
        self.M, self.x, self.d, self.g, self._fx, self.z, self.dz, self.xp = M, x, d, g, fx, M.z, dz, xp
        self.gd = -_vd(g, d, xp) if gd is None else gd
        self.dd = _vd(d, d, xp)
        self.last = self.last_lg = None

    @property
    def fx(self):
        if self._fx is None:
            self._fx = self.M.loss_value(self.z)
        return self._fx

    def value(self, gamma):
        zz = self.z + gamma * self.dz
        v = self.M.loss_value(zz)
        self.last = (gamma, zz, v)
        return v

    def grad(self, gamma):
        return self.M.grad_at(self.z + gamma * self.dz)

    def slope(self, gamma):
        """<loss'(z + gamma dz), dz>: no product with A; the loss derivative is kept so
        that the gradient at an accepted step costs only the product with A^T."""
        zz = self.z + gamma * self.dz
        lg = self.M.loss.grad(zz)
        self.last_lg = (gamma, zz, lg)
        return _vd(lg, self.dz, self.M.xp)

    def curvature(self):
        M = self.M
        M.counter.nhev += 1
        return float(M.xp.sum(M.loss.hess_diag(self.z) * self.dz * self.dz))


class _Composite:
    """Fast path for f(x) = loss(A x) (numopt.LinearComposite, 1-D x): keeps the
    predictions z = A x. A line search then costs loss values on z + gamma A d only, the
    gradient one product with A^T, and the image A s of a sparse LMO vertex (a vertex of
    the l1 ball or the simplex is one column of A) is gathered from its nonzero columns.
    z is recomputed as A x every ``refresh`` moves (against rounding drift). Oracle
    counts: a loss value is one ``nfev``, a gradient one ``njev``."""

    def __init__(self, lc, counter, x0, xp, refresh=200):
        import scipy.sparse as sp

        from .._backend import is_numpy

        self.A, self.loss, self.counter, self.xp, self.refresh = lc.A, lc.loss, counter, xp, refresh
        self.like = x0
        self.sparse = sp.issparse(self.A)
        self.numpy = is_numpy(xp) and (self.sparse or isinstance(self.A, np.ndarray))
        if self.sparse:  # CSC: cheap columns, and A^T @ r runs as a CSR product
            Ac = self.A.tocsc()
            Ac.sort_indices()
            self.Acsc, self.AT = Ac, Ac.T
        else:
            self.Acsc, self.AT = None, self.A.T
        self.moves, self.fz, self.lgz = 0, None, None
        self.cols, self.max_cols = {}, max(1, (64 << 20) // (8 * self.A.shape[0]))
        self.z = self.A @ x0

    def loss_value(self, z):
        self.counter.nfev += 1
        return float(self.loss.value(z))

    def grad_at(self, z):
        self.counter.njev += 1
        return _cast(self.AT @ self.loss.grad(z), self.like)

    def value_and_grad(self, x):
        fx = self.fz if self.fz is not None else self.loss_value(self.z)
        self.fz = fx
        if self.lgz is not None:  # loss'(z) from the line search at the accepted step
            self.counter.njev += 1
            g = _cast(self.AT @ self.lgz, self.like)
            self.lgz = None
            return fx, g
        return fx, self.grad_at(self.z)

    def _column(self, j):
        """Column j of a sparse A as a dense vector (kept: FW revisits the same vertices;
        at most ~64 MB of columns, the least recently used dropped first)."""
        col = self.cols.pop(j, None)
        if col is None:
            A = self.Acsc
            col = np.zeros(A.shape[0], dtype=A.dtype)
            a, b = A.indptr[j], A.indptr[j + 1]
            col[A.indices[a:b]] = A.data[a:b]
            if len(self.cols) >= self.max_cols:
                self.cols.pop(next(iter(self.cols)))
        self.cols[j] = col
        return col

    def image(self, v):
        """A v, from the nonzero columns when v is sparse (numpy; l1-ball and simplex
        vertices have one)."""
        if self.numpy:
            idx = np.flatnonzero(v)
            if idx.size == 1:
                j = int(idx[0])
                return (self._column(j) if self.sparse else self.A[:, j]) * v[j]
            if idx.size * 8 <= v.shape[0]:
                if self.sparse:
                    A = self.Acsc
                    out = np.zeros(A.shape[0], dtype=np.result_type(A.dtype, v.dtype))
                    for j in idx:
                        a, b = A.indptr[j], A.indptr[j + 1]
                        out[A.indices[a:b]] += A.data[a:b] * v[j]
                    return out
                return self.A[:, idx] @ v[idx]
        return self.A @ v

    def delta(self, p, q):
        """A (p - q) for vertices p, q; None stands for the iterate x (image z)."""
        return (self.z if p is None else self.image(p)) - (self.z if q is None else self.image(q))

    def line(self, x, d, g, fx, dz, gd=None):
        return _CompositeLine(self, x, d, g, fx, dz, gd)

    def search(self, rule, line, gamma_max, k):
        if hasattr(rule, "search"):
            return float(rule.search(line, gamma_max, k))
        # a user rule speaks the point-wise protocol: give it the counted objective
        return float(rule.step(_PointOracle(self), line.x, line.d, line.g, gamma_max, k))

    def move(self, line, gamma):
        x = line.x + gamma * line.d
        self.moves += 1
        if self.moves % self.refresh == 0:
            self.reset(x)
            return x
        self.fz = self.lgz = None
        if line.last is not None and line.last[0] == gamma:
            self.z, self.fz = line.last[1], line.last[2]
        if line.last_lg is not None and line.last_lg[0] == gamma:
            self.z, self.lgz = line.last_lg[1], line.last_lg[2]
        if self.fz is None and self.lgz is None:
            self.z = line.z + gamma * line.dz
        return x

    def reset(self, x):
        self.z, self.fz, self.lgz = self.A @ x, None, None


class _PointOracle:
    """value / grad / hvp at points for user step rules on the composite path."""

    def __init__(self, M):
        self.M = M

    def value(self, x):
        return self.M.loss_value(self.M.A @ x)

    def grad(self, x):
        return self.M.grad_at(self.M.A @ x)

    def value_and_grad(self, x):
        z = self.M.A @ x
        return self.M.loss_value(z), self.M.grad_at(z)

    def hvp(self, x, v):
        M = self.M
        M.counter.nhev += 1
        return _cast(M.AT @ (M.loss.hess_diag(M.A @ x) * (M.A @ v)), M.like)


def _model(problem, x0, opts):
    """The composite fast path when the objective allows it (and ``composite`` is on)."""
    xp = np if isinstance(x0, np.ndarray) else get_namespace(x0)  # plain numpy: less per-call overhead
    f = problem.objective
    if opts.get("composite", True) and x0.ndim == 1:
        lc = _linear_composite(f)
        if lc is not None and getattr(lc.A, "ndim", 2) == 2 and lc.A.shape[1] == x0.shape[0] \
                and hasattr(lc.loss, "value") and hasattr(lc.loss, "grad"):
            return _Composite(lc, f.counter, x0, xp, int(opts.get("refresh", 200)))
    return _Plain(f, x0, xp)


def _cast(g, like):
    """Keep the iterate's namespace and dtype (float32 in, float32 out)."""
    if isinstance(g, np.ndarray) and isinstance(like, np.ndarray) and g.dtype == like.dtype:
        return g
    xp = get_namespace(like)
    g = xp.asarray(g) if not hasattr(g, "dtype") else g
    return g if g.dtype == like.dtype else xp.astype(g, like.dtype)
