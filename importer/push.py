"""The push stage: send create requests with bounded concurrency, retries and no duplicates.

``Pusher.run`` takes the jobs of one chunk (row number, kind, payload) and
returns one :class:`Outcome` per job. Inside:

- ``concurrency`` workers share one :class:`RealeflowClient`;
- tenacity retries :class:`TransientError` (5xx, 429 honouring Retry-After,
  timeouts, dropped connections) with full-jitter exponential backoff, bounded
  by attempts and by seconds per row; a row that runs out is ``failed`` with
  the last error, and the run goes on;
- ``Successful: false`` is a ``failed`` row with the API's Error text, never retried;
- a 401 stops every worker at once: rows not yet sent become ``not-sent`` and
  the :class:`AuthError` is kept in ``Pusher.fatal`` for the caller;
- an *ambiguous* failure (the create may have been committed but its answer was
  lost) is reconciled before any re-send: new creates are held back, and the
  kind's 25 most recent records are searched for the row's payload. Found: the
  row is created with that id. Not found while the list reaches back past the
  request: safe to re-send. Otherwise the row fails with a message saying it
  may exist, rather than risking a duplicate.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
)
from tenacity.wait import wait_random_exponential

from importer.client import Answer, RealeflowClient
from importer.errors import AuthError, TransientError

__all__ = ["CREATED", "FAILED", "NOT_SENT", "Job", "Outcome", "PushSettings", "Pusher", "RateLimiter"]

CREATED = "created"
FAILED = "failed"
NOT_SENT = "not-sent"


@dataclass(frozen=True)
class PushSettings:
    concurrency: int = 4
    max_attempts: int = 6  # per row, the first try included
    row_timeout: float = 120.0  # seconds per row, retries and waits included
    backoff_base: float = 0.5  # seconds; full jitter: a wait is uniform in [0, base * 2**n]
    backoff_max: float = 30.0
    request_timeout: float = 30.0
    max_rate: float | None = None  # requests per second across all workers


@dataclass(frozen=True)
class Job:
    row: int
    kind: str  # "contact" | "property"
    payload: dict[str, Any]


@dataclass
class Outcome:
    row: int
    status: str  # created | failed | not-sent
    id: int | None = None
    error: str = ""
    attempts: int = 0
    latency: float = 0.0
    note: str = ""  # e.g. "found after a lost answer"


class RateLimiter:
    """Spaces requests at most ``rate`` per second (shared by all workers)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


class _CreateGate:
    """Lets creates run side by side, but lets a reconciliation run alone.

    While one row looks for its lost create among the 25 most recent records,
    no new creates start and in-flight ones finish, so the record cannot be
    pushed out of the list by our own traffic.
    """

    def __init__(self) -> None:
        self._active = 0
        self._exclusive = False
        self._cond = asyncio.Condition()

    async def enter(self) -> None:
        async with self._cond:
            await self._cond.wait_for(lambda: not self._exclusive)
            self._active += 1

    async def leave(self) -> None:
        async with self._cond:
            self._active -= 1
            self._cond.notify_all()

    async def exclusive_begin(self, holding: bool) -> None:
        async with self._cond:
            await self._cond.wait_for(lambda: not self._exclusive)
            self._exclusive = True
            mine = 1 if holding else 0
            await self._cond.wait_for(lambda: self._active <= mine)

    async def exclusive_end(self) -> None:
        async with self._cond:
            self._exclusive = False
            self._cond.notify_all()


@dataclass
class _Watermark:
    """Highest id per kind known to exist: a record with a higher id came later."""

    ids: dict[str, int] = field(default_factory=dict)

    def see(self, kind: str, ident: int | None) -> None:
        if ident is not None and ident > self.ids.get(kind, -1):
            self.ids[kind] = ident


