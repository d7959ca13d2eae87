"""L-BFGS-B: limited-memory BFGS for bound-constrained smooth minimization.

One iteration (Byrd, Lu, Nocedal & Zhu 1995):

1. **Model.** ``B = theta I - W M W'`` is the compact limited-memory BFGS matrix of the
   last ``memory`` pairs ``s_i = x_{i+1} - x_i``, ``y_i = g_{i+1} - g_i``:
   ``W = [Y, theta S]`` (``n x 2k``), ``M = [[-D, L'], [L, theta S'S]]^{-1}`` with
   ``D = diag(s_i'y_i)`` and ``L`` the strictly lower triangle of ``S'Y``,
   ``theta = y'y / s'y`` of the newest pair.
2. **Generalized Cauchy point** ``x_c``: the first local minimizer of the quadratic
   model along the projected steepest-descent path ``P(x - t g)``. The breakpoints
   (where a variable meets its bound) are sorted and the model's first and second
   derivatives on each segment follow from rank-one updates of ``2k``-vectors; here
   they are accumulated for all segments at once (cumulative sums) and the first
   segment that holds the minimizer is picked.
3. **Subspace minimization** on the variables free at ``x_c`` (direct primal method,
   Sec. 5.1 of the paper): ``du = -Bhat^{-1} r`` with the reduced gradient
   ``r = Z'(g + theta (x_c - x) - W M c)`` and the Sherman-Morrison-Woodbury form of
   ``Bhat^{-1}``, solved as one ``2k x 2k`` system ``(M^{-1} - W'ZZ'W / theta) v = W'Z r``.
   ``x_bar = P(x_c + du)`` (the projection of Morales & Nocedal 2011); when that is not a
   descent direction, the step is backtracked into the box instead.
4. **Line search** along ``d = x_bar - x`` (strong Wolfe, ``c1 = 1e-3``, ``c2 = 0.9`` as in
   the reference code) with ``step_max`` the largest step keeping ``x + t d`` in the box.
   The first iteration is projected steepest descent ``d = P(x - g) - x`` with the initial
   step ``min(1/||d||, step_max)`` (1 when every variable has two finite bounds; with
   bounds, ``step_max <= 1``); later ones, also after a memory reset, try 1 first. A pair
   with ``s'y <= eps y'y`` is skipped (keeps ``B`` positive definite).

Without bounds, steps 2-3 reduce to ``x_bar = x - B^{-1} g``: plain L-BFGS.

Optimality measure: the projected gradient in gradient units, ``||pg||_inf`` with
``pg_i = g_i`` strictly inside the bounds, ``min(g_i, 0)`` at a lower bound, ``max(g_i, 0)``
at an upper bound (0 for a fixed variable). It bounds scipy's step measure
``||P(x - g) - x||_inf`` (``pgtol``) from above; the step measure can be met far from a
KKT point when tol is large (a variable 1e3 short of its bound with a gradient of 1e9 passes
tol = 2e3: POWERSUMB in the CUTEst benchmark).
Stops: ``status 0`` when it is below ``tol``; ``status 6`` when the relative decrease
``(f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= ftol`` but the projected gradient is not
below ``tol`` (not a certificate); ``status 1`` at ``maxiter`` or ``maxfun``; ``status 5``
when the line search fails from a steepest-descent direction.

References
----------
* R. H. Byrd, P. Lu, J. Nocedal, C. Zhu. A limited memory algorithm for bound
  constrained optimization. SIAM J. Sci. Comput. 16(5):1190-1208, 1995.
* R. H. Byrd, J. Nocedal, R. B. Schnabel. Representations of quasi-Newton matrices and
  their use in limited memory methods. Math. Program. 63:129-156, 1994 (compact form).
* J. L. Morales, J. Nocedal. Remark on "Algorithm 778: L-BFGS-B". ACM TOMS 38(1), 2011
  (projection in the subspace step).
"""
from __future__ import annotations

import math

import numpy as np

from .._backend import get_namespace, norm, to_numpy, vdot
from .._function_oracle import confirm_gradient, fd_hint, refine_gradient
from .._linesearch import strong_wolfe
from .._loop import Step
from .._options import Interval, Option
from .._registry import MethodSpec, register
from .quasi_newton import UNBOUNDED, unbounded_message

