"""LIBSVM datasets: a registry of the standard sets, a loader for svmlight files
(plain, .bz2, .xz, .gz) built on scikit-learn's parser, a search path for local copies,
and an explicit, resumable, checksum-verified download.

Nothing is downloaded unless :func:`download` is called.
"""
from __future__ import annotations

import bz2
import difflib
import gzip
import hashlib
import lzma
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["DATASETS", "Dataset", "load", "find", "download", "data_dirs", "preprocess",
           "train_test"]

BASE = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets"


@dataclass(frozen=True)
class Dataset:
    name: str
    task: str  # binary | regression | multiclass
    n_samples: int
    n_features: int
    url: str
    file: str
    sha256: str | None = None  # of the file as distributed by the shared data folder
    test: str | None = None  # name of the test split


def _d(name, task, n, p, path, sha=None, test=None, file=None):
    file = file or path.rsplit("/", 1)[-1]
    return Dataset(name, task, n, p, f"{BASE}/{path}", file, sha, test)


DATASETS = {d.name: d for d in [
    _d("a1a", "binary", 1605, 123, "binary/a1a",
       "eb54c45f1bdb51286f803dd092eb8202b44637a858fc6c4e533a2d64a0d94b4e", "a1a.t"),
    _d("a1a.t", "binary", 30956, 123, "binary/a1a.t",
       "55ce84b257bda80f4e1989b0f272d6eff92b22a6e8dc4440bdb01a1545bc2755"),
    _d("a8a", "binary", 22696, 123, "binary/a8a",
       "752bb54dec164cc693e4085215a2e4c73fbc372ba5fa640bf9fdd625b7ec2301", "a8a.t"),
    _d("a9a", "binary", 32561, 123, "binary/a9a",
       "c7a2952bcd0877f2c8a6c44b52b1e8086ffff5c4cb1ff9e4d700c97313f2d6a4", "a9a.t"),
    _d("a9a.t", "binary", 16281, 123, "binary/a9a.t",
       "062c4d552cafaf641effeb9742e80775d9c5593245da70817ed5c22f3dd9e0bc"),
    _d("w1a", "binary", 2477, 300, "binary/w1a",
       "0ae2b1c40f6a99061d1c6f4a1f3b50eea58a2f3b8bf851a337c25c2a65a49d32"),
    _d("w8a", "binary", 49749, 300, "binary/w8a",
       "290f6e8676b48fff31b557cbd09be4772120230198f0d0346f9fdf65e732cb30", "w8a.t"),
    _d("w8a.t", "binary", 14951, 300, "binary/w8a.t",
       "618929ecb01bebb841daec4cae4aa07b97832d29b08652452775598929547fde"),
    _d("australian_scale", "binary", 690, 14, "binary/australian_scale",
       "86799bcc4dbcd41929a514fa181d1c1a40e01f009dee139d4141a194d7ecd9e3"),
    _d("heart_scale", "binary", 270, 13, "binary/heart_scale",
       "5defa0a4c4c5bdaf3f55ae3828310252e8565c13ee37ce279e0b86d82e7f4ce9"),
    _d("breast-cancer_scale", "binary", 683, 10, "binary/breast-cancer_scale",
       "3c90cd8f884810a0ff2eaf2cc7aabf09073f33c2dfcf113d826a13ca60b257ad"),
    _d("diabetes_scale", "binary", 768, 8, "binary/diabetes_scale",
       "0c07eb4c49e7a8ffb9c9f25095ac3022df2ca85b0dcb7d294c3ddea69f392cba"),
    _d("german.numer_scale", "binary", 1000, 24, "binary/german.numer_scale",
       "e461161650598fda2988f2a4c3b592634bbcae1c0eec382c94ceda5f30d4dab4"),
    _d("mushrooms", "binary", 8124, 112, "binary/mushrooms",
       "f39a4eb628dc61a7d43760815b061c9e497aa728ce1ad8bde57a09ef6043b538"),
    _d("ijcnn1", "binary", 49990, 22, "binary/ijcnn1.bz2",
       "dbe45cf344570a1b07d2bf5de26c534dee1de8f0bb76c3830875fe514a1451f0", "ijcnn1.t", file="ijcnn1"),
    _d("ijcnn1.t", "binary", 91701, 22, "binary/ijcnn1.t.bz2",
       "d6de15ee1c568cd6f417c0d0633ef649e7313058c30477fc6b2908b1c8c1922e", file="ijcnn1.t"),
    _d("madelon.t", "binary", 600, 500, "binary/madelon.t",
       "13af9eb25b7899e6ae40de217294494093cfebaaa2fca23a1bcf44ea27429f31"),
    _d("housing_scale", "regression", 506, 13, "regression/housing_scale",
       "bbacd2f526a038499717d5dc4b8895e6baf1e2351895b9360a84bcb31e104476"),
    _d("abalone_scale", "regression", 4177, 8, "regression/abalone_scale",
       "7f1f6ca7f636e684949fc3f6388fc4f7503083717f776876bbdd11098fc5378b"),
    _d("dna.scale", "multiclass", 2000, 180, "multiclass/dna.scale",
       "03d39477c5e48415e9cd18e006efc8f7a3b5c3deaee8289a72511c35070e3cfe"),
    _d("covtype.binary", "binary", 581012, 54, "binary/covtype.libsvm.binary.bz2", file="covtype.binary"),
    _d("real-sim", "binary", 72309, 20958, "binary/real-sim.bz2", file="real-sim"),
    _d("rcv1.binary", "binary", 20242, 47236, "binary/rcv1_train.binary.bz2", file="rcv1.binary"),
    _d("news20.binary", "binary", 19996, 1355191, "binary/news20.binary.bz2", file="news20.binary"),
    _d("phishing", "binary", 11055, 68, "binary/phishing"),
    _d("cadata", "regression", 20640, 8, "regression/cadata"),
    _d("YearPredictionMSD", "regression", 463715, 90, "regression/YearPredictionMSD.bz2",
       file="YearPredictionMSD"),
]}

