"""The files of a run, checked before any of them is opened for writing.

A run reads its input and mapping, and writes a report, a log (push, appended) and a ledger
(push, with SQLite's ``-wal``/``-shm``/``-journal`` files and our ``.lock`` beside it). Two of
them being one file on disk ends badly: ``--ledger s.json --report s.json`` overwrites the
ledger (and the next run sends every row again), ``--log-file leads.csv`` appends JSON lines to
the input. :func:`check_run_files` refuses that, whatever the spelling: symlinks are resolved and
hard links found by inode (``os.path.samefile``) where the files exist. The default ledger
(``$REALEFLOW_LEDGER``) is guarded even when the run uses another one or none.

An existing report is replaced only when it is a report this tool wrote (its first columns are
``row`` and ``status``; a JSON report starts with its summary) or empty: a nightly job writing
the same ``--report`` path keeps working, and a file that is not a report is never overwritten.
"""

from __future__ import annotations

import contextlib
import csv
import os
import zipfile
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from importer.errors import ReportError, UsageError

__all__ = ["RunFile", "check_existing_report", "check_run_files", "is_report", "ledger_files", "same_file"]

#: SQLite's files beside a database in WAL mode (and rollback mode), and the ledger's lock.
_LEDGER_SIBLINGS = (("-wal", "write-ahead log"), ("-shm", "shared-memory file"), ("-journal", "journal"),
                    (".lock", "lock file"))  # fmt: skip


@dataclass(frozen=True)
class RunFile:
    """One file a run uses: what it is (for messages), its path, and whether the run writes it."""

    what: str  # "the report (--report)", "the write-ahead log of the ledger (--ledger)"
    path: Path
    written: bool
    group: str = ""  # files of one ledger: never compared with each other


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one file: the same resolved path, or the same inode where both exist."""
    with contextlib.suppress(OSError, RuntimeError):  # RuntimeError: a symlink loop
        if a.resolve() == b.resolve():
            return True
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def ledger_files(path: Path, what: str, group: str) -> list[RunFile]:
    """A ledger and the files SQLite and the lock keep beside it."""
    files = [RunFile(what, path, True, group)]
    real = path
    with contextlib.suppress(OSError, RuntimeError):  # RuntimeError: a symlink loop
        # SQLite keeps its files beside the database a symlink points at; our lock is beside the link.
        real = path.resolve()
    for suffix, name in _LEDGER_SIBLINGS:
        beside = path if suffix == ".lock" else real
        files.append(RunFile(f"the {name} of {what}", beside.with_name(beside.name + suffix), True, group))
    return files


def check_run_files(files: list[RunFile]) -> None:
    """UsageError when two of ``files`` are one file on disk and the run writes either of them."""
    for a, b in combinations(files, 2):
        if (a.written or b.written) and not (a.group and a.group == b.group) and same_file(a.path, b.path):
            victim = b if a.written and not b.written else a if b.written and not a.written else b
            raise UsageError(
                f"{a.what} {a.path} and {b.what} {b.path} are the same file, so the run would write over "
                f"{victim.what.split(' (')[0]}; give each its own path"
            )


def is_report(path: Path) -> bool:
    """Whether the file at ``path`` is a report realeflow-import wrote (any format), by its first bytes."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64 * 1024)
    except OSError:
        return False
    if head.startswith(b"PK"):
        return _is_xlsx_report(path)
    text = head.decode("utf-8-sig", "replace")
    if text.startswith('{"summary": '):
        return True
    first = text.splitlines()[0] if text else ""
    with contextlib.suppress(csv.Error):
        return next(csv.reader([first]), [])[:2] == ["row", "status"]
    return False


def _is_xlsx_report(path: Path) -> bool:
    try:
        import openpyxl  # only for an existing .xlsx report

        wb = openpyxl.load_workbook(path, read_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, TypeError):
        return False
    try:
        if "Report" not in wb.sheetnames:
            return False
        first = next(wb["Report"].iter_rows(min_row=1, max_row=1, max_col=2, values_only=True), ())
        return list(first) == ["row", "status"]
    finally:
        wb.close()


def check_existing_report(path: Path) -> None:
    """ReportError when ``path`` holds a file that is neither empty nor a report this tool wrote."""
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return  # nothing there, or a folder (refused when the report is opened)
    except OSError:
        return
    if not is_report(path):
        raise ReportError(
            f"the report {path} would overwrite a file that is not a realeflow-import report; "
            "give --report another path, or move that file aside if it can go"
        )


def check_paths(
    command: str,
    input_path: str | os.PathLike[str],
    mapping: object,
    report: str | os.PathLike[str] | bool | None,
    *,
    ledger: str | os.PathLike[str] | bool | None = False,
    log_file: str | os.PathLike[str] | None = None,
) -> None:
    """Check the files of a ``command`` run before any is written (see the module doc).

    ``report`` as :func:`importer.pipeline.validate_file` takes it (None: the default path,
    False: none); ``ledger`` a path, None for the default one, False when the run keeps none
    (the default ledger is still guarded). Raises UsageError or ReportError.
    """
    from importer.config import LEDGER_ENV, default_ledger_path, ledger_from_env
    from importer.report import default_report_path

    source = Path(input_path)
    files = [RunFile("the input file", source, False)]
    if isinstance(mapping, str | os.PathLike) and Path(mapping).is_file():
        files.append(RunFile("the mapping (--mapping)", Path(mapping), False))
    report_path = None
    if report is not False:
        report_path = default_report_path(source, command) if report is None or report is True else Path(report)
        files.append(RunFile("the report (--report)", report_path, True))
    if log_file is not None:
        files.append(RunFile("the log file (--log-file)", Path(log_file), True))
    default = default_ledger_path()
    default_what = f"the ledger (${LEDGER_ENV})" if ledger_from_env() else "the default ledger"
    chosen = None
    if ledger is not False:
        chosen = default if ledger is None or ledger is True else Path(ledger)
        what = "the ledger (--ledger)" if ledger not in (None, True) else default_what
        files += ledger_files(chosen, what, "ledger")
    if chosen is None or not same_file(chosen, default):
        # Guarded, not written: the run must not write over the ledger of other runs either.
        files += [RunFile(f.what, f.path, False, "default") for f in ledger_files(default, default_what, "default")]
    check_run_files(files)
    if report_path is not None:
        check_existing_report(report_path)
