"""The code's shape: stage packages in layers, no import cycle, a docstring that says each package's place."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from importer._devtools.imports import ALLOWED, check, cycles, import_graph, violations
from importer._devtools.longest import longest, package_sources, revision_sources


def test_no_import_cycle_and_every_import_within_the_layers() -> None:
    assert check() == []


def test_the_checker_sees_a_cycle_and_an_upward_import() -> None:
    graph = {
        "importer.ledger": {"importer.plans.single"},
        "importer.plans.single": {"importer.ledger"},
        "importer.read.source": {"importer.report.cells"},
        "importer.report.cells": set(),
    }
    assert cycles(graph) == [["importer.ledger", "importer.plans.single"]]
    assert violations(graph) == [
        "importer.ledger imports importer.plans.single: 'ledger' may not import 'plans'",
        "importer.read.source imports importer.report.cells: 'read' may not import 'report'",
    ]


def test_lazy_imports_count() -> None:
    # pipeline imports most stages inside functions (start-up time); they must still be seen
    assert "importer.push.pusher" in import_graph()["importer.pipeline"]


def test_each_stage_package_says_what_it_owns_and_may_import() -> None:
    for group, allowed in ALLOWED.items():
        module = importlib.import_module(f"importer.{group}")
        if not hasattr(module, "__path__"):
            continue  # a module, not a package
        doc = module.__doc__ or ""
        assert "May import:" in doc, f"importer/{group}/__init__.py: no 'May import:' line"
        named = {w.strip(" .,`") for w in doc.split("May import:")[1].split("\n")[0].split(",")}
        for dep in allowed:
            assert any(dep in n for n in named), f"importer.{group}'s docstring does not say it may import {dep}"


# Issue 13: a long function or class is a smell unless someone wrote down why it is one piece.
FUNCTION_LIMIT = 60
CLASS_LIMIT = 250


def _too_long_without_reason(root: Path) -> list[str]:
    offenders = []
    for path in sorted(root.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                limit = FUNCTION_LIMIT
            elif isinstance(node, ast.ClassDef):
                limit = CLASS_LIMIT
            else:
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length <= limit:
                continue
            if not _reason_above(lines, min([node.lineno, *(d.lineno for d in node.decorator_list)])):
                offenders.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({length} lines)")
    return offenders


def _reason_above(lines: list[str], first: int) -> bool:
    """The comment block just above line ``first`` (1-based) starts with a non-empty '# long: <reason>'."""
    i = first - 2
    while i >= 0 and lines[i].strip().startswith("#"):
        i -= 1
    head = lines[i + 1].strip() if i + 1 < first - 1 else ""
    return head.startswith("# long:") and bool(head[len("# long:") :].strip())


def test_no_long_function_or_class_without_a_written_reason() -> None:
    root = Path(importlib.import_module("importer").__file__ or "").parent
    offenders = _too_long_without_reason(root)
    assert not offenders, "over the limit with no '# long: <reason>' line above the def:\n" + "\n".join(offenders)


def test_the_length_check_sees_a_long_function_and_accepts_a_reason(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    body = "".join(f"    x{i} = {i}\n" for i in range(FUNCTION_LIMIT))
    (pkg / "a.py").write_text(f"def long_one() -> None:\n{body}\n\ndef short() -> None:\n    pass\n")
    (pkg / "b.py").write_text(f"# long: one table, read top to bottom\n@staticmethod\ndef ok() -> None:\n{body}")
    (pkg / "c.py").write_text(f"# long: a reason\n# on two lines\ndef ok2() -> None:\n{body}")
    (pkg / "d.py").write_text(
        f"# long:\ndef empty_reason() -> None:\n{body}\n# why\n# long: not first\ndef x() -> None:\n{body}"
    )
    assert _too_long_without_reason(pkg) == [
        f"pkg/a.py:1 long_one ({FUNCTION_LIMIT + 1} lines)",
        f"pkg/d.py:2 empty_reason ({FUNCTION_LIMIT + 1} lines)",
        f"pkg/d.py:{FUNCTION_LIMIT + 6} x ({FUNCTION_LIMIT + 1} lines)",
    ]


# Issue 13: one writer of the ledger. Every SQL statement is in importer/ledger/, and a run writes
# through its Journal only: nobody else reaches the Ledger behind it or starts and finishes runs by hand.
_LEDGER_WRITES = ("INSERT INTO", "UPDATE records", "UPDATE runs", "DELETE FROM", ".start_run(", ".finish_run(")


def _ledger_writers(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("ledger/", "sandbox/")):  # the sandbox is the server, with a store of its own
            continue
        text = path.read_text(encoding="utf-8")
        found += [f"{rel}: {w}" for w in _LEDGER_WRITES if w in text]
        if re.search(r"\b(journal|j)\.ledger\b", text):
            found.append(f"{rel}: journal.ledger")
    return found


def test_only_the_ledger_module_writes_the_ledger() -> None:
    root = Path(importlib.import_module("importer").__file__ or "").parent
    assert _ledger_writers(root) == []


def test_the_writer_check_sees_sql_and_a_run_started_by_hand(tmp_path: Path) -> None:
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "__init__.py").write_text('SQL = "INSERT INTO records VALUES (?)"\n')
    (tmp_path / "a.py").write_text('db.execute("UPDATE records SET state = ?", ("failed",))\n')
    (tmp_path / "b.py").write_text("run = ledger.start_run(scope, 'push', file)\n")
    (tmp_path / "c.py").write_text("entries = journal.ledger.pending(journal.scope)\n")
    assert _ledger_writers(tmp_path) == [
        "a.py: UPDATE records",
        "b.py: .start_run(",
        "c.py: journal.ledger",
    ]


def test_longest_lists_functions_by_length_with_qualified_names() -> None:
    one = "def short():\n    pass\n\n\nclass A:\n    @staticmethod\n    def method():\n" + "        x = 1\n" * 5
    two = "async def outer():\n    def inner():\n" + "        y = 2\n" * 3 + "    return inner\n"
    found = longest([("pkg/one.py", one), ("pkg/two.py", two)], top=3)
    assert [(f.name, f.path, f.line, f.length) for f in found] == [
        ("A.method", "pkg/one.py", 6, 7),  # from its decorator
        ("outer", "pkg/two.py", 1, 6),
        ("outer.inner", "pkg/two.py", 2, 4),
    ]


def test_longest_reads_the_package_and_a_git_revision() -> None:
    on_disk = longest(package_sources(), top=1)[0]
    assert on_disk.path.startswith("importer/") and on_disk.length > 60
    root = Path(importlib.import_module("importer").__file__ or "").parent.parent
    if not (root / ".git").exists():
        pytest.skip("an installed copy: no history to read")
    at_head = longest(revision_sources("HEAD"), top=5)
    assert len(at_head) == 5 and all(f.path.startswith("importer/") for f in at_head)
