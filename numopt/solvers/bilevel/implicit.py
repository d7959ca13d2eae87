"""Hypergradient methods: ``implicit`` (implicit-function-theorem hypergradient, gradient
steps with backtracking on the value function), ``hoag`` (Pedregosa, ICML 2016: summable
tolerances ``eps_k = eps0 decay^k``) and ``maid`` (the adaptively inexact variant of Salehi,
Mukherjee, Roberts & Ehrhardt, with a-posteriori certified accuracies)."""
from __future__ import annotations

import math

import numpy as np

from ..._options import Any_, Choices, Interval, IsCallable, NoneOr, Option
from ..._registry import MethodSpec, register
from ._common import (EXHAUSTED, NONNEGATIVE, POSITIVE, UNIT_OPEN, InnerSolver, _curvature, _finite_estimate,
                      _gd_inner, count, iterations, maxiter_option, quadratic_example, reporter, tol_option)
from .hypergradient import _cg, _hypergradient, bilevel_hypergradient


def _lower_solver(problem, opts):
    """``solve(x, y0, tol, maxiter, step) -> (y, ||grad_y G||, step)``: gradient descent on
    G(x, .) (``inner=None``), a numopt method by name, or a callable ``inner(x, y0, tol) -> y``
    (e.g. a closed form; its residual is measured by one call of ``lower``)."""
    inner = opts["inner"]
    if inner is None:
        return lambda x, y, tol, maxiter, step: _gd_inner(problem, x, y, tol, maxiter, step)
    if isinstance(inner, str):
        from ..._minimize import minimize

        def custom(x, y0, tol):
            r = minimize(lambda y: problem.lower(x, y)[0], y0, jac=lambda y: problem.lower(x, y)[2],
                         method=inner, tol=tol, options={"maxiter": opts["inner_maxiter"]})
            return r.x
    else:
        custom = inner

    def solve(x, y, tol, maxiter, step):
        yn = np.asarray(custom(x, y, tol), dtype=float)
        return yn, float(np.linalg.norm(problem.lower(x, yn)[2])), step
    return solve


# --------------------------------------------------------------------- implicit / hoag

def _value_search(problem, inner, x, y, hg, hn, Fv, alpha, eps, inner_step, hoag, opts):
    """Backtracking on the (approximate) value function Phi(x) = F(x, y*(x)) along -hg:
    ``(xn, yn, alpha)``, or None when 40 halvings fail."""
    for _ in range(40):
        xn = x - alpha * hg
        yn, _, _ = inner(xn, y.copy(), eps, opts["inner_maxiter"], inner_step)
        Fn = problem.upper(xn, yn)[0]
        slack = 2 * eps * (1 + abs(Fv)) if hoag else 0.0  # HOAG tolerates inexact values
        if Fn <= Fv - 0.25 * alpha * hn ** 2 + slack:
            return xn, yn, alpha
        alpha *= 0.5
    return None


