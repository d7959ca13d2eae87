"""Bilevel optimization: ``min_x F(x, y*(x))`` with ``y*(x) = argmin_y G(x, y)``.

Declare the problem once with :class:`BilevelProblem` (``upper(x, y)`` and
``lower(x, y)`` return ``(value, grad_x, grad_y)``; second-order products of G are
``lower_hvp(x, y, v) = grad_yy G v`` and ``lower_cross(x, y, v) = grad_xy G v``, taken from
gradient differences when not given) and pick a method in :func:`bilevel`:

* ``"implicit"``: hypergradient by the implicit function theorem,
  ``dF/dx = grad_x F - grad_xy G [grad_yy G]^{-1} grad_y F`` with the linear system solved
  by conjugate gradient (``linear_solver="cg"``), a truncated Neumann series
  (``"neumann"``, Lorraine, Vicol & Duvenaud, AISTATS 2020) or exactly (``"exact"``); the
  lower level is solved (warm-started) by gradient descent to ``inner_tol``; the upper
  step is a gradient step with backtracking on the (inexact) value function.
* ``"hoag"``: Pedregosa (ICML 2016): the same with inner and linear-system tolerances
  ``eps_k`` from a summable sequence (``eps_k = eps0 * decay^k``) and a step size adapted
  on the value function.
* ``"maid"``: the adaptively inexact variant of HOAG (Salehi, Mukherjee, Roberts & Ehrhardt,
  "An adaptively inexact first-order method for bilevel optimization with application to
  hyperparameter learning", MAID): lower solves to ``||y - y*(x)|| <= eps_k`` and CG solves to
  ``||q - H^{-1} grad_y F|| <= delta_k``, both certified a posteriori through the lower
  level's strong convexity ``mu`` (option: a number or ``mu(x)``; estimated by power iteration
  when None, then not certified), a backtracking line search whose sufficient-decrease test
  is applied to the inexact values minus their error bounds, accuracies tightened when that
  test cannot be certified and loosened after accepted steps. ``optimality`` is
  ``||h|| + K (d + ||r|| / mu)``, a bound on ``||grad Phi||``; ``nit`` counts evaluations
  (accepted steps plus accuracy increases), the trace's ``accepted`` the accepted steps.
* ``"f2sa"``: fully first-order (Kwon, Kwon, Wright & Nowak, ICML 2023): no second
  derivatives; the penalty ``F(x, y) + lam (G(x, y) - G(x, z))`` is decreased in (x, y)
  and z tracks argmin G(x, .), with the multiplier ``lam_k`` growing as in the paper
  (``lam_k = lam0 (k + 1)^{gamma}``, ``gamma = 1/2`` by default in the deterministic
  setting, slower than the growth of public benchmark code; to our reading the paper's
  deterministic corollary has ``gamma = 1/3``, not re-verified; with ``batch_size`` the
  stochastic schedule of the paper, see below).

* ``"penalty"``: the penalty method of Kwon, Kwon, Wright & Nowak (ICLR 2024, "On penalty
  methods for nonconvex bilevel optimization and first-order stochastic approximation"):
  gradient descent with backtracking on the penalty value function
  ``psi_lam(x) = min_y [F + lam G](x, y) - lam min_z G(x, z)`` for a fixed ``lam`` (both
  inner problems solved to ``inner_tol``); fully first order, and valid for non-singleton
  lower levels; its stationary points are O(1/lam)-stationary for the bilevel problem.
* ``"meha"``: Moreau-envelope single-loop Hessian-free method (Liu, Liu, Yao, Zeng & Zhang,
  ICML 2024): constraint ``G(x, y) - v_gamma(x, y) <= 0`` with the Moreau envelope
  ``v_gamma(x, y) = min_theta G(x, theta) + ||theta - y||^2 / (2 gamma)``; per iteration one
  gradient step on theta, then one step on ``F / c_k + G - v_gamma`` in (x, y), with
  ``c_k = c0 (k + 1)^p`` (``0 < p < 1/2``). For nonconvex (weakly convex) lower levels.
* ``"lv-hba"``: the same with a lower-level constraint coupling the levels (declared as
  ``BilevelProblem(..., coupled=(Ax, Ay, b))``, i.e. ``Ax x + Ay y = b``): the proximal
  Lagrangian value function adds a multiplier (closed form for equalities) and a
  proximal dual variable z, and (x, y) steps are projected onto the coupled constraint
  (Yao, Yu, Zeng & Zhang, ICLR 2024).
* ``"bamm"``: single-loop averaged method after sl-BAMM (Liu, Liu, Yao, Zeng & Zhang,
  ICML 2023) for lower levels that are merely convex: the lower step descends
  ``mu_k F + G`` with ``mu_k -> 0`` (selecting, among lower-level solutions, the best for F),
  the multiplier z tracks ``(mu_k grad_yy F + grad_yy G)^{-1} grad_y F`` by one
  Hessian-vector step per iteration and x moves along
  ``grad_x F - (mu_k grad_xy F + grad_xy G) z`` (F's second derivatives by gradient
  differences).
* ``"bo-rep"``: bilevel optimization under unbounded smoothness (Hao, Gong & Liu, ICLR
  2024): normalized momentum steps on x, the lower level refined at the start and updated
  every ``period`` iterations, the linear-system solution z by one gradient step per
  iteration (optionally projected onto a ball of radius ``z_radius``).

* ``"bsvrb"``: multi-block problems ``min_x (1/m) sum_i f_i(x, y_i*(x))`` declared with
  :class:`MultiBlockBilevelProblem` (per-block oracles ``upper(i, x, y_i)``,
  ``lower(i, x, y_i)``; ``y0`` of shape (m, d_y)): the blockwise stochastic variance-reduced
  method BSVRB^{v1} (MSVR-tracked Hessian matrices, inverted) or ``variant="v2"``
  (Hessian-vector products only) of Hu, Qiu, Guo, Zhang & Yang (ICML 2023), sampling
  ``block_batch`` blocks and ``batch_size`` samples per block and iteration; see
  :mod:`numopt.solvers.bilevel_multiblock`.

Steps left as ``None`` are set to 1/L from curvature estimates in y at the start (power
iteration on Hessian-vector products). ``implicit`` and ``hoag`` take Barzilai-Borwein trial
steps on x (``step_rule="bb"``, default; ``"grow"``: the previous step times 1.2) inside the
backtracking; HOAG's optimality measure is ``||hypergradient|| + eps_k``.

Stochastic versions (``batch_size=``, ``rng=``): ``f2sa`` (Kwon et al. 2023 is stated for
stochastic oracles; default schedule of their Theorem 3.1, ``alpha_k ~ k^{-5/7}``,
``gamma_k ~ k^{-4/7}``, ``lam_k ~ gamma_k / alpha_k ~ k^{1/7}``), ``penalty`` (the same
minibatch iteration with the fixed multiplier ``lam`` and steps ``~ k^{-1/2}``, the
stochastic algorithm of Kwon et al. 2024) and ``bo-rep`` (minibatch gradients and
Hessian-vector products, as in Hao et al.). They need a finite-sum declaration:
``BilevelProblem(upper, lower, ..., n_samples=(n_upper, n_lower))`` (an int for both, None
for a level that is not a sum) with ``upper(x, y, idx)`` / ``lower(x, y, idx)`` returning the
average over the samples ``idx`` (an integer array; ``idx`` omitted = the full sum), and
``lower_hvp(x, y, v, idx)`` / ``lower_cross(x, y, v, idx)`` likewise when given. Minibatches
are drawn uniformly with replacement; the trace's ``fun`` is then the minibatch estimate and
``res.fun`` the full upper value at the end. Every result reports ``nupper``/``nlower`` (oracle
calls) and ``nsamples_upper``/``nsamples_lower`` (per-sample gradients: a full call of a
finite sum counts n, a call of a level that is not a sum counts 1).

Rates: with exact inner solves the implicit method is gradient descent on the value
function (O(1/k) for smooth nonconvex: ``min ||grad Phi||^2``); HOAG converges when
the tolerances are summable (Pedregosa 2016, Thm 2); F2SA reaches an eps-stationary point
in O(eps^{-7/2}) first-order oracle calls in the deterministic setting and O(eps^{-7/2}) iterations with stochastic
noise in both levels (Kwon et al. 2023; eps-stationarity in ||grad||^2);
the penalty method reaches an eps-stationary point of psi_lam in O(lam / eps^2) gradient
steps (it is gradient descent on a lam-scaled smooth function); MEHA and LV-HBA prove
non-asymptotic rates for a residual combining stationarity and the lower-level gap
(see the papers; not re-derived here: our tests check convergence to known solutions
and that the bias shrinks with k); BO-REP's guarantee is O~(eps^{-4}) stochastic
oracle calls.

The trace records the upper objective ``fun``, the hypergradient norm ``optimality``
and the lower-level optimality residual ``lower_residual = ||grad_y G||``.
"""
from __future__ import annotations

