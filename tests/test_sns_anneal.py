"""SNS at small reg (issue 19, item 5): the annealed (epsilon-scaling) Sinkhorn warm-up,
the Jacobi-preconditioned CG of the Newton phase and its numba pieces.

The headline case is a 2-D histogram at reg = 1e-4, where the previous SNS stalled: its
damped Newton steps crawled (240 steps without a 10x lower violation) and Sinkhorn
finished the run (n = 100: 1960 iterations = 200 Sinkhorn + 240 Newton + 1520 fallback;
measured with the code of commit 46bc524)."""
import math

import numpy as np
import pytest

import problems
from numopt.solvers import _sinkhorn_numba as nbm
from numopt.solvers.sinkhorn import sinkhorn


def _hist2d(k):
    inst = problems.get("ot/histograms_2d", k=k, seed=0)
    return inst.a, inst.b, inst.C / inst.C.max()


def test_hist2d_reg_1e4_converges_in_few_newton_steps():
    """k = 10 (n = 100), reg = 1e-4: measured 286 iterations = 267 Sinkhorn (260 of them
    annealing sweeps: 13 levels x 20) + 19 Newton steps + 0 fallback sweeps; the old code
    needed 1960 (240 Newton steps and 1520 fallback sweeps)."""
    a, b, C = _hist2d(10)
    sn = sinkhorn(a, b, C, 1e-4, method="sns", tol=1e-8)
    ph = sn.trace["phase"]
    assert sn.success and sn.marginal_error <= 1e-8
    assert sn.nit <= 500  # the old code: 1960
    assert np.sum(ph == 1) <= 40 and np.sum(ph == 2) <= 20  # old: 240 Newton steps, 1520 fallback sweeps
    # every sweep is an iteration, annealing included: one trace row per iteration
    assert len(ph) == sn.nit + 1 and np.sum(sn.trace["reg_current"] > 1e-4) == 260


def test_annealed_sns_reaches_the_same_optimum_as_sinkhorn_log():
    """k = 12 (n = 144), reg = 1e-4, both to 1e-10: measured plan difference 2.6e-11
    (largest entry 0.082), costs 1.3e-11 apart (relative); sinkhorn-log needs 2089
    iterations, SNS 280."""
    a, b, C = _hist2d(12)
    sn = sinkhorn(a, b, C, 1e-4, method="sns", tol=1e-10)
    sk = sinkhorn(a, b, C, 1e-4, method="sinkhorn-log", tol=1e-10, maxiter=50000)
    assert sn.success and sk.success and sn.marginal_error <= 1e-10
    np.testing.assert_allclose(sn.plan, sk.plan, rtol=0, atol=1e-9)
    assert sn.cost == pytest.approx(sk.cost, rel=1e-9)
    assert sn.reg_cost == pytest.approx(sk.reg_cost, rel=1e-9)
    assert sn.nit * 5 <= sk.nit  # 280 vs 2089


def test_annealing_schedule_and_no_early_stop():
    """The warm-up's reg halves every `anneal_every` sweeps from (max C - min C) / 2 = 0.5
    down to the target; a loose tol cannot stop the run during the annealing (those steps
    measure another problem), so the result is at the target reg."""
    a, b, C = _hist2d(8)
    reg = 1e-4
    res = sinkhorn(a, b, C, reg, method="sns", tol=0.5, anneal_every=10)
    rc = res.trace["reg_current"]
    ann = rc[rc > reg]  # the annealing sweeps (the later Sinkhorn steps report reg_current = reg)
    assert ann[0] == pytest.approx(0.5) and np.all(np.diff(ann) <= 0) and np.all(rc[len(ann):] == reg)
    np.testing.assert_allclose(ann[::10], 0.5 ** np.arange(1, len(ann[::10]) + 1), rtol=1e-12)
    assert res.success and res.nit == len(ann)  # first step at the target reg (violation < 0.5) stops
    # the returned plan is the target reg's: its violation, measured independently
    P = np.exp((res.f[:, None] + res.g[None, :] - C) / reg)
    viol = np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()
    assert viol == pytest.approx(res.marginal_error, rel=1e-6) and viol <= 0.5


