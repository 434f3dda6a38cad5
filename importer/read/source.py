"""Load stage: open a CSV-like file or an Excel workbook and stream it as text chunks.

Every cell comes out as text exactly as a person sees it (ZIP "02134" stays
"02134", a phone number never becomes 2.16555e9). Each chunk's index is the
row number Excel shows: the header is row 1, so the first data row is 2, and
blank rows, which are skipped, still count.

One module per format, as frictionless-py does: :mod:`importer.read.delimited` (CSV-like
text), :mod:`importer.read.excel` (workbooks), and what they share in :mod:`importer.read.base`
(the :class:`Source` they return, chunks, the header layout). This module opens a file with
the right one.
"""

from __future__ import annotations

import os
from itertools import chain, islice
from pathlib import Path
from typing import Any

from python_calamine import CalamineError

from importer.errors import LoadError, UsageError, quote
from importer.read.base import HEADER_ROW, REPORT_COLUMNS, Chunk, Source, column_letter, normalize_header
from importer.read.delimited import QUOTES, open_csv
from importer.read.excel import first_rows, open_excel
from importer.read.header import SCAN_ROWS, detect_header_row
from importer.read.workbook import CSV_EXTENSIONS, EXCEL_EXTENSIONS, each_sheet

__all__ = [
    "CSV_EXTENSIONS",
    "EXCEL_EXTENSIONS",
    "HEADER_ROW",
    "REPORT_COLUMNS",
    "Chunk",
    "Source",
    "check_header_row",
    "column_letter",
    "describe_sheets",
    "list_sheets",
    "normalize_header",
    "open_source",
]


def open_source(
    path: str | os.PathLike[str],
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    quotes: str | None = None,
    header_row: int | None = None,
) -> Source:
    """Open and check an input file; raise LoadError with one actionable line if it is unusable.

    ``sheet`` (workbooks) is a name or a 1-based index (int or digit string), default the first
    visible worksheet with data. ``encoding`` (CSV) overrides detection. ``quotes`` (CSV):
    "standard" (default: a cell in double quotes may hold delimiters, quotes and line breaks) or
    "none" (quotes are plain characters; for files whose stray quotes are not meant as quoting).
    ``header_row``: the row number (as Excel shows it) of the column headers; None: found among the
    first rows (:mod:`importer.read.header`: a title, notes or blank rows above the table are passed
    over, and :meth:`Source.notes` says so). Data rows keep their Excel row numbers either way.
    """
    header_row = check_header_row(header_row)
    quotes = quotes or "standard"
    if quotes not in QUOTES:
        raise UsageError(f"--quotes must be one of {', '.join(QUOTES)}, not {quotes!r}")
    p = _check_path(path)
    ext = p.suffix.lower()
    if quotes != "standard" and ext not in CSV_EXTENSIONS:
        raise UsageError(f"{p}: --quotes only applies to delimited text files (.csv, .tsv, .txt); drop it")
    csv_like = ext in CSV_EXTENSIONS
    source = open_csv(p, encoding, quotes, header_row) if csv_like else open_excel(p, sheet, header_row)
    source.check_has_data()
    return source


def list_sheets(path: str | os.PathLike[str]) -> list[tuple[str, int]]:
    """(sheet name, data row count) for each sheet of a workbook (as :func:`describe_sheets` counts)."""
    return [(name, rows) for name, rows, _ in describe_sheets(path)]


def describe_sheets(path: str | os.PathLike[str]) -> list[tuple[str, int, str]]:
    """(sheet name, data row count, "visible" / "hidden" / "very hidden") for each sheet of a workbook.

    The data rows are the non-blank rows below the sheet's header row (found as :func:`open_source`
    finds it): the rows the reports will list. Counting them walks the parsed sheet in blocks of
    rows (no second parse where the sheet is kept, :class:`~importer.read.workbook.SheetKeeper`).
    """
    p = _check_path(path)
    if p.suffix.lower() not in EXCEL_EXTENSIONS:
        raise LoadError(f"{p}: is not an Excel workbook; only {', '.join(EXCEL_EXTENSIONS)} files have sheets")
    return [
        (info.name, _data_rows(sheet) if sheet is not None else 0, info.visibility)  # chart sheets hold no rows
        for info, sheet in each_sheet(p)
    ]


def _data_rows(sheet: Any) -> int:
    """Non-blank rows below the header row (0 for a sheet calamine cannot read: a chart sheet)."""
    try:
        top, shown = first_rows(sheet, SCAN_ROWS)
        if not shown:
            return 0
        header = detect_header_row(shown)
        rows = chain(top[header:], islice(sheet.iter_rows(), len(top), None))
        # any(row) in C settles nearly every row; only a row of falsy cells ("", 0, False) is looked at
        # cell by cell (a 0 is data): faster than comparing numpy blocks of rows (bench/README.md)
        return sum(1 for r in rows if any(r) or any(c != "" for c in r))
    except CalamineError:
        return 0


def check_header_row(value: object) -> int | None:
    """A header row number given by a person (an int, or digits), checked: 1 or more; None stays None."""
    if value is None:
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise UsageError(f"the header row must be a row number, 1 or more (as Excel shows it), not {quote(value)}")
    return int(text)


def _check_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise LoadError(f"{p}: file not found; check the path")
    if p.is_dir():
        raise LoadError(f"{p}: is a folder, not a file; give the path of a spreadsheet file")
    ext = p.suffix.lower()
    if ext not in CSV_EXTENSIONS + EXCEL_EXTENSIONS:
        raise LoadError(
            f"{p}: unsupported file type {ext or '(no extension)'!r}; "
            f"supported: {', '.join(CSV_EXTENSIONS + EXCEL_EXTENSIONS)}"
        )
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise LoadError(f"{p}: cannot be read ({exc.strerror}); check its permissions") from exc
    if size == 0:
        raise LoadError(f"{p}: the file is empty (0 bytes); export the spreadsheet again")
    return p