import math

import numpy as np

from .._loop import Step, run_loop
from ..oracles import OracleCounter, check_scalar
from .bilevel_multiblock import BSVRB_DEFAULTS, MultiBlockBilevelProblem, bsvrb as _bsvrb

__all__ = ["BilevelProblem", "MultiBlockBilevelProblem", "bilevel", "bilevel_hypergradient", "METHODS"]

METHODS = ("implicit", "hoag", "maid", "f2sa", "penalty", "meha", "bamm", "lv-hba", "bo-rep", "bsvrb")
_STOCHASTIC = ("f2sa", "penalty", "bo-rep")


class BilevelProblem:
    """Upper F and lower G of a bilevel problem (see the module docstring).

    ``coupled=(Ax, Ay, b)`` declares a lower-level constraint coupling both levels,
    ``Ax x + Ay y = b`` (for each x the lower level is ``min_y G(x, y)`` over that affine
    set); only ``method="lv-hba"`` handles it."""

    def __init__(self, upper, lower, lower_hvp=None, lower_cross=None, fd_step=1e-6, coupled=None, n_samples=None):
        for name, fn in (("upper", upper), ("lower", lower)):
            if not callable(fn):
                raise TypeError(f"`{name}` must be callable: (x, y) -> (value, grad_x, grad_y)")
        for name, fn in (("lower_hvp", lower_hvp), ("lower_cross", lower_cross)):
            if fn is not None and not callable(fn):
                raise TypeError(f"`{name}` must be callable or None")
        if coupled is not None:
            if not (isinstance(coupled, tuple) and len(coupled) == 3):
                raise TypeError("`coupled` must be a tuple (Ax, Ay, b) for the constraint Ax x + Ay y = b")
            Ax, Ay, b = (np.atleast_2d(np.asarray(coupled[0], dtype=float)),
                         np.atleast_2d(np.asarray(coupled[1], dtype=float)), np.atleast_1d(np.asarray(coupled[2], dtype=float)))
            if Ax.shape[0] != Ay.shape[0] or Ax.shape[0] != b.shape[0]:
                raise ValueError(f"`coupled`: Ax {Ax.shape}, Ay {Ay.shape} and b {b.shape} must have the same number of rows")
            coupled = (Ax, Ay, b)
        self._upper, self._lower = upper, lower
        self._hvp, self._cross, self.h = lower_hvp, lower_cross, fd_step
        self.coupled = coupled
        self.n_samples = _parse_n_samples(n_samples)
        self.counts = {"upper": 0, "lower": 0, "upper_samples": 0, "lower_samples": 0}

    def _size(self, name):
        return self.n_samples[0 if name == "upper" else 1]

    def is_finite_sum(self, name):
        """Whether level ``name`` (``"upper"`` or ``"lower"``) was declared as a finite sum."""
        return self._size(name) is not None

    def _count(self, name, idx):
        n = self._size(name)
        self.counts[name] += 1
        self.counts[name + "_samples"] += (1 if n is None else n) if idx is None else len(idx)

    def _call(self, fn, name, x, y, idx=None):
        if idx is None:
            out = fn(x, y)
        else:
            if not self.is_finite_sum(name):
                raise ValueError(f"a minibatch of `{name}` was requested but `{name}` is not declared as a finite "
                                 "sum: pass n_samples to BilevelProblem")
            out = fn(x, y, idx)
        self._count(name, idx)
        if not (isinstance(out, tuple) and len(out) == 3):
            raise ValueError(f"`{name}(x, y)` must return (value, grad_x, grad_y)")
        v, gx, gy = float(out[0]), np.asarray(out[1], dtype=float), np.asarray(out[2], dtype=float)
        if gx.shape != np.shape(x) or gy.shape != np.shape(y):
            raise ValueError(f"`{name}` returned grad_x of shape {gx.shape} and grad_y of shape {gy.shape}; "
                             f"expected {np.shape(x)} and {np.shape(y)}")
        return v, gx, gy

    def upper(self, x, y, idx=None):
        """``(F, grad_x F, grad_y F)``; with ``idx`` (finite-sum upper level only) the average over
        the samples ``idx`` of the upper level."""
        return self._call(self._upper, "upper", x, y, idx)

    def lower(self, x, y, idx=None):
        """``(G, grad_x G, grad_y G)``; with ``idx`` the minibatch average (finite-sum lower level)."""
        return self._call(self._lower, "lower", x, y, idx)

    def _fd(self, fn, x, y, v, part, idx=None):
        """Central difference of the ``part`` gradient of ``fn`` along the y-direction v."""
        nv = np.linalg.norm(v)
        if nv == 0:
            return np.zeros_like(y if part == 2 else x)
        t = self.h * max(1.0, np.linalg.norm(y)) / nv
        return (fn(x, y + t * v, idx)[part] - fn(x, y - t * v, idx)[part]) / (2 * t)

    def _second(self, fn, x, y, v, idx):
        if idx is None:
            return np.asarray(fn(x, y, v), dtype=float)
        return np.asarray(fn(x, y, v, idx), dtype=float)

    def hvp_yy(self, x, y, v, idx=None):
        """grad_yy G v (with ``idx``: of the minibatch average)."""
        if self._hvp is not None:
            return self._second(self._hvp, x, y, v, idx)
        return self._fd(self.lower, x, y, v, 2, idx)

    def cross(self, x, y, v, idx=None):
        """grad_xy G v (maps a y-vector to an x-vector; with ``idx``: of the minibatch average)."""
        if self._cross is not None:
            return self._second(self._cross, x, y, v, idx)
        return self._fd(self.lower, x, y, v, 1, idx)

    def upper_hvp_yy(self, x, y, v, idx=None):
        """grad_yy F v (gradient differences)."""
        return self._fd(self.upper, x, y, v, 2, idx)

    def upper_cross(self, x, y, v, idx=None):
        """grad_xy F v (gradient differences)."""
        return self._fd(self.upper, x, y, v, 1, idx)


def _parse_n_samples(n_samples):
    """``n_samples``: None, an int (both levels are finite sums of that many terms) or a pair
    ``(n_upper, n_lower)`` whose entries are ints or None (that level is not a finite sum)."""
    if n_samples is None:
        return (None, None)
    pair = tuple(n_samples) if isinstance(n_samples, (tuple, list)) else (n_samples, n_samples)
    if len(pair) != 2:
        raise ValueError("`n_samples` must be an int or a pair (n_upper, n_lower)")
    for v in pair:
        if v is not None:
            check_scalar(v, "n_samples", lower=1, integer=True)
    return tuple(None if v is None else int(v) for v in pair)


def _cg(matvec, b, tol, maxiter):
    """Conjugate gradient for ``H v = b`` from v = 0, stopping at ``||r|| <= tol ||b||``.

    Returns ``(v, info)``: ``info["converged"]`` (the residual test held), ``info["residual"]``
    (``||b - H v||`` as tracked by the recursion), ``info["iterations"]`` and
    ``info["curvature"]``: None, or the first non-positive (or non-finite) ``p^T H p`` met, in
    which case H is not positive definite (or its products are not finite) and v is the
    iterate before that direction (the caller decides: :func:`bilevel_hypergradient` raises)."""
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