def test_anneal_threshold_and_off_switch():
    """reg = 1e-2 on costs in [0, 1] (spread / reg = 100 < 1500): no annealing, SNS is
    the log-stabilized Sinkhorn; anneal=inf turns annealing off at reg = 1e-4 too, and
    anneal=0 turns it on at reg = 1e-2 (same optimum)."""
    a, b, C = _hist2d(8)
    plain = sinkhorn(a, b, C, 1e-2, method="sns", tol=1e-10)
    assert "reg_current" not in plain.trace
    off = sinkhorn(a, b, C, 1e-4, method="sns", tol=1e-3, maxiter=5, anneal=math.inf)
    assert "reg_current" not in off.trace
    on = sinkhorn(a, b, C, 1e-2, method="sns", tol=1e-10, anneal=0.0)
    assert np.sum(on.trace["reg_current"] > 1e-2) == 120  # 0.5 ... 0.0156 (6 levels x 20)
    assert on.success and on.cost == pytest.approx(plain.cost, rel=1e-8)


def test_warm_start_skips_annealing():
    """Given f0 the warm-up starts there at the target reg (annealing would throw the
    warm start away)."""
    a, b, C = _hist2d(8)
    ref = sinkhorn(a, b, C, 1e-4, method="sns", tol=1e-10)
    res = sinkhorn(a, b, C, 1e-4, method="sns", tol=1e-10, f0=ref.f, g0=ref.g)
    assert "reg_current" not in res.trace and res.success and res.nit <= 2


@pytest.mark.parametrize("name, value, exc", [
    ("anneal", -1.0, ValueError), ("anneal_decay", 1.0, ValueError), ("anneal_decay", 0.0, ValueError),
    ("anneal_every", 0, ValueError), ("anneal_every", 2.5, TypeError), ("max_move", 0.0, ValueError)])
def test_anneal_options_are_checked(name, value, exc):
    a, b, C = _hist2d(4)
    with pytest.raises(exc, match=f"`{name}`"):
        sinkhorn(a, b, C, 0.1, method="sns", **{name: value})


def _random_plan(n, m, seed):
    rng = np.random.default_rng(seed)
    P = rng.uniform(0.1, 1.0, (n, m)) * (rng.uniform(size=(n, m)) < 0.6)
    P[np.arange(n), np.arange(n) % m] += 0.5  # every row and column has an entry
    P[np.arange(m) % n, np.arange(m)] += 0.5
    return P


def test_sns_pcg_solves_the_singular_newton_system():
    """Jacobi-preconditioned CG on [[diag r, P], [P^T, diag c]] (singular, null vector
    (1, -1)) with a consistent right-hand side: the residual reaches the requested 1e-12
    and the solution differs from numpy's least-squares one by the null vector only."""
    n, m = 9, 11
    P = _random_plan(n, m, 0)
    r, c = P.sum(1), P.sum(0)
    H = np.block([[np.diag(r), P], [P.T, np.diag(c)]])
    null = np.concatenate([np.ones(n), -np.ones(m)])
    rhs = np.random.default_rng(1).standard_normal(n + m)
    rhs -= rhs @ null / (n + m) * null  # consistent: orthogonal to the null vector
    indptr = np.concatenate([[0], np.cumsum((P > 0).sum(1))]).astype(np.int64)
    rows, cols = np.nonzero(P)
    x = np.empty(n + m)
    its, rel = nbm.sns_pcg(indptr, cols.astype(np.int64), P[rows, cols], r, c, rhs, 1e-12, 200, x)
    assert rel <= 1e-12 and its <= 2 * (n + m)
    assert np.linalg.norm(H @ x - rhs) <= 1e-10 * np.linalg.norm(rhs)
    ref = np.linalg.lstsq(H, rhs, rcond=None)[0]
    diff = x - ref
    np.testing.assert_allclose(diff - diff @ null / (n + m) * null, 0, atol=1e-9)


