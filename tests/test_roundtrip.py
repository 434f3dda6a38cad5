"""The dry-run report round trip, end to end through the CLI, as a person does it:

validate -> XLSX report with red (invalid or left out) and yellow (normalised) cells -> fix the red cells in
the workbook (openpyxl, as Excel would save it) -> validate the saved report -> every row valid,
the same rows, and the columns the report added are recognised and ignored.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from importer.cli import main
from importer.read.source import open_source

DATA = Path(__file__).parent / "data"
MAPPING = str(DATA / "rw_contacts.yaml")
HEADER = ["First Name", "Last Name", "Email", "Phone", "Phone Type", "Street", "City", "State", "Zip", "Type"]
FRONT = ["row", "status", "id", "error", "warnings"]
RED, YELLOW = "FFC7CE", "FFEB9C"

#: What a person types into each red cell of rw_normalise.csv's report: (input row, column) -> value.
FIXES: dict[tuple[int, str], object] = {
    (6, "Email"): "bad@example.com",
    (6, "Phone"): "216-555-0199",
    (6, "Phone Type"): "Mobile",
    (6, "State"): "OH",
    (6, "Zip"): 44113,  # typed into the cell: Excel stores a number
    (6, "Type"): "Buyer",
    (8, "First Name"): "Pat",
}


def _colour(cell: openpyxl.cell.Cell) -> str:
    return str(cell.fill.start_color.rgb or "")[-6:] if cell.fill and cell.fill.fill_type == "solid" else ""


def _report_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_fix_the_red_cells_of_the_xlsx_report_and_run_it_again(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "leads.validate-report.xlsx"
    assert main(["validate", str(DATA / "rw_normalise.csv"), "-m", MAPPING, "--report", str(report), "-q"]) == 1
    first_out = capsys.readouterr().out
    assert "7 rows" in first_out

    wb = openpyxl.load_workbook(report)
    ws = wb["Report"]
    assert [c.value for c in ws[1]] == FRONT + HEADER
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:O{ws.max_row}"
    assert ws.max_row == 8  # header + the 7 input rows, in input order
    col = {c.value: c.column for c in ws[1]}

    red: dict[tuple[int, str], str] = {}
    yellow: dict[tuple[int, str], str] = {}
    for cells in ws.iter_rows(min_row=2):
        row = int(cells[0].value)
        for header in HEADER:
            cell = cells[col[header] - 1]
            colour = _colour(cell)
            if colour == RED:
                assert cell.comment is not None, (row, header)
                red[(row, header)] = cell.comment.text
            elif colour == YELLOW:
                assert cell.comment is not None, (row, header)
                yellow[(row, header)] = cell.comment.text
            else:
                assert cell.comment is None, (row, header, cell.comment.text)
    # Exactly the invalid cells are red, each with its reason as the comment.
    assert set(red) == set(FIXES)
    assert "state 'XX' is not a US state code" in red[(6, "State")]
    assert "fullname is required" in red[(8, "First Name")]
    # Normalised cells are yellow; the comment says what was done with the value.
    assert "state: Ohio → OH" in yellow[(2, "State")]
    assert "ZIP+4 shortened" in yellow[(2, "Zip")]
    assert "phonetype: Landline → Home" in yellow[(3, "Phone Type")]
    assert "901 → 00901" in yellow[(4, "Zip")]
    assert (6, "State") not in yellow  # an invalid cell is red only
    # The status cells: red for invalid rows, green for valid ones; the error column has every reason.
    # Row 6's bad values are all optional: the row is valid, its values left out are red cells and
    # warnings (the CRM would get the contact without them).
    status = {int(r[0].value): (r[1].value, _colour(r[1]), r[3].value, r[4].value) for r in ws.iter_rows(min_row=2)}
    assert status[8][0] == "invalid" and status[8][1] == RED and "fullname is required" in status[8][2]
    assert status[6][:2] == ("valid", "C6EFCE") and "phone '555-0199'" in status[6][3] and not status[6][2]
    assert status[2][:2] == ("valid", "C6EFCE")
    # The neutralised phone of row 4 is in the sheet as text with its guard quote.
    assert ws.cell(row=4, column=col["Phone"]).value == "'+1 787 555 0149"

    # A person fixes the red cells and saves the workbook under a new name.
    for (row, header), value in FIXES.items():
        ws.cell(row=row, column=col[header]).value = value
    fixed = tmp_path / "leads fixed.xlsx"
    wb.save(fixed)

    source = open_source(fixed)
    assert source.from_report and source.headers == HEADER  # the added columns are recognised and ignored

    again = tmp_path / "again.csv"
    code = main(["validate", str(fixed), "-m", MAPPING, "--report", str(again), "-q"])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = _report_rows(again)
    assert len(rows) == 7 and {r["status"] for r in rows} == {"valid"}
    assert [r["row"] for r in rows] == [str(n) for n in range(2, 9)]
    assert list(rows[0]) == FRONT + HEADER  # not row,status,...,row,status,... twice
    by_row = {int(r["row"]): r for r in rows}
    assert by_row[4]["Phone"] == "'+1 787 555 0149"  # the quote was removed on input, added again on output
    assert by_row[6]["Zip"] == "44113" and by_row[8]["First Name"] == "Pat"
    # Values the first run normalised are still normalised (and still said so) in the second.
    assert "state: Ohio → OH" in by_row[2]["warnings"]


def test_csv_report_fed_back_gives_the_same_outcomes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    second = tmp_path / "second.csv"
    assert main(["validate", str(DATA / "rw_normalise.csv"), "-m", MAPPING, "--report", str(first), "-q"]) == 1
    assert main(["validate", str(first), "-m", MAPPING, "--report", str(second), "-q"]) == 1
    capsys.readouterr()
    a, b = _report_rows(first), _report_rows(second)
    assert a == b  # same rows, statuses, errors, warnings and input cells


def test_a_real_column_named_status_is_not_mistaken_for_a_report(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text("Row,Status,First Name\n1,Lead,Ann\n", encoding="utf-8")
    # Only "row, status", ids and our "error" column mark a report: here "First Name" follows.
    source = open_source(path)
    assert source.headers == ["Row", "Status", "First Name"] and not source.from_report
