"""The command reference (docs/commands.md), generated from the parser itself so it cannot drift.

``python -m importer._devtools.clidoc > docs/commands.md`` writes it; ``tests/test_docs.py`` checks
that the file is what this prints.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from importer.cli import PROG, build_parser

__all__ = ["commands", "render"]

WIDTH = 100


@contextmanager
def _fixed_width() -> Iterator[None]:
    """argparse wraps help at $COLUMNS: pin it, so the reference is the same on every terminal."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH)
    try:
        yield
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def commands(parser: argparse.ArgumentParser | None = None) -> list[tuple[str, argparse.ArgumentParser]]:
    """Every (sub)command as ("mapping suggest", its parser), depth first, in the parser's order."""
    parser = parser or build_parser()
    out: list[tuple[str, argparse.ArgumentParser]] = []

    def walk(prefix: str, p: argparse.ArgumentParser) -> None:
        for action in p._actions:  # argparse has no public way to list subparsers
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    path = f"{prefix} {name}".strip()
                    out.append((path, sub))
                    walk(path, sub)

    walk("", parser)
    return out


def render() -> str:
    with _fixed_width():
        parser = build_parser()
        parts = [
            "# Command reference\n",
            f"Generated from `{PROG} --help` and each command's `--help` by "
            "`python -m importer._devtools.clidoc`; a test checks that it is current.\n",
            f"## {PROG}\n",
            "```\n" + parser.format_help().rstrip() + "\n```\n",
        ]
        for path, sub in commands(parser):
            parts.append(f"## {PROG} {path}\n")
            parts.append("```\n" + sub.format_help().rstrip() + "\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render())
