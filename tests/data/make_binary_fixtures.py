"""Generate the loader's test input files in this folder (run: python tests/data/make_binary_fixtures.py).

Workbooks are written with openpyxl (xlsx); the .xls file and the encrypted-workbook stand-in are
built byte by byte here (a tiny BIFF8 stream inside a tiny OLE2/CFB container), because no .xls
writer is installed; tests check the .xls against both calamine and xlrd. Text files in odd
encodings (cp1252, UTF-16) are written here too so their bytes are exact. The output is
deterministic, so re-running only changes files when this script changes.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent


# ---- text files -------------------------------------------------------------------------------


def write_text() -> None:
    (HERE / "basic.csv").write_bytes(
        b"Name,Zip,Phone,Note\r\n"
        b"Ann Lee,02134,2165551234,plain\r\n"
        b'"Smith, Bob",="02134","(216) 555-0000","said ""hi"""\r\n'
        b'Cy,90210,,"two\r\nlines"\r\n'
        b"Dee,10001,1,last\r\n"
    )
    # blank line (row 3), white-space-only line (row 5), a quoted line break (row 4), trailing blanks
    (HERE / "blank_rows.csv").write_bytes(b'a,b\n1,2\n\n"x\ny",3\n  ,  \n4,5\n\n\n')
    (HERE / "ragged.csv").write_bytes(b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n")
    (HERE / "header_only.csv").write_bytes(b"Name,Zip\n\n")
    (HERE / "empty.csv").write_bytes(b"")
    (HERE / "bom.csv").write_bytes("\ufeffName,Zip\nZoë,02134\n".encode())
    (HERE / "cp1252.csv").write_bytes("Name;City\nJosé;Málaga\n“Smart” quotes;Köln\n".encode("cp1252"))
    (HERE / "utf16.txt").write_bytes("Name\tZip\r\nRené\t02134\r\n".encode("utf-16"))
    (HERE / "pipe.txt").write_bytes(b"a|b|c\n1,5|2|3\n")
    (HERE / "semicolon.csv").write_bytes(b"Name;Price\nA;2,5\nB;3,75\n")
    (HERE / "dup_headers.csv").write_bytes(b"Name,Zip,name \n1,2,3\n")
    (HERE / "unnamed_data.csv").write_bytes(b"Name,,Zip\nA,x,1\n")
    (HERE / "trailing_empty_headers.csv").write_bytes(b"Name,Zip,,\nA,1,,\nB,2,,\n")
    (HERE / "report_back.csv").write_bytes(
        b"row,status,id,error,warnings,Name,Zip\n2,error,,state bad,,Ann,02134\n3,ok,77,,,Bo,10001\n"
    )
    # random bytes with NULs renamed .csv (seeded LCG: deterministic)
    x, out = 12345, bytearray()
    for _ in range(2048):
        x = (1103515245 * x + 12345) & 0x7FFFFFFF
        out.append((x >> 16) & 0xFF)
    (HERE / "garbage.csv").write_bytes(bytes(out))
    # valid UTF-8 text with one stray 0x81 (undefined in cp1252) at a known offset
    (HERE / "undecodable.csv").write_bytes(b"Name\nab\x81cd\n")
    (HERE / "notes.doc").write_bytes(b"hello")


# ---- workbooks (openpyxl) ---------------------------------------------------------------------


def write_xlsx() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Leads"
    ws.append(["Name", "Zip", "Phone", "Score", "Active", "Born", "Seen", "Formula", "Text zip"])
    ws.append(["Ann", 2134, 12165551234, 2.5, True, dt.date(2024, 3, 5), dt.datetime(2024, 3, 5, 14, 30)])
    ws.append(["Bob", "02134", 44113.0, 0.1, False, dt.datetime(2024, 3, 5), None])
    ws.append([None] * 7)  # row 4: blank
    ws.append(["Cy", 90210, -7, 1e-5, None, None, None])
    ws["H2"] = "=1+1"
    ws["H3"] = "#N/A"
    ws["I2"] = '="02134"'
    ws["I2"].data_type = "s"  # a text cell holding the keep-as-text trick, not a formula
    ws["I3"] = "  "
    wb.create_sheet("Second").append(["Only", "Header"])
    wb["Second"].append(["x", "y"])
    wb.create_sheet("2024").append(["Year"])
    wb["2024"].append([2024])
    path = HERE / "basic.xlsx"
    wb.save(path)
    # openpyxl writes formulas without a cached value; give H2 the value Excel would have cached.
    _patch_member(
        path, "xl/worksheets/sheet1.xml", lambda x: re.sub(r"<f>1\+1</f><v\s*/?>(</v>)?", "<f>1+1</f><v>2</v>", x)
    )

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B1"], ws["C1"], ws["D1"] = "Name", "Zip", "City"
    ws["B2"], ws["C2"], ws["D2"] = "Ann", "02134", "Boston"
    ws["C4"] = "07001"  # row 3 blank
    wb.save(HERE / "offset.xlsx")

    wb = openpyxl.Workbook()
    wb.active.append(["Name", "Zip"])
    wb.save(HERE / "header_only.xlsx")

    wb = openpyxl.Workbook()
    wb.active.append(["Name", None, "Zip"])
    wb.active.append(["A", "orphan", "1"])
    wb.save(HERE / "unnamed_data.xlsx")

    wb = openpyxl.Workbook()
    wb.active.append(["Name", "Zip"])
    for i in range(2, 12):  # rows 2..11, row 7 blank
        wb.active.append([f"n{i}", f"{i:05d}"] if i != 7 else [None, None])
    wb.save(HERE / "eleven.xlsx")

    data = (HERE / "basic.xlsx").read_bytes()
    (HERE / "corrupt.xlsx").write_bytes(data[: len(data) // 2])
    (HERE / "text_named.xlsx").write_bytes(b"Name,Zip\nA,1\n")


def _patch_member(path: Path, member: str, fix) -> None:
    with zipfile.ZipFile(path) as zf:
        items = [(i, zf.read(i.filename)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, body in items:
            if info.filename == member:
                patched = fix(body.decode())
                assert patched != body.decode(), "patch did not apply"
                body = patched.encode()
            zf.writestr(info, body)


def write_bomb() -> None:
    """A zip renamed .xlsx whose one member inflates 64 MiB of zeros from ~64 KiB."""
    with (
        zipfile.ZipFile(HERE / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("xl/worksheets/sheet1.xml", "w") as f,
    ):
        for _ in range(64):
            f.write(b"\0" * (1 << 20))


# ---- OLE2 / CFB container and BIFF8 -----------------------------------------------------------

FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def cfb(streams: list[tuple[str, bytes]]) -> bytes:
    """A version-3 compound file: sector 0 = FAT, 1 = directory, then each stream (>= 4096 bytes,
    so none lives in the mini stream). Streams are siblings under the root, chained to the right
    in the CFB name order (shorter names first)."""
    streams = [(n, d + b"\0" * max(0, 4096 - len(d))) for n, d in streams]
    streams.sort(key=lambda s: (len(s[0]), s[0].upper()))
    fat = [FATSECT, END]
    starts = []
    for _, data in streams:
        n = -(-len(data) // 512)
        first = len(fat)
        starts.append(first)
        fat += [first + k + 1 for k in range(n - 1)] + [END]
    assert len(fat) <= 128 and len(streams) <= 3
    fat += [FREE] * (128 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB3I", len(raw), kind, 1, NOSTREAM, right, child)
            + b"\0" * 16
            + struct.pack("<I16xIQ", 0, start, size)
        )

    dirs = entry("Root Entry", 5, 1, NOSTREAM, END, 0)
    for i, (name, data) in enumerate(streams):
        right = i + 2 if i + 1 < len(streams) else NOSTREAM
        dirs += entry(name, 2, NOSTREAM, right, starts[i], len(data))
    dirs = dirs.ljust(512, b"\0")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH6xIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, 0, 1, 1, 0, 4096, END, 0, END, 0)
        + struct.pack("<109I", 0, *([FREE] * 108))
    )
    assert len(header) == 512
    body = b"".join(d.ljust(-(-len(d) // 512) * 512, b"\0") for _, d in streams)
    return header + struct.pack("<128I", *fat) + dirs + body


def _rec(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


class Percent(float):
    """A number cell shown as a percentage: "0%" (built-in format 9) or "0.00%" (``two``: format 10)."""

    two = False


def biff8(sheet: str, rows: list[list[object]]) -> bytes:
    """A minimal BIFF8 workbook stream: one sheet; str/float/bool/date/Percent cells."""
    return biff8_book([(sheet, rows, False)])


def _biff8_cells(rows: list[list[object]], strings: list[str]) -> bytes:
    """A sheet's cell records; text cells point into ``strings`` (the shared string table), added to here."""
    cells = b""
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, Percent):
                cells += _rec(0x0203, struct.pack("<HHHd", r, c, 19 if v.two else 18, float(v)))
            elif isinstance(v, bool):
                cells += _rec(0x0205, struct.pack("<HHHBB", r, c, 16, int(v), 0))
            elif isinstance(v, dt.date):
                serial = (v - dt.date(1899, 12, 30)).days
                cells += _rec(0x0203, struct.pack("<HHHd", r, c, 17, float(serial)))
            elif isinstance(v, int | float):
                cells += _rec(0x0203, struct.pack("<HHHd", r, c, 16, float(v)))
            else:
                strings.append(str(v))
                cells += _rec(0x00FD, struct.pack("<HHHI", r, c, 16, len(strings) - 1))
    return cells


def biff8_book(sheets: list[tuple[str, list[list[object]], bool]]) -> bytes:
    """A minimal BIFF8 workbook stream of several sheets: (name, rows, hidden) each."""
    strings: list[str] = []
    percent = any(isinstance(v, Percent) for _, rows, _ in sheets for row in rows for v in row)
    bof = lambda kind: _rec(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))  # noqa: E731
    streams = []
    for _, rows, _ in sheets:
        width = max(len(r) for r in rows)
        streams.append(
            bof(0x0010)
            + _rec(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
            + _biff8_cells(rows, strings)
            + _rec(0x000A, b"")
        )
    font = _rec(0x0031, struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0) + b"\x05\x00Arial")
    xf = lambda fmt, style: _rec(0x00E0, struct.pack("<HHH", 0, fmt, 0xFFF5 if style else 0x0001) + bytes(14))  # noqa: E731
    xfs = b"".join(xf(0, True) for _ in range(16)) + xf(0, False) + xf(14, False)
    if percent:  # XF 18 and 19: the built-in percent formats
        xfs += xf(9, False) + xf(10, False)
    sst = struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(s), 1) + s.encode("utf-16-le") for s in strings
    )
    globals_head = bof(0x0005) + _rec(0x0042, struct.pack("<H", 1200)) + font * 5 + xfs
    tail = _rec(0x00FC, sst) + _rec(0x000A, b"")
    names = [name.encode("latin-1") for name, _, _ in sheets]
    offset = len(globals_head) + sum(4 + 8 + len(n) for n in names) + len(tail)
    boundsheets = b""
    for name, (_, _, hidden), stream in zip(names, sheets, streams, strict=True):
        boundsheets += _rec(0x0085, struct.pack("<IBBBB", offset, int(hidden), 0, len(name), 0) + name)
        offset += len(stream)
    return globals_head + boundsheets + tail + b"".join(streams)


def write_ole() -> None:
    rows = [
        ["Name", "Zip", "Score", "Active", "Born"],
        ["Ann", 2134.0, 2.5, True, dt.date(2024, 3, 5)],
        [None, None, None, None, None],
        ["Bob", "02134", 12165551234.0, False, None],
    ]
    (HERE / "basic.xls").write_bytes(cfb([("Workbook", biff8("Leads", rows))]))
    # What Excel writes for a password-protected .xlsx: an OLE2 file with these two streams.
    info = struct.pack("<HHI", 4, 4, 0x40) + b"<?xml version='1.0'?><encryption/>"
    package = struct.pack("<Q", 1234) + bytes(range(256)) * 8
    (HERE / "encrypted.xlsx").write_bytes(cfb([("EncryptionInfo", info), ("EncryptedPackage", package)]))


if __name__ == "__main__":
    write_text()
    write_xlsx()
    write_bomb()
    write_ole()
