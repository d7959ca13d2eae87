"""Bilevel optimization: ``min_x F(x, y*(x))`` with ``y*(x) = argmin_y G(x, y)`` (the kind
``"bilevel"``, front door :func:`bilevel`).

Declare the problem once with :class:`BilevelProblem` (``upper(x, y)`` and ``lower(x, y)``
return ``(value, grad_x, grad_y)``; second-order products of G are ``lower_hvp(x, y, v) =
grad_yy G v`` and ``lower_cross(x, y, v) = grad_xy G v``, taken from gradient differences
when not given), or :class:`MultiBlockBilevelProblem` for ``min_x (1/m) sum_i f_i(x,
y_i*(x))``, and pick a method: ``numopt.bilevel(problem, x0, y0, method=...)``. Every method
is a registry entry (``numopt.list_methods(kind="bilevel")``, ``numopt.show_options(name)``
lists its options, defaults and checks) run by the shared loop.

Modules: :mod:`.problem` (the declaration, starting-point checks, oracle counts),
:mod:`.hypergradient` (:func:`bilevel_hypergradient`: implicit differentiation with CG,
a truncated Neumann series or an exact solve), :mod:`.implicit` (``implicit``, ``hoag``,
``maid``), :mod:`.penalty` (``f2sa``, ``penalty``, ``meha``, ``lv-hba``, ``bamm``,
``bo-rep``), :mod:`.multiblock` (``bsvrb``), :mod:`.front` (:func:`bilevel`). The methods,
their stochastic (minibatch) versions, rates and failure reporting are described in
``docs/bilevel.md``.

* ``implicit``: hypergradient by the implicit function theorem, the lower level solved
  (warm-started) to ``inner_tol``, gradient steps with backtracking on the value function.
* ``hoag``: Pedregosa (ICML 2016): the same with tolerances ``eps_k = eps0 decay^k``.
* ``maid``: the adaptively inexact variant of HOAG (Salehi, Mukherjee, Roberts & Ehrhardt):
  accuracies certified a posteriori, tightened when a decrease cannot be certified.
* ``f2sa``: fully first order (Kwon, Kwon, Wright & Nowak, ICML 2023), penalty
  ``F + lam_k (G(x, y) - G(x, z))`` with growing ``lam_k``.
* ``penalty``: gradient descent on ``psi_lam(x) = min_y [F + lam G] - lam min_z G`` (Kwon et
  al., ICLR 2024).
* ``meha``: Moreau-envelope single-loop Hessian-free method (Liu et al., ICML 2024).
* ``lv-hba``: the same with a lower-level constraint ``Ax x + Ay y = b`` coupling the levels
  (``BilevelProblem(..., coupled=(Ax, Ay, b))``; Yao, Yu, Zeng & Zhang, ICLR 2024).
* ``bamm``: single-loop averaged method after sl-BAMM (Liu et al., ICML 2023) for merely
  convex lower levels.
* ``bo-rep``: normalized momentum, periodic lower-level updates (Hao, Gong & Liu, ICLR 2024).
* ``bsvrb``: multi-block problems, blockwise stochastic variance reduction (Hu, Qiu, Guo,
  Zhang & Yang, ICML 2023).

f2sa, penalty and bo-rep have minibatch versions (``batch_size=``, ``rng=``) on finite-sum
problems (``BilevelProblem(..., n_samples=(n_upper, n_lower))``).
"""
from __future__ import annotations

from . import implicit as _implicit_methods  # noqa: F401  (registers implicit, hoag, maid)
from . import penalty as _penalty_methods  # noqa: F401  (registers f2sa, penalty, meha, lv-hba, bamm, bo-rep)
from ._common import _gd_min  # noqa: F401  (the inner gradient descent; tests reach it here)
from .front import bilevel
from .hypergradient import bilevel_hypergradient
from .multiblock import MultiBlockBilevelProblem
from .problem import BilevelProblem

# Exported as numopt.<name> (lazily; numopt/__init__.py reads this tuple without importing the module).
__numopt_public__ = ('bilevel', 'bilevel_hypergradient', 'BilevelProblem', 'MultiBlockBilevelProblem')
__all__ = ["BilevelProblem", "MultiBlockBilevelProblem", "bilevel", "bilevel_hypergradient", "METHODS"]

METHODS = ("implicit", "hoag", "maid", "f2sa", "penalty", "meha", "bamm", "lv-hba", "bo-rep", "bsvrb")
