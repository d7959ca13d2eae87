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

import math

import numpy as np

from .._backend import get_namespace, norm
from .._loop import Step
from .._registry import MethodSpec, register
from ..oracles import check_scalar

__all__ = ["bcd", "SELECTIONS"]

SELECTIONS = ("cyclic", "random", "lipschitz", "gs", "gsl", "gs-r", "gs-q")
UPDATES = ("gradient", "newton", "tree")
_GREEDY_CODE = {"gs": 0, "gs-r": 1, "gs-q": 2, "gsl": 3}
_WS_AUTO_P = 5000  # working_set="auto": on above this many features


def _penalty_params(reg):
    """(l1, l2) of the penalty l1 ||w||_1 + l2/2 ||w||^2 that ``reg`` is (None, L1 without
    weights, ElasticNet, SquaredL2), or None for any other regularizer."""
    from ..prox import L1, ElasticNet, SquaredL2

    if reg is None:
        return 0.0, 0.0
    if isinstance(reg, L1) and reg.weights is None:
        return reg.lam, 0.0
    if isinstance(reg, ElasticNet):
        return reg.lam * reg.l1_ratio, reg.lam * (1 - reg.l1_ratio)
    if isinstance(reg, SquaredL2):
        return 0.0, reg.lam
    return None


def _default_rng(seed):
    """The run's generator: the caller's seed or Generator, else a fixed default, so that a
    default run (``rng=None``) is reproducible."""
    return np.random.default_rng(0 if seed is None else seed)


def _dual_scale(l1, vmax):
    """s = min(1, l1 / vmax) (1 when vmax = 0), NaN when vmax is NaN: the rescaling of the
    dual point into ||X^T s u||_inf <= l1 (Python's min / max would swallow a NaN)."""
    if math.isnan(vmax):
        return math.nan
    return min(1.0, l1 / vmax) if vmax > 0 else 1.0


def _nonneg(gap):
    """A gap clipped at 0 from below (rounding), NaN for a non-finite one (a failed
    certificate, never 0)."""
    gap = float(gap)
    if not math.isfinite(gap):
        return math.nan
    return gap if gap > 0.0 else 0.0


def _absmax(v):
    """max |v_i| (0 for an empty v); NaN propagates."""
    return float(np.max(np.abs(v))) if v.size else 0.0


_SEPARABLE = ("L1", "SquaredL2", "ElasticNet", "ZeroRegularizer", "Box", "NonNegative")
_NOT_SEPARABLE = ("Simplex", "L1Ball", "NuclearNorm")


def check_block_separable(reg, blocks, n, method="bcd"):
    """Raise ValueError unless the regularizer ``reg`` is separable over ``blocks`` (a
    partition of range(n)): block-wise prox steps treat g(x) as sum_b g_b(x_b), and
    a g that couples blocks would be silently replaced by another function.

    Accepted: elementwise terms (L1, SquaredL2, ElasticNet, Box / NonNegative, none), a
    GroupLasso whose every group lies inside one block, and any other object (a
    callable prox or a user's class: its separability is the caller's promise). Refused:
    the sets Simplex / L1Ball and NuclearNorm (coupled), and group lasso groups split
    across blocks."""
    g = getattr(reg, "g", reg)
    if g is None:
        return
    name = type(g).__name__
    if name in _SEPARABLE:
        return
    if name in _NOT_SEPARABLE:
        raise ValueError(f"method {method!r} takes prox steps block by block, which needs a regularizer "
                         f"separable over the blocks; {name} couples all coordinates. Accepted: L1, "
                         "SquaredL2, ElasticNet, Box/NonNegative, GroupLasso with groups inside blocks "
                         "(use a proximal gradient method such as 'fista' for this one)")
    if name == "GroupLasso":
        label = np.empty(n, dtype=np.int64)
        for j, b in enumerate(blocks):
            label[np.asarray(b, dtype=np.int64)] = j
        groups = g.groups
        if isinstance(groups, (int, np.integer)):
            groups = [range(i, min(i + int(groups), n)) for i in range(0, n, int(groups))]
        for grp in groups:
            lab = label[np.asarray(list(grp), dtype=np.int64)]
            if lab.size and np.any(lab != lab[0]):
                raise ValueError(f"method {method!r}: a GroupLasso group ({list(grp)[:6]}...) is split across "
                                 "blocks; the group lasso is separable only over blocks that contain whole "
                                 "groups: pass `blocks` = the groups (or unions of them)")


def _unwrap(obj):
    return getattr(obj, "f", obj)  # counted wrapper -> oracle


def _fast_kind(problem):
    from ..datafits import Logistic, Quadratic
    from ..oracles import LinearComposite

    f = _unwrap(problem.objective)
    reg = problem.regularizer.g if hasattr(problem.regularizer, "g") else problem.regularizer
    if not isinstance(f, LinearComposite) or _penalty_params(reg) is None:
        return None
    if not isinstance(f.A, np.ndarray) and not hasattr(f.A, "tocsc"):
        return None
    if isinstance(f.loss, Quadratic):
        return "quadratic"
    if isinstance(f.loss, Logistic):
        return "logistic"
    return None


def _gap_measure(problem):
    """A function w -> relative duality gap, or None."""
    from ..datafits import duality_gap
    from ..prox import L1, ElasticNet, SquaredL2

    f = _unwrap(problem.objective)
    reg = problem.regularizer.g if hasattr(problem.regularizer, "g") else problem.regularizer
    if not (hasattr(f, "A") and hasattr(f, "loss") and hasattr(f.loss, "conjugate")):
        return None
    if not isinstance(reg, (L1, ElasticNet, SquaredL2)) or (isinstance(reg, L1) and reg.weights is not None):
        return None
    if _penalty_params(reg) == (0.0, 0.0):  # g = 0: no dual certificate (the gradient norm instead)
        return None
    p0 = f.loss.value(f.loss.y * 0.0)  # P(0): the datafit at zero predictions
    scale = p0 if p0 > 0 else 1.0
    return lambda w, z=None: _nonneg(duality_gap(f.A, f.loss, reg, w, z)[0]) / scale


