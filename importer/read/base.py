"""What every input format shares: the Source every reader returns, its chunks, and the header row.

A :class:`Source` streams a file's data rows as :class:`Chunk` s of text cells whose index is the
row number Excel shows. The readers (:mod:`importer.read.delimited` for CSV-like text,
:mod:`importer.read.excel` for workbooks) decide the raw cells; the header layout (which raw
columns are kept under which headers) and the finishing of every chunk (blank rows dropped,
unnamed columns warned about, ="..." unwrapped) are done here, the same for every format.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from importer.arrowtext import first_byte_in
from importer.errors import LoadError, quote
from importer.formulas import restore_neutralised
from importer.problems import WARNING, concat_problems, empty_problems, make_problems
from importer.read.csvtext import find_mojibake, mojibake_fragment
from importer.read.header import header_row_of, passed_over_note
from importer.read.workbook import SheetInfo

__all__ = [
    "HEADER_ROW",
    "REPORT_COLUMNS",
    "Chunk",
    "Layout",
    "Source",
    "clip",
    "column_letter",
    "finish_chunk",
    "make_layout",
    "normalize_header",
]

HEADER_ROW = 1
REPORT_COLUMNS = ("row", "status", "id", "error", "warnings")
_GRAPH_ID = re.compile(r"property_id|contact_\d+_id")  # a property-with-contacts report's id columns
_WS = re.compile(r"\s+")


def normalize_header(text: str) -> str:
    """Key for matching a header against a mapping: BOM removed, trimmed, inner white space runs
    collapsed to one space, casefolded."""
    return _WS.sub(" ", text.replace("\ufeff", "")).strip().casefold()


def column_letter(position: int) -> str:
    """Excel column letter of a 0-based column position: 0 -> "A", 26 -> "AA"."""
    letters = ""
    n = position + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass(frozen=True)
class Chunk:
    """A block of data rows, every cell text; index = Excel row number (name "row")."""

    frame: pd.DataFrame
    numeric: pd.DataFrame | None
    problems: pd.DataFrame


@dataclass(frozen=True)
class Layout:
    """Which raw columns become which headers, and the row the headers are in."""

    raw_width: int
    keep: tuple[int, ...]  # raw positions kept, in order
    headers: tuple[str, ...]  # their header text (a repeated header numbered: "Phone (2)")
    unnamed: tuple[int, ...]  # raw positions with an empty header (dropped)
    report: bool = False  # the file is one of our reports: front columns dropped, cells restored
    row: int = HEADER_ROW  # the header's row number as Excel shows it; data rows are below it
    #: Each header text written more than once: (that text, the names given, their raw positions).
    duplicates: tuple[tuple[str, tuple[str, ...], tuple[int, ...]], ...] = ()


def make_layout(path: Path, raw: Sequence[str], *, row: int = HEADER_ROW) -> Layout:
    """Decide the kept columns from the raw header cells of row ``row``; a header written twice is
    numbered ("Phone", "Phone (2)", "Phone (3)") so each column keeps a name of its own."""
    cells = [str(c).replace("\ufeff", "") for c in raw]
    if not any(c.strip() for c in cells):
        raise LoadError(
            f"{path}: row {row} is empty, so it holds no column headers; "
            "give the row the headers are in with --header-row N (or header_row: N in the mapping)"
        )
    start = _report_prefix(cells)
    if start:
        # Our report neutralised formula-like headers and cells with a leading "'" (see
        # importer.report.cells); a report fed back as input gets its original text back.
        cells = cells[:start] + restore_neutralised(pd.Series(cells[start:], dtype="str")).tolist()
    keep = [i for i in range(start, len(cells)) if cells[i].strip()]
    unnamed = [i for i in range(start, len(cells)) if not cells[i].strip()]
    names, duplicates = _numbered([cells[i] for i in keep], keep)
    return Layout(len(cells), tuple(keep), names, tuple(unnamed), report=start > 0, row=row, duplicates=duplicates)


def _numbered(
    headers: list[str], positions: list[int]
) -> tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...], tuple[int, ...]], ...]]:
    """(the headers with each repeat numbered "Phone (2)", "Phone (3)", the repeated ones)."""
    groups: dict[str, list[int]] = {}
    for k, text in enumerate(headers):
        groups.setdefault(normalize_header(text), []).append(k)
    if all(len(g) == 1 for g in groups.values()):
        return tuple(headers), ()
    taken = set(groups)
    names = list(headers)
    repeated = []
    for members in groups.values():
        if len(members) < 2:
            continue
        base, n = headers[members[0]].strip(), 1
        for k in members[1:]:
            n += 1
            while normalize_header(f"{base} ({n})") in taken:
                n += 1
            names[k] = f"{base} ({n})"
            taken.add(normalize_header(names[k]))
        repeated.append((headers[members[0]], tuple(names[k] for k in members), tuple(positions[k] for k in members)))
    return tuple(names), tuple(repeated)


def _report_prefix(cells: Sequence[str]) -> int:
    """How many leading columns are our own report columns (row, status, ...), else 0."""
    i = 0
    for name in REPORT_COLUMNS:
        if i < len(cells) and normalize_header(cells[i]) == name:
            i += 1
        # A property-with-contacts report has property_id, contact_1_id, ... in place of id.
        while name == "id" and i < len(cells) and _GRAPH_ID.fullmatch(normalize_header(cells[i])):
            i += 1
    # "row", "status" and our "error" column: a CRM export's own Row/Status columns are data.
    ours = i >= 2 and normalize_header(cells[1]) == "status" and "error" in map(normalize_header, cells[2:i])
    return i if ours else 0


def _unwrap_text_formula(col: pd.Series) -> pd.Series:
    """Turn Excel's keep-as-text trick ="02134" into 02134 (inner "" -> ")."""
    if not first_byte_in(col, b"=").any():  # the usual case: one byte scan
        return col
    hit = col.str.startswith('="') & col.str.endswith('"') & (col.str.len() >= 3)
    if not hit.any():
        return col
    inner = col[hit].str.slice(2, -1).str.replace('""', '"', regex=False)
    out = col.copy()
    out[hit] = inner
    return out


