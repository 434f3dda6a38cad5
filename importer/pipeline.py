"""The whole chain, as library calls: ``validate_file`` and ``push_file``.

    load (importer.read.source) -> extract (importer.mapping.model) -> validate (importer.validate.rules)
      -> map (importer.plans.payload) -> push (importer.push.pusher) -> report (importer.report)

The file is processed chunk by chunk, so memory stays flat however long the
file: each chunk is loaded, checked, sent and written to the report, and a
push holds at most two chunks (the one being sent and the next, loaded and
checked on a thread meanwhile, so the workers never wait for pandas). Every
row keeps its spreadsheet row number (the chunk's index) through every stage,
so the report lines up with the input.

Nothing here prints or exits: progress goes to an :class:`Observer`, the
outcome comes back as an :class:`ImportResult`, and failures that stop a run
are :mod:`importer.errors` exceptions.

A push keeps a ledger (:mod:`importer.ledger`) unless told not to: it locks
it, records the run, settles what a killed earlier run left in flight, skips
rows created before, and records every request before and after it is sent.

Why one module: it is orchestration only (each stage lives in its package), and ``validate_file``
and ``push_file`` share the run's skeleton here (opening, the report, progress, the result), so
splitting them would move that skeleton to a third module both import, for no reader's gain.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from importer import config
from importer.config import API_KEY_ENV
from importer.endpoint import Endpoint, endpoint_from_env
from importer.errors import AccountInactiveError, ImporterError, LedgerError, MappingError, UsageError
from importer.ledger import Journal, Ledger
from importer.mapping.fit import fit_hint
from importer.mapping.model import BoundMapping, Mapping, load_mapping
from importer.outcomes import exit_code_for
from importer.parallel import DryRunChunk, DryRunPool, RowCheck, check_rows, plan_workers
from importer.paths import check_paths
from importer.plans.resume import LedgerGraphState
from importer.plans.single import RecordPlan
from importer.problems import concat_problems, empty_problems
from importer.push.client import RealeflowClient
from importer.push.pusher import Pusher, RequestLog
from importer.push.retry import start_retrying
from importer.push.settings import PushSettings
from importer.push.stopping import StopOnSignals, StopSwitch
from importer.read.source import Chunk, Source, open_source
from importer.report import ReportWriter, RunSummary, default_report_path, open_report

__all__ = [
    "ImportResult",
    "Observer",
    "Plan",
    "RowCheck",
    "check_rows",
    "estimate_rows",
    "make_plan",
    "push_confirmation",
    "push_file",
    "validate_file",
]

#: A push holds a payload dict, a job and an outcome per row of a chunk: smaller chunks keep its
#: memory low and cost one round trip of idle workers per chunk (figures in bench/README.md).
DEFAULT_PUSH_CHUNK_ROWS = 10_000
#: A push's first chunk is small, so the first requests leave after 500 rows are checked, not 10,000.
FIRST_PUSH_CHUNK_ROWS = 500
#: A dry run sends nothing, so it reads bigger chunks: each chunk has a fixed pandas and pandera
#: cost. Sized by cells, so that a wide file gets fewer rows per chunk and memory stays about the
#: same (figures in bench/README.md).
VALIDATE_CHUNK_CELLS = 1_500_000


def validate_chunk_rows(columns: int) -> int:
    """Rows per chunk for a dry run of a file with ``columns`` columns: 100k for 15, 10k at least."""
    return max(10_000, min(100_000, VALIDATE_CHUNK_CELLS // max(1, columns)))


class Observer:
    """Receives progress; the CLI draws a progress bar from it. Every method is optional."""

    def started(self, command: str, source: Source) -> None: ...

    def expected(self, rows: int) -> None:
        """About how many data rows the file has (for an ETA); called after ``started`` when known."""

    def advanced(self, rows: int, counts: dict[str, int]) -> None: ...

    def notice(self, message: str) -> None: ...

    def finished(self) -> None: ...


@dataclass
class ImportResult:
    """What a run did: counts per status, the report's path, and per-row outcomes."""

    command: str
    source: Path
    report_path: Path | None
    summary: RunSummary
    outcomes: pd.DataFrame | None = None  # index row; status, id, error, warnings (keep_outcomes=True)
    fatal: ImporterError | None = None  # what stopped the run early (e.g. AuthError mid-run)
    run_id: int | None = None  # the run's number in the ledger (push with a ledger)
    ledger_path: Path | None = None
    log_path: Path | None = None
    elapsed: float = 0.0  # seconds
    held_back: int = 0  # rows --limit kept for a later run (not-sent, but nothing went wrong)
    fail_on_changed: bool = False  # a changed row makes the exit code 1
    # every problem of the run's rows, as the report lists them (keep_outcomes=True): the cells it marks,
    # the record.changed warnings (one per field that differs from an earlier run)
    problems: pd.DataFrame | None = None

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.summary.counts)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def exit_code(self) -> int:
        """0 all rows went through; 1 some rows invalid or failed; 3 the API refused us midway."""
        if self.fatal is not None:
            return self.fatal.exit_code
        return exit_code_for(self.counts, fail_on_changed=self.fail_on_changed, held_back=self.held_back)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary for orchestrators (Airflow XCom, Prefect, Dagster metadata)."""
        return {
            "command": self.command,
            "source": str(self.source),
            "report": str(self.report_path) if self.report_path else None,
            "ledger": str(self.ledger_path) if self.ledger_path else None,
            "log": str(self.log_path) if self.log_path else None,
            "run_id": self.run_id,
            "total": self.summary.total,
            "counts": self.counts,
            "exit_code": self.exit_code,
            "held_back": self.held_back,
            "error": str(self.fatal) if self.fatal else None,
            "elapsed_seconds": round(self.elapsed, 3),
        }


class Plan(Protocol):
    """How the rows of a chunk become records: :class:`importer.plans.single.RecordPlan` for one
    record per row, :class:`importer.plans.with_contacts.GraphPlan` for a property with its contacts."""

    outcome_columns: list[str]
    kinds: set[str]  # record kinds it creates (to prime lost-answer reconciliation)
    notices: tuple[str, ...]  # warnings about the file (columns the mapping names that it lacks)

    def validate(self, chunk: Chunk) -> Any: ...  # extract + validate; has .chunk and .problems

    def dry_run(self, validated: Any) -> pd.DataFrame: ...  # dry-run outcomes

    def prepare(self, validated: Any) -> Any: ...  # the chunk with its requests built (run on a thread)

    # push outcomes, and the chunk's problems with those found while pushing (records changed since a run)
    async def push(self, validated: Any, pusher: Pusher) -> tuple[pd.DataFrame, pd.DataFrame]: ...


def make_plan(bound: BoundMapping) -> Plan:
    """The plan for a mapping's kind."""
    if bound.mapping.kind == "property-with-contacts":
        from importer.plans.with_contacts import GraphPlan

        return GraphPlan(bound)
    return RecordPlan(bound)


