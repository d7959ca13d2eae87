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

Kind. DC programs are the problem kind ``"dc"`` with the front door :func:`dca`
(``numopt.dca``): two registered methods, ``"dca"`` and ``"complete-dca"`` (alias
``"cdca"``), of one engine. They do not run through ``numopt.minimize``: the problem is
given by oracles of the DC split (``g_solve``, ``h_subgrad``, ``h_candidates``, values of
``g`` and ``h``), not by ``fun``/``jac``; the method never needs a gradient of f.

This module also holds two helpers shared by the special-structure kinds (``model_based``,
``fractional_cd``, ``nmf``): :func:`numpy_only` and :func:`pick_method`.
"""
from __future__ import annotations

import math

import numpy as np

from .._loop import Step
from .._options import Choices, FiniteInterval, Interval, Option, Seed, generator  # noqa: F401 (re-exported)
from .._oracle_base import Counts  # noqa: F401 (re-exported)
from .._registry import MethodSpec, check_backend, get_method, merge_options, register, resolve_options, run_method

# Exported as numopt.<name> (lazily; numopt/__init__.py reads this tuple without importing the module).
__numopt_public__ = ('dca',)
__all__ = ["dca"]


# ------------------------------------------- shared by the special-structure kinds
# (model_based, dca, fractional_cd and nmf import these from here; Counts, FiniteInterval,
# generator and the rng check have their homes in numopt._oracle_base / numopt._options)

Rng = Seed  # the one rng check (numopt._options.Seed)


def numpy_only(spec, arr, what):
    """TypeError (the registry's message) for an array of another namespace than numpy."""
    if hasattr(arr, "__array_namespace__") and not isinstance(arr, np.ndarray):
        from .._backend import get_namespace

        check_backend(spec, get_namespace(arr), what)


def pick_method(kind, default, method, name="method", legacy=None):
    """The spec chosen at a front door of ``kind``: by ``method``, or by ``legacy`` (the value
    of an older keyword that chose it, e.g. ``model`` or ``complete``), else ``default``. An
    unknown name is a ValueError naming the keyword; two keywords naming different methods
    are a ValueError."""
    def spec_of(value, keyword):
        try:
            return get_method(value, kind=kind)
        except ValueError as e:
            raise ValueError(f"`{keyword}`: {e}") from None

    spec = None if method is None else spec_of(method, "method")
    old = None if legacy is None else spec_of(legacy, name)
    if spec is not None and old is not None and spec.name != old.name:
        raise ValueError(f"`{name}` selects {old.name!r} but `method` is {spec.name!r}: give one of them")
    return spec or old or get_method(default, kind=kind)


# ------------------------------------------------------------------------- engine

class _DC:
    """The oracles of one DC program (and the run's counts)."""

    def __init__(self, g_solve, h_subgrad, shape, g=None, h=None, objective=None, h_candidates=None):
        self.g_solve, self.h_subgrad, self.shape = g_solve, h_subgrad, shape
        self.g, self.h, self.objective, self.h_candidates = g, h, objective, h_candidates
        self.counter = Counts("nfev", "njev", "nprox")

    def fval(self, x):
        if self.objective is None and self.g is None:
            return None
        self.counter.nfev += 1
        return float(self.objective(x)) if self.objective is not None else float(self.g(x)) - float(self.h(x))

    def solve(self, y):
        self.counter.nprox += 1
        x = np.asarray(self.g_solve(y), dtype=float)
        if x.shape != self.shape:
            raise ValueError(f"`g_solve` returned shape {x.shape}; expected {self.shape}")
        return x

    def subgrad(self, x):
        self.counter.njev += 1
        y = np.asarray(self.h_subgrad(x), dtype=float)
        if y.shape != self.shape:
            raise ValueError(f"`h_subgrad` returned shape {y.shape}; expected {self.shape}")
        return y

    def best_candidate(self, x, hx, select):
        """Complete DCA: the candidate subgradient with the lowest criterion, and its x_y."""
        cands = np.asarray(self.h_candidates(x), dtype=float)
        self.counter.njev += 1
        if cands.ndim == 1:
            cands = cands[None, :]
        n = self.shape[0]
        if cands.ndim != 2 or cands.shape[1] != n or cands.shape[0] == 0:
            raise ValueError(f"`h_candidates` must return a nonempty (k, {n}) array of subgradients; "
                             f"got shape {cands.shape}")
        best = None
        for y in cands:
            if not np.all(np.isfinite(y)):
                continue
            xy = self.solve(y)
            if not np.all(np.isfinite(xy)):
                continue
            crit = float(self.g(xy)) - hx - float(y @ (xy - x)) if select == "model" else self.fval(xy)
            if not math.isfinite(crit):  # a NaN criterion must not win (nor block) the comparison
                continue
            if best is None or crit < best[0] - 1e-14 * max(1.0, abs(crit)):
                best = (crit, y, xy)
        return (None, None) if best is None else (best[1], best[2])


def _solve(dc, x0, opts, complete):
    """Check what complete DCA needs, then return the engine's generator."""
    select = opts.get("select")
    if complete:
        if dc.h_candidates is None:
            raise ValueError("complete DCA needs `h_candidates(x)` returning candidate subgradients of h at x")
        if select == "model" and dc.g is None:
            raise ValueError("complete DCA with select='model' needs the values `g` and `h`")
        if select == "objective" and dc.objective is None and dc.g is None:
            raise ValueError("complete DCA with select='objective' needs `objective` (or `g` and `h`)")
    return _iterate(dc, x0, opts["maxiter"], complete, select)


def _iterate(dc, x0, maxiter, complete, select):
    out = x0.dtype
    x = np.asarray(x0, dtype=float).copy()
    yield Step(x.astype(out), dc.fval(x), None, y=None)
    for k in range(1, maxiter + 1):  # bounded (the shared loop stops at maxiter as well)
        if complete:
            hx = float(dc.h(x)) if select == "model" else None
            if hx is not None and not math.isfinite(hx):
                return 2, f"h(x) is not finite at iteration {k}"
            y, xn = dc.best_candidate(x, hx, select)
            if y is None:
                return 2, f"no candidate subgradient gave a finite g-subproblem solution and criterion at iteration {k}"
        else:
            y = dc.subgrad(x)
            if not np.all(np.isfinite(y)):
                return 2, f"`h_subgrad` returned a non-finite subgradient at iteration {k}"
            xn = dc.solve(y)
        # a non-finite x_{k+1} gives a non-finite step length: the loop reports status 2 and keeps x_k
        dx = float(np.linalg.norm(xn - x)) if np.all(np.isfinite(xn)) else math.nan
        x = xn
        yield Step(x.astype(out), dc.fval(x), dx, y=y.astype(out))
    return 1, "Maximum number of iterations reached."


# ---------------------------------------------------------------------- registry

_OPTIONS = {
    "maxiter": Option(500, "Maximum number of DCA iterations (default 500; one g-subproblem each, one per "
                           "candidate for complete DCA).", Interval(0, integer=True)),
    "tol": Option(1e-10, "Stop when the step ||x_{k+1} - x_k|| <= tol (0 exactly at a DCA fixed point).",
                  Interval(0)),
}
_SELECT = Option("model", "Candidate rule: 'model' (lowest majorant minimum g(x_y) - h(x_k) - <y, x_y - x_k> "
                          "= h*(y) - g*(y), needs g and h) or 'objective' (lowest f(x_y)).",
                 Choices("model", "objective"))
_RATE = ("f(x_{k+1}) <= f(x_k) - (rho_g + rho_h)/2 ||x_{k+1} - x_k||^2 (monotone); with rho_g + rho_h > 0 "
         "and f bounded below, min_{k<K} ||x_{k+1} - x_k||^2 <= 2 (f(x_0) - f*) / ((rho_g + rho_h) K); limit "
         "points are critical (dg(x) and dh(x) intersect).")
_REFERENCE = ("Pham Dinh Tao, Le Thi Hoai An, Acta Math. Vietnam. 22 (1997); Le Thi, Pham Dinh, Math. Program. "
              "169 (2018); complete DCA: M. El Halabi, G. Orfanides, T. Hoheisel, ICML 2023.")


def _example(xp):
    """1/2||x||^2 - ||x||_1 on [-2, 2]^4 (f* = -2 at x_i = +-1), with its vertex candidates."""
    def candidates(x):
        y = np.sign(x)
        return np.array([np.where(x == 0, s, y) for s in (-1.0, 1.0)])

    return {"g_solve": lambda y: np.clip(y, -2.0, 2.0), "h_subgrad": np.sign, "x0": np.array([0.3, -0.2, 0.5, 1.5]),
            "g": lambda x: 0.5 * float(x @ x), "h": lambda x: float(np.abs(x).sum()), "h_candidates": candidates,
            "f_star": -2.0}


register(MethodSpec(
    name="dca", family="dca", kind="dc", summary="DCA: minimize g - h by linearizing h (convex majorant steps)",
    solve=lambda dc, x0, o: _solve(dc, x0, o, complete=False), options=dict(_OPTIONS),
    requires=("g_solve", "h_subgrad"), optimality="step length ||x_{k+1} - x_k||", rate_text=_RATE,
    reference=_REFERENCE, backends=("numpy",), float64_internal=True, example=_example))
register(MethodSpec(
    name="complete-dca", family="dca", kind="dc", aliases=("cdca",),
    summary="Complete DCA: best of several subgradients of h per step (escapes non-minimal critical points)",
    solve=lambda dc, x0, o: _solve(dc, x0, o, complete=True), options=dict(_OPTIONS, select=_SELECT),
    requires=("g_solve", "h_candidates", "g", "h"), optimality="step length ||x_{k+1} - x_k||",
    rate_text=_RATE + " With all of dh(x) as candidates (finite), stops only where dh(x) is in dg(x) for "
                      "polyhedral h: a local-minimality condition.",
    reference=_REFERENCE, backends=("numpy",), float64_internal=True, example=_example))


# ---------------------------------------------------------------------- front door

def _start(x0):
    x0 = np.asarray(x0)
    if np.iscomplexobj(x0) or not (np.issubdtype(x0.dtype, np.floating) or np.issubdtype(x0.dtype, np.integer)):
        raise TypeError(f"`x0` must be a real numeric array, got dtype {x0.dtype}")
    if x0.ndim != 1:
        raise ValueError(f"`x0` must be a 1-D array, got shape {x0.shape}")
    if x0.size == 0:
        raise ValueError("`x0` must be non-empty")
    if not np.all(np.isfinite(x0)):
        raise ValueError("`x0` must be finite")
    return x0 if np.issubdtype(x0.dtype, np.floating) else x0.astype(np.float64)


def dca(g_solve, h_subgrad, x0, *, g=None, h=None, objective=None, complete=False, h_candidates=None, select=None,
        method=None, tol=None, callback=None, options=None, **kw):
    """Minimize ``g(x) - h(x)`` by DCA (``complete=False``) or complete DCA; the front door of
    the ``"dc"`` kind (methods ``"dca"``, ``"complete-dca"``: ``method=`` or ``complete=``).

    ``g_solve(y)``: argmin_x g(x) - <y, x>; ``h_subgrad(x)``: a subgradient of h at x;
    ``g``, ``h``: optional value callables (then ``objective = g - h``);
    ``objective``: optional f(x) (for the trace and ``select="objective"``);
    ``h_candidates(x)``: sequence (or 2-D array, one row each) of subgradients of h at x,
    required by complete DCA; ``select`` (complete DCA only; default ``"model"``):
    ``"model"`` or ``"objective"`` (see the module docstring); ``tol`` (None: 1e-10): stop
    when ``||x_{k+1} - x_k|| <= tol``. Options (``numopt.show_options("dca")``, as keywords
    or an ``options`` dict): ``maxiter`` (500), ``max_time``, ``trace``, ``disp``.

    Returns an OptimizeResult with ``x`` (in x0's floating dtype), ``fun`` (f(x), or None
    without values), ``y`` (the last subgradient used), ``optimality`` (last step length)
    and ``trace``; ``nfev`` counts objective evaluations, ``njev`` subgradient calls,
    ``nprox`` g-subproblem solves (``g_solve`` calls).
    """
    spec = pick_method("dc", "dca", method, name="complete", legacy="complete-dca" if complete else None)
    for name, fn in (("g_solve", g_solve), ("h_subgrad", h_subgrad)):
        if not callable(fn):
            raise TypeError(f"`{name}` must be callable")
    for name, fn in (("g", g), ("h", h), ("objective", objective), ("h_candidates", h_candidates)):
        if fn is not None and not callable(fn):
            raise TypeError(f"`{name}` must be callable or None")
    if (g is None) != (h is None):
        raise ValueError("give both `g` and `h` (value callables) or neither")
    options = merge_options(options, kw)
    if select is not None:
        if "select" not in spec.options:
            raise ValueError(f"`select` chooses among candidate subgradients of complete DCA; method "
                             f"{spec.name!r} has none (use complete=True or method='complete-dca')")
        options = merge_options(options, {"select": select})
    numpy_only(spec, x0, "x0")
    x0 = _start(x0)
    opts = resolve_options(spec, options, tol=tol)
    dc = _DC(g_solve, h_subgrad, x0.shape, g=g, h=h, objective=objective, h_candidates=h_candidates)
    return run_method(spec, dc, x0, opts, callback=callback, counter=dc.counter)


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
