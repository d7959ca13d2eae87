"""Exact augmented Lagrangian with randomized iterative sketching (method ``"eal"``).

Solves ``min f(x) s.t. c(x) = 0`` following Hong, Na, Mahoney & Kolar, "Constrained
Optimization via Exact Augmented Lagrangian and Randomized Iterative Sketching",
ICML 2023. The merit function is the exact augmented Lagrangian

    L_{mu,nu}(x, lam) = f + lam^T c + mu/2 ||c||^2 + nu/2 ||grad_x L||^2,

with gradient ``(grad_x L + nu H grad_x L + mu G^T c,  c + nu G grad_x L)`` (``L`` the
Lagrangian ``f + lam^T c``, ``H`` its Hessian in x, ``G`` the constraint Jacobian).
Each iteration solves the KKT (Newton) system

    [[B, G^T], [G, 0]] (dx, dlam) = -(grad_x L, c),

``B = H`` with the eigenvalues of its reduced Hessian ``Z^T H Z`` (``Z`` a basis of the null
space of ``G``) below ``min_curvature`` replaced by their absolute values (option
``curvature="flip"``; ``"shift"`` adds ``tau I`` instead), inexactly with a randomized
sketching solver (:mod:`numopt.sketch`) to the
relative accuracy ``delta``; if the direction is not a descent direction of the merit
function, ``delta`` is tightened (``delta <- delta / rho``) and, when the solve was
already accurate, the penalties are updated (``mu <- rho^2 mu``, ``nu <- nu / rho``);
then an Armijo backtracking line search on the merit function (interpolated trial steps;
steps longer than ``max_step max(1, ||x||_inf)`` scaled down to that length). When the
iteration stops, or makes no progress for ``restore_window`` iterations, with the constraints
violated, a least-squares feasibility phase runs (:mod:`numopt.solvers._eal_feasibility`).

The authors' defaults: ``mu0 = 1, nu0 = 0.1, delta0 = 0.1, beta = 0.1`` (Armijo
constant), ``rho = 1.5``. Their theoretical accuracy threshold makes the inner
solver run very long; the practical default here (``inner="gaussian"``, block sketches
of size ``n + m``, warm started) reaches the requested accuracy in a few sketch
iterations on small problems; ``inner="kaczmarz"`` (single-row) and
``inner="direct"`` (exact solve) are available for comparison.

Rate: global convergence to a KKT point, local superlinear (quadratic with exact
Hessian) convergence when ``delta_k -> 0`` (``option sharpen=True``: the sharpened
accuracy ``delta_k <= min(delta, ||KKT residual||)``), Hong et al. (2023), Thms 4-5.

Optimality measure (``tol``): the KKT residual ``max(||grad_x L||_inf, ||c||_inf)``,
NaN-propagating: a NaN/inf constraint value, Jacobian, gradient or Hessian ends the run
with status 2 (at x0: a ValueError naming the oracle), never with a finite residual.

Dense method: the KKT matrix ``[[B, G^T], [G, 0]]`` and the null-space test are dense
``(n + m) x (n + m)`` / ``n x n`` arrays. A sparse constraint Jacobian (e.g. a sparse
``LinearConstraint.A``) or sparse Hessian is converted to dense only while
``n + m <= dense_limit`` (option, default 5000: a KKT matrix of at most 200 MB); larger
sparse problems raise a ``ValueError`` instead of densifying.

Randomness: the sketches draw from ``numpy.random.default_rng(rng)``, ``rng = 0`` when
not given, so a default run is reproducible.
"""
from __future__ import annotations

import math
import time
from collections import deque

import numpy as np

from .._linesearch import backtrack_step
from .._loop import Step
from .._options import Choices, Flag, Interval, NoneOr, Option, generator
from .._registry import MethodSpec, register
from ._eal_feasibility import (feasibility_budget, restoration_due, restoration_message, slow_progress,
                               solve_feasibility)

# Exported as numopt.<name> (lazily; numopt/__init__.py reads this tuple without importing the module).
__numopt_public__ = ('eal',)
__all__ = ["eal"]


def _inf_norm(v):
    """max |v_i| (0 for an empty vector); NaN when any entry is NaN (np.max propagates it)."""
    v = np.asarray(v, dtype=float)
    return float(np.max(np.abs(v))) if v.size else 0.0


def _kkt_residual(gl, c):
    """max(||grad_x L||_inf, ||c||_inf) without Python's max, which would drop a NaN."""
    return float(np.max([_inf_norm(gl), _inf_norm(c)]))


def _dense(M, shape, what):
    """``M`` as a dense float array of ``shape``. Sparse matrices are densified here only
    because the caller already checked ``n + m <= dense_limit`` (see the module docstring)."""
    import scipy.sparse as sp

    if sp.issparse(M):
        M = M.toarray()  # small by the dense_limit check in _eal
    M = np.asarray(M, dtype=float)
    if M.size != shape[0] * shape[1]:
        raise ValueError(f"the {what} has shape {M.shape}, expected {shape}")
    return M.reshape(shape)


def has_exact_hessians(f, c):
    """Whether the objective ``f`` and the constraints ``c`` (None: none) give second derivatives."""
    return bool((hasattr(f, "has") and f.has("hess")) and (c is None or (hasattr(c, "has") and c.has("hess"))))


