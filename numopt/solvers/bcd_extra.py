"""Former home of the BCD extras; the message-passing code lives in
:mod:`numopt.solvers.bcd.tree` and BCD-PR for NMF in :mod:`numopt.solvers.nmf`. This module
re-exports the tree names so that ``numopt.solvers.bcd_extra.TreeUpdate`` etc. keep working, and
``nmf_bcd_pr`` (the old documented path of :func:`numopt.solvers.nmf.nmf_bcd_pr`; not in
``__all__``)."""
from .bcd.tree import (QuadraticForm, TreeUpdate, _ForestFactor, _quadratic_tree_path, check_forest,  # noqa: F401
                       forest_partition, forest_solve, lattice_forest_blocks)
from .nmf import nmf_bcd_pr  # noqa: F401  (old spelling of the moved function)

__all__ = ["TreeUpdate", "QuadraticForm", "check_forest", "forest_partition", "forest_solve",
           "lattice_forest_blocks"]
