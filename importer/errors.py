"""The one exception tree of realeflow-import.

Row problems (a bad ZIP, a rejected create) are *data*, collected in the
problems table and the report; these exceptions are for failures that stop a
run. Third-party errors (httpx, tenacity, pandas, openpyxl, sqlite3) are
translated where they enter our code, with ``raise ... from exc``.

    ImporterError                 base: catch this to catch everything we raise
    ├── UsageError                bad options or arguments (CLI exit 2)
    ├── MappingError              mapping unreadable or wrong for the file (exit 2)
    ├── LoadError                 input file unreadable: encoding, format, empty (exit 2)
    ├── ReportError               report cannot be written (exit 2)
    ├── LedgerError               ledger unusable (exit 2)
    │   └── LedgerLockedError     another run holds the ledger's lock (exit 2)
    ├── WorkerError               a worker process of a dry run died (exit 2)
    ├── InterruptedRunError       SIGINT / SIGTERM stopped a push (exit 130 / 143)
    └── ApiError                  the API could not be used as a whole (exit 2 unless below)
        ├── AuthError             401: the key was refused (exit 3)
        ├── AccountInactiveError  account status is not "Active" (exit 3)
        ├── ApiUnavailableError   the API cannot be reached or keeps failing
        └── TransientError        one request failed in a way worth retrying (5xx, 429,
                                  timeout, dropped connection); push retries it and, when
                                  retries run out, records it as the row's error

Every message is one line a person can act on: the file, the column, the row,
the value, and what to do about it. A message quotes a user's value through
:func:`quote` (a 10 MB cell or a YAML alias bomb must not become a 10 MB
message), and every message is kept to one line of at most
:data:`MAX_MESSAGE` characters however it was built.
"""

from __future__ import annotations

import reprlib

__all__ = [
    "MAX_MESSAGE",
    "AccountInactiveError",
    "ApiError",
    "ApiUnavailableError",
    "AuthError",
    "ImporterError",
    "InterruptedRunError",
    "LedgerError",
    "LedgerLockedError",
    "LoadError",
    "MappingError",
    "ReportError",
    "TransientError",
    "UsageError",
    "WorkerError",
    "one_line",
    "quote",
]

#: The longest message an error keeps; the middle of a longer one is cut out (the start names
#: the file, the end says what to do).
MAX_MESSAGE = 2000


class _Quoter(reprlib.Repr):
    """``repr`` that looks at a bounded part of a value: a few items, a few levels, a slice of text."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxtuple = self.maxlist = self.maxdict = self.maxset = self.maxfrozenset = 4
        self.maxstring = self.maxother = self.maxlong = max(8, limit)

    def repr_int(self, x: int, level: int) -> str:
        try:
            return super().repr_int(x, level)
        except ValueError:  # more digits than int -> str converts (sys.get_int_max_str_digits)
            return f"<a number of {x.bit_length():,} bits>"


def quote(value: object, limit: int = 80) -> str:
    """A user's value for a message, repr-like, at most about ``limit`` characters, on one line.

    Only a bounded part of the value is looked at, so a 10 MB string or a list of a billion
    shared items costs microseconds: ``quote("x" * 10**7)`` is its first and last x's with "..."
    between, then "(10,000,000 characters)".
    """
    try:
        text = _Quoter(limit).repr(value)
    except Exception:  # a value whose repr fails is still named
        text = f"<{type(value).__name__}>"
    text = one_line(text)
    if len(text) > limit:
        text = text[: max(1, limit - 1)] + "…"
    if isinstance(value, str) and len(value) > limit:
        text += f" ({len(value):,} characters)"
    return text


def one_line(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` with its line breaks folded into spaces, and its middle cut out past ``limit``."""
    lines = message.splitlines()  # every line break Python knows: \n, \r, \v, \f, \x1c-\x1e, \x85, \u2028 ...
    if lines != [message]:
        message = " ".join(line.strip() for line in lines if line.strip())
    if len(message) > limit:
        head = limit * 2 // 3
        tail = limit - head - 3
        message = f"{message[:head]} … {message[-tail:]}"
    return message


class ImporterError(Exception):
    """Base of every failure realeflow-import raises on purpose."""

    #: The CLI's exit code for this failure (the library never exits itself).
    exit_code: int = 2

    def __init__(self, *args: object) -> None:
        # One line, bounded, however the message was built (a third party's text included).
        if args and isinstance(args[0], str):
            args = (one_line(args[0]), *args[1:])
        super().__init__(*args)


class UsageError(ImporterError):
    """Options or arguments that cannot work together."""


class MappingError(ImporterError):
    """A mapping that cannot be read, or names columns/fields that do not exist."""


class LoadError(ImporterError):
    """An input file that cannot be read as a table."""


class ReportError(ImporterError):
    """The results report cannot be written."""


class LedgerError(ImporterError):
    """The ledger database cannot be opened or used."""


class LedgerLockedError(LedgerError):
    """Another run is using the same ledger right now."""


class WorkerError(ImporterError):
    """A process checking chunks of a dry run died (killed, out of memory)."""


class InterruptedRunError(ImporterError):
    """A signal (Ctrl-C, ``kill``, a scheduler's stop) ended a push early: rows not done are not-sent.

    The exit code is the shell's convention for a death by that signal: 128 + its number
    (130 for SIGINT, 143 for SIGTERM), so schedulers read it as "stopped", not "failed".
    """

    def __init__(self, signum: int, name: str) -> None:
        super().__init__(
            f"stopped by {name}: the requests in flight were finished or given up, and the rows not created "
            "are 'not-sent' in the report; run the same command again to send them"
        )
        self.signum = signum
        self.exit_code = 128 + signum


class ApiError(ImporterError):
    """The API as a whole refused or failed us (not one row's problem)."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class AuthError(ApiError):
    """HTTP 401: the API key is missing or wrong."""

    exit_code = 3


class AccountInactiveError(ApiError):
    """The account status is something other than "Active"."""

    exit_code = 3


class ApiUnavailableError(ApiError):
    """The API cannot be reached at all (DNS, refused connection, persistent 5xx)."""


class TransientError(ApiError):
    """One request failed in a way that may pass: 5xx, 429, a timeout, a dropped connection.

    ``ambiguous`` is true when the request may have reached the server and been
    acted on although no answer came back (read timeout, connection reset after
    sending): re-sending a create blindly could then make a duplicate.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        ambiguous: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.ambiguous = ambiguous
        self.retry_after = retry_after
