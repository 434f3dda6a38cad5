"""Write ui_messy.xlsx: the workbench's "messy list" (owner names as assessors write them, a bad state).

Run ``python tests/data/make_ui_fixtures.py`` after changing it; the file is checked in. The rows
are those of owners.csv (make_owner_samples.py) with row 4's property state typed "Ohoi": the
browser test fixes that cell in the review grid.
"""

from __future__ import annotations

from pathlib import Path

from make_owner_samples import HEADER, ROWS
from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
BAD_ROW = 4  # the spreadsheet row (header = 1) whose state is mistyped
BAD_STATE = "Ohoi"


def main() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Owners"
    ws.append(HEADER)
    for n, row in enumerate(ROWS, start=2):
        cells = list(row)
        if n == BAD_ROW:
            cells[HEADER.index("Property State")] = BAD_STATE
        ws.append(cells)
    wb.save(HERE / "ui_messy.xlsx")


if __name__ == "__main__":
    main()
