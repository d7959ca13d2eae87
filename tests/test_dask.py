"""Data-parallel oracles on a Dask LocalCluster (2 worker processes): the dask
LinearComposite gives the same iterates as the in-memory one, one round trip per oracle
call, and local-svrg reaches the optimum of a strongly convex problem."""
import numpy as np
import pytest
import scipy.sparse as sp

import numopt
from numopt import datafits as D
from numopt.prox import L1, SquaredL2

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _data(n=600, p=12, seed=0, chunk=150, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if sparse:
        X[rng.random((n, p)) < 0.6] = 0.0
    w = rng.standard_normal(p)
    t = X @ w + 0.3 * rng.standard_normal(n)
    Xd = da.from_array(X, chunks=(chunk, p))
    if sparse:
        Xd = Xd.map_blocks(sp.csr_matrix, dtype=X.dtype)
        X = sp.csr_matrix(X)
    return X, Xd, t, chunk


def _pair(datafit, y, X, Xd, chunk):
    return (numopt.LinearComposite(datafit(y), X),
            numopt.LinearComposite(datafit(da.from_array(y, chunks=(chunk,))), Xd))


def _iterates(f, method, p, **kw):
    xs = []

    def cb(intermediate_result):
        xs.append(np.array(intermediate_result.x))

    res = numopt.minimize(f, np.zeros(p), method=method, callback=cb, **kw)
    return res, np.array(xs)


@pytest.mark.parametrize("method", ["fista", "l-bfgs-b"])
@pytest.mark.parametrize("loss", ["quadratic", "logistic"])
def test_same_iterates_as_in_memory(client, method, loss):
    X, Xd, t, chunk = _data()
    y, datafit = (t, D.Quadratic) if loss == "quadratic" else (np.sign(t), D.Logistic)
    fm, fd = _pair(datafit, y, X, Xd, chunk)
    # the first 8 iterations (each costs round trips on a shared 2-core machine; a run to tol can end
    # one iteration apart when the measure crosses tol within rounding of the two reduction orders)
    kw = dict(prox=L1(0.01), options={"maxiter": 8}) if method == "fista" else dict(options={"maxiter": 8})
    rm, xm = _iterates(fm, method, X.shape[1], tol=1e-9, **kw)
    rd, xd = _iterates(fd, method, X.shape[1], tol=1e-9, **kw)
    assert type(rd.x) is np.ndarray and rd.nit == rm.nit > 5 and rd.status == rm.status
    np.testing.assert_allclose(xd, xm, rtol=0, atol=1e-10)
    assert rd.success == rm.success and abs(rd.fun - rm.fun) <= 1e-12


@pytest.mark.parametrize("method", ["trust-ncg", "grad-reg-newton"])
def test_newton_type_methods_through_hvp_and_hess(client, method):
    X, Xd, t, chunk = _data()
    fm, fd = _pair(D.Logistic, np.sign(t), X, Xd, chunk)
    rm, xm = _iterates(fm, method, X.shape[1], prox=SquaredL2(0.01), tol=1e-9)
    rd, xd = _iterates(fd, method, X.shape[1], prox=SquaredL2(0.01), tol=1e-9)
    assert rm.success and rd.success and rd.nit == rm.nit
    np.testing.assert_allclose(xd, xm, rtol=0, atol=1e-10)


def test_sparse_chunks_same_iterates(client):
    X, Xd, t, chunk = _data(sparse=True)
    fm, fd = _pair(D.Quadratic, t, X, Xd, chunk)
    rm, xm = _iterates(fm, "fista", X.shape[1], prox=L1(0.01), tol=1e-9, options={"maxiter": 10})
    rd, xd = _iterates(fd, "fista", X.shape[1], prox=L1(0.01), tol=1e-9, options={"maxiter": 10})
    assert rd.nit == rm.nit > 5
    np.testing.assert_allclose(xd, xm, rtol=0, atol=1e-10)
    H = fd.hess(rm.x)
    assert sp.issparse(H)
    assert abs(H - fm.hess(rm.x)).max() < 1e-14


def test_one_round_trip_per_oracle_call(client):
    X, Xd, t, chunk = _data()
    fm, fd = _pair(D.Logistic, np.sign(t), X, Xd, chunk)
    x = np.linspace(-1, 1, X.shape[1])
    before = fd.round_trips
    v, g = fd.value_and_grad(x)
    assert fd.round_trips == before + 1
    assert abs(v - fm.value(x)) < 1e-14 and np.max(np.abs(g - fm.grad(x))) < 1e-14
    fd.value(x), fd.grad(x), fd.hvp(x, x)
    assert fd.round_trips == before + 4


@pytest.mark.parametrize("loss", ["quadratic", "logistic", "huber"])
def test_hvp_and_hess_match_in_memory(client, loss):
    X, Xd, t, chunk = _data()
    datafit = {"quadratic": D.Quadratic, "logistic": D.Logistic, "huber": D.Huber}[loss]
    y = np.sign(t) if loss == "logistic" else t
    fm, fd = _pair(datafit, y, X, Xd, chunk)
    rng = np.random.default_rng(1)
    x, v = rng.standard_normal(X.shape[1]), rng.standard_normal(X.shape[1])
    ref = fm.hvp(x, v)
    assert np.max(np.abs(fd.hvp(x, v) - ref)) <= 1e-13 * max(1.0, np.max(np.abs(ref)))
    assert np.max(np.abs(fd.hess(x) - fm.hess(x))) <= 1e-13
    assert abs(fd.lipschitz - fm.lipschitz) <= 1e-12 * fm.lipschitz


def test_multinomial_grad_and_hvp(client):
    X, Xd, t, chunk = _data()
    y = np.digitize(t, np.quantile(t, [1 / 3, 2 / 3])).astype(np.int64)  # 3 classes
    fm, fd = _pair(D.Multinomial, y, X, Xd, chunk)
    rng = np.random.default_rng(2)
    W, V = rng.standard_normal((X.shape[1], 3)), rng.standard_normal((X.shape[1], 3))
    assert abs(fd.value(W) - fm.value(W)) < 1e-13
    assert np.max(np.abs(fd.grad(W) - fm.grad(W))) < 1e-14
    h = 1e-5  # central difference of the gradient: O(h^2) error, about 1e-10 here
    fdiff = (fm.grad(W + h * V) - fm.grad(W - h * V)) / (2 * h)
    assert np.max(np.abs(fd.hvp(W, V) - fdiff)) < 1e-8


def test_lanczos_lipschitz_many_features(client):
    rng = np.random.default_rng(3)
    X = sp.random(800, 300, density=0.05, random_state=3, format="csr")
    Xd = da.from_array(X.toarray(), chunks=(200, 300)).map_blocks(sp.csr_matrix, dtype=float)
    y = rng.standard_normal(800)
    fd = numopt.LinearComposite(D.Quadratic(da.from_array(y, chunks=(200,))), Xd)
    assert fd.stats()[4] is None  # more than 200 features: no reduced Gram matrix, Lanczos
    exact = np.linalg.norm(X.toarray(), 2) ** 2 / 800
    L = fd.estimate_lipschitz()
    assert exact <= L <= exact * (1 + 1e-5)


def test_labels_chunked_differently_is_clear_error(client):
    X, Xd, t, chunk = _data()
    with pytest.raises(ValueError, match=r"labels `y` must be a 1-D dask array chunked like A's rows"):
        numopt.LinearComposite(D.Quadratic(da.from_array(t, chunks=(100,))), Xd)
    with pytest.raises(ValueError, match=r"labels `y` must be a dask array"):
        numopt.LinearComposite(D.Quadratic(t), Xd)
    with pytest.raises(TypeError, match="`loss`"):
        numopt.LinearComposite(object(), Xd)


def test_local_svrg_reaches_the_optimum(client):
    X, Xd, t, chunk = _data(n=1000, p=10, chunk=250)
    y = np.sign(t)
    fm, fd = _pair(D.Logistic, y, X, Xd, chunk)
    ref = numopt.minimize(fm, np.zeros(10), method="agd", prox=SquaredL2(0.1), tol=1e-10)
    assert np.linalg.norm(fm.grad(ref.x) + 0.1 * ref.x) <= 1e-10  # ||x_ref - x*|| <= 1e-9
    before = fd.round_trips
    res = numopt.minimize(fd, np.zeros(10), method="local-svrg", prox=SquaredL2(0.1), tol=1e-8,
                          options={"maxiter": 100})
    assert res.success and res.optimality <= 1e-8
    # strongly convex (mu >= 0.1): ||x - x*|| <= ||grad|| / mu <= 1e-7 (measured: 3e-8)
    assert np.linalg.norm(res.x - ref.x) <= 1e-6
    assert fd.round_trips - before == res.nit + 2  # stats, start gradient, one per round
    assert res.nit <= 30  # measured: 10 rounds


def test_local_svrg_needs_a_dask_objective():
    X, _, t, _ = _data(n=50, p=3, chunk=25)
    with pytest.raises(ValueError, match="data-parallel objective"):
        numopt.minimize(numopt.LinearComposite(D.Quadratic(t), X), np.zeros(3), method="local-svrg")


def _svm_file(tmp_path, n=300, p=40, extras=True):
    from sklearn.datasets import dump_svmlight_file

    rng = np.random.default_rng(4)
    X = sp.random(n, p, density=0.1, random_state=4, format="csr")
    y = rng.choice([-1.0, 1.0], n)
    path = tmp_path / "data.svm"
    dump_svmlight_file(X, y, str(path), zero_based=False)
    if extras:  # a comment line and blank lines: not samples
        text = path.read_bytes()
        path.write_bytes(b"# a comment\n" + text.replace(b"\n", b"\n\n", 3))
    return path


@pytest.mark.parametrize("chunk_bytes", [400, 10**7])
def test_chunked_libsvm_matches_sklearn(tmp_path, chunk_bytes):
    from sklearn.datasets import load_svmlight_file

    from problems.libsvm import load_chunked

    path = _svm_file(tmp_path)
    X_ref, y_ref = load_svmlight_file(str(path), zero_based=False)
    X, y = load_chunked(path, chunk_bytes=chunk_bytes)
    assert X.shape == X_ref.shape and X.chunks[0] == y.chunks[0]
    assert (X.numblocks[0] > 10) == (chunk_bytes < 1000)
    blocks = [b.compute(scheduler="sync") for b in X.to_delayed().ravel()]
    assert all(sp.issparse(b) and b.shape[1] == X_ref.shape[1] for b in blocks)
    assert abs(sp.vstack(blocks) - X_ref).max() == 0
    np.testing.assert_array_equal(y.compute(scheduler="sync"), y_ref)


def test_chunked_libsvm_fixed_width_dense_and_errors(tmp_path):
    from sklearn.datasets import load_svmlight_file

    from problems.libsvm_chunked import load_chunked

    path = _svm_file(tmp_path, extras=False)
    X_ref, _ = load_svmlight_file(str(path), zero_based=False, n_features=50)
    X, _ = load_chunked(path, 50, chunk_bytes=500, dense=True)
    np.testing.assert_array_equal(X.compute(scheduler="sync"), X_ref.toarray())
    with pytest.raises(ValueError, match="`path`.*compressed"):
        load_chunked(str(path) + ".gz")
    with pytest.raises(ValueError, match="`chunk_bytes`"):
        load_chunked(path, chunk_bytes=0)
    empty = tmp_path / "empty.svm"
    empty.write_bytes(b"# nothing\n\n")
    with pytest.raises(ValueError, match="no samples"):
        load_chunked(empty)


def test_chunked_libsvm_feeds_the_dask_oracle(client, tmp_path):
    from problems.libsvm_chunked import load_chunked

    path = _svm_file(tmp_path, extras=False)
    X_ref, y_ref = load_svmlight_file_ref(path)
    X, y = load_chunked(path, chunk_bytes=3000)
    fd = numopt.LinearComposite(D.Logistic(y), X)
    fm = numopt.LinearComposite(D.Logistic(y_ref), X_ref)
    w = np.linspace(-1, 1, X.shape[1])
    v, g = fd.value_and_grad(w)
    assert abs(v - fm.value(w)) < 1e-14 and np.max(np.abs(g - fm.grad(w))) < 1e-15


def load_svmlight_file_ref(path):
    from sklearn.datasets import load_svmlight_file

    return load_svmlight_file(str(path), zero_based=False)


def _sweep_problems():
    import functools

    from problems import synthetic

    return {"sparse_regression": functools.partial(synthetic.sparse_regression, n=40, p=15, k=3)}


def _without_timing(rows):
    from numopt.sweep import TIMING_COLUMNS

    return [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in rows]


def test_sweep_same_table_on_dask_and_processes(client, tmp_path):
    import csv

    from numopt.sweep import COLUMNS, sweep

    kw = dict(methods=["fista", "ista"], seeds=[0, 1], lams=[0.3, 0.1], lam_name="lam_ratio", tol=1e-8,
              options={"maxiter": 5000})
    on_dask = sweep(_sweep_problems(), scheduler=client.scheduler.address, warm_start=True, **kw)
    on_procs = sweep(_sweep_problems(), max_workers=2, warm_start=True, out=tmp_path / "t.csv", **kw)
    assert len(on_dask) == 8 and all(set(r) == set(COLUMNS) for r in on_dask)
    assert _without_timing(on_dask) == _without_timing(on_procs)
    assert all(r["success"] and r["optimality"] <= 1e-8 for r in on_dask)
    with open(tmp_path / "t.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert tuple(table[0]) == COLUMNS and len(table) == 8
    # the path runs in order, warm-started: the second value starts at the first solution
    independent = sweep(_sweep_problems(), scheduler="serial", warm_start=False, **kw)
    assert [r["lam"] for r in independent] == [r["lam"] for r in on_dask]
    for a, b in zip(independent, on_dask):  # same optimum either way (strongly convex here: n > p)
        assert abs(a["fun"] - b["fun"]) <= 1e-9 * max(1.0, abs(a["fun"]))
    assert sum(r["nit"] for r in on_dask) < sum(r["nit"] for r in independent)


def test_sweep_bad_arguments_are_clear_errors():
    from numopt.sweep import sweep

    with pytest.raises(TypeError, match="`problems`"):
        sweep([], ["fista"])
    with pytest.raises(ValueError, match="`scheduler`"):
        sweep(_sweep_problems(), ["fista"], scheduler="localhost:8786")
    with pytest.raises(ValueError, match="`errors`"):
        sweep(_sweep_problems(), ["fista"], errors="ignore")
    rows = sweep(_sweep_problems(), ["no-such-method"], scheduler="serial", errors="record")
    assert rows[0]["status"] == -1 and not rows[0]["success"] and "no-such-method" in rows[0]["message"]


def test_sweep_parquet_table_matches_csv(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import csv

    from numopt.sweep import COLUMNS, sweep, write_table

    rows = sweep(_sweep_problems(), ["fista"], seeds=[0], lams=[0.3, 0.1], lam_name="lam_ratio",
                 scheduler="serial", out=tmp_path / "t.parquet")
    table = pq.read_table(tmp_path / "t.parquet").to_pylist()
    assert tuple(table[0]) == COLUMNS and table == rows
    write_table(rows, tmp_path / "t.csv")
    with open(tmp_path / "t.csv", newline="") as f:
        csv_rows = list(csv.DictReader(f))
    assert [float(r["fun"]) for r in csv_rows] == [r["fun"] for r in rows]


def test_methods_that_read_the_design_are_refused(client):
    """bcd / saga / frank-wolfe would pull rows or columns of a dask X to the client: a
    ValueError naming the methods that run on it, before any work."""
    import dask.array as da

    from numopt.datafits import Quadratic
    from numopt.prox import L1

    rng = np.random.default_rng(5)
    A = rng.standard_normal((400, 6))
    X = da.from_array(A, chunks=(100, 6))
    y = da.from_array(A @ np.ones(6), chunks=(X.chunks[0],))
    f = numopt.LinearComposite(Quadratic(y), X)
    for method in ("bcd", "saga"):
        with pytest.raises(ValueError, match="does not run on a dask.array design.*fista"):
            numopt.minimize(f, np.zeros(6), method=method, prox=L1(0.01))
