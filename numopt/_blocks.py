"""Block partitions of the variables: the one home of the ``blocks`` argument shared by
block coordinate descent (``numopt.bcd``) and the cyclic methods (``acoder``, ``vr-cd``)."""
from __future__ import annotations

import numpy as np

__all__ = ["partition"]


def partition(blocks, n):
    """The partition of ``range(n)`` that ``blocks`` describes, as a list of int64 index arrays.

    ``None``: single coordinates; an int ``k >= 1``: contiguous blocks of size ``k`` (the
    last one shorter); a list of index arrays: checked to partition the variables into
    nonempty blocks, each index exactly once. Anything else is a TypeError/ValueError
    naming ``blocks``.
    """
    if blocks is None:
        return [np.array([j], dtype=np.int64) for j in range(n)]
    if isinstance(blocks, (int, np.integer)) and not isinstance(blocks, bool):
        if blocks < 1:
            raise ValueError(f"`blocks` (a block size) must be >= 1, got {blocks}")
        return [np.arange(i, min(i + int(blocks), n), dtype=np.int64) for i in range(0, n, int(blocks))]
    if isinstance(blocks, (str, bytes)) or not hasattr(blocks, "__iter__"):
        raise TypeError(f"`blocks` must be None, an int block size or a list of index arrays, got {blocks!r}")
    out = []
    for b in blocks:
        arr = np.asarray(b)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise TypeError("`blocks` must contain integer index arrays")
        out.append(arr.astype(np.int64).ravel())
    flat = np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
    if any(b.size == 0 for b in out) or flat.size != n or not np.array_equal(np.sort(flat), np.arange(n)):
        raise ValueError(f"`blocks` must partition the {n} variables into nonempty blocks (each index exactly once)")
    return out
