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

Every code the tool can give has a plain-language title in :data:`PROBLEM_KINDS` (row
problems in the report) or :data:`CHECK_KINDS` (``mapping check`` findings); the summary
and the reports show the title with the code ("E-mail address not valid (email.invalid)").
tests/test_problem_codes.py fails for a code that has none, and docs/problems.md lists them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "CHECK_KINDS",
    "ERROR",
    "INFO",
    "LEFT_OUT",
    "PROBLEM_COLUMNS",
    "PROBLEM_KINDS",
    "WARNING",
    "ProblemKind",
    "concat_problems",
    "empty_problems",
    "invalid_values",
    "labelled",
    "make_problems",
    "messages_by_row",
    "problem_title",
]

ERROR = "error"
WARNING = "warning"
#: The third level of a ``mapping check`` finding: worth knowing, nothing to fix.
INFO = "info"
PROBLEM_COLUMNS = ["row", "part", "field", "column", "value", "code", "message", "severity"]


@dataclass(frozen=True)
class ProblemKind:
    """What a problem code means, in words a person who never saw the code understands."""

    title: str
    severity: str  # ERROR or WARNING; for a mapping check finding its level, "" where it varies
    stage: str  # what finds it: "load", "map" (the mapping's transforms), "validate" or "check"


def _kinds(stage: str, severity: str, titles: dict[str, str]) -> dict[str, ProblemKind]:
    return {code: ProblemKind(title, severity, stage) for code, title in titles.items()}


# Codes built from a field name (f"{field}.required", f"{field}.normalized") are listed here
# one by one, for every field they are built for; tests/test_problem_codes.py checks that.

#: Row problems: every code a problems frame (and so a report) can hold.
PROBLEM_KINDS: dict[str, ProblemKind] = {
    **_kinds("load", ERROR, {"row.too_many_cells": "Row has more cells than the header"}),
    **_kinds(
        "load",
        WARNING,
        {
            "row.too_few_cells": "Row has fewer cells than the header",
            "row.cell_without_header": "Value in a column without a header was ignored",
            "row.not_utf8": "Row not in UTF-8, read as Windows text",
            "text.mojibake": "Text encoded twice before it reached the file",
        },
    ),
    **_kinds(
        "map",
        WARNING,
        {
            "row.skipped": "Row left out by a skip rule",
            "transform.flagged": "Value passed over because its flag column is set",
            "name.company": "Owner is a company, not a person",
            "name.split": "Name cell holds two people: one taken",
            "name.reordered": "Name reordered as First Last",
            "name.dropped": "Words like ETAL or TR left out of a name",
            "name.case": "Name changed from capitals to title case",
            "name.unreadable": "No name found in the name cell",
            "zip_state.unknown": "No state known for the ZIP code",
        },
    ),
    **_kinds(
        "validate",
        ERROR,
        {
            "fullname.required": "Full name missing",
            "address.required": "Address missing",
            "state.invalid": "State not a US state",
            "zipcode.invalid": "ZIP code not valid",
            "zipcode.leading_zeros": "ZIP code has fewer than 5 digits",
            "phone.invalid": "Phone number not valid",
            "phone.length": "Phone number has the wrong number of digits",
            "phone.letters": "Phone number contains letters",
            "phone.scientific": "Phone number in scientific notation, digits lost",
            "phonetype.invalid": "Phone type not Mobile, Work or Home",
            "type.invalid": "Contact type not Buyer or Seller",
            "email.invalid": "E-mail address not valid",
            "customfield.limit": "More than 28 custom fields",
        },
    ),
    **_kinds(
        "validate",
        WARNING,
        {
            "text.normalized": "Extra spaces or hidden characters removed",
            "state.normalized": "State changed to its two-letter code",
            "zipcode.normalized": "ZIP code repaired to five digits",
            "zipcode.padded": "ZIP code padded with leading zeros",
            "zipcode.unknown": "ZIP code not a known US ZIP code",
            "zipcode.state_mismatch": "ZIP code is in another state",
            "phone.normalized": "Phone number format repaired or extension dropped",
            "phonetype.normalized": "Phone type changed to Mobile, Work or Home",
            "type.normalized": "Contact type spelling or repeats tidied",
            "tags.normalized": "Repeated or blank tags removed",
            "email.normalized": "E-mail domain changed to lower case",
            "email.domain_typo": "E-mail domain looks like a typo of a common one",
        },
    ),
    # An invalid value of a field the mapping lets go (``on_invalid: omit-field``, the default for
    # optional contact fields): the record is sent without it. Built as f"{field}.left_out".
    **_kinds(
        "validate",
        WARNING,
        {
            "state.left_out": "State not valid, left out of the record",
            "zipcode.left_out": "ZIP code not valid, left out of the record",
            "phone.left_out": "Phone number not valid, left out of the record",
            "phonetype.left_out": "Phone type not valid, left out of the record",
            "type.left_out": "Contact type not valid, left out of the record",
            "email.left_out": "E-mail address not valid, left out of the record",
        },
    ),
    **_kinds(
        "push",
        WARNING,
        {"record.changed": "Record changed since an earlier run: edit it by hand"},
    ),
}

