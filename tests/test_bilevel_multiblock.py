"""Multi-block bilevel problems (MultiBlockBilevelProblem) and BSVRB (method="bsvrb")."""
import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import problems
from numopt import BilevelProblem, bilevel
from numopt.solvers.bilevel import MultiBlockBilevelProblem

SEEDS = range(4)


@pytest.fixture(scope="module")
def quad8():
    return problems.get("bilevel/multiblock-quadratic", m=8)


def _rms(X, xs):
    return float(np.sqrt(np.mean(np.sum((np.asarray(X) - xs) ** 2, axis=-1))))


def test_multiblock_quadratic_closed_form_is_stationary(quad8):
    """x* (closed form) zeroes the exact multi-block hypergradient, which itself equals finite
    differences of the value function (1/m) sum_i f_i(x, y_i*(x))."""
    MB, xs = quad8.problem, quad8.x_star
    assert np.linalg.norm(MB.hypergradient(xs, quad8.y_star)) <= 1e-12 * (1 + np.linalg.norm(xs))
    x = np.array([0.3, -1.0, 2.0])
    hg = MB.hypergradient(x, quad8.solve_lower(x))
    fd = np.array([(quad8.meta["value"](x + 1e-6 * e) - quad8.meta["value"](x - 1e-6 * e)) / 2e-6 for e in np.eye(3)])
    np.testing.assert_allclose(hg, fd, rtol=1e-6, atol=1e-9)
    assert np.min(np.linalg.eigvalsh(quad8.meta["hessian"])) > 0  # unique solution


@pytest.mark.parametrize("variant,maxiter", [("v1", 300), ("v2", 1000)])  # measured errors 1e-15, 1e-11
def test_bsvrb_all_blocks_full_batches_is_exact(variant, maxiter):
    """Sampling every block with full sums, the MSVR / STORM estimators equal the exact
    quantities, so BSVRB is a single-loop exact method converging linearly to x* (v2 more
    slowly: its linear-system solution lags by one gradient step per iteration)."""
    inst = problems.get("bilevel/multiblock-quadratic", m=4)
    res = bilevel(inst.problem, inst.x0, inst.y0, method="bsvrb", variant=variant, maxiter=maxiter, tol=0, step=0.2)
    assert np.max(np.abs(res.x - inst.x_star)) <= 1e-8
    assert np.max(np.abs(res.y - inst.solve_lower(res.x))) <= 1e-8
    assert res.fun == pytest.approx(inst.meta["value"](inst.x_star), rel=1e-9)


@pytest.mark.parametrize("variant", ["v1", "v2"])
def test_bsvrb_multitask_ridge_shared_regularization(variant):
    """One log-regularization shared by 4 ridge tasks: x* from a scalar search on the
    closed-form value function."""
    inst = problems.get("bilevel/multitask-ridge", m=4)
    ref = minimize_scalar(inst.meta["value"], bounds=(-10, 5), method="bounded", options={"xatol": 1e-10})
    res = bilevel(inst.problem, inst.x0, inst.y0, method="bsvrb", variant=variant, maxiter=300, tol=0, step=1.0)
    assert abs(res.x[0] - ref.x) <= 1e-5


def _runs(inst, maxiter, **kw):
    """Trajectories x_0..x_K over the fixed seeds."""
    out = []
    for s in SEEDS:
        xs = []
        bilevel(inst.problem, inst.x0, inst.y0, method="bsvrb", maxiter=maxiter, tol=0, rng=s, step=0.5,
                step_power=0.5, callback=lambda x: xs.append(x.copy()), **kw)
        out.append(xs)
    return np.array(out)


def test_bsvrb_v1_sampled_blocks_and_minibatches_reaches_solution_on_average(quad8):
    """2 of 8 blocks and 5 of 40 samples per block and iteration (steps ~ k^-1/2): over 4
    seeds the error shrinks with k and ends near x* (measured: rms 2.1 at k=100, 0.042 at
    k=400, error of the mean 0.019); with full per-block sums (B = 40) it ends closer
    (rms 0.011): the batch-size speedup. The absolute tolerances are 10x the measured errors
    (a stochastic error ~ k^-1/2 cannot be pushed 10x lower at test cost)."""
    T = _runs(quad8, 400, variant="v1", block_batch=2, batch_size=5)
    xs = quad8.x_star
    assert _rms(T[:, -1], xs) <= 0.45
    assert _rms(T[:, -1], xs) < 0.2 * _rms(T[:, 99], xs)  # measured ratio 0.020
    assert np.linalg.norm(T[:, -1].mean(axis=0) - xs) <= 0.2
    full = _runs(quad8, 400, variant="v1", block_batch=2, batch_size=40)
    assert _rms(full[:, -1], xs) < 0.5 * _rms(T[:, -1], xs)


