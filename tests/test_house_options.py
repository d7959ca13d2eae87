"""Typed options of the stochastic, second_order and cbo families (issue 16, "one house").

Every option of every method of numopt/solvers/stochastic.py, second_order.py and cbo.py
has a check (none of them is free-form: ``rng`` is checked as None / seed / Generator,
``hessian`` as a name or a callable, ``B`` as a square real matrix); an invalid value is a
ValueError or TypeError naming the option, both from ``resolve_options`` and through the
front door; and runs recorded before the conversion (commit a5bd60c, check_scalar checks in
the solvers) are reproduced to 1e-12. The COMMON_OPTIONS of the registry (``max_time``,
``trace``, ``disp``) are the registry's and are not tested here.
"""
import numpy as np
import pytest

import numopt
from numopt._registry import get_method, list_methods, resolve_options
from numopt.datafits import Logistic
from numopt.oracles import LinearComposite
from numopt.prox import L1

FAMILIES = {"stochastic": {"sgd", "svrg", "saga", "sarah", "spider"},
            "second_order": {"lazy-newton", "grad-reg-newton", "saddle-free-newton", "projected-newton"},
            "cbo": {"cbo"}}
METHODS = sorted(set().union(*FAMILIES.values()))
FREE_FORM = {}  # (method, option) -> why the option has no check: none in these families

# invalid values of every option of these families (each must be refused naming the option)
BAD = {
    "tol": [-1.0, "small"], "maxiter": [-1, 2.5, "many"],
    "step": [0.0, -1.0, "big"], "safety": [0.0, float("nan")], "batch_size": [0, 1.5],
    "rng": [-1, "seed", 1.5], "decay": [-1.0], "table": ["sparse", 3],
    "m": [0, 2.5], "M0": [0.0, float("inf"), -1.0], "M_min": [0.0], "regularization": ["quartic"],
    "gamma0": [0.0, "one"], "hessian": ["bfgs", 3], "B": [np.ones(3), np.ones((2, 3)), "eye"],
    "c": [0.0, 1.0, 1.5], "damping": [0.0], "dense_max": [0, 10.5],
    "n_particles": [1, 20.5], "alpha": [-1.0], "lam": [-1.0], "sigma": [-1.0, float("nan")], "dt": [0.0],
    "noise": ["pink"], "gradient_weight": [-0.1], "init_std": [0.0],
    "epsilon": [-1.0, "wide"], "maxls": [0, 2.5], "inner_maxiter": [0, 1.5], "max_step": [0.0, -1.0],
}


def test_the_families_hold_these_methods():
    for fam, names in FAMILIES.items():
        assert set(list_methods(family=fam)) == names


@pytest.mark.parametrize("method", METHODS)
def test_every_option_has_a_check(method):
    spec = get_method(method)
    for k, opt in spec.options.items():
        if (method, k) in FREE_FORM:
            continue
        assert opt.check is not None, f"{method}: option {k!r} has no check"
        assert opt.describe(), k
    # the default maxiter is stated in its doc
    assert "default 1000" in spec.options["maxiter"].doc
    text = numopt.show_options(method, disp=False)
    assert "maxiter" in text and "Options:" in text


@pytest.mark.parametrize("method", METHODS)
def test_invalid_values_name_the_option(method):
    spec = get_method(method)
    for k in spec.options:
        assert k in BAD, f"no invalid value listed for {method}:{k}"
        for v in BAD[k]:
            with pytest.raises((ValueError, TypeError), match=f"`{k}`"):
                resolve_options(spec, {k: v})


@pytest.mark.parametrize("method", METHODS)
def test_defaults_pass_their_own_checks(method):
    spec = get_method(method)
    for k, opt in spec.options.items():
        if opt.default is not None or k in ("m", "step", "batch_size", "B", "rng"):
            opt.validate(k, opt.default)


