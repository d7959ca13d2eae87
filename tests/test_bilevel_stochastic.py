"""Stochastic (minibatch) bilevel methods on finite-sum problems: F2SA, the penalty method
and BO-REP against the closed-form ridge optimum; the minibatch oracle and its accounting."""
import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import problems
from numopt import BilevelProblem, bilevel

SEEDS = range(8)


@pytest.fixture(scope="module")
def ridge():
    """Synthetic ridge (n=200 training, 200 validation samples, p=10) with an interior
    optimum of the validation loss; x* from a scalar search on the closed-form value function."""
    inst = problems.get("bilevel/ridge", n=200, p=10, seed=2, noise=3.0)
    ref = minimize_scalar(inst.meta["value"], bounds=(-10, 5), method="bounded", options={"xatol": 1e-10})
    assert -5 < ref.x < 3  # interior
    return inst, float(ref.x)


def _errors(inst, xs, method, batch_size, maxiter, **kw):
    """x_K - x* over the fixed seeds."""
    return np.array([bilevel(inst.problem, inst.x0, inst.y0, method=method, maxiter=maxiter, tol=0,
                             batch_size=batch_size, rng=s, **kw).x[0] - xs for s in SEEDS])


def _rmse(e):
    return float(np.sqrt(np.mean(e ** 2)))


F2SA = dict(lam0=10.0, step=2.0, inner_step=0.3, inner_steps=5)


def test_stochastic_f2sa_converges_in_expectation_to_ridge_optimum(ridge):
    inst, xs = ridge
    small_batch = _errors(inst, xs, "f2sa", 8, 100, **F2SA)
    big_batch = _errors(inst, xs, "f2sa", 128, 100, **F2SA)
    long_run = _errors(inst, xs, "f2sa", 128, 1000, **F2SA)
    # the error shrinks with the batch size at a fixed budget of iterations ...
    assert _rmse(big_batch) < 0.5 * _rmse(small_batch)
    # ... and with the iterations at a fixed batch size (steps ~ k^-5/7, multiplier ~ k^1/7)
    # (measured: ratios 0.16 and 0.33, rmse 5.3e-3 and mean 3.4e-3 from |x0 - x*| = 1.13; the
    # absolute tolerances are 10x those: a stochastic error cannot be pushed 10x lower at test cost)
    assert _rmse(long_run) < 0.7 * _rmse(big_batch)
    assert _rmse(long_run) <= 0.055
    assert abs(np.mean(long_run)) <= 0.035  # bias of the mean over runs (O(1/lam_k) + noise)


def test_stochastic_penalty_converges_in_expectation_to_ridge_optimum(ridge):
    inst, xs = ridge
    kw = dict(lam=30.0, step=2.0, inner_step=0.3, inner_steps=5)
    small_batch = _errors(inst, xs, "penalty", 8, 100, **kw)
    big_batch = _errors(inst, xs, "penalty", 128, 100, **kw)
    long_run = _errors(inst, xs, "penalty", 128, 1000, **kw)
    # measured: ratios 0.29 and 0.46, rmse 1.9e-2, mean 5.6e-3; absolute tolerances 10x those
    assert _rmse(big_batch) < 0.5 * _rmse(small_batch)
    assert _rmse(long_run) < 0.8 * _rmse(big_batch)
    assert _rmse(long_run) <= 0.2
    assert abs(np.mean(long_run)) <= 0.06  # O(1/lam) bias of the penalty method + noise


def test_stochastic_bo_rep_reaches_ridge_optimum(ridge):
    inst, xs = ridge
    kw = dict(step=0.05, step_power=0.5, inner_step=0.1, refine_steps=200)
    e = _errors(inst, xs, "bo-rep", 128, 1000, **kw)
    # from x0 = 0 (|x0 - x*| > 1): normalized steps 0.05 / sqrt(k) with minibatch Hessian-vector products
    # (measured: rmse 0.047, mean 6.8e-3; tolerances 10x those)
    assert abs(xs) > 1 and _rmse(e) <= 0.5 and abs(np.mean(e)) <= 0.07


def test_the_oracle_is_called_on_minibatches_only(ridge):
    inst, xs = ridge
    P0 = inst.problem
    seen = {"upper": [], "lower": []}

    def spy(name, fn):
        def wrapped(x, y, idx=None):
            seen[name].append(None if idx is None else len(idx))
            return fn(x, y, idx)
        return wrapped

    P = BilevelProblem(spy("upper", P0._upper), spy("lower", P0._lower), lower_hvp=P0._hvp,
                       lower_cross=P0._cross, n_samples=P0.n_samples)
    K, T, b = 20, 3, 16
    res = bilevel(P, inst.x0, inst.y0, method="f2sa", maxiter=K, tol=0, batch_size=b, rng=0,
                  **{**F2SA, "inner_steps": T})
    # before the run: one full call of each level (shape checks) and one 1-sample call (signature
    # check); after it: one full upper call for res.fun; in between only minibatches of size b
    up, lo = seen["upper"], seen["lower"]
    assert up[0] is None and lo[0] is None and up[1] == 1 and lo[1] == 1 and up[-1] is None
    run_up, run_lo = up[2:-1], lo[2:]
    assert set(run_up) == {b} and set(run_lo) == {b}
    # K + 1 iterates (x0 included), each after T inner steps (2 lower, 1 upper) and a final
    # evaluation (2 lower, 1 upper)
    assert len(run_lo) == (K + 1) * (2 * T + 2) and len(run_up) == (K + 1) * (T + 1)
    assert res.nsamples_lower == b * len(run_lo) and res.nsamples_upper == b * len(run_up)
    assert res.nlower == len(run_lo)
    assert res.trace["nsamples_lower"][-1] - res.trace["nsamples_lower"][0] == b * K * (2 * T + 2)
    assert res.trace["nsamples_lower"][-1] == res.nsamples_lower  # counted from the start of the run
    # the full-batch method on the same problem pays n samples per call
    det = bilevel(inst.problem, inst.x0, inst.y0, method="f2sa", maxiter=K, tol=0, **{**F2SA, "inner_steps": T})
    assert det.nsamples_lower == 200 * (K + 1) * (2 * T + 2)
    assert res.fun == pytest.approx(inst.problem.upper(res.x, res.y)[0], rel=1e-12)