@dataclass
class _Run:
    command: str
    source: Source
    plan: Plan
    writer: ReportWriter | None
    observer: Observer
    summary: RunSummary = field(default_factory=RunSummary)
    outcomes: list[pd.DataFrame] = field(default_factory=list)
    problems: list[pd.DataFrame] = field(default_factory=list)  # with the outcomes (keep_outcomes)
    keep_outcomes: bool = True
    started: float = field(default_factory=time.monotonic)
    progress: _Progress = field(init=False)

    def __post_init__(self) -> None:
        self.progress = _Progress(self.observer, self.summary)


class _Progress:
    """What the observer is told, from one count: rows done so far, and their statuses.

    Rows are counted once, by where they are: a finished chunk's rows in the run's summary (the
    report's counts), the rows of the chunk being pushed that have their outcome in ``live`` until
    the chunk's summary takes them over. The observer is told how far the run got since it was
    last told (live rows at most 5 times a second).
    """

    def __init__(self, observer: Observer, summary: RunSummary) -> None:
        self.observer = observer
        self.summary = summary
        self.live: Counter[str] = Counter()  # the chunk being pushed: statuses of its finished rows
        self.told = 0  # rows the observer has been told of
        self._last = 0.0

    def row(self, status: str) -> None:
        """A row of the chunk being pushed has its outcome (the pusher's ``on_row``)."""
        self.live[status] += 1
        now = time.monotonic()
        if now - self._last >= 0.2:
            self._last = now
            self._tell()

    def chunk_done(self) -> None:
        """The chunk's summary is in the run's: its live rows are counted there now."""
        self.live.clear()
        self._tell()

    def _tell(self) -> None:
        counts = Counter(self.summary.counts)
        counts.update(self.live)
        done = self.summary.total + self.live.total()
        self.observer.advanced(max(0, done - self.told), dict(counts))
        self.told = max(self.told, done)


