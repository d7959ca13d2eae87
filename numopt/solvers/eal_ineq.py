"""Inequality constraints and bounds in method ``"eal"``: active-set SQP steps with an
exact augmented Lagrangian merit function.

Problem ``min f(x) s.t. lb <= c(x) <= ub, xl <= x <= xu`` (rows with ``lb == ub`` are
equalities). Following S. Na, M. Anitescu, M. Kolar, "Inequality constrained stochastic
nonlinear optimization via active-set sequential quadratic programming", Math. Program.
(2023), deterministic version (exact gradients). The rows are put in the standard form
``h(x) = 0`` (equality rows ``c_E - lb_E``) and ``g(x) <= 0`` (``c_U - ub_U``,
``lb_L - c_L``, ``x_B - xu_B``, ``xl_B - x_B``, one row per finite side), with
multipliers ``lam`` (free) and ``mu`` (>= 0). Each iteration:

1. identifies the active set ``A = {i : mu_i + mu_p g_i(x) >= 0}`` (Na et al.'s rule
   ``g_i >= -eps q mu_i`` with ``eps q = 1 / mu_p``);
2. solves the Newton (SQP) system of the KKT conditions with the active rows as
   equalities, ``[[B, G_A^T], [G_A, 0]] (dx, lam+, mu_A+) = -(grad f, h, g_A)`` with
   ``G_A = (grad h; grad g_A)``, ``B`` the Lagrangian Hessian shifted to be positive
   definite on null(G_A), and drives the inactive multipliers to zero
   (``dmu_I = -mu_I``); the linear system is solved like eal's equality system (option
   ``kkt_solver``: randomized sketching, finished by a direct least-squares solve when
   the sketch misses its accuracy, or ``"direct"``);
3. backtracks (Armijo) on the exact augmented Lagrangian

       Phi = f + lam^T h + mu_p/2 ||h||^2 + sum_i (max(0, mu_i + mu_p g_i)^2 - mu_i^2) / (2 mu_p)
             + nu/2 ||grad_x L||^2 + nu/2 ||g o mu||^2

   (``L = f + lam^T h + mu^T g``; the first line is the Rockafellar augmented
   Lagrangian of the inequalities, the second the terms that make it exact in the
   multipliers). When the step is not a descent direction of Phi, ``mu_p <- rho^2 mu_p``
   and ``nu <- nu / rho`` and the step is recomputed (the active set depends on mu_p).
   With variable bounds and option ``keep_in_bounds`` (default off) each trial point is
   projected onto the box, and the Armijo test uses the merit's linear decrease along
   the projection arc, ``grad Phi . (P(x + alpha dx) - x, alpha dlam, alpha dmu)``
   (Bertsekas' rule for projected paths); when that is not a decrease (the active-set
   system, singular at a degenerate vertex, was solved in least squares and its step
   pushes out of the box), the step is halved: the objective and constraints are
   evaluated inside the bounds (the Hessian differences step
   ``fd_step`` past them), as they must be where a function is undefined outside. (Not
   the default: on the CUTEst general set it solved 339 problems instead of 343 with 30%
   fewer evaluations; trying the straight point after a failed projected one solved 343,
   a different 7 gained and 7 lost, with 7% more evaluations. docs/eal.md.)

Simplifications with respect to the paper (stated in docs/eal.md): the paper's factor
``q_nu(x, mu)`` (which keeps the penalty finite on a bounded region and makes the level
sets of Phi compact) is fixed to 1, so ``eps = 1 / mu_p``; no stochastic gradients;
near a KKT point the full step is taken when it halves the KKT residual (the merit
slope is lost in rounding there), as in eal's equality path.

Results. ``multipliers``: one entry per constraint row, in the order the constraints
were given, for the Lagrangian ``f + y^T c(x) + z^T x``: ``y_j >= 0`` when row ``j`` is at
its upper bound, ``y_j <= 0`` at its lower bound (a scipy ``{"type": "ineq"}`` row,
``fun(x) >= 0``, has ``y_j <= 0``), 0 when strictly inside, any sign for an equality.
``bound_multipliers``: ``z`` (one per variable, same convention: ``z_i >= 0`` at the
upper bound, ``<= 0`` at the lower). Stationarity: ``grad f + J^T y + z = 0``.

Optimality measure: the KKT residual ``max(||grad f + J^T y + z||_inf, ||h||_inf,
||max(g, 0)||_inf, ||max(-mu, 0)||_inf, ||mu o g||_inf)`` (stationarity, primal
feasibility, dual sign, complementarity), NaN-propagating. ``constraint_violation``:
``max(||h||_inf, ||max(g, 0)||_inf)``. Iterates are not kept feasible (with
``keep_in_bounds``, only for the bounds): the returned ``x`` satisfies the constraints
and bounds to within the KKT residual.
"""
from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np

