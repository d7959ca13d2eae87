"""Cyclic block coordinate methods with extrapolation, acceleration and variance reduction.

Problems: ``min_x F(x) = f(x) + g(x)`` with ``f`` smooth (convex for A-CODER, possibly
nonconvex for VR-CD) and ``g`` convex and separable over the blocks (``prox``). The
blocks ``x = (x^1, ..., x^m)`` are visited in a fixed cyclic order.

**A-CODER** (Lin, Song & Diakonikolas, ICML 2023, Algorithm 1). With ``a_0 = A_0 = 0``,
``y_0 = v_0 = x_0``, ``z_0 = 0``, for ``k = 1, 2, ...``:

1. ``a_k > 0`` with ``a_k^2 = (1 + gamma A_{k-1}) A_k / (2 L)``, ``A_k = A_{k-1} + a_k``
   (``gamma``: strong convexity modulus of ``g``; ``L``: smoothness constant, see below);
2. ``x_k = (A_{k-1} y_{k-1} + a_k v_{k-1}) / A_k``;
3. for each block ``j`` in cyclic order, with the *mixed point* ``w_k^j`` equal to ``y_k`` on
   the blocks already visited in this cycle and to ``x_k`` on the others:

   * ``p_k^j = grad_j f(w_k^j)``  (partial gradient at the mixed point),
   * ``q_k^j = p_k^j + (a_{k-1}/a_k) (grad_j f(x_{k-1}) - p_{k-1}^j)``  (extrapolation),
   * ``z_k^j = z_{k-1}^j + a_k q_k^j``  (dual averaging),
   * ``v_k^j = prox_{A_k g^j}(x_0^j - z_k^j)``,
   * ``y_k^j = (A_{k-1} y_{k-1}^j + a_k v_k^j) / A_k``;

   the output is ``y_k``. (The paper sweeps the blocks from ``m`` down to ``1`` with ``x_k``
   on blocks ``<= j`` and ``y_k`` on blocks ``> j``; sweeping ``1..m`` as here is the same
   method with the block labels reversed.) Cost per iteration: one cyclic sweep of partial
   gradients plus one full gradient at ``x_k`` (the extrapolation term).

   Rate: the paper proves the accelerated ``O(L ||x* - x_0||^2 / k^2)`` rate for
   ``F(y_k) - F*`` (linear when ``gamma > 0``), where ``L`` is a Lipschitz constant of the
   gradient with respect to a Mahalanobis norm adapted to the cyclic order ("the optimal
   convergence rate with improved dependence on the number of blocks"). Step 1 gives
   ``sqrt(A_k) - sqrt(A_{k-1}) >= 1/sqrt(8 L)``, i.e. ``A_k >= k^2 / (8 L)``; we did not
   have the exact constant of the paper's theorem at hand, so ``rate`` is not registered as
   a function and the tests check the measured ``k^-2`` behaviour instead.

   Default ``L`` (``L=None``; old name ``lipschitz``): ``sqrt(L_f * sum_b L_b)`` with ``L_f`` the global
   smoothness constant and ``L_b`` the block constants. It bounds ``sqrt(sum_b M_b^2)``,
   ``M_b`` the Lipschitz constant of ``grad_b f`` with respect to the *whole* ``x`` (for
   ``f = loss(Ax)``: ``M_b = beta ||A_b|| ||A||``; for convex C^2 ``f``: ``M_b^2 <= L_f L_b``),
   which controls the error of the mixed-point partial gradients; it lies between ``L_f``
   and ``sqrt(m) L_f``.

**VR-A-CODER** (same paper, the finite-sum variant ``f = (1/n) sum_i f_i``): epochs
``s = 1, 2, ...``; an epoch fixes a snapshot ``ytilde`` with its full gradient ``mu``, and
a step ``a_s`` (the rule of step 1, ``A_s = A_{s-1} + a_s``), then runs ``K`` inner
A-CODER sweeps whose partial gradients are SVRG estimators on one minibatch ``B`` per sweep,
``grad_j f_B(w) - grad_j f_B(ytilde) + mu^j``, with the couplings
``x = (A_{s-1} ytilde + a_s v) / A_s`` (as in accelerated dual averaging with variance
reduction, VRADA: Song, Jiang & Ma, NeurIPS 2020) and the dual-averaging weight
``K A_{s-1} + k a_s`` at inner step ``k``; the next snapshot is the mean of the inner
``y``. This is our reconstruction from the paper's description (an SVRG-type
estimator inside A-CODER's cyclic, extrapolated dual averaging); its schedule
(``K = ceil(n / batch)``, ``batch = ceil(sqrt(n))``) is ours, and we did not verify it
line by line against the paper's Algorithm 2.

**VR-CD** (Cai, Song, Wright & Diakonikolas, ICML 2023): cyclic proximal block gradient
steps ``x_k^j = prox_{eta g^j}(x_{k-1}^j - eta g_k^j)`` where ``g_k^j`` estimates the partial
gradient at the mixed point ``x_{k,j-1} = (x_k^1, ..., x_k^{j-1}, x_{k-1}^j, ..., x_{k-1}^m)``
recursively (SARAH/SPIDER-type):
``g_k^j = g_{k-1}^j + grad_j f_B(x_{k,j-1}) - grad_j f_B(x_{k-1,j-1})`` with one minibatch
``B`` per cycle, and the exact ``grad_j f(x_{k,j-1})`` every ``refresh`` cycles. ``f`` may be
nonconvex. The paper's guarantee (abstract): the gradient-mapping norm decreases like that
of (full-gradient) gradient descent, ``min_k E||G(x_k)||^2 = O(L (F(x_0) - F*) / K)``, with
``L`` the Mahalanobis-norm Lipschitz constant, and with recursive variance reduction the
arithmetic complexity of the optimal variance-reduced full-gradient methods; linear
convergence under a Polyak-Lojasiewicz condition.

Oracles: ``f = loss(A x)`` (:class:`numopt.LinearComposite`, e.g. from
``problems.get("libsvm/...", model=...)`` or ``problems.synthetic``) runs with maintained
predictions (``O(nnz(A_b))`` per block, or ``O(|B| d_b)`` on a minibatch); any other
objective needs ``block_grad(x, idx)`` (or ``grad``), and for the VR methods
``grad_batch(x, idx)`` and ``n_samples`` (:class:`numopt.oracles.FiniteSum`).
"""
from __future__ import annotations