def _implicit(problem, start, opts, hoag):
    """implicit / HOAG: per iteration, solve the lower level (warm start) to eps_k, the
    hypergradient's linear system to eps_k, then backtrack on the value function."""
    report = reporter(*start)
    x, y = np.asarray(start[0], dtype=float).copy(), np.asarray(start[1], dtype=float).copy()
    inner_step, alpha = 1.0, opts["step"]
    x_prev = hg_prev = None  # the last iterate and hypergradient (Barzilai-Borwein steps)
    inner = _lower_solver(problem, opts)
    tol = opts["tol"]
    if opts["linear_solver"] == "neumann" and opts["neumann_step"] is None:
        raise ValueError("linear_solver='neumann' needs the option `neumann_step` <= 1 / L_y (the lower smoothness)")
    for k in iterations(opts):
        eps = opts["inner_tol"] if not hoag else max(opts["eps0"] * opts["decay"] ** k, opts["inner_tol"])
        y, res, inner_step = inner(x, y, eps, opts["inner_maxiter"], inner_step)
        Fv = problem.upper(x, y)[0]
        if not (math.isfinite(Fv) and math.isfinite(res) and np.all(np.isfinite(y))):
            yield report(x, Fv, math.nan, y, lower_residual=res)  # the loop reports status 2
            return 2, (f"non-finite lower-level solution or upper value at iteration {k} "
                       f"(F = {Fv}, ||grad_y G|| = {res})")
        try:
            hg, _, info = _hypergradient(problem, x, y, linear_solver=opts["linear_solver"], tol=eps,
                                         maxiter=opts["cg_maxiter"], neumann_step=opts["neumann_step"])
        except np.linalg.LinAlgError as e:
            yield report(x, Fv, None, y, lower_residual=res)
            return 5, f"hypergradient failed at iteration {k}: {e}"
        except ValueError as e:
            yield report(x, Fv, None, y, lower_residual=res)
            return 2, f"hypergradient failed at iteration {k}: {e}"
        hn = float(np.linalg.norm(hg))
        if opts["step_rule"] == "bb" and x_prev is not None:
            # Barzilai-Borwein trial step s.s / s.d from the last two iterates and hypergradients
            # (backtracking keeps the descent condition); flat value functions, such as
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
        extras = dict(hypergrad=hg, lower_residual=res, step_size=alpha, eps=eps, linear_residual=info["residual"])
        if tol is not None and opt <= tol and not certified:
            yield report(x, Fv, None, y, **extras)
            return 5, (f"hypergradient norm {hn:.3g} is below tol but not certified: the "
                       + ("linear system was not solved to tolerance within cg_maxiter (residual "
                          f"{info['residual']:.3g})" if not info["converged"] else
                          f"lower level was not solved to inner_tol (||grad_y G|| = {res:.3g} > {eps:.3g})"))
        yield report(x, Fv, opt, y, **extras)
        found = _value_search(problem, inner, x, y, hg, hn, Fv, alpha, eps, inner_step, hoag, opts)
        if found is None:
            return 5, "line search on the value function failed (inaccurate hypergradient?)"
        x_prev, hg_prev = x, hg
        x, y, alpha = found
        alpha *= 1.2
    return EXHAUSTED


# ------------------------------------------------------------------------------ MAID

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
    K = opts["K"]
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
        return lambda x, y: float(mu)

    def estimate(x, y):
        L = _finite_estimate(_curvature(lambda v: problem.hvp_yy(x, y, v), y.size, iters=30),
                             "MAID's estimate of mu (the lower level's strong convexity)")
        top = _finite_estimate(_curvature(lambda v: L * v - problem.hvp_yy(x, y, v), y.size, iters=60),
                               "MAID's estimate of mu (the lower level's strong convexity)")
        return max(L - top, 1e-12 * L) / opts["safety"]
    return estimate


def _maid_direction(problem, x, y, Fx, Fy, mu, delta, opts):
    """``(h, ||r||, ||grad_y F||)``: the inexact hypergradient ``h = grad_x F - grad_xy G q`` with
    q from CG to ``||q - H^{-1} grad_y F|| <= ||r|| / mu <= delta``. LinAlgError when CG meets
    a non-positive curvature."""
    nFy = float(np.linalg.norm(Fy))
    q, info = _cg(lambda u: problem.hvp_yy(x, y, u), Fy, mu * delta / max(nFy, 1e-300), opts["cg_maxiter"]) \
        if nFy > 0 else (np.zeros_like(y), {"curvature": None})
    if info["curvature"] is not None:
        raise np.linalg.LinAlgError(
            f"the lower-level Hessian is not positive definite at (x, y): conjugate gradient met the "
            f"curvature {info['curvature']:.3g} <= 0 (the strong convexity mu = {mu:.3g} does not hold)")
    rn = float(np.linalg.norm(problem.hvp_yy(x, y, q) - Fy)) if nFy > 0 else 0.0
    return Fx - problem.cross(x, y, q), rn, nFy


