"""Out-of-core LIBSVM: a (plain, uncompressed) svmlight file read into row chunks by byte
ranges, as dask arrays, so a file larger than memory is never held whole.

The file is cut into byte ranges of ``chunk_bytes``; a chunk owns the lines whose first
byte lies in its range: its task seeks to the start, skips to the next line start (the
line running over the start belongs to the previous chunk), and parses the lines that
start before its end with scikit-learn's parser (``load_svmlight_file`` on the bytes).
A first, cheap pass counts each range's data lines (and, without ``n_features``, finds the
largest feature index), so the chunk sizes are known and every chunk gets the same
``n_features``. Memory per task: one range of bytes and its parsed rows.

``load_chunked(path)`` returns ``(X, y)``: ``X`` a dask array of ``scipy.sparse.csr_matrix``
row chunks (``dense=True``: numpy chunks), ``y`` a dask array of labels chunked like ``X``'s
rows, ready for ``numopt.LinearComposite(datafit(y), X)``.
"""
from __future__ import annotations

import io
import os
import re

import numpy as np

__all__ = ["load_chunked", "byte_ranges"]

_INDEX = re.compile(rb"[ \t](\d+):")
_BLANK = re.compile(rb"(^|\n)[ \t]*\n")


def byte_ranges(size, chunk_bytes):
    """``[(start, end), ...]`` covering ``[0, size)`` in pieces of ``chunk_bytes``."""
    if size == 0:
        return [(0, 0)]
    return [(s, min(s + chunk_bytes, size)) for s in range(0, size, chunk_bytes)]


def _owned_bytes(path, start, end):
    """The bytes of the lines whose first byte lies in ``[start, end)``."""
    with open(path, "rb") as f:
        if start > 0:
            f.seek(start - 1)
            f.readline()  # the rest of the line running over `start` (just "\n" if one starts there)
        first = f.tell()
        if first >= end:
            return b""
        data = f.read(end - first)
        if not data.endswith(b"\n"):
            data += f.readline()  # finish the last owned line
    return data


def _is_data_line(line):
    s = line.strip()
    return bool(s) and not s.startswith(b"#")


def _scan(path, start, end, want_width):
    """(number of data lines, largest feature index or -1) of one range."""
    data = _owned_bytes(path, start, end)
    if b"#" in data or b"\r" in data or _BLANK.search(data):  # comments or blank lines: count exactly
        rows = sum(1 for line in data.split(b"\n") if _is_data_line(line))
    else:
        rows = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    return rows, (_max_index(data) if want_width and data else -1)


def _max_index(data):
    """The largest feature index in ``data``. LIBSVM lists a line's indices in increasing
    order (the parser refuses others), so it is the largest of the indices before each
    line's last ':', read with numpy; with comments (which may hold ':') a regex over all."""
    if b"#" in data:
        idx = _INDEX.findall(re.sub(rb"#[^\n]*", b"", data))
        return max(map(int, idx)) if idx else -1
    buf = np.frombuffer(data, dtype=np.uint8)
    colons = np.flatnonzero(buf == ord(":"))
    if colons.size == 0:
        return -1
    ends = np.append(np.flatnonzero(buf == ord("\n")), buf.size)
    last = np.unique(np.searchsorted(colons, ends) - 1)
    c = colons[last[last >= 0]]
    val, mult, alive = np.zeros(c.size, np.int64), np.ones(c.size, np.int64), np.ones(c.size, bool)
    for d in range(1, 19):  # the digits before the colon, right to left (a "qid:" reads as 0)
        pos = c - d
        ch = buf[np.maximum(pos, 0)].astype(np.int64)
        alive &= (pos >= 0) & (ch >= 48) & (ch <= 57)
        if not alive.any():
            break
        val += np.where(alive, (ch - 48) * mult, 0)
        mult *= 10
    return int(val.max())


def _parse(path, start, end, n_features, zero_based, dtype, dense, rows):
    import scipy.sparse as sp
    from sklearn.datasets import load_svmlight_file

    data = _owned_bytes(path, start, end)
    if rows == 0:
        X = sp.csr_matrix((0, n_features), dtype=dtype)
        y = np.zeros(0)
    else:
        X, y = load_svmlight_file(io.BytesIO(data), n_features=n_features, zero_based=zero_based, dtype=dtype)
        if X.shape[0] != rows:
            raise ValueError(f"{path}: bytes {start}-{end}: parsed {X.shape[0]} rows, the scan counted {rows}")
    return (X.toarray() if dense else X), y


def load_chunked(path, n_features=None, *, chunk_bytes=64 << 20, zero_based=False, dtype=np.float64,
                 dense=False):
    """Read the svmlight file ``path`` into row chunks of about ``chunk_bytes`` bytes each.

    Returns ``(X, y)``: dask arrays with known chunk sizes, ``X`` of shape
    ``(n_samples, n_features)`` with ``scipy.sparse.csr_matrix`` chunks (numpy chunks with
    ``dense=True``), ``y`` (float64) chunked like ``X``'s rows. Nothing is parsed until they
    are computed or persisted; each task parses its own byte range.

    ``n_features``: the width (default: the largest feature index, found by a scan of the
    file that keeps one range in memory at a time). ``zero_based``: feature indices start at
    0 (default False: LIBSVM's 1-based indices, as :func:`problems.libsvm.load` reads them).
    Compressed files cannot be cut by byte ranges: decompress them first.
    """
    import dask
    import dask.array as da
    import scipy.sparse as sp

    path = os.fspath(path)
    if str(path).endswith((".bz2", ".xz", ".gz")):
        raise ValueError(f"`path` {path!r} is compressed; byte ranges need a plain svmlight file "
                         "(decompress it first)")
    if not os.path.isfile(path):
        raise ValueError(f"`path` {path!r} is not a file")
    if isinstance(chunk_bytes, bool) or not isinstance(chunk_bytes, (int, np.integer)) or chunk_bytes < 1:
        raise ValueError(f"`chunk_bytes` must be a positive integer, got {chunk_bytes!r}")
    if n_features is not None and (isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer))
                                   or n_features < 1):
        raise ValueError(f"`n_features` must be a positive integer or None, got {n_features!r}")
    if not isinstance(zero_based, bool):
        raise TypeError(f"`zero_based` must be True or False, got {zero_based!r}")
    ranges = byte_ranges(os.path.getsize(path), int(chunk_bytes))
    scans = dask.compute(*[dask.delayed(_scan)(path, s, e, n_features is None) for s, e in ranges])
    rows = [r for r, _ in scans]
    if sum(rows) == 0:
        raise ValueError(f"{path}: no samples (the file is empty or holds only comments and blank lines)")
    if n_features is None:
        top = max(w for _, w in scans)
        n_features = top + 1 if zero_based else max(top, 1)
    meta = np.empty((0, 0), dtype=dtype) if dense else sp.csr_matrix((0, 0), dtype=dtype)
    Xs, ys = [], []
    for (s, e), r in zip(ranges, rows):
        if r == 0:
            continue
        part = dask.delayed(_parse, nout=2)(path, s, e, int(n_features), zero_based, dtype, dense, r)
        Xs.append(da.from_delayed(part[0], shape=(r, int(n_features)), dtype=dtype, meta=meta))
        ys.append(da.from_delayed(part[1], shape=(r,), dtype=np.float64, meta=np.empty(0)))
    return da.concatenate(Xs, axis=0), da.concatenate(ys)
