"""The ``linear_system`` kind (issue 16): every method through the front door
``numopt.solve_linear`` and the registry contract (callback, maxiter, options, trace,
dtype, show_options), the Step protocol (``work=``), and agreement of the registry path
with the algorithms as they were (independent reference implementations, and sweep
counts / iterates recorded from the pre-registry code at commit 7f0904b)."""
import math

import numpy as np
import pytest
import scipy.sparse as sp

import numopt
from numopt import sketch
from numopt._registry import get_method
from numopt.sor import laplacian_2d, shifted_laplacian_sequence, sor_bandit, sor_solve

METHODS = numopt.list_methods(kind="linear_system")


def _instance(method, dtype=np.float64):
    kw = dict(get_method(method).example(np))
    kw.pop("f_star")
    xs = kw.pop("x_star")
    A = kw["A"]
    kw["A"] = A.astype(dtype)
    kw["b"] = np.asarray(kw["b"], dtype=dtype)
    kw["x0"] = np.asarray(kw["x0"], dtype=dtype)
    return kw, xs


def _run(method, kw, **extra):
    kw = dict(kw)
    return numopt.solve_linear(kw.pop("A"), kw.pop("b"), method, **kw, **extra)


def test_kind_lists_its_methods():
    assert set(METHODS) == {"kaczmarz", "block-kaczmarz", "gaussian-sketch", "countsketch", "sor"}
    assert all(get_method(m).kind == "linear_system" for m in METHODS)
    from numopt._registry import list_kinds

    assert list_kinds()["linear_system"]["front_door"] == "numopt.solve_linear"


@pytest.mark.parametrize("method", METHODS)
def test_solves_its_example_with_the_result_contract(method):
    kw, xs = _instance(method)
    res = _run(method, kw)
    assert res.success and res.status == 0 and res.method == method
    np.testing.assert_allclose(res.x, xs, atol=1e-6)
    A, b = kw["A"], kw["b"]
    rn = np.linalg.norm(A @ res.x - b)
    assert res.fun == pytest.approx(rn, rel=1e-6, abs=1e-14)  # fun: the residual norm
    assert res.optimality == pytest.approx(rn / np.linalg.norm(b), rel=1e-6, abs=1e-14)
    assert res.optimality <= 1e-8
    for key in ("x", "fun", "nit", "status", "success", "message", "optimality", "trace"):
        assert key in res
    tr = res.trace
    assert len(tr["nit"]) == len(tr["fun"]) == len(tr["optimality"]) >= 2
    assert tr["nit"][0] == 0 and tr["nit"][-1] == res.nit
    assert np.all(np.diff(tr["nit"]) > 0)
    assert not any(k in res for k in ("nfev", "njev"))  # no counted oracles: no counts



@pytest.mark.parametrize("method", METHODS)
def test_old_style_callback_gets_the_iterate(method):
    kw, _ = _instance(method)
    xs = []
    _run(method, kw, callback=lambda xk: xs.append(np.array(xk)), maxiter=3, check_every=1)
    assert len(xs) == 4 and all(x.shape == kw["x0"].shape for x in xs)


@pytest.mark.parametrize("method", METHODS)
def test_maxiter_zero_returns_x0(method):
    kw, _ = _instance(method)
    kw["x0"] = np.linspace(-1, 1, kw["x0"].size)
    x0 = kw["x0"].copy()
    res = _run(method, kw, maxiter=0)
    assert res.status == 1 and not res.success and res.nit == 0
    np.testing.assert_array_equal(res.x, x0)
    assert res.x is not kw["x0"]
    np.testing.assert_array_equal(kw["x0"], x0)  # not mutated



@pytest.mark.parametrize("method", METHODS)
def test_option_checks_name_the_option(method):
    kw, _ = _instance(method)
    with pytest.raises(ValueError, match="`maxiter`"):
        _run(method, kw, maxiter=-1)
    with pytest.raises(ValueError, match="`check_every`"):
        _run(method, kw, check_every=0)
    with pytest.raises(ValueError, match="`tol`"):
        _run(method, kw, tol=-1.0)
    with pytest.raises(TypeError, match="`trace`"):
        _run(method, kw, trace="yes")
    with pytest.raises(TypeError, match="twice"):
        _run(method, kw, tol=1e-3, options={"tol": 1e-4})
    spec = get_method(method)
    if "block_size" in spec.options:
        with pytest.raises(ValueError, match="`block_size`"):
            _run(method, kw, block_size=0)
    if "rng" in spec.options:
        with pytest.raises(TypeError, match="`rng`"):
            _run(method, kw, rng="seed")
    if method == "sor":
        for bad in (0.0, 2.0, float("nan")):
            with pytest.raises(ValueError, match="`omega`"):
                _run(method, kw, omega=bad)
        with pytest.raises(ValueError, match="`kernel`"):
            _run(method, kw, kernel="fortran")


