"""What a user installs: the version, the public API, and (in CI, scripts/wheel-check) the wheel."""

from __future__ import annotations

import importlib
import tomllib

import pytest

import importer
from tests.conftest import REPO


def test_version_is_printed_and_is_the_packages(capsys: pytest.CaptureFixture[str]) -> None:
    from importer.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"realeflow-import {importer.__version__}"
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert "version" in project["dynamic"]  # one place for the version: importer.__version__


def test_every_public_name_resolves_and_all_is_complete() -> None:
    assert sorted(importer.__all__) == sorted(importer._EXPORTS)
    for name in importer.__all__:
        value = getattr(importer, name)
        module = importlib.import_module(importer._EXPORTS[name])
        assert getattr(module, name) is value