def _open(
    path: str | os.PathLike[str],
    mapping: Mapping | str | os.PathLike[str],
    sheet: str | int | None,
    encoding: str | None,
    quotes: str | None = None,
    header_row: int | None = None,
) -> tuple[Source, Plan]:
    """The opened file and the plan of the mapping bound to it. The header row: ``header_row``, else
    the mapping's ``header_row:``, else found (importer.read.header)."""
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    row = header_row if header_row is not None else mapping.header_row
    source = open_source(path, sheet=sheet, encoding=encoding, quotes=quotes, header_row=row)
    try:
        bound = mapping.bind(
            source.headers, file=str(source.path), duplicates=source.duplicates, aliases=source.aliases
        )
    except MappingError as exc:
        there = source.header_row_for(mapping.columns)  # the mapping's columns are in another row
        if there is not None:
            raise MappingError(f"{exc}; {source.header_row_advice(there)}") from exc
        hint = fit_hint(mapping, source.headers, source.path)  # another vendor's layout: which preset fits
        if hint is None:
            raise
        raise MappingError(f"{exc}; {hint}") from exc
    return source, make_plan(bound)


def _report_chunk(
    run: _Run, chunk: Chunk, problems: pd.DataFrame, outcomes: pd.DataFrame, summary: RunSummary | None = None
) -> None:
    """A finished chunk: its lines in the report, its rows counted."""
    summary = summary or RunSummary.of(outcomes, problems)
    if run.writer is not None:
        run.writer.write(chunk.frame, outcomes, problems, summary=summary)
    if run.keep_outcomes and len(problems):
        run.problems.append(problems)
    _count_chunk(run, summary, outcomes)


def _count_chunk(run: _Run, summary: RunSummary, outcomes: pd.DataFrame | None) -> None:
    run.summary.merge(summary)
    if run.keep_outcomes and outcomes is not None:
        run.outcomes.append(outcomes)
    run.progress.chunk_done()


def _report_checked(run: _Run, checked: DryRunChunk) -> None:
    """Report and count a dry-run chunk: its encoded lines if a worker made them."""
    if checked.encoded is None:
        assert checked.chunk is not None and checked.problems is not None and checked.outcomes is not None
        _report_chunk(run, checked.chunk, checked.problems, checked.outcomes, checked.summary)
        return
    if run.writer is not None:
        run.writer.write_encoded(checked.encoded, checked.summary)
    if run.keep_outcomes and checked.problems is not None and len(checked.problems):
        run.problems.append(checked.problems)
    _count_chunk(run, checked.summary, checked.outcomes)


def _finish(
    run: _Run, observer: Observer, fatal: ImporterError | None = None, held_back: int = 0, fail_on_changed: bool = False
) -> ImportResult:
    run.summary.held_back = held_back  # before the report's summary is written
    if run.writer is not None:
        run.writer.close(run.summary)
    observer.finished()
    outcomes = problems = None
    if run.keep_outcomes:
        outcomes = pd.concat(run.outcomes) if run.outcomes else pd.DataFrame(columns=run.plan.outcome_columns)
        problems = concat_problems(run.problems) if run.problems else empty_problems()
    return ImportResult(
        run.command,
        run.source.path,
        run.writer.path if run.writer is not None else None,
        run.summary,
        outcomes,
        fatal,
        elapsed=time.monotonic() - run.started,
        held_back=held_back,
        fail_on_changed=fail_on_changed,
        problems=problems,
    )


