"""The results report: one line per input row, in input order, and the run summary.

Owns: the report writers (CSV, XLSX, JSON), the cells they render, the run summary.
May import: the foundation (errors, problems, arrowtext).

Usage by the pipeline::

    summary = RunSummary()
    path = report_path or default_report_path(input_path, "push")
    with open_report(path, headers=headers, outcome_columns=["status", "id", "error", "warnings"]) as rep:
        for inputs, outcomes, problems in chunks:
            rep.write(inputs, outcomes, problems)
            summary.add(outcomes, problems)
        rep.close(summary)
    text = render_summary(summary, path)   # the CLI prints it

Report columns: ``row`` (the spreadsheet row number), the outcome columns, then
the input's own columns with their header text, in file order. The format comes
from the extension: .csv (streamed, UTF-8 with BOM, CRLF), .json (streamed,
summary first) or .xlsx (styled for fixing by hand; at most 1,048,575 rows).
In every format a cell starting with ``= + - @``, tab or CR gets a leading
``'`` against formula injection, so "-5" reads "'-5"; :func:`restore_neutralised`
undoes that when a fixed report is loaded again.

If the ``with`` block ends in an exception, the rows written so far are kept
(they may already be in the CRM): CSV as is, JSON and XLSX with their summary
marked incomplete.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from importer.errors import ReportError
from importer.formulas import DANGEROUS_PREFIXES, neutralise, restore_neutralised
from importer.report.base import BaseReportWriter, write_error
from importer.report.csv_json import CsvReportWriter, JsonReportWriter
from importer.report.summary import RunSummary, render_summary

if TYPE_CHECKING:  # loaded on first use by __getattr__ below
    from importer.report.xlsx import EXCEL_MAX_ROWS, STATUS_COLOURS

__all__ = [
    "DANGEROUS_PREFIXES",
    "EXCEL_MAX_ROWS",
    "REPORT_FORMATS",
    "STATUS_COLOURS",
    "ReportWriter",
    "RunSummary",
    "default_report_path",
    "neutralise",
    "open_report",
    "render_summary",
    "report_front_columns",
    "restore_neutralised",
]

_FROM_XLSX = ("EXCEL_MAX_ROWS", "STATUS_COLOURS", "XlsxReportWriter")


def __getattr__(name: str) -> object:
    # openpyxl (slow to import) is loaded only when an .xlsx report is written or these are asked for.
    if name in _FROM_XLSX:
        from importer.report import xlsx

        return getattr(xlsx, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Supported report formats (file extensions without the dot).
REPORT_FORMATS: tuple[str, ...] = ("csv", "xlsx", "json")


#: What :func:`open_report` returns: every format's writer shares this base (write a chunk,
#: or a chunk a worker encoded; close with the run's summary; a context manager).
ReportWriter = BaseReportWriter


def default_report_path(input_path: Path, command: str, fmt: str = "csv") -> Path:
    """The report's default place, beside the input: "leads.xlsx" -> "leads.push-report.csv"."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in REPORT_FORMATS:
        raise ReportError(f"report format {fmt!r} is not supported; use one of {', '.join(REPORT_FORMATS)}")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", command):
        raise ValueError(f"command {command!r} cannot be part of a file name")
    input_path = Path(input_path)
    report = input_path.with_name(f"{input_path.stem}.{command}-report.{fmt}")
    if report == input_path:  # cannot happen with a plain suffix, but never risk the input
        report = input_path.with_name(f"{input_path.name}.{command}-report.{fmt}")
    return report


def report_front_columns(outcome_columns: list[str]) -> list[str]:
    """The columns a report puts before the input's own: what a loader drops on re-import."""
    return ["row", *outcome_columns]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def open_report(
    path: Path,
    *,
    headers: list[str],
    outcome_columns: list[str],
    expected_rows: int | None = None,
    input_path: Path | None = None,
) -> ReportWriter:
    """Open a report for writing; the format comes from the extension.

    The file is created at once, so a path that cannot be written fails before
    any record is sent. ``expected_rows`` (if known) lets an .xlsx report fail
    early when it would exceed Excel's row limit; ``input_path`` guards against
    overwriting the input with its own report.

    Raises ReportError for an unsupported extension, an unwritable path, the
    input file itself, or too many rows/columns for Excel.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in REPORT_FORMATS:
        raise ReportError(
            f"cannot write the report {path}: unsupported extension {path.suffix or '(none)'!r}; "
            f"use .csv, .xlsx or .json"
        )
    if input_path is not None and (Path(input_path).resolve() == path.resolve() or _same_file(Path(input_path), path)):
        raise ReportError(f"the report {path} would overwrite the input file; choose another report path")
    if fmt == "xlsx" and expected_rows is not None:
        from importer.report.xlsx import EXCEL_MAX_ROWS  # openpyxl is imported for .xlsx reports only

        if expected_rows > EXCEL_MAX_ROWS - 1:
            raise ReportError(
                f"{path}: {expected_rows:,} rows do not fit in an Excel sheet (limit {EXCEL_MAX_ROWS - 1:,} "
                f"rows under the header); write the report as .csv instead, e.g. {path.with_suffix('.csv')}"
            )
    if path.is_dir():
        raise ReportError(f"cannot write the report {path}: it is a folder; give a file name")
    fh: IO[Any] | None = None
    try:
        if fmt == "json":
            text = fh = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
            return JsonReportWriter(path, text, headers=headers, outcome_columns=outcome_columns)
        data = fh = open(path, "wb")  # noqa: SIM115
        if fmt == "csv":
            return CsvReportWriter(path, data, headers=headers, outcome_columns=outcome_columns)
        from importer.report.xlsx import XlsxReportWriter

        return XlsxReportWriter(
            path, data, headers=headers, outcome_columns=outcome_columns, expected_rows=expected_rows
        )
    except BaseException as exc:
        if fh is not None:  # the writer could not start: leave no empty or half-made report behind
            fh.close()
            with contextlib.suppress(OSError):
                path.unlink()
        if isinstance(exc, OSError):
            raise write_error(path, exc) from exc
        raise
