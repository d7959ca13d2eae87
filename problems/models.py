"""Machine-learning models on a design matrix, as numopt problems.

``make_model(X, y, model, penalty, lam)`` returns a :class:`ModelProblem`: a
``numopt.Problem`` whose objective is ``numopt.LinearComposite(datafit, X)`` (the
``f(Ax)`` form: ``objective.A`` and ``objective.loss``), whose regularizer is a
``numopt.prox`` object, with ``x0 = 0`` and a :meth:`ModelProblem.duality_gap`
certificate for l1 / elastic-net penalties. scikit-learn's scaling:

* ``lasso``/``ls``: ``1/(2n) ||Xw - y||^2 + lam * penalty(w)``
* ``logreg``: ``1/n sum log(1 + exp(-y_i x_i^T w)) + lam * penalty(w)``
* ``svm``: squared hinge ``1/n sum max(0, 1 - y_i x_i^T w)^2``
* ``huber``: ``1/n sum huber_delta(x_i^T w - y_i)``
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

import numopt
from numopt import datafits as D
from numopt.prox import L1, ElasticNet, GroupLasso, SquaredL2

__all__ = ["ModelProblem", "make_model", "MODELS", "PENALTIES", "coordinate_lipschitz"]

MODELS = ("lasso", "ls", "ridge", "enet", "logreg", "svm", "huber", "multinomial")
PENALTIES = ("l1", "l2", "enet", "group", None)


@dataclass
class ModelProblem(numopt.Problem):
    """A datafit on ``X w`` plus a penalty; adds :meth:`duality_gap`."""

    def duality_gap(self, x):
        """``(gap, primal, dual)`` for l1 / elastic-net penalties (numopt.datafits.duality_gap)."""
        return D.duality_gap(self.objective.A, self.objective.loss, self.regularizer, x)

    @property
    def lambda_max(self):
        return D.lambda_max(self.objective.A, self.objective.loss)


def coordinate_lipschitz(X, datafit):
    """Per-coordinate Lipschitz constants ``smoothness * ||X_j||^2``."""
    if sp.issparse(X):
        sq = np.asarray(X.multiply(X).sum(axis=0)).ravel()
    else:
        sq = np.einsum("ij,ij->j", X, X)
    return datafit.smoothness * sq


def _datafit(model, y, delta=1.0):
    if model in ("lasso", "ls", "ridge", "enet"):
        return D.Quadratic(y)
    if model == "logreg":
        return D.Logistic(y)
    if model == "svm":
        return D.SquaredHinge(y)
    if model == "huber":
        return D.Huber(y, delta)
    if model == "multinomial":
        return D.Multinomial(y.astype(np.int64))
    raise ValueError(f"unknown `model` {model!r}; choose from {', '.join(MODELS)}")


def _penalty(penalty, lam, l1_ratio, groups):
    if penalty == "l1":
        return L1(lam)
    if penalty == "l2":
        return SquaredL2(lam)
    if penalty == "enet":
        return ElasticNet(lam, l1_ratio)
    if penalty == "group":
        return GroupLasso(lam, groups)
    if penalty is None:
        return None
    raise ValueError(f"unknown `penalty` {penalty!r}; choose from {PENALTIES}")


def make_model(X, y, model="lasso", penalty=None, lam=None, lam_ratio=None, l1_ratio=0.5,
               groups=1, delta=1.0, name=""):
    """Build a :class:`ModelProblem`. ``lam`` absolute, or ``lam_ratio`` times lambda_max
    (the smallest lam for which w = 0 is optimal with the l1 penalty)."""
    if X.shape[0] != np.shape(y)[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {np.shape(y)[0]} entries")
    if penalty is None:
        penalty = {"lasso": "l1", "ridge": "l2", "enet": "enet"}.get(model, "l1")
    df = _datafit(model, np.asarray(y, dtype=np.float64), delta)
    if lam is None and lam_ratio is None:
        lam_ratio = 0.1
    if lam is not None and lam_ratio is not None:
        raise ValueError("give either `lam` or `lam_ratio`, not both")
    if lam_ratio is not None:
        if lam_ratio <= 0:
            raise ValueError(f"`lam_ratio` must be > 0, got {lam_ratio}")
        if model == "multinomial":  # ||X^T grad F(0)||_max over the (p, K) gradient
            lam = lam_ratio * float(np.abs(X.T @ df.grad(np.zeros((X.shape[0], df.K)))).max())
        else:
            lam = lam_ratio * D.lambda_max(X, df)
    if lam < 0:
        raise ValueError(f"`lam` must be >= 0, got {lam}")
    reg = _penalty(penalty, float(lam), l1_ratio, groups)
    obj = numopt.LinearComposite(df, X)
    x0 = np.zeros((X.shape[1], df.K)) if model == "multinomial" else np.zeros(X.shape[1])
    return ModelProblem(objective=obj, x0=x0, regularizer=reg, name=name,
                        meta={"model": model, "penalty": penalty, "lam": float(lam),
                              "n_samples": X.shape[0], "n_features": X.shape[1]})
