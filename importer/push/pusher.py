"""The push stage: create records concurrently, retry what is worth it, never create one twice.

``Pusher.run`` takes the jobs of one chunk (row number, kind, payload, ledger
key) and returns one :class:`Outcome` per job; ``Pusher.send`` does one job.

- ``concurrency`` workers share one :class:`RealeflowClient` (a few httpx
  clients of at most eight connections underneath).
- tenacity retries :class:`TransientError` (5xx, 429, timeouts, dropped
  connections) with full-jitter exponential backoff; a 429's Retry-After is
  honoured. A row has ``max_attempts`` tries, and no try starts (nor wait
  begins) that would end more than ``row_timeout`` seconds after its first
  (time the whole run spent paused does not count). A row that runs out is
  ``failed`` with the last error; the run goes on.
- ``Successful: false`` and other 4xx answers fail the row at once.
- A 401 stops every worker at once: nothing new starts, retry waits end, and
  every row not created is ``not-sent`` (``Pusher.fatal`` holds the error).
- **Lost answers.** When a create may have been carried out but its answer
  was lost (connection dropped after sending, read timeout, 502/504), no new
  create starts; once those in flight have answered, the kind's 25 most
  recent records are searched for the row's payload. Found: the row is
  created with that id. Not found while the list provably covers the time the
  request was sent: it is sent again. Otherwise it fails as ``uncertain``
  rather than risk a duplicate. "Covers" means the list reaches back past the
  highest id known when the request went out, or fewer than 22 creates could
  have come after it (what was in flight plus what started since). After a
  read timeout or a 502/504 the server may still be working on the request,
  so absence proves nothing until ``settle_seconds`` have passed: until then
  the list is read again (creates still held). A row whose tries run out
  right after a lost answer is looked for once more, never sent again:
  found, absent (``failed``) or ``uncertain``. Outcomes that may stand for a
  record that exists carry ``maybe_created``.
- **Created without a usable id.** ``Successful`` with no usable ``Id`` means
  the record exists: it is recorded ``created`` at once (never sent again),
  then looked for like a lost answer; not found, the row is ``created`` with
  its id unknown.
- **The window.** Per kind, no create starts while the oldest one still
  without an answer has :func:`create_window` creates sent after it, so a
  slow create stays among the 25 the list shows (see importer.push.pacing.Gate).
- **Ledger.** With a :class:`importer.ledger.Journal`, a job with a ``key`` is
  recorded ``pending`` (with the payload) *before* each request and settled
  after it; :meth:`Pusher.recover` settles what a killed run left pending.
  A ledger that fails stops the run (``Pusher.fatal``); rows keep their outcomes.
- **Stopping.** :meth:`Pusher.stop` lets the creates already sent finish;
  :meth:`Pusher.abandon` gives them up (their rows are ``not-sent`` with a
  note, left pending for the next run). :mod:`importer.push.stopping` calls them
  on SIGINT / SIGTERM.
- **Sustained failure.** When most recent requests fail, all workers pause
  (5 s, then 10, 20 ... up to 5 min), then one probe request decides whether
  to go on; after ``outage_limit`` seconds of pauses the run stops
  (:class:`ApiUnavailableError`, rows left ``not-sent``).
- ``max_rate`` caps requests per second across all workers.
- ``log`` (a :class:`RequestLog`) gets one JSON line per request outcome.

Why one module: what could stand alone has moved out (the request log to
:mod:`importer.push.requestlog`, the ids a run knows to :class:`importer.push.recent.KnownIds`,
pacing, retry and settings to their modules). What is left is :class:`Pusher`'s one create
protocol: the worker loop, the ledger notes around each request and the reconciliation of lost
answers read and change the same run state in lock-step (gate, breaker, sequence numbers, held
rows, the stop), so splitting it would hand that state between modules and split one protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from tenacity import RetryCallState

from importer.errors import (
    ApiError,
    ApiUnavailableError,
    AuthError,
    ImporterError,
    LedgerError,
    TransientError,
)
from importer.outcomes import Status
from importer.push.client import Answer, RealeflowClient
from importer.push.pacing import Breaker, Gate, RateLimiter, Stopped
from importer.push.recent import LIST_SIZE, KnownIds, covered, record_int_id
from importer.push.requestlog import RequestLog
from importer.push.retry import RetryPolicy, start_retrying
from importer.push.settings import PushSettings, create_window

if TYPE_CHECKING:
    from importer.ledger import Entry, Journal

__all__ = [
    "Job",
    "Outcome",
    "Pusher",
    "RateLimiter",
    "RequestLog",
    "held_back_reason",
]


def held_back_reason(limit: int | None) -> str:
    """What a row ``--limit`` kept from being sent says in the report (a front may tell those rows apart)."""
    return f"not sent: --limit {limit} reached; a later run sends it"

@dataclass(frozen=True)
class Job:
    row: int
    kind: str  # "contact" | "property"
    payload: dict[str, Any]
    key: str | None = None  # ledger key (fingerprint); None: not recorded
    identity: tuple[str, ...] = ()  # identity keys (importer.plans.identity) the record answers to in the ledger


@dataclass
class Outcome:
    row: int
    status: str  # a Status: created | failed | not-sent | skipped
    id: int | None = None
    error: str = ""
    attempts: int = 0
    latency: float = 0.0
    note: str = ""  # e.g. "found after a lost answer"; goes to the report's warnings
    guid: str | None = None
    maybe_created: bool = False  # a create's answer was lost and the record was not found: it may exist


class _RowFailed(Exception):
    """A non-retryable refusal of one row (4xx other than 401/429)."""


@dataclass
class _Unconfirmed:
    """A create whose answer was lost, or said "created" without a usable id: what is needed to look for it."""

    seq: int
    inflight: int
    mark: int | None
    why: str  # what happened, for the row's error
    timed_out: bool  # the server may still be working on it: look again over settle_seconds
    at: float  # time.monotonic() when the answer was lost
    created: bool = False  # the API said it created the record: it is never sent again


@dataclass
class _Row:
    job: Job
    started: float
    paused_at_start: float
    attempts: int = 0
    unconfirmed: _Unconfirmed | None = None
    holding: bool = False
    on_wire: bool = False  # its create request is out, the answer not yet in


@dataclass
class PushStats:
    """Counters for the benchmark and the log."""

    requests: int = 0
    retries: int = 0
    lookups: int = 0
    found: int = 0
    recovered: int = 0
    counts: dict[str, int] = field(default_factory=dict)


# long: the create path (gate, breaker, pacing, ledger notes, lost-answer resolution, stop) shares
# one run's state: ids seen, held rows, sequence numbers, the fatal error. Each method does one step;
# moving groups of them out would hand that state around and split one lock-step protocol in two.
class Pusher:
    """Runs jobs against the API. One instance per run; ``run`` once per chunk."""

    def __init__(
        self,
        client: RealeflowClient,
        settings: PushSettings,
        *,
        journal: Journal | None = None,
        log: RequestLog | None = None,
        on_notice: Callable[[str], None] | None = None,
        on_row: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.journal = journal
        self.log = log
        self.on_notice = on_notice or (lambda message: None)
        self.on_row = on_row
        self._fatal: ImporterError | None = None
        self.stats = PushStats()
        self._stop = asyncio.Event()
        self._limiter = RateLimiter(settings.max_rate) if settings.max_rate else None
        self._gate = Gate(create_window(settings.concurrency))
        self._retry = RetryPolicy(settings)
        self._breaker = Breaker(settings, self.on_notice)
        self._ids = KnownIds()  # highest id known per kind, ids given to rows of this run
        self._seq = 0  # creates started, all kinds
        self._wire: set[int] = set()  # id() of the jobs whose create request is out right now
        self._abandon = asyncio.Event()  # set by abandon(): creates in flight are given up at once
        self._admitted: set[int] = set()  # rows let through by --limit
        self._refused: set[int] = set()  # rows --limit kept from being sent

    # -- run-level --------------------------------------------------------------------------------

    @property
    def fatal(self) -> ImporterError | None:
        """What stopped the run (AuthError, ApiUnavailableError), or None."""
        return self._fatal

    @fatal.setter
    def fatal(self, error: ImporterError | None) -> None:
        # Plans that send requests themselves set this on a 401: it stops every worker too.
        self._fatal = error
        if error is not None:
            self._stop.set()

    def stop(self, error: ImporterError) -> None:
        """Stop every worker at once; rows not created become not-sent.

        Creates already sent are waited for (their answers are recorded), unless
        :meth:`abandon` is called too.
        """
        if self._fatal is None:
            self._fatal = error
        self._stop.set()

    def abandon(self) -> None:
        """After :meth:`stop`: give up the creates still waiting for an answer, now.

        Their rows are ``not-sent`` with a note and stay ``pending`` in the ledger,
        so the next run looks for them in the list before sending anything.
        """
        if self._stop.is_set():
            self._abandon.set()

    @property
    def window_waits(self) -> int:
        """Creates that waited because the oldest one without an answer had CREATE_WINDOW sent after it."""
        return self._gate.window_waits

    def admit(self, row: int) -> bool:
        """Whether ``row`` may send (``--limit``): the first ``limit`` rows that ask may; a row asks
        once per request, and one let through stays let through. Rows refused are counted in
        ``held_back`` once each."""
        limit = self.settings.limit
        if limit is None or row in self._admitted:
            return True
        if len(self._admitted) < limit:
            self._admitted.add(row)
            return True
        self._refused.add(row)
        return False

    @property
    def held_back(self) -> int:
        """Rows ``--limit`` kept from being sent (each not-sent, for a later run)."""
        return len(self._refused)

    def limit_reason(self) -> str:
        return held_back_reason(self.settings.limit)

    def keep(self, write: Callable[[], None]) -> None:
        """A ledger write outside a request; if the ledger fails, the run stops (rows keep their outcomes)."""
        try:
            write()
        except LedgerError as exc:
            self.stop(exc)

    async def _note_settled(self, job: Job, state: str, error: str) -> None:
        """In the ledger: ``job``'s request ended without a record (after its answer, or instead of sending).

        Like every write after a request, a failing ledger stops the run and the row keeps its outcome.
        """
        if self.journal is not None and job.key is not None:
            try:
                await self.journal.settled(job.key, job.kind, job.row, state, error)
            except LedgerError as exc:
                self.stop(exc)

    async def _note_created(self, job: Job, ident: int | None, guid: str | None = None, *, flush: bool = False) -> None:
        """In the ledger: ``job``'s record exists (``ident`` None: its id unknown); ``flush``: committed now."""
        journal = self.journal
        if journal is not None and job.key is not None:
            try:
                await journal.created(job.key, job.kind, job.row, ident, guid)
            except LedgerError as exc:
                self.stop(exc)
            if flush:
                self.keep(journal.flush_now)

    def report_row(self, status: str) -> None:
        """Live progress: one row got its final status (plans that call ``send`` directly call this)."""
        if self.on_row is not None:
            self.on_row(status)

    async def prime(self, kinds: set[str]) -> None:
        """Learn the newest existing id of each kind, so lost answers can be looked for from the start."""
        try:
            for kind in sorted(kinds):
                for r in await self._recent_retrying(kind):
                    self._ids.see(kind, record_int_id(kind, r), claim=False)
        except Stopped:
            return

    async def recover(self) -> str | None:
        """Settle what a killed run left ``pending``: found in the list, proven absent, or uncertain.

        Runs before any create of this run. Returns a notice for the person, or None.
        A stop meanwhile leaves the rest pending (the next run settles it).
        """
        if self.journal is None:
            return None
        j = self.journal
        entries = j.left_pending()
        if not entries:
            return None
        counts = {"found": 0, "absent": 0, "unsure": 0}
        by_kind: dict[str, list[Entry]] = {}
        for e in entries:
            by_kind.setdefault(e.kind, []).append(e)
        try:
            for kind, items in by_kind.items():
                self._recover_kind(kind, items, await self._recent_retrying(kind), counts)
        except Stopped:
            pass
        self.stats.recovered = counts["found"]
        runs = sorted({e.run_id for e in entries if e.run_id is not None})
        return (
            f"run {', '.join(map(str, runs))} stopped with {len(entries)} create(s) in flight: {counts['found']} "
            f"found in Realeflow and recorded, {counts['absent']} not created (will be sent), {counts['unsure']} "
            "uncertain (reported failed)"
        )

    def _recover_kind(
        self, kind: str, items: list[Entry], records: list[dict[str, Any]], counts: dict[str, int]
    ) -> None:
        j = self.journal
        assert j is not None
        ids = [i for r in records if (i := record_int_id(kind, r)) is not None]
        taken = j.known_ids(kind, ids)
        unmatched: list[Entry] = []
        for e in items:  # first every entry that can be found, so what is left over is someone else's
            assert e.payload is not None
            hit = self._ids.match(kind, e.payload, records, e.mark, taken)
            if hit is None:
                unmatched.append(e)
                continue
            taken.add(hit[0])
            self._ids.see(kind, hit[0])
            j.recovered(e, hit[0], hit[1])
            counts["found"] += 1
        for e in unmatched:
            run = j.run(e.run_id) if e.run_id is not None else None
            newer = (run.max_seq - e.seq) if run is not None and e.seq is not None else LIST_SIZE
            foreign = any(i not in taken and (e.mark is None or i > e.mark) for i in ids)
            if covered(records, e.mark, e.inflight, newer, foreign):
                gone = "in flight when its run stopped; not created"
                j.settle_many([(e.key, kind, e.row or 0)], Status.NOT_SENT, gone)
                counts["absent"] += 1
            else:
                j.settle_many(
                    [(e.key, kind, e.row or 0)],
                    Status.UNCERTAIN,
                    f"in flight when run {e.run_id} stopped and no longer among the {LIST_SIZE} most recent "
                    f"{kind}s: it may or may not have been created; check Realeflow, then re-run with "
                    "--retry-failed to send it",
                )
                counts["unsure"] += 1

    async def run(self, jobs: list[Job]) -> list[Outcome]:
        """Send one chunk's jobs with ``concurrency`` workers; one outcome per job, in job order.

        After a stop, every job gets an outcome all the same: not-sent, or (a create given up
        by :meth:`abandon` while on its way) not-sent with a note, left pending in the ledger.
        """
        outcomes: dict[int, Outcome] = {}
        rows: dict[int, _Row] = {}
        queue: deque[Job] = deque(jobs)

        async def worker() -> None:
            while queue and not self._stop.is_set():
                job = queue.popleft()
                row = rows[id(job)] = self._row(job)
                outcome = await self._send(row)
                outcomes[id(job)] = outcome
                self._finished(outcome)

        workers = [asyncio.create_task(worker()) for _ in range(min(self.settings.concurrency, max(1, len(jobs))))]
        if self._abandon.is_set():
            for w in workers:
                w.cancel()
        cancel = [asyncio.ensure_future(self._abandon.wait())]
        cancel[0].add_done_callback(lambda _: [w.cancel() for w in workers])
        try:
            done = await asyncio.gather(*workers, return_exceptions=True)
        finally:
            cancel[0].cancel()
            for w in workers:
                w.cancel()
        for failure in done:
            if isinstance(failure, Exception):
                raise failure
        return self._settle_rest(jobs, outcomes, rows)

    def _settle_rest(self, jobs: list[Job], outcomes: dict[int, Outcome], rows: dict[int, _Row]) -> list[Outcome]:
        """Every job's outcome, in job order: the ones the workers did not finish are not-sent."""
        result = []
        never: list[tuple[str, str, int]] = []
        for job in jobs:
            outcome = outcomes.get(id(job))
            if outcome is None:
                row = rows.get(id(job))
                if row is not None and (row.on_wire or row.unconfirmed is not None):
                    outcome = self._not_sent(row, on_wire=row.on_wire)  # its ledger line stays as it is
                else:
                    outcome = Outcome(job.row, Status.NOT_SENT, error=self._not_sent_reason())
                    if job.key is not None:
                        never.append((job.key, job.kind, job.row))
                self._finished(outcome)
            result.append(outcome)
        journal = self.journal
        if never and journal is not None:
            self.keep(journal.flush_now)  # a pending line still queued must not land after its not-sent
            self.keep(lambda: journal.settle_many(never, Status.NOT_SENT, self._not_sent_reason()))
        return result

    def _finished(self, outcome: Outcome) -> None:
        self.stats.counts[outcome.status] = self.stats.counts.get(outcome.status, 0) + 1
        self.report_row(outcome.status)

    def _not_sent_reason(self) -> str:
        return f"not sent: the run stopped before this row ({self.fatal})" if self.fatal else "not sent"

    # -- one row ---------------------------------------------------------------------------------

    async def send(self, job: Job) -> Outcome:
        """Create one record with retries and lost-answer reconciliation; never raises for the row."""
        return await self._send(self._row(job))

    async def pace(self) -> None:
        """Wait for the rate limit (``--max-rate``), if any: every request of the run goes through it."""
        if self._limiter is not None:
            await self._limiter.wait()

    @property
    def retry(self) -> RetryPolicy:
        """The run's retry policy, for the requests a plan makes itself (lists, relations)."""
        return self._retry

    def _row(self, job: Job) -> _Row:
        return _Row(job, time.monotonic(), self._breaker.paused_total)

    async def _send(self, row: _Row) -> Outcome:
        job = row.job
        outcome: Outcome | None = None
        # The row's own clock (pauses of the whole run not counted) is in _stop_rule, not tenacity's.
        retrying = self._retry.retrying(
            stop=self._stop_rule(row), wait=self._wait, row_deadline=False, sleep=self._sleep
        )
        try:
            async for attempt in retrying:
                with attempt:
                    outcome = await self._try(job, row)
        except (Stopped, AuthError) as exc:
            if isinstance(exc, AuthError):
                self.stop(exc)
            return self._not_sent(row)
        except _RowFailed as exc:
            return self._outcome(row, Status.FAILED, error=str(exc))
        except TransientError as exc:
            if row.unconfirmed is not None and row.unconfirmed.created:
                return await self._last_look(row)  # it exists: looked for, never sent again
            if self._stop.is_set():
                return self._not_sent(row)
            if row.unconfirmed is not None:
                return await self._last_look(row)
            return self._outcome(row, Status.FAILED, error=f"{exc} (gave up after {row.attempts} attempt(s))")
        finally:
            if row.holding:
                row.holding = False
                self._gate.release()
        assert outcome is not None
        return outcome

    def _outcome(self, row: _Row, status: str, **kw: Any) -> Outcome:
        return Outcome(row.job.row, status, attempts=row.attempts, latency=time.monotonic() - row.started, **kw)

    def _not_sent(self, row: _Row, *, on_wire: bool = False) -> Outcome:
        """The run stopped before this row was done; if a create's answer is missing, it may exist."""
        if row.unconfirmed is not None and row.unconfirmed.created:
            return self._created_unknown(row)
        if row.unconfirmed is None and not on_wire:
            return self._outcome(row, Status.NOT_SENT, error=self._not_sent_reason())
        # Its ledger line stays pending: the next run looks for it before sending.
        what = "was given up when the run stopped" if on_wire else "answer was lost"
        note = f"its last create {what}; the next run checks whether it went through"
        return self._outcome(row, Status.NOT_SENT, error=self._not_sent_reason(), note=note, maybe_created=True)

    def _created_unknown(self, row: _Row) -> Outcome:
        """The API said it created the record but gave no usable id, and the list did not show it."""
        sent = row.unconfirmed
        self._unhold(row)
        note = (
            f"created: {sent.why if sent else 'the API gave no usable Id'}, and it is not among the {LIST_SIZE} "
            f"most recent {row.job.kind}s, so its id is unknown; it is in Realeflow and is not sent again"
        )
        return self._outcome(row, Status.CREATED, note=note, maybe_created=True)

    async def _last_look(self, row: _Row) -> Outcome:
        """Out of tries just after a lost answer: look for the record once more, never send it again."""
        sent = row.unconfirmed
        assert sent is not None
        try:
            outcome = await self._resolve(row.job, row, final=True)
        except Stopped:
            return self._not_sent(row)
        except (TransientError, ApiError) as exc:
            return await self._uncertain(row, f"{sent.why}; the list to look for it in could not be read ({exc})")
        assert outcome is not None
        return outcome

    def _stop_rule(self, row: _Row) -> Callable[[RetryCallState], bool]:
        def stop(state: RetryCallState) -> bool:
            if self._stop.is_set():
                return True
            active = time.monotonic() - row.started - (self._breaker.paused_total - row.paused_at_start)
            # tenacity has worked out the wait before asking: no wait may run past the row's time.
            return active + state.upcoming_sleep >= self.settings.row_timeout

        return stop

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.ambiguous and not _timed_out(exc):
            return 0.0  # look for it at once: no create starts meanwhile
        return self._retry.wait(state)

    async def _sleep(self, seconds: float) -> None:
        self.stats.retries += 1  # tenacity sleeps (0 s included) once before every retry
        await self._pause(seconds)

    async def _pause(self, seconds: float) -> None:
        """Sleep, cut short when the run stops."""
        if seconds > 0 and not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), seconds)

    async def _try(self, job: Job, row: _Row) -> Outcome:
        if self._stop.is_set() or self._fatal is not None:
            raise Stopped
        if row.unconfirmed is not None:
            outcome = await self._resolve(job, row)
            if outcome is not None:
                return outcome
        outcome = await self._create(job, row)
        if outcome is None:  # created without a usable id: found in the list, or created with it unknown
            outcome = await self._resolve(job, row, final=True)
            assert outcome is not None
        return outcome

    async def _create(self, job: Job, row: _Row) -> Outcome | None:
        """One create request; None when the API created it but gave no usable id (``row.unconfirmed`` says so)."""
        token = await self._breaker.admit(self._stop)
        recorded = False
        kind = job.kind
        try:
            number = await self._gate.enter(kind, self._stop)
        except BaseException:
            self._breaker.abandon(token)
            raise
        try:
            await self.pace()
            seq, self._seq = self._seq, self._seq + 1
            inflight = self._gate.inflight - 1
            mark = self._ids.mark(kind)
            await self._note_pending(job, seq, inflight, mark)
            row.attempts += 1
            self.stats.requests += 1
            started = time.monotonic()
            row.on_wire = True
            try:
                answer = await self.client.create(kind, job.payload)
            except ApiError as exc:
                row.on_wire = False
                recorded = self._breaker_heard(exc, token)
                failure = await self._failed(row, exc, started, _Unconfirmed(seq, inflight, mark, str(exc), False, 0))
                if failure is exc:
                    raise
                raise failure from exc
            row.on_wire = False
            self._breaker.record(False, token)
            recorded = True
            return await self._answered(job, row, answer, started, seq, inflight, mark)
        finally:
            self._gate.leave(kind, number)
            if not recorded:
                self._breaker.abandon(token)

    async def _note_pending(self, job: Job, seq: int, inflight: int, mark: int | None) -> None:
        """In the ledger: the create is about to be sent (committed first); Stopped if that fails or the run stops."""
        journal = self.journal
        if journal is None or job.key is None:
            return
        try:
            await journal.pending(job.key, job.kind, job.row, seq, inflight, mark, job.payload, job.identity)
        except LedgerError as exc:  # not recorded, so not sent
            self.stop(exc)
            raise Stopped from exc
        if self._stop.is_set():
            await self._note_settled(job, Status.NOT_SENT, self._not_sent_reason())
            raise Stopped

    async def _answered(
        self, job: Job, row: _Row, answer: Answer, started: float, seq: int, inflight: int, mark: int | None
    ) -> Outcome | None:
        """The outcome of a create the API answered; None when it was created with no usable id."""
        kind = job.kind
        if not answer.successful:
            error = f"rejected by the API: {answer.error}"
            await self._note_settled(job, Status.FAILED, error)
            self._log(row, "rejected", started, http=200, error=answer.error)
            return self._outcome(row, Status.FAILED, error=error)
        if answer.id is None:
            why = "the API said it created the record but its answer had no usable Id"
            self._log(row, "created-no-id", started, http=200)
            await self._note_created(job, None, flush=True)  # it exists: committed now, never sent again
            row.unconfirmed = _Unconfirmed(seq, inflight, mark, why, False, time.monotonic(), created=True)
            self._hold(row)
            return None
        self._ids.see(kind, answer.id)
        await self._note_created(job, answer.id)
        self._log(row, Status.CREATED, started, http=200, id=answer.id)
        return self._outcome(row, Status.CREATED, id=answer.id)

    def _breaker_heard(self, exc: ApiError, token: tuple[int, bool]) -> bool:
        """Tell the breaker of a failed create; a 401 or an unusable API is not the API failing."""
        if isinstance(exc, AuthError | ApiUnavailableError):
            return False
        self._breaker.record(isinstance(exc, TransientError), token)
        return True

    async def _failed(self, row: _Row, exc: ApiError, started: float, sent: _Unconfirmed) -> BaseException:
        """Log and record a create that raised; returns what ``_try`` is to raise."""
        settle = functools.partial(self._note_settled, row.job)
        if isinstance(exc, TransientError):
            self._log(row, "lost" if exc.ambiguous else "error", started, http=exc.status_code, error=str(exc))
            if exc.ambiguous:
                sent.timed_out, sent.at = _timed_out(exc), time.monotonic()
                row.unconfirmed = sent
                self._hold(row)
            else:
                await settle(Status.FAILED, str(exc))
            if self._breaker.gave_up:
                self.stop(ApiUnavailableError(self._breaker.gave_up))
            return exc
        if isinstance(exc, AuthError):
            self._log(row, "unauthorized", started, http=401, error=str(exc))
            await settle(Status.NOT_SENT, str(exc))
            return exc
        if isinstance(exc, ApiUnavailableError):  # the API cannot be used at all (bad URL, protocol)
            self._log(row, "unavailable", started, error=str(exc))
            await settle(Status.NOT_SENT, str(exc))
            self.stop(exc)
            return Stopped()
        # any other 4xx: this request is refused as such
        self._log(row, "refused", started, http=exc.status_code, error=str(exc))
        await settle(Status.FAILED, str(exc))
        return _RowFailed(f"refused by the API: {exc}")

    def _hold(self, row: _Row) -> None:
        """No create starts until this row's record has been looked for."""
        if not row.holding:
            row.holding = True
            self._gate.hold()

    async def _resolve(self, job: Job, row: _Row, *, final: bool = False) -> Outcome | None:
        """After a lost answer: the row's outcome if settled (found / uncertain), None to send again.

        ``final``: the row has no tries left, so absence makes it ``failed`` instead of sent again.
        A create the API said it made (``sent.created``) is never sent again: absent, it is
        created with its id unknown.
        """
        sent = row.unconfirmed
        assert sent is not None
        await self._gate.drain(self._stop)  # every other answer is in and recorded: their ids are claimed
        pause = 0.5
        while True:
            started = time.monotonic()
            records = await self._recent(job.kind)
            self.stats.lookups += 1
            hit = self._ids.match(job.kind, job.payload, records, sent.mark, set())
            if hit is not None:
                return await self._found(row, hit, started)
            newer = self._seq - sent.seq - 1
            foreign = any(
                (i := record_int_id(job.kind, r)) is not None
                and (sent.mark is None or i > sent.mark)
                and not self._ids.claimed(job.kind, i)
                for r in records
            )
            if not covered(records, sent.mark, sent.inflight, newer, foreign):
                self._log(row, Status.UNCERTAIN, started)
                return await self._uncertain(row, sent.why)
            # A request that timed out may still be carried out: its absence proves nothing until the
            # server has had settle_seconds more (no create starts meanwhile, so it stays in the list).
            left = sent.at + self.settings.settle_seconds - time.monotonic() if sent.timed_out else 0.0
            if left <= 0:
                break
            self._log(row, "not-yet", started)
            await self._pause(min(pause, left))
            if self._stop.is_set():
                raise Stopped
            pause *= 2
        self._log(row, "absent", started)
        if sent.created:
            return self._created_unknown(row)
        self._unhold(row)
        if not final:
            return None  # provably not created: send again
        error = (
            f"{sent.why} (gave up after {row.attempts} attempt(s)); it is not among the "
            f"{LIST_SIZE} most recent {job.kind}s, so it was not created"
        )
        await self._note_settled(job, Status.FAILED, error)
        return self._outcome(row, Status.FAILED, error=error)

    async def _found(self, row: _Row, hit: tuple[int, str | None], started: float) -> Outcome:
        job = row.job
        sent = row.unconfirmed
        assert sent is not None
        ident, guid = hit
        self._ids.see(job.kind, ident)
        await self._note_created(job, ident, guid)
        self._log(row, "found", started, id=ident)
        self.stats.found += 1
        self._unhold(row)
        what = "its answer had no usable Id" if sent.created else "its answer was lost"
        note = f"{what}; found among the recent {job.kind}s"
        return self._outcome(row, Status.CREATED, id=ident, guid=guid, note=note)

    async def _uncertain(self, row: _Row, reason: str) -> Outcome:
        job = row.job
        if row.unconfirmed is not None and row.unconfirmed.created:
            return self._created_unknown(row)
        error = (
            f"{reason}; the record may have been created but is not among the {LIST_SIZE} most recent "
            f"{job.kind}s: check Realeflow, then re-run with --retry-failed to send it if it is not there"
        )
        await self._note_settled(job, Status.UNCERTAIN, error)
        self._unhold(row)
        return self._outcome(row, Status.FAILED, error=error, maybe_created=True)

    def _unhold(self, row: _Row) -> None:
        row.unconfirmed = None
        if row.holding:
            row.holding = False
            self._gate.release()

    # -- helpers ---------------------------------------------------------------------------------

    async def _recent(self, kind: str) -> list[dict[str, Any]]:
        await self.pace()
        return await self.client.recent(kind)

    async def _recent_retrying(self, kind: str) -> list[dict[str, Any]]:
        """The list, with the rows' retry rules (for the start of a run, when nothing else is going on).

        Raises Stopped once the run is stopped (no more tries, no more waits).
        """
        async for attempt in start_retrying(self.settings, sleep=self._pause):
            with attempt:
                if self._stop.is_set():
                    raise Stopped
                records = await self._recent(kind)
        return records

    def _log(self, row: _Row, status: str, started: float, **fields: Any) -> None:
        if self.log is not None:
            latency = round((time.monotonic() - started) * 1000, 1)
            self.log.write(
                row=row.job.row, kind=row.job.kind, status=status, attempt=row.attempts, latency_ms=latency, **fields
            )


def _timed_out(exc: TransientError) -> bool:
    """A read timeout or gateway error: the server may still be working on it, so look later."""
    return isinstance(exc.__cause__, httpx.TimeoutException) or exc.status_code in (502, 504)
