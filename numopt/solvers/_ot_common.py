"""Shared pieces of the optimal-transport methods (kind ``"ot"``): input checks that
name the offending argument, batched array helpers in any array-API namespace, and
the rounding of a positive matrix onto the transport polytope.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .._backend import get_namespace, is_numpy

__all__ = ["as_array", "check_reg", "check_marginals", "check_inputs", "check_potential",
           "default_marginal_tol", "lse", "mv", "mtv", "l1", "round_to_polytope", "Duals"]


def as_array(x):
    """Python lists, tuples and scalars become numpy arrays; arrays keep their namespace."""
    if isinstance(x, (list, tuple, int, float)) or np.isscalar(x):
        return np.asarray(x)
    return x


def check_reg(reg):
    """``reg`` as a Python float: any real scalar (Python, numpy, 0-d array) that is finite and > 0."""
    if isinstance(reg, (bool, np.bool_)):
        raise ValueError(f"`reg` must be a finite number > 0, got {reg!r}")
    if isinstance(reg, np.ndarray) and reg.ndim == 0:
        reg = reg[()]
    if not isinstance(reg, numbers.Real):
        raise ValueError(f"`reg` must be a finite number > 0, got {reg!r}")
    r = float(reg)
    if not math.isfinite(r) or r <= 0:
        raise ValueError(f"`reg` must be a finite number > 0, got {reg!r}")
    return r


def _mass_rtol(a, b, xp):
    """Relative tolerance of the equal-mass check: 1e-8, or what the marginals' precision
    can resolve (``10 eps sqrt(n)``, e.g. for float32 marginals normalized in float32)."""
    eps = max(float(xp.finfo(a.dtype).eps), float(xp.finfo(b.dtype).eps))
    return max(1e-8, 10.0 * eps * math.sqrt(max(a.shape[-1], b.shape[-1])))


def check_marginals(a, b, xp):
    """ValueError/TypeError naming `a` or `b`: real floating, 1-D (or 2-D batches of equal
    size), non-empty, finite, positive, equal total mass (dtype-aware tolerance)."""
    for name, arr in (("a", a), ("b", b)):
        if not xp.isdtype(arr.dtype, "real floating"):
            raise TypeError(f"`{name}` must be a real floating array, got dtype {arr.dtype}")
    if a.ndim not in (1, 2) or b.ndim != a.ndim:
        raise ValueError(f"`a` and `b` must both be 1-D (or 2-D for a batch), got {a.ndim}-D and {b.ndim}-D")
    if a.shape[-1] == 0 or b.shape[-1] == 0:
        raise ValueError(f"`a` and `b` must be non-empty, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if a.ndim == 2 and a.shape[0] != b.shape[0]:
        raise ValueError(f"batch sizes of `a` ({a.shape[0]}) and `b` ({b.shape[0]}) differ")
    for name, arr in (("a", a), ("b", b)):
        if not bool(xp.all(xp.isfinite(arr))):
            raise ValueError(f"`{name}` must be finite and nonnegative: it contains NaN or inf")
        if bool(xp.any(arr < 0)):
            raise ValueError(f"`{name}` must be finite and nonnegative: it has negative entries")
        if bool(xp.any(arr == 0)):
            raise ValueError(f"`{name}` has zero entries: drop those points (the entropic plan is positive)")
    sa, sb = xp.sum(a, axis=-1), xp.sum(b, axis=-1)
    rtol = _mass_rtol(a, b, xp)
    if bool(xp.any(xp.abs(sa - sb) > rtol * xp.maximum(sa, sb))):
        raise ValueError(f"`a` and `b` must have the same total mass (relative tolerance {rtol:.1e}; "
                         "normalize them: a /= a.sum(), b /= b.sum())")


def check_inputs(a, b, C, reg):
    """(xp, a, b, C, reg) checked: marginals as in :func:`check_marginals`, `C` of shape
    (n, m) (or (B, n, m) for a batch) and finite, `reg` a finite number > 0."""
    a, b, C = as_array(a), as_array(b), as_array(C)
    xp = get_namespace(a, b, C)
    a, b, C = xp.asarray(a), xp.asarray(b), xp.asarray(C)
    if not xp.isdtype(C.dtype, "real floating"):
        raise TypeError(f"`C` must be a real floating array, got dtype {C.dtype}")
    check_marginals(a, b, xp)
    n, m = a.shape[-1], b.shape[-1]
    if a.ndim == 1 and C.shape != (n, m):
        raise ValueError(f"`C` must have shape ({n}, {m}) to match `a` and `b`, got {tuple(C.shape)}")
    if a.ndim == 2 and (C.ndim not in (2, 3) or C.shape[-2:] != (n, m)
                        or (C.ndim == 3 and C.shape[0] != a.shape[0])):
        raise ValueError(f"`C` must have shape ({n}, {m}) or ({a.shape[0]}, {n}, {m}) to match the batch "
                         f"`a` {tuple(a.shape)} and `b` {tuple(b.shape)}, got {tuple(C.shape)}")
    if not bool(xp.all(xp.isfinite(C))):
        raise ValueError("`C` contains NaN or inf entries")
    return xp, a, b, C, check_reg(reg)


def check_potential(p, name, like, xp):
    """A warm-start potential of the shape and dtype of ``like`` (None passes through)."""
    if p is None:
        return None
    p = xp.asarray(as_array(p))
    if tuple(p.shape) != tuple(like.shape):
        raise ValueError(f"`{name}` must have shape {tuple(like.shape)} (one potential per point), "
                         f"got {tuple(p.shape)}")
    if not xp.isdtype(p.dtype, "real floating") and not xp.isdtype(p.dtype, "integral"):
        raise TypeError(f"`{name}` must be a real array, got dtype {p.dtype}")
    p = xp.astype(p, like.dtype)
    if not bool(xp.all(xp.isfinite(p))):
        raise ValueError(f"`{name}` contains NaN or inf")
    return p


def default_marginal_tol(a, b, xp, compute_dtype=None):
    """Default ``tol`` of the Sinkhorn methods: 1e-9 for float64 marginals, else
    ``max(1e-9, 100 eps * mass)``, what the marginals' precision (or that of
    ``compute_dtype``, the kernel's, when it is lower) can resolve."""
    eps = max(float(xp.finfo(a.dtype).eps), float(xp.finfo(b.dtype).eps))
    if compute_dtype is not None:
        eps = max(eps, float(xp.finfo(compute_dtype).eps))
    return max(1e-9, 100 * eps * float(xp.max(xp.sum(a, axis=-1))))