from .._loop import Step
from ._eal_feasibility import (feasibility_budget, restoration_due, restoration_message, slow_progress,
                               solve_feasibility)
from .eal import (Stall, _cap_scale, _damped_bfgs, _dense, _inf_norm, _nonfinite, _shift_for_nullspace, _solve_kkt,
                  _step_radius, bfgs_first, has_exact_hessians, hessian_mode, restart_penalties,
                  switch_to_differences)

__all__ = ["eal_ineq"]


def _nanmax(*vals):
    """max of the inf-norms, NaN when any entry is NaN (Python's max would drop it)."""
    return float(np.max([_inf_norm(v) for v in vals]))


class _Form:
    """The standard form h(x) = 0, g(x) <= 0 of ``lb <= c(x) <= ub, xl <= x <= xu``."""

    def __init__(self, problem, x0, opts):
        import scipy.sparse as sp

        self.f, self.c = problem.objective, problem.constraints
        n = x0.size
        if self.c is None:
            lb = ub = np.zeros(0)
        elif hasattr(self.c, "row_bounds"):
            lb, ub = self.c.row_bounds(x0)
        else:  # an equality oracle c(x) = 0
            lb = ub = np.zeros(np.asarray(self.c.value(x0)).size)
        self.m, self.n = lb.size, n
        if self.m:
            J0 = self.c.jacobian(x0)
            if sp.issparse(J0) and n + self.m > opts["dense_limit"]:
                raise ValueError(f"the constraint Jacobian is a sparse {self.m} x {n} matrix, but eal forms dense "
                                 f"KKT matrices and n + m = {n + self.m} exceeds dense_limit = "
                                 f"{opts['dense_limit']} (raise the option if the dense matrix fits in memory)")
        box = problem.bounds
        xl = np.full(n, -np.inf) if box is None else np.asarray(box.lower, dtype=float).ravel()
        xu = np.full(n, np.inf) if box is None else np.asarray(box.upper, dtype=float).ravel()
        eq = lb == ub
        self.E = np.flatnonzero(eq)
        self.U = np.flatnonzero(~eq & np.isfinite(ub))
        self.L = np.flatnonzero(~eq & np.isfinite(lb))
        self.BU, self.BL = np.flatnonzero(np.isfinite(xu)), np.flatnonzero(np.isfinite(xl))
        self.lb, self.ub, self.xl, self.xu = lb, ub, xl, xu
        self.keep = bool(opts["keep_in_bounds"]) and bool(np.any(np.isfinite(xl)) or np.any(np.isfinite(xu)))
        self.p = self.U.size + self.L.size + self.BU.size + self.BL.size
        eye = np.eye(n)
        self.Jb = np.vstack([eye[self.BU], -eye[self.BL]])

    def at(self, x):
        """(f, grad f, c, J) at x; the last evaluation is remembered (the accepted trial
        point of the line search is the next iterate)."""
        last = getattr(self, "_last", None)
        if last is not None and np.array_equal(last[0], x):
            return last[1]
        val = getattr(self, "_last_values", None)
        if val is not None and np.array_equal(val[0], x):  # values known: derivatives only
            (fx, cx), gx = val[1], self.f.grad(x)
        else:
            fx, gx = self.f.value_and_grad(x)
            cx = None
        if not self.m:
            out = fx, gx, np.zeros(0), np.zeros((0, self.n))
        else:
            J = _dense(self.c.jacobian(x), (self.m, self.n), "constraint Jacobian")  # first: see eal._Oracles
            out = fx, gx, np.asarray(self.c.value(x), dtype=float).ravel() if cx is None else cx, J
        self._last = (np.array(x, copy=True), out)
        return out

    def values(self, x):
        """(f, c) at x without derivatives (the line search's screen); remembered like
        :meth:`at`."""
        last = getattr(self, "_last", None)
        if last is not None and np.array_equal(last[0], x):
            return last[1][0], last[1][2]
        fx = self.f.value(x)
        cx = np.asarray(self.c.value(x), dtype=float).ravel() if self.m else np.zeros(0)
        self._last_values = (np.array(x, copy=True), (fx, cx))
        return fx, cx

    def proj(self, x):
        """x projected onto the variable bounds (option ``keep_in_bounds``), else x."""
        return np.clip(x, self.xl, self.xu) if self.keep else x

    def c_value(self, x):
        return np.asarray(self.c.value(x), dtype=float).ravel()

    def c_jacobian(self, x):
        return _dense(self.c.jacobian(x), (self.m, self.n), "constraint Jacobian")

    def hg_values(self, x, cx):
        """(h, g)."""
        g = np.concatenate([cx[self.U] - self.ub[self.U], self.lb[self.L] - cx[self.L],
                            x[self.BU] - self.xu[self.BU], self.xl[self.BL] - x[self.BL]])
        return cx[self.E] - self.lb[self.E], g

    def hg(self, x, cx, J):
        """(h, J_h, g, J_g)."""
        h, g = self.hg_values(x, cx)
        Jg = np.vstack([J[self.U], -J[self.L], self.Jb])
        return h, J[self.E], g, Jg

    def split(self, lam, mu):
        """(y, z): row multipliers of c and bound multipliers of x (module docstring)."""
        y, z = np.zeros(self.m), np.zeros(self.n)
        y[self.E] = lam
        k = 0
        for idx, sign, tgt in ((self.U, 1.0, y), (self.L, -1.0, y), (self.BU, 1.0, z), (self.BL, -1.0, z)):
            np.add.at(tgt, idx, sign * mu[k:k + idx.size])
            k += idx.size
        return y, z

    def grad_L(self, x, y, z):
        gx = self.f.grad(x)
        if self.m:
            gx = gx + _dense(self.c.jacobian(x), (self.m, self.n), "constraint Jacobian").T @ y
        return gx + z


