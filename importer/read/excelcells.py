"""Excel cells as text, column by column: what calamine gives (str, float, int, bool, dates, times) as a
person sees it in the sheet, without a Python loop over the cells of a column that is all text.

Whole numbers come without ".0" or an exponent; dates as ISO dates; a number cell formatted as a
percentage (found by :mod:`importer.read.numfmt`) as Excel shows it.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd
import pyarrow as pa

from importer.read.numfmt import format_percent

__all__ = ["as_percent", "cells_to_text"]

_EXCEL_EPOCH_MAX_INT = 2**53  # beyond this a float64 no longer holds every whole number


def cells_to_text(cells: np.ndarray) -> tuple[list[pa.Array], list[np.ndarray]]:
    """Convert a 2-D object array of calamine values to text columns (Arrow) and a numeric mask."""
    texts, masks = [], []
    for j in range(cells.shape[1]):
        col = cells[:, j]
        try:
            # Fast path for an all-text column (most are): Arrow takes Python strs much faster
            # than pandas' string constructor, and a number anywhere makes it refuse.
            text = pa.array(col, type=pa.large_string())
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            pass
        else:
            texts.append(text.fill_null("") if text.null_count else text)
            masks.append(np.zeros(len(col), dtype=bool))
            continue
        kinds = pd.Series(col).map(type)  # a Cython loop; then hash-based masks per type
        out = np.empty(len(col), dtype=object)
        is_str = kinds.isin([str]).to_numpy()
        out[is_str] = col[is_str]
        num = kinds.isin([float, int]).to_numpy()
        if num.any():
            out[num] = _numbers_to_text(col[num])
        for kind, fn in _OTHER_KINDS.items():
            m = kinds.isin([kind]).to_numpy()
            if m.any():
                out[m] = fn(col[m])
        rest = ~(is_str | num | kinds.isin(list(_OTHER_KINDS)).to_numpy())
        if rest.any():  # anything calamine may add later: its plain text
            out[rest] = [str(v) for v in col[rest]]
        texts.append(pa.array(out, type=pa.large_string()))
        masks.append(num)
    return texts, masks


def as_percent(
    text: pa.Array, values: np.ndarray, numeric: np.ndarray, at: np.ndarray, decimals: np.ndarray
) -> pa.Array:
    """``text`` with the number cells at positions ``at`` (those in range) written as percentages."""
    keep = (at >= 0) & (at < len(values))
    at, decimals = at[keep], decimals[keep]
    number = numeric[at]
    if not number.any():
        return text
    out = text.to_numpy(zero_copy_only=False).astype(object)
    out[at[number]] = format_percent(values[at[number]], decimals[number])
    return pa.array(out, type=pa.large_string())


def _numbers_to_text(values: np.ndarray) -> np.ndarray:
    """Whole numbers without ".0" or exponent; other floats as their shortest round-trip repr."""
    v = values.astype(np.float64)
    out = np.empty(len(v), dtype=object)
    whole = np.isfinite(v) & (v == np.floor(v))
    exact = whole & (np.abs(v) < _EXCEL_EPOCH_MAX_INT)
    out[exact] = v[exact].astype(np.int64).astype(str)
    big = whole & ~exact
    if big.any():
        out[big] = [str(int(x)) for x in v[big]]
    frac = ~whole
    if frac.any():
        out[frac] = [repr(float(x)) for x in v[frac]]
    return out


def _datetimes_to_text(values: np.ndarray) -> np.ndarray:
    stamps = np.array(values, dtype="datetime64[s]")
    days = stamps.astype("datetime64[D]")
    with_time = stamps != days
    out = np.datetime_as_string(days, unit="D").astype(object)
    out[with_time] = np.datetime_as_string(stamps[with_time], unit="s")
    return out


def _dates_to_text(values: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(np.array(values, dtype="datetime64[D]"), unit="D").astype(object)


def _bools_to_text(values: np.ndarray) -> np.ndarray:
    return np.where(values.astype(bool), "TRUE", "FALSE").astype(object)


def _times_to_text(values: np.ndarray) -> np.ndarray:
    return np.array([v.isoformat() for v in values], dtype=object)


def _durations_to_text(values: np.ndarray) -> np.ndarray:
    return np.array([str(v) for v in values], dtype=object)


_OTHER_KINDS = {
    bool: _bools_to_text,
    _dt.datetime: _datetimes_to_text,
    _dt.date: _dates_to_text,
    _dt.time: _times_to_text,
    _dt.timedelta: _durations_to_text,
}