def lse(x, axis, xp):
    """log-sum-exp along ``axis`` (shifted by the max; an all -inf slice gives -inf)."""
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    return xp.squeeze(m, axis=axis) + xp.log(xp.sum(xp.exp(x - m), axis=axis))


def mv(K, v, xp):
    """Batched matrix-vector product ``K v``."""
    return K @ v if v.ndim == 1 else xp.squeeze(K @ v[..., None], axis=-1)


def mtv(K, u, xp):
    """Batched ``K^T u``."""
    KT = xp.matrix_transpose(K) if K.ndim > 1 else K
    return mv(KT, u, xp)


def l1(x, xp):
    return float(xp.sum(xp.abs(x)))


def round_to_polytope(P, a, b):
    """Round a positive matrix onto U(a, b) (Altschuler, Weed & Rigollet, NeurIPS 2017,
    Alg. 2): scale down rows then columns, then add the rank-one correction. The
    result is feasible and within 2 (||P1 - a||_1 + ||P^T 1 - b||_1) of P in l1."""
    xp = get_namespace(P)
    r = xp.sum(P, axis=1)
    X = P * xp.minimum(a / r, xp.ones_like(r))[:, None]
    c = xp.sum(X, axis=0)
    Y = X * xp.minimum(b / c, xp.ones_like(c))[None, :]
    er, ec = a - xp.sum(Y, axis=1), b - xp.sum(Y, axis=0)
    s = float(xp.sum(er))
    return Y if s <= 0 else Y + er[:, None] * ec[None, :] / s


