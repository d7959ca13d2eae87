"""Issue 15 ("no silent wrong answers"), first-order / polynomial / Frank-Wolfe / stochastic /
CBO part: robust defaults (adaptive restart), honest certificates (FW gap, NaN), no dropped
terms, SAGA's O(n + p) memory, reproducible default randomness. Each test fails on 3c54c08."""
import numpy as np
import pytest
import scipy.sparse as sp

import numopt
from numopt.datafits import Logistic, Quadratic
from numopt.lmo import L1Ball, Simplex
from numopt.oracles import FiniteSum, LinearComposite, Problem
from numopt.prox import L1


# ---------------------------------------------------------------------------
# item 13: d = 300, eigenvalues linspace(1, 3, 299) plus 1e4, random orthogonal basis

@pytest.fixture(scope="module")
def outlier_quadratic():
    d = 300
    lam = np.concatenate([np.linspace(1, 3, d - 1), [1e4]])
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((d, d)))
    Q = (U * lam) @ U.T
    Q = 0.5 * (Q + Q.T)
    b = rng.standard_normal(d)
    xs = np.linalg.solve(Q, b)
    return dict(Q=Q, lam=lam, b=b, xs=xs, fs=float(-0.5 * b @ xs), fun=lambda x: 0.5 * x @ (Q @ x) - b @ x,
                jac=lambda x: Q @ x - b, hessp=lambda x, v: Q @ v, x0=np.zeros(d))


@pytest.mark.parametrize("method", ["agd", "fista"])
def test_accelerated_default_restarts_on_outlier_spectrum(outlier_quadratic, method):
    # 3c54c08: no restart by default, 234,086 iterations to 1e-9 (gradient restart: 3,681)
    q = outlier_quadratic
    kw = {"prox": L1(0.0)} if method == "fista" else {}
    res = numopt.minimize(q["fun"], q["x0"], jac=q["jac"], method=method, tol=1e-9,
                          options={"maxiter": 10_000, "trace": False}, **kw)
    assert res.success and res.nit < 10_000, (res.nit, res.message)
    assert res.restarts > 0
    assert np.linalg.norm(res.x - q["xs"]) <= 1e-8  # ||x - x*|| <= ||grad|| / l_min, l_min = 1


def test_function_restart_is_not_fooled_by_rounding(outlier_quadratic):
    # 3c54c08: 81,248 iterations, ~39,000 restarts, fired at random once F(x_{k+1}) - F(x_k)
    # fell below the rounding error of F (~1e-12 here)
    q = outlier_quadratic
    res = numopt.minimize(q["fun"], q["x0"], jac=q["jac"], method="agd", tol=1e-9,
                          options={"maxiter": 10_000, "restart": "function", "trace": False})
    assert res.success and res.nit < 10_000, (res.nit, res.message)
    assert res.restarts < 100


def test_restart_none_still_available(outlier_quadratic):
    q = outlier_quadratic
    res = numopt.minimize(q["fun"], q["x0"], jac=q["jac"], method="agd", tol=1e-9,
                          options={"maxiter": 1500, "restart": None, "trace": False})
    default = numopt.minimize(q["fun"], q["x0"], jac=q["jac"], method="agd", tol=1e-9,
                              options={"maxiter": 1500, "trace": False})
    assert res.restarts == 0 and default.restarts > 0
    np.testing.assert_array_less(1e-9, res.optimality)  # plain momentum has not converged


