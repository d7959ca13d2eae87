import numpy as np
import pytest

import numopt
import problems
from numopt.solvers.second_order import cubic_step


def test_cubic_step_solves_the_model(rng):
    for _ in range(5):
        A = rng.standard_normal((6, 6))
        H = 0.5 * (A + A.T)  # indefinite
        g = rng.standard_normal(6)
        M = 2.0
        lam, U = np.linalg.eigh(H)
        hb, r = cubic_step(lam, U.T @ g, M)
        h = U @ hb
        model = lambda v: g @ v + 0.5 * v @ H @ v + M / 6 * np.linalg.norm(v) ** 3  # noqa: E731
        # global minimizer conditions of the cubic model (Nesterov & Polyak 2006, Thm 10)
        np.testing.assert_allclose(H @ h + r * h, -g, atol=1e-8)
        assert r == pytest.approx(M / 2 * np.linalg.norm(h), rel=1e-8)
        assert np.linalg.eigvalsh(H + r * np.eye(6))[0] >= -1e-8
        for _ in range(50):
            assert model(h) <= model(h + 0.1 * rng.standard_normal(6)) + 1e-12


def test_second_order_stationary_point_from_a_saddle():
    # f = x^4/4 - x^2/2 + y^2/2 has a strict saddle at 0 and minima at (+-1, 0)
    f = lambda v: float(v[0] ** 4 / 4 - v[0] ** 2 / 2 + v[1] ** 2 / 2)  # noqa: E731
    g = lambda v: np.array([v[0] ** 3 - v[0], v[1]])  # noqa: E731
    H = lambda v: np.diag([3 * v[0] ** 2 - 1, 1.0])  # noqa: E731
    res = numopt.minimize(f, np.array([1e-12, 0.5]), jac=g, hess=H, method="lazy-newton", tol=1e-10)
    assert res.success and abs(abs(res.x[0]) - 1) < 1e-8
    assert np.linalg.eigvalsh(H(res.x))[0] > 0  # second-order stationary


def test_superlinear_on_strongly_convex_and_lazy_counts():
    p = problems.synthetic.logistic(n=200, p=10, cond=100, penalty="l2", lam_ratio=0.01, seed=0)
    f, reg = p.objective, p.regularizer

    def fun(w):
        return f.value(w) + reg.value(w)

    def jac(w):
        return f.grad(w) + reg.lam * w

    def hess(w):
        return f.hess(w) + reg.lam * np.eye(10)

    # solver tol 1e-12 below the asserted 1e-11: final gradient norm ~2e-15 (with tol=1e-11 it stopped at 4.4e-12)
    res = numopt.minimize(fun, np.zeros(10), jac=jac, hess=hess, method="lazy-newton", tol=1e-12,
                          options={"m": 5})
    assert res.success
    gn = res.trace["optimality"]
    assert gn[-1] <= 1e-11 and gn[-1] < 1e-3 * gn[-3]  # fast local phase
    assert res.nhev == int(np.ceil(res.nit / 5))  # one Hessian per m = 5 steps
    import scipy.optimize as so

    ref = so.minimize(fun, np.zeros(10), jac=jac, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 0})
    assert res.fun == pytest.approx(ref.fun, rel=1e-10)
    fresh = numopt.minimize(fun, np.zeros(10), jac=jac, hess=hess, method="lazy-newton", tol=1e-11,
                            options={"m": 1})
    assert fresh.nhev == fresh.nit and res.nhev < fresh.nhev


def test_requires_hessian_and_bad_parameters():
    with pytest.raises(ValueError, match="Hessian"):
        numopt.minimize(lambda x: float(x @ x), np.ones(2), jac=lambda x: 2 * x, method="lazy-newton")
    with pytest.raises(ValueError, match="M0"):
        numopt.minimize(lambda x: float(x @ x), np.ones(2), jac=lambda x: 2 * x, hess=lambda x: 2 * np.eye(2),
                        method="lazy-newton", options={"M0": -1.0})


def _logreg_problem(n=300, p=8, seed=0):
    from numopt.datafits import Logistic
    from numopt.oracles import LinearComposite, Problem

    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    y = np.sign(A @ rng.standard_normal(p) + 1.5 * rng.standard_normal(n))  # not separable
    return Problem(objective=LinearComposite(Logistic(y), A), x0=np.zeros(p)), A, y


def _lbfgs_ref(prob):
    import scipy.optimize as so

    f = prob.objective
    return so.minimize(f.value_and_grad, prob.x0, jac=True, method="L-BFGS-B",
                       options={"gtol": 1e-12, "ftol": 0, "maxiter": 10000})


@pytest.mark.parametrize("hessian", ["exact", "empirical-fisher"])
def test_gradient_regularized_newton_reaches_the_optimum(hessian):
    prob, A, y = _logreg_problem()
    ref = _lbfgs_ref(prob)
    res = numopt.minimize(prob, method="grad-reg-newton", tol=1e-9, options={"hessian": hessian, "maxiter": 500})
    assert res.success, res.message
    assert res.fun == pytest.approx(ref.fun, rel=1e-10)
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
    if hessian == "exact":  # lam = ||g|| / gamma -> 0 and gamma grows: superlinear local phase
        gn = np.asarray(res.trace["optimality"])
        ratios = gn[-4:][1:] / gn[-4:][:-1]
        assert res.nit <= 30 and np.all(np.diff(ratios) < 0) and ratios[-1] < 1e-2


