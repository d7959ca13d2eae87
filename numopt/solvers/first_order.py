"""The first-order core: gradient descent, Nesterov's accelerated gradient,
proximal gradient (ISTA) and FISTA.

Two engines serve the four methods: :func:`_proximal_gradient` (GD is ISTA with
the identity prox) and :func:`_accelerated` (AGD is FISTA with the identity prox).
Both use the Beck–Teboulle backtracking rule on the local Lipschitz estimate ``L``:
accept ``z = prox_{g/L}(y - grad f(y)/L)`` when
``f(z) <= f(y) + <grad f(y), z - y> + L/2 ||z - y||^2``, else ``L <- eta * L``.
For g = 0 this is Armijo's rule with ``c = 1/2`` on the step ``1/L``.

References
----------
* A. Beck, M. Teboulle. A fast iterative shrinkage-thresholding algorithm for
  linear inverse problems. SIAM J. Imaging Sci. 2(1), 2009.
* Y. Nesterov. A method for solving the convex programming problem with
  convergence rate O(1/k^2). Soviet Math. Dokl. 27, 1983; Introductory Lectures on
  Convex Optimization, 2004, Sec. 2.2.
* B. O'Donoghue, E. Candès. Adaptive restart for accelerated gradient schemes.
  Found. Comput. Math. 15, 2015.
* A. Beck, M. Teboulle. Fast gradient-based algorithms for constrained total
  variation image denoising and deblurring problems (MFISTA). IEEE TIP 18(11), 2009.
"""
from __future__ import annotations

import math

from .._backend import get_namespace, norm, vdot
from .._lipschitz import secant_lipschitz
from .._loop import Step
from .._options import Choices, Flag, Interval, NoneOr, Option
from .._registry import MethodSpec, register
from ..oracles import check_scalar

# Exported as numopt.<name> (lazily; numopt/__init__.py reads this tuple without importing the module).
__numopt_public__ = ('gd', 'agd', 'ista', 'fista')
__all__ = ["gd", "agd", "ista", "fista"]


def _inner(obj, attr):
    """The object behind numopt's counting wrappers (CountedRegularizer.g, CountedSet.s)."""
    d = getattr(obj, "__dict__", {})
    return d[attr] if attr in d else obj


def _accepting_prox():
    """Names of the registered methods that use a regularizer g (prox)."""
    from .._registry import methods_accepting_prox

    return methods_accepting_prox()


def reject_unused_terms(problem, method, *, regularizer=True, feasible_set=True):
    """Raise a ValueError when ``problem`` has a term that ``method`` would silently drop.

    ``regularizer=True``: the method ignores ``problem.regularizer`` (a ``ZeroRegularizer``
    is no term and passes); ``feasible_set=True``: it ignores ``problem.feasible_set``.
    """
    from ..oracles import ZeroRegularizer

    reg = problem.regularizer
    if regularizer and reg is not None and not isinstance(_inner(reg, "g"), ZeroRegularizer):
        name = type(_inner(reg, "g")).__name__
        raise ValueError(
            f"method {method!r} minimizes a smooth objective only, but the problem has a regularizer "
            f"g ({name}); it would be silently dropped. Methods that accept a regularizer (`prox=` / "
            f"Problem.regularizer): {', '.join(map(repr, _accepting_prox()))}")
    D = problem.feasible_set
    if feasible_set and D is not None:
        raise ValueError(
            f"method {method!r} does not use a constraint set, but the problem has one "
            f"({type(_inner(D, 's')).__name__}, `lmo=`); it would be silently dropped. Use a Frank-Wolfe "
            "method ('frank-wolfe', 'away-fw', 'pairwise-fw', 'blended-pairwise-fw') or pass the set's "
            "projection as `prox=` to 'ista'/'fista'")