def test_poly_fgm_converges_at_its_stated_rate(outlier_quadratic):
    # 3c54c08: not in 200,000 iterations (L ratcheted to 4e6 on rounding; random function restarts)
    from numopt.solvers.polynomial import PolynomialPreconditioner

    q = outlier_quadratic
    Q = q["Q"]
    P = PolynomialPreconditioner(lambda v: Q @ v, 300, 2, np, np.float64)  # the default tau = 2
    lam = q["lam"]  # P = p(B) for a polynomial p: the eigenvalues of P B are l p(l)
    ev = lam * sum(c * lam ** i for i, c in enumerate(P.coef))
    kappa = ev.max() / ev.min()
    assert 250 < kappa < 350  # << kappa(B) = 1e4: the outlier stopped mattering
    res = numopt.minimize(q["fun"], q["x0"], jac=q["jac"], hessp=q["hessp"], method="poly-fgm", tol=1e-9,
                          options={"maxiter": 5000})
    assert res.success and res.nit < 1500, (res.nit, res.message)
    e = res.trace["fun"] - q["fs"]
    k = np.arange(e.size)
    bound = 10 * (1 - 1 / np.sqrt(kappa)) ** k * e[0]  # (1 - 1/sqrt(kappa_tau))^k, constant 10
    keep = e > 1e-11  # above the rounding of f
    assert np.all(e[keep] <= bound[keep])
    assert np.max(res.trace["L"]) <= 2.0  # eigenvalues of P B are <= 1: L never ratchets
    assert np.linalg.norm(res.x - q["xs"]) <= 1e-8


def test_agd_reports_the_strong_convexity_it_uses():
    A = np.random.default_rng(1).standard_normal((30, 5))
    H = A.T @ A
    mu_true = float(np.linalg.eigvalsh(H)[0])

    class Strong(numopt.oracles.SmoothFunction):
        strong_convexity = mu_true

        def value(self, x):
            return 0.5 * float(x @ H @ x) - float(x.sum())

        def grad(self, x):
            return H @ x - 1.0

    xs = np.linalg.solve(H, np.ones(5))
    res = numopt.minimize(Strong(), np.zeros(5), method="agd", tol=1e-10, options={"maxiter": 5000})
    assert res.success and res.mu == mu_true and res.mu_source == "oracle"
    assert np.all(res.trace["mu"] == mu_true)
    np.testing.assert_allclose(res.x, xs, rtol=1e-8)
    r2 = numopt.minimize(Strong(), np.zeros(5), method="agd", options={"mu": 0.0, "maxiter": 5})
    assert r2.mu == 0.0 and r2.mu_source == "option"
    r3 = numopt.minimize(lambda x: float(x @ x), np.ones(2), jac=lambda x: 2 * x, method="agd",
                         options={"maxiter": 5})
    assert r3.mu == 0.0 and r3.mu_source == "none"


# ---------------------------------------------------------------------------
# item 10: SAGA keeps one scalar per sample on a LinearComposite

def _reference_saga(f, x0, step, lam, epochs, seed):
    """The 3c54c08 algorithm (dense n x p table, batch 1, prox of lam ||.||_1), written out."""
    rng = np.random.default_rng(seed)
    n = f.n_samples
    table = np.stack([np.asarray(f.grad_batch(x0, np.array([i]))) for i in range(n)])
    avg = table.mean(axis=0)
    x = x0.copy()
    for _ in range(epochs):
        for _ in range(n):
            j = int(rng.integers(0, n, size=1)[0])
            gj = np.asarray(f.grad_batch(x, np.array([j])))
            g = gj - table[j] + avg
            avg = avg + (gj - table[j]) / n
            table[j] = gj
            x = L1(lam).prox(x - step * g, step)
    return x


@pytest.mark.parametrize("sparse", [False, True])
def test_saga_scalar_table_matches_dense_algorithm(sparse):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((60, 7))
    if sparse:
        A = sp.csr_matrix(np.where(np.abs(A) > 0.7, A, 0.0))
    y = np.where(rng.standard_normal(60) > 0, 1.0, -1.0)
    f = LinearComposite(Logistic(y), A)
    step, lam = 0.05, 0.01
    res = numopt.minimize(f, np.zeros(7), method="saga", prox=L1(lam), tol=0,
                          options={"maxiter": 3, "rng": 3, "step": step})
    assert res.table_kind == "scalar" and res.table_size == 60  # n, not n * p = 420
    ref = _reference_saga(f, np.zeros(7), step, lam, 3, 3)
    assert np.max(np.abs(ref)) > 1e-2  # a nontrivial iterate
    np.testing.assert_allclose(res.x, ref, rtol=0, atol=1e-12)


