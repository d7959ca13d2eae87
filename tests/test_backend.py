import subprocess
import sys

import numpy as np
import pytest

import numopt
from numopt.datafits import Quadratic
from numopt.prox import L1


def test_import_is_light():
    code = ("import sys, numopt; bad = [m for m in ('cupy', 'cvxpy', 'matplotlib', 'numba', "
            "'sklearn', 'torch', 'scipy.optimize', 'scipy.sparse') if m in sys.modules]; print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_outputs_stay_in_input_namespace(xp):
    rng = np.random.default_rng(0)
    A = xp.asarray(rng.standard_normal((20, 6)))
    b = xp.asarray(rng.standard_normal(20))
    f = numopt.LinearComposite(Quadratic(b), A)
    for dtype in (xp.float32, xp.float64):
        x0 = xp.zeros(6, dtype=dtype)
        res = numopt.minimize(f, x0, method="fista", prox=L1(0.01), options={"maxiter": 20})
        assert res.x.dtype == dtype
        assert type(res.x) is type(x0)


@pytest.mark.cuda
def test_cupy_runs_on_gpu():
    cp = pytest.importorskip("cupy")
    rng = np.random.default_rng(0)
    A = rng.standard_normal((200, 50))
    b = rng.standard_normal(200)
    ref = numopt.minimize(numopt.LinearComposite(Quadratic(b), A), np.zeros(50), method="fista",
                          prox=L1(0.01), options={"maxiter": 100})
    res = numopt.minimize(numopt.LinearComposite(Quadratic(cp.asarray(b)), cp.asarray(A)),
                          cp.zeros(50), method="fista", prox=L1(0.01), options={"maxiter": 100})
    assert isinstance(res.x, cp.ndarray)
    np.testing.assert_allclose(cp.asnumpy(res.x), ref.x, rtol=1e-8, atol=1e-10)
