import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/benchopt/_solvers.py

from numopt.datafits import Logistic  # noqa: E402
from _solvers import NumoptFista  # noqa: E402


class Solver(NumoptFista):
    datafit = Logistic
