"""Records changed since an earlier run: what the report says about them.

A re-run row whose record an earlier run created (the same identity: importer.plans.identity) but
with other values is ``changed``: nothing is sent (the API cannot update a record), and the report
says which fields differ, old -> new, so a person can edit the record in Realeflow. The note goes
into the row's ``warnings``; one ``record.changed`` warning per field marks the cell (XLSX) and
lists the change in the JSON report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pandas as pd

from importer.ledger import Change
from importer.problems import WARNING, concat_problems, empty_problems, make_problems

__all__ = ["CHANGED_CODE", "changed_note", "changed_problems", "changes_by_row", "field_label"]

CHANGED_CODE = "record.changed"
_EDIT = "edit it in Realeflow, the API cannot update records"
#: What follows a record.changed warning's "field old → new" (see changed_problems).
_WHEN_WHAT = re.compile(r" \((?:since run \d+|since an earlier run); " + re.escape(_EDIT) + r"\)$")


def field_label(field: str, columns: Mapping[str, str]) -> str:
    """How a field is named in a note: its API name, a custom field by its column ("'Equity'")."""
    if field.startswith("customfield_") and field in columns:
        return f"'{columns[field]}'"
    return field


def _value(text: str) -> str:
    return text if text else "(empty)"


def changed_note(
    since_run: int | None, ident: int | None, changes: Sequence[Change], columns: Mapping[str, str]
) -> str:
    """The row's warning: "changed since run 3 (id 1113001): phone 2165550147 → 2165550199; edit it ..."."""
    when = f"since run {since_run}" if since_run is not None else "since an earlier run"
    which = f"id {ident}" if ident is not None else "id unknown: the API gave none"
    diffs = ", ".join(f"{field_label(c.field, columns)} {_value(c.old)} → {_value(c.new)}" for c in changes)
    return f"changed {when} ({which}): {diffs or 'values differ'}; {_EDIT}"


def changed_problems(
    found: Sequence[tuple[int, str, int | None, Sequence[Change]]],
    columns: Mapping[str, Mapping[str, str]],
    frame: pd.DataFrame,
) -> pd.DataFrame:
    """One ``record.changed`` warning per changed field of each (row, part, since run, changes).

    ``columns``: per part label ("" for a row's one record), field -> the input column it comes
    from (the cell the XLSX report marks); the value is the cell as the file has it, so the report
    does not read it as normalised.
    """
    if not found:
        return empty_problems()
    frames = []
    for row, part, since_run, changes in found:
        part_columns = columns.get(part, {})
        when = f"since run {since_run}" if since_run is not None else "since an earlier run"
        for c in changes:
            column = part_columns.get(c.field, "")
            value = c.new
            if column and list(frame.columns).count(column) == 1:
                cell: object = frame.at[row, column]
                value = "" if cell is None or cell is pd.NA or cell != cell else str(cell)
            message = f"{field_label(c.field, part_columns)} {_value(c.old)} → {_value(c.new)} ({when}; {_EDIT})"
            frames.append(
                make_problems(
                    [row], code=CHANGED_CODE, message=message, field=c.field, column=column, value=value,
                    part=part, severity=WARNING,
                )
            )
    return concat_problems(frames)


def changes_by_row(changed: pd.DataFrame) -> pd.Series:
    """What changed, concisely, per row: "phone: 2165550147 → 2165550199; Owner 1 email: a@x.com → b@x.com".

    ``changed``: record.changed warnings as :func:`changed_problems` makes them (a run's are
    among ``ImportResult.problems``); each one's field and part are its own columns, its old → new the
    start of its message (which this module writes), without the run it differs from and what to do.
    """
    if changed.empty:
        return pd.Series(dtype="string")
    labels = [field_label(f, {f: c}) for f, c in zip(changed["field"].astype(str), changed["column"].fillna(""),
                                                     strict=True)]
    texts = changed["message"].astype(str).str.replace(_WHEN_WHAT, "", regex=True)
    parts = changed["part"].fillna("").astype(str)
    lines = [
        f"{part} " * bool(part) + (f"{label}: {text[len(label) + 1:]}" if text.startswith(f"{label} ") else text)
        for part, label, text in zip(parts, labels, texts, strict=True)
    ]
    by_row = pd.Series(lines, index=changed["row"].astype("int64").to_numpy(), dtype="str")
    return by_row.groupby(level=0, sort=False).agg("; ".join)
