"""Is a 10-digit number a real North American phone number? The numbering plan's rules, vectorised.

:func:`importer.validate.normalize.normalize_phone` turns a cell into 10 digits; this module says
whether those digits can be a phone number in the US (its territories included) or Canada:

* the North American Numbering Plan's rules: neither the area code (digits 1-3) nor the exchange
  (digits 4-6) starts with 0 or 1, and neither is an N11 service code (211, 411, 911...);
* then ``phonenumbers`` (Google's libphonenumber data, kept up to date with the plan): the number
  must be valid for one of :data:`REGIONS` -- an area code not in service (999) fails here, as
  does a Caribbean number (876 is Jamaica). The 555-01xx range set aside for fiction is valid
  there and kept: lists use it for test rows, and the API accepts it.

Speed: ``phonenumbers.is_valid_number`` parses and checks one number at a time in Python, far too
slow for a column of a million phones. The regions' number patterns from the same metadata are
joined into one regular expression instead and run by Arrow's RE2 kernel over the column, which
gives the library's verdict for all of it at once (tests/test_phones.py compares the two on
generated numbers). A phone column is mostly distinct values, so the pattern runs on every cell:
hashing the cells to find the unique ones would cost more than the match.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow.compute as pc
from phonenumbers import PhoneMetadata

from importer.arrowtext import arrow_strings

__all__ = ["PLAN_PATTERN", "REGIONS", "nanp_pattern", "phone_reasons", "phone_valid"]

#: Where a number may be: the US and its inhabited territories (their states are accepted too), Canada.
REGIONS = ("US", "CA", "PR", "VI", "GU", "AS", "MP")

#: The plan's own rules on 10 digits: area code and exchange NXX (N = 2-9), neither N11.
PLAN_PATTERN = r"[2-9](?:[02-9][0-9]|1[02-9])[2-9](?:[02-9][0-9]|1[02-9])[0-9]{4}"

#: The number types that make a number valid (``phonenumbers.is_valid_number``: any type but unknown).
_TYPES = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)


@functools.cache
def nanp_pattern() -> str:
    """One regular expression (RE2 and Python ``re`` alike) for every 10-digit national number
    ``phonenumbers`` calls valid in one of :data:`REGIONS`."""
    parts: dict[str, None] = {}
    for region in REGIONS:
        meta = PhoneMetadata.metadata_for_region(region)
        if meta is None:  # pragma: no cover - a region the installed phonenumbers lacks
            continue
        for name in _TYPES:
            desc = getattr(meta, name, None)
            pattern = getattr(desc, "national_number_pattern", None)
            if pattern:
                parts[f"(?:{pattern})"] = None
    return "|".join(parts)


def _full_match(values: pd.Series, pattern: str) -> np.ndarray:
    """Bool mask: the whole value matches ``pattern`` (Arrow's RE2 kernel, as normalize.full_match)."""
    arr = arrow_strings(values)
    if arr is None:
        return values.str.fullmatch(pattern).to_numpy(dtype=bool)
    return pc.match_substring_regex(arr, f"^(?:{pattern})$").to_numpy(zero_copy_only=False)


def phone_valid(digits: pd.Series) -> np.ndarray:
    """Bool mask: the value is a valid number (10 digits; the verdict of :func:`phone_reasons`,
    without building its messages: two RE2 passes over the column)."""
    digits = digits.astype("str")
    ok = _full_match(digits, PLAN_PATTERN)
    pos = np.flatnonzero(ok)
    if len(pos):
        ok[pos] = _full_match(digits.iloc[pos], nanp_pattern())
    return ok


def phone_reasons(digits: pd.Series) -> pd.Series:
    """Per value of ``digits`` (10 ASCII digits each): "" for a valid number, else why it is not
    one, worded to follow "phone '...' " in a message. Messages are built for the invalid only."""
    digits = digits.astype("str")
    out = pd.Series("", index=digits.index, dtype="str")
    if not len(digits):
        return out
    area, exch = digits.str.slice(0, 3), digits.str.slice(3, 6)
    rules: list[tuple[pd.Series, Callable[[pd.Series, pd.Series], pd.Series]]] = [
        (area.str.slice(0, 1).isin(["0", "1"]), lambda a, e: "has area code " + a + ", which never starts with 0 or 1"),
        (area.str.slice(1, 3) == "11", lambda a, e: "has area code " + a + ", a service code (N11), not an area code"),
        (exch.str.slice(0, 1).isin(["0", "1"]),
         lambda a, e: "has exchange " + e + " (digits 4-6), which never starts with 0 or 1"),
        (exch.str.slice(1, 3) == "11",
         lambda a, e: "has exchange " + e + " (digits 4-6), a service code (N11) no number uses"),
    ]  # fmt: skip
    decided = np.zeros(len(digits), dtype=bool)
    for mask, message in rules:
        hit = mask.to_numpy(dtype=bool) & ~decided
        decided |= hit
        if hit.any():
            out.loc[hit] = (message(area[hit], exch[hit]) + "; check the number").to_numpy(dtype=object)
    # The library's patterns where the plan's rules found nothing (most numbers; the regex is cheap).
    rest = np.flatnonzero(~decided)
    bad = rest[~_full_match(digits.iloc[rest], nanp_pattern())]
    if len(bad):
        a, e = area.iloc[bad], exch.iloc[bad]
        text = "is not a number in service in the US or Canada (area code " + a + ", exchange " + e + "); check it"
        out.iloc[bad] = text.to_numpy(dtype=object)
    return out
