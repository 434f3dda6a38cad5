"""The formula guard: text cells a spreadsheet would run as formulas, neutralised, and restored.

Formula injection (OWASP "CSV Injection"): a cell beginning with ``=``, ``+``, ``-``, ``@``, tab or
carriage return can be executed by Excel or LibreOffice, so the reports prefix it with ``'``; the
reader undoes exactly that when a fixed report comes back as input. Both directions live here so
that they stay each other's inverse.
"""

from __future__ import annotations

import pandas as pd

from importer.arrowtext import first_byte_in

__all__ = ["DANGEROUS_PREFIXES", "neutralise", "restore_neutralised"]

#: First characters that make a spreadsheet treat a cell as a formula (OWASP).
DANGEROUS_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_NEUTRALISED = r"'[=+\-@\t\r]"
_DANGEROUS_BYTES = "".join(DANGEROUS_PREFIXES).encode()


def neutralise(values: pd.Series) -> pd.Series:
    """Prefix ``'`` to every text cell that starts with a formula character.

    ``values`` must be text without missing values. Returns ``values`` itself
    when nothing needs changing, so clean columns cost one scan and no copy.
    """
    mask = first_byte_in(values, _DANGEROUS_BYTES)
    if not mask.any():
        return values
    out = values.copy()
    out.loc[mask] = "'" + values[mask]  # .loc: a plain out[mask] first tries the mask as a label
    return out


def restore_neutralised(values: pd.Series) -> pd.Series:
    """Undo :func:`neutralise`: drop the ``'`` before a formula character.

    For the loader, when a report fixed in a spreadsheet comes back as input.
    A value that really began with ``'=`` is indistinguishable and loses its
    quote; that is the price of neutralising and is accepted.
    """
    text = values.fillna("").astype("str")
    if not first_byte_in(text, b"'").any():
        return text
    mask = text.str.match(_NEUTRALISED)
    if not mask.any():
        return text
    out = text.copy()
    out[mask] = text[mask].str.slice(1)
    return out
