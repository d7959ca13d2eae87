"""Hessians as scipy users pass them: finite differences ('2-point', '3-point', 'cs'),
quasi-Newton update strategies (BFGS(), SR1()), sparse matrices and LinearOperators
(never densified), and the complex-step gradient jac='cs'."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import BFGS, SR1, rosen, rosen_der, rosen_hess
from scipy.sparse.linalg import LinearOperator

import numopt
from numopt._function_oracle import FunctionOracle
from numopt._hessian import cg_solve

X_ROSEN = np.array([-1.2, 1.0, 0.7, 1.3])


def _quadratic(n=6, seed=0):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, n))
    A = B @ B.T + np.eye(n)
    c = rng.standard_normal(n)
    return (lambda x: 0.5 * x @ A @ x - c @ x), (lambda x: A @ x - c), A, c


def _rel(H, ref):
    return np.abs(H - ref).max() / np.abs(ref).max()


# measured relative errors (Rosenbrock at X_ROSEN): with jac 2-point 1.6e-8, 3-point 1.3e-11, cs 8.5e-17;
# from values 2-point 1.7e-5, 3-point 1.3e-8, cs 1.5e-11; each asserted >= 10x above
WITH_JAC = {"2-point": 2e-7, "3-point": 2e-10, "cs": 1e-14}
FROM_VALUES = {"2-point": 2e-4, "3-point": 2e-7, "cs": 2e-10}


@pytest.mark.parametrize("scheme", ["2-point", "3-point", "cs"])
def test_fd_hessian_rosenbrock_with_and_without_gradient(scheme):
    ref = rosen_hess(X_ROSEN)
    o = FunctionOracle(rosen, jac=rosen_der, hess=scheme)
    assert _rel(o.hess(X_ROSEN), ref) <= WITH_JAC[scheme]
    assert o.fd_njev == {"2-point": 5, "3-point": 8, "cs": 4}[scheme] and o.fd_nfev == 0
    o = FunctionOracle(rosen, hess=scheme)
    H = o.hess(X_ROSEN)
    assert _rel(H, ref) <= FROM_VALUES[scheme]
    np.testing.assert_array_equal(H, H.T)
    n = 4
    assert o.fd_nfev == {"2-point": 1 + n + n * (n + 1) // 2, "3-point": 1 + 2 * n + 4 * n * (n - 1) // 2,
                         "cs": 2 * n * n}[scheme]


@pytest.mark.parametrize("scheme", ["2-point", "3-point", "cs"])
def test_fd_hessian_and_hvp_random_quadratic(scheme):
    fun, jac, A, _ = _quadratic()
    x = np.linspace(-1, 2, 6)
    o = FunctionOracle(fun, jac=jac, hess=scheme)
    assert _rel(o.hess(x), A) <= 1e-6  # measured <= 3e-8 (2-point)
    v = np.arange(1.0, 7.0)
    assert _rel(o.hvp(x, v), A @ v) <= 1e-6
    assert _rel(FunctionOracle(fun, hess=scheme).hess(x), A) <= 1e-3  # values only; measured <= 2e-5


def test_fd_hvp_rosenbrock_and_float32_kept():
    H = rosen_hess(X_ROSEN)
    v = np.array([1.0, -2.0, 0.5, 3.0])
    for scheme, tol in (("2-point", 1e-4), ("3-point", 1e-6), ("cs", 1e-12)):  # measured 8e-8, 4e-11, 1e-16 (rel)
        assert _rel(FunctionOracle(rosen, jac=rosen_der, hess=scheme).hvp(X_ROSEN, v), H @ v) <= tol
    x32 = X_ROSEN.astype(np.float32)
    H32 = FunctionOracle(rosen, jac=rosen_der, hess="3-point").hess(x32)
    assert H32.dtype == np.float32 and _rel(H32.astype(float), rosen_hess(x32.astype(float))) <= 1e-3


def test_jac_cs_matches_exact_gradient_and_counts():
    o = FunctionOracle(rosen, jac="cs")
    g = o.grad(X_ROSEN)
    ref = rosen_der(X_ROSEN)
    assert np.abs(g - ref).max() <= 1e-12 * np.abs(ref).max()
    assert o.fd_nfev == 4
    res = numopt.minimize(rosen, np.zeros(4), jac="cs", hess="3-point", method="grad-reg-newton", tol=1e-10)
    assert res.success and np.abs(res.x - 1).max() <= 1e-8  # measured 1.4e-14
    assert res.nfev >= 4 * res.njev  # each complex-step gradient is n calls of fun, counted in nfev


def test_complex_step_errors_name_the_argument():
    with pytest.raises(ValueError, match="complex step.*`fun`"):
        FunctionOracle(lambda x: float(x @ x), jac="cs").grad(np.ones(3))
    with pytest.raises(ValueError, match="`fun` returned a real value"):
        FunctionOracle(lambda x: np.real(x @ x), jac="cs").grad(np.ones(3))
    with pytest.raises(TypeError, match="`jac` cannot be a HessianUpdateStrategy"):
        numopt.minimize(rosen, np.zeros(2), jac=BFGS(), method="grad-reg-newton")
    with pytest.raises(ValueError, match="`hess` must be"):
        FunctionOracle(rosen, jac=rosen_der, hess="4-point")
    with pytest.raises(TypeError, match="`hess` must be"):
        FunctionOracle(rosen, jac=rosen_der, hess=3.0)


@pytest.mark.parametrize("method", ["grad-reg-newton", "saddle-free-newton", "lazy-newton"])
@pytest.mark.parametrize("strategy", [BFGS, SR1])
def test_update_strategies_drive_newton_to_the_optimum(method, strategy):
    x0 = np.array([-1.2, 1.0, -1.2, 1.0])
    opts = {"maxiter": 3000, **({"m": 1} if method == "lazy-newton" else {})}
    res = numopt.minimize(rosen, x0, jac=rosen_der, hess=strategy(), method=method, tol=1e-9, options=opts)
    assert res.success and res.optimality <= 1e-9
    assert np.abs(res.x - 1).max() <= 1e-6  # measured <= 7e-9 (1/H_min * 1e-9)


def test_update_strategy_sees_every_new_gradient():
    fun, jac, A, c = _quadratic(n=3, seed=1)
    o = FunctionOracle(fun, jac=jac, hess=BFGS(init_scale=1.0))
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal(3) for _ in range(8)]
    for x in xs:
        o.grad(x)
    ref = BFGS(init_scale=1.0)
    ref.initialize(3, "hess")
    for a, b in zip(xs[:-1], xs[1:]):
        ref.update(b - a, jac(b) - jac(a))
    np.testing.assert_allclose(o.hess(xs[-1]), ref.get_matrix(), rtol=1e-14)
    v = np.array([1.0, 2.0, -1.0])
    np.testing.assert_allclose(o.hvp(xs[-1], v), ref.get_matrix() @ v, rtol=1e-12)


# --- large sparse / LinearOperator Hessians: never densified ------------------------------

N_BIG = 20000


def _separable(n=N_BIG):
    """f = sum (x_i - a_i)^4 / 4 + x_i^2 / 2: the Hessian is diagonal 3 (x - a)^2 + 1."""
    a = np.random.default_rng(0).uniform(-1, 1, n)
    f = lambda x: float(np.sum((x - a) ** 4) / 4 + np.sum(x ** 2) / 2)  # noqa: E731
    g = lambda x: (x - a) ** 3 + x  # noqa: E731
    z = np.zeros(n)  # reference: scalar Newton on (z - a)^3 + z = 0 (strictly increasing)
    for _ in range(60):
        z = z - ((z - a) ** 3 + z) / (3 * (z - a) ** 2 + 1)
    return f, g, a, z


class _NoDenseOp(LinearOperator):
    def __init__(self, diag):
        self.diag = diag
        super().__init__(float, (diag.size, diag.size))

    def _matvec(self, v):
        return self.diag * np.ravel(v)

    _rmatvec = _matvec

    def _matmat(self, X):
        raise AssertionError("LinearOperator densified (matmat)")

    def todense(self):
        raise AssertionError("LinearOperator densified")

    def __array__(self, *a, **k):
        raise AssertionError("LinearOperator densified")


class _NoDenseCSR(sp.csr_matrix):
    def toarray(self, *a, **k):
        raise AssertionError("sparse Hessian densified")

    def todense(self, *a, **k):
        raise AssertionError("sparse Hessian densified")

    def __array__(self, *a, **k):
        raise AssertionError("sparse Hessian densified")


@pytest.mark.parametrize("kind", ["operator", "sparse"])
@pytest.mark.parametrize("method,opts", [("grad-reg-newton", {}),
                                         ("lazy-newton", {"m": 1, "regularization": "quadratic"})])
def test_large_hessians_are_never_densified(kind, method, opts):
    f, g, a, z = _separable()
    if kind == "operator":
        hess = lambda x: _NoDenseOp(3 * (x - a) ** 2 + 1)  # noqa: E731
    else:
        hess = lambda x: _NoDenseCSR(sp.diags(3 * (x - a) ** 2 + 1).tocsr())  # noqa: E731
    res = numopt.minimize(f, np.zeros(N_BIG), jac=g, hess=hess, method=method, tol=1e-9, options=opts)
    assert res.success and res.optimality <= 1e-9
    assert np.abs(res.x - z).max() <= 1e-8  # |x - z| <= ||grad|| / min H = ||grad||; measured ~1e-10


def test_operator_hessian_cubic_lazy_newton_and_hvp():
    f, g, a, z = _separable(2000)
    hess = lambda x: _NoDenseOp(3 * (x - a) ** 2 + 1)  # noqa: E731
    res = numopt.minimize(f, np.zeros(2000), jac=g, hess=hess, method="lazy-newton", tol=1e-9, options={"m": 1})
    assert res.success and np.abs(res.x - z).max() <= 1e-8
    o = FunctionOracle(f, jac=g, hess=hess)
    v = np.arange(2000.0)
    np.testing.assert_allclose(o.hvp(np.ones(2000), v), (3 * (1 - a) ** 2 + 1) * v, rtol=1e-15)
    with pytest.raises(ValueError, match="dense_max"):
        numopt.minimize(f, np.zeros(2000), jac=g, hess=hess, method="saddle-free-newton",
                        options={"dense_max": 100})


def test_cg_solve_and_negative_curvature():
    rng = np.random.default_rng(3)
    B = rng.standard_normal((30, 30))
    K = B @ B.T + np.eye(30)
    b = rng.standard_normal(30)
    x, pd = cg_solve(lambda v: K @ v, b, rtol=1e-12)
    assert pd and np.linalg.norm(K @ x - b) <= 1e-10 * np.linalg.norm(b)
    _, pd = cg_solve(lambda v: (K - 100 * np.eye(30)) @ v, b)  # lambda_min(K) < 100 here
    assert np.linalg.eigvalsh(K)[0] < 100 and not pd


def test_fd_hessian_array_api_strict():
    xp = pytest.importorskip("array_api_strict")
    A = np.array([[3.0, 1, 0], [1, 2, 0.5], [0, 0.5, 1]])
    Ax = xp.asarray(A)
    f = lambda x: xp.sum(x * (Ax @ x)) / 2  # noqa: E731
    g = lambda x: Ax @ x  # noqa: E731
    x = xp.asarray([1.0, 2.0, 3.0])
    for jac, scheme, tol in ((g, "3-point", 1e-9), (g, "cs", 1e-14), (None, "3-point", 1e-6)):
        H = FunctionOracle(f, jac=jac, hess=scheme).hess(x)  # measured <= 3e-11, 0, 0
        assert isinstance(H, type(x)) and float(xp.max(xp.abs(H - Ax))) <= tol
    np.testing.assert_allclose(np.asarray(FunctionOracle(f, jac="cs").grad(x)), A @ [1.0, 2.0, 3.0], rtol=1e-14)


def test_fd_hessian_calls_are_counted_in_nfev_njev():
    """A finite-difference Hessian's gradient calls show in njev (n + 1 per 2-point Hessian
    from the gradient), as scipy counts them."""
    from scipy.optimize import rosen, rosen_der

    x0 = np.array([-1.2, 1.0, 0.5])
    exact = numopt.minimize(rosen, x0, jac=rosen_der, hess=lambda x: __import__("scipy").optimize.rosen_hess(x),
                            method="grad-reg-newton", tol=1e-8)
    fd = numopt.minimize(rosen, x0, jac=rosen_der, hess="2-point", method="grad-reg-newton", tol=1e-8)
    assert fd.success and exact.success
    assert fd.njev >= exact.njev + fd.nhev * x0.size  # each FD Hessian costs >= n gradient calls
