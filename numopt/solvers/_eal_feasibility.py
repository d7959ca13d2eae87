"""Feasibility phase of ``eal``: least squares on the constraints.

``eal`` runs it (at most ``max_restorations`` times per run)

* at the start when there are more equality rows than variables (m > n): the constraint
  Jacobian cannot have full row rank, so the constraint qualification behind the exact
  augmented Lagrangian (and SQP / interior-point methods: IPOPT refuses such problems,
  "too few degrees of freedom") fails at every point; such a system is consistent only by
  accident of its data (BEALENE, EXP2NE in S2MPJ) and usually has no solution at all (the
  ``NE`` versions of the NIST least-squares problems);
* as a restoration, when the iteration stops (stall, ``mu_max``, failed line search,
  unsolvable KKT system) with the constraints violated, or makes no progress on its KKT
  residual for ``restore_window`` iterations with the constraints violated (a phase whose
  only use is a feasible point: otherwise the iteration goes on where it was).

It minimizes the squared violation of ``lb <= c(x) <= ub``, ``xl <= x <= xu`` with scipy's
trust-region-reflective least-squares solver (:func:`scipy.optimize.least_squares`,
Branch, Coleman & Li 1999) in ``(x, s)``, a slack ``s_j`` per inequality row kept in its
bounds, fixed variables left out:

* the violation reaches ``constr_viol_tol``: ``eal`` goes on from that point (its KKT
  solves fall back to least squares, so a rank deficiency does no harm);
* the solver's first-order measure (``||J^T r||_inf`` without bounds, scaled by the
  distances to the bounds with them) is below ``1e-6 ||J||_2 ||r||_2`` (or, where the
  solver stopped, below ``1e-6 ||r||_2``: the Jacobian may vanish with the violation's
  gradient, as for ``x^2 + 1 = 0`` at 0) with a violation
  above the tolerance: a certificate of local infeasibility; the run ends with status 5
  and that point (the constraints' least-squares point) as ``x``;
* the evaluation budget or ``max_time`` runs out first: status 5, "no feasible point found".

The feasibility test runs at every point where the solver evaluates the Jacobian (its
accepted iterates), and so does the infeasibility test when nothing is bounded (no
inequality rows, no finite variable bounds): the phase stops at the first certificate
instead of polishing the least-squares point to the solver's own tolerances (1e-15);
eal's runs on the 65 over-determined problems of the CUTEst equality set took 87 s instead
of 96 s in all (2026-12-06, same results). With bounds the infeasibility test waits for the
solver's own stop: applied at every iterate it stopped S2MPJ's LOOTSMA at a stationary
corner of the box (slacks 1e-10 from their bounds) from which least_squares goes on to a
feasible point.
"""
from __future__ import annotations

import time

import numpy as np

#: relative first-order measure (least_squares' optimality / (||J||_2 ||r||_2)) that
#: certifies local infeasibility
INFEASIBLE_RTOL = 1e-6
#: ... or, where the Jacobian itself vanishes (c = x^2 + 1 at x = 0: J^T r / (||J|| ||r||) = 1),
#: optimality / ||r||_2 below this, at the point where least_squares stopped. There the gradient
#: of ||c|| is known only to about sqrt(eps) (a quadratic's minimizer is determined to
#: sqrt(eps): 2e-9 to 2e-8 measured on that example, depending on the path): 1e-6 leaves a
#: margin over that floor (it was 1.5e-8, on the floor itself)
FLAT_RTOL = 1e-6


class _OutOfTime(Exception):
    pass


class _NonFinite(Exception):
    pass


class _Stop(Exception):
    """A certificate (feasible point or local infeasibility) at ``z`` with residual ``r``,
    Jacobian ``J`` and constraint values ``c``."""

    def __init__(self, z, r, J, c):
        super().__init__()
        self.z, self.r, self.J, self.c = z, r, J, c


