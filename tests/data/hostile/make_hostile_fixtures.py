"""Generate the hostile input files of tests/test_hostile_files.py (issue 12) in this folder.

    .venv/bin/python tests/data/hostile/make_hostile_fixtures.py

Each file is one case a hostile tester built to make the loader lie (exit 0 on a file it misread)
or fail badly ("internal error", a wrong message). Text files are written as exact bytes;
workbooks with openpyxl (the timestamps pinned, so re-running changes nothing unless this script
does), the .xls with the BIFF8 writer of ../make_binary_fixtures.py. All use the columns of
``contacts.yaml``: Name, Email, State (and Rate, a percentage, in the workbooks).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from make_binary_fixtures import Percent, biff8, biff8_book, cfb  # noqa: E402

MAPPING = """\
# The mapping of every hostile fixture.
kind: contact
fields:
  fullname: Name
  email: Email
  state: State
"""
HEADER = "Name,Email,State"


def rows(n: int, start: int = 2) -> list[str]:
    """``n`` good records, numbered from row ``start``."""
    return [f"Person {i},p{i}@example.com,OH" for i in range(start, start + n)]


def lines(records: list[str], end: str = "\n") -> bytes:
    return (end.join(records) + end).encode("utf-8")


def write_quotes() -> None:
    stray = '"Ace Realty, LLC,c@example.com,OH'
    # Item 2: a quote never closed in row 4 of a 5-row file, and of a 23-row one (20 rows swallowed).
    (HERE / "stray_quote_5.csv").write_bytes(lines([HEADER, *rows(2), stray, *rows(1, 5)]))
    (HERE / "stray_quote_23.csv").write_bytes(lines([HEADER, *rows(2), stray, *rows(20, 5)]))
    # ... closed only ten rows below (by the quote of a later, well-quoted cell).
    late = [HEADER, *rows(2), stray, *rows(9, 5), '"Smith, Bob",bob@example.com,OH', *rows(5, 15)]
    (HERE / "stray_quote_closed_late.csv").write_bytes(lines(late))
    # ... in a file big enough for validate's worker processes (20,000 rows or more).
    big = [HEADER, *rows(22_000)]
    big[20_000 - 1] = stray
    (HERE / "stray_quote_big.csv").write_bytes(lines(big))
    # Legit quoted line breaks (an address, a DealMachine note of a few lines): not a stray quote.
    legit = [
        HEADER,
        '"Ann Lee","ann@example.com","OH"',
        '"Bob\nStone",bob@example.com,"OH"',
        'Cy Diaz,cy@example.com,"OH"',
        '"Dee, Fox",dee@example.com,OH',
        'Eve Ray,eve@example.com,"O\nH"',
    ]
    (HERE / "multiline_cells.csv").write_bytes(lines(legit))
    note = "Called 1/2, no answer, left vm\nCalled 1/5, spoke to owner, call back\nMailed 1/9, returned, bad addr"
    (HERE / "multiline_note.csv").write_bytes(
        lines(["Name,Email,State,Notes", f'Ann Lee,ann@example.com,OH,"{note}"', "Bob Stone,bob@example.com,OH,"])
    )


def write_line_ends() -> None:
    # Item 16: old Mac line ends (CR only); a bare CR inside a quoted cell in the first 64 KiB.
    (HERE / "cr_only.csv").write_bytes(lines([HEADER, *rows(3)], "\r"))
    (HERE / "cr_in_quoted_cell.csv").write_bytes(
        lines([HEADER, *rows(1), 'Bob Stone,"bob@example\r.com",OH', "Cy Diaz,cy@example.com,\"O\r\rH\""])
    )


def write_headers() -> None:
    # Item 16: a header line over 64 KiB (its names unique), a header of 5,000 columns.
    long_names = [f"Extra column {i:04d} " + "x" * 30 for i in range(1_600)]
    (HERE / "long_header.csv").write_bytes(
        lines([",".join([HEADER, *long_names]), "Ann Lee,ann@example.com,OH" + "," * len(long_names)])
    )
    wide = [f"C{i}" for i in range(4_997)]  # a header of ~30 KB, rows of ~85 KB: bigger than a 64 KiB block
    values = "".join(f",value {i:010d}" for i in range(len(wide)))
    (HERE / "wide_header.csv").write_bytes(
        lines([",".join([HEADER, *wide]), *(f"Person {i},p{i}@example.com,OH{values}" for i in range(2, 5))])
    )
    # A 200 KB cell in the first 1,000 rows (row 3): a big cell is not a quoting error.
    big_cell = '"Bob Stone","' + "b" * 200_000 + '@example.com",OH'
    (HERE / "big_cell_early.csv").write_bytes(lines([HEADER, *rows(1), big_cell, *rows(3, 4)]))
    # Junk rows above the header: a title with a date, then a blank row.
    (HERE / "junk_above_header.csv").write_bytes(
        lines(["Absentee owners export 2024-01-05,,", ",,", HEADER, *rows(3, 4)])
    )
    (HERE / "title_above_header.csv").write_bytes(
        lines(["Absentee owners,Created 2024-01-05,Records 3", HEADER, *rows(3, 3)])
    )


def write_encodings() -> None:
    # Item 13: UTF-8 with one line pasted from a Windows program (Windows-1252).
    body = [HEADER, "José Muñoz,jose@example.com,OH", "Zoë Brontë,zoe@example.com,MA"]
    data = lines(body) + "Renée Côté,renee@example.com,IL\n".encode("cp1252") + lines(["Ann Lee,ann@example.com,OH"])
    (HERE / "mixed_encoding.csv").write_bytes(data)


def _workbook(hidden_first: bool) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    wb.properties.created = wb.properties.modified = dt.datetime(2026, 1, 1)
    ws = wb.active
    if hidden_first:
        ws.title = "Lookup"
        ws.append(["Name", "Email", "State"])
        ws.append(["Lookup Row", "lookup@example.com", "OH"])
        ws.sheet_state = "hidden"
        ws = wb.create_sheet("Leads")
    else:
        ws.title = "Leads"
    ws.append(["Name", "Email", "State", "Rate", "Plain"])
    ws.append(["Ann Lee", "ann@example.com", "OH", 0.23, 0.23])
    ws.append(["Bob Stone", "bob@example.com", "OH", 1.5, 1.5])
    ws.append(["Cy Diaz", "cy@example.com", "OH", 0.125, "n/a"])
    ws["D2"].number_format = "0%"
    ws["D3"].number_format = "0.00%"
    ws["D4"].number_format = '0.0%;[Red]-0.0%'
    return wb


def _save(wb: openpyxl.Workbook, path: Path) -> None:
    wb.save(path)
    with zipfile.ZipFile(path) as zf:  # pinned member times: the same bytes on every run
        items = [(i, zf.read(i.filename)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, body in items:
            info.date_time = (2026, 1, 1, 0, 0, 0)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the time of saving
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", body)
            zf.writestr(info, body)


def write_workbooks() -> None:
    # Item 12: a hidden "Lookup" sheet before "Leads"; item 14: percent formats.
    wb = _workbook(hidden_first=True)
    wb.create_sheet("Notes")
    _save(wb, HERE / "hidden_first_sheet.xlsx")
    _save(_workbook(hidden_first=False), HERE / "percent.xlsx")
    two = Percent(1.5)
    two.two = True
    sheet = [
        ["Name", "Email", "State", "Rate", "Plain"],
        ["Ann Lee", "ann@example.com", "OH", Percent(0.23), 0.23],
        ["Bob Stone", "bob@example.com", "OH", two, 1.5],
    ]
    (HERE / "percent.xls").write_bytes(cfb([("Workbook", biff8("Leads", sheet))]))
    lookup = [["Name", "Email", "State"], ["Lookup Row", "lookup@example.com", "OH"]]
    book = biff8_book([("Lookup", lookup, True), ("Leads", sheet, False)])
    (HERE / "hidden_first_sheet.xls").write_bytes(cfb([("Workbook", book)]))


if __name__ == "__main__":
    write_quotes()
    write_line_ends()
    write_headers()
    write_encodings()
    write_workbooks()
    (HERE / "contacts.yaml").write_text(MAPPING, encoding="utf-8")