def bfgs_first(opts, exact):
    """``hessian="auto"`` without exact Hessians: start with damped BFGS and switch to
    differences of grad_x L once, when the BFGS iteration stops without success."""
    return opts["hessian"] == "auto" and not exact


def hessian_mode(qn, exact, opts):
    """The Lagrangian Hessian an iteration uses now: "bfgs", "fd" or "exact" (result key ``hessian``)."""
    if qn is not None:
        return "bfgs"
    return "exact" if exact and opts["hessian"] != "fd" else "fd"


def restart_penalties(st, opts, *windows):
    """The penalties and the sketch accuracy back to their initial values, the stall
    ``windows`` emptied (after a change of Hessian or a feasibility phase)."""
    st.mu, st.nu, st.delta = opts["mu0"], opts["nu0"], opts["delta0"]
    for w in windows:
        w.clear()


def switch_to_differences(stop, qn, switchable):
    """Whether a BFGS run (``qn``) that stopped with ``stop`` goes on with Hessians by
    differences: once (``switchable``), after a status-5 stop (stall, failed line search,
    no descent direction, failed KKT solve); never after a time limit or non-finite values."""
    return switchable and qn is not None and stop is not None and stop[0] == 5


def _lagrangian_hessian(problem, x, lam, g_fun, h, force_fd=False):
    """Exact when the oracles give Hessians, else central differences of grad_x L."""
    f, c = problem.objective, problem.constraints
    if has_exact_hessians(f, c) and not force_fd:
        n = x.size
        return (_dense(f.hess(x), (n, n), "objective Hessian")
                + _dense(c.hess(x, lam), (n, n), "constraint Hessian")), True
    n = x.size
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = h * max(1.0, abs(x[i]))
        H[:, i] = (g_fun(x + e, lam) - g_fun(x - e, lam)) / (2 * e[i])
    return 0.5 * (H + H.T), False


def _damped_bfgs(B, s, y):
    """Powell-damped BFGS update of a Lagrangian Hessian approximation (stays positive definite)."""
    Bs = B @ s
    sBs = float(s @ Bs)
    if sBs <= 1e-300:
        return B
    sy = float(s @ y)
    if sy < 0.2 * sBs:
        theta = 0.8 * sBs / (sBs - sy)
        y = theta * y + (1 - theta) * Bs
        sy = float(s @ y)
    return B - np.outer(Bs, Bs) / sBs + np.outer(y, y) / sy


def _nullspace_basis(G, n):
    """An orthonormal basis of null(G) (n x (n - rank G))."""
    if not G.shape[0]:
        return np.eye(n)
    Q, R = np.linalg.qr(G.T, mode="complete")
    rank = int(np.sum(np.abs(np.diag(R[:min(R.shape), :min(R.shape)])) > 1e-10 * max(1, np.abs(R).max())))
    return Q[:, rank:]


def _shift_for_nullspace(B, G, min_eig):
    """tau >= 0 such that B + tau I is positive definite on null(G) (smallest reduced
    eigenvalue >= max(min_eig, |lambda_min|))."""
    Z = _nullspace_basis(G, B.shape[0])
    if Z.shape[1] == 0:
        return 0.0, 1.0
    lmin = float(np.linalg.eigvalsh(Z.T @ B @ Z)[0])
    if lmin >= min_eig:
        return 0.0, lmin
    # negative curvature: mirror it (the reduced Hessian's smallest eigenvalue becomes |lmin|),
    # so that the step length along it stays on the scale of the problem
    tau = max(min_eig - lmin, -2.0 * lmin)
    return tau, lmin + tau


def _flip_on_nullspace(B, G, min_eig):
    """(B', smallest reduced eigenvalue of B'): B with the eigenvalues of its reduced
    Hessian Z^T B Z (Z a basis of null(G)) below ``min_eig`` replaced by
    max(|lambda|, min_eig); the others, and B off the null space, unchanged. Unlike a shift
    tau I, directions of positive curvature keep their Newton step (no linear convergence
    near a point where some other direction has negative curvature)."""
    Z = _nullspace_basis(G, B.shape[0])
    if Z.shape[1] == 0:
        return B, 1.0
    lam, U = np.linalg.eigh(Z.T @ B @ Z)
    low = lam < min_eig
    if not low.any():
        return B, float(lam[0])
    new = np.where(low, np.maximum(np.abs(lam), min_eig), lam)
    V = Z @ U[:, low]
    B = B + (V * (new[low] - lam[low])) @ V.T
    return 0.5 * (B + B.T), float(new.min())


def _step_radius(x, max_step):
    """Delta = max_step max(1, ||x||_inf): the longest step eal takes from x."""
    return max_step * max(1.0, _inf_norm(x))


def _cap_scale(dx, radius):
    """The factor (<= 1) that scales a step dx down to the radius (1 when it is within)."""
    size = _inf_norm(dx)
    return radius / size if size > radius else 1.0


def _theory_constants(B, H, G, tau_min_eig):
    """psi (a bound on ||K^{-1}||) and Upsilon of Hong et al.'s accuracy condition."""
    xi_G = float(np.linalg.eigvalsh(G @ G.T)[0]) if G.shape[0] else 1.0
    xi_B = max(tau_min_eig, 1e-12)
    nB = float(np.linalg.norm(B, 2))
    psi = 7.0 * max(nB ** 2, 1.0) / (min(max(xi_G, 1e-300), 1.0) * xi_B)
    ups = max(nB, float(np.linalg.norm(H, 2)), float(np.linalg.norm(G, 2)) if G.size else 0.0)
    return psi, ups