def _linear_solve(problem, x, y, fy, linear_solver, tol, maxiter, neumann_step):
    """``v ~ [grad_yy G]^{-1} grad_y F`` by the chosen solver; returns ``(v, info)`` with
    ``info = {"converged", "residual", "iterations"}`` (``residual = ||H v - grad_y F||``
    where measured). Raises ``numpy.linalg.LinAlgError`` when the lower Hessian is found not
    positive definite (CG meets ``p^T H p <= 0``; ``exact``: an eigenvalue <= 0) or the
    Neumann series diverges, and ``ValueError`` on non-finite Hessian-vector products."""
    def hvp(u):
        out = problem.hvp_yy(x, y, u)
        if not np.all(np.isfinite(out)):
            raise ValueError("the lower level's Hessian-vector product grad_yy G v (`lower_hvp`, or gradient "
                             "differences of `lower`) is not finite at (x, y)")
        return out

    if linear_solver == "cg":
        v, info = _cg(hvp, fy, tol, maxiter)
        if info["curvature"] is not None:
            raise np.linalg.LinAlgError(
                f"the lower-level Hessian grad_yy G is not positive definite at (x, y): conjugate gradient met "
                f"the curvature p^T H p / ||p||^2 = {info['curvature']:.3g} <= 0; the implicit hypergradient "
                "needs a lower level that is strongly convex near y (y a strict local minimizer)")
        return v, info
    if linear_solver == "exact":
        n = y.size
        H = np.column_stack([hvp(e) for e in np.eye(n)])
        H = 0.5 * (H + H.T)
        w = np.linalg.eigvalsh(H)
        if not w[0] > 0:
            raise np.linalg.LinAlgError(
                f"the lower-level Hessian grad_yy G is not positive definite at (x, y): smallest eigenvalue "
                f"{w[0]:.3g} <= 0; the implicit hypergradient needs a strongly convex lower level near y")
        v = np.linalg.solve(H, fy)
        return v, {"converged": True, "residual": float(np.linalg.norm(H @ v - fy)), "iterations": 1}
    if linear_solver == "neumann":
        if neumann_step is None:
            raise ValueError("linear_solver='neumann' needs neumann_step <= 1 / L_y (the lower smoothness)")
        check_scalar(neumann_step, "neumann_step", lower=0, lower_inclusive=False)
        # v = s sum_k (I - s H)^k grad_y F. For H positive definite and s <= 1/L the terms' norms
        # never increase; a term that grows past twice the smallest so far means s H has an
        # eigenvalue outside (0, 2): the series diverges (step too large or H not positive definite)
        v = fy.copy()
        term = fy.copy()
        tn_min = float(np.linalg.norm(fy))
        converged, it = tn_min == 0.0, 0
        for it in range(1, maxiter + 1):
            if converged:
                break
            term = term - neumann_step * hvp(term)
            v = v + term
            tn = float(np.linalg.norm(term))
            if not math.isfinite(tn) or tn > 2.0 * tn_min:
                raise np.linalg.LinAlgError(
                    f"the Neumann series diverges at (x, y) (term {it} has norm {tn:.3g} > 2 x the smallest "
                    f"earlier one, {tn_min:.3g}): neumann_step * grad_yy G has an eigenvalue outside (0, 2), i.e. "
                    "neumann_step > 2 / L_y or the lower-level Hessian is not positive definite")
            tn_min = min(tn_min, tn)
            converged = tn <= tol * max(float(np.linalg.norm(v)), 1e-300)
        v = v * neumann_step
        return v, {"converged": bool(converged), "residual": float(np.linalg.norm(hvp(v) - fy)), "iterations": it}
    raise ValueError(f"unknown linear_solver {linear_solver!r}; use 'cg', 'neumann' or 'exact'")


def _hypergradient(problem, x, y, linear_solver="cg", tol=1e-10, maxiter=1000, neumann_step=None):
    """``(hypergradient, v, info)`` without input checks (the solvers' internal version)."""
    _, fx, fy = problem.upper(x, y)
    if not (np.all(np.isfinite(fx)) and np.all(np.isfinite(fy))):
        raise ValueError("`upper(x, y)` returned a non-finite gradient at (x, y)")
    v, info = _linear_solve(problem, x, y, fy, linear_solver, tol, maxiter, neumann_step)
    hg = fx - problem.cross(x, y, v)
    if not np.all(np.isfinite(hg)):
        raise ValueError("the cross derivative grad_xy G v (`lower_cross`, or gradient differences of `lower`) "
                         "is not finite at (x, y)")
    return hg, v, info


def bilevel_hypergradient(problem, x, y, *, linear_solver="cg", tol=1e-10, maxiter=1000, neumann_step=None,
                          return_info=False):
    """Hypergradient ``grad Phi(x)`` at (x, y) with y ~ y*(x), by implicit differentiation.

    Returns ``(hypergradient, v)`` with ``v = [grad_yy G]^{-1} grad_y F`` (with
    ``return_info=True``: ``(hypergradient, v, info)``, ``info = {"converged", "residual",
    "iterations"}`` of the linear solve; ``converged`` is False when ``maxiter`` ran out first,
    e.g. a deliberately truncated Neumann series).

    Failures are raised, never returned as numbers: ``ValueError`` naming ``x`` or ``y`` when
    they are not finite, and when an oracle returns non-finite values;
    ``numpy.linalg.LinAlgError`` (a ``ValueError`` subclass) when the lower-level Hessian is
    not positive definite (``"cg"``: a direction with ``p^T H p <= 0``; ``"exact"``: an
    eigenvalue <= 0) or the Neumann series diverges (``neumann_step`` too large for the
    lower smoothness, or an indefinite Hessian)."""
    x, y = _finite_start(x, "x"), _finite_start(y, "y")
    check_scalar(maxiter, "maxiter", lower=0, integer=True)
    check_scalar(tol, "tol", lower=0)
    hg, v, info = _hypergradient(problem, x, y, linear_solver, tol, maxiter, neumann_step)
    return (hg, v, info) if return_info else (hg, v)


_MAX_HALVINGS = 60  # backtracking cap: 2^-60 ~ 1e-18 of the trial step


def _gd_min(fg, y, tol, maxiter, step):
    """Gradient descent with backtracking on ``fg(y) -> (value, grad)``; returns (y, ||grad||, step).

    Bounded: at most ``maxiter`` steps of at most ``_MAX_HALVINGS`` halvings each. A non-finite
    value or gradient is never accepted; a non-finite start, or no acceptable step, ends the
    descent at the current point (its gradient norm, possibly NaN, tells the caller)."""
    g, gy = fg(y)
    gn = float(np.linalg.norm(gy))
    if not (math.isfinite(step) and step > 0):
        step = 1.0
    if not (math.isfinite(g) and math.isfinite(gn)):
        return y, (gn if not math.isfinite(gn) else math.nan), step
    for _ in range(maxiter):
        if gn <= tol:
            break
        accepted = False
        for _ in range(_MAX_HALVINGS):
            yn = y - step * gy
            gv, gyn = fg(yn)
            gnn = float(np.linalg.norm(gyn))
            if math.isfinite(gv) and math.isfinite(gnn):
                if gv <= g - 0.5 * step * gn ** 2 or step < 1e-16:
                    accepted = True
                    break
                # values equal to rounding: accept a step that decreases the gradient norm
                if abs(gv - g) <= 1e-13 * max(abs(g), 1.0) and gnn < gn:
                    accepted = True
                    break
            if step < 1e-16:
                break
            step *= 0.5
        if not accepted:
            break
        y, g, gy, gn = yn, gv, gyn, gnn
        step *= 1.5
    return y, gn, step


def _gd_inner(problem, x, y, tol, maxiter, step):
    """Gradient descent on G(x, .) with backtracking; returns (y, ||grad_y G||, step)."""
    return _gd_min(lambda u: problem.lower(x, u)[::2], y, tol, maxiter, step)


def _curvature(matvec, n, iters=30, seed=0):
    """Estimate of the largest |eigenvalue| of a symmetric operator (power iteration); NaN when
    the products are not finite (the callers raise)."""
    v = np.random.default_rng(seed).standard_normal(n)
    lam = 0.0
    for _ in range(iters):
        w = matvec(v / np.linalg.norm(v))
        lam = float(np.linalg.norm(w))
        if not math.isfinite(lam):
            return math.nan
        if lam == 0:
            return 0.0
        v = w
    return lam


def _finite_estimate(value, what):
    """``value`` when finite, else a ValueError saying which estimate failed (an oracle returned
    NaN/inf at the starting point)."""
    if not math.isfinite(value):
        raise ValueError(f"{what} is not finite at the starting point (x0, y0): the oracles (`upper`, `lower` "
                         "or their second-order products) returned NaN or inf there")
    return value


def _lipschitz_constants(problem, x, y):
    """(L_F, L_G): curvature of F and G in y at (x, y), by power iteration on Hessian-vector products."""
    n = y.size
    LF = _curvature(lambda v: problem.upper_hvp_yy(x, y, v), n)
    LG = _curvature(lambda v: problem.hvp_yy(x, y, v), n)
    return (_finite_estimate(LF, "the curvature estimate of F in y"),
            _finite_estimate(LG, "the curvature estimate of G in y"))


_UNCAPPED = 10 ** 7  # iteration cap of a generator driven without bilevel()'s maxiter


def _iterations(opts):
    """The outer iteration counter of a method's generator: ``range(maxiter + 1)`` (the shared
    loop stops it at ``maxiter`` anyway; the cap keeps every loop bounded on its own)."""
    return range(int(opts.get("_maxiter", _UNCAPPED)) + 1)


_EXHAUSTED = (1, "Maximum number of iterations reached.")


def _inner_solver(problem, opts):
    """The lower-level solver: gradient descent (default), a numopt method name, or a
    callable ``inner(x, y0, tol) -> y`` (e.g. a closed form)."""
    inner = opts["inner"]
    if inner is None:
        return None
    if callable(inner):
        return inner
    if isinstance(inner, str):
        from .._minimize import minimize

        def solve(x, y0, tol):
            r = minimize(lambda y: problem.lower(x, y)[0], y0, jac=lambda y: problem.lower(x, y)[2],
                         method=inner, tol=tol, options={"maxiter": opts["inner_maxiter"]})
            return r.x
        return solve
    raise TypeError("`inner` must be None, a numopt method name or a callable inner(x, y0, tol) -> y")