__all__ = ["lbfgsb", "STATUS_FTOL"]

STATUS_FTOL = 6  # relative decrease of f below ftol without a projected-gradient certificate

_EPS64 = float(np.finfo(np.float64).eps)


# ----------------------------------------------------------------------------- memory

class _Memory:
    """The last ``m`` correction pairs and the small matrices of the compact form."""

    def __init__(self, m, xp):
        self.m, self.xp = m, xp
        self.reset()

    def reset(self):
        self.S, self.Y = [], []
        self.SS = self.SY = self.YY = np.zeros((0, 0))
        self.theta = 1.0
        self.W = self.M = self.K = self.WtW = None

    @property
    def k(self):
        return len(self.S)

    def _grow(self, A, col, row, diag):
        k = A.shape[0]
        out = np.empty((k + 1, k + 1))
        out[:k, :k], out[:k, k], out[k, :k], out[k, k] = A, col, row, diag
        return out

    def update(self, s, y, sy, yy):
        """Add the pair (s, y) (``sy = s'y > 0``), dropping the oldest beyond ``m``."""
        xp = self.xp
        if self.k == self.m:
            self.S.pop(0)
            self.Y.pop(0)
            self.SS, self.SY, self.YY = self.SS[1:, 1:], self.SY[1:, 1:], self.YY[1:, 1:]
        if self.k:
            Smat, Ymat = xp.stack(self.S, axis=1), xp.stack(self.Y, axis=1)
            Ss, Sy = to_numpy(Smat.T @ s).astype(float), to_numpy(Smat.T @ y).astype(float)
            Ys, Yy = to_numpy(Ymat.T @ s).astype(float), to_numpy(Ymat.T @ y).astype(float)
        else:
            Ss = Sy = Ys = Yy = np.zeros(0)
        self.SS = self._grow(self.SS, Ss, Ss, vdot(s, s, xp))
        self.SY = self._grow(self.SY, Sy, Ys, sy)      # SY[i, j] = s_i'y_j
        self.YY = self._grow(self.YY, Yy, Yy, yy)
        self.S.append(s)
        self.Y.append(y)
        self.theta = yy / sy
        return self._form()

    def _form(self):
        """W, M = K^{-1} and W'W; False (and a reset) when K is numerically singular."""
        xp, th = self.xp, self.theta
        k = self.k
        D = np.diag(np.diag(self.SY))
        L = np.tril(self.SY, -1)
        K = np.block([[-D, L.T], [L, th * self.SS]])
        try:
            M = np.linalg.inv(K)
        except np.linalg.LinAlgError:
            self.reset()
            return False
        if not np.all(np.isfinite(M)):
            self.reset()
            return False
        Smat, Ymat = xp.stack(self.S, axis=1), xp.stack(self.Y, axis=1)
        self.W = xp.concat([Ymat, th * Smat], axis=1)
        self.K, self.M = K, M
        YS = self.SY.T
        self.WtW = np.block([[self.YY, th * YS], [th * YS.T, th * th * self.SS]])
        assert self.W.shape[1] == 2 * k
        return True


# ----------------------------------------------------------------------------- helpers

def _small(v, like):
    """A numpy vector as an array of ``like``'s namespace and dtype."""
    xp = get_namespace(like)
    return xp.asarray(np.asarray(v, dtype=np.float64), dtype=like.dtype)


def _clip(x, lo, hi, xp):
    return x if lo is None else xp.minimum(xp.maximum(x, lo), hi)


def projected_gradient(x, g, lo, hi, xp):
    """The optimality measure, in gradient units: ``||pg||_inf`` with ``pg_i = g_i`` for a
    variable strictly inside its bounds, ``min(g_i, 0)`` at its lower bound and
    ``max(g_i, 0)`` at its upper bound (``||g||_inf`` without bounds). It bounds scipy's
    step-length measure ``||P(x - g) - x||_inf`` from above and, unlike it, cannot be met
    by a variable short of its bound with a large gradient when tol is large."""
    if lo is None:
        return float(xp.max(xp.abs(g)))
    zero = xp.zeros_like(g)
    v = xp.where(x <= lo, xp.minimum(g, zero), xp.where(x >= hi, xp.maximum(g, zero), g))
    v = xp.where((x <= lo) & (x >= hi), zero, v)  # a fixed variable (lower == upper)
    return float(xp.max(xp.abs(v)))