def test_seeded_runs_are_reproducible(ridge):
    inst, _ = ridge
    r = [bilevel(inst.problem, inst.x0, inst.y0, method="f2sa", maxiter=30, tol=0, batch_size=8, rng=s, **F2SA)
         for s in (3, 3, 4)]
    np.testing.assert_array_equal(r[0].x, r[1].x)
    np.testing.assert_array_equal(r[0].trace["fun"], r[1].trace["fun"])
    assert not np.array_equal(r[0].x, r[2].x)
    g = np.random.default_rng(5)
    r3 = bilevel(inst.problem, inst.x0, inst.y0, method="f2sa", maxiter=30, tol=0, batch_size=8, rng=g, **F2SA)
    r4 = bilevel(inst.problem, inst.x0, inst.y0, method="f2sa", maxiter=30, tol=0, batch_size=8, rng=5, **F2SA)
    np.testing.assert_array_equal(r3.x, r4.x)  # a Generator and its seed give the same stream


@pytest.mark.parametrize("name,kw", [("ridge", dict(n=50, p=6, seed=1)), ("ridge", dict(n=50, p=6, per_feature=True))])
def test_minibatch_oracles_average_to_the_full_oracle(name, kw):
    """A finite sum: the average of the n one-sample oracles is the full oracle, and idx =
    all samples gives the full oracle."""
    inst = problems.get(f"bilevel/{name}", **kw)
    P = inst.problem
    rng = np.random.default_rng(0)
    x, w, v = rng.standard_normal(inst.x0.size) * 0.5, rng.standard_normal(inst.y0.size), rng.standard_normal(inst.y0.size)
    nu, nl = P.n_samples
    for level, n in (("lower", nl), ("upper", nu)):
        f = getattr(P, level)
        full = f(x, w)
        per = [f(x, w, np.array([i])) for i in range(n)]
        for j in range(3):
            np.testing.assert_allclose(np.mean([o[j] for o in per], axis=0), full[j], rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(f(x, w, np.arange(n))[j], full[j], rtol=1e-12, atol=1e-14)
    hv = [P.hvp_yy(x, w, v, np.array([i])) for i in range(nl)]
    np.testing.assert_allclose(np.mean(hv, axis=0), P.hvp_yy(x, w, v), rtol=1e-10)
    # gradient differences of the minibatch oracle agree with the exact minibatch product
    idx = np.arange(7)
    np.testing.assert_allclose(P.hvp_yy(x, w, v, idx), P._fd(P.lower, x, w, v, 2, idx), rtol=1e-6)


def test_logreg_minibatch_oracle_on_libsvm(libsvm_dir):
    inst = problems.get("bilevel/logreg", dataset="a9a", n_samples=300, data_dir=libsvm_dir)
    P = inst.problem
    w = np.random.default_rng(1).standard_normal(inst.y0.size) * 0.1
    x = np.array([-3.0])
    per = [P.lower(x, w, np.array([i])) for i in range(300)]
    full = P.lower(x, w)
    for j in range(3):
        np.testing.assert_allclose(np.mean([o[j] for o in per], axis=0), full[j], rtol=1e-10, atol=1e-13)
    idx = np.array([3, 3, 10])  # with replacement: a repeated index counts twice
    m = P.upper(x, w, idx)[2]
    np.testing.assert_allclose(m, (2 * P.upper(x, w, idx[:1])[2] + P.upper(x, w, idx[2:])[2]) / 3, rtol=1e-12)


def test_bad_stochastic_declarations(ridge):
    inst, _ = ridge
    with pytest.raises(ValueError, match="n_samples"):
        BilevelProblem(lambda x, y: (0, x, y), lambda x, y: (0, x, y), n_samples=0)
    with pytest.raises(ValueError, match="n_samples"):
        BilevelProblem(lambda x, y: (0, x, y), lambda x, y: (0, x, y), n_samples=(1, 2, 3))
    plain = BilevelProblem(lambda x, y: (0.5 * y @ y, 0 * x, y), lambda x, y: (0.5 * (y - x) @ (y - x), x - y, y - x))
    with pytest.raises(ValueError, match="batch_size"):
        bilevel(plain, np.zeros(2), np.zeros(2), method="f2sa", batch_size=4)
    with pytest.raises(ValueError, match="finite sum"):
        plain.lower(np.zeros(2), np.zeros(2), np.arange(2))
    two_args = BilevelProblem(plain._upper, plain._lower, n_samples=10)
    with pytest.raises(TypeError, match=r"upper.*\(x, y, idx\)"):
        bilevel(two_args, np.zeros(2), np.zeros(2), method="f2sa", batch_size=4)
    with pytest.raises(TypeError, match="unknown option.*'batch_size'"):  # no stochastic version: not an option
        bilevel(inst.problem, inst.x0, inst.y0, method="meha", batch_size=4)
    with pytest.raises(ValueError, match="batch_size"):
        bilevel(inst.problem, inst.x0, inst.y0, method="f2sa", batch_size=0)
    with pytest.raises(TypeError, match="batch_size"):
        bilevel(inst.problem, inst.x0, inst.y0, method="f2sa", batch_size=2.5)
