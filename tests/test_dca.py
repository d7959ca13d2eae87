"""DCA and complete DCA: known global minima, the monotone-decrease inequality, criticality
of limit points, escape from a stalled critical point, and a difference-of-submodular
instance checked by enumeration."""
import itertools

import numpy as np
import pytest
from scipy.optimize import brentq

from numopt.solvers.dca import dca


# --------------------------------------------------------------- trust-region subproblem

def _trs(seed, n=8, r=1.0):
    """min 1/2 x^T A x + b^T x over ||x|| <= r with A indefinite; global solution from the
    eigendecomposition and the secular equation (independent of DCA)."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    A = (M + M.T) / 2
    b = rng.standard_normal(n)
    w, Q = np.linalg.eigh(A)
    beta = Q.T @ b
    phi = lambda lam: np.linalg.norm(beta / (w + lam)) - r  # noqa: E731
    lo = -w[0] + 1e-12
    hi = lo + 1.0
    while phi(hi) > 0:
        hi *= 2
    lam = brentq(phi, lo, hi, xtol=1e-15)
    xs = -Q @ (beta / (w + lam))
    return A, b, r, xs, 0.5 * xs @ A @ xs + b @ xs, w


def _proj(v, r):
    nv = np.linalg.norm(v)
    return v if nv <= r else v * (r / nv)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dca_trust_region_monotone_critical_and_global(seed):
    A, b, r, xs, fstar, w = _trs(seed)
    rho = w[-1] + 1.0  # g = rho/2 ||x||^2 + b^T x + i_ball (modulus rho), h = x^T (rho I - A) x / 2 (modulus 1)
    f = lambda x: 0.5 * x @ A @ x + b @ x  # noqa: E731
    rng = np.random.default_rng(100 + seed)
    finals = []
    for _ in range(4):
        x0 = _proj(rng.standard_normal(A.shape[0]), r)
        res = dca(lambda y: _proj((y - b) / rho, r), lambda x: rho * x - A @ x, x0, objective=f,
                  tol=1e-12, maxiter=5000)
        assert res.status == 0, res.message
        fun, dx = res.trace["fun"], res.trace["optimality"][1:]
        # DCA inequality: f(x_k) - f(x_{k+1}) >= (rho_g + rho_h)/2 ||x_{k+1} - x_k||^2
        assert np.all(fun[:-1] - fun[1:] >= 0.5 * (rho + 1.0) * dx ** 2 - 1e-12)
        K = len(dx)
        assert np.min(dx ** 2) <= 2 * (fun[0] - fstar) / ((rho + 1.0) * K)
        # the limit is a KKT point of the TRS (0 in dg - dh): (A + nu I) x = -b, nu >= 0, nu (||x|| - r) = 0
        x = res.x
        if np.linalg.norm(x) < r - 1e-8:
            assert np.linalg.norm(A @ x + b) <= 1e-6
        else:
            nu = -x @ (A @ x + b) / r ** 2
            assert nu >= -1e-8 and np.linalg.norm(A @ x + b + nu * x) <= 1e-6
        finals.append(res.fun)
    assert min(finals) == pytest.approx(fstar, abs=1e-9)  # global minimizer found from random starts
    assert min(finals) >= fstar - 1e-12


# ------------------------------------------------------- 1/2||x||^2 - ||x||_1 on a box

def _l1_problem(n):
    lo, hi = -2.0, 2.0
    return dict(g_solve=lambda y: np.clip(y, lo, hi),  # argmin 1/2||x||^2 - <y, x> over the box
                g=lambda x: 0.5 * x @ x, h=lambda x: np.abs(x).sum())


def _vertex_candidates(x):
    """All of d||.||_1(x) that matters: sign(x_i) where x_i != 0, both of +-1 where x_i = 0
    (the vertices of the subdifferential box)."""
    zero = np.flatnonzero(x == 0)
    base = np.sign(x)
    out = []
    for signs in itertools.product((-1.0, 1.0), repeat=len(zero)):
        y = base.copy()
        y[zero] = signs
        out.append(y)
    return np.array(out)


@pytest.mark.parametrize("select", ["model", "objective"])
def test_complete_dca_escapes_where_plain_dca_stalls(select):
    n = 5
    p = _l1_problem(n)
    x0 = np.zeros(n)
    plain = dca(p["g_solve"], np.sign, x0, g=p["g"], h=p["h"], tol=1e-12)
    # 0 is critical (0 in dg(0) = {0} and in dh(0) = [-1, 1]^n): plain DCA with y = 0 never moves
    assert plain.status == 0 and np.all(plain.x == 0) and plain.fun == 0.0
    full = dca(p["g_solve"], np.sign, x0, g=p["g"], h=p["h"], complete=True, h_candidates=_vertex_candidates,
               select=select, tol=1e-12)
    assert full.status == 0
    np.testing.assert_allclose(np.abs(full.x), 1.0)  # a global minimizer (x_i = +-1, f = -n/2)
    assert full.fun == pytest.approx(-n / 2)


def test_dca_limit_is_critical_from_random_start():
    n = 6
    p = _l1_problem(n)
    x0 = np.random.default_rng(3).uniform(-2, 2, n)
    res = dca(p["g_solve"], np.sign, x0, g=p["g"], h=p["h"], tol=1e-12)
    y = res.y
    # y in dh(x) (sign where x != 0) and y in dg(x) = {x} inside the box: 0 in dg(x) - dh(x)
    nz = res.x != 0
    assert np.all(y[nz] == np.sign(res.x[nz])) and np.all(np.abs(y) <= 1)
    np.testing.assert_allclose(res.x, y)
    assert res.fun == pytest.approx(-n / 2)  # here every nonzero critical point is a global minimizer
    assert np.all(np.diff(res.trace["fun"]) <= 1e-15)


# ----------------------------------------------------- difference of submodular functions

def _ds_instance(n=8, seed=0):
    """F(S) = G(S) - H(S), G and H sums of concave functions of modular weights (submodular,
    normalized). Values on all 2^n sets are tabulated (small n) for exact g-subproblems."""
    rng = np.random.default_rng(seed)
    Wg = rng.uniform(0, 1, (3, n))
    Wh = rng.uniform(0, 1, (3, n))
    lin = rng.uniform(-0.5, 0.5, n)
    G = lambda S: float(np.sum(np.sqrt(Wg @ S)) * 2.0 + lin @ S)  # noqa: E731
    H = lambda S: float(np.sum((Wh @ S) ** 0.8) * 1.5)  # noqa: E731
    sets = np.array(list(itertools.product((0.0, 1.0), repeat=n)))
    Gv = np.array([G(s) for s in sets])
    return G, H, sets, Gv


def _lovasz(F, x):
    """Lovasz extension value and the greedy subgradient for the order `order`."""
    order = np.argsort(-x, kind="stable")
    return _greedy(F, x, order)


def _greedy(F, x, order):
    n = x.size
    y = np.zeros(n)
    S = np.zeros(n)
    prev = 0.0
    for i in order:
        S[i] = 1.0
        v = F(S)
        y[i] = v - prev
        prev = v
    return float(y @ x), y


def test_complete_dca_on_difference_of_submodular_reaches_a_local_minimum():
    G, H, sets, Gv = _ds_instance(seed=2)
    n = sets.shape[1]
    Fv = Gv - np.array([H(s) for s in sets])

    def g_solve(y):  # argmin over [0,1]^n of Lovasz(G) - <y, x>: attained at a set indicator
        return sets[int(np.argmin(Gv - sets @ y))].copy()

    def candidates(x):  # greedy subgradients of Lovasz(H) ordering one element last in / first out of X
        X = np.flatnonzero(x > 0.5)
        out = [_lovasz(H, x)[1]]
        Xc = np.flatnonzero(x <= 0.5)
        for i in X:
            out.append(_greedy(H, x, np.r_[np.setdiff1d(X, [i]), i, Xc])[1])
        for j in Xc:
            out.append(_greedy(H, x, np.r_[X, j, np.setdiff1d(Xc, [j])])[1])
        return np.array(out)

    gL = lambda x: _lovasz(G, x)[0]  # noqa: E731
    hL = lambda x: _lovasz(H, x)[0]  # noqa: E731
    def is_local_min(S):  # by enumeration of all single-element additions/removals
        fS = G(S) - H(S)
        return all(G(T) - H(T) >= fS - 1e-12 for T in (np.where(np.arange(n) == i, 1 - S, S) for i in range(n)))

    plain_stalled = 0
    for seed in range(4):
        x0 = (np.random.default_rng(seed).random(n) < 0.5).astype(float)
        res = dca(g_solve, lambda x: _lovasz(H, x)[1], x0, g=gL, h=hL, complete=True, h_candidates=candidates,
                  tol=0, maxiter=200)
        plain = dca(g_solve, lambda x: _lovasz(H, x)[1], x0, g=gL, h=hL, tol=0, maxiter=200)
        for r in (res, plain):
            assert np.all(np.diff(r.trace["fun"]) <= 1e-12)  # monotone
            assert r.status == 0
        S = res.x
        assert set(np.unique(S)) <= {0.0, 1.0}
        assert res.fun == pytest.approx(G(S) - H(S)) and res.fun >= Fv.min() - 1e-12
        assert is_local_min(S)  # CDCA's guarantee with this candidate set
        assert res.fun <= plain.fun + 1e-12
        plain_stalled += not is_local_min(plain.x)
    assert plain_stalled >= 1  # on this instance plain DCA stops at a critical non-local-minimum


def test_bad_inputs():
    p = _l1_problem(3)
    with pytest.raises(TypeError, match="g_solve"):
        dca(None, np.sign, np.zeros(3))
    with pytest.raises(ValueError, match="h_candidates"):
        dca(p["g_solve"], np.sign, np.zeros(3), g=p["g"], h=p["h"], complete=True)
    with pytest.raises(ValueError, match="`g` and `h`"):
        dca(p["g_solve"], np.sign, np.zeros(3), g=p["g"])
    with pytest.raises(ValueError, match="select"):
        dca(p["g_solve"], np.sign, np.zeros(3), select="best")
    with pytest.raises(ValueError, match="x0"):
        dca(p["g_solve"], np.sign, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="g_solve"):
        dca(lambda y: np.zeros(5), np.sign, np.zeros(3))
    with pytest.raises(ValueError, match="maxiter"):
        dca(p["g_solve"], np.sign, np.zeros(3), maxiter=-1)


def test_contract_maxiter0_dtype_callback():
    p = _l1_problem(4)
    x0 = np.array([0.3, -0.2, 0.5, 1.5], dtype=np.float32)
    x0c = x0.copy()
    res = dca(p["g_solve"], np.sign, x0, g=p["g"], h=p["h"], maxiter=0)
    np.testing.assert_array_equal(res.x, x0)
    assert res.nit == 0
    res = dca(p["g_solve"], np.sign, x0, g=p["g"], h=p["h"])
    assert res.x.dtype == np.float32 and np.array_equal(x0, x0c)
    assert res.nprox > 0 and res.njev > 0 and res.nfev > 0

    def cb(intermediate_result):
        raise StopIteration

    assert dca(p["g_solve"], np.sign, x0, g=p["g"], h=p["h"], callback=cb).status == 99
