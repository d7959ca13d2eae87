"""Message passing for forest-structured blocks in block coordinate descent (Nutini,
Laradji & Schmidt, JMLR 2022, Section "Message-Passing for Huge-Block Updates"):
:class:`TreeUpdate`, :func:`check_forest`, :func:`forest_solve`, :func:`forest_partition`,
:func:`lattice_forest_blocks`, the quadratic oracle :class:`QuadraticForm` and the BCD path
for quadratics with the gradient kept current (``update="tree"``). Formerly
``numopt.solvers.bcd_extra`` (which re-exports these names; BCD-PR for nonnegative matrix
factorization moved to :mod:`numopt.solvers.nmf`).

Message passing. For a symmetric matrix M whose sparsity graph restricted to a block b is
a forest, the block system ``M_bb d = g`` is solved by Gaussian elimination in a
leaves-to-root order: with every tree rooted, eliminating a leaf i (parent p) changes only
``D_p <- D_p - M_ip^2 / D_i`` and ``r_p <- r_p - M_ip r_i / D_i`` (no fill-in), so the
factorization and the two sweeps (leaves -> root, root -> leaves) cost O(|b|). The
factor (D, parent, M_ip) depends only on M, so it is computed once per block and reused
at every visit. A BCD step with it is ``x_b <- x_b - M_bb^{-1} grad_b f(x)``: the exact
block minimizer for a quadratic f(x) = 1/2 x^T A x - c^T x with M = A, and for a general
f a block majorization-minimization step whenever ``hess_bb f <= M_bb``.

The sweeps are vectorized by depth level (one numpy operation per level of the rooted
trees), so the Python loop runs depth(forest) times, not |b| times; roots are chosen at
tree centres so the depth is at most half the diameter.
"""
from __future__ import annotations

import numpy as np

from ...oracles import QuadraticForm  # noqa: F401 (its home is numopt.oracles)
from ..._options import generator

__all__ = ["TreeUpdate", "QuadraticForm", "check_forest", "forest_solve", "forest_partition",
           "lattice_forest_blocks"]


# --------------------------------------------------------------------------- forests

def _as_csr(M):
    import scipy.sparse as sp

    if sp.issparse(M):
        M = sp.csr_matrix(M)
    else:
        M = np.asarray(M)
        if M.ndim != 2 or M.shape[0] != M.shape[1]:
            raise ValueError(f"`A` must be a square matrix, got shape {M.shape}")
        M = sp.csr_matrix(M)
    if not np.isfinite(M.data).all():  # (NaN fails every comparison: the symmetry and pivot checks would pass)
        raise ValueError("`A` must be finite (it has NaN or inf entries)")
    return M


def _block_graph(M, block):
    """(sub-matrix M_bb as CSR, list of off-diagonal edges (i < j) with weights)."""
    import scipy.sparse as sp

    M = _as_csr(M)
    b = np.asarray(block, dtype=np.int64).ravel()
    if b.size and (b.min() < 0 or b.max() >= M.shape[0]):
        raise ValueError(f"`block` indices must lie in [0, {M.shape[0]})")
    if np.unique(b).size != b.size:
        raise ValueError("`block` has repeated indices")
    S = M[b][:, b].tocoo()
    off = (S.row != S.col) & (S.data != 0)
    r, c, v = S.row[off], S.col[off], S.data[off]
    up = r < c
    lo = sp.coo_matrix((v[~up], (c[~up], r[~up])), shape=S.shape).tocsr()
    upm = sp.coo_matrix((v[up], (r[up], c[up])), shape=S.shape).tocsr()
    if (abs(upm - lo) > 1e-12 * max(1.0, abs(upm).max() if upm.nnz else 1.0)).nnz:
        raise ValueError("`A` must be symmetric on the block")
    E = upm.tocoo()
    diag = np.asarray(M[b, b]).ravel() if b.size else np.zeros(0)
    return diag, E.row.astype(np.int64), E.col.astype(np.int64), E.data.astype(float)