#: The suffix of the codes of invalid values left out of a record (``email.left_out``).
LEFT_OUT = ".left_out"


def invalid_values(problems: pd.DataFrame) -> pd.Series:
    """Bool per problem: an invalid value, whether it rejects its row (an error) or is left out of
    the record (``<field>.left_out``, a warning): what a skipped row drops, the XLSX report marks
    red and ``mapping check`` counts as failing."""
    return (problems["severity"] == ERROR) | problems["code"].str.endswith(LEFT_OUT)

#: ``mapping check`` findings (``importer.mapping.check.Finding.code``), with their level.
CHECK_KINDS: dict[str, ProblemKind] = {
    **_kinds(
        "check",
        ERROR,
        {
            "column.missing": "Column named in the mapping not in the file",
            "column.ambiguous": "Header named in the mapping is on several columns",
            "header.misplaced": "Mapping's columns in another row than the header read",
        },
    ),
    **_kinds(
        "check",
        WARNING,
        {
            "file.empty": "No data rows among the rows sampled",
            "field.failing": "Most sampled values of a field fail",
        },
    ),
    **_kinds(
        "check",
        INFO,
        {
            "file.read": "Which sheet, header row and header names were read",
            "column.unused": "Column not imported",
            "values.unchecked": "Values not checked until the missing columns are fixed",
            "mapping.other_fits": "Another preset fits the file, or none does",
            "row.skipped": "Rows left out by a skip rule",
            "record.absent": "Record on none of the sampled rows",
            "field.empty": "Field empty in every sampled row",
            "field.some_fail": "Some values of a field fail",
        },
    ),
    # A warning for the first record, or when the field is empty in every row; else a note.
    **_kinds("check", "", {"field.required_empty": "Required field often empty"}),
    # A warning when its field is left empty (or a flag, a skip rule lost); a note when the field
    # has another column (a first's other candidate).
    **_kinds("check", "", {"column.absent": "Column of an optional field not in the file"}),
}


def problem_title(code: str) -> str:
    """The plain-language title of ``code`` ("" for a code not in the catalogue)."""
    kind = PROBLEM_KINDS.get(code) or CHECK_KINDS.get(code)
    return kind.title if kind is not None else ""


def labelled(code: str, *notes: str) -> str:
    """``code`` as a person reads it: "E-mail address not valid (email.invalid)".

    ``notes`` go in the brackets after the code ("(zipcode.padded, warning)"); a code
    without a title is shown as itself ("x.y (warning)").
    """
    inside = ", ".join((code, *notes))
    title = problem_title(code)
    if not title:
        return f"{code} ({', '.join(notes)})" if notes else code
    return f"{title} ({inside})"


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