def _delta_theory(psi, ups, mu, nu, beta):
    return (0.5 - beta) * nu / (2 * psi ** 2 * (3 * ups + 4 * nu * ups ** 2 + mu * ups ** 2))


def _inner_budget(opts, size):
    """Sketch iterations allowed per KKT solve: the option ``inner_maxiter``, or (None, the
    default) ``min(10000, 50 ceil(size / block))``: a full-size Gaussian sketch is one exact
    projection, so 50 of them only fail on a singular or inconsistent system."""
    if opts["inner_maxiter"] is not None:
        return opts["inner_maxiter"]
    bs = min(opts["block_size"] or size, size)
    if opts["kkt_solver"] == "kaczmarz":
        bs = 1
    return int(min(10000, 50 * math.ceil(size / bs)))


def _solve_kkt(K, rhs, opts, rng, z0, delta):
    """(z, sketch iterations, relative residual, direct). A sketch solve that misses
    ``delta`` within its budget (:func:`_inner_budget`) is finished by a direct
    least-squares solve of the small dense system (the sketch is not repeated on a
    singular system); ``direct`` says that z is that least-squares solution (asking for
    more accuracy cannot improve it)."""
    from ..sketch import solve as sk_solve

    if opts["kkt_solver"] == "direct":
        z, *_ = np.linalg.lstsq(K, rhs, rcond=None)
        return z, 0, np.linalg.norm(K @ z - rhs) / max(np.linalg.norm(rhs), 1e-300), True
    bs = opts["block_size"] or K.shape[0]
    r = sk_solve(K, rhs, method=opts["kkt_solver"], tol=delta, maxiter=_inner_budget(opts, K.shape[0]), rng=rng,
                 x0=z0, block_size=min(bs, K.shape[0]), trace=False)
    if r.optimality <= delta:
        return r.x, r.nit, r.optimality, False
    z, *_ = np.linalg.lstsq(K, rhs, rcond=None)
    return z, r.nit, np.linalg.norm(K @ z - rhs) / max(np.linalg.norm(rhs), 1e-300), True


class Stall:
    """Stall test on the KKT residual: stalled when the best residual of the last
    ``window`` iterations is not below ``factor`` times the best one before them
    (``window = 0`` turns it off). Given ``f`` and ``feasible`` (the inequality path), a
    run whose feasible iterate has an objective more than ``1e-6 (1 + |f|)`` below every
    feasible iterate before the window is not stalled: it has left a region (a degenerate
    vertex, a saddle) where its residual was small for a better point (an infeasible
    iterate's objective proves nothing)."""

    def __init__(self, window, factor):
        self.window, self.factor = window, factor
        self.clear()

    def clear(self):
        # the last `window` residuals and feasible objectives (inf when infeasible), and the
        # best of each before them (running minima: O(window) per call, not O(iterations))
        self.recent, self.frecent = deque(), deque()
        self.best_old, self.f_old = np.inf, np.inf

    def __call__(self, kkt, f=None, feasible=False):
        w = self.window
        if not w:
            return None
        self.recent.append(kkt)
        self.frecent.append(f if feasible and f is not None else np.inf)
        if len(self.recent) <= w:
            return None
        while len(self.recent) > w:  # leaving the window: into the "before" minima
            self.best_old = min(self.best_old, self.recent.popleft())
            self.f_old = min(self.f_old, self.frecent.popleft())
        before, recent = self.best_old, min(self.recent)
        if np.isfinite(self.f_old) and self.frecent[-1] < self.f_old - 1e-6 * (1.0 + abs(self.f_old)):
            return None
        if recent > self.factor * before:
            return 5, (f"stalled: the KKT residual has not decreased by the factor stall_factor = {self.factor} "
                       f"in the last stall_window = {w} iterations (best {recent:.3e}, before {before:.3e}); "
                       "tol is below what the iteration reaches (rounding) or the method is stuck")
        return None


class _Oracles:
    """f, c and the quantities eal builds from them (dense constraint Jacobian,
    grad_x L, the exact augmented Lagrangian merit function)."""

    def __init__(self, f, c, m):
        self.f, self.c, self.m = f, c, m

    def value_c(self, x):
        return np.asarray(self.c.value(x), dtype=float).ravel()

    def jac_c(self, x):
        return _dense(self.c.jacobian(x), (self.m, x.size), "constraint Jacobian")

    def grad_L(self, x, lam):
        return self.f.grad(x) + self.jac_c(x).T @ lam

    def merit(self, x, lam, mu, nu):
        fv, gx, cv, G = self.at(x)
        gl = gx + G.T @ lam
        return fv + lam @ cv + 0.5 * mu * cv @ cv + 0.5 * nu * gl @ gl

    def _eval(self, x):
        """(f, grad f, c, G) at x, remembered: the line search's accepted trial point is the
        next iterate, whose oracles are then not called again."""
        fx, gx = self.f.value_and_grad(x)
        G = self.jac_c(x)  # before c(x): an oracle that computes both can serve c from its last point
        out = (fx, gx, self.value_c(x), G)
        self._last = (np.array(x, copy=True), out)
        return out

    def at(self, x):
        """(f, grad f, c, G) at x."""
        last = getattr(self, "_last", None)
        if last is not None and np.array_equal(last[0], x):
            return last[1]
        return self._eval(x)


