"""Exact augmented Lagrangian with randomized iterative sketching (method ``"eal"``).

Solves ``min f(x) s.t. c(x) = 0`` following Hong, Na, Mahoney & Kolar, "Constrained
Optimization via Exact Augmented Lagrangian and Randomized Iterative Sketching",
ICML 2023. The merit function is the exact augmented Lagrangian

    L_{mu,nu}(x, lam) = f + lam^T c + mu/2 ||c||^2 + nu/2 ||grad_x L||^2,

with gradient ``(grad_x L + nu H grad_x L + mu G^T c,  c + nu G grad_x L)`` (``L`` the
Lagrangian ``f + lam^T c``, ``H`` its Hessian in x, ``G`` the constraint Jacobian).
Each iteration solves the KKT (Newton) system

    [[B, G^T], [G, 0]] (dx, dlam) = -(grad_x L, c),

``B = H`` shifted by ``tau I`` when it is not positive definite on the null space of
``G``, inexactly with a randomized sketching solver (:mod:`numopt.sketch`) to the
relative accuracy ``delta``; if the direction is not a descent direction of the merit
function, ``delta`` is tightened (``delta <- delta / rho``) and, when the solve was
already accurate, the penalties are updated (``mu <- rho^2 mu``, ``nu <- nu / rho``);
then an Armijo backtracking line search on the merit function.

The authors' defaults: ``mu0 = 1, nu0 = 0.1, delta0 = 0.1, beta = 0.1`` (Armijo
constant), ``rho = 1.5``. Their theoretical accuracy threshold makes the inner
solver run very long; the practical default here (``inner="gaussian"``, block sketches
of size ``n + m``, warm started) reaches the requested accuracy in a few sketch
iterations on small problems; ``inner="kaczmarz"`` (single-row) and
``inner="direct"`` (exact solve) are available for comparison.

Rate: global convergence to a KKT point, local superlinear (quadratic with exact
Hessian) convergence when ``delta_k -> 0`` (``option sharpen=True``: the sharpened
accuracy ``delta_k <= min(delta, ||KKT residual||)``), Hong et al. (2023), Thms 4-5.

Optimality measure (``tol``): the KKT residual ``max(||grad_x L||_inf, ||c||_inf)``.
"""
from __future__ import annotations

import math

import numpy as np

from .._loop import Step
from .._registry import MethodSpec, register

__all__ = ["eal"]


def _lagrangian_hessian(problem, x, lam, g_fun, h):
    """Exact when the oracles give Hessians, else central differences of grad_x L."""
    f, c = problem.objective, problem.constraints
    exact_f = hasattr(f, "has") and f.has("hess")
    exact_c = hasattr(c, "has") and c.has("hess")
    if exact_f and exact_c:
        return np.asarray(f.hess(x), dtype=float) + np.asarray(c.hess(x, lam), dtype=float), True
    n = x.size
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = h * max(1.0, abs(x[i]))
        H[:, i] = (g_fun(x + e, lam) - g_fun(x - e, lam)) / (2 * e[i])
    return 0.5 * (H + H.T), False


def _shift_for_nullspace(B, G, min_eig):
    """tau >= 0 such that B + tau I is positive definite on null(G)."""
    n = B.shape[0]
    if G.shape[0]:
        Q, R = np.linalg.qr(G.T, mode="complete")
        rank = int(np.sum(np.abs(np.diag(R[:min(R.shape), :min(R.shape)])) > 1e-10 * max(1, np.abs(R).max())))
        Z = Q[:, rank:]
    else:
        Z = np.eye(n)
    if Z.shape[1] == 0:
        return 0.0
    lmin = np.linalg.eigvalsh(Z.T @ B @ Z)[0]
    return 0.0 if lmin >= min_eig else min_eig - lmin


def _solve_kkt(K, rhs, opts, rng, z0, delta):
    from ..sketch import solve as sk_solve

    if opts["inner"] == "direct":
        z, *_ = np.linalg.lstsq(K, rhs, rcond=None)
        return z, 0, np.linalg.norm(K @ z - rhs) / max(np.linalg.norm(rhs), 1e-300)
    bs = opts["block_size"] or K.shape[0]
    r = sk_solve(K, rhs, method=opts["inner"], tol=delta, maxiter=opts["inner_maxiter"], rng=rng, x0=z0,
                 block_size=min(bs, K.shape[0]), trace=False)
    return r.x, r.nit, r.optimality


