"""The array-API path of BCD: any smooth objective with ``grad``, any block partition, a
regularizer separable over the blocks (block prox steps), the selection rules by full
gradients, and the gradient / block Newton / message-passing / user-object updates."""
from __future__ import annotations

import math

import numpy as np

from ..._backend import get_namespace, norm
from ..._loop import Step
from .common import _GREEDY_CODE, SELECTIONS, _blocks, _gap_measure, _is_zero_reg, _penalty_params, _unwrap
from .tree import TreeUpdate

_SEPARABLE = ("L1", "SquaredL2", "ElasticNet", "ZeroRegularizer", "Box", "NonNegative")
_NOT_SEPARABLE = ("Simplex", "L1Ball", "NuclearNorm")


def check_block_separable(reg, blocks, n, method="bcd"):
    """Raise ValueError unless the regularizer ``reg`` is separable over ``blocks`` (a
    partition of range(n)): block-wise prox steps treat g(x) as sum_b g_b(x_b), and
    a g that couples blocks would be silently replaced by another function.

    Accepted: elementwise terms (L1, SquaredL2, ElasticNet, Box / NonNegative, none), a
    GroupLasso whose every group lies inside one block, and any other object (a
    callable prox or a user's class: its separability is the caller's promise). Refused:
    the sets Simplex / L1Ball and NuclearNorm (coupled), and group lasso groups split
    across blocks."""
    g = getattr(reg, "g", reg)
    if g is None:
        return
    name = type(g).__name__
    if name in _SEPARABLE:
        return
    if name in _NOT_SEPARABLE:
        raise ValueError(f"method {method!r} takes prox steps block by block, which needs a regularizer "
                         f"separable over the blocks; {name} couples all coordinates. Accepted: L1, "
                         "SquaredL2, ElasticNet, Box/NonNegative, GroupLasso with groups inside blocks "
                         "(use a proximal gradient method such as 'fista' for this one)")
    if name == "GroupLasso":
        label = np.empty(n, dtype=np.int64)
        for j, b in enumerate(blocks):
            label[np.asarray(b, dtype=np.int64)] = j
        groups = g.groups
        if isinstance(groups, (int, np.integer)):
            groups = [range(i, min(i + int(groups), n)) for i in range(0, n, int(groups))]
        for grp in groups:
            lab = label[np.asarray(list(grp), dtype=np.int64)]
            if lab.size and np.any(lab != lab[0]):
                raise ValueError(f"method {method!r}: a GroupLasso group ({list(grp)[:6]}...) is split across "
                                 "blocks; the group lasso is separable only over blocks that contain whole "
                                 "groups: pass `blocks` = the groups (or unions of them)")


def _is_tree(upd):
    return (isinstance(upd, str) and upd == "tree") or isinstance(upd, TreeUpdate)


def _quadratic_matrix(problem):
    """True for 1/2 x^T A x - c^T x objectives that expose A and c (or Q and b)."""
    f = _unwrap(problem.objective)
    return (getattr(f, "A", None) is not None and getattr(f, "c", None) is not None) or \
        (getattr(f, "Q", None) is not None and getattr(f, "b", None) is not None)


def _check_update(reg, upd):
    """Refuse an update that would drop a (nonzero) regularizer."""
    if reg is not None and _is_tree(upd):
        raise ValueError("update='tree' solves the block systems of a smooth problem and has no proximal step: "
                         f"it would drop the regularizer ({type(getattr(reg, 'g', reg)).__name__}); use "
                         "update='gradient' (proximal block steps) for a regularized problem")
    if reg is not None and not isinstance(upd, str) and not getattr(upd, "uses_regularizer", False):
        raise ValueError("an update object gets the regularizer in its state ('prox': the block prox, "
                         "'regularizer') and must apply it; declare that with the attribute "
                         "`uses_regularizer = True`, or use update='gradient' (proximal block steps) for a "
                         f"regularized problem (here {type(getattr(reg, 'g', reg)).__name__})")


