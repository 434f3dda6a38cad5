"""The command functions behind ``realeflow-import``: each reads its parsed options, calls the library,
renders the answer and returns the exit code (:mod:`importer.cli` describes the codes), plus the
terminal's progress bar.

The parser that routes to them is in :mod:`importer.cli_parser`; :mod:`importer.cli` runs both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Never

from importer.errors import UsageError

if TYPE_CHECKING:  # both are imported where used: a --help or --version must not pay for them
    from tqdm import tqdm

    from importer.pipeline import Observer
    from importer.read.source import Source

__all__ = [
    "PROG",
    "cmd_history",
    "cmd_mapping_check",
    "cmd_mapping_presets",
    "cmd_mapping_suggest",
    "cmd_push",
    "cmd_sandbox",
    "cmd_sheets",
    "cmd_status",
    "cmd_ui",
    "cmd_validate",
]


PROG = "realeflow-import"


def _observer(quiet: bool) -> Observer:
    from importer.pipeline import Observer

    class TerminalObserver(Observer):
        """A tqdm bar on stderr when it is a terminal (not with --quiet); notices on stderr always."""

        def __init__(self) -> None:
            self.bar: tqdm[Never] | None = None  # a bar over no iterable: it is advanced by hand
            self.enabled = not quiet and sys.stderr.isatty()

        def started(self, command: str, source: Source) -> None:
            if self.enabled:
                from tqdm import tqdm

                # rows/s, elapsed and (once the row count is known) ETA come from tqdm; counts as postfix.
                self.bar = tqdm(desc=command, unit=" rows", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)

        def expected(self, rows: int) -> None:
            if self.bar is not None:
                self.bar.total = rows
                self.bar.refresh()

        def advanced(self, rows: int, counts: dict[str, int]) -> None:
            if self.bar is not None:
                if self.bar.total is not None and self.bar.n + rows > self.bar.total:
                    self.bar.total = self.bar.n + rows  # the estimate was low (blank rows and the like)
                self.bar.set_postfix({k: v for k, v in counts.items() if v}, refresh=False)
                self.bar.update(rows)

        def notice(self, message: str) -> None:
            # Even with --quiet: a pause or a recovery is what a cron mail should show.
            if self.bar is not None:
                self.bar.write(f"{PROG}: {message}", file=sys.stderr)
            else:
                print(f"{PROG}: {message}", file=sys.stderr)

        def finished(self) -> None:
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    return TerminalObserver()


def _report_arg(value: str | None) -> Path | None:
    return Path(value) if value else None


def _reading(args: argparse.Namespace) -> dict[str, Any]:
    """How to read FILE, as validate, push and the push's confirmation take it."""
    return {"sheet": _sheet_arg(args), "encoding": args.encoding, "quotes": args.quotes, "header_row": args.header_row}


def _sheet_arg(args: argparse.Namespace) -> str | None:
    """--sheet as given: load picks a sheet of that name first, else a 1-based number ("2024" stays a name).

    On a delimited file it would be ignored silently, so it is refused instead.
    """
    if args.sheet is None:
        return None
    from importer.read.workbook import CSV_EXTENSIONS

    suffix = Path(args.file).suffix.lower()
    if suffix in CSV_EXTENSIONS:
        raise UsageError(
            f"{args.file}: --sheet only applies to workbooks (.xlsx, .xlsm, .xls, .xlsb, .ods); "
            f"drop it for a {suffix} file"
        )
    return args.sheet


def _start_reading_workbook(args: argparse.Namespace) -> None:
    """Start reading a workbook while the heavy modules import (see importer.read.workbook)."""
    from importer.read.workbook import prefetch

    prefetch(args.file, _sheet_arg(args))


def cmd_validate(args: argparse.Namespace) -> int:
    _start_reading_workbook(args)
    from importer.pipeline import validate_file
    from importer.report import render_summary

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be 1 or more, not {args.workers}")
    observer = _observer(args.quiet)
    result = validate_file(
        args.file,
        args.mapping,
        **_reading(args),
        report=_report_arg(args.report),
        observer=observer,
        keep_outcomes=False,
        workers=args.workers,
    )
    print(render_summary(result.summary, result.report_path))  # with the sheet and header row read
    return result.exit_code


