"""Opening workbooks: safety checks, sheet choice, and reading a sheet ahead of time.

Kept apart from :mod:`importer.read.source` so that it imports nothing heavy: the command line
calls :func:`prefetch` before it imports pandas and pandera, and python-calamine, which
releases the GIL while it parses, reads the sheet on a thread meanwhile (a 100k-row
workbook: ~1.2 s of parsing overlaps ~0.7 s of imports). :func:`read_sheet` then takes
the sheet read ahead, or reads it there and then.
"""

from __future__ import annotations

import os
import threading
import zipfile
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from importer.errors import LoadError
from importer.suggestions import closest

__all__ = [
    "CSV_EXTENSIONS",
    "EXCEL_EXTENSIONS",
    "MAX_RATIO",
    "MAX_UNCOMPRESSED",
    "ZIP_WORKBOOKS",
    "Picked",
    "SheetInfo",
    "open_workbook",
    "pick_sheet",
    "prefetch",
    "read_sheet",
    "sheet_infos",
]

#: The file kinds by extension (here, so that the command line knows them without pandas).
CSV_EXTENSIONS = (".csv", ".tsv", ".txt")
EXCEL_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
#: Workbooks that are zip files (an OpenDocument spreadsheet is one too); .xls is an OLE2 file.
ZIP_WORKBOOKS = (".xlsx", ".xlsm", ".xlsb", ".ods")
#: Workbooks are zip files; refuse ones that would inflate beyond these limits (zip bombs).
MAX_UNCOMPRESSED = 1 << 30
MAX_RATIO = 200
_RATIO_FLOOR = 16 << 20  # a high ratio only matters once the content is big
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class SheetInfo:
    """A sheet of a workbook: its name, "visible", "hidden" or "very hidden", and whether it is a worksheet."""

    name: str
    visibility: str
    worksheet: bool = True


@dataclass(frozen=True)
class Picked:
    """The sheet to read: its name, the calamine sheet, and every sheet of the workbook."""

    name: str
    sheet: Any
    sheets: tuple[SheetInfo, ...]
    empty: tuple[str, ...] = ()  # visible worksheets before it passed over because they hold nothing


def _visibility(value: SheetVisibleEnum) -> str:
    if value == SheetVisibleEnum.Visible:
        return "visible"
    return "hidden" if value == SheetVisibleEnum.Hidden else "very hidden"


def sheet_infos(wb: CalamineWorkbook) -> tuple[SheetInfo, ...]:
    """Each sheet's name, visibility and kind, in workbook order."""
    return tuple(
        SheetInfo(m.name, _visibility(m.visible), m.typ == SheetTypeEnum.WorkSheet)
        for m in wb.sheets_metadata
    )


def read_sheet(path: Path, sheet: str | int | None) -> Picked:
    """The sheet to read of a workbook: the one :func:`prefetch` read, or read now.

    ``sheet`` None: the first visible worksheet with data (a hidden sheet of lookups before the
    list is not the list). Raises LoadError for a damaged, encrypted or oversized workbook or an
    unknown sheet.
    """
    ahead = _take_prefetched(path, sheet)
    if ahead is not None:
        return ahead
    return _pick(path, open_workbook(path), sheet)


def _pick(path: Path, wb: CalamineWorkbook, sheet: str | int | None) -> Picked:
    infos = sheet_infos(wb)
    if sheet is not None:
        name = pick_sheet(path, wb, sheet)
        return Picked(name, _get(path, wb, name), infos)
    candidates = [i.name for i in infos if i.worksheet and i.visibility == "visible"]
    empty: list[str] = []
    for name in candidates:
        try:
            sh = wb.get_sheet_by_name(name)
        except CalamineError:
            continue
        top = int(sh.start[0]) if sh.start else 0  # rows come from row 1; the used range may start lower
        if sh.end is not None and any(any(c != "" for c in row) for row in islice(sh.iter_rows(), top, top + 100)):
            return Picked(name, sh, infos, tuple(empty))
        empty.append(name)
    name = pick_sheet(path, wb, None) if not candidates else candidates[0]
    return Picked(name, _get(path, wb, name), infos)


def _get(path: Path, wb: CalamineWorkbook, name: str) -> Any:
    try:
        return wb.get_sheet_by_name(name)
    except CalamineError as exc:
        raise LoadError(f"{path}: sheet {name!r} cannot be read ({exc}); pick a worksheet with --sheet") from exc


def prefetch(path: str | os.PathLike[str], sheet: str | int | None = None) -> None:
    """Start reading a workbook's sheet on a thread, for :func:`read_sheet` to take later.

    Does nothing for other files. Errors are kept and raised by ``read_sheet``, so a
    bad file fails exactly as it would without the read-ahead.
    """
    p = Path(path)
    if p.suffix.lower() not in EXCEL_EXTENSIONS or not p.is_file():
        return
    key = _key(p, sheet)
    if key is None:
        return
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = _pick(p, open_workbook(p), sheet)
        except BaseException as exc:  # handed to read_sheet
            box["error"] = exc

    thread = threading.Thread(target=work, name="realeflow-workbook-prefetch", daemon=True)
    with _lock:
        _pending[key] = (thread, box)
    thread.start()