def test_saga_dense_table_for_general_finite_sums_and_minibatches():
    rng = np.random.default_rng(2)
    A, b = rng.standard_normal((40, 5)), rng.standard_normal(40)

    class LS(FiniteSum):  # 1/(2n) ||A x - b||^2 without the LinearComposite structure
        n_samples = 40

        def value(self, x):
            return 0.5 * float(np.mean((A @ x - b) ** 2))

        def grad(self, x):
            return A.T @ (A @ x - b) / 40

        def grad_batch(self, x, idx):
            return A[idx].T @ (A[idx] @ x - b[idx]) / len(idx)

    dense = numopt.minimize(LS(), np.zeros(5), method="saga", tol=0,
                            options={"maxiter": 4, "rng": 1, "step": 0.02, "batch_size": 4})
    assert dense.table_kind == "dense" and dense.table_size == 40 * 5
    lc = numopt.minimize(LinearComposite(Quadratic(b), A), np.zeros(5), method="saga", tol=0,
                         options={"maxiter": 4, "rng": 1, "step": 0.02, "batch_size": 4})
    assert lc.table_kind == "scalar" and lc.table_size == 40
    np.testing.assert_allclose(lc.x, dense.x, rtol=0, atol=1e-12)  # same algorithm, two memories
    # the whole minibatch is used: converges to the least-squares solution
    full = numopt.minimize(LinearComposite(Quadratic(b), A), np.zeros(5), method="saga", tol=1e-10,
                           options={"maxiter": 400, "rng": 1, "batch_size": 4})
    assert full.success
    np.testing.assert_allclose(full.x, np.linalg.lstsq(A, b, rcond=None)[0], atol=1e-8)
    with pytest.raises(ValueError, match="table"):
        numopt.minimize(LS(), np.zeros(5), method="saga", options={"step": 0.1, "table": "scalar"})


def test_stochastic_options_validated():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((20, 3))
    f = LinearComposite(Quadratic(rng.standard_normal(20)), A)
    with pytest.raises(ValueError, match="batch_size"):
        numopt.minimize(f, np.zeros(3), method="svrg", options={"batch_size": 0})
    with pytest.raises(ValueError, match="step"):
        numopt.minimize(f, np.zeros(3), method="sgd", options={"step": -1.0})


# ---------------------------------------------------------------------------
# item 1: no silently dropped regularizer / constraint set

def _lasso_problem():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 6))
    return Problem(objective=LinearComposite(Quadratic(rng.standard_normal(30)), A), x0=np.zeros(6),
                   regularizer=L1(0.1))


@pytest.mark.parametrize("method", ["gd", "agd", "poly-gd", "poly-fgm", "frank-wolfe", "away-fw",
                                    "stochastic-fw", "zeroth-order-fw"])
def test_smooth_only_methods_refuse_a_regularizer(method):
    P = _lasso_problem()
    kw = {"lmo": L1Ball(1.0)} if "fw" in method or "wolfe" in method else {}
    with pytest.raises(ValueError, match="fista"):  # names the methods that accept one
        numopt.minimize(P, method=method, options={"maxiter": 3}, **kw)


def test_solver_generators_refuse_dropped_terms_themselves():
    """Defence in depth: the generators check too (whatever the front door does)."""
    from numopt.solvers import first_order, frank_wolfe, polynomial, stochastic

    P = _lasso_problem()
    P.feasible_set = L1Ball(1.0)
    opts = {"eta": 2.0, "max_backtrack": 10, "restart": None, "mu": None, "L": None, "linesearch": True,
            "monotone": False, "step": "adaptive", "tol": 1e-6}
    gens = [first_order._accelerated(P, P.x0, opts, use_prox=False, method="agd"),
            first_order._proximal_gradient(P, P.x0, opts, use_prox=False, method="gd"),
            frank_wolfe._fw(P, P.x0, opts, "vanilla"),
            frank_wolfe._fw_active(P, P.x0, opts, "away")]
    for gen in gens:
        with pytest.raises(ValueError, match="regularizer.*'fista'"):
            next(gen)
    P.regularizer = None
    with pytest.raises(ValueError, match="constraint set"):
        next(polynomial._poly_gd(P, P.x0, {"polynomial": "symmetric", "tau": 1, "exact_trace_max": 500,
                                           "n_probes": 5, "rng": None}))
    with pytest.raises(ValueError, match="constraint set"):
        next(stochastic._run(P, P.x0, {"rng": 0, "step": 0.1, "safety": 3.0, "batch_size": 1}, "svrg"))


