"""Second review of the issue 12 loading fixes and the issue 14 owner names: defects found.

Each test is named for its defect. Those whose fix is not small are marked xfail (strict), so
they start failing the day the defect is fixed and the mark has to come off.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from importer.mapping.names import parse_owners, render
from importer.read.source import open_source
from tests.conftest import RunCli

MAPPING = Path(__file__).parent / "data" / "hostile" / "contacts.yaml"


def validate(run_cli: RunCli, tmp_path: Path, path: Path) -> tuple[int, str, list[dict[str, str]]]:
    report = tmp_path / "report.csv"
    code, out, err = run_cli("validate", path, "-m", MAPPING, "--report", report, "-q")
    rows: list[dict[str, str]] = []
    if report.exists():
        with report.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    return code, out + err, rows


def write(path: Path, lines: list[str], nl: str = "\n") -> Path:
    path.write_text(nl.join(lines) + nl, encoding="utf-8", newline="")
    return path


def frame(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    chunks = list(open_source(path).chunks(rows=1000, read_ahead=False))
    return pd.concat([c.frame for c in chunks]), pd.concat([c.problems for c in chunks])


def _stray(rows: list[str], at: int, closed_at: int, opened: str, closing: str) -> list[str]:
    rows = list(rows)
    rows[at], rows[closed_at] = opened, closing
    return rows


# -- stray quotes that swallow rows and are closed later ---------------------------------------------


@pytest.mark.timeout(30)
def test_stray_quote_in_file_without_trailing_empty_cells_stops_the_load(run_cli: RunCli, tmp_path: Path) -> None:
    rows = [f"Person {i},p{i}@example.com" for i in range(2, 12)]
    rows = _stray(rows, 1, 9, '"Ace Realty, LLC,c@example.com', "Tall 5'10\",t@example.com")
    code, output, _ = validate(run_cli, tmp_path, write(tmp_path / "ragged.csv", ["Name,Email,State", *rows]))
    assert code == 2, output
    assert "row 3, column A: a quote opens the cell" in output


@pytest.mark.timeout(30)
def test_stray_quote_in_file_with_trailing_delimiters_stops_the_load(run_cli: RunCli, tmp_path: Path) -> None:
    rows = [f"Person {i},p{i}@example.com,OH," for i in range(2, 12)]
    rows = _stray(rows, 1, 9, '"Ace Realty, LLC,c@example.com,OH,', "Tall 5'10\",t@example.com,OH,")
    code, output, _ = validate(run_cli, tmp_path, write(tmp_path / "trailing.csv", ["Name,Email,State", *rows]))
    assert code == 2, output
    assert "close the quote in row 3" in output


# -- legitimate multi-line cells refused as runaway quotes -------------------------------------------


@pytest.mark.timeout(30)
def test_closed_note_of_120_lines_is_read_not_refused(run_cli: RunCli, tmp_path: Path) -> None:
    note = "\n".join(f"call {i}: no answer" for i in range(120))
    path = write(tmp_path / "note.csv", ["Name,Email,State,Notes", f'Ann Lee,ann@example.com,OH,"{note}"'])
    code, output, rows = validate(run_cli, tmp_path, path)
    assert code == 0, output
    assert [r["row"] for r in rows] == ["2"]


@pytest.mark.timeout(30)
def test_closed_note_with_commas_in_three_column_file_is_read(run_cli: RunCli, tmp_path: Path) -> None:
    note = "Called 1/2, no answer, left vm\nCalled 1/5, spoke to owner, call back\nMailed 1/9, returned, bad addr"
    path = write(
        tmp_path / "note3.csv", ["Name,Email,Notes", f'Ann Lee,ann@example.com,"{note}"', "Bob,b@example.com,x"]
    )
    frame_, _ = frame(path)
    assert frame_["Notes"].tolist() == [note, "x"]


# -- CR-only files ------------------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_cr_only_mixed_encoding_file_is_decoded_line_by_line_not_mojibake(tmp_path: Path) -> None:
    # Mostly UTF-8 with one Windows-1252 line, old-Mac CR line ends: the whole file was one "line"
    # to the recoder, so every UTF-8 letter became mojibake ("ZoÃ«") with no warning at all.
    path = tmp_path / "cr_mixed.csv"
    path.write_bytes(
        b"Name,Email,State\r" + "Zoë,z@example.com,OH\r".encode() + b"Jos\xe9,j@example.com,OH\rBob,b@example.com,OH\r"
    )
    got, problems = frame(path)
    assert got["Name"].tolist() == ["Zoë", "José", "Bob"]
    assert problems.loc[problems["code"] == "row.not_utf8", "row"].tolist() == [3]


@pytest.mark.timeout(30)
def test_cr_only_stray_quote_message_does_not_name_line_1(run_cli: RunCli, tmp_path: Path) -> None:
    # line_of counted LF only: a CR-only file is all "line 1", and the message said "(line 1 of the file)".
    rows = [f"Person {i},p{i}@example.com,OH" for i in range(2, 12)]
    rows[1] = '"Ace Realty, LLC,c@example.com,OH'
    code, output, _ = validate(run_cli, tmp_path, write(tmp_path / "cr.csv", ["Name,Email,State", *rows], nl="\r"))
    assert code == 2, output
    assert "row 3, column A" in output and "line 1 of the file" not in output


# -- mixed encodings ----------------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_double_encoded_utf8_in_the_source_is_warned(tmp_path: Path) -> None:
    path = tmp_path / "mojibake.csv"
    path.write_text("Name,Email,State\nJosé,j@example.com,OH\nJosÃ©,k@example.com,OH\n", encoding="utf-8")
    _, problems = frame(path)
    assert 3 in problems["row"].tolist()


# -- owner names --------------------------------------------------------------------------------------


def people(text: str, order: str = "last-first") -> list[str]:
    return [render(p, title=True) for p in parse_owners(text, order).people]


def test_owner_slash_joins_two_owners() -> None:
    assert people("SMITH JOHN H/MARY L") == ["John H Smith", "Mary L Smith"]


def test_owner_o_apostrophe_surname_without_apostrophe() -> None:
    assert people("O BRIEN PAT") in (["Pat O'Brien"], ["Pat O Brien"])


def test_owner_vietnamese_le_van() -> None:
    assert people("LE VAN THANH") == ["Van Thanh Le"]


def test_owner_first_last_pairs_in_last_first_column() -> None:
    assert people("JOHN SMITH & MARY JONES") == ["John Smith", "Mary Jones"]


def test_owner_second_person_repeating_the_surname_last() -> None:
    assert people("SMITH JOHN H & MARY L SMITH")[1] == "Mary L Smith"


@pytest.mark.parametrize("tail", ["EST OF", "HEIRS", "DECD"])
def test_owner_estate_words_are_not_given_names(tail: str) -> None:
    assert people(f"SMITH JOHN H {tail}") == ["John H Smith"]


# -- percent cells --------------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_percent_cell_in_a_namespace_prefixed_sheet_reads_as_shown(tmp_path: Path) -> None:
    # .NET's Open XML SDK writes "<x:c r="C2" s="1">": the style scan looked for "<c " only, so
    # 25% came out as "0.25".
    import re
    import zipfile

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name", "Email", "Rate"])
    ws.append(["Ann", "ann@example.com", 0.25])
    ws["C2"].number_format = "0%"
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    path = tmp_path / "prefixed.xlsx"
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(path, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<(/?)(?!\?)([a-zA-Z]+)", rb"<\1x:\2", data).replace(b'xmlns="', b'xmlns:x="')
            zout.writestr(item, data)
    got, _ = frame(path)
    assert got["Rate"].tolist() == ["25%"]
