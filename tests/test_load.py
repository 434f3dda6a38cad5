"""Tests of the load stage on real files in tests/data (made by tests/data/make_binary_fixtures.py)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pytest
import xlrd
from hypothesis import given
from hypothesis import strategies as st

from importer.errors import LoadError
from importer.read.csvtext import MAX_CELL_LINE_BREAKS, find_mojibake, find_runaway, undo_mojibake
from importer.read.header import detect_header_row, header_row_of
from importer.read.numfmt import format_percent, percent_decimals
from importer.read.source import (
    HEADER_ROW,
    REPORT_COLUMNS,
    Chunk,
    column_letter,
    describe_sheets,
    list_sheets,
    normalize_header,
    open_source,
)

DATA = Path(__file__).parent / "data"


def load(name: str | Path, **kw: object) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
    """Whole file as one frame, numeric mask and problems."""
    chunks = list(open_source(DATA / name if isinstance(name, str) else name, **kw).chunks())
    frame = pd.concat([c.frame for c in chunks])
    masks = [c.numeric for c in chunks if c.numeric is not None]
    problems = pd.concat([c.problems for c in chunks], ignore_index=True)
    return frame, (pd.concat(masks) if masks else None), problems


def assert_text_frame(frame: pd.DataFrame) -> None:
    assert frame.index.name == "row" and frame.index.dtype == "int64"
    assert not frame.isna().any().any()
    for col in frame.columns:
        assert all(isinstance(v, str) for v in frame[col])


def test_constants() -> None:
    assert HEADER_ROW == 1
    assert REPORT_COLUMNS == ("row", "status", "id", "error", "warnings")


# ---- CSV ----------------------------------------------------------------------------------------


def test_csv_keeps_text_quoting_and_row_numbers() -> None:
    src = open_source(DATA / "basic.csv")
    assert (src.kind, src.encoding, src.delimiter, src.sheet) == ("csv", "utf-8", ",", None)
    assert src.headers == ["Name", "Zip", "Phone", "Note"]
    frame, numeric, problems = load("basic.csv")
    assert_text_frame(frame)
    assert numeric is None and problems.empty
    assert frame.index.tolist() == [2, 3, 4, 5]
    assert frame.loc[2, "Zip"] == "02134" and frame.loc[2, "Phone"] == "2165551234"
    assert frame.loc[3, "Name"] == "Smith, Bob"
    assert frame.loc[3, "Zip"] == "02134"  # ="02134" unwrapped
    assert frame.loc[3, "Note"] == 'said "hi"'
    assert frame.loc[4, "Note"] == "two\r\nlines"
    assert frame.loc[5, "Name"] == "Dee"  # counted as row 5 despite the line break in row 4


def test_blank_rows_skipped_but_counted() -> None:
    frame, _, problems = load("blank_rows.csv")
    assert frame.index.tolist() == [2, 4, 6]
    assert frame.loc[4, "a"] == "x\ny" and frame.loc[6].tolist() == ["4", "5"]
    assert problems.empty


def test_ragged_rows_are_problems_not_failures() -> None:
    frame, _, problems = load("ragged.csv")
    assert frame.index.tolist() == [2, 3, 4, 5]
    assert frame.loc[3].tolist() == ["4", "5", ""]
    assert frame.loc[4].tolist() == ["6", "7", "8"]
    by_code = problems.set_index("code")
    assert by_code.loc["row.too_few_cells", "row"] == 3
    assert by_code.loc["row.too_few_cells", "severity"] == "warning"
    assert by_code.loc["row.too_many_cells", "row"] == 4
    assert by_code.loc["row.too_many_cells", "severity"] == "error"
    assert "4 cells" in by_code.loc["row.too_many_cells", "message"]
    assert "3 cells" in by_code.loc["row.too_many_cells", "message"]


@pytest.mark.parametrize("rows", [1, 2, 3, 7])
def test_chunks_keep_row_numbers_across_boundaries(rows: int) -> None:
    src = open_source(DATA / "ragged.csv")
    chunks = list(src.chunks(rows=rows))
    # at most `rows` parsed rows, plus the ragged rows put back in place
    assert all(isinstance(c, Chunk) and len(c.frame) <= rows + len(c.problems) for c in chunks)
    assert [i for c in chunks for i in c.frame.index] == [2, 3, 4, 5]
    assert sorted(p for c in chunks for p in c.problems["row"]) == [3, 4]
    for c in chunks:  # a chunk's problems are about its own rows
        assert set(c.problems["row"]) <= set(c.frame.index)
    assert [i for c in src.chunks(rows=rows) for i in c.frame.index] == [2, 3, 4, 5]  # repeatable


def test_chunking_generated_file_with_blanks_multiline_and_ragged(tmp_path: Path) -> None:
    lines = ["id,text"]
    expected = []
    for r in range(2, 2001):
        if r % 97 == 0:
            lines.append("")
        elif r % 89 == 0:
            lines.append(f'{r},"multi\nline"')
            expected.append(r)
        elif r % 83 == 0:
            lines.append(f"{r},x,extra")
            expected.append(r)
        else:
            lines.append(f"{r},{r:05d}")
            expected.append(r)
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n")
    chunks = list(open_source(path).chunks(rows=128))
    frame = pd.concat([c.frame for c in chunks])
    assert frame.index.tolist() == expected
    assert (frame["id"] == frame.index.astype(str)).all()
    problems = pd.concat([c.problems for c in chunks])
    assert sorted(problems["row"]) == [r for r in expected if r % 83 == 0 and r % 89 and r % 97]


def test_encodings() -> None:
    src = open_source(DATA / "bom.csv")
    assert src.headers == ["Name", "Zip"] and src.encoding == "utf-8-sig"
    assert load("bom.csv")[0].loc[2, "Name"] == "Zoë"
    src = open_source(DATA / "cp1252.csv")
    assert (src.encoding, src.delimiter) == ("cp1252", ";")
    frame = load("cp1252.csv")[0]
    assert frame["City"].tolist() == ["Málaga", "Köln"]
    assert frame.loc[3, "Name"] == "“Smart” quotes"
    src = open_source(DATA / "utf16.txt")
    assert (src.encoding, src.delimiter) == ("utf-16", "\t")
    assert load("utf16.txt")[0].loc[2].tolist() == ["René", "02134"]


def test_encoding_override(tmp_path: Path) -> None:
    frame = load("cp1252.csv", encoding="windows-1252")[0]
    assert frame.loc[2, "Name"] == "José"
    with pytest.raises(LoadError, match=r"cannot be decoded as utf-8.*offset"):
        open_source(DATA / "cp1252.csv", encoding="utf-8")
    with pytest.raises(LoadError, match="unknown encoding"):
        open_source(DATA / "basic.csv", encoding="klingon")


def test_undecodable_names_byte_offset() -> None:
    with pytest.raises(LoadError, match=r"undecodable\.csv.*0x81 at offset 7"):
        open_source(DATA / "undecodable.csv")


def test_utf8_char_split_across_scan_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importer.read.delimited as load_mod

    monkeypatch.setattr(load_mod, "_SCAN_BLOCK", 7)
    path = tmp_path / "split.csv"
    path.write_text("Name\nééééé€€\n", encoding="utf-8")
    assert open_source(path).encoding == "utf-8"


@pytest.mark.parametrize(
    ("name", "delimiter", "first"),
    [("pipe.txt", "|", ["1,5", "2", "3"]), ("semicolon.csv", ";", ["A", "2,5"])],
)
def test_delimiter_sniffing(name: str, delimiter: str, first: list[str]) -> None:
    assert open_source(DATA / name).delimiter == delimiter
    assert load(name)[0].iloc[0].tolist() == first


def test_report_columns_dropped_and_trailing_empty_headers() -> None:
    src = open_source(DATA / "report_back.csv")
    assert src.headers == ["Name", "Zip"]
    assert src.column_letter("Name") == "F"
    assert load("report_back.csv")[0].loc[2].tolist() == ["Ann", "02134"]
    assert open_source(DATA / "trailing_empty_headers.csv").headers == ["Name", "Zip"]


# ---- Excel --------------------------------------------------------------------------------------


def test_xlsx_cells_as_text() -> None:
    src = open_source(DATA / "basic.xlsx")
    assert (src.kind, src.sheet, src.encoding, src.delimiter) == ("xlsx", "Leads", None, None)
    frame, numeric, problems = load("basic.xlsx")
    assert_text_frame(frame)
    assert problems.empty
    assert frame.index.tolist() == [2, 3, 5]  # row 4 blank
    ann, bob = frame.loc[2], frame.loc[3]
    assert ann["Zip"] == "2134" and bob["Zip"] == "02134"
    assert ann["Phone"] == "12165551234" and bob["Phone"] == "44113"
    assert ann["Score"] == "2.5" and bob["Score"] == "0.1" and frame.loc[5, "Score"] == "1e-05"
    assert frame.loc[5, "Phone"] == "-7"
    assert (ann["Active"], bob["Active"]) == ("TRUE", "FALSE")
    assert ann["Born"] == "2024-03-05" and bob["Born"] == "2024-03-05"
    assert ann["Seen"] == "2024-03-05T14:30:00"
    assert ann["Formula"] == "2"  # the cached value
    assert ann["Text zip"] == "02134"
    assert numeric is not None and numeric.shape == frame.shape
    assert numeric.loc[2, "Zip"] and not numeric.loc[3, "Zip"]
    assert not numeric.loc[2, "Active"] and not numeric.loc[2, "Born"] and not numeric.loc[2, "Name"]


def test_xls_read_and_fixture_is_valid_for_xlrd() -> None:
    book = xlrd.open_workbook(DATA / "basic.xls")  # a second, independent reader of our fixture
    assert book.sheet_by_index(0).cell_value(1, 0) == "Ann"
    src = open_source(DATA / "basic.xls")
    assert (src.kind, src.sheet) == ("xls", "Leads")
    frame, numeric, _ = load("basic.xls")
    assert frame.index.tolist() == [2, 4]
    assert frame.loc[2].tolist() == ["Ann", "2134", "2.5", "TRUE", "2024-03-05"]
    assert frame.loc[4].tolist() == ["Bob", "02134", "12165551234", "FALSE", ""]
    assert numeric is not None and numeric.loc[2, "Zip"] and not numeric.loc[4, "Zip"]


def test_xlsx_offset_columns_keep_letters() -> None:
    src = open_source(DATA / "offset.xlsx")
    assert src.headers == ["Name", "Zip", "City"]
    assert [src.column_letter(h) for h in src.headers] == ["B", "C", "D"]
    frame = load("offset.xlsx")[0]
    assert frame.index.tolist() == [2, 4] and frame.loc[4, "Zip"] == "07001"


@pytest.mark.parametrize("sheet", ["Second", 2, "2", "second"])
def test_sheet_choice(sheet: str | int) -> None:
    src = open_source(DATA / "basic.xlsx", sheet=sheet)
    assert src.sheet == "Second" and src.headers == ["Only", "Header"]


def test_sheet_named_like_a_number_and_unknown_sheet() -> None:
    assert open_source(DATA / "basic.xlsx", sheet="2024").headers == ["Year"]
    with pytest.raises(LoadError, match=r"no sheet 'Nope'.*'Leads'.*'Second'"):
        open_source(DATA / "basic.xlsx", sheet="Nope")
    with pytest.raises(LoadError, match="no sheet 9"):
        open_source(DATA / "basic.xlsx", sheet=9)


def test_list_sheets() -> None:
    assert list_sheets(DATA / "basic.xlsx") == [("Leads", 3), ("Second", 1), ("2024", 1)]
    assert list_sheets(DATA / "basic.xls") == [("Leads", 2)]
    with pytest.raises(LoadError, match="not an Excel workbook"):
        list_sheets(DATA / "basic.csv")


def test_excel_chunks_keep_row_numbers() -> None:
    src = open_source(DATA / "eleven.xlsx")
    chunks = list(src.chunks(rows=3))
    assert [c.frame.index.tolist() for c in chunks] == [[2, 3, 4], [5, 6], [8, 9, 10], [11]]
    frame = pd.concat([c.frame for c in chunks])
    assert (frame["Zip"] == frame.index.map(lambda i: f"{i:05d}")).all()


# ---- bad files ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("missing.csv", "file not found"),
        ("empty.csv", r"empty \(0 bytes\)"),
        ("header_only.csv", "has a header but no data rows"),
        ("header_only.xlsx", "has a header but no data rows"),
        ("garbage.csv", "binary file"),
        ("notes.doc", r"unsupported file type '\.doc'.*\.csv.*\.xlsx"),
        ("corrupt.xlsx", "damaged"),
        ("text_named.xlsx", "not an Excel workbook"),
        ("encrypted.xlsx", "password protected.*without a password"),
        ("bomb.xlsx", "zip bomb"),
        ("unnamed_data.csv", "column B has data.*no header"),
        ("unnamed_data.xlsx", "column B has data.*no header"),
    ],
)
def test_bad_files_raise_one_line_load_error(name: str, pattern: str) -> None:
    with pytest.raises(LoadError, match=pattern) as info:
        open_source(DATA / name)
    message = str(info.value)
    assert "\n" not in message and name in message


def test_directory_and_workbook_renamed_csv(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="is a folder"):
        open_source(DATA)
    fake = tmp_path / "book.csv"
    fake.write_bytes((DATA / "basic.xlsx").read_bytes())
    with pytest.raises(LoadError, match=r"is an Excel workbook.*rename it to \.xlsx"):
        open_source(fake)


def test_bomb_limits_from_declared_sizes(tmp_path: Path) -> None:
    path = tmp_path / "fine.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.xml", b"\0" * (1 << 20))  # ratio > 200 but tiny: not refused by the bomb check
    with pytest.raises(LoadError) as info:
        open_source(path)
    assert "zip bomb" not in str(info.value)


def test_a_blank_first_row_is_passed_over_and_a_named_empty_header_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    path.write_text("\nName,Zip\nA,1\n")
    src = open_source(path)  # was refused ("row 1 is empty") before the header row was found
    assert (src.header_row, src.headers) == (2, ["Name", "Zip"])
    assert src.notes() == ["header in row 2; row 1 passed over"]
    assert load(path)[0].index.tolist() == [3]
    with pytest.raises(LoadError, match=r"row 1 is empty, so it holds no column headers; .*--header-row N"):
        open_source(path, header_row=1)


def test_duplicate_headers_are_numbered(tmp_path: Path) -> None:
    # Refused before ("columns A ('Name') and C ('name ') have the same header"): now read.
    src = open_source(DATA / "dup_headers.csv")
    assert src.headers == ["Name", "Zip", "Name (2)"]
    assert src.duplicates == {"name": ("'Name (1)' (column A)", "'Name (2)' (column C)")}
    assert src.aliases == {"Name (1)": "Name"} and src.mapping_names() == ["Name (1)", "Zip", "Name (2)"]
    assert src.notes() == ["columns A and C have the same header 'Name': read as 'Name', 'Name (2)'; "
                           "a mapping names them 'Name (1)', 'Name (2)'"]  # fmt: skip
    assert load("dup_headers.csv")[0].loc[2].tolist() == ["1", "2", "3"]
    path = tmp_path / "three.csv"
    path.write_text("Phone,Phone (2),phone,PHONE\n1,2,3,4\n")  # a name taken already is skipped
    assert open_source(path).headers == ["Phone", "Phone (2)", "Phone (3)", "Phone (4)"]


def test_unnamed_column_with_late_data_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "late_orphan.csv"
    path.write_text("Name,,Zip\n" + "A,,1\n" * 1500 + "B,oops,2\n")
    chunks = list(open_source(path).chunks())
    problems = pd.concat([c.problems for c in chunks])
    assert problems["code"].tolist() == ["row.cell_without_header"]
    assert problems["row"].tolist() == [1502] and problems["column"].tolist() == ["B"]


# ---- helpers ------------------------------------------------------------------------------------


def test_column_letter() -> None:
    assert [column_letter(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA",
    ]  # fmt: skip


def test_normalize_header_examples() -> None:
    assert normalize_header("\ufeff  First\t \n Name ") == "first name"
    assert normalize_header("ZIP Code") == normalize_header("zip  code")
    assert normalize_header("Straße") == normalize_header("STRASSE")


@given(st.text())
def test_normalize_header_invariants(text: str) -> None:
    key = normalize_header(text)
    assert normalize_header(key) == key  # idempotent
    assert key == key.strip() and "  " not in key and "\ufeff" not in key
    assert not any(c.isspace() and c != " " for c in key)
    assert normalize_header("\ufeff " + text.upper() + "\t") == normalize_header(text.upper())
    assert normalize_header(text.swapcase()) == key or text.swapcase().casefold() != text.casefold()


def test_file_of_only_short_rows(tmp_path: Path) -> None:
    """Exporters that drop trailing empty cells make every row 'too few': still numbered right."""
    path = tmp_path / "trimmed.csv"
    path.write_text("a,b,c\n" + "".join(f"{i},x\n" for i in range(2, 52)))
    chunks = list(open_source(path).chunks(rows=10))
    frame = pd.concat([c.frame for c in chunks])
    assert frame.index.tolist() == list(range(2, 52))
    assert (frame["a"] == frame.index.astype(str)).all() and (frame["c"] == "").all()
    assert sum(len(c.problems) for c in chunks) == 50


# ---- issue 12: stray quotes, mixed encodings, sheets, percentages, headers -------------------------


def _strings(*cells: str) -> pa.Array:
    return pa.array(list(cells), type=pa.large_string())


def test_find_runaway_flags_a_cell_holding_records_not_a_note() -> None:
    rows = np.array([2, 3, 4])
    note = "Called 1/2, no answer\nCalled 1/5, spoke, call back\nMailed"  # 1 and 2 commas: not 2 each
    swallowed = "Ace, LLC,c@x.com,OH\nDee,d@x.com,OH\nEve,e@x.com,OH"
    assert find_runaway([_strings("a", note, "b")], rows, 3, ",") is None
    assert find_runaway([_strings("a", "Apt 4\r\n9 Elm St", "b")], rows, 3, ",") is None
    found = find_runaway([_strings("a", "b", "c"), _strings("x", swallowed, "y")], rows, 3, ",")
    assert found is not None and (found.row, found.column, found.breaks) == (3, 1, 2)
    one_line_record = "Ace\nDee,d@x.com,OH"  # one record-like line: a legit cell may have one
    assert find_runaway([_strings(one_line_record)], np.array([2]), 3, ",") is None
    many = "\n".join(["line"] * (MAX_CELL_LINE_BREAKS + 2))
    assert find_runaway([_strings(many)], np.array([7]), 1, ",").row == 7  # type: ignore[union-attr]


def test_a_record_longer_than_a_block_names_its_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importer.read.delimited as load_mod

    monkeypatch.setattr(load_mod, "_CSV_BLOCK", 1 << 18)
    path = tmp_path / "long.csv"
    body = "".join(f"n{i},{i}\n" for i in range(2, 200)) + '"' + "x" * 700_000 + ",1\n" + "a,1\n" * 10
    path.write_text("Name,Zip\n" + body, encoding="utf-8")
    with pytest.raises(LoadError, match=r"row 200 is longer than 0\.25 MiB.*--quotes none") as info:
        list(open_source(path).chunks(rows=50))
    assert len(str(info.value)) < 400


def test_recoded_reader_matches_recode_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importer.read.csvtext as csvtext

    monkeypatch.setattr(csvtext, "_BLOCK", 7)
    data = "Name\nJosé\n".encode() + "Renée\n".encode("cp1252") + "Zoë\nA".encode()
    path = tmp_path / "m.csv"
    path.write_bytes(data)
    assert csvtext.recode(data).decode("utf-8") == "Name\nJosé\nRenée\nZoë\nA"
    assert csvtext.RecodedReader(path).read() == csvtext.recode(data)
    assert csvtext.scan_mixed(path).tolist() == [3]  # type: ignore[union-attr]


def test_mixed_rows_count_records_not_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes('Name,Note\nJosé,"two\nlines"\n'.encode() + "Renée,x\n".encode("cp1252"))
    assert open_source(path).encoding == "utf-8"
    frame, _, problems = load(path)
    assert frame["Name"].tolist() == ["José", "Renée"]
    assert problems[["row", "code"]].values.tolist() == [[3, "row.not_utf8"]]


def test_a_cp1252_file_without_utf8_text_stays_cp1252() -> None:
    assert open_source(DATA / "cp1252.csv").encoding == "cp1252"
    frame, _, problems = load("cp1252.csv")
    assert frame["Name"].tolist() == ["José", "“Smart” quotes"] and not len(problems)


@pytest.mark.parametrize(
    ("code", "decimals"),
    [("0%", 0), ("0.00%", 2), ("0.0%;[Red]-0.0%", 1), ("#,##0", None), ('0"%"', None), ("0\\%", None), ("0.0#%", 2)],
)
def test_percent_decimals(code: str, decimals: int | None) -> None:
    assert percent_decimals(code) == decimals


def test_format_percent_rounds_as_excel_shows() -> None:
    values = np.array([0.23, 1.5, 0.125, 0.0005, -0.015])
    assert format_percent(values, np.array([0, 2, 0, 1, 0])) == ["23%", "150.00%", "13%", "0.1%", "-2%"]


def test_default_sheet_is_the_first_visible_one_with_data(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Cover"  # visible but empty
    hidden = wb.create_sheet("Lookup")
    hidden.append(["Code", "Label"])
    hidden.sheet_state = "hidden"
    wb.create_sheet("Leads").append(["Name", "Zip"])
    wb["Leads"].append(["Ann", "02134"])
    path = tmp_path / "book.xlsx"
    wb.save(path)
    src = open_source(path)
    assert src.sheet == "Leads" and src.headers == ["Name", "Zip"]
    assert src.sheet_note() == (
        "'Cover' is empty; 'Leads' was read, sheet 3 of 3 ('Cover', 'Lookup' (hidden), 'Leads'); "
        "pick another with --sheet"
    )
    assert describe_sheets(path) == [("Cover", 0, "visible"), ("Lookup", 0, "hidden"), ("Leads", 1, "visible")]
    assert open_source(DATA / "basic.csv").sheet_note() is None


def test_header_row_detection() -> None:
    # A title and a blank row above the table; three lines of notes above a header in row 4.
    titled_report = [["Export 2024-01-05", "", ""], ["", "", ""], ["Name", "Email", "State"], ["A", "a@x.co", "OH"]]
    assert detect_header_row(titled_report) == 3
    notes = [["Owner list"], ["Made by the county"], ["Call before 9pm"], ["Name", "Zip", "Phone"], ["A", "02134", "1"]]
    assert detect_header_row(notes) == 4
    data_rows = [["Name", "Email", ""], ["Ann", "a@x.com", "OH"], ["Bob", "b@x.com", "OH"]]
    assert detect_header_row(data_rows) == 1  # a full first row is the header
    titled = [["Owners", "Created 2024", "Records 3"], ["Name", "Email", "State"]]
    assert detect_header_row(titled) == 1  # as full as row 2: only the person can tell (--header-row)
    headerless = [["Report"], ["Ann", "12", "OH"], ["Bob", "13", "OH"]]
    assert detect_header_row(headerless) == 1  # the first full row is data: nothing to pass over to
    assert detect_header_row([["", ""], ["", ""], ["Name", "Zip"], ["a", "1"]]) == 3  # blank rows above
    assert detect_header_row([["Email"], ["a@x.co"]]) == 1  # one column
    assert detect_header_row([]) == 1
    assert header_row_of(titled, ["name", "EMAIL", "Zip"], current=1) == 2
    assert header_row_of([["Name", "Email"], ["x", "name"]], ["Name", "Email"], current=1) is None


def test_a_last_row_with_a_closed_multiline_cell_is_not_a_stray_quote(tmp_path: Path) -> None:
    for text in ('Name,Note,Zip\nAnn,x,1\nBob,"a\nb",\n', 'Name,Note,Zip\nAnn,x,1\nBob,1,"a\nb"\n'):
        path = tmp_path / "last.csv"
        path.write_text(text, encoding="utf-8")
        assert load(path)[0].loc[3].tolist()[:2] in (["Bob", "a\nb"], ["Bob", "1"])
    path.write_text('Name,Note,Zip\nAnn,x,1\n"Bob,1,2\nCy,3,4\n', encoding="utf-8")
    with pytest.raises(LoadError, match="row 3, column A: a quote opens the cell"):
        load(path)


def test_undo_mojibake_and_what_is_not_mojibake() -> None:
    assert undo_mojibake("JosÃ© MuÃ±oz") == "José Muñoz"
    assert undo_mojibake("itâ€™s â€œhomeâ€\x9d") == "it’s “home”"  # 0x9D: undefined in Windows-1252
    assert undo_mojibake("Å\x81ukasz") == "Łukasz"
    legit = ["José", "SÃO PAULO", "CHÂTEAU", "Ñandú", "ÄRZTE", "Åsa", "€ 5", "naïve café", "N°5", ""]
    found = find_mojibake(pd.Series(["JosÃ©", *legit], dtype="str"))
    assert found.tolist() == [True] + [False] * len(legit)
    assert find_mojibake(pd.Series(["x", "Ã©"], dtype=object)).tolist() == [False, True]  # not Arrow strings


def test_text_encoded_twice_is_warned_with_what_it_should_read(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    rows = ["José,j@x.com", "JosÃ©,k@x.com", "SÃO PAULO,l@x.com", "Ann,itâ€™s@x.com", "CHÂTEAU,m@x.com"]
    path.write_text("Name,Email\n" + "\n".join(rows) + "\n", encoding="utf-8")
    frame, _, problems = load(path)
    assert frame["Name"].tolist()[1] == "JosÃ©"  # read as written; only a warning
    found = problems[problems["code"] == "text.mojibake"]
    assert found[["row", "column", "severity"]].values.tolist() == [[3, "Name", "warning"], [5, "Email", "warning"]]
    assert "'JosÃ©' looks double-encoded" in found["message"].iloc[0]
    assert "probably should read 'José'" in found["message"].iloc[0]
    assert "probably should read 'it’s@x.com'" in found["message"].iloc[1]


def test_text_encoded_twice_in_a_workbook_is_warned(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["Name", "Zip"])
    wb.active.append(["MuÃ±oz", "02134"])
    path = tmp_path / "twice.xlsx"
    wb.save(path)
    _, _, problems = load(path)
    assert problems[["row", "code"]].values.tolist() == [[2, "text.mojibake"]]
    assert "probably should read 'Muñoz'" in problems["message"].iloc[0]


def test_a_long_cell_encoded_twice_is_quoted_in_part(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("Name,Note\nAnn," + "x" * 100_000 + "JosÃ©" + "y" * 100_000 + "\n", encoding="utf-8")
    _, _, problems = load(path)
    assert len(problems["message"].iloc[0]) < 300 and "José" in problems["message"].iloc[0]


def test_a_first_line_past_the_cap_is_no_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importer.read.delimited as load_mod

    monkeypatch.setattr(load_mod, "_MAX_HEADER_BYTES", 1 << 18)
    path = tmp_path / "one_line.csv"
    path.write_bytes(b"a," * (1 << 18))
    with pytest.raises(LoadError, match=r"row 1 is longer than 0.25 MiB, so it is no header row"):
        open_source(path)
