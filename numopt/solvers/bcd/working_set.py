"""The working-set fast path of BCD for l1 / elastic-net least squares and logistic
regression (Johnson & Guestrin 2015; Massias, Gramfort & Salmon, celer, ICML 2018;
Bertrand et al., skglm, NeurIPS 2022) with gap-safe screening (Fercoq, Gramfort & Salmon,
ICML 2015), Anderson extrapolation of the CD epochs (Bertrand & Massias, AISTATS 2021) and
proximal Newton steps for logistic regression (Lee, Sun & Saunders, SIOPT 2014).

Each outer iteration:

1. from the dual point theta = s * grad F(Xw) (s rescales it into the dual-feasible set
   ||X^T theta||_inf <= l1), the global duality gap G; features with
   |X_j^T theta| + ||X_j|| sqrt(2 G beta) < l1 (beta = smoothness of F, so the dual is
   1/beta-strongly concave and the dual optimum lies in that ball) are zero at the
   optimum: removed for good (``screening``);
2. the working set: the support plus the features whose constraint |X_j^T theta| <= l1
   is closest to active, d_j = (l1 - |X_j^T theta|) / ||X_j|| smallest, of size
   max(previous size, ws_start, 2 |support|) (doubled when the gap falls by less than 10%);
3. the subproblem on the working set (others fixed at 0) is solved by the numba
   coordinate kernels with the selection rule (or prox-Newton steps) until its own duality
   gap is below ``ws_inner`` times G.

One outer iteration = one yielded step; ``optimality`` is the global relative gap G/P(0).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..._anderson import anderson_weights
from ..._loop import Step
from .common import (_GREEDY_CODE, _CSCData, _csr_arrays, _default_rng, _dual_value, _nonneg, _penalty_params,
                     _reg_of, _unwrap)


@dataclass
class _WSState:
    """The mutable state of a working-set run: the iterate, the residual r = y - Xw (least
    squares) or the predictions z = Xw (logistic), the unscreened features, the working-set
    size, the loss terms at the current z (None once stale), the last conjugate, the counts."""

    w: np.ndarray
    state: np.ndarray
    alive: np.ndarray
    ws_size: int
    cur: tuple | None = None  # (F(z), grad F(z), diag hess F(z) or None)
    memo: list = field(default_factory=lambda: [None, 0.0, 0.0])  # the last conjugate (see _dual_value)
    rows: tuple | None = None  # CSR rows of the design (prox-Newton Hessians), built on first use
    n_updates: int = 0
    n_screened: int = 0
    n_outer: int = 0
    n_extrap: int = 0
    n_pn: int = 0


class _WorkingSets:
    """The fixed data of one working-set run (design, loss, penalty, options) and the
    operations of the outer loop on a :class:`_WSState`."""

    def __init__(self, problem, x0, opts, kind):
        from ...datafits import Quadratic

        f = _unwrap(problem.objective)
        self.reg = _reg_of(problem)
        self.l1, self.l2 = _penalty_params(self.reg)
        self.D = D = _CSCData(f.A)
        self.loss = loss = f.loss
        self.logistic = kind == "logistic"
        self.inv_n = 1.0 / D.n
        self.y = np.asarray(loss.y, dtype=np.float64)
        self.Lj = (0.25 if self.logistic else 1.0) * D.sq * self.inv_n
        self.beta = float(loss.smoothness)
        self.rng = _default_rng(opts["rng"])
        self.sel = sel = opts["selection"]
        self.greedy = sel in _GREEDY_CODE
        self.rule = _GREEDY_CODE.get(sel, 0)
        self.check_every = 5 if not self.greedy else 1
        self.ws_start = int(opts["ws_start"])
        self.newton_ws = self.logistic and sel == "cyclic" and opts["ws_solver"] in ("auto", "prox-newton")
        # (measured on the wide design: 0.1 is 14-17% faster than 0.3 for the lasso's CD epochs,
        # 16-38% slower for l1-logistic's Newton steps; the LIBSVM l1-logistic cases do not care)
        self.inner_frac = float(opts["ws_inner"]) if opts["ws_inner"] != "auto" else (0.3 if self.newton_ws else 0.1)
        self.hess_frac = float(opts["hessian_sample"])
        self.screen = bool(opts["screening"])
        self.anderson = bool(opts["anderson"])
        self.tol = float(opts["tol"])
        self.counter = problem.objective.counter
        p0 = loss.value(np.zeros_like(self.y))
        self.scale = p0 if p0 > 0 else 1.0
        self.plain_ls = type(loss) is Quadratic
        self.out = np.asarray(x0).dtype
        self.pn = _ProxNewton(D, loss, self.reg, self.l1, self.l2)

    def start(self, x0):
        w = np.array(x0, dtype=np.float64)
        Xw = self.D.X @ w if w.any() else np.zeros(self.D.n)
        alive = np.flatnonzero(self.D.sq > 0)  # unscreened features with a nonzero column
        return _WSState(w=w, state=Xw if self.logistic else self.y - Xw, alive=alive,
                        ws_size=min(self.D.p, self.ws_start))

    def z_of(self, st):
        return st.state if self.logistic else self.y - st.state

    def terms(self, st):
        """(F(z), grad F(z), diag hess F(z) or None) at the current z, cached in ``st.cur``."""
        if st.cur is None:
            if self.plain_ls:  # from the residual r = y - z: F = ||r||^2 / (2n), grad F = -r / n
                st.cur = (0.5 * self.inv_n * float(st.state @ st.state), st.state * -self.inv_n, None)
            else:
                z, loss = self.z_of(st), self.loss
                st.cur = loss.terms(z) if hasattr(loss, "terms") else (loss.value(z), loss.grad(z), None)
        return st.cur

    def global_gap(self, st, known=None):
        """(primal, gap, X_alive^T u, s); ``known`` = (W, X_W^T u, u) from the working
        set's last gap check: those columns' dots are reused when u is still current."""
        from .. import _bcd_kernels as K

        data, indices, indptr = self.D.csc
        alive = st.alive
        fz, u, _ = self.terms(st)
        v = np.empty(alive.size)
        if known is not None and known[2] is u:
            rest = np.ones(alive.size, dtype=bool)
            at = np.searchsorted(alive, known[0])
            rest[at] = False
            v[at] = known[1]
            others = alive[rest]
            vo = np.empty(others.size)
            K.col_dots(data, indices, indptr, u, others, vo)
            v[rest] = vo
        else:
            K.col_dots(data, indices, indptr, u, alive, v)
        primal = fz + self.reg.value(st.w)
        dual, s = _dual_value(self.loss, u, v, self.l1, self.l2, fz, self.z_of(st), st.memo)
        return primal, _nonneg(primal - dual), v, s

    def extras(self, st):
        return {"support_size": int(np.count_nonzero(st.w)), "coordinate_updates": st.n_updates,
                "working_set_size": st.ws_size, "n_screened": st.n_screened, "anderson_steps": st.n_extrap,
                "prox_newton_steps": st.n_pn}

    def step(self, st, primal, gap):
        return Step(st.w.astype(self.out), primal, gap / self.scale, **self.extras(st))

    def screen_out(self, st, gap, v, s):
        """Gap-safe screening: drop the features proven zero at the optimum (set to 0 now);
        returns v restricted to the remaining features."""
        if not (self.screen and self.l1 > 0 and gap > 0):
            return v
        D, w, alive = self.D, st.w, st.alive
        radius = math.sqrt(2.0 * gap * self.beta)
        drop = s * np.abs(v) + D.norms[alive] * radius < self.l1 * (1 - 1e-12)
        if not drop.any():
            return v
        gone = alive[drop]
        nz = gone[w[gone] != 0]
        for j in nz:  # proven zero at the optimum: set it to 0 now
            cols = slice(D.indptr[j], D.indptr[j + 1])
            if self.logistic:
                st.state[D.indices[cols]] -= D.data[cols] * w[j]
            else:
                st.state[D.indices[cols]] += D.data[cols] * w[j]
            w[j] = 0.0
        if nz.size:
            st.cur = None
        st.alive = alive[~drop]
        st.n_screened += int(drop.sum())
        return v[~drop]

    def working_set(self, st, v, s):
        """The support first, then the features closest to violating their constraint."""
        alive = st.alive
        supp = st.w[alive] != 0
        nsupp = int(supp.sum())
        st.ws_size = min(alive.size, max(st.ws_size, self.ws_start, 2 * nsupp))
        score = (self.l1 - s * np.abs(v)) / self.D.norms[alive]
        score[supp] = -np.inf
        if st.ws_size < alive.size:
            W = alive[np.argpartition(score, st.ws_size - 1)[:st.ws_size]]
        else:
            W = alive
        return np.sort(W).astype(np.int64)


def _fast_ws(problem, x0, opts, kind):
    """Working-set outer loop (see the module docstring): screening, the working set, the
    subproblem solve, the global gap; the working set doubles when the gap stalls."""
    run = _WorkingSets(problem, x0, opts, kind)
    st = run.start(x0)
    counter = run.counter
    counter.nfev += 1
    primal, gap, v, s = run.global_gap(st)
    counter.njev += 1
    yield run.step(st, primal, gap)
    last_gap = gap
    while True:
        v = run.screen_out(st, gap, v, s)
        W = run.working_set(st, v, s)
        target = max(run.inner_frac * gap, 0.1 * run.tol * run.scale)
        known = _Subproblem(run, st, W, v, gap).solve(target)
        st.n_outer += 1
        counter.njev += 1
        counter.nfev += 1
        if not np.isfinite(st.w).all():
            return 2, f"non-finite coordinate in the iterate at outer iteration {st.n_outer}; returning the last " \
                      "finite iterate"
        primal, gap, v, s = run.global_gap(st, known)
        if gap > 0.9 * last_gap and st.ws_size < st.alive.size:
            # stalled (the gap fell by less than 10%): grow the working set. (Doubling whenever
            # the gap fell by less than half grew the wide lasso's sets to 3x the support:
            # wide lasso lmax/100 and l1-logistic 1.3-1.6x slower.)
            st.ws_size = min(st.alive.size, 2 * st.ws_size)
        last_gap = gap
        yield run.step(st, primal, gap)


class _Subproblem:
    """The subproblem on one working set W (the other coordinates held at 0), solved until
    its duality gap is below the target: prox-Newton steps (logistic, cyclic rule; CD epochs
    once they stall), greedy steps with the gradient maintained, or ``check_every`` CD
    epochs between gap checks, Anderson-extrapolated (cyclic rule)."""

    def __init__(self, run, st, W, v, gap):
        from .. import _bcd_kernels as K

        self.run, self.st, self.W, self.gap = run, st, W, gap
        self.m = W.size
        self.gW = np.empty(self.m)
        D = run.D
        if run.greedy:
            self.csr = _csr_arrays(D.X[:, W].tocsr())
        self.newton = run.newton_ws
        self.anderson = run.anderson and run.sel == "cyclic" and not self.newton
        if self.newton:
            if st.rows is None:
                st.rows = D.rows()
            self.M = _WSMatrices(D, W, st.rows)
            if st.cur is not None:  # X_W^T grad F(z) from the global gap's X^T grad F(z)
                self.gW[:] = v[np.searchsorted(st.alive, W)]
            else:
                K.col_dots(*D.csc, run.terms(st)[1], W, self.gW)
        if self.anderson:
            self._start_anderson()

    def _start_anderson(self):
        self.XW = self.run.D.X[:, self.W]
        self.hist = np.empty((self.run.check_every + 1, self.m))

    def solve(self, target):
        """Iterate until the subproblem's gap <= target (or 10^5 epochs, or a non-finite
        gap); returns (W, X_W^T u, u) of the last gap check (None if there was none)."""
        from .. import _bcd_kernels as K

        run, st, W = self.run, self.st, self.W
        epochs, known = 0, None
        while True:
            if self.newton:
                if not self.newton_round():
                    continue  # (stalled: CD epochs from now on)
            elif run.greedy:
                if self.greedy_round() == 0:
                    break
            else:
                self.cd_round()
            epochs += 1 if self.newton else run.check_every
            fz, u, _ = run.terms(st)
            K.col_dots(*run.D.csc, u, W, self.gW)
            known = (W, self.gW, u)
            dual_W, _ = _dual_value(run.loss, u, self.gW, run.l1, run.l2, fz, run.z_of(st), st.memo)
            gap_W = fz + run.reg.value(st.w[W]) - dual_W  # (w is zero outside W)
            if gap_W <= target or epochs >= 100000 or not math.isfinite(gap_W):
                return known  # (a non-finite gap: the global gap is non-finite too, status 2)
        return known

    def newton_round(self):
        """One prox-Newton step (sub-sampled Hessian in the global phase, the full one if that
        fails); False when it stalled at rounding level: CD epochs take over."""
        run, st = self.run, self.st
        scale = run.scale
        frac = run.hess_frac if self.gap > 1e-2 * scale else 1.0  # sub-sampled model Hessian in the global phase
        # column-wise model CD: 50 epochs in the global phase, 500 near the optimum, where
        # an inexact model solve would make the Newton steps converge only linearly
        cap = 50 if self.gap > 1e-4 * scale else 500
        upd, progressed, new = run.pn.step(self.W, self.M, st.w, st.state, self.gW, run.terms(st), frac, run.rng,
                                           cap)
        if not progressed and frac < 1.0:  # the sampled model failed: the full one before CD epochs
            st.n_updates += upd
            # (the terms of the first try's start, as before the package split: a step accepted
            # without progress moved w by a rounding-level amount)
            upd, progressed, new = run.pn.step(self.W, self.M, st.w, st.state, self.gW, run.terms(st), 1.0,
                                               run.rng, cap)
        st.n_updates += upd
        st.n_pn += 1
        if new is not None:
            st.cur = new
        if not progressed:  # stalled at rounding level (ill-conditioned model): CD epochs
            self.newton = False
            self.anderson = run.anderson
            if self.anderson:
                self._start_anderson()
        return progressed

    def greedy_round(self):
        """Greedy steps from the exact gradient on W until the kernel stops; the count."""
        from .. import _bcd_kernels as K

        run, st, W = self.run, self.st, self.W
        data, indices, indptr = run.D.csc
        u = run.terms(st)[1]
        K.col_dots(data, indices, indptr, u, W, self.gW)  # exact gradient (no drift)
        rdata, rcols, rptr = self.csr
        took = K.greedy_ws(run.logistic, data, indices, indptr, rdata, rcols, rptr, W, st.w, st.state, run.y,
                           u, self.gW, run.l1, run.l2, run.Lj, run.inv_n, run.rule, self.m)
        st.cur = None
        st.n_updates += took
        return took

    def cd_round(self):
        """``check_every`` CD epochs on W in the rule's order, then an Anderson step."""
        from .. import _bcd_kernels as K

        run, st, W, m = self.run, self.st, self.W, self.m
        data, indices, indptr = run.D.csc
        Lj, w = run.Lj, st.w
        if self.anderson:
            self.hist[0] = w[W]
        for t in range(run.check_every):
            if run.sel == "cyclic":
                order = W
            elif run.sel == "random":
                order = W[run.rng.integers(0, m, size=m)]
            else:  # lipschitz
                pr = Lj[W] / Lj[W].sum()
                order = W[run.rng.choice(m, size=m, p=pr)]
            if run.logistic:
                K.logreg_epoch(data, indices, indptr, w, st.state, run.y, run.l1, run.l2, Lj, run.inv_n, order)
            else:
                K.lasso_epoch(data, indices, indptr, w, st.state, run.l1, run.l2, Lj, run.inv_n, order)
            st.n_updates += m
            if self.anderson:
                self.hist[t + 1] = w[W]
        st.cur = None
        if self.anderson:
            st.n_extrap += _anderson_step(self.hist, self.XW, W, w, st.state, run.y, run.loss, run.reg,
                                          run.logistic)


