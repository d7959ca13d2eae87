"""First-order and single-loop bilevel methods: ``f2sa`` (Kwon, Kwon, Wright & Nowak, ICML
2023), ``penalty`` (Kwon et al., ICLR 2024), ``meha`` (Liu, Liu, Yao, Zeng & Zhang, ICML 2024),
``lv-hba`` (Yao, Yu, Zeng & Zhang, ICLR 2024), ``bamm`` (after sl-BAMM, Liu et al., ICML 2023)
and ``bo-rep`` (Hao, Gong & Liu, ICLR 2024); f2sa, penalty and bo-rep have minibatch versions
(``batch_size``)."""
from __future__ import annotations

import numpy as np

from ..._options import Interval, NoneOr, Option
from ..._registry import MethodSpec, register
from ._common import (BATCH, EXHAUSTED, NONNEGATIVE, POSITIVE, RNG, _gd_inner, _gd_min, _lipschitz_constants,
                      _sampler, count, coupled_example, finalize_minibatch, iterations, maxiter_option,
                      quadratic_example, reporter, tol_option)


def _first_order_penalty(problem, start, opts, fixed_lam=None):
    """F2SA (Kwon, Kwon, Wright & Nowak, ICML 2023, Algorithm 1), deterministic or stochastic.

    Iteration k with ``gamma_k = inner_step (k+1)^-c``, ``lam_k = lam0 (k+1)^{lam_power}``
    (``fixed_lam`` for the stochastic penalty method), ``alpha_k = gamma_k / lam_k``:
    ``inner_steps`` times ``z <- z - gamma_k grad_y g(x, z; B)``,
    ``y <- y - alpha_k (grad_y f(x, y; B') + lam_k grad_y g(x, y; B))``; then
    ``x <- x - step (k+1)^-a [grad_x f(x, y; B') + lam_k (grad_x g(x, y; B) - grad_x g(x, z; B))]``.
    ``B``/``B'`` are minibatches of the lower/upper sums (full sums when ``batch_size`` is None).
    The same lower minibatch is used for the y- and z-terms (common random numbers): the
    difference ``lam_k (grad g(y) - grad g(z))`` then has O(1) rather than O(lam_k^2) variance."""
    report = reporter(*start)
    x, y = np.asarray(start[0], dtype=float).copy(), np.asarray(start[1], dtype=float).copy()
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
    for k in iterations(opts):
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
        yield report(x, Fv, float(np.linalg.norm(hg)), y, hypergrad=hg, lower_residual=float(np.linalg.norm(gy_y)),
                     lam=lam)
        x = x - (a / (k + 1) ** pa) * hg
    return EXHAUSTED


