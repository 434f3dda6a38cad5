"""The command reference and the problem codes are generated and current; the README names every command."""

from __future__ import annotations

from importer._devtools import problemdoc
from importer._devtools.clidoc import commands, render
from tests.conftest import REPO


def test_the_command_reference_is_current() -> None:
    path = REPO / "docs" / "commands.md"
    assert path.read_text(encoding="utf-8") == render(), (
        "docs/commands.md is stale: python -m importer._devtools.clidoc > docs/commands.md"
    )


def test_every_command_is_in_the_readme_and_the_reference() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    reference = render()
    for path, _ in commands():
        assert f"realeflow-import {path}" in readme or f"{path} " in readme, f"README does not mention '{path}'"
        assert f"## realeflow-import {path}\n" in reference


def test_every_option_has_help() -> None:
    for path, parser in commands():
        for action in parser._actions:
            if action.option_strings and action.help is None:
                raise AssertionError(f"{path} {action.option_strings[0]} has no help text")


def test_the_problem_code_list_is_current() -> None:
    path = REPO / "docs" / "problems.md"
    assert path.read_text(encoding="utf-8") == problemdoc.render(), (
        "docs/problems.md is stale: python -m importer._devtools.problemdoc > docs/problems.md"
    )
