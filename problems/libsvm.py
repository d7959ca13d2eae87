"""LIBSVM datasets: a registry of the standard sets, a loader for svmlight files
(plain, .bz2, .xz, .gz) built on scikit-learn's parser, a search path for local copies,
and an explicit, checksum-verified download.

Nothing is downloaded unless :func:`download` is called.

Checks (no silent wrong data): :func:`load` refuses an empty or comment-only file,
NaN/inf values or labels, a feature index beyond ``n_features`` (or beyond
``max_features`` when the width is inferred), and a corrupt compressed file, each
with a ``ValueError`` naming the file (and the line where it can). A dataset loaded
by its registry name is checked against its known sha256 (of the stored file, or of
its decompressed content). :func:`download` saves nothing it cannot verify unless
``allow_unverified=True``, never saves an HTML page as data, and removes its partial
files when it fails.
"""
from __future__ import annotations

import bz2
import difflib
import gzip
import hashlib
import lzma
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .libsvm_chunked import load_chunked  # out-of-core reader (dask row chunks by byte ranges)

__all__ = ["DATASETS", "Dataset", "load", "load_chunked", "find", "download", "data_dirs", "preprocess",
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
    sha256_data: str | None = None  # of the decompressed svmlight text (= sha256 for plain files)


def _d(name, task, n, p, path, sha=None, test=None, file=None, data_sha=None):
    file = file or path.rsplit("/", 1)[-1]
    return Dataset(name, task, n, p, f"{BASE}/{path}", file, sha, test, data_sha or sha)


DATASETS = {d.name: d for d in [
    _d("a1a", "binary", 1605, 123, "binary/a1a",
       "eb54c45f1bdb51286f803dd092eb8202b44637a858fc6c4e533a2d64a0d94b4e", "a1a.t"),
    _d("a1a.t", "binary", 30956, 123, "binary/a1a.t",
       "55ce84b257bda80f4e1989b0f272d6eff92b22a6e8dc4440bdb01a1545bc2755",
       data_sha="0212d0c4a3996fe6fb6a0ab54033d9f4fa4b60369b6e3bb141821d9ffc40c04d"),
    _d("a8a", "binary", 22696, 123, "binary/a8a",
       "752bb54dec164cc693e4085215a2e4c73fbc372ba5fa640bf9fdd625b7ec2301", "a8a.t",
       data_sha="d08a37b3fadd4bd3c8b3fc30bdc93b54d7c0f371265c90cbfb931a7efe97cd28"),
    _d("a9a", "binary", 32561, 123, "binary/a9a",
       "c7a2952bcd0877f2c8a6c44b52b1e8086ffff5c4cb1ff9e4d700c97313f2d6a4", "a9a.t",
       data_sha="f5d5ffd8d865ff41328e7ee043e4b020816914ff6843ff15b98905ddbedce906"),
    _d("a9a.t", "binary", 16281, 123, "binary/a9a.t",
       "062c4d552cafaf641effeb9742e80775d9c5593245da70817ed5c22f3dd9e0bc",
       data_sha="1f448a153f0320399a7e40836eb207655b0bde0f21fc941cc472193daa9f5de9"),
    _d("w1a", "binary", 2477, 300, "binary/w1a",
       "0ae2b1c40f6a99061d1c6f4a1f3b50eea58a2f3b8bf851a337c25c2a65a49d32"),
    _d("w8a", "binary", 49749, 300, "binary/w8a",
       "290f6e8676b48fff31b557cbd09be4772120230198f0d0346f9fdf65e732cb30", "w8a.t",
       data_sha="6a9fa8fd5f524303240a5db07d4b3d4a51e8b7b4b20a914105d8e3e8c81640f2"),
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
       "dbe45cf344570a1b07d2bf5de26c534dee1de8f0bb76c3830875fe514a1451f0", "ijcnn1.t", file="ijcnn1",
       data_sha="16506cad788cf7c9607454150ed1994788204bac2ff4c9cb3b320036b6950d3f"),
    _d("ijcnn1.t", "binary", 91701, 22, "binary/ijcnn1.t.bz2",
       "d6de15ee1c568cd6f417c0d0633ef649e7313058c30477fc6b2908b1c8c1922e", file="ijcnn1.t",
       data_sha="e7b0bbd518641980dc322746c6bc59d019d3153934e6258e48f9d8cfae2c4bb8"),
    _d("madelon.t", "binary", 600, 500, "binary/madelon.t",
       "13af9eb25b7899e6ae40de217294494093cfebaaa2fca23a1bcf44ea27429f31",
       data_sha="ae60251b63a46c6ace348b77749e79e25d4098d629d1dead2852c3d4daf1f8ea"),
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


def _is_compressed(path):
    return str(path).endswith(_SUFFIXES[1:])


def _decompression_error(e, path):
    """True for the errors a corrupt or truncated .xz/.bz2/.gz stream raises."""
    if isinstance(e, (lzma.LZMAError, EOFError, gzip.BadGzipFile, zlib.error)):
        return True
    # bz2 reports a corrupt stream as a bare OSError("Invalid data stream"), without errno
    return isinstance(e, OSError) and e.errno is None and _is_compressed(path)


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


#: the widest file :func:`load` accepts when the width is inferred (no ``n_features``):
#: 2**25 columns (a dense vector of that length is 256 MiB). The widest LIBSVM sets
#: (kdd2010: 29,890,095) fit; an index beyond it is almost surely a corrupt file.
MAX_FEATURES = 2 ** 25


def _data_lines(src):
    """``(line number, tokens)`` of the sample lines (comments and blank lines skipped)."""
    with _open(src) as f:
        for lineno, raw in enumerate(f, 1):
            toks = raw.split(b"#", 1)[0].split()
            if toks:
                yield lineno, toks


def _line_of_index_over(src, cap):
    """First ``(line, index)`` with a feature index > cap, or None."""
    for lineno, toks in _data_lines(src):
        for t in toks[1:]:
            idx, sep, _ = t.partition(b":")
            if sep and idx != b"qid":
                try:
                    if int(idx) > cap:
                        return lineno, int(idx)
                except ValueError:
                    continue
    return None


def _line_of_sample(src, row):
    """Line number of sample ``row`` (0-based), or None."""
    for k, (lineno, _) in enumerate(_data_lines(src)):
        if k == row:
            return lineno
    return None


def _check_finite(X, y, src):
    """NaN/inf values or labels: ValueError naming the sample, feature and line."""
    bad_y = ~np.isfinite(y)
    if bad_y.any():
        row = int(np.flatnonzero(bad_y)[0])
        raise ValueError(f"{src}: line {_line_of_sample(src, row)}: the label of sample {row} is {float(y[row])}; "
                         "labels must be finite")
    bad = ~np.isfinite(X.data)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        row = int(np.searchsorted(X.indptr, k, side="right") - 1)
        raise ValueError(f"{src}: line {_line_of_sample(src, row)}: feature {int(X.indices[k]) + 1} of sample "
                         f"{row} is {float(X.data[k])}; values must be finite (or representable in {X.dtype})")


def _verify_dataset(src, info):
    """The file ``src`` of registry dataset ``info`` against its known sha256: of the
    file as stored (cheap), else of its decompressed content."""
    known = {h for h in (info.sha256, info.sha256_data) if h}
    if not known:
        return
    got = _sha256(src)
    if got in known:
        return
    if _is_compressed(src) and info.sha256_data:
        h = hashlib.sha256()
        with _open(src) as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        if h.hexdigest() == info.sha256_data:
            return
    raise ValueError(f"checksum mismatch for LIBSVM dataset {info.name!r} at {src}: its sha256 {got} matches "
                     f"none of the known ones ({', '.join(sorted(known))}); the file is not the registered "
                     "copy (a different version, or corrupt). Load it with verify=False to use it anyway.")


def _check_widths(n_features, max_features):
    """ValueError for an ``n_features`` / ``max_features`` that is not a positive integer."""
    if n_features is not None:
        if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)) or n_features < 1:
            raise ValueError(f"`n_features` must be a positive integer or None, got {n_features!r}")
    if isinstance(max_features, bool) or not isinstance(max_features, (int, np.integer)) or max_features < 1:
        raise ValueError(f"`max_features` must be a positive integer, got {max_features!r}")