def _eal(problem, x0, opts):
    out_dtype = np.asarray(x0).dtype  # iterate in float64, report in the input's dtype
    x = np.asarray(x0, dtype=float).copy()
    f, c = problem.objective, problem.constraints
    rng = np.random.default_rng(opts["rng"])
    mu, nu, delta, beta, rho = opts["mu0"], opts["nu0"], opts["delta0"], opts["beta"], opts["rho"]
    for name in ("mu0", "nu0", "delta0"):
        if not opts[name] > 0:
            raise ValueError(f"`{name}` must be > 0, got {opts[name]}")
    if not 0 < beta < 0.5 or not rho > 1:
        raise ValueError("need 0 < beta < 0.5 and rho > 1")

    def grad_L(x, lam):
        return f.grad(x) + c.jacobian(x).T @ lam

    fx, gx = f.value_and_grad(x)
    cx = np.asarray(c.value(x), dtype=float)
    Gx = np.asarray(c.jacobian(x), dtype=float).reshape(cx.size, x.size)
    m = cx.size
    lam = -np.linalg.lstsq(Gx.T, gx, rcond=None)[0] if m else np.zeros(0)
    nsketch = 0

    def merit(x, lam, mu, nu):
        fv = f.value(x)
        cv = np.asarray(c.value(x), dtype=float)
        gl = grad_L(x, lam)
        return fv + lam @ cv + 0.5 * mu * cv @ cv + 0.5 * nu * gl @ gl

    z = None
    while True:
        gl = gx + Gx.T @ lam
        kkt = max(np.abs(gl).max(initial=0.0), np.abs(cx).max(initial=0.0))
        yield Step(x.astype(out_dtype, copy=True), fx, kkt, jac=gx, multipliers=lam, constraint_violation=float(np.abs(cx).max(initial=0)),
                   stationarity=float(np.abs(gl).max(initial=0)), mu=mu, nu=nu, nsketch=nsketch)
        H, _ = _lagrangian_hessian(problem, x, lam, grad_L, opts["fd_step"])
        tau = _shift_for_nullspace(H, Gx, opts["min_curvature"])
        B = H + tau * np.eye(x.size)
        K = np.block([[B, Gx.T], [Gx, np.zeros((m, m))]])
        rhs = -np.concatenate([gl, cx])
        grad_merit = np.concatenate([gl + nu * (H @ gl) + mu * (Gx.T @ cx), cx + nu * (Gx @ gl)])
        d_ok = False
        for _ in range(opts["max_adjust"]):
            d_acc = min(delta, kkt) if opts["sharpen"] else delta
            z, its, achieved = _solve_kkt(K, rhs, opts, rng, None if z is None or z.size != K.shape[0] else z,
                                          d_acc)
            nsketch += its
            if not np.all(np.isfinite(z)):
                return 5, "KKT solve produced non-finite values (singular KKT matrix?)"
            slope = grad_merit @ z
            if slope < -1e-14 * max(1.0, np.linalg.norm(grad_merit) * np.linalg.norm(z)):
                d_ok = True
                break
            if achieved > d_acc * 1.0001:  # the inner solver could not reach the accuracy
                if achieved > 0.5:
                    return 5, (f"KKT system could not be solved (relative residual {achieved:.1e}): "
                               "rank-deficient constraint Jacobian or inconsistent constraints?")
            if achieved > d_acc and delta > opts["delta_min"]:
                delta /= rho  # the solve missed its accuracy: ask for more
            else:  # accurate solve but still no descent: strengthen the penalties
                mu *= rho ** 2
                nu /= rho
                delta = max(delta / rho, opts["delta_min"])
                grad_merit = np.concatenate([gl + nu * (H @ gl) + mu * (Gx.T @ cx), cx + nu * (Gx @ gl)])
        dx, dl = z[:x.size], z[x.size:]
        if not d_ok:
            # near a KKT point the merit slope is lost in rounding: accept the Newton step
            # if it reduces the KKT residual (local phase), else give up
            xt, lt = x + dx, lam + dl
            ct = np.asarray(c.value(xt), dtype=float)
            kt = max(np.abs(grad_L(xt, lt)).max(initial=0.0), np.abs(ct).max(initial=0.0))
            if np.isfinite(kt) and kt < 0.5 * kkt:
                x, lam = xt, lt
                fx, gx = f.value_and_grad(x)
                cx, Gx = ct, np.asarray(c.jacobian(x), dtype=float).reshape(m, x.size)
                continue
            return 5, "no descent direction for the merit function after adjusting delta, mu and nu"
        phi0 = merit(x, lam, mu, nu)
        alpha = 1.0
        for _ in range(opts["max_linesearch"]):
            try:
                phi = merit(x + alpha * dx, lam + alpha * dl, mu, nu)
            except (FloatingPointError, OverflowError, ValueError):
                phi = math.inf
            if np.isfinite(phi) and phi <= phi0 + beta * alpha * slope:
                break
            alpha *= 0.5
        else:
            return 5, (f"line search failed on the merit function (||c||_inf = {np.abs(cx).max():.2e}); "
                       "the constraints may be infeasible")
        if alpha < opts["alpha_min"]:
            # tiny steps: the merit function is near a stationary point that is not a
            # KKT point; the penalties are too weak (Hong et al. 2023, Sec. 3)
            mu *= rho ** opts["tiny_mu_power"]
        x, lam = x + alpha * dx, lam + alpha * dl
        fx, gx = f.value_and_grad(x)
        cx = np.asarray(c.value(x), dtype=float)
        Gx = np.asarray(c.jacobian(x), dtype=float).reshape(m, x.size)
        if not (np.all(np.isfinite(cx)) and np.all(np.isfinite(Gx))):
            yield Step(x, float("nan"), float("nan"))
            return 2, "non-finite constraint value or Jacobian"


