"""Pieces shared by the BCD paths: penalty parameters, the duality-gap certificate, the
design as CSC arrays for the numba kernels, block partitions."""
from __future__ import annotations

import math

import numpy as np

from ..._blocks import partition
from ..._options import generator

SELECTIONS = ("cyclic", "random", "lipschitz", "gs", "gsl", "gs-r", "gs-q")
UPDATES = ("gradient", "newton", "tree")
_GREEDY_CODE = {"gs": 0, "gs-r": 1, "gs-q": 2, "gsl": 3}
_WS_AUTO_P = 5000  # working_set="auto": on above this many features


def _penalty_params(reg):
    """(l1, l2) of the penalty l1 ||w||_1 + l2/2 ||w||^2 that ``reg`` is (None, L1 without
    weights, ElasticNet, SquaredL2), or None for any other regularizer."""
    from ...prox import L1, ElasticNet, SquaredL2

    if reg is None:
        return 0.0, 0.0
    if isinstance(reg, L1) and reg.weights is None:
        return reg.lam, 0.0
    if isinstance(reg, ElasticNet):
        return reg.lam * reg.l1_ratio, reg.lam * (1 - reg.l1_ratio)
    if isinstance(reg, SquaredL2):
        return 0.0, reg.lam
    return None


_default_rng = generator  # (numopt._options.generator: rng=None is a fixed seed)


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


def _unwrap(obj):
    return getattr(obj, "f", obj)  # counted wrapper -> oracle


def _reg_of(problem):
    """The problem's regularizer without its counting wrapper (None when there is none)."""
    return problem.regularizer.g if hasattr(problem.regularizer, "g") else problem.regularizer


def _is_zero_reg(reg):
    """Whether the regularizer is absent or identically zero (None, ZeroRegularizer, L1(0), ...)."""
    g = getattr(reg, "g", reg)
    return g is None or type(g).__name__ == "ZeroRegularizer" or _penalty_params(g) == (0.0, 0.0)


def _fast_kind(problem):
    """The numba fast path's kernel family for ``problem`` ('quadratic', 'logistic'), or None:
    asked of the datafit (its ``fast_kind``) for a LinearComposite with a dense or scipy.sparse
    design and an l1 / elastic-net / squared-l2 (or no) penalty."""
    from ...oracles import LinearComposite

    f = _unwrap(problem.objective)
    if not isinstance(f, LinearComposite) or _penalty_params(_reg_of(problem)) is None:
        return None
    if not isinstance(f.A, np.ndarray) and not hasattr(f.A, "tocsc"):
        return None
    return _datafit_fast_kind(f.loss)


def _datafit_fast_kind(loss):
    """The datafit's own kernel family (its ``fast_kind``: 'quadratic', 'logistic', or
    'smooth' with a ``coordinate_kernel()``), or None (a datafit without kernels, or a
    user's datafit that does not name any)."""
    kind = getattr(loss, "fast_kind", None)
    if kind in ("logistic", "smooth") and not callable(getattr(loss, "coordinate_kernel", None)):
        return None
    return kind if kind in ("quadratic", "logistic", "smooth") else None


def _gap_measure(problem):
    """A function w -> relative duality gap, or None."""
    from ...datafits import relative_gap_measure
    from ...prox import L1, ElasticNet, SquaredL2

    f = _unwrap(problem.objective)
    reg = _reg_of(problem)
    if not (hasattr(f, "A") and hasattr(f, "loss") and hasattr(f.loss, "conjugate")):
        return None
    if not isinstance(reg, (L1, ElasticNet, SquaredL2)) or (isinstance(reg, L1) and reg.weights is not None):
        return None
    if _penalty_params(reg) == (0.0, 0.0):  # g = 0: no dual certificate (the gradient norm instead)
        return None
    return relative_gap_measure(f.A, f.loss, reg)


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


class _CSCData:
    """The design as float64 CSC arrays plus column norms (shared by the fast paths)."""

    def __init__(self, X):
        import scipy.sparse as sp

        from .. import _bcd_kernels as K

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

    @property
    def csc(self):
        """(data, int64 row indices, int64 column pointer): the arguments of the column kernels."""
        return self.data, self.indices, self.indptr

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


_blocks = partition  # (numopt/_blocks.py: one home for block partitions)