_SUFFIXES = ("", ".xz", ".bz2", ".gz")


def data_dirs(data_dir=None):
    """Where :func:`load` looks, in order: ``data_dir``, ``$NUMOPT_DATA``, the per-user
    cache (``$XDG_CACHE_HOME/numopt/libsvm`` or ``~/.cache/numopt/libsvm``), and the
    project's shared data folder (``../shared/data/libsvm`` beside the repository)."""
    dirs = []
    if data_dir is not None:
        dirs.append(Path(data_dir))
    if os.environ.get("NUMOPT_DATA"):
        dirs.append(Path(os.environ["NUMOPT_DATA"]))
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "numopt" / "libsvm"
    dirs.append(cache)
    dirs.append(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "libsvm")
    return dirs


def _open(path):
    path = str(path)
    if path.endswith(".xz"):
        return lzma.open(path, "rb")
    if path.endswith(".bz2"):
        return bz2.open(path, "rb")
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def find(name, data_dir=None):
    """Path of a local copy of dataset ``name`` (any supported compression) or None."""
    info = DATASETS.get(name)
    stems = [name] + ([info.file] if info is not None and info.file != name else [])
    for d in data_dirs(data_dir):
        for stem in stems:
            for suf in _SUFFIXES:
                p = d / (stem + suf)
                if p.is_file():
                    return p
    return None


