"""Convergence-rate tools: the bound a method states, in numbers, from constants the
problem knows; reference solutions; empirical rates from a trace; plots.

* :func:`theory` evaluates a registered method's stated bound on a problem (``L``,
  ``mu``, coordinate ``L_j``, diameters, ``kappa``, ``R = ||x0 - x*||``, ``F(x0) - F*`` computed
  from the oracles and from :func:`reference_solution`);
* :func:`reference_solution` gives ``(x*, F*)`` to high accuracy with a checked
  certificate (cached per problem; LIBSVM models from ``problems/references.json``);
* :func:`check_bound` tells whether a run stays below its bound at every iteration;
* :func:`fit_linear_rate` (``e_k ~ C q^k``), :func:`fit_sublinear_rate`
  (``e_k ~ C k^-p``) and :func:`fit_order` (``e_{k+1} ~ C e_k^p``) fit empirical rates;
* :func:`plot_convergence` draws ``F(x_k) - F*`` (or any trace column) against
  iterations, time or oracle calls, with labelled bounds (matplotlib).

See docs/rates.md.
"""
from ._check import BoundCheck, check_bound, plot_convergence
from ._fit import OrderFit, RateFit, fit_linear_rate, fit_order, fit_sublinear_rate, suboptimality
from ._reference import reference_info, reference_solution
from ._theory import Theory, theoretical_bound, theory

__all__ = ["theory", "Theory", "reference_solution", "reference_info", "check_bound", "BoundCheck",
           "fit_order", "OrderFit", "fit_linear_rate", "fit_sublinear_rate", "RateFit", "suboptimality",
           "theoretical_bound", "plot_convergence"]
