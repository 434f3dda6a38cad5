"""pandera schemas for normalised field frames: the single place where field rules are declared.

A field frame (see :mod:`importer.validate.rules`) has one text column per API field
present in the mapping, "" for empty. Each rule is a named :class:`pandera.Check`
whose ``name`` and ``error`` are its problem *code* (``"state.invalid"``); the
validate stage maps each failing check back to that code and to a message (see
:data:`MESSAGES`). The checks are built from the constants the normalisers use
(:mod:`importer.validate.normalize`, :mod:`importer.fields`), so changing a rule here
changes what the validate stage accepts.

``n_failure_cases`` is capped at 1 on every check: pandera formats every failure
case into a message string (~1 µs each, measured 1.2 s for 800k failures);
the validate stage reads the failing rows from each error's full ``check_output``
mask instead, so the cap loses nothing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from importer.fields import CONTACT_TYPES, KIND_FIELDS, MAX_CUSTOM_FIELDS, PHONE_TYPES, REQUIRED_FIELDS
from importer.validate.emails import email_valid
from importer.validate.normalize import PHONE_PATTERN, STATE_CODES, ZIP_PATTERN, full_match
from importer.validate.phones import phone_valid

__all__ = [
    "CUSTOM_FIELD_PATTERN",
    "EXTRA_CUSTOM_FIELD_PATTERN",
    "MESSAGES",
    "build_schema",
    "schema_for",
]

#: pandera reports one sample per failing check; rows come from ``check_output``.
_CASES = 1

_slots = "|".join(str(i) for i in range(1, MAX_CUSTOM_FIELDS + 1))
#: customfield_1 .. customfield_28: free text, no rule beyond text cleaning.
CUSTOM_FIELD_PATTERN = rf"^customfield_(?:{_slots})$"
#: customfield_29 and beyond: the API takes at most 28, so such a column must stay empty.
EXTRA_CUSTOM_FIELD_PATTERN = rf"^customfield_(?!(?:{_slots})$)[0-9]+$"


def _optional(pattern: str) -> str:
    """``pattern`` (anchored) or the empty string: every field but the required is optional."""
    return rf"^(?:{pattern.removeprefix('^').removesuffix('$')})?$"


def _list_pattern(items: tuple[str, ...]) -> str:
    one = "(?:" + "|".join(re.escape(i) for i in items) + ")"
    return rf"^(?:{one}(?:;{one})*)?$"


def _matches(pattern: str, code: str) -> pa.Check:
    """A whole-cell regex check. Not ``Check.str_matches``: pandas runs some patterns
    through Python's re one cell at a time (0.5 s per 1M e-mails); this uses Arrow's RE2."""

    def check(series: pd.Series) -> pd.Series:
        return pd.Series(full_match(series, pattern), index=series.index)

    return pa.Check(check, name=code, error=code, n_failure_cases=_CASES)


def _passes(valid: Callable[[pd.Series], np.ndarray], code: str) -> pa.Check:
    """A check by a vectorised verdict on the filled cells (an empty cell passes: the field is optional)."""

    def check(series: pd.Series) -> pd.Series:
        ok = (series == "").to_numpy(dtype=bool, copy=True)
        filled = np.flatnonzero(~ok)
        if len(filled):
            ok[filled] = valid(series.iloc[filled])
        return pd.Series(ok, index=series.index)

    return pa.Check(check, name=code, error=code, n_failure_cases=_CASES)


def _phone_valid(series: pd.Series) -> np.ndarray:
    """10 digits that are a number in the numbering plan (importer.validate.phones)."""
    ok = full_match(series, PHONE_PATTERN)
    pos = np.flatnonzero(ok)
    if len(pos):
        ok[pos] = phone_valid(series.iloc[pos])
    return ok


def _rules() -> dict[str, list[pa.Check]]:
    """Field -> checks. Check name = error = problem code."""

    def c(factory: Callable[..., pa.Check], *args: Any, code: str) -> pa.Check:
        return factory(*args, name=code, error=code, n_failure_cases=_CASES)

    return {
        "state": [c(pa.Check.isin, [*STATE_CODES, ""], code="state.invalid")],
        "zipcode": [_matches(_optional(ZIP_PATTERN), "zipcode.invalid")],
        "phone": [_passes(_phone_valid, "phone.invalid")],
        "phonetype": [c(pa.Check.isin, [*PHONE_TYPES, ""], code="phonetype.invalid")],
        "type": [_matches(_list_pattern(CONTACT_TYPES), "type.invalid")],
        "email": [_passes(email_valid, "email.invalid")],
    }


def build_schema(kind: str) -> pa.DataFrameSchema:
    """The schema of a normalised ``kind`` ("contact" | "property") field frame."""
    rules = _rules()
    required = REQUIRED_FIELDS[kind]
    columns: dict[str, pa.Column] = {}
    for field in KIND_FIELDS[kind]:
        checks = list(rules.get(field, []))
        if field in required:
            checks.insert(
                0,
                pa.Check.str_length(
                    min_value=1, name=f"{field}.required", error=f"{field}.required", n_failure_cases=_CASES
                ),
            )
        columns[field] = pa.Column(str, checks=checks, nullable=False, required=False)
    columns[CUSTOM_FIELD_PATTERN] = pa.Column(str, nullable=False, required=False, regex=True)
    columns[EXTRA_CUSTOM_FIELD_PATTERN] = pa.Column(
        str,
        checks=[
            pa.Check.str_length(
                max_value=0, name="customfield.limit", error="customfield.limit", n_failure_cases=_CASES
            )
        ],
        nullable=False,
        required=False,
        regex=True,
    )
    return pa.DataFrameSchema(columns, name=f"{kind} fields", strict=False)


@functools.cache
def schema_for(kind: str) -> pa.DataFrameSchema:
    """The (cached) schema for ``kind``."""
    return build_schema(kind)


#: code -> message template; ``{field}``, ``{value}`` (the cleaned cell text, quoted as
#: needed) and ``{column}`` (the spreadsheet header text, quoted) are filled in per row.
#: Used when the normaliser has no more precise message for a failing value.
MESSAGES: dict[str, str] = {
    "required": "{field} is required (column {column} is empty)",
    "state.invalid": "state '{value}' is not a US state code; use the two-letter code (OH) or the full name (Ohio)",
    "zipcode.invalid": "zipcode '{value}' is not a 5-digit US ZIP code",
    "phone.invalid": "phone '{value}' is not a 10-digit US phone number",
    "phonetype.invalid": ("phonetype '{value}' is not Mobile, Work or Home; map it in the mapping's values: section"),
    "type.invalid": "type '{value}' is not Buyer or Seller; map it in the mapping's values: section",
    "email.invalid": "email '{value}' is not a valid e-mail address; give one address like name@example.com",
    "customfield.limit": (
        "{field}: the API accepts at most 28 custom fields; map column {column} to "
        "customfield_1..customfield_28 or leave it out of the mapping"
    ),
    "default": "{field} '{value}' is not accepted (rule {code})",
}
