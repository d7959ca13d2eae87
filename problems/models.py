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

from ._lookup import check_real

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
        if not np.all((y == 1) | (y == -1)):
            raise ValueError("`y` must contain labels in {-1, +1} for the squared hinge loss (model='svm')")
        return D.SquaredHinge(y)
    if model == "huber":
        return D.Huber(y, check_real(delta, "delta", lower=0, lower_open=True))
    if model == "multinomial":
        if y.size and (np.any(y < 0) or np.any(y != np.round(y))):
            raise ValueError("`y` must contain integer class labels 0, ..., K-1 for model='multinomial'")
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


def check_params(lam=None, lam_ratio=None, delta=1.0):
    """The numeric parameters of :func:`make_model`, checked before any data is read:
    ``lam`` finite >= 0, ``lam_ratio`` finite > 0 (not both), ``delta`` finite > 0."""
    if lam is not None and lam_ratio is not None:
        raise ValueError("give either `lam` or `lam_ratio`, not both")
    if lam is not None:
        check_real(lam, "lam", lower=0)
    if lam_ratio is not None:
        check_real(lam_ratio, "lam_ratio", lower=0, lower_open=True)
    check_real(delta, "delta", lower=0, lower_open=True)


def _design(X):
    """``X``: a 2-D real array or scipy.sparse matrix with finite entries (only the stored
    entries of a sparse matrix are read: it stays sparse)."""
    if sp.issparse(X):
        data = X.data if X.format in ("csr", "csc", "coo", "bsr", "dia") else X.tocoo().data
    else:
        if not hasattr(X, "shape"):
            try:
                X = np.asarray(X, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(f"`X` must be a 2-D array or a scipy.sparse matrix, got {type(X).__name__}") \
                    from None
        data = X
    if len(X.shape) != 2 or min(X.shape) < 1:
        raise ValueError(f"`X` must be 2-D (samples x features) with at least one of each, got shape {tuple(X.shape)}")
    if isinstance(data, np.ndarray):
        if not (np.issubdtype(data.dtype, np.number) or data.dtype == bool) or np.iscomplexobj(data):
            raise TypeError(f"`X` must hold real numbers, got dtype {data.dtype}")
        if data.size and not np.isfinite(data).all():
            raise ValueError("`X` must be finite (it contains NaN or inf)")
    return X


def _labels(y, n):
    try:
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"`y` must be an array of real numbers, got {type(y).__name__}") from None
    if y.ndim != 1:
        raise ValueError(f"`y` must be 1-D, got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"X has {n} rows but y has {y.shape[0]} entries (`X` and `y` must have as many rows)")
    if not np.isfinite(y).all():
        raise ValueError("`y` must be finite (it contains NaN or inf)")
    return y


def make_model(X, y, model="lasso", penalty=None, lam=None, lam_ratio=None, l1_ratio=0.5,
               groups=1, delta=1.0, name=""):
    """Build a :class:`ModelProblem`. ``lam`` absolute (finite, >= 0), or ``lam_ratio``
    (finite, > 0) times lambda_max (the smallest lam for which w = 0 is optimal with the
    l1 penalty). ``X`` (dense or scipy.sparse, 2-D) and ``y`` (1-D, one entry per row)
    must be finite: a ``ValueError`` names the one that is not."""
    check_params(lam, lam_ratio, delta)
    X = _design(X)
    y = _labels(y, X.shape[0])
    if penalty is None:
        penalty = {"lasso": "l1", "ridge": "l2", "enet": "enet"}.get(model, "l1")
    df = _datafit(model, y, delta)
    if lam is None and lam_ratio is None:
        lam_ratio = 0.1
    if lam_ratio is not None:
        if model == "multinomial":  # ||X^T grad F(0)||_max over the (p, K) gradient
            lam = lam_ratio * float(np.abs(X.T @ df.grad(np.zeros((X.shape[0], df.K)))).max())
        else:
            lam = lam_ratio * D.lambda_max(X, df)
        if not np.isfinite(lam):  # X and y are finite: only an overflow gets here
            raise ValueError(f"`lam_ratio` * lambda_max is not finite ({lam}): rescale `X` or `y`")
    reg = _penalty(penalty, float(lam), l1_ratio, groups)
    obj = numopt.LinearComposite(df, X)
    x0 = np.zeros((X.shape[1], df.K)) if model == "multinomial" else np.zeros(X.shape[1])
    return ModelProblem(objective=obj, x0=x0, regularizer=reg, name=name,
                        meta={"model": model, "penalty": penalty, "lam": float(lam),
                              "n_samples": X.shape[0], "n_features": X.shape[1]})
