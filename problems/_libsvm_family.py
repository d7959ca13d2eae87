"""``problems.get("libsvm/NAME", model=..., penalty=..., lam=..., data_dir=...)``."""
from __future__ import annotations

from . import libsvm
from .models import make_model


def list_problems():
    return sorted(libsvm.DATASETS)


def get(name, model=None, data_dir=None, scale=None, intercept=False, **params):
    if name not in libsvm.DATASETS:
        raise libsvm._unknown(name)
    info = libsvm.DATASETS[name]
    X, y = libsvm.load(name, data_dir=data_dir)
    task = info.task
    if model is None:
        model = "lasso" if task == "regression" else "logreg"
    if task == "multiclass" and model != "lasso":
        raise ValueError(f"{name} is a multiclass dataset; binary models need two labels")
    X, y = libsvm.preprocess(X, y, task="regression" if task == "multiclass" else task, scale=scale,
                             intercept=intercept)
    X = X.tocsc() if hasattr(X, "tocsc") else X
    return make_model(X, y, model=model, name=f"libsvm/{name}", **params)