def test_frank_wolfe_entry_point_refuses_regularized_problem():
    with pytest.raises(ValueError, match="fista"):
        numopt.frank_wolfe(_lasso_problem(), None, L1Ball(1.0), maxiter=3)


def test_cbo_uses_the_regularizer():
    # min ||x - 1||^2 + ||x||_1: x* = 1/2 per coordinate, F* = 3 (1/4 + 1/2) = 2.25
    # (3c54c08 dropped g: x -> 1 and `fun` was f alone)
    def f(x):
        return float(np.sum((x - 1) ** 2))

    res = numopt.minimize(f, np.zeros(3), method="cbo", prox=L1(1.0), tol=1e-9,
                          options={"maxiter": 250, "sigma": 0.3, "rng": 0, "n_particles": 60})
    assert res.fun == pytest.approx(f(res.x) + np.sum(np.abs(res.x)), rel=1e-13)
    np.testing.assert_allclose(res.x, 0.5, atol=0.35)  # measured 0.034
    assert 2.25 - 1e-12 <= res.fun <= 2.25 + 0.02  # measured 2.2518
    with pytest.raises(ValueError, match="gradient_weight"):
        numopt.minimize(lambda x: float(x @ x), np.zeros(2), jac=lambda x: 2 * x, method="cbo", prox=L1(1.0),
                        options={"gradient_weight": 1.0, "maxiter": 2})


# ---------------------------------------------------------------------------
# item 3: no success from a swallowed negative / NaN measure

def test_frank_wolfe_negative_gap_is_not_success():
    c = np.array([0.2, 0.3, 0.5])

    def f(x):
        return float(np.sum((x - c) ** 2))

    def jac(x):
        return 2 * (x - c)

    def wrong_lmo(d):  # the maximizer of <d, s> over the simplex
        return Simplex(1.0).lmo(-d)

    for method in ("frank-wolfe", "away-fw"):  # 3c54c08: max(gap, 0) = 0 read as success at x0
        with pytest.raises(ValueError, match="negative.*`lmo`.*`x0`"):
            numopt.minimize(f, np.full(3, 1 / 3), jac=jac, method=method, lmo=wrong_lmo)

    calls = []

    def late_wrong_lmo(d):  # right at first, then wrong: a stop with status 5, not success
        calls.append(1)
        return Simplex(1.0).lmo(d if len(calls) < 3 else -d)

    res = numopt.minimize(f, np.full(3, 1 / 3), jac=jac, method="frank-wolfe", lmo=late_wrong_lmo,
                          options={"maxiter": 20})
    assert res.status == 5 and not res.success and "negative" in res.message


def test_frank_wolfe_nonfinite_step_is_status_2():
    class NaNStep:
        def step(self, f, x, d, g, gamma_max, k):
            return float("nan")

    c = np.array([0.2, 0.3, 0.5])
    res = numopt.minimize(lambda x: float(np.sum((x - c) ** 2)), np.array([1.0, 0, 0]),
                          jac=lambda x: 2 * (x - c), method="frank-wolfe", lmo=Simplex(1.0),
                          options={"step": NaNStep(), "maxiter": 50})
    assert res.status == 2 and not res.success


def test_short_step_keeps_nan():
    from numopt.solvers.frank_wolfe import ShortStep, _clip_step

    assert np.isnan(_clip_step(float("nan"), 1.0))
    assert _clip_step(-0.5, 1.0) == 0.0 and _clip_step(3.0, 1.0) == 1.0

    class Line:
        gd, dd = float("nan"), 1.0

    assert np.isnan(ShortStep(1.0).search(Line(), 1.0, 0))