def _nonfinite(fx, gx, cx, Gx, where):
    """(2, message) naming the first non-finite oracle value, else None."""
    for val, what in ((fx, "objective value"), (gx, "objective gradient"), (cx, "constraint value"),
                      (Gx, "constraint Jacobian")):
        if not np.all(np.isfinite(val)):
            return 2, f"non-finite {what} {where}; returning the last finite iterate"
    return None


def _start(problem, x, opts):
    """The oracles and (f, grad f, c, G) at x0, with the checks that need them: the
    dense_limit for a sparse Jacobian, finite values (ValueError naming the oracle),
    an exact Hessian when hessian='exact' asks for one."""
    import scipy.sparse as sp

    f, c = problem.objective, problem.constraints
    fx, gx = f.value_and_grad(x)
    cx = np.asarray(c.value(x), dtype=float).ravel()
    m = cx.size
    J0 = c.jacobian(x)
    if sp.issparse(J0) and x.size + m > opts["dense_limit"]:
        raise ValueError(f"the constraint Jacobian is a sparse {J0.shape[0]} x {J0.shape[1]} matrix, but eal "
                         f"forms dense (n + m) x (n + m) KKT matrices and n + m = {x.size + m} exceeds "
                         f"dense_limit = {opts['dense_limit']}: use a solver for large sparse problems "
                         "(or raise the option dense_limit if the dense KKT matrix fits in memory)")
    Gx = _dense(J0, (m, x.size), "constraint Jacobian")
    if not np.all(np.isfinite(gx)):
        raise ValueError("the objective gradient (`jac`) at x0 contains NaN or inf")
    if not np.all(np.isfinite(cx)):
        raise ValueError("the constraint function at x0 returned NaN or inf")
    if not np.all(np.isfinite(Gx)):
        raise ValueError("the constraint Jacobian at x0 contains NaN or inf")
    has_exact = has_exact_hessians(f, c)
    if opts["hessian"] == "exact" and not has_exact:
        raise ValueError("hessian='exact' needs the objective's Hessian and the constraints' second derivatives "
                         "(NonlinearConstraint(hess=...) or a 'hess' entry)")
    return _Oracles(f, c, m), (fx, gx, cx, Gx)


def _hessian_terms(problem, ops, x, lam, gl, qn, opts):
    """(H, H grad_x L): the Lagrangian Hessian (exact or differences; the BFGS matrix
    ``qn`` when given, with H grad_x L then by one gradient difference, so the merit
    gradient stays exact)."""
    if qn is None:
        H, _ = _lagrangian_hessian(problem, x, lam, ops.grad_L, opts["fd_step"], force_fd=opts["hessian"] == "fd")
        return H, H @ gl
    hh = opts["fd_step"] * max(1.0, np.linalg.norm(x)) / max(np.linalg.norm(gl), 1e-300)
    return qn, (ops.grad_L(x + hh * gl, lam) - ops.grad_L(x - hh * gl, lam)) / (2 * hh)


def _merit_gradient(st, gl, Hgl, Gx, cx):
    return np.concatenate([gl + st.nu * Hgl + st.mu * (Gx.T @ cx), cx + st.nu * (Gx @ gl)])


def _direction(st, K, rhs, gl, Hgl, Gx, cx, kkt, opts, rng, theory):
    """Sketched Newton direction ``st.z`` with the accuracy / penalty adjustments (Hong et al.
    2023, Alg. 1): returns (descent found, merit slope, stop or None); updates ``st``'s
    mu, nu, delta, z and nsketch."""
    rho = opts["rho"]
    grad_merit = _merit_gradient(st, gl, Hgl, Gx, cx)
    slope, direct = None, False
    for _ in range(opts["max_adjust"]):
        if time.perf_counter() > st.deadline:
            return False, slope, (3, "Time limit (max_time) reached during the KKT solves.")
        if theory:  # Hong et al.: ||K z - b|| <= delta ||b|| / (||K|| psi), relative to ||b||
            d_acc = st.delta / (float(np.linalg.norm(K, 2)) * st.psi)
        else:
            d_acc = min(st.delta, kkt) if opts["sharpen"] else st.delta
        if not direct:  # a least-squares solution is not improved by solving again
            z0 = None if st.z is None or st.z.size != K.shape[0] else st.z
            st.z, its, achieved, direct = _solve_kkt(K, rhs, opts, rng, z0, d_acc)
            st.nsketch += its
        if not np.all(np.isfinite(st.z)):
            return False, slope, (5, "KKT solve produced non-finite values (singular KKT matrix?)")
        slope = grad_merit @ st.z
        if theory:
            if slope <= -0.5 * st.nu * (rhs @ rhs):
                return True, slope, None
            st.mu *= rho ** 2
            st.nu /= rho
            st.delta = min(st.delta / rho ** 4, _delta_theory(st.psi, st.ups, st.mu, st.nu, opts["beta"]))
            grad_merit = _merit_gradient(st, gl, Hgl, Gx, cx)
            continue
        if slope < -1e-14 * max(1.0, np.linalg.norm(grad_merit) * np.linalg.norm(st.z)):
            return True, slope, None
        if achieved > d_acc * 1.0001 and achieved > 0.5:  # the inner solver could not reach the accuracy
            return False, slope, (5, f"KKT system could not be solved (relative residual {achieved:.1e}): "
                                     "rank-deficient constraint Jacobian or inconsistent constraints?")
        if achieved > d_acc and st.delta > opts["delta_min"] and not direct:
            st.delta /= rho  # the solve missed its accuracy: ask for more
        else:  # accurate solve but still no descent: strengthen the penalties
            st.mu *= rho ** 2
            st.nu /= rho
            st.delta = max(st.delta / rho, opts["delta_min"])
            grad_merit = _merit_gradient(st, gl, Hgl, Gx, cx)
    return False, slope, None