def _gram_dense(R, p, inv_n, chunk_bytes=1 << 23):
    """X^T X / n by dense BLAS on row chunks of the CSR design ``R`` (each densified chunk
    holds at most ``chunk_bytes``, 8 MB: the design itself is never densified whole)."""
    n = R.shape[0]
    G = np.zeros((p, p))
    step = max(1, chunk_bytes // (8 * max(p, 1)))
    for i in range(0, n, step):
        B = R[i:i + step].toarray()
        G += B.T @ B
    G *= inv_n
    return G


def _fast(problem, x0, opts, kind):
    """Full epochs of the numba kernels (cyclic / random / Lipschitz orders), or greedy
    rules: least squares through the p x p Gram matrix X^T X / n (formed once, by dense
    BLAS on row chunks of at most 8 MB when the rows are dense enough, else by the CSR
    outer-product kernel), logistic through the CSR rows touched by each step.
    Optimality: the relative duality gap when the penalty has one (l1 / elastic net /
    squared l2), else the gradient norm ||X^T grad F(Xw)|| (no regularizer)."""
    from . import _bcd_kernels as K

    f = _unwrap(problem.objective)
    reg = problem.regularizer.g if hasattr(problem.regularizer, "g") else problem.regularizer
    l1, l2 = _penalty_params(reg)
    D = _CSCData(f.A)
    Xc, data, indices, indptr, n, p, sq = D.X, D.data, D.indices, D.indptr, D.n, D.p, D.sq
    inv_n = 1.0 / n
    y = np.asarray(f.loss.y, dtype=np.float64)
    w = np.array(x0, dtype=np.float64)
    rng = _default_rng(opts["rng"])
    sel = opts["selection"]
    gapf = _gap_measure(problem)
    counter = problem.objective.counter
    if kind == "quadratic":
        r = y - Xc @ w
        Lj = sq * inv_n
    else:
        z = Xc @ w
        Lj = 0.25 * sq * inv_n
    greedy = sel in _GREEDY_CODE
    greedy_log = greedy and kind == "logistic"
    if greedy_log:  # gradient X^T u maintained through the CSR rows touched by each step
        rdata, rcols, rptr = D.rows()
        allW = np.arange(p, dtype=np.int64)
        gW = np.empty(p)
        greedy = False
    if greedy:
        if p > 20000:
            raise ValueError(f"greedy rules keep a p x p Gram matrix: p = {p} is too large; use "
                             "working_set=True (greedy rules inside the working set) or 'cyclic'")
        rows = D.rows()
        row_nnz = np.diff(rows[2]).astype(np.float64)
        # dense BLAS X^T X (n p^2 flops) when it beats the row-outer-product kernel (sum_i nnz_i^2)
        if n * p <= 20_000_000 and n * p * p <= 30.0 * float(row_nnz @ row_nnz):
            import scipy.sparse as sp

            G = _gram_dense(sp.csr_matrix(rows, shape=(n, p)), p, inv_n)
        else:
            G = K.gram_csr(*rows, p) * inv_n
        c = (Xc.T @ y) * inv_n
        grad = G @ w - c
        Lj = np.diag(G).copy()
        yy = float(y @ y)
    probs = Lj / Lj.sum() if sel == "lipschitz" else None
    order = np.arange(p, dtype=np.int64)

    def gram_terms():
        """(||r||^2, r.y) from the Gram matrix: greedy least squares never touches X per epoch
        (X^T r = -n grad, ||r||^2 = y.y - n c.w + n w.grad, r.y = y.y - n c.w)."""
        cw = float(c @ w)
        return _nonneg(yy - n * cw + n * float(w @ grad)), yy - n * cw

    def measure():
        if greedy and gapf is not None:
            rr, ry = gram_terms()
            primal = rr * inv_n / 2 + reg.value(w)
            if l1 > 0 and l2 == 0.0:
                sc = _dual_scale(l1, _absmax(grad))
                dual = sc * ry * inv_n - sc * sc * rr * inv_n / 2
            else:
                dual = ry * inv_n - rr * inv_n / 2 - float(np.sum(np.clip(np.abs(grad) - l1, 0.0, None) ** 2)) / (2 * l2)
            p0 = yy * inv_n / 2
            return _nonneg(primal - dual) / (p0 if p0 > 0 else 1.0)
        if greedy:  # no certificate (g = 0): the maintained gradient's norm
            return float(np.linalg.norm(grad + l2 * w))
        zz = (y - r) if kind == "quadratic" else z
        if gapf is not None:
            return gapf(w, zz)
        counter.njev += 1  # no certificate (g = 0): ||X^T grad F(Xw)||, one pass over X
        return float(np.linalg.norm(Xc.T @ f.loss.grad(zz) + l2 * w))

    def fval():
        if greedy:
            return gram_terms()[0] * inv_n / 2 + (0.0 if reg is None else reg.value(w))
        zz = (y - r) if kind == "quadratic" else z
        return f.loss.value(zz) + (0.0 if reg is None else reg.value(w))

    counter.nfev += 1
    out = np.asarray(x0).dtype  # iterate in float64, report in the input's dtype
    track = l1 > 0
    newton = bool(opts["newton_on_active"]) and track
    patience = opts["newton_patience"]
    supp = w != 0
    last_change, stable, k, n_newton = 0, 0, 0, 0

    def extras():
        if not track:
            return {"coordinate_updates": k * p}
        return {"active_set_iteration": last_change, "support_size": int(supp.sum()), "newton_steps": n_newton,
                "coordinate_updates": k * p}

    yield Step(w.astype(out), fval(), measure(), epoch_max_change=0.0, **extras())
    while True:
        if newton and stable >= patience and supp.any():
            if greedy:
                r = y - Xc @ w  # (greedy epochs do not keep the residual)
            took = _newton_on_support(kind, Xc, f.loss, y, w, np.flatnonzero(supp), l1, l2, inv_n, r if kind ==
                                      "quadratic" else z)
            if took:
                n_newton += 1
                counter.nhev += 1
                if greedy:
                    grad = G @ w - c
        if greedy:
            K.greedy_quadratic(G, c, w, grad, l1, l2, Lj, _GREEDY_CODE[sel], p)
            grad = G @ w - c  # refresh the maintained gradient (O(p^2), no drift)
            dmax = float("nan")
        elif greedy_log:
            u = f.loss.grad(z)
            K.col_dots(data, indices, indptr, u, allW, gW)  # exact gradient once per epoch (no drift)
            wold = w.copy()
            K.greedy_ws(True, data, indices, indptr, rdata, rcols, rptr, allW, w, z, y, u, gW, l1, l2, Lj,
                        inv_n, _GREEDY_CODE[sel], p)
            dmax = _absmax(w - wold)
        else:
            if sel == "random":
                order = rng.integers(0, p, size=p).astype(np.int64)
            elif sel == "lipschitz":
                order = rng.choice(p, size=p, p=probs).astype(np.int64)
            if kind == "quadratic":
                dmax = K.lasso_epoch(data, indices, indptr, w, r, l1, l2, Lj, inv_n, order)
            else:
                dmax = K.logreg_epoch(data, indices, indptr, w, z, y, l1, l2, Lj, inv_n, order)
        counter.njev += 1  # one epoch = the cost of one full gradient
        counter.nfev += 1
        k += 1
        if not np.isfinite(w).all():
            return 2, f"non-finite coordinate in the iterate at epoch {k}; returning the last finite iterate"
        if track:
            new_supp = w != 0
            if np.array_equal(new_supp, supp):
                stable += 1
            else:
                supp, last_change, stable = new_supp, k, 0
        yield Step(w.astype(out), fval(), measure(), epoch_max_change=dmax, **extras())


class _CSCData:
    """The design as float64 CSC arrays plus column norms (shared by the fast paths)."""

    def __init__(self, X):
        import scipy.sparse as sp

        from . import _bcd_kernels as K

        # no copy of a float64 CSC design with sorted indices (read only here)
        Xc = X.tocsc() if sp.issparse(X) else sp.csc_matrix(np.asarray(X))
        if Xc.dtype != np.float64:
            Xc = Xc.astype(np.float64)
        if not Xc.has_sorted_indices:
            Xc = Xc.sorted_indices()
        self.X = Xc
        self._csr = X if sp.issparse(X) and X.format == "csr" else None
        self.data, self.indices, self.indptr = Xc.data, Xc.indices.astype(np.int64), Xc.indptr.astype(np.int64)
        self.n, self.p = Xc.shape
        self.sq = K.col_sq(self.data, self.indptr)
        if not np.isfinite(self.sq).all():
            # (an inf L_j freezes its coordinate at 0 while its dual constraint keeps the gap up:
            # the working-set loop would run its 10^5-epoch cap on every outer iteration)
            j = int(np.flatnonzero(~np.isfinite(self.sq))[0])
            raise ValueError(f"the design matrix `A` (the problem's X) has a non-finite column {j}: NaN/inf "
                             "entries, or a squared norm that overflows float64; rescale the data")
        self.norms = np.sqrt(self.sq)

    def rows(self):
        """(data, column indices, row pointer) of the design's CSR form: the design as given
        when it came as CSR, else one transposition of the CSC arrays."""
        return _csr_arrays(self._csr if self._csr is not None else self.X.tocsr())


def _csr_arrays(R):
    """(float64 data, int64 column indices, int64 row pointer) of a CSR matrix with sorted
    indices, for the numba kernels (``R`` itself is not modified)."""
    if R.dtype != np.float64:
        R = R.astype(np.float64)
    if not R.has_sorted_indices:
        R = R.sorted_indices()
    return R.data, R.indices.astype(np.int64), R.indptr.astype(np.int64)


def _dual_value(loss, u, v, l1, l2, fz=None, z=None, memo=None):
    """Dual objective at the dual point built from u = grad F(z) (v = X_S^T u over the
    features S of the (sub)problem): rescaled into ||X_S^T s u||_inf <= l1 for the l1
    penalty, as is for the elastic net. Returns (dual value, scale s).

    Given fz = F(z) and z, the conjugate at s = 1 is <u, z> - F(z) (Fenchel-Young
    equality, no pass over the loss); ``memo`` (a list [u, s, F*(s u)]) reuses the last
    conjugate when u and s are unchanged: the working set's gap check and the global one
    that follows it often share both."""
    s = _dual_scale(l1, _absmax(v)) if l2 == 0.0 else 1.0
    if memo is not None and memo[0] is u and memo[1] == s:
        conj = memo[2]
    elif s == 1.0 and z is not None:
        conj = float(u @ z) - fz
    else:
        conj = loss.conjugate(s * u)
    if memo is not None:
        memo[:] = [u, s, conj]
    if l2 == 0.0:
        return -conj, s
    return -conj - float(np.sum(np.clip(np.abs(v) - l1, 0.0, None) ** 2)) / (2 * l2), 1.0


def _fast_ws(problem, x0, opts, kind):
    """Working-set outer loop (Johnson & Guestrin 2015; Massias, Gramfort & Salmon, celer,
    ICML 2018; Bertrand et al., skglm, NeurIPS 2022) with gap-safe screening (Fercoq,
    Gramfort & Salmon, ICML 2015), for l1 / elastic-net least squares and logistic
    regression. Each outer iteration:

    1. from the dual point theta = s * grad F(Xw) (s rescales it into the dual-feasible set
       ||X^T theta||_inf <= l1), the global duality gap G; features with
       |X_j^T theta| + ||X_j|| sqrt(2 G beta) < l1 (beta = smoothness of F, so the dual is
       1/beta-strongly concave and the dual optimum lies in that ball) are zero at the
       optimum: removed for good (``screening``);
    2. the working set: the support plus the features whose constraint |X_j^T theta| <= l1
       is closest to active, d_j = (l1 - |X_j^T theta|) / ||X_j|| smallest, of size
       max(previous size, ws_start, 2 |support|) (doubled when the gap falls by less than 10%);
    3. the subproblem on the working set (others fixed at 0) is solved by the numba
       coordinate kernels with the selection rule until its own duality gap is below
       ``ws_inner`` times G.

    One outer iteration = one yielded step; ``optimality`` is the global relative gap G/P(0).
    """
    from . import _bcd_kernels as K

    f = _unwrap(problem.objective)
    reg = problem.regularizer.g if hasattr(problem.regularizer, "g") else problem.regularizer
    l1, l2 = _penalty_params(reg)
    D = _CSCData(f.A)
    data, indices, indptr, n, p = D.data, D.indices, D.indptr, D.n, D.p
    loss = f.loss
    logistic = kind == "logistic"
    inv_n = 1.0 / n
    y = np.asarray(loss.y, dtype=np.float64)
    w = np.array(x0, dtype=np.float64)
    Lj = (0.25 if logistic else 1.0) * D.sq * inv_n
    beta = float(loss.smoothness)
    rng = _default_rng(opts["rng"])
    sel = opts["selection"]
    greedy = sel in _GREEDY_CODE
    rule = _GREEDY_CODE.get(sel, 0)
    check_every = 5 if not greedy else 1
    ws_size = min(p, int(opts["ws_start"]))
    newton_ws = logistic and sel == "cyclic" and opts["ws_solver"] in ("auto", "prox-newton")
    # (measured on the wide design: 0.1 is 14-17% faster than 0.3 for the lasso's CD epochs,
    # 16-38% slower for l1-logistic's Newton steps; the LIBSVM l1-logistic cases do not care)
    inner_frac = float(opts["ws_inner"]) if opts["ws_inner"] != "auto" else (0.3 if newton_ws else 0.1)
    hess_frac = float(opts["hessian_sample"])
    screen = bool(opts["screening"])
    counter = problem.objective.counter
    Xw = D.X @ w if w.any() else np.zeros(n)
    state = Xw if logistic else y - Xw  # z = Xw, or r = y - Xw
    p0 = loss.value(np.zeros_like(y))
    scale = p0 if p0 > 0 else 1.0
    alive = np.flatnonzero(D.sq > 0)  # unscreened features with a nonzero column

    def z_of():
        return state if logistic else y - state

    cur = None  # (F(z), grad F(z), diag hess F(z) or None) at the current z; None once stale
    memo = [None, 0.0, 0.0]  # the last conjugate (see _dual_value)
    rows = None  # CSR rows of the design (prox-Newton Hessians), built on first use

    from ..datafits import Quadratic

    plain_ls = type(loss) is Quadratic

    def terms():
        nonlocal cur
        if cur is None:
            if plain_ls:  # from the residual r = y - z: F = ||r||^2 / (2n), grad F = -r / n
                cur = (0.5 * inv_n * float(state @ state), state * -inv_n, None)
            else:
                z = z_of()
                cur = loss.terms(z) if hasattr(loss, "terms") else (loss.value(z), loss.grad(z), None)
        return cur

    def global_gap(known=None):
        """(primal, gap, X_alive^T u, s); ``known`` = (W, X_W^T u, u) from the working
        set's last gap check: those columns' dots are reused when u is still current."""
        fz, u, _ = terms()
        v = np.empty(alive.size)
        if known is not None and known[2] is u:
            rest = np.ones(alive.size, dtype=bool)
            at = np.searchsorted(alive, known[0])
            rest[at] = False
            v[at] = known[1]
            others = alive[rest]
            vo = np.empty(others.size)
            K.col_dots(data, indices, indptr, u, others, vo)
            v[rest] = vo
        else:
            K.col_dots(data, indices, indptr, u, alive, v)
        primal = fz + reg.value(w)
        dual, s = _dual_value(loss, u, v, l1, l2, fz, z_of(), memo)
        return primal, _nonneg(primal - dual), v, s

    out = np.asarray(x0).dtype
    n_updates, n_screened, n_outer, n_extrap, n_pn = 0, 0, 0, 0, 0
    counter.nfev += 1
    primal, gap, v, s = global_gap()
    counter.njev += 1

    def extras():
        return {"support_size": int(np.count_nonzero(w)), "coordinate_updates": n_updates,
                "working_set_size": ws_size, "n_screened": n_screened, "anderson_steps": n_extrap,
                "prox_newton_steps": n_pn}

    yield Step(w.astype(out), primal, gap / scale, **extras())
    last_gap = gap
    while True:
        if screen and l1 > 0 and gap > 0:
            radius = math.sqrt(2.0 * gap * beta)
            drop = s * np.abs(v) + D.norms[alive] * radius < l1 * (1 - 1e-12)
            if drop.any():
                gone = alive[drop]
                nz = gone[w[gone] != 0]
                for j in nz:  # proven zero at the optimum: set it to 0 now
                    cols = slice(indptr[j], indptr[j + 1])
                    if logistic:
                        state[indices[cols]] -= data[cols] * w[j]
                    else:
                        state[indices[cols]] += data[cols] * w[j]
                    w[j] = 0.0
                if nz.size:
                    cur = None
                alive, v = alive[~drop], v[~drop]
                n_screened += int(drop.sum())
        # working set: support first, then the features closest to violating their constraint
        supp = w[alive] != 0
        nsupp = int(supp.sum())
        ws_size = min(alive.size, max(ws_size, int(opts["ws_start"]), 2 * nsupp))
        score = (l1 - s * np.abs(v)) / D.norms[alive]
        score[supp] = -np.inf
        if ws_size < alive.size:
            W = alive[np.argpartition(score, ws_size - 1)[:ws_size]]
        else:
            W = alive
        W = np.sort(W).astype(np.int64)
        target = max(inner_frac * gap, 0.1 * float(opts["tol"]) * scale)
        m = W.size
        gW = np.empty(m)
        if greedy:
            rdata, rcols, rptr = _csr_arrays(D.X[:, W].tocsr())
        epochs = 0
        known = None
        newton = newton_ws
        anderson = bool(opts["anderson"]) and sel == "cyclic" and not newton
        if newton:
            if rows is None:
                rows = D.rows()
            M = _WSMatrices(D, W, rows)
            if cur is not None:  # X_W^T grad F(z) from the global gap's X^T grad F(z)
                gW[:] = v[np.searchsorted(alive, W)]
            else:
                K.col_dots(data, indices, indptr, terms()[1], W, gW)
        if anderson:
            XW = D.X[:, W]
            hist = np.empty((check_every + 1, m))
        while True:
            if newton:
                frac = hess_frac if gap > 1e-2 * scale else 1.0  # sub-sampled model Hessian in the global phase
                # column-wise model CD: 50 epochs in the global phase, 500 near the optimum, where
                # an inexact model solve would make the Newton steps converge only linearly
                epochs_cap = 50 if gap > 1e-4 * scale else 500
                upd, progressed, new = _prox_newton_step(K, D, W, w, state, loss, reg, l1, l2, gW, M, terms(),
                                                         frac, rng, epochs_cap)
                if not progressed and frac < 1.0:  # the sampled model failed: the full one before CD epochs
                    n_updates += upd
                    upd, progressed, new = _prox_newton_step(K, D, W, w, state, loss, reg, l1, l2, gW, M,
                                                             terms(), 1.0, rng, epochs_cap)
                n_updates += upd
                n_pn += 1
                if new is not None:
                    cur = new
                if not progressed:  # stalled at rounding level (ill-conditioned model): CD epochs
                    newton = False
                    anderson = bool(opts["anderson"])
                    if anderson:
                        XW = D.X[:, W]
                        hist = np.empty((check_every + 1, m))
                    continue
            elif greedy:
                u = terms()[1]
                K.col_dots(data, indices, indptr, u, W, gW)  # exact gradient (no drift)
                took = K.greedy_ws(logistic, data, indices, indptr, rdata, rcols, rptr, W, w, state, y,
                                   u, gW, l1, l2, Lj, inv_n, rule, m)
                cur = None
                n_updates += took
                if took == 0:
                    break
            else:
                if anderson:
                    hist[0] = w[W]
                for t in range(check_every):
                    if sel == "cyclic":
                        order = W
                    elif sel == "random":
                        order = W[rng.integers(0, m, size=m)]
                    else:  # lipschitz
                        pr = Lj[W] / Lj[W].sum()
                        order = W[rng.choice(m, size=m, p=pr)]
                    if logistic:
                        K.logreg_epoch(data, indices, indptr, w, state, y, l1, l2, Lj, inv_n, order)
                    else:
                        K.lasso_epoch(data, indices, indptr, w, state, l1, l2, Lj, inv_n, order)
                    n_updates += m
                    if anderson:
                        hist[t + 1] = w[W]
                cur = None
                if anderson:
                    n_extrap += _anderson_step(hist, XW, W, w, state, y, loss, reg, logistic)
            epochs += 1 if newton else check_every
            fz, u, _ = terms()
            K.col_dots(data, indices, indptr, u, W, gW)
            known = (W, gW, u)
            dual_W, _ = _dual_value(loss, u, gW, l1, l2, fz, z_of(), memo)
            gap_W = fz + reg.value(w[W]) - dual_W  # (w is zero outside W)
            if gap_W <= target or epochs >= 100000 or not math.isfinite(gap_W):
                break  # (a non-finite gap: the global gap below is non-finite too, status 2)
        n_outer += 1
        counter.njev += 1
        counter.nfev += 1
        if not np.isfinite(w).all():
            return 2, f"non-finite coordinate in the iterate at outer iteration {n_outer}; returning the last " \
                      "finite iterate"
        primal, gap, v, s = global_gap(known)
        if gap > 0.9 * last_gap and ws_size < alive.size:
            # stalled (the gap fell by less than 10%): grow the working set. (Doubling whenever
            # the gap fell by less than half grew the wide lasso's sets to 3x the support:
            # wide lasso lmax/100 and l1-logistic 1.3-1.6x slower.)
            ws_size = min(alive.size, 2 * ws_size)
        last_gap = gap
        yield Step(w.astype(out), primal, gap / scale, **extras())


class _WSMatrices:
    """Whether the prox-Newton model Hessian X_W^T diag(h) X_W is formed for a working set
    (``gram``), from the CSR rows of the whole design built once per solve (``rows``; its
    columns outside W are skipped through ``pos``). Cost model (ns, measured on the
    benchmark machine), for ~20 model CD epochs: formed, sum_i nnz_i(W)^2 / 2 multiply-adds
    at ~2.5 ns split over the threads plus epochs of up to |W|^2 / 2 at ~1 ns; column-wise,
    two passes over nnz(X_W) at ~4 ns per nonzero and epoch. It is formed when that is
    cheaper and |W| <= 3000 (an m x m matrix): the Hessian wins on long rows (n >> |W|,
    as on a9a / w8a / mushrooms), the columns on wide designs (n < |W|).
    The rows are split over the numba threads (``nblocks``: one m x m accumulator each, at
    most 256 MB of them, one block below 10^5 pairs)."""

    def __init__(self, D, W, rows):
        from numba import get_num_threads

        from . import _bcd_kernels as K

        m = W.size
        self.gram = False
        if m <= 3000:
            self.rdata, self.rcols, self.rptr = rows
            self.pos = np.full(D.p, -1, dtype=np.int64)
            self.pos[W] = np.arange(m)
            # (a rough estimate suffices: from about 1000 evenly spaced rows)
            pairs, nnz = K.masked_rows_cost(self.rcols, self.rptr, self.pos, max(1, D.n // 1000))
            self.nblocks = 1 if pairs < 1e5 else max(1, min(get_num_threads(), int(2 ** 25 // (m * m))))
            epochs = 20.0
            formed = 2.5 * pairs / self.nblocks + epochs * 0.5 * m * m
            self.gram = formed <= epochs * 8.0 * nnz


def _prox_newton_step(K, D, W, w, z, loss, reg, l1, l2, gW, M, cur, frac=1.0, rng=None, cd_epochs=50):
    """One proximal Newton step for l1 / elastic-net logistic regression on the working set
    W (Lee, Sun & Saunders, SIOPT 2014; as in skglm / celer for logistic regression): the
    model g^T d + 1/2 d^T X_W^T diag(h) X_W d + penalty(w_W + d) is minimized approximately
    by cyclic CD (numba, to a change below 1e-4 of the step; at most 200 epochs with the
    Hessian formed, ``cd_epochs`` column-wise), then a backtracking (Armijo) line search on
    the true objective. When the rows of X_W are sparse enough (see
    ``_WSMatrices``) the model Hessian X_W^T diag(h) X_W is formed once and the CD epochs
    cost O(|W|^2), independent of n. ``gW`` = X_W^T grad F(z) and ``cur`` = (F(z), grad F(z),
    diag hess F(z)) at the current z. Updates w and z = Xw in place; returns the coordinate
    updates made, whether the objective decreased by more than rounding, and the new
    ``cur`` (None when w did not move).

    With ``frac`` < 1 and the Hessian formed, it is formed from a random subset of about
    ``frac`` n samples with weights h_i / frac (a sub-sampled Newton step, exact gradient:
    Byrd, Chin, Neveitt & Nocedal, SIOPT 2011; Roosta-Khorasani & Mahoney, Math. Prog.
    2019); the fraction is raised to keep at least 10 |W| samples; the caller uses it while the
    relative gap is above 1e-2, where Newton steps are damped anyway, and the full Hessian
    in the local phase. A column that the sample under-represents (a rare feature: few or
    none of its rows drawn) would get a near-zero curvature and a huge model step, so each
    diagonal entry is raised to its exact value sum_i h_i X_ij^2 where it falls below it
    (a nonnegative diagonal added: the model stays convex and only gets more cautious).

    The formed model is restricted to the active part of W: the coordinates nonzero in w or
    with |g_k| > l1 (a zero coordinate with |g_k| <= l1 stays at zero at d = 0); the others
    are held at zero for this step (an inexact Newton step: one that should move enters at
    the next step, its gradient then above l1). The Gram pairs shrink with the square of
    the row's active entries: w8a's local steps form a 64 x 64 model instead of 128 x 128
    (measured 5-25% on the LIBSVM l1-logistic cases)."""
    fz, u, h = cur
    frac = max(frac, 10.0 * W.size / h.size)
    sampled = frac < 1.0 and M.gram
    m = W.size
    wW = w[W]
    ridge = 1e-12 * D.sq[W] / D.n
    d, Xd = np.zeros(m), np.empty(D.n)
    if M.gram:
        hs = np.where(rng.random(h.size) < frac, h / frac, 0.0) if sampled else h  # (zero rows: skipped)
        act = np.flatnonzero((wW != 0) | (np.abs(gW) > l1))  # the model's active part (docstring)
        if act.size < m:
            pos = np.full(D.p, -1, dtype=np.int64)
            pos[W[act]] = np.arange(act.size)
        else:
            pos = M.pos
        WA = W[act]
        a = act.size
        H = K.gram_masked_rows(M.rdata, M.rcols, M.rptr, pos, hs, a, M.nblocks if a * 4 > m else 1)
        if sampled:
            dexact = np.empty(a)
            K.cols_weighted_sq(D.data, D.indices, D.indptr, WA, h, dexact)
            H[np.diag_indices(a)] += np.maximum(dexact - np.diagonal(H), 0.0)
        H[np.diag_indices(a)] += ridge[act]
        dA = np.zeros(a)
        ep = K.prox_newton_cd_gram(H, np.ascontiguousarray(gW[act]), np.ascontiguousarray(wW[act]), dA, l1, l2,
                                   200, 1e-4)
        d[act] = dA
        K.cols_matvec(D.data, D.indices, D.indptr, WA, dA, Xd)
        m = a
    else:
        Hj = np.empty(m)
        K.cols_weighted_sq(D.data, D.indices, D.indptr, W, h, Hj)
        Hj += ridge
        Xd[:] = 0.0
        ep = K.prox_newton_cd(D.data, D.indices, D.indptr, W, w, d, Xd, h, gW, Hj, l1, l2, cd_epochs, 1e-4)
    f0 = fz + reg.value(wW)  # (w is zero outside W)

    def pen(v):
        return l1 * float(np.abs(v).sum()) + 0.5 * l2 * float(v @ v)

    slope = float(gW @ d) + pen(wW + d) - pen(wW)  # <= 0: the model decreases along d
    exact = hasattr(loss, "value_change")
    t = 1.0
    for _ in range(30):
        wt = wW + t * d
        new = loss.terms(z + t * Xd)
        if exact and t * abs(slope) <= 1e-9 * max(abs(f0), 1.0):
            # a change near the rounding of f (the last steps to a 1e-8 gap): summed from
            # per-sample differences instead of f(t) - f(0)
            change = loss.value_change(z, t * Xd) + l1 * float((np.abs(wt) - np.abs(wW)).sum()) + \
                0.5 * l2 * t * float(d @ (2.0 * wW + t * d))
        else:
            change = new[0] + reg.value(wt) - f0
        if change <= 1e-4 * t * min(slope, 0.0):
            w[W] = wt
            z += t * Xd
            return ep * m, -change > 1e-15 * max(abs(f0), 1.0) or (change < 0 and exact), new
        t *= 0.5
    return ep * m, False, None


def _anderson_step(hist, XW, W, w, state, y, loss, reg, logistic):
    """Anderson extrapolation of the last K cyclic CD epochs on the working set (Bertrand &
    Massias, "Anderson acceleration of coordinate descent", AISTATS 2021): with the
    differences U = [x_1 - x_0, ..., x_K - x_{K-1}], c = (U^T U)^{-1} 1 / 1^T (U^T U)^{-1} 1
    and x_e = sum_i c_i x_i; accepted (w, residual updated in place) only if the objective
    decreases. Returns 1 if accepted."""
    U = np.diff(hist, axis=0)
    C = U @ U.T
    try:
        c = np.linalg.solve(C + 1e-14 * np.trace(C) * np.eye(C.shape[0]), np.ones(C.shape[0]))
    except np.linalg.LinAlgError:
        return 0
    if not np.isfinite(c).all() or c.sum() == 0:
        return 0
    c /= c.sum()
    we = c @ hist[1:]
    z_old = state if logistic else y - state
    z_new = z_old + XW @ (we - hist[-1])  # (w is zero outside W: X w moves by X_W (we - w_W))
    cur = loss.value(z_old) + reg.value(hist[-1])  # (w is zero outside W: the penalty on W suffices)
    if loss.value(z_new) + reg.value(we) < cur:
        w[W] = we
        if logistic:
            state[:] = z_new
        else:
            state[:] = y - z_new
        return 1
    return 0


def _newton_on_support(kind, Xc, loss, y, w, S, l1, l2, inv_n, state):
    """One Newton step for the l1 problem restricted to the support S with the signs of
    w_S fixed (there the objective is smooth: f + l1 s^T w_S + l2/2 ||w_S||^2), kept in
    the closed orthant: the step length is cut at the first sign change and the
    coordinates that reach zero are set to zero. Least squares: the restricted minimizer
    (the objective decreases along the segment by convexity). Logistic: Armijo
    backtracking. Updates ``w`` and the residual / predictions ``state`` in place.
    Returns False (nothing changed) if |S| is too large for a dense solve or no decrease
    was found."""
    if S.size > 3000:
        return False
    XS = Xc[:, S]
    sgn = np.sign(w[S])
    wS = w[S]
    if kind == "quadratic":
        r = state
        H = (XS.T @ XS).toarray() * inv_n if hasattr(XS, "toarray") else XS.T @ XS * inv_n
        gS = -(XS.T @ r) * inv_n + l1 * sgn + l2 * wS
    else:
        z = state
        hd = loss.hess_diag(z)
        H = (XS.T @ XS.multiply(hd[:, None])).toarray()
        gS = XS.T @ loss.grad(z) + l1 * sgn + l2 * wS
    H[np.diag_indices_from(H)] += l2 + 1e-12 * float(np.max(np.abs(np.diag(H)), initial=1.0))  # (NaN propagates)
    try:
        d = -np.linalg.solve(H, gS)
    except np.linalg.LinAlgError:
        return False
    slope = float(gS @ d)
    if not slope < 0:
        return False
    cross = (wS + d) * sgn < 0
    tmax = float(np.min(-wS[cross] / d[cross])) if cross.any() else 1.0
    t = 1.0 if tmax >= 1.0 else tmax  # (min(1.0, nan) would be 1.0)
    Xd = XS @ d
    if kind == "logistic":
        def phi(tt):
            return loss.value(z + tt * Xd) + l1 * float(sgn @ (wS + tt * d)) + 0.5 * l2 * float((wS + tt * d) @ (wS + tt * d))
        f0 = phi(0.0)
        for _ in range(30):
            if phi(t) <= f0 + 1e-4 * t * slope:
                break
            t *= 0.5
        else:
            return False
    new = wS + t * d
    new[(new * sgn) <= 0] = 0.0  # coordinates that reached the orthant boundary
    delta = new - wS
    w[S] = new
    if kind == "quadratic":
        state -= XS @ delta
    else:
        state += XS @ delta
    return True


def _is_zero_reg(reg):
    """Whether the regularizer is absent or identically zero (None, ZeroRegularizer, L1(0), ...)."""
    g = getattr(reg, "g", reg)
    return g is None or type(g).__name__ == "ZeroRegularizer" or _penalty_params(g) == (0.0, 0.0)


def _blocks(blocks, n):
    if blocks is None:
        return [np.array([j]) for j in range(n)]
    if isinstance(blocks, (int, np.integer)) and not isinstance(blocks, bool):
        if blocks < 1:
            raise ValueError(f"`blocks` must be >= 1, got {blocks}")
        return [np.arange(i, min(i + blocks, n)) for i in range(0, n, blocks)]
    out = [np.asarray(b, dtype=np.int64).ravel() for b in blocks]
    flat = np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
    if flat.size != n or not np.array_equal(np.sort(flat), np.arange(n)):
        raise ValueError(f"`blocks` must partition the {n} variables (each index exactly once)")
    return out


def _generic(problem, x0, opts):
    """Array-API path: any smooth objective with grad; separable prox per block."""
    xp = get_namespace(x0)
    f, reg = problem.objective, problem.regularizer
    n = x0.shape[0]
    blocks = _blocks(opts["blocks"], n)
    sel, upd = opts["selection"], opts["update"]
    check_block_separable(reg, blocks, n)
    if _is_zero_reg(reg):
        reg = None  # (g = 0: nothing to drop)
    if reg is not None and _is_tree(upd):
        raise ValueError("update='tree' solves the block systems of a smooth problem and has no proximal step: "
                         f"it would drop the regularizer ({type(getattr(reg, 'g', reg)).__name__}); use "
                         "update='gradient' (proximal block steps) for a regularized problem")
    if reg is not None and not isinstance(upd, str) and not getattr(upd, "uses_regularizer", False):
        raise ValueError("an update object gets the regularizer in its state ('prox': the block prox, "
                         "'regularizer') and must apply it; declare that with the attribute "
                         "`uses_regularizer = True`, or use update='gradient' (proximal block steps) for a "
                         f"regularized problem (here {type(getattr(reg, 'g', reg)).__name__})")
    rng = _default_rng(opts["rng"])
    L = getattr(f, "lipschitz", None)
    if hasattr(f, "block_lipschitz"):
        Lb = [float(f.block_lipschitz(b)) for b in blocks]
    else:
        if not L:
            g0 = f.grad(x0)
            gn = float(norm(g0))
            if not math.isfinite(gn):
                raise ValueError(f"the gradient at x0 is not finite (norm {gn}); cannot estimate the block "
                                 "Lipschitz constants")
            gn = gn if gn > 1e-300 else 1e-300
            h = 1e-4 * max(1.0, float(norm(x0))) / gn
            L = float(norm(f.grad(x0 - h * g0) - g0)) / (h * gn)
            L = L if L > 1e-12 else (L if math.isnan(L) else 1e-12)  # (a NaN L is refused below)
        Lb = [float(L)] * len(blocks)
    if not all(math.isfinite(v) and v > 0 for v in Lb):
        raise ValueError("block Lipschitz constants must be positive and finite")
    gapf = _gap_measure(problem)
    x = x0
    if isinstance(upd, str) and upd == "tree":
        from .bcd_extra import TreeUpdate

        upd = TreeUpdate()
    track = _penalty_params(reg.g if hasattr(reg, "g") else reg) not in (None, (0.0, 0.0))
    supp = x != 0 if track else None
    last_change = 0

    def extras():
        return {"active_set_iteration": last_change} if track else {}

    def prox_block(xb, step, b):
        if reg is None:
            return xb
        full = xp.zeros_like(x)
        full = _set(xp, full, b, xb)
        return xp.take(reg.prox(full, step), xp.asarray(b), axis=0)

    def pg_norm(x, g):
        if reg is None:
            return norm(g)
        return norm(x - reg.prox(x - g, 1.0))

    def score(x, g, b, j):
        gb, xb = xp.take(g, xp.asarray(b), axis=0), xp.take(x, xp.asarray(b), axis=0)
        if sel in ("gs-r", "gs-q") or (reg is not None and sel in ("gs", "gsl")):
            new = prox_block(xb - gb / Lb[j], 1.0 / Lb[j], b)
            d = new - xb
            if sel == "gs-q":
                dv = float(xp.sum(gb * d)) + 0.5 * Lb[j] * float(xp.sum(d * d))
                if reg is not None:  # block-separable g: compare g on the block only
                    z = xp.zeros_like(x)
                    dv += reg.value(_set(xp, z, b, new)) - reg.value(_set(xp, z, b, xb))
                return -dv
            s = norm(d) * Lb[j]  # GS-r on the prox step, scaled as a gradient
            return s / math.sqrt(Lb[j]) if sel == "gsl" else s
        s = norm(gb)
        return s / math.sqrt(Lb[j]) if sel == "gsl" else s

    fx = f.value(x)
    g = f.grad(x)
    rv = 0.0 if reg is None else reg.value(x)
    yield Step(x, fx + rv, gapf(x) if gapf else pg_norm(x, g), jac=g, **extras())
    nb = len(blocks)
    probs = np.asarray(Lb) / sum(Lb)
    k = 0
    while True:
        for t in range(nb):
            if sel == "cyclic":
                j = t
            elif sel == "random":
                j = int(rng.integers(nb))
            elif sel == "lipschitz":
                j = int(rng.choice(nb, p=probs))
            elif sel in _GREEDY_CODE:
                g = f.grad(x)
                j = int(np.argmax([score(x, g, b, i) for i, b in enumerate(blocks)]))
            elif hasattr(sel, "select"):
                j = int(sel.select({"x": x, "grad": f.grad(x), "blocks": blocks, "L": Lb, "k": k}))
            else:
                raise ValueError(f"unknown selection {sel!r}; valid: {', '.join(SELECTIONS)} or an object")
            b = blocks[j]
            bi = xp.asarray(b)
            g = f.grad(x) if sel not in _GREEDY_CODE else g
            gb, xb = xp.take(g, bi, axis=0), xp.take(x, bi, axis=0)
            if upd == "gradient":
                new = prox_block(xb - gb / Lb[j], 1.0 / Lb[j], b)
            elif upd == "newton":
                if reg is not None:
                    raise ValueError("update='newton' is for smooth problems (no regularizer)")
                H = _block_hessian(f, x, b)
                new = xb - xp.asarray(np.linalg.solve(H, np.asarray(gb)), dtype=x.dtype)
            elif hasattr(upd, "update"):
                state = {"x": x, "grad": g, "block": b, "L": Lb[j], "objective": f}
                if reg is not None:
                    state.update(regularizer=reg, prox=lambda v, step, b=b: prox_block(v, step, b))
                new = upd.update(state, j)
            else:
                raise ValueError(f"unknown update {upd!r}; use 'gradient', 'newton' or an object")
            x = _set(xp, x, b, new)
        k += 1
        fx = f.value(x)
        g = f.grad(x)
        rv = 0.0 if reg is None else reg.value(x)
        if track:
            new_supp = x != 0
            if not bool(xp.all(new_supp == supp)):
                supp, last_change = new_supp, k
        yield Step(x, fx + rv, gapf(x) if gapf else pg_norm(x, g), jac=g, **extras())


def _block_hessian(f, x, b):
    """The block Hessian H_bb of the smooth objective at x, as a dense |b| x |b| array,
    without densifying a sparse design or Hessian: for f = loss(A x) (LinearComposite)
    A_b^T diag(loss'') A_b from the block's columns A[:, b] only; for an objective whose
    ``hess`` returns a scipy.sparse matrix, its b x b block."""
    import scipy.sparse as sp

    b = np.asarray(b, dtype=np.int64)
    inner = _unwrap(f)
    A, loss = getattr(inner, "A", None), getattr(inner, "loss", None)
    if (A is not None and loss is not None and hasattr(loss, "hess_diag") and isinstance(x, np.ndarray)
            and (sp.issparse(A) or isinstance(A, np.ndarray)) and A.ndim == 2):
        if hasattr(f, "counter"):
            f.counter.nhev += 1
        h = np.asarray(loss.hess_diag(A @ x), dtype=np.float64)
        if sp.issparse(A):
            Ab = (A if A.format in ("csc", "csr") else A.tocsc())[:, b]
            H = Ab.T @ Ab.multiply(h[:, None]).tocsc()
            return H.toarray() if sp.issparse(H) else np.asarray(H)  # (|b| x |b|: the block, not the design)
        Ab = np.asarray(A)[:, b]
        return Ab.T @ (h[:, None] * Ab)
    if not callable(getattr(f, "hess", None)):
        raise ValueError("update='newton' needs the objective's Hessian (`hess`) or a LinearComposite objective")
    H = f.hess(x)
    if sp.issparse(H):
        return H.tocsr()[b][:, b].toarray()  # (the b x b block only)
    return np.asarray(H)[np.ix_(b, b)]


def _set(xp, x, b, vals):
    """x with x[b] = vals, without in-place updates (array API)."""
    n = x.shape[0]
    idx = np.full(n, -1)
    idx[np.asarray(b)] = np.arange(len(b))
    pos = xp.asarray(np.where(idx >= 0, idx, 0))
    picked = xp.take(vals, pos, axis=0)
    return xp.where(xp.asarray(idx >= 0), picked, x)


def _is_tree(upd):
    from .bcd_extra import TreeUpdate

    return (isinstance(upd, str) and upd == "tree") or isinstance(upd, TreeUpdate)


def _quadratic_matrix(problem):
    """True for 1/2 x^T A x - c^T x objectives that expose A and c (or Q and b)."""
    f = _unwrap(problem.objective)
    return (getattr(f, "A", None) is not None and getattr(f, "c", None) is not None) or \
        (getattr(f, "Q", None) is not None and getattr(f, "b", None) is not None)


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
        elif kind == "logistic":
            sel = "cyclic"
        elif ws is True or p > _WS_AUTO_P:
            sel = "cyclic"
        else:
            sel = "gsl"
    if not use_fast or l1 <= 0:
        on = False  # (no sparsity to exploit without an l1 term)
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
    sel = opts["selection"]
    if isinstance(sel, str) and sel not in SELECTIONS + ("auto",):
        raise ValueError(f"unknown selection {sel!r}; valid: 'auto', {', '.join(SELECTIONS)} or an object")
    if not isinstance(sel, str) and not hasattr(sel, "select"):
        raise TypeError(f"`selection` must be a string ('auto', {', '.join(SELECTIONS)}) or an object with "
                        f"select(state), got {type(sel).__name__}")
    reg = problem.regularizer.g if hasattr(problem.regularizer, "g") else problem.regularizer
    lam = getattr(reg, "lam", 0.0)
    if lam is not None and lam < 0:
        raise ValueError(f"negative regularization lam = {lam}")
    upd = opts["update"]
    if isinstance(upd, str) and upd not in UPDATES:
        raise ValueError(f"unknown update {upd!r}; use {', '.join(map(repr, UPDATES))} or an object")
    check_scalar(opts["newton_patience"], "newton_patience", lower=1, integer=True)
    ws = opts["working_set"]
    if ws not in ("auto", True, False):
        raise ValueError(f"`working_set` must be 'auto', True or False, got {ws!r}")
    check_scalar(opts["ws_start"], "ws_start", lower=1, integer=True)
    if opts["ws_inner"] != "auto":
        check_scalar(opts["ws_inner"], "ws_inner", lower=0, lower_inclusive=False)
        if opts["ws_inner"] >= 1:
            raise ValueError(f"`ws_inner` must be 'auto' or in (0, 1), got {opts['ws_inner']}")
    if opts["ws_solver"] not in ("auto", "prox-newton", "cd"):
        raise ValueError(f"`ws_solver` must be 'auto', 'prox-newton' or 'cd', got {opts['ws_solver']!r}")
    check_scalar(opts["hessian_sample"], "hessian_sample", lower=0, lower_inclusive=False)
    if opts["hessian_sample"] > 1:
        raise ValueError(f"`hessian_sample` must be in (0, 1], got {opts['hessian_sample']}")
    tree = _is_tree(upd)
    kind = _fast_kind(problem)
    use_fast = (kind is not None and opts["blocks"] is None and isinstance(upd, str) and upd == "gradient"
                and isinstance(sel, str) and opts["backend"] != "array_api" and isinstance(x0, np.ndarray))
    l1 = _penalty_params(reg)[0] if use_fast else 0.0
    sel, ws_on = _resolve_auto(opts, kind, use_fast, l1, x0.shape[0], tree)
    opts = dict(opts, selection=sel)
    info = {"selection": sel if isinstance(sel, str) else type(sel).__name__, "working_set": ws_on}
    if tree and _quadratic_matrix(problem) and _is_zero_reg(reg) and isinstance(x0, np.ndarray) \
            and opts["backend"] != "array_api":
        from .bcd_extra import _quadratic_tree_path

        return _tagged(_quadratic_tree_path(problem, x0, opts), info)
    if use_fast:
        if ws_on:
            return _tagged(_fast_ws(problem, x0, opts, kind), info)
        return _tagged(_fast(problem, x0, opts, kind), info)
    if ws is True:
        raise ValueError("`working_set=True` needs the numba fast path: an l1 / elastic-net least-squares or "
                         "logistic LinearComposite problem, single coordinates, update='gradient', numpy x0")
    return _tagged(_generic(problem, x0, opts), info)


def _example(xp):
    from ..datafits import Quadratic
    from ..oracles import LinearComposite
    from ..prox import L1

    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 10))
    b = rng.standard_normal(30)
    return dict(fun=LinearComposite(Quadratic(xp.asarray(b)), xp.asarray(A)), x0=xp.zeros(10, dtype=xp.float64),
                prox=L1(0.05), options={"selection": "cyclic"})


register(MethodSpec(
    name="bcd", family="bcd", summary="Block coordinate descent (greedy GS/GSL/GS-q, cyclic, random; numba fast paths)",
    solve=_solve, requires=("grad",), example=_example, accepts_prox=True, float64_internal=True,
    options={
        "tol": (1e-8, "Relative duality gap gap/P(0) (l1 / elastic-net / squared-l2 penalties on a datafit with a "
                      "conjugate), else the prox-gradient norm."),
        "selection": ("auto", "Block selection rule: 'auto', " + ", ".join(SELECTIONS) + " or an object. "
                              "'auto': 'cyclic' for logistic regression (with working sets when there is an "
                              "l1 term), 'gsl' for least squares with at most 5000 features (Gram matrix), "
                              "'cyclic' for wider least squares (working sets) and update='tree', 'gsl' on "
                              "the generic path. The result reports the rule used (`selection`)."),
        "blocks": (None, "Partition: None (coordinates), an int block size, or a list of index arrays."),
        "update": ("gradient", "Block update: 'gradient' (prox step 1/L_b), 'newton', 'tree' (message passing "
                               "on forest blocks, numopt.solvers.bcd_extra.TreeUpdate), or an object."),
        "newton_on_active": (False, "l1 fast path: once the support has been unchanged for newton_patience "
                                    "epochs, take a Newton step on the support before each epoch."),
        "newton_patience": (3, "Epochs of unchanged support before the Newton steps start."),
        "working_set": ("auto", "l1 / elastic-net fast path: working-set outer loop (solve on the support plus "
                                "the features closest to violating |X_j^T theta| <= lam, growing; stop on the "
                                "global gap). 'auto' = on when there are more than 5000 features, and for "
                                "l1-logistic regression with selection='auto'. The result reports whether it "
                                "was used (`working_set`)."),
        "ws_start": (300, "Smallest working-set size (then max(previous, 2 |support|), doubled on stalls)."),
        "ws_inner": ("auto", "Working sets: the subproblem is solved to a duality gap below ws_inner x the "
                             "global gap; 'auto' = 0.3 with prox-Newton steps (logistic, cyclic rule), "
                             "0.1 with CD epochs."),
        "screening": (True, "Working sets: gap-safe screening (Fercoq et al. 2015) removes features proven "
                            "zero at the optimum."),
        "anderson": (True, "Working sets, cyclic rule: Anderson extrapolation of every 5 epochs (Bertrand & "
                           "Massias 2021), kept when it lowers the objective."),
        "ws_solver": ("auto", "Working sets, logistic, cyclic rule: 'auto' / 'prox-newton' (proximal Newton "
                              "steps with an inner CD solve and line search) or 'cd' (plain prox-CD epochs)."),
        "hessian_sample": (0.1, "Prox-Newton with a formed model Hessian: while the relative gap is above 1e-2, "
                                "form it from this random fraction of the samples (raised to keep at least "
                                "10 |W| samples), reweighted (sub-sampled Newton); 1 = always all samples."),
        "rng": (None, "Seed or numpy Generator for the random rules and the sub-sampled Hessians; None = a "
                      "fixed default seed (0), so that a default run is reproducible."),
        "backend": ("auto", "'auto' (numba fast path when possible) or 'array_api' (generic path)."),
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
    from .._minimize import minimize

    opts = dict(options, selection=selection, blocks=blocks, update=update, rng=rng, maxiter=maxiter)
    return minimize(problem, x0, method="bcd", tol=tol, callback=callback, options=opts)
