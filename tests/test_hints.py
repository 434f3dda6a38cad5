"""Issue 15's "hints that mislead", each through the command line: one "did you mean" matcher
(importer.suggestions) for columns, fields, sheets, presets, commands and options; help with
defaults and an example; plain titles for the problem codes; new phone and e-mail checks end to end."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from importer.cli import build_parser, main
from importer.errors import MappingError
from importer.sandbox import SandboxServer
from importer.suggestions import closest, ranked, similarity
from importer.validate.rules import validate_fields

REPO = Path(__file__).resolve().parents[1]
HEADER = "Owner Name,Phone,Email,Street,City,State,Zip\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    """The CLI in-process, argparse's own exits included: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def owners(tmp_path: Path) -> Path:
    return write(tmp_path / "owners.csv", HEADER + "Ann Lee,2165550134,ann@example.com,1 Elm St,Cleveland,OH,44113\n")


@pytest.fixture
def wrong_columns(tmp_path: Path) -> Path:
    """A mapping written for another layout: 'Phone Number' and 'Zip Code' where the file has 'Phone', 'Zip'."""
    return write(
        tmp_path / "wrong.yaml",
        "kind: contact\nfields:\n  fullname: Owner Name\n  phone: Phone Number\n  address: Street\n"
        "  zipcode: Zip Code\n",
    )


# -- columns: validate and mapping check give the same hint -----------------------------------------


def test_validate_and_mapping_check_name_the_same_column(
    capsys: pytest.CaptureFixture[str], owners: Path, wrong_columns: Path
) -> None:
    code, _, err = run(capsys, "validate", owners, "--mapping", wrong_columns, "--report", owners.with_suffix(".json"))
    assert code == 2
    assert "'Phone Number' (did you mean 'Phone'?)" in err and "'Zip Code' (did you mean 'Zip'?)" in err
    assert "Owner Name'?" not in err  # what the old matcher of validate answered
    code, out, _ = run(capsys, "mapping", "check", wrong_columns, owners)
    assert code == 1
    assert "no column 'Phone Number' in owners.csv; did you mean 'Phone'?" in out
    assert "no column 'Zip Code' in owners.csv; did you mean 'Zip'?" in out


def test_a_missing_column_is_never_answered_with_a_custom_field_slot(
    capsys: pytest.CaptureFixture[str], owners: Path, wrong_columns: Path
) -> None:
    _, out, _ = run(capsys, "mapping", "check", wrong_columns, owners)
    lines = {line.split("'")[1]: line for line in out.splitlines() if line.startswith("info: column '")}
    # 'Zip' and 'Phone' are the missing columns misspelt: pointed to them, not to a custom-field slot.
    for header, meant in (("Zip", "Zip Code"), ("Phone", "Phone Number")):
        assert "customfields" not in lines[header]
        assert f"is it the column '{meant}' the mapping names?" in lines[header]
    assert "under customfields" in lines["City"]  # a column no missing one resembles still gets the slot


# -- fields, kinds, presets, sheets -----------------------------------------------------------------


def test_an_unknown_field_in_a_mapping_names_the_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, owners: Path
) -> None:
    mapping = write(tmp_path / "m.yaml", "kind: contact\nfields:\n  fullname: Owner Name\n  emial: Email\n")
    code, _, err = run(capsys, "validate", owners, "--mapping", mapping)
    assert code == 2 and "unknown field 'emial' for a contact (did you mean 'email'?)" in err
    mapping = write(tmp_path / "k.yaml", "kind: contcat\nfields:\n  fullname: Owner Name\n")
    code, _, err = run(capsys, "validate", owners, "--mapping", mapping)
    assert code == 2 and "(did you mean 'contact'?)" in err


def test_the_library_names_the_field_a_frame_of_fields_misspells() -> None:
    fields = pd.DataFrame({"fullname": ["Ann Lee"], "emial": ["ann@example.com"]}, index=pd.Index([2], name="row"))
    with pytest.raises(MappingError, match=r"no such field \(did you mean 'email'\?\)"):
        validate_fields(fields, "contact")


def test_an_unknown_key_in_a_mapping_names_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, owners: Path
) -> None:
    mapping = write(tmp_path / "m.yaml", "kind: contact\nfeilds:\n  fullname: Owner Name\n")
    code, _, err = run(capsys, "validate", owners, "--mapping", mapping)
    assert code == 2 and "unknown key 'feilds' (did you mean 'fields'?)" in err
    mapping = write(tmp_path / "n.yaml", "kind: contact\nfields:\n  fullname: {name: Owner Name, ordr: last-first}\n")
    code, _, err = run(capsys, "validate", owners, "--mapping", mapping)
    assert code == 2 and "unknown key 'ordr' (did you mean 'order'?) in a name spec" in err


def test_a_mistyped_preset_names_the_preset(capsys: pytest.CaptureFixture[str], owners: Path) -> None:
    code, _, err = run(capsys, "validate", owners, "--mapping", "propstrem")
    assert code == 2
    assert "no such file and no such preset; did you mean the preset 'propstream'?" in err


