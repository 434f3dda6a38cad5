"""Fast paths over text columns held as Arrow strings (pandas' ``str`` dtype).

Most cells of a real list are clean, so the costly part of a text rule is often only
finding the few cells it applies to. These helpers look at a column's Arrow buffers
directly (the offsets and the UTF-8 bytes, zero-copy in numpy): the first byte of
every cell costs ~1 ms per 100k cells, against ~4 ms for ``str.startswith``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["arrow_strings", "buffers", "first_byte_in"]


def arrow_strings(s: pd.Series) -> pa.Array | None:
    """The column as one Arrow (large) string array without nulls, or None if it is not one."""
    if not isinstance(s.dtype, pd.StringDtype) or s.dtype.storage != "pyarrow":
        return None
    arr = pa.array(s.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    return arr


def buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets relative to the first cell, the UTF-8 bytes) of a string array, zero-copy."""
    n = len(arr)
    odt = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=odt)[arr.offset : arr.offset + n + 1].astype(np.int64)
    buf = arr.buffers()[2]
    if not n or buf is None:
        return offsets - (offsets[0] if n else 0), np.empty(0, np.uint8)
    data = np.frombuffer(buf, dtype=np.uint8)[offsets[0] : offsets[-1]]
    return offsets - offsets[0], data


def first_byte_in(s: pd.Series, first: bytes) -> np.ndarray:
    """Bool mask: the cell is not empty and its first byte is one of ``first`` (ASCII)."""
    arr = arrow_strings(s)
    if arr is None:
        text = s.fillna("").astype("str")
        return text.str.startswith(tuple(chr(b) for b in first)).to_numpy(dtype=bool)
    rel, data = buffers(arr)
    start, end = rel[:-1], rel[1:]
    out = np.zeros(len(arr), dtype=bool)
    nonempty = end > start
    if nonempty.any():
        out[nonempty] = np.isin(data[start[nonempty]], np.frombuffer(first, dtype=np.uint8))
    return out