class Duals:
    """A Sinkhorn iterate: the dual potentials ``(f, g)``, ``P_ij = exp((f_i + g_j - C_ij) / reg)``.

    Kept in the method's own form, converted on first access of ``.f`` / ``.g`` (so a
    run that never looks at them pays nothing): ``"scaling"`` (``u, v``; ``f = reg log u``),
    ``"stabilized"`` (``F, G, u, v``; ``f = F + reg log u``) or ``"log"`` (``f, g``).
    ``reg`` is the entropic parameter of the iterate (the current one during epsilon
    scaling). This is the ``x`` a callback receives; the result's ``x`` is the plan.
    """

    __slots__ = ("form", "parts", "reg", "xp", "_fg")

    def __init__(self, form, parts, reg, xp):
        self.form, self.parts, self.reg, self.xp, self._fg = form, parts, reg, xp, None

    def potentials(self):
        """(f, g)."""
        if self._fg is None:
            xp, r = self.xp, self.reg
            if self.form == "log":
                self._fg = tuple(self.parts)
            else:
                with np.errstate(divide="ignore"):  # an underflowed scaling gives -inf, not a warning
                    if self.form == "scaling":
                        u, v = self.parts
                        self._fg = (r * xp.log(u), r * xp.log(v))
                    else:
                        F, G, u, v = self.parts
                        self._fg = (F + r * xp.log(u), G + r * xp.log(v))
        return self._fg

    @property
    def f(self):
        return self.potentials()[0]

    @property
    def g(self):
        return self.potentials()[1]

    def __repr__(self):
        return f"Duals(form={self.form!r}, reg={self.reg!r})"


# ------------------------------------------------ results of the Sinkhorn family

def finish_costs(res, f, g, C, reg, xp, want_plan):
    if is_numpy(xp) and C.ndim == 2 and f.ndim == 1 and np.all(np.isfinite(f)) and np.all(np.isfinite(g)):
        from . import _sinkhorn_numba as nb  # numba: imported on first use

        Cc = np.ascontiguousarray(C)
        P = np.empty_like(Cc) if want_plan else np.empty((1, 1))
        cost, ent = nb.plan_cost_entropy(Cc, f, g, reg, want_plan, P)
        res.plan = P if want_plan else None
    else:  # (a failed run's potentials may be -inf: its costs are then NaN, without a warning)
        with np.errstate(invalid="ignore", over="ignore"):
            lp = (f[..., :, None] + g[..., None, :] - C) / reg
            P = xp.exp(lp)
            cost = xp.sum(P * C, axis=(-2, -1))
            ent = xp.sum(P * (lp - 1), axis=(-2, -1))
        res.plan = P if want_plan else None
        if P.ndim == 2:
            cost, ent = float(cost), float(ent)
    res.cost = cost
    res.reg_cost = cost + reg * ent


def finalize(res, p, opts):
    """Potentials, plan and costs of the last iterate (once, after the loop)."""
    xp, reg = p.xp, p.reg
    f, g = res.x.potentials()
    finish_costs(res, f, g, p.C, reg, xp, p.plan)
    dtype = xp.result_type(p.a.dtype, p.b.dtype, p.C.dtype)
    res.f = f if f.dtype == dtype else xp.astype(f, dtype)  # sns iterates in float64
    res.g = g if g.dtype == dtype else xp.astype(g, dtype)
    res.x = res.plan
    res.fun = res.reg_cost
    res.marginal_error = res.optimality
    if res.status == 2 and res.method == "sinkhorn":
        res.message += " Kernel underflow: use method='sinkhorn-log' (or 'sinkhorn_log') for small reg."
    if res.status == 1:
        tol = opts["tol"]
        mismatch = float(xp.max(xp.abs(xp.sum(p.a, axis=-1) - xp.sum(p.b, axis=-1))))
        if mismatch >= tol:
            res.message += (f" The masses of `a` and `b` differ by {mismatch:.1e} >= tol = {tol:.1e}: the "
                            "marginal violation cannot go below that (normalize in float64 or raise tol).")
    return res