def _hessian(form, x, y, z, gl, qn, opts):
    """(H, H grad_x L): exact, central differences of grad_x L, or the BFGS matrix ``qn``."""
    n, h = x.size, opts["fd_step"]
    if qn is not None:
        hh = h * max(1.0, np.linalg.norm(x)) / max(np.linalg.norm(gl), 1e-300)
        return qn, (form.grad_L(x + hh * gl, y, z) - form.grad_L(x - hh * gl, y, z)) / (2 * hh)
    f, c = form.f, form.c
    if has_exact_hessians(f, c if form.m else None) and opts["hessian"] != "fd":
        H = _dense(f.hess(x), (n, n), "objective Hessian")
        if form.m:
            H = H + _dense(c.hess(x, y), (n, n), "constraint Hessian")
        return H, H @ gl
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = h * max(1.0, abs(x[i]))
        H[:, i] = (form.grad_L(x + e, y, z) - form.grad_L(x - e, y, z)) / (2 * e[i])
    H = 0.5 * (H + H.T)
    return H, H @ gl


def _merit_parts(fx, h, g, lam, mu, st):
    """Phi's terms from values: ``(f + lam^T h + mu_p/2 ||h||^2 + sum_i (max(0, mu_i + mu_p
    g_i)^2 - mu_i^2) / (2 mu_p), ||g o mu||^2)``; Phi adds ``nu/2 (||grad_x L||^2 + ||g o
    mu||^2)`` to the first."""
    t = np.maximum(0.0, mu + st.mu * g)
    gm = g * mu
    return fx + lam @ h + 0.5 * st.mu * h @ h + (t @ t - mu @ mu) / (2 * st.mu), gm @ gm


def _merit_floor(form, x, lam, mu, st):
    """Phi without its ``nu/2 ||grad_x L||^2`` term, a lower bound of Phi from values
    only (no gradient or Jacobian); inf when an oracle fails or is not finite."""
    try:
        fx, cx = form.values(x)
    except (FloatingPointError, OverflowError, ValueError, ZeroDivisionError):
        return np.inf
    base, gm2 = _merit_parts(fx, *form.hg_values(x, cx), lam, mu, st)
    phi = base + 0.5 * st.nu * gm2
    return phi if np.isfinite(phi) else np.inf


