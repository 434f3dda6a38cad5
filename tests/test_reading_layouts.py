"""Lists as people have them (issue 14, the reading side): a header below a title or notes, an empty
first sheet, repeated headers, .ods and .xlsb workbooks.

The files are made by tests/data/make_reading_fixtures.py. End-to-end tests run the CLI against the
sandbox over a real socket and look at what it received, the report and the exit code.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from importer.errors import LoadError, MappingError, UsageError
from importer.mapping.check import check_mapping
from importer.mapping.model import parse_mapping
from importer.pipeline import validate_file
from importer.read.source import describe_sheets, open_source
from importer.sandbox import SandboxServer
from tests.conftest import RunCli

DATA = Path(__file__).parent / "data"
OWNERS = DATA / "owner_list.xlsx"
NOTES = DATA / "notes_above_header.csv"
CONTACTS = {"kind": "contact", "fields": {"fullname": "Name", "zipcode": "Zip", "phone": "Phone"}}


def report_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def frame(path: Path, **kw: object) -> pd.DataFrame:
    return pd.concat([c.frame for c in open_source(path, **kw).chunks()])  # type: ignore[arg-type]


# -- the header row --------------------------------------------------------------------------------


def test_a_title_and_a_blank_row_above_the_header_are_passed_over() -> None:
    src = open_source(OWNERS)
    assert (src.sheet, src.header_row) == ("Owners", 3)
    assert src.headers[:5] == ["Owner Name", "Property Address", "City", "State", "Zip"]
    assert "header in row 3; rows 1–2 passed over" in src.notes()
    rows = frame(OWNERS)
    assert rows.index.tolist() == [4, 5, 6, 7]  # the row numbers Excel shows
    assert rows.loc[4, "Zip"] == "02134" and rows.loc[6, "Zip"] == "07102" and rows.loc[5, "Zip"] == "43205"
    assert rows.loc[4, "Equity"] == "45%" and rows.loc[7, "Equity"] == "13%"


def test_three_lines_of_notes_above_a_header_in_row_4() -> None:
    src = open_source(NOTES)
    assert (src.header_row, src.delimiter) == (4, ";")  # the notes hold no ";": still a semicolon file
    assert src.headers == ["Name", "Street", "City", "State", "Zip", "Phone"]
    rows = frame(NOTES)
    assert rows.index.tolist() == [5, 6, 8] and rows.loc[8, "Name"] == "Cy Young"
    assert src.notes() == ["header in row 4; rows 1–3 passed over"]


def test_the_header_row_can_be_named_and_is_checked(tmp_path: Path) -> None:
    src = open_source(NOTES, header_row=4)
    assert src.notes() == ["header in row 4; rows 1–3 passed over"]
    assert open_source(DATA / "basic.csv", header_row="1").header_row == 1  # type: ignore[arg-type]
    for bad in (0, -1, "x", True):
        with pytest.raises(UsageError, match="the header row must be a row number, 1 or more"):
            open_source(NOTES, header_row=bad)  # type: ignore[arg-type]
    with pytest.raises(LoadError, match=r"has no row 40 \(its last row is 7\)"):
        open_source(OWNERS, header_row=40)
    with pytest.raises(LoadError, match="row 2 is empty, so it holds no column headers"):
        open_source(OWNERS, header_row=2)
    # Row 2 named as the header of the notes file: the notes and the table below are data.
    src = open_source(NOTES, header_row=2)
    assert src.headers == ["Source: county assessor", " phones from skip tracing"]


def test_a_column_with_data_but_no_header_is_never_advised_deleted(tmp_path: Path) -> None:
    path = tmp_path / "orphan.csv"
    path.write_text("Name,,Zip\nAnn,x,1\n")
    with pytest.raises(LoadError) as info:
        open_source(path)
    message = str(info.value)
    assert "column B has data (row 2: 'x') but no header in row 1" in message
    assert "--header-row N" in message and "write a header for column B in row 1" in message
    assert "delete" not in message


def test_the_mapping_key_and_the_library_argument(tmp_path: Path) -> None:
    # Row 1 is as full as the header below it: only the person can tell; the mapping says so.
    path = tmp_path / "titled.csv"
    path.write_text("Owners,Created 2024-01-05,Records 2\nName,Zip,Phone\nAnn Lee,02134,2165550100\nBo Ray,44113,\n")
    with pytest.raises(MappingError, match=r"columns are in row 2, not in row 1 read as the header; pass --header-row"):
        validate_file(path, parse_mapping(CONTACTS), report=False, workers=1)
    by_key = validate_file(path, parse_mapping({**CONTACTS, "header_row": 2}), report=False, workers=1)
    by_argument = validate_file(path, parse_mapping(CONTACTS), header_row=2, report=False, workers=1)
    for result in (by_key, by_argument):
        assert result.exit_code == 0 and result.summary.total == 2
        assert result.outcomes is not None and result.outcomes.index.tolist() == [3, 4]
        assert result.summary.notes == ["header in row 2; row 1 passed over"]
    with pytest.raises(MappingError, match="header_row must be a row number, 1 or more"):
        parse_mapping({**CONTACTS, "header_row": 0})
    checked = check_mapping(parse_mapping(CONTACTS), path, header_row=2)
    assert checked.ok and any(f.code == "file.read" for f in checked.findings)


# -- sheets ----------------------------------------------------------------------------------------


def test_an_empty_first_sheet_is_passed_over_and_said() -> None:
    src = open_source(OWNERS)
    assert src.sheet == "Owners"
    assert src.sheet_note() == (
        "'Sheet1' is empty; 'Owners' was read, sheet 2 of 2 ('Sheet1', 'Owners'); pick another with --sheet"
    )
    with pytest.raises(LoadError, match="sheet 'Sheet1' is empty"):
        open_source(OWNERS, sheet="Sheet1")  # asked for by name: said, not passed over
    assert describe_sheets(OWNERS) == [("Sheet1", 0, "visible"), ("Owners", 4, "visible")]


# -- .ods and .xlsb --------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["ods", "xlsb"])
def test_ods_and_xlsb_copies_read_as_the_xlsx(ext: str) -> None:
    copy = OWNERS.with_suffix(f".{ext}")
    src, ref = open_source(copy), open_source(OWNERS)
    assert (src.sheet, src.header_row, src.headers, src.notes()) == (ref.sheet, ref.header_row, ref.headers,
                                                                      ref.notes())  # fmt: skip
    [chunk], [ref_chunk] = list(src.chunks()), list(ref.chunks())
    pd.testing.assert_frame_equal(chunk.frame, ref_chunk.frame)
    assert chunk.numeric is not None and ref_chunk.numeric is not None
    pd.testing.assert_frame_equal(chunk.numeric, ref_chunk.numeric)  # which cells were numbers (ZIP padding)


@pytest.mark.parametrize("ext", ["ods", "xlsb"])
def test_validate_reports_of_ods_and_xlsb_copies_equal_the_xlsx_report(
    run_cli: RunCli, tmp_path: Path, ext: str
) -> None:
    mapping = tmp_path / "owners.yaml"
    code, _, err = run_cli("mapping", "suggest", OWNERS, "-o", mapping)
    assert code == 0, err
    reports = {}
    for kind in ("xlsx", ext):
        reports[kind] = tmp_path / f"{kind}.json"
        code, out, err = run_cli("validate", OWNERS.with_suffix(f".{kind}"), "-m", mapping, "--report",
                                 reports[kind], "-q")  # fmt: skip
        assert code in (0, 1), err
        assert "Header in row 3; rows 1–2 passed over" in out
    report = json.loads(reports[ext].read_text())
    assert report == json.loads(reports["xlsx"].read_text())
    assert "header in row 3; rows 1–2 passed over" in report["summary"]["notes"]  # the report says it too
    assert [r["row"] for r in report["rows"]] == [4, 5, 6, 7]


def test_a_text_file_named_ods_is_refused_in_one_line(tmp_path: Path) -> None:
    fake = tmp_path / "list.ods"
    fake.write_text("Name,Zip\nAnn,1\n")
    with pytest.raises(LoadError, match=r"is not an OpenDocument spreadsheet.*LibreOffice Calc"):
        open_source(fake)


# -- repeated headers ------------------------------------------------------------------------------


def test_repeated_headers_load_numbered_and_a_plain_name_is_refused(tmp_path: Path) -> None:
    path = DATA / "dup_phones.csv"
    src = open_source(path)
    assert src.headers == ["Name", "Phone", "Phone (2)", "Phone (3)", "Email"]
    assert src.notes() == ["columns B, C and D have the same header 'Phone': read as 'Phone', 'Phone (2)', "
                           "'Phone (3)'; a mapping names them 'Phone (1)', 'Phone (2)', 'Phone (3)'"]  # fmt: skip
    plain = {"kind": "contact", "fields": {"fullname": "Name", "phone": "Phone"}}
    with pytest.raises(MappingError) as info:
        validate_file(path, parse_mapping(plain), report=False, workers=1)
    assert "names column 'Phone', but" in str(info.value)
    assert "'Phone (1)' (column B), 'Phone (2)' (column C), 'Phone (3)' (column D)" in str(info.value)
    check = check_mapping(parse_mapping(plain), path)
    assert [f.code for f in check.findings if f.level == "error"] == ["column.ambiguous"]
    each = {"kind": "contact", "fields": {"fullname": "Name", "phone": "Phone (3)", "email": "Email"},
            "customfields": {1: "Phone (1)", 2: "phone (2)"}}  # fmt: skip
    report = tmp_path / "dup.report.csv"
    result = validate_file(path, parse_mapping(each), report=report, workers=1)
    assert result.exit_code == 0 and result.summary.total == 2
    assert check_mapping(parse_mapping(each), path).ok
    # The report, fed back, has the numbered headers: the same mapping reads it.
    with report.open(encoding="utf-8-sig") as fh:
        assert next(csv.reader(fh))[-5:] == ["Name", "Phone", "Phone (2)", "Phone (3)", "Email"]
    again = validate_file(report, parse_mapping(each), report=False, workers=1)
    assert again.exit_code == 0 and again.outcomes is not None and again.outcomes.index.tolist() == [2, 3]


# -- from mapping suggest to push, no edits --------------------------------------------------------


def test_an_owner_workbook_goes_from_suggest_to_push_with_no_edits(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path
) -> None:
    mapping = tmp_path / "owners.yaml"
    code, _, err = run_cli("mapping", "suggest", OWNERS, "-o", mapping)
    assert code == 0, err
    assert "header in row 3; rows 1–2 passed over" in err and "'Sheet1' is empty" in err
    text = mapping.read_text()
    assert "header_row: 3" in text and "Phone (1)" in text
    report = tmp_path / "push.csv"
    code, out, err = run_cli("push", OWNERS, "-m", mapping, "--report", report, "-q")
    assert code == 0, out + err
    assert "Sheet: 'Sheet1' is empty; 'Owners' was read" in out
    assert "Header in row 3; rows 1–2 passed over" in out
    assert "Columns F, G and H have the same header 'Phone'" in out
    rows = report_rows(report)
    assert [r["row"] for r in rows] == ["4", "5", "6", "7"]
    assert [r["status"] for r in rows] == ["created"] * 4
    props = env.store.properties()
    assert [p["zipcode"] for p in props] == ["02134", "43205", "07102", "43215"]
    phones = {c["phone"] for c in env.store.contacts()}
    assert {"6175550101", "6145550103", "9735550104", "6145550106"} <= phones  # ACME's first phone is in G
    assert len(env.store.relations()) == len(env.store.contacts()) >= 4
    # "SMITH JOHN & MARY" is two people, both related to their house (issue 14's done-when).
    oak = next(p["property_id"] for p in props if p["address"] == "12 Oak St")
    people = {c["contact_id"]: c["fullname"] for c in env.store.contacts()}
    on_oak = sorted(people[r["contact_id"]] for r in env.store.relations() if r["property_id"] == oak)
    assert on_oak == ["John Smith", "Mary Smith"]


def test_a_sheet_whose_used_range_starts_below_row_1_is_read_to_its_last_row(tmp_path: Path) -> None:
    """calamine's ``height`` counts from the first used row: rows 1-3 empty must not cut the last three."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([])
    ws.append([])
    ws.append([])
    ws.append(["Name", "Zip"])
    for i in range(6):
        ws.append([f"Person {i}", f"4410{i}"])
    path = tmp_path / "low.xlsx"
    wb.save(path)
    src = open_source(path)
    assert src.header_row == 4 and src.headers == ["Name", "Zip"]
    rows = frame(path)
    assert rows.index.tolist() == [5, 6, 7, 8, 9, 10] and rows.loc[10, "Name"] == "Person 5"
    mapping = parse_mapping({"kind": "contact", "fields": {"fullname": "Name", "zipcode": "Zip"}})
    for workers in (1, 2):  # the worker path cuts the sheet into pieces by row number
        result = validate_file(path, mapping, report=False, workers=workers, chunk_rows=2)
        assert result.counts == {"valid": 6}, workers