def estimate_rows(source: Source) -> int | None:
    """About how many data rows a file has, cheaply (for the ETA and the number of workers), or None.

    A CSV's line breaks are counted (quoted line breaks and blank lines make it a little
    high); past 32 MiB, in the first 8 MiB only and scaled by the file's size (a 150 MiB
    file: 5 ms instead of 0.15 s). A sheet knows its height.
    """
    try:
        if source.kind == "csv":
            size = source.path.stat().st_size
            with open(source.path, "rb") as fh:
                block = fh.read(size if size <= _COUNT_WHOLE else _COUNT_SAMPLE)
            if not block:
                return 0
            lines = block.count(b"\n") + (block[-1:] != b"\n")
            if len(block) < size:
                lines = round(lines * size / len(block))
            return max(0, lines - source.header_row)
        height = source.sheet_height()
        return max(0, height - source.header_row) if height is not None else None
    except (OSError, TypeError, ValueError):
        return None


_COUNT_WHOLE = 32 << 20
_COUNT_SAMPLE = 8 << 20


def _writer(
    source: Source, plan: Plan, command: str, report: str | os.PathLike[str] | bool | None
) -> ReportWriter | None:
    if report is False:
        return None
    path = default_report_path(source.path, command) if report is None or report is True else Path(report)
    return open_report(path, headers=source.headers, outcome_columns=plan.outcome_columns, input_path=source.path)


class _Prepared:
    """A push's chunks, loaded, checked and prepared on a thread one chunk ahead of the one being sent.

    The first is started at once, so it overlaps the account check and the ledger's
    recovery; each later one overlaps the sending of the chunk before it. The CPU
    work holds the GIL only in pandas' Python parts, so the event loop keeps
    answering; at most two chunks are held (the source's own read-ahead is off).
    """

    def __init__(self, source: Source, plan: Plan, rows: int) -> None:
        self._plan = plan
        self._chunks = source.chunks(rows, first_rows=min(rows, FIRST_PUSH_CHUNK_ROWS), read_ahead=False)
        self._next = self._start()

    def _start(self) -> asyncio.Future[Any]:
        # Not asyncio.to_thread: cancelling a task that awaits it would not stop the thread, so the
        # future is kept whole (awaited through shield) and aclose can wait for the thread to end.
        return asyncio.get_running_loop().run_in_executor(None, self._step)

    def _step(self) -> Any:
        chunk = next(self._chunks, None)
        return None if chunk is None else self._plan.prepare(self._plan.validate(chunk))

    def __aiter__(self) -> _Prepared:
        return self

    async def __anext__(self) -> Any:
        validated = await asyncio.shield(self._next)
        if validated is None:
            raise StopAsyncIteration
        self._next = self._start()
        return validated

    async def aclose(self) -> None:
        """Wait for the thread (the source must not be read after the run ends), then close the reader."""
        cancelled = False
        while not self._next.done():
            try:
                await asyncio.wait({self._next})  # a cancel ends this wait, not the thread's future
            except asyncio.CancelledError:
                cancelled = True
        if not self._next.cancelled():
            self._next.exception()  # retrieved: a chunk that failed after the run ended is not news
        self._chunks.close()  # the file, now, not when collected
        if cancelled:
            raise asyncio.CancelledError


#: A push of more rows than this to an API that is not this computer asks first, on a terminal.
CONFIRM_ABOVE_ROWS = 100
_WHAT = {
    "contact": "contacts",
    "property": "properties",
    "property-with-contacts": "properties with their contacts and the links between them",
}