def _unknown(name):
    close = difflib.get_close_matches(name, DATASETS, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    return ValueError(f"unknown LIBSVM dataset {name!r}.{hint} Known: {', '.join(sorted(DATASETS))}; "
                      "or pass a file path")


def load(name_or_path, data_dir=None, n_features=None, dtype=np.float64):
    """Load a LIBSVM dataset by name (looked up in :func:`data_dirs`) or from a path.

    Returns ``(X, y)`` with ``X`` a ``scipy.sparse.csr_matrix`` and labels as stored.
    """
    from sklearn.datasets import load_svmlight_file

    path = Path(name_or_path)
    info = None
    if path.is_file():
        src = path
        info = DATASETS.get(path.name.split(".xz")[0].split(".bz2")[0].split(".gz")[0])
    else:
        if str(name_or_path) not in DATASETS:
            if os.sep in str(name_or_path) or path.suffix in _SUFFIXES[1:]:
                raise FileNotFoundError(f"no LIBSVM file at {path}")
            raise _unknown(str(name_or_path))
        info = DATASETS[str(name_or_path)]
        src = find(info.name, data_dir)
        if src is None:
            where = ", ".join(str(d) for d in data_dirs(data_dir))
            raise FileNotFoundError(
                f"LIBSVM dataset {info.name!r} not found (looked in: {where}). Download it "
                f"explicitly with problems.libsvm.download({info.name!r}) or put {info.file!r} "
                "in one of those folders (or set NUMOPT_DATA).")
    if n_features is None and info is not None:
        n_features = info.n_features
    try:
        with _open(src) as f:
            X, y = load_svmlight_file(f, n_features=n_features, zero_based=False, dtype=dtype)
    except ValueError as e:
        raise ValueError(f"malformed LIBSVM file {src}: {e}") from e
    if info is not None and info.n_samples and X.shape[0] != info.n_samples:
        raise ValueError(f"{src}: expected {info.n_samples} samples for {info.name!r}, got {X.shape[0]}")
    return X, y


def _sha256(path, chunk=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def download(name, data_dir=None, url=None, sha256=None, progress=True, timeout=60):
    """Download dataset ``name`` into ``data_dir`` (default: the per-user cache).

    Resumes a partial ``.part`` file with an HTTP Range request, shows a tqdm progress
    bar, decompresses ``.bz2`` archives, verifies the sha256 of the final file when it
    is known, and moves it into place atomically: nothing partial is ever left under
    the final name. Only call this when you mean to download.
    """
    import shutil
    import urllib.request

    if name not in DATASETS and url is None:
        raise _unknown(name)
    info = DATASETS.get(name)
    url = url or info.url
    sha256 = sha256 if sha256 is not None else (info.sha256 if info is not None else None)
    dest_dir = Path(data_dir) if data_dir is not None else data_dirs()[-2]
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / (info.file if info is not None else name)
    part = final.with_name(final.name + ".part")
    raw = part.with_name(part.name + (".bz2" if url.endswith(".bz2") else ""))
    start = raw.stat().st_size if raw.exists() else 0
    req = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        if start and getattr(resp, "status", 206) != 206:
            start = 0  # server ignored the range: start over
        length = getattr(resp, "length", None)
        if length is None and resp.headers.get("Content-Length"):
            length = int(resp.headers["Content-Length"])
        total = length + start if length is not None else None
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=total, initial=start, unit="B", unit_scale=True, desc=name)
        with open(raw, "ab" if start else "wb") as out:
            for block in iter(lambda: resp.read(1 << 16), b""):
                out.write(block)
                if bar is not None:
                    bar.update(len(block))
        if bar is not None:
            bar.close()
    if total is not None and raw.stat().st_size != total:
        raise OSError(f"download of {name} incomplete: {raw.stat().st_size} of {total} bytes "
                      f"(call download again to resume)")
    if raw != part:
        with bz2.open(raw, "rb") as src, open(part, "wb") as dst:
            shutil.copyfileobj(src, dst)
        raw.unlink()
    return _verify_and_commit(part, final, sha256)


def _verify_and_commit(part, final, sha256):
    if sha256 is not None:
        got = _sha256(part)
        if got != sha256:
            part.unlink()
            raise ValueError(f"checksum mismatch for {final.name}: expected {sha256}, got {got}; "
                             "the partial file was removed")
    os.replace(part, final)
    return final


def preprocess(X, y, task="binary", scale=None, intercept=False):
    """Map labels and optionally scale columns / add an intercept column.

    ``task="binary"``: labels to {-1, +1} (the larger label becomes +1);
    ``"multiclass"``: labels to 0..K-1; ``"regression"``: unchanged.
    ``scale``: None, ``"maxabs"`` (columns to [-1, 1], keeps sparsity) or ``"std"``
    (dense standardization).
    """
    import scipy.sparse as sp

    y = np.asarray(y, dtype=np.float64)
    if task == "binary":
        labels = np.unique(y)
        if labels.size != 2:
            raise ValueError(f"binary task needs exactly 2 labels, got {labels.size}: {labels[:5]}")
        y = np.where(y == labels[1], 1.0, -1.0)
    elif task == "multiclass":
        _, y = np.unique(y, return_inverse=True)
        y = y.astype(np.int64)
    elif task != "regression":
        raise ValueError(f"`task` must be 'binary', 'multiclass' or 'regression', got {task!r}")
    if scale == "maxabs":
        m = np.asarray(abs(X).max(axis=0).todense() if sp.issparse(X) else np.abs(X).max(axis=0)).ravel()
        m[m == 0] = 1.0
        X = X @ sp.diags(1.0 / m) if sp.issparse(X) else X / m
    elif scale == "std":
        Xd = X.toarray() if sp.issparse(X) else np.asarray(X)
        sd = Xd.std(axis=0)
        sd[sd == 0] = 1.0
        X = (Xd - Xd.mean(axis=0)) / sd
    elif scale is not None:
        raise ValueError(f"`scale` must be None, 'maxabs' or 'std', got {scale!r}")
    if intercept:
        ones = np.ones((X.shape[0], 1))
        X = sp.hstack([X, sp.csr_matrix(ones)]).tocsr() if sp.issparse(X) else np.hstack([X, ones])
    return X, y


def train_test(name, data_dir=None, test_size=0.25, seed=0):
    """``(X_train, y_train, X_test, y_test)``: the official test split when the dataset
    has one, else a seeded random split."""
    info = DATASETS.get(name)
    if info is None:
        raise _unknown(name)
    X, y = load(name, data_dir)
    if info.test is not None and find(info.test, data_dir) is not None:
        Xt, yt = load(info.test, data_dir)
        return X, y, Xt, yt
    rng = np.random.default_rng(seed)
    perm = rng.permutation(X.shape[0])
    k = int(round(X.shape[0] * (1 - test_size)))
    return X[perm[:k]], y[perm[:k]], X[perm[k:]], y[perm[k:]]