def _source(name_or_path, data_dir):
    """``(file, registry entry or None, loaded by its registry name)`` of :func:`load`'s first
    argument: an existing file, else a registry name looked up in :func:`data_dirs`."""
    path = Path(name_or_path)
    if path.is_file():
        return path, DATASETS.get(path.name.split(".xz")[0].split(".bz2")[0].split(".gz")[0]), False
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
    return src, info, True


def _corrupt(e, src):
    """The ValueError for a decompression error ``e`` of ``src``; other errors are re-raised."""
    if not _decompression_error(e, src):
        raise e
    return ValueError(f"corrupt or truncated compressed file {src}: {e}")


def _index_error(src, cap, what, verb, tail=""):
    """ValueError naming the line of the first feature index of ``src`` beyond ``cap``."""
    hit = _line_of_index_over(src, cap)
    where = f"line {hit[0]}: feature index {hit[1]}" if hit else "a feature index"
    return ValueError(f"{src}: {where} {verb} {what}={cap}{tail}")


def _parse(src, n_features, cap, dtype):
    """scikit-learn's svmlight parser on ``src``, its errors turned into ValueErrors naming
    the file (and the line of a feature index beyond ``cap``)."""
    from sklearn.datasets import load_svmlight_file

    try:
        with _open(src) as f:
            return load_svmlight_file(f, n_features=n_features, zero_based=False, dtype=dtype)
    except OverflowError as e:  # an index beyond the parser's integer range
        raise _index_error(src, cap, "n_features" if n_features else "max_features", "is beyond",
                           " (and beyond the parser's integer range)") from e
    except ValueError as e:
        if n_features is not None and "n_features was set" in str(e):
            raise _index_error(src, cap, "n_features", "exceeds") from e
        raise ValueError(f"malformed LIBSVM file {src}: {e}") from e
    except (lzma.LZMAError, EOFError, OSError, zlib.error) as e:
        raise _corrupt(e, src) from e