def _cauchy(x, g, lo, hi, mem, xp):
    """Generalized Cauchy point: returns ``(x_c, c)`` with ``c = W'(x_c - x)`` (numpy)."""
    th = mem.theta
    if mem.k == 0:
        return _clip(x - g / th, lo, hi, xp), np.zeros(0)
    W, M = mem.W, mem.M
    gs = xp.where(g == 0, xp.ones_like(g), g)
    tb = xp.where(g < 0, (x - hi) / gs, xp.where(g > 0, (x - lo) / gs, xp.full_like(g, math.inf)))
    d = xp.where(tb > 0, -g, xp.zeros_like(g))
    dd = vdot(d, d, xp)
    if dd == 0:
        return x, np.zeros(2 * mem.k)
    p = to_numpy(W.T @ d).astype(float)
    f1, f2 = -dd, th * dd - p @ M @ p
    f2_org = f2
    idx = xp.nonzero((tb > 0) & (tb < math.inf))[0]
    if idx.shape[0] == 0:
        dtm = max(float(-f1 / max(f2, _EPS64 * f2_org)), 0.0)
        return _clip(x - dtm * g, lo, hi, xp), dtm * p
    tq = xp.take(tb, idx)
    order = xp.argsort(tq)
    b = xp.take(idx, order)
    ts = to_numpy(xp.take(tq, order)).astype(float)
    gb = to_numpy(xp.take(g, b)).astype(float)
    Gw = gb[:, None] * to_numpy(xp.take(W, b, axis=0)).astype(float)
    # the segment recurrences of the paper (Algorithm CP), for every segment at once
    dt = np.diff(ts, prepend=0.0)
    zb = -ts * gb
    P = p + np.cumsum(Gw, axis=0)                       # p after each breakpoint
    Pprev = np.vstack([p, P[:-1]])
    C = np.cumsum(dt[:, None] * Pprev, axis=0)          # c after each breakpoint
    GwM = Gw @ M
    F2 = f2 - np.cumsum(th * gb * gb + 2 * np.sum(GwM * Pprev, 1) + np.sum(GwM * Gw, 1))
    F2prev = np.concatenate([[f2], F2[:-1]])
    F1 = f1 + np.cumsum(dt * F2prev + gb * gb + th * gb * zb - np.sum(GwM * C, 1))
    f1a, f2a = np.concatenate([[f1], F1]), np.concatenate([[f2], F2])
    with np.errstate(divide="ignore", invalid="ignore"):
        dtm_all = -f1a / np.maximum(f2a, _EPS64 * f2_org)
    stop = np.flatnonzero(~(dtm_all >= np.append(dt, math.inf)))  # NaN stops too
    J = int(stop[0]) if stop.size else len(ts)
    dtm = max(float(dtm_all[J]), 0.0) if math.isfinite(dtm_all[J]) else 0.0
    t_star = float(ts[J - 1] if J else 0.0) + dtm  # (a Python float keeps float32 iterates)
    c = (C[J - 1] if J else 0.0) + dtm * (P[J - 1] if J else p)
    return _clip(x - t_star * g, lo, hi, xp), c


def _subspace(x, g, xc, c, lo, hi, mem, xp):
    """Direct primal subspace minimization from ``x_c``; returns ``x_bar`` in the box."""
    th, k = mem.theta, mem.k
    if k == 0:
        return xc
    free = (xc > lo) & (xc < hi)
    nfree = int(xp.sum(xp.astype(free, xp.int64)))
    if nfree == 0:
        return xc
    W = mem.W
    r = g + th * (xc - x) - W @ _small(mem.M @ c, x)
    zero = xp.zeros_like(r)
    r = xp.where(free, r, zero)
    n = int(x.shape[0])
    if nfree == n:
        A = mem.WtW
    elif nfree <= n - nfree:
        Wf = xp.take(W, xp.nonzero(free)[0], axis=0)
        A = to_numpy(Wf.T @ Wf).astype(float)
    else:
        Wx = xp.take(W, xp.nonzero(~free)[0], axis=0)
        A = mem.WtW - to_numpy(Wx.T @ Wx).astype(float)
    rhs = to_numpy(W.T @ r).astype(float)
    try:
        v = np.linalg.solve(mem.K - A / th, rhs)
    except np.linalg.LinAlgError:
        return xc
    du = xp.where(free, -r / th - (W @ _small(v, x)) / th ** 2, zero)
    x_bar = _clip(xc + du, lo, hi, xp)
    if vdot(g, x_bar - x, xp) < 0:
        return x_bar
    # backtrack (the direct primal method): the largest alpha <= 1 keeping x_c + alpha du feasible
    ds = xp.where(du == 0, xp.ones_like(du), du)
    ratio = xp.where(du > 0, (hi - xc) / ds, xp.where(du < 0, (lo - xc) / ds, xp.full_like(du, math.inf)))
    alpha = min(1.0, max(float(xp.min(ratio)), 0.0))
    return _clip(xc + alpha * du, lo, hi, xp)


