"""How a push behaves (the CLI's options) and the create window that keeps every create findable."""

from __future__ import annotations

import math
from dataclasses import dataclass

from importer.errors import UsageError
from importer.push.recent import LIST_SIZE, OUTSIDE_MARGIN

__all__ = ["CREATE_WINDOW", "MAX_CONCURRENCY", "PushSettings", "create_window"]

#: Rows in flight at once, at most: after a crash every one of them must still be among the 25.
MAX_CONCURRENCY = 20
#: Creates of a kind that may be sent after the oldest one still without an answer, at most
#: (see importer.push.pacing.Gate).
CREATE_WINDOW = LIST_SIZE - OUTSIDE_MARGIN - 2


def create_window(concurrency: int) -> int:
    """The window for a run at ``concurrency``: creates sent after the oldest unanswered one.

    A record sinks out of the 25 the list shows once 25 others are newer: the creates sent after
    it, and those in flight beside it when it was sent (up to ``concurrency - 1``) that reached the
    server after it. ``LIST_SIZE - concurrency`` keeps the two within 24, so up to ``-c 12`` a
    record whose answer is late always stays findable. The window is never below ``concurrency``
    (there it would hold back a normal run, whose oldest create sees up to ``concurrency - 1`` sent
    after it before its answer), so above ``-c 12`` it holds as long as fewer than
    ``25 - concurrency`` of those in flight beside a record overtake it on the way to the server.
    """
    return min(CREATE_WINDOW, max(concurrency, LIST_SIZE - concurrency))


@dataclass(frozen=True)
class PushSettings:
    """How a push behaves; the CLI's options map onto these."""

    concurrency: int = 4
    max_attempts: int = 6  # per row, the first try included
    row_timeout: float = 120.0  # seconds per row, retries and waits included, run-wide pauses not
    backoff_base: float = 0.5  # seconds; full jitter: a wait is uniform in [0, base * 2**n]
    backoff_max: float = 30.0
    request_timeout: float = 30.0
    settle_seconds: float = 15.0  # after a read timeout or 502/504: the time the server may still commit it
    max_rate: float | None = None  # requests per second across all workers
    retry_after_max: float = 120.0  # the longest Retry-After honoured as given
    pause_base: float = 5.0  # first pause when most recent requests fail
    pause_max: float = 300.0
    outage_limit: float = 900.0  # total pause after which the run stops
    failure_window: int = 20  # recent requests judged
    failure_share: float = 0.8  # share of them failing that pauses the run
    force: bool = False  # send rows the ledger says were created already
    retry_failed: bool = False  # send only rows whose last try failed
    limit: int | None = None  # send at most this many rows (the first that need sending); the rest not-sent
    fail_on_changed: bool = False  # a row changed since an earlier run makes the exit code 1

    def __post_init__(self) -> None:
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise UsageError(
                f"--concurrency must be between 1 and {MAX_CONCURRENCY}, got {self.concurrency}: the API lists only "
                f"its {LIST_SIZE} most recent records, and every row in flight must be findable there after a crash"
            )
        if self.max_attempts < 1:
            raise UsageError(f"--max-attempts must be at least 1, got {self.max_attempts}")
        if not (math.isfinite(self.row_timeout) and self.row_timeout > 0):
            raise UsageError(f"--row-timeout must be a number of seconds more than 0, got {self.row_timeout}")
        if self.settle_seconds < 0:
            raise UsageError(f"settle_seconds must be 0 or more, got {self.settle_seconds}")
        if self.max_rate is not None and not (math.isfinite(self.max_rate) and self.max_rate > 0):
            raise UsageError(f"--max-rate must be more than 0 requests per second, got {self.max_rate}")
        if self.limit is not None and self.limit < 1:
            raise UsageError(f"--limit must be 1 or more rows, got {self.limit}")
        if self.force and self.retry_failed:
            raise UsageError("--force and --retry-failed cannot be used together: --force sends every row again")
