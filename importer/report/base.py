"""What every report writer shares: the chunk contract, closing, error translation."""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import TracebackType
from typing import Protocol

import pandas as pd

from importer.errors import ReportError
from importer.report.cells import ReportChunk, prepare_chunk
from importer.report.summary import RunSummary

__all__ = ["BaseReportWriter", "ChunkEncoder", "write_error"]


class ChunkEncoder(Protocol):
    """Renders one chunk as a report's bytes; picklable, so a worker process can run it."""

    def encode(self, inputs: pd.DataFrame, outcomes: pd.DataFrame, problems: pd.DataFrame) -> bytes: ...


def write_error(path: Path, exc: OSError) -> ReportError:
    """Translate an OSError on the report file into a message a person can act on."""
    reason = exc.strerror or str(exc)
    return ReportError(
        f"cannot write the report {path}: {reason}; "
        "check that the folder exists, is writable and has free space, or choose another report path"
    )


class BaseReportWriter:
    """Streams chunks to one report file; use as a context manager or call close().

    Subclasses implement ``_write_chunk`` and ``_finish``. The writer keeps its
    own small :class:`RunSummary` so that a run which dies half-way still gets
    a report of the rows written so far (marked incomplete where the format can
    say so).
    """

    def __init__(self, path: Path, *, headers: list[str], outcome_columns: list[str]) -> None:
        self.path = path
        self.headers = list(headers)
        self.outcome_columns = list(outcome_columns)
        self.rows_written = 0
        self._own_summary = RunSummary()
        self._closed = False

    # -- public -------------------------------------------------------------
    def write(
        self,
        inputs: pd.DataFrame,
        outcomes: pd.DataFrame,
        problems: pd.DataFrame,
        *,
        summary: RunSummary | None = None,
    ) -> None:
        """Append one chunk: every row of ``inputs``, in its order, with its outcome.

        ``summary``: the chunk's counts when the caller has them (saves counting twice).
        """
        self._check_open()
        chunk = prepare_chunk(inputs, outcomes, problems, headers=self.headers, outcome_columns=self.outcome_columns)
        if summary is None:
            status = {}
            if "status" in self.outcome_columns:
                status["status"] = chunk.outcomes[self.outcome_columns.index("status")].to_numpy()
            summary = RunSummary.of(pd.DataFrame(status, index=range(len(chunk))), chunk.problems)
        try:
            self._write_chunk(chunk)
        except OSError as exc:
            raise write_error(self.path, exc) from exc
        self._own_summary.merge(summary)
        self.rows_written += len(chunk)

    def encoder(self) -> ChunkEncoder | None:
        """What turns a chunk into this report's bytes anywhere (a worker process), or None.

        Formats whose chunks are independent lines (CSV, JSON) have one; their
        :meth:`write_encoded` appends what it made.
        """
        return None

    def write_encoded(self, data: bytes, summary: RunSummary) -> None:
        """Append one chunk made by :meth:`encoder` elsewhere; ``summary`` holds its counts."""
        self._check_open()
        try:
            self._write_encoded(data)
        except OSError as exc:
            raise write_error(self.path, exc) from exc
        self._own_summary.merge(summary)
        self.rows_written += summary.total

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"report {self.path} is already closed")

    def close(self, summary: RunSummary | None = None) -> None:
        """Finish the file; ``summary`` is the run's (the writer's own count if None)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._finish(summary if summary is not None else self._own_summary, complete=True)
        except OSError as exc:
            raise write_error(self.path, exc) from exc

    def __enter__(self) -> BaseReportWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
            return
        self.abort()

    def abort(self) -> None:
        """The run failed: keep what was written (those rows may already be in the CRM), marked
        incomplete, but never let a second failure here hide the first one."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self._finish(self._own_summary, complete=False)

    # -- for subclasses -------------------------------------------------------
    def _write_chunk(self, chunk: ReportChunk) -> None:
        raise NotImplementedError

    def _finish(self, summary: RunSummary, *, complete: bool) -> None:
        raise NotImplementedError

    def _write_encoded(self, data: bytes) -> None:
        raise NotImplementedError(f"{type(self).__name__} has no encoder")

    def _output_names(self) -> list[str]:
        return ["row", *self.outcome_columns, *self.headers]