def _maid_search(problem, solve, state, x, y, h, hn, Fv, omega, mu, mu_of, alpha, eps, delta, opts):
    """MAID's backtracking from x along -h: ``(xn, yn, alpha, eps, delta, retry)``. Accepts when
    the decrease is certified through the bounds; else (the inexact values show the decrease
    but the bounds do not certify it, or ``max_backtrack`` halvings fail) tightens both
    accuracies and asks for a restart at x (``retry``)."""
    eta, rho, nu, LF = opts["c1"], opts["rho"], opts["nu"], state["LF"]
    alpha0 = alpha
    for bt in range(opts["max_backtrack"] + 1):  # the last pass always ends (bt == max_backtrack)
        xn = x - alpha * h
        key, trial = xn.tobytes(), state["trial"]
        mu_n = mu if opts["mu"] is None else mu_of(xn, y)  # a given mu(x) is evaluated at xn
        yn, _, dn = solve(xn, trial[1].copy() if trial and trial[0] == key else y.copy(), eps, mu_n)
        state["trial"] = (key, yn)
        Fn, _, Fyn = problem.upper(xn, yn)
        omega_n = float(np.linalg.norm(Fyn)) * dn + 0.5 * LF * dn * dn
        want = eta * alpha * hn ** 2
        # certified: Phi(xn) <= Fn + omega_n <= Fv - omega - want <= Phi(x) - want
        if dn <= eps and Fn + omega_n <= Fv - omega - want:
            return xn, yn, alpha, eps, delta, False
        if Fn <= Fv - want or bt >= opts["max_backtrack"]:
            # no certificate: increase the accuracy of the lower solves and of the
            # hypergradient and restart from x; when the inexact values do show the
            # decrease, aim the new accuracy at half the margin (the bounds are linear in
            # eps to first order), else shrink by nu and restart from this iteration's step
            if Fn <= Fv - want:
                margin = Fv - Fn - want
                shrink = min(nu, max(opts["nu_min"], 0.5 * margin / max(omega + omega_n, 1e-300)))
            else:
                shrink, alpha = nu, alpha0
            return xn, yn, alpha, eps * shrink, delta * shrink, True
        alpha *= rho
    raise AssertionError("unreachable: the last backtracking pass returns")  # pragma: no cover


