"""Opening workbooks: safety checks, sheet choice, reading a sheet ahead of time, and keeping it.

Kept apart from :mod:`importer.read.source` so that it imports nothing heavy: the command line
calls :func:`prefetch` before it imports pandas and pandera, and python-calamine, which
releases the GIL while it parses, reads the sheet on a thread meanwhile (a 100k-row
workbook: ~1.2 s of parsing overlaps ~0.7 s of imports). :func:`read_sheet` then takes
the sheet read ahead, or reads it there and then.

python-calamine parses a whole sheet before giving its first row, so a long-lived caller that
opens the same file again and again (the workbench: the sheet list, the preview, each mapping
check, the review) names that file to a :class:`SheetKeeper`: its sheets are then parsed once
per version of the file (path, inode, size, modification and change times: a file edited or
replaced is parsed anew), :func:`read_sheet` and :func:`each_sheet` hand out the one kept until
the keeper forgets the file, and at most :data:`KEPT_CELLS` cells are kept besides the sheet
used last, whatever its size (the size a Source reading it holds anyway). A parsed sheet is
read-only: each ``iter_rows()`` is an iterator of its own, so threads read it side by side.
Files no keeper names (every file, on the command line) are parsed each time they are read.
"""

from __future__ import annotations

import os
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from importer.errors import LoadError
from importer.suggestions import closest