def _local_step(ops, x, lam, dx, dl, kkt, it):
    """Near a KKT point the merit slope is lost in rounding: the full Newton step when it
    halves the KKT residual (local phase). Returns ((x, lam, f, g, c, G), None) or
    (None, stop)."""
    xt, lt = x + dx, lam + dl
    ct = ops.value_c(xt)
    kt = _kkt_residual(ops.grad_L(xt, lt), ct)  # NaN when c or its Jacobian is NaN at xt
    if not np.isfinite(kt):
        return None, (2, f"non-finite KKT residual (constraint value, Jacobian or objective gradient) at the "
                         f"Newton step of iteration {it}; returning the last finite iterate")
    if not kt < 0.5 * kkt:
        return None, (5, "no descent direction for the merit function after adjusting delta, mu and nu")
    fxt, gxt = ops.f.value_and_grad(xt)
    Gxt = ops.jac_c(xt)
    bad = _nonfinite(fxt, gxt, ct, Gxt, f"at the Newton step of iteration {it}")
    return (None, bad) if bad else ((xt, lt, fxt, gxt, ct, Gxt), None)


_TINY_MOVE = 1e-12  # relative move of (x, lam) below which the merit line search gives up


def _line_search(ops, st, x, lam, dx, dl, slope, opts):
    """Armijo backtracking on the merit function (interpolated trial steps,
    :func:`numopt._linesearch.backtrack_step`): the step, or None when it fails, also when
    the trial step no longer moves (x, lam) by more than 1e-12 relative: the direction
    descends only within rounding, and accepting such a step would stall the iteration."""
    phi0 = ops.merit(x, lam, st.mu, st.nu)
    alpha, prev = 1.0, None
    floor = _TINY_MOVE * max(1.0, _inf_norm(x), _inf_norm(lam)) / max(_inf_norm(dx), _inf_norm(dl), 1e-300)
    for _ in range(opts["max_linesearch"]):
        if alpha < floor:
            return None
        try:
            phi = ops.merit(x + alpha * dx, lam + alpha * dl, st.mu, st.nu)
        except (FloatingPointError, OverflowError, ValueError):
            phi = math.inf
        if np.isfinite(phi) and phi <= phi0 + opts["beta"] * alpha * slope:
            return alpha
        alpha, prev = backtrack_step(phi0, slope, alpha, phi, prev), (alpha, phi)
    return None


