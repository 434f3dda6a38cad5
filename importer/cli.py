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
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import re
import select
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Never

from importer.errors import ImporterError, UsageError, one_line

if TYPE_CHECKING:  # both are imported where used: a --help or --version must not pay for them
    from tqdm import tqdm

    from importer.pipeline import Observer
    from importer.read.source import Source

__all__ = ["main", "run"]

PROG = "realeflow-import"


# -- progress --------------------------------------------------------------------------------------


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


# -- commands --------------------------------------------------------------------------------------


def _report_arg(value: str | None) -> Path | None:
    return Path(value) if value else None


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
        sheet=_sheet_arg(args),
        encoding=args.encoding,
        quotes=args.quotes,
        header_row=args.header_row,
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
            sheet=_sheet_arg(args),
            encoding=args.encoding,
            quotes=args.quotes,
            header_row=args.header_row,
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
        sheet=_sheet_arg(args),
        encoding=args.encoding,
        quotes=args.quotes,
        header_row=args.header_row,
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


# -- parser ----------------------------------------------------------------------------------------

_INSECURE_HELP = (
    "allow an http:// REALEFLOW_API_URL to another computer (the key then crosses the network "
    "unencrypted; also REALEFLOW_ALLOW_INSECURE=1)"
)


class _Parser(argparse.ArgumentParser):
    """argparse that answers a typo with the closest command, choice or option (one matcher:
    :mod:`importer.suggestions`): ``vaildate`` -> did you mean 'validate'?, ``--maping`` -> did you
    mean --mapping? (argparse alone says only that --mapping is required)."""

    #: The innermost (sub)command parser that has run: an unknown option is its to explain.
    innermost: _Parser | None = None

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self.given = list(sys.argv[1:] if args is None else args)
        _Parser.innermost = self
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> Never:
        target = _Parser.innermost or self
        if target is not self and "unrecognized arguments:" in message:
            target.error(message)  # shown with the command's usage, whose options are the candidates
        super().error(message + self._hint(message))

    def _hint(self, message: str) -> str:
        from importer.suggestions import closest

        choice = re.search(r"invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)$", message)
        if choice:
            options = [c.strip().strip("'\"") for c in choice["choices"].split(",")]
            hit = closest(choice["value"].strip("'\""), options)
            return f"; did you mean '{hit}'?" if hit else ""
        known = self._option_string_actions  # argparse's own table of this parser's option strings
        if "unrecognized arguments:" in message:
            tokens = message.split("unrecognized arguments:", 1)[1].split()
        else:
            tokens = getattr(self, "given", [])
        unknown = [t.split("=", 1)[0] for t in tokens if t.startswith("--") and t != "--"]
        unknown = [t for t in unknown if t not in known]
        if not unknown:
            return ""
        longs = [o for o in known if o.startswith("--")]
        hit = closest(unknown[0], longs)
        what = f"{unknown[0]} is not an option of {self.prog}"
        return f" ({what}; did you mean {hit}?)" if hit else f" ({what}; see --help)"


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help that shows each option's default (where it has a real one) and keeps the examples' layout."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        shown = default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text
        if shown and (action.option_strings or action.nargs in ("?", "*")):
            text += " (default: %(default)s)"
        return text


def _examples(*lines: str) -> str:
    return "example" + ("s" if len(lines) > 1 else "") + ":\n" + "\n".join(f"  {PROG} {ln}" for ln in lines)


def _add_source(p: argparse.ArgumentParser, *, optional: bool = False) -> None:
    """FILE and how to read it (a function, not a parent: ``mapping check`` takes MAPPING first)."""
    if optional:
        p.add_argument("file", metavar="FILE", nargs="?", help="a list to rank the presets for (.csv, .xlsx, ...)")
    else:
        p.add_argument("file", metavar="FILE", help=".csv, .tsv, .txt, .xlsx, .xlsm, .xls, .xlsb or .ods")
    p.add_argument(
        "--header-row",
        type=int,
        metavar="N",
        help="the row the column headers are in, as Excel numbers rows (default: found: a title, notes "
        "or blank rows above the table are passed over; also header_row: N in the mapping)",
    )
    p.add_argument("--sheet", help="worksheet by name or 1-based number (default: the first visible one with data)")
    p.add_argument("--encoding", help="force the text encoding of a CSV (default: detected)")
    p.add_argument(
        "--quotes",
        choices=["standard", "none"],
        help="how a CSV's double quotes are read: standard (a quoted cell may hold commas and line breaks; "
        "the default) or none (quotes are plain characters, for a file with stray quotes)",
    )