def _blank_rows(raw: pd.DataFrame, columns: Sequence[int]) -> pd.Series:
    """Rows whose kept cells are all empty or white space.

    Each column is looked at only on the rows still blank so far: on a real list the
    first column or two rule out nearly every row (15 columns x 100k rows: 3 ms, not 40).
    """
    candidates = np.arange(len(raw))
    for pos in columns:
        if not len(candidates):
            break
        col = raw[pos].iloc[candidates]
        candidates = candidates[((col == "") | col.str.isspace()).to_numpy(dtype=bool)]
    blank = np.zeros(len(raw), dtype=bool)
    blank[candidates] = True
    return pd.Series(blank, index=raw.index)


def finish_chunk(
    path: Path,
    layout: Layout,
    raw: pd.DataFrame,
    numeric: pd.DataFrame | None,
    problems: pd.DataFrame,
    *,
    twice: bool = True,
) -> Chunk:
    """Drop unnamed/report columns and blank rows, name the columns, unwrap ="..." cells.

    ``raw`` has columns 0..raw_width-1 (str), index = Excel row numbers.
    """
    found = [problems]
    blank = _blank_rows(raw, layout.keep)
    for pos in layout.unnamed:
        has = (raw[pos] != "") & ~raw[pos].str.isspace() & ~blank
        if has.any():
            letter = column_letter(pos)
            found.append(
                make_problems(
                    raw.index[has],
                    code="row.cell_without_header",
                    column=letter,
                    value=raw.loc[has, pos],
                    message=f"column {letter} has no header, so its value was ignored; "
                    f"give column {letter} a header in row {layout.row} to import it",
                    severity=WARNING,
                )
            )
    keep = list(layout.keep)
    frame = raw.loc[~blank, keep]
    frame.columns = list(layout.headers)
    for name in frame.columns:
        col = restore_neutralised(frame[name]) if layout.report else frame[name]
        frame[name] = _unwrap_text_formula(col)
    frame.index = pd.Index(frame.index.to_numpy(dtype="int64"), name="row")
    mask = None
    if numeric is not None:
        mask = numeric.loc[~blank.to_numpy(), keep]
        mask.columns = list(layout.headers)
        mask.index = frame.index
    if twice:
        found += [_mojibake_problems(frame[name]) for name in frame.columns]
    probs = concat_problems(found)
    if len(probs):
        probs = probs[probs["row"].isin(frame.index)].reset_index(drop=True)
    return Chunk(frame=frame, numeric=mask, problems=probs)