def _merit(form, x, lam, mu, st):
    """Phi (module docstring); inf when an oracle fails or is not finite."""
    try:
        fx, gx, cx, J = form.at(x)
    except (FloatingPointError, OverflowError, ValueError, ZeroDivisionError):
        return np.inf
    h, Jh, g, Jg = form.hg(x, cx, J)
    gl = gx + Jh.T @ lam + Jg.T @ mu
    base, gm2 = _merit_parts(fx, h, g, lam, mu, st)
    phi = base + 0.5 * st.nu * (gl @ gl + gm2)
    return phi if np.isfinite(phi) else np.inf


def _merit_grad(st, S):
    """grad Phi = (d/dx, d/dlam, d/dmu) at the iterate (S: the quantities there)."""
    t = np.maximum(0.0, S.mu + st.mu * S.g)
    gx = (S.gx + S.Jh.T @ (S.lam + st.mu * S.h) + S.Jg.T @ t + st.nu * S.Hgl
          + st.nu * (S.Jg.T @ (S.g * S.mu * S.mu)))
    glam = S.h + st.nu * (S.Jh @ S.gl)
    gmu = (t - S.mu) / st.mu + st.nu * (S.Jg @ S.gl) + st.nu * S.g * S.g * S.mu
    return gx, glam, gmu


def _merit_slope(st, d, S):
    """grad Phi . d for d = (dx, dlam, dmu), and ||grad Phi||."""
    G = _merit_grad(st, S)
    return float(sum(gi @ di for gi, di in zip(G, d))), float(np.sqrt(sum(gi @ gi for gi in G)))


def _newton(S, st, opts, rng):
    """The active-set SQP step (dx, dlam, dmu) and the active set, or a stop."""
    n, ne = S.x.size, S.h.size
    act = S.mu + st.mu * S.g >= 0
    GA = np.vstack([S.Jh, S.Jg[act]])
    # curvature floor ||grad_x L|| / Delta: a null-space step of at most ~Delta where the
    # Hessian is flat (linear objective), min_curvature itself near a KKT point
    radius = _step_radius(S.x, opts["max_step"])
    tau, _ = _shift_for_nullspace(S.H, GA, max(opts["min_curvature"], float(np.linalg.norm(S.gl)) / radius))
    k = GA.shape[0]
    K = np.block([[S.H + tau * np.eye(n), GA.T], [GA, np.zeros((k, k))]])
    glA = S.gl - S.Jg[~act].T @ S.mu[~act]  # inactive multipliers go to zero
    rhs = -np.concatenate([glA, S.h, S.g[act]])
    # the sketch starts from 0, not from the last step: active-set KKT matrices are often
    # singular (more active rows than variables at a degenerate vertex), where a projection
    # method started from 0 returns the minimum-norm solution, as a least-squares solve does,
    # and one started from the last step the solution closest to it, which drifts (CUTEst
    # general set: MADSSCHJ 432 evaluations instead of a time limit, CRESC4, ZAMB2m8)
    z, its, _, _ = _solve_kkt(K, rhs, opts, rng, None, min(st.delta, S.kkt) if opts["sharpen"] else st.delta)
    st.nsketch += its
    if not np.all(np.isfinite(z)):
        return None, (5, "KKT solve produced non-finite values (singular KKT matrix?)")
    dmu = -S.mu.copy()
    dmu[act] = z[n + ne:]
    d = (z[:n], z[n:n + ne], dmu)
    # a step of zero-curvature directions (B = tau I with a tiny tau) is capped: scaling
    # keeps a descent direction, and near a KKT point the steps are far below the cap
    scale = _cap_scale(d[0], radius)
    if scale < 1.0:
        d = tuple(v * scale for v in d)
    return d, None


def _state(form, x, lam, mu, fx, gx, cx, J):
    h, Jh, g, Jg = form.hg(x, cx, J)
    gl = gx + Jh.T @ lam + Jg.T @ mu
    y, z = form.split(lam, mu)
    kkt = _nanmax(gl, h, np.maximum(g, 0), np.maximum(-mu, 0), g * mu)
    return SimpleNamespace(x=x, lam=lam, mu=mu, fx=fx, gx=gx, cx=cx, J=J, h=h, Jh=Jh, g=g, Jg=Jg, gl=gl, y=y, z=z,
                           kkt=kkt, viol=_nanmax(h, np.maximum(g, 0)))


