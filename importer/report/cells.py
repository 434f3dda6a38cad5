"""Turning one chunk of input, outcomes and problems into report text, vectorised.

Every writer shares these rules so the three formats say the same thing:

* the report lists the chunk's rows in *input* order, whatever order the
  outcomes arrived in;
* ids render as whole numbers ("1234", never "1234.0"), missing values as "";
* a text cell that a spreadsheet would run as a formula is neutralised.

Formula injection (OWASP "CSV Injection"): a cell beginning with ``=``, ``+``,
``-``, ``@``, tab or carriage return can be executed by Excel or LibreOffice
when the report is opened, so it is prefixed with a single quote. This also
prefixes harmless values such as "-5" or "+1 216 555 0100"; that is the OWASP
recommendation (a whitelist of "safe" numbers is how the bypasses happen), and
:func:`importer.formulas.restore_neutralised` undoes it exactly when a fixed report is fed back
as input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from importer.outcomes import Status

__all__ = [
    "MISSING_OUTCOME_ERROR",
    "MISSING_OUTCOME_STATUS",
    "ReportChunk",
    "as_text",
    "prepare_chunk",
]

#: What a row without an outcome is reported as (a pipeline bug, but the report
#: must still line up with the input, and say so rather than leave a blank).
MISSING_OUTCOME_STATUS = Status.UNKNOWN
MISSING_OUTCOME_ERROR = (
    "no outcome was recorded for this row (an internal error); "
    "check the CRM for this record before importing the row again"
)


def _scalar_text(value: object) -> str:
    """One value as report text; only used for rare mixed float/str columns."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _float_text(values: pd.Series) -> pd.Series:
    present = values.notna()
    whole = present & (values % 1 == 0)
    out = pd.Series("", index=values.index, dtype="str")
    if whole.any():
        out[whole] = values[whole].astype("int64").astype("str")
    rest = present & ~whole
    if rest.any():
        out[rest] = values[rest].astype("str")
    return out


def as_text(values: pd.Series) -> pd.Series:
    """Render any outcome or input column as text: ints without ".0", missing as ""."""
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype):
        return values.fillna("") if values.hasnans else values
    if pd.api.types.is_bool_dtype(dtype):
        return values.astype("str").fillna("")
    if pd.api.types.is_integer_dtype(dtype):  # includes nullable Int64 with <NA>
        return values.astype("str").fillna("")
    if pd.api.types.is_float_dtype(dtype):  # ids from a column that also holds NaN
        return _float_text(values)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("string", "empty", "integer", "mixed-integer", "boolean"):
        # No floats: str() renders ints right; only the missing values need care.
        return values.fillna("").astype("str")
    if kind in ("floating", "mixed-integer-float"):
        return _float_text(pd.to_numeric(values, errors="coerce").astype("float64"))
    # Floats mixed with text (e.g. 1234.0 next to ""): rare, so a plain map is fine.
    return values.map(_scalar_text).astype("str")


@dataclass(frozen=True)
class ReportChunk:
    """One chunk ready to write: raw (not yet neutralised) text, in input order."""

    rows: np.ndarray  # int64 spreadsheet row numbers
    outcome_columns: list[str]
    outcomes: list[pd.Series]  # text, aligned with rows, one per outcome column
    headers: list[str]
    inputs: list[pd.Series]  # text, one per input column (headers may repeat)
    problems: pd.DataFrame  # only problems of these rows

    def __len__(self) -> int:
        return len(self.rows)


def prepare_chunk(
    inputs: pd.DataFrame,
    outcomes: pd.DataFrame,
    problems: pd.DataFrame,
    *,
    headers: list[str],
    outcome_columns: list[str],
) -> ReportChunk:
    """Align outcomes and problems with the input chunk and render everything as text.

    Raises ``ValueError`` when the caller breaks the writer's contract (wrong
    columns, duplicate rows): that is a bug in the pipeline, not a user error.
    """
    if list(inputs.columns) != list(headers):
        raise ValueError(f"report chunk columns {list(inputs.columns)!r} differ from the headers {headers!r}")
    missing = [c for c in outcome_columns if c not in outcomes.columns]
    if missing:
        raise ValueError(f"outcomes lack the report's outcome columns {missing!r}")
    if not outcomes.index.is_unique:
        raise ValueError("outcomes hold more than one outcome for the same row")

    index = inputs.index
    # reindex puts the outcomes in input order; positional access tolerates repeated names.
    aligned = outcomes.reindex(index)[outcome_columns]
    texts = [as_text(aligned.iloc[:, i]) for i in range(len(outcome_columns))]
    absent = ~index.isin(outcomes.index)
    if absent.any():
        for i, name in enumerate(outcome_columns):
            if name == "status":
                texts[i] = texts[i].where(~absent, MISSING_OUTCOME_STATUS)
            elif name == "error":
                texts[i] = texts[i].where(~absent, MISSING_OUTCOME_ERROR)

    in_chunk = problems[problems["row"].isin(index)] if len(problems) else problems
    return ReportChunk(
        rows=np.asarray(index, dtype="int64"),
        outcome_columns=list(outcome_columns),
        outcomes=texts,
        headers=list(headers),
        inputs=[as_text(inputs.iloc[:, i]) for i in range(inputs.shape[1])],
        problems=in_chunk,
    )
