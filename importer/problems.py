"""Row problems as data: one table, one row per problem, vectorised.

Every stage that finds something wrong with a row (a ragged CSV line, a bad
ZIP, a rejected create) adds rows to a *problems* frame instead of raising.
The report and the terminal summary read that frame. Building it with
column-wise operations keeps validation of a million rows free of per-row
Python loops.

Columns (all present in every problems frame, in this order):

    row       int  the spreadsheet row number as Excel shows it (header = 1)
    part      str  which record of the row ("" for the row's one record;
                   "Property", "Owner 2" for multi-record rows)
    field     str  the API field ("state", "customfield_4"), "" if none
    column    str  the spreadsheet column header, "" if none
    value     str  the offending (original) cell value
    code      str  a stable machine-readable kind, e.g. "state.invalid"
    message   str  what a person reads: "state 'XX' is not a US state code"
    severity  str  "error" (the row is not sent) or "warning" (sent, but changed)
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "ERROR",
    "PROBLEM_COLUMNS",
    "WARNING",
    "concat_problems",
    "empty_problems",
    "make_problems",
    "messages_by_row",
]

ERROR = "error"
WARNING = "warning"
PROBLEM_COLUMNS = ["row", "part", "field", "column", "value", "code", "message", "severity"]


@functools.cache
def _empty_template() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in PROBLEM_COLUMNS})
    frame["row"] = frame["row"].astype("int64")
    return frame


def empty_problems() -> pd.DataFrame:
    """A problems frame with no rows and the right columns and dtypes."""
    # A copy of a cached template: building one is slow next to copying it, and the validate
    # stage asks for dozens per chunk.
    return _empty_template().copy()


def make_problems(
    rows: Iterable[int] | pd.Index | pd.Series,
    *,
    code: str,
    message: str | pd.Series,
    field: str = "",
    column: str = "",
    value: str | pd.Series = "",
    part: str = "",
    severity: str = ERROR,
) -> pd.DataFrame:
    """Build problems for many rows at once.

    ``message`` and ``value`` may be a scalar or a Series aligned with ``rows``
    (same length and order), so callers build messages with vectorised string
    operations, e.g. ``"state '" + bad + "' is not a US state code"``.
    """
    row_values = pd.Index(rows).astype("int64")
    n = len(row_values)
    if n == 0:
        return empty_problems()

    positions = pd.RangeIndex(n)

    def col(v: str | pd.Series) -> pd.Series:
        # Broadcasting a scalar and re-indexing an Arrow-backed Series stay in Arrow memory:
        # building a Python list per column cost seconds on a million problems.
        if isinstance(v, pd.Series):
            return v.reset_index(drop=True).astype("string")
        return pd.Series(v, index=positions, dtype="string")

    return pd.DataFrame(
        {
            "row": row_values.to_numpy(),
            "part": col(part),
            "field": col(field),
            "column": col(column),
            "value": col(value),
            "code": col(code),
            "message": col(message),
            "severity": col(severity),
        },
        copy=False,  # the columns are fresh: no need to copy them again
    )


def concat_problems(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate problem frames, keeping the schema when all are empty."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_problems()
    return pd.concat(frames, ignore_index=True)[PROBLEM_COLUMNS]


def messages_by_row(problems: pd.DataFrame, severity: str = ERROR, sep: str = "; ") -> pd.Series:
    """Join each row's messages of one severity, in the order found, into one string.

    Messages of a named part are prefixed with it ("Owner 2: state 'XX' ...").
    """
    sel = problems.loc[(problems["severity"] == severity).to_numpy(dtype=bool), ["row", "part", "message"]]
    if sel.empty:
        return pd.Series(dtype="string", index=pd.Index([], dtype="int64", name="row"))
    named = (sel["part"] != "").to_numpy(dtype=bool)
    text = sel["message"].where(~named, sel["part"] + ": " + sel["message"]) if named.any() else sel["message"]
    # Arrow's list aggregation + binary_join: a pandas groupby(...).agg(sep.join) runs Python per
    # row, far slower on files with many problems. Arrow keeps each group's
    # values in input order (single-threaded) but not the groups' order: restore first appearance.
    table = pa.table(
        {
            "row": pa.array(sel["row"].to_numpy(dtype="int64")),
            "text": pa.array(text.array).cast(pa.large_string()),
            "pos": pa.array(np.arange(len(sel), dtype=np.int64)),
        }
    )
    grouped = table.group_by("row", use_threads=False).aggregate([("text", "list"), ("pos", "min")])
    order = np.argsort(grouped["pos_min"].to_numpy(), kind="stable")
    joined = pc.binary_join(grouped["text_list"], pa.scalar(sep, pa.large_string())).take(pa.array(order))
    index = pd.Index(grouped["row"].to_numpy()[order], dtype="int64", name="row")
    return pd.Series(pd.array(joined, dtype="string"), index=index)