def test_empirical_fisher_differs_from_the_hessian_and_needs_per_sample_gradients():
    prob, A, y = _logreg_problem()
    from numopt.solvers.second_order import _empirical_fisher

    x = np.random.default_rng(1).standard_normal(A.shape[1])
    s = 1 / (1 + np.exp(y * (A @ x)))  # per-sample |d loss / dz|
    np.testing.assert_allclose(_empirical_fisher(prob.objective, x), (A * s[:, None] ** 2).T @ A / A.shape[0], rtol=1e-10)
    with pytest.raises(ValueError, match="LinearComposite"):
        numopt.minimize(lambda v: float(v @ v), np.ones(3), jac=lambda v: 2 * v, method="grad-reg-newton",
                        options={"hessian": "empirical-fisher"})


def test_lazy_newton_quadratic_regularization_convex():
    prob, A, y = _logreg_problem()
    ref = _lbfgs_ref(prob)
    res = numopt.minimize(prob, method="lazy-newton", tol=1e-9, options={"regularization": "quadratic", "m": 4})
    assert res.success and res.fun == pytest.approx(ref.fun, rel=1e-10)
    assert res.nhev == int(np.ceil(res.nit / 4))
    # indefinite Hessian: refused with a clear message (the variant is for convex functions)
    f = lambda v: float(v[0] ** 4 / 4 - v[0] ** 2 / 2 + v[1] ** 2 / 2)  # noqa: E731
    bad = numopt.minimize(f, np.array([0.1, 0.5]), jac=lambda v: np.array([v[0] ** 3 - v[0], v[1]]),
                          hess=lambda v: np.diag([3 * v[0] ** 2 - 1, 1.0]), method="lazy-newton",
                          options={"regularization": "quadratic"})
    assert bad.status == 5 and "convex" in bad.message


def test_saddle_free_newton_escapes_where_newton_is_attracted():
    f = lambda v: float(v[0] ** 4 / 4 - v[0] ** 2 / 2 + v[1] ** 2 / 2)  # noqa: E731
    g = lambda v: np.array([v[0] ** 3 - v[0], v[1]])  # noqa: E731
    H = lambda v: np.diag([3 * v[0] ** 2 - 1, 1.0])  # noqa: E731
    x = np.array([1e-3, 0.5])
    for _ in range(20):  # plain Newton converges to the saddle at 0
        x = x - np.linalg.solve(H(x), g(x))
    assert np.linalg.norm(x) < 1e-8
    for x0 in ([1e-3, 0.5], [0.0, 0.5], [0.0, 0.0]):  # incl. starting on the saddle's stable manifold
        res = numopt.minimize(f, np.array(x0), jac=g, hess=H, method="saddle-free-newton", tol=1e-10)
        assert res.success and abs(abs(res.x[0]) - 1) < 1e-8 and abs(res.x[1]) < 1e-8
        assert np.linalg.eigvalsh(H(res.x))[0] > 0
    with pytest.raises(ValueError, match="damping"):
        numopt.minimize(f, np.ones(2), jac=g, hess=H, method="saddle-free-newton", options={"damping": 0.0})


class _Softmax(numopt.SmoothFunction):
    """Softmax regression on flattened weights W (p x K), with per-sample gradients."""

    def __init__(self, A, y, K, lam):
        self.A, self.Y, self.K, self.lam, self.n_samples = A, np.eye(K)[y], K, lam, A.shape[0]

    def _parts(self, w, idx=None):
        from scipy.special import log_softmax, softmax

        A, Y = (self.A, self.Y) if idx is None else (self.A[idx], self.Y[idx])
        Z = A @ w.reshape(-1, self.K)
        return A, Y, Z, softmax(Z, axis=1), log_softmax(Z, axis=1)

    def value(self, w):
        _, Y, _, _, L = self._parts(w)
        return float(-np.mean(np.sum(Y * L, axis=1)) + 0.5 * self.lam * w @ w)

    def grad(self, w):
        A, Y, _, P, _ = self._parts(w)
        return (A.T @ (P - Y)).ravel() / self.n_samples + self.lam * w

    def grad_batch(self, w, idx):
        A, Y, _, P, _ = self._parts(w, idx)
        return (A.T @ (P - Y)).ravel() / len(idx) + self.lam * w

    def hess(self, w):  # exact = Fisher = Gauss-Newton for the softmax cross-entropy
        A, _, _, P, _ = self._parts(w)
        d = w.size
        H = np.zeros((d, d))
        for a, p in zip(A, P):
            H += np.kron(np.outer(a, a), np.diag(p) - np.outer(p, p))
        return H / self.n_samples + self.lam * np.eye(d)


@pytest.mark.parametrize("hessian", ["exact", "empirical-fisher"])
def test_gradient_regularized_newton_on_softmax_regression(hessian):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    A = rng.standard_normal((90, 4))
    y = np.argmax(A @ rng.standard_normal((4, 3)) + rng.standard_normal((90, 3)), axis=1)
    lam = 0.1
    f = _Softmax(A, y, 3, lam)
    res = numopt.minimize(f, np.zeros(12), method="grad-reg-newton", tol=1e-9,
                          options={"hessian": hessian, "maxiter": 300})
    assert res.success, res.message
    # scikit-learn's multinomial model: C = 1 / (n lam), no intercept
    sk = LogisticRegression(C=1 / (90 * lam), fit_intercept=False, tol=1e-12, max_iter=10000).fit(A, y)
    np.testing.assert_allclose(res.x.reshape(4, 3) - res.x.reshape(4, 3).mean(axis=1, keepdims=True),
                               sk.coef_.T - sk.coef_.T.mean(axis=1, keepdims=True), atol=1e-5)
    assert res.fun <= f.value(sk.coef_.T.ravel()) + 1e-10
