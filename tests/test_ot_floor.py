"""Kernel Sinkhorn at the memory floor (issue 19, item 4): the one-pass numba kernel
(one read of K per iteration, the marginal violation fused into it), the float32 path
and `check_every` of the array-namespace path."""
import numpy as np
import pytest

import problems
from numopt.solvers import _sinkhorn_numba as nb
from numopt.solvers._ot_common import default_marginal_tol
from numopt.solvers.sinkhorn import sinkhorn


def _inst(n=50, seed=0):
    inst = problems.get("ot/point_clouds", n=n, m=n + 5, seed=seed)
    return inst.a, inst.b, inst.C / inst.C.max()


@pytest.mark.parametrize("threaded", [False, True])
def test_one_pass_kernel_against_blas(threaded):
    rng = np.random.default_rng(0)
    n, m = 203, 157
    K, v, a, u = rng.random((n, m)), rng.random(m), rng.random(n), rng.random(n)
    one_pass, mtv = (nb._PASS[1], nb._MTV[1]) if threaded else (nb._PASS[0], nb._MTV[0])
    W = np.empty((3 if threaded else 1, m))
    u_new = np.empty(n)
    err, w = one_pass(K, v, a, u, u_new, W)
    Kv = K @ v
    assert err == pytest.approx(np.abs(u * Kv - a).sum(), rel=1e-13)  # the fused violation
    np.testing.assert_allclose(u_new, a / Kv, rtol=1e-13)
    np.testing.assert_allclose(w, K.T @ u_new, rtol=1e-13)
    np.testing.assert_allclose(mtv(K, u, W), K.T @ u, rtol=1e-13)
    # float32 kernel, float64 accumulation: the products of the rounded kernel, exactly
    K32 = K.astype(np.float32)
    err32, w32 = one_pass(K32, v, a, u, u_new, W)
    np.testing.assert_allclose(w32, K32.astype(np.float64).T @ (a / (K32.astype(np.float64) @ v)), rtol=1e-13)


@pytest.mark.parametrize("reg", [0.05, 0.01])
def test_fused_check_same_iterates_and_stopping_iteration(reg):
    """The one-pass kernel against the two-mat-vec array-namespace path (the previous
    implementation): same trace of violations, same stopping iteration within 1."""
    a, b, C = _inst()
    fused = sinkhorn(a, b, C, reg, method="sinkhorn", tol=1e-11, maxiter=20000)
    ref = sinkhorn(a, b, C, reg, method="sinkhorn", tol=1e-11, maxiter=20000, kernel="array_api")
    assert fused.success and ref.success and abs(fused.nit - ref.nit) <= 1
    k = min(fused.nit, ref.nit) + 1
    np.testing.assert_allclose(fused.trace["optimality"][:k], ref.trace["optimality"][:k], rtol=1e-6, atol=1e-14)
    np.testing.assert_allclose(fused.plan, ref.plan, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(fused.f, ref.f, rtol=1e-10, atol=1e-12)
    # and the reported violation is the true one of the returned plan
    P = fused.plan
    true = np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()
    assert fused.marginal_error == pytest.approx(true, rel=1e-3, abs=1e-14)


def test_float32_inputs_give_float32_results_within_the_float32_tol():
    a, b, C = _inst(n=80, seed=1)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    a32, b32 = a32 / a32.sum(), b32 / b32.sum()
    res = sinkhorn(a32, b32, C.astype(np.float32), 0.02, method="sinkhorn")
    tol = default_marginal_tol(a32, b32, np)
    assert tol == pytest.approx(100 * np.finfo(np.float32).eps, rel=1e-3)  # the float32 default
    assert res.success and res.plan.dtype == np.float32 and res.f.dtype == np.float32
    assert res.marginal_error <= tol
    # the reported violation is that of the returned float32 plan (measured in float64)
    P = res.plan.astype(np.float64)
    viol = np.abs(P.sum(1) - a32).sum() + np.abs(P.sum(0) - b32).sum()
    assert abs(viol - res.marginal_error) <= tol / 10  # measured 6.5e-8 apart (tol 1.2e-5)
    a64, b64 = a32.astype(np.float64), b32.astype(np.float64)
    ref = sinkhorn(a64 / a64.sum(), b64 / b64.sum(), C.astype(np.float32).astype(np.float64), 0.02,
                   method="sinkhorn", tol=1e-12)
    # l1 distance to the float64 plan, of the order of the violation: measured 1.4e-5
    assert np.abs(P - ref.plan).sum() <= 15 * tol


def test_compute_dtype_float32_for_float64_inputs():
    a, b, C = _inst(n=80, seed=2)
    res = sinkhorn(a, b, C, 0.02, method="sinkhorn", options={"compute_dtype": "float32"})
    ref = sinkhorn(a, b, C, 0.02, method="sinkhorn", tol=1e-12)
    tol32 = default_marginal_tol(a, b, np, np.float32)
    assert res.success and res.plan.dtype == np.float64 and res.marginal_error <= tol32
    assert np.abs(res.plan - ref.plan).sum() <= 20 * tol32  # measured 1.9e-5 (tol32 1.2e-5)
    assert res.cost == pytest.approx(ref.cost, rel=1e-4)  # measured 9.3e-6
    alias = sinkhorn(a, b, C, 0.02, method="sinkhorn", dtype="float32")  # the alias `dtype`
    assert alias.nit == res.nit
    with pytest.raises(ValueError, match="`compute_dtype`"):
        sinkhorn(a, b, C, 0.02, method="sinkhorn", compute_dtype="float16")


def test_check_every_on_the_array_namespace_path():
    a, b, C = _inst(seed=3)
    every1 = sinkhorn(a, b, C, 0.03, method="sinkhorn", kernel="array_api", tol=1e-10)
    every5 = sinkhorn(a, b, C, 0.03, method="sinkhorn", kernel="array_api", tol=1e-10, check_every=5)
    assert every5.success and every5.nit % 5 == 0 and every5.nit == 5 * int(np.ceil(every1.nit / 5))
    common = every1.trace["optimality"][5::5]  # every1 stops before the last multiple of 5
    np.testing.assert_allclose(every5.trace["optimality"][1:1 + len(common)], common, rtol=1e-12)
    with pytest.raises(ValueError, match="`check_every`"):
        sinkhorn(a, b, C, 0.03, method="sinkhorn", check_every=0)


def test_numba_kernel_refuses_what_it_cannot_run():
    a, b, C = _inst(n=10)
    with pytest.raises(ValueError, match="kernel='numba'"):
        sinkhorn(a, b, C, 0.1, method="sinkhorn", kernel="numba", relaxation=1.5)


def test_underflow_is_a_failure_status_not_a_nan_success():
    a, b, C = _inst(n=20, seed=4)
    res = sinkhorn(a, b, C * 50, 1e-3, method="sinkhorn", maxiter=100)  # exp(-C/reg) underflows
    assert not res.success and res.status in (1, 2)
