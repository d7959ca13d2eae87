"""numopt's problem library: LIBSVM models, CUTEst-style programs, optimal-transport
instances and synthetic generators, shared by tests, benchmarks, docs and users.

    problems.get("libsvm/a9a", model="logreg", penalty="l1", lam_ratio=0.01)
    problems.get("cutest/HS28")
    problems.get("ot/point_clouds", n=200, seed=0)
    problems.get("synthetic/quadratic", n=100, cond=1e4)
    problems.list_problems(prefix="cutest")
"""
from __future__ import annotations

import difflib
import importlib

__all__ = ["get", "list_problems", "FAMILIES"]

# prefix -> submodule; each has get(name, **params) and list_problems()
FAMILIES = {
    "libsvm": "problems._libsvm_family",
    "cutest": "problems.cutest",
    "ot": "problems.ot",
    "synthetic": "problems.synthetic",
    "constrained": "problems.constrained",
    "bilevel": "problems.bilevel",
}


def __getattr__(name):
    if name in ("libsvm", "models", "synthetic", "cutest", "ot", "constrained", "bilevel"):
        return importlib.import_module(f"problems.{name}")
    raise AttributeError(f"module 'problems' has no attribute {name!r}")


def _family(prefix):
    try:
        return importlib.import_module(FAMILIES[prefix])
    except ModuleNotFoundError as e:
        if e.name == FAMILIES[prefix]:
            return None
        raise


def list_problems(prefix=None):
    """All problem names (``"family/name"``), optionally only those starting with ``prefix``."""
    names = []
    for fam in FAMILIES:
        if prefix is not None and not (fam.startswith(prefix.split("/")[0]) or prefix.startswith(fam)):
            continue
        mod = _family(fam)
        if mod is not None:
            names += [f"{fam}/{n}" for n in mod.list_problems()]
    if prefix is not None:
        names = [n for n in names if n.startswith(prefix)]
    return names


def get(name, **params):
    """The problem ``name`` (``"family/instance"``) built with ``params``. Each family
    checks its numeric parameters (finite, sign, integer where a count) before building,
    with a ``ValueError``/``TypeError`` naming the parameter; an unknown parameter is a
    ``TypeError`` naming it."""
    if not isinstance(name, str) or "/" not in name:
        raise ValueError(f"problem names look like 'family/name' (families: {', '.join(FAMILIES)}), got {name!r}")
    fam, rest = name.split("/", 1)
    mod = _family(fam) if fam in FAMILIES else None
    if mod is None:
        close = difflib.get_close_matches(fam, FAMILIES, n=2)
        raise ValueError(f"unknown problem family {fam!r}"
                         + (f"; did you mean {close[0]!r}?" if close else "")
                         + f" Families: {', '.join(FAMILIES)}")
    return mod.get(rest, **params)