def _direction(x, g, lo, hi, mem, xp):
    """``x_bar - x`` for the current model."""
    if lo is None:  # plain L-BFGS: x_bar = x - B^{-1} g (two-loop-free compact form)
        if mem.k == 0:
            return -g
        th, W = mem.theta, mem.W
        rhs = to_numpy(W.T @ g).astype(float)
        try:
            v = np.linalg.solve(mem.K - mem.WtW / th, rhs)
        except np.linalg.LinAlgError:
            return -g
        return -(g / th) - (W @ _small(v, x)) / th ** 2
    xc, c = _cauchy(x, g, lo, hi, mem, xp)
    return _subspace(x, g, xc, c, lo, hi, mem, xp) - x


def _step_max(x, d, lo, hi, xp):
    """The largest t with ``x + t d`` in the box (inf without bounds)."""
    if lo is None:
        return math.inf
    ds = xp.where(d == 0, xp.ones_like(d), d)
    ratio = xp.where(d > 0, (hi - x) / ds, xp.where(d < 0, (lo - x) / ds, xp.full_like(d, math.inf)))
    return max(float(xp.min(ratio)), 0.0)


def _approximate_wolfe(trials, f0, dphi0, eps, c1=1e-3, c2=0.9):
    """A trial of a failed line search that meets the approximate Wolfe conditions of Hager
    & Zhang (SIAM J. Optim. 16, 2005): ``f <= f0 + 100 eps |f0|`` (no increase beyond
    rounding), ``c2 phi'(0) <= phi'(t) <= (2 c1 - 1) phi'(0)``. Near a solution ``f`` is
    flat within rounding and the sufficient decrease test cannot be decided; the slope
    still can. Returns ``(f, payload)`` of the one with the smallest ``|phi'(t)|``, or None."""
    ok = [(abs(dp), fp, pl) for fp, dp, pl in trials
          if math.isfinite(fp) and fp <= f0 + 100 * eps * abs(f0) and c2 * dphi0 <= dp <= (2 * c1 - 1) * dphi0]
    if not ok:
        return None
    _, fp, pl = min(ok, key=lambda e: e[0])
    return fp, pl


def _box(problem, x0, xp):
    box = problem.bounds
    if box is None:
        return None, None, False
    lo_np = np.asarray(to_numpy(box.lower), dtype=np.float64)
    hi_np = np.asarray(to_numpy(box.upper), dtype=np.float64)
    lo = xp.asarray(np.broadcast_to(lo_np, tuple(x0.shape)).copy(), dtype=x0.dtype)
    hi = xp.asarray(np.broadcast_to(hi_np, tuple(x0.shape)).copy(), dtype=x0.dtype)
    boxed = bool(np.all(np.isfinite(lo_np)) and np.all(np.isfinite(hi_np)))
    return lo, hi, boxed


# ----------------------------------------------------------------------------- the method