_lock = threading.Lock()
_pending: dict[tuple[str, str, int, int], tuple[threading.Thread, dict[str, Any]]] = {}


def _key(path: Path, sheet: str | int | None) -> tuple[str, str, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return str(path.resolve()), repr(sheet), st.st_mtime_ns, st.st_size


def _take_prefetched(path: Path, sheet: str | int | None) -> Picked | None:
    key = _key(path, sheet)
    with _lock:
        entry = _pending.pop(key, None) if key is not None else None
    if entry is None:
        return None
    thread, box = entry
    thread.join()
    if "error" in box:
        error = box["error"]
        raise error
    return box["result"]


def open_workbook(path: Path) -> CalamineWorkbook:
    try:
        with path.open("rb") as f:
            magic = f.read(8)
    except OSError as exc:
        raise LoadError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from exc
    ext = path.suffix.lower()
    if ext in ZIP_WORKBOOKS:
        if magic.startswith(OLE2_MAGIC):
            if _is_encrypted_package(path):
                raise LoadError(
                    f"{path}: the workbook is password protected; open it in Excel and save a copy "
                    "without a password (File > Info > Protect Workbook > Encrypt with Password: clear it)"
                )
            raise LoadError(f"{path}: is an old Excel 97-2003 workbook; rename it to .xls")
        if not magic.startswith(ZIP_MAGIC):
            what = "an OpenDocument spreadsheet" if ext == ".ods" else "an Excel workbook"
            raise LoadError(
                f"{path}: is not {what} (the file is damaged or of another type); "
                f"open it in {'LibreOffice Calc' if ext == '.ods' else 'Excel'} and save it again as {ext}"
            )
        _check_zip(path)
    elif not magic.startswith(OLE2_MAGIC):
        hint = "rename it to .xlsx" if magic.startswith(ZIP_MAGIC) else "save it again from Excel"
        raise LoadError(f"{path}: is not an Excel 97-2003 (.xls) workbook; {hint}")
    try:
        return CalamineWorkbook.from_path(str(path))
    except PasswordError as exc:
        raise LoadError(
            f"{path}: the workbook is password protected; open it in Excel and save a copy without a password"
        ) from exc
    except (CalamineError, OSError, ValueError) as exc:
        raise LoadError(
            f"{path}: the workbook cannot be read, it may be damaged ({exc}); open it in Excel and save it again"
        ) from exc


def _is_encrypted_package(path: Path) -> bool:
    """An OLE2 file holding an 'EncryptedPackage' stream is an encrypted OOXML workbook."""
    needle = "EncryptedPackage".encode("utf-16-le")
    with path.open("rb") as f:
        return needle in f.read(64 << 20)


def _check_zip(path: Path) -> None:
    """Refuse corrupt zips and decompression bombs before calamine inflates anything."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise LoadError(
            f"{path}: the workbook is damaged (not a valid zip: {exc}); open it in Excel and save it again"
        ) from exc
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > MAX_UNCOMPRESSED or (total > _RATIO_FLOOR and total / packed > MAX_RATIO):
        raise LoadError(
            f"{path}: refused: the workbook would expand to {total / 2**20:,.0f} MiB "
            f"({total / packed:,.0f}x its size), which looks like a zip bomb; if it is genuine, "
            "export the sheet as CSV and import that"
        )


def pick_sheet(path: Path, wb: CalamineWorkbook, sheet: str | int | None) -> str:
    names = list(wb.sheet_names)
    listing = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names, 1))
    if not names:
        raise LoadError(f"{path}: the workbook has no sheets")
    if sheet is None:
        meta = wb.sheets_metadata
        work = [m.name for m in meta if m.typ == SheetTypeEnum.WorkSheet]
        return work[0] if work else names[0]
    if isinstance(sheet, str) and sheet in names:
        return sheet
    if isinstance(sheet, int) or (isinstance(sheet, str) and sheet.strip().isdigit()):
        i = int(sheet)
        if 1 <= i <= len(names):
            return names[i - 1]
    elif isinstance(sheet, str):
        folded = [n for n in names if n.strip().casefold() == sheet.strip().casefold()]
        if len(folded) == 1:
            return folded[0]
    hit = closest(sheet, names) if isinstance(sheet, str) else None
    hint = f" (did you mean --sheet {hit!r}?)" if hit is not None else ""
    raise LoadError(f"{path}: no sheet {sheet!r}{hint}; the sheets are {listing} (give a name or a number)")