import numpy as np

from .._registry import MethodSpec, register
from .._options import Flag, Interval, NoneOr, Option
from .._options import Seed as Rng
# The implementation lives in three modules beside this one (split by concern, no change of
# behaviour); the private names stay importable from here.
from ._cyclic_cd_blocks import (  # noqa: F401
    _ELEMENTWISE, _BlockProx, _Blocks, _Oracle, _batch_opts, _lipschitz_opts, _make_blocks, _measure, _setup,
    _strong_convexity, _unwrap, _unwrap_reg)
from ._cyclic_cd_acoder import _acoder, _acoder_sweeps, _vr_acoder  # noqa: F401
from ._cyclic_cd_vr import _vr_cd  # noqa: F401

# Exported as numopt.<name> (lazily; numopt/__init__.py reads this tuple without importing the module).
__numopt_public__ = ('acoder', 'vr_cyclic_cd')
__all__ = ["acoder", "vr_cyclic_cd"]


def _example(xp):
    from ..datafits import Quadratic
    from ..oracles import LinearComposite
    from ..prox import L1

    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 10))
    b = rng.standard_normal(30)
    return dict(fun=LinearComposite(Quadratic(xp.asarray(b)), xp.asarray(A)), x0=xp.zeros(10, dtype=xp.float64),
                prox=L1(0.05), options={"rng": 0})


_COMMON = {
    "maxiter": Option(1000, "Maximum number of iterations (default 1000): cyclic sweeps (VR methods: epochs / "
                            "cycles).", Interval(0, integer=True)),
    "blocks": Option(None, "Partition: None (single coordinates), an int block size, or a list of index arrays "
                           "partitioning the variables (g must be separable over it)."),
    "L": Option(None, "Smoothness constant L used by the step rule; default sqrt(L_f * sum_b L_b) (bounds the "
                      "cyclic / Mahalanobis constant), plus the components' mean-square constant for the VR "
                      "methods.", NoneOr(Interval(0, open=("lo",))), aliases=("lipschitz",)),
    "rng": Option(None, "Seed or numpy Generator for the minibatches (variance reduction); None = a fixed default "
                        "seed (0), so that a default run is reproducible.", Rng()),
    "batch_size": Option(None, "Minibatch size for variance reduction (default ceil(sqrt(n))).",
                         NoneOr(Interval(1, integer=True))),
}

