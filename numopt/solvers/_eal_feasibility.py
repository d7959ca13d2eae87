"""Feasibility phase of ``eal`` for over-determined equality constraints (m > n).

With more equality rows than variables the constraint Jacobian cannot have full row rank,
so the linear independence constraint qualification that the exact augmented Lagrangian
(and every SQP/interior-point method) relies on fails at every point; such a system is
consistent only by accident of its data (BEALENE, EXP2NE in S2MPJ) and usually has no
solution at all (the ``NE`` versions of the NIST least-squares problems). IPOPT refuses
these problems before its first iteration ("too few degrees of freedom").

``eal`` instead first minimizes ``1/2 ||c(x)||^2`` from ``x0`` with scipy's
trust-region-reflective least-squares solver (:func:`scipy.optimize.least_squares`,
Branch, Coleman & Li 1999), on the same constraint oracles:

* the residual reaches the feasibility tolerance: the system is consistent; ``eal`` goes
  on from that point (its KKT solves fall back to least squares, so the rank deficiency
  does no harm);
* ``x`` is a stationary point of ``||c||^2`` with ``c != 0`` (``||J^T c|| <= 1e-6 ||J||
  ||c||``): a certificate of local infeasibility; the run ends with status 5 and that
  point (the least-squares solution of the constraints) as ``x``;
* the evaluation budget or ``max_time`` runs out first: status 5, "no feasible point found".
"""
from __future__ import annotations

import time

import numpy as np

#: relative stationarity ||J^T c|| / (||J||_2 ||c||_2) that certifies local infeasibility
INFEASIBLE_RTOL = 1e-6


class _OutOfTime(Exception):
    pass


def solve_feasibility(ops, x, ctol, deadline, max_nfev):
    """Minimize ``1/2 ||c(x)||^2`` from ``x``: returns ``(x, outcome, message)`` with
    outcome ``"feasible"`` (``||c||_inf <= ctol``), ``"infeasible"`` (a certified
    stationary point of ``||c||^2`` with ``||c||_inf > ctol``) or ``"unknown"``."""
    from scipy.optimize import least_squares

    def resid(z):
        if time.perf_counter() > deadline:
            raise _OutOfTime
        return ops.value_c(z)

    def jac(z):
        return ops.jac_c(z)

    try:
        r = least_squares(resid, x, jac=jac, method="trf", ftol=1e-15, xtol=1e-15, gtol=1e-15,
                          max_nfev=max_nfev)
        xs = r.x
    except _OutOfTime:
        return x, "unknown", "Time limit (max_time) reached in the feasibility phase (m > n equality rows)."
    c = ops.value_c(xs)
    cinf = float(np.max(np.abs(c))) if c.size else 0.0
    if not np.isfinite(cinf):
        return x, "unknown", "non-finite constraint values in the feasibility phase"
    if cinf <= ctol:
        return xs, "feasible", ""
    J = ops.jac_c(xs)
    cn = float(np.linalg.norm(c))
    rel = float(np.linalg.norm(J.T @ c)) / max(float(np.linalg.norm(J, 2)) * cn, 1e-300)
    m, n = J.shape
    over = " (over-determined)" if m > n else ""
    if rel <= INFEASIBLE_RTOL:
        return xs, "infeasible", (
            f"locally infeasible: {m} equality constraints in {n} variables{over} and x is a "
            f"stationary point of ||c(x)||^2 with ||c||_2 = {cn:.6e} (||J^T c|| / (||J|| ||c||) = {rel:.1e}); "
            "x is the constraints' least-squares solution")
    return xs, "unknown", (
        f"no feasible point found: {m} equality constraints in {n} variables{over}; the "
        f"least-squares phase stopped at ||c||_inf = {cinf:.3e} without a stationarity certificate "
        f"(||J^T c|| / (||J|| ||c||) = {rel:.1e}) after {r.nfev} evaluations")


def feasibility_budget(n):
    """Residual evaluations allowed to the feasibility phase: ``min(2000, 50 (n + 1))``."""
    return int(min(2000, 50 * (n + 1)))


#: feasibility phases per run (the first one at the start when m > n; the others when the
#: method stops with violated constraints: stall, failed line search, unsolvable KKT system)
MAX_RESTORATIONS = 3
