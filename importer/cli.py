"""Command line: parse options, call the library, render, pick the exit code.

Exit codes (README "Exit codes"):
    0  every row valid (validate) or created/skipped/changed (push; rows --limit held back too)
    1  some rows invalid or failed; the rest went through (or changed ones, with --fail-on-changed)
    2  usage, mapping, unreadable-file or ledger error, another run holds the ledger, the API
       could not be reached / kept failing (the report and ledger say what was done), or the
       person at the terminal answered no to the confirmation (nothing was sent)
    3  the API refused the key (401) or the account is not Active
    130, 143  a push stopped by SIGINT / SIGTERM (128 + the signal, the shell's convention); its
       report still lists every row (importer.push.stopping)

The parser is built in :mod:`importer.cli_parser`, the commands it routes to are in
:mod:`importer.cli_commands`; this module runs them (``main``, ``run``: the entry points) and turns
an error into its message and exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import select
import sys
import traceback
from collections.abc import Sequence

from importer.cli_commands import PROG as PROG
from importer.cli_parser import build_parser as build_parser
from importer.errors import ImporterError, one_line

__all__ = ["main", "run"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int | None = None
    try:
        code = _command(args)
        sys.stdout.flush()  # a reader that went away shows here, while it can still be handled
    except BrokenPipeError as exc:
        if not _stdout_closed():
            return _internal_error(exc, args.debug)
        # `realeflow-import history | head -3`: stop quietly as a Unix tool does. The command's
        # own code if it had finished (a push's summary is printed after its work), else 141,
        # what a shell shows for a tool ended by a closed pipe.
        _discard_stdout()
        return 141 if code is None else code
    return code


def _command(args: argparse.Namespace) -> int:
    from importer.endpoint import redact_url

    try:
        return args.func(args)
    except ImporterError as exc:
        if args.debug:
            _print_traceback()
        print(f"{PROG}: error: {redact_url(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise
    except Exception as exc:  # a bug: say so in one line unless --debug
        return _internal_error(exc, args.debug)


def _internal_error(exc: BaseException, debug: bool) -> int:
    from importer.endpoint import redact_url

    if debug:
        _print_traceback()
    print(
        f"{PROG}: internal error: {type(exc).__name__}: {one_line(redact_url(str(exc)), 300)} "
        "(run again with --debug for details)",
        file=sys.stderr,
    )
    return 2


def _print_traceback() -> None:
    """The traceback being handled, on stderr, without the key: a chained third-party error quotes
    what the server sent (a header, a body), which may echo the key."""
    from importer.config import api_key
    from importer.push.client import scrub_key

    print(scrub_key(traceback.format_exc(), api_key()), end="", file=sys.stderr)


def _stdout_closed() -> bool:
    """Whether stdout is a pipe or socket whose reader has gone."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    if not hasattr(select, "poll"):  # pragma: no cover - Windows: a broken pipe there is stdout's
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def _discard_stdout() -> None:
    """Point stdout at the null device: what is still buffered, and the flush at exit, go nowhere."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def run() -> None:
    """The ``realeflow-import`` program: :func:`main`, then exit with its code."""
    code = main()
    # Everything is closed by now. Frozen, the heap is not walked once more by the interpreter's
    # last garbage collection, which is slow once pandas and pandera are loaded.
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
