"""Models as oracles: gradients vs finite differences, values vs scikit-learn, gaps."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import check_grad

import numopt
import problems
from problems.models import coordinate_lipschitz, make_model

MODELS = ["lasso", "logreg", "svm", "huber", "enet", "ridge"]


def _data(rng, sparse, n=60, p=15):
    X = rng.standard_normal((n, p))
    if sparse:
        X[rng.uniform(size=X.shape) < 0.6] = 0
        X = sp.csc_matrix(X)
    y_reg = rng.standard_normal(n)
    y_bin = np.where(rng.standard_normal(n) > 0, 1.0, -1.0)
    return X, y_reg, y_bin


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("model", MODELS)
def test_gradient_and_hvp_vs_finite_differences(model, sparse, rng):
    X, yr, yb = _data(rng, sparse)
    prob = make_model(X, yb if model in ("logreg", "svm") else yr, model=model, lam_ratio=0.1)
    f = prob.objective
    for _ in range(3):
        w = rng.standard_normal(X.shape[1]) * 0.3
        # central differences (forward ones, scipy's check_grad, err ~1.5e-7: a 7x margin only)
        E = np.eye(w.size) * 1e-5
        fd_g = np.array([(f.value(w + e) - f.value(w - e)) / 2e-5 for e in E])
        err = np.linalg.norm(fd_g - f.grad(w))
        assert err <= 1e-6 * max(1, np.linalg.norm(f.grad(w)))
        v = rng.standard_normal(X.shape[1])
        h = 1e-6
        fd = (f.grad(w + h * v) - f.grad(w - h * v)) / (2 * h)
        if model not in ("svm", "huber"):  # piecewise: second derivative jumps
            np.testing.assert_allclose(f.hvp(w, v), fd, rtol=1e-5, atol=1e-7)


def test_values_agree_with_sklearn(rng):
    from sklearn.metrics import log_loss

    X, yr, yb = _data(rng, False)
    w = rng.standard_normal(X.shape[1]) * 0.2
    lasso = make_model(X, yr, "lasso", lam=0.3)
    assert lasso.value(w) == pytest.approx(np.sum((X @ w - yr) ** 2) / (2 * 60) + 0.3 * np.abs(w).sum())
    logreg = make_model(X, yb, "logreg", lam=0.0)
    p = 1 / (1 + np.exp(-(X @ w)))
    assert logreg.objective.value(w) == pytest.approx(log_loss((yb > 0).astype(int), p))


@pytest.mark.parametrize("model", ["lasso", "logreg", "svm", "huber", "enet"])
def test_duality_gap_certificate(model, rng):
    X, yr, yb = _data(rng, True)
    prob = make_model(X, yb if model in ("logreg", "svm") else yr, model=model, lam_ratio=0.2)
    gap0, *_ = prob.duality_gap(np.zeros(X.shape[1]))
    res = numopt.minimize(prob, method="fista", tol=1e-12, options={"maxiter": 100000, "restart": "gradient"})
    gap, primal, dual = prob.duality_gap(res.x)
    assert gap >= -1e-12
    assert gap <= 1e-8 * max(1, abs(primal))
    # the gap bounds the suboptimality of any point: check at a random point
    w = rng.standard_normal(X.shape[1]) * 0.1
    gw, pw, _ = prob.duality_gap(w)
    assert pw - res.fun <= gw + 1e-10


def test_lasso_optimum_agrees_with_sklearn(libsvm_dir):
    from sklearn.linear_model import Lasso

    prob = problems.get("libsvm/housing_scale", model="lasso", lam_ratio=0.05, data_dir=libsvm_dir)
    X, y = prob.objective.A, prob.objective.loss.y
    ref = Lasso(alpha=prob.meta["lam"], fit_intercept=False, tol=1e-14, max_iter=10**6).fit(X, y)
    res = numopt.minimize(prob, method="fista", tol=1e-12, options={"maxiter": 10**6, "restart": "gradient"})
    assert res.fun == pytest.approx(prob.value(ref.coef_), rel=1e-8)


def test_coordinate_lipschitz(rng):
    X, yr, _ = _data(rng, True)
    prob = make_model(X, yr, "lasso", lam_ratio=0.1)
    Lj = coordinate_lipschitz(X, prob.objective.loss)
    Xd = X.toarray()
    np.testing.assert_allclose(Lj, (Xd ** 2).sum(0) / 60)
    assert prob.objective.lipschitz == pytest.approx(np.linalg.norm(Xd, 2) ** 2 / 60, rel=1e-5)


def test_minibatch_gradient_is_unbiased(rng):
    X, _, yb = _data(rng, False)
    f = make_model(X, yb, "logreg", lam=0.0).objective
    w = rng.standard_normal(X.shape[1])
    full = np.mean([f.grad_batch(w, np.array([i])) for i in range(60)], axis=0)
    np.testing.assert_allclose(full, f.grad(w), rtol=1e-12)


def test_bad_model_inputs(rng):
    X, yr, yb = _data(rng, False)
    with pytest.raises(ValueError, match="model"):
        make_model(X, yr, "nope")
    with pytest.raises(ValueError, match="lam"):
        make_model(X, yr, "lasso", lam=-1.0)
    with pytest.raises(ValueError, match="rows"):
        make_model(X, yr[:10], "lasso")
    with pytest.raises(ValueError, match="labels"):
        make_model(X, yr, "logreg")


def _references():
    import json
    from pathlib import Path

    import problems as pr

    return json.loads((Path(pr.__file__).with_name("references.json")).read_text())


@pytest.mark.parametrize("ref", _references(), ids=lambda r: f"{r['dataset']}-{r['model']}-{r['lam_ratio']}")
def test_stored_reference_optima_reached(ref, libsvm_dir):
    p = problems.get(f"libsvm/{ref['dataset']}", model=ref["model"], lam_ratio=ref["lam_ratio"], data_dir=libsvm_dir)
    assert p.f_star == ref["f_star"] and p.meta["lam"] == pytest.approx(ref["lam"], rel=1e-12)
    res = numopt.bcd(p, selection="cyclic" if ref["model"] == "logreg" else "gsl", tol=1e-13, maxiter=10**5)
    assert res.fun == pytest.approx(p.f_star, rel=1e-8)
    assert p.duality_gap(res.x)[0] <= 1e-8 * abs(p.f_star)


def test_multinomial_matches_sklearn(libsvm_dir):
    from sklearn.linear_model import LogisticRegression

    p = problems.get("libsvm/dna.scale", model="multinomial", penalty="l2", lam=1e-3, data_dir=libsvm_dir)
    X, y = p.objective.A, np.asarray(p.objective.loss.y)
    W = np.random.default_rng(0).standard_normal(p.x0.shape) * 0.01
    err = check_grad(lambda w: p.objective.value(w.reshape(W.shape)),
                     lambda w: p.objective.grad(w.reshape(W.shape)).ravel(), W.ravel())
    assert err < 1e-5
    ref = LogisticRegression(C=1 / (1e-3 * X.shape[0]), fit_intercept=False, tol=1e-12, max_iter=10000).fit(X, y)
    res = numopt.minimize(p, method="fista", tol=1e-9, options={"maxiter": 5000, "restart": "gradient"})
    assert res.x.shape == (180, 3)
    assert res.fun == pytest.approx(p.value(ref.coef_.T), rel=1e-9)


def test_logistic_numba_kernels_match_numpy_formulas(rng):
    """The one-pass numba kernels (float64 numpy) agree with the closed forms, including
    large margins (overflow-safe) and the conjugate's domain."""
    from numopt.datafits import Logistic

    n = 501
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    z = 40.0 * rng.standard_normal(n)
    loss = Logistic(y)
    ref_val = float(np.sum(np.logaddexp(0.0, -y * z))) / n
    s = 1.0 / (1.0 + np.exp(y * z))  # sigmoid(-y z)
    val, u, h = loss.terms(z)
    assert abs(loss.value(z) - ref_val) <= 1e-12 * ref_val
    assert abs(val - ref_val) <= 1e-12 * ref_val
    np.testing.assert_allclose(u, -y * s / n, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(h, s * (1 - s) / n, rtol=1e-10, atol=1e-300)
    # float32 input takes the array-namespace path and agrees to float32 precision
    np.testing.assert_allclose(loss.value(z.astype(np.float32)), ref_val, rtol=1e-5)
    p = 0.999 * s
    ref_conj = float(np.sum(p * np.log(p) + (1 - p) * np.log1p(-p))) / n
    assert abs(loss.conjugate(-p * y / n) - ref_conj) <= 1e-12 * abs(ref_conj)
    assert loss.conjugate(-1.01 * y / n) == np.inf  # p = 1.01 outside [0, 1]


@pytest.mark.parametrize("path", ["numba", "array_api"])
def test_logistic_value_change_is_accurate_below_rounding(rng, path):
    """value_change(z, dz) = F(z + dz) - F(z) to its own relative precision: for a tiny dz
    it matches the second-order Taylor expansion (error O(|dz|^3)), where the difference of
    two rounded values is off by orders of magnitude; for large dz it matches that difference."""
    from numopt.datafits import Logistic

    n = 400
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    z = 5.0 * rng.standard_normal(n)
    loss = Logistic(y)
    if path == "array_api":
        loss._fast = lambda *a: False
    _, u, h = loss.terms(z)
    dz = 1e-9 * rng.standard_normal(n)
    taylor = float(u @ dz + 0.5 * (h * dz) @ dz)
    assert abs(loss.value_change(z, dz) - taylor) <= 1e-9 * abs(taylor)
    assert abs((loss.value(z + dz) - loss.value(z)) - taylor) > 1e-6 * abs(taylor)  # what it replaces
    dz = 3.0 * rng.standard_normal(n)  # both branches (|y dz| above and below 1)
    direct = float(np.sum(np.logaddexp(0.0, -y * (z + dz)) - np.logaddexp(0.0, -y * z))) / n
    assert loss.value_change(z, dz) == pytest.approx(direct, rel=1e-12)