def check_forest(A, block):
    """Raise ``ValueError`` unless the graph of A's off-diagonal nonzeros restricted to
    ``block`` is a forest (no cycle). A graph with V nodes, E edges and C connected
    components is a forest iff E = V - C. Returns the number of trees C."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    diag, r, c, _ = _block_graph(A, block)
    V, E = diag.size, r.size
    G = sp.coo_matrix((np.ones(E), (r, c)), shape=(V, V))
    C = connected_components(G, directed=False)[0] if V else 0
    if E != V - C:
        raise ValueError(f"block is not a forest: its induced subgraph has {V} nodes, {E} edges and {C} "
                         f"components, so {E - (V - C)} independent cycle(s); message passing needs a forest")
    return C


class _ForestFactor:
    """Leaves-to-root elimination of a symmetric matrix whose graph is a forest.

    ``labels`` (optional, one block id per variable): only the edges inside a block are
    kept, i.e. the block-diagonal part of M is factored, every block's trees at once
    (each block is checked to be a forest: E_b = V_b - C_b). Roots are tree centres for
    trees of more than 32 nodes; one BFS from a virtual super-root orders everything.
    """

    def __init__(self, M, labels=None):
        import scipy.sparse as sp
        from scipy.sparse.csgraph import breadth_first_order, connected_components, depth_first_order

        M = _as_csr(M)
        V = M.shape[0]
        labels = np.zeros(V, dtype=np.int64) if labels is None else np.asarray(labels, dtype=np.int64)
        C = M.tocoo()
        off = (C.row != C.col) & (C.data != 0) & (labels[C.row] == labels[C.col])
        rr, cc, vv = C.row[off], C.col[off], C.data[off]
        asym = sp.coo_matrix((vv, (rr, cc)), shape=(V, V)).tocsr()
        asym = asym - asym.T
        amax = float(np.abs(vv).max()) if vv.size else 1.0
        if asym.nnz and float(np.abs(asym.data).max()) > 1e-12 * max(1.0, amax):
            raise ValueError("`A` must be symmetric on the blocks")
        up = rr < cc
        r, c, w = rr[up].astype(np.int64), cc[up].astype(np.int64), vv[up].astype(float)
        G = sp.coo_matrix((np.r_[w, w], (np.r_[r, c], np.r_[c, r])), shape=(V, V)).tocsr()
        ncomp, lab = connected_components(G, directed=False) if V else (0, np.zeros(0, dtype=np.int64))
        nlab = int(labels.max()) + 1 if V else 0
        Vb = np.bincount(labels, minlength=nlab)
        Eb = np.bincount(labels[r], minlength=nlab)
        first = np.full(ncomp, V, dtype=np.int64)
        np.minimum.at(first, lab, np.arange(V))
        Cb = np.bincount(labels[first], minlength=nlab) if ncomp else np.zeros(nlab, dtype=np.int64)
        bad = np.flatnonzero(Eb != Vb - Cb)
        if bad.size:
            j = int(bad[0])
            raise ValueError(f"block {j} is not a forest: its induced subgraph has {Vb[j]} nodes, {Eb[j]} edges "
                             f"and {Cb[j]} components ({Eb[j] - Vb[j] + Cb[j]} independent cycle(s)); "
                             "message passing needs a forest")
        sizes = np.bincount(lab, minlength=ncomp)
        roots = first.copy()
        for comp in np.flatnonzero(sizes > 32):  # python loop over large trees only
            roots[comp] = self._centre(G, int(first[comp]))
        parent = np.full(V, -1, dtype=np.int64)
        depth = np.zeros(V, dtype=np.int64)
        pos = np.zeros(V, dtype=np.int64)
        if V:
            r2, c2 = np.r_[r, roots], np.r_[c, np.full(ncomp, V, dtype=np.int64)]
            Gs = sp.coo_matrix((np.ones(r2.size), (r2, c2)), shape=(V + 1, V + 1)).tocsr()
            Gs = Gs + Gs.T
            order, pred = breadth_first_order(Gs, V, directed=False, return_predecessors=True)
            posf = np.empty(V + 1, dtype=np.int64)
            posf[order] = np.arange(order.size)
            lev = self._levels(posf[pred[order[1:]]], order.size)
            depth[order[1:]] = lev[1:] - 1
            pp = pred[order[1:]]
            parent[order[1:]] = np.where(pp == V, -1, pp)
            pos = posf[:V] - 1
            # depth-first preorder for the numba sweeps: parents still come first, and
            # subtrees (e.g. a comb's teeth) stay contiguous in memory
            dfs = depth_first_order(Gs, V, directed=False, return_predecessors=False)
            pos = np.empty(V + 1, dtype=np.int64)
            pos[dfs] = np.arange(dfs.size)
            pos = pos[:V] - 1
        self.parent, self.depth, self.pos, self.labels = parent, depth, pos, labels
        w_par = np.zeros(V)
        has = parent >= 0
        if has.any():
            w_par[has] = np.asarray(G[np.flatnonzero(has), parent[has]]).ravel()
        self.w_par = w_par
        maxd = int(depth.max()) if V else 0
        self.levels = [np.flatnonzero(depth == k) for k in range(maxd + 1)]
        # factor: D_p <- D_p - w_ip^2 / D_i, deepest level first
        D = M.diagonal().astype(float).copy()
        for k in range(maxd, 0, -1):
            idx = self.levels[k]
            if np.any(D[idx] <= 0):
                raise ValueError("the block matrix is not positive definite (a non-positive pivot in message passing)")
            np.add.at(D, parent[idx], -w_par[idx] ** 2 / D[idx])
        if V and np.any(D[self.levels[0]] <= 0):
            raise ValueError("the block matrix is not positive definite (a non-positive pivot in message passing)")
        self.D = D
        self.size = V

    @staticmethod
    def _levels(par_pos, m):
        # par_pos[i-1] = BFS position of the parent of the node at position i >= 1; BFS
        # order is level order, so the children of level [lo, hi) are the contiguous
        # positions from hi whose parent lies before hi
        d = np.zeros(m, dtype=np.int64)
        lo, hi = 0, 1
        for _ in range(m):  # (at most m levels)
            if hi >= m:
                break
            nxt = hi + int(np.searchsorted(par_pos[hi - 1:], hi, side="left"))
            if nxt <= hi:
                raise RuntimeError("forest levels: the breadth-first order is inconsistent")
            d[hi:nxt] = d[lo] + 1
            lo, hi = hi, nxt
        return d

    @staticmethod
    def _centre(G, start):
        """A centre of the tree containing ``start`` (middle of a longest path)."""
        from scipy.sparse.csgraph import breadth_first_order

        o1 = breadth_first_order(G, start, directed=False, return_predecessors=False)
        o2, pred = breadth_first_order(G, o1[-1], directed=False, return_predecessors=True)
        path = [o2[-1]]
        for _ in range(o2.size):  # (a path has at most as many nodes as the tree)
            if pred[path[-1]] < 0:
                break
            path.append(pred[path[-1]])
        return int(path[len(path) // 2])

    def solve(self, g):
        """d with M' d = g, M' the block-diagonal (forest) part of M; numpy, one
        vectorized operation per depth level (the reference for the numba kernel)."""
        par, w, D, lv = self.parent, self.w_par, self.D, self.levels
        r = np.array(g, dtype=float, copy=True)
        for k in range(len(lv) - 1, 0, -1):  # leaves -> root: messages to the parents
            idx = lv[k]
            np.add.at(r, par[idx], -w[idx] * r[idx] / D[idx])
        d = np.empty_like(r)
        if lv:
            d[lv[0]] = r[lv[0]] / D[lv[0]]
        for k in range(1, len(lv)):  # root -> leaves: back substitution
            idx = lv[k]
            d[idx] = (r[idx] - w[idx] * d[par[idx]]) / D[idx]
        return d

    def kernel_arrays(self):
        """Per-block arrays for the numba epoch: (ptr, nodes, par_local, w_par, D) with
        each block's nodes in BFS order (parents first) and parents as local positions."""
        V = self.size
        nodes = np.lexsort((self.pos, self.labels)).astype(np.int64)
        nlab = int(self.labels.max()) + 1 if V else 0
        ptr = np.zeros(nlab + 1, dtype=np.int64)
        ptr[1:] = np.cumsum(np.bincount(self.labels, minlength=nlab))
        where = np.empty(V, dtype=np.int64)
        where[nodes] = np.arange(V)
        p = self.parent[nodes]
        par_local = np.where(p >= 0, where[np.maximum(p, 0)] - ptr[self.labels[nodes]], -1).astype(np.int64)
        return ptr, nodes, par_local, self.w_par[nodes].copy(), self.D[nodes].copy()


