"""DC programming: ``min_x f(x) = g(x) - h(x)`` with g, h closed convex.

DCA (Pham Dinh Tao & Le Thi Hoai An, Acta Math. Vietnam. 22 (1997); Le Thi & Pham Dinh,
Math. Program. 169 (2018)): linearize the concave part at the current point,

    y_k in dh(x_k),        x_{k+1} in argmin_x g(x) - <y_k, x>,

i.e. minimize the convex majorant ``g(x) - h(x_k) - <y_k, x - x_k> >= f(x)``. The user
supplies ``g_solve(y) = argmin_x g(x) - <y, x>`` (a point of dg*(y)) and
``h_subgrad(x)`` (one element of dh(x)).

Complete DCA (``complete=True``; the "complete form" used by El Halabi, Orfanides &
Hoheisel, "Difference of submodular minimization via DC programming", ICML 2023): when
dh(x_k) is not a singleton the choice of y_k matters (plain DCA can stall at a critical
point that is not a local minimum, e.g. x = 0 for ``||x||^2/2 - ||x||_1`` with y = 0).
``h_candidates(x)`` returns a set of subgradients (all of dh(x_k) when it is finite, e.g.
the vertices of a polyhedral subdifferential, or a candidate set); each candidate y gives
``x_y = g_solve(y)`` and the method keeps the candidate with the lowest

* ``select="model"`` (default): majorant minimum ``g(x_y) - h(x_k) - <y, x_y - x_k>``,
  which equals ``h*(y) - g*(y)``: the complete-DCA rule ``y_k in argmin {h*(y) - g*(y) :
  y in dh(x_k)}`` (DC duality); needs ``g`` (values) and ``h`` (values);
* ``select="objective"``: the true value ``f(x_y)`` (needs ``objective`` or g and h).

Theory (for any of these choices, y_k in dh(x_k)): ``f(x_{k+1}) <= f(x_k) -
((rho_g + rho_h)/2) ||x_{k+1} - x_k||^2`` with rho_g, rho_h the strong-convexity moduli
of g, h (monotone decrease); if f is bounded below, ``sum ||x_{k+1} - x_k||^2 < inf``
when rho_g + rho_h > 0, so ``min_{k<K} ||x_{k+1} - x_k||^2 <= 2 (f(x_0) - f*) /
((rho_g + rho_h) K)``, and every limit point x is critical: ``dg(x) ∩ dh(x) != {}`` (0 in
dg(x) - dh(x)). Complete DCA with ``h_candidates`` returning all of dh(x) (finite)
stops only at points with ``min_x g - <y, x>`` not improvable for any y in dh(x_k), the
stronger ("d-") criticality; for polyhedral h this means dh(x) ⊆ dg(x), a local-
minimality condition (El Halabi et al. 2023).

The trace records ``fun`` = f(x_k) (when values are given) and ``optimality`` =
``||x_{k+1} - x_k||`` (0 exactly at a DCA fixed point); the run stops when it is <= tol.
Non-finite values never end as success: a non-finite x_{k+1} or objective gives status 2
(the last finite iterate is returned), as does a non-finite subgradient; complete DCA skips
candidates with a non-finite solution or criterion (status 2 when none is left).
"""
from __future__ import annotations

import math

import numpy as np

from .._loop import Step, run_loop
from ..oracles import OracleCounter, check_scalar

__all__ = ["dca"]


