"""Former home of the BCD extras; the message-passing code lives in
:mod:`numopt.solvers.bcd.tree` and BCD-PR for NMF in :mod:`numopt.solvers.nmf`. This module
re-exports the tree names so that ``numopt.solvers.bcd_extra.TreeUpdate`` etc. keep working."""
from .bcd.tree import (QuadraticForm, TreeUpdate, _ForestFactor, _quadratic_tree_path, check_forest,  # noqa: F401
                       forest_partition, forest_solve, lattice_forest_blocks)

__all__ = ["TreeUpdate", "QuadraticForm", "check_forest", "forest_partition", "forest_solve",
           "lattice_forest_blocks"]