def _block_lipschitz(f, x0, blocks):
    """The block Lipschitz constants: the objective's ``block_lipschitz``, else its global
    ``lipschitz``, else a secant estimate of it along the gradient at x0 (for every block)."""
    if hasattr(f, "block_lipschitz"):
        Lb = [float(f.block_lipschitz(b)) for b in blocks]
    else:
        L = getattr(f, "lipschitz", None)
        if not L:
            g0 = f.grad(x0)
            gn = float(norm(g0))
            if not math.isfinite(gn):
                raise ValueError(f"the gradient at x0 is not finite (norm {gn}); cannot estimate the block "
                                 "Lipschitz constants")
            gn = gn if gn > 1e-300 else 1e-300
            h = 1e-4 * max(1.0, float(norm(x0))) / gn
            L = float(norm(f.grad(x0 - h * g0) - g0)) / (h * gn)
            L = L if L > 1e-12 else (L if math.isnan(L) else 1e-12)  # (a NaN L is refused below)
        Lb = [float(L)] * len(blocks)
    if not all(math.isfinite(v) and v > 0 for v in Lb):
        raise ValueError("block Lipschitz constants must be positive and finite")
    return Lb


class _BlockRules:
    """The generic path's block operations for one run: the block prox, the stationarity
    measure, the greedy scores, the choice of the next block and its update."""

    def __init__(self, xp, f, reg, blocks, Lb, sel, upd, rng):
        self.xp, self.f, self.reg, self.blocks, self.Lb = xp, f, reg, blocks, Lb
        self.sel, self.upd, self.rng = sel, upd, rng
        self.probs = np.asarray(Lb) / sum(Lb)

    def prox_block(self, x, xb, step, b):
        xp, reg = self.xp, self.reg
        if reg is None:
            return xb
        full = _set(xp, xp.zeros_like(x), b, xb)
        return xp.take(reg.prox(full, step), xp.asarray(b), axis=0)

    def pg_norm(self, x, g):
        if self.reg is None:
            return norm(g)
        return norm(x - self.reg.prox(x - g, 1.0))

    def score(self, x, g, b, j):
        xp, reg, sel, L = self.xp, self.reg, self.sel, self.Lb[j]
        gb, xb = xp.take(g, xp.asarray(b), axis=0), xp.take(x, xp.asarray(b), axis=0)
        if sel in ("gs-r", "gs-q") or (reg is not None and sel in ("gs", "gsl")):
            new = self.prox_block(x, xb - gb / L, 1.0 / L, b)
            d = new - xb
            if sel == "gs-q":
                dv = float(xp.sum(gb * d)) + 0.5 * L * float(xp.sum(d * d))
                if reg is not None:  # block-separable g: compare g on the block only
                    z = xp.zeros_like(x)
                    dv += reg.value(_set(xp, z, b, new)) - reg.value(_set(xp, z, b, xb))
                return -dv
            s = norm(d) * L  # GS-r on the prox step, scaled as a gradient
            return s / math.sqrt(L) if sel == "gsl" else s
        s = norm(gb)
        return s / math.sqrt(L) if sel == "gsl" else s

    def pick(self, t, x, g, k):
        """(block index, gradient) for the t-th step of pass k; greedy rules take a fresh
        full gradient (returned, so the update reuses it)."""
        sel, f, nb = self.sel, self.f, len(self.blocks)
        if sel == "cyclic":
            return t, g
        if sel == "random":
            return int(self.rng.integers(nb)), g
        if sel == "lipschitz":
            return int(self.rng.choice(nb, p=self.probs)), g
        if sel in _GREEDY_CODE:
            g = f.grad(x)
            return int(np.argmax([self.score(x, g, b, i) for i, b in enumerate(self.blocks)])), g
        if hasattr(sel, "select"):
            return int(sel.select({"x": x, "grad": f.grad(x), "blocks": self.blocks, "L": self.Lb, "k": k})), g
        raise ValueError(f"unknown selection {sel!r}; valid: {', '.join(SELECTIONS)} or an object")

    def update(self, x, g, j):
        """x with block j updated (g: the gradient at x)."""
        xp, reg, upd, f, b, L = self.xp, self.reg, self.upd, self.f, self.blocks[j], self.Lb[j]
        bi = xp.asarray(b)
        gb, xb = xp.take(g, bi, axis=0), xp.take(x, bi, axis=0)
        if upd == "gradient":
            new = self.prox_block(x, xb - gb / L, 1.0 / L, b)
        elif upd == "newton":
            if reg is not None:
                raise ValueError("update='newton' is for smooth problems (no regularizer)")
            H = _block_hessian(f, x, b)
            new = xb - xp.asarray(np.linalg.solve(H, np.asarray(gb)), dtype=x.dtype)
        elif hasattr(upd, "update"):
            state = {"x": x, "grad": g, "block": b, "L": L, "objective": f}
            if reg is not None:
                state.update(regularizer=reg, prox=lambda v, step, b=b: self.prox_block(x, v, step, b))
            new = upd.update(state, j)
        else:
            raise ValueError(f"unknown update {upd!r}; use 'gradient', 'newton' or an object")
        return _set(xp, x, b, new)


