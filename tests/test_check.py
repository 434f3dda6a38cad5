"""`mapping check` (importer.mapping.check) and the `mapping` commands of the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from importer.cli import main
from importer.errors import MappingError
from importer.mapping.check import check_mapping, closest_header

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_preset_on_its_sample_has_nothing_to_fix() -> None:
    result = check_mapping("propstream", SAMPLES / "propstream.csv")
    assert result.ok and result.exit_code == 0
    assert result.sample_rows == 30
    codes = {f.code for f in result.findings}
    assert "column.missing" not in codes and "field.failing" not in codes
    skipped = next(f for f in result.findings if f.code == "row.skipped")
    assert "2 of 30" in skipped.message and "rows 12, 21" in skipped.message
    unused = [f.column for f in result.findings if f.code == "column.unused"]
    assert unused == ["Mailing County"]


def test_missing_columns_with_hints_unused_columns_and_failing_values(tmp_path: Path) -> None:
    mapping = write(
        tmp_path / "m.yaml",
        {
            "kind": "contact",
            "fields": {"fullname": ["First Name", "Last Name"], "zipcode": "Zip Code", "email": "E-mail"},
        },
    )
    result = check_mapping(mapping, SAMPLES / "contacts.csv")
    assert not result.ok and result.exit_code == 1
    # Was: every missing column an error, values unchecked. Now a missing optional field's column is a
    # warning (the field is left empty) and the values are checked; its likely header is an alias.
    missing = {f.column: f for f in result.findings if f.code in ("column.missing", "column.absent")}
    assert missing["Zip Code"].message == "no column 'Zip Code' in contacts.csv; did you mean 'Zip'? (used by zipcode)"
    assert {f.level for f in missing.values()} == {"warning"}
    assert "did you mean 'Email'?" in missing["E-mail"].message
    assert result.findings[0].level == "warning"  # most serious first
    unused = [f for f in result.findings if f.code == "column.unused"]
    assert {f.column for f in unused} >= {"Phone", "Street", "Equity", "Zip"}
    equity = next(f for f in unused if f.column == "Equity")
    assert "add '11: Equity' under customfields (Est. Equity)" in equity.message
    zip_unused = next(f for f in unused if f.column == "Zip")
    assert "if it is the missing 'Zip Code', add it under aliases: 'Zip Code: [Zip]'" in zip_unused.message
    assert "customfields" not in zip_unused.message
    assert not any(f.code == "values.unchecked" for f in result.findings)
    # A required field's only column missing: an error, and the values cannot be checked.
    nameless = write(tmp_path / "n.yaml", {"kind": "contact", "fields": {"fullname": "Full Name", "email": "Email"}})
    result = check_mapping(nameless, SAMPLES / "contacts.csv")
    (error,) = [f for f in result.findings if f.level == "error"]
    assert error.code == "column.missing" and "a required field has no other column" in error.message
    assert any(f.code == "values.unchecked" for f in result.findings)

    # Columns that exist, but the wrong ones: the ZIP field reads the city.
    wrong = write(tmp_path / "w.yaml", {"kind": "contact", "fields": {"fullname": "First Name", "zipcode": "City"}})
    result = check_mapping(wrong, SAMPLES / "contacts.csv")
    failing = [f for f in result.findings if f.code == "field.failing"]
    assert [f.field for f in failing] == ["zipcode"]
    assert failing[0].level == "warning" and "is it the right column?" in failing[0].message
    assert "sampled values fail, e.g. row 2: zipcode 'Cleveland'" in failing[0].message


def test_a_few_bad_values_are_a_note_not_a_warning() -> None:
    result = check_mapping("datatree", SAMPLES / "datatree.csv")
    notes = [f for f in result.findings if f.code == "field.some_fail"]
    assert {(f.part, f.field) for f in notes} >= {("Property", "zipcode"), ("Owner 1", "state")}
    assert all(f.level == "info" for f in notes)
    assert result.ok


def test_sample_size_is_honoured_and_empty_fields_noted(tmp_path: Path) -> None:
    result = check_mapping("propstream", SAMPLES / "propstream.csv", sample_rows=5)
    assert result.sample_rows == 5
    csv = tmp_path / "a.csv"
    csv.write_text("Name,Email\nAnn,\nBo,\n", encoding="utf-8")
    m = write(tmp_path / "m.yaml", {"kind": "contact", "fields": {"fullname": "Name", "email": "Email"}})
    result = check_mapping(m, csv)
    assert [f.code for f in result.findings] == ["field.empty"]
    assert result.ok


def test_unreadable_mapping_raises() -> None:
    with pytest.raises(MappingError):
        check_mapping("no-such-preset", SAMPLES / "contacts.csv")


@pytest.mark.parametrize(
    ("column", "hint"),
    [("Zip Code", "Zip"), ("Emial", "Email"), ("Owner First Name", "Owner 1 First Name"), ("Nothing Alike", None)],
)
def test_closest_header(column: str, hint: str | None) -> None:
    headers = ["Zip", "Email", "Owner 1 First Name", "Owner 2 First Name", "City"]
    assert closest_header(column, headers) == hint


# -- CLI ---------------------------------------------------------------------------------------------


def test_cli_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["mapping", "check", "propertyradar", str(SAMPLES / "propertyradar.csv")]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].endswith("0 errors, 0 warnings, 5 infos; looks right")
    bad = write(tmp_path / "m.yaml", {"kind": "contact", "fields": {"fullname": "Nmae"}})
    assert main(["mapping", "check", str(bad), str(SAMPLES / "contacts.csv")]) == 1
    assert "error: no column 'Nmae' in contacts.csv" in capsys.readouterr().out
    assert main(["mapping", "check", "nope", str(SAMPLES / "contacts.csv")]) == 2
    assert "no such file and no such preset" in capsys.readouterr().err


def test_cli_suggest_prints_a_mapping_that_runs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["mapping", "suggest", str(SAMPLES / "propstream.csv")]) == 0
    text = capsys.readouterr().out
    data = yaml.safe_load(text)
    assert data["kind"] == "property-with-contacts"
    assert data["skip"] == [{"column": "Do Not Mail", "is": True}]
    out = tmp_path / "mine.yaml"
    assert main(["mapping", "suggest", str(SAMPLES / "propstream.xlsx"), "-o", str(out)]) == 0
    assert "mapping check" in capsys.readouterr().err
    assert yaml.safe_load(out.read_text(encoding="utf-8")) == data  # the workbook has the CSV's columns
    assert main(["mapping", "suggest", str(SAMPLES / "propstream.csv"), "-o", str(out)]) == 2  # no overwrite
    assert "--force" in capsys.readouterr().err
    assert main(["mapping", "check", str(out), str(SAMPLES / "propstream.xlsx")]) == 0
    assert "looks right" in capsys.readouterr().out
    assert main(["mapping", "suggest", str(SAMPLES / "contacts.csv"), "--kind", "property"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["kind"] == "property"


def test_cli_presets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mapping", "presets"]) == 0
    names = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert {"propstream", "propstream-skiptraced", "batchskiptracing", "propertyradar", "dealmachine",
            "datatree"} <= set(names)  # fmt: skip
