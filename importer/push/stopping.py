"""SIGINT and SIGTERM stop a push cleanly, so the report still has a line for every row.

A person's Ctrl-C, ``kill``, systemd's stop and an orchestrator cancelling a task all
send one of these. Without this, Python's default (KeyboardInterrupt, or death by
SIGTERM) ends the run wherever it is: the rows of the chunk being sent, and every row
after it, never reach the report. With it:

1. the first signal stops the push: no new create starts, the creates already sent are
   given ``grace`` seconds to answer (their answers are recorded), the rest of the file is
   still read and reported (rows not sent are ``not-sent``) and the result carries an
   :class:`importer.errors.InterruptedRunError` (exit code 128 + the signal: 130, 143);
2. a second signal gives up the creates still waiting at once (their rows are
   ``not-sent`` with a note and stay pending in the ledger, for the next run to look for);
3. a third one gets the handlers that were there before (KeyboardInterrupt, or death).

Handlers are installed only in the main thread (Python delivers signals there) and the
previous ones are put back when the block ends.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from importer.errors import InterruptedRunError
from importer.push.pusher import Pusher

__all__ = ["STOP_GRACE_SECONDS", "StopOnSignals", "StopSwitch"]

#: After a first signal, how long the creates already sent may take to answer before they are given up.
STOP_GRACE_SECONDS = 10.0
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopOnSignals:
    """``with StopOnSignals(pusher, notice):`` around a push (inside its event loop)."""

    def __init__(self, pusher: Pusher, notice: Callable[[str], None], grace: float = STOP_GRACE_SECONDS) -> None:
        self.pusher = pusher
        self.notice = notice
        self.grace = grace
        self.received = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: dict[int, Any] = {}
        self._timer: asyncio.TimerHandle | None = None

    def __enter__(self) -> StopOnSignals:
        if threading.current_thread() is not threading.main_thread():
            return self
        self._loop = asyncio.get_running_loop()
        for sig in _SIGNALS:
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except (ValueError, OSError):  # pragma: no cover - a platform without it
                continue
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._restore()

    def _restore(self) -> None:
        for sig, previous in self._previous.items():
            if previous is not None:  # None: installed from C; nothing we can put back
                signal.signal(sig, previous)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        # Runs between two bytecodes of the main thread: hand over to the loop, do nothing here.
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._on_signal, signum)

    def _on_signal(self, signum: int) -> None:
        self.received += 1
        name = signal.Signals(signum).name
        if self.received == 1:
            self.pusher.stop(InterruptedRunError(signum, name))
            assert self._loop is not None
            self._timer = self._loop.call_later(self.grace, self.pusher.abandon)
            self.notice(
                f"{name}: stopping; the requests already sent get {self.grace:g} s to answer, then the report "
                f"is written with every row ({name} again to stop waiting for them)"
            )
            return
        self.pusher.abandon()
        self.notice(f"{name} again: the requests still out are given up (the next run looks for them)")
        self._restore()  # a third signal ends the program the usual way


class StopSwitch:
    """A stop button for a push run on another thread (the workbench's Cancel): the first press
    stops the push as a first SIGINT does, a second gives up the creates still waiting.

    ``switch.press()`` may be called from any thread, before the push has started too (it then
    stops at once). The push attaches it with ``with switch.attached(pusher, notice):``.
    """

    def __init__(self, grace: float = STOP_GRACE_SECONDS) -> None:
        self.grace = grace
        self.presses = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pusher: Pusher | None = None
        self._notice: Callable[[str], None] = lambda message: None
        self._timer: asyncio.TimerHandle | None = None

    @property
    def pressed(self) -> bool:
        return self.presses > 0

    def press(self) -> None:
        with self._lock:
            self.presses += 1
            loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._apply)

    def attached(self, pusher: Pusher, notice: Callable[[str], None]) -> StopSwitch:
        self._pusher = pusher
        self._notice = notice
        return self

    def __enter__(self) -> StopSwitch:
        with self._lock:
            self._loop = asyncio.get_running_loop()
            early = self.presses
        if early:
            self._apply()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._loop = None
        if self._timer is not None:
            self._timer.cancel()

    def _apply(self) -> None:
        pusher = self._pusher
        if pusher is None or self._loop is None:
            return
        if self._timer is None:  # the first press
            pusher.stop(InterruptedRunError(signal.SIGINT, "the stop button"))
            self._timer = self._loop.call_later(self.grace, pusher.abandon)
            self._notice(f"stopping: the requests already sent get {self.grace:g} s to answer")
        if self.presses > 1:
            pusher.abandon()