def test_bsvrb_v2_hessian_free_reaches_solution_on_average(quad8):
    """v2 (no Hessian matrices): 4 of 8 blocks, 5 samples per block (measured: rms 0.81 at
    k=60, 0.077 at k=250, error of the mean 0.027; tolerances 10x those)."""
    T = _runs(quad8, 250, variant="v2", block_batch=4, batch_size=5)
    xs = quad8.x_star
    assert _rms(T[:, -1], xs) <= 0.8
    assert _rms(T[:, -1], xs) < 0.3 * _rms(T[:, 59], xs)  # measured ratio 0.095
    assert np.linalg.norm(T[:, -1].mean(axis=0) - xs) <= 0.3


def test_bsvrb_is_hessian_matrix_free_in_v2(quad8):
    MB = quad8.problem
    MB._hess = lambda *a: (_ for _ in ()).throw(AssertionError("Hessian matrix requested"))
    try:
        bilevel(MB, quad8.x0, quad8.y0, method="bsvrb", variant="v2", maxiter=20, tol=0, block_batch=2, batch_size=5,
                inner_step=0.05, rng=0)
    finally:
        MB._hess = None


def test_bsvrb_seeds_reproduce_and_count_samples(quad8):
    a = bilevel(quad8.problem, quad8.x0, quad8.y0, method="bsvrb", maxiter=30, tol=0, block_batch=2, batch_size=5,
                rng=3)
    b = bilevel(quad8.problem, quad8.x0, quad8.y0, method="bsvrb", maxiter=30, tol=0, block_batch=2, batch_size=5,
                rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.x, b.x)
    # 31 iterations x 2 sampled blocks, each a minibatch of 5 at the current and the previous
    # state (only the current one at a block's first visit, at most 8 of them)
    assert a.nsamples_lower == 5 * a.nlower
    assert 2 * 62 - 8 <= a.nlower <= 2 * 62 - 2


def test_bad_multiblock_declarations(quad8):
    up = lambda i, x, y: (0.0, np.zeros_like(x), np.zeros_like(y))  # noqa: E731
    with pytest.raises(ValueError, match="n_blocks"):
        MultiBlockBilevelProblem(up, up, 0)
    with pytest.raises(TypeError, match="lower"):
        MultiBlockBilevelProblem(up, 3, 2)
    with pytest.raises(ValueError, match="n_samples"):
        MultiBlockBilevelProblem(up, up, 3, n_samples=(None, [5, 5]))
    MB = MultiBlockBilevelProblem(up, up, 3)
    with pytest.raises(ValueError, match="y0"):
        bilevel(MB, np.zeros(2), np.zeros((2, 4)), method="bsvrb")
    with pytest.raises(ValueError, match="bsvrb"):
        bilevel(MB, np.zeros(2), np.zeros((3, 4)), method="implicit")
    with pytest.raises(ValueError, match="batch_size"):
        bilevel(MB, np.zeros(2), np.zeros((3, 4)), method="bsvrb", batch_size=2)
    bad = MultiBlockBilevelProblem(up, lambda i, x, y: (0.0, np.zeros_like(x), np.zeros(y.size + 1)), 3)
    with pytest.raises(ValueError, match="grad_y"):
        bilevel(bad, np.zeros(2), np.zeros((3, 4)), method="bsvrb")
    P = quad8.problem
    with pytest.raises(ValueError, match="block_batch"):
        bilevel(P, quad8.x0, quad8.y0, method="bsvrb", block_batch=9)
    with pytest.raises(ValueError, match="beta"):
        bilevel(P, quad8.x0, quad8.y0, method="bsvrb", block_batch=2, beta=1.0)
    with pytest.raises(ValueError, match="variant"):
        bilevel(P, quad8.x0, quad8.y0, method="bsvrb", variant="v3")
    with pytest.raises(TypeError, match="unknown option"):
        bilevel(P, quad8.x0, quad8.y0, method="bsvrb", lam=1.0)
    Q = BilevelProblem(lambda x, y: (0.0, x, y), lambda x, y: (0.0, x, y))
    with pytest.raises(TypeError, match="MultiBlockBilevelProblem"):
        bilevel(Q, np.zeros(2), np.zeros(2), method="bsvrb")
