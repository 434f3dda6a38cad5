"""The map stage: validated field frames to API payloads.

A payload uses the reference's lowercase JSON keys; list fields (type, tags)
are arrays; custom fields are one ``customfields`` array in label order with
``null`` in the slots the row leaves empty (trailing nulls dropped: they mean
the same); empty optional fields are left out and no value keeps surrounding
white space.

Payloads are built per chunk from column lists (a dict per row is what the
API takes, but never for the whole file at once: that costs gigabytes). The
cleaning is done a column at a time with vectorised string operations; the
per-row loop only assembles the dicts.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from importer.errors import MappingError
from importer.fields import LIST_FIELDS, MAX_CUSTOM_FIELDS, RELATION_FLAGS

__all__ = ["build_payloads", "custom_slots", "relation_payload"]

_PREFIX = "customfield_"
#: The validate stage joins list items with ";"; a comma also separates items in a raw cell.
_LIST_SPLIT = r"\s*[;,]\s*"


def custom_slots(columns: list[str] | pd.Index) -> list[tuple[int, str]]:
    """(slot, column) pairs of the frame's custom-field columns, by slot.

    Raises MappingError for a slot outside 1..28: the API has no such label, and
    the array it would make is longer than the API accepts.
    """
    slots = []
    for c in columns:
        name = str(c)
        if name.startswith(_PREFIX):
            n = int(name[len(_PREFIX) :])
            if not 1 <= n <= MAX_CUSTOM_FIELDS:
                raise MappingError(f"custom field {n} is outside 1..{MAX_CUSTOM_FIELDS}; Realeflow has no such label")
            slots.append((n, c))
    return sorted(slots)


def _text(values: pd.DataFrame, column: Any) -> pd.Series:
    return values[column].astype("string").fillna("").str.strip()


def _scalars(values: pd.DataFrame, column: Any) -> list[str | None]:
    """A text column as a list, None where empty (left out of the payload)."""
    text = _text(values, column)
    return text.astype(object).where(text != "", None).tolist()


def _lists(values: pd.DataFrame, column: Any) -> list[list[str] | None]:
    """A list column as lists of non-empty trimmed items, None where there is none."""
    parts = _text(values, column).str.split(_LIST_SPLIT, regex=True).tolist()
    return [[p for p in items if p] or None for items in parts]


def build_payloads(values: pd.DataFrame) -> list[dict[str, Any]]:
    """One payload per row of a validated (normalised) field frame, in row order."""
    fields = [c for c in values.columns if not str(c).startswith(_PREFIX)]
    slots = custom_slots(values.columns)
    columns = [(str(f), _lists(values, f) if f in LIST_FIELDS else _scalars(values, f)) for f in fields]

    custom: list[list[str | None] | None] = [None] * len(values)
    if slots:
        cells = [_scalars(values, c) for _, c in slots]
        positions = [s - 1 for s, _ in slots]
        for i, row in enumerate(zip(*cells, strict=True)):
            width = next((p + 1 for p, v in zip(reversed(positions), reversed(row), strict=True) if v), 0)
            if width:
                arr: list[str | None] = [None] * width
                for p, v in zip(positions, row, strict=True):
                    if p < width:
                        arr[p] = v
                custom[i] = arr

    payloads: list[dict[str, Any]] = []
    for i in range(len(values)):
        payload: dict[str, Any] = {f: col[i] for f, col in columns if col[i] is not None}
        if custom[i] is not None:
            payload["customfields"] = custom[i]
        payloads.append(payload)
    return payloads


def relation_payload(property_guid: str, contact_guid: str, flags: dict[str, bool]) -> dict[str, Any]:
    """The body of POST /api/contact/propertyrelation: both GUIDs and all eighteen flags.

    Flags are sent as the reference writes them ("true"/"false" strings); every
    flag the mapping does not set is sent as "false" so the request says it all.
    """
    body: dict[str, Any] = {"PropertyId": property_guid, "ContactId": contact_guid}
    body.update({flag: "true" if flags.get(flag) else "false" for flag in RELATION_FLAGS})
    return body
