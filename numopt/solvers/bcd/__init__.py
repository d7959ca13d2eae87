"""Block coordinate descent (BCD), following Nutini, Laradji & Schmidt, "Let's Make
Block Coordinate Descent Converge Faster: Faster Greedy Rules, Message-Passing,
Active-Set Complexity, and Superlinear Convergence", JMLR 23 (2022).

Three pluggable choices:

* partition (``blocks``): single coordinates (default), an int (contiguous blocks of
  that size), or a list of index arrays that partitions the variables;
* selection (``selection``): ``"auto"`` (default: resolved per problem, below),
  ``"cyclic"``, ``"random"`` (uniform), ``"lipschitz"``
  (probability proportional to L_b), ``"gs"`` (Gauss-Southwell; for l1 problems the
  GS-s rule on the minimum-norm subgradient), ``"gsl"`` (Gauss-Southwell-Lipschitz:
  the GS score divided by sqrt(L_b)), ``"gs-r"`` (largest prox step), ``"gs-q"``
  (largest decrease of the coordinate model), or an object with
  ``select(state) -> block index``;
* update (``update``): ``"gradient"`` (prox step 1/L_b), ``"newton"`` (block Newton with
  the block Hessian, smooth problems; for ``f = loss(A x)`` the block Hessian is formed
  from the block's columns of A only, a sparse A stays sparse), or an object with
  ``update(state, b)`` (with a regularizer the object must declare
  ``uses_regularizer = True`` and apply the state's ``prox``; otherwise ValueError).

The regularizer is never dropped: the fast paths take l1 / elastic-net / squared-l2
penalties, the generic path any regularizer separable over the blocks (others, e.g.
Simplex / L1Ball or a group lasso split across blocks, raise ValueError), and updates
without a proximal step (``"newton"``, ``"tree"``) refuse a nonzero regularizer.

Defaults (``selection="auto"``, ``working_set="auto"``): l1-logistic regression runs
cyclic prox-Newton working sets (a8a at lambda_max/1000: 1.4 s instead of 26-79 s with the
former default "gsl" on the full problem), least squares the Gram-matrix GSL rule up to
5000 features and cyclic working sets above; the result reports ``selection`` and
``working_set``. A default run is reproducible: ``rng=None`` seeds a fixed generator.

Fast paths (numba, O(nnz(X_j)) per coordinate with maintained residuals/predictions):
l1 / elastic-net / squared-l2 least squares and logistic regression given as
``numopt.LinearComposite(datafit, X)`` (``problems.get("libsvm/...")``), with
``"cyclic"``, ``"random"``, ``"lipschitz"``; greedy rules on least squares keep the
gradient up to date through the Gram matrix (O(p) per step). Everything else runs the
generic array-API path (one full gradient per greedy step: O(cost of grad)).

Rates (Nutini et al. 2022; Nesterov, SIOPT 2012): for f with coordinate-wise Lipschitz
constants L_j, random selection gives E f(x_k) - f* <= (1 - mu/(n L_max))^k (f(x0) - f*)
(uniform) or (1 - mu/sum L_j)^k (Lipschitz sampling); GS gives (1 - mu_1/L_max)^k with
mu_1 the strong-convexity constant in the l1 norm (mu/n <= mu_1 <= mu), and GSL
(1 - mu_L)^k with mu_L the strong convexity in the norm sum_j sqrt(L_j)|x_j|, which is
never worse than GS.

Stopping (``tol``): for l1 / elastic-net / squared-l2 problems with a datafit that has a conjugate,
the duality gap relative to the objective at zero: ``gap(w) <= tol * P(0)`` (for the
lasso P(0) = ||y||^2/(2n), so this is scikit-learn's criterion ``gap <= tol ||y||^2 / n``
up to the factor 2); otherwise the prox-gradient norm ``||w - prox(w - grad f(w))||``.
"""

from __future__ import annotations

import numpy as np

from ..._registry import MethodSpec, register
from ..._options import Any_, Choices, Flag, Interval, Option
from ..._options import Seed as Rng
from .common import (_GREEDY_CODE, _WS_AUTO_P, SELECTIONS, UPDATES, _absmax, _blocks, _CSCData,  # noqa: F401
                     _csr_arrays, _default_rng, _dual_scale, _dual_value, _fast_kind, _gap_measure, _is_zero_reg,
                     _nonneg, _penalty_params, _reg_of, _unwrap)