def _implicit(problem, x0, y0, opts, hoag):
    x, y = np.asarray(x0, dtype=float).copy(), np.asarray(y0, dtype=float).copy()
    inner_step, alpha = 1.0, opts["step"]
    x_prev = hg_prev = None  # the last iterate and hypergradient (Barzilai-Borwein steps)
    custom = _inner_solver(problem, opts)
    tol = opts.get("_tol")

    def _inner(problem, x, y, tol, maxiter, step):  # noqa: F811 - dispatch to the chosen solver
        if custom is None:
            return _gd_inner(problem, x, y, tol, maxiter, step)
        yn = np.asarray(custom(x, y, tol), dtype=float)
        return yn, float(np.linalg.norm(problem.lower(x, yn)[2])), step

    for k in _iterations(opts):
        eps = opts["inner_tol"] if not hoag else max(opts["eps0"] * opts["decay"] ** k, opts["inner_tol"])
        y, res, inner_step = _inner(problem, x, y, eps, opts["inner_maxiter"], inner_step)
        Fv = problem.upper(x, y)[0]
        if not (math.isfinite(Fv) and math.isfinite(res) and np.all(np.isfinite(y))):
            yield Step(x.copy(), Fv, math.nan, y=y.copy(), lower_residual=res)  # the loop reports status 2
            return 2, (f"non-finite lower-level solution or upper value at iteration {k} "
                       f"(F = {Fv}, ||grad_y G|| = {res})")
        try:
            hg, _, info = _hypergradient(problem, x, y, linear_solver=opts["linear_solver"], tol=eps,
                                         maxiter=opts["cg_maxiter"], neumann_step=opts["neumann_step"])
        except np.linalg.LinAlgError as e:
            yield Step(x.copy(), Fv, None, y=y.copy(), lower_residual=res)
            return 5, f"hypergradient failed at iteration {k}: {e}"
        except ValueError as e:
            yield Step(x.copy(), Fv, None, y=y.copy(), lower_residual=res)
            return 2, f"hypergradient failed at iteration {k}: {e}"
        hn = float(np.linalg.norm(hg))
        if opts["step_rule"] == "bb" and x_prev is not None:
            # Barzilai-Borwein trial step s.s / s.d from the last two iterates and hypergradients
            # (backtracking below keeps the descent condition); flat value functions, such as
            # regularization strengths in log scale, need steps far above 1
            sv, dv = x - x_prev, hg - hg_prev
            sd = float(sv @ dv)
            if sd > 0:
                alpha = min(float(sv @ sv) / sd, 1e3 * alpha)
        # HOAG's hypergradient is only eps_k-accurate: its optimality measure adds eps_k, so tol
        # cannot stop the run on an inexact hypergradient that happens to be small
        opt = hn + eps if hoag else hn
        # the measure certifies only when the lower level and the linear system were solved to
        # their tolerances: a small norm from a truncated solve is not reported as success
        certified = info["converged"] and res <= eps
        if tol is not None and opt <= tol and not certified:
            yield Step(x.copy(), Fv, None, y=y.copy(), hypergrad=hg, lower_residual=res, step_size=alpha, eps=eps,
                       linear_residual=info["residual"])
            return 5, (f"hypergradient norm {hn:.3g} is below tol but not certified: the "
                       + ("linear system was not solved to tolerance within cg_maxiter (residual "
                          f"{info['residual']:.3g})" if not info["converged"] else
                          f"lower level was not solved to inner_tol (||grad_y G|| = {res:.3g} > {eps:.3g})"))
        yield Step(x.copy(), Fv, opt, y=y.copy(), hypergrad=hg, lower_residual=res,
                   step_size=alpha, eps=eps, linear_residual=info["residual"])
        # backtracking on the (approximate) value function Phi(x) = F(x, y*(x))
        for _ in range(40):
            xn = x - alpha * hg
            yn, _, _ = _inner(problem, xn, y.copy(), eps, opts["inner_maxiter"], inner_step)
            Fn = problem.upper(xn, yn)[0]
            slack = 2 * eps * (1 + abs(Fv)) if hoag else 0.0  # HOAG tolerates inexact values
            if Fn <= Fv - 0.25 * alpha * hn ** 2 + slack:
                break
            alpha *= 0.5
        else:
            return 5, "line search on the value function failed (inaccurate hypergradient?)"
        x_prev, hg_prev = x, hg
        x, y = xn, yn
        alpha *= 1.2
    return _EXHAUSTED


def _maid_constants(problem, x, y, opts, mu, draw_seed=0):
    """Constants of MAID's a-posteriori bounds when not given: ``L_F`` (curvature of F in y,
    power iteration) and ``K`` (the hypergradient's sensitivity: the larger of the Lipschitz
    estimate of y -> h(x, y) from two random finite differences and ||grad_xy G||, by power
    iteration on J^T J with J^T u from lower-gradient differences in x); both times
    ``safety``. Estimated at the first iterate only: not certified."""
    safety = opts["safety"]
    LF = opts["upper_lipschitz"]
    if LF is None:
        LF = safety * _finite_estimate(_curvature(lambda v: problem.upper_hvp_yy(x, y, v), y.size),
                                       "MAID's estimate of L_F (the curvature of F in y)")
    K = opts["lipschitz"]
    if K is None:
        rng = np.random.default_rng(draw_seed)

        def hyper(yy):
            return bilevel_hypergradient(problem, x, yy, tol=1e-12, maxiter=opts["cg_maxiter"])[0]
        h0 = hyper(y)
        Ky = 0.0
        for _ in range(2):
            u = rng.standard_normal(y.size)
            u /= np.linalg.norm(u)
            s = 1e-4 * max(1.0, float(np.linalg.norm(y)))
            Ky = max(Ky, _finite_estimate(float(np.linalg.norm(hyper(y + s * u) - h0)) / s,
                                          "MAID's estimate of the Lipschitz constant K"))

        def jt(u):  # J^T u = d/dt grad_y G(x + t u, y)
            t = 1e-6 * max(1.0, float(np.linalg.norm(x))) / max(float(np.linalg.norm(u)), 1e-300)
            return (problem.lower(x + t * u, y)[2] - problem.lower(x - t * u, y)[2]) / (2 * t)
        v = rng.standard_normal(y.size)
        nJ = 0.0
        for _ in range(10):
            w = problem.cross(x, y, v / np.linalg.norm(v))
            nw = _finite_estimate(float(np.linalg.norm(w)), "MAID's estimate of ||grad_xy G||")
            if nw == 0:
                break
            nJ = nw
            v = jt(w / nw)
            if np.linalg.norm(v) == 0:
                break
        K = safety * max(Ky, nJ)
    return float(LF), float(K)


def _mu_function(problem, opts):
    """``mu(x, y)``: the lower level's strong-convexity modulus, from the option ``mu`` (a number
    or a callable of x) or estimated at (x, y) as L - lambda_max(L I - H) by power iteration
    (an estimate from above of lambda_min(H), hence divided by ``safety``)."""
    mu = opts["mu"]
    if callable(mu):
        def given(x, y):
            m = float(mu(x))
            if not m > 0:
                raise ValueError(f"`mu(x)` must be positive (the lower level's strong convexity), got {m}")
            return m
        return given
    if mu is not None:
        check_scalar(mu, "mu", lower=0, lower_inclusive=False)
        return lambda x, y: float(mu)

    def estimate(x, y):
        L = _finite_estimate(_curvature(lambda v: problem.hvp_yy(x, y, v), y.size, iters=30),
                             "MAID's estimate of mu (the lower level's strong convexity)")
        top = _finite_estimate(_curvature(lambda v: L * v - problem.hvp_yy(x, y, v), y.size, iters=60),
                               "MAID's estimate of mu (the lower level's strong convexity)")
        return max(L - top, 1e-12 * L) / opts["safety"]
    return estimate


def _check_maid_options(opts):
    for k in ("eps0", "delta0", "step", "max_step", "eps_min", "safety"):
        check_scalar(opts[k], k, lower=0, lower_inclusive=False)
    for k in ("eta", "rho", "nu", "nu_min"):
        check_scalar(opts[k], k, lower=0, lower_inclusive=False)
        if not opts[k] < 1:
            raise ValueError(f"`{k}` must be in (0, 1), got {opts[k]!r}")
    for k in ("rho_over", "nu_over"):
        check_scalar(opts[k], k, lower=1)
    check_scalar(opts["max_backtracks"], "max_backtracks", lower=1, integer=True)
    for k in ("lipschitz", "upper_lipschitz"):
        check_scalar(opts[k], k, lower=0, allow_none=True)