def push_confirmation(
    path: str | os.PathLike[str],
    mapping: Mapping | str | os.PathLike[str],
    *,
    interactive: bool,
    sheet: str | int | None = None,
    encoding: str | None = None,
    quotes: str | None = None,
    header_row: int | None = None,
    base_url: str | Endpoint | None = None,
    insecure: bool = False,
    limit: int | None = None,
) -> str | None:
    """What to ask before a push, or None when it goes ahead without asking.

    A person at a terminal (``interactive``: the caller knows) is asked before more than
    :data:`CONFIRM_ABOVE_ROWS` rows (about: the file's rows, at most ``limit``; unknown counts as
    more) are pushed to an API that is not this computer (a loopback sandbox never asks). The text
    says how many rows, which kinds of record and where (the URL, never the key); the caller adds
    the question. Without a terminal (cron, a pipe) there is never a question. Nothing is sent
    here: the file's header and size are read, the API is not contacted.
    """
    if not interactive or not config.api_key().strip():  # without a key the push stops by itself
        return None
    endpoint = endpoint_from_env(base_url, insecure=insecure)
    if endpoint.loopback:
        return None
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    source, _ = _open(path, mapping, sheet, encoding, quotes, header_row)  # the mapping must fit the file
    rows = estimate_rows(source)
    if limit is not None:
        rows = min(rows, limit) if rows is not None else limit
    if rows is not None and rows <= CONFIRM_ABOVE_ROWS:
        return None
    count = f"up to {rows:,} rows" if rows is not None else "every row"
    what = _WHAT.get(mapping.kind, "records")
    return f"About to create {count} of {Path(path).name} as {what} in the Realeflow account at {endpoint.url}."


def validate_file(
    path: str | os.PathLike[str],
    mapping: Mapping | str | os.PathLike[str],
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    quotes: str | None = None,
    header_row: int | None = None,
    report: str | os.PathLike[str] | bool | None = None,
    observer: Observer | None = None,
    keep_outcomes: bool = True,
    chunk_rows: int | None = None,
    workers: int | None = None,
) -> ImportResult:
    """Dry run: load, validate and report every row; nothing is sent.

    ``report``: a path (format from its extension), None for the default path
    next to the input, False for no report file. ``chunk_rows`` None: sized
    by :func:`validate_chunk_rows`. ``workers``: processes checking chunks
    (:mod:`importer.parallel`); None for one per core when the file is big
    enough to share, 1 to check in this process. ``quotes``: "none" reads a CSV's
    quotes as plain characters (see :func:`importer.read.source.open_source`). ``header_row``: the
    row number (as Excel shows it) of the column headers; None: the mapping's ``header_row:``, else
    found among the first rows. What was read other than a table from row 1 of the only sheet
    (the sheet, the header row, repeated headers) is in the result's ``summary.notes``.
    """
    observer = observer or Observer()
    check_paths("validate", path, mapping, report)
    source, plan = _open(path, mapping, sheet, encoding, quotes, header_row)
    total = estimate_rows(source)
    workers, rows = plan_workers(workers, total, chunk_rows or validate_chunk_rows(len(source.headers)))
    writer = _writer(source, plan, "validate", report)
    run = _Run("validate", source, plan, writer, observer, keep_outcomes=keep_outcomes)
    run.summary.notes = [*source.notes(), *plan.notices]
    try:
        encoder = run.writer.encoder() if run.writer is not None else None
        # Before the observer starts: workers are forked before any thread of ours exists.
        with DryRunPool(plan, workers, source=source, encoder=encoder, keep_outcomes=keep_outcomes) as pool:
            observer.started("validate", source)
            if total is not None:
                observer.expected(total)
            for checked in pool.run(source, rows):
                _report_checked(run, checked)
    except BaseException:
        observer.finished()
        raise
    return _finish(run, observer)


