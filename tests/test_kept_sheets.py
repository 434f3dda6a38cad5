"""A workbook's sheets parsed once for a long-lived caller (importer.read.workbook's SheetKeeper),
never served stale, bounded, released; the sheet list's row counts; presets read once per process.

The workbench reads its upload again and again (the sheet list, the preview, the preset or
suggestion and its check, an uploaded mapping's check, the review): python-calamine parses a whole
sheet before the first row, so each of those used to cost a full parse of a 100k-row sheet.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from importer.mapping import parse as mapping_parse
from importer.mapping.fit import rank_presets
from importer.pipeline import estimate_rows
from importer.read import excel as excel_module
from importer.read import workbook
from importer.read.source import describe_sheets, open_source
from importer.read.workbook import SheetKeeper, kept_sheets
from importer.ui import mapedit
from importer.ui.state import Workbench

REPO = Path(__file__).resolve().parents[1]
DATA_ROWS = 60  # rows 4 to 63 below the header in row 3, row 20 among them blank


def _leads(path: Path, rows: int = DATA_ROWS, first: str = "Ann") -> Path:
    """A hidden sheet of lookups, then the list: a title row, a blank row, the header in row 3, one
    blank row among the data, a share shown as a percentage."""
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "Notes"
    notes.append(["Code", "Label"])
    notes.append(["A", "Absentee"])
    notes.sheet_state = "hidden"
    ws = wb.create_sheet("Leads")
    ws.append([f"Franklin County list of {first}"])
    ws.append([])
    ws.append(["First Name", "Last Name", "Phone", "Zip", "Share"])
    for i in range(rows - 1):
        if i == 16:
            ws.append([])  # row 20
        ws.append([first if i == 0 else f"Name{i}", "Smith", f"614555{i:04d}", "43205", 0.25])
        ws.cell(ws.max_row, 5).number_format = "0%"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


class _Sheet:
    """A parsed sheet that counts the rows handed out of it."""

    def __init__(self, sheet: Any, rows: Counter[str]) -> None:
        self._sheet, self._rows = sheet, rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sheet, name)

    def iter_rows(self) -> Iterator[list[Any]]:
        for row in self._sheet.iter_rows():
            self._rows[self._sheet.name] += 1
            yield row


class _Parses:
    """Sheets parsed, by (file name, sheet), and rows read from them, by sheet."""

    def __init__(self) -> None:
        self.sheets: Counter[tuple[str, str]] = Counter()
        self.rows: Counter[str] = Counter()


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> _Parses:
    """Count python-calamine's parses (``get_sheet_by_name``) of every workbook opened."""
    seen = _Parses()
    real = workbook.CalamineWorkbook

    class Book:
        def __init__(self, wb: Any, path: str) -> None:
            self._wb, self._name = wb, Path(path).name

        def __getattr__(self, name: str) -> Any:
            return getattr(self._wb, name)

        def get_sheet_by_name(self, name: str) -> Any:
            seen.sheets[(self._name, name)] += 1
            return _Sheet(self._wb.get_sheet_by_name(name), seen.rows)

    class Calamine:
        @staticmethod
        def from_path(path: str, *args: Any, **kwargs: Any) -> Book:
            return Book(real.from_path(path, *args, **kwargs), path)

    monkeypatch.setattr(workbook, "CalamineWorkbook", Calamine)
    return seen


def _mine(folder: Path) -> list[tuple[str, str]]:
    """The sheets kept of files under ``folder`` (other tests' workbenches may keep theirs)."""
    return [(p.name, s) for p, s in kept_sheets() if p.is_relative_to(folder.resolve())]


def _wait_done(wb: Workbench) -> None:
    table = wb.table
    assert table is not None
    deadline = time.monotonic() + 30
    while not table.done and time.monotonic() < deadline:
        time.sleep(0.01)
    assert table.done and table.error is None, table.error


# -- the workbench ---------------------------------------------------------------------------------