class _BoxProx:
    """The prox of ``g + indicator of the box`` for a separable 1-D convex ``g`` (or g = 0):
    ``clip(prox_g(v, step), lower, upper)`` (exact: a convex function of one variable
    is minimized on an interval by clipping its unconstrained minimizer)."""

    def __init__(self, reg, box, x):
        import numpy as np

        from .._backend import to_numpy

        xp = get_namespace(x)

        def side(v):
            a = np.broadcast_to(np.asarray(to_numpy(v), dtype=np.float64), tuple(x.shape)).copy()
            return xp.asarray(a, dtype=x.dtype)

        self.reg, self.xp = reg, xp
        self.lower, self.upper = side(box.lower), side(box.upper)

    def prox(self, v, step):
        if self.reg is not None:
            v = self.reg.prox(v, step)
        return self.xp.minimum(self.xp.maximum(v, self.lower), self.upper)

    def value(self, x):  # iterates are prox outputs, so inside the box
        return 0.0 if self.reg is None else self.reg.value(x)


# regularizers g whose prox composed with the box projection is the prox of g + box
_SEPARABLE = ("L1", "SquaredL2", "ElasticNet", "Box", "NonNegative")


def _regularizer_with_bounds(problem, x0, use_prox, method):
    """The term the proximal step uses: the problem's regularizer (``use_prox``) combined
    with ``problem.bounds``: the box projection alone (no regularizer, or a method
    without a prox), ``clip(prox_g)`` for a separable g (l1, squared l2, elastic net,
    a box), else a ValueError naming the combination."""
    reg = problem.regularizer if use_prox else None
    box = getattr(problem, "bounds", None)
    if box is None:
        return reg
    if x0.ndim != 1:
        raise ValueError(f"method {method!r}: `bounds` apply to a 1-D x0 (one (lower, upper) pair per "
                         f"variable), got x0 of shape {tuple(x0.shape)}")
    if reg is not None:
        name = type(_inner(reg, "g")).__name__
        if name == "ZeroRegularizer":
            reg = None
        elif name not in _SEPARABLE:
            raise ValueError(
                f"method {method!r} with `bounds` and the regularizer g = {name}: the prox of g + the box "
                "is not available in closed form (it is for g = numopt.prox.L1, SquaredL2, ElasticNet or a "
                "box). Fold the bounds into g's prox yourself (`prox=`), or drop `bounds`.")
    return _BoxProx(reg, box, x0)


def _initial_L(f, x, g, opts, xp):
    """L from the options (checked by the front door), the oracle, or a gradient-difference
    estimate at x0."""
    L = opts.get("L")
    if L is not None:
        return float(L)
    L = getattr(f, "lipschitz", None)
    if L:
        return float(L)
    return secant_lipschitz(f, x, g, xp)


def _prox_step(f, reg, y, fy, gy, L, opts, xp):
    """Backtracking on L; returns (z, f(z), L). A zero regularizer is not called."""
    eta = opts["eta"]
    for _ in range(opts["max_backtrack"]):
        z = y - gy / L if reg is None else reg.prox(y - gy / L, 1.0 / L)
        fz = f.value(z)
        d = z - y
        if not opts["linesearch"] or fz <= fy + vdot(gy, d, xp) + 0.5 * L * vdot(d, d, xp) + \
                1e-12 * abs(fy):
            return z, fz, L
        L *= eta
    return None, None, L


def _proximal_gradient(problem, x0, opts, use_prox, method):
    """ISTA / gradient descent engine (generator of Steps)."""
    reject_unused_terms(problem, method, regularizer=not use_prox)
    xp = get_namespace(x0)
    f = problem.objective
    reg = _regularizer_with_bounds(problem, x0, use_prox, method)
    rval = (lambda x: 0.0) if reg is None else reg.value
    x = x0
    fx, gx = f.value_and_grad(x)
    L = _initial_L(f, x, gx, opts, xp)
    # candidate next point at the current L: its distance to x is the gradient mapping
    z = x - gx / L if reg is None else reg.prox(x - gx / L, 1.0 / L)
    yield Step(x, fx + rval(x), L * norm(x - z, xp), jac=gx, L=L)
    while True:  # bounded by the loop's maxiter
        fz = f.value(z)
        d = z - x
        n_bt = 0
        # (written as `not <=`: a NaN value at the trial point shrinks the step as a failure does)
        while opts["linesearch"] and not fz <= fx + vdot(gx, d, xp) + 0.5 * L * vdot(d, d, xp) + 1e-12 * abs(fx):
            n_bt += 1
            L *= opts["eta"]
            if n_bt > opts["max_backtrack"] or L > 1e300:
                return 5, "Line search failed: no sufficient decrease (is the gradient correct?)"
            z = x - gx / L if reg is None else reg.prox(x - gx / L, 1.0 / L)
            fz = f.value(z)
            d = z - x
        x = z
        fx, gx = fz, f.grad(x)
        z = x - gx / L if reg is None else reg.prox(x - gx / L, 1.0 / L)
        yield Step(x, fx + rval(x), L * norm(x - z, xp), jac=gx, L=L)