def _direction(form, S, st, opts, rng):
    """A descent direction of Phi (adjusting mu_p, nu), its slope, or (None, None, stop)
    when none is found; (d, None, None) asks for the local (full Newton) step."""
    d, entry = None, (st.mu, st.nu)
    for _ in range(opts["max_adjust"]):
        if time.perf_counter() > st.deadline:
            return None, None, (3, "Time limit (max_time) reached during the KKT solves.")
        d, stop = _newton(S, st, opts, rng)
        if stop is not None:
            return None, None, stop
        slope, gnorm = _merit_slope(st, d, S)
        dn = float(np.sqrt(sum(v @ v for v in d)))
        if slope < -1e-14 * max(1.0, gnorm * dn):
            return d, slope, None
        st.mu *= opts["rho"] ** 2
        st.nu /= opts["rho"]
        if st.mu > opts["mu_max"]:
            st.mu_max_hit = True
            break
    if opts["steepest_fallback"]:
        # no SQP direction descends: the negative merit gradient at the entry penalties
        # (a descent direction of Phi whenever grad Phi != 0; the line search then applies)
        st.mu, st.nu = entry
        G = _merit_grad(st, S)
        sd = tuple(-gi for gi in G)
        slope = -float(sum(gi @ gi for gi in G))
        if slope < 0:
            st.mu_max_hit = False
            return sd, slope, None
    return d, None, None


def _search(form, S, st, d, slope, opts):
    """Armijo backtracking on Phi by halving. (The equality path's interpolated trial steps,
    :func:`numopt._linesearch.backtrack_step`, were measured here too: 41% fewer evaluations
    on the CUTEst general set but 324 solved instead of 325 there and 77 instead of 79 on the
    HS inequality set; Phi's max(0, .) terms are not twice differentiable where the active
    set changes, which the cubic model assumes.) Near a KKT point Phi's decrease is below its
    rounding error: the full step is then also accepted when Phi does not grow beyond
    rounding (1000 eps (1 + |Phi|)) and the KKT residual halves."""
    phi0 = _merit(form, S.x, S.lam, S.mu, st)
    G = _merit_grad(st, S) if form.keep else None
    alpha = 1.0
    for k in range(opts["max_linesearch"]):
        xt, proj, lin = S.x + alpha * d[0], False, alpha * slope
        if form.keep:
            xp = form.proj(xt)
            if not np.array_equal(xp, xt):
                # the projected path's linear decrease (Bertsekas' Armijo rule along the
                # projection arc); when it does not descend, a shorter step (the straight
                # trial point is outside the box, where the functions are not evaluated)
                lin_p = float(G[0] @ (xp - S.x)) + alpha * float(G[1] @ d[1] + G[2] @ d[2])
                if not lin_p < 0:
                    alpha *= 0.5
                    continue
                xt, proj, lin = xp, True, lin_p
        # after the full step, a trial point that fails the test on the lower bound of Phi
        # from values alone is rejected without its gradient and Jacobian (same decisions)
        if k and not _merit_floor(form, xt, S.lam + alpha * d[1], S.mu + alpha * d[2], st) <= (
                phi0 + opts["beta"] * lin):
            alpha *= 0.5
            continue
        phi = _merit(form, xt, S.lam + alpha * d[1], S.mu + alpha * d[2], st)
        if phi <= phi0 + opts["beta"] * lin:
            return alpha, proj
        if k == 0 and phi <= phi0 + 1e3 * np.finfo(float).eps * (1.0 + abs(phi0)):
            if _state(form, xt, S.lam + d[1], S.mu + d[2], *form.at(xt)).kkt < 0.5 * S.kkt:
                return alpha, proj
        alpha *= 0.5
    return None, False


def _start(form, x, opts):
    fx, gx, cx, J = form.at(x)
    for val, what in ((gx, "the objective gradient (`jac`)"), (cx, "the constraint function"),
                      (J, "the constraint Jacobian")):
        if not np.all(np.isfinite(val)):
            raise ValueError(f"{what} at x0 contains NaN or inf")
    f, c = form.f, form.c
    has_exact = has_exact_hessians(f, c if form.m else None)
    if opts["hessian"] == "exact" and not has_exact:
        raise ValueError("hessian='exact' needs the objective's Hessian and the constraints' second derivatives "
                         "(NonlinearConstraint(hess=...) or a 'hess' entry)")
    return fx, gx, cx, J


