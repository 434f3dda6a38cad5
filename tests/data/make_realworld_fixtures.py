"""Generate the rw_* input files of tests/test_realworld.py and tests/test_roundtrip.py.

    .venv/bin/python tests/data/make_realworld_fixtures.py

Each file is one real-world case of issue 3 (an encoding, a delimiter, a damaged
export, a workbook with number cells), all with the contact columns of
``rw_contacts.yaml`` so one mapping reads them all. Text files are written as
exact bytes; workbooks with openpyxl (cached formula values patched in, as Excel
would have saved them). Deterministic: re-running changes nothing unless this
script changes.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent

MAPPING = """\
# The mapping of every rw_* fixture (tests/test_realworld.py, tests/test_roundtrip.py).
kind: contact
fields:
  fullname: [First Name, Last Name]
  email: Email
  phone: Phone
  phonetype: Phone Type
  address: Street
  city: City
  state: State
  zipcode: Zip
  type: Type
"""
#: The workbooks' mapping: the same plus two custom fields (a parcel number and a date).
LEADS_MAPPING = MAPPING.replace("# The mapping of every rw_* fixture", "# The mapping of rw_leads.xlsx/.xlsm") + (
    "customfields:\n  1: Parcel\n  2: Last Sale\n"
)

HEADER = ["First Name", "Last Name", "Email", "Phone", "Phone Type", "Street", "City", "State", "Zip", "Type"]

# (row 2..) clean rows; names carry non-ASCII letters so a wrong decoding shows.
CLEAN = [
    ["José", "Muñoz", "jose@example.com", "2165550134", "Mobile", "12 Main St", "Cleveland", "OH", "44113", "Buyer"],
    ["Zoë", "Brontë", "zoe@example.com", "6175550123", "Home", "7 Beacon St", "Boston", "MA", "02108", "Seller"],
    ["Renée", "Côté", "renee@example.com", "3125550188", "Work", "9 Lake Dr", "Chicago", "IL", "60601", "Buyer"],
]


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    out = []
    for row in rows:
        cells = []
        for cell in row:
            if any(ch in cell for ch in (delimiter, '"', "\n", "\r")):
                cell = '"' + cell.replace('"', '""') + '"'
            cells.append(cell)
        out.append(delimiter.join(cells))
    return "\r\n".join(out) + "\r\n"


def write_text() -> None:
    rows = [HEADER, *CLEAN]
    (HERE / "rw_utf8.csv").write_bytes(_csv(rows).encode("utf-8"))
    (HERE / "rw_utf8_bom.csv").write_bytes(_csv(rows).encode("utf-8-sig"))
    (HERE / "rw_cp1252.csv").write_bytes(_csv(rows).encode("cp1252"))
    (HERE / "rw_utf16.txt").write_bytes(_csv(rows, "\t").encode("utf-16"))  # Excel's "Unicode text"
    (HERE / "rw_semicolon.csv").write_bytes(_csv(rows, ";").encode("utf-8"))
    (HERE / "rw_tab.tsv").write_bytes(_csv(rows, "\t").encode("utf-8"))
    (HERE / "rw_pipe.txt").write_bytes(_csv(rows, "|").encode("utf-8"))
    # A Latin-1 byte (0xE9 "é") inside otherwise UTF-8 text would be guessed as cp1252 by us;
    # a 0x81 (undefined in cp1252) makes the file undecodable at byte offset 158 (the test checks it).
    body = _csv(rows).encode("utf-8")
    cut = body.index(b"Zo")
    (HERE / "rw_undecodable.csv").write_bytes(body[:cut] + b"Z\x81" + body[cut + 2 :])
    # RFC 4180 quoting: delimiter, doubled quotes and a line break inside cells.
    quoted = [
        HEADER,
        ["Ann", "Lee, Jr.", "ann@example.com", "2165550101", "Mobile", '12 "Old" Mill Rd', "Cleveland", "OH",
         "44113", "Buyer"],
        ["Bob", "Stone", "bob@example.com", "2165550102", "Home", "Apt 4\r\n99 Elm St", "Cleveland", "OH", "44102",
         "Seller"],
        ["Cy", "Diaz", "cy@example.com", "2165550103", "Work", "1 Oak Ave", "Cleveland", "OH", "44103", "Buyer"],
    ]  # fmt: skip
    (HERE / "rw_quoting.csv").write_bytes(_csv(quoted).encode("utf-8"))
    # Ragged: row 3 has a cell too many (an unquoted comma), row 4 two cells too few.
    ragged = _csv([HEADER, CLEAN[0]]) + (
        "Ann,Lee,ann@example.com,2165550101,Mobile,12 Main St, Apt 4,Cleveland,OH,44113,Buyer\r\n"
        "Bob,Stone,bob@example.com,2165550102,Home,99 Elm St,Cleveland,OH\r\n"
    )
    (HERE / "rw_ragged.csv").write_bytes(ragged.encode("utf-8") + _csv([CLEAN[1]]).encode("utf-8"))
    # Headers in another case and spacing, with a BOM: the mapping still matches them.
    messy = [" first  NAME", "last name ", "EMAIL", "phone", "Phone   Type", "street", "CITY", " State", "zip", "type"]
    (HERE / "rw_messy_headers.csv").write_bytes(_csv([messy, *CLEAN]).encode("utf-8-sig"))
    (HERE / "rw_duplicate_headers.csv").write_bytes(_csv([[*HEADER, "email "], [*CLEAN[0], "x"]]).encode())
    (HERE / "rw_unnamed_column.csv").write_bytes(_csv([[*HEADER[:3], "", *HEADER[3:]], [*CLEAN[0][:3], "orphan",
                                                       *CLEAN[0][3:]]]).encode())  # fmt: skip
    # Normalisation: every fix the issue lists, and the values that must be refused.
    norm = [
        HEADER,
        # 2: state name, ZIP+4, phone punctuation, Cell -> Mobile, lower-case type, upper-case domain
        ["Maria", "Garcia", "maria@Example.COM", "(216) 555-0147", "Cell", "4410 Lorain Ave", "Cleveland", "Ohio",
         "44102-1234", "seller"],
        # 3: " oh " state, ZIP+4 without dash, dotted phone, Landline -> Home, two types, white space
        ["  Tom ", "Baker", "tom@example.com", "216.555.0148", "Landline", "12   Main   St", "Cleveland", " oh ",
         "441131234", "buyer; SELLER"],
        # 4: +1 country code, Office -> Work, float ZIP, PR ZIP that lost its zeros
        ["Ana", "Ruiz", "ana@example.com", "+1 787 555 0149", "Office", "5 Calle Sol", "San Juan", "PR",
         "901", "Buyer"],
        # 5: scientific-notation phone, ZIP as a float, Wireless -> Mobile
        ["Lee", "Wong", "lee@example.com", "1.2165550150E+10", "Wireless", "7 Elm St", "Cleveland", "OH",
         "44113.0", "Buyer"],
        # 6: invalid: unknown state, 4-digit text ZIP, short phone, unknown phone type, bad type, bad e-mail
        ["Bad", "Row", "bad@example", "555-0199", "Pager", "1 Nowhere", "Nowhere", "XX", "4411", "Investor"],
        # 7: ZIP in another state (a warning), control character in a name
        ["Kim", "Park\x07", "kim@example.com", "2165550151", "Mobile", "3 Pine St", "Boston", "MA", "44113", "Seller"],
        # 8: missing name (required)
        ["", "", "noname@example.com", "2165550152", "Home", "4 Oak St", "Cleveland", "OH", "44113", "Buyer"],
    ]  # fmt: skip
    (HERE / "rw_normalise.csv").write_bytes(_csv(norm).encode("utf-8"))
    # Formula-like cells a report must neutralise (and give back when the report is re-read).
    formulas = [
        HEADER,
        ["=HYPERLINK(\"http://x\")", "Doe", "doe@example.com", "+1 216 555 0160", "Mobile", "-12 Main St",
         "Cleveland", "OH", "44113", "Buyer"],
        ["@Ann", "+Lee", "ann@example.com", "2165550161", "Home", "\tTabbed St", "Cleveland", "OH", "44113", "Seller"],
    ]  # fmt: skip
    (HERE / "rw_formulas.csv").write_bytes(_csv(formulas).encode("utf-8"))
    (HERE / "rw_contacts.yaml").write_text(MAPPING, encoding="utf-8")
    (HERE / "rw_leads.yaml").write_text(LEADS_MAPPING, encoding="utf-8")


def _patch_member(path: Path, member: str, pattern: str, repl: str) -> None:
    with zipfile.ZipFile(path) as zf:
        items = [(i, zf.read(i.filename)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, body in items:
            if info.filename == member:
                text, n = re.subn(pattern, repl, body.decode())
                assert n, f"patch {pattern!r} did not apply"
                body = text.encode()
            info.date_time = (2024, 1, 1, 0, 0, 0)
            zf.writestr(info, body)


def write_workbook(path: Path) -> None:
    """Sheet "Notes" first (a chart-less cover sheet), then "Leads" with number, date and formula cells."""
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "Notes"
    cover.append(["Exported", "for the tests"])
    ws = wb.create_sheet("Leads")
    ws.append([*HEADER, "Parcel", "Last Sale"])
    # row 2: ZIP and phone typed as numbers (leading zero lost), a 12-digit parcel number, a date
    ws.append(["Zoë", "Brontë", "zoe@example.com", 6175550123, "Home", "7 Beacon St", "Boston", "MA", 2108,
               "Seller", 123456789012, dt.date(2019, 6, 14)])  # fmt: skip
    # row 3: ZIP kept as text with Excel's ="..." trick, phone as a big float, date-time cell
    ws.append(["José", "Muñoz", "jose@example.com", 12165550134.0, "Cell", "12 Main St", "Cleveland", "OH",
               '="02134"', "Buyer", 4.5e11, dt.datetime(2020, 1, 2, 3, 4, 5)])  # fmt: skip
    ws["I3"].data_type = "s"  # a text cell holding ="02134", not a formula
    # row 4: blank (skipped, still counted); row 5: a formula whose cached value is the ZIP
    ws.append([None] * 12)
    ws.append(["Renée", "Côté", "renee@example.com", "3125550188", "Work", "9 Lake Dr", "Chicago", "IL",
               "=60600+1", "Buyer", None, None])  # fmt: skip
    wb.save(path)
    sheet2 = "xl/worksheets/sheet2.xml"
    _patch_member(path, sheet2, r"<f>60600\+1</f><v\s*/?>(</v>)?", "<f>60600+1</f><v>60601</v>")


def write_workbooks() -> None:
    write_workbook(HERE / "rw_leads.xlsx")
    # .xlsm: the same workbook as saved by Excel with macros enabled (calamine reads it the same way).
    write_workbook(HERE / "rw_leads.xlsm")


if __name__ == "__main__":
    write_text()
    write_workbooks()
    print(f"wrote the rw_* fixtures in {HERE}")