def test_the_workbench_parses_each_sheet_once_per_upload(
    tmp_path: Path, parses: _Parses, monkeypatch: pytest.MonkeyPatch
) -> None:
    percent: Counter[str] = Counter()
    real_percent = excel_module.percent_cells

    def counting(path: Path, sheet: str) -> Any:
        percent[sheet] += 1
        return real_percent(path, sheet)

    monkeypatch.setattr(excel_module, "percent_cells", counting)
    first = _leads(tmp_path / "upload-1" / "leads.xlsx")
    wb = Workbench(tmp_path / "work", mappings_dir=tmp_path / "mappings")
    try:
        wb.set_file(first, "leads.xlsx")  # the sheet list, the preview, the preset or suggestion and its check
        assert wb.source is not None and wb.check is not None and wb.mapping is not None, wb.file_error
        # the blank row 20 is not counted: it is not a row the report lists
        assert wb.sheets == [("Notes", 1, "hidden"), ("Leads", DATA_ROWS - 1, "visible")]
        mapping = tmp_path / "mapping.yaml"
        mapping.write_text(mapedit.to_yaml(wb.mapping, "leads"), encoding="utf-8")
        wb.use_uploaded(mapping, "mapping.yaml")  # checked again
        assert wb.check is not None and wb.mapping_error is None
        wb.suggest(None)
        wb.open_sheet("Leads", header_row=3)  # the header row chosen by hand
        wb.use_uploaded(mapping, "mapping.yaml")
        wb.start_review()
        _wait_done(wb)
        assert wb.table is not None and wb.table.rows_done == DATA_ROWS - 1  # the blank row 20 left out
        assert wb.table.frame.loc[4, "Share"] == "25%"  # its percent format found, once
        assert parses.sheets == {("leads.xlsx", "Notes"): 1, ("leads.xlsx", "Leads"): 1}
        assert percent == {"Leads": 1}
        assert _mine(tmp_path) == [("leads.xlsx", "Notes"), ("leads.xlsx", "Leads")]

        second = _leads(tmp_path / "upload-2" / "leads.xlsx", first="Bob")  # the same name, another file
        wb.set_file(second, "leads.xlsx")
        assert wb.preview is not None and wb.preview.iloc[0]["First Name"] == "Bob"
        assert parses.sheets == {("leads.xlsx", "Notes"): 2, ("leads.xlsx", "Leads"): 2}
        assert [p.parent.name for p, _ in kept_sheets() if p.is_relative_to(tmp_path.resolve())] == [
            "upload-2", "upload-2"
        ]  # the first upload's sheets are released with it
    finally:
        wb.close()
    assert _mine(tmp_path) == []  # and the session's at its end


# -- never stale, bounded, released --------------------------------------------------------------


def test_a_file_changed_or_replaced_is_parsed_anew(tmp_path: Path, parses: _Parses) -> None:
    path = _leads(tmp_path / "leads.xlsx", first="Ann")
    with SheetKeeper() as keeper:
        keeper.keep(path)
        assert next(open_source(path).chunks(10)).frame.iloc[0]["First Name"] == "Ann"
        assert next(open_source(path).chunks(10)).frame.iloc[0]["First Name"] == "Ann"
        assert parses.sheets["leads.xlsx", "Leads"] == 1

        stamp = path.stat()
        path.write_bytes(_leads(tmp_path / "other" / "leads.xlsx", first="Bea").read_bytes())  # edited in place
        os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # even with its old modification time
        assert next(open_source(path).chunks(10)).frame.iloc[0]["First Name"] == "Bea"
        assert parses.sheets["leads.xlsx", "Leads"] == 2

        os.replace(_leads(tmp_path / "new" / "leads.xlsx", first="Cy"), path)  # replaced by another file
        assert next(open_source(path).chunks(10)).frame.iloc[0]["First Name"] == "Cy"
        assert next(open_source(path).chunks(10)).frame.iloc[0]["First Name"] == "Cy"
        assert parses.sheets["leads.xlsx", "Leads"] == 3


def test_files_no_keeper_names_are_parsed_each_time(tmp_path: Path, parses: _Parses) -> None:
    """The command line's reading is as it was, even with a keeper alive in the process."""
    path = _leads(tmp_path / "cli.xlsx")
    other = _leads(tmp_path / "kept.xlsx")
    with SheetKeeper() as keeper:
        keeper.keep(other)
        open_source(other)
        open_source(other)
        for _ in range(2):
            assert open_source(path).sheet == "Leads"
        describe_sheets(path)
        assert parses.sheets == {("kept.xlsx", "Leads"): 1, ("cli.xlsx", "Leads"): 3, ("cli.xlsx", "Notes"): 1}
        assert _mine(tmp_path) == [("kept.xlsx", "Leads")]


