"""Sinkhorn–Newton–Sparse with the adaptive switch (issue 19, item 5): same plan as
log-domain Sinkhorn with far fewer iterations where Sinkhorn is slow, no switch where it
is fast, the switch rule itself, and the fallback when Newton fails."""
import numpy as np
import pytest

import problems
from numopt.solvers import _sinkhorn_newton as sns_mod
from numopt.solvers.sinkhorn import sinkhorn


def _inst(n, normalized, seed=0):
    inst = problems.get("ot/point_clouds", n=n, m=n + 7, seed=seed)
    return inst.a, inst.b, (inst.C / inst.C.max() if normalized else inst.C)


@pytest.mark.parametrize("n, normalized, reg, ratio", [
    (40, False, 1e-2, 5),  # costs up to 32: measured 3440 vs 233 iterations (14.8x)
    (60, True, 1e-3, 4),   # costs in [0, 1]: measured 1441 vs 143 (10.1x)
])
def test_same_plan_as_sinkhorn_log_with_far_fewer_iterations(n, normalized, reg, ratio):
    a, b, C = _inst(n, normalized)
    sk = sinkhorn(a, b, C, reg, method="sinkhorn-log", tol=1e-10, maxiter=100000)
    sn = sinkhorn(a, b, C, reg, method="sns", tol=1e-10, maxiter=100000)
    assert sk.success and sn.success and sn.marginal_error <= 1e-10
    assert sn.nit * ratio <= sk.nit
    assert np.any(sn.trace["phase"] == 1)  # Newton ran
    # both within 1e-10 of the marginals: plans agree to ~1e-9 of the largest entry (measured <= 1.8e-9)
    np.testing.assert_allclose(sn.plan, sk.plan, rtol=0, atol=2e-8 * sk.plan.max())
    assert sn.cost == pytest.approx(sk.cost, rel=1e-8)  # measured <= 1.5e-10


def test_no_switch_when_sinkhorn_is_fast():
    """reg = 1e-2 on costs in [0, 1]: Sinkhorn contracts fast (162 iterations to 1e-10),
    Newton would not pay: SNS stays in phase 0 and follows sinkhorn-log's iterates."""
    a, b, C = _inst(40, True)
    sk = sinkhorn(a, b, C, 1e-2, method="sinkhorn-log", tol=1e-10)
    sn = sinkhorn(a, b, C, 1e-2, method="sns", tol=1e-10)
    assert sn.success and np.all(sn.trace["phase"] == 0) and abs(sn.nit - sk.nit) <= 1
    np.testing.assert_allclose(sn.trace["optimality"][:10], sk.trace["optimality"][:10], rtol=1e-9)
    np.testing.assert_allclose(sn.plan, sk.plan, rtol=1e-8, atol=1e-15)


def _opts(**kw):
    return dict(dict(slow_ratio=0.3, warmup=200, switch_tol=0.1, switch_after=500.0, tol=1e-9), **kw)


def test_switch_rule():
    slow = [0.05 * 0.99 ** k for k in range(8)]  # 2000 more iterations to 1e-9 predicted
    fast = [0.05 * 0.5 ** k for k in range(8)]   # 23 more predicted
    far = [0.9 * 0.99 ** k for k in range(8)]    # slow but above switch_tol
    assert sns_mod._switch(7, slow[-1], slow, _opts())
    assert not sns_mod._switch(7, slow[-1], slow, _opts(switch_after=5000.0))
    assert not sns_mod._switch(7, fast[-1], fast, _opts())
    assert not sns_mod._switch(7, far[-1], far, _opts())
    assert sns_mod._switch(200, far[-1], far, _opts())  # after the warm-up cap: switch_tol no longer gates
    assert not sns_mod._switch(200, fast[-1], fast, _opts(slow_ratio=0.1))  # ... the prediction still does
    assert sns_mod._switch(3, 0.5, [1.0, 0.9, 0.7, 0.5], _opts(warmup=3))  # the cap alone before a prediction
    assert not sns_mod._switch(3, slow[3], slow[:4], _opts())  # too early to predict


def test_fallback_when_newton_fails(monkeypatch):
    """Force bad Newton steps (the first 3 directions reversed: no ascent, the line search
    rejects them): Sinkhorn sweeps (phase 2) take over and the run still converges to the
    same plan."""
    real = sns_mod._newton_direction
    calls = {"n": 0}

    def bad_then_good(*args):
        out = real(*args)
        calls["n"] += 1
        if out is not None and calls["n"] <= 3:
            grad, gn1, d = out
            return grad, gn1, -d
        return out

    monkeypatch.setattr(sns_mod, "_newton_direction", bad_then_good)
    a, b, C = _inst(60, True)
    sn = sinkhorn(a, b, C, 1e-3, method="sns", tol=1e-10, maxiter=100000)
    phase = sn.trace["phase"]
    assert sn.success and calls["n"] > 3
    assert np.sum(phase == 2) == 3 and np.sum(phase == 1) >= 3  # one sweep per failure, then Newton
    sk = sinkhorn(a, b, C, 1e-3, method="sinkhorn-log", tol=1e-10, maxiter=100000)
    np.testing.assert_allclose(sn.plan, sk.plan, rtol=0, atol=2e-8 * sk.plan.max())


def test_new_option_is_checked():
    a, b, C = _inst(10, True)
    with pytest.raises(ValueError, match="`switch_after`"):
        sinkhorn(a, b, C, 0.1, method="sns", switch_after=-1.0)


def test_stalled_newton_hands_over_to_sinkhorn():
    """newton_patience=5: five Newton steps that do not lower the violation 10x end the
    Newton phase; the one-pass Sinkhorn finishes (phase 2) at the same plan."""
    a, b, C = _inst(40, False)
    sn = sinkhorn(a, b, C, 1e-2, method="sns", tol=1e-10, maxiter=100000, newton_patience=5)
    phase = sn.trace["phase"]
    assert sn.success and np.sum(phase == 1) == 5 and np.all(phase[np.argmax(phase == 2):] == 2)
    sk = sinkhorn(a, b, C, 1e-2, method="sinkhorn-log", tol=1e-10, maxiter=100000)
    np.testing.assert_allclose(sn.plan, sk.plan, rtol=0, atol=2e-8 * sk.plan.max())