class _Fixed:
    """The problem over the free variables only, the fixed ones (``xl == xu``, finite) held
    at their value, as IPOPT does by default (``fixed_variable_treatment``): a fixed
    variable kept as the two bound rows ``x_i <= u_i``, ``-x_i <= -u_i`` makes every
    point degenerate (their gradients are opposite, LICQ fails) and the active-set
    systems singular. :meth:`expand` maps a step of the reduced run back to all ``n``
    variables; the bound multiplier of a fixed variable is the stationarity residual
    ``-(grad f + J^T y)_i``, of either sign, so the KKT residual is unchanged."""

    def __init__(self, problem, fixed):
        from ..oracles import Problem
        from ..sets import Box

        self.full, self.fixed, self.free = problem, fixed, ~fixed
        self.n = fixed.size
        self.value_fixed = np.asarray(problem.bounds.lower, dtype=float).ravel()[fixed]
        self.last = {}  # full gradient / Jacobian at the last full point they were computed at
        xl = np.asarray(problem.bounds.lower, dtype=float).ravel()[self.free]
        xu = np.asarray(problem.bounds.upper, dtype=float).ravel()[self.free]
        self.problem = Problem(objective=_FixedObjective(self), x0=None,
                               constraints=None if problem.constraints is None else _FixedConstraints(self),
                               bounds=Box(xl, xu))

    def embed(self, z):
        x = np.empty(self.n)
        x[self.free] = z
        x[self.fixed] = self.value_fixed
        return x

    def remember(self, key, x, value):
        self.last[key] = (np.array(x, copy=True), value)
        return value

    def recall(self, key, x, compute):
        hit = self.last.get(key)
        if hit is not None and np.array_equal(hit[0], x):
            return hit[1]
        return self.remember(key, x, compute(x))

    def expand(self, step):
        """The step of the reduced run in all n variables (in place)."""
        x = self.embed(np.asarray(step.x, dtype=float))
        g = self.recall("grad", x, self.full.objective.grad)
        r = np.array(g, dtype=float, copy=True)
        y = step.extras.get("multipliers")
        if self.full.constraints is not None and y is not None and np.size(y):
            r = r + _dense(self.recall("jac", x, self.full.constraints.jacobian), (np.size(y), self.n),
                           "constraint Jacobian").T @ y
        z = np.zeros(self.n)
        zr = step.extras.get("bound_multipliers")
        if zr is not None:
            z[self.free] = zr
        z[self.fixed] = -r[self.fixed]
        step.extras["bound_multipliers"] = z
        step.x = x.astype(np.asarray(step.x).dtype, copy=False)
        step.jac = np.asarray(g).astype(step.x.dtype, copy=False)
        return step


class _FixedPart:
    """An oracle of the problem over the free variables (``kind``: "objective" or
    "constraints" of the full problem)."""

    kind = ""

    def __init__(self, red):
        self.red = red

    @property
    def full(self):
        return getattr(self.red.full, self.kind)

    def has(self, name):
        return self.full.has(name) if hasattr(self.full, "has") else callable(getattr(self.full, name, None))

    def _free_block(self, H, what):
        idx = np.flatnonzero(self.red.free)
        return _dense(H, (self.red.n, self.red.n), what)[np.ix_(idx, idx)]


class _FixedObjective(_FixedPart):
    kind = "objective"

    def value(self, z):
        return self.full.value(self.red.embed(z))

    def grad(self, z):
        x = self.red.embed(z)
        return self.red.remember("grad", x, self.full.grad(x))[self.red.free]

    def value_and_grad(self, z):
        x = self.red.embed(z)
        fx, g = self.full.value_and_grad(x)
        return fx, self.red.remember("grad", x, g)[self.red.free]

    def hess(self, z):
        return self._free_block(self.full.hess(self.red.embed(z)), "objective Hessian")


class _FixedConstraints(_FixedPart):
    kind = "constraints"

    def value(self, z):
        return self.full.value(self.red.embed(z))

    def jacobian(self, z):
        x = self.red.embed(z)
        return self.red.remember("jac", x, self.full.jacobian(x))[:, np.flatnonzero(self.red.free)]

    def hess(self, z, y):
        return self._free_block(self.full.hess(self.red.embed(z), y), "constraint Hessian")

    def row_bounds(self, z):
        c = self.red.full.constraints
        if hasattr(c, "row_bounds"):
            return c.row_bounds(self.red.embed(z))
        m = np.asarray(c.value(self.red.embed(z))).size  # an equality oracle c(x) = 0
        return np.zeros(m), np.zeros(m)