def _example(xp):
    """HS7: min log(1 + x1^2) - x2 s.t. (1 + x1^2)^2 + x2^2 = 4; f* = -sqrt(3)."""
    import numpy as _np

    return dict(fun=lambda x: float(_np.log1p(x[0] ** 2) - x[1]),
                jac=lambda x: _np.array([2 * x[0] / (1 + x[0] ** 2), -1.0]),
                x0=_np.array([2.0, 2.0]),
                constraints={"type": "eq", "fun": lambda x: _np.array([(1 + x[0] ** 2) ** 2 + x[1] ** 2 - 4]),
                             "jac": lambda x: _np.array([[4 * x[0] * (1 + x[0] ** 2), 2 * x[1]]])},
                f_star=-3 ** 0.5)


register(MethodSpec(
    name="eal", family="constrained", summary="Exact augmented Lagrangian with randomized sketching (equality constraints)",
    solve=_eal, requires=("grad", "constraints"), accepts_constraints=True, backends=("numpy",),
    options={
        "tol": (1e-8, "Tolerance on the KKT residual max(||grad_x L||_inf, ||c||_inf)."),
        "mu0": (1.0, "Initial penalty on ||c||^2 (authors' default)."),
        "nu0": (0.1, "Initial penalty on ||grad_x L||^2 (authors' default)."),
        "delta0": (0.1, "Initial relative accuracy of the sketched KKT solve (authors' default)."),
        "delta_min": (1e-12, "Smallest accuracy before the penalties are changed instead."),
        "beta": (0.1, "Armijo constant of the merit line search (authors' default)."),
        "rho": (1.5, "Update factor: mu <- rho^2 mu, nu <- nu / rho, delta <- delta / rho (authors' default)."),
        "inner": ("gaussian", "KKT solver: 'gaussian', 'countsketch', 'block_kaczmarz', 'kaczmarz' "
                              "(numopt.sketch) or 'direct'."),
        "block_size": (None, "Sketch size (default n + m: one exact projection per sketch iteration)."),
        "inner_maxiter": (10000, "Maximum sketch iterations per KKT solve."),
        "sharpen": (True, "Sharpened accuracy delta_k <= ||KKT residual|| for local superlinear convergence."),
        "min_curvature": (1e-8, "Minimum eigenvalue of the reduced Hessian before a shift tau I is added."),
        "fd_step": (1e-6, "Relative step of the Hessian differences when no Hessian is given."),
        "max_adjust": (40, "Maximum accuracy/penalty adjustments per iteration."),
        "max_linesearch": (60, "Maximum backtracking steps."),
        "tiny_mu_power": (0, "mu <- rho^p mu after a tiny step (0 = off)."),
        "alpha_min": (1e-3, "A step below this strengthens the penalties (mu <- rho^2 mu, nu <- nu / rho)."),
        "rng": (None, "Seed or numpy Generator of the sketches."),
    },
    optimality="KKT residual max(||grad f + G^T lam||_inf, ||c||_inf)",
    rate_text="Global convergence to KKT points; local superlinear (quadratic with exact Hessians and "
              "sharpened accuracy) convergence (Hong, Na, Mahoney & Kolar 2023, Thms 4-5).",
    rate=None, example=_example,
    reference="I. Hong, S. Na, M.W. Mahoney, M. Kolar. Constrained Optimization via Exact Augmented "
              "Lagrangian and Randomized Iterative Sketching. ICML 2023."))


def eal(fun, x0=None, *, jac=None, hess=None, constraints=None, tol=None, callback=None, **options):
    """``numopt.minimize(fun, x0, jac=jac, hess=hess, constraints=constraints, method="eal")``."""
    from .._minimize import minimize

    return minimize(fun, x0, jac=jac, hess=hess, constraints=constraints, method="eal", tol=tol,
                    callback=callback, options=options)