def _maid(problem, x0, y0, opts):
    """MAID, the adaptively inexact hypergradient method of Salehi, Mukherjee, Roberts &
    Ehrhardt ("An adaptively inexact first-order method for bilevel optimization with
    application to hyperparameter learning").

    At x_k with accuracies (eps_k, delta_k): the lower level is solved (warm-started) until the
    a-posteriori bound ``d = ||grad_y G|| / mu >= ||y - y*(x)||`` is at most eps_k; the
    hypergradient ``h = grad_x F - grad_xy G q`` uses q from CG with residual r, ``||r|| / mu
    <= delta_k``, and carries the error bound ``e = K (d + ||r|| / mu)``; the value error is
    ``omega = ||grad_y F|| d + L_F d^2 / 2 >= |F(x, y) - Phi(x)|``. Backtracking on
    ``x - alpha h`` accepts when the decrease is certified through the bounds,
    ``F(x+, y+) + omega+ <= F(x, y) - omega - eta alpha ||h||^2`` (then
    ``Phi(x+) <= Phi(x) - eta alpha ||h||^2``). When the inexact values show the decrease but the
    bounds do not certify it, or ``max_backtracks`` halvings fail, both accuracies are
    tightened and the iteration restarts at x; after an accepted step they are loosened by
    ``nu_over`` (capped at eps0/delta0) and the step grows by ``rho_over`` (or is the
    Barzilai-Borwein step, ``step_rule="bb"``)."""
    _check_maid_options(opts)
    x, y = np.asarray(x0, dtype=float).copy(), np.asarray(y0, dtype=float).copy()
    eps, delta, alpha = opts["eps0"], opts["delta0"], opts["step"]
    eta, rho, nu = opts["eta"], opts["rho"], opts["nu"]
    mu_of = _mu_function(problem, opts)
    custom = _inner_solver(problem, opts)
    state = {"step": 1.0}

    def solve(x, y, eps, mu):
        """y with ||y - y*(x)|| <= d (<= eps when the solver succeeds): returns (y, ||grad_y G||, d)."""
        if custom is None:
            y, g, state["step"] = _gd_inner(problem, x, y, mu * eps, opts["inner_maxiter"], state["step"])
        else:
            y = np.asarray(custom(x, y, mu * eps), dtype=float)
            g = float(np.linalg.norm(problem.lower(x, y)[2]))
        return y, g, g / mu

    LF = K = trial = x_prev = h_prev = mu_key = None
    k_acc = 0
    for k in _iterations(opts):
        if mu_key != x.tobytes():  # mu at each accepted iterate (an estimate is reused at its trial points)
            mu, mu_key = mu_of(x, y), x.tobytes()
        y, gres, d = solve(x, y, eps, mu)
        if not (math.isfinite(d) and np.all(np.isfinite(y))):
            yield Step(x.copy(), problem.upper(x, y)[0], math.nan, y=y.copy(), lower_residual=gres)  # status 2
            return 2, f"non-finite lower-level solution at iteration {k} (||grad_y G|| = {gres})"
        if d > eps:
            if k == 0:  # nothing reported yet: the starting point is the result
                yield Step(x.copy(), problem.upper(x, y)[0], None, y=y.copy(), lower_residual=gres)
            return 5, f"the lower-level solver did not reach the requested accuracy (||y - y*|| <= {d:.2e} > eps = {eps:.2e})"
        Fv, Fx, Fy = problem.upper(x, y)
        try:
            if LF is None:
                LF, K = _maid_constants(problem, x, y, opts, mu)
            nFy = float(np.linalg.norm(Fy))
            # q ~ H^{-1} grad_y F with residual r: ||q - H^{-1} grad_y F|| <= ||r|| / mu <= delta
            q, info = _cg(lambda u: problem.hvp_yy(x, y, u), Fy, mu * delta / max(nFy, 1e-300), opts["cg_maxiter"]) \
                if nFy > 0 else (np.zeros_like(y), {"curvature": None})
            if info["curvature"] is not None:
                raise np.linalg.LinAlgError(
                    f"the lower-level Hessian is not positive definite at (x, y): conjugate gradient met the "
                    f"curvature {info['curvature']:.3g} <= 0 (the strong convexity mu = {mu:.3g} does not hold)")
        except np.linalg.LinAlgError as e:
            yield Step(x.copy(), Fv, None, y=y.copy(), lower_residual=gres)
            return 5, f"MAID stopped at iteration {k}: {e}"
        rn = float(np.linalg.norm(problem.hvp_yy(x, y, q) - Fy)) if nFy > 0 else 0.0
        h = Fx - problem.cross(x, y, q)
        hn = float(np.linalg.norm(h))
        if opts["step_rule"] == "bb" and x_prev is not None and not np.array_equal(x_prev, x):
            sv, dv = x - x_prev, h - h_prev
            sd = float(sv @ dv)
            if sd > 0:  # Barzilai-Borwein trial step (the certified test below still decides)
                alpha = min(float(sv @ sv) / sd, opts["max_step"])
        err = K * (d + rn / mu)  # a-posteriori bound on ||h - grad Phi(x)||
        omega = nFy * d + 0.5 * LF * d * d  # bound on |F(x, y) - Phi(x)|
        yield Step(x.copy(), Fv, hn + err, y=y.copy(), hypergrad=h, lower_residual=gres, eps=eps, delta=delta,
                   step_size=alpha, hypergrad_error=err, value_error=omega, accepted=k_acc, mu=mu)
        alpha0, bt, retry = alpha, 0, False
        for bt in range(opts["max_backtracks"] + 1):  # the last pass always breaks (bt == max_backtracks)
            xn = x - alpha * h
            key = xn.tobytes()
            mu_n = mu if opts["mu"] is None else mu_of(xn, y)  # a given mu(x) is evaluated at xn
            yn, _, dn = solve(xn, trial[1].copy() if trial and trial[0] == key else y.copy(), eps, mu_n)
            trial = (key, yn)
            Fn, _, Fyn = problem.upper(xn, yn)
            omega_n = float(np.linalg.norm(Fyn)) * dn + 0.5 * LF * dn * dn
            want = eta * alpha * hn ** 2
            # certified: Phi(xn) <= Fn + omega_n <= Fv - omega - want <= Phi(x) - want
            if dn <= eps and Fn + omega_n <= Fv - omega - want:
                break
            if Fn <= Fv - want or bt >= opts["max_backtracks"]:
                # no certificate: increase the accuracy of the lower solves and of the
                # hypergradient and restart from x; when the inexact values do show the
                # decrease, aim the new accuracy at half the margin (the bounds are linear in
                # eps to first order), else shrink by nu and restart from this iteration's step
                if Fn <= Fv - want:
                    margin = Fv - Fn - want
                    shrink = min(nu, max(opts["nu_min"], 0.5 * margin / max(omega + omega_n, 1e-300)))
                else:
                    shrink, alpha = nu, alpha0
                eps, delta, retry = eps * shrink, delta * shrink, True
                break
            alpha *= rho
        if retry:
            if eps < opts["eps_min"]:
                return 5, ("accuracy floor eps_min reached without a certified decrease (the decrease "
                           "eta alpha ||h||^2 is below what the value bounds can resolve)")
            continue
        x_prev, h_prev = x, h
        x, y = xn, yn
        k_acc += 1
        alpha = min(alpha * opts["rho_over"], opts["max_step"])
        eps, delta = min(eps * opts["nu_over"], opts["eps0"]), min(delta * opts["nu_over"], opts["delta0"])
    return _EXHAUSTED


def _sampler(problem, opts):
    """Minibatch index sampler for the finite-sum levels: ``draw() -> (idx_upper, idx_lower)``
    (None for a level sampled in full). ``batch_size`` is an int for both levels or a pair;
    indices are drawn uniformly with replacement from ``rng``."""
    bs = opts.get("batch_size")
    if bs is None:
        return lambda: (None, None)
    pair = tuple(bs) if isinstance(bs, (tuple, list)) else (bs, bs)
    if len(pair) != 2:
        raise ValueError("`batch_size` must be an int or a pair (upper, lower)")
    if not (problem.is_finite_sum("upper") or problem.is_finite_sum("lower")):
        raise ValueError("`batch_size` needs a finite-sum problem: declare BilevelProblem(..., n_samples=...) "
                         "with upper(x, y, idx) / lower(x, y, idx)")
    sizes = []
    for name, b in zip(("upper", "lower"), pair):
        n = problem._size(name)
        if b is not None:
            check_scalar(b, "batch_size", lower=1, integer=True)
        sizes.append(None if n is None or b is None or b >= n else (n, int(b)))
    rng = np.random.default_rng(0 if opts.get("rng") is None else opts["rng"])  # rng=None: a fixed seed (reproducible)

    def draw():
        return tuple(None if s is None else rng.integers(0, s[0], s[1]) for s in sizes)
    return draw