# ---------------------------------------------------------------------------
# reproducible default randomness (rng=None)

def _ls_sum():
    rng = np.random.default_rng(4)
    A, b = rng.standard_normal((30, 4)), rng.standard_normal(30)
    return LinearComposite(Quadratic(b), A)


@pytest.mark.parametrize("method,kw", [("svrg", {}), ("saga", {}), ("sgd", {}),
                                       ("stochastic-fw", {"lmo": L1Ball(1.0)}),
                                       ("zeroth-order-fw", {"lmo": L1Ball(1.0)})])
def test_default_rng_is_reproducible(method, kw):
    f = _ls_sum()
    runs = [numopt.minimize(f, np.zeros(4), method=method, tol=0, options={"maxiter": 3}, **kw) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].x, runs[1].x)


def test_cbo_and_hutchinson_default_rng_reproducible():
    r = [numopt.cbo(lambda x: float(np.sum(x ** 2)), np.ones(2), n_particles=10, maxiter=3) for _ in range(2)]
    np.testing.assert_array_equal(r[0].x, r[1].x)
    from numopt.solvers.polynomial import PolynomialPreconditioner

    Q = np.diag(np.linspace(1, 5, 20))
    P1, P2 = (PolynomialPreconditioner(lambda v: Q @ v, 20, 2, np, np.float64, exact_trace_max=5, n_probes=3)
              for _ in range(2))
    assert P1.coef == P2.coef


def test_gd_backtracks_on_nan_trial_value():
    # f is NaN outside |x| < 10; from L = 1e-3 the first trial lands there. 3c54c08 accepted
    # the NaN trial (`NaN > bound` is False) and ended with status 2; it must backtrack.
    def f(x):
        return float(np.sum(x ** 2)) if np.all(np.abs(x) < 10) else float("nan")

    res = numopt.minimize(f, np.ones(2), jac=lambda x: 2 * x, method="gd", tol=1e-10,
                          options={"L": 1e-3, "maxiter": 200})
    assert res.success, res.message
    np.testing.assert_allclose(res.x, 0.0, atol=1e-10)


@pytest.mark.parametrize("rule", ["Adaptive", "LineSearch"])
def test_step_rules_return_nan_for_a_nan_direction(rule):
    # 3c54c08: min(gamma_max, NaN) returned gamma_max, a full step on a NaN slope
    from numopt.solvers import frank_wolfe as fw

    class Line:
        gd, dd, fx = float("nan"), 1.0, 0.0
        g = np.ones(2)
        xp = np

    assert np.isnan(getattr(fw, rule)().search(Line(), 1.0, 0))


def test_randomized_fw_variants_report_nan_and_bad_x0():
    # 3c54c08: a NaN gradient estimate reached the LMO (an unrelated `direction` error or a NaN
    # vertex); an x0 of the wrong length raised numpy's matmul error, naming nothing
    from numopt.solvers.frank_wolfe import _LeastSquaresSum

    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((20, 4)), rng.standard_normal(20)

    class NaNLater(_LeastSquaresSum):
        calls = 0

        def grad_batch(self, x, idx):
            NaNLater.calls += 1
            g = super().grad_batch(x, idx)
            return g * np.nan if NaNLater.calls > 30 else g

    res = numopt.minimize(NaNLater(A, b), np.eye(4)[0], method="stochastic-fw", lmo=Simplex(1.0),
                          options={"maxiter": 10, "rng": 0})
    assert res.status == 2 and not res.success and np.all(np.isfinite(res.x))
    with pytest.raises(ValueError, match="`x0`"):
        numopt.minimize(_LeastSquaresSum(A, b), np.eye(5)[0], method="stochastic-fw", lmo=Simplex(1.0))

    def f(x):
        return float(np.sum(x ** 2)) if np.array_equal(x, np.eye(3)[0]) else float("nan")  # NaN next to x0

    with pytest.raises(ValueError, match="`x0`"):
        numopt.minimize(f, np.eye(3)[0], method="zeroth-order-fw", lmo=Simplex(1.0), options={"rng": 0})