@pytest.mark.parametrize("method", METHODS)
def test_trace_false_and_max_time(method):
    kw, _ = _instance(method)
    res = _run(method, kw, trace=False)
    assert res.trace is None and res.success
    res = _run(method, kw, max_time=1e-300, tol=1e-300, check_every=1)
    assert res.status == 3 and not res.success and "max_time" in res.message


@pytest.mark.parametrize("method", METHODS)
def test_float32_kept(method):
    kw, xs = _instance(method, np.float32)
    res = _run(method, kw)
    assert res.x.dtype == np.float32 and res.success
    # the default tol adapts to float32 (1e-8 -> eps32 ** (log 1e-8 / log eps64) ~ 2.9e-4)
    assert 1e-8 < res.optimality <= 3e-4
    A, b = kw["A"], kw["b"]
    assert np.linalg.norm(A @ res.x - b) / np.linalg.norm(b) <= 3e-4 * 1.01
    # mixed precision: float64 wins
    kw["b"] = kw["b"].astype(np.float64)
    assert _run(method, kw, maxiter=3).x.dtype == np.float64


@pytest.mark.parametrize("method", METHODS)
def test_show_options_documents_method(method):
    text = numopt.show_options(method, disp=False)
    spec = get_method(method)
    assert spec.reference and spec.rate_text and "relative residual" in spec.optimality
    assert "numopt.solve_linear" in text
    for opt in spec.all_options():
        assert opt in text
    assert spec.all_options()["maxiter"].default == (10000 if method == "sor" else 100000)


def test_input_errors_name_the_argument():
    A, b = np.eye(3), np.ones(3)
    with pytest.raises(TypeError, match="`b`"):
        numopt.solve_linear(A, b + 1e-3j)
    with pytest.raises(TypeError, match="`A`"):
        numopt.solve_linear(A * (1 + 0j), b, "sor")
    with pytest.raises(ValueError, match="`b`"):
        numopt.solve_linear(A, np.ones(4))
    with pytest.raises(ValueError, match="`x0`"):
        numopt.solve_linear(A, b, x0=np.ones(2))
    with pytest.raises(ValueError, match="`x0`"):
        numopt.solve_linear(A, b, "sor", x0=np.array([1.0, np.nan, 0.0]))
    with pytest.raises(ValueError, match="`A`"):
        numopt.solve_linear(np.array([[1.0, np.inf], [0.0, 1.0]]), np.ones(2))
    with pytest.raises(ValueError, match="square"):
        numopt.solve_linear(np.ones((3, 4)), b, "sor")
    with pytest.raises(ValueError, match="numopt.minimize"):
        numopt.solve_linear(A, b, "fista")
    with pytest.raises(ValueError, match="numopt.solve_linear"):
        numopt.minimize(lambda x: 0.0, np.zeros(3), method="sor")
    with pytest.raises(ValueError, match="Did you mean"):
        numopt.solve_linear(A, b, "kaczmarzz")
    xps = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match="`A`"):
        numopt.solve_linear(xps.asarray(A), b)


def test_names_aliases_and_old_spellings():
    A, b = np.eye(4) * 2.0, np.ones(4)
    r1 = numopt.solve_linear(A, b, "gaussian", block_size=2, maxiter=5, tol=0.0)
    r2 = numopt.solve_linear(A, b, "Gaussian_Sketch", block_size=2, maxiter=5, tol=0.0)
    assert r1.method == r2.method == "gaussian-sketch"
    np.testing.assert_array_equal(r1.x, r2.x)
    assert numopt.solve_linear(A, b, "block_kaczmarz", block_size=2).success
    # kernel's old spelling `backend`
    L = laplacian_2d(3)
    r3 = numopt.solve_linear(L, np.ones(9), "sor", omega=1.2, backend="scipy")
    assert r3.kernel == "scipy" and r3.success


# ------------------------------------------------------------- the Step protocol
def test_work_counts_row_steps_and_stops_at_maxiter():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 5))
    b = rng.standard_normal(30)  # inconsistent: runs to maxiter
    res = numopt.solve_linear(A, b, "kaczmarz", maxiter=2000, tol=1e-10)
    # check_every = min(m, 50) = 30: 66 full blocks and a last one of 20 rows
    assert res.status == 1 and res.nit == 2000 and "inconsistent" in res.message
    assert np.all(res.trace["nit"][:-1] % 30 == 0) and res.trace["nit"][-1] == 2000
    res = numopt.solve_linear(A, b, "kaczmarz", maxiter=12)  # fewer than one block
    assert res.nit == 12 and list(res.trace["nit"]) == [0, 12]