def _maid(problem, start, opts):
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
    bounds do not certify it, or ``max_backtrack`` halvings fail, both accuracies are
    tightened and the iteration restarts at x; after an accepted step they are loosened by
    ``nu_over`` (capped at eps0/delta0) and the step grows by ``rho_over`` (or is the
    Barzilai-Borwein step, ``step_rule="bb"``)."""
    report = reporter(*start)
    x, y = np.asarray(start[0], dtype=float).copy(), np.asarray(start[1], dtype=float).copy()
    eps, delta, alpha = opts["eps0"], opts["delta0"], opts["step"]
    mu_of = _mu_function(problem, opts)
    inner = _lower_solver(problem, opts)
    state = {"step": 1.0, "trial": None, "LF": None}

    def solve(x, y, eps, mu):
        """y with ||y - y*(x)|| <= d (<= eps when the solver succeeds): returns (y, ||grad_y G||, d)."""
        y, g, state["step"] = inner(x, y, mu * eps, opts["inner_maxiter"], state["step"])
        return y, g, g / mu

    K = x_prev = h_prev = mu_key = None
    k_acc = 0
    for k in iterations(opts):
        if mu_key != x.tobytes():  # mu at each accepted iterate (an estimate is reused at its trial points)
            mu, mu_key = mu_of(x, y), x.tobytes()
        y, gres, d = solve(x, y, eps, mu)
        if not (math.isfinite(d) and np.all(np.isfinite(y))):
            yield report(x, problem.upper(x, y)[0], math.nan, y, lower_residual=gres)  # status 2
            return 2, f"non-finite lower-level solution at iteration {k} (||grad_y G|| = {gres})"
        if d > eps:
            if k == 0:  # nothing reported yet: the starting point is the result
                yield report(x, problem.upper(x, y)[0], None, y, lower_residual=gres)
            return 5, (f"the lower-level solver did not reach the requested accuracy (||y - y*|| <= {d:.2e} > "
                       f"eps = {eps:.2e})")
        Fv, Fx, Fy = problem.upper(x, y)
        try:
            if state["LF"] is None:
                state["LF"], K = _maid_constants(problem, x, y, opts, mu)
            h, rn, nFy = _maid_direction(problem, x, y, Fx, Fy, mu, delta, opts)
        except np.linalg.LinAlgError as e:
            yield report(x, Fv, None, y, lower_residual=gres)
            return 5, f"MAID stopped at iteration {k}: {e}"
        hn = float(np.linalg.norm(h))
        if opts["step_rule"] == "bb" and x_prev is not None and not np.array_equal(x_prev, x):
            sv, dv = x - x_prev, h - h_prev
            sd = float(sv @ dv)
            if sd > 0:  # Barzilai-Borwein trial step (the certified test below still decides)
                alpha = min(float(sv @ sv) / sd, opts["max_step"])
        err = K * (d + rn / mu)  # a-posteriori bound on ||h - grad Phi(x)||
        omega = nFy * d + 0.5 * state["LF"] * d * d  # bound on |F(x, y) - Phi(x)|
        yield report(x, Fv, hn + err, y, hypergrad=h, lower_residual=gres, eps=eps, delta=delta, step_size=alpha,
                     hypergrad_error=err, value_error=omega, accepted=k_acc, mu=mu)
        xn, yn, alpha, eps, delta, retry = _maid_search(problem, solve, state, x, y, h, hn, Fv, omega, mu, mu_of,
                                                        alpha, eps, delta, opts)
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
    return EXHAUSTED


# ------------------------------------------------------------------------- registration

_STEP_RULE = Option("bb", "Trial step on x: 'bb' (Barzilai-Borwein from the last two iterates and "
                          "hypergradients, then backtracking) or 'grow' (the last accepted step times 1.2).",
                    Choices("bb", "grow"))
_INNER = Option(None, "Lower-level solver: None (gradient descent with backtracking, warm-started), a numopt "
                      "method name (e.g. 'agd') or a callable inner(x, y0, tol) -> y (e.g. a closed form).",
                NoneOr(InnerSolver()))


def _implicit_options(maxiter, inner_tol, hoag):
    out = {
        "maxiter": maxiter_option(maxiter, "outer (hypergradient) iterations"),
        "tol": tol_option(1e-6, "||hypergradient||" + (" + eps_k" if hoag else "")),
        "step": Option(1.0, "Initial step on x (> 0; then Barzilai-Borwein or grown, with backtracking).", POSITIVE),
        "step_rule": _STEP_RULE,
        "inner": _INNER,
        "inner_tol": Option(inner_tol, "Tolerance ||grad_y G|| of the lower-level solves" +
                            (" (floor of eps_k)." if hoag else "."), NONNEGATIVE),
        "inner_maxiter": Option(10000, "Maximum gradient steps of a lower-level solve.", count(1)),
        "linear_solver": Option("cg", "Solver of grad_yy G v = grad_y F: 'cg', 'neumann' (truncated series, needs "
                                      "neumann_step) or 'exact' (dense).", Choices("cg", "neumann", "exact")),
        "cg_maxiter": Option(1000, "Maximum iterations of the linear solver (CG or Neumann terms).", count(1)),
        "neumann_step": Option(None, "Step of the Neumann series (<= 1 / L_y); needed by linear_solver='neumann'.",
                               NoneOr(POSITIVE)),
    }
    if hoag:
        out["eps0"] = Option(1e-2, "First tolerance eps_0 of the lower and linear solves.", POSITIVE)
        out["decay"] = Option(0.8, "eps_k = eps0 decay^k (a summable sequence), in (0, 1).", UNIT_OPEN)
    return out


_MAID_OPTIONS = {
    "maxiter": maxiter_option(200, "evaluations (accepted steps plus accuracy increases)"),
    "tol": tol_option(1e-6, "||h|| + K (d + ||r|| / mu), a bound on ||grad Phi||"),
    "step": Option(1.0, "Initial step on x.", POSITIVE),
    "step_rule": _STEP_RULE,
    "eps0": Option(1e-2, "Initial (and largest) lower-level accuracy ||y - y*(x)|| <= eps.", POSITIVE),
    "delta0": Option(1e-2, "Initial (and largest) linear-system accuracy ||q - H^{-1} grad_y F|| <= delta.",
                     POSITIVE),
    "c1": Option(1e-4, "Sufficient-decrease constant eta of the certified test Phi(x+) <= Phi(x) - eta alpha "
                       "||h||^2, in (0, 1).", UNIT_OPEN, aliases=("eta",)),
    "rho": Option(0.5, "Backtracking factor of the step, in (0, 1).", UNIT_OPEN),
    "rho_over": Option(2.0, "Step growth after an accepted step (>= 1).", Interval(1, math.inf, open=("hi",))),
    "nu": Option(0.5, "Accuracy decrease factor when a decrease is not certified, in (0, 1).", UNIT_OPEN),
    "nu_min": Option(1e-3, "Smallest accuracy decrease factor, in (0, 1).", UNIT_OPEN),
    "nu_over": Option(1.25, "Accuracy increase factor after an accepted step (>= 1).",
                      Interval(1, math.inf, open=("hi",))),
    "max_backtrack": Option(8, "Backtracking steps before the accuracies are tightened.", count(1),
                            aliases=("max_backtracks",)),
    "max_step": Option(1e6, "Largest step on x.", Interval(0, open=("lo",))),
    "eps_min": Option(1e-13, "Accuracy floor: below it the run stops (status 5).", POSITIVE),
    "mu": Option(None, "Strong convexity of the lower level: a number, a callable mu(x), or None (estimated by "
                       "power iteration, divided by `safety`; then the bounds are not certified).",
                 NoneOr(Any_(IsCallable(), POSITIVE))),
    "K": Option(None, "Lipschitz constant of y -> hypergradient(x, y) in the error bound (None: estimated at "
                      "the first iterate, times `safety`).", NoneOr(Interval(0)), aliases=("lipschitz",)),
    "upper_lipschitz": Option(None, "L_F, the curvature of F in y (None: power iteration, times `safety`).",
                              NoneOr(Interval(0))),
    "safety": Option(2.0, "Safety factor of the estimated constants.", POSITIVE),
    "inner": _INNER,
    "inner_maxiter": Option(100000, "Maximum gradient steps of a lower-level solve.", count(1)),
    "cg_maxiter": Option(1000, "Maximum CG iterations.", count(1)),
}

_COMMON = dict(family="bilevel", kind="bilevel", backends=("numpy",), float64_internal=True,
               requires=("upper", "lower", "lower_hvp", "lower_cross"), example=quadratic_example)

register(MethodSpec(
    name="implicit", summary="Implicit-differentiation hypergradient descent (CG / Neumann / exact)",
    solve=lambda p, start, o: _implicit(p, start, o, hoag=False),
    options=_implicit_options(100, 1e-10, hoag=False),
    optimality="||hypergradient|| at the lower-level solution (certified only when the lower level and the "
               "linear system met their tolerances)",
    rate_text="With exact inner solves: gradient descent on the value function Phi, min_k ||grad Phi(x_k)||^2 = "
              "O(1/k) for smooth nonconvex Phi.",
    reference="Lorraine, Vicol & Duvenaud, AISTATS 2020 (Neumann series); Pedregosa, ICML 2016.", **_COMMON))
register(MethodSpec(
    name="hoag", summary="HOAG: hypergradient descent with summable inner tolerances eps_k",
    solve=lambda p, start, o: _implicit(p, start, o, hoag=True),
    options=_implicit_options(100, 1e-12, hoag=True),
    optimality="||hypergradient|| + eps_k (the hypergradient is only eps_k-accurate)",
    rate_text="Converges to a stationary point when the tolerances eps_k are summable (Pedregosa 2016, Thm 2).",
    reference="Pedregosa, Hyperparameter optimization with approximate gradient, ICML 2016.", **_COMMON))
register(MethodSpec(
    name="maid", summary="MAID: adaptively inexact hypergradient descent with certified accuracies",
    solve=_maid, options=_MAID_OPTIONS,
    optimality="||h|| + K (d + ||r|| / mu): the inexact hypergradient norm plus its a-posteriori error bound, "
               "a bound on ||grad Phi(x)||",
    rate_text="Certified descent Phi(x+) <= Phi(x) - eta alpha ||h||^2 at every accepted step; see the paper "
              "for the convergence theory (not re-derived here).",
    reference="Salehi, Mukherjee, Roberts & Ehrhardt, An adaptively inexact first-order method for bilevel "
              "optimization with application to hyperparameter learning (MAID).", **_COMMON))
