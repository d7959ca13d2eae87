"""Quasi-Newton, nonlinear conjugate gradient and trust-region Newton-CG methods (in progress)."""
