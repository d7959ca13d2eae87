"""Solver families, one module per family. Each module registers its methods in
``numopt._registry`` at import time."""