def _lbfgsb(problem, x0, opts):
    """L-BFGS-B (generator of Steps); see the module docstring."""
    from .first_order import reject_unused_terms

    reject_unused_terms(problem, "l-bfgs-b")
    xp = get_namespace(x0)
    f = problem.objective
    lo, hi, boxed = _box(problem, x0, xp)
    eps = float(xp.finfo(x0.dtype).eps)
    mem = _Memory(opts["memory"], xp)
    ftol, maxfun = opts["ftol"], opts["maxfun"]
    x = _clip(x0, lo, hi, xp)
    tol = opts.get("tol")

    def confirmed(x, fx, g):
        """A default forward-difference gradient whose projection meets ``tol`` is not trusted
        as a certificate: central differences there (:func:`confirm_gradient`), memory reset."""
        fx, g, switched = confirm_gradient(f, x, fx, g, projected_gradient(x, g, lo, hi, xp), tol)
        if switched:
            mem.reset()
        return fx, g, int(switched)

    fx, g, extra = confirmed(x, *f.value_and_grad(x))
    nfev, skipped, first = 1 + extra, 0, True
    yield Step(x, fx, projected_gradient(x, g, lo, hi, xp), jac=g, n_pairs=0, skipped_pairs=0)
    f_floor = -UNBOUNDED * max(1.0, abs(fx))
    while True:  # bounded by the loop's maxiter (and maxfun)
        d = _direction(x, g, lo, hi, mem, xp)
        dphi0 = vdot(g, d, xp)
        if not math.isfinite(dphi0):
            return 2, f"Non-finite directional derivative g'd = {dphi0} (overflow); returning the last iterate."
        if not dphi0 < 0:
            if mem.k:
                mem.reset()
                continue  # next pass is projected steepest descent
            if refine_gradient(f):  # forward differences at their noise floor: central ones
                fx, g = f.value_and_grad(x)
                nfev += 1
                yield Step(x, fx, projected_gradient(x, g, lo, hi, xp), jac=g, n_pairs=0, skipped_pairs=skipped)
                continue
            return 5, ("No descent direction from projected steepest descent (g'd = "
                       f"{dphi0:.3e}): the gradient is inconsistent with the function, or rounding{fd_hint(f)}")
        smax = _step_max(x, d, lo, hi, xp)
        if first and lo is not None:  # the first step stops at P(x - g), as the reference code
            smax = min(smax, 1.0)
        if first and not boxed:  # (only the very first step: a skipped pair or a reset keeps 1)
            step = min(1.0 / norm(d, xp), smax)
        else:
            step = min(1.0, smax)
        if lo is not None:
            smax = max(smax, 1.0)  # x_bar is in the box: t = 1 is feasible up to rounding

        trials = []

        def phi(t, x=x, d=d):
            xt = _clip(x + t * d, lo, hi, xp)
            ft, gt = f.value_and_grad(xt)
            out = (ft, vdot(gt, d, xp), (xt, gt))
            trials.append(out)
            return out

        ls = strong_wolfe(phi, fx, dphi0, step=step, c1=1e-3, c2=0.9, step_max=smax,
                          maxls=min(opts["maxls"], max(maxfun - nfev, 1)))
        nfev += ls.nfev
        # a strong Wolfe step (f may be unchanged within rounding near the solution), or a
        # search that ends elsewhere at a point that decreases f (rounding, maxls): keep the
        # point, as the reference code does
        if ls.payload is not None and ls.step > 0 and (ls.success or ls.f < fx):
            f_new, (x_new, g_new) = ls.f, ls.payload
        else:
            near = _approximate_wolfe(trials, fx, dphi0, eps)
            if near is None:
                if nfev >= maxfun:
                    return 1, f"Maximum number of function evaluations (maxfun = {maxfun}) reached."
                if mem.k:
                    mem.reset()
                    continue
                if refine_gradient(f):
                    fx, g = f.value_and_grad(x)
                    nfev += 1
                    yield Step(x, fx, projected_gradient(x, g, lo, hi, xp), jac=g, n_pairs=0, skipped_pairs=skipped)
                    continue
                return 5, f"Line search failed along projected steepest descent ({ls.message}){fd_hint(f)}."
            f_new, (x_new, g_new) = near
        s, y = x_new - x, g_new - g
        sy, yy = vdot(s, y, xp), vdot(y, y, xp)
        if sy > eps * yy and sy > 0:
            if not mem.update(s, y, sy, yy):
                skipped += 1
        else:
            skipped += 1
        f_old = fx
        fx, g, extra = confirmed(x_new, f_new, g_new)
        x, first, nfev = x_new, False, nfev + extra
        yield Step(x, fx, projected_gradient(x, g, lo, hi, xp), jac=g, n_pairs=mem.k, skipped_pairs=skipped)
        if fx < f_floor:
            return 5, unbounded_message(fx, f_floor)
        if nfev >= maxfun:
            return 1, f"Maximum number of function evaluations (maxfun = {maxfun}) reached."
        if ftol > 0 and (f_old - fx) <= ftol * max(abs(f_old), abs(fx), 1.0):
            if refine_gradient(f):
                mem.reset()
                fx, g = f.value_and_grad(x)
                nfev += 1
                yield Step(x, fx, projected_gradient(x, g, lo, hi, xp), jac=g, n_pairs=0, skipped_pairs=skipped)
                continue
            return STATUS_FTOL, (f"Relative reduction of f <= ftol = {ftol:g}, but the projected gradient "
                                 f"is not below tol (no optimality certificate; lower ftol to go on){fd_hint(f)}.")


