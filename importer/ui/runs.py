"""The workbench's pushes: each on a thread of its own, followed by the page (an event stream), stopped by its button.

A push is :func:`importer.pipeline.push_file`, the CLI's own call, with an observer that keeps
the live counts and a :class:`StopSwitch` that ends it as Ctrl-C ends the CLI's (rows not sent
are ``not-sent``, the ledger stays consistent). Closing the browser tab does not stop it.
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from importer.config import default_ledger_path
from importer.endpoint import redact_url
from importer.errors import AuthError, ImporterError, InterruptedRunError, UsageError
from importer.ledger import Ledger, RunRecord
from importer.mapping.model import Mapping
from importer.pipeline import ImportResult, Observer, push_file
from importer.plans.changes import CHANGED_CODE, changes_by_row
from importer.problems import empty_problems
from importer.push.pusher import held_back_reason
from importer.push.settings import PushSettings
from importer.push.stopping import StopSwitch
from importer.read.source import open_source
from importer.report import RunSummary, open_report

__all__ = ["PushJob", "Pushes", "Where"]


@dataclass(frozen=True)
class Where:
    """A file and how to read it: its sheet, and its header row (the person's choice or the one found)."""

    path: Path
    sheet: str | None = None
    header_row: int | None = None


@dataclass
class PushJob:
    """One push on its thread: live counts for the page, the result when it ends."""

    number: int
    trial: int | None
    where: Where
    report: Path
    total: int | None = None
    done: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    result: ImportResult | None = None
    error: str | None = None
    stop: StopSwitch = field(default_factory=StopSwitch)
    thread: threading.Thread | None = None
    retry_failed: bool = False  # only the rows whose last try failed (push --retry-failed)
    shown_as: str = ""  # the name of the file it pushed, as the person knows it (another may be uploaded since)

    @property
    def running(self) -> bool:
        return self.ended is None

    def status(self) -> dict[str, Any]:
        elapsed = (self.ended or time.monotonic()) - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = None
        if self.running and self.total and rate > 0:
            left = max(0.0, (self.total - self.done) / rate)
        result = self.result
        return {
            "number": self.number,
            "file": self.shown_as,
            "trial": self.trial,
            "retry_failed": self.retry_failed,
            "running": self.running,
            "cancelling": self.stop.pressed and self.running,
            "done": self.done,
            "total": self.total,
            "counts": dict(result.counts) if result is not None else dict(self.counts),
            "rate": round(rate, 1),
            "eta_seconds": None if left is None else round(left),
            "elapsed": round(elapsed, 1),
            "notices": self.notices[-5:],
            "error": self.error or _stopped_by(result),
            "run_id": result.run_id if result is not None else None,
            "held_back": result.held_back if result is not None else 0,
        }


def _stopped_by(result: ImportResult | None) -> str | None:
    """What ended a push early, said for the page (the Cancel button, not a command, is what the person used)."""
    if result is None or result.fatal is None:
        return None
    if isinstance(result.fatal, InterruptedRunError):
        return "cancelled: the rows not created are 'not-sent'; push again to send them (created rows are skipped)"
    if isinstance(result.fatal, AuthError):  # the key came from the Connect page, not from an environment variable
        return ("Realeflow refused the API key midway (HTTP 401): the rows not created are 'not-sent'; check the key "
                "(Profile => Company Info in Realeflow), type it again on the Connect page, then push again")
    return str(result.fatal)


class _JobObserver(Observer):
    def __init__(self, job: PushJob) -> None:
        self.job = job

    def expected(self, rows: int) -> None:
        self.job.total = rows

    def advanced(self, rows: int, counts: dict[str, int]) -> None:
        self.job.done += rows
        self.job.counts = dict(counts)

    def notice(self, message: str) -> None:
        self.job.notices.append(message)


class Pushes:
    """The session's pushes, newest last; at most one runs at a time (the ledger allows one)."""

    def __init__(self, workdir: Path, *, base_url: str | None, ledger: Path | None) -> None:
        self.workdir = workdir
        self.base_url = base_url
        self.ledger = ledger
        self.jobs: list[PushJob] = []
        self._writing = threading.Lock()  # a report written in another format (see report())

    @property
    def job(self) -> PushJob | None:
        return self.jobs[-1] if self.jobs else None

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def start(
        self, where: Where, mapping: Mapping, key: str, *, trial: int | None, shown_as: str, retry_failed: bool = False
    ) -> PushJob:
        number = len(self.jobs) + 1
        job = PushJob(number, trial, where, self.workdir / f"push-{number}.push-report.csv", retry_failed=retry_failed,
                      shown_as=shown_as)
        self.jobs.append(job)

        def work() -> None:
            try:
                job.result = push_file(
                    where.path, mapping, sheet=where.sheet, header_row=where.header_row, report=job.report,
                    api_key=key, base_url=self.base_url, observer=_JobObserver(job), keep_outcomes=True,
                    ledger=self.ledger, stop=job.stop,
                    settings=PushSettings(limit=trial, retry_failed=retry_failed),
                )
                self._keep_report(job)
            except ImporterError as exc:
                job.error = redact_url(str(exc)).replace(str(where.path), shown_as)
            except Exception as exc:  # a bug: said on the page in one line
                job.error = f"internal error: {type(exc).__name__}: {exc}"
            finally:
                job.ended = time.monotonic()

        job.thread = threading.Thread(target=work, name=f"workbench-push-{number}", daemon=True)
        job.thread.start()
        return job

    def cancel(self) -> None:
        job = self.job
        if job is not None and job.running:
            job.stop.press()

    def stop_all(self, timeout: float = 30.0) -> None:
        """At exit: a running push ends as Ctrl-C ends one (rows not-sent, the ledger consistent)."""
        job = self.job
        if job is not None and job.running and job.thread is not None:
            job.stop.press()
            job.thread.join(timeout)
            if job.thread.is_alive():
                job.stop.press()  # the second press gives up the requests still out
                job.thread.join(timeout)

    def report(self, job: PushJob, fmt: str) -> Path:
        """A finished push's report as .csv (written by the push), .xlsx or .json (written from its outcomes)."""
        if job.result is None or job.result.report_path is None:
            raise UsageError("this push wrote no report")
        if fmt == "csv":
            return job.result.report_path
        path = job.report.with_suffix(f".{fmt}")
        # one writer at a time, under another name until whole: a second download (a double click) waited
        # for nothing and got the file half written, and a write that failed left a broken file served after
        with self._writing:
            if not path.exists():
                part = path.with_suffix(".part" + path.suffix)
                try:
                    _rewrite_report(job, part)
                    part.replace(path)
                finally:
                    part.unlink(missing_ok=True)
        return path

    def failed_rows(self, job: PushJob, limit: int = 200) -> list[dict[str, Any]]:
        """The rows of a push that need a look, with why: failed, invalid, not sent, partial (their
        error), and changed since an earlier run (its fields, old -> new: "phone: 216... → 216...").
        The rows a trial held back for the next push are not among them (the page counts them apart)."""
        result = job.result
        if result is None or result.outcomes is None:
            return []
        out = result.outcomes
        status = out["status"].astype("str")
        none = pd.Series("", index=out.index, dtype="str")
        errors = out["error"].astype("str").fillna("") if "error" in out.columns else none
        notes = out["warnings"].astype("str").fillna("") if "warnings" in out.columns else none
        look = status.isin(["failed", "invalid", "not-sent", "partial", "changed"])
        if job.trial is not None:
            look &= ~((status == "not-sent") & errors.str.contains(held_back_reason(job.trial), regex=False))
        bad = out.index[look.to_numpy()][:limit]
        why = errors.where(status != "changed", notes)  # the note, if the run kept no record.changed warnings
        changed = bad[(status[bad] == "changed").to_numpy()]
        probs = result.problems
        if probs is not None and len(changed):
            picked = (probs["code"] == CHANGED_CODE).to_numpy(dtype=bool) & probs["row"].isin(changed).to_numpy()
            why.update(changes_by_row(probs[picked]))  # a changed row: its fields, old -> new
        return [{"row": int(r), "status": str(status[r]), "error": str(why[r])} for r in bad]

    @property
    def reports_dir(self) -> Path:
        """Where the workbench keeps its pushes' reports for the history: ``reports/`` beside the ledger
        (the private folder it uses is removed at exit; the ledger and these stay)."""
        return (self.ledger or default_ledger_path()).parent / "reports"

    def _keep_report(self, job: PushJob) -> None:
        """A copy of a finished push's CSV report as ``run-N.push-report.csv`` (N: its ledger run)."""
        result = job.result
        if result is None or result.run_id is None or result.report_path is None or not result.report_path.exists():
            return
        try:
            self.reports_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            kept = self.reports_dir / f"run-{result.run_id}.push-report.csv"
            shutil.copyfile(result.report_path, kept)
            kept.chmod(0o600)
        except OSError as exc:  # the push is done and its report is on the Results page: say so, go on
            job.notices.append(f"its report could not be kept for the history ({exc.strerror}): download it now")

    def run_report(self, run_id: int) -> Path | None:
        """The kept report of ledger run ``run_id``, if the workbench pushed it (the command line writes
        its reports beside the file it read)."""
        path = self.reports_dir / f"run-{run_id}.push-report.csv"
        return path if path.is_file() else None

    def history(self, limit: int = 20) -> list[RunRecord]:
        """The ledger's runs, newest first (the CLI's ``history``)."""
        path = self.ledger or default_ledger_path()
        if not path.exists():
            return []
        try:
            with Ledger.open(path, lock=False) as ledger:
                return ledger.runs(limit)
        except ImporterError:
            return []


def _rewrite_report(job: PushJob, path: Path) -> None:
    """The push's report in another format: the file's rows with the push's outcomes."""
    result = job.result
    assert result is not None and result.outcomes is not None
    source = open_source(job.where.path, sheet=job.where.sheet, header_row=job.where.header_row)
    outcomes = result.outcomes
    problems = result.problems if result.problems is not None else empty_problems()
    rows = problems["row"].astype("int64")
    with open_report(path, headers=list(source.headers), outcome_columns=[str(c) for c in outcomes.columns]) as out:
        for chunk in source.chunks(10_000, read_ahead=False):
            index = chunk.frame.index
            part = outcomes.reindex(index)
            # the push's problems of these rows: the cells the XLSX marks red, the JSON's problem lists
            mine = problems[rows.isin(index).to_numpy()]
            out.write(chunk.frame, part, mine, summary=RunSummary.of(part, mine))
        out.close(result.summary)
