"""The numba full-epoch fast path of BCD for l1 / elastic-net / squared-l2 least squares
and logistic regression on a LinearComposite: cyclic / random / Lipschitz epochs with the
residual (least squares) or the predictions (logistic) maintained, greedy rules through the
Gram matrix (least squares) or the CSR rows touched by each step (logistic), and the
optional Newton steps on an identified support."""
from __future__ import annotations

import numpy as np

from ..._loop import Step
from .common import (_GREEDY_CODE, _absmax, _CSCData, _default_rng, _dual_scale, _gap_measure, _nonneg,
                     _penalty_params, _reg_of, _unwrap)


def _gram_dense(R, p, inv_n, chunk_bytes=1 << 23):
    """X^T X / n by dense BLAS on row chunks of the CSR design ``R`` (each densified chunk
    holds at most ``chunk_bytes``, 8 MB: the design itself is never densified whole)."""
    n = R.shape[0]
    G = np.zeros((p, p))
    step = max(1, chunk_bytes // (8 * max(p, 1)))
    for i in range(0, n, step):
        B = R[i:i + step].toarray()
        G += B.T @ B
    G *= inv_n
    return G


class _Epochs:
    """One run of the full-epoch fast path: the iterate ``w`` (float64), the residual
    ``r = y - Xw`` (least squares) or the predictions ``z = Xw`` (logistic), the Gram matrix
    and maintained gradient of greedy least squares, the support tracking of the Newton
    steps, and the counts."""

    def __init__(self, problem, x0, opts, kind):
        self.f = f = _unwrap(problem.objective)
        self.reg = _reg_of(problem)
        self.l1, self.l2 = _penalty_params(self.reg)
        self.D = D = _CSCData(f.A)
        self.kind, self.n, self.p = kind, D.n, D.p
        self.inv_n = 1.0 / D.n
        self.y = np.asarray(f.loss.y, dtype=np.float64)
        self.w = np.array(x0, dtype=np.float64)
        self.rng = _default_rng(opts["rng"])
        self.sel = sel = opts["selection"]
        self.gapf = _gap_measure(problem)
        self.tol = opts["tol"]
        self.counter = problem.objective.counter
        self.out = np.asarray(x0).dtype  # iterate in float64, report in the input's dtype
        if kind == "quadratic":
            self.r = self.y - D.X @ self.w
            self.Lj = D.sq * self.inv_n
        else:  # the datafit's own coordinate update (datafits.*.coordinate_kernel)
            self.z = D.X @ self.w
            self.ck = f.loss.coordinate_kernel()
            self.Lj = self.ck.curvature * D.sq * self.inv_n
        self.greedy = sel in _GREEDY_CODE
        self.greedy_log = self.greedy and kind == "logistic"
        if self.greedy_log:  # gradient X^T u maintained through the CSR rows touched by each step
            self.csr = D.rows()
            self.allW = np.arange(D.p, dtype=np.int64)
            self.gW = np.empty(D.p)
            self.greedy = False
        if self.greedy:
            self._gram()
        self.probs = self.Lj / self.Lj.sum() if sel == "lipschitz" else None
        self.order = np.arange(D.p, dtype=np.int64)
        self.track = self.l1 > 0
        self.newton = bool(opts["newton_on_active"]) and self.track
        self.patience = opts["newton_patience"]
        self.supp = self.w != 0
        self.last_change, self.stable, self.k, self.n_newton = 0, 0, 0, 0

    def _gram(self):
        """G = X^T X / n, c = X^T y / n and the maintained gradient G w - c (greedy least squares)."""
        from .. import _bcd_kernels as K

        D, p, n, inv_n = self.D, self.p, self.n, self.inv_n
        if p > 20000:
            raise ValueError(f"greedy rules keep a p x p Gram matrix: p = {p} is too large; use "
                             "working_set=True (greedy rules inside the working set) or 'cyclic'")
        rows = D.rows()
        row_nnz = np.diff(rows[2]).astype(np.float64)
        # dense BLAS X^T X (n p^2 flops) when it beats the row-outer-product kernel (sum_i nnz_i^2)
        if n * p <= 20_000_000 and n * p * p <= 30.0 * float(row_nnz @ row_nnz):
            import scipy.sparse as sp

            self.G = _gram_dense(sp.csr_matrix(rows, shape=(n, p)), p, inv_n)
        else:
            self.G = K.gram_csr(*rows, p) * inv_n
        self.c = (D.X.T @ self.y) * inv_n
        self.grad = self.G @ self.w - self.c
        self.Lj = np.diag(self.G).copy()
        self.yy = float(self.y @ self.y)

    def gram_terms(self):
        """(||r||^2, r.y) from the Gram matrix: greedy least squares never touches X per epoch
        (X^T r = -n grad, ||r||^2 = y.y - n c.w + n w.grad, r.y = y.y - n c.w)."""
        w, n = self.w, self.n
        cw = float(self.c @ w)
        return _nonneg(self.yy - n * cw + n * float(w @ self.grad)), self.yy - n * cw

    def refresh(self):
        """Recompute the residual / predictions from ``w`` (one pass over X)."""
        if self.kind == "quadratic":
            self.r = self.y - self.D.X @ self.w
        else:
            self.z = self.D.X @ self.w

    def _zz(self):
        return (self.y - self.r) if self.kind == "quadratic" else self.z

    def measure(self):
        """The optimality: the relative duality gap, else the gradient norm (no penalty)."""
        w, l1, l2, inv_n, grad = self.w, self.l1, self.l2, self.inv_n, getattr(self, "grad", None)
        if self.greedy and self.gapf is not None:
            rr, ry = self.gram_terms()
            primal = rr * inv_n / 2 + self.reg.value(w)
            if l1 > 0 and l2 == 0.0:
                sc = _dual_scale(l1, _absmax(grad))
                dual = sc * ry * inv_n - sc * sc * rr * inv_n / 2
            else:
                dual = ry * inv_n - rr * inv_n / 2 - float(np.sum(np.clip(np.abs(grad) - l1, 0.0, None) ** 2)) / (2 * l2)
            p0 = self.yy * inv_n / 2
            return _nonneg(primal - dual) / (p0 if p0 > 0 else 1.0)
        if self.greedy:  # no certificate (g = 0): the maintained gradient's norm
            return float(np.linalg.norm(grad + l2 * w))
        zz = self._zz()
        if self.gapf is not None:
            gap = self.gapf(w, zz)
            if gap <= self.tol:  # about to stop: certify on a freshly computed residual, not the
                self.refresh()   # incrementally maintained one (rounding drift over many epochs)
                gap = self.gapf(w, self._zz())
            return gap
        self.counter.njev += 1  # no certificate (g = 0): ||X^T grad F(Xw)||, one pass over X
        return float(np.linalg.norm(self.D.X.T @ self.f.loss.grad(zz) + l2 * w))

    def fval(self):
        reg, w = self.reg, self.w
        if self.greedy:
            return self.gram_terms()[0] * self.inv_n / 2 + (0.0 if reg is None else reg.value(w))
        return self.f.loss.value(self._zz()) + (0.0 if reg is None else reg.value(w))

    def step(self, dmax):
        k, p = self.k, self.p
        if not self.track:
            ex = {"coordinate_updates": k * p}
        else:
            ex = {"active_set_iteration": self.last_change, "support_size": int(self.supp.sum()),
                  "newton_steps": self.n_newton, "coordinate_updates": k * p}
        return Step(self.w.astype(self.out), self.fval(), self.measure(), epoch_max_change=dmax, **ex)

    def newton_on_support(self):
        """A Newton step on the support once it has been stable for ``patience`` epochs."""
        if not (self.newton and self.stable >= self.patience and self.supp.any()):
            return
        X, w, quad = self.D.X, self.w, self.kind == "quadratic"
        if self.greedy:
            self.r = self.y - X @ w  # (greedy epochs do not keep the residual)
        took = _newton_on_support(self.kind, X, self.f.loss, w, np.flatnonzero(self.supp), self.l1,
                                  self.l2, self.inv_n, self.r if quad else self.z)
        if took:
            self.n_newton += 1
            self.counter.nhev += 1
            if self.greedy:
                self.grad = self.G @ w - self.c

    def epoch(self):
        """One epoch of p coordinate steps; returns the largest coordinate change (NaN for
        greedy least squares, which does not track it)."""
        from .. import _bcd_kernels as K

        data, indices, indptr = self.D.csc
        w, l1, l2, Lj, inv_n, sel, p = self.w, self.l1, self.l2, self.Lj, self.inv_n, self.sel, self.p
        if self.greedy:
            K.greedy_quadratic(self.G, self.c, w, self.grad, l1, l2, Lj, _GREEDY_CODE[sel], p)
            self.grad = self.G @ w - self.c  # refresh the maintained gradient (O(p^2), no drift)
            return float("nan")
        if self.greedy_log:
            u = self.f.loss.grad(self.z)
            K.col_dots(data, indices, indptr, u, self.allW, self.gW)  # exact gradient once per epoch (no drift)
            wold = w.copy()
            rdata, rcols, rptr = self.csr
            K.greedy_ws(True, data, indices, indptr, rdata, rcols, rptr, self.allW, w, self.z, self.y, u, self.gW,
                        l1, l2, Lj, inv_n, _GREEDY_CODE[sel], p)
            return _absmax(w - wold)
        if sel == "random":
            self.order = self.rng.integers(0, p, size=p).astype(np.int64)
        elif sel == "lipschitz":
            self.order = self.rng.choice(p, size=p, p=self.probs).astype(np.int64)
        if self.kind == "quadratic":
            return K.lasso_epoch(data, indices, indptr, w, self.r, l1, l2, Lj, inv_n, self.order)
        ck = self.ck
        return K.smooth_epoch(data, indices, indptr, w, self.z, self.y, ck.param, ck.deriv, l1, l2, Lj, inv_n,
                              self.order)

    def track_support(self):
        if self.track:
            new_supp = self.w != 0
            if np.array_equal(new_supp, self.supp):
                self.stable += 1
            else:
                self.supp, self.last_change, self.stable = new_supp, self.k, 0


def _fast(problem, x0, opts, kind):
    """Full epochs of the numba kernels (cyclic / random / Lipschitz orders), or greedy
    rules: least squares through the p x p Gram matrix X^T X / n (formed once, by dense
    BLAS on row chunks of at most 8 MB when the rows are dense enough, else by the CSR
    outer-product kernel), logistic through the CSR rows touched by each step.
    Optimality: the relative duality gap when the penalty has one (l1 / elastic net /
    squared l2), else the gradient norm ||X^T grad F(Xw)|| (no regularizer)."""
    run = _Epochs(problem, x0, opts, kind)
    counter = run.counter
    counter.nfev += 1
    yield run.step(0.0)
    while True:
        run.newton_on_support()
        dmax = run.epoch()
        counter.njev += 1  # one epoch = the cost of one full gradient
        counter.nfev += 1
        run.k += 1
        if not np.isfinite(run.w).all():
            return 2, f"non-finite coordinate in the iterate at epoch {run.k}; returning the last finite iterate"
        run.track_support()
        yield run.step(dmax)


def _newton_on_support(kind, Xc, loss, w, S, l1, l2, inv_n, state):
    """One Newton step for the l1 problem restricted to the support S with the signs of
    w_S fixed (there the objective is smooth: f + l1 s^T w_S + l2/2 ||w_S||^2), kept in
    the closed orthant: the step length is cut at the first sign change and the
    coordinates that reach zero are set to zero. Least squares: the restricted minimizer
    (the objective decreases along the segment by convexity). Logistic: Armijo
    backtracking. Updates ``w`` and the residual / predictions ``state`` in place.
    Returns False (nothing changed) if |S| is too large for a dense solve or no decrease
    was found."""
    if S.size > 3000:
        return False
    XS = Xc[:, S]
    sgn = np.sign(w[S])
    wS = w[S]
    if kind == "quadratic":
        r = state
        H = (XS.T @ XS).toarray() * inv_n if hasattr(XS, "toarray") else XS.T @ XS * inv_n
        gS = -(XS.T @ r) * inv_n + l1 * sgn + l2 * wS
    else:
        z = state
        hd = loss.hess_diag(z)
        H = (XS.T @ XS.multiply(hd[:, None])).toarray()
        gS = XS.T @ loss.grad(z) + l1 * sgn + l2 * wS
    H[np.diag_indices_from(H)] += l2 + 1e-12 * float(np.max(np.abs(np.diag(H)), initial=1.0))  # (NaN propagates)
    try:
        d = -np.linalg.solve(H, gS)
    except np.linalg.LinAlgError:
        return False
    slope = float(gS @ d)
    if not slope < 0:
        return False
    cross = (wS + d) * sgn < 0
    tmax = float(np.min(-wS[cross] / d[cross])) if cross.any() else 1.0
    t = 1.0 if tmax >= 1.0 else tmax  # (min(1.0, nan) would be 1.0)
    Xd = XS @ d
    if kind != "quadratic":  # (the smooth datafits: Armijo backtracking)
        def phi(tt):
            return loss.value(z + tt * Xd) + l1 * float(sgn @ (wS + tt * d)) + 0.5 * l2 * float((wS + tt * d) @ (wS + tt * d))
        f0 = phi(0.0)
        for _ in range(30):
            if phi(t) <= f0 + 1e-4 * t * slope:
                break
            t *= 0.5
        else:
            return False
    new = wS + t * d
    new[(new * sgn) <= 0] = 0.0  # coordinates that reached the orthant boundary
    delta = new - wS
    w[S] = new
    if kind == "quadratic":
        state -= XS @ delta
    else:
        state += XS @ delta
    return True