def _check_minibatch_oracles(problem, x0, y0, opts):
    """Call the finite-sum oracles once on a 1-sample minibatch: a clear error if they do not
    accept ``idx``."""
    if opts.get("batch_size") is None:
        return
    for name in ("upper", "lower"):
        if problem.is_finite_sum(name):
            try:
                getattr(problem, name)(x0, y0, np.zeros(1, dtype=np.intp))
            except TypeError as e:
                raise TypeError(f"`{name}` must accept (x, y, idx) when n_samples declares it a finite sum "
                                f"({e})") from e


def _first_order_penalty(problem, x0, y0, opts, fixed_lam=None):
    """F2SA (Kwon, Kwon, Wright & Nowak, ICML 2023, Algorithm 1), deterministic or stochastic.

    Iteration k with ``gamma_k = inner_step (k+1)^-c``, ``lam_k = lam0 (k+1)^{lam_power}``
    (``fixed_lam`` for the stochastic penalty method), ``alpha_k = gamma_k / lam_k``:
    ``inner_steps`` times ``z <- z - gamma_k grad_y g(x, z; B)``,
    ``y <- y - alpha_k (grad_y f(x, y; B') + lam_k grad_y g(x, y; B))``; then
    ``x <- x - step (k+1)^-a [grad_x f(x, y; B') + lam_k (grad_x g(x, y; B) - grad_x g(x, z; B))]``.
    ``B``/``B'`` are minibatches of the lower/upper sums (full sums when ``batch_size`` is None).
    The same lower minibatch is used for the y- and z-terms (common random numbers): the
    difference ``lam_k (grad g(y) - grad g(z))`` then has O(1) rather than O(lam_k^2) variance."""
    x, y = np.asarray(x0, dtype=float).copy(), np.asarray(y0, dtype=float).copy()
    z = y.copy()
    draw = _sampler(problem, opts)
    stochastic = opts.get("batch_size") is not None
    a, b, T = opts["step"], opts["inner_step"], opts["inner_steps"]
    pa, pc = opts["step_power"], opts["inner_power"]
    if fixed_lam is None:
        lam0, pl = opts["lam0"], opts["lam_power"]
        # the paper's schedules: stochastic (Thm 3.1) a = 5/7, c = 4/7, lam_k ~ gamma_k / alpha_k ~ k^{1/7};
        # the deterministic default keeps constant steps and lam_k ~ k^{1/2}
        pa = (5 / 7 if stochastic else 0.0) if pa is None else pa
        pc = (4 / 7 if stochastic else 0.0) if pc is None else pc
        pl = (pa - pc if stochastic else 0.5) if pl is None else pl
    else:
        lam0, pl = fixed_lam, 0.0
        pa = (0.5 if stochastic else 0.0) if pa is None else pa
        pc = (0.5 if stochastic else 0.0) if pc is None else pc
    for k in _iterations(opts):
        lam = lam0 * (k + 1) ** pl
        gam = b / (k + 1) ** pc
        for _ in range(T):
            iu, il = draw()
            z = z - gam * problem.lower(x, z, il)[2]
            y = y - (gam / lam) * (problem.upper(x, y, iu)[2] + lam * problem.lower(x, y, il)[2])
        iu, il = draw()
        Fv, fx, _ = problem.upper(x, y, iu)
        _, gx_y, gy_y = problem.lower(x, y, il)
        _, gx_z, _ = problem.lower(x, z, il)
        hg = fx + lam * (gx_y - gx_z)  # the penalty's x-gradient approximates grad Phi
        yield Step(x.copy(), Fv, float(np.linalg.norm(hg)), y=y.copy(), hypergrad=hg,
                   lower_residual=float(np.linalg.norm(gy_y)), lam=lam,
                   samples_upper=problem.counts["upper_samples"], samples_lower=problem.counts["lower_samples"])
        x = x - (a / (k + 1) ** pa) * hg
    return _EXHAUSTED


def _penalty(problem, x0, y0, opts):
    """Kwon, Kwon, Wright & Nowak (ICLR 2024): gradient descent on the penalty value function
    psi(x) = min_y [F(x, y) + lam G(x, y)] - lam min_z G(x, z) with a fixed multiplier lam;
    by Danskin, grad psi = grad_x F(x, y_lam) + lam (grad_x G(x, y_lam) - grad_x G(x, z*))."""
    x, y = np.asarray(x0, dtype=float).copy(), np.asarray(y0, dtype=float).copy()
    z = y.copy()
    lam, tol_in, it_in = opts["lam"], opts["inner_tol"], opts["inner_maxiter"]
    sy = sz = 1.0

    def pen(x, u):
        F, _, Fy = problem.upper(x, u)
        G, _, Gy = problem.lower(x, u)
        return F + lam * G, Fy + lam * Gy

    def solve(x, y, z, sy, sz):
        y, ry, sy = _gd_min(lambda u: pen(x, u), y, tol_in * lam, it_in, sy)
        z, rz, sz = _gd_inner(problem, x, z, tol_in, it_in, sz)
        F = problem.upper(x, y)[0]
        psi = F + lam * (problem.lower(x, y)[0] - problem.lower(x, z)[0])
        # both inner problems solved to their tolerances (NaN compares False: not solved)
        return y, z, sy, sz, F, psi, bool(ry <= tol_in * lam and rz <= tol_in)

    y, z, sy, sz, F, psi, solved = solve(x, y, z, sy, sz)
    alpha, tol = opts["step"], opts.get("_tol")
    for k in _iterations(opts):
        _, fx, _ = problem.upper(x, y)
        Gy_val, gx_y, gy_y = problem.lower(x, y)
        Gz_val, gx_z, _ = problem.lower(x, z)
        hg = fx + lam * (gx_y - gx_z)
        hn = float(np.linalg.norm(hg))
        if tol is not None and hn <= tol and not solved:  # a small gradient of psi from unsolved inner problems
            yield Step(x.copy(), F, None, y=y.copy(), hypergrad=hg, lower_residual=float(np.linalg.norm(gy_y)),
                       lower_gap=Gy_val - Gz_val, step_size=alpha)
            return 5, ("the penalty gradient is below tol but not certified: the inner problems were not solved to "
                       "inner_tol within inner_maxiter")
        yield Step(x.copy(), F, hn, y=y.copy(), hypergrad=hg, lower_residual=float(np.linalg.norm(gy_y)),
                   lower_gap=Gy_val - Gz_val, step_size=alpha)
        for _ in range(60):
            xn = x - alpha * hg
            yn, zn, sy2, sz2, Fn, psin, solved_n = solve(xn, y.copy(), z.copy(), sy, sz)
            if psin <= psi - 0.25 * alpha * hn ** 2:
                break
            alpha *= 0.5
        else:
            return 5, "line search on the penalty value function failed (inner problems not solved accurately enough?)"
        x, y, z, sy, sz, F, psi, solved = xn, yn, zn, sy2, sz2, Fn, psin, solved_n
        alpha *= 1.5
    return _EXHAUSTED


def _default_steps(problem, x, y, opts, weight_F, moreau):
    """Fill step sizes left as None with 1/L from curvature estimates in y at the start
    (L_G of G, L_F of F weighted by ``weight_F``; the Moreau term adds 1/gamma)."""
    if all(opts.get(k) is not None for k in ("gamma", "step_theta", "step_x", "step_y") if k in opts):
        return opts
    LF, LG = _lipschitz_constants(problem, x, y)
    LG = max(LG, 1e-12)
    extra = 0.0
    if moreau:
        if opts["gamma"] is None:
            opts["gamma"] = 0.5 / LG  # < 1/rho for a rho-weakly convex lower level (rho <= L_G)
        extra = 1.0 / opts["gamma"]
        if opts["step_theta"] is None:
            opts["step_theta"] = 1.0 / (LG + extra)
    step = 1.0 / (weight_F * LF + LG + extra)
    for k in ("step_x", "step_y"):
        if opts[k] is None:
            opts[k] = step
    return opts


def _affine_projector(problem, nx):
    """Projection of (x, y) onto {Ax x + Ay y = b} (identity when there is no coupled constraint)."""
    if problem.coupled is None:
        return lambda x, y: (x, y)
    Ax, Ay, b = problem.coupled
    if Ax.shape[1] != nx:
        raise ValueError(f"`coupled`: Ax has {Ax.shape[1]} columns, x has {nx} entries")
    M = np.hstack([Ax, Ay])
    Mp = np.linalg.pinv(M)

    def proj(x, y):
        u = np.concatenate([x, y])
        u = u - Mp @ (M @ u - b)
        return u[:nx], u[nx:]
    return proj


