import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

import problems
from problems import ot


def test_lp_equals_assignment_for_uniform_marginals():
    inst = ot.point_clouds(n=30, seed=3)
    r, c = linear_sum_assignment(inst.C)
    assert inst.exact_cost() == pytest.approx(inst.C[r, c].mean(), rel=1e-9)
    P = inst.exact_plan()
    np.testing.assert_allclose(P.sum(1), inst.a, atol=1e-12)
    np.testing.assert_allclose(P.sum(0), inst.b, atol=1e-12)


def test_lp_equals_closed_form_w2_in_1d():
    inst = ot.histograms_1d(n=60, p=2, seed=1)
    t = inst.meta["grid"]
    assert inst.exact_cost() == pytest.approx(ot.w2_1d(t, inst.a, t, inst.b), rel=1e-7)


@pytest.mark.parametrize("name", ot.list_problems())
def test_instances_are_valid(name):
    params = {"random_assignment": {"n": 50}, "point_clouds": {"n": 40}, "histograms_2d": {"k": 6}}.get(name, {})
    inst = problems.get(f"ot/{name}", **params)
    assert inst.a.sum() == pytest.approx(1) and inst.b.sum() == pytest.approx(1)
    assert np.all(inst.a > 0) and np.all(inst.b > 0) and np.all(inst.C >= 0)
    assert inst.C.shape == (inst.a.size, inst.b.size)


def test_unknown_instance():
    with pytest.raises(ValueError, match="did you mean 'images'"):
        problems.get("ot/imagse")
