"""Stochastic model-based methods (Davis & Drusvyatskiy 2019): planted-solution recovery,
closed-form subproblems against independent solvers, the Moreau-envelope measure against
cvxpy / a KKT certificate, and robustness to large steps."""
import numpy as np
import pytest
from scipy.optimize import linprog, minimize_scalar

from numopt.prox import L1
from numopt.solvers.model_based import MODELS, CompositeAbsLoss, _prox_linear_step, model_based, moreau_gradient_norm
from problems.model_based import PhaseRetrieval, RobustRegression


def _robust(seed, n=10, m=200, frac=0.2):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    xs = rng.standard_normal(n)
    b = A @ xs
    out = rng.random(m) < frac
    b[out] += 10 * rng.standard_normal(out.sum())
    return RobustRegression(A, b), xs


def _phase(seed, n=10, m=80):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    xs = rng.standard_normal(n)
    xs /= np.linalg.norm(xs)
    return PhaseRetrieval(A, (A @ xs) ** 2), xs


def _sign_err(x, xs):
    return min(np.linalg.norm(x - xs), np.linalg.norm(x + xs)) / np.linalg.norm(xs)


@pytest.mark.parametrize("model", MODELS)
def test_robust_regression_recovers_planted_solution(model):
    errs = []
    for seed in range(3):
        p, xs = _robust(seed)
        if seed == 0:  # the planted x* is the least-absolute-deviation minimizer (LP reference)
            m, n = p.A.shape
            lp = linprog(np.r_[np.zeros(n), np.ones(m) / m], A_ub=np.block([[p.A, -np.eye(m)], [-p.A, -np.eye(m)]]),
                         b_ub=np.r_[p.b, -p.b], bounds=[(None, None)] * n + [(0, None)] * m, method="highs")
            np.testing.assert_allclose(lp.x[:n], xs, atol=1e-7)
        # measured (step 0.1, 100 epochs): mean relative error <= 2.1e-3, F - F* <= 3.1e-3
        res = model_based(p, np.zeros(10), model=model, step=0.1, maxiter=100, rng=seed)
        assert res.n_steps == 100 * 200
        # a stochastic method ends near, not at, the minimizer: the Moreau-envelope measure at the
        # returned point is far above tol, so the run is not certified (status 1, not success)
        assert res.status == 1 and not res.success and "Not certified" in res.message
        assert res.optimality == moreau_gradient_norm(p, res.x)[0] and res.optimality > 1e-3
        errs.append(np.linalg.norm(res.x - xs) / np.linalg.norm(xs))
        assert res.fun <= p.value(xs) + 0.05
    assert np.mean(errs) < 0.03


@pytest.mark.parametrize("model", ["prox-linear", "prox-point"])
def test_phase_retrieval_exact_recovery_from_spectral_start(model):
    for seed in range(3):
        p, xs = _phase(seed)
        x0 = p.spectral_init()
        assert 0.05 < _sign_err(x0, xs) < 1.0  # a rough start, not the answer
        res = model_based(p, x0, model=model, step=1.0, maxiter=20, rng=seed)
        assert _sign_err(res.x, xs) < 1e-8
        assert res.fun < 1e-10
        assert res.status == 0 and res.optimality <= 1e-7  # certified: ||grad F_1/rho_bar(x)|| ~ 1e-15


def test_large_steps_break_subgradient_but_not_prox_linear():
    """The point of better models (Asi & Duchi 2019; Davis & Drusvyatskiy 2019): prox-linear
    and prox-point steps are clipped by the model, the subgradient step is not."""
    for step in (10.0, 1000.0):
        for seed in range(2):
            p, xs = _phase(seed)
            x0 = p.spectral_init()
            sub = model_based(p, x0, model="subgradient", step=step, maxiter=20, rng=seed)
            assert sub.status == 2 or _sign_err(sub.x, xs) > 0.5  # diverges (non-finite) or goes nowhere
            for model in ("prox-linear", "prox-point"):
                res = model_based(p, x0, model=model, step=step, maxiter=20, rng=seed)
                assert res.status == 0 and _sign_err(res.x, xs) < 1e-8
    # and the subgradient method does converge with a small step (it is not simply broken;
    # measured: 4.1e-3 at step 0.03, 100 epochs)
    p, xs = _phase(0)
    res = model_based(p, p.spectral_init(), model="subgradient", step=0.03, maxiter=100, rng=0)
    assert _sign_err(res.x, xs) < 0.1