# long: one call runs a whole import; most of its lines are the arguments (the CLI's options) and their doc.
def push_file(
    path: str | os.PathLike[str],
    mapping: Mapping | str | os.PathLike[str],
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    quotes: str | None = None,
    header_row: int | None = None,
    report: str | os.PathLike[str] | bool | None = None,
    api_key: str | None = None,
    base_url: str | Endpoint | None = None,
    insecure: bool = False,
    settings: PushSettings | None = None,
    observer: Observer | None = None,
    keep_outcomes: bool = True,
    chunk_rows: int = DEFAULT_PUSH_CHUNK_ROWS,
    ledger: str | os.PathLike[str] | bool | None = None,
    log_file: str | os.PathLike[str] | None = None,
    stop: StopSwitch | None = None,
) -> ImportResult:
    """Load, validate and create every valid row through the API; report every row.

    One call runs a whole import and returns an :class:`ImportResult` (counts,
    report path, per-row outcomes, ``exit_code``, ``to_dict()``), so scripts
    and orchestrators can run it as one task.

    ``api_key`` and ``base_url`` default to the environment variables
    ``REALEFLOW_API_KEY`` and ``REALEFLOW_API_URL`` (checked by :mod:`importer.endpoint`;
    ``insecure`` allows ``http://`` to another computer). ``ledger``: a path, None
    for the default (:func:`importer.ledger.default_ledger_path`), False for
    none (nothing remembered between runs). ``log_file``: one JSON line per
    request. ``settings.force`` / ``settings.retry_failed`` need a ledger. ``sheet``, ``encoding``,
    ``quotes`` and ``header_row`` as for :func:`validate_file`.
    Raises LedgerLockedError when another run holds the ledger. ``stop``: a StopSwitch
    (:mod:`importer.push.stopping`) another thread may press to end the run as SIGINT does.
    """
    key, endpoint, settings = _push_settings(api_key, base_url, insecure, settings, ledger)
    observer = observer or Observer()
    check_paths("push", path, mapping, report, ledger=ledger, log_file=log_file)
    source, plan = _open(path, mapping, sheet, encoding, quotes, header_row)
    source.preflight()  # a stray quote far down stops the run before anything is sent
    ledger_db = None if ledger is False else Ledger.open(None if ledger is None or ledger is True else Path(ledger))
    try:
        return asyncio.run(
            _push(
                source,
                plan,
                key,
                endpoint,
                settings,
                observer,
                report,
                keep_outcomes,
                chunk_rows,
                ledger_db,
                Path(log_file) if log_file is not None else None,
                str(mapping.source if isinstance(mapping, Mapping) else mapping),
                stop,
            )
        )
    finally:
        if ledger_db is not None:
            ledger_db.close()


def _push_settings(
    api_key: str | None,
    base_url: str | Endpoint | None,
    insecure: bool,
    settings: PushSettings | None,
    ledger: str | os.PathLike[str] | bool | None,
) -> tuple[str, Endpoint, PushSettings]:
    """(the API key, the endpoint, the settings) for a push, or UsageError for what cannot run."""
    api_key = api_key if api_key is not None else config.api_key()
    if not api_key.strip():
        raise UsageError(f"no API key: set the environment variable {API_KEY_ENV} (never pass it on the command line)")
    endpoint = endpoint_from_env(base_url, insecure=insecure)  # a bad URL stops the run before anything opens
    settings = settings or PushSettings()
    if ledger is False and (settings.force or settings.retry_failed):
        raise UsageError("--force and --retry-failed need the ledger: they act on what it remembers")
    return api_key.strip(), endpoint, settings


async def _check_account(client: RealeflowClient, settings: PushSettings, observer: Observer) -> None:
    async for attempt in start_retrying(settings, lambda m: observer.notice(f"account check: {m}")):
        with attempt:
            status = await client.account_status()
    if status != "Active":
        raise AccountInactiveError(
            f"the Realeflow account status is '{status}', not 'Active': nothing was sent; "
            "sort the account out in Realeflow first"
        )


async def _send_all(pusher: Pusher, plan: Plan, prepared: _Prepared, run: _Run, observer: Observer) -> None:
    """Every chunk, sent and reported. Whatever stops the run (a signal, a 401, the ledger failing,
    the lists unreadable at the start), the chunks left are still read and reported: rows not sent
    are ``not-sent``, so the report has a line for every row."""
    try:
        await pusher.prime(plan.kinds)
        recovered = await pusher.recover()
        if recovered:
            observer.notice(recovered)
    except ImporterError as exc:
        pusher.stop(exc)
    async for validated in prepared:
        outcomes, problems = await plan.push(validated, pusher)
        _report_chunk(run, validated.chunk, problems, outcomes)


