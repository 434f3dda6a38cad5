"""What the workbench remembers between pages: the connection, the file, the mapping, the review, the runs.

All of it lives in the server's memory (the API key only here, never in a page, a URL, a log or
a file); the browser holds nothing but its session cookie, so back, forward and reload lose
nothing. Long work (the whole-file check, a push) runs on a thread of its own and is polled.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from importer.errors import ImporterError, MappingError, UsageError
from importer.mapping.check import CheckResult, check_mapping
from importer.mapping.suggest import suggest_mapping
from importer.pipeline import make_plan, validate_file
from importer.read.source import Source, describe_sheets, open_source
from importer.read.workbook import EXCEL_EXTENSIONS, SheetKeeper

from . import mapedit
from .connection import Connection
from .rehearsal import Rehearsal
from .runs import Pushes, PushJob, Where
from .table import CHECKERS, ReviewTable

__all__ = ["Workbench"]

#: Rows of the file shown on the file page.
PREVIEW_ROWS = 20
#: Rows sampled to suggest a mapping (as ``mapping suggest``) and to check one (as ``mapping check``).
SUGGEST_ROWS = 200
CHECK_ROWS = 1000


@dataclass(frozen=True)
class _Fixes:
    """The review grid's fixes, kept when the mapping changes: the rows as fixed (a CSV written as a
    push reads it), which rows were fixed, and the file as it was read then (a new file, sheet or
    header row means other rows: the fixes no longer apply)."""

    of: Where
    rows: Where
    edited: frozenset[int]


# long: one person's session through the six steps (where pushes go, the file, the mapping, the
# review, the pushes); each step's few methods share the session's lock and its state.
class Workbench:
    """One person's session: every step's state, and the library calls behind each page."""

    def __init__(
        self,
        workdir: Path,
        *,
        base_url: str | None = None,
        ledger: Path | None = None,
        mappings_dir: Path,
        sandbox: bool = False,
        rehearsal: Rehearsal | None = None,
    ) -> None:
        self.workdir = workdir
        self.base_url = base_url
        self.ledger = ledger
        self.memory = mapedit.MappingMemory(mappings_dir)
        #: on the built-in sandbox (every page says so); ``sandbox_only``: started with ``--sandbox``
        self.sandbox = sandbox
        self.sandbox_only = sandbox
        self.rehearsal = rehearsal
        self.lock = threading.RLock()
        self.conn = Connection(base_url)
        # the real account's connection and pushes, kept while rehearsing on the sandbox
        self._account: tuple[Connection, Pushes] | None = None
        # the file
        self.upload: Path | None = None
        self.filename = ""
        self.sheets: list[tuple[str, int, str]] = []
        self.sheet: str | None = None
        self.header_row: int | None = None  # the person's choice; None: the reader finds it
        self.source: Source | None = None
        self.file_error: str | None = None
        self.preview: pd.DataFrame | None = None
        # the mapping
        self.mapping: dict[str, Any] | None = None
        self.mapping_label = ""
        self.dropped: dict[str, dict[str, Any]] = {}  # transforms turned off, to turn on again
        self.confidence: dict[tuple[str, str], str] = {}  # (part, field) -> how sure the suggestion is
        self.notes: list[str] = []  # the suggestion's things to check
        self.check: CheckResult | None = None
        self.mapping_error: str | None = None
        # review and push
        self.table: ReviewTable | None = None
        self.pushes = Pushes(workdir, base_url=base_url, ledger=ledger)
        self.fixes: _Fixes | None = None  # the grid's fixes across a change of mapping
        self._uploads = 0
        # The upload's sheets parsed once, for the sheet list, the preview, each mapping check and the
        # review (importer.read.workbook); dropped with the upload, and when the session ends.
        self._sheets = SheetKeeper()
        weakref.finalize(self, self._sheets.close)

    def close(self) -> None:
        """The session ends: drop what it keeps of its files."""
        self._sheets.close()

    # -- connect ---------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.conn.connected

    def use_sandbox(self) -> str:
        """Rehearse on the built-in sandbox (started in this process): its own records, its own ledger."""
        with self.lock:
            if not self.sandbox:
                if self.rehearsal is None:
                    raise UsageError("the built-in sandbox is not available in this workbench")
                self._no_push_running()
                conn, pushes = self.rehearsal.connect(self.workdir)
                self._account, self.sandbox = (self.conn, self.pushes), True
                self.conn, self.pushes = conn, pushes
            return self.conn.account or ""

    def use_account(self) -> None:
        """Back to the real account: its key form (or its connection from before the rehearsal)."""
        with self.lock:
            if self.sandbox_only:
                raise UsageError("the workbench was started with --sandbox: start it without to use your account")
            if self._account is not None:
                self._no_push_running()
                (self.conn, self.pushes), self._account, self.sandbox = self._account, None, False

    def _no_push_running(self) -> None:
        if self.pushes.running:
            raise UsageError("a push is running; wait for it or cancel it before switching")

    # -- the file --------------------------------------------------------------------------------

    def new_upload_path(self, filename: str) -> Path:
        """A folder of its own for an upload, the file under its own name (reports and the ledger show it)."""
        self._uploads += 1
        folder = self.workdir / f"upload-{self._uploads}"
        folder.mkdir()
        return folder / (re.sub(r"[^\w .()-]", "_", Path(filename).name).strip(" .")[-120:] or "upload")

    def set_file(self, path: Path, filename: str) -> None:
        """A new file: its sheets, then the first sheet read (every later step starts again)."""
        with self.lock:
            if self.upload is not None and self.upload != path:
                self._sheets.forget(self.upload)
            self._sheets.keep(path)
            self.upload, self.filename = path, filename
            self.sheets, self.sheet = [], None
            self.mapping, self.check, self.table, self.mapping_label = None, None, None, ""
            self.dropped = {}
            if path.suffix.lower() in EXCEL_EXTENSIONS:
                try:
                    self.sheets = describe_sheets(path)
                except ImporterError as exc:
                    self._fail_file(exc)
                    return
            self.open_sheet(None)

    def _fail_file(self, exc: ImporterError) -> None:
        self.source, self.preview = None, None
        self.file_error = self.shown(str(exc))

    def open_sheet(self, sheet: str | None, header_row: int | None = None) -> None:
        assert self.upload is not None
        with self.lock:
            self.sheet, self.header_row = sheet, header_row
            self.table, self.check = None, None
            try:
                self.source = open_source(self.upload, sheet=sheet, header_row=header_row)
            except ImporterError as exc:
                self._fail_file(exc)
                return
            self.file_error = None
            self.sheet = self.source.sheet
            first = next(iter(self.source.chunks(PREVIEW_ROWS, read_ahead=False)), None)
            self.preview = first.frame.iloc[:PREVIEW_ROWS] if first is not None else None
            self._start_mapping()

    # -- the mapping -----------------------------------------------------------------------------

    def _sample(self) -> pd.DataFrame:
        assert self.source is not None
        first = next(iter(self.source.chunks(SUGGEST_ROWS, read_ahead=False)), None)
        if first is None:
            return pd.DataFrame(columns=self.source.headers, dtype="string")
        return first.frame.iloc[:SUGGEST_ROWS]

    def _start_mapping(self) -> None:
        """A saved mapping made for this header, else the preset that fits, else a suggestion."""
        assert self.source is not None
        headers = list(self.source.headers)
        saved = self.memory.for_header(headers)
        if saved:
            self.use_saved(saved[0])
            return
        presets = mapedit.fitting_presets(headers)
        if presets:
            self.use_preset(presets[0])
            return
        self.suggest(None)

    def suggest(self, kind: str | None) -> None:
        assert self.source is not None
        # named as a mapping names them (as ``mapping suggest`` does): a header written twice is
        # "Phone (1)", "Phone (2)"; plain "Phone" would be refused by the check and the push
        names = self.source.mapping_names()
        suggestion = suggest_mapping(names, self._sample().set_axis(names, axis=1), kind)
        self._set_mapping(suggestion.mapping, "suggested from the file's header and values")
        self.confidence, self.notes = mapedit.confidence(suggestion), list(suggestion.notes)

    def use_preset(self, name: str) -> None:
        self._set_mapping(mapedit.preset_data(name), f"preset {name}")

    def use_saved(self, name: str) -> None:
        self._set_mapping(self.memory.load(name), f"saved mapping {name}")

    def use_uploaded(self, path: Path, filename: str) -> None:
        from importer.mapping.yamlfile import read_yaml

        try:
            data = read_yaml(path)
            mapedit.to_mapping(data, filename)  # a file the CLI would refuse is refused here too
        except ImporterError as exc:  # said of the file the person chose, not of its copy here
            raise MappingError(str(exc).replace(str(path), filename)) from exc
        self._set_mapping(data, f"uploaded {filename}")

    def _set_mapping(self, data: dict[str, Any], label: str) -> None:
        with self.lock:
            self.mapping, self.mapping_label = data, label
            self.confidence, self.notes = {}, []
            self.dropped = {}
            self._keep_fixes()
            self.table = None
            self.recheck_mapping()

    def change_mapping(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.mapping = data
            if "(edited)" not in self.mapping_label:
                self.mapping_label += " (edited)"
            self._keep_fixes()
            self.table = None
            self.recheck_mapping()

    def _keep_fixes(self) -> None:
        """Before a new mapping drops the review's table: its fixed rows, written once, for the next review
        and push (they were lost with the table, and the push sent the file as uploaded)."""
        table = self.table
        if table is None or not table.edited or not table.done or table.error or self.upload is None:
            return
        self._uploads += 1  # a new name: the file a running push reads is never rewritten
        path = self.upload.with_name(f"{self.upload.stem}.fixes-{self._uploads}.csv")
        table.write_csv(path)
        self.fixes = _Fixes(self.where(), Where(path, None, 1), frozenset(table.edited))

    def kept_fixes(self) -> _Fixes | None:
        """The fixes kept from an earlier review, if they are of the file as it is read now."""
        fixes = self.fixes
        return fixes if fixes is not None and self.source is not None and fixes.of == self.where() else None

    def recheck_mapping(self) -> None:
        """``mapping check`` of the current mapping against the file's first rows."""
        assert self.mapping is not None and self.upload is not None
        try:
            mapping = mapedit.to_mapping(self.mapping, self.mapping_label or "the mapping")
            where = self.where()
            self.check = check_mapping(mapping, where.path, sheet=where.sheet, header_row=where.header_row,
                                       sample_rows=CHECK_ROWS)
            self.mapping_error = None
        except ImporterError as exc:
            self.check = None
            self.mapping_error = self.shown(str(exc))

    # -- review ----------------------------------------------------------------------------------

    def start_review(self) -> ReviewTable:
        """Check the whole file (on a thread); the grid reads the table as it fills."""
        with self.lock:
            if self.table is not None:
                return self.table
            if self.mapping is None or self.source is None or self.upload is None:
                raise UsageError("choose a file and a mapping first")
            mapping = mapedit.to_mapping(self.mapping, self.mapping_label)
            kept = self.kept_fixes()  # the rows fixed in an earlier review, under another mapping
            where = kept.rows if kept is not None else self.where()  # its own reader: the page's stays free
            source = open_source(where.path, sheet=where.sheet, header_row=where.header_row)
            # as the push binds it: a repeated header named plainly is refused, "Phone (1)" is found
            bound = mapping.bind(source.headers, file=self.filename, duplicates=source.duplicates,
                                 aliases=source.aliases)
            table = ReviewTable(list(source.headers), make_plan(bound))
            rows = mapedit.field_rows(self.mapping)
            table.sources = {(f["part"], f["field"]): f["column"] for f in rows if f["column"]}
            table.edited = set(kept.edited) if kept is not None else set()
            self.table = table

        def work() -> None:
            try:
                table.load(source, lambda: self.table is not table, CHECKERS.pool)
            except Exception as exc:  # shown on the page; the thread must not die silently
                table.error = self.shown(str(exc))
                table.done = True

        threading.Thread(target=work, name="workbench-review", daemon=True).start()
        return table

    def where(self) -> Where:
        """The uploaded file as the pages read it (the sheet, the header row found or chosen)."""
        assert self.upload is not None and self.source is not None
        return Where(self.upload, self.sheet, self.source.header_row)

    def shown(self, text: str) -> str:
        """``text`` with the private folder's copies of the file (the upload, its fixed rows) called by the
        file's name: the person never saw that temporary folder, and a command quoting it is no use to them."""
        if self.upload is not None and self.upload.parent.is_dir():
            for path in sorted((str(p) for p in self.upload.parent.iterdir()), key=len, reverse=True):
                text = text.replace(path, self.filename)
        return text

    def private_file(self, suffix: str, folder: Path | None = None) -> Path:
        """A new file in the private folder (or ``folder`` in it): each download writes its own, so two at
        once (a double click, two tabs) never rewrite the file the other is sending."""
        fd, name = tempfile.mkstemp(suffix=suffix, dir=folder or self.workdir)
        os.close(fd)
        return Path(name)

    def push_file_path(self, to: Path | None = None) -> Where:
        """The file a push reads: the upload as it is, or the fixed rows when some were edited (written
        to ``to``, by default the push's own numbered file)."""
        table = self.table
        assert self.upload is not None
        if table is None or not table.edited:
            kept = self.kept_fixes()  # the mapping changed since the rows were fixed
            return kept.rows if kept is not None else self.where()
        path = to or self.upload.with_name(f"{self.upload.stem}.fixed-{len(self.pushes.jobs) + 1}.csv")
        table.write_csv(path)
        return Where(path, None, 1)  # written with its header in row 1, every row at its old number

    def dry_run_report(self, fmt: str) -> Path:
        """The CLI's ``validate`` report of the file as it is now (with its fixes), in a file of its own."""
        if self.mapping is None or self.upload is None:
            raise UsageError("choose a mapping first")
        rows = self.private_file(".csv", self.upload.parent)  # beside the upload: messages name it as the file
        try:
            where = self.push_file_path(rows)
            report = self.private_file(f".{fmt}")
            mapping = mapedit.to_mapping(self.mapping, self.mapping_label)
            try:
                validate_file(where.path, mapping, sheet=where.sheet, header_row=where.header_row, report=report,
                              keep_outcomes=False, workers=1)
            except ImporterError as exc:
                report.unlink(missing_ok=True)
                raise UsageError(self.shown(str(exc))) from exc
        finally:
            rows.unlink(missing_ok=True)
        return report

    # -- push ------------------------------------------------------------------------------------

    def start_push(self, trial: int | None, *, retry_failed: bool = False) -> PushJob:
        """A push of the file (its fixed rows included): every row not created yet; ``trial``: the
        first N of them only (``push --limit N``); ``retry_failed``: only the rows whose last try
        failed or was not sent, those whose answer was lost included (``push --retry-failed``)."""
        with self.lock:
            if self.pushes.running:
                raise UsageError("a push is running; wait for it or cancel it first")
            if self.mapping is None or self.upload is None:
                raise UsageError("choose a file and a mapping first")
            if trial is not None and trial < 1:
                raise UsageError("a trial sends at least 1 row")
            if trial is not None and retry_failed:
                raise UsageError("a trial and sending the failed rows again are two pushes: start one of them")
            mapping = mapedit.to_mapping(self.mapping, self.mapping_label)
            # a trial is the CLI's push --limit N on the whole file: the first N rows that need
            # sending go, the others stay not-sent (held back) in its report for the next push
            where = self.push_file_path()
            return self.pushes.start(where, mapping, self.conn.key(), trial=trial, retry_failed=retry_failed,
                                     shown_as=self.filename)

    def save_mapping(self, name: str) -> Path:
        if self.mapping is None or self.source is None:
            raise MappingError("nothing to save: choose a file and a mapping first")
        path = self.memory.save(name, self.mapping, list(self.source.headers))
        self.mapping_label = f"saved mapping {name.strip()}"
        return path
