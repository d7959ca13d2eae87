"""Optimal-transport instances: marginals ``a``, ``b`` and a cost matrix ``C``.

* ``point_clouds``: two random point clouds (uniform weights or random weights),
  squared-Euclidean cost;
* ``histograms_1d``: discretized Gaussian-mixture densities on [0, 1], cost |x-y|^p;
* ``histograms_2d``: discretized 2-D densities on a k x k grid, squared-Euclidean cost;
* ``images``: two of scikit-learn's bundled 8x8 digit images as histograms;
* ``random_assignment``: uniform marginals, costs uniform in [0, 1] (the SNS paper's setting).

Each instance has ``exact_cost()`` / ``exact_plan()`` by linear programming
(scipy's HiGHS) for small sizes: the reference entropic solvers approach as reg -> 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._lookup import check_bool, check_int, check_real, check_seed, lookup

__all__ = ["OTInstance", "point_clouds", "histograms_1d", "histograms_2d", "images",
           "random_assignment", "get", "list_problems", "exact_ot", "w2_1d"]


def exact_ot(a, b, C):
    """Solve the transport LP min <P, C> s.t. P 1 = a, P^T 1 = b, P >= 0 (HiGHS).

    Returns ``(cost, plan)``."""
    import scipy.sparse as sp
    from scipy.optimize import linprog

    n, m = C.shape
    rows = sp.kron(sp.eye(n), np.ones((1, m)))
    cols = sp.kron(np.ones((1, n)), sp.eye(m))
    A = sp.vstack([rows, cols]).tocsr()
    res = linprog(C.ravel(), A_eq=A, b_eq=np.concatenate([a, b]), bounds=(0, None), method="highs")
    if res.status != 0:
        raise RuntimeError(f"LP solve failed: {res.message}")
    return float(res.fun), res.x.reshape(n, m)


def w2_1d(xs, a, ys, b):
    """Closed-form squared W2 between 1-D discrete measures via quantile functions."""
    ia, ib = np.argsort(xs), np.argsort(ys)
    xs, a, ys, b = xs[ia], a[ia], ys[ib], b[ib]
    ca, cb = np.cumsum(a), np.cumsum(b)
    qs = np.unique(np.concatenate([[0.0], ca, cb]))
    qs = qs[qs <= min(ca[-1], cb[-1]) + 1e-15]
    total = 0.0
    for lo, hi in zip(qs[:-1], qs[1:]):
        mid = 0.5 * (lo + hi)
        i = min(np.searchsorted(ca, mid), len(xs) - 1)
        j = min(np.searchsorted(cb, mid), len(ys) - 1)
        total += (hi - lo) * (xs[i] - ys[j]) ** 2
    return total


@dataclass
class OTInstance:
    a: np.ndarray
    b: np.ndarray
    C: np.ndarray
    name: str = ""
    meta: dict = field(default_factory=dict)

    def exact_cost(self):
        return self.exact()[0]

    def exact_plan(self):
        return self.exact()[1]

    def exact(self):
        if "exact" not in self.meta:
            if self.C.size > 250_000:
                raise ValueError("exact LP reference only for small instances (n * m <= 250000)")
            self.meta["exact"] = exact_ot(self.a, self.b, self.C)
        return self.meta["exact"]


def _sqdist(X, Y):
    d = (X ** 2).sum(1)[:, None] + (Y ** 2).sum(1)[None, :] - 2 * X @ Y.T
    return np.maximum(d, 0.0)


def point_clouds(n=100, m=None, dim=2, uniform=True, seed=0):
    """Two Gaussian point clouds in R^dim, squared-Euclidean cost.
    Integers ``n``, ``m``, ``dim`` >= 1."""
    n = check_int(n, "n", lower=1)
    m = n if m is None else check_int(m, "m", lower=1)
    dim = check_int(dim, "dim", lower=1)
    uniform = check_bool(uniform, "uniform")
    rng = np.random.default_rng(check_seed(seed))
    X = rng.standard_normal((n, dim))
    Y = rng.standard_normal((m, dim)) * 0.8 + 1.0
    if uniform:
        a, b = np.full(n, 1.0 / n), np.full(m, 1.0 / m)
    else:
        a, b = rng.uniform(0.5, 1.5, n), rng.uniform(0.5, 1.5, m)
        a, b = a / a.sum(), b / b.sum()
    return OTInstance(a, b, _sqdist(X, Y), "ot/point_clouds", {"X": X, "Y": Y})


def _mixture(t, centers, widths, weights):
    d = sum(w * np.exp(-0.5 * ((t - c) / s) ** 2) for c, s, w in zip(centers, widths, weights))
    return d / d.sum()


def histograms_1d(n=200, p=2, seed=0):
    """Gaussian-mixture densities on n grid points of [0, 1], cost |x - y|^p.
    ``n`` >= 1, ``p`` finite > 0."""
    n = check_int(n, "n", lower=1)
    p = check_real(p, "p", lower=0, lower_open=True)
    rng = np.random.default_rng(check_seed(seed))
    t = (np.arange(n) + 0.5) / n
    a = _mixture(t, rng.uniform(0.1, 0.5, 2), rng.uniform(0.03, 0.1, 2), rng.uniform(0.5, 1, 2))
    b = _mixture(t, rng.uniform(0.5, 0.9, 3), rng.uniform(0.03, 0.1, 3), rng.uniform(0.5, 1, 3))
    C = np.abs(t[:, None] - t[None, :]) ** p
    return OTInstance(a, b, C, "ot/histograms_1d", {"grid": t, "p": p})


def histograms_2d(k=20, seed=0):
    """Gaussian-mixture densities on a k x k grid of [0, 1]^2, squared-Euclidean cost.
    ``k`` >= 1."""
    k = check_int(k, "k", lower=1)
    rng = np.random.default_rng(check_seed(seed))
    g = (np.arange(k) + 0.5) / k
    G = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)

    def dens(centers):
        d = sum(np.exp(-((G - c) ** 2).sum(1) / (2 * 0.08 ** 2)) for c in centers)
        return d / d.sum()

    a = dens(rng.uniform(0.15, 0.5, (2, 2)))
    b = dens(rng.uniform(0.5, 0.85, (3, 2)))
    return OTInstance(a, b, _sqdist(G, G), "ot/histograms_2d", {"grid": G, "k": k})


def images(i=0, j=1, eps_mass=1e-3):
    """Two 8x8 digits from scikit-learn's bundled ``load_digits`` (no download)."""
    from sklearn.datasets import load_digits

    eps_mass = check_real(eps_mass, "eps_mass", lower=0, lower_open=True)  # > 0: a blank image has mass
    D = load_digits().images
    i = check_int(i, "i", lower=0, upper=len(D) - 1)
    j = check_int(j, "j", lower=0, upper=len(D) - 1)
    g = np.stack(np.meshgrid(np.arange(8), np.arange(8), indexing="ij"), -1).reshape(-1, 2) / 7.0

    def hist(img):
        h = img.ravel().astype(float) + eps_mass
        return h / h.sum()

    return OTInstance(hist(D[i]), hist(D[j]), _sqdist(g, g), "ot/images", {"digits": (i, j)})


def random_assignment(n=500, seed=0):
    """Uniform marginals and i.i.d. uniform [0, 1] costs (Tang et al. 2024's setting)."""
    n = check_int(n, "n", lower=1)
    rng = np.random.default_rng(check_seed(seed))
    return OTInstance(np.full(n, 1.0 / n), np.full(n, 1.0 / n), rng.uniform(size=(n, n)),
                      "ot/random_assignment")


_GEN = {"point_clouds": point_clouds, "histograms_1d": histograms_1d, "histograms_2d": histograms_2d,
        "images": images, "random_assignment": random_assignment}


def list_problems():
    return sorted(_GEN)


def get(name, **params):
    return lookup(_GEN, name, "OT instance")(**params)
