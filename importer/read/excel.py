"""Workbooks (.xlsx, .xlsm, .xls, .xlsb, .ods): a sheet's rows as text cells, as a person sees them in the sheet.

Workbooks are read with python-calamine (:mod:`importer.read.workbook` opens them and picks the
sheet); cells are converted to text column by column with numpy, never row by row
(:mod:`importer.read.excelcells`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from python_calamine import CalamineError

from importer.errors import LoadError
from importer.problems import empty_problems
from importer.read.base import Chunk, Layout, Source, finish_chunk, make_layout
from importer.read.excelcells import as_percent, cells_to_text
from importer.read.header import SCAN_ROWS, detect_header_row
from importer.read.numfmt import percent_cells
from importer.read.workbook import read_sheet, remember

__all__ = ["ExcelSource", "first_rows", "last_row", "open_excel"]


class ExcelSource(Source):
    def sheet_height(self) -> int | None:
        return last_row(self._sheet)

    def __init__(self, path: Path, kind: str, layout: Layout, sheet_name: str, sheet: Any) -> None:
        super().__init__(path, kind, layout)
        self.sheet = sheet_name
        self._sheet = sheet
        # Cells shown as percentages (importer.read.numfmt): found once, before any worker is forked
        # (and once per file while its sheet is kept).
        self._percent = remember(path, sheet_name, "percent", lambda: percent_cells(path, sheet_name))
        self._cursor: tuple[Iterator[Any], int] | None = None  # (rows iterator, number of its next row)

    def chunks(
        self, rows: int = 50_000, *, first_rows: int | None = None, read_ahead: bool = True
    ) -> Generator[Chunk, None, None]:
        first = self.header_row + 1
        count = first_rows or rows
        while True:
            chunk, read = self.read_rows(first, count)
            if not read:
                return
            first, count = first + read, rows
            if chunk is not None:
                yield chunk

    def slices(self, rows: int, *, parsed_rows: int | None = None) -> list[tuple[int, int | None]]:
        """(first row number, row count) of each chunk; the last has None: up to the end.

        For workers that read their own chunks (:meth:`read_slice`) from the parsed sheet
        (``parsed_rows``: unused, nothing is parsed here).
        """
        last = last_row(self._sheet)
        first = self.header_row + 1
        starts = list(range(first, last + 1, rows)) or [first]
        return [(start, rows) for start in starts[:-1]] + [(starts[-1], None)]

    def read_slice(self, piece: tuple[int, int | None]) -> Chunk | None:
        """The rows of one piece of :meth:`slices` (None when they are all blank)."""
        return self.read_rows(*piece)[0]

    def read_rows(self, first: int, count: int | None) -> tuple[Chunk | None, int]:
        """(chunk of rows ``first`` .. ``first + count - 1``, rows read); the chunk is None when all are blank.

        Rows are numbered as Excel shows them; ``count`` None reads to the end. Reading on
        from where the previous call stopped costs nothing; else the rows before are skipped
        (~1 s per million).
        """
        cursor = self._cursor
        if cursor is None or cursor[1] > first:
            cursor = (self._sheet.iter_rows(), 1)
        it, at = cursor
        width = self._layout.raw_width
        offset = _excel_column_offset(self._sheet)
        try:
            deque(islice(it, first - at), maxlen=0)
            block = list(islice(it, count) if count is not None else it)
        except CalamineError as exc:
            raise LoadError(f"{self.path}: sheet {self.sheet!r} cannot be read ({exc})") from exc
        self._cursor = (it, first + len(block))
        if not block:
            return None, 0
        cells = np.full((len(block), width), "", dtype=object)
        grid = np.array(block, dtype=object).reshape(len(block), -1)[:, : width - offset]
        cells[:, offset : offset + grid.shape[1]] = grid
        text, numeric = cells_to_text(cells)
        for j, (rows, decimals) in self._percent.items():
            if j < width:
                text[j] = as_percent(text[j], cells[:, j], numeric[j], rows - first, decimals)
        index = pd.RangeIndex(first, first + len(block))
        raw = pd.DataFrame(
            {j: pd.Series(pd.array(t, dtype="str"), index=index) for j, t in enumerate(text)}, index=index
        )
        mask = pd.DataFrame(dict(enumerate(numeric)), index=index)
        chunk = finish_chunk(self.path, self._layout, raw, mask, empty_problems())
        return (chunk if len(chunk.frame) else None), len(block)


def last_row(sheet: Any) -> int:
    """The number of the sheet's last used row (calamine's ``height`` counts from the first used one,
    its ``iter_rows`` from row 1)."""
    end = sheet.end
    return int(end[0]) + 1 if end else 0


def _excel_column_offset(sheet: Any) -> int:
    """Columns before the first used one: calamine's iter_rows starts at the first used column."""
    start = sheet.start
    return int(start[1]) if start else 0


def first_rows(sheet: Any, rows: int) -> tuple[list[list[Any]], list[list[str]]]:
    """The sheet's first ``rows`` rows (from row 1): calamine's values, and as text in their columns
    (what :func:`~importer.read.header.detect_header_row` looks at). Raises CalamineError."""
    values = [list(r) for r in islice(sheet.iter_rows(), rows)]
    offset = _excel_column_offset(sheet)
    return values, [[""] * offset + ["" if c is None else str(c) for c in r] for r in values]


def open_excel(path: Path, sheet: str | int | None, header_row: int | None = None) -> Source:
    """Open a workbook's sheet (None: the first visible one with data); ``header_row`` (1-based) None:
    found (:mod:`importer.read.header`)."""
    picked = read_sheet(path, sheet)
    name, sh = picked.name, picked.sheet
    try:
        top, shown = first_rows(sh, max(SCAN_ROWS, header_row or 0))
    except CalamineError as exc:
        raise LoadError(f"{path}: sheet {name!r} cannot be read ({exc}); pick a worksheet with --sheet") from exc
    if not top:
        raise LoadError(f"{path}: sheet {name!r} is empty; pick the sheet with the data (--sheet)")
    offset = _excel_column_offset(sh)
    row = header_row or detect_header_row(shown)
    if row > len(top):
        raise LoadError(
            f"{path}: sheet {name!r} has no row {row} (its last row is {len(top)}); "
            "give the row the column headers are in"
        )
    text, _ = cells_to_text(np.array([[""] * offset + top[row - 1]], dtype=object))
    header = [str(t[0].as_py()) for t in text]
    while header and not header[-1].strip():
        header.pop()  # trailing empty header cells; data under them is caught per chunk
    width = max(len(header), offset + sh.width)
    layout = make_layout(path, header + [""] * (width - len(header)), row=row)
    kind = path.suffix.lower().lstrip(".").replace("xlsm", "xlsx")
    source = ExcelSource(path, kind, layout, name, sh)
    source.sheets = picked.sheets
    source.empty_sheets = picked.empty
    source.first_rows = shown
    return source
