"""Vectorised normalisers: fix what is unambiguous, say so, and explain what is not.

Every normaliser takes a column of text (pandas ``str`` dtype, "" for empty,
never NA) and returns a :class:`Normalized`: the normalised column plus two
sparse note tables, *warnings* (what was changed, the row is still sent) and
*errors* (why a value cannot be used). Notes are keyed by **position** in the
column, so a non-unique or non-contiguous index cannot confuse them.

The normalisers do not decide validity: :mod:`importer.validate.schemas` (pandera)
does, from the constants defined here. Error notes only supply a precise
message for a value the schema rejects; an invalid value is left as its
cleaned text so that the schema sees it fail.

Speed: no per-row Python. Low-cardinality fields (state, ZIP, phone type,
contact type, tags) are normalised on their unique values (``pd.factorize``)
and mapped back; high-cardinality ones (phone, e-mail, free text) use pandas'
Arrow-backed string kernels, and the costly regex work is applied only to the
rows that need it.

Decisions (documented here, tested in tests/test_normalize.py):

* States: the 50 states, DC, the five inhabited territories (AS, GU, MP, PR,
  VI) and the three military "states" (AA, AE, AP) are accepted, as codes or
  full names in any case, spacing or with dots ("N.Y."). Anything else is an
  error. FM, MH, PW (freely associated states) are not US states: rejected.
* Phone: punctuation, spaces and a leading country code 1 are removed silently
  (formatting, like trimming: a warning per row would drown the report).
  Warnings are given when information changed: an extension ("x123",
  "ext. 123", "#123") is dropped because the API has no extension field, and a
  number mangled into "2165551234.0" or scientific notation is expanded. A
  scientific value is expanded exactly from its mantissa; when the mantissa
  does not carry every digit ("1.21656E+10") it is an error: trailing zeros
  cannot be told from lost digits. The 10 digits must then be a number of the North American
  Numbering Plan in the US or Canada (:mod:`importer.validate.phones`), else ``phone.invalid``.
* E-mail: syntax by email-validator and a "did you mean" warning for a typo of a common domain
  (:mod:`importer.validate.emails`); only the domain's case is ever changed.
* Phone type: the synonym table :data:`PHONE_TYPE_SYNONYMS`. "VOIP" is not in
  it: a VoIP line can be any of the three, so it is the mapping's job.
* ZIP: see :func:`normalize_zipcode`.
* Tags: duplicates are exact (case-sensitive) duplicates.

This module holds the list fields (contact type, tags) and re-exports the rest, one module per field
family: :mod:`~importer.validate.places` (states, ZIPs), :mod:`~importer.validate.phone_email` (phones,
phone types, e-mails), :mod:`~importer.validate.cleaning` (text), on the shared
:mod:`~importer.validate.normalized` (the result type and helpers).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from importer.fields import CONTACT_TYPES
from importer.validate.cleaning import clean_text
from importer.validate.normalized import (
    FixOut,
    Normalized,
    apply_fix,
    as_text,
    full_match,
)
from importer.validate.phone_email import (
    EMAIL_PATTERN,
    PHONE_PATTERN,
    PHONE_TYPE_SYNONYMS,
    normalize_email,
    normalize_phone,
    normalize_phonetype,
)
from importer.validate.places import (
    STATE_CODES,
    STATE_NAMES,
    ZIP_PATTERN,
    normalize_state,
    normalize_zipcode,
    zip_state_warnings,
    zip_to_state,
)

__all__ = [
    "EMAIL_PATTERN",
    "LIST_SEPARATORS",
    "PHONE_PATTERN",
    "PHONE_TYPE_SYNONYMS",
    "STATE_CODES",
    "STATE_NAMES",
    "ZIP_PATTERN",
    "Normalized",
    "clean_text",
    "full_match",
    "normalize_contact_type",
    "normalize_email",
    "normalize_phone",
    "normalize_phonetype",
    "normalize_state",
    "normalize_tags",
    "normalize_zipcode",
    "zip_state_warnings",
    "zip_to_state",
]

#: List cells (type, tags) are split on either separator.
LIST_SEPARATORS = r"[,;]"


# --------------------------------------------------------------------------- list fields


def _list_core(field: str, canonical: dict[str, str] | None) -> Callable[[pd.Series], FixOut]:
    """Split on "," or ";", trim, drop empties and duplicates (keeping order), join with ";".

    With ``canonical`` (lower-case item -> accepted spelling), items are matched in any case
    and unknown items are left as typed (the schema rejects them; an error note names them).
    """

    def core(u: pd.Series) -> FixOut:
        items = u.str.split(LIST_SEPARATORS, regex=True).explode().astype("str").str.strip()
        items = items[items != ""]
        raw = items.groupby(level=0, sort=False).agg(";".join)
        bad_text = pd.Series(dtype="str")
        if canonical is not None:
            mapped = items.str.lower().map(canonical)
            unknown = mapped.isna()
            bad_items = items[unknown].drop_duplicates()
            quoted = ("'" + bad_items + "'").groupby(level=0, sort=False)
            verb = np.where(quoted.size().to_numpy() > 1, " are", " is")
            bad_text = quoted.agg(", ".join) + verb
            items = items.where(unknown, mapped).astype("str")
        frame = pd.DataFrame({"i": items.index, "v": items.to_numpy()})
        frame = frame[~frame.duplicated()]
        joined = frame.groupby("i", sort=False)["v"].agg(";".join)
        values = as_text(joined.reindex(range(len(u)), fill_value="").to_numpy(dtype=object))
        before = as_text(raw.reindex(range(len(u)), fill_value="").to_numpy(dtype=object))
        changed = (values != before).to_numpy()
        warn = f"{field}: " + u + " → " + values
        err: list[tuple[np.ndarray, str, pd.Series]] = []
        if canonical is not None:
            bt = as_text(bad_text.reindex(range(len(u)), fill_value="").to_numpy(dtype=object))
            bad = (bt != "").to_numpy()
            names = " or ".join(dict.fromkeys(canonical.values()))
            msg = f"{field} " + bt + f" not {names}; map it in the mapping's values: section"
            err.append((bad, f"{field}.invalid", msg))
        return FixOut(values, [(changed, f"{field}.normalized", warn)], err)

    return core


def normalize_contact_type(s: pd.Series) -> Normalized:
    """Buyer/Seller in any case, several per cell -> "Buyer;Seller"; other items are errors."""
    canonical = {t.lower(): t for t in CONTACT_TYPES}
    return apply_fix(s.astype("str"), _list_core("type", canonical))


def normalize_tags(s: pd.Series) -> Normalized:
    """Tags split on "," or ";", trimmed, empties and exact duplicates dropped, joined by ";"."""
    return apply_fix(s.astype("str"), _list_core("tags", None))