def _restart_test(restart, F_new, Fx, y, z, x, xp):
    """O'Donoghue & Candes' adaptive restart tests after the step y -> z (x the previous iterate).

    ``"gradient"``: <y - z, z - x> > 0 (the generalized gradient at y makes an acute angle
    with the step just taken: momentum points uphill). ``"function"``: F(x_{k+1}) > F(x_k),
    where a change within the rounding of F (|dF| <= 1e-12 max(|F|), the backtracking's own
    slack) is no evidence either way and the gradient test decides instead: comparing
    values below their rounding error fires restarts at random (see docs/first_order.md).
    """
    if restart is None:
        return False
    if restart == "function":
        dF = F_new - Fx
        noise = 1e-12 * max(abs(F_new), abs(Fx))
        if dF > noise:
            return True
        if not abs(dF) <= noise:  # a clear decrease (or NaN: the loop reports it)
            return False
    return vdot(y - z, z - x, xp) > 0


def _accelerated(problem, x0, opts, use_prox, method):
    """FISTA / Nesterov AGD engine with backtracking, restart and a monotone variant."""
    restart = opts["restart"]
    reject_unused_terms(problem, method, regularizer=not use_prox)
    xp = get_namespace(x0)
    f = problem.objective
    reg = _regularizer_with_bounds(problem, x0, use_prox, method)
    rval = (lambda x: 0.0) if reg is None else reg.value
    mu = opts["mu"]
    if mu is None:  # the oracle's modulus (not an option: checked here)
        mu = float(check_scalar(getattr(f, "strong_convexity", 0.0) or 0.0, "strong_convexity", lower=0))
        mu_source = "oracle" if mu > 0 else "none"
    else:
        mu, mu_source = float(mu), "option"
    x = y = x0
    fy, gy = f.value_and_grad(y)
    L = _initial_L(f, y, gy, opts, xp)
    Fx = fy + rval(x)
    t = 1.0
    # mu: the strong convexity modulus the momentum uses (reported: it may come from the oracle)
    yield Step(x, Fx, None, L=L, mu=mu, mu_source=mu_source, restarts=0)
    restarts = 0
    while True:  # bounded by the loop's maxiter
        z, fz, L = _prox_step(f, reg, y, fy, gy, L, opts, xp)
        if z is None:
            return 5, "Line search failed: no sufficient decrease (is the gradient correct?)"
        gmap = L * norm(y - z, xp)
        Fz = fz + rval(z)
        if opts["monotone"] and Fz > Fx:
            x_new, F_new = x, Fx
        else:
            x_new, F_new = z, Fz
        if mu > 0:
            sq = math.sqrt(min(mu / L, 1.0))  # mu > L only for a wrong mu or an early L estimate
            beta = (1 - sq) / (1 + sq)
            t_new = t
            y_new = x_new + beta * (x_new - x)
        else:
            t_new = 0.5 * (1 + math.sqrt(1 + 4 * t * t))
            y_new = x_new + ((t - 1) / t_new) * (x_new - x)
            if opts["monotone"]:
                y_new = x_new + (t / t_new) * (z - x_new) + ((t - 1) / t_new) * (x_new - x)
        if _restart_test(restart, F_new, Fx, y, z, x, xp):
            t_new, y_new = 1.0, x_new
            restarts += 1
        x, Fx, t, y = x_new, F_new, t_new, y_new
        fy, gy = f.value_and_grad(y)
        yield Step(x, Fx, gmap, L=L, mu=mu, mu_source=mu_source, restarts=restarts)


