"""Number cells shown as percentages: where they are in a sheet, and their text as Excel shows it.

python-calamine gives a cell's number but not its number format, so a cell showing 23% would
arrive as "0.23" and 150.00% as "1.5". A workbook keeps its formats apart from its cells: in an
.xlsx, ``xl/styles.xml`` lists the cell styles (``cellXfs``), each with a number format (the
built-in 9 "0%" and 10 "0.00%", or a ``numFmt`` of its own), and each cell names its style in
its ``s`` attribute. :func:`percent_cells` reads the styles (small), and only when some style
shows a percentage scans the sheet's XML for the cells of those styles (a byte search), so a
sheet without percentages costs only the styles. An .xls is asked through
xlrd (its ``formatting_info``), likewise only when a percent format exists.
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
        with zipfile.ZipFile(path) as zf:
            styles = _percent_styles(zf)
            member = _sheet_member(zf, sheet) if styles else None
            return _scan_sheet(zf, member, styles) if member else {}
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError):
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
