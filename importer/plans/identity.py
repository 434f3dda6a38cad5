"""What makes the parts of two rows one record, in a property-with-contacts run: identity keys.

A property is its normalised address (street, city, state, ZIP); a contact is its name with its
mailing address, its e-mail, its phone, or its name on the same property (any one shared key makes
two contacts one). Keys are strings like ``property|12 main st|cleveland|oh|44113``.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["contact_keys", "property_keys"]


def _norm(frame: pd.DataFrame, field: str) -> pd.Series:
    """A field's normalised text for comparing records: case-folded, white space collapsed."""
    if field not in frame.columns:
        return pd.Series("", index=frame.index, dtype="str")
    text = frame[field].astype("str").fillna("")
    return text.str.casefold().str.replace(r"\s+", " ", regex=True).str.strip()


def property_keys(values: pd.DataFrame) -> pd.Series:
    """One identity key per row of a normalised property frame: its street, city, state and ZIP."""
    parts = [_norm(values, f) for f in ("address", "city", "state", "zipcode")]
    return "property|" + parts[0] + "|" + parts[1] + "|" + parts[2] + "|" + parts[3]


def contact_keys(values: pd.DataFrame, at: pd.Series | None = None) -> list[list[str]]:
    """The identity keys of each row of a normalised contact frame.

    Name + mailing address (when both are there), e-mail, phone (last 10 digits),
    and name + the row's property (``at``: its property key per row): the same
    name on the same property is the same person. Two contacts sharing any key
    are one; a name alone, on another property, is not enough to merge.
    """
    name = _norm(values, "fullname")
    if at is not None:
        here = at.reindex(values.index).fillna("").astype("str")
        at_key = ("contact|at|" + here + "|" + name).where((name != "") & (here != ""), "")
    else:
        at_key = pd.Series("", index=values.index, dtype="str")
    address = _norm(values, "address")
    place = "|" + _norm(values, "city") + "|" + _norm(values, "state") + "|" + _norm(values, "zipcode")
    name_key = ("contact|name|" + name + "|" + address + place).where((name != "") & (address != ""), "")
    email = _norm(values, "email")
    email_key = ("contact|email|" + email).where(email != "", "")
    digits = _norm(values, "phone").str.replace(r"\D", "", regex=True).str.slice(-10)
    phone_key = ("contact|phone|" + digits).where(digits.str.len() >= 7, "")
    columns = [name_key.tolist(), email_key.tolist(), phone_key.tolist(), at_key.tolist()]
    return [[k for k in keys if k] for keys in zip(*columns, strict=True)]