def _example(xp, lasso):
    """Small least-squares (or lasso) instance for the registry's contract tests."""
    import numpy as np

    from ..prox import L1

    rng = np.random.default_rng(0)
    A = xp.asarray(rng.standard_normal((30, 10)))
    b = xp.asarray(rng.standard_normal(30))

    def fun(x):
        r = A @ x - b
        return 0.5 * float(xp.sum(r * r))

    def jac(x):
        return A.T @ (A @ x - b)

    out = dict(fun=fun, jac=jac, x0=xp.zeros(10, dtype=xp.float64))
    if lasso:
        out["prox"] = L1(1.0)
    return out


# ---------------------------------------------------------------------------
# Rates (bounds on f(x_k) - f*), see each docstring.

def _rate_sublinear(k, L, R, mu=0.0, f0_gap=None, eta=1.0):
    if mu and mu > 0 and f0_gap is not None:
        return (1 - mu / (eta * L)) ** k * f0_gap
    return eta * L * R ** 2 / (2 * max(k, 1))


def _rate_accelerated(k, L, R, mu=0.0, f0_gap=None, eta=1.0):
    if mu and mu > 0 and f0_gap is not None:
        return (1 - math.sqrt(mu / (eta * L))) ** k * (f0_gap + 0.5 * mu * R ** 2)
    return 2 * eta * L * R ** 2 / (k + 1) ** 2


_LS = {
    "L": Option(None, "Initial Lipschitz estimate (default: the oracle's, else a gradient-difference estimate).",
                NoneOr(Interval(0, open=("lo",))), aliases=("lipschitz",)),
    "linesearch": Option(True, "Backtracking on L (Beck–Teboulle / Armijo with c = 1/2); False: fixed step 1/L.",
                         Flag()),
    "eta": Option(2.0, "Backtracking factor (> 1) by which L grows.", Interval(1, open=("lo",))),
    "max_backtrack": Option(60, "Maximum backtracking steps per iteration.", Interval(1, integer=True)),
    "tol": Option(1e-6, "Tolerance on the optimality measure.", Interval(0)),
    "maxiter": Option(1000, "Maximum number of iterations (default 1000; one gradient step, plus its "
                            "backtracking, per iteration).", Interval(0, integer=True)),
}
_ACC = dict(_LS, mu=Option(None, "Strong convexity modulus (default: the oracle's, else 0 = convex variant).",
                           NoneOr(Interval(0))),
            restart=Option("gradient", "Adaptive restart (O'Donoghue & Candès): 'gradient' (default; restart "
                                       "when <y_k - x_{k+1}, x_{k+1} - x_k> > 0), 'function' (when F increases "
                                       "beyond its rounding; the gradient test decides within it) or None (plain "
                                       "momentum: the O(1/k^2) bound, but no adaptation to strong convexity).",
                           Choices("gradient", "function", None)),
            monotone=Option(False, "Monotone variant (MFISTA): never accept an increase of the objective.", Flag()))

register(MethodSpec(
    name="gd", family="first_order", x_ndim=(1, 2), example=lambda xp: _example(xp, False), summary="Gradient descent with Armijo backtracking",
    accepts_bounds=True,
    solve=lambda p, x0, o: _proximal_gradient(p, x0, o, use_prox=False, method="gd"),
    options=dict(_LS), requires=("grad",),
    optimality="||grad f(x_k)|| (with `bounds`: the gradient mapping L ||x_k - P(x_k - grad f(x_k)/L)||, "
               "P the projection onto the box: projected gradient descent)",
    rate_text="Convex, L-smooth: f(x_k) - f* <= L ||x0 - x*||^2 / (2k) (step 1/L; L -> eta L with "
              "backtracking). mu-strongly convex: (1 - mu/L)^k (f(x0) - f*).",
    rate=_rate_sublinear, reference="Nesterov, Introductory Lectures on Convex Optimization (2004), Thm 2.1.14; "
                                     "Armijo, Pacific J. Math. 16 (1966)."))