def test_phase_retrieval_prox_point_is_the_global_1d_minimizer():
    p, _ = _phase(4, n=6, m=30)
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.standard_normal(6)
        i = int(rng.integers(30))
        alpha = float(10 ** rng.uniform(-2, 1))
        y = p.prox_point(x, i, alpha)
        obj = lambda z: abs((p.A[i] @ z) ** 2 - p.b[i]) + np.sum((z - x) ** 2) / (2 * alpha)  # noqa: E731
        # the minimizer moves along a_i only: scan the 1-D problem densely, then polish
        a = p.A[i]
        ts = np.linspace(-3, 3, 20001) / np.linalg.norm(a)
        u = a @ x + ts * (a @ a)
        vals = np.abs(u ** 2 - p.b[i]) + ts ** 2 * (a @ a) / (2 * alpha)
        t0 = ts[int(np.argmin(vals))]
        ref = minimize_scalar(lambda t: obj(x + t * a), bracket=(t0 - 1e-3, t0, t0 + 1e-3), tol=1e-12)
        assert obj(y) <= ref.fun + 1e-9
        assert obj(y) <= obj(x + rng.standard_normal(6) * 0.1) + 1e-12


def test_prox_linear_step_with_regularizer_matches_cvxpy():
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(1)
    for _ in range(5):
        x, g = rng.standard_normal(6), rng.standard_normal(6)
        c, alpha, lam = float(rng.standard_normal()), 0.7, 0.3
        y = _prox_linear_step(x, c, g, alpha, L1(lam))
        z = cp.Variable(6)
        prob = cp.Problem(cp.Minimize(cp.abs(c + g @ (z - x)) + lam * cp.norm1(z)
                                      + cp.sum_squares(z - x) / (2 * alpha)))
        prob.solve()
        obj = lambda v: abs(c + g @ (v - x)) + lam * np.abs(v).sum() + np.sum((v - x) ** 2) / (2 * alpha)  # noqa: E731
        assert obj(y) <= prob.value + 1e-7
        np.testing.assert_allclose(y, z.value, atol=1e-4)
    # without r: the clipped step
    x, g, c, alpha = np.ones(3), np.array([1.0, 2.0, 0.0]), 10.0, 0.1
    np.testing.assert_allclose(_prox_linear_step(x, c, g, alpha, None), x - alpha * g)  # clip active
    y = _prox_linear_step(x, 0.5, g, 10.0, None)
    assert abs(0.5 + g @ (y - x)) < 1e-14  # clip inactive: the linearization is zeroed


def test_moreau_measure_matches_cvxpy_and_kkt():
    cp = pytest.importorskip("cvxpy")
    p, xs = _robust(0, m=60)
    x = xs + 0.5 * np.random.default_rng(1).standard_normal(10)
    rb = 2.0
    val, xh, info = moreau_gradient_norm(p, x, rb)
    y = cp.Variable(10)
    cp.Problem(cp.Minimize(cp.sum(cp.abs(p.A @ y - p.b)) / 60 + rb / 2 * cp.sum_squares(y - x))).solve()
    np.testing.assert_allclose(xh, y.value, atol=1e-5)
    assert val == pytest.approx(rb * np.linalg.norm(x - y.value), rel=1e-4)
    assert moreau_gradient_norm(p, xs, rb)[0] < 1e-8  # x* is a minimizer: the envelope gradient vanishes
    # phase retrieval (nonconvex f): certificate rho_bar (x - x_hat) = (1/m) J(x_hat)^T lam, lam in d|c(x_hat)|
    p, xs = _phase(0)
    x = xs + 0.3 * np.random.default_rng(2).standard_normal(10)
    rb = 2 * p.weak_convexity
    val, xh, info = moreau_gradient_norm(p, x, rb)
    lam, c = info["multipliers"], p.residuals(xh)
    assert np.linalg.norm(rb * (x - xh) - p.jacobian(xh).T @ lam / p.n_samples) < 1e-7
    big = np.abs(c) > 1e-6
    np.testing.assert_allclose(lam[big], np.sign(c[big]), atol=1e-8)
    assert np.all(np.abs(lam) <= 1)
    assert val > 0.1
    # x_hat minimizes F + rho_bar/2 ||. - x||^2 better than nearby points
    phi = lambda y: p.value(y) + rb / 2 * np.sum((y - x) ** 2)  # noqa: E731
    for d in np.random.default_rng(3).standard_normal((20, 10)) * 1e-3:
        assert phi(xh) <= phi(xh + d) + 1e-12
    assert moreau_gradient_norm(p, -xs, rb)[0] < 1e-8


def test_trace_measures_stationarity_and_it_decreases():
    p, xs = _phase(1)
    # tol=0: no early stop, the whole horizon is traced
    res = model_based(p, p.spectral_init(), model="prox-linear", step=1.0, maxiter=10, measure_every=5, rng=0, tol=0)
    opt = res.trace["optimality"]
    measured = opt[~np.isnan(opt)]
    assert len(measured) == 3  # epochs 0, 5, 10
    assert measured[0] > 0.1 and measured[-1] < 1e-7 and res.optimality == measured[-1]
    assert res.status == 1  # tol = 0 is not reached by a nonzero measure
    # with tol the run stops at the first measured epoch below it
    res = model_based(p, p.spectral_init(), model="prox-linear", step=1.0, maxiter=10, measure_every=1, tol=1e-6,
                      rng=0)
    assert res.status == 0 and res.optimality <= 1e-6 and res.nit < 10


