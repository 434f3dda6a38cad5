"""The result every normaliser returns (:class:`Normalized`: values plus position-keyed warning and error
notes) and the vectorised helpers the normalisers share (notes, unique-value application, Arrow kernels).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from importer.arrowtext import arrow_strings, buffers

__all__ = ["Normalized", "full_match"]


@dataclass(frozen=True)
class Normalized:
    """A normalised column and its notes.

    ``warnings`` and ``errors`` have columns ``pos`` (int position in the
    column), ``code`` and ``message``; at most one note of each per position.
    """

    values: pd.Series
    warnings: pd.DataFrame
    errors: pd.DataFrame


def make_notes(pos: np.ndarray, code: str | pd.Series, message: pd.Series) -> pd.DataFrame:
    """A notes frame; ``code`` and ``message`` are aligned with ``pos`` (a scalar code is
    stored as a one-category Categorical: cheap however many rows it covers)."""
    pos = np.asarray(pos, dtype=np.int64)
    msg = message.reset_index(drop=True).astype("str")
    if isinstance(code, str):
        one = pd.Index([code])
        codes: pd.Categorical[str] | pd.Series = pd.Categorical.from_codes(np.zeros(len(pos), np.int8), one)
    else:
        codes = code.reset_index(drop=True).astype("category")
    return pd.DataFrame({"pos": pos, "code": codes, "message": msg}, copy=False)


@functools.cache
def _empty_notes() -> pd.DataFrame:
    return make_notes(np.empty(0, np.int64), "", as_text([]))


def no_notes() -> pd.DataFrame:
    # A copy of a cached empty frame: cheaper than building one, and most cells need no note.
    return _empty_notes().copy()


def cat_notes(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return no_notes()
    if len(frames) == 1:
        return frames[0]
    out = pd.concat(frames, ignore_index=True)
    out["code"] = out["code"].astype("category")
    return out


def as_text(values: np.ndarray | pd.Series | list[str], index: pd.Index | None = None) -> pd.Series:
    return pd.Series(values, index=index, dtype="str")


def take_at(x: pd.Series, idx: np.ndarray, index: pd.Index | None = None) -> pd.Series:
    """``x`` at positions ``idx`` via Arrow's take (no round trip through Python objects)."""
    return pd.Series(x.array.take(idx), index=index, dtype=x.dtype)


def put_where(base: pd.Series, mask: np.ndarray, new: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``base`` with the cells under ``mask`` replaced by ``new(those cells)``.

    ``new`` runs on the selected cells only. Setting by position costs ~0.6 µs a cell;
    for many cells, scatter with one Arrow take and a whole-column ``where`` instead."""
    k = int(mask.sum())
    if k == 0:
        return base
    result = new(base[mask])
    if k <= len(base) // 8:
        out = base.copy()
        out.iloc[np.flatnonzero(mask)] = result.to_numpy(dtype=object)
        return out
    rank = np.maximum(np.cumsum(mask) - 1, 0)
    spread = pd.Series(result.array.take(rank), index=base.index)
    return base.where(~mask, spread).astype("str")


@dataclass
class FixOut:
    """A normaliser's result on the unique values: values, and notes as
    (mask over the uniques, code, message per unique)."""

    values: pd.Series
    warn: list[tuple[np.ndarray, str, pd.Series]]
    err: list[tuple[np.ndarray, str, pd.Series]]


def expand_to(codes: np.ndarray, notes: list[tuple[np.ndarray, str, pd.Series]]) -> pd.DataFrame:
    """Notes on unique values -> notes on the rows holding them."""
    frames = []
    for mask, code, msg in notes:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            continue
        pos = np.flatnonzero(mask[codes])
        frames.append(make_notes(pos, code, take_at(msg.reset_index(drop=True), codes[pos])))
    return cat_notes(frames)


def apply_fix(s: pd.Series, core: Callable[[pd.Series], FixOut]) -> Normalized:
    """Run ``core`` on the unique values of ``s`` and map the result back to the rows."""
    codes, uniques = pd.factorize(s, sort=False)
    u = as_text(np.asarray(uniques, dtype=object))
    out = core(u)
    changed = (out.values != u).to_numpy(dtype=bool)
    values = take_at(out.values, codes, s.index) if changed.any() else s
    return Normalized(values, expand_to(codes, out.warn), expand_to(codes, out.err))


def quoted_value(v: pd.Series) -> pd.Series:
    return "'" + v + "'"


def digits_only(s: pd.Series) -> pd.Series:
    """Only the ASCII digits of every cell, built straight from the Arrow bytes (~4x a regex)."""
    arr = arrow_strings(s)
    if arr is None:
        return s.str.replace(r"[^0-9]", "", regex=True)
    rel, data = buffers(arr)
    keep = np.flatnonzero((data >= 0x30) & (data <= 0x39))
    new_offsets = np.searchsorted(keep, rel).astype(np.int64)  # digits before each cell start
    out = pa.LargeStringArray.from_buffers(len(arr), pa.py_buffer(new_offsets), pa.py_buffer(data[keep].tobytes()))
    return pd.Series(pd.array(out, dtype="str"), index=s.index)


def full_match(s: pd.Series, pattern: str) -> np.ndarray:
    """Bool mask: the whole cell matches ``pattern``. Calls Arrow's RE2 kernel directly:
    pandas falls back to Python's re for some patterns (measured 8x slower on EMAIL_PATTERN)."""
    body = pattern.removeprefix("^").removesuffix("$")
    arr = arrow_strings(s)
    if arr is None:
        return s.str.fullmatch(body).to_numpy(dtype=bool)
    return pc.match_substring_regex(arr, f"^(?:{body})$").to_numpy(zero_copy_only=False)


def has_any(s: pd.Series, pattern: str) -> np.ndarray:
    """Bool mask: ``pattern`` occurs in the cell (Arrow's RE2 kernel, as :func:`_full`)."""
    arr = arrow_strings(s)
    if arr is None:
        return s.str.contains(pattern, regex=True).to_numpy(dtype=bool)
    return pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False)