def _logreg(n=60, p=6, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    y = np.where(A @ rng.standard_normal(p) + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0)
    return LinearComposite(Logistic(y), A)


def _fun(x):
    return float(np.sum((x - 1.0) ** 4) + 0.5 * np.sum(x ** 2) + 0.3 * x[0] * x[1])


def _jac(x):
    return 4 * (x - 1.0) ** 3 + x + 0.3 * np.r_[x[1], x[0], np.zeros(x.size - 2)]


def _hess(x):
    H = np.diag(12 * (x - 1.0) ** 2 + 1.0)
    H[0, 1] += 0.3
    H[1, 0] += 0.3
    return H


def _rastrigin(x):
    return float(10 * x.shape[0] + np.sum(x * x - 10 * np.cos(2 * np.pi * x)))


def _stochastic(method, **opts):
    return numopt.minimize(_logreg(), np.zeros(6), method=method, prox=L1(0.01), tol=0,
                           options=dict(opts, rng=3, maxiter=7))


def _newton(method, **opts):
    return numopt.minimize(_fun, np.array([0.0, -0.5, 2.0, 0.3]), jac=_jac, hess=_hess, method=method, tol=0,
                           options=dict(opts, maxiter=6))


RUNS = {
    "sgd": lambda: _stochastic("sgd", decay=0.5, batch_size=4),
    "svrg": lambda: _stochastic("svrg"),
    "svrg-step": lambda: _stochastic("svrg", step=0.05),
    "saga": lambda: _stochastic("saga"),
    "saga-dense": lambda: _stochastic("saga", table="dense", batch_size=3),
    "sarah": lambda: _stochastic("sarah", safety=4.0),
    "spider": lambda: _stochastic("spider"),
    "lazy-newton": lambda: _newton("lazy-newton", m=2, M0=3.0),
    "lazy-newton-quadratic": lambda: _newton("lazy-newton", regularization="quadratic", m=2),
    "grad-reg-newton-B": lambda: _newton("grad-reg-newton", gamma0=0.5, c=0.1, B=2 * np.eye(4)),
    "grad-reg-newton-fisher": lambda: numopt.minimize(_logreg(), np.zeros(6), method="grad-reg-newton", tol=0,
                                                      options={"hessian": "empirical-fisher", "maxiter": 6}),
    "saddle-free-newton": lambda: _newton("saddle-free-newton", damping=1e-3),
    "cbo": lambda: numopt.minimize(_rastrigin, np.array([1.5, -2.0, 0.7]), method="cbo",
                                   options={"rng": 1, "n_particles": 25, "maxiter": 15}),
    "cbo-isotropic": lambda: numopt.minimize(_rastrigin, np.array([1.5, -2.0, 0.7]), method="cbo",
                                             options={"noise": "isotropic", "sigma": 1.0, "alpha": 50.0, "rng": 1,
                                                      "n_particles": 25, "maxiter": 15}),
    "cbo-wrapper": lambda: numopt.cbo(lambda X: np.sum(X * X, axis=1), [(-2, 2), (-1, 3)], vectorized=True,
                                      jac=lambda X: 2 * X, gradient_weight=0.1, n_particles=20, maxiter=10, rng=2),
}

# (x, fun, nit) of each run, recorded at commit a5bd60c (before the typed options)
RECORDED = {
    'cbo': ([0.06459934298319492, -0.030385649279675537, 0.9978206283814709],
         1.9958616972826455, 15),
    'cbo-isotropic': ([0.9215503012398176, -0.9553926710835687, 0.9152673892455513],
         5.5644161146835565, 15),
    'cbo-wrapper': ([-0.006339019951148405, -0.006771015109447733],
         8.602981955342702e-05, 10),
    'grad-reg-newton-B': ([0.4666793305873407, 0.4653090163435019, 0.4986689803116596,
          0.499952111385139],
         0.8199362147495467, 6),
    'grad-reg-newton-fisher': ([-9.006153543135708, 11.26502245288, 5.820764217407907,
          -2.8910958794845425, -6.525885550973036, -7.122069470030461],
         0.047352429795621535, 6),
    'lazy-newton': ([0.4667574607368811, 0.46583044609085433, 0.5008044951289902,
          0.49999996911703753],
         0.8199313385835831, 6),
    'lazy-newton-quadratic': ([0.4659118706787439, 0.4532021251532508, 0.5095216511172668,
          0.4990480677678207],
         0.8205215236677986, 6),
    'saddle-free-newton': ([0.4666981049008725, 0.4666980185332483, 0.49999999950947865,
          0.49999999999999994],
         0.81992839040506, 6),
    'saga': ([-1.8376628400539465, 1.7957435011234528, 0.787548600816476,
          -0.524880826932795, -0.7929230217099913, -0.5544082385872278],
         0.2717990936154413, 7),
    'saga-dense': ([-1.2025072129575372, 1.0458141704645907, 0.39437638968192323,
          -0.35102979846593846, -0.48869448520593, -0.2812893158385561],
         0.33355507983774146, 7),
    'sarah': ([-1.643748703420963, 1.5625817398356507, 0.6575261090677181,
          -0.4829953704660708, -0.6677169304582791, -0.44015839632907977],
         0.2851946921267746, 7),
    'sgd': ([-0.6344467516163961, 0.4909557836197016, 0.0660951404069879,
          -0.2345911567461078, -0.22560536762773897, -0.08769178781653357],
         0.4536966847573055, 7),
    'spider': ([-0.8584668059788472, 0.70995784725616, 0.21514109233560783,
          -0.24961906379721208, -0.34262865111345464, -0.1745702253020627],
         0.39408462523523036, 7),
    'svrg': ([-1.1314524292724786, 0.9827522744623987, 0.3507779098122026,
          -0.33342642868549427, -0.4533473940095439, -0.24847086958610645],
         0.343837380638828, 7),
    'svrg-step': ([-1.5856969076813698, 1.4886310956426252, 0.6115920366715726,
          -0.4662877010183979, -0.6423347548761468, -0.40499956616999194],
         0.29033600694298967, 7),
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_recorded_runs_match(name):
    res = RUNS[name]()
    x, fun, nit = RECORDED[name]
    assert res.nit == nit and res.status == 1
    np.testing.assert_allclose(np.asarray(res.x, dtype=float), x, rtol=0, atol=1e-12)
    assert abs(float(res.fun) - fun) <= 1e-12 * max(1.0, abs(fun))


@pytest.mark.parametrize("method,options", [
    ("sgd", {"decay": -1.0}), ("svrg", {"batch_size": 0}), ("saga", {"table": "sparse"}),
    ("sarah", {"safety": 0.0}), ("spider", {"batch_size": 0.5}),
])
def test_front_door_refuses_stochastic(method, options):
    (k,) = options
    with pytest.raises((ValueError, TypeError), match=f"`{k}`"):
        numopt.minimize(_logreg(), np.zeros(6), method=method, options=options)


@pytest.mark.parametrize("method,options", [
    ("lazy-newton", {"regularization": "quartic"}), ("lazy-newton", {"M0": float("inf")}),
    ("grad-reg-newton", {"c": 1.0}), ("grad-reg-newton", {"hessian": "bfgs"}), ("grad-reg-newton", {"B": np.ones(4)}),
    ("saddle-free-newton", {"dense_max": 0}),
])
def test_front_door_refuses_second_order(method, options):
    (k,) = options
    with pytest.raises((ValueError, TypeError), match=f"`{k}`"):
        numopt.minimize(_fun, np.zeros(4), jac=_jac, hess=_hess, method=method, options=options)


def test_front_door_refuses_cbo():
    for k, v in [("noise", "pink"), ("rng", "seed"), ("alpha", -1.0), ("init_std", 0.0)]:
        with pytest.raises((ValueError, TypeError), match=f"`{k}`"):
            numopt.minimize(_rastrigin, np.zeros(2), method="cbo", options={k: v})
    with pytest.raises(ValueError, match="`sigma`"):
        numopt.cbo(lambda X: np.sum(X * X, axis=1), np.zeros(2), sigma=-1.0, vectorized=True)


def test_checked_values_are_used():
    # a choice given in another case, a float-valued integer and a numpy Generator are accepted
    a = _stochastic("saga", table="DENSE", batch_size=3.0)
    b = RUNS["saga-dense"]()
    np.testing.assert_array_equal(a.x, b.x)
    r = numopt.minimize(_rastrigin, np.array([1.5, -2.0, 0.7]), method="cbo",
                        options={"rng": np.random.default_rng(1), "n_particles": 25, "maxiter": 15})
    np.testing.assert_allclose(r.x, RECORDED["cbo"][0], rtol=0, atol=1e-12)
