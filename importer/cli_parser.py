"""The ``realeflow-import`` argument parser: shared parent parsers, help that shows defaults and an
example, and "did you mean" for a mistyped command, choice or option.

:func:`build_parser` is what :mod:`importer.cli` parses with and what ``importer._devtools.clidoc``
renders into docs/commands.md.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, Never

from importer.cli_commands import (
    PROG,
    cmd_history,
    cmd_mapping_check,
    cmd_mapping_presets,
    cmd_mapping_suggest,
    cmd_push,
    cmd_sandbox,
    cmd_sheets,
    cmd_status,
    cmd_ui,
    cmd_validate,
)

__all__ = ["build_parser"]


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