def test_sns_pcg_stops_at_maxiter_and_on_zero_rhs():
    n, m = 6, 7
    P = _random_plan(n, m, 2)
    r, c = P.sum(1), P.sum(0)
    indptr = np.concatenate([[0], np.cumsum((P > 0).sum(1))]).astype(np.int64)
    rows, cols = np.nonzero(P)
    x = np.full(n + m, 7.0)
    assert nbm.sns_pcg(indptr, cols.astype(np.int64), P[rows, cols], r, c, np.zeros(n + m), 1e-8, 50, x) == (0, 0.0)
    assert np.all(x == 0)
    rhs = np.concatenate([np.ones(n), -np.ones(m) * n / m]) + np.linspace(0, 1, n + m)
    rhs -= rhs @ np.concatenate([np.ones(n), -np.ones(m)]) / (n + m) * np.concatenate([np.ones(n), -np.ones(m)])
    its, rel = nbm.sns_pcg(indptr, cols.astype(np.int64), P[rows, cols], r, c, rhs, 1e-14, 2, x)
    assert its == 2 and rel > 1e-14


def test_c_transforms_match_numpy():
    C = np.random.default_rng(3).uniform(-2, 5, (13, 17))
    F, G, cmax = nbm.c_transforms(C)
    np.testing.assert_array_equal(F, C.min(axis=1))
    np.testing.assert_array_equal(G, (C - F[:, None]).min(axis=0))
    assert cmax == C.max()


def test_divide_and_range_flags_non_finite_rows_and_columns():
    b, u = np.array([1.0, 2.0, 3.0]), np.array([0.5, 4.0])
    v = np.empty(3)
    assert nbm.divide_and_range(b, np.array([2.0, 4.0, 1.0]), v, u) == (0.5, 4.0, 0.5, 3.0)
    np.testing.assert_array_equal(v, [0.5, 0.5, 3.0])
    assert nbm.divide_and_range(b, np.array([2.0, 0.0, 1.0]), v, u)[2] == 0.0  # b / 0 = inf
    assert nbm.divide_and_range(b, np.array([2.0, np.nan, 1.0]), v, u)[2] == 0.0
    # a non-finite u_i (a row of the kernel underflowed): min u = 0
    assert nbm.divide_and_range(b, np.array([2.0, 4.0, 1.0]), v, np.array([0.5, np.inf]))[0] == 0.0
    assert nbm.divide_and_range(b, np.array([2.0, 4.0, 1.0]), v, np.array([np.nan, 2.0]))[0] == 0.0


def test_exponentials_flush_below_the_smallest_normal_double():
    """plan_cost_entropy's exp: entries with log P < -708 are exactly 0 (libm's slow
    underflow path is avoided), the others equal numpy's exp."""
    C = np.array([[0.0, 1.0, 7.0, 7.5], [0.2, 7.2, 0.0, 9.0]])
    f, g = np.zeros(2), np.zeros(4)
    reg = 0.01  # log P = -C / reg: -700 kept, -720 flushed
    P = np.empty_like(C)
    cost, _ = nbm.plan_cost_entropy(C, f, g, reg, True, P)
    ref = np.where(-C / reg > -708, np.exp(-C / reg), 0.0)
    np.testing.assert_allclose(P, ref, rtol=1e-14, atol=0)
    assert P[0, 3] == 0.0 and P[1, 1] == 0.0 and P[0, 2] > 0
    assert cost == pytest.approx((ref * C).sum(), rel=1e-14)


def test_first_trial_step_is_capped():
    """max_move: the line search's first trial moves no potential by more than
    max_move * reg. On k = 10 at reg = 1e-4 the full Newton step needed trial steps down to
    1e-12 (30 of them per Newton step); with max_linesearch=10 and no cap the Newton phase
    failed over and over (measured 295 fallback sweeps), with the cap (default 30) none."""
    a, b, C = _hist2d(10)
    kw = dict(tol=1e-8, anneal_every=10, max_linesearch=10)
    capped = sinkhorn(a, b, C, 1e-4, method="sns", **kw)
    full = sinkhorn(a, b, C, 1e-4, method="sns", max_move=math.inf, **kw)
    assert capped.success and np.sum(capped.trace["phase"] == 2) == 0
    assert np.sum(full.trace["phase"] == 2) >= 100 and capped.nit * 2 <= full.nit