def test_kept_sheets_are_bounded_and_released(
    tmp_path: Path, parses: _Parses, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [_leads(tmp_path / name / "leads.xlsx", rows=5) for name in "abc"]
    cells = 8 * 5  # the Leads sheet's used range: 8 rows (with its blank ones), 5 columns
    monkeypatch.setattr(workbook, "KEPT_CELLS", cells + 1)  # one sheet besides the last one used
    with SheetKeeper() as keeper:
        for path in paths:
            keeper.keep(path)
            open_source(path, sheet="Leads")
        assert [(p.parent.name, s) for p, s in kept_sheets() if p.is_relative_to(tmp_path.resolve())] == [
            ("b", "Leads"), ("c", "Leads")
        ]
        open_source(paths[2], sheet="Leads")
        open_source(paths[0], sheet="Leads")  # dropped: parsed again
        assert parses.sheets["leads.xlsx", "Leads"] == 4

        monkeypatch.setattr(workbook, "KEPT_CELLS", 0)
        open_source(paths[1], sheet="Leads")
        assert _mine(tmp_path) == [("leads.xlsx", "Leads")]  # the last one used stays, whatever its size

        keeper.forget(paths[1])
        assert _mine(tmp_path) == []
        keeper.keep(paths[0])
        open_source(paths[0], sheet="Leads")
    assert _mine(tmp_path) == []  # closed: released


def test_two_keepers_of_one_file_keep_it_until_both_forget(tmp_path: Path, parses: _Parses) -> None:
    path = _leads(tmp_path / "leads.xlsx")
    with SheetKeeper() as one, SheetKeeper() as two:
        one.keep(path)
        two.keep(path)
        open_source(path)
        one.close()
        open_source(path)
        assert parses.sheets["leads.xlsx", "Leads"] == 1
        two.forget(path)
        assert _mine(tmp_path) == []


def test_threads_read_a_kept_sheet_side_by_side(tmp_path: Path, parses: _Parses) -> None:
    """The review's thread and a page's request read one parsed sheet at once: one parse, and each
    reader its own rows (calamine's iter_rows gives each caller an iterator of its own)."""
    path = _leads(tmp_path / "leads.xlsx", rows=3_000)
    expected = pd.concat(c.frame for c in open_source(path).chunks(500))  # not kept: its own parse
    start = threading.Barrier(3)
    frames: list[pd.DataFrame] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            start.wait(10)
            frames.append(pd.concat(c.frame for c in open_source(path).chunks(100)))
        except BaseException as exc:
            errors.append(exc)

    with SheetKeeper() as keeper:
        keeper.keep(path)
        threads = [threading.Thread(target=read) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads) and not errors, errors
    assert parses.sheets["leads.xlsx", "Leads"] == 2  # the check's own, and one for the three threads
    assert len(frames) == 3
    for frame in frames:
        pd.testing.assert_frame_equal(frame, expected)


# -- the sheet list --------------------------------------------------------------------------------


def test_sheet_rows_are_the_non_blank_rows_below_the_header(tmp_path: Path, parses: _Parses) -> None:
    """Below the header (row 3, under a title and a blank row), the blank row among the data not
    counted: the rows the report will list (the review's estimate counts to the last row)."""
    path = _leads(tmp_path / "leads.xlsx", rows=2_000)
    assert describe_sheets(path) == [("Notes", 1, "hidden"), ("Leads", 1_999, "visible")]
    assert estimate_rows(open_source(path)) == 2_000

    wb = openpyxl.Workbook()
    wb.active.title = "Empty"
    wb.create_sheet("Header only").append(["Name", "Zip"])
    only = tmp_path / "only.xlsx"
    wb.save(only)
    assert describe_sheets(only) == [("Empty", 0, "visible"), ("Header only", 0, "visible")]


# -- presets ---------------------------------------------------------------------------------------


def test_presets_are_read_once_per_process_until_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "presets"
    folder.mkdir()
    for name in ("propstream", "contacts"):
        shutil.copy(REPO / "importer" / "presets" / f"{name}.yaml", folder)
    monkeypatch.setattr(mapping_parse, "_PRESET_DIRS", (folder,))
    reads: Counter[str] = Counter()
    real = mapping_parse.read_yaml

    def counting(path: Path) -> Any:
        reads[Path(path).stem] += 1
        return real(path)

    monkeypatch.setattr(mapping_parse, "read_yaml", counting)
    headers = ["First Name", "Last Name", "Phone", "Email", "Address", "City", "State", "Zip"]
    ranked = [f.name for f in rank_presets(headers)]
    assert [f.name for f in rank_presets(headers)] == ranked
    assert mapedit.fitting_presets(headers) == [f.name for f in rank_presets(headers) if f.fits]
    assert reads == {"propstream": 1, "contacts": 1}

    data = mapedit.preset_data("contacts")
    data["fields"].clear()  # the page changes its copy ...
    assert mapedit.preset_data("contacts")["fields"]  # ... not the one kept
    assert reads == {"propstream": 1, "contacts": 1}

    preset = folder / "contacts.yaml"
    preset.write_text(preset.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    rank_presets(headers)
    assert reads == {"propstream": 1, "contacts": 2}


def test_a_row_of_zeros_is_a_row_and_a_blank_one_is_not(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Leads"
    ws.append(["Name", "Units", "Vacant"])
    ws.append(["Ann", 2, True])
    ws.append([None, 0, False])  # falsy cells, but data
    ws.append([])
    ws.append(["", None, None])  # written as nothing
    ws.append(["Bob", 1, False])
    path = tmp_path / "zeros.xlsx"
    wb.save(path)
    assert describe_sheets(path) == [("Leads", 3, "visible")]