def _penalty(problem, start, opts):
    """Kwon, Kwon, Wright & Nowak (ICLR 2024): gradient descent on the penalty value function
    psi(x) = min_y [F(x, y) + lam G(x, y)] - lam min_z G(x, z) with a fixed multiplier lam;
    by Danskin, grad psi = grad_x F(x, y_lam) + lam (grad_x G(x, y_lam) - grad_x G(x, z*)).
    With ``batch_size``: the minibatch iteration of F2SA with the fixed multiplier ``lam``."""
    if opts["batch_size"] is not None:
        return (yield from _first_order_penalty(problem, start, opts, fixed_lam=opts["lam"]))
    report = reporter(*start)
    x, y = np.asarray(start[0], dtype=float).copy(), np.asarray(start[1], dtype=float).copy()
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
    alpha, tol = opts["step"], opts["tol"]
    for k in iterations(opts):
        _, fx, _ = problem.upper(x, y)
        Gy_val, gx_y, gy_y = problem.lower(x, y)
        Gz_val, gx_z, _ = problem.lower(x, z)
        hg = fx + lam * (gx_y - gx_z)
        hn = float(np.linalg.norm(hg))
        if tol is not None and hn <= tol and not solved:  # a small gradient of psi from unsolved inner problems
            yield report(x, F, None, y, hypergrad=hg, lower_residual=float(np.linalg.norm(gy_y)),
                         lower_gap=Gy_val - Gz_val, step_size=alpha)
            return 5, ("the penalty gradient is below tol but not certified: the inner problems were not solved to "
                       "inner_tol within inner_maxiter")
        yield report(x, F, hn, y, hypergrad=hg, lower_residual=float(np.linalg.norm(gy_y)),
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
    return EXHAUSTED


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


def _moreau_single_loop(problem, start, opts):
    """MEHA (Liu et al., ICML 2024) and, with a coupled constraint Ax x + Ay y = b, LV-HBA
    (Yao, Yu, Zeng & Zhang, ICLR 2024). One gradient step on the proximal (Lagrangian)
    subproblem, then one projected gradient step on F/c_k + G - v_gamma in (x, y[, z])."""
    report, coupled = reporter(*start), problem.coupled is not None
    x, y = np.asarray(start[0], dtype=float).copy(), np.asarray(start[1], dtype=float).copy()
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
    for k in iterations(opts):
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
            yield report(x, Fv, move, y, hypergrad=dx * c, lower_residual=res, feasibility=feas, c=c)
            z = z - opts["step_z"] * dz
        else:
            yield report(x, Fv, move, y, hypergrad=dx * c, lower_residual=float(np.linalg.norm(Gy)), c=c)
        x, y = xn, yn
    return EXHAUSTED


def _bamm(problem, start, opts):
    """Single-loop averaged scheme after sl-BAMM (Liu, Liu, Yao, Zeng & Zhang, ICML 2023): the
    lower step descends mu_k F + G (mu_k -> 0 selects, among lower-level solutions, those best
    for F), the multiplier z tracks (mu_k grad_yy F + grad_yy G)^{-1} grad_y F by one
    Hessian-vector step, and x moves along grad_x F - (mu_k grad_xy F + grad_xy G) z."""
    report = reporter(*start)
    x, y = np.asarray(start[0], dtype=float).copy(), np.asarray(start[1], dtype=float).copy()
    z = np.zeros_like(y)
    opts = _default_steps(problem, x, y, dict(opts), opts["mu0"], moreau=False)
    a, b_, eta = opts["step_x"], opts["step_y"], opts["step_z"] or opts["step_y"]
    for k in iterations(opts):
        mu = opts["mu0"] / (k + 1) ** opts["mu_power"]
        Fv, Fx, Fy = problem.upper(x, y)
        _, _, Gy = problem.lower(x, y)
        y_new = y - b_ * (mu * Fy + Gy)
        _, _, Fy_new = problem.upper(x, y_new)
        Hz = mu * problem.upper_hvp_yy(x, y_new, z) + problem.hvp_yy(x, y_new, z)
        z = z - eta * (Hz - Fy_new)
        hg = problem.upper(x, y_new)[1] - (mu * problem.upper_cross(x, y_new, z) + problem.cross(x, y_new, z))
        yield report(x, Fv, float(np.linalg.norm(hg)), y, hypergrad=hg, lower_residual=float(np.linalg.norm(Gy)), mu=mu)
        x, y = x - a * hg, y_new
    return EXHAUSTED


def _bo_rep(problem, start, opts):
    """BO-REP (Hao, Gong & Liu, ICLR 2024): normalized momentum on x, lower level refined at
    the start and updated periodically (every ``period`` iterations, ``inner_steps`` gradient
    steps), the linear-system solution z by one gradient step per iteration. With
    ``batch_size`` every gradient and Hessian-vector product is a minibatch estimate (the
    paper's stochastic setting): fresh indices per step, the start refinement by
    ``refine_steps`` stochastic gradient steps."""
    report = reporter(*start)
    x, y = np.asarray(start[0], dtype=float).copy(), np.asarray(start[1], dtype=float).copy()
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
    for k in iterations(opts):
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
        yield report(x, Fv, float(np.linalg.norm(hg)), y, hypergrad=hg, lower_residual=float(np.linalg.norm(Gy)),
                     step_size=eta)
        mn = np.linalg.norm(m)
        if mn > 0:
            x = x - eta * m / mn
    return EXHAUSTED


# ------------------------------------------------------------------------- registration

def _none_or_positive(doc):
    return Option(None, doc, NoneOr(POSITIVE))


_POWER = NoneOr(NONNEGATIVE)
_STEPS_DOC = "(None: 1/L from power-iteration curvature estimates in y at the start)."

_F2SA_OPTIONS = {
    "maxiter": maxiter_option(1000),
    "tol": tol_option(1e-6, "||grad_x of the penalty|| (the hypergradient estimate)"),
    "step": Option(0.05, "Step on x, alpha_k = step (k+1)^-step_power.", POSITIVE),
    "inner_step": Option(0.1, "Step gamma_k = inner_step (k+1)^-inner_power on z (y takes gamma_k / lam_k).",
                         POSITIVE),
    "inner_steps": Option(10, "Inner steps on y and z per iteration.", count(1)),
    "lam0": Option(1.0, "Multiplier lam_k = lam0 (k+1)^lam_power.", POSITIVE),
    "lam_power": Option(None, "Growth of lam_k (None: 1/2 deterministic, step_power - inner_power = 1/7 with "
                              "batch_size).", _POWER),
    "step_power": Option(None, "Decay of the x-step (None: 0 deterministic, 5/7 with batch_size).", _POWER),
    "inner_power": Option(None, "Decay of the inner step (None: 0 deterministic, 4/7 with batch_size).", _POWER),
    "batch_size": BATCH,
    "rng": RNG,
}

_PENALTY_OPTIONS = {
    "maxiter": maxiter_option(100),
    "tol": tol_option(1e-6, "||grad psi_lam(x)|| (certified only with both inner problems solved)"),
    "lam": Option(100.0, "Fixed penalty multiplier (stationary points are O(1/lam)-stationary for the bilevel "
                         "problem).", POSITIVE),
    "step": Option(1.0, "Initial step on x (backtracking on psi_lam, then grown by 1.5); with batch_size the "
                        "step of the minibatch iteration.", POSITIVE),
    "inner_tol": Option(1e-9, "Tolerance of the inner problems (gradient norm; lam * inner_tol for F + lam G).",
                        NONNEGATIVE),
    "inner_maxiter": Option(20000, "Maximum gradient steps of an inner solve.", count(1)),
    "inner_step": Option(0.1, "With batch_size: the inner step (as in f2sa).", POSITIVE),
    "inner_steps": Option(10, "With batch_size: inner steps per iteration.", count(1)),
    "step_power": Option(None, "With batch_size: decay of the x-step (None: 1/2).", _POWER),
    "inner_power": Option(None, "With batch_size: decay of the inner step (None: 1/2).", _POWER),
    "batch_size": BATCH,
    "rng": RNG,
}


def _moreau_options(c0, coupled):
    out = {
        "maxiter": maxiter_option(3000),
        "tol": tol_option(1e-6, "||(x_{k+1}, y_{k+1}) - (x_k, y_k)|| / step_x"),
        "c0": Option(c0, "Penalty weight c_k = c0 (k+1)^c_power of the constraint (F enters as F / c_k).", POSITIVE),
        "c_power": Option(0.45, "Growth of c_k (0 < p < 1/2 in the theory).", NONNEGATIVE),
        "gamma": _none_or_positive("Moreau-envelope parameter (None: 0.5 / L_G)."),
        "step_theta": _none_or_positive("Step of the proximal subproblem " + _STEPS_DOC),
        "step_x": _none_or_positive("Step on x " + _STEPS_DOC),
        "step_y": _none_or_positive("Step on y " + _STEPS_DOC),
    }
    if coupled:
        out["gamma2"] = Option(1.0, "Proximal parameter of the multiplier of the coupled constraint.", POSITIVE)
        out["step_z"] = Option(0.1, "Step of the proximal dual variable z.", POSITIVE)
    return out


_BAMM_OPTIONS = {
    "maxiter": maxiter_option(3000),
    "tol": tol_option(1e-6, "||hypergradient estimate||"),
    "mu0": Option(1.0, "Weight mu_k = mu0 / (k+1)^mu_power of F in the lower step.", POSITIVE),
    "mu_power": Option(0.5, "Decay of mu_k.", NONNEGATIVE),
    "step_x": _none_or_positive("Step on x " + _STEPS_DOC),
    "step_y": _none_or_positive("Step on y " + _STEPS_DOC),
    "step_z": _none_or_positive("Step of the multiplier z (None: step_y)."),
}

_BO_REP_OPTIONS = {
    "maxiter": maxiter_option(1000),
    "tol": tol_option(1e-6, "||hypergradient estimate||"),
    "step": Option(0.05, "Normalized step on x, eta_k = step (k+1)^-step_power.", POSITIVE),
    "step_power": Option(0.0, "Decay of the x-step.", NONNEGATIVE),
    "beta": Option(0.9, "Momentum, in [0, 1).", Interval(0, 1, open=("hi",))),
    "inner_step": _none_or_positive("Step of the lower level and of z (None: 1/L_G from power iteration)."),
    "inner_steps": Option(10, "Lower-level steps at each periodic update.", count(1)),
    "period": Option(5, "Lower-level update every `period` iterations.", count(1)),
    "refine_steps": Option(1000, "Lower-level steps of the initial refinement.", count(0)),
    "inner_tol": Option(1e-8, "Tolerance of the initial (deterministic) refinement.", NONNEGATIVE),
    "z_radius": _none_or_positive("Radius of the ball z is projected on (None: no projection)."),
    "batch_size": BATCH,
    "rng": RNG,
}

_FIRST_ORDER = ("upper", "lower")
_COMMON = dict(family="bilevel", kind="bilevel", backends=("numpy",), float64_internal=True)
_SINGLE_LOOP_RATE = ("Non-asymptotic rates for a residual combining stationarity and the lower-level gap (see the "
                     "paper; not re-derived here); the bias from the penalty parameter shrinks with k.")

register(MethodSpec(
    name="f2sa", summary="F2SA: fully first-order penalty method (deterministic or minibatch)",
    solve=_first_order_penalty, options=_F2SA_OPTIONS, requires=_FIRST_ORDER, example=quadratic_example,
    optimality="||grad_x F + lam_k (grad_x G(x, y) - grad_x G(x, z))||, the penalty's x-gradient",
    rate_text="eps-stationary point (in ||grad||^2) in O(eps^{-7/2}) first-order oracle calls (deterministic) and "
              "O(eps^{-7/2}) iterations with stochastic noise in both levels (Kwon et al. 2023).",
    reference="Kwon, Kwon, Wright & Nowak, A fully first-order method for stochastic bilevel optimization, "
              "ICML 2023.", finalize=finalize_minibatch, **_COMMON))
register(MethodSpec(
    name="penalty", summary="Penalty method: gradient descent on the penalty value function psi_lam",
    solve=_penalty, options=_PENALTY_OPTIONS, requires=_FIRST_ORDER, example=quadratic_example,
    optimality="||grad psi_lam(x)|| by Danskin (certified only when both inner problems met inner_tol)",
    rate_text="eps-stationary point of psi_lam in O(lam / eps^2) gradient steps; psi_lam's stationary points are "
              "O(1/lam)-stationary for the bilevel problem.",
    reference="Kwon, Kwon, Wright & Nowak, On penalty methods for nonconvex bilevel optimization and first-order "
              "stochastic approximation, ICLR 2024.", finalize=finalize_minibatch, **_COMMON))
register(MethodSpec(
    name="meha", summary="MEHA: Moreau-envelope single-loop Hessian-free method (nonconvex lower levels)",
    solve=_moreau_single_loop, options=_moreau_options(1.0, coupled=False), requires=_FIRST_ORDER,
    example=quadratic_example, optimality="||(x_{k+1}, y_{k+1}) - (x_k, y_k)|| / step_x",
    rate_text=_SINGLE_LOOP_RATE,
    reference="Liu, Liu, Yao, Zeng & Zhang, Moreau envelope for nonconvex bi-level optimization, ICML 2024.",
    **_COMMON))
register(MethodSpec(
    name="lv-hba", summary="LV-HBA: MEHA with a lower-level constraint coupling x and y",
    solve=_moreau_single_loop, options=_moreau_options(10.0, coupled=True), requires=_FIRST_ORDER,
    accepts_constraints=True, example=coupled_example,
    optimality="||(x_{k+1}, y_{k+1}) - (x_k, y_k)|| / step_x (projected steps)", rate_text=_SINGLE_LOOP_RATE,
    reference="Yao, Yu, Zeng & Zhang, Constrained bi-level optimization: proximal Lagrangian value function "
              "approach and Hessian-free algorithm, ICLR 2024.", **_COMMON))
register(MethodSpec(
    name="bamm", summary="Single-loop averaged method after sl-BAMM (merely convex lower levels)",
    solve=_bamm, options=_BAMM_OPTIONS, requires=("upper", "lower", "lower_hvp", "lower_cross"),
    example=quadratic_example, optimality="||grad_x F - (mu_k grad_xy F + grad_xy G) z||",
    rate_text=_SINGLE_LOOP_RATE,
    reference="Liu, Liu, Yao, Zeng & Zhang, Averaged method of multipliers for bi-level optimization without "
              "lower-level strong convexity, ICML 2023.", **_COMMON))
register(MethodSpec(
    name="bo-rep", summary="BO-REP: normalized momentum with periodic lower-level updates (unbounded smoothness)",
    solve=_bo_rep, options=_BO_REP_OPTIONS, requires=("upper", "lower", "lower_hvp", "lower_cross"),
    example=quadratic_example, optimality="||grad_x F - grad_xy G z||, the hypergradient estimate",
    rate_text="O~(eps^{-4}) stochastic oracle calls for an eps-stationary point (Hao et al. 2024).",
    reference="Hao, Gong & Liu, Bilevel optimization under unbounded smoothness: a new algorithm and convergence "
              "analysis, ICLR 2024.", finalize=finalize_minibatch, **_COMMON))