register(MethodSpec(
    name="acoder", family="bcd",
    summary="A-CODER: accelerated cyclic coordinate dual averaging with extrapolation (and VR-A-CODER)",
    solve=_acoder, requires=("grad",), example=_example, backends=("numpy", "array_api_strict"), accepts_prox=True,
    float64_internal=True,
    options={
        "tol": Option(1e-8, "Relative duality gap gap/P(0) for l1 / elastic-net GLMs, else the prox-gradient norm.",
                      Interval(0)),
        **_COMMON,
        "variance_reduction": Option(False, "VR-A-CODER: SVRG estimators on minibatches inside the cyclic sweeps "
                                            "(finite sums: LinearComposite or FiniteSum).", Flag()),
        "gamma": Option(None, "Strong convexity modulus of g (default: from SquaredL2 / ElasticNet, else 0).",
                        NoneOr(Interval(0))),
        "inner_maxiter": Option(None, "VR-A-CODER: cyclic sweeps per epoch (default ceil(n / batch_size)).",
                                NoneOr(Interval(1, integer=True)), aliases=("inner",)),
    },
    optimality="relative duality gap gap(y)/P(0) for l1/elastic-net models; else ||y - prox(y - grad f(y))||",
    rate_text="F(y_k) - F* = O(L ||x0 - x*||^2 / k^2) with L the Lipschitz constant of grad f w.r.t. a Mahalanobis "
              "norm (at most sqrt(m) times the Euclidean one); linear when g is strongly convex "
              "(Lin, Song & Diakonikolas 2023). The step rule gives A_k >= k^2/(8L).",
    rate=None,
    reference="C. Y. Lin, C. Song, J. Diakonikolas. Accelerated Cyclic Coordinate Dual Averaging with Extrapolation "
              "for Composite Convex Optimization. ICML 2023 (arXiv:2303.16279)."))

register(MethodSpec(
    name="vr-cd", family="bcd",
    summary="Cyclic proximal block coordinate descent with recursive variance reduction (VR-CD; nonconvex f)",
    solve=_vr_cd, requires=("grad",), example=_example, backends=("numpy", "array_api_strict"), accepts_prox=True,
    float64_internal=True,
    options={
        "tol": Option(1e-8, "Relative duality gap for l1/elastic-net GLMs, else the prox-gradient norm.",
                      Interval(0)),
        **_COMMON,
        "variance_reduction": Option(True, "Recursive (SPIDER/SARAH-type) estimators on minibatches; False = the "
                                           "deterministic cyclic proximal block gradient method (P-CCD).", Flag()),
        "step": Option(None, "Step size eta (default 1 / (L + L_bar sqrt(refresh / batch_size))).",
                       NoneOr(Interval(0, open=("lo",)))),
        "refresh": Option(None, "Cycles between exact partial gradients (default ceil(n / batch_size)).",
                          NoneOr(Interval(1, integer=True))),
    },
    optimality="relative duality gap for l1/elastic-net models; else ||x - prox(x - grad f(x))||",
    rate_text="min_k E||G(x_k)||^2 = O(L (F(x0) - F*) / K) for the gradient mapping G with L the Mahalanobis-norm "
              "Lipschitz constant; linear under a PL condition (Cai, Song, Wright & Diakonikolas 2023).",
    rate=None,
    reference="X. Cai, C. Song, S. J. Wright, J. Diakonikolas. Cyclic Block Coordinate Descent With Variance "
              "Reduction for Composite Nonconvex Optimization. ICML 2023 (arXiv:2212.05088)."))


def acoder(problem, x0=None, *, blocks=None, variance_reduction=False, maxiter=1000, tol=1e-8, rng=None,
           callback=None, **options):
    """Minimize ``f(x) + g(x)`` by A-CODER (``variance_reduction=True``: VR-A-CODER).

    ``problem``: a :class:`numopt.Problem` (e.g. ``problems.get("libsvm/a9a", model="logreg",
    lam_ratio=0.01)``) whose objective is convex with block gradients (``LinearComposite`` or
    ``block_grad``), and whose regularizer is separable over ``blocks``. Options:
    ``L`` (old name ``lipschitz``), ``gamma``, ``batch_size``, ``inner_maxiter`` (old name ``inner``)
    (see the module docstring and
    ``numopt.show_options("acoder")``). Returns an ``OptimizeResult`` (``x`` = the last
    ``y_k``; one iteration = one cyclic sweep, or one epoch of VR-A-CODER).
    """
    from .._minimize import minimize

    opts = dict(options, blocks=blocks, variance_reduction=variance_reduction, rng=rng, maxiter=maxiter)
    return minimize(problem, x0, method="acoder", tol=tol, callback=callback, options=opts)


def vr_cyclic_cd(problem, x0=None, *, blocks=None, variance_reduction=True, maxiter=1000, tol=1e-8, rng=None,
                 callback=None, **options):
    """Minimize ``f(x) + g(x)`` (``f`` possibly nonconvex, a finite sum when
    ``variance_reduction``) by cyclic proximal block coordinate descent with recursive
    variance reduction (VR-CD, Cai et al. 2023). Options: ``step``, ``batch_size``,
    ``refresh``, ``L`` (old name ``lipschitz``) (see ``numopt.show_options("vr-cd")``). One iteration = one
    cycle over the blocks."""
    from .._minimize import minimize

    opts = dict(options, blocks=blocks, variance_reduction=variance_reduction, rng=rng, maxiter=maxiter)
    return minimize(problem, x0, method="vr-cd", tol=tol, callback=callback, options=opts)