def _eal(problem, x0, opts):
    """The eal generator (see the module docstring); options checked by the front door."""
    from types import SimpleNamespace

    if problem.bounds is not None or problem.constraints is None or hasattr(problem.constraints, "row_bounds"):
        from .eal_ineq import eal_ineq  # inequalities or bounds: the active-set method

        return (yield from eal_ineq(problem, x0, opts))
    out_dtype = np.asarray(x0).dtype  # iterate in float64, report in the input's dtype
    x = np.asarray(x0, dtype=float).copy()
    # a fixed default seed: two default runs give bit-identical iterates
    rng = generator(opts["rng"])
    ops, (fx, gx, cx, Gx) = _start(problem, x, opts)
    m = ops.m
    st = SimpleNamespace(mu=opts["mu0"], nu=opts["nu0"], delta=opts["delta0"], z=None, nsketch=0, psi=None, ups=None,
                         deadline=time.perf_counter() + opts["max_time"])
    stall = Stall(opts["stall_window"], opts["stall_factor"])
    slow = Stall(10 if opts["restore_window"] is None else opts["restore_window"], opts["stall_factor"])
    exact = has_exact_hessians(problem.objective, problem.constraints)
    switchable = bfgs_first(opts, exact)
    qn = np.eye(x.size) if opts["hessian"] == "bfgs" or switchable else None
    lam = -np.linalg.lstsq(Gx.T, gx, rcond=None)[0] if m else np.zeros(0)
    ctol = opts["tol"] if opts["constr_viol_tol"] is None else opts["constr_viol_tol"]
    alpha, it, restorations = 0.0, 0, 0
    # over-determined (m > n): least squares on c first (LICQ fails everywhere)
    restore_now = m > x.size and not _inf_norm(cx) <= ctol and opts["max_restorations"] > 0
    while True:  # bounded by run_loop's maxiter and max_restorations
        gl = gx + Gx.T @ lam
        kkt = _kkt_residual(gl, cx)
        viol = _inf_norm(cx)
        yield Step(x.astype(out_dtype, copy=True), fx, kkt, jac=gx, stop_ok=not viol > ctol, multipliers=lam,
                   constraint_violation=viol, stationarity=_inf_norm(gl), mu=st.mu, nu=st.nu, nsketch=st.nsketch,
                   step_size=alpha, hessian=hessian_mode(qn, exact, opts))
        stop, soft = None, False
        if not restore_now:
            stop = stall(kkt)
            soft = stop is None and slow_progress(slow, kkt, viol, ctol, restorations, opts["max_restorations"])
            if stop is None and not soft:
                it += 1
                new, stop = _iteration(problem, ops, st, (x, lam, fx, gx, cx, Gx, gl, kkt), qn, opts, rng, it)
                if stop is None:
                    x, lam, fx, gx, cx, Gx, qn, alpha = new
                    continue
        if switch_to_differences(stop, qn, switchable):  # BFGS is stuck: Hessians by differences from here
            qn, switchable, st.z = None, False, None
            restart_penalties(st, opts, stall, slow)
            continue
        if not (soft or restoration_due(restore_now, stop, viol, ctol, restorations, opts["max_restorations"])):
            return stop
        # restoration: the constraints are violated and eal is stuck or slow (or m > n at the start)
        restore_now, restorations = False, restorations + 1
        x_ls, outcome, msg = solve_feasibility(ops.value_c, ops.jac_c, x, ctol, st.deadline,
                                               feasibility_budget(x.size))
        if outcome == "feasible" or soft:  # go on, from the feasible point or where it was
            if outcome != "feasible":  # no second slow-progress phase: it would start from the same region
                slow.window = 0
            else:
                x = x_ls
                fx, gx, cx, Gx = ops.at(x)
                lam = -np.linalg.lstsq(Gx.T, gx, rcond=None)[0]
                st.z = None
                restart_penalties(st, opts)
            stall.clear()
            slow.clear()
            continue
        f_ls, g_ls, c_ls, G_ls = ops.at(x_ls)
        if outcome == "infeasible" or _inf_norm(c_ls) < viol:  # report the point closest to feasible
            lam_ls = -np.linalg.lstsq(G_ls.T, g_ls, rcond=None)[0]
            gl_ls = g_ls + G_ls.T @ lam_ls
            yield Step(x_ls.astype(out_dtype, copy=True), f_ls, _kkt_residual(gl_ls, c_ls), jac=g_ls, stop_ok=False,
                       multipliers=lam_ls, constraint_violation=_inf_norm(c_ls), stationarity=_inf_norm(gl_ls),
                       mu=st.mu, nu=st.nu, nsketch=st.nsketch, step_size=alpha, hessian=hessian_mode(qn, exact, opts))
        return 5, restoration_message(stop, outcome, msg)


def _iteration(problem, ops, st, state, qn, opts, rng, it):
    """One sketched Newton step with its merit line search: ``((x, lam, f, g, c, G, qn,
    alpha), None)`` or ``(None, (status, message))``."""
    x, lam, fx, gx, cx, Gx, gl, kkt = state
    m, theory = cx.size, opts["accuracy"] == "theory"
    H, Hgl = _hessian_terms(problem, ops, x, lam, gl, qn, opts)
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(Hgl))):
        return None, (2, f"non-finite Lagrangian Hessian at iteration {it} (objective/constraint Hessians or "
                         "their differences); returning the last finite iterate")
    if opts["curvature"] == "flip":
        B, red_min = _flip_on_nullspace(H, Gx, opts["min_curvature"])
    else:
        tau, red_min = _shift_for_nullspace(H, Gx, opts["min_curvature"])
        B = H + tau * np.eye(x.size)
    K = np.block([[B, Gx.T], [Gx, np.zeros((m, m))]])
    rhs = -np.concatenate([gl, cx])
    if theory:
        st.psi, st.ups = _theory_constants(B, H, Gx, red_min)
        st.delta = min(st.delta, _delta_theory(st.psi, st.ups, st.mu, st.nu, opts["beta"]))
    d_ok, slope, stop = _direction(st, K, rhs, gl, Hgl, Gx, cx, kkt, opts, rng, theory)
    if stop is not None:
        return None, stop
    dx, dl = st.z[:x.size], st.z[x.size:]
    scale = _cap_scale(dx, _step_radius(x, opts["max_step"])) if d_ok else 1.0
    if scale < 1.0:  # a near-singular KKT matrix: cap the step (still a descent direction)
        dx, dl, slope = scale * dx, scale * dl, scale * slope
    if not d_ok:  # local phase: the Newton step if it reduces the KKT residual, else give up
        new, stop = _local_step(ops, x, lam, dx, dl, kkt, it)
        return (None, stop) if stop is not None else ((*new, qn, 1.0), None)
    alpha = _line_search(ops, st, x, lam, dx, dl, slope, opts)
    if alpha is None:
        return None, (5, f"line search failed on the merit function (||c||_inf = {_inf_norm(cx):.2e}); "
                         "the constraints may be infeasible")
    if alpha < opts["alpha_min"]:
        # tiny steps: the merit function is near a stationary point that is not a
        # KKT point; the penalties are too weak (Hong et al. 2023, Sec. 3)
        st.mu *= opts["rho"] ** opts["tiny_mu_power"]
    x_new, lam_new = x + alpha * dx, lam + alpha * dl
    fx_new, gx_new, cx_new, Gx_new = ops.at(x_new)
    bad = _nonfinite(fx_new, gx_new, cx_new, Gx_new, f"after the line search of iteration {it}")
    if bad:
        return None, bad
    if qn is not None:
        qn = _damped_bfgs(qn, x_new - x, (gx_new + Gx_new.T @ lam_new) - (gx + Gx.T @ lam_new))
    return (x_new, lam_new, fx_new, gx_new, cx_new, Gx_new, qn, alpha), None