def _moreau_single_loop(problem, x0, y0, opts, coupled):
    """MEHA (Liu et al., ICML 2024) and, with a coupled constraint Ax x + Ay y = b, LV-HBA
    (Yao, Yu, Zeng & Zhang, ICLR 2024). One gradient step on the proximal (Lagrangian)
    subproblem, then one projected gradient step on F/c_k + G - v_gamma in (x, y[, z])."""
    x, y = np.asarray(x0, dtype=float).copy(), np.asarray(y0, dtype=float).copy()
    opts = _default_steps(problem, x, y, dict(opts), 1.0 / opts["c0"], moreau=True)
    g1, eta, a, b_ = opts["gamma"], opts["step_theta"], opts["step_x"], opts["step_y"]
    theta = y.copy()
    proj = _affine_projector(problem, x.size)
    if coupled:
        Ax, Ay, bc = problem.coupled
        g2 = opts["gamma2"]
        z = np.zeros(bc.shape[0])
        lam = z.copy()
        Ay_pinv = np.linalg.pinv(Ay)
        x, y = proj(x, y)
    for k in _iterations(opts):
        c = opts["c0"] * (k + 1) ** opts["c_power"]
        # proximal (Lagrangian) subproblem: one step in theta, the maximizing multiplier in closed form
        _, _, gth = problem.lower(x, theta)
        dth = gth + (theta - y) / g1
        if coupled:
            dth = dth + Ay.T @ lam
        theta = theta - eta * dth
        if coupled:
            lam = z + g2 * (Ax @ x + Ay @ theta - bc)
        Fv, Fx, Fy = problem.upper(x, y)
        _, Gx, Gy = problem.lower(x, y)
        _, Gx_th, _ = problem.lower(x, theta)
        dx = Fx / c + Gx - Gx_th
        dy = Fy / c + Gy - (y - theta) / g1
        if coupled:
            dx = dx - Ax.T @ lam
            dz = -(lam - z) / g2
        xn, yn = proj(x - a * dx, y - b_ * dy)
        move = float(np.sqrt(np.sum((xn - x) ** 2) + np.sum((yn - y) ** 2))) / a
        if coupled:
            res = float(np.linalg.norm(Gy - Ay.T @ (Ay_pinv.T @ Gy)))  # grad_y G off the range of Ay^T
            feas = float(np.linalg.norm(Ax @ x + Ay @ y - bc))
            yield Step(x.copy(), Fv, move, y=y.copy(), hypergrad=dx * c, lower_residual=res, feasibility=feas, c=c)
            z = z - opts["step_z"] * dz
        else:
            yield Step(x.copy(), Fv, move, y=y.copy(), hypergrad=dx * c, lower_residual=float(np.linalg.norm(Gy)), c=c)
        x, y = xn, yn
    return _EXHAUSTED


def _bamm(problem, x0, y0, opts):
    """Single-loop averaged scheme after sl-BAMM (Liu, Liu, Yao, Zeng & Zhang, ICML 2023): the
    lower step descends mu_k F + G (mu_k -> 0 selects, among lower-level solutions, those best
    for F), the multiplier z tracks (mu_k grad_yy F + grad_yy G)^{-1} grad_y F by one
    Hessian-vector step, and x moves along grad_x F - (mu_k grad_xy F + grad_xy G) z."""
    x, y = np.asarray(x0, dtype=float).copy(), np.asarray(y0, dtype=float).copy()
    z = np.zeros_like(y)
    opts = _default_steps(problem, x, y, dict(opts), opts["mu0"], moreau=False)
    a, b_, eta = opts["step_x"], opts["step_y"], opts["step_z"] or opts["step_y"]
    for k in _iterations(opts):
        mu = opts["mu0"] / (k + 1) ** opts["mu_power"]
        Fv, Fx, Fy = problem.upper(x, y)
        _, _, Gy = problem.lower(x, y)
        y_new = y - b_ * (mu * Fy + Gy)
        _, _, Fy_new = problem.upper(x, y_new)
        Hz = mu * problem.upper_hvp_yy(x, y_new, z) + problem.hvp_yy(x, y_new, z)
        z = z - eta * (Hz - Fy_new)
        hg = problem.upper(x, y_new)[1] - (mu * problem.upper_cross(x, y_new, z) + problem.cross(x, y_new, z))
        yield Step(x.copy(), Fv, float(np.linalg.norm(hg)), y=y.copy(), hypergrad=hg,
                   lower_residual=float(np.linalg.norm(Gy)), mu=mu)
        x, y = x - a * hg, y_new
    return _EXHAUSTED


def _bo_rep(problem, x0, y0, opts):
    """BO-REP (Hao, Gong & Liu, ICLR 2024): normalized momentum on x, lower level refined at
    the start and updated periodically (every ``period`` iterations, ``inner_steps`` gradient
    steps), the linear-system solution z by one gradient step per iteration. With
    ``batch_size`` every gradient and Hessian-vector product is a minibatch estimate (the
    paper's stochastic setting): fresh indices per step, the start refinement by
    ``refine_steps`` stochastic gradient steps."""
    x, y = np.asarray(x0, dtype=float).copy(), np.asarray(y0, dtype=float).copy()
    z = np.zeros_like(y)
    m = np.zeros_like(x)
    draw = _sampler(problem, opts)
    stochastic = opts.get("batch_size") is not None
    if opts["inner_step"] is None:
        LF, LG = _lipschitz_constants(problem, x, y)
        nu = 1.0 / max(LG, 1e-12)
    else:
        nu = opts["inner_step"]
    if stochastic:  # initialization refinement
        for _ in range(opts["refine_steps"]):
            y = y - nu * problem.lower(x, y, draw()[1])[2]
    else:
        y, _, _ = _gd_inner(problem, x, y, opts["inner_tol"], opts["refine_steps"], nu)
    for k in _iterations(opts):
        if k > 0 and k % opts["period"] == 0:
            for _ in range(opts["inner_steps"]):
                y = y - nu * problem.lower(x, y, draw()[1])[2]
        iu, il = draw()
        Fv, Fx, Fy = problem.upper(x, y, iu)
        _, _, Gy = problem.lower(x, y, il)
        z = z - nu * (problem.hvp_yy(x, y, z, il) - Fy)
        zn = np.linalg.norm(z)
        if opts["z_radius"] is not None and zn > opts["z_radius"]:
            z *= opts["z_radius"] / zn
        hg = Fx - problem.cross(x, y, z, draw()[1] if stochastic else None)
        m = opts["beta"] * m + (1 - opts["beta"]) * hg
        eta = opts["step"] / (k + 1) ** opts["step_power"]
        yield Step(x.copy(), Fv, float(np.linalg.norm(hg)), y=y.copy(), hypergrad=hg,
                   lower_residual=float(np.linalg.norm(Gy)), step_size=eta,
                   samples_upper=problem.counts["upper_samples"], samples_lower=problem.counts["lower_samples"])
        mn = np.linalg.norm(m)
        if mn > 0:
            x = x - eta * m / mn
    return _EXHAUSTED


_DEFAULTS = {
    "implicit": {"step": 1.0, "step_rule": "bb", "inner": None, "inner_tol": 1e-10, "inner_maxiter": 10000,
                 "linear_solver": "cg",
                 "cg_maxiter": 1000, "neumann_step": None},
    "hoag": {"step": 1.0, "step_rule": "bb", "inner": None, "inner_tol": 1e-12, "inner_maxiter": 10000,
             "linear_solver": "cg", "cg_maxiter": 1000,
             "neumann_step": None, "eps0": 1e-2, "decay": 0.8},
    "maid": {"step": 1.0, "eps0": 1e-2, "delta0": 1e-2, "eta": 1e-4, "rho": 0.5, "rho_over": 2.0, "nu": 0.5,
             "nu_over": 1.25, "max_backtracks": 8, "max_step": 1e6, "nu_min": 1e-3, "step_rule": "bb", "eps_min": 1e-13, "mu": None, "lipschitz": None,
             "upper_lipschitz": None, "safety": 2.0, "inner": None, "inner_maxiter": 100000, "cg_maxiter": 1000},
    "f2sa": {"step": 0.05, "inner_step": 0.1, "inner_steps": 10, "lam0": 1.0, "lam_power": None, "step_power": None,
             "inner_power": None, "batch_size": None, "rng": None},
    "penalty": {"lam": 100.0, "step": 1.0, "inner_tol": 1e-9, "inner_maxiter": 20000, "batch_size": None, "rng": None,
                "inner_step": 0.1, "inner_steps": 10, "step_power": None, "inner_power": None},
    "meha": {"c0": 1.0, "c_power": 0.45, "gamma": None, "step_theta": None, "step_x": None, "step_y": None},
    "lv-hba": {"c0": 10.0, "c_power": 0.45, "gamma": None, "gamma2": 1.0, "step_theta": None, "step_x": None,
               "step_y": None, "step_z": 0.1},
    "bamm": {"mu0": 1.0, "mu_power": 0.5, "step_x": None, "step_y": None, "step_z": None},
    "bo-rep": {"step": 0.05, "step_power": 0.0, "beta": 0.9, "inner_step": None, "inner_steps": 10, "period": 5,
               "refine_steps": 1000, "inner_tol": 1e-8, "z_radius": None, "batch_size": None, "rng": None},
}