class _WSMatrices:
    """Whether the prox-Newton model Hessian X_W^T diag(h) X_W is formed for a working set
    (``gram``), from the CSR rows of the whole design built once per solve (``rows``; its
    columns outside W are skipped through ``pos``). Cost model (ns, measured on the
    benchmark machine), for ~20 model CD epochs: formed, sum_i nnz_i(W)^2 / 2 multiply-adds
    at ~2.5 ns split over the threads plus epochs of up to |W|^2 / 2 at ~1 ns; column-wise,
    two passes over nnz(X_W) at ~4 ns per nonzero and epoch. It is formed when that is
    cheaper and |W| <= 3000 (an m x m matrix): the Hessian wins on long rows (n >> |W|,
    as on a9a / w8a / mushrooms), the columns on wide designs (n < |W|).
    The rows are split over the numba threads (``nblocks``: one m x m accumulator each, at
    most 256 MB of them, one block below 10^5 pairs)."""

    def __init__(self, D, W, rows):
        from numba import get_num_threads

        from .. import _bcd_kernels as K

        m = W.size
        self.gram = False
        if m <= 3000:
            self.rdata, self.rcols, self.rptr = rows
            self.pos = np.full(D.p, -1, dtype=np.int64)
            self.pos[W] = np.arange(m)
            # (a rough estimate suffices: from about 1000 evenly spaced rows)
            pairs, nnz = K.masked_rows_cost(self.rcols, self.rptr, self.pos, max(1, D.n // 1000))
            self.nblocks = 1 if pairs < 1e5 else max(1, min(get_num_threads(), int(2 ** 25 // (m * m))))
            epochs = 20.0
            formed = 2.5 * pairs / self.nblocks + epochs * 0.5 * m * m
            self.gram = formed <= epochs * 8.0 * nnz


class _ProxNewton:
    """Proximal Newton steps for l1 / elastic-net logistic regression on a working set
    (Lee, Sun & Saunders, SIOPT 2014; as in skglm / celer for logistic regression): the
    model g^T d + 1/2 d^T X_W^T diag(h) X_W d + penalty(w_W + d) is minimized approximately
    by cyclic CD (numba, to a change below 1e-4 of the step; at most 200 epochs with the
    Hessian formed, ``cd_epochs`` column-wise), then a backtracking (Armijo) line search on
    the true objective. When the rows of X_W are sparse enough (see :class:`_WSMatrices`)
    the model Hessian X_W^T diag(h) X_W is formed once and the CD epochs cost O(|W|^2),
    independent of n.

    With ``frac`` < 1 and the Hessian formed, it is formed from a random subset of about
    ``frac`` n samples with weights h_i / frac (a sub-sampled Newton step, exact gradient:
    Byrd, Chin, Neveitt & Nocedal, SIOPT 2011; Roosta-Khorasani & Mahoney, Math. Prog.
    2019); the fraction is raised to keep at least 10 |W| samples; the caller uses it while the
    relative gap is above 1e-2, where Newton steps are damped anyway, and the full Hessian
    in the local phase. A column that the sample under-represents (a rare feature: few or
    none of its rows drawn) would get a near-zero curvature and a huge model step, so each
    diagonal entry is raised to its exact value sum_i h_i X_ij^2 where it falls below it
    (a nonnegative diagonal added: the model stays convex and only gets more cautious).

    The formed model is restricted to the active part of W: the coordinates nonzero in w or
    with |g_k| > l1 (a zero coordinate with |g_k| <= l1 stays at zero at d = 0); the others
    are held at zero for this step (an inexact Newton step: one that should move enters at
    the next step, its gradient then above l1). The Gram pairs shrink with the square of
    the row's active entries: w8a's local steps form a 64 x 64 model instead of 128 x 128
    (measured 5-25% on the LIBSVM l1-logistic cases)."""

    def __init__(self, D, loss, reg, l1, l2):
        self.D, self.loss, self.reg, self.l1, self.l2 = D, loss, reg, l1, l2

    def step(self, W, M, w, z, gW, cur, frac=1.0, rng=None, cd_epochs=50):
        """One step on W. ``gW`` = X_W^T grad F(z) and ``cur`` = (F(z), grad F(z), diag hess
        F(z)) at the current z. Updates w and z = Xw in place; returns the coordinate updates
        made, whether the objective decreased by more than rounding, and the new ``cur``
        (None when w did not move)."""
        h = cur[2]
        frac = max(frac, 10.0 * W.size / h.size)
        if M.gram:
            d, Xd, ep, m = self._formed(W, M, w, gW, h, frac, rng)
        else:
            d, Xd, ep, m = self._columns(W, w, gW, h, cd_epochs)
        return self._line_search(W, w, z, gW, cur[0], d, Xd, ep * m)

    def _formed(self, W, M, w, gW, h, frac, rng):
        """The model direction with the (possibly sub-sampled) Hessian of the active part formed."""
        from .. import _bcd_kernels as K

        D, l1, l2 = self.D, self.l1, self.l2
        sampled = frac < 1.0
        m, wW = W.size, w[W]
        ridge = 1e-12 * D.sq[W] / D.n
        d, Xd = np.zeros(m), np.empty(D.n)
        hs = np.where(rng.random(h.size) < frac, h / frac, 0.0) if sampled else h  # (zero rows: skipped)
        act = np.flatnonzero((wW != 0) | (np.abs(gW) > l1))  # the model's active part (class docstring)
        if act.size < m:
            pos = np.full(D.p, -1, dtype=np.int64)
            pos[W[act]] = np.arange(act.size)
        else:
            pos = M.pos
        WA = W[act]
        a = act.size
        H = K.gram_masked_rows(M.rdata, M.rcols, M.rptr, pos, hs, a, M.nblocks if a * 4 > m else 1)
        if sampled:
            dexact = np.empty(a)
            K.cols_weighted_sq(D.data, D.indices, D.indptr, WA, h, dexact)
            H[np.diag_indices(a)] += np.maximum(dexact - np.diagonal(H), 0.0)
        H[np.diag_indices(a)] += ridge[act]
        dA = np.zeros(a)
        ep = K.prox_newton_cd_gram(H, np.ascontiguousarray(gW[act]), np.ascontiguousarray(wW[act]), dA, l1, l2,
                                   200, 1e-4)
        d[act] = dA
        K.cols_matvec(D.data, D.indices, D.indptr, WA, dA, Xd)
        return d, Xd, ep, a

    def _columns(self, W, w, gW, h, cd_epochs):
        """The model direction by column-wise CD (Hessian never formed)."""
        from .. import _bcd_kernels as K

        D = self.D
        m = W.size
        d, Xd = np.zeros(m), np.empty(D.n)
        Hj = np.empty(m)
        K.cols_weighted_sq(D.data, D.indices, D.indptr, W, h, Hj)
        Hj += 1e-12 * D.sq[W] / D.n
        Xd[:] = 0.0
        ep = K.prox_newton_cd(D.data, D.indices, D.indptr, W, w, d, Xd, h, gW, Hj, self.l1, self.l2, cd_epochs,
                              1e-4)
        return d, Xd, ep, m

    def _line_search(self, W, w, z, gW, fz, d, Xd, updates):
        """Armijo backtracking on the true objective along d; updates w and z when accepted."""
        loss, l1, l2 = self.loss, self.l1, self.l2
        wW = w[W]
        f0 = fz + self.reg.value(wW)  # (w is zero outside W)

        def pen(v):
            return l1 * float(np.abs(v).sum()) + 0.5 * l2 * float(v @ v)

        slope = float(gW @ d) + pen(wW + d) - pen(wW)  # <= 0: the model decreases along d
        exact = hasattr(loss, "value_change")
        t = 1.0
        for _ in range(30):
            wt = wW + t * d
            new = loss.terms(z + t * Xd)
            if exact and t * abs(slope) <= 1e-9 * max(abs(f0), 1.0):
                # a change near the rounding of f (the last steps to a 1e-8 gap): summed from
                # per-sample differences instead of f(t) - f(0)
                change = loss.value_change(z, t * Xd) + l1 * float((np.abs(wt) - np.abs(wW)).sum()) + \
                    0.5 * l2 * t * float(d @ (2.0 * wW + t * d))
            else:
                change = new[0] + self.reg.value(wt) - f0
            if change <= 1e-4 * t * min(slope, 0.0):
                w[W] = wt
                z += t * Xd
                return updates, -change > 1e-15 * max(abs(f0), 1.0) or (change < 0 and exact), new
            t *= 0.5
        return updates, False, None


def _prox_newton_step(K, D, W, w, z, loss, reg, l1, l2, gW, M, cur, frac=1.0, rng=None, cd_epochs=50):
    """One prox-Newton step (:class:`_ProxNewton`) with the former flat signature (``K``, the
    kernel module, is no longer needed); kept for the tests that call it directly."""
    return _ProxNewton(D, loss, reg, l1, l2).step(W, M, w, z, gW, cur, frac, rng, cd_epochs)


def _anderson_step(hist, XW, W, w, state, y, loss, reg, logistic):
    """Anderson extrapolation of the last K cyclic CD epochs on the working set (Bertrand &
    Massias, "Anderson acceleration of coordinate descent", AISTATS 2021): with the
    differences U = [x_1 - x_0, ..., x_K - x_{K-1}], the weights
    c = (U U^T + 1e-14 tr(U U^T) I)^{-1} 1 / sum (numopt._anderson.anderson_weights) and
    x_e = sum_i c_i x_i; accepted (w, residual updated in place) only if the objective
    decreases. Returns 1 if accepted."""
    c = anderson_weights(np.diff(hist, axis=0), reg=1e-14, axis=0)
    if c is None:
        return 0
    we = c @ hist[1:]
    z_old = state if logistic else y - state
    z_new = z_old + XW @ (we - hist[-1])  # (w is zero outside W: X w moves by X_W (we - w_W))
    cur = loss.value(z_old) + reg.value(hist[-1])  # (w is zero outside W: the penalty on W suffices)
    if loss.value(z_new) + reg.value(we) < cur:
        w[W] = we
        if logistic:
            state[:] = z_new
        else:
            state[:] = y - z_new
        return 1
    return 0