def _generic(problem, x0, opts):
    """Array-API path: any smooth objective with grad; separable prox per block."""
    from .common import _default_rng

    xp = get_namespace(x0)
    f, reg = problem.objective, problem.regularizer
    n = x0.shape[0]
    blocks = _blocks(opts["blocks"], n)
    sel, upd = opts["selection"], opts["update"]
    check_block_separable(reg, blocks, n)
    if _is_zero_reg(reg):
        reg = None  # (g = 0: nothing to drop)
    _check_update(reg, upd)
    rng = _default_rng(opts["rng"])
    Lb = _block_lipschitz(f, x0, blocks)
    gapf = _gap_measure(problem)
    x = x0
    if isinstance(upd, str) and upd == "tree":
        upd = TreeUpdate()
    rules = _BlockRules(xp, f, reg, blocks, Lb, sel, upd, rng)
    track = _penalty_params(reg.g if hasattr(reg, "g") else reg) not in (None, (0.0, 0.0))
    supp = x != 0 if track else None
    last_change, k = 0, 0

    def step(x, fx, g):
        rv = 0.0 if reg is None else reg.value(x)
        opt = gapf(x) if gapf else rules.pg_norm(x, g)
        return Step(x, fx + rv, opt, jac=g, **({"active_set_iteration": last_change} if track else {}))

    fx = f.value(x)
    g = f.grad(x)
    yield step(x, fx, g)
    while True:
        for t in range(len(blocks)):
            j, g = rules.pick(t, x, g, k)
            if sel not in _GREEDY_CODE:
                g = f.grad(x)
            x = rules.update(x, g, j)
        k += 1
        fx = f.value(x)
        g = f.grad(x)
        if track:
            new_supp = x != 0
            if not bool(xp.all(new_supp == supp)):
                supp, last_change = new_supp, k
        yield step(x, fx, g)


def _block_hessian(f, x, b):
    """The block Hessian H_bb of the smooth objective at x, as a dense |b| x |b| array,
    without densifying a sparse design or Hessian: for f = loss(A x) (LinearComposite)
    A_b^T diag(loss'') A_b from the block's columns A[:, b] only; for an objective whose
    ``hess`` returns a scipy.sparse matrix, its b x b block."""
    import scipy.sparse as sp

    b = np.asarray(b, dtype=np.int64)
    inner = _unwrap(f)
    A, loss = getattr(inner, "A", None), getattr(inner, "loss", None)
    if (A is not None and loss is not None and hasattr(loss, "hess_diag") and isinstance(x, np.ndarray)
            and (sp.issparse(A) or isinstance(A, np.ndarray)) and A.ndim == 2):
        if hasattr(f, "counter"):
            f.counter.nhev += 1
        h = np.asarray(loss.hess_diag(A @ x), dtype=np.float64)
        if sp.issparse(A):
            Ab = (A if A.format in ("csc", "csr") else A.tocsc())[:, b]
            H = Ab.T @ Ab.multiply(h[:, None]).tocsc()
            return H.toarray() if sp.issparse(H) else np.asarray(H)  # (|b| x |b|: the block, not the design)
        Ab = np.asarray(A)[:, b]
        return Ab.T @ (h[:, None] * Ab)
    if not callable(getattr(f, "hess", None)):
        raise ValueError("update='newton' needs the objective's Hessian (`hess`) or a LinearComposite objective")
    H = f.hess(x)
    if sp.issparse(H):
        return H.tocsr()[b][:, b].toarray()  # (the b x b block only)
    return np.asarray(H)[np.ix_(b, b)]


def _set(xp, x, b, vals):
    """x with x[b] = vals, without in-place updates (array API)."""
    n = x.shape[0]
    idx = np.full(n, -1)
    idx[np.asarray(b)] = np.arange(len(b))
    pos = xp.asarray(np.where(idx >= 0, idx, 0))
    picked = xp.take(vals, pos, axis=0)
    return xp.where(xp.asarray(idx >= 0), picked, x)