def _example(xp):
    """HS7: min log(1 + x1^2) - x2 s.t. (1 + x1^2)^2 + x2^2 = 4; f* = -sqrt(3)."""
    import numpy as _np

    return dict(fun=lambda x: float(_np.log1p(x[0] ** 2) - x[1]),
                jac=lambda x: _np.array([2 * x[0] / (1 + x[0] ** 2), -1.0]),
                x0=_np.array([2.0, 2.0]),
                constraints={"type": "eq", "fun": lambda x: _np.array([(1 + x[0] ** 2) ** 2 + x[1] ** 2 - 4]),
                             "jac": lambda x: _np.array([[4 * x[0] * (1 + x[0] ** 2), 2 * x[1]]])},
                f_star=-3 ** 0.5)


_POS = Interval(0, open=("lo",))
_COUNT = Interval(1, integer=True)
_OPTIONS = {
    "tol": Option(1e-8, "Tolerance on the KKT residual max(||grad_x L||_inf, ||c||_inf).", Interval(0)),
    "constr_viol_tol": Option(None, "Feasibility tolerance: success also needs the constraint violation <= this "
                                    "(None: tol). IPOPT's option name.", NoneOr(Interval(0)),
                              aliases=("ctol",)),
    "max_restorations": Option(3, "Feasibility phases (least squares on the constraints) allowed per run: at the "
                                  "start when there are more equality rows than variables, and when the method "
                                  "stops with violated constraints (0 = off).", Interval(0, integer=True)),
    "restore_window": Option(None, "Run the feasibility phase (a restoration, counted in max_restorations) "
                                   "when the constraints are violated and the KKT residual's best value over this "
                                   "many iterations is not below stall_factor times the best before; without a "
                                   "feasible point the iteration goes on where it was (0 = off; None: 10 with "
                                   "equality constraints only, off with inequalities or bounds, where the extra "
                                   "phases cost more time than they saved on the CUTEst general set).",
                             NoneOr(Interval(0, integer=True))),
    "steepest_fallback": Option(True, "Inequality/bound path: when no active-set SQP direction is a descent "
                                      "direction of the merit function after max_adjust penalty updates, step "
                                      "along the negative merit gradient (at the penalties the iteration "
                                      "started with) instead of stopping.", Flag()),
    "fixed_variables": Option("eliminate", "Variables with equal finite bounds (xl == xu): 'eliminate' (held at their "
                                           "value, the method runs on the others, as IPOPT does; their bound "
                                           "multipliers from stationarity) or 'bounds' (kept as two bound rows, "
                                           "degenerate).", Choices("eliminate", "bounds")),
    "keep_in_bounds": Option(False, "Inequality/bound path: project the trial points of the line search onto the "
                                    "variable bounds (Armijo test along the projection arc), so that the "
                                    "objective and constraints are evaluated inside them, for functions undefined "
                                    "outside (default False: bounds are rows of g(x) <= 0 like the others, met at "
                                    "the limit; see docs/eal.md for the measured trade-off).", Flag()),
    "maxiter": Option(1000, "Maximum number of iterations (default 1000; one sketched Newton step and its merit "
                            "line search per iteration).", Interval(0, integer=True)),
    "mu0": Option(1.0, "Initial penalty on ||c||^2 (authors' default).", _POS),
    "nu0": Option(0.1, "Initial penalty on ||grad_x L||^2 (authors' default).", _POS),
    "delta0": Option(0.1, "Initial relative accuracy of the sketched KKT solve (authors' default).", _POS),
    "delta_min": Option(1e-12, "Smallest accuracy before the penalties are changed instead.", Interval(0)),
    "beta": Option(0.1, "Armijo constant of the merit line search (authors' default).",
                   Interval(0, 0.5, open=("lo", "hi"))),
    "rho": Option(1.5, "Update factor: mu <- rho^2 mu, nu <- nu / rho, delta <- delta / rho (authors' default).",
                  Interval(1, open=("lo",))),
    "kkt_solver": Option("gaussian", "KKT solver: 'gaussian', 'countsketch', 'block_kaczmarz', 'kaczmarz' "
                                     "(numopt.solve_linear) or 'direct'.",
                         Choices("gaussian", "countsketch", "block_kaczmarz", "kaczmarz", "direct"),
                         aliases=("inner",)),
    "block_size": Option(None, "Sketch size (default n + m: one exact projection per sketch iteration).",
                         NoneOr(_COUNT)),
    "inner_maxiter": Option(None, "Maximum sketch iterations per KKT solve (None: min(10000, 50 ceil((n + m) / "
                                  "block_size)); a solve that misses its accuracy is finished by a direct "
                                  "least-squares solve).", NoneOr(_COUNT)),
    "stall_window": Option(50, "Stop (status 5, 'stalled') when the KKT residual's best value over this many "
                               "iterations is not below stall_factor times the best before (0 = off).",
                           Interval(0, integer=True)),
    "max_step": Option(10.0, "Step radius Delta = max_step max(1, ||x||_inf): longer steps (near-singular KKT "
                             "matrices) are scaled down to Delta; on the inequality/bound path the reduced Hessian "
                             "is also shifted to curvature >= ||grad_x L|| / Delta.", _POS),
    "mu_max": Option(1e10, "Inequality/bound path: stop (status 5) when the penalty mu_p would exceed this "
                           "(a sign of infeasible constraints).", _POS),
    "stall_factor": Option(0.9, "Decrease factor of the stall test (see stall_window).",
                           Interval(0, 1, open=("lo",))),
    "sharpen": Option(True, "Sharpened accuracy delta_k <= ||KKT residual|| for local superlinear convergence.",
                      Flag()),
    "min_curvature": Option(1e-8, "Smallest eigenvalue of the reduced Hessian left as it is (below it: see "
                                 "curvature).",
                            Interval(0)),
    "curvature": Option("flip", "Equality path, a reduced Hessian Z^T H Z (Z: basis of null(G)) with eigenvalues "
                                 "below min_curvature: 'shift' (H + tau I, tau mirroring the smallest eigenvalue) "
                                 "or 'flip' (only those eigenvalues replaced by their absolute values).",
                        Choices("shift", "flip")),
    "fd_step": Option(1e-6, "Relative step of the Hessian differences when no Hessian is given.", _POS),
    "max_adjust": Option(40, "Maximum accuracy/penalty adjustments per iteration.", _COUNT),
    "max_linesearch": Option(60, "Maximum backtracking steps.", _COUNT),
    "tiny_mu_power": Option(0, "mu <- rho^p mu after a tiny step (0 = off).", Interval(0)),
    "alpha_min": Option(1e-3, "A step below this strengthens the penalties (mu <- rho^2 mu, nu <- nu / rho).",
                        Interval(0)),
    "rng": Option(None, "Seed or numpy Generator of the sketches (None: seed 0, so default runs are reproducible)."),
    "dense_limit": Option(5000, "Largest n + m for which a sparse constraint Jacobian or Hessian is densified "
                                "(eal's KKT matrices are dense); larger sparse problems raise ValueError.",
                          Interval(0, integer=True)),
    "hessian": Option("auto", "Lagrangian Hessian: 'exact' (objective and constraint Hessians), 'fd' (differences "
                              "of grad_x L), 'bfgs' (Powell-damped BFGS; merit gradient by one Hessian-vector "
                              "difference), 'auto' = exact when available, else 'bfgs' switched once to 'fd' "
                              "when the BFGS iteration stops with status 5.",
                      Choices("auto", "exact", "fd", "bfgs")),
    "accuracy": Option("practical", "'practical' (relative residual delta, sharpened) or 'theory' (Hong et al.'s "
                                    "threshold delta ||b|| / (||K|| psi) with delta <= the theory's bound and the "
                                    "descent test slope <= -nu/2 ||(grad L, c)||^2).",
                       Choices("practical", "theory")),
}