from .epoch import _fast, _gram_dense, _newton_on_support  # noqa: F401
from .generic import _block_hessian, _generic, _is_tree, _quadratic_matrix, _set, check_block_separable  # noqa: F401
from .tree import QuadraticForm, TreeUpdate, _quadratic_tree_path  # noqa: F401
from .working_set import _anderson_step, _fast_ws, _prox_newton_step, _ProxNewton, _WSMatrices  # noqa: F401

# Exported as numopt.<name> (lazily; numopt/__init__.py reads this tuple without importing the module).
__numopt_public__ = ('bcd',)
__all__ = ["bcd", "SELECTIONS", "check_block_separable"]


class _NameOrObject:
    """Option check: one of ``names`` or an object with the method ``attr`` (a user's rule)."""

    def __init__(self, names, attr):
        self.names, self.attr = names, attr

    def __call__(self, name, value):
        if isinstance(value, str):
            if value not in self.names:
                raise ValueError(f"unknown {name} {value!r}; valid: {', '.join(map(repr, self.names))} or an "
                                 f"object with {self.attr}(...) (option `{name}`)")
            return value
        if not hasattr(value, self.attr):
            raise TypeError(f"option `{name}` must be a string ({', '.join(map(repr, self.names))}) or an object "
                            f"with {self.attr}(...), got {type(value).__name__}")
        return value

    def __str__(self):
        return f"one of {', '.join(map(repr, self.names))} or an object with {self.attr}(...)"

    __repr__ = __str__


class _Truth:
    """Option check: a switch, read by truth value as before (True / False, also 0 / 1)."""

    def __call__(self, name, value):
        try:
            return bool(value)
        except Exception as e:  # (an array's ambiguous truth value)
            raise TypeError(f"option `{name}` must be True or False, got {value!r}") from e

    def __str__(self):
        return "True or False"

    __repr__ = __str__


def _resolve_auto(opts, kind, use_fast, l1, p, tree):
    """(selection, working sets on?) for ``selection="auto"`` / ``working_set="auto"``.

    selection="auto": l1 / elastic-net / l2 logistic regression -> "cyclic" (with
    working_set="auto" and an l1 term: working sets with prox-Newton steps, a8a
    l1-logistic at lambda_max/1000 1.4 s instead of 26-79 s with the greedy rules
    of the full problem); least squares -> "gsl" on the Gram matrix for p <= 5000 features
    without forced working sets (the fastest lasso path on the LIBSVM designs), else
    "cyclic" (Anderson-accelerated CD inside working sets: greedy rules there are 20-30x
    slower, docs/bcd.md); update="tree" -> "cyclic"; the generic path -> "gsl".
    working_set="auto": on with an l1 term for more than 5000 features, and for
    l1-logistic regression when the selection is "auto" too. Explicit values are kept."""
    sel, ws = opts["selection"], opts["working_set"]
    auto_sel = isinstance(sel, str) and sel == "auto"
    if auto_sel:
        if tree:
            sel = "cyclic"
        elif not use_fast:
            sel = "gsl"
        elif kind in ("logistic", "smooth"):
            sel = "cyclic"
        elif ws is True or p > _WS_AUTO_P:
            sel = "cyclic"
        else:
            sel = "gsl"
    if not use_fast or l1 <= 0 or kind == "smooth":
        on = False  # (no sparsity to exploit without an l1 term; smooth datafits: plain epochs)
    elif ws == "auto":
        on = p > _WS_AUTO_P or (kind == "logistic" and auto_sel)
    else:
        on = bool(ws)
    return sel, on


def _tagged(gen, info):
    """The solver's steps with ``info`` (the resolved choices) added to each step's extras,
    so the result reports them; the generator's own return value is passed on."""
    try:
        while True:
            try:
                step = next(gen)
            except StopIteration as stop:
                return stop.value
            step.extras.update(info)
            yield step
    finally:
        gen.close()