_POSITIVE = ("step", "inner_step", "lam", "lam0", "c0", "mu0", "gamma", "gamma2", "step_theta", "step_x", "step_y",
             "step_z", "neumann_step", "z_radius")
_NONNEGATIVE = ("inner_tol", "step_power", "inner_power", "lam_power", "c_power", "mu_power")
_COUNTS = {"inner_maxiter": 1, "cg_maxiter": 1, "inner_steps": 1, "period": 1, "refine_steps": 0}
_UNIT = {"decay": "(0, 1)", "beta": "[0, 1)"}


def _check_options(opts):
    """Numeric options of the methods: a TypeError/ValueError naming the option for a wrong
    type, a non-finite value or one out of range (None keeps its documented default)."""
    for k, v in opts.items():
        if v is None or k.startswith("_"):
            continue
        if k in _POSITIVE or k in _NONNEGATIVE:
            check_scalar(v, k, lower=0, lower_inclusive=k in _NONNEGATIVE)
            if not math.isfinite(v):
                raise ValueError(f"`{k}` must be finite, got {v!r}")
        elif k in _COUNTS:
            check_scalar(v, k, lower=_COUNTS[k], integer=True)
        elif k in _UNIT:
            check_scalar(v, k, lower=0, lower_inclusive=k == "beta")
            if not v < 1:
                raise ValueError(f"`{k}` must be in {_UNIT[k]}, got {v!r}")


def bilevel(problem, x0, y0, method="implicit", *, maxiter=100, tol=1e-6, callback=None, **options):
    """Solve a bilevel problem; returns an OptimizeResult with ``x``, ``y``, ``hypergrad``,
    ``fun`` (the upper objective), ``lower_residual`` and ``trace``."""
    if isinstance(problem, MultiBlockBilevelProblem):
        return _bilevel_multiblock(problem, x0, y0, method, maxiter, tol, callback, options)
    if not isinstance(problem, BilevelProblem):
        raise TypeError("`problem` must be a numopt.BilevelProblem or a MultiBlockBilevelProblem")
    if method == "bsvrb":
        raise TypeError("method 'bsvrb' solves multi-block problems: declare a MultiBlockBilevelProblem "
                        "(numopt.solvers.bilevel.MultiBlockBilevelProblem) with per-block upper/lower oracles")
    if method not in _DEFAULTS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(_DEFAULTS)}, bsvrb (multi-block)")
    if options.get("batch_size") is not None and method not in _STOCHASTIC:
        raise ValueError(f"`batch_size`: method {method!r} has no stochastic version; use one of {_STOCHASTIC}")
    opts = dict(_DEFAULTS[method])
    unknown = set(options) - set(opts)
    if unknown:
        raise TypeError(f"unknown option(s) {sorted(unknown)} for method {method!r}; valid: {sorted(opts)}")
    opts.update(options)
    _check_options(opts)
    check_scalar(maxiter, "maxiter", lower=0, integer=True)
    check_scalar(tol, "tol", lower=0)
    opts["_maxiter"], opts["_tol"] = maxiter, tol  # internal: the generators' iteration cap and certificate level
    if opts.get("step_rule", "bb") not in ("bb", "grow"):
        raise ValueError(f"`step_rule` must be 'bb' or 'grow', got {opts['step_rule']!r}")
    dtypes = _float_dtypes(x0, y0)
    x0, y0 = _finite_start(x0, "x0"), _finite_start(y0, "y0")
    problem.upper(x0, y0)
    problem.lower(x0, y0)  # shape checks before the first iteration
    if problem.coupled is not None and method != "lv-hba":
        raise ValueError(f"the problem has a coupled lower-level constraint; method {method!r} ignores it: use 'lv-hba'")
    _check_minibatch_oracles(problem, x0, y0, opts)
    if method == "f2sa":
        gen = _first_order_penalty(problem, x0, y0, opts)
    elif method == "penalty" and opts["batch_size"] is not None:
        gen = _first_order_penalty(problem, x0, y0, opts, fixed_lam=opts["lam"])
    elif method == "penalty":
        gen = _penalty(problem, x0, y0, opts)
    elif method in ("meha", "lv-hba"):
        gen = _moreau_single_loop(problem, x0, y0, opts, coupled=problem.coupled is not None)
    elif method == "bamm":
        gen = _bamm(problem, x0, y0, opts)
    elif method == "bo-rep":
        gen = _bo_rep(problem, x0, y0, opts)
    elif method == "maid":
        gen = _maid(problem, x0, y0, opts)
    else:
        gen = _implicit(problem, x0, y0, opts, method == "hoag")
    res = _run_counted(problem, gen, maxiter, tol, callback, method)
    if opts.get("batch_size") is not None:
        res.fun_minibatch = res.fun  # the trace holds minibatch estimates; the result gets the full value
        res.fun = problem.upper(res.x, res.y)[0]
    return _cast_result(res, dtypes)


def _float_dtypes(x0, y0):
    """The floating dtypes of the starting points (float64 for integer input): the result's
    ``x`` (and ``hypergrad``) and ``y`` are returned in them; the iteration runs in float64."""
    out = []
    for v in (x0, y0):
        dt = np.asarray(v).dtype
        out.append(dt if np.issubdtype(dt, np.floating) else np.dtype(np.float64))
    return tuple(out)


def _real_array(v, name):
    """``v`` as a float64 array; a TypeError naming it for complex or non-numeric input (a
    cast would silently drop the imaginary part)."""
    arr = np.asarray(v)
    if np.iscomplexobj(arr):
        raise TypeError(f"`{name}` must be real, got a complex array")
    try:
        return np.asarray(arr, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a real numeric array, got dtype {arr.dtype}") from None


def _finite_start(v, name):
    v = _real_array(v, name)
    if v.size == 0:
        raise ValueError(f"`{name}` must be non-empty, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"`{name}` must be finite (got NaN or inf entries)")
    return v


def _cast_result(res, dtypes):
    dx, dy = dtypes
    for key, dt in (("x", dx), ("hypergrad", dx), ("y", dy)):
        if isinstance(res.get(key), np.ndarray) and res[key].dtype != dt:
            res[key] = res[key].astype(dt)
    return res


def _run_counted(problem, gen, maxiter, tol, callback, method):
    """Run a bilevel generator through the shared loop and report the problem's oracle
    calls and per-sample gradient evaluations of this run (a full call of a finite-sum
    level counts n samples; a call of a level that is not a finite sum counts 1)."""
    counts0 = dict(problem.counts)
    res = run_loop(gen, counter=OracleCounter(), options={"maxiter": maxiter, "max_time": math.inf, "trace": True},
                   callback=callback, tol=tol, method=method)
    for k in ("nfev", "njev", "nhev", "nprox", "nlmo", "nproj", "jac", "samples_upper", "samples_lower"):
        res.pop(k, None)
    for k in ("upper", "lower"):
        res[f"n{k}"] = problem.counts[k] - counts0[k]
        res[f"nsamples_{k}"] = problem.counts[f"{k}_samples"] - counts0[f"{k}_samples"]
    return res


def _bilevel_multiblock(problem, x0, y0, method, maxiter, tol, callback, options):
    """``bilevel`` on a :class:`MultiBlockBilevelProblem` (method "bsvrb" only)."""
    if method != "bsvrb":
        raise ValueError(f"a MultiBlockBilevelProblem is solved by method='bsvrb', not {method!r}")
    opts = dict(BSVRB_DEFAULTS)
    unknown = set(options) - set(opts)
    if unknown:
        raise TypeError(f"unknown option(s) {sorted(unknown)} for method 'bsvrb'; valid: {sorted(opts)}")
    opts.update(options)
    check_scalar(maxiter, "maxiter", lower=0, integer=True)
    check_scalar(tol, "tol", lower=0)
    opts["_maxiter"] = maxiter
    dtypes = _float_dtypes(x0, y0)
    x0, Y0 = problem.check(_finite_start(x0, "x0"), _finite_start(y0, "y0"))
    res = _run_counted(problem, _bsvrb(problem, x0, Y0, opts), maxiter, tol, callback, method)
    res.fun_minibatch = res.fun  # the trace holds averages over the sampled blocks (and minibatches)
    res.fun = problem.value(res.x, res.y)
    return _cast_result(res, dtypes)