register(MethodSpec(
    name="eal", family="constrained",
    summary="Exact augmented Lagrangian: sketched Newton steps (equalities), active-set SQP (inequalities, bounds)",
    solve=_eal, requires=("grad",), accepts_constraints=True, accepts_bounds=True, backends=("numpy",),
    float64_internal=True, options=_OPTIONS,
    # the merit function contains grad_x L: forward differences (error ~1e-8) stall the line
    # search there (measured: rosen with one constraint ends at KKT 2e-8 > tol after 70
    # iterations; central differences certify 4e-11 in 19)
    default_fd="3-point",
    optimality="KKT residual: equalities only max(||grad f + G^T lam||_inf, ||c||_inf); with inequalities or "
               "bounds max(||grad f + J^T y + z||_inf, ||h||_inf, ||max(g, 0)||_inf, ||max(-mu, 0)||_inf, "
               "||mu o g||_inf) (stationarity, feasibility, dual sign, complementarity)",
    rate_text="Global convergence to KKT points; local superlinear (quadratic with exact Hessians and "
              "sharpened accuracy) convergence (Hong, Na, Mahoney & Kolar 2023, Thms 4-5). With inequalities: "
              "global convergence of the active-set SQP with the exact augmented Lagrangian merit and local "
              "superlinear convergence once the active set is identified (Na, Anitescu & Kolar 2023).",
    rate=None, example=_example,
    reference="I. Hong, S. Na, M.W. Mahoney, M. Kolar. Constrained Optimization via Exact Augmented "
              "Lagrangian and Randomized Iterative Sketching. ICML 2023. Inequalities and bounds: S. Na, "
              "M. Anitescu, M. Kolar. Inequality constrained stochastic nonlinear optimization via active-set "
              "sequential quadratic programming. Math. Program. (2023)."))


def eal(fun, x0=None, *, jac=None, hess=None, constraints=None, bounds=None, tol=None, callback=None, **options):
    """``numopt.minimize(fun, x0, jac=jac, hess=hess, constraints=constraints, bounds=bounds, method="eal")``."""
    from .._minimize import minimize

    return minimize(fun, x0, jac=jac, hess=hess, constraints=constraints, bounds=bounds, method="eal", tol=tol,
                    callback=callback, options=options)
