"""``problems.get("libsvm/NAME", model=..., penalty=..., lam=..., data_dir=...)``."""
from __future__ import annotations

from . import libsvm
from ._lookup import check_bool
from .models import check_params, make_model


def list_problems():
    return sorted(libsvm.DATASETS)


def get(name, model=None, data_dir=None, scale=None, intercept=False, **params):
    if name not in libsvm.DATASETS:
        raise libsvm._unknown(name)
    info = libsvm.DATASETS[name]
    # the numeric parameters are checked before a (possibly large) file is read
    check_params(**{k: params[k] for k in ("lam", "lam_ratio", "delta") if k in params})
    intercept = check_bool(intercept, "intercept")
    X, y = libsvm.load(name, data_dir=data_dir)
    task = info.task
    if model is None:
        model = "lasso" if task == "regression" else "logreg"
    if task == "multiclass" and model not in ("lasso", "multinomial"):
        raise ValueError(f"{name} is a multiclass dataset: use model='multinomial'")
    if model == "multinomial" and task != "multiclass":
        raise ValueError(f"{name} is a {task} dataset; model='multinomial' needs a multiclass one")
    ptask = "multiclass" if model == "multinomial" else ("regression" if task == "multiclass" else task)
    X, y = libsvm.preprocess(X, y, task=ptask, scale=scale, intercept=intercept)
    X = X.tocsc() if hasattr(X, "tocsc") else X
    prob = make_model(X, y, model=model, name=f"libsvm/{name}", **params)
    if scale is None and not intercept:
        ref = _reference(name, model, prob.meta["penalty"], params.get("lam_ratio"))
        if ref is not None:
            prob.f_star = ref["f_star"]
            prob.f_star_tol = max(ref["f_star_tol"], 1e-12)
            prob.source = f"f_star: {ref['solver']}, duality gap {ref['gap']:.1e} (problems/references.json)"
    return prob


def _reference(name, model, penalty, lam_ratio):
    import json
    from pathlib import Path

    if lam_ratio is None:
        return None
    for ref in json.loads((Path(__file__).with_name("references.json")).read_text()):
        if (ref["dataset"], ref["model"], ref["penalty"]) == (name, model, penalty) and \
                abs(ref["lam_ratio"] - lam_ratio) <= 1e-12:
            return ref
    return None