__all__ = [
    "CSV_EXTENSIONS",
    "EXCEL_EXTENSIONS",
    "KEPT_CELLS",
    "MAX_RATIO",
    "MAX_UNCOMPRESSED",
    "ZIP_WORKBOOKS",
    "Picked",
    "SheetInfo",
    "SheetKeeper",
    "each_sheet",
    "kept_sheets",
    "open_workbook",
    "pick_sheet",
    "prefetch",
    "read_sheet",
    "remember",
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
#: Cells of parsed sheets kept (:class:`SheetKeeper`) besides the sheet used last.
KEPT_CELLS = 4_000_000
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
    """The sheet to read of a workbook: the one :func:`prefetch` read, the one kept, or read now.

    ``sheet`` None: the first visible worksheet with data (a hidden sheet of lookups before the
    list is not the list). Raises LoadError for a damaged, encrypted or oversized workbook or an
    unknown sheet.
    """
    ahead = _take_prefetched(path, sheet)
    if ahead is not None:
        return ahead
    key = _kept_key(path)  # before opening: a file replaced meanwhile is kept under a version no later read has
    wb = open_workbook(path)
    return _pick(path, wb, sheet, _parser(key, wb))


def each_sheet(path: Path) -> Iterator[tuple[SheetInfo, Any | None]]:
    """Every sheet of a workbook in order, parsed (the one kept, when kept), None for a sheet that
    holds no cells (a chart sheet). Raises LoadError as :func:`read_sheet` does."""
    key = _kept_key(path)
    wb = open_workbook(path)
    infos = {info.name: info for info in sheet_infos(wb)}
    parse = _parser(key, wb)
    for name in wb.sheet_names:
        try:
            parsed = parse(name)
        except CalamineError:
            parsed = None
        yield infos.get(name, SheetInfo(name, "visible")), parsed


def _pick(path: Path, wb: CalamineWorkbook, sheet: str | int | None, parse: Callable[[str], Any]) -> Picked:
    infos = sheet_infos(wb)
    if sheet is not None:
        name = pick_sheet(path, wb, sheet)
        return Picked(name, _get(path, parse, name), infos)
    candidates = [i.name for i in infos if i.worksheet and i.visibility == "visible"]
    empty: list[str] = []
    for name in candidates:
        try:
            sh = parse(name)
        except CalamineError:
            continue
        top = int(sh.start[0]) if sh.start else 0  # rows come from row 1; the used range may start lower
        if sh.end is not None and any(any(c != "" for c in row) for row in islice(sh.iter_rows(), top, top + 100)):
            return Picked(name, sh, infos, tuple(empty))
        empty.append(name)
    name = pick_sheet(path, wb, None) if not candidates else candidates[0]
    return Picked(name, _get(path, parse, name), infos)


def _get(path: Path, parse: Callable[[str], Any], name: str) -> Any:
    try:
        return parse(name)
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
    key = _file_key(p)
    if key is None:
        return
    slot = _Slot()

    def work() -> Picked:
        wb = open_workbook(p)
        return _pick(p, wb, sheet, wb.get_sheet_by_name)

    thread = threading.Thread(target=slot.fill, args=(work,), name="realeflow-workbook-prefetch", daemon=True)
    with _lock:
        _pending[(key, repr(sheet))] = slot
    thread.start()


#: A version of a file: resolved path, device, inode, size, modification and change times (ns).
FileKey = tuple[str, int, int, int, int, int]
_T = TypeVar("_T")


def _file_key(path: Path) -> FileKey | None:
    try:
        st = path.stat()
        resolved = str(path.resolve())
    except OSError:
        return None
    return resolved, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


@dataclass
class _Slot:
    """One reading of a sheet, done by one thread (a prefetch's, or the first caller's) while others
    wait for it; ``extras``: what was found from the sheet's file since (:func:`remember`)."""

    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None
    cells: int = 0
    extras: dict[str, Any] = field(default_factory=dict)

    def fill(self, work: Callable[[], Any]) -> None:
        try:
            self.result = work()
        except BaseException as exc:  # handed to every waiter
            self.error = exc
        finally:
            self.done.set()

    def wait(self) -> Any:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.result


_lock = threading.Lock()
_pending: dict[tuple[FileKey, str], _Slot] = {}  # sheets read ahead, each taken once


def _take_prefetched(path: Path, sheet: str | int | None) -> Picked | None:
    key = _file_key(path)
    with _lock:
        slot = _pending.pop((key, repr(sheet)), None) if key is not None else None
    return None if slot is None else slot.wait()


class _Kept:
    """The parsed sheets kept (:class:`SheetKeeper`), the most recently used last, and the files they
    are kept for (how many keepers keep each)."""

    def __init__(self) -> None:
        self.slots: OrderedDict[tuple[FileKey, str], _Slot] = OrderedDict()
        self.files: dict[str, int] = {}

    def sheet(self, key: FileKey, name: str, parse: Callable[[], Any]) -> Any:
        """The sheet kept, else parsed here (once: a second caller waits for the first one's parse)."""
        at = (key, name)
        with _lock:
            slot = self.slots.get(at)
            mine = slot is None
            if slot is None:
                slot = self.slots[at] = _Slot()
            self.slots.move_to_end(at)
        if mine:
            slot.fill(parse)
            with _lock:
                if slot.error is not None:  # not kept: the next caller tries again
                    if self.slots.get(at) is slot:
                        del self.slots[at]
                else:
                    slot.cells = int(slot.result.height) * int(slot.result.width)
                    self._trim()
        return slot.wait()

    def _trim(self) -> None:
        """Drop the least recently used sheets beyond :data:`KEPT_CELLS` (the last used one stays)."""
        total = 0
        for at in list(reversed(self.slots))[1:]:
            slot = self.slots[at]
            total += slot.cells
            if slot.done.is_set() and total > KEPT_CELLS:
                del self.slots[at]

    def drop(self, resolved: str) -> None:
        for at in [at for at in self.slots if at[0][0] == resolved]:
            del self.slots[at]


_kept = _Kept()


def _kept_key(path: Path) -> FileKey | None:
    """The version of ``path`` under which its sheets are kept, or None: they are not kept."""
    if not _kept.files:  # the command line: nothing kept, nothing to look up
        return None
    key = _file_key(path)
    with _lock:
        return key if key is not None and key[0] in _kept.files else None


def _parser(key: FileKey | None, wb: CalamineWorkbook) -> Callable[[str], Any]:
    """A sheet of ``wb`` by name, parsed: the one kept for the file's version ``key`` (None: not kept)."""
    if key is None:
        return wb.get_sheet_by_name
    return lambda name: _kept.sheet(key, name, lambda: wb.get_sheet_by_name(name))


def remember(path: Path, sheet: str, what: str, find: Callable[[], _T]) -> _T:
    """``find()``, kept with the parsed sheet ``sheet`` of ``path`` while that is kept (found once per
    version of the file: the cells shown as percentages, say), else found each time."""
    key = _kept_key(path)
    with _lock:
        slot = _kept.slots.get((key, sheet)) if key is not None else None
        if slot is not None and what in slot.extras:
            return slot.extras[what]
    value = find()
    if slot is not None:
        with _lock:
            slot.extras[what] = value
    return value


def kept_sheets() -> list[tuple[Path, str]]:
    """The sheets kept now, (file, sheet name), the least recently used first."""
    with _lock:
        return [(Path(key[0]), name) for key, name in _kept.slots]


class SheetKeeper:
    """A long-lived caller's files whose sheets are parsed once and kept (see the module's docstring).

    ``keep(path)`` before reading a file, ``forget(path)`` when done with it, ``close()`` at the end:
    a file's sheets are dropped once no keeper keeps it. Files no keeper keeps (all of them, on the
    command line) are read as ever, each time.
    """

    def __init__(self) -> None:
        self._files: set[str] = set()

    def keep(self, path: Path) -> None:
        resolved = str(path.resolve())
        with _lock:
            if resolved not in self._files:
                self._files.add(resolved)
                _kept.files[resolved] = _kept.files.get(resolved, 0) + 1

    def forget(self, path: Path) -> None:
        self._forget(str(path.resolve()))

    def _forget(self, resolved: str) -> None:
        with _lock:
            if resolved not in self._files:
                return
            self._files.discard(resolved)
            _kept.files[resolved] -= 1
            if not _kept.files[resolved]:
                del _kept.files[resolved]
                _kept.drop(resolved)

    def close(self) -> None:
        for resolved in list(self._files):
            self._forget(resolved)

    def __enter__(self) -> SheetKeeper:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


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