def _fixed_variables(problem):
    """Mask of the variables fixed by their bounds (``xl == xu``, finite), or None."""
    if problem.bounds is None:
        return None
    xl = np.asarray(problem.bounds.lower, dtype=float).ravel()
    xu = np.asarray(problem.bounds.upper, dtype=float).ravel()
    if xl.size == 1 or xl.size != xu.size:
        return None
    fixed = np.isfinite(xl) & (xl == xu)
    return fixed if fixed.any() and not fixed.all() else None


def eal_ineq(problem, x0, opts):
    """The generator of eal with inequality constraints and/or bounds (module docstring)."""
    from .._options import generator

    if problem.constraints is None and problem.bounds is None:
        raise ValueError("method 'eal' needs `constraints` (or `bounds`)")
    fixed = _fixed_variables(problem)
    if fixed is not None and opts["fixed_variables"] == "eliminate":
        red = _Fixed(problem, fixed)
        gen = eal_ineq(red.problem, np.asarray(x0)[~fixed], opts)
        while True:  # bounded by the reduced run (run_loop's maxiter)
            try:
                step = next(gen)
            except StopIteration as stop:
                return stop.value
            yield red.expand(step)
    out_dtype = np.asarray(x0).dtype
    x = np.asarray(x0, dtype=float).copy()
    rng = generator(opts["rng"])
    form = _Form(problem, x, opts)
    fx, gx, cx, J = _start(form, x, opts)
    h, Jh, g, Jg = form.hg(x, cx, J)
    lam = -np.linalg.lstsq(Jh.T, gx, rcond=None)[0] if h.size else np.zeros(0)
    mu = np.zeros(form.p)
    st = SimpleNamespace(mu=opts["mu0"], nu=opts["nu0"], delta=opts["delta0"], nsketch=0, mu_max_hit=False,
                         deadline=time.perf_counter() + opts["max_time"])
    exact = has_exact_hessians(form.f, form.c if form.m else None)
    switchable = bfgs_first(opts, exact)
    qn = np.eye(x.size) if opts["hessian"] == "bfgs" or switchable else None
    stall = Stall(opts["stall_window"], opts["stall_factor"])
    slow = Stall(opts["restore_window"] or 0, opts["stall_factor"])  # slow-progress restoration (default off)
    ctol = opts["tol"] if opts["constr_viol_tol"] is None else opts["constr_viol_tol"]
    alpha, it, restorations = 0.0, 0, 0
    h0, _, g0, _ = form.hg(x, cx, J)
    # more equality rows than variables: bounded least squares on the constraints first
    restore_now = form.E.size > x.size and not _nanmax(h0, np.maximum(g0, 0)) <= ctol and opts["max_restorations"] > 0
    while True:  # bounded by run_loop's maxiter and max_restorations
        S = _state(form, x, lam, mu, fx, gx, cx, J)
        yield Step(x.astype(out_dtype, copy=True), fx, S.kkt, jac=gx, stop_ok=not S.viol > ctol,
                   multipliers=S.y, bound_multipliers=S.z,
                   constraint_violation=S.viol, stationarity=_inf_norm(S.gl), mu=st.mu, nu=st.nu,
                   nsketch=st.nsketch, step_size=alpha, n_active=int(np.sum(mu + st.mu * S.g >= 0)),
                   hessian=hessian_mode(qn, exact, opts))
        stop, soft = None, False
        if not restore_now:
            stop = stall(S.kkt, fx, not S.viol > ctol)
            soft = (stop is None and form.m > 0
                    and slow_progress(slow, S.kkt, S.viol, ctol, restorations, opts["max_restorations"]))
            if stop is None and not soft:
                it += 1
                new, stop = _iteration(form, S, st, (x, lam, mu), qn, opts, rng, it)
                if stop is None:
                    x, lam, mu, fx, gx, cx, J, qn, alpha = new
                    continue
        if switch_to_differences(stop, qn, switchable):  # BFGS is stuck: Hessians by differences from here
            qn, switchable, st.mu_max_hit = None, False, False
            restart_penalties(st, opts, stall, slow)
            continue
        if not form.m or not (soft or restoration_due(restore_now, stop, S.viol, ctol, restorations,
                                                      opts["max_restorations"])):
            return stop
        # restoration: constraints violated and the method stuck (or more equality rows than
        # variables at the start)
        at_start, restore_now, restorations = restore_now, False, restorations + 1
        x_ls, outcome, msg = solve_feasibility(form.c_value, form.c_jacobian, x, ctol, st.deadline,
                                               feasibility_budget(x.size), lb=form.lb, ub=form.ub,
                                               xl=form.xl, xu=form.xu)
        new = form.at(x_ls)
        Sn = _state(form, x_ls, lam, np.zeros(form.p), *new)
        if outcome == "feasible" or (at_start and outcome == "unknown" and Sn.viol < S.viol):
            x, (fx, gx, cx, J) = x_ls, new
            h, Jh, _, _ = form.hg(x, cx, J)
            lam = -np.linalg.lstsq(Jh.T, gx, rcond=None)[0] if h.size else np.zeros(0)
            mu = np.zeros(form.p)
            st.mu_max_hit = False
            restart_penalties(st, opts, stall, slow)
            continue
        if (at_start and outcome == "unknown") or soft:  # go on where it was
            if soft:  # no second slow-progress phase: it would start from the same region
                slow.window = 0
            stall.clear()
            slow.clear()
            continue
        if outcome == "infeasible" or Sn.viol < S.viol:  # report the point closest to feasible
            yield Step(x_ls.astype(out_dtype, copy=True), new[0], Sn.kkt, jac=new[1], stop_ok=False,
                       multipliers=Sn.y, bound_multipliers=Sn.z, constraint_violation=Sn.viol,
                       stationarity=_inf_norm(Sn.gl), mu=st.mu, nu=st.nu, nsketch=st.nsketch, step_size=alpha,
                       n_active=0, hessian=hessian_mode(qn, exact, opts))
        return 5, restoration_message(stop, outcome, msg)


