"""The Excel report: a sheet a person fixes in Excel and feeds back as input.

openpyxl's write-only mode streams rows to a temporary file, so memory stays
flat except for cell comments, which openpyxl keeps until the file is saved
(hence :data:`MAX_COMMENTS`). Layout: bold, frozen header row with an
autofilter; ``row`` and the outcome columns in front, the input's columns after
with their header text unchanged (only neutralised, see ``cells``).

Every value is written as a text cell: a ZIP stays "02134", and "#N/A" stays
text instead of becoming an Excel error (openpyxl guesses types from strings;
neutralising already removed its other guess, formulas). Characters XML cannot
hold (control characters other than tab, CR and LF) are removed; openpyxl
would refuse the whole file otherwise.

Cells with an error problem, or whose invalid value was left out of the record, are
filled light red with the reasons as a comment; cells with only warnings (values that were normalised) light yellow
with the warning text and "was: <original>" when that differs from the cell.
The status cell is coloured by status (:data:`STATUS_COLOURS`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from importer.errors import ReportError
from importer.formulas import neutralise
from importer.outcomes import Status
from importer.problems import ERROR, invalid_values, problem_title
from importer.report.base import BaseReportWriter
from importer.report.cells import ReportChunk
from importer.report.summary import RunSummary

__all__ = [
    "ERROR_FILL",
    "EXCEL_MAX_ROWS",
    "MAX_COMMENTS",
    "STATUS_COLOURS",
    "WARNING_FILL",
    "XlsxReportWriter",
    "status_colour",
]

#: Rows in one Excel sheet, header included.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
#: Cell comments kept (openpyxl holds them in memory until saving); cells
#: beyond this are still coloured and the reasons stay in the error column.
MAX_COMMENTS = 100_000
COMMENT_AUTHOR = "realeflow-import"

# Excel's own "Light Red Fill" / "Yellow Fill" / "Green Fill" conditional-format colours.
RED, YELLOW, GREEN, GREY = "FFC7CE", "FFEB9C", "C6EFCE", "D9D9D9"
ERROR_FILL = PatternFill(fill_type="solid", start_color=RED, end_color=RED)
WARNING_FILL = PatternFill(fill_type="solid", start_color=YELLOW, end_color=YELLOW)

#: Status -> colour of the status cell (every row status has one); other text falls back on status_colour's rules.
STATUS_COLOURS: dict[str, str] = {
    Status.CREATED: GREEN,
    Status.VALID: GREEN,
    Status.PARTIAL: YELLOW,
    Status.NOT_SENT: YELLOW,  # the run stopped before this row: it needs another run
    Status.INVALID: RED,
    Status.FAILED: RED,
    Status.UNKNOWN: RED,
    Status.SKIPPED: GREY,
    Status.CHANGED: YELLOW,  # created by an earlier run with other values: a person edits it in Realeflow
}
# Words a status column of another tool may hold (a report read back and written again).
_WORD_COLOURS: dict[str, str] = {
    "updated": GREEN,
    "linked": GREEN,
    "ok": GREEN,
    "warning": YELLOW,
    "not sent": YELLOW,
    "error": RED,
    "rejected": RED,
    "duplicate": GREY,
}

_ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_ILLEGAL_RE = re.compile(_ILLEGAL)
_BOLD = Font(bold=True)


def status_colour(status: str) -> str | None:
    """The fill colour for a status cell (hex RGB), or None for no fill."""
    if status in STATUS_COLOURS:
        return STATUS_COLOURS[status]
    key = status.strip().lower().replace("-", " ").replace("_", " ")
    if key in _WORD_COLOURS:
        return _WORD_COLOURS[key]
    if key.replace(" ", "-") in STATUS_COLOURS:
        return STATUS_COLOURS[key.replace(" ", "-")]
    if any(word in key for word in ("fail", "invalid", "error", "reject")):
        return RED
    if key.startswith(("skip", "already", "duplicate")):
        return GREY
    return None


def _fill(colour: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=colour, end_color=colour)


def _xml_safe(values: pd.Series) -> pd.Series:
    """Drop the control characters an XLSX cannot hold (vectorised)."""
    bad = values.str.contains(_ILLEGAL, regex=True)
    if not bad.any():
        return values
    out = values.copy()
    out[bad] = values[bad].str.replace(_ILLEGAL, "", regex=True)
    return out


class XlsxReportWriter(BaseReportWriter):
    """XLSX report; see the module doc."""

    def __init__(
        self,
        path: Path,
        fh: IO[bytes],
        *,
        headers: list[str],
        outcome_columns: list[str],
        expected_rows: int | None = None,
    ) -> None:
        super().__init__(path, headers=headers, outcome_columns=outcome_columns)
        names = self._output_names()
        if len(names) > EXCEL_MAX_COLUMNS:
            raise ReportError(
                f"{path}: {len(names):,} columns do not fit in an Excel sheet (limit "
                f"{EXCEL_MAX_COLUMNS:,}); write the report as .csv or .json instead"
            )
        if expected_rows is not None:
            self._check_rows(expected_rows)
        self._fh = fh
        self._wb = Workbook(write_only=True)
        self._ws = self._wb.create_sheet("Report")
        self._started = False
        self._comments = 0
        self._comments_dropped = 0
        self._status_at = 1 + self.outcome_columns.index("status") if "status" in self.outcome_columns else None
        # Where each input header sits in a report row (a repeated header has several places).
        self._places: dict[str, list[int]] = {}
        for i, header in enumerate(self.headers):
            self._places.setdefault(header, []).append(1 + len(self.outcome_columns) + i)

    def _check_rows(self, rows: int) -> None:
        if rows > EXCEL_MAX_ROWS - 1:
            raise ReportError(
                f"{self.path}: {rows:,} rows do not fit in an Excel sheet (limit {EXCEL_MAX_ROWS - 1:,} rows "
                f"under the header); write the report as .csv instead, e.g. {self.path.with_suffix('.csv')}"
            )

    def _start(self, columns: list[pd.Series] | None, last_row: int) -> None:
        """Column widths, frozen header, header row: openpyxl needs them before any row."""
        names = self._output_names()
        widths = [max(len("row"), len(str(last_row)))]
        for i, name in enumerate(names[1:]):
            longest = int(columns[i].str.len().max()) if columns is not None and len(columns[i]) else 0
            widths.append(max(len(name), longest))
        for i, width in enumerate(widths, start=1):
            self._ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 6), 60)
        self._ws.freeze_panes = "A2"
        header = []
        for name in neutralise(pd.Series(names, dtype="str")).tolist():
            cell = WriteOnlyCell(self._ws, name)
            cell.data_type = "s"
            cell.font = _BOLD
            header.append(cell)
        self._ws.append(header)
        self._started = True

    def _cell(self, value: str, fill: PatternFill | None = None, comment: str | None = None) -> Cell:
        cell = WriteOnlyCell(self._ws, value)
        cell.data_type = "s"  # explicit: never a formula or an error value
        if fill is not None:
            cell.fill = fill
        if comment:
            # The comment quotes the original value, which may hold characters XML cannot.
            comment = _ILLEGAL_RE.sub("", comment)
            if self._comments < MAX_COMMENTS:
                lines = comment.count("\n") + 1
                cell.comment = Comment(comment, COMMENT_AUTHOR, height=min(40 + 18 * lines, 400), width=320)
                self._comments += 1
            else:
                self._comments_dropped += 1
        return cell

    def _problem_cells(self, chunk: ReportChunk) -> dict[int, dict[int, tuple[bool, str]]]:
        """Per row position, per column index: (has an error, comment text)."""
        probs = chunk.problems
        probs = probs[probs["column"].isin(list(self._places))] if len(probs) else probs
        if not len(probs):
            return {}
        positions = pd.Index(chunk.rows).get_indexer(probs["row"])
        text = probs["message"].where(probs["part"] == "", probs["part"] + ": " + probs["message"])
        notes: dict[tuple[int, str], tuple[list[str], list[str]]] = {}
        # Loops over problems (far fewer than cells), in the order they were found.
        # A value left out of its record is marked like an error: the CRM did not get it.
        red = invalid_values(probs)
        for pos, column, message, value, is_red in zip(
            positions.tolist(), probs["column"], text, probs["value"], red, strict=True
        ):
            errors, warnings = notes.setdefault((pos, column), ([], []))
            if is_red:
                errors.append(message)
                continue
            original = chunk.inputs[self._places[column][0] - 1 - len(self.outcome_columns)].iat[pos]
            value = "" if pd.isna(value) else str(value)
            warnings.append(message if value == original else f"{message}\nwas: {value}")
        cells: dict[int, dict[int, tuple[bool, str]]] = {}
        for (pos, column), (errors, warnings) in notes.items():
            comment = "\n".join(errors + [f"(warning) {w}" for w in warnings] if errors else warnings)
            for place in self._places[column]:
                cells.setdefault(pos, {})[place] = (bool(errors), comment)
        return cells

    def _write_chunk(self, chunk: ReportChunk) -> None:
        self._check_rows(self.rows_written + len(chunk))
        columns = [neutralise(_xml_safe(s)) for s in (*chunk.outcomes, *chunk.inputs)]
        if not self._started:
            self._start(columns, int(chunk.rows.max()) if len(chunk) else 1)
        special = self._problem_cells(chunk)
        for offset, series in enumerate(columns, start=1):  # text openpyxl would read as errors
            for pos in (series.isin(ERROR_CODES)).to_numpy().nonzero()[0].tolist():
                special.setdefault(pos, {}).setdefault(offset, (False, ""))

        status_fills: dict[str, PatternFill | None] = {}
        if self._status_at is not None:
            for status in columns[self._status_at - 1].unique().tolist():
                colour = status_colour(status)
                status_fills[status] = _fill(colour) if colour else None
        at = self._status_at
        append = self._ws.append
        # "" becomes None: openpyxl then writes no cell at all rather than an empty string cell.
        lists = [s.astype(object).where(s != "", None).tolist() for s in columns]
        for pos, values in enumerate(zip(chunk.rows.tolist(), *lists, strict=True)):
            row: list[object] = list(values)
            if at is not None:
                status = row[at]
                if isinstance(status, str) and status_fills.get(status) is not None:
                    row[at] = self._cell(status, status_fills[status])
            for place, (is_error, comment) in special.get(pos, {}).items():
                fill = (ERROR_FILL if is_error else WARNING_FILL) if comment else None
                value = row[place]
                if isinstance(value, Cell):  # a status that is also an error code
                    value = value.value
                row[place] = self._cell("" if value is None else str(value), fill, comment)
            append(row)

    def _write_summary_sheet(self, summary: RunSummary, complete: bool) -> None:
        ws = self._wb.create_sheet("Summary")
        ws.column_dimensions["A"].width = 45
        ws.column_dimensions["B"].width = 24
        ws.column_dimensions["F"].width = 80

        def bold(*values: str | int) -> list[Cell]:
            cells = []
            for value in values:
                cell = WriteOnlyCell(ws, value)
                cell.font = _BOLD
                cells.append(cell)
            return cells

        if not complete:
            ws.append(bold("The run stopped early: this report covers only the rows before the failure."))
        ws.append(bold("Rows", summary.total))
        for status, count in summary.counts.items():
            ws.append([status, count])
        ws.append([])
        ws.append(bold("Problem", "Code", "Severity", "Rows", "Example row", "Example message"))
        for code, _, row, message in summary.top_problems(len(summary.problem_counts)):
            severity = summary.problem_severity.get(code, ERROR)
            ws.append([problem_title(code) or code, code, severity, summary.problem_rows[code], row, message])
        if summary.notes:
            ws.append([])
            ws.append(bold("Warnings about the file"))
            for note in summary.notes:  # the sheet read, the header row, repeated headers, missing columns
                ws.append([note])
        if self._comments_dropped:
            ws.append([])
            ws.append([f"{self._comments_dropped:,} cells beyond the first {MAX_COMMENTS:,} have no comment"])

    def _finish(self, summary: RunSummary, *, complete: bool) -> None:
        try:
            if not self._started:
                self._start(None, 1)
            last = get_column_letter(len(self._output_names()))
            self._ws.auto_filter.ref = f"A1:{last}{self.rows_written + 1}"
            self._write_summary_sheet(summary, complete)
            self._wb.save(self._fh)
        finally:
            self._fh.close()