@pytest.mark.parametrize("kernel", ["numba", "scipy"])
def test_sor_stops_at_the_exact_sweep_whatever_check_every(kernel):
    A = laplacian_2d(9)
    b = np.random.default_rng(1).standard_normal(A.shape[0])
    runs = [numopt.solve_linear(A, b, "sor", omega=1.5, kernel=kernel, check_every=c) for c in (1, 7, 10, 10**6)]
    assert {r.nit for r in runs} == {42}  # recorded from the pre-registry kernel
    for r in runs[1:]:
        np.testing.assert_array_equal(r.x, runs[0].x)
    assert len(runs[0].trace["nit"]) == 43 and len(runs[2].trace["nit"]) == 6 and len(runs[3].trace["nit"]) == 2
    assert list(runs[2].trace["nit"]) == [0, 10, 20, 30, 40, 42]


def test_tol_zero_runs_to_maxiter_but_old_sor_functions_refuse_it():
    A = laplacian_2d(4)
    b = np.ones(16)
    res = numopt.solve_linear(A, b, "sor", omega=1.5, tol=0.0, maxiter=300)
    assert res.status == 1 and res.nit == 300 and res.optimality < 1e-14
    with pytest.raises(ValueError, match="`tol`"):
        sor_solve(A, b, 1.5, tol=0.0)
    with pytest.raises(ValueError, match="`tol`"):
        sor_bandit([(A, b)], tol=float("nan"))


def test_sor_divergence_is_status_2_with_a_finite_iterate():
    M = sp.csr_array(np.array([[1.0, 2.0], [2.0, 1.0]]))  # symmetric, indefinite
    for kernel in ("numba", "scipy"):
        for every in (None, 1):  # the last finite *reported* iterate comes back
            res = numopt.solve_linear(M, np.array([1.0, 0.0]), "sor", kernel=kernel, maxiter=5000,
                                      check_every=every)
            assert res.status == 2 and not res.success and "positive definite" in res.message
            assert np.all(np.isfinite(res.x)) and res.nit < 5000
        assert res.nit > 0


# --------------------------------------------------- agreement with the old algorithms
def _sketch_reference(A, b, method, s, seed, n_iter):
    """The sketch-and-project iterations written out independently (dense, float64)."""
    rng = np.random.default_rng(seed)
    m, n = A.shape
    row_sq = (A * A).sum(1)
    x = np.zeros(n)
    out = [x]
    for _ in range(n_iter):
        if method == "kaczmarz":
            i = rng.choice(m, p=row_sq / row_sq.sum())
            x = x + (b[i] - A[i] @ x) / row_sq[i] * A[i]
        else:
            if method == "block-kaczmarz":
                idx = rng.choice(m, size=s, replace=False)
                SA, Sr = A[idx], A[idx] @ x - b[idx]
            elif method == "gaussian-sketch":
                S = rng.standard_normal((m, s))
                SA, Sr = S.T @ A, S.T @ (A @ x - b)
            else:
                h = rng.integers(0, s, size=m)
                sg = rng.choice([-1.0, 1.0], size=m)
                S = np.zeros((m, s))
                S[np.arange(m), h] = sg
                SA, Sr = S.T @ A, S.T @ (A @ x - b)
            x = x - np.linalg.pinv(SA) @ Sr
        out.append(x)
    return out


@pytest.mark.parametrize("method", ["kaczmarz", "block-kaczmarz", "gaussian-sketch", "countsketch"])
def test_sketch_iterates_match_the_reference(method):
    rng = np.random.default_rng(3)
    A = rng.standard_normal((60, 15))
    b = A @ rng.standard_normal(15)
    ref = _sketch_reference(A, b, method, 5, 7, 12)
    opts = dict(rng=7, check_every=1, maxiter=12, tol=0.0)
    if method != "kaczmarz":
        opts["block_size"] = 5
    for Am in (A, sp.csr_array(A)):
        xs = []
        numopt.solve_linear(Am, b, method, callback=lambda xk: xs.append(np.array(xk)), **opts)
        assert len(xs) == 13
        for k in range(13):
            np.testing.assert_allclose(xs[k], ref[k], rtol=0, atol=1e-12)


