"""Issue 3 end to end: real-world files through the CLI (``importer.cli.main``), one case each.

Inputs are the rw_* files of tests/data (made by tests/data/make_realworld_fixtures.py) and the
loader's own fixtures there; every run writes a report that the assertions read back.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from importer.cli import main
from importer.sandbox import SandboxServer

DATA = Path(__file__).parent / "data"
MAPPING = str(DATA / "rw_contacts.yaml")
LEADS = str(DATA / "rw_leads.yaml")
NAMES = ["José Muñoz", "Zoë Brontë", "Renée Côté"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def report_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:  # newline="": keep CRLF inside cells
        return list(csv.DictReader(f))


def validate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, *extra: str, mapping: str = MAPPING
) -> tuple[int, list, str]:
    report = tmp_path / "report.csv"
    code, out, err = run(capsys, "validate", str(DATA / name), "-m", mapping, "--report", str(report), "-q", *extra)
    assert err == "", err
    return code, report_rows(report), out


def fullnames(rows: list[dict[str, str]]) -> list[str]:
    return [f"{r['First Name']} {r['Last Name']}" for r in rows]


# ---- loading ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "rw_utf8.csv",
        "rw_utf8_bom.csv",
        "rw_cp1252.csv",
        "rw_utf16.txt",
        "rw_semicolon.csv",
        "rw_tab.tsv",
        "rw_pipe.txt",
    ],
)
def test_encodings_and_delimiters_are_detected(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str) -> None:
    code, rows, out = validate(capsys, tmp_path, name)
    assert code == 0, out
    assert fullnames(rows) == NAMES  # decoded right: no mojibake, no BOM in the first header
    assert [r["row"] for r in rows] == ["2", "3", "4"]
    assert {r["status"] for r in rows} == {"valid"}
    assert rows[1]["Zip"] == "02108"


def test_undecodable_file_is_exit_2_with_file_and_byte_offset(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", str(DATA / "rw_undecodable.csv"), "-m", MAPPING)
    assert code == 2 and out == ""
    assert "rw_undecodable.csv" in err and "offset 158" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_encoding_option_overrides_detection(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # The cp1252 file read as declared; and the UTF-8 file forced to cp1252 shows the override is used.
    code, rows, _ = validate(capsys, tmp_path, "rw_cp1252.csv", "--encoding", "cp1252")
    assert code == 0 and fullnames(rows) == NAMES
    code, rows, _ = validate(capsys, tmp_path, "rw_utf8.csv", "--encoding", "cp1252")
    assert rows[0]["First Name"] == "JosÃ©"
    code, _out, err = run(capsys, "validate", str(DATA / "rw_cp1252.csv"), "-m", MAPPING, "--encoding", "utf-8")
    assert code == 2 and "rw_cp1252.csv" in err and "offset" in err


def test_rfc4180_quoting(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, rows, _ = validate(capsys, tmp_path, "rw_quoting.csv")
    assert code == 0
    assert rows[0]["Last Name"] == "Lee, Jr." and rows[0]["Street"] == '12 "Old" Mill Rd'
    assert rows[1]["Street"] == "Apt 4\r\n99 Elm St"
    assert [r["row"] for r in rows] == ["2", "3", "4"]  # the line break inside row 3 does not shift row 4


def test_ragged_rows_are_reported_per_row_not_fatal(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, rows, _out = validate(capsys, tmp_path, "rw_ragged.csv")
    assert code == 1
    by_row = {r["row"]: r for r in rows}
    assert set(by_row) == {"2", "3", "4", "5"}
    assert by_row["3"]["status"] == "invalid" and "cells but the header row has 10" in by_row["3"]["error"]
    assert by_row["3"]["Street"] == "12 Main St" and by_row["3"]["City"] == " Apt 4"  # as the cells fell
    # Too few cells: the missing ones (ZIP, Type: optional) are read as empty; sent, with a warning.
    assert by_row["4"]["status"] == "valid" and by_row["4"]["Zip"] == ""
    assert "missing cells were read as empty" in by_row["4"]["warnings"]
    assert by_row["2"]["status"] == by_row["5"]["status"] == "valid"


@pytest.mark.parametrize("name", ["rw_leads.xlsx", "rw_leads.xlsm"])
@pytest.mark.parametrize("sheet", ["Leads", "leads", "2"])
def test_workbook_cells_as_a_person_sees_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, sheet: str
) -> None:
    code, rows, out = validate(capsys, tmp_path, name, "--sheet", sheet, mapping=LEADS)
    assert code == 0, out
    by_row = {r["row"]: r for r in rows}
    assert set(by_row) == {"2", "3", "5"}  # row 4 is blank: skipped but counted
    assert by_row["2"]["Zip"] == "2108" and "2108 → 02108" in by_row["2"]["warnings"]  # number cell
    assert by_row["2"]["Phone"] == "6175550123"
    assert by_row["2"]["Parcel"] == "123456789012" and by_row["3"]["Parcel"] == "450000000000"  # no 1.23E+11
    assert by_row["2"]["Last Sale"] == "2019-06-14" and by_row["3"]["Last Sale"] == "2020-01-02T03:04:05"
    assert by_row["3"]["Phone"] == "12165550134"  # a float cell, without ".0"
    assert by_row["3"]["Zip"] == "02134"  # ="02134" unwrapped
    assert by_row["5"]["Zip"] == "60601"  # a formula: its cached value


def test_default_sheet_and_unknown_sheet(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "validate", str(DATA / "rw_leads.xlsx"), "-m", LEADS)
    assert code == 2 and "rw_leads.xlsx: has a header but no data rows" in err  # the first sheet is "Notes"
    code, _, err = run(capsys, "validate", str(DATA / "rw_leads.xlsx"), "-m", LEADS, "--sheet", "9")
    assert code == 2 and "1: 'Notes', 2: 'Leads'" in err


def test_sheets_command_lists_sheets_with_row_counts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sheets", str(DATA / "rw_leads.xlsx"))
    assert code == 0
    assert out.splitlines() == ["1\tNotes\t0 rows", "2\tLeads\t3 rows"]
    code, out, _ = run(capsys, "sheets", str(DATA / "basic.xls"))
    assert code == 0 and out.splitlines() == ["1\tLeads\t2 rows"]


def test_xls_workbook(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("kind: contact\nfields:\n  fullname: Name\n  zipcode: Zip\n", encoding="utf-8")
    report = tmp_path / "r.csv"
    code, _out, err = run(capsys, "validate", str(DATA / "basic.xls"), "-m", str(mapping), "--report", str(report))
    assert code == 0, err
    assert [r["Zip"] for r in report_rows(report)] == ["2134", "02134"]


def test_headers_match_in_any_case_spacing_and_with_bom(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, rows, _ = validate(capsys, tmp_path, "rw_messy_headers.csv")
    assert code == 0
    assert [r[" first  NAME"] for r in rows] == ["José", "Zoë", "Renée"]  # the report keeps the file's headers


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        # The file loads now (its columns are 'Email' and 'Email (2)'); a mapping naming 'Email' is refused.
        ("rw_duplicate_headers.csv", "2 columns with that header: 'Email (1)' (column C), 'Email (2)' (column K)"),
        ("rw_unnamed_column.csv", "column D has data"),
    ],
)
def test_header_mistakes_are_exit_2(capsys: pytest.CaptureFixture[str], name: str, needle: str) -> None:
    code, out, err = run(capsys, "validate", str(DATA / name), "-m", MAPPING)
    assert code == 2 and out == ""
    assert needle in err and err.count("\n") == 1


BAD_FILES = [
    ("empty.csv", "empty"),
    ("header_only.csv", "no data rows"),
    ("header_only.xlsx", "no data rows"),
    ("garbage.csv", "binary"),
    ("corrupt.xlsx", "damaged"),
    ("encrypted.xlsx", "password"),
    ("bomb.xlsx", "zip bomb"),
]


@pytest.fixture(scope="module")
def sandbox() -> SandboxServer:
    with SandboxServer() as sb:
        yield sb


@pytest.mark.parametrize(("name", "needle"), BAD_FILES)
def test_bad_files_are_one_line_exit_2_and_nothing_is_sent(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    sandbox: SandboxServer,
    name: str,
    needle: str,
) -> None:
    monkeypatch.setenv("REALEFLOW_API_URL", sandbox.url)
    monkeypatch.setenv("REALEFLOW_API_KEY", sandbox.api_key)
    for command in ("validate", "push"):
        report = tmp_path / f"{command}.csv"
        code, out, err = run(capsys, command, str(DATA / name), "-m", MAPPING, "--report", str(report))
        assert code == 2, err
        assert out == "" and needle in err and name in err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert not report.exists()
    assert sandbox.store.contacts() == []
    assert not [r for r in sandbox.store.requests() if r["method"] == "POST"]


# ---- normalisation --------------------------------------------------------------------------------


def test_normalisation_fixes_what_is_unambiguous_and_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "r.json"
    code, _out, err = run(capsys, "validate", str(DATA / "rw_normalise.csv"), "-m", MAPPING, "--report", str(report))
    assert code == 1 and err == ""
    rows = {r["row"]: r for r in json.loads(report.read_text(encoding="utf-8"))["rows"]}
    ok = {n for n, r in rows.items() if r["status"] == "valid"}
    assert ok == {2, 3, 4, 5, 6, 7}  # row 6's bad values are all optional: left out, the contact kept
    w = {n: rows[n]["warnings"] for n in rows}
    assert "state: Ohio → OH" in w[2] and "44102-1234 → 44102" in w[2]
    assert "phonetype: Cell → Mobile" in w[2] and "type: seller → Seller" in w[2]
    assert "email: maria@Example.COM → maria@example.com" in w[2]
    assert "state:  oh  → OH" in w[3] or "state: oh → OH" in w[3]
    assert "441131234 → 44113" in w[3] and "phonetype: Landline → Home" in w[3]
    assert "type: buyer; SELLER → Buyer;Seller" in w[3]
    assert "address: extra white space" in w[3]
    assert "phonetype: Office → Work" in w[4] and "901 → 00901" in w[4]
    assert "1.2165550150E+10 → 2165550150" in w[5] and "44113.0 → 44113" in w[5]
    assert "phonetype: Wireless → Mobile" in w[5]
    assert "zipcode 44113 is in OH, not MA" in w[7] and "control characters removed" in w[7]
    assert rows[6]["error"] == ""
    left_out = rows[6]["warnings"].split("; left out, the record is sent without it")
    assert len(left_out) == 7  # six values, each with its reason
    for text in ("state 'XX'", "zipcode '4411'", "phone '555-0199' has 7 digits", "phonetype 'Pager'",
                 "type 'Investor'", "email 'bad@example'"):  # fmt: skip
        assert any(text in part for part in left_out), (text, left_out)
    assert "fullname is required" in rows[8]["error"]


# ---- report -----------------------------------------------------------------------------------------


def test_json_report_summary_counts_per_status_and_problem(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    run(capsys, "validate", str(DATA / "rw_normalise.csv"), "-m", MAPPING, "--report", str(report))
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    assert summary["total"] == 7
    assert summary["counts"] == {"valid": 6, "invalid": 1}
    counts = summary["problem_counts"]
    assert counts["state.left_out"] == 1 and counts["phonetype.normalized"] == 4 and counts["fullname.required"] == 1
    assert summary["fields_left_out"] == 6 and "state.invalid" not in counts
    assert sum(p["count"] for p in summary["problems"]) == sum(counts.values())


@pytest.mark.parametrize("ext", ["csv", "json", "xlsx"])
def test_every_report_format_neutralises_formula_cells_and_reads_back(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, ext: str
) -> None:
    report = tmp_path / f"r.{ext}"
    code, _, _ = run(capsys, "validate", str(DATA / "rw_formulas.csv"), "-m", MAPPING, "--report", str(report))
    assert code == 0
    if ext == "json":
        rows = [r["data"] for r in json.loads(report.read_text(encoding="utf-8"))["rows"]]
    elif ext == "csv":
        rows = report_rows(report)
    else:
        import openpyxl

        ws = openpyxl.load_workbook(report)["Report"]
        values = [[c.value for c in r] for r in ws.iter_rows()]
        rows = [dict(zip(values[0], v, strict=True)) for v in values[1:]]
        assert all(c.data_type == "s" for r in ws.iter_rows(min_row=2, min_col=6) for c in r if c.value is not None)
    assert rows[0]["First Name"] == '\'=HYPERLINK("http://x")' and rows[0]["Street"] == "'-12 Main St"
    assert rows[0]["Phone"] == "'+1 216 555 0160"
    assert rows[1]["First Name"] == "'@Ann" and rows[1]["Last Name"] == "'+Lee" and rows[1]["Street"] == "'\tTabbed St"
    if ext != "json":  # a report fed back: the quotes are gone again, the rows validate the same
        again = tmp_path / "again.csv"
        code, _, _ = run(capsys, "validate", str(report), "-m", MAPPING, "--report", str(again))
        assert code == 0
        back = report_rows(again)
        assert back[0]["First Name"] == '\'=HYPERLINK("http://x")'  # neutralised again on the way out
        assert back[0]["Phone"] == "'+1 216 555 0160" and back[0]["warnings"] == ""


def test_terminal_summary_top_five_with_example_rows(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = tmp_path / "r.csv"
    code, out, err = run(capsys, "validate", str(DATA / "rw_normalise.csv"), "-m", MAPPING, "--report", str(report))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "7 rows" and "valid" in lines[1] and "6" in lines[1] and "invalid" in lines[2]
    assert "Fields left out: 6 invalid values not sent" in out
    start = lines.index("Most common problems:")
    top = lines[start + 1 : start + 6]
    assert len(top) == 5 and all("e.g. row " in t for t in top)
    assert lines[start + 6].startswith("  … and ") and lines[-1] == f"Report: {report}"
    assert "  Full name missing (fullname.required): 1 row, e.g. row 8: fullname is required" in out
    assert "(email.left_out, warning): 1 row, e.g. row 6: email 'bad@example'" in out
    assert err == ""  # not a terminal: no progress bar


@pytest.mark.parametrize("quiet", [False, True])
def test_progress_bar_only_on_a_terminal_without_quiet(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, quiet: bool
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    args = ["validate", str(DATA / "rw_utf8.csv"), "-m", MAPPING, "--report", str(tmp_path / "r.csv")]
    code, _, err = run(capsys, *args, *(["--quiet"] if quiet else []))
    assert code == 0
    assert ("3/3" in err) is not quiet  # tqdm's "validate: 100%|...| 3/3 [...]" line: the total is known