def _solve(problem, x0, opts):
    """Resolve ``selection="auto"`` / ``working_set="auto"`` and run the path that fits: the
    message-passing quadratic path, the numba epochs or working sets, or the generic path.
    (The options arrive checked by their Option table.)"""
    sel, upd, ws = opts["selection"], opts["update"], opts["working_set"]
    reg = _reg_of(problem)
    lam = getattr(reg, "lam", 0.0)
    if lam is not None and lam < 0:
        raise ValueError(f"negative regularization lam = {lam}")
    tree = _is_tree(upd)
    kind = _fast_kind(problem)
    if kind == "smooth" and isinstance(sel, str) and sel in _GREEDY_CODE:
        kind = None  # greedy rules of the smooth datafits: the generic path (no maintained gradient)
    use_fast = (kind is not None and opts["blocks"] is None and isinstance(upd, str) and upd == "gradient"
                and isinstance(sel, str) and opts["kernel"] != "array_api" and isinstance(x0, np.ndarray))
    l1 = _penalty_params(reg)[0] if use_fast else 0.0
    sel, ws_on = _resolve_auto(opts, kind, use_fast, l1, x0.shape[0], tree)
    opts = dict(opts, selection=sel)
    info = {"selection": sel if isinstance(sel, str) else type(sel).__name__, "working_set": ws_on}
    if tree and _quadratic_matrix(problem) and _is_zero_reg(reg) and isinstance(x0, np.ndarray) \
            and opts["kernel"] != "array_api":
        return _tagged(_quadratic_tree_path(problem, x0, opts), info)
    if use_fast and ws is True and kind == "smooth":
        raise ValueError("`working_set=True` is implemented for least-squares and logistic datafits; the "
                         f"{type(_unwrap(problem.objective).loss).__name__} datafit runs plain numba epochs "
                         "(working_set=False or 'auto')")
    if use_fast:
        if ws_on:
            return _tagged(_fast_ws(problem, x0, opts, kind), info)
        return _tagged(_fast(problem, x0, opts, kind), info)
    if ws is True:
        raise ValueError("`working_set=True` needs the numba fast path: an l1 / elastic-net least-squares or "
                         "logistic LinearComposite problem, single coordinates, update='gradient', numpy x0")
    return _tagged(_generic(problem, x0, opts), info)


def _example(xp):
    from ...datafits import Quadratic
    from ...oracles import LinearComposite
    from ...prox import L1

    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 10))
    b = rng.standard_normal(30)
    return dict(fun=LinearComposite(Quadratic(xp.asarray(b)), xp.asarray(A)), x0=xp.zeros(10, dtype=xp.float64),
                prox=L1(0.05), options={"selection": "cyclic"})


