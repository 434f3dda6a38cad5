"""Command line: parse options, call the library, render, pick the exit code.

Exit codes (README "Exit codes"):
    0  every row valid (validate) or created/skipped (push)
    1  some rows invalid or failed; the rest went through
    2  usage, mapping or unreadable-file error: nothing sent
    3  the API refused the key (401) or the account is not Active
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from importer.errors import ImporterError, UsageError

__all__ = ["main"]

PROG = "realeflow-import"


# -- progress --------------------------------------------------------------------------------------


def _observer(quiet: bool):
    from importer.pipeline import Observer

    class TerminalObserver(Observer):
        """A tqdm bar on stderr when it is a terminal; silent otherwise or with --quiet."""

        def __init__(self) -> None:
            self.bar = None
            self.enabled = not quiet and sys.stderr.isatty()

        def started(self, command, source) -> None:
            if self.enabled:
                from tqdm import tqdm

                self.bar = tqdm(desc=command, unit=" rows", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)

        def advanced(self, rows: int, counts: dict[str, int]) -> None:
            if self.bar is not None:
                self.bar.set_postfix({k: v for k, v in counts.items() if v}, refresh=False)
                self.bar.update(rows)

        def notice(self, message: str) -> None:
            if self.bar is not None:
                self.bar.write(f"{PROG}: {message}", file=sys.stderr)
            elif not quiet:
                print(f"{PROG}: {message}", file=sys.stderr)

        def finished(self) -> None:
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    return TerminalObserver()


# -- commands --------------------------------------------------------------------------------------


def _report_arg(value: str | None) -> Path | None:
    return Path(value) if value else None


def cmd_validate(args: argparse.Namespace) -> int:
    from importer.pipeline import validate_file
    from importer.report import render_summary

    result = validate_file(
        args.file,
        args.mapping,
        sheet=args.sheet,
        encoding=args.encoding,
        report=_report_arg(args.report),
        observer=_observer(args.quiet),
        keep_outcomes=False,
    )
    print(render_summary(result.summary, result.report_path))
    return result.exit_code


def cmd_push(args: argparse.Namespace) -> int:
    from importer.pipeline import push_file
    from importer.push import PushSettings
    from importer.report import render_summary

    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    settings = PushSettings(
        concurrency=args.concurrency,
        max_attempts=args.max_attempts,
        row_timeout=args.row_timeout,
        max_rate=args.max_rate,
    )
    result = push_file(
        args.file,
        args.mapping,
        sheet=args.sheet,
        encoding=args.encoding,
        report=_report_arg(args.report),
        settings=settings,
        observer=_observer(args.quiet),
        keep_outcomes=False,
    )
    print(render_summary(result.summary, result.report_path))
    if result.fatal is not None:
        print(f"{PROG}: error: {result.fatal}", file=sys.stderr)
    return result.exit_code


def cmd_status(args: argparse.Namespace) -> int:
    from importer.client import DEFAULT_BASE_URL, RealeflowClient
    from importer.errors import AccountInactiveError
    from importer.pipeline import API_KEY_ENV, API_URL_ENV

    key = os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise UsageError(f"no API key: set the environment variable {API_KEY_ENV}")
    url = os.environ.get(API_URL_ENV) or DEFAULT_BASE_URL

    async def status() -> str:
        async with RealeflowClient(key, url, concurrency=1) as client:
            return await client.account_status()

    value = asyncio.run(status())
    print(f"{url}: account status {value}")
    if value != "Active":
        raise AccountInactiveError(f"the account status is '{value}', not 'Active'; imports will be refused")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from importer.sandbox import faults_from_args, serve

    def ready(url: str, api_key: str) -> None:
        print(f"Realeflow sandbox listening on {url} (Ctrl-C to stop). In another shell:", flush=True)
        print(f"  export REALEFLOW_API_URL={url}", flush=True)
        print(f"  export REALEFLOW_API_KEY={api_key}", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        serve(
            host=args.host,
            port=args.port,
            api_key=os.environ.get("REALEFLOW_SANDBOX_KEY") or None,
            db_path=args.db,
            faults=faults_from_args(args),
            on_ready=ready,
        )
    return 0


def cmd_sheets(args: argparse.Namespace) -> int:
    from importer.load import list_sheets

    for i, (name, rows) in enumerate(list_sheets(args.file), start=1):
        print(f"{i}\t{name}\t{rows} rows")
    return 0


# -- parser ----------------------------------------------------------------------------------------


def _sheet(value: str) -> str | int:
    return int(value) if value.isdigit() else value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Bulk-import CSV and Excel spreadsheets into the Realeflow CRM.",
        epilog="The API key comes from REALEFLOW_API_KEY, the base URL from REALEFLOW_API_URL.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def input_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("file", metavar="FILE", help=".csv, .tsv, .txt, .xlsx, .xlsm or .xls")
        p.add_argument("--mapping", "-m", required=True, help="a mapping YAML file or a preset name")
        p.add_argument("--sheet", type=_sheet, help="worksheet by name or 1-based number (default: the first)")
        p.add_argument("--encoding", help="force the text encoding of a CSV (default: detected)")
        p.add_argument(
            "--report",
            metavar="PATH",
            help="results report; .csv, .xlsx or .json (default: FILE.<command>-report.csv next to FILE)",
        )
        p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    p = sub.add_parser("validate", help="dry run: check every row and write the report; sends nothing")
    input_args(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("push", help="create every valid row in Realeflow and write the report")
    input_args(p)
    p.add_argument("--concurrency", "-c", type=int, default=4, help="requests in flight (default 4)")
    p.add_argument("--max-rate", type=float, metavar="N", help="at most N requests per second")
    p.add_argument("--max-attempts", type=int, default=6, help="tries per row, the first included (default 6)")
    p.add_argument("--row-timeout", type=float, default=120.0, help="seconds per row, retries included")
    p.set_defaults(func=cmd_push)

    p = sub.add_parser("status", help="print the account status")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("sheets", help="list a workbook's sheets with their row counts")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_sheets)

    from importer.sandbox import add_sandbox_arguments

    p = sub.add_parser("sandbox", help="run the local stand-in Realeflow API on 127.0.0.1")
    add_sandbox_arguments(p)
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_sandbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ImporterError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line unless --debug
        if args.debug:
            traceback.print_exc()
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {exc} (run again with --debug for details)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