def test_regularized_robust_regression_reaches_lp_optimum():
    p, xs = _robust(5, m=150)
    lamr = 0.05
    m, n = p.A.shape
    # reference: min mean|Ax - b| + lam ||x||_1 as an LP (x = u - v)
    c = np.r_[lamr * np.ones(2 * n), np.ones(m) / m]
    Aub = np.block([[p.A, -p.A, -np.eye(m)], [-p.A, p.A, -np.eye(m)]])
    lp = linprog(c, A_ub=Aub, b_ub=np.r_[p.b, -p.b], bounds=[(0, None)] * (2 * n + m), method="highs")
    xref = lp.x[:n] - lp.x[n:2 * n]
    # measured (step 0.1, 100 epochs): F - F_LP <= 1.8e-3 |F_LP|, relative error in x <= 3.2e-3
    for model in ("prox-linear", "subgradient"):
        res = model_based(p, np.zeros(n), model=model, step=0.1, maxiter=100, regularizer=L1(lamr), rng=1)
        assert res.fun <= lp.fun + 0.02 * abs(lp.fun)
        assert np.linalg.norm(res.x - xref) / np.linalg.norm(xref) < 0.05


def test_sampled_output_and_contract():
    p, xs = _robust(0, m=50)
    x0 = np.zeros(10, dtype=np.float32)
    res = model_based(p, x0, maxiter=0)
    assert res.nit == 0 and np.array_equal(res.x, x0) and res.x.dtype == np.float32
    res = model_based(p, x0, maxiter=3, rng=0, output="sampled")
    assert res.x.dtype == np.float32 and np.all(x0 == 0)
    assert res.fun == pytest.approx(p.value(res.x.astype(float)), rel=1e-5)
    assert res.njev == 150 and res.nprox == 150 and res.nfev > 0
    same = model_based(p, x0, maxiter=3, rng=0, output="sampled")
    np.testing.assert_array_equal(same.x, res.x)  # seeded
    np.testing.assert_array_equal(same.x_last, res.x_last)
    # the reservoir draw is uniform over x_0..x_T for a constant step: x_t = 100 - t alpha here
    q = RobustRegression(np.ones((4, 1)), np.zeros(4))
    T, alpha = 20, 0.3 / np.sqrt(21)
    idx = [(100 - model_based(q, np.array([100.0]), model="subgradient", step=0.3, maxiter=5, rng=s,
                              output="sampled", certify=False).x[0]) / alpha for s in range(1500)]
    np.testing.assert_allclose(idx, np.round(idx), atol=1e-8)
    assert min(idx) >= -1e-6 and max(idx) <= T + 1e-6
    # uniform on {0..20}: mean 10, standard error 6.06 / sqrt(1500) = 0.16; measured |mean - 10| = 0.047
    assert abs(np.mean(idx) - T / 2) < 1.5

    def cb(intermediate_result):
        raise StopIteration

    assert model_based(p, x0, maxiter=3, callback=cb).status == 99


def test_user_defined_composite_problem_matches_class():
    p, xs = _phase(0)
    q = CompositeAbsLoss(p.residuals, p.jacobian, p.n_samples, p.n_features, sample=p.sample,
                         weak_convexity=p.weak_convexity)
    r1 = model_based(p, p.spectral_init(), model="prox-linear", maxiter=5, rng=3)
    r2 = model_based(q, p.spectral_init(), model="prox-linear", maxiter=5, rng=3)
    np.testing.assert_allclose(r1.x, r2.x)
    with pytest.raises(ValueError, match="prox-point"):
        model_based(q, p.spectral_init(), model="prox-point")


def test_bad_inputs():
    p, _ = _robust(0, m=30)
    with pytest.raises(TypeError, match="problem"):
        model_based(object(), np.zeros(10))
    with pytest.raises(ValueError, match="model"):
        model_based(p, np.zeros(10), model="newton")
    with pytest.raises(ValueError, match="x0"):
        model_based(p, np.zeros(3))
    with pytest.raises(ValueError, match="step"):
        model_based(p, np.zeros(10), step=-1.0)
    with pytest.raises(ValueError, match="schedule"):
        model_based(p, np.zeros(10), schedule="cosine")
    with pytest.raises(ValueError, match="output"):
        model_based(p, np.zeros(10), output="best")
    with pytest.raises(TypeError, match="maxiter"):
        model_based(p, np.zeros(10), maxiter=2.5)
    with pytest.raises(TypeError, match="regularizer"):
        model_based(p, np.zeros(10), regularizer=3)
    q, _ = _phase(0)
    with pytest.raises(ValueError, match="rho_bar"):
        model_based(q, np.zeros(10), rho_bar=0.5 * q.weak_convexity)
    with pytest.raises(ValueError, match="prox-point"):
        model_based(q, np.ones(10), model="prox-point", regularizer=L1(0.1))
    with pytest.raises(ValueError, match="`b`"):
        PhaseRetrieval(np.ones((3, 2)), np.ones(4))
    with pytest.raises(TypeError, match="certify"):
        model_based(p, np.zeros(10), certify="yes")