def _iteration(form, S, st, point, qn, opts, rng, it):
    """One active-set SQP step with its merit line search: ``((x, lam, mu, f, g, c, J,
    qn, alpha), None)`` or ``(None, (status, message))``."""
    x, lam, mu = point
    S.H, S.Hgl = _hessian(form, x, S.y, S.z, S.gl, qn, opts)
    if not (np.all(np.isfinite(S.H)) and np.all(np.isfinite(S.Hgl))):
        return None, (2, f"non-finite Lagrangian Hessian at iteration {it}; returning the last finite iterate")
    d, slope, stop = _direction(form, S, st, opts, rng)
    if stop is not None:
        return None, stop
    proj = form.keep  # the full step below, projected with keep_in_bounds
    if slope is None:  # no descent: the full step when it halves the KKT residual
        alpha = 1.0
    else:
        alpha, proj = _search(form, S, st, d, slope, opts)
        if alpha is None:
            return None, (5, f"line search failed on the merit function (constraint violation {S.viol:.2e}); "
                             "the constraints may be infeasible")
        if alpha < 0.1:
            # short steps: near a stationary point of Phi that is not a KKT point (the
            # nu/2 ||grad_x L||^2 term is too strong where the Hessian is indefinite)
            st.nu /= opts["rho"]
            st.mu *= opts["rho"] ** opts["tiny_mu_power"]
    xn, ln, mn = x + alpha * d[0], lam + alpha * d[1], mu + alpha * d[2]
    if proj:
        xn = form.proj(xn)
    new = form.at(xn)
    bad = _nonfinite(*new, f"at the step of iteration {it}")
    if bad:
        return None, bad
    if slope is None:
        Sn = _state(form, xn, ln, mn, *new)
        if not Sn.kkt < 0.5 * S.kkt:
            if st.mu_max_hit:
                return None, (5, f"the penalty parameter exceeded mu_max = {opts['mu_max']:.0e} without a descent "
                                 f"direction (constraint violation {S.viol:.2e}): the constraints are likely "
                                 "infeasible (or not regular at the limit point)")
            return None, (5, "no descent direction for the merit function after adjusting the penalties")
    if qn is not None:
        yn, zn = form.split(ln, mn)
        qn = _damped_bfgs(qn, xn - x, form.grad_L(xn, yn, zn) - form.grad_L(x, yn, zn))
    return (xn, ln, mn, *new, qn, alpha), None
