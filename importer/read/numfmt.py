"""Number cells shown as percentages: where they are in a sheet, and their text as Excel shows it.

python-calamine gives a cell's number but not its number format, so a cell showing 23% would
arrive as "0.23" and 150.00% as "1.5". A workbook keeps its formats apart from its cells: in an
.xlsx, ``xl/styles.xml`` lists the cell styles (``cellXfs``), each with a number format (the
built-in 9 "0%" and 10 "0.00%", or a ``numFmt`` of its own), and each cell names its style in
its ``s`` attribute. :func:`percent_cells` reads the styles (small), and only when some style
shows a percentage scans the sheet's XML for the cells of those styles (a byte search), so a
sheet without percentages costs only the styles. An .xls is asked through
xlrd (its ``formatting_info``), likewise only when a percent format exists. An OpenDocument
spreadsheet (.ods) marks each such cell ``office:value-type="percentage"`` and holds the text
shown: its ``content.xml`` is parsed (streamed) only when it holds that marker. An .xlsb keeps
the same styles and cells as an .xlsx, as binary records ([MS-XLSB]): ``xl/styles.bin`` is read,
and the sheet's records are walked only when some style shows a percentage.
"""

from __future__ import annotations

import re
import struct
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import numpy as np

__all__ = ["PercentCells", "format_percent", "percent_cells"]

#: {0-based column: (1-based row numbers, decimals shown)} of the number cells shown as percentages.
PercentCells = dict[int, tuple[np.ndarray, np.ndarray]]

_BUILTIN_PERCENT = {9: 0, 10: 2}
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
#: A cell's start tag, with or without a namespace prefix (``<x:c `` from .NET's Open XML SDK).
_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s")
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')  # literal text, escaped characters, [colours] and [conditions]
_BLOCK = 8 << 20


def percent_decimals(code: str) -> int | None:
    """Decimals a number format shows when it is a percentage ("0.0%" -> 1), else None."""
    section = _QUOTED.sub("", code.split(";", 1)[0])
    if "%" not in section:
        return None
    digits = re.search(r"\.([0#?]+)", section)
    return len(digits.group(1)) if digits else 0


def format_percent(values: np.ndarray, decimals: np.ndarray) -> list[str]:
    """Numbers as a percentage with the given decimals: 0.23, 0 -> "23%"; 1.5, 2 -> "150.00%".

    Rounded half away from zero, as Excel shows them (0.125 as "13%"), from the number's shortest repr.
    """
    out = []
    for v, d in zip(values.tolist(), decimals.tolist(), strict=True):
        scaled = Decimal(repr(float(v))).scaleb(2)
        out.append(f"{scaled.quantize(Decimal(1).scaleb(-int(d)), rounding=ROUND_HALF_UP)}%")
    return out


def percent_cells(path: Path, sheet: str) -> PercentCells:
    """Where the sheet's cells carry a percent format (empty when none do, or the file is not readable so)."""
    try:
        if path.suffix.lower() == ".xls":
            return _xls_percent_cells(path, sheet)
        if path.suffix.lower() == ".ods":
            return _ods_percent_cells(path, sheet)
        if path.suffix.lower() == ".xlsb":
            return _xlsb_percent_cells(path, sheet)
        with zipfile.ZipFile(path) as zf:
            styles = _percent_styles(zf)
            member = _sheet_member(zf, sheet) if styles else None
            return _scan_sheet(zf, member, styles) if member else {}
    except (OSError, KeyError, ValueError, IndexError, struct.error, zipfile.BadZipFile, ElementTree.ParseError):
        return {}  # calamine read the sheet: its cells keep their plain numbers


def _percent_styles(zf: zipfile.ZipFile) -> dict[int, int]:
    """{cell style index: decimals} of the styles whose number format is a percentage."""
    try:
        root = ElementTree.fromstring(zf.read("xl/styles.xml"))
    except KeyError:
        return {}
    custom = {int(f.get("numFmtId", -1)): f.get("formatCode", "") for f in root.iterfind("m:numFmts/m:numFmt", _NS)}
    out = {}
    for i, xf in enumerate(root.iterfind("m:cellXfs/m:xf", _NS)):
        fmt = int(xf.get("numFmtId", 0))
        decimals = _BUILTIN_PERCENT.get(fmt) if fmt not in custom else percent_decimals(custom[fmt])
        if decimals is not None:
            out[i] = decimals
    return out