def _check_parsed(X, y, src, info, n_features, cap):
    """No samples, an inferred width beyond ``cap``, NaN/inf, or a sample count other than
    the registry's: a ValueError naming the file."""
    if X.shape[0] == 0:
        raise ValueError(f"{src}: no samples (the file is empty or holds only comments and blank lines)")
    if n_features is None and X.shape[1] > cap:
        hit = _line_of_index_over(src, cap)
        where = f"line {hit[0]}: feature index {hit[1]}" if hit else f"a feature index ({X.shape[1]})"
        raise ValueError(f"{src}: {where} exceeds max_features={cap}; pass n_features (or a larger "
                         "max_features) if the file really is that wide")
    _check_finite(X, y, src)
    if info is not None and info.n_samples and X.shape[0] != info.n_samples:
        raise ValueError(f"{src}: expected {info.n_samples} samples for {info.name!r}, got {X.shape[0]}")


def load(name_or_path, data_dir=None, n_features=None, dtype=np.float64, max_features=MAX_FEATURES,
         verify=True):
    """Load a LIBSVM dataset by name (looked up in :func:`data_dirs`) or from a path.

    Returns ``(X, y)`` with ``X`` a ``scipy.sparse.csr_matrix`` and labels as stored.

    ``n_features``: the number of columns (default: the registry's for a known
    dataset, else inferred from the file); a feature index beyond it is an error
    naming the index and the line. When the width is inferred it may not exceed
    ``max_features`` (:data:`MAX_FEATURES`, 2**25). ``verify``: check a dataset
    loaded by its registry name against its known sha256 (skipped when none is known).

    Raises ``ValueError`` for an empty or comment-only file, NaN/inf values or labels
    (after conversion to ``dtype``), a malformed line, a corrupt compressed file, a
    checksum mismatch, or a sample count that differs from the registry's.
    """
    _check_widths(n_features, max_features)
    src, info, by_name = _source(name_or_path, data_dir)
    if n_features is None and info is not None:
        n_features = info.n_features
    if by_name and verify:
        try:
            _verify_dataset(src, info)
        except (lzma.LZMAError, EOFError, OSError, zlib.error) as e:
            raise _corrupt(e, src) from e
    cap = int(n_features) if n_features is not None else int(max_features)
    X, y = _parse(src, n_features, cap, dtype)
    _check_parsed(X, y, src, info, n_features, cap)
    return X, y