def forest_solve(A, block, g):
    """Solve ``A[block][:, block] d = g`` by message passing; ``ValueError`` if the block's
    graph is not a forest or the block matrix is not positive definite. O(|block|) after
    an O(nnz(A_bb)) factorization."""
    M = _as_csr(A)
    b = np.asarray(block, dtype=np.int64).ravel()
    if b.size and (b.min() < 0 or b.max() >= M.shape[0] or np.unique(b).size != b.size):
        raise ValueError(f"`block` must hold distinct indices in [0, {M.shape[0]})")
    g = np.asarray(g, dtype=float)
    if g.shape != b.shape:
        raise ValueError(f"`g` must have shape {b.shape} (one entry per block index), got {g.shape}")
    return _ForestFactor(M[b][:, b]).solve(g)


def forest_partition(A, order=None):
    """Greedily partition the variables into blocks whose induced subgraphs of A's
    sparsity graph are forests: vertex v joins the first block in which its neighbours
    lie in distinct trees (union-find), else opens a new block. Returns a list of index
    arrays. O(nnz(A) alpha(n)) in a python loop over vertices (a set-up cost)."""
    M = _as_csr(A)
    n = M.shape[0]
    order = np.arange(n) if order is None else np.asarray(order, dtype=np.int64)
    if order.shape != (n,) or not np.array_equal(np.sort(order), np.arange(n)):
        raise ValueError(f"`order` must be a permutation of range({n})")
    uf = list(range(n))

    def find(i):
        for _ in range(n):  # (the union-find parents form a forest: at most n steps to a root)
            if uf[i] == i:
                break
            uf[i] = uf[uf[i]]
            i = uf[i]
        return i

    colour = np.full(n, -1, dtype=np.int64)
    indptr, indices = M.indptr, M.indices
    nblocks = 0
    for v in order:
        nb = [u for u in indices[indptr[v]:indptr[v + 1]] if u != v and colour[u] >= 0]
        for c in range(nblocks + 1):
            roots = [find(u) for u in nb if colour[u] == c]
            if len(roots) == len(set(roots)):
                break
        colour[v] = c
        nblocks = max(nblocks, c + 1)
        for rt in roots:
            uf[rt] = v
    return [np.flatnonzero(colour == c) for c in range(nblocks)]