def _mojibake_problems(col: pd.Series) -> pd.DataFrame:
    """Warnings for the cells of ``col`` that hold text encoded twice ("JosÃ©"): see importer.read.csvtext."""
    hit = find_mojibake(col)
    if not hit.any():
        return empty_problems()
    cells = col[hit]
    messages = []
    for text in cells.tolist():  # only the cells found, each with its own suggestion
        shown, meant = mojibake_fragment(str(text))
        messages.append(
            f"{col.name}: {quote(shown)} looks double-encoded (UTF-8 read as Windows-1252 before it was saved "
            f"here) and probably should read {quote(meant)}; correct it in the source"
        )
    return make_problems(
        cells.index,
        code="text.mojibake",
        column=str(col.name),
        value=cells.astype("str"),
        message=pd.Series(messages, index=cells.index),
        severity=WARNING,
    )


def clip(text: str, width: int) -> str:
    """At most ``width`` characters of ``text`` for a message."""
    return text if len(text) <= width else text[: width - 1] + "…"


class Source:
    """An opened, checked input file. Create it with :func:`open_source`."""

    path: Path
    headers: list[str]
    kind: str
    sheet: str | None
    encoding: str | None
    delimiter: str | None
    from_report: bool

    def sheet_height(self) -> int | None:
        """Rows of the worksheet read, header included, when the format knows it up front."""
        return None

    def __init__(self, path: Path, kind: str, layout: Layout) -> None:
        self.path = path
        self.kind = kind
        self._layout = layout
        #: True when the file is a report of ours fed back (its front columns were dropped).
        self.from_report = layout.report
        self.headers = list(layout.headers)
        self._positions = dict(zip(layout.headers, layout.keep, strict=True))
        self.sheet = None
        self.encoding = None
        self.delimiter = None
        #: The file's first records (row 1 first), as text: for telling where the header is.
        self.first_rows: list[list[str]] = []
        #: A workbook's sheets (name, visibility, worksheet or not); empty for a text file.
        self.sheets: tuple[SheetInfo, ...] = ()
        #: The visible worksheets before the one read that were passed over because they are empty.
        self.empty_sheets: tuple[str, ...] = ()

    def chunks(
        self, rows: int = 50_000, *, first_rows: int | None = None, read_ahead: bool = True
    ) -> Generator[Chunk, None, None]:
        """Stream the data rows in chunks of about ``rows`` rows (the first of ``first_rows``); may be called again.

        ``read_ahead``: a CSV's next chunk is parsed on a thread meanwhile (one more chunk in memory).

        Blank rows are left out (a chunk may be shorter); a CSV chunk may also be a little longer,
        by the ragged rows that were repaired and put back in place. A caller that stops early
        closes the generator: a CSV's file and read-ahead thread are released then.
        """
        raise NotImplementedError

    def preflight(self) -> None:
        """Read the whole file once and raise the LoadError a later chunk would (before a push sends anything).

        A workbook's rows were checked when its sheet was read: nothing to do.
        """

    def column_letter(self, header: str) -> str:
        """The Excel column letter of a header ("A", "B", ..., "AA") for messages."""
        return column_letter(self._positions[header])

    def check_has_data(self) -> None:
        """Raise LoadError when there are no data rows or an unnamed column holds data early on."""
        row = self.header_row
        for chunk in self._probe():
            bad = chunk.problems[chunk.problems["code"] == "row.cell_without_header"]
            if len(bad):
                first = bad.iloc[0]
                letter = first["column"]
                raise LoadError(
                    f"{self.path}: column {letter} has data (row {first['row']}: {quote(first['value'])}) "
                    f"but no header in row {row}, the row read as the header; if the headers are in "
                    f"another row, give it with --header-row N (or header_row: N in the mapping), "
                    f"else write a header for column {letter} in row {row}"
                )
            if len(chunk.frame):
                return
        raise LoadError(
            f"{self.path}: has a header but no data rows below it (the header read is row {row}); add rows "
            "below the header, or give the row the headers are in with --header-row N"
        )

    @property
    def header_row(self) -> int:
        """The header's row number as Excel shows it (1 unless found lower or named)."""
        return self._layout.row

    @property
    def aliases(self) -> dict[str, str]:
        """The name a mapping gives the first of a numbered header -> that column's header:
        {"Phone (1)": "Phone"} where the file has "Phone" and "Phone (2)" (read from repeated
        headers, or a report of ours fed back, whose headers are the numbered ones)."""
        keys = {normalize_header(h) for h in self.headers}
        return {
            f"{h} (1)": h
            for h in self.headers
            if normalize_header(f"{h} (2)") in keys and normalize_header(f"{h} (1)") not in keys
        }

    def mapping_names(self) -> list[str]:
        """The headers as a mapping names them: a repeated header's first column as "Phone (1)"."""
        first = {header: alias for alias, header in self.aliases.items()}
        return [first.get(h, h) for h in self.headers]

    @property
    def duplicates(self) -> dict[str, tuple[str, ...]]:
        """Each header written more than once (normalised) -> the names a mapping gives its columns,
        each with its letter: {"phone": ("'Phone (1)' (column C)", "'Phone (2)' (column F)")}."""
        return {
            normalize_header(text): tuple(
                f"{quote(name if k else name + ' (1)')} (column {column_letter(pos)})"
                for k, (name, pos) in enumerate(zip(names, positions, strict=True))
            )
            for text, names, positions in self._layout.duplicates
        }

    def notes(self) -> list[str]:
        """What was read other than a plain table from row 1: the sheet of several, the header
        row found lower, headers written twice. One sentence each, for the summary."""
        out = []
        if (sheet := self.sheet_note()) is not None:
            out.append(f"sheet: {sheet}")
        if (header := passed_over_note(self.header_row)) is not None:
            out.append(header)
        for text, names, positions in self._layout.duplicates:
            letters = ", ".join(column_letter(p) for p in positions[:-1]) + f" and {column_letter(positions[-1])}"
            out.append(
                f"columns {letters} have the same header {quote(text.strip())}: read as "
                + ", ".join(quote(n) for n in names)
                + f"; a mapping names them {quote(names[0] + ' (1)')}, "
                + ", ".join(quote(n) for n in names[1:])
            )
        return out

    def sheet_note(self) -> str | None:
        """Which sheet was read when the workbook has several ("'Leads' was read, sheet 2 of 3 (...)"), else None.

        Sheets passed over because they are empty are said first ("sheet 'Sheet1' is empty; ...").
        """
        if len(self.sheets) < 2:
            return None
        names = [s.name for s in self.sheets]
        at = names.index(self.sheet) + 1 if self.sheet in names else 0
        listed = ", ".join(
            repr(s.name) + ("" if s.visibility == "visible" else f" ({s.visibility})") for s in self.sheets
        )
        empty = "".join(f"{name!r} is empty; " for name in self.empty_sheets)
        return f"{empty}{self.sheet!r} was read, sheet {at} of {len(names)} ({listed}); pick another with --sheet"

    def header_row_for(self, wanted: Sequence[str]) -> int | None:
        """The row among the first ones that holds more of the ``wanted`` columns (a mapping's) than
        the header row read, or None: for the message of a mapping the header lacks columns of."""
        return header_row_of(self.first_rows, wanted, self.header_row)

    def header_row_advice(self, row: int) -> str:
        """'the mapping's columns are in row 4, not in row 1 read as the header; pass --header-row 4 (...)'."""
        return (
            f"the mapping's columns are in row {row}, not in row {self.header_row} read as the header; "
            f"pass --header-row {row} (or write header_row: {row} in the mapping)"
        )

    def _probe(self) -> Iterator[Chunk]:
        """Small first chunks for the checks of open_source."""
        return self.chunks(rows=1000)


# long: every way of reading a CSV (chunks, preflight, probe, slices for workers) goes through one
