"""Write the files that show how lists are laid out as people have them (issue 14, the reading side).

Run ``python tests/data/make_reading_fixtures.py``; the files are checked in.

* ``owner_list.xlsx``: an owner list made in Excel: an empty first sheet ("Sheet1"), then "Owners"
  with a report title in row 1 and a blank row 2 above the header in row 3; three ``Phone``
  columns (skip-trace output); numeric and text ZIPs (leading zeros kept only as text), an
  equity percentage shown as "45%", a sale date; owners written "SMITH JOHN & MARY".
* ``owner_list.ods``: the same workbook saved by LibreOffice Calc (``soffice --headless
  --convert-to ods``), made only when soffice is installed (``apt-get install libreoffice-calc``).
* ``owner_list.xlsb``: the same workbook as an Excel binary workbook. LibreOffice reads .xlsb but
  cannot write it and no Python library writes it, so it is built record by record here
  ([MS-XLSB]: a zip of BIFF12 record streams: workbook, styles with a percent and a date format,
  two worksheets, inline strings). Reading the .ods and the .xlsb must give what the .xlsx gives.
* ``notes_above_header.csv``: three lines of notes above a header in row 4 (a semicolon file).
* ``dup_phones.csv``: three ``Phone`` columns and a mapping-free layout.
"""

from __future__ import annotations

import datetime as dt
import shutil
import struct
import subprocess
import tempfile
import zipfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
HEADER = [
    "Owner Name", "Property Address", "City", "State", "Zip", "Phone", "Phone", "Phone",
    "Equity", "Last Sale",
]  # fmt: skip
ROWS = [
    ["SMITH JOHN & MARY", "12 Oak St", "Boston", "MA", "02134", "6175550101", "6175550102", "", 0.45,
     dt.date(2019, 6, 3)],
    ["LOPEZ ASHLEY", "14 Oak St", "Columbus", "OH", 43205, 6145550103, "", "", 0.3, dt.date(2021, 1, 15)],
    ["ACME HOLDINGS LLC", "9 Elm Ave", "Newark", "NJ", "07102", "", "9735550104", "9735550105", 1,
     dt.date(2015, 11, 30)],
    ["MILLER LINDA", "19 Walnut St", "Columbus", "OH", 43215, 6145550106, "", "", 0.125, None],
]  # fmt: skip


def write_owner_list() -> Path:
    wb = Workbook()
    wb.active.title = "Sheet1"  # left empty, as a new workbook's first sheet often is
    ws = wb.create_sheet("Owners")
    ws.append(["Absentee owners - exported 2024-01-05"])
    ws.append([])
    ws.append(HEADER)
    for row in ROWS:
        ws.append(row)
    for r in range(4, 4 + len(ROWS)):
        ws.cell(r, 9).number_format = "0%"
        ws.cell(r, 10).number_format = "yyyy-mm-dd"
    path = HERE / "owner_list.xlsx"
    wb.save(path)
    return path


def convert(source: Path) -> None:
    """.ods and .xlsb copies of ``source`` by LibreOffice Calc, when it is installed."""
    soffice = shutil.which("soffice")
    if soffice is None:
        print("soffice not found: owner_list.ods and owner_list.xlsb left as they are")
        return
    for ext, target in (("ods", "ods"),):
        with tempfile.TemporaryDirectory() as out:
            # A profile of its own: no dialog, no lock shared with a running LibreOffice.
            profile = Path(out) / "profile"
            subprocess.run(
                [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", target,
                 "--outdir", out, str(source)],
                check=True, capture_output=True, timeout=180,
            )  # fmt: skip
            shutil.copyfile(Path(out) / f"{source.stem}.{ext}", HERE / f"{source.stem}.{ext}")


# ---- .xlsb, record by record ([MS-XLSB] 2.1.4: a record is its type and size, 7 bits a byte, then its body)


def _rec(typ: int, body: bytes = b"") -> bytes:
    head = bytes([typ]) if typ < 0x80 else bytes([(typ & 0x7F) | 0x80, typ >> 7])
    size, n = bytearray(), len(body)
    while True:
        size.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            break
    return head + bytes(size) + body


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


_XF_GENERAL, _XF_PERCENT, _XF_DATE = 0, 1, 2


def _cell(col: int, value: object, xf: int) -> bytes:
    """BrtCellSt (6) for text, BrtCellReal (5) for a number or a date (days since 1899-12-30)."""
    head = struct.pack("<I", col) + struct.pack("<I", xf)[:3] + b"\x00"
    if isinstance(value, str):
        return _rec(0x0006, head + _wide(value))
    if isinstance(value, dt.date):
        value = (value - dt.date(1899, 12, 30)).days
    assert isinstance(value, int | float)
    return _rec(0x0005, head + struct.pack("<d", float(value)))