def lattice_forest_blocks(shape, kind="comb"):
    """Forest partitions of the nodes of an ``(nrows, ncols)`` 4-neighbour lattice,
    node (i, j) having index ``i * ncols + j``.

    ``kind="comb"``: two interleaved combs (two trees): comb 1 is column 0 plus the
    interior of the even rows, comb 2 is the last column plus the interior of the odd
    rows; neither contains a vertical edge between interior nodes, so each is a tree.
    ``kind="red-black"``: the checkerboard colouring (two blocks of isolated nodes: the
    block matrices are diagonal).
    """
    if (not isinstance(shape, (tuple, list)) or len(shape) != 2
            or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in shape)):
        raise ValueError(f"`shape` must be (nrows, ncols) with positive ints, got {shape!r}")
    nr, nc = int(shape[0]), int(shape[1])
    I, J = np.meshgrid(np.arange(nr), np.arange(nc), indexing="ij")
    if kind == "red-black":
        lab = (I + J) % 2
    elif kind == "comb":
        if nc < 2:
            return [np.arange(nr * nc)]  # a single column is a path: one tree
        lab = np.where(J == 0, 0, np.where(J == nc - 1, 1, I % 2))
    else:
        raise ValueError(f"unknown `kind` {kind!r}; use 'comb' or 'red-black'")
    lab = lab.ravel()
    return [np.flatnonzero(lab == c) for c in (0, 1) if np.any(lab == c)]