register(MethodSpec(
    name="agd", family="first_order", x_ndim=(1, 2), example=lambda xp: _example(xp, False), summary="Nesterov's accelerated gradient (convex / strongly convex, restart)",
    accepts_bounds=True,
    solve=lambda p, x0, o: _accelerated(p, x0, o, use_prox=False, method="agd"),
    options=dict(_ACC), requires=("grad",),
    optimality="L_k ||y_k - x_{k+1}|| = ||grad f(y_k)||, the gradient at the extrapolated point (with "
               "`bounds`: x_{k+1} = P(y_k - grad f(y_k)/L_k), P the projection onto the box)",
    rate_text="Convex: f(x_k) - f* <= 2 L ||x0 - x*||^2 / (k+1)^2. mu-strongly convex (mu given): "
              "(1 - sqrt(mu/L))^k (f(x0) - f* + mu/2 ||x0 - x*||^2).",
    rate=_rate_accelerated, reference="Nesterov, Soviet Math. Dokl. 27 (1983); Introductory Lectures (2004), "
                                      "Sec. 2.2; O'Donoghue & Candès, Found. Comput. Math. 15 (2015)."))
register(MethodSpec(
    name="ista", family="first_order", x_ndim=(1, 2), example=lambda xp: _example(xp, True), summary="Proximal gradient (ISTA) with backtracking",
    accepts_bounds=True,
    solve=lambda p, x0, o: _proximal_gradient(p, x0, o, use_prox=True, method="ista"),
    options=dict(_LS), requires=("grad", "prox"),
    optimality="gradient-mapping norm L ||x_k - prox_{g/L}(x_k - grad f(x_k)/L)|| (with `bounds`: the "
               "prox of g + the box, clip(prox_g) for l1 / squared l2 / elastic net)",
    rate_text="F(x_k) - F* <= L ||x0 - x*||^2 / (2k) (Beck & Teboulle 2009, Thm 3.1).",
    rate=_rate_sublinear, reference="Beck & Teboulle, SIAM J. Imaging Sci. 2(1) (2009)."))
register(MethodSpec(
    name="fista", family="first_order", x_ndim=(1, 2), example=lambda xp: _example(xp, True), summary="FISTA: accelerated proximal gradient (backtracking, restart, monotone)",
    accepts_bounds=True,
    solve=lambda p, x0, o: _accelerated(p, x0, o, use_prox=True, method="fista"),
    options=dict(_ACC), requires=("grad", "prox"),
    optimality="gradient-mapping norm at the extrapolated point, L_k ||y_k - x_{k+1}|| (with `bounds`: "
               "the prox of g + the box, clip(prox_g) for l1 / squared l2 / elastic net)",
    rate_text="F(x_k) - F* <= 2 L ||x0 - x*||^2 / (k+1)^2 (Beck & Teboulle 2009, Thm 4.4).",
    rate=_rate_accelerated, reference="Beck & Teboulle, SIAM J. Imaging Sci. 2(1) (2009); "
                                      "MFISTA: Beck & Teboulle, IEEE TIP 18(11) (2009)."))


def _family_function(name):
    def solver(fun, x0=None, *, args=(), jac=None, prox=None, bounds=None, tol=None, callback=None,
               **options):
        from .._minimize import minimize

        return minimize(fun, x0, args=args, method=name, jac=jac, bounds=bounds, tol=tol,
                        callback=callback, options=options, prox=prox)
    solver.__name__ = name
    solver.__doc__ = (f"Run method {name!r}; keyword options as in ``numopt.show_options({name!r})``.\n\n"
                      "Equivalent to ``numopt.minimize(fun, x0, method=...)``.")
    return solver


gd = _family_function("gd")
agd = _family_function("agd")
ista = _family_function("ista")
fista = _family_function("fista")
