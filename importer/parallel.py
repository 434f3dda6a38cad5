"""Dry runs on several cores: a big file's chunks are checked in worker processes.

Checking a chunk (extract, normalise, validate, build the outcome columns) is CPU-bound
pandas and Python that the GIL serialises (two threads gained 7 % on 1M rows), so
``validate_file`` hands the chunks of a big file to worker processes, which read them
too: a CSV is cut into pieces at record ends (:mod:`importer.read.byteranges`, a scan of its
bytes) that each worker parses itself, and a workbook's rows come from the sheet the
workers inherited, parsed before the fork. The main process only cuts, collects and
writes the report. Results come back in input order and at most one piece per worker
waits (plus the one the executor queues), so memory stays bounded::

    main      cut 1, 2, 3 | ....... write 1, cut 4 | write 2, cut 5 | ...
    worker 1  read + check 1 ..... | read + check 3 ..... |
    worker 2  read + check 2 ..... | read + check 4 ..... |

What cannot be cut from bytes (UTF-16, the rest of a file after a stray quote) is
parsed by the main process and sent as chunks, as is everything when the workers
come from a fork server (on Linux, workers are forked while the process has no other
thread, so they start at once with the modules, plan and source in memory; else the
plan is pickled, ~1 s to start). A file of one chunk, a machine with one core or
``workers=1`` checks in process, exactly as before.

:class:`CheckPool` is for a process that has threads and keeps the rows (the workbench's review
grid): its workers come from the fork server, start in the background and outlive one check;
the caller reads the chunks and gets each back with its :func:`check_rows`, in input order.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import itertools
import math
import multiprocessing
import os
import pickle
import select
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import pandas as pd

from importer.errors import WorkerError
from importer.plans.single import ValidatedChunk
from importer.problems import empty_problems
from importer.read.source import Chunk, Source
from importer.report.base import ChunkEncoder
from importer.report.summary import RunSummary

__all__ = [
    "CheckPool",
    "DryRunChunk",
    "DryRunPool",
    "RowCheck",
    "available_cores",
    "check_rows",
    "dry_run_chunk",
    "plan_workers",
    "sent_rows",
]

#: Below this many rows a chunk's fixed costs (~0.1 s of pandas set-up, the trip to a
#: worker and back) outweigh what a second core gains.
MIN_PARALLEL_CHUNK_ROWS = 10_000


@dataclass(frozen=True)
class DryRunChunk:
    """A chunk's dry-run result.

    ``summary`` counts the chunk's statuses and problems. ``encoded`` is the chunk's
    report lines when the report has an encoder (CSV, JSON); ``problems`` and
    ``outcomes`` come along only when wanted (``keep_outcomes``, or no encoder).
    """

    chunk: Chunk | None
    summary: RunSummary
    encoded: bytes | None
    problems: pd.DataFrame | None
    outcomes: pd.DataFrame | None


def dry_run_chunk(plan: Any, chunk: Chunk, encoder: ChunkEncoder | None, keep_outcomes: bool) -> DryRunChunk:
    """Check one chunk, count it and render its report lines (in a worker or in process)."""
    validated = plan.validate(chunk)
    outcomes = plan.dry_run(validated)
    problems = validated.problems
    del validated  # its normalised values are done with: free them before the report's text is made
    summary = RunSummary.of(outcomes, problems)
    encoded = encoder.encode(chunk.frame, outcomes, problems) if encoder is not None else None
    keep = keep_outcomes or encoder is None
    return DryRunChunk(None, summary, encoded, problems if keep else None, outcomes if keep else None)


@dataclass(frozen=True)
class RowCheck:
    """Rows held in memory, checked as a dry run checks a chunk (the workbench's grid)."""

    outcomes: pd.DataFrame  # index row: the report's outcome columns (status, id(s), error, warnings)
    problems: pd.DataFrame  # every problem of those rows (importer.problems columns)
    values: dict[str, pd.DataFrame]  # part ("" for one record per row, else its label) -> values to send


def check_rows(
    plan: Any, frame: pd.DataFrame, *, numeric: pd.DataFrame | None = None, problems: pd.DataFrame | None = None
) -> RowCheck:
    """Extract and validate ``frame`` (text cells, index = spreadsheet row numbers) with ``plan``.

    What :func:`importer.pipeline.validate_file` does to each chunk, for rows that are not in a
    file: ``numeric`` and ``problems`` are what the load stage said of those rows (a workbook's
    number cells, a ragged line), if known. ``plan``: an :class:`importer.pipeline.Plan`.
    """
    chunk = Chunk(frame, numeric, problems if problems is not None else empty_problems())
    validated = plan.validate(chunk)
    outcomes = plan.dry_run(validated)
    if isinstance(validated, ValidatedChunk):
        values = {"": validated.values}
    else:  # property-with-contacts: a field frame per part, on the rows where the part is present
        values = {rec.label: part for rec, part in zip(validated.records, validated.values, strict=True)}
    return RowCheck(outcomes, validated.problems, values)


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def plan_workers(requested: int | None, rows: int | None, chunk_rows: int) -> tuple[int, int]:
    """(worker processes, rows per piece) for a dry run of about ``rows`` rows.

    ``requested`` None: one worker per core; 1 (or one core, or a file of under 20,000
    rows): check in process. Pieces are 3/4 of the chunk size given, and chunks this
    process parses itself 1/2 (:func:`sent_rows`; memory: see below); a file of few
    pieces gets smaller ones, two per worker (not below 10,000 rows), so that the
    workers start early and finish together (a 100k-row workbook: 0.3 s faster).
    """
    workers = available_cores() if requested is None else max(1, requested)
    if workers <= 1 or rows is None or rows < 2 * MIN_PARALLEL_CHUNK_ROWS:
        return 1, chunk_rows
    # A worker holds the piece it checks, so smaller pieces save memory, but each has a fixed cost of
    # pandas work: three quarters of a chunk is where the two balance (figures in bench/README.md).
    chunk_rows = max(MIN_PARALLEL_CHUNK_ROWS, chunk_rows * 3 // 4)
    if rows < 2 * workers * chunk_rows:
        chunk_rows = max(MIN_PARALLEL_CHUNK_ROWS, math.ceil(rows / (2 * workers)))
    return min(workers, math.ceil(rows / chunk_rows)), chunk_rows


def sent_rows(piece_rows: int) -> int:
    """Rows per chunk that this process parses and sends (UTF-16, a fork server, past a stray quote).

    It holds those while they are in flight too: two thirds of a piece (the UTF-16 copy of the
    1M-row CSV peaked at 915 MiB in all so; 1.09 GiB at a piece's size).
    """
    return max(MIN_PARALLEL_CHUNK_ROWS, piece_rows * 2 // 3)


# -- the worker side ---------------------------------------------------------------------------

_job: tuple[Any, Any, ChunkEncoder | None, bool] | None = None


def _start_worker(plan: Any, source: Any, encoder: ChunkEncoder | None, keep_outcomes: bool) -> None:
    global _job
    _job = (plan, source, encoder, keep_outcomes)
    # Ctrl-C reaches the whole process group: the main process alone decides what happens.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _keep_freed_memory()


def _keep_freed_memory() -> None:
    """Let glibc keep what a chunk freed for the next chunk instead of returning it to the OS.

    A worker allocates about the same again for every chunk; by default glibc unmaps big
    blocks and trims the heap after each, and the next chunk pays a page fault per 4 KiB
    to get them back (measured: a third of the faults and ~1 s of system time per 1M rows).
    The worker's peak memory is unchanged: it only stops shrinking between chunks.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
        libc.mallopt(_M_MMAP_THRESHOLD, 256 << 20)
    except (OSError, AttributeError):  # not glibc (musl): nothing to tune
        pass


_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def _dry_run(chunk: Chunk) -> DryRunChunk:
    assert _job is not None
    plan, _, encoder, keep_outcomes = _job
    return dry_run_chunk(plan, chunk, encoder, keep_outcomes)


def _dry_run_slice(piece: Any) -> DryRunChunk:
    """Read a piece of the source (a CSV's bytes, rows of the inherited parsed sheet), then check it.

    A piece the main process had to parse itself (see ``importer.read.byteranges``) arrives as a Chunk.
    """
    assert _job is not None
    plan, source, encoder, keep_outcomes = _job
    chunk = piece if isinstance(piece, Chunk) else source.read_slice(piece)
    if chunk is None:  # only blank rows
        return DryRunChunk(None, RunSummary(), None, None, None)
    checked = dry_run_chunk(plan, chunk, encoder, keep_outcomes)
    return checked if encoder is not None else replace(checked, chunk=chunk)  # the writer needs the cells


# -- the main side -----------------------------------------------------------------------------


def _context() -> multiprocessing.context.BaseContext:
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return _server_context()


def _server_context() -> multiprocessing.context.BaseContext:
    """Workers safe to start from a process with threads: forked by the fork server (one per process,
    started once, with the modules a check needs already imported), else spawned."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["importer.parallel", "importer.plans.single", "importer.plans.with_contacts"])
        return ctx
    return multiprocessing.get_context("spawn")


class DryRunPool:
    """Checks a source's chunks (:func:`dry_run_chunk`) on ``workers`` processes; results in input order.

    Create it before anything starts a thread (the CSV reader's read-ahead, a progress
    bar's monitor): the workers are forked at once. Forked workers read their own
    pieces of the source (``source.slices`` / ``source.read_slice``): a CSV's bytes, a
    workbook's rows from the sheet parsed before the fork. Use it as a context manager.
    """

    def __init__(
        self,
        plan: Any,
        workers: int,
        *,
        source: Any = None,
        encoder: ChunkEncoder | None = None,
        keep_outcomes: bool = True,
    ) -> None:
        self.plan = plan
        self.workers = max(1, workers)
        self.encoder = encoder
        self.keep_outcomes = keep_outcomes
        self._pool: ProcessPoolExecutor | None = None
        self._source_in_workers = False
        if self.workers > 1:
            ctx = _context()
            forked = ctx.get_start_method() == "fork"
            self._source_in_workers = forked and hasattr(source, "read_slice")
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=ctx,
                initializer=_start_worker,
                initargs=(plan, source if forked else None, encoder, keep_outcomes),
            )
            gc.freeze()  # the workers inherit these objects: a collection there must not copy their pages
            try:
                self._pool.submit(int).result()  # forks every worker now
            except BrokenProcessPool as exc:
                self.close()
                raise _died(exc) from exc

    def run(self, source: Source, rows: int) -> Iterator[DryRunChunk]:
        """The result of every chunk of ``rows`` rows of ``source``, in input order.

        Errors raised while reading or checking reach the caller as raised; WorkerError
        when a worker dies (killed, out of memory).
        """
        if self._pool is None:
            for chunk in source.chunks(rows):
                yield replace(dry_run_chunk(self.plan, chunk, self.encoder, self.keep_outcomes), chunk=chunk)
            return
        pool = self._pool
        if self._source_in_workers:
            # slices() is not on Source: only on the sources with read_slice(), which __init__ made sure of.
            tasks: Iterable[tuple[Chunk | None, Callable[[], Future[DryRunChunk]]]] = (
                (None, partial(pool.submit, _dry_run_slice, piece))
                for piece in source.slices(rows, parsed_rows=sent_rows(rows))  # type: ignore[attr-defined]
            )
        else:
            # A small first chunk: a worker starts while the rest of the next one is parsed.
            # No read-ahead thread: the workers are the bottleneck, and it would hold one more chunk.
            sent = sent_rows(rows)
            chunks = source.chunks(sent, first_rows=max(MIN_PARALLEL_CHUNK_ROWS, sent // 4), read_ahead=False)
            # With an encoder the result comes back as report lines: the chunk need not wait here.
            keep = self.encoder is None
            tasks = ((chunk if keep else None, partial(pool.submit, _dry_run, chunk)) for chunk in chunks)
        in_flight: deque[tuple[Chunk | None, Future[DryRunChunk]]] = deque()

        def in_order() -> Iterator[DryRunChunk]:
            for chunk, submit in tasks:
                in_flight.append((chunk, submit()))
                if len(in_flight) >= self.workers:  # the executor queues one more itself
                    yield _result(*in_flight.popleft())
            while in_flight:
                yield _result(*in_flight.popleft())

        try:
            yield from filter(_has_rows, in_order())
        except BrokenProcessPool as exc:
            raise _died(exc) from exc
        finally:
            for _, future in in_flight:
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            gc.unfreeze()

    def __enter__(self) -> DryRunPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _died(exc: BaseException) -> WorkerError:
    return WorkerError(
        f"a worker process checking the file died ({exc}); it may have run out of memory: run again with --workers 1"
    )


def _result(chunk: Chunk | None, future: Future[DryRunChunk]) -> DryRunChunk:
    checked = future.result()
    return replace(checked, chunk=chunk) if chunk is not None else checked


def _has_rows(checked: DryRunChunk) -> bool:
    """False for a workbook slice that held only blank rows (nothing to report or count)."""
    return checked.summary.total > 0 or checked.chunk is not None


# -- a pool for a process with threads that keeps the rows (the workbench) --------------------

_checker_plan: tuple[int, Any] | None = None  # a check worker's plan: (its key, the plan)
_plan_keys = itertools.count(1)
#: How often a check waiting for a worker asks whether it should stop (seconds).
STOP_POLL_S = 0.05


def _start_checker(owner: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the main process decides (and closes the pool)
    _end_with(owner)
    _keep_freed_memory()


def _end_with(owner: int) -> None:
    """End this worker when ``owner`` (the process that made the pool) ends, even killed outright.

    Nothing else would: the fork server, the worker's parent, lives on while its workers hold
    its pipe, and a worker waits for its next chunk on a queue it holds both ends of. A thread
    waits on the owner's pidfd (Linux 5.3 and later; elsewhere closing the pool is the only end).
    """
    try:
        pidfd = os.pidfd_open(owner)
    except (AttributeError, OSError):  # not Linux, an old kernel, or the owner has ended already
        if not _running(owner):
            os._exit(1)
        return

    def wait_for_owner() -> None:
        select.select([pidfd], [], [])  # readable once the owner has ended
        os._exit(1)

    threading.Thread(target=wait_for_owner, name="end-with-owner", daemon=True).start()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, not ours to signal
        pass
    return True


def _check_piece(key: int, plan: bytes, chunk: Chunk) -> RowCheck:
    global _checker_plan
    if _checker_plan is None or _checker_plan[0] != key:
        _checker_plan = (key, pickle.loads(plan))
    return check_rows(_checker_plan[1], chunk.frame, numeric=chunk.numeric, problems=chunk.problems)


class CheckPool:
    """Worker processes that check chunks the caller reads and keeps (:func:`check_rows` of each).

    For a process that has threads (the workbench's server), where forking is unsafe: the workers
    come from the fork server, with the modules a check needs imported once there. ``start()``
    makes them in the background, so the first check does not wait for them; they then serve one
    check after another until ``close()`` (the plan, small once pickled, goes with each chunk and
    is unpickled once per worker and check). A worker that dies ends the check it was in with
    WorkerError; the next check gets new workers.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, available_cores() if workers is None else workers)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    def start(self) -> None:
        """Start the workers on a thread of their own (returns at once)."""
        threading.Thread(target=self._warm, name="check-pool-start", daemon=True).start()

    def _warm(self) -> None:
        with contextlib.suppress(WorkerError, RuntimeError):  # the first check meets the same error and reports it
            self._executor()

    def ready(self) -> bool:
        """Whether the workers run, started now (and waited for) when there are none; False when they
        cannot start (no fork server here, a script read from stdin that they cannot import): the
        caller then checks in its own process, as on a one-core machine."""
        try:
            self._executor()
        except (WorkerError, RuntimeError, OSError):
            return False
        return True

    def _executor(self) -> ProcessPoolExecutor:
        """The running workers, started now (and waited for) when there are none."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the check's worker processes were stopped")
            if self._pool is None:
                pool = ProcessPoolExecutor(
                    self.workers, mp_context=_server_context(), initializer=_start_checker, initargs=(os.getpid(),)
                )
                try:  # a task per worker: each worker is started now, not when the first chunk comes
                    for started in [pool.submit(int) for _ in range(self.workers)]:
                        started.result()
                except BrokenProcessPool as exc:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise _check_died(exc) from exc
                self._pool = pool
            return self._pool

    def check(
        self, plan: Any, chunks: Iterable[Chunk], stop: Callable[[], bool] = lambda: False
    ) -> Iterator[tuple[Chunk, RowCheck]]:
        """Each chunk with its check, in input order; at most one chunk per worker in flight, and one more
        read ahead (queued, so that a worker that finishes starts the next at once).

        ``stop`` is asked before each chunk is handed on and while a result is awaited (every
        :data:`STOP_POLL_S`); once it says yes, the iteration ends and the chunks not started are
        cancelled (one a worker has begun finishes there and is dropped). WorkerError when a
        worker dies; an error raised by the check reaches the caller as raised.
        """
        pool = self._executor()
        key, blob = next(_plan_keys), pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL)
        in_flight: deque[tuple[Chunk, Future[RowCheck]]] = deque()
        try:
            for chunk in chunks:
                if stop():
                    return
                in_flight.append((chunk, pool.submit(_check_piece, key, blob, chunk)))
                yield from _hand_on(in_flight, stop, self.workers)
            yield from _hand_on(in_flight, stop, 0)
        except _Stopped:
            return
        except BrokenProcessPool as exc:
            self._discard(pool)
            raise _check_died(exc) from exc
        except CancelledError as exc:  # close() while this check ran
            raise WorkerError("the check was stopped: the workbench is closing") from exc
        finally:
            for _, future in in_flight:
                future.cancel()

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Forget a broken pool (the next check starts new workers)."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers and wait for them (a chunk a worker is checking finishes first)."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> CheckPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Stopped(Exception):
    """A check was told to stop."""


def _hand_on(
    in_flight: deque[tuple[Chunk, Future[RowCheck]]], stop: Callable[[], bool], keep: int
) -> Iterator[tuple[Chunk, RowCheck]]:
    """The results at the head of ``in_flight``, in order: awaited while more than ``keep`` are in
    flight, then those already there (the caller's progress moves as soon as it can). _Stopped when
    told to stop."""
    while in_flight and (len(in_flight) > keep or in_flight[0][1].done()):
        if not _finished(in_flight[0][1], stop):
            raise _Stopped
        chunk, future = in_flight.popleft()
        yield chunk, future.result()


def _finished(future: Future[RowCheck], stop: Callable[[], bool]) -> bool:
    """Wait until ``future`` is done (True), or until ``stop()`` says yes (False: even if done, nothing
    more is handed on once told to stop)."""
    while not stop():
        if future.done():
            return True
        wait([future], timeout=STOP_POLL_S, return_when=FIRST_COMPLETED)
    return False


def _check_died(exc: BaseException) -> WorkerError:
    return WorkerError(
        f"a worker process checking the file died ({exc}); it may have run out of memory: "
        "close other programs and start the review again"
    )
