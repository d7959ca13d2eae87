"""SOR with the relaxation parameter learned across a sequence of linear systems
(moved to :mod:`numopt.solvers.sor` and :mod:`numopt.solvers.relax`; this module keeps
the old import path). ``numopt.solve_linear(A, b, "sor", omega=...)`` is the front door
of the SOR method."""
from .solvers.relax import TsallisINF, sor_bandit, tsallis_inf_weights
from .solvers.sor import (diffusion_sequence, laplacian_2d, poisson_optimal_omega,
                          shifted_laplacian_sequence, sor_solve)

__all__ = [
    "sor_solve", "TsallisINF", "sor_bandit", "laplacian_2d", "shifted_laplacian_sequence",
    "diffusion_sequence", "poisson_optimal_omega", "tsallis_inf_weights",
]