def _sheet_member(zf: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding the sheet named ``sheet``."""
    book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rid = next((s.get(_REL) for s in book.iterfind("m:sheets/m:sheet", _NS) if s.get("name") == sheet), None)
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    target = next((r.get("Target", "") for r in rels if r.get("Id") == rid), None)
    if not target:
        return None
    return target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)


def _scan_sheet(zf: zipfile.ZipFile, member: str, styles: dict[int, int]) -> PercentCells:
    cols: list[int] = []
    rows: list[int] = []
    decimals: list[int] = []
    tail = b""
    with zf.open(member) as fh:
        while True:
            block = fh.read(_BLOCK)
            data = tail + block
            cut = len(data) if not block else data.rfind(b"<")  # a tag cut by the block ends is read whole next time
            for style, shown in styles.items():
                for col, row in _cells_of_style(data, cut, style):
                    cols.append(col)
                    rows.append(row)
                    decimals.append(shown)
            if not block:
                break
            tail = data[cut:]
    return _by_column(np.array(cols, dtype=np.int64), np.array(rows, dtype=np.int64), np.array(decimals))


def _cells_of_style(data: bytes, end: int, style: int) -> list[tuple[int, int]]:
    """(0-based column, row) of the cells in ``data[:end]`` whose style is ``style``.

    ``bytes.find`` of the attribute (C speed), then the cell tag around each hit: cheaper than a
    regular expression that tries every cell tag of the sheet.
    """
    needle = b' s="%d"' % style
    out = []
    at = data.find(needle, 0, end)
    while at >= 0:
        tag = data.rfind(b"<", 0, at)
        if _CELL_TAG.match(data, tag) and data.find(b">", tag, at) < 0:
            ref = _CELL_REF.search(data, tag, data.find(b">", at))
            if ref is not None:
                out.append((_column_index(ref.group(1)), int(ref.group(2))))
        at = data.find(needle, at + len(needle), end)
    return out


def _column_index(letters: bytes) -> int:
    n = 0
    for b in letters:
        n = n * 26 + b - 64
    return n - 1


def _by_column(cols: np.ndarray, rows: np.ndarray, decimals: np.ndarray) -> PercentCells:
    out: PercentCells = {}
    for col in np.unique(cols).tolist():
        mine = cols == col
        order = np.argsort(rows[mine], kind="stable")
        out[int(col)] = (rows[mine][order], decimals[mine][order])
    return out


def _xls_percent_cells(path: Path, sheet: str) -> PercentCells:
    import xlrd
    from xlrd.biffh import XLRDError  # where it is defined (types-xlrd does not re-export it from xlrd)

    try:
        book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True)
    except (XLRDError, NotImplementedError, AssertionError, struct.error):
        return {}
    styles: dict[int, int] = {}
    for i, xf in enumerate(book.xf_list):
        fmt = book.format_map.get(xf.format_key)
        places = percent_decimals(fmt.format_str) if fmt is not None else None
        if places is not None:
            styles[i] = places
    if not styles:
        return {}
    sh = book.sheet_by_name(sheet)
    cols: list[int] = []
    rows: list[int] = []
    decimals: list[int] = []
    for r in range(sh.nrows):  # .xls sheets are small (65,536 rows at most), and only with a percent format
        for c in range(sh.ncols):
            d = styles.get(sh.cell_xf_index(r, c))
            if d is not None:
                cols.append(c)
                rows.append(r + 1)
                decimals.append(d)
    return _by_column(np.array(cols, dtype=np.int64), np.array(rows, dtype=np.int64), np.array(decimals))


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_ODS_PERCENT = b'value-type="percentage"'
_SHOWN_DECIMALS = re.compile(r"[.,](\d+)\s*%")


def _ods_percent_cells(path: Path, sheet: str) -> PercentCells:
    """The percentage cells of an .ods sheet, with the decimals its shown text has ("45.0%": 1)."""
    with zipfile.ZipFile(path) as zf:
        if not _member_holds(zf, "content.xml", _ODS_PERCENT):
            return {}
        cols: list[int] = []
        rows: list[int] = []
        decimals: list[int] = []
        with zf.open("content.xml") as fh:
            row = col = 0
            inside = False
            for event, el in ElementTree.iterparse(fh, events=("start", "end")):
                tag = el.tag
                if tag == _ODS_TABLE + "table":
                    inside = event == "start" and el.get(_ODS_TABLE + "name") == sheet
                    if event == "end":
                        el.clear()
                    row = 0
                elif not inside or event == "start":
                    continue
                elif tag == _ODS_TABLE + "table-row":
                    row += int(el.get(_ODS_TABLE + "number-rows-repeated", "1"))
                    col = 0
                    el.clear()
                elif tag in (_ODS_TABLE + "table-cell", _ODS_TABLE + "covered-table-cell"):
                    repeat = int(el.get(_ODS_TABLE + "number-columns-repeated", "1"))
                    if el.get(_ODS_OFFICE + "value-type") == "percentage":
                        shown = _SHOWN_DECIMALS.search("".join(el.itertext()))
                        for k in range(min(repeat, 16384)):
                            cols.append(col + k)
                            rows.append(row + 1)
                            decimals.append(len(shown.group(1)) if shown else 0)
                    col += repeat
    return _by_column(np.array(cols, dtype=np.int64), np.array(rows, dtype=np.int64), np.array(decimals))


def _member_holds(zf: zipfile.ZipFile, member: str, needle: bytes) -> bool:
    """Whether the zip member holds ``needle`` (streamed: a big sheet is not read into memory)."""
    tail = b""
    with zf.open(member) as fh:
        while block := fh.read(_BLOCK):
            if needle in tail + block:
                return True
            tail = block[-len(needle) :]
    return False


# ---- .xlsb: BIFF12 records ([MS-XLSB] 2.1.4) --------------------------------------------------------

_BRT_ROW, _BRT_FMT, _BRT_XF = 0x0000, 0x002C, 0x002F
_BRT_BEGIN_CELL_XFS, _BRT_END_CELL_XFS, _BRT_BUNDLE_SH = 0x0269, 0x026A, 0x009C
_NUMBER_CELLS = {0x0002, 0x0005, 0x0009}  # BrtCellRk, BrtCellReal, BrtFmlaNum


def _records(data: bytes) -> list[tuple[int, int, int]]:
    """(type, body start, body end) of each record: a 1-2 byte type and a 1-4 byte size, 7 bits each."""
    out, at, end = [], 0, len(data)
    while at < end:
        typ = data[at]
        at += 1
        if typ & 0x80:
            typ = (typ & 0x7F) | ((data[at] & 0x7F) << 7)
            at += 1
        size = shift = 0
        for _ in range(4):
            byte = data[at]
            at += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        out.append((typ, at, at + size))
        at += size
    return out


def _xlsb_percent_cells(path: Path, sheet: str) -> PercentCells:
    with zipfile.ZipFile(path) as zf:
        styles = zf.read("xl/styles.bin")
        custom: dict[int, str] = {}
        percent: dict[int, int] = {}
        xf = -1
        for typ, start, _ in _records(styles):
            if typ == _BRT_FMT:
                n = struct.unpack_from("<I", styles, start + 2)[0]
                custom[struct.unpack_from("<H", styles, start)[0]] = styles[start + 6 : start + 6 + 2 * n].decode(
                    "utf-16-le", "replace"
                )
            elif typ == _BRT_BEGIN_CELL_XFS:
                xf = 0
            elif typ == _BRT_END_CELL_XFS:
                xf = -1
            elif typ == _BRT_XF and xf >= 0:
                fmt = struct.unpack_from("<H", styles, start + 2)[0]
                decimals = _BUILTIN_PERCENT.get(fmt) if fmt not in custom else percent_decimals(custom[fmt])
                if decimals is not None:
                    percent[xf] = decimals
                xf += 1
        member = _xlsb_sheet_member(zf, sheet) if percent else None
        if member is None:
            return {}
        data = zf.read(member)
    cols: list[int] = []
    rows: list[int] = []
    decimals_of: list[int] = []
    row = 0
    for typ, start, _ in _records(data):  # only with a percent style: a loop over the sheet's records
        if typ == _BRT_ROW:
            row = struct.unpack_from("<I", data, start)[0] + 1
        elif typ in _NUMBER_CELLS:
            style = int.from_bytes(data[start + 4 : start + 7], "little")
            if style in percent:
                cols.append(struct.unpack_from("<I", data, start)[0])
                rows.append(row)
                decimals_of.append(percent[style])
    return _by_column(np.array(cols, dtype=np.int64), np.array(rows, dtype=np.int64), np.array(decimals_of))


def _xlsb_sheet_member(zf: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member of the sheet named ``sheet``: its relationship id in workbook.bin, then the rels."""
    book = zf.read("xl/workbook.bin")
    rid = None
    for typ, start, _ in _records(book):
        if typ == _BRT_BUNDLE_SH:
            n = struct.unpack_from("<I", book, start + 8)[0]
            at = start + 12 + 2 * n
            name_len = struct.unpack_from("<I", book, at)[0]
            if book[at + 4 : at + 4 + 2 * name_len].decode("utf-16-le", "replace") == sheet:
                rid = book[start + 12 : start + 12 + 2 * n].decode("utf-16-le", "replace")
                break
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.bin.rels"))
    target = next((r.get("Target", "") for r in rels if r.get("Id") == rid), None)
    if not target:
        return None
    return target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