def _grad_inf(r, J):
    """``||J^T r||_inf``, the first-order measure of the unbounded squared residual."""
    return float(np.max(np.abs(J.T @ r))) if J.shape[1] else 0.0


def _relative_optimality(opt, r, J):
    """``opt / (||J||_2 ||r||_2)``: the first-order measure ``opt`` of the squared residual
    relative to its scale (inf at ``r = 0``); the 2-norm is computed only when the cheaper
    Frobenius bound ``||J||_2 <= ||J||_F`` leaves the certificate possible."""
    rn = float(np.linalg.norm(r))
    if not rn > 0:
        return np.inf
    if opt > INFEASIBLE_RTOL * float(np.linalg.norm(J)) * rn:
        return opt / (float(np.linalg.norm(J)) * rn)  # not certified either way
    return opt / max(float(np.linalg.norm(J, 2)) * rn, 1e-300)


def solve_feasibility(value, jac, x, ctol, deadline, max_nfev, *, lb=None, ub=None, xl=None, xu=None):
    """Find a point with ``lb <= c(x) <= ub`` (``c(x) = 0`` when ``lb``, ``ub`` are None)
    and ``xl <= x <= xu`` from ``x``: bounded least squares in ``(x, s)`` on the residual
    ``(c_E(x) - lb_E, c_I(x) - s)``, ``s`` a slack per inequality row kept in
    ``[lb_I, ub_I]``. ``value``/``jac`` give ``c(x)`` and its dense Jacobian. Returns
    ``(x, outcome, message)``, outcome ``"feasible"`` (violation <= ``ctol``),
    ``"infeasible"`` (a certified stationary point of the squared residual with a
    violation > ctol) or ``"unknown"``."""
    from scipy.optimize import least_squares

    c0 = np.asarray(value(x), dtype=float).ravel()
    m, n = c0.size, x.size
    lb = np.zeros(m) if lb is None else np.asarray(lb, dtype=float)
    ub = np.zeros(m) if ub is None else np.asarray(ub, dtype=float)
    xl = np.full(n, -np.inf) if xl is None else np.asarray(xl, dtype=float)
    xu = np.full(n, np.inf) if xu is None else np.asarray(xu, dtype=float)
    E, I = np.flatnonzero(lb == ub), np.flatnonzero(lb != ub)
    F = np.flatnonzero(xl < xu)  # fixed variables (xl == xu) stay at their value
    k, nF = I.size, F.size
    x0 = np.clip(x, xl, xu)
    if not np.all(np.isfinite(c0)):
        return x, "unknown", "non-finite constraint value at the start of the feasibility phase"

    def full(z):
        xf = x0.copy()
        xf[F] = z[:nF]
        return xf

    last = {}
    zl = np.concatenate([xl[F], lb[I]])
    zu = np.concatenate([xu[F], ub[I]])
    bounded = bool(np.any(np.isfinite(zl)) or np.any(np.isfinite(zu)))

    def resid(z):
        if time.perf_counter() > deadline:
            raise _OutOfTime
        c = np.asarray(value(full(z)), dtype=float).ravel()
        if not np.all(np.isfinite(c)):
            raise _NonFinite
        r = np.concatenate([c[E] - lb[E], c[I] - z[nF:]])
        last.update(z=np.array(z, copy=True), r=r, c=c)
        return r

    def jacobian(z):
        J = jac(full(z))
        if not np.all(np.isfinite(J)):
            raise _NonFinite
        Jz = np.block([[J[E][:, F], np.zeros((E.size, k))], [J[I][:, F], -np.eye(k)]])
        if "z" in last and np.array_equal(last["z"], z):  # an accepted point: its certificates
            r = last["r"]
            # the slacks are inside their bounds, so |r| bounds the violation
            if not (r.size and float(np.max(np.abs(r))) > ctol) or (
                    not bounded and _relative_optimality(_grad_inf(r, Jz), r, Jz) <= INFEASIBLE_RTOL):
                raise _Stop(np.array(z, copy=True), r, Jz, last["c"])
        return Jz

    if nF + k == 0:  # every variable fixed and equality rows only: nothing to move
        viol0 = np.abs(c0[E] - lb[E])
        if not viol0.size or float(np.max(viol0)) <= ctol:
            return x0, "feasible", ""
        return x, "unknown", "every variable is fixed by its bounds and the equality rows are violated"
    z0 = np.concatenate([x0[F], np.clip(c0[I], lb[I], ub[I])])
    try:
        r = least_squares(resid, z0, jac=jacobian, method="trf", ftol=1e-15, xtol=1e-15, gtol=1e-15,
                          max_nfev=max_nfev, bounds=(zl, zu) if bounded else (-np.inf, np.inf))
        zs, rs, Js, opt, nfev = r.x, r.fun, r.jac, float(r.optimality), r.nfev
        c = last["c"] if np.array_equal(last["z"], zs) else np.asarray(value(full(zs)), dtype=float).ravel()
    except _Stop as stop:  # unbounded when infeasible: least_squares' optimality is ||J^T r||_inf
        zs, rs, Js, c, nfev = stop.z, stop.r, stop.J, stop.c, None
        opt = _grad_inf(rs, Js)
    except _OutOfTime:
        return x, "unknown", "Time limit (max_time) reached in the feasibility phase."
    except _NonFinite:
        return x, "unknown", "non-finite constraint value or Jacobian in the feasibility phase"
    xs = full(zs)
    viol = np.concatenate([np.abs(c[E] - lb[E]), np.maximum(c[I] - ub[I], 0), np.maximum(lb[I] - c[I], 0),
                           np.maximum(xs - xu, 0), np.maximum(xl - xs, 0)])
    vinf = float(np.max(viol)) if viol.size else 0.0
    if not np.isfinite(vinf):
        return x, "unknown", "non-finite constraint values in the feasibility phase"
    if vinf <= ctol:
        return xs, "feasible", ""
    rel = _relative_optimality(opt, rs, Js)
    flat = opt / max(float(np.linalg.norm(rs)), 1e-300)  # opt / ||r||: the test where J vanishes too
    shape = f"{m} constraint rows in {n} variables" + (" (over-determined)" if E.size > n else "")
    if rel <= INFEASIBLE_RTOL or flat <= FLAT_RTOL:
        return xs, "infeasible", (
            f"locally infeasible: {shape}, and x is a stationary point of the squared constraint violation "
            f"(violation {vinf:.6e}; first-order measure / (||J|| ||r||) = {rel:.1e}, / ||r|| = {flat:.1e}); "
            "x is the constraints' least-squares point")
    return xs, "unknown", (
        f"no feasible point found: {shape}; the least-squares phase stopped at a violation of {vinf:.3e} "
        f"without a stationarity certificate ({rel:.1e}) after {nfev} evaluations")


def feasibility_budget(n):
    """Residual evaluations allowed to the feasibility phase: ``min(2000, 50 (n + 1))``."""
    return int(min(2000, 50 * (n + 1)))


def restoration_due(at_start, stop, viol, ctol, done, limit):
    """Whether the feasibility phase runs now: at the start (``at_start``), or after the
    iteration stopped with status 5 while the constraints are violated; at most ``limit``
    phases per run."""
    return done < limit and (at_start or (stop[0] == 5 and viol > ctol))


def slow_progress(window, kkt, viol, ctol, done, limit):
    """Record ``kkt`` in the :class:`~numopt.solvers.eal.Stall` test ``window`` and say whether a
    restoration is due for slow progress: constraints violated (``viol > ctol``), restorations
    left, and no decrease of the KKT residual over the window."""
    slow = window(kkt) is not None
    return slow and viol > ctol and done < limit


def restoration_message(stop, outcome, msg):
    """The status-5 message of a run that a feasibility phase ends: the phase's own message,
    after the iteration's stop reason when there was one and no infeasibility certificate."""
    return msg if stop is None or outcome == "infeasible" else f"{stop[1]}; restoration: {msg}"