def test_a_mistyped_sheet_names_the_sheet(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    workbook = tmp_path / "properties.xlsx"
    workbook.write_bytes((REPO / "samples" / "properties.xlsx").read_bytes())
    mapping = REPO / "mappings" / "properties.yaml"
    code, _, err = run(capsys, "validate", workbook, "--mapping", mapping, "--sheet", "Delinqent")
    assert code == 2
    assert "no sheet 'Delinqent' (did you mean --sheet 'Delinquent'?)" in err


# -- commands and options ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["vaildate", "x.csv"], "invalid choice: 'vaildate'"),
        (["mapping", "chek"], "invalid choice: 'chek'"),
    ],
)
def test_a_mistyped_command_names_the_command(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    code, _, err = run(capsys, *argv)
    meant = {"vaildate": "validate", "chek": "check"}[argv[-2] if argv[0] == "vaildate" else argv[-1]]
    assert code == 2 and said in err and f"did you mean '{meant}'?" in err


def test_a_mistyped_option_names_the_option_not_only_what_is_missing(
    capsys: pytest.CaptureFixture[str], owners: Path
) -> None:
    code, _, err = run(capsys, "validate", owners, "--maping", "contacts")
    assert code == 2
    assert "--maping is not an option of realeflow-import validate; did you mean --mapping?" in err
    code, _, err = run(capsys, "push", owners, "--mapping", "contacts", "--concurency", "4")
    assert code == 2
    assert "usage: realeflow-import push" in err  # explained by the command whose options they are
    assert "--concurency is not an option of realeflow-import push; did you mean --concurrency?" in err
    code, _, err = run(capsys, "validate", owners, "--mapping", "contacts", "--quotes", "stndard")
    assert code == 2 and "did you mean 'standard'?" in err
    code, _, err = run(capsys, "validate", owners, "--mapping", "contacts", "--frobnicate")
    assert code == 2 and "--frobnicate is not an option of realeflow-import validate; see --help" in err


def _commands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:  # argparse keeps subcommands only there
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += _commands(sub)
    return found


def test_every_help_shows_its_defaults_and_an_example() -> None:
    for parser in _commands(build_parser()):
        text = parser.format_help()
        assert f"  realeflow-import {parser.prog.removeprefix('realeflow-import').strip()}".rstrip() in text
        assert "example" in text, parser.prog
        for action in parser._actions:
            if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
                assert f"(default: {action.default})" in text.replace("\n", " ").replace("  ", " "), (
                    parser.prog,
                    action.option_strings,
                )


# -- the matcher itself -----------------------------------------------------------------------------


def test_the_matcher_prefers_a_word_in_common_to_a_look_alike() -> None:
    assert closest("Phone Number", ["Owner Name", "Phone"]) == "Phone"
    assert closest("Phone Number", ["Owner Name"]) is None  # not close enough to be worth a hint
    assert closest("zip_code", ["Zip Code", "ZIP"]) == "Zip Code"
    assert closest("Owner First Name", ["Owner 1 First Name", "Owner 2 First Name"]) == "Owner 1 First Name"
    assert ranked("vaildate", ["validate", "push", "history"]) == ["validate"]
    assert similarity("a", "a") == 1.0 and similarity("", "x") == 0.0


# -- words a person reads: titles, and the phone and e-mail checks end to end -------------------------


def test_the_summary_and_reports_show_the_new_checks_with_their_titles(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, env: SandboxServer
) -> None:
    rows = [
        "Ann Lee,2165550134,ann@gmail.con,1 Elm St,Cleveland,OH,44113",  # sent, e-mail as written, warned
        "Bob Ray,123-456-7890,bob@example.com,2 Elm St,Cleveland,OH,44113",  # phone not in the plan
        "Cy Dunn,2165550135,cy..dunn@gmail.com,3 Elm St,Cleveland,OH,44113",  # two dots
    ]
    data = write(tmp_path / "owners.csv", HEADER + "\n".join(rows) + "\n")
    mapping = write(
        tmp_path / "m.yaml",
        "kind: contact\nfields:\n  fullname: Owner Name\n  phone: Phone\n  email: Email\n  address: Street\n"
        "  city: City\n  state: State\n  zipcode: Zip\n"
        "on_invalid: reject-record\n",  # the checks' own titles; left out by default (tests/test_field_policy.py)
    )
    report = tmp_path / "report.json"
    code, out, _ = run(capsys, "push", data, "--mapping", mapping, "--report", report)
    assert code == 1
    assert "Phone number not valid (phone.invalid): 1 row, e.g. row 3: phone '123-456-7890' has area code 123" in out
    assert "E-mail address not valid (email.invalid): 1 row, e.g. row 4: email 'cy..dunn@gmail.com'" in out
    assert "E-mail domain looks like a typo of a common one (email.domain_typo, warning): 1 row" in out
    sent = env.store.contacts()
    assert [(c["fullname"], c["email"]) for c in sent] == [("Ann Lee", "ann@gmail.con")]  # never changed by the hint
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    titles = {p["code"]: p["title"] for p in summary["problems"]}
    assert titles["email.domain_typo"] == "E-mail domain looks like a typo of a common one"
    assert titles["phone.invalid"] == "Phone number not valid"
    rows_out = {r["row"]: r for r in json.loads(report.read_text(encoding="utf-8"))["rows"]}
    assert "did you mean 'ann@gmail.com'?" in rows_out[2]["warnings"]
    # The XLSX report's Summary sheet: the same titles beside the codes.
    workbook = tmp_path / "check.xlsx"
    code, _, _ = run(capsys, "validate", data, "--mapping", mapping, "--report", workbook)
    assert code == 1
    sheet = openpyxl.load_workbook(workbook, read_only=True)["Summary"]
    by_code = {row[1]: row[0] for row in sheet.iter_rows(values_only=True) if row and len(row) > 1}
    assert by_code["email.domain_typo"] == "E-mail domain looks like a typo of a common one"
    assert by_code["phone.invalid"] == "Phone number not valid"
    assert by_code["email.invalid"] == "E-mail address not valid"