def dca(g_solve, h_subgrad, x0, *, g=None, h=None, objective=None, complete=False, h_candidates=None,
        select="model", tol=1e-10, maxiter=500, callback=None, max_time=math.inf):
    """Minimize ``g(x) - h(x)`` by DCA (``complete=False``) or complete DCA.

    ``g_solve(y)``: argmin_x g(x) - <y, x>; ``h_subgrad(x)``: a subgradient of h at x;
    ``g``, ``h``: optional value callables (then ``objective = g - h``);
    ``objective``: optional f(x) (for the trace and ``select="objective"``);
    ``h_candidates(x)``: sequence (or 2-D array, one row each) of subgradients of h at x,
    required by ``complete=True``; ``select``: ``"model"`` or ``"objective"`` (see the
    module docstring); ``tol``: stop when ``||x_{k+1} - x_k|| <= tol``.

    Returns an OptimizeResult with ``x``, ``fun`` (f(x), or None without values), ``y``
    (the last subgradient used), ``optimality`` (last step length) and ``trace``;
    ``nfev`` counts objective evaluations, ``njev`` subgradient calls, ``nprox`` g-subproblem
    solves (``g_solve`` calls).
    """
    for name, fn in (("g_solve", g_solve), ("h_subgrad", h_subgrad)):
        if not callable(fn):
            raise TypeError(f"`{name}` must be callable")
    for name, fn in (("g", g), ("h", h), ("objective", objective), ("h_candidates", h_candidates)):
        if fn is not None and not callable(fn):
            raise TypeError(f"`{name}` must be callable or None")
    if (g is None) != (h is None):
        raise ValueError("give both `g` and `h` (value callables) or neither")
    if select not in ("model", "objective"):
        raise ValueError(f"unknown select {select!r}; valid: 'model', 'objective'")
    check_scalar(tol, "tol", lower=0)
    check_scalar(maxiter, "maxiter", lower=0, integer=True)
    check_scalar(max_time, "max_time", lower=0)
    if complete:
        if h_candidates is None:
            raise ValueError("complete=True needs `h_candidates(x)` returning candidate subgradients of h at x")
        if select == "model" and g is None:
            raise ValueError("complete=True with select='model' needs the values `g` and `h`")
        if select == "objective" and objective is None and g is None:
            raise ValueError("complete=True with select='objective' needs `objective` (or `g` and `h`)")
    x0 = np.asarray(x0)
    if np.iscomplexobj(x0) or not (np.issubdtype(x0.dtype, np.floating) or np.issubdtype(x0.dtype, np.integer)):
        raise TypeError(f"`x0` must be a real numeric array, got dtype {x0.dtype}")
    if x0.ndim != 1:
        raise ValueError(f"`x0` must be a 1-D array, got shape {x0.shape}")
    if x0.size == 0:
        raise ValueError("`x0` must be non-empty")
    if not np.all(np.isfinite(x0)):
        raise ValueError("`x0` must be finite")
    out_dtype = x0.dtype if np.issubdtype(x0.dtype, np.floating) else np.float64
    counter = OracleCounter()

    def fval(x):
        if objective is None and g is None:
            return None
        counter.nfev += 1
        return float(objective(x)) if objective is not None else float(g(x)) - float(h(x))

    def solve(y):
        counter.nprox += 1
        x = np.asarray(g_solve(y), dtype=float)
        if x.shape != x0.shape:
            raise ValueError(f"`g_solve` returned shape {x.shape}; expected {x0.shape}")
        return x

    def subgrad(x):
        counter.njev += 1
        y = np.asarray(h_subgrad(x), dtype=float)
        if y.shape != x0.shape:
            raise ValueError(f"`h_subgrad` returned shape {y.shape}; expected {x0.shape}")
        return y

    def best_candidate(x, hx):
        cands = np.asarray(h_candidates(x), dtype=float)
        counter.njev += 1
        if cands.ndim == 1:
            cands = cands[None, :]
        if cands.ndim != 2 or cands.shape[1] != x0.shape[0] or cands.shape[0] == 0:
            raise ValueError(f"`h_candidates` must return a nonempty (k, {x0.shape[0]}) array of subgradients; "
                             f"got shape {cands.shape}")
        best = None
        for y in cands:
            if not np.all(np.isfinite(y)):
                continue
            xy = solve(y)
            if not np.all(np.isfinite(xy)):
                continue
            if select == "model":
                crit = float(g(xy)) - hx - float(y @ (xy - x))
            else:
                crit = fval(xy)
            if not math.isfinite(crit):  # a NaN criterion must not win (nor block) the comparison
                continue
            if best is None or crit < best[0] - 1e-14 * max(1.0, abs(crit)):
                best = (crit, y, xy)
        return (None, None) if best is None else (best[1], best[2])

    def gen():
        x = np.asarray(x0, dtype=float).copy()
        fx = fval(x)
        yield Step(x.astype(out_dtype), fx, None, y=None)
        for k in range(1, maxiter + 1):  # bounded (the shared loop stops at maxiter as well)
            if complete:
                hx = float(h(x)) if (select == "model") else None
                if hx is not None and not math.isfinite(hx):
                    return 2, f"h(x) is not finite at iteration {k}"
                y, xn = best_candidate(x, hx)
                if y is None:
                    return 2, (f"no candidate subgradient gave a finite g-subproblem solution and criterion at "
                               f"iteration {k}")
            else:
                y = subgrad(x)
                if not np.all(np.isfinite(y)):
                    return 2, f"`h_subgrad` returned a non-finite subgradient at iteration {k}"
                xn = solve(y)
            # a non-finite x_{k+1} gives a non-finite step length: the loop reports status 2 and keeps x_k
            dx = float(np.linalg.norm(xn - x)) if np.all(np.isfinite(xn)) else math.nan
            x = xn
            fx = fval(x)
            yield Step(x.astype(out_dtype), fx, dx, y=y.astype(out_dtype))
        return 1, "Maximum number of iterations reached."

    res = run_loop(gen(), counter=counter, options={"maxiter": maxiter, "max_time": max_time, "trace": True},
                   callback=callback, tol=tol, method="cdca" if complete else "dca")
    for k in ("nhev", "nlmo", "nproj", "jac"):
        res.pop(k, None)
    return res


