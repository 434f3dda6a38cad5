"""Write ui_messy.xlsx: the workbench's "messy list": a title above the table, owner names as
assessors write them ("SMITH JOHN & MARY"), a mistyped state.

Run ``python tests/data/make_ui_fixtures.py`` after changing it; the file is checked in. Row 1 is a
title, row 2 blank, the header row 3; the rows are those of owners.csv (make_owner_samples.py) from
row 4, with row 6's property state typed "Ohoi": the browser test fixes that cell in the grid.
"""

from __future__ import annotations

from pathlib import Path

from make_owner_samples import HEADER, ROWS
from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
TITLE = "Franklin County absentee owners (exported 05/01/2024)"
HEADER_ROW = 3
BAD_ROW = 6  # the spreadsheet row whose state is mistyped
BAD_STATE = "Ohoi"


def main() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Owners"
    ws.append([TITLE])
    ws.append([])
    ws.append(HEADER)
    for n, row in enumerate(ROWS, start=HEADER_ROW + 1):
        cells = list(row)
        if n == BAD_ROW:
            cells[HEADER.index("Property State")] = BAD_STATE
        ws.append(cells)
    wb.save(HERE / "ui_messy.xlsx")


if __name__ == "__main__":
    main()
