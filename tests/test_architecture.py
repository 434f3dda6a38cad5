"""The code's shape: stage packages in layers, no import cycle, a docstring that says each package's place."""

from __future__ import annotations

import importlib

from importer._devtools.imports import ALLOWED, check, cycles, import_graph, violations


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
