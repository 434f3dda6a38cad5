"""The whole chain, as library calls: ``validate_file`` and ``push_file``.

    load (importer.load) -> extract (importer.mapping) -> validate (importer.validate)
      -> map (importer.payload) -> push (importer.push) -> report (importer.report)

The file is processed chunk by chunk (50,000 rows by default), so memory stays
flat however long the file: each chunk is loaded, checked, sent and written to
the report before the next is read. Every row keeps its spreadsheet row number
(the chunk's index) through every stage, so the report lines up with the input.

Nothing here prints or exits: progress goes to an :class:`Observer`, the
outcome comes back as an :class:`ImportResult`, and failures that stop a run
are :mod:`importer.errors` exceptions.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from importer.client import DEFAULT_BASE_URL, RealeflowClient
from importer.errors import AccountInactiveError, ImporterError, UsageError
from importer.load import Chunk, Source, open_source
from importer.mapping import BoundMapping, Mapping, load_mapping
from importer.push import Pusher, PushSettings
from importer.records import RecordPlan
from importer.report import ReportWriter, RunSummary, default_report_path, open_report

__all__ = [
    "API_KEY_ENV",
    "API_URL_ENV",
    "ImportResult",
    "Observer",
    "Plan",
    "make_plan",
    "push_file",
    "validate_file",
]

API_KEY_ENV = "REALEFLOW_API_KEY"
API_URL_ENV = "REALEFLOW_API_URL"
DEFAULT_CHUNK_ROWS = 50_000


class Observer:
    """Receives progress; the CLI draws a progress bar from it. Every method is optional."""

    def started(self, command: str, source: Source) -> None: ...

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
        good = {"valid", "created", "skipped"}
        return 0 if all(status in good for status, n in self.counts.items() if n) else 1


class Plan(Protocol):
    """How the rows of a chunk become records: :class:`importer.records.RecordPlan` for one
    record per row, :class:`importer.graph.GraphPlan` for a property with its contacts."""

    outcome_columns: list[str]
    kinds: set[str]  # record kinds it creates (to prime lost-answer reconciliation)

    def check(self, chunk: Chunk) -> Any: ...  # extract + validate; has .chunk and .problems

    def validated(self, check: Any) -> pd.DataFrame: ...  # dry-run outcomes

    async def push(self, check: Any, pusher: Pusher) -> pd.DataFrame: ...  # push outcomes


def make_plan(bound: BoundMapping) -> Plan:
    """The plan for a mapping's kind."""
    if bound.mapping.kind == "property-with-contacts":
        from importer.graph import GraphPlan

        return GraphPlan(bound)
    return RecordPlan(bound)


@dataclass
class _Run:
    command: str
    source: Source
    plan: Plan
    writer: ReportWriter | None
    summary: RunSummary = field(default_factory=RunSummary)
    outcomes: list[pd.DataFrame] = field(default_factory=list)
    keep_outcomes: bool = True


def _open(
    path: str | os.PathLike[str],
    mapping: Mapping | str | os.PathLike[str],
    sheet: str | int | None,
    encoding: str | None,
) -> tuple[Source, Plan]:
    source = open_source(path, sheet=sheet, encoding=encoding)
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    return source, make_plan(mapping.bind(source.headers, file=str(source.path)))


def _record(run: _Run, check: Any, outcomes: pd.DataFrame, observer: Observer) -> None:
    if run.writer is not None:
        run.writer.write(check.chunk.frame, outcomes, check.problems)
    run.summary.add(outcomes, check.problems)
    if run.keep_outcomes:
        run.outcomes.append(outcomes)
    observer.advanced(len(outcomes), dict(run.summary.counts))


def _finish(run: _Run, observer: Observer, fatal: ImporterError | None = None) -> ImportResult:
    if run.writer is not None:
        run.writer.close(run.summary)
    observer.finished()
    outcomes = None
    if run.keep_outcomes:
        outcomes = pd.concat(run.outcomes) if run.outcomes else pd.DataFrame(columns=run.plan.outcome_columns)
    return ImportResult(
        run.command,
        run.source.path,
        run.writer.path if run.writer is not None else None,
        run.summary,
        outcomes,
        fatal,
    )


def _writer(
    source: Source, plan: Plan, command: str, report: str | os.PathLike[str] | bool | None
) -> ReportWriter | None:
    if report is False:
        return None
    path = default_report_path(source.path, command) if report in (None, True) else Path(report)
    return open_report(path, headers=source.headers, outcome_columns=plan.outcome_columns, input_path=source.path)


def _chunks(source: Source, rows: int) -> Iterator[Chunk]:
    yield from source.chunks(rows)


def validate_file(
    path: str | os.PathLike[str],
    mapping: Mapping | str | os.PathLike[str],
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    report: str | os.PathLike[str] | bool | None = None,
    observer: Observer | None = None,
    keep_outcomes: bool = True,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> ImportResult:
    """Dry run: load, validate and report every row; nothing is sent.

    ``report``: a path (format from its extension), None for the default path
    next to the input, False for no report file.
    """
    observer = observer or Observer()
    source, plan = _open(path, mapping, sheet, encoding)
    run = _Run("validate", source, plan, _writer(source, plan, "validate", report), keep_outcomes=keep_outcomes)
    observer.started("validate", source)
    try:
        for chunk in _chunks(source, chunk_rows):
            check = plan.check(chunk)
            _record(run, check, plan.validated(check), observer)
    except BaseException:
        observer.finished()
        raise
    return _finish(run, observer)


def push_file(
    path: str | os.PathLike[str],
    mapping: Mapping | str | os.PathLike[str],
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    report: str | os.PathLike[str] | bool | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    settings: PushSettings | None = None,
    observer: Observer | None = None,
    keep_outcomes: bool = True,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> ImportResult:
    """Load, validate and create every valid row through the API; report every row.

    ``api_key`` and ``base_url`` default to the environment variables
    ``REALEFLOW_API_KEY`` and ``REALEFLOW_API_URL``.
    """
    api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")
    if not api_key.strip():
        raise UsageError(f"no API key: set the environment variable {API_KEY_ENV} (never pass it on the command line)")
    base_url = base_url or os.environ.get(API_URL_ENV) or DEFAULT_BASE_URL
    settings = settings or PushSettings()
    observer = observer or Observer()
    source, plan = _open(path, mapping, sheet, encoding)
    return asyncio.run(
        _push(source, plan, api_key.strip(), base_url, settings, observer, report, keep_outcomes, chunk_rows)
    )


async def _push(
    source: Source,
    plan: Plan,
    api_key: str,
    base_url: str,
    settings: PushSettings,
    observer: Observer,
    report: str | os.PathLike[str] | bool | None,
    keep_outcomes: bool,
    chunk_rows: int,
) -> ImportResult:
    async with RealeflowClient(
        api_key, base_url, concurrency=settings.concurrency, timeout=settings.request_timeout
    ) as client:
        status = await client.account_status()
        if status != "Active":
            raise AccountInactiveError(
                f"the Realeflow account status is '{status}', not 'Active': nothing was sent; "
                "sort the account out in Realeflow first"
            )
        run = _Run("push", source, plan, _writer(source, plan, "push", report), keep_outcomes=keep_outcomes)
        observer.started("push", source)
        pusher = Pusher(client, settings)
        try:
            await pusher.prime(plan.kinds)
            for chunk in _chunks(source, chunk_rows):
                check = plan.check(chunk)
                _record(run, check, await plan.push(check, pusher), observer)
        except BaseException:
            observer.finished()
            raise
        return _finish(run, observer, pusher.fatal)