def _sha256(path, chunk=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _looks_like_html(head):
    """An HTML/XML page (an error or login page served with status 200): svmlight data
    starts with a label or a comment, never with '<'."""
    return head.lstrip()[:1] == b"<"


def _target(name, data_dir, url, sha256, allow_unverified):
    """Check :func:`download`'s arguments: ``(registry entry or None, url, expected sha256 or
    None, final path)``; the destination folder is created."""
    if name not in DATASETS and url is None:
        raise _unknown(name)
    if not isinstance(name, str) or not name or "/" in name or os.sep in name or name in (".", ".."):
        raise ValueError(f"`name` must be a plain file name, got {name!r}")
    info = DATASETS.get(name)
    url = url or info.url
    if sha256 is None and info is not None:
        sha256 = info.sha256_data
    if sha256 is not None and (not isinstance(sha256, str) or len(sha256) != 64
                               or any(c not in "0123456789abcdef" for c in sha256.lower())):
        raise ValueError(f"`sha256` must be a 64-digit hex string, got {sha256!r}")
    if sha256 is None and not allow_unverified:
        raise ValueError(f"no known sha256 for {name!r}: pass sha256=... to verify the download, or "
                         "allow_unverified=True to save it without verification")
    sha256 = sha256.lower() if sha256 is not None else None
    dest_dir = Path(data_dir) if data_dir is not None else data_dirs()[-2]
    dest_dir.mkdir(parents=True, exist_ok=True)
    return info, url, sha256, dest_dir / (info.file if info is not None else name)


def _copy_stream(resp, raw, start, url, bar):
    """Append (``start`` > 0) or write the response body to ``raw``; a body that starts like
    an HTML page is a ValueError."""
    with open(raw, "ab" if start else "wb") as out:
        first = start == 0
        for block in iter(lambda: resp.read(1 << 16), b""):
            if first and block.strip():
                if _looks_like_html(block):
                    raise ValueError(f"{url} served an HTML page, not data; nothing was saved")
                first = False
            out.write(block)
            if bar is not None:
                bar.update(len(block))


def _fetch(name, url, raw, progress, timeout, keep_partial):
    """Download ``url`` into ``raw`` (resuming a partial ``raw`` with an HTTP Range request);
    an incomplete transfer is an :class:`_Incomplete`."""
    import urllib.request

    start = raw.stat().st_size if raw.exists() else 0
    req = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        ctype = (resp.headers.get("Content-Type") or "").lower()
        if "html" in ctype:
            raise ValueError(f"{url} answered with an HTML page (Content-Type {ctype!r}), not data; "
                             "nothing was saved")
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
        try:
            _copy_stream(resp, raw, start, url, bar)
        finally:
            if bar is not None:
                bar.close()
    if total is not None and raw.stat().st_size != total:
        raise _Incomplete(f"download of {name} incomplete: {raw.stat().st_size} of {total} bytes"
                          + (" (call download again to resume)" if keep_partial else
                             "; the partial file was removed (keep_partial=True lets a retry resume)"))


def _unpack(raw, part, name, url, suffix):
    """Decompress ``raw`` into ``part`` (when the download is compressed) and refuse an HTML page."""
    import shutil

    if raw != part:
        try:
            with _open(raw) as src, open(part, "wb") as dst:
                shutil.copyfileobj(src, dst)
        except (lzma.LZMAError, EOFError, OSError, zlib.error) as e:
            if not _decompression_error(e, raw):
                raise
            raise ValueError(f"the download of {name} from {url} is not a valid {suffix} archive: {e}; "
                             "nothing was saved") from e
        raw.unlink()
    with open(part, "rb") as f:
        if _looks_like_html(f.read(4096)):
            raise ValueError(f"the download of {name} from {url} is an HTML page, not data; nothing was saved")


def download(name, data_dir=None, url=None, sha256=None, progress=True, timeout=60, allow_unverified=False,
             keep_partial=False):
    """Download dataset ``name`` into ``data_dir`` (default: the per-user cache).

    Shows a tqdm progress bar, decompresses ``.bz2``/``.xz``/``.gz`` downloads,
    verifies the sha256 of the saved (decompressed) file and moves it into place
    atomically: nothing partial is ever left under the final name.

    ``sha256``: the expected sha256 of the saved file (default: the registry's, of
    the decompressed content). When none is known the download is refused unless
    ``allow_unverified=True`` (an explicit opt-out). A response served as HTML (an
    error or login page) is never saved as data. On any failure the ``.part`` files
    are removed, except that ``keep_partial=True`` keeps the partial download of an
    interrupted transfer so that the next call resumes it (HTTP Range). Only call
    this when you mean to download.
    """
    info, url, sha256, final = _target(name, data_dir, url, sha256, allow_unverified)
    part = final.with_name(final.name + ".part")
    suffix = next((sfx for sfx in _SUFFIXES[1:] if url.endswith(sfx)), "")
    raw = part.with_name(part.name + suffix)

    def cleanup():
        for q in {raw, part}:
            q.unlink(missing_ok=True)

    try:
        _fetch(name, url, raw, progress, timeout, keep_partial)
    except (ValueError, _Incomplete) as e:
        if isinstance(e, ValueError) or not keep_partial:
            cleanup()
        raise OSError(str(e)) if isinstance(e, _Incomplete) else e
    except BaseException:  # network error, interrupt, ...: a resumable partial only on request
        if not keep_partial:
            cleanup()
        raise
    try:
        _unpack(raw, part, name, url, suffix)
        return _verify_and_commit(part, final, sha256)
    except BaseException:
        cleanup()
        raise


class _Incomplete(Exception):
    pass


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
    (columns to unit standard deviation). For dense ``X``, ``"std"`` also centers the
    columns. For sparse ``X`` it does not center (scikit-learn's
    ``StandardScaler(with_mean=False)``): subtracting the column means would make
    every entry nonzero, so the matrix stays sparse (same pattern, CSR) and only its
    columns are divided by their standard deviations (two-pass, computed with sparse
    operations). The standard deviation is that of the full column, zeros included;
    constant columns are left unscaled.
    """
    import scipy.sparse as sp

    from .models import _design

    X = _design(X)  # 2-D, real, finite (a ValueError naming `X`; sparse stays sparse)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"`y` must be a vector with one label per row of X ({X.shape[0]}), got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("`y` must be finite (it contains NaN or inf)")
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
        m = np.asarray(abs(X).max(axis=0).toarray() if sp.issparse(X) else np.abs(X).max(axis=0)).ravel()
        m[m == 0] = 1.0
        X = X @ sp.diags(1.0 / m) if sp.issparse(X) else X / m
    elif scale == "std":
        if sp.issparse(X):
            X = sp.csr_matrix(X)
            n, p = X.shape
            mean = np.asarray(X.sum(axis=0), dtype=np.float64).ravel() / n
            Xc = X.tocsc()
            nnz = np.diff(Xc.indptr)
            dev = Xc.data - mean[np.repeat(np.arange(p), nnz)]  # stored entries (explicit zeros included)
            var = (np.bincount(np.repeat(np.arange(p), nnz), weights=dev * dev, minlength=p)
                   + (n - nnz) * mean ** 2) / n  # + the implicit zeros, each (0 - mean)^2
            sd = np.sqrt(var)
            sd[sd == 0] = 1.0
            X = (X @ sp.diags(1.0 / sd)).tocsr()
        else:
            Xd = np.asarray(X)
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
    from ._lookup import check_real, check_seed

    info = DATASETS.get(name)
    if info is None:
        raise _unknown(name)
    test_size = check_real(test_size, "test_size", lower=0, upper=1, lower_open=True, upper_open=True)
    seed = check_seed(seed)
    X, y = load(name, data_dir)
    if info.test is not None and find(info.test, data_dir) is not None:
        Xt, yt = load(info.test, data_dir)
        return X, y, Xt, yt
    rng = np.random.default_rng(seed)
    perm = rng.permutation(X.shape[0])
    k = int(round(X.shape[0] * (1 - test_size)))
    return X[perm[:k]], y[perm[:k]], X[perm[k:]], y[perm[k:]]