class Pusher:
    """Runs jobs against the API. One instance per run; ``run`` once per chunk."""

    def __init__(
        self,
        client: RealeflowClient,
        settings: PushSettings,
        *,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.on_outcome = on_outcome
        self.fatal: AuthError | None = None
        self._limiter = RateLimiter(settings.max_rate) if settings.max_rate else None
        self._gate = _CreateGate()
        self._marks = _Watermark()
        self._claimed: set[tuple[str, int]] = set()  # ids already given to a row
        self._recent_errors: deque[bool] = deque(maxlen=50)

    async def prime(self, kinds: set[str]) -> None:
        """Learn the newest existing id of each kind, so lost answers can be reconciled from the start."""
        for kind in kinds:
            records = await self.client.recent(kind)
            for r in records:
                self._marks.see(kind, _record_int_id(kind, r))

    async def run(self, jobs: list[Job]) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        queue: asyncio.Queue[Job] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)

        async def worker() -> None:
            while self.fatal is None:
                try:
                    job = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                outcome = await self.send(job)
                outcomes[job.row] = outcome
                if self.on_outcome is not None:
                    self.on_outcome(outcome)

        workers = [asyncio.create_task(worker()) for _ in range(max(1, self.settings.concurrency))]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
        result = []
        for job in jobs:
            outcome = outcomes.get(job.row)
            if outcome is None:
                outcome = Outcome(job.row, NOT_SENT, error="not sent: the run stopped before this row")
                if self.on_outcome is not None:
                    self.on_outcome(outcome)
            result.append(outcome)
        return result

    # -- one row ---------------------------------------------------------------------------------

    async def send(self, job: Job) -> Outcome:
        """Create one record with retries and lost-answer reconciliation; never raises for the row."""
        s = self.settings
        started = time.monotonic()
        attempts = 0
        ambiguous_mark: int | None = None  # watermark when the ambiguous request was sent
        last: BaseException | None = None
        retrying = AsyncRetrying(
            stop=stop_after_attempt(s.max_attempts) | stop_after_delay(s.row_timeout),
            wait=self._wait,
            retry=retry_if_exception_type(TransientError),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    if ambiguous_mark is not None:
                        found, covered = await self._reconcile(job, ambiguous_mark)
                        if found is not None:
                            return self._done(
                                job, Answer(True, found, None), attempts, started, "found after a lost answer"
                            )
                        if not covered:
                            return Outcome(
                                job.row,
                                FAILED,
                                error=(
                                    f"{last}; the record may have been created but could not be found among "
                                    f"the 25 most recent {job.kind}s: check Realeflow before sending it again"
                                ),
                                attempts=attempts,
                                latency=time.monotonic() - started,
                            )
                        ambiguous_mark = None
                    mark = self._marks.ids.get(job.kind, -1)
                    try:
                        answer = await self._create(job)
                    except TransientError as exc:
                        last = exc
                        if exc.ambiguous:
                            ambiguous_mark = mark
                        raise
        except AuthError as exc:
            self.fatal = self.fatal or exc
            return Outcome(job.row, NOT_SENT, error=f"not sent: {exc}", attempts=attempts)
        except TransientError as exc:
            return Outcome(
                job.row,
                FAILED,
                error=f"{exc} (gave up after {attempts} attempts)",
                attempts=attempts,
                latency=time.monotonic() - started,
            )
        return self._done(job, answer, attempts, started)

    def _done(self, job: Job, answer: Answer, attempts: int, started: float, note: str = "") -> Outcome:
        latency = time.monotonic() - started
        if answer.successful:
            self._marks.see(job.kind, answer.id)
            if answer.id is not None:
                self._claimed.add((job.kind, answer.id))
            return Outcome(job.row, CREATED, answer.id, attempts=attempts, latency=latency, note=note)
        return Outcome(
            job.row, FAILED, error=f"rejected by the API: {answer.error}", attempts=attempts, latency=latency
        )

    async def _create(self, job: Job) -> Answer:
        await self._gate.enter()
        try:
            if self._limiter is not None:
                await self._limiter.wait()
            return await self.client.create(job.kind, job.payload)
        finally:
            await self._gate.leave()

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return min(exc.retry_after, self.settings.backoff_max)
        return wait_random_exponential(multiplier=self.settings.backoff_base, max=self.settings.backoff_max)(state)

    async def _reconcile(self, job: Job, mark: int) -> tuple[int | None, bool]:
        """Look for ``job``'s record among the newest 25. Returns (id if found, window covered)."""
        await self._gate.exclusive_begin(holding=False)
        try:
            if self._limiter is not None:
                await self._limiter.wait()
            records = await self.client.recent(job.kind)
        finally:
            await self._gate.exclusive_end()
        ids = [i for r in records if (i := _record_int_id(job.kind, r)) is not None]
        for r in records:
            ident = _record_int_id(job.kind, r)
            if ident is None or ident <= mark or (job.kind, ident) in self._claimed:
                continue
            if matches(job.kind, job.payload, r):
                return ident, True
        covered = len(records) < 25 or (bool(ids) and min(ids) <= mark)
        return None, covered


def _record_int_id(kind: str, record: dict[str, Any]) -> int | None:
    key = "contactid" if kind == "contact" else "propertyid"
    for k, v in record.items():
        if k.lower() == key:
            if isinstance(v, int) and not isinstance(v, bool):
                return v
            if isinstance(v, str) and v.isdigit():
                return int(v)
    return None


def _canon(value: Any) -> str:
    return " ".join(str(value).split()).casefold() if value is not None else ""


def _digits(value: Any) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())[-10:]


_COMPARED = {
    "contact": ("fullname", "email", "companyname", "address", "city", "state", "zipcode"),
    "property": ("address", "city", "state", "zipcode"),
}


def matches(kind: str, payload: dict[str, Any], record: dict[str, Any]) -> bool:
    """Does a list-endpoint record hold what ``payload`` created? Compares the fields the list shows."""
    lower = {k.lower(): v for k, v in record.items()}
    for f in _COMPARED[kind]:
        if f in payload and _canon(payload[f]) != _canon(lower.get(f)):
            return False
    if kind == "contact" and payload.get("phone"):
        shown = lower.get("phone") or lower.get("mobilephonedigits")
        if shown and _digits(shown) != _digits(payload["phone"]):
            return False
    return True
