"""The one retry policy: every request of a push (creates, lists, relations, the account check).

Full-jitter exponential backoff (``backoff_base`` doubling, at most ``backoff_max``); a 429's
``Retry-After`` honoured up to ``retry_after_max``; at most ``max_attempts`` tries, and for a row's
requests no try or wait past ``row_timeout``. Only :class:`TransientError` is retried (5xx, 429,
timeouts, dropped connections); callers narrow that further where a retry could duplicate.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from importer.errors import TransientError
from importer.push.settings import PushSettings

__all__ = ["RetryPolicy", "start_retrying"]


class _StopWhen(stop_base):
    """A function as a stop rule: tenacity's ``|`` combines stop_base instances only."""

    def __init__(self, predicate: Callable[[RetryCallState], bool]) -> None:
        self.predicate = predicate

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.predicate(retry_state)


class RetryPolicy:
    """Retries as ``settings`` say; :meth:`retrying` builds the tenacity loop for one request."""

    def __init__(self, settings: PushSettings) -> None:
        self.settings = settings
        self._backoff = wait_random_exponential(multiplier=settings.backoff_base, max=settings.backoff_max)

    def wait(self, state: RetryCallState) -> float:
        """Seconds before the next try: the server's Retry-After (capped), else jittered backoff."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return min(exc.retry_after, self.settings.retry_after_max)
        return float(self._backoff(state))

    def retrying(
        self,
        *,
        retry: Callable[[BaseException], bool] = lambda e: isinstance(e, TransientError),
        stop: Callable[[RetryCallState], bool] | None = None,
        wait: Callable[[RetryCallState], float] | None = None,
        row_deadline: bool = True,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        before_sleep: Callable[[RetryCallState], None] | None = None,
    ) -> AsyncRetrying:
        """An ``async for attempt in ...`` loop. ``stop`` adds to the attempts (and, with
        ``row_deadline``, the row's time) rule; ``wait`` replaces :meth:`wait`."""
        rule: stop_base = stop_after_attempt(self.settings.max_attempts)
        if row_deadline:
            rule = rule | stop_after_delay(self.settings.row_timeout)
        if stop is not None:
            rule = rule | _StopWhen(stop)
        extra: dict[str, Any] = {}
        if sleep is not None:
            extra["sleep"] = sleep
        if before_sleep is not None:
            extra["before_sleep"] = before_sleep
        return AsyncRetrying(
            stop=rule, wait=wait or self.wait, retry=retry_if_exception(retry), reraise=True, **extra
        )


def start_retrying(
    settings: PushSettings,
    on_retry: Callable[[str], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> AsyncRetrying:
    """Retries for the requests that start a run (account check, list priming): the rows' rules.

    A 5xx, 429 or timeout at the start of a scheduled run is retried like a row's, not fatal.
    ``on_retry`` is told, in words, what failed and how long the wait is; ``sleep`` replaces
    asyncio.sleep (a stop can cut it short).
    """

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if on_retry is not None:
            on_retry(f"{exc}; trying again in {state.upcoming_sleep:.1f} s")

    return RetryPolicy(settings).retrying(row_deadline=False, sleep=sleep, before_sleep=before_sleep)
