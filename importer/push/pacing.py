"""When a push's requests may go: the create gate (holds and the per-kind window), the breaker
that pauses every worker while the API keeps failing, and the rate limiter.

:class:`importer.push.pusher.Pusher` owns one of each; they share :class:`Stopped`, raised in a
worker that waits here when the run stops.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importer.push.settings import PushSettings

__all__ = ["Breaker", "Gate", "RateLimiter", "Stopped", "wait_event"]


class Stopped(Exception):
    """The run is stopping (401, outage): the row is not sent."""


class RateLimiter:
    """Spaces requests at most ``rate`` per second (shared by all workers)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0

    async def wait(self) -> None:
        # No lock needed: the event loop is single-threaded and this reserves a slot before awaiting.
        now = time.monotonic()
        delay = self._next - now
        self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


async def wait_event(event: asyncio.Event, stop: asyncio.Event, timeout: float | None = None) -> bool:
    """Wait for ``event`` (True), ``stop`` or the timeout (False)."""
    if event.is_set():
        return True
    waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
    return event.is_set()


class Gate:
    """When creates may start.

    Side by side, but (1) none while a lost answer is being looked for (``hold``), and (2) per
    kind, none while the oldest create of that kind still without an answer has ``window``
    creates of the kind sent after it. Rule 2 keeps a create whose outcome is unknown among the
    kind's 25 most recent records, so that a kill, a timeout or a lost answer can be settled by
    the list: newer than it are at most the ``window`` sent after it and those in flight beside
    it that reached the server after it (:func:`importer.push.settings.create_window` sizes it). A stalled
    create pauses its kind after ``window`` more instead of sinking out of sight; a normal run
    seldom waits, as the oldest create has about ``concurrency - 1`` sent after it when its
    answer comes.
    """

    def __init__(self, window: int) -> None:
        self.window = window
        self.inflight = 0
        self.holds = 0
        self.window_waits = 0  # creates that waited for rule 2 (for the log and the benchmark)
        self._started: dict[str, int] = {}  # creates started per kind
        self._open: dict[str, set[int]] = {}  # per kind, the numbers of the creates still without an answer
        self._moved = asyncio.Event()  # set (and replaced) whenever a create ends or a hold is released
        self._waiting = 0  # creates waiting in enter()
        self._idle = asyncio.Event()
        self._idle.set()

    def _blocked(self, kind: str) -> bool:
        if self.holds:
            return True
        unanswered = self._open.get(kind)
        if not unanswered:
            return False
        return self._started[kind] - min(unanswered) - 1 >= self.window

    async def enter(self, kind: str, stop: asyncio.Event) -> int:
        """Wait until a create of ``kind`` may start; returns its number (for :meth:`leave`)."""
        if self._blocked(kind) and not self.holds:
            self.window_waits += 1
        while self._blocked(kind):
            self._waiting += 1
            try:
                await wait_event(self._moved, stop)
            finally:
                self._waiting -= 1
            if stop.is_set():
                raise Stopped
        number = self._started.get(kind, 0)
        self._started[kind] = number + 1
        self._open.setdefault(kind, set()).add(number)
        self.inflight += 1
        self._idle.clear()
        return number

    def leave(self, kind: str, number: int) -> None:
        """The create's answer is in (or it failed, or was given up): it no longer holds the window."""
        self.inflight -= 1
        self._open[kind].discard(number)
        if self.inflight == 0:
            self._idle.set()
        self._move()

    def hold(self) -> None:
        self.holds += 1

    def release(self) -> None:
        self.holds -= 1
        if self.holds == 0:
            self._move()

    def _move(self) -> None:
        if self._waiting:  # a new event only when someone waits on the old one
            self._moved.set()
            self._moved = asyncio.Event()

    async def drain(self, stop: asyncio.Event) -> None:
        """Until the creates in flight have answered (and been recorded)."""
        await wait_event(self._idle, stop)
        if stop.is_set():
            raise Stopped


class Breaker:
    """Pauses every worker while most recent requests fail; one probe request decides when to go on."""

    def __init__(self, settings: PushSettings, notice: Callable[[str], None]) -> None:
        self.s = settings
        self.notice = notice
        self.results: deque[bool] = deque(maxlen=settings.failure_window)  # True: failed
        self.generation = 0
        self.level = 0
        self.state = "closed"  # closed | open | probing
        self.paused_total = 0.0
        self.outage_started: float | None = None
        self.gave_up: str | None = None
        self._resume = asyncio.Event()
        self._resume.set()
        self._probe_free = True
        self.pauses = 0

    async def admit(self, stop: asyncio.Event) -> tuple[int, bool]:
        """Wait while paused; returns (generation, is_probe)."""
        while True:
            if stop.is_set():
                raise Stopped
            if self.state == "closed":
                return self.generation, False
            if self.state == "probing" and self._probe_free:
                self._probe_free = False
                self._resume.clear()  # the others wait for the probe's answer
                return self.generation, True
            await wait_event(self._resume, stop, timeout=1.0)
            await asyncio.sleep(0)  # never spin without letting the loop run

    def record(self, failed: bool, token: tuple[int, bool]) -> None:
        generation, probe = token
        if probe:
            self._probe_free = True
            if failed:
                self._trip()
            else:
                self._close()
            return
        if generation != self.generation or self.state != "closed":
            return  # an answer to a request sent before the pause
        self.results.append(failed)
        n = len(self.results)
        if failed and n >= max(5, self.s.failure_window // 2) and sum(self.results) >= self.s.failure_share * n:
            self._trip(f"{sum(self.results)} of the last {n} requests failed")

    def abandon(self, token: tuple[int, bool]) -> None:
        if token[1]:
            self._probe_free = True
            self._resume.set()

    def _trip(self, why: str = "the probe request failed too") -> None:
        now = time.monotonic()
        if self.outage_started is None:
            self.outage_started = now
        pause = min(self.s.pause_base * 2**self.level, self.s.pause_max)
        if self.paused_total + pause > self.s.outage_limit:
            self.gave_up = (
                f"the API kept failing for {now - self.outage_started:.0f} s ({why}); the run stopped: "
                "rows not sent are 'not-sent' and a re-run sends them"
            )
            self.state = "closed"
            self._resume.set()
            return
        self.level += 1
        self.pauses += 1
        self.generation += 1
        self.results.clear()
        self.paused_total += pause
        self.state = "open"
        self._resume.clear()
        self.notice(f"{why}: pausing all requests for {pause:g} s, then trying one (pause {self.level})")
        asyncio.get_running_loop().call_later(pause, self._half_open, self.generation)

    def _half_open(self, generation: int) -> None:
        if generation == self.generation and self.state == "open":
            self.state = "probing"
            self._probe_free = True
            self._resume.set()

    def _close(self) -> None:
        if self.state != "closed":
            self.notice("the API answers again: resuming")
        self.state = "closed"
        self.level = 0
        self.outage_started = None
        self.results.clear()
        self._resume.set()
