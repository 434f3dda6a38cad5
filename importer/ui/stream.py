"""Server-Sent Events for the workbench's long work (the review's check, a push): the page follows it live.

One stream per page that follows: the state as JSON in an ``event: progress`` when it changes
(looked at every :data:`TICK` s, so at most five a second), a comment line as a heartbeat after
:data:`HEARTBEAT` s of quiet (so nothing between the browser and here takes the stream for dead),
then an ``event: end`` with the last state when the work ends, and the stream closes. The browser's
``EventSource`` reconnects by itself after a dropped connection; each event carries the whole
state, so a reconnected (or reopened) page needs nothing it missed.

The generator sleeps on the event loop (no thread held per stream) and ends by itself when the
server is stopping (``stopping()``: its last event then says ``"stopping": true``), so Ctrl-C is not
held up by an open page; a page that goes away ends it too (starlette cancels the response on the
client's disconnect).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.responses import StreamingResponse

__all__ = ["HEARTBEAT", "TICK", "Streams", "event_stream"]

#: Seconds between looks at the state: at most five events a second.
TICK = 0.2
#: Seconds of quiet after which a heartbeat comment is sent.
HEARTBEAT = 15.0
#: What the browser waits before reconnecting a dropped stream, in ms (its default is about 3 s).
RETRY_MS = 1000
#: Fields that change with the clock alone: a new value of these is no new state.
_CLOCK = frozenset({"elapsed"})

State = dict[str, Any]


class Streams:
    """The open event streams (how many, for the tests), and how often they look and beat."""

    def __init__(self, stopping: Callable[[], bool], *, tick: float = TICK, heartbeat: float = HEARTBEAT) -> None:
        self.stopping = stopping
        self.tick = tick
        self.heartbeat = heartbeat
        self.open = 0

    def response(self, snapshot: Callable[[], Awaitable[State]], ended: Callable[[State], bool]) -> StreamingResponse:
        """A ``text/event-stream`` answer following ``snapshot()`` until ``ended(state)`` or the server stops."""
        return StreamingResponse(
            self.events(snapshot, ended), media_type="text/event-stream", headers={"x-accel-buffering": "no"}
        )

    async def events(
        self, snapshot: Callable[[], Awaitable[State]], ended: Callable[[State], bool]
    ) -> AsyncIterator[str]:
        self.open += 1
        try:
            async for text in event_stream(snapshot, ended, self.stopping, tick=self.tick, heartbeat=self.heartbeat):
                yield text
        finally:
            self.open -= 1


def _event(name: str, state: State) -> str:
    return f"event: {name}\ndata: {json.dumps(state, separators=(',', ':'))}\n\n"


async def event_stream(
    snapshot: Callable[[], Awaitable[State]],
    ended: Callable[[State], bool],
    stopping: Callable[[], bool],
    *,
    tick: float = TICK,
    heartbeat: float = HEARTBEAT,
) -> AsyncIterator[str]:
    """The stream's text, event by event (see the module docstring)."""
    yield f"retry: {RETRY_MS}\n\n"
    last: State | None = None
    quiet_since = time.monotonic()
    while True:
        state = await snapshot()
        if ended(state) or stopping():
            yield _event("end", {**state, "ended": ended(state), "stopping": stopping()})
            return
        seen = {k: v for k, v in state.items() if k not in _CLOCK}
        now = time.monotonic()
        if seen != last:
            yield _event("progress", {**state, "ended": False})
            last, quiet_since = seen, now
        elif now - quiet_since >= heartbeat:
            yield ": heartbeat\n\n"
            quiet_since = now
        await asyncio.sleep(tick)
