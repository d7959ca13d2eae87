"""Entropic optimal transport: Sinkhorn–Knopp (scaling and log domain), epsilon
scaling, over-relaxation and Anderson acceleration, Sinkhorn–Newton–Sparse, and
Mirror Sinkhorn.

Problem (POT's convention, kernel ``exp(-C/reg)``)::

    min_P  <P, C> + reg * sum_ij P_ij (log P_ij - 1)   s.t.  P 1 = a,  P^T 1 = b,  P >= 0

Dual potentials ``f, g`` give the plan ``P_ij = exp((f_i + g_j - C_ij) / reg)``
(``f = reg log u``, ``g = reg log v`` in the scaling form ``P = diag(u) K diag(v)``).

Stopping measure (``tol``): the l1 marginal violation
``||P 1 - a||_1 + ||P^T 1 - b||_1`` of the current iterate, computed at no extra cost
every iteration (after a column update the column marginals are exact, so it equals
the row violation). POT checks the l2 norm of one marginal every 10 iterations.

References
----------
* R. Sinkhorn, P. Knopp. Concerning nonnegative matrices and doubly stochastic
  matrices. Pacific J. Math. 21 (1967); M. Cuturi. Sinkhorn distances: lightspeed
  computation of optimal transport. NeurIPS 2013. Linear convergence of the marginal
  violation (Franklin & Lorenz 1989); O(1/k) in l1 (Altschuler et al., NeurIPS 2017).
* B. Schmitzer. Stabilized sparse scaling algorithms for entropy regularized transport
  problems. SIAM J. Sci. Comput. 41(3), 2019 (log domain, epsilon scaling).
* X. Tang, M. Shavlovsky, H. Rahmanian, E. Tardini, K.K. Thekumparampil, T. Xiao,
  L. Ying. Accelerating Sinkhorn algorithm with sparse Newton iterations (SNS). ICLR 2024.
* G. Peyré, M. Cuturi. Computational Optimal Transport, 2019 (over-relaxation,
  Anderson acceleration: Thibault et al. 2021; Chizat 2020).
* G. Ballu, Q. Berthet. Mirror Sinkhorn: fast online optimization on transport
  polytopes. ICML 2023.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .._backend import get_namespace, is_numpy, to_numpy
from .._loop import STATUS, Step, run_loop
from ..oracles import OracleCounter, check_scalar

__all__ = ["sinkhorn", "mirror_sinkhorn", "round_to_polytope", "wasserstein_point_clouds", "wasserstein_grid", "METHODS"]

METHODS = ("sinkhorn", "sinkhorn_log", "sinkhorn_epsilon_scaling", "sns")


# --------------------------------------------------------------------- checks

def _as_array(x):
    """Python lists, tuples and scalars become numpy arrays; arrays keep their namespace."""
    if isinstance(x, (list, tuple, int, float)) or np.isscalar(x):
        return np.asarray(x)
    return x


def _check_reg(reg):
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


def _check_marginals(a, b, xp):
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


def _check_inputs(a, b, C, reg):
    a, b, C = _as_array(a), _as_array(b), _as_array(C)
    xp = get_namespace(a, b, C)
    a, b, C = xp.asarray(a), xp.asarray(b), xp.asarray(C)
    if not xp.isdtype(C.dtype, "real floating"):
        raise TypeError(f"`C` must be a real floating array, got dtype {C.dtype}")
    _check_marginals(a, b, xp)
    n, m = a.shape[-1], b.shape[-1]
    if a.ndim == 1 and C.shape != (n, m):
        raise ValueError(f"`C` must have shape ({n}, {m}) to match `a` and `b`, got {tuple(C.shape)}")
    if a.ndim == 2 and (C.ndim not in (2, 3) or C.shape[-2:] != (n, m)
                        or (C.ndim == 3 and C.shape[0] != a.shape[0])):
        raise ValueError(f"`C` must have shape ({n}, {m}) or ({a.shape[0]}, {n}, {m}) to match the batch "
                         f"`a` {tuple(a.shape)} and `b` {tuple(b.shape)}, got {tuple(C.shape)}")
    if not bool(xp.all(xp.isfinite(C))):
        raise ValueError("`C` contains NaN or inf entries")
    return xp, a, b, C, _check_reg(reg)


def _check_potential(p, name, like, xp):
    if p is None:
        return None
    p = xp.asarray(_as_array(p))
    if tuple(p.shape) != tuple(like.shape):
        raise ValueError(f"`{name}` must have shape {tuple(like.shape)} (one potential per point), "
                         f"got {tuple(p.shape)}")
    if not xp.isdtype(p.dtype, "real floating") and not xp.isdtype(p.dtype, "integral"):
        raise TypeError(f"`{name}` must be a real array, got dtype {p.dtype}")
    p = xp.astype(p, like.dtype)
    if not bool(xp.all(xp.isfinite(p))):
        raise ValueError(f"`{name}` contains NaN or inf")
    return p


def _lse(x, axis, xp):
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    return xp.squeeze(m, axis=axis) + xp.log(xp.sum(xp.exp(x - m), axis=axis))


def _mv(K, v, xp):  # batched matrix-vector product
    return K @ v if v.ndim == 1 else xp.squeeze(K @ v[..., None], axis=-1)


def _mtv(K, u, xp):
    KT = xp.matrix_transpose(K) if K.ndim > 1 else K
    return _mv(KT, u, xp)


def _l1(x, xp):
    return float(xp.sum(xp.abs(x)))


# ------------------------------------------------------------ scaling domain

def _scaling(a, b, C, reg, f0, g0, opts, xp):
    K = xp.exp(-C / reg)
    u = xp.ones_like(a) if f0 is None else xp.exp(f0 / reg)
    v = xp.ones_like(b) if g0 is None else xp.exp(g0 / reg)
    omega = opts["relaxation"]
    Kv = _mv(K, v, xp)
    err = _l1(u * Kv - a, xp) + _l1(v * _mtv(K, u, xp) - b, xp)
    state = {"u": u, "v": v, "K": K}
    yield Step(None, None, err, state=state)
    while True:
        unew = a / Kv
        u = unew if omega == 1 else u ** (1 - omega) * unew ** omega
        vnew = b / _mtv(K, u, xp)
        v = vnew if omega == 1 else v ** (1 - omega) * vnew ** omega
        Kv = _mv(K, v, xp)
        err = _l1(u * Kv - a, xp)
        if omega != 1:
            err += _l1(v * _mtv(K, u, xp) - b, xp)
        state["u"], state["v"] = u, v
        yield Step(None, None, err, state=state)


# ---------------------------------------------------------------- log domain

class _LogKernel:
    """Row/column soft-min updates; numba fused kernels for 2-D numpy, xp otherwise."""

    def __init__(self, C, xp, use_numba):
        self.C, self.xp = C, xp
        self.fast = use_numba
        if use_numba:
            from . import _sinkhorn_numba as nb

            self.nb = nb
            self.Cc = np.ascontiguousarray(C)
            self.CT = np.ascontiguousarray(C.T)

    def rows(self, f, g, reg, log_a):
        """(new f, row l1 violation of (f, g))."""
        if self.fast:
            out = np.empty_like(f)
            err = np.empty_like(f)
            self.nb.lse_update(self.Cc, g, f, reg, log_a, out, err)
            return out, float(err.sum())
        xp = self.xp
        lse = _lse((g[..., None, :] - self.C) / reg, -1, xp)
        err = _l1(xp.exp(f / reg + lse) - xp.exp(log_a), xp)
        return reg * (log_a - lse), err

    def cols(self, f, g, reg, log_b):
        if self.fast:
            out = np.empty_like(g)
            err = np.empty_like(g)
            self.nb.lse_update(self.CT, f, g, reg, log_b, out, err)
            return out, float(err.sum())
        xp = self.xp
        lse = _lse((f[..., :, None] - self.C) / reg, -2, xp)
        err = _l1(xp.exp(g / reg + lse) - xp.exp(log_b), xp)
        return reg * (log_b - lse), err


def _anderson_mix(hist_x, hist_gx, reg_ls=1e-10):
    """Type-II Anderson mixing of fixed-point pairs (x_i, G(x_i))."""
    X = np.stack(hist_x, 1)
    GX = np.stack(hist_gx, 1)
    R = GX - X
    dR = np.diff(R, axis=1)
    dG = np.diff(GX, axis=1)
    A = dR.T @ dR
    gamma = np.linalg.solve(A + reg_ls * np.trace(A) * np.eye(A.shape[0]) + 1e-300 * np.eye(A.shape[0]),
                            dR.T @ R[:, -1])
    return GX[:, -1] - dG @ gamma


def _log_domain(a, b, C, reg, f0, g0, opts, xp, schedule=None):
    fast = opts["backend"] in ("auto", "numba") and is_numpy(xp) and C.ndim == 2 and a.ndim == 1
    if opts["backend"] == "numba" and not fast:
        raise ValueError("backend='numba' needs 1-D numpy marginals and a 2-D numpy cost")
    ker = _LogKernel(C, xp, fast)
    log_a, log_b = xp.log(a), xp.log(b)
    f = xp.zeros_like(a) if f0 is None else xp.asarray(f0, dtype=a.dtype)
    g = xp.zeros_like(b) if g0 is None else xp.asarray(g0, dtype=b.dtype)
    omega = opts["relaxation"]
    depth = opts["anderson"]
    if depth and not fast:
        raise ValueError("anderson acceleration is implemented for 1-D numpy inputs")
    hist_x, hist_gx = [], []
    r = reg if schedule is None else schedule(0)
    fn, err = ker.rows(f, g, r, log_a)
    _, err_c = ker.cols(f, g, r, log_b)
    state = {"f": f, "g": g, "reg": r}
    yield Step(None, None, err + err_c, state=state)
    k = 0
    while True:
        k += 1
        r = reg if schedule is None else schedule(k)
        f_s = fn if omega == 1 else (1 - omega) * f + omega * fn
        g_s, _ = ker.cols(f_s, g, r, log_b)
        if omega != 1:
            g_s = (1 - omega) * g + omega * g_s
        if depth:
            hist_x.append(g.copy())
            hist_gx.append(g_s.copy())
            hist_x, hist_gx = hist_x[-(depth + 1):], hist_gx[-(depth + 1):]
            if len(hist_x) >= 2:
                g_try = _anderson_mix(hist_x, hist_gx)
                f_try = ker.rows(f_s, g_try, r, log_a)[0]  # rows balanced for the mixed g
                e_try = ker.rows(f_try, g_try, r, log_a)[1] + ker.cols(f_try, g_try, r, log_b)[1]
                e_plain = ker.rows(f_s, g_s, r, log_a)[1]  # columns of (f_s, g_s) are exact
                if np.isfinite(e_try) and e_try < e_plain:
                    f_s, g_s = f_try, g_try
                else:
                    hist_x, hist_gx = [], []
        f, g = f_s, g_s
        fn, err = ker.rows(f, g, r, log_a)  # violation of the current (f, g); next row update
        if omega != 1 or depth:
            _, err_c = ker.cols(f, g, r, log_b)
            err += err_c
        state["f"], state["g"], state["reg"] = f, g, r
        if schedule is not None and r > reg:
            yield Step(None, None, err + 1.0, state=state, reg_current=r)
        else:
            yield Step(None, None, err, state=state)


def _stabilized(a, b, C, reg, f0, g0, opts, xp, schedule=None):
    """Log-stabilized scaling (absorption, Schmitzer 2019): scaling-domain iterations on
    the kernel ``exp((F_i + G_j - C_ij) / reg)`` of reference potentials (F, G); the
    scalings are absorbed into (F, G) — and the kernel rebuilt — when they leave
    [1e-50, 1e50] or the kernel underflows. Each iteration costs two matrix-vector
    products, like plain Sinkhorn, and no entry overflows for any reg > 0."""
    bound = opts["absorb"]
    if f0 is None:  # c-transforms: every row and column of the kernel has an entry equal to 1
        F = xp.min(C, axis=-1)
        G = xp.min(C - F[..., :, None], axis=-2)
    else:
        F = xp.asarray(f0, dtype=a.dtype)
        G = xp.asarray(g0, dtype=b.dtype) if g0 is not None else xp.min(C - F[..., :, None], axis=-2)
    r = reg if schedule is None else schedule(0)

    def kernel(F, G, r):
        return xp.exp((F[..., :, None] + G[..., None, :] - C) / r)

    K = kernel(F, G, r)
    u, v = xp.ones_like(a), xp.ones_like(b)
    Kv = _mv(K, v, xp)
    err = _l1(u * Kv - a, xp) + _l1(v * _mtv(K, u, xp) - b, xp)
    state = {"F": F, "G": G, "u": u, "v": v, "reg": r, "absorptions": 0}
    yield Step(None, None, err, state=state)
    k = 0
    while True:
        k += 1
        r_new = reg if schedule is None else schedule(k)
        bad = bool(xp.any(Kv <= 0)) or not bool(xp.all(xp.isfinite(Kv)))
        if r_new != r or bad:
            F, G = F + r * xp.log(u), G + r * xp.log(v)
            u, v = xp.ones_like(a), xp.ones_like(b)
            r = r_new
            K = kernel(F, G, r)
            Kv = _mv(K, v, xp)
            state["absorptions"] += 1
            if bool(xp.any(Kv <= 0)):  # a whole row underflowed: re-anchor on the c-transform
                F = xp.min(C - G[..., None, :], axis=-1)
                K = kernel(F, G, r)
                Kv = _mv(K, v, xp)
        u = a / Kv
        v = b / _mtv(K, u, xp)
        if float(xp.max(xp.abs(xp.log(u)))) > bound or float(xp.max(xp.abs(xp.log(v)))) > bound:
            F, G = F + r * xp.log(u), G + r * xp.log(v)
            u, v = xp.ones_like(a), xp.ones_like(b)
            K = kernel(F, G, r)
            state["absorptions"] += 1
        Kv = _mv(K, v, xp)
        err = _l1(u * Kv - a, xp)
        state.update(F=F, G=G, u=u, v=v, reg=r)
        if schedule is not None and r > reg:
            yield Step(None, None, err + 1.0, state=state, reg_current=r)
        else:
            yield Step(None, None, err, state=state)


# -------------------------------------------------------- Sinkhorn-Newton-Sparse

def _sns(a, b, C, reg, f0, g0, opts, xp):
    if not is_numpy(xp) or a.ndim != 1:
        raise ValueError("method='sns' needs 1-D numpy inputs (it uses scipy.sparse)")
    import scipy.sparse as sp
    from scipy.sparse.linalg import LinearOperator, cg

    n, m = C.shape
    warm = _stabilized(a, b, C, reg, f0, g0, dict(opts, absorb=50.0), xp)
    state, prev = None, None
    for k, step in enumerate(warm):
        state = step.extras["state"]
        yield Step(None, None, step.optimality, state=state, phase=0.0)
        ratio = step.optimality / prev if prev else 1.0
        prev = step.optimality
        # switch to Newton once Sinkhorn is close (switch_tol) or past `warmup`, and only
        # while it is slow: a fast-contracting Sinkhorn just finishes the job
        if (k >= opts["warmup"] or step.optimality <= opts["switch_tol"]) and ratio > opts["slow_ratio"]:
            break
    warm.close()
    f = state["F"] + reg * np.log(state["u"])
    g = state["G"] + reg * np.log(state["v"])
    keep = int(opts["keep"] * (n + m))

    def dual(f, g):
        with np.errstate(over="ignore", invalid="ignore"):
            P = np.exp((f[:, None] + g[None, :] - C) / reg)
            val = f @ a + g @ b - reg * P.sum()
        return val, P

    L, P = dual(f, g)
    while True:
        r, c = P.sum(1), P.sum(0)
        grad = np.concatenate([a - r, b - c])
        gn1 = np.abs(grad).sum()
        # sparsify: drop the smallest entries carrying at most `drop_mass` of the mass
        # (threshold from a histogram of log P: O(n^2), no sort), keeping at least
        # `keep * (n + m)` entries
        Ps = sp.csr_matrix(np.where(P >= _mass_threshold(P, opts["drop_mass"], keep), P, 0.0))
        PsT = Ps.T.tocsr()

        def hv(z, r=r, c=c, Ps=Ps, PsT=PsT):
            x, y = z[:n], z[n:]
            return np.concatenate([r * x + Ps @ y, PsT @ x + c * y]) / reg

        H = LinearOperator((n + m, n + m), matvec=hv, dtype=float)
        gnorm = np.linalg.norm(grad)
        if not math.isfinite(gnorm):  # (Python's min would swallow a NaN below)
            return 2, f"{STATUS[2]} (non-finite dual gradient in the Newton phase)"
        rtol = min(opts["cg_rtol"], math.sqrt(gnorm))
        d, _ = cg(H, grad, rtol=rtol, maxiter=opts["cg_maxiter"] or 2 * (n + m))
        d -= (d[:n].sum() - d[n:].sum()) / (n + m) * np.concatenate([np.ones(n), -np.ones(m)])  # gauge
        slope = grad @ d
        alpha, accepted = 1.0, False
        if slope > 0 and np.all(np.isfinite(d)):
            for _ in range(opts["max_linesearch"]):
                L_new, P_new = dual(f + alpha * d[:n], g + alpha * d[n:])
                if np.isfinite(L_new) and L_new >= L + 1e-4 * alpha * slope:
                    accepted = True
                    break
                # near the optimum the dual value stalls in floating point: accept a step
                # that reduces the marginal violation while the value is flat to rounding
                if np.isfinite(L_new) and L_new >= L - 1e-13 * (1 + abs(L)):
                    e_new = np.abs(P_new.sum(1) - a).sum() + np.abs(P_new.sum(0) - b).sum()
                    if e_new < 0.5 * gn1:
                        accepted = True
                        break
                alpha *= 0.5
        if accepted:
            f, g, L, P = f + alpha * d[:n], g + alpha * d[n:], L_new, P_new
            phase = 1.0
        else:  # Newton failed to improve: one Sinkhorn (log-domain) sweep instead
            with np.errstate(over="ignore", divide="ignore"):
                f = reg * (np.log(a) - _lse((g[None, :] - C) / reg, 1, np))
                g = reg * (np.log(b) - _lse((f[:, None] - C) / reg, 0, np))
            L, P = dual(f, g)
            phase = 2.0
        err = np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()
        state = {"f": f, "g": g, "reg": reg, "P": P}
        yield Step(None, None, err, state=state, phase=phase, step_size=alpha, grad_l1_before=gn1)


def _mass_threshold(P, drop_mass, min_keep):
    """Largest t such that entries below t carry <= drop_mass of the total mass (and at
    least min_keep entries are >= t)."""
    flat = P.ravel()
    total = flat.sum()
    pos = flat[flat > 0]
    if pos.size == 0:
        return 0.0
    logs = np.log(pos)
    hist, edges = np.histogram(logs, bins=512, weights=pos)
    cum = np.cumsum(hist)
    k = np.searchsorted(cum, drop_mass * total, side="right")  # bins [0, k) may be dropped
    t = float(np.exp(edges[k])) if k > 0 else 0.0
    if min_keep < flat.size and np.count_nonzero(flat >= t) < min_keep:
        t = float(np.partition(flat, flat.size - min_keep)[flat.size - min_keep])
    return t


# -------------------------------------------------------------------- front door

_DEFAULTS = {
    "sinkhorn": {"relaxation": 1.0},
    "sinkhorn_log": {"relaxation": 1.0, "anderson": 0, "backend": "auto", "absorb": 50.0},
    "sinkhorn_epsilon_scaling": {"relaxation": 1.0, "anderson": 0, "backend": "auto", "absorb": 50.0,
                                 "reg_start": None, "decay": 0.5, "every": 10},
    "sns": {"warmup": 200, "switch_tol": 1e-2, "slow_ratio": 0.3, "keep": 3.0, "drop_mass": 1e-6, "cg_rtol": 0.1, "cg_maxiter": None,
            "max_linesearch": 30, "backend": "auto"},
}


def sinkhorn(a, b, C, reg, method="sinkhorn", *, tol=None, maxiter=10000, callback=None, f0=None, g0=None,
             plan=True, max_time=math.inf, trace=True, **options):
    """Entropic optimal transport between ``a`` and ``b`` with cost ``C``.

    Parameters
    ----------
    a, b : arrays (n,), (m,) — or (B, n), (B, m) for a batch of problems
        Positive marginals with equal mass.
    C : array (n, m) or (B, n, m)
    reg : float > 0
        Entropic regularization, kernel ``exp(-C / reg)`` (POT's convention).
    method : ``"sinkhorn"`` (scaling domain, fastest when ``reg`` is not small),
        ``"sinkhorn_log"`` (log domain, stable for any ``reg > 0``; fused numba kernel for
        numpy), ``"sinkhorn_epsilon_scaling"`` (log domain with ``reg`` annealed from
        ``reg_start`` by ``decay`` every ``every`` iterations), ``"sns"``
        (Sinkhorn–Newton–Sparse).
    tol : float, optional
        Tolerance on the l1 marginal violation ``||P1 - a||_1 + ||P^T 1 - b||_1``.
        Default: 1e-9 for float64 marginals; for lower-precision marginals (float32)
        ``max(1e-9, 100 eps * mass)``, what their precision can resolve. The violation
        cannot go below the masses' mismatch ``|sum a - sum b|``; a run whose ``tol`` is
        below it ends with status 1 and a message saying so.
    f0, g0 : warm-start dual potentials, shapes of ``a`` and ``b``, finite.
    plan : bool
        Return the plan (``result.plan`` and ``result.x``); with False only the costs
        are computed (on numpy, without forming the plan).
    options : method options — ``relaxation`` (over-relaxation ω in (0, 2)),
        ``anderson`` (Anderson depth, log domain, numpy), ``backend`` ("auto": the
        log-stabilized scaling iteration with absorption — two matrix-vector products per
        iteration; "numba": fused log-sum-exp passes; "array_api": log-sum-exp through the
        array namespace), ``absorb`` (absorb the scalings when |log u| exceeds it), SNS: ``warmup``, ``switch_tol``, ``slow_ratio`` (switch to Newton only
        while the Sinkhorn error ratio per iteration exceeds it), ``drop_mass`` (sparsified Hessian: the
        smallest plan entries carrying at most this fraction of the mass are dropped),
        ``keep`` (at least ``keep * (n + m)`` entries are kept), ``cg_rtol``, ``cg_maxiter``, ``max_linesearch``.

    Returns
    -------
    OptimizeResult with ``plan`` (= ``x``), ``f``, ``g`` (potentials), ``cost`` (``<P, C>``),
    ``reg_cost`` (the regularized objective), ``marginal_error`` (l1), ``nit``,
    ``success``, ``status``, ``message``, ``trace`` (``optimality`` = marginal violation).
    """
    if method not in _DEFAULTS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(_DEFAULTS)}")
    xp, a, b, C, reg = _check_inputs(a, b, C, reg)
    f0 = _check_potential(f0, "f0", a, xp)
    g0 = _check_potential(g0, "g0", b, xp)
    opts = dict(_DEFAULTS[method])
    unknown = set(options) - set(opts)
    if unknown:
        raise TypeError(f"unknown option(s) {sorted(unknown)} for method {method!r}; valid: {sorted(opts)}")
    opts.update(options)
    if tol is None:
        eps = max(float(xp.finfo(a.dtype).eps), float(xp.finfo(b.dtype).eps))
        tol = max(1e-9, 100 * eps * float(xp.max(xp.sum(a, axis=-1))))
    check_scalar(tol, "tol", lower=0)
    check_scalar(maxiter, "maxiter", lower=0, integer=True)
    om = opts.get("relaxation", 1.0)
    if not 0 < om < 2:
        raise ValueError(f"`relaxation` must be in (0, 2), got {om}")
    if method == "sinkhorn":
        gen = _scaling(a, b, C, reg, f0, g0, opts, xp)
    elif method in ("sinkhorn_log", "sinkhorn_epsilon_scaling"):
        schedule = None
        if method == "sinkhorn_epsilon_scaling":
            r0 = opts.pop("reg_start")
            if r0 is not None:  # Python's max(reg, nan) in the schedule would swallow a NaN
                r0 = check_scalar(r0, "reg_start", lower=0, lower_inclusive=False)
                if not math.isfinite(r0):
                    raise ValueError(f"`reg_start` must be finite, got {r0!r}")
            r0 = r0 or max(reg, float(xp.max(C)) / 2)
            decay, every = opts.pop("decay"), opts.pop("every")
            if isinstance(decay, bool) or not isinstance(decay, numbers.Real) or not 0 < decay < 1:
                raise ValueError(f"`decay` must be in (0, 1), got {decay}")
            check_scalar(every, "every", lower=1, integer=True)
            schedule = (lambda k: max(reg, r0 * decay ** (k // every)))
        if opts["backend"] not in ("auto", "numba", "array_api"):
            raise ValueError(f"`backend` must be 'auto', 'numba' or 'array_api', got {opts['backend']!r}")
        stabilized = opts["backend"] == "auto" and opts["anderson"] == 0 and opts["relaxation"] == 1
        if stabilized:
            gen = _stabilized(a, b, C, reg, f0, g0, opts, xp, schedule)
        else:
            gen = _log_domain(a, b, C, reg, f0, g0, opts, xp, schedule)
    else:
        gen = _sns(a, b, C, reg, f0, g0, opts, xp)
    res = run_loop(gen, counter=OracleCounter(), options={"maxiter": maxiter, "max_time": max_time,
                                                          "trace": trace}, callback=callback, tol=tol,
                   method=method)
    state = res.pop("state")
    res.pop("reg_current", None)
    if "F" in state:
        res.absorptions = state["absorptions"]
        f, g = state["F"] + reg * xp.log(state["u"]), state["G"] + reg * xp.log(state["v"])
    elif method == "sinkhorn":
        with np.errstate(divide="ignore"):
            f, g = reg * xp.log(state["u"]), reg * xp.log(state["v"])
    else:
        f, g = state["f"], state["g"]
    for k in ("nfev", "njev", "nhev", "nprox", "nlmo", "nproj", "jac", "fun"):
        res.pop(k, None)
    res.f, res.g = f, g
    res.marginal_error = res.optimality
    _finish_costs(res, f, g, C, reg, xp, plan)
    if res.status == 2:
        res.message += (" Kernel underflow: use method='sinkhorn_log' for small reg."
                        if method == "sinkhorn" else "")
    if res.status == 1:
        mismatch = float(xp.max(xp.abs(xp.sum(a, axis=-1) - xp.sum(b, axis=-1))))
        if mismatch >= tol:
            res.message += (f" The masses of `a` and `b` differ by {mismatch:.1e} >= tol = {tol:.1e}: the "
                            "marginal violation cannot go below that (normalize in float64 or raise tol).")
    return res


def _finish_costs(res, f, g, C, reg, xp, want_plan):
    if is_numpy(xp) and C.ndim == 2 and f.ndim == 1 and np.all(np.isfinite(f)) and np.all(np.isfinite(g)):
        from . import _sinkhorn_numba as nb

        Cc = np.ascontiguousarray(C)
        P = np.empty_like(Cc) if want_plan else np.empty((1, 1))
        cost = nb.plan_and_cost(Cc, f, g, reg, want_plan, P)
        ent = nb.entropy_term(Cc, f, g, reg)
        res.plan = P if want_plan else None
    else:
        lp = (f[..., :, None] + g[..., None, :] - C) / reg
        P = xp.exp(lp)
        cost = xp.sum(P * C, axis=(-2, -1))
        ent = xp.sum(P * (lp - 1), axis=(-2, -1))
        res.plan = P if want_plan else None
        if P.ndim == 2:
            cost, ent = float(cost), float(ent)
    res.cost = cost
    res.reg_cost = cost + reg * ent
    res.x = res.plan


# ------------------------------------------------------------------ Mirror Sinkhorn

def _lp_lower_bound(G, a, b, reg, warm, sweeps, xp):
    """A lower bound of ``min_{Q in U(a, b)} <G, Q>`` by weak duality: ``sweeps``
    log-domain Sinkhorn sweeps on the cost ``G`` at ``reg`` (warm-started from ``warm``),
    then two c-transforms (``g_j = min_i G_ij - f_i``, ``f_i = min_j G_ij - g_j``) make the
    potentials feasible for the LP dual (``f_i + g_j <= G_ij``), so
    ``<f, a> + <g, b> <= <G, Q>`` for every Q in U(a, b) however inexact the Sinkhorn
    potentials are. Returns (bound, Sinkhorn potentials for the next warm start)."""
    log_a, log_b = xp.log(a), xp.log(b)
    g = xp.min(G, axis=0) if warm is None else warm
    for _ in range(sweeps):
        f = reg * (log_a - _lse((g[None, :] - G) / reg, 1, xp))
        g = reg * (log_b - _lse((f[:, None] - G) / reg, 0, xp))
    if not bool(xp.all(xp.isfinite(g))):
        g = xp.min(G, axis=0)
    warm = g
    f = xp.min(G - g[None, :], axis=1)
    g = xp.min(G - f[:, None], axis=0)
    f = xp.min(G - g[None, :], axis=1)
    return float(xp.sum(f * a)) + float(xp.sum(g * b)), warm


def mirror_sinkhorn(grad, a, b, *, value=None, P0=None, step=None, maxiter=1000, tol=0.0, callback=None,
                    rng=None, trace=True, check_every=10):
    """Mirror Sinkhorn (Ballu & Berthet, ICML 2023): minimize a convex ``F(P)`` over the
    transport polytope ``U(a, b) = {P >= 0, P 1 = a, P^T 1 = b}`` in a single loop.

    Iteration t: ``P <- P * exp(-eta_t * grad(P))`` (an entropic mirror step), then a KL
    projection onto one marginal constraint, alternating rows (t even) and columns
    (t odd). The output is the running average of the iterates (weights eta_t).
    ``grad(P)`` may be noisy/online (an unbiased estimate): with
    ``eta_t = eta0 / sqrt(t + 1)`` the averaged iterate satisfies
    ``F(P_bar_T) - F* = O(log(n) / sqrt(T))`` and a marginal violation ``O(1/sqrt(T))``
    (Ballu & Berthet 2023, Thm 3.2, up to constants).

    Stopping certificate (``tol``, absolute, in units of F): the optimality measure is an
    upper bound of ``F(plan) - F*`` for the returned plan ``plan = round(average)``
    (feasible): with ``G = grad(plan)``, convexity gives
    ``F(plan) - F* <= <G, plan> - min_{Q in U(a, b)} <G, Q> <= <G, plan> - LB``, where
    ``LB = <f, a> + <g, b>`` for dual potentials made LP-feasible (``f_i + g_j <= G_ij``)
    by c-transforms of log-domain Sinkhorn potentials on the cost ``G`` (warm-started,
    entropic parameter half the previous certificate, ``check_every`` Sinkhorn sweeps per
    check, 100 for the first). It costs one gradient at the plan, so it is computed
    every ``check_every`` iterations (the trace's ``optimality`` is NaN in between) and
    once at the end (``result.gap``); ``tol = 0`` (default) never stops early. With
    ``tol > 0`` ``grad`` must be exact and deterministic (``grad(P)``): a stochastic
    gradient gives no certificate. A run that ends at ``maxiter`` with a final certificate
    ``<= tol`` reports success.

    ``grad(P, rng)`` or ``grad(P)``; ``value(P)`` (optional) is recorded in the trace;
    ``step``: ``eta0`` (default ``1 / max|grad(P0)|``); ``rng``: seed or Generator passed to
    a stochastic ``grad`` (default: a fixed seed, so default runs are reproducible).
    Returns an OptimizeResult with ``plan`` (= ``x``: the averaged iterate rounded onto
    U(a, b), so feasible; ``fun`` is ``value(plan)``), ``gap`` (the certificate at the
    plan; None for a stochastic ``grad``), ``average`` (the averaged iterate), ``last``
    (the last iterate) and ``marginal_error`` (of the average); the trace's ``fun`` and
    ``marginal_error`` are the value and l1 marginal violation of the running average.
    """
    import inspect

    if not callable(grad):
        raise TypeError(f"`grad` must be callable (grad(P) or grad(P, rng)), got {type(grad).__name__}")
    if value is not None and not callable(value):
        raise TypeError(f"`value` must be callable or None, got {type(value).__name__}")
    a, b = _as_array(a), _as_array(b)
    xp = get_namespace(a, b)
    a, b = xp.asarray(a), xp.asarray(b)
    _check_marginals(a, b, xp)
    if a.ndim != 1:
        raise ValueError(f"`a` and `b` must be 1-D for mirror_sinkhorn, got shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    n, m = a.shape[0], b.shape[0]
    check_scalar(maxiter, "maxiter", lower=0, integer=True)
    check_scalar(tol, "tol", lower=0)
    check_scalar(check_every, "check_every", lower=1, integer=True)
    if step is not None:
        check_scalar(step, "step", lower=0, lower_inclusive=False)
        if not math.isfinite(step):
            raise ValueError(f"`step` must be finite, got {step!r}")
    rng = np.random.default_rng(0 if rng is None else rng)
    try:
        takes_rng = len(inspect.signature(grad).parameters) >= 2
    except (TypeError, ValueError):
        takes_rng = False
    if takes_rng and tol > 0:
        raise ValueError("`tol` > 0 needs a deterministic `grad(P)`: the stopping certificate evaluates the "
                         "gradient at the rounded plan, and a stochastic `grad(P, rng)` gives no certificate")
    if P0 is None:
        P = a[:, None] * b[None, :]
    else:
        P = xp.asarray(_as_array(P0))
        if tuple(P.shape) != (n, m):
            raise ValueError(f"`P0` must have shape ({n}, {m}), got {tuple(P.shape)}")
        if not xp.isdtype(P.dtype, "real floating"):
            raise TypeError(f"`P0` must be a real floating array, got dtype {P.dtype}")
        if not bool(xp.all(xp.isfinite(P))) or bool(xp.any(P < 0)) or not bool(xp.any(P > 0)):
            raise ValueError("`P0` must be finite, nonnegative and not all zero")

    def G(P):
        out = grad(P, rng) if takes_rng else grad(P)
        out = xp.asarray(_as_array(out))
        if tuple(out.shape) != tuple(P.shape):
            raise ValueError(f"`grad` returned shape {tuple(out.shape)}, expected {tuple(P.shape)}")
        return out

    cert = {"warm": None, "last": None, "nit": -1}

    def certificate(avg, nit):
        """Upper bound of F(round(avg)) - F* (module docstring); NaN when the gradient is not finite."""
        Pr = round_to_polytope(avg, a, b)
        Gr = G(Pr)
        if not bool(xp.all(xp.isfinite(Gr))):
            return math.nan
        upper = float(xp.sum(Gr * Pr))
        spread = float(xp.max(Gr)) - float(xp.min(Gr))
        if spread <= 0:  # constant gradient: every feasible plan is optimal for the linearization
            gap = 0.0
        else:
            target = cert["last"] if cert["last"] is not None else 0.1 * spread
            sweeps = check_every if cert["warm"] is not None else 100  # a cold start gets more
            reg = min(max(0.5 * max(tol, target), 1e-6 * spread), 0.1 * spread)
            lower, cert["warm"] = _lp_lower_bound(Gr, a, b, reg, cert["warm"], sweeps, xp)
            gap = max(upper - lower, 0.0) if math.isfinite(upper - lower) else math.nan
        cert["last"], cert["nit"] = gap, nit
        return gap

    def viol(Q):
        return _l1(xp.sum(Q, axis=1) - a, xp) + _l1(xp.sum(Q, axis=0) - b, xp)

    def gen():
        nonlocal P
        g = G(P)
        if not bool(xp.all(xp.isfinite(g))):
            raise ValueError("`grad` returned NaN or inf at the starting plan")
        eta0 = step if step is not None else 1.0 / max(float(xp.max(xp.abs(g))), 1e-300)
        avg, wsum = P, 0.0
        opt = certificate(avg, 0) if tol > 0 else None
        yield Step(avg, None if value is None else float(value(avg)), opt, last=P, marginal_error=viol(avg))
        t = 0
        while True:
            eta = eta0 / math.sqrt(t + 1)
            logP = xp.log(xp.maximum(P, xp.full_like(P, 1e-300))) - eta * g
            logP = logP - xp.max(logP)
            P = xp.exp(logP)
            if t % 2 == 0:
                P = P * (a / xp.sum(P, axis=1))[:, None]
            else:
                P = P * (b / xp.sum(P, axis=0))[None, :]
            wsum_new = wsum + eta
            avg = P if wsum == 0 else avg * (wsum / wsum_new) + P * (eta / wsum_new)
            wsum = wsum_new
            t += 1
            err = viol(avg)
            if not (math.isfinite(err) and bool(xp.all(xp.isfinite(P)))):
                return 2, f"{STATUS[2]} (non-finite plan at iteration {t}: check `grad` and `step`)"
            g = G(P)
            if not bool(xp.all(xp.isfinite(g))):
                return 2, f"{STATUS[2]} (`grad` returned NaN or inf at iteration {t})"
            opt = certificate(avg, t) if tol > 0 and t % check_every == 0 else None
            yield Step(avg, None if value is None else float(value(avg)), opt, last=P, marginal_error=err)

    res = run_loop(gen(), counter=OracleCounter(), options={"maxiter": maxiter, "max_time": math.inf,
                                                            "trace": trace},
                   callback=callback, tol=tol if tol > 0 else None, method="mirror_sinkhorn")
    res.average = res.x
    res.plan = res.x = round_to_polytope(res.x, a, b)
    res.marginal_error = _l1(xp.sum(res.average, axis=1) - a, xp) + _l1(xp.sum(res.average, axis=0) - b, xp)
    if takes_rng:
        res.gap = None
    elif cert["nit"] == res.nit and cert["last"] is not None:
        res.gap = cert["last"]
    else:
        res.gap = certificate(res.average, res.nit)
    res.optimality = res.gap
    if tol > 0 and res.status == 1 and res.gap is not None and math.isfinite(res.gap) and res.gap <= tol:
        res.status, res.success, res.message = 0, True, STATUS[0]
    if value is not None:
        res.fun = float(value(res.plan))
    for k in ("nfev", "njev", "nhev", "nprox", "nlmo", "nproj", "jac"):
        res.pop(k, None)
    return res


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


# ------------------------------------------------------------- convenience

def wasserstein_point_clouds(X, Y, reg, a=None, b=None, method="sinkhorn_log", **kw):
    """Entropic W2^2 between point clouds X (n, d), Y (m, d) with squared-Euclidean cost."""
    xp = get_namespace(X, Y)
    C = xp.sum(X * X, axis=1)[:, None] + xp.sum(Y * Y, axis=1)[None, :] - 2 * X @ Y.T
    C = xp.maximum(C, xp.zeros_like(C))
    n, m = X.shape[0], Y.shape[0]
    a = xp.full((n,), 1.0 / n, dtype=X.dtype) if a is None else a
    b = xp.full((m,), 1.0 / m, dtype=Y.dtype) if b is None else b
    return sinkhorn(a, b, C, reg, method=method, **kw)


def wasserstein_grid(a, b, reg, p=2, method="sinkhorn_log", **kw):
    """Entropic W_p^p between histograms on the same regular grid of [0, 1]^d
    (``a``, ``b`` of shape (k,) or (k1, k2)); cost ``||x - y||_2^p``."""
    a_np = to_numpy(a)
    shape = a_np.shape
    axes = [(np.arange(s) + 0.5) / s for s in shape]
    G = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(shape))
    D = np.sqrt(((G[:, None, :] - G[None, :, :]) ** 2).sum(-1)) ** p
    xp = get_namespace(a)
    return sinkhorn(xp.reshape(a, (-1,)), xp.reshape(b, (-1,)), xp.asarray(D), reg, method=method, **kw)