def test_sketch_results_as_before_the_registry():
    """Iteration counts and iterates of ``sketch.solve`` recorded from commit 7f0904b."""
    rng = np.random.default_rng(3)
    A = rng.standard_normal((60, 15))
    b = A @ rng.standard_normal(15)
    old = {"kaczmarz": (950, 6.60670877570103e-11, [0.21612537262089426, 1.5482000856994316]),
           "block_kaczmarz": (143, 9.221930588530706e-11, [0.21612537271269697, 1.5482000855623723]),
           "gaussian": (114, 9.999714250409602e-11, [0.2161253725298664, 1.5482000858704859]),
           "countsketch": (131, 8.397509869274071e-11, [0.21612537272063745, 1.5482000855332223])}
    for method, (nit, opt, x2) in old.items():
        r = sketch.solve(A, b, method=method, tol=1e-10, block_size=5)
        kw = {} if method == "kaczmarz" else {"block_size": 5}
        r2 = numopt.solve_linear(A, b, method, tol=1e-10, **kw)
        for res in (r, r2):
            assert res.nit == nit and res.optimality == pytest.approx(opt, rel=1e-12)
            np.testing.assert_allclose(res.x[:2], x2, rtol=0, atol=1e-12)
        assert r.residual == r.fun
        np.testing.assert_array_equal(r.x, r2.x)


def _sor_reference(A, b, omega, n_sweeps):
    A = A.toarray()
    x = np.zeros(len(b))
    out = [x.copy()]
    for _ in range(n_sweeps):
        for i in range(len(b)):
            sigma = b[i] - A[i] @ x + A[i, i] * x[i]
            x[i] = (1 - omega) * x[i] + omega * sigma / A[i, i]
        out.append(x.copy())
    return out


@pytest.mark.parametrize("kernel", ["numba", "scipy"])
def test_sor_iterates_match_the_reference_and_old_counts(kernel):
    A = laplacian_2d(9)
    b = np.random.default_rng(1).standard_normal(A.shape[0])
    ref = _sor_reference(A, b, 1.3, 8)
    xs = []
    numopt.solve_linear(A, b, "sor", omega=1.3, kernel=kernel, maxiter=8, check_every=1,
                        callback=lambda xk: xs.append(np.array(xk)))
    for k in range(9):
        np.testing.assert_allclose(xs[k], ref[k], rtol=0, atol=1e-12)
    # sweep counts, relative residuals and iterates recorded from commit 7f0904b
    old = {1.0: (159, 9.132833999077138e-09, [0.17038782681243636, 0.28717002853593954]),
           1.5: (42, 6.962938102675077e-09, [0.17038782983002235, 0.287170030566796])}
    for w, (nit, rel, x2) in old.items():
        r1 = sor_solve(A, b, w, kernel=kernel)
        r2 = numopt.solve_linear(A, b, "sor", omega=w, kernel=kernel)
        for r in (r1, r2):
            assert r.nit == nit and r.optimality == pytest.approx(rel, rel=1e-6)
            np.testing.assert_allclose(r.x[:2], x2, rtol=0, atol=1e-12)
        assert r1.residual == r1.optimality
        np.testing.assert_array_equal(r1.x, r2.x)


def test_sor_bandit_solves_go_through_the_front_door_path():
    rng = np.random.default_rng(5)
    systems = shifted_laplacian_sequence(6, rng.uniform(0, 0.5, 8), rng)
    r = sor_bandit(systems, maxiter=300, rng=1, warm_start=False)
    for t, (A, b) in enumerate(systems):
        res = numopt.solve_linear(A, b, "sor", omega=r.omegas[t], maxiter=300)
        assert r.iterations[t] == res.nit
    np.testing.assert_array_equal(r.x, res.x)
    with pytest.raises(ValueError, match="`tol`"):
        sor_bandit(systems, tol=0.0)
    with pytest.raises(ValueError, match="`kernel`"):
        sor_bandit(systems, kernel="fortran")


def test_sketch_solve_float32_default_tol_is_reachable():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 20)).astype(np.float32)
    b = A @ rng.standard_normal(20).astype(np.float32)
    for method in sketch.METHODS:
        r = sketch.solve(A, b, method=method)
        assert r.success and r.x.dtype == np.float32 and r.optimality <= 3e-4


def test_old_import_paths_still_work():
    import numopt.sor as old_sor
    from numopt.solvers import relax, sor as new_sor

    assert old_sor.sor_solve is new_sor.sor_solve and old_sor.sor_bandit is relax.sor_bandit
    assert numopt.sketch.solve is numopt.solvers.sketch.solve
    assert numopt.sketch.rk_rate(np.eye(3)) == pytest.approx(1 - 1 / 3)
    assert math.isclose(old_sor.poisson_optimal_omega(1), 2 / (1 + math.sin(math.pi / 2)))