def _example(xp):
    """Bound-constrained least squares (first_order's instance; a bound active at the solution)."""
    from .first_order import _example as least_squares

    return dict(least_squares(xp, lasso=False), bounds=[(-0.1, 0.1)] * 10)


_OPTIONS = {
    "memory": Option(10, "Number of correction pairs (s, y) kept (scipy's `maxcor`).",
                     Interval(1, integer=True), aliases=("maxcor",)),
    "tol": Option(1e-5, "Tolerance on the projected gradient in gradient units (g_i inside the bounds, its "
                  "outward part at a bound; scipy's `gtol` / `pgtol`).",
                  Interval(0), aliases=("gtol", "pgtol")),
    "ftol": Option(0.0, "Stop (status 6, not success unless the projected gradient is "
                   "below tol) when (f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= ftol. Default 0 (off, "
                   "as for lbfgs): the run ends on the projected-gradient certificate, a stalled line "
                   "search or a budget; scipy's 2.2e-9 (factr = 1e7) saves evaluations but ends "
                   "without a certificate on many problems.", Interval(0)),
    "maxls": Option(20, "Maximum number of function evaluations per line search.", Interval(1, integer=True)),
    "maxfun": Option(15000, "Maximum number of function evaluations (status 1 when reached).",
                     Interval(1, integer=True)),
    "maxiter": Option(15000, "Maximum number of iterations.", Interval(0, integer=True)),
}

register(MethodSpec(
    name="l-bfgs-b", family="quasi_newton", aliases=("L-BFGS-B", "lbfgsb"),
    summary="L-BFGS-B: limited-memory BFGS with bounds (Cauchy point + subspace minimization)",
    solve=_lbfgsb, options=_OPTIONS, requires=("grad",), accepts_bounds=True, example=_example,
    optimality="projected gradient in gradient units ||pg||_inf: g_i inside the bounds, min(g_i, 0) at a "
               "lower bound, max(g_i, 0) at an upper bound",
    rate_text="No global rate is proven for L-BFGS-B. Byrd-Lu-Nocedal-Zhu (1995) show the method is well "
              "defined and that limit points of the iterates are stationary under standard assumptions "
              "(twice differentiable f, bounded level set); without bounds it is L-BFGS, which converges "
              "R-linearly on twice continuously differentiable, uniformly convex functions (Liu & Nocedal, "
              "Math. Program. 45, 1989, Thm 7.1).",
    reference="R. H. Byrd, P. Lu, J. Nocedal, C. Zhu, A limited memory algorithm for bound constrained "
              "optimization, SIAM J. Sci. Comput. 16(5):1190-1208 (1995); compact form: Byrd, Nocedal & "
              "Schnabel, Math. Program. 63 (1994); projection step: Morales & Nocedal, ACM TOMS 38(1) (2011).",
))


def lbfgsb(fun, x0=None, *, args=(), jac=None, bounds=None, tol=None, callback=None, **options):
    """Run method ``'l-bfgs-b'``; keyword options as in ``numopt.show_options('l-bfgs-b')``.

    Equivalent to ``numopt.minimize(fun, x0, method='l-bfgs-b', bounds=bounds, ...)``."""
    from .._minimize import minimize

    return minimize(fun, x0, args=args, method="l-bfgs-b", jac=jac, bounds=bounds, tol=tol,
                    callback=callback, options=options)
