"""Where a file's header row is: found among its first rows, or named by the person.

Lists made by hand or exported by a report tool often have something above the table: a title
and a blank row, a few lines of notes, an export date. The header is the first row that looks
like a header over data (:func:`detect_header_row`): its cells are text (no numbers, dates,
e-mails or prose), mostly different, and it is mostly filled compared with the rows below it;
the rows above it are passed over only when they are sparse (a title, a note: at most two
filled cells, or under half as many as the table is wide). A file whose first non-blank row
is full is read from there, as before, whatever it holds: only the person can tell a header
from data there, and ``--header-row`` / ``header_row:`` / ``header_row=`` says.

Only the first :data:`SCAN_ROWS` rows are looked at, so this costs nothing on a big file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["SCAN_ROWS", "detect_header_row", "header_row_of", "passed_over_note"]

#: Rows read from the top of a file to find the header (and to check a --header-row).
SCAN_ROWS = 30
#: Rows below a candidate looked at to learn how wide the table is.
_BELOW = 20
_DATA_LIKE = re.compile(r"@|^[\d\s()+./:$,%-]+$")
_LONG_TEXT = 60  # a cell longer than this is prose, not a column title


def _filled(cells: Sequence[object]) -> list[str]:
    return [t for t in (str(c).replace("\ufeff", "").strip() for c in cells) if t]


def _header_like(filled: Sequence[str]) -> bool:
    """Two or more cells, mostly different (skip-trace output repeats "Phone"), none holding data
    (a number, an e-mail, a date, prose)."""
    if len(filled) < 2 or len({c.casefold() for c in filled}) < max(2, 0.6 * len(filled)):
        return False
    return not any(_DATA_LIKE.search(c) or len(c) > _LONG_TEXT for c in filled)


def detect_header_row(rows: Sequence[Sequence[object]]) -> int:
    """The row number (1-based, as Excel shows it) of the header among a file's first ``rows``.

    The first non-blank row, unless it is sparse next to the rows below it (a title, a note);
    then the first row after it that is mostly filled and reads like a header. When no row
    does, the first non-blank row (its unnamed columns are then reported as such).
    """
    filled = [_filled(r) for r in rows]
    counts = [len(f) for f in filled]
    nonblank = [i for i, n in enumerate(counts) if n]
    if not nonblank:
        return 1
    first = nonblank[0]
    for k, i in enumerate(nonblank):
        below = [counts[j] for j in nonblank[k + 1 : k + 1 + _BELOW]]
        wide = max(below, default=0)
        sparse = 2 * counts[i] < wide and (counts[i] <= 2 or not _header_like(filled[i]))
        if sparse:
            continue  # a title, a note, a date above the table
        if i == first or _header_like(filled[i]):
            return i + 1
        break  # a full row that is not a header: data, so the table starts at the first row
    return first + 1


def header_row_of(rows: Sequence[Sequence[object]], wanted: Sequence[str], current: int) -> int | None:
    """The row (1-based) among ``rows`` holding the most of the ``wanted`` columns (a mapping's), when
    it holds more of them than the ``current`` header row and two at least (all when fewer are
    wanted); else None. For the message of a mapping that the header row read lacks columns of."""
    keys = {_key(w) for w in wanted}
    found = [len(keys & {_key(c) for c in _filled(cells)}) for cells in rows]
    if not found:
        return None
    best = max(range(len(found)), key=lambda i: (found[i], -i))
    here = found[current - 1] if current <= len(found) else 0
    if found[best] > here and found[best] >= min(2, len(keys)):
        return best + 1
    return None


def passed_over_note(header_row: int) -> str | None:
    """"header in row 3; rows 1–2 passed over" (None when the header is in row 1)."""
    if header_row <= 1:
        return None
    above = "row 1" if header_row == 2 else f"rows 1–{header_row - 1}"
    return f"header in row {header_row}; {above} passed over"


def _key(text: object) -> str:
    return " ".join(str(text).replace("\ufeff", "").split()).casefold()