class TreeUpdate:
    """Block update by message passing: ``x_b <- x_b - M_bb^{-1} grad_b f(x)``.

    ``M`` (sparse or dense, symmetric): the matrix whose block systems are solved; None
    takes the objective's Hessian (``objective.A`` of a :class:`QuadraticForm`,
    ``objective.Q``, or ``objective.hess(x)``), which makes each step the exact block
    minimizer of a quadratic. Every block must induce a forest in M's graph (checked once
    per block, ``ValueError`` otherwise). Factors are cached per block.
    """

    name = "tree"

    def __init__(self, M=None):
        self.M = M
        self._factors = {}

    def matrix(self, objective=None, x=None):
        if self.M is not None:
            return self.M
        f = getattr(objective, "f", objective)
        for attr in ("A", "Q"):
            M = getattr(f, attr, None)
            if M is not None and getattr(M, "ndim", 0) == 2 and M.shape[0] == M.shape[1]:
                return M
        if f is not None and x is not None and hasattr(f, "hess"):
            return f.hess(x)
        raise ValueError("update='tree' needs a matrix: pass TreeUpdate(M) or an objective with a Hessian")

    def factor(self, block, M):
        key = (id(M), np.asarray(block).tobytes())
        fac = self._factors.get(key)
        if fac is None:
            b = np.asarray(block, dtype=np.int64).ravel()
            fac = self._factors[key] = _ForestFactor(_as_csr(M)[b][:, b])
        return fac

    def update(self, state, j):
        """Generic-path hook: ``state`` has x, grad, block (and objective)."""
        from ..._backend import get_namespace

        x, g, b = state["x"], state["grad"], np.asarray(state["block"])
        xp = get_namespace(x)
        M = self.matrix(state.get("objective"), x)
        gb = np.asarray(xp.take(g, xp.asarray(b), axis=0), dtype=float)
        d = self.factor(b, M).solve(gb)
        return xp.take(x, xp.asarray(b), axis=0) - xp.asarray(d, dtype=x.dtype)


def _quadratic_tree_path(problem, x0, opts):
    """BCD on 1/2 x^T A x - c^T x with the gradient kept current: one block update is the
    message-passing solve, O(|b|), plus g -= A[:, b] d, O(nnz(A[:, b])); a pass over all
    blocks costs O(nnz(A)) in one numba call (cyclic, random); "gs" picks the block with
    the largest ||g_b|| (an O(n) vectorized scan per block step)."""
    import scipy.sparse as sp

    from ..._loop import Step
    from .. import _bcd_kernels as K
    from .common import _blocks

    upd = opts["update"]
    upd = TreeUpdate() if isinstance(upd, str) else upd
    f = getattr(problem.objective, "f", problem.objective)
    A = upd.matrix(f)
    c = np.asarray(f.c if getattr(f, "c", None) is not None else f.b, dtype=float)
    n = x0.shape[0]
    if A.shape != (n, n):
        raise ValueError(f"the tree update's matrix has shape {A.shape}, expected ({n}, {n})")
    sel = opts["selection"]
    if sel not in ("cyclic", "random", "gs"):
        raise ValueError(f"selection {sel!r} is not available with update='tree' on a quadratic; "
                         "use 'cyclic', 'random' or 'gs'")
    blocks = _blocks(opts["blocks"], n)
    labels = np.empty(n, dtype=np.int64)
    for j, b in enumerate(blocks):
        labels[b] = j
    fac = _ForestFactor(A, labels)  # checks every block is a forest
    ptr, nodes, par, wpar, D = fac.kernel_arrays()
    Acsc = sp.csc_matrix(A)
    Acsc.sort_indices()
    data, indices, indptr = Acsc.data.astype(float), Acsc.indices.astype(np.int64), Acsc.indptr.astype(np.int64)
    nb = len(blocks)
    width = int(np.diff(ptr).max())
    work_r, work_d = np.empty(width), np.empty(width)
    rng = generator(opts["rng"])  # (None: reproducible)
    out = np.asarray(x0).dtype
    x = np.array(x0, dtype=float)
    g = Acsc @ x - c
    counter = problem.objective.counter
    cyc = np.arange(nb, dtype=np.int64)
    starts = ptr[:-1]

    def fun():
        return 0.5 * float(x @ (g - c))  # 1/2 x^T A x - c^T x with A x = g + c

    counter.nfev += 1
    counter.njev += 1
    yield Step(x.astype(out), fun(), float(np.linalg.norm(g)), jac=g.astype(out))
    while True:
        if sel == "cyclic":
            K.tree_epoch(ptr, nodes, par, wpar, D, data, indices, indptr, x, g, cyc, work_r, work_d)
        elif sel == "random":
            K.tree_epoch(ptr, nodes, par, wpar, D, data, indices, indptr, x, g,
                         rng.integers(0, nb, size=nb).astype(np.int64), work_r, work_d)
        else:
            for _ in range(nb):
                score = np.add.reduceat(g[nodes] ** 2, starts)
                K.tree_epoch(ptr, nodes, par, wpar, D, data, indices, indptr, x, g,
                             np.array([int(np.argmax(score))], dtype=np.int64), work_r, work_d)
        counter.njev += 1  # one pass = the cost of one gradient
        counter.nfev += 1
        yield Step(x.astype(out), fun(), float(np.linalg.norm(g)), jac=g.astype(out))