def _sheet(rows: list[list[object]]) -> bytes:
    last_col = max((len(r) for r in rows), default=1) - 1
    out = _rec(0x0081) + _rec(0x0094, struct.pack("<4I", 0, max(len(rows) - 1, 0), 0, last_col)) + _rec(0x0091)
    for r, row in enumerate(rows):
        if not any(v not in (None, "") for v in row):
            continue
        out += _rec(0x0000, struct.pack("<IIHHBI", r, 0, 300, 0, 0, 0))  # BrtRowHdr
        for c, value in enumerate(row):
            if value in (None, ""):
                continue
            xf = _XF_DATE if isinstance(value, dt.date) else _XF_PERCENT if c == 8 and r >= 3 else _XF_GENERAL
            out += _cell(c, value, xf)
    return out + _rec(0x0092) + _rec(0x0082)


def write_xlsb(path: Path, sheets: list[tuple[str, list[list[object]]]]) -> None:
    book = _rec(0x0083) + _rec(0x008F)
    for i, (name, _) in enumerate(sheets, start=1):
        book += _rec(0x009C, struct.pack("<II", 0, i) + _wide(f"rId{i}") + _wide(name))  # BrtBundleSh
    book += _rec(0x0090) + _rec(0x0084)
    # Styles: BrtBeginFmts (none of its own), then three cell formats: General, 0% (9), m/d/yyyy (14).
    xf = [struct.pack("<HH", 0xFFFF, fmt) + bytes(12) for fmt in (0, 9, 14)]
    styles = _rec(0x0267, struct.pack("<I", 0)) + _rec(0x0269, struct.pack("<I", len(xf)))
    styles += b"".join(_rec(0x002F, x) for x in xf) + _rec(0x026A)
    ns = "http://schemas.openxmlformats.org"
    rel = f"{ns}/officeDocument/2006/relationships"
    types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Types xmlns="{ns}/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Override PartName="/xl/workbook.bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
        '<Override PartName="/xl/styles.bin" ContentType="application/vnd.ms-excel.styles"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.bin" ContentType="application/vnd.ms-excel.worksheet"/>'
            for i in range(1, len(sheets) + 1)
        )
        + "</Types>"
    )
    root_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Relationships xmlns="{ns}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.bin"/></Relationships>'
    )
    book_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Relationships xmlns="{ns}/package/2006/relationships">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="worksheets/sheet{i}.bin"/>'
            for i in range(1, len(sheets) + 1)
        )
        + f'<Relationship Id="rId{len(sheets) + 1}" Type="{rel}/styles" Target="styles.bin"/></Relationships>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in [
            ("[Content_Types].xml", types.encode()),
            ("_rels/.rels", root_rels.encode()),
            ("xl/workbook.bin", book),
            ("xl/_rels/workbook.bin.rels", book_rels.encode()),
            ("xl/styles.bin", styles),
            *[(f"xl/worksheets/sheet{i}.bin", _sheet(rows)) for i, (_, rows) in enumerate(sheets, start=1)],
        ]:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 5, 0, 0, 0))  # fixed: the same bytes every run
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)


def write_text_files() -> None:
    notes = [
        "Owner list for the spring mailing",
        "Source: county assessor; phones from skip tracing",
        "Do not call numbers marked DNC",
        "Name;Street;City;State;Zip;Phone",
        "Ann Lee;1 Elm St;Akron;OH;44301;3305550100",
        "Bob Stone;2 Elm St;Akron;OH;44302;3305550101",
        "",
        "Cy Young;3 Elm St;Akron;OH;44303;",
    ]
    (HERE / "notes_above_header.csv").write_bytes(("\r\n".join(notes) + "\r\n").encode())
    dup = [
        "Name,Phone,Phone,Phone,Email",
        "Ann Lee,3305550100,3305550101,,ann@example.com",
        "Bob Stone,,3305550102,3305550103,bob@example.com",
    ]
    (HERE / "dup_phones.csv").write_bytes(("\n".join(dup) + "\n").encode())


def main() -> None:
    convert(write_owner_list())
    owners: list[list[object]] = [["Absentee owners - exported 2024-01-05"], [], list(HEADER), *ROWS]
    write_xlsb(HERE / "owner_list.xlsb", [("Sheet1", []), ("Owners", owners)])
    write_text_files()


if __name__ == "__main__":
    main()
