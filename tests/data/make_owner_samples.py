"""Write owners.csv and owners.xlsx: a county-style list with one "Owner Name" cell per property.

Run ``python tests/data/make_owner_samples.py`` after changing ROWS; the files are checked in.
The names are written as assessors and PropStream write them: LAST FIRST MIDDLE in capitals,
joint owners with "&" (sharing the surname or not), particles, suffixes, ETAL, companies.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = [
    "Property Address", "Property City", "Property State", "Property Zip", "Owner Name",
    "Mailing Address", "Mailing City", "Mailing State", "Mailing Zip", "APN",
]  # fmt: skip
ROWS = [
    ["12 Oak St", "Columbus", "OH", "43205", "SMITH JOHN & MARY", "500 Main St", "Columbus", "OH", "43215", "010-1"],
    ["14 Oak St", "Columbus", "OH", "43205", "LOPEZ ASHLEY", "14 Oak St", "Columbus", "OH", "43205", "010-2"],
    ["9 Elm Ave", "Columbus", "OH", "43206", "ACME HOLDINGS LLC", "PO Box 77", "Dublin", "OH", "43017", "010-3"],
    ["31 Birch Rd", "Columbus", "OH", "43207", "VAN DER BERG JAN", "31 Birch Rd", "Columbus", "OH", "43207", "010-4"],
    ["40 Cedar Ln", "Columbus", "OH", "43209", "GARCIA JOSE A & MARIA L", "40 Cedar Ln", "Columbus", "OH", "43209",
     "010-5"],
    ["7 Pine Ct", "Columbus", "OH", "43211", "JOHNSON ROBERT JR", "7 Pine Ct", "Columbus", "OH", "43211", "010-6"],
    ["88 Maple Dr", "Columbus", "OH", "43213", "BROWN DAVID & WILSON SUSAN", "88 Maple Dr", "Columbus", "OH", "43213",
     "010-7"],
    ["3 Ash Way", "Columbus", "OH", "43214", "DE LA CRUZ MARIA ETAL", "3 Ash Way", "Columbus", "OH", "43214", "010-8"],
    ["19 Walnut St", "Columbus", "OH", "43215", "MILLER LINDA", "19 Walnut St", "Columbus", "OH", "43215", "010-9"],
    ["21 Spruce St", "Columbus", "OH", "43219", "DAVIS JAMES M & PATRICIA", "21 Spruce St", "Columbus", "OH", "43219",
     "010-10"],
    ["5 Holly Pl", "Columbus", "OH", "43220", "SMITH FAMILY TRUST", "5 Holly Pl", "Columbus", "OH", "43220", "010-11"],
    ["60 Poplar Rd", "Columbus", "OH", "43221", "O'BRIEN PATRICK", "60 Poplar Rd", "Columbus", "OH", "43221", "010-12"],
]  # fmt: skip


def main() -> None:
    with (HERE / "owners.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(ROWS)
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Owners"
    ws.append(HEADER)
    for row in ROWS:
        ws.append(row)
    wb.save(HERE / "owners.xlsx")


if __name__ == "__main__":
    main()
