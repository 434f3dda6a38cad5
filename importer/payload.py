"""The map stage: validated field frames to API payloads.

A payload uses the reference's lowercase JSON keys; list fields (type, tags)
are arrays; custom fields are one ``customfields`` array in label order with
``null`` in the slots the row leaves empty (trailing nulls dropped: they mean
the same); empty optional fields are left out.

Payloads are built per chunk from column lists (a dict per row is what the
API takes, but never for the whole file at once: that costs gigabytes).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from importer.fields import LIST_FIELDS

__all__ = ["build_payloads", "custom_slots"]


def custom_slots(columns: list[str] | pd.Index) -> list[tuple[int, str]]:
    """(slot, column) pairs of the frame's custom-field columns, by slot."""
    return sorted((int(c[12:]), c) for c in columns if str(c).startswith("customfield_"))


def build_payloads(values: pd.DataFrame) -> list[dict[str, Any]]:
    """One payload per row of a validated (normalised) field frame, in row order."""
    fields = [c for c in values.columns if not str(c).startswith("customfield_")]
    slots = custom_slots(values.columns)
    n = len(values)
    columns = {f: values[f].astype("string").fillna("").tolist() for f in fields}
    custom_cols = [values[c].astype("string").fillna("").tolist() for _, c in slots]
    width = slots[-1][0] if slots else 0
    slot_pos = [s - 1 for s, _ in slots]

    payloads: list[dict[str, Any]] = []
    for i in range(n):
        payload: dict[str, Any] = {}
        for f in fields:
            v = columns[f][i]
            if v:
                payload[f] = [p for p in v.split(";") if p] if f in LIST_FIELDS else v
        if custom_cols:
            arr: list[str | None] = [None] * width
            for pos, col in zip(slot_pos, custom_cols, strict=True):
                if col[i]:
                    arr[pos] = col[i]
            while arr and arr[-1] is None:
                arr.pop()
            if arr:
                payload["customfields"] = arr
        payloads.append(payload)
    return payloads
