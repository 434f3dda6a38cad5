"""The longest functions of the package (or of any commit of it): where a reader has most to hold.

    python -m importer._devtools.longest [--top 10] [--rev ffc7520]

Without ``--rev`` the package as it is on disk is read; with it, ``importer/`` at that git
revision (read with ``git show``, nothing checked out). A function's length counts its lines
from ``def`` (or its first decorator) to its last line, docstring and comments included, as
tests/test_architecture.py does for its limit.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Function", "longest", "package_sources", "revision_sources"]

PACKAGE_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Function:
    path: str  # relative to the folder above the package, e.g. importer/push/pusher.py
    name: str  # qualified within its module, e.g. Pusher._create
    line: int
    length: int


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + node.name, node
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")
        else:
            yield from _functions(node, prefix)


def longest(sources: Iterable[tuple[str, str]], top: int = 10) -> list[Function]:
    """The ``top`` longest functions of ``(path, source text)`` pairs, longest first."""
    found = []
    for path, text in sources:
        for name, node in _functions(ast.parse(text, filename=path)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            found.append(Function(path, name, first, (node.end_lineno or node.lineno) - first + 1))
    found.sort(key=lambda f: (-f.length, f.path, f.line))
    return found[:top]


def package_sources(root: Path = PACKAGE_DIR) -> Iterator[tuple[str, str]]:
    """The package's modules on disk, as (path, text)."""
    for path in sorted(root.rglob("*.py")):
        yield path.relative_to(root.parent).as_posix(), path.read_text(encoding="utf-8")


def revision_sources(rev: str, repo: Path = PACKAGE_DIR.parent) -> Iterator[tuple[str, str]]:
    """The package's modules at git revision ``rev``, as (path, text)."""
    names = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", rev, "importer/"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.split()
    for name in sorted(n for n in names if n.endswith(".py")):
        show = subprocess.run(["git", "show", f"{rev}:{name}"], cwd=repo, check=True, capture_output=True, text=True)
        yield name, show.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10, help="how many (default 10)")
    parser.add_argument("--rev", help="a git revision to read instead of the files on disk, e.g. ffc7520")
    args = parser.parse_args(argv)
    sources = revision_sources(args.rev) if args.rev else package_sources()
    print("| lines | function | where |\n|---|---|---|")
    for f in longest(sources, args.top):
        print(f"| {f.length} | `{f.name}` | {f.path}:{f.line} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