def _demo(n=8, starts=5):
    """The experiment of docs/model_based.md: ``python -m numopt.solvers.dca``. Trust-region
    subproblem min 1/2 x^T A x + b^T x, ||x|| <= 1, A indefinite, DC split g = rho/2||x||^2 +
    b^T x + i_ball, h = 1/2 x^T (rho I - A) x; global optimum from the secular equation."""
    from scipy.optimize import brentq

    print(f"trust-region subproblem n={n}, {starts} random starts per instance, tol=1e-12")
    print(f"{'seed':>4s} {'f* (secular eq.)':>17s} {'best DCA - f*':>14s} {'starts at f*':>13s} {'mean iters':>11s}")
    for seed in range(5):
        rng = np.random.default_rng(seed)
        M = rng.standard_normal((n, n))
        A, b = (M + M.T) / 2, rng.standard_normal(n)
        w, Q = np.linalg.eigh(A)
        beta = Q.T @ b
        lo = -w[0] + 1e-12
        hi = lo + 1.0
        for _ in range(200):  # bounded bracket search
            if not np.linalg.norm(beta / (w + hi)) > 1:
                break
            hi *= 2
        lam = brentq(lambda t: np.linalg.norm(beta / (w + t)) - 1.0, lo, hi, xtol=1e-15)
        xs = -Q @ (beta / (w + lam))
        fstar = 0.5 * xs @ A @ xs + b @ xs
        rho = w[-1] + 1.0

        def proj(v):
            nv = np.linalg.norm(v)
            return v if nv <= 1 else v / nv

        fs, its = [], []
        for _ in range(starts):
            res = dca(lambda y: proj((y - b) / rho), lambda x: rho * x - A @ x, proj(rng.standard_normal(n)),
                      objective=lambda x: 0.5 * x @ A @ x + b @ x, tol=1e-12, maxiter=10000)
            fs.append(res.fun)
            its.append(res.nit)
        fs = np.array(fs)
        print(f"{seed:4d} {fstar:17.10f} {fs.min() - fstar:14.1e} {int(np.sum(fs - fstar < 1e-9)):>9d}/{starts} "
              f"{np.mean(its):11.1f}")


if __name__ == "__main__":
    _demo()