register(MethodSpec(
    name="bcd", family="bcd", summary="Block coordinate descent (greedy GS/GSL/GS-q, cyclic, random; numba fast paths)",
    solve=_solve, requires=("grad",), example=_example, accepts_prox=True, float64_internal=True,
    options={
        "tol": Option(1e-8, "Relative duality gap gap/P(0) (l1 / elastic-net / squared-l2 penalties on a datafit "
                            "with a conjugate), else the prox-gradient norm.", Interval(0)),
        "maxiter": Option(1000, "Maximum number of iterations (default 1000): epochs of n coordinate updates, "
                                "outer iterations with working sets, passes over the blocks on the generic path.",
                          Interval(0, integer=True)),
        "selection": Option("auto", "Block selection rule: 'auto', " + ", ".join(SELECTIONS) + " or an object with "
                                    "select(state). 'auto': 'cyclic' for logistic regression (with working sets "
                                    "when there is an l1 term), 'gsl' for least squares with at most 5000 features "
                                    "(Gram matrix), 'cyclic' for wider least squares (working sets) and "
                                    "update='tree', 'gsl' on the generic path. The result reports the rule used "
                                    "(`selection`).", _NameOrObject(("auto",) + SELECTIONS, "select")),
        "blocks": Option(None, "Partition: None (coordinates), an int block size, or a list of index arrays."),
        "update": Option("gradient", "Block update: 'gradient' (prox step 1/L_b), 'newton', 'tree' (message "
                                     "passing on forest blocks, numopt.solvers.bcd.TreeUpdate), or an object with "
                                     "update(state, b).", _NameOrObject(UPDATES, "update")),
        "newton_on_active": Option(False, "l1 fast path: once the support has been unchanged for newton_patience "
                                          "epochs, take a Newton step on the support before each epoch.", _Truth()),
        "newton_patience": Option(3, "Epochs of unchanged support before the Newton steps start.",
                                  Interval(1, integer=True)),
        "working_set": Option("auto", "l1 / elastic-net fast path: working-set outer loop (solve on the support "
                                      "plus the features closest to violating |X_j^T theta| <= lam, growing; stop on "
                                      "the global gap). 'auto' = on when there are more than 5000 features, and for "
                                      "l1-logistic regression with selection='auto'. The result reports whether it "
                                      "was used (`working_set`).", Any_(Choices("auto"), Flag())),
        "ws_start": Option(300, "Smallest working-set size (then max(previous, 2 |support|), doubled on stalls).",
                           Interval(1, integer=True)),
        "ws_inner": Option("auto", "Working sets: the subproblem is solved to a duality gap below ws_inner x the "
                                   "global gap; 'auto' = 0.3 with prox-Newton steps (logistic, cyclic rule), 0.1 "
                                   "with CD epochs.", Any_(Choices("auto"), Interval(0, 1, open=("lo", "hi")))),
        "screening": Option(True, "Working sets: gap-safe screening (Fercoq et al. 2015) removes features proven "
                                  "zero at the optimum.", _Truth()),
        "anderson": Option(True, "Working sets, cyclic rule: Anderson extrapolation of every 5 epochs (Bertrand & "
                                 "Massias 2021), kept when it lowers the objective.", _Truth()),
        "ws_solver": Option("auto", "Working sets, logistic, cyclic rule: 'auto' / 'prox-newton' (proximal Newton "
                                    "steps with an inner CD solve and line search) or 'cd' (plain prox-CD epochs).",
                            Choices("auto", "prox-newton", "cd")),
        "hessian_sample": Option(0.1, "Prox-Newton with a formed model Hessian: while the relative gap is above "
                                      "1e-2, form it from this random fraction of the samples (raised to keep at "
                                      "least 10 |W| samples), reweighted (sub-sampled Newton); 1 = always all "
                                      "samples.", Interval(0, 1, open=("lo",))),
        "rng": Option(None, "Seed or numpy Generator for the random rules and the sub-sampled Hessians; None = a "
                            "fixed default seed (0), so that a default run is reproducible.", Rng()),
        "kernel": Option("auto", "'auto' / 'numba' (the numba fast paths where the problem allows) or "
                                 "'array_api' (always the generic path).", Choices("auto", "numba", "array_api"),
                         aliases=("backend",)),
    },
    optimality="relative duality gap gap(x)/P(0) for l1/elastic-net/squared-l2 models; else "
               "||x - prox(x - grad f(x))||",
    rate_text="Random: E f(x_k)-f* <= (1 - mu/(n L_max))^k (f(x0)-f*); Lipschitz sampling (1 - mu/sum L_j)^k; "
              "GS (1 - mu_1/L_max)^k; GSL (1 - mu_L)^k, never slower than GS (Nutini et al. 2022). k counts "
              "coordinate updates; the trace counts epochs of n updates.",
    rate=None,
    reference="J. Nutini, I. Laradji, M. Schmidt. Let's Make Block Coordinate Descent Converge Faster. "
              "JMLR 23 (2022); Y. Nesterov, SIAM J. Optim. 22(2) (2012)."))


def bcd(problem, x0=None, *, selection="auto", blocks=None, update="gradient", tol=1e-8, maxiter=1000, rng=None,
        callback=None, **options):
    """Block coordinate descent on ``problem`` (a numopt Problem, e.g. from
    ``problems.get("libsvm/a9a", model="lasso", ...)``). See the module docstring."""
    from ..._minimize import minimize

    opts = dict(options, selection=selection, blocks=blocks, update=update, rng=rng, maxiter=maxiter)
    return minimize(problem, x0, method="bcd", tol=tol, callback=callback, options=opts)
