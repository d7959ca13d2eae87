import numpy as np
import pytest

import numopt
from numopt import rates


def test_fit_linear_rate_recovers_factor():
    k = np.arange(60)
    e = 3.0 * 0.8 ** k
    fit = rates.fit_linear_rate(e)
    assert fit.rate == pytest.approx(0.8, rel=1e-10)
    assert fit.constant == pytest.approx(3.0, rel=1e-8)
    assert fit.r2 == pytest.approx(1.0)


def test_fit_sublinear_rate_recovers_exponent():
    k = np.arange(1, 500)
    e = np.concatenate([[10.0], 5.0 / k ** 2])
    assert rates.fit_sublinear_rate(e).rate == pytest.approx(2.0, rel=1e-8)


def test_fit_needs_data():
    with pytest.raises(ValueError, match="at least 3"):
        rates.fit_linear_rate([1e-20, 1e-20, 1e-20])


def test_theoretical_bound_values():
    assert rates.theoretical_bound("gd", [10], L=2.0, R=3.0)[0] == pytest.approx(2 * 9 / 20)
    assert rates.theoretical_bound("fista", [9], L=2.0, R=3.0)[0] == pytest.approx(2 * 2 * 9 / 100)


def test_check_bound_detects_violation():
    fake = {"trace": {"fun": np.array([10.0, 5.0, 4.0]), "nit": np.array([0, 1, 2])}, "method": "gd"}
    ok, *_ = rates.check_bound(fake, 0.0, L=1.0, R=1.0)
    assert not ok  # 5 > L R^2 / 2


def test_acceleration_doubles_empirical_exponent(rng):
    # Nesterov's worst-case chain quadratic (k << n): the fitted sublinear exponent of AGD
    # is about twice that of GD, as the O(1/k) vs O(1/k^2) bounds (and lower bounds) say.
    n = 200
    A = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    e1 = np.zeros(n)
    e1[0] = 1.0

    def f(x):
        return 0.125 * x @ A @ x - 0.25 * x[0]

    def g(x):
        return 0.25 * A @ x - 0.25 * e1

    xs = np.linalg.solve(A, e1)
    p = {}
    for m in ("gd", "agd"):
        res = numopt.minimize(f, np.zeros(n), jac=g, method=m, tol=0,
                              options={"maxiter": 90, "L": 1.0, "linesearch": False})  # k < n / 2
        p[m] = rates.fit_sublinear_rate(res.trace["fun"] - f(xs), start=5).rate
    # measured ratio 1.97 (1.90 with 60 steps): the band edges are ~10x the distance from 2
    assert 1.7 <= p["agd"] / p["gd"] <= 2.3


def test_plot_convergence(tmp_path, rng):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    A = rng.standard_normal((20, 5))
    b = rng.standard_normal(20)
    from numopt.datafits import Quadratic
    f = numopt.LinearComposite(Quadratic(b), A)
    runs = {m: numopt.minimize(f, np.zeros(5), method=m, options={"maxiter": 30}) for m in ("gd", "agd")}
    fstar = f.value(np.linalg.lstsq(A, b, rcond=None)[0])
    ax = rates.plot_convergence(runs, fstar)
    assert len(ax.get_lines()) == 2
    ydata = ax.get_lines()[0].get_ydata()
    np.testing.assert_allclose(ydata, np.maximum(runs["gd"].trace["fun"] - fstar, 1e-17))
    ax.figure.savefig(tmp_path / "conv.png")
    assert (tmp_path / "conv.png").stat().st_size > 1000