def _subcommand(
    sub: Any, name: str, help: str, *examples: str, parents: list[argparse.ArgumentParser]
) -> argparse.ArgumentParser:
    """A (sub)command with its shared options, the help formatter and its examples."""
    return sub.add_parser(
        name, parents=parents, formatter_class=_HelpFormatter, help=help, epilog=_examples(*examples)
    )


def _parents() -> dict[str, argparse.ArgumentParser]:
    """Option groups shared by several commands, declared once (argparse "parents")."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a --debug before the command (the top parser's) is not reset by the command's.
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of errors")

    run = argparse.ArgumentParser(add_help=False)
    run.add_argument("--mapping", "-m", required=True, help="a mapping YAML file or a preset name")
    run.add_argument(
        "--report",
        metavar="PATH",
        help="results report: .csv, .xlsx or .json (default beside FILE: leads.csv -> leads.<command>-report.csv)",
    )
    run.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bar (notices such as pauses still go to stderr)"
    )

    api = argparse.ArgumentParser(add_help=False)
    api.add_argument("--insecure", action="store_true", help=_INSECURE_HELP)
    return {"common": common, "run": run, "api": api}


def _add_validate_push(sub: Any, parents: dict[str, argparse.ArgumentParser]) -> None:
    common, run, api = parents["common"], parents["run"], parents["api"]
    p = _subcommand(
        sub,
        "validate",
        "dry run: check every row and write the report; sends nothing",
        "validate leads.csv --mapping propstream --report leads.check.xlsx",
        parents=[common, run],
    )
    _add_source(p)
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes checking a big file's chunks (default: one per core; 1: check in this process)",
    )
    p.set_defaults(func=cmd_validate)

    p = _subcommand(
        sub,
        "push",
        "create every valid row in Realeflow and write the report",
        "push leads.csv --mapping propstream --concurrency 8",
        parents=[common, run, api],
    )
    _add_source(p)
    p.add_argument("--concurrency", "-c", type=int, default=4, help="requests in flight, 1-20")
    p.add_argument("--max-rate", type=float, metavar="N", help="at most N requests per second")
    p.add_argument("--max-attempts", type=int, default=6, help="tries per row, the first included")
    p.add_argument("--row-timeout", type=float, default=120.0, help="seconds per row, retries included")
    p.add_argument(
        "--ledger",
        metavar="PATH",
        help="the SQLite ledger of what was sent (default: $REALEFLOW_LEDGER, else "
        "~/.local/state/realeflow-import/ledger.sqlite3); one per Realeflow account",
    )
    p.add_argument("--no-ledger", action="store_true", help="keep no ledger: nothing is skipped or remembered")
    p.add_argument("--force", action="store_true", help="send rows the ledger says were created already")
    p.add_argument("--retry-failed", action="store_true", help="send only the rows whose last try failed")
    p.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="send only the first N rows that need sending (a trial); the rest are not-sent, and a later "
        "run without --limit sends them (default: every row)",
    )
    p.add_argument(
        "--fail-on-changed",
        action="store_true",
        help="exit 1 when a row changed since an earlier run (default: exit as for skipped rows)",
    )
    p.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="do not ask before pushing more than 100 rows to a Realeflow that is not this computer "
        "(asked only on a terminal)",
    )
    p.add_argument("--log-file", metavar="PATH", help="append one JSON line per request (never the key)")
    p.set_defaults(func=cmd_push)


def _add_account_commands(sub: Any, parents: dict[str, argparse.ArgumentParser]) -> None:
    common = parents["common"]
    p = _subcommand(sub, "history", "list past push runs from the ledger", "history --limit 5", parents=[common])
    p.add_argument("--ledger", metavar="PATH", help="the ledger (default as for push)")
    p.add_argument("--limit", type=int, default=20, help="newest N runs")
    p.add_argument("--json", action="store_true", help="one JSON object per run")
    p.set_defaults(func=cmd_history)

    p = _subcommand(sub, "status", "print the account status", "status", parents=[common, parents["api"]])
    p.set_defaults(func=cmd_status)

    p = _subcommand(
        sub, "sheets", "list a workbook's sheets with their row counts", "sheets owners.xlsx", parents=[common]
    )
    p.add_argument("file", metavar="FILE", help=".xlsx, .xlsm, .xls, .xlsb or .ods")
    p.set_defaults(func=cmd_sheets)


def _add_mapping(sub: Any, parents: dict[str, argparse.ArgumentParser]) -> None:
    common = parents["common"]
    p = _subcommand(
        sub,
        "mapping",
        "suggest a mapping for a file, check one, list the presets",
        "mapping suggest leads.csv -o leads.yaml",
        "mapping check leads.yaml leads.csv",
        parents=[common],
    )
    msub = p.add_subparsers(dest="mapping_command", metavar="ACTION", required=True)
    m = _subcommand(
        msub,
        "suggest",
        "print a commented YAML mapping guessed from the file's header and values",
        "mapping suggest leads.csv --kind property-with-contacts -o leads.yaml",
        parents=[common],
    )
    _add_source(m)
    m.add_argument("--kind", choices=["contact", "property", "property-with-contacts"], help="default: guessed")
    m.add_argument("--rows", type=int, default=200, help="rows sampled to read the values")
    m.add_argument("--output", "-o", metavar="PATH", help="write the YAML there instead of printing it")
    m.add_argument("--force", action="store_true", help="overwrite --output if it exists")
    m.set_defaults(func=cmd_mapping_suggest)

    m = _subcommand(
        msub,
        "check",
        "check a mapping against a file's header and sample rows; sends nothing",
        "mapping check propstream MyList.csv",
        parents=[common],
    )
    m.add_argument("mapping", metavar="MAPPING", help="a mapping YAML file or a preset name")
    _add_source(m)
    m.add_argument("--rows", type=int, default=1000, help="rows sampled to check the values")
    m.set_defaults(func=cmd_mapping_check)

    m = _subcommand(
        msub,
        "presets",
        "list the preset mappings usable as --mapping NAME; with FILE, rank them by how well they fit it",
        "mapping presets",
        "mapping presets MyList.csv",
        parents=[common],
    )
    _add_source(m, optional=True)
    m.set_defaults(func=cmd_mapping_presets)


def build_parser() -> argparse.ArgumentParser:
    from importer import __version__
    from importer.sandbox.options import add_sandbox_arguments

    parser = _Parser(
        prog=PROG,
        description="Bulk-import CSV and Excel spreadsheets into the Realeflow CRM.",
        epilog="The API key comes from REALEFLOW_API_KEY, the base URL from REALEFLOW_API_URL.\n\n"
        + _examples(
            "mapping suggest leads.csv -o leads.yaml",
            "validate leads.csv --mapping leads.yaml",
            "push leads.csv --mapping leads.yaml",
        ),
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parents = _parents()
    _add_validate_push(sub, parents)
    _add_account_commands(sub, parents)
    _add_mapping(sub, parents)
    p = _subcommand(
        sub,
        "sandbox",
        "run the local stand-in Realeflow API on 127.0.0.1",
        "sandbox --port 8765 --latency-ms 50 --error-rate 0.05",
        parents=[parents["common"]],
    )
    add_sandbox_arguments(p)
    p.set_defaults(func=cmd_sandbox)
    p = _subcommand(
        sub,
        "ui",
        "open the browser workbench: connect, upload, map, review, push, results",
        "ui --sandbox",
        parents=[parents["common"]],
    )
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: 0, a free one)")
    p.add_argument("--no-browser", action="store_true", help="print the link only; do not open a browser")
    p.add_argument("--sandbox", action="store_true", help="rehearse against the built-in sandbox, started in-process")
    p.set_defaults(func=cmd_ui)
    return parser


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