def _confirmed(question: str) -> bool:
    """Ask the person at the terminal; only "y" or "yes" goes ahead (end of input is a no)."""
    print(question, file=sys.stderr)
    try:
        answer = input("Continue? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def cmd_push(args: argparse.Namespace) -> int:
    _start_reading_workbook(args)
    from importer.pipeline import push_confirmation, push_file
    from importer.push.settings import PushSettings
    from importer.report import render_summary

    settings = PushSettings(
        concurrency=args.concurrency,
        max_attempts=args.max_attempts,
        row_timeout=args.row_timeout,
        max_rate=args.max_rate,
        force=args.force,
        retry_failed=args.retry_failed,
        limit=args.limit,
        fail_on_changed=args.fail_on_changed,
    )
    if not args.yes:
        question = push_confirmation(
            args.file,
            args.mapping,
            interactive=sys.stdin.isatty() and sys.stdout.isatty(),
            **_reading(args),
            insecure=args.insecure,
            limit=args.limit,
        )
        if question is not None and not _confirmed(question):
            print(f"{PROG}: nothing was sent (answer y to push, or add --yes)", file=sys.stderr)
            return 2
    observer = _observer(args.quiet)
    result = push_file(
        args.file,
        args.mapping,
        **_reading(args),
        report=_report_arg(args.report),
        settings=settings,
        observer=observer,
        keep_outcomes=False,
        ledger=False if args.no_ledger else (Path(args.ledger) if args.ledger else None),
        log_file=args.log_file,
        insecure=args.insecure,
    )
    print(render_summary(result.summary, result.report_path))
    if result.run_id is not None:
        print(f"Ledger: {result.ledger_path} (run {result.run_id})")
    if result.fatal is not None:
        print(f"{PROG}: error: {result.fatal}", file=sys.stderr)
    return result.exit_code


def cmd_history(args: argparse.Namespace) -> int:
    import json

    from importer.ledger import Ledger, default_ledger_path

    path = Path(args.ledger) if args.ledger else default_ledger_path()
    if not path.exists():
        print(f"no runs yet: {path} does not exist (push creates it)")
        return 0
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    with Ledger.open(path, lock=False) as ledger:
        runs = ledger.runs(args.limit)
    if args.json:
        for r in runs:
            print(json.dumps(r.__dict__, ensure_ascii=False))
        return 0
    print(f"Ledger: {path}")
    if not runs:
        print("no runs yet")
        return 0
    print(f"{'run':>5}  {'started (UTC)':<19}  {'took':>8}  {'state':<11}  {'exit':>4}  file / counts")
    for r in runs:
        took = _duration(r.started, r.finished)
        counts = ", ".join(f"{k} {v:,}" for k, v in r.counts.items() if v) or "-"
        code = "" if r.exit_code is None else str(r.exit_code)
        print(f"{r.run_id:>5}  {r.started.replace('T', ' ').rstrip('Z'):<19}  {took:>8}  {r.state:<11}  {code:>4}  "
              f"{r.file}")  # fmt: skip
        print(f"{'':>5}  {counts}  [{r.scope}]" + (f"  {r.note}" if r.note else ""))
    return 0


def _duration(started: str, finished: str | None) -> str:
    from datetime import datetime

    if not finished:
        return "-"
    try:
        seconds = (datetime.fromisoformat(finished.rstrip("Z")) - datetime.fromisoformat(started.rstrip("Z"))).seconds
    except ValueError:
        return "?"
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def cmd_status(args: argparse.Namespace) -> int:
    from importer.config import API_KEY_ENV, api_key
    from importer.endpoint import endpoint_from_env
    from importer.errors import AccountInactiveError
    from importer.push.client import RealeflowClient

    key = api_key()
    if not key:
        raise UsageError(f"no API key: set the environment variable {API_KEY_ENV}")
    endpoint = endpoint_from_env(insecure=args.insecure)

    async def status() -> str:
        async with RealeflowClient(key, endpoint, concurrency=1) as client:
            return await client.account_status()

    value = asyncio.run(status())
    print(f"{endpoint.url}: account status {value}")
    if value != "Active":
        raise AccountInactiveError(f"the account status is '{value}', not 'Active'; imports will be refused")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from importer.config import sandbox_key
    from importer.sandbox import faults_from_args, serve

    def ready(url: str, api_key: str) -> None:
        print(f"Realeflow sandbox listening on {url} (Ctrl-C to stop). In another shell:", flush=True)
        print(f"  export REALEFLOW_API_URL={url}", flush=True)
        print(f"  export REALEFLOW_API_KEY={api_key}", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        serve(
            host=args.host,
            port=args.port,
            api_key=sandbox_key(),
            db_path=args.db,
            faults=faults_from_args(args),
            on_ready=ready,
        )
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from importer.ui import serve

    def ready(url: str) -> None:
        where = "the built-in sandbox (a rehearsal: nothing reaches Realeflow)" if args.sandbox else "Realeflow"
        print(f"Workbench for {where} at {url}", flush=True)
        print("Open that link in your browser (it holds this session's password); Ctrl-C stops.", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        serve(port=args.port, sandbox=args.sandbox, open_browser=not args.no_browser, on_ready=ready,
              notice=lambda message: print(f"{PROG}: {message}", file=sys.stderr, flush=True))
    return 0


def cmd_sheets(args: argparse.Namespace) -> int:
    from importer.read.source import describe_sheets

    for i, (name, rows, visibility) in enumerate(describe_sheets(args.file), start=1):
        print(f"{i}\t{name}\t{rows} rows" + ("" if visibility == "visible" else f"\t({visibility})"))
    return 0


def cmd_mapping_suggest(args: argparse.Namespace) -> int:
    from importer.mapping.suggest import render_yaml, suggest_mapping
    from importer.mapping.yamlfile import with_header_row
    from importer.read.source import open_source

    if args.rows < 1:
        raise UsageError("--rows must be at least 1")
    source = open_source(
        args.file, sheet=_sheet_arg(args), encoding=args.encoding, quotes=args.quotes, header_row=args.header_row
    )
    for note in source.notes():  # the sheet and header row read, repeated headers
        print(f"{PROG}: {note}", file=sys.stderr)
    first = next(iter(source.chunks(args.rows)), None)
    sample = first.frame.iloc[: args.rows] if first is not None else None
    names = source.mapping_names()  # a repeated header's first column as "Phone (1)"
    if sample is None:
        import pandas as pd

        sample = pd.DataFrame(columns=names, dtype="string")
    sample = sample.set_axis(names, axis=1)
    text = with_header_row(render_yaml(suggest_mapping(names, sample, args.kind)), source.header_row)
    from importer.mapping.fit import best_fit

    best = best_fit(source.headers)
    if best is not None:  # a vendor's export: its preset knows more than a guess (aliases, footers, skips)
        print(f"{PROG}: {best.looks_like()} (or use the mapping suggested here)", file=sys.stderr)
    if args.output:
        out = Path(args.output)
        if out.exists() and not args.force:
            raise UsageError(f"{out} exists; pick another --output or add --force to overwrite it")
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from exc
        print(f"{PROG}: wrote {out}; check it with: {PROG} mapping check {out} {args.file}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_mapping_check(args: argparse.Namespace) -> int:
    from importer.mapping.check import check_mapping

    if args.rows < 1:
        raise UsageError("--rows must be at least 1")
    result = check_mapping(args.mapping, args.file, sheet=_sheet_arg(args), encoding=args.encoding,
                           quotes=args.quotes, header_row=args.header_row, sample_rows=args.rows)  # fmt: skip
    for f in result.findings:
        print(f"{f.level}: {f.message}")
    counts = {lvl: result.count(lvl) for lvl in ("error", "warning", "info")}
    summary = ", ".join(f"{n} {lvl}{'s' if n != 1 else ''}" for lvl, n in counts.items())
    verdict = "looks right" if result.ok else "needs a look"
    print(f"{result.source} on {result.file.name} ({result.sample_rows} rows sampled): {summary}; {verdict}")
    return result.exit_code


def cmd_mapping_presets(args: argparse.Namespace) -> int:
    from importer.mapping.fit import preset_title, rank_presets
    from importer.mapping.model import find_preset, load_mapping, preset_names

    if args.file is None:
        for name in preset_names():
            print(f"{name}\t{preset_title(load_mapping(name), find_preset(name))}")
        return 0
    from importer.read.source import open_source

    source = open_source(
        args.file, sheet=_sheet_arg(args), encoding=args.encoding, quotes=args.quotes, header_row=args.header_row
    )
    ranked = rank_presets(source.headers)
    width = max(len(f.name) for f in ranked)
    for f in ranked:
        if f.fits:
            verdict = "fits"
        elif f.lost:
            verdict = "no column for " + ", ".join(f.lost)
        elif f.people_unread:
            verdict = "does not read the names in " + ", ".join(repr(h) for h in f.people_unread)
        else:
            verdict = "does not fit"
        print(
            f"{f.name:<{width}}  fields found {f.fields_found:>3}/{f.fields_total:<3} ({f.field_share:4.0%})  "
            f"headers read {f.headers_read:>3}/{f.headers_total:<3} ({f.header_share:4.0%})  {verdict}"
        )
    best = ranked[0] if ranked and ranked[0].fits else None
    if best is None:
        print(f"No preset fits {source.path.name}; make a mapping: {PROG} mapping suggest {args.file} -o map.yaml")
        return 1
    print(f"Best fit: {best.name} ({best.title}); {PROG} validate {args.file} --mapping {best.name}")
    return 0