def _close_run(journal: Journal, summary: RunSummary, result: ImportResult | None) -> None:
    """Record how the run ended. A ledger that fails now becomes the result's error (exit 2), after
    the report and the summary, never instead of them."""
    if result is None:
        with contextlib.suppress(ImporterError):  # never hide what stopped the run
            journal.flush_now()
            journal.finish("interrupted", dict(summary.counts), None)
        return
    try:
        journal.flush_now()  # LedgerError if a create could not be recorded
    except LedgerError as exc:
        result.fatal = result.fatal or exc
    state = "stopped" if result.fatal else "finished"
    note = str(result.fatal) if result.fatal else None
    try:
        journal.finish(state, result.counts, result.exit_code, note)
    except LedgerError as exc:
        result.fatal = result.fatal or exc


def _start_journal(ledger: Ledger | None, scope: str, source: Source, mapping_name: str) -> Journal | None:
    """The ledger's record of this run (None without a ledger)."""
    if ledger is None:
        return None
    return Journal.start(ledger, scope, "push", str(source.path), mapping_name)


# long: the run's resources (client, log, report, journal, stop handlers) opened and closed in one place,
# in the order that keeps the report and the ledger whole whatever stops the run.
async def _push(
    source: Source,
    plan: Plan,
    api_key: str,
    endpoint: Endpoint,
    settings: PushSettings,
    observer: Observer,
    report: str | os.PathLike[str] | bool | None,
    keep_outcomes: bool,
    chunk_rows: int,
    ledger: Ledger | None,
    log_path: Path | None,
    mapping_name: str,
    stop: StopSwitch | None = None,
) -> ImportResult:
    prepared = _Prepared(source, plan, chunk_rows)  # the first chunk is checked while the run starts
    try:
        # No single request may outlast the row it is for.
        timeout = min(settings.request_timeout, settings.row_timeout)
        async with RealeflowClient(api_key, endpoint, concurrency=settings.concurrency, timeout=timeout) as client:
            await _check_account(client, settings, observer)
            # The log first: a log file that cannot be opened stops the run before the report is
            # replaced or the ledger records a run.
            log = RequestLog(log_path) if log_path is not None else None
            writer = journal = None
            result: ImportResult | None = None
            try:
                writer = _writer(source, plan, "push", report)
                run = _Run("push", source, plan, writer, observer, keep_outcomes=keep_outcomes)
                run.summary.notes = [*source.notes(), *plan.notices]
                journal = _start_journal(ledger, endpoint.scope, source, mapping_name)
                if log is not None and journal is not None:
                    log.run_id = journal.run_id
                observer.started("push", source)
                if (total := estimate_rows(source)) is not None:
                    observer.expected(total)
                pusher = Pusher(
                    client, settings, journal=journal, log=log, on_notice=observer.notice, on_row=run.progress.row
                )
                if journal is not None and hasattr(plan, "state"):  # property-with-contacts: parts in the ledger
                    plan.state = LedgerGraphState(journal, on_failure=pusher.stop)
                with StopOnSignals(pusher, observer.notice), (stop or StopSwitch()).attached(pusher, observer.notice):
                    await _send_all(pusher, plan, prepared, run, observer)
                result = _finish(run, observer, pusher.fatal, pusher.held_back, settings.fail_on_changed)
            except BaseException:
                observer.finished()
                if writer is not None:
                    writer.abort()
                raise
            finally:
                if log is not None:
                    log.close()
                if journal is not None:
                    _close_run(journal, run.summary, result)
            result.run_id = journal.run_id if journal else None
            result.ledger_path = ledger.path if ledger else None
            result.log_path = log_path
            return result
    finally:
        await prepared.aclose()
