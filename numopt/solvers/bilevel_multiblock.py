"""Old home of the multi-block bilevel problem and BSVRB, now
:mod:`numopt.solvers.bilevel.multiblock`; the names are re-exported here."""
from .bilevel.multiblock import BSVRB_DEFAULTS, MultiBlockBilevelProblem, bsvrb  # noqa: F401

__all__ = ["MultiBlockBilevelProblem", "BSVRB_DEFAULTS"]
