"""Strong-Wolfe line search in the style of Moré and Thuente.

:func:`strong_wolfe` looks for a step ``t > 0`` along a descent direction that satisfies
the strong Wolfe conditions

* sufficient decrease: ``phi(t) <= phi(0) + c1 t phi'(0)``,
* curvature:           ``|phi'(t)| <= c2 |phi'(0)|``,

with ``0 < c1 <= c2 < 1``. The search keeps an interval of uncertainty
``[stx, sty]`` (the best point so far and the other end) and picks each trial step by
safeguarded cubic / quadratic / secant interpolation of the values and slopes at the
interval's ends (the four cases of Moré–Thuente, Sec. 4). Until a point with
sufficient decrease and a nonnegative slope is met, it works on the auxiliary
function ``psi(t) = phi(t) - phi(0) - c1 t phi'(0)`` (their "stage 1"), which makes
the interval shrink towards a point with sufficient decrease. Before a minimizer is
bracketed, trial steps extrapolate by a factor between 1.1 and 4 of the last jump.

The one evaluation per trial returns ``(phi(t), phi'(t), payload)``: the payload
(``(x_new, g_new)`` for a minimizer) comes back with the accepted step, so the caller
never evaluates twice.

:func:`backtrack_step` is the next trial of an Armijo backtracking search (sufficient
decrease only, values without slopes): the minimizer of the quadratic through
``phi(0), phi'(0), phi(t)`` after the first failed trial, of the cubic through the last
two trials after that, kept within ``[0.1 t, 0.5 t]`` (Nocedal & Wright, *Numerical
Optimization*, 2nd ed., Sec. 3.5). A search that would halve its step several times
reaches a small step in fewer evaluations.

Reference: J. J. Moré and D. J. Thuente, "Line search algorithms with guaranteed
sufficient decrease", ACM Trans. Math. Software 20(3), 286–307, 1994.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

__all__ = ["LineSearchResult", "backtrack_step", "strong_wolfe"]

_XTRAP_LO, _XTRAP_HI = 1.1, 4.0   # extrapolation limits before a bracket is found
_XTOL = 1e-14                       # relative width of the interval of uncertainty at which to stop


class LineSearchResult(NamedTuple):
    """Outcome of :func:`strong_wolfe`.

    ``step``: the returned step (0.0 when no point better than t = 0 was found);
    ``f``, ``dphi``, ``payload``: ``phi``'s value, slope and payload there (``f0``,
    ``dphi0`` and None at step 0); ``nfev``: evaluations of ``phi``; ``success``:
    the step satisfies the strong Wolfe conditions, or it is ``step_max`` with
    sufficient decrease and a still negative slope (the curvature condition cannot
    hold within ``step_max``; the message says so). On failure the step is the best
    point found (it may still decrease ``f``: compare ``f`` with ``f0``).
    """

    step: float
    f: float
    dphi: float
    payload: Any
    nfev: int
    success: bool
    message: str


def _cubic_step(a, fa, da, b, fb, db, clip=False):
    """Minimizer of the cubic interpolating ``(a, fa, da)`` and ``(b, fb, db)``, written as
    ``a + r (b - a)``; returns ``(r, gamma)``. ``clip``: take the square root of
    ``max(0, .)`` (the cubic may have no local minimizer: then ``r`` is not usable when
    ``r < 0`` or ``gamma == 0``)."""
    theta = 3.0 * (fa - fb) / (b - a) + da + db
    s = max(abs(theta), abs(da), abs(db))
    disc = (theta / s) ** 2 - (da / s) * (db / s)
    gamma = s * math.sqrt(max(0.0, disc) if clip else disc)
    if b < a:
        gamma = -gamma
    p = (gamma - da) + theta
    q = (gamma - da) + gamma + db
    return p / q, gamma


def _secant(a, da, b, db):
    """Zero of the linear interpolant of the slopes at ``a`` and ``b``."""
    return a + da / (da - db) * (b - a)


def _trial_step(stx, fx, dx, sty, fy, dy, stp, fp, dp, brackt, lo, hi):
    """One safeguarded interpolation step (the four cases of Moré–Thuente, Sec. 4).

    ``stx``: best point, ``sty``: the other end of the interval, ``stp``: the last
    trial; ``lo``/``hi``: where the next trial may go. Returns the new
    ``(stx, fx, dx, sty, fy, dy, next_trial, brackt)``."""
    opposite = dp * math.copysign(1.0, dx) < 0
    if fp > fx:
        # case 1: higher value: a minimizer lies between stx and stp
        r, _ = _cubic_step(stx, fx, dx, stp, fp, dp)
        t_cub = stx + r * (stp - stx)
        t_quad = stx + (dx / ((fx - fp) / (stp - stx) + dx)) / 2.0 * (stp - stx)
        t = t_cub if abs(t_cub - stx) < abs(t_quad - stx) else t_cub + (t_quad - t_cub) / 2.0
        brackt = True
    elif opposite:
        # case 2: lower value, slopes of opposite signs: bracketed
        r, _ = _cubic_step(stp, fp, dp, stx, fx, dx)
        t_cub = stp + r * (stx - stp)
        t_sec = _secant(stp, dp, stx, dx)
        t = t_cub if abs(t_cub - stp) > abs(t_sec - stp) else t_sec
        brackt = True
    elif abs(dp) < abs(dx):
        # case 3: lower value, same sign, slope decreasing in magnitude
        r, gamma = _cubic_step(stp, fp, dp, stx, fx, dx, clip=True)
        if r < 0 and gamma != 0:
            t_cub = stp + r * (stx - stp)
        else:
            t_cub = hi if stp > stx else lo
        t_sec = _secant(stp, dp, stx, dx)
        if brackt:
            t = t_cub if abs(t_cub - stp) < abs(t_sec - stp) else t_sec
            # do not go further than 2/3 of the way to the far end
            edge = stp + 0.66 * (sty - stp)
            t = min(edge, t) if stp > stx else max(edge, t)
        else:
            t = t_cub if abs(t_cub - stp) > abs(t_sec - stp) else t_sec
            t = min(hi, max(lo, t))
    else:
        # case 4: lower value, same sign, slope not decreasing
        if brackt:
            r, _ = _cubic_step(stp, fp, dp, sty, fy, dy)
            t = stp + r * (sty - stp)
        else:
            t = hi if stp > stx else lo
    if fp > fx:
        sty, fy, dy = stp, fp, dp
    else:
        if opposite:
            sty, fy, dy = stx, fx, dx
        stx, fx, dx = stp, fp, dp
    return stx, fx, dx, sty, fy, dy, t, brackt


def _check_args(f0, dphi0, step, c1, c2, step_max, maxls):
    if not (0 < c1 <= c2 < 1):
        raise ValueError(f"line search: need 0 < c1 <= c2 < 1, got c1 = {c1}, c2 = {c2}")
    if not (step > 0 and math.isfinite(step)):
        raise ValueError(f"line search: `step` must be a finite positive number, got {step}")
    if not step_max > 0:
        raise ValueError(f"line search: `step_max` must be positive, got {step_max}")
    if int(maxls) != maxls or maxls < 1:
        raise ValueError(f"line search: `maxls` must be a positive integer, got {maxls}")
    if not (math.isfinite(f0) and math.isfinite(dphi0)):
        raise ValueError(f"line search: f0 and dphi0 must be finite, got f0 = {f0}, dphi0 = {dphi0}")


def strong_wolfe(phi, f0, dphi0, *, step=1.0, c1=1e-4, c2=0.9, step_max=math.inf, maxls=20):
    """Find a step satisfying the strong Wolfe conditions (Moré–Thuente).

    Parameters
    ----------
    phi : callable
        ``phi(t) -> (value, slope, payload)``: the objective along the search direction,
        its derivative in ``t``, and anything the caller wants back for the accepted step.
    f0, dphi0 : float
        ``phi(0)`` and ``phi'(0)``. ``dphi0 >= 0`` (not a descent direction) returns
        ``success=False`` without evaluating ``phi``.
    step : float
        First trial step (clipped to ``step_max``).
    c1, c2 : float
        Sufficient decrease and curvature constants, ``0 < c1 <= c2 < 1``.
    step_max : float
        ``phi`` is never evaluated beyond it.
    maxls : int
        Maximum number of evaluations of ``phi``.

    Returns
    -------
    LineSearchResult
        ``step, f, dphi, payload, nfev, success, message``. A non-finite value or slope
        at a trial step halves the step towards the best point (and caps later trials
        below it); the search never takes more than ``maxls`` evaluations.
    """
    f0, dphi0, step, step_max = float(f0), float(dphi0), float(step), float(step_max)
    _check_args(f0, dphi0, step, c1, c2, step_max, maxls)
    if dphi0 >= 0:
        return LineSearchResult(0.0, f0, dphi0, None, 0, False,
                                f"not a descent direction (phi'(0) = {dphi0:.3e} >= 0)")
    slope_test = c1 * dphi0                 # sufficient decrease: f <= f0 + t * slope_test
    curv = c2 * abs(dphi0)
    # best point (stx) and other end (sty) of the interval of uncertainty, with payloads
    stx, fx, dx, best_payload = 0.0, f0, dphi0, None
    sty, fy, dy = 0.0, f0, dphi0
    brackt, stage1 = False, True
    width = step_max
    width_prev = 2.0 * width
    stp = min(step, step_max)
    lo, hi = 0.0, stp + _XTRAP_HI * stp
    cap = math.inf                          # trials stay below the smallest step where phi was not finite
    nfev = 0
    while nfev < maxls:
        fp, dp, payload = phi(stp)
        nfev += 1
        fp, dp = float(fp), float(dp)
        if not (math.isfinite(fp) and math.isfinite(dp)):
            cap = stp
            stp = stx + 0.5 * (stp - stx)
            if not stx < stp < cap:
                break
            continue
        ftest = f0 + stp * slope_test
        sufficient = fp <= ftest
        if sufficient and abs(dp) <= curv:
            return LineSearchResult(stp, fp, dp, payload, nfev, True, "strong Wolfe conditions satisfied")
        if stp == step_max and sufficient and dp <= slope_test:
            return LineSearchResult(stp, fp, dp, payload, nfev, True,
                                    "step_max reached with sufficient decrease (the curvature "
                                    "condition cannot hold within step_max)")
        if stage1 and sufficient and dp >= slope_test:
            stage1 = False
        # stage 1 works on psi(t) = phi(t) - t * slope_test (plus a constant) while the
        # trial is no worse than the best point but lacks sufficient decrease
        m = slope_test if (stage1 and fp <= fx and not sufficient) else 0.0
        prev_stx = stx
        nx, nfx, ndx, sty, nfy, ndy, stp_new, brackt = _trial_step(
            stx, fx - stx * m, dx - m, sty, fy - sty * m, dy - m,
            stp, fp - stp * m, dp - m, brackt, lo, hi)
        fx, dx, fy, dy = nfx + nx * m, ndx + m, nfy + sty * m, ndy + m
        if nx != prev_stx:
            best_payload = payload
        stx = nx
        if brackt:
            if abs(sty - stx) >= 0.66 * width_prev:
                stp_new = stx + 0.5 * (sty - stx)   # force sufficient shrinkage of the interval
            width_prev, width = width, abs(sty - stx)
            lo, hi = min(stx, sty), max(stx, sty)
        else:
            # the next trial extrapolates by 1.1 to 4 times the jump from stx to this one
            lo = stp_new + _XTRAP_LO * (stp_new - stx)
            hi = stp_new + _XTRAP_HI * (stp_new - stx)
        stp = min(max(stp_new, 0.0), step_max)
        if stp >= cap:
            stp = stx + 0.5 * (cap - stx)
        if brackt and (stp <= lo or stp >= hi or hi - lo <= _XTOL * hi):
            return _give_up(stx, fx, dx, best_payload, nfev,
                            "interval of uncertainty below rounding (no strong Wolfe step found)")
    return _give_up(stx, fx, dx, best_payload, nfev,
                    f"maxls = {maxls} evaluations reached without a strong Wolfe step"
                    if nfev >= maxls else "phi is not finite near the best step")


def _give_up(stx, fx, dx, payload, nfev, message):
    return LineSearchResult(stx, fx, dx, payload, nfev, False, message)


def backtrack_step(phi0, dphi0, t, phi_t, prev=None, *, lo=0.1, hi=0.5):
    """Next trial step of an Armijo backtracking search after ``t`` failed.

    ``phi0, dphi0``: the value and (negative) slope at 0; ``phi_t``: the value at ``t``;
    ``prev``: ``(t_prev, phi_prev)`` of the trial before ``t`` (None after the first).
    Returns the minimizer of the interpolating quadratic (no ``prev``) or cubic, clipped to
    ``[lo t, hi t]``; ``hi t`` when ``phi_t`` is not finite or the model has no minimizer
    there (plain halving with the defaults).
    """
    t, phi_t = float(t), float(phi_t)
    if not (math.isfinite(phi_t) and math.isfinite(phi0) and math.isfinite(dphi0) and dphi0 < 0 and t > 0):
        return hi * t
    excess = phi_t - phi0 - dphi0 * t      # > 0 after a failed Armijo test with c1 < 1
    new = math.nan
    if prev is None or not math.isfinite(prev[1]):
        if excess > 0:
            new = -dphi0 * t * t / (2.0 * excess)
    else:
        t0, phi_0 = float(prev[0]), float(prev[1])
        e0 = phi_0 - phi0 - dphi0 * t0
        # phi(s) ~ phi0 + dphi0 s + b s^2 + a s^3 through (t, phi_t) and (t0, phi_0)
        den = t * t * t0 * t0 * (t - t0)
        if den != 0:
            a = (t0 * t0 * excess - t * t * e0) / den
            b = (-t0 ** 3 * excess + t ** 3 * e0) / den
            if a == 0:
                new = -dphi0 / (2.0 * b) if b > 0 else math.nan
            else:
                disc = b * b - 3.0 * a * dphi0
                if disc >= 0:
                    new = (-b + math.sqrt(disc)) / (3.0 * a)
    if not math.isfinite(new):
        return hi * t
    return min(max(new, lo * t), hi * t)
