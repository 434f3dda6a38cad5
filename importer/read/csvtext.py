"""What a CSV's bytes say beyond its cells: lines in another encoding, runaway quotes, a misplaced header.

* **Mixed encodings.** A file that is UTF-8 but for a few lines pasted from a Windows program
  (Windows-1252) is read line by line: the lines that are not UTF-8 are decoded as Windows-1252
  and re-encoded, so the parser sees UTF-8 throughout (:func:`recode`, :class:`RecodedReader`)
  and their rows get a warning. Reading the whole file as Windows-1252 instead would turn every
  UTF-8 "é" into "Ã©" without a word. Only files that fail strict UTF-8 decoding take this path.
* **Runaway quotes.** A quote that opens a cell and is never closed (``"Ace Realty, LLC,...``)
  makes the parser read every following line into that one cell, silently. :func:`find_runaway`
  spots such cells among the parsed ones: a cell whose lines after the first read like records
  of this file (2 to width + 1 cells, shaped like the values the other rows hold in those
  columns, no prose after ", "). Those rows are the ones above the next such cell: the rows
  below a stray quote are out of step, and must not make a note above it look like rows.
  A quoted cell with line breaks (an address, a note of any length) is left alone. Only cells
  holding a line break are looked at.
* **Text encoded twice.** "JosÃ©" is "José" saved as UTF-8, read as Windows-1252 and saved
  as UTF-8 again, before the file reached us: valid text, so no decoding can tell.
  :func:`find_mojibake` finds the telltale pairs ("Ã©", "Â ", "â€™") and :func:`undo_mojibake`
  says what the text probably should read. Columns without a byte of those are passed over.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from importer.arrowtext import arrow_strings, buffers

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "FALLBACK_ENCODING",
    "MAX_CELL_LINE_BREAKS",
    "RecodedReader",
    "Runaway",
    "find_mojibake",
    "find_runaway",
    "line_of",
    "may_hold_mojibake",
    "mojibake_fragment",
    "recode",
    "scan_mixed",
    "unclosed_at_end",
    "undo_mojibake",
]

#: The encoding of the lines of a mostly UTF-8 file that are not UTF-8.
FALLBACK_ENCODING = "cp1252"
#: In a one-column file, more line breaks than this in one cell is not a note but a quote never closed.
MAX_CELL_LINE_BREAKS = 100
#: Lines of a cell after its first that read like records of the file before the cell counts as runaway.
RUNAWAY_RECORD_LINES = 2
#: Rows of a chunk whose cells show the shapes of each column's values.
PROFILE_ROWS = 1000
#: Values a column needs before a shape it does not have counts against a line.
RICH_COLUMN_VALUES = 5
_BLOCK = 8 << 20
_LF, _CR, _QUOTE = 10, 13, 34
_BREAK = re.compile(r"\r\n|\r|\n")


# ---- mixed encodings ----------------------------------------------------------------------------


def _bad_lines(data: bytes) -> tuple[list[tuple[int, int]], bool]:
    """(start, end) of each line of ``data`` that is not UTF-8, and whether the rest has non-ASCII text.

    Strict decoding stops at the first bad byte, so each pass costs only the bytes up to it.
    """
    bad: list[tuple[int, int]] = []
    nonascii = False
    view = memoryview(data)
    p, n = 0, len(data)
    while p < n:
        try:
            rest = str(view[p:], "utf-8")  # always decoded: it is the check
            nonascii = nonascii or not rest.isascii()
            break
        except UnicodeDecodeError as exc:
            e = p + exc.start
            start = max(p, data.rfind(b"\n", p, e) + 1, data.rfind(b"\r", p, e) + 1)
            end = _line_end(data, e)
            nonascii = nonascii or not data[p:start].isascii()
            bad.append((start, end))
            p = end
    return bad, nonascii


def _line_end(data: bytes, at: int) -> int:
    """Where the line holding byte ``at`` ends, past its break (LF, CR LF or a bare CR, as the parser reads them)."""
    found = [i for i in (data.find(b"\n", at), data.find(b"\r", at)) if i >= 0]
    if not found:
        return len(data)
    i = min(found)
    return i + 2 if data[i : i + 2] == b"\r\n" else i + 1


def _whole_lines_cut(data: bytes, final: bool) -> int:
    """The end of ``data``'s last whole line; a CR at its very end may pair with an LF still to come."""
    if final:
        return len(data)
    return max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1)) + 1


def recode(data: bytes) -> bytes:
    """``data`` (whole lines) as UTF-8: each line that is not UTF-8 decoded as Windows-1252."""
    bad, _ = _bad_lines(data)
    if not bad:
        return data
    out, p = [], 0
    for start, end in bad:
        out.append(data[p:start])
        out.append(data[start:end].decode(FALLBACK_ENCODING, errors="replace").encode("utf-8"))
        p = end
    out.append(data[p:])
    return b"".join(out)


def scan_mixed(path: Path) -> np.ndarray | None:
    """Row numbers of the lines that are not UTF-8, when the rest of the file has UTF-8 text; else None.

    A file with no UTF-8 beyond ASCII is a Windows-1252 file, read as such (None). Rows are
    records as the parser counts them: a line break inside a quoted cell does not end one.
    """
    rows: list[np.ndarray] = []
    nonascii = False
    records, parity, carry = 0, 0, b""
    with path.open("rb") as fh:
        while True:
            block = fh.read(_BLOCK)
            data = carry + block
            cut = _whole_lines_cut(data, not block)
            part, carry = data[:cut], data[cut:]
            bad, more = _bad_lines(part)
            nonascii = nonascii or more
            arr = np.frombuffer(part, dtype=np.uint8)
            # A bare CR ends a line too (old Mac files); a CR LF pair is one break, at its LF.
            after = np.append(arr[1:], np.uint8(0))
            breaks = np.flatnonzero((arr == _LF) | ((arr == _CR) & (after != _LF)))
            quotes = np.flatnonzero(arr == _QUOTE)
            ends = breaks[((parity + np.searchsorted(quotes, breaks)) & 1) == 0]
            if bad:
                starts = np.array([s for s, _ in bad], dtype=np.int64)
                rows.append(records + 1 + np.searchsorted(ends, starts))
            records += len(ends)
            parity = (parity + len(quotes)) & 1
            if not block:
                break
    if not nonascii or not rows:
        return None
    return np.unique(np.concatenate(rows))


class RecodedReader(io.RawIOBase):
    """A binary stream of a mixed file's bytes from ``start`` as UTF-8 (:func:`recode`, whole lines at a time)."""

    def __init__(self, path: Path, start: int = 0) -> None:
        super().__init__()
        self._fh = path.open("rb")
        self._fh.seek(start)
        self._out = b""
        self._carry = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        while not self._out and not self._eof:
            block = self._fh.read(_BLOCK)
            data = self._carry + block
            cut = _whole_lines_cut(data, not block)
            self._out, self._carry = recode(data[:cut]), data[cut:]
            self._eof = not block
        with memoryview(buffer) as view:  # io hands in a memoryview already: this only types it
            n = min(len(view), len(self._out))
            view[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


# ---- runaway quotes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Runaway:
    """A cell that holds what should have been many rows: its row, 0-based column, text, line breaks."""

    row: int
    column: int
    text: str
    breaks: int


# What a cell's first character is, for the shape of a value (see _shape).
_LETTER, _DIGIT, _SPACE = 1, 2, 3
_SHAPES = 16


def _has_break(arr: pa.Array | pa.ChunkedArray) -> bool:
    """Whether any cell holds a CR or LF: a byte search of the column's text buffer (cheap on clean columns)."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for chunk in chunks:
        data = buffers(chunk)[1].tobytes()
        if b"\n" in data or b"\r" in data:
            return True
    return False


def _shape(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A coarse shape of each value, 0..15: what it starts with (letter, digit, white space, other),
    whether it holds an "@" and whether it holds a digit. Names, e-mails, ZIPs, phones and states
    each keep to one or two shapes; a piece of prose after ", " starts with a space.

    Read from the UTF-8 bytes with numpy (a character beyond ASCII counts as a letter).
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    rel, data = buffers(values)
    start, end = rel[:-1], rel[1:]
    first = np.zeros(len(start), dtype=np.uint8)
    filled = end > start
    first[filled] = data[start[filled]]
    lower = first | 0x20
    kind = np.select(
        [((lower >= 97) & (lower <= 122)) | (first >= 0xC0), (first >= 48) & (first <= 57), _is_space(first)],
        [_LETTER, _DIGIT, _SPACE],
        0,
    )
    return kind * 4 + _holds(data, rel, (data == 64)) * 2 + _holds(data, rel, (data >= 48) & (data <= 57))


def _is_space(byte: np.ndarray) -> np.ndarray:
    return (byte == 32) | ((byte >= 9) & (byte <= 13))


def _holds(data: np.ndarray, rel: np.ndarray, hit: np.ndarray) -> np.ndarray:
    """1 for each value (byte ranges ``rel``) holding a byte where ``hit`` is set, else 0."""
    at = np.flatnonzero(hit)
    return (np.searchsorted(at, rel[1:]) > np.searchsorted(at, rel[:-1])).astype(np.int64)


def _flags(values: pa.Array | pa.ChunkedArray, pattern: str) -> np.ndarray:
    return np.asarray(pc.match_substring_regex(values, pattern).to_numpy(zero_copy_only=False), dtype=bool)


@dataclass(frozen=True)
class _Profile:
    """The shapes each column's values take in the rows around a cell (the file's own records)."""

    seen: np.ndarray  # bool [columns, _SHAPES]: a value of that shape is in the column
    rich: np.ndarray  # bool [columns]: enough values that a shape not seen counts against a line
    spaced: np.ndarray  # bool [columns]: most values start with white space (", " between cells)

    @classmethod
    def of(cls, columns: Sequence[pa.Array | pa.ChunkedArray], rows: np.ndarray, before: int | None = None) -> _Profile:
        """From up to :data:`PROFILE_ROWS` rows spread over the chunk (``before``: over its rows above
        that row): single-line, non-empty cells.

        Row 1 (the header) is left out: its cells are names, not values.
        """
        keep = rows != 1
        if before is not None:
            keep &= rows < before
        data = np.flatnonzero(keep)
        sample = pa.array(data[np.linspace(0, len(data) - 1, min(len(data), PROFILE_ROWS)).astype(np.int64)])
        counts = np.zeros((len(columns), _SHAPES), dtype=np.int64)
        for j, arr in enumerate(columns):
            values = arr.take(sample)
            ok = (pc.binary_length(values).to_numpy(zero_copy_only=False) > 0) & ~_flags(values, r"[\r\n]")
            if ok.any():
                counts[j] = np.bincount(_shape(values.filter(pa.array(ok))), minlength=_SHAPES)
        total = counts.sum(axis=1)
        # A majority, not any: the rows a stray quote leaves out of step can hold ", prose" cells.
        spaced = 2 * counts[:, _SPACE * 4 : _SPACE * 4 + 4].sum(axis=1) > total
        return cls(counts > 0, total >= RICH_COLUMN_VALUES, spaced)


def _swallowed(lines: pa.ListArray, column: int, width: int, delimiter: str, profile: _Lazy) -> np.ndarray:
    """Whether each cell of ``column`` (split into its lines) holds rows of the file.

    It does when :data:`RUNAWAY_RECORD_LINES` of its lines after the first read like records,
    or one does and so does its first line, as the rest of a record from ``column`` on (the
    stray quote's own row, with cells after the quote: one row swallowed). A line is a
    candidate when it splits into 2 to ``width`` + 1 cells (a record, a record without its
    trailing empty cells, or with a delimiter at its end); see :func:`_like_records`.
    """
    offsets = lines.offsets.to_numpy()
    offsets = offsets - offsets[0]
    sizes = np.diff(offsets)
    owner = np.repeat(np.arange(len(sizes)), sizes)
    flat = lines.flatten()
    cells = pc.count_substring(flat, delimiter).to_numpy(zero_copy_only=False) + 1
    first = np.zeros(len(flat), dtype=bool)
    first[offsets[:-1][sizes > 0]] = True
    shift = np.where(first, column, 0)  # a cell's first line is the rest of its own row
    candidate = (cells >= 2) & (cells <= width + 1 - shift)
    picked = _enough(candidate, first, owner, len(sizes))
    if len(picked) and not profile.get().spaced.any():
        # No column of the file starts with a space: a line with one after a delimiter is prose.
        text = flat.take(pa.array(picked))
        spaced = pc.match_substring(text, delimiter + " ").to_numpy(zero_copy_only=False)
        candidate[picked[spaced | pc.starts_with(text, " ").to_numpy(zero_copy_only=False)]] = False
        picked = _enough(candidate, first, owner, len(sizes))
    like = np.zeros(len(flat), dtype=bool)
    if len(picked):
        text = flat.take(pa.array(picked))
        like[picked] = _like_records(text, cells[picked], shift[picked], width, delimiter, profile.get())
    return np.isin(np.arange(len(sizes)), owner[_enough(like, first, owner, len(sizes))])


def _enough(lines: np.ndarray, first: np.ndarray, owner: np.ndarray, cells: int) -> np.ndarray:
    """Positions of the ``lines`` (a mask) of the cells that have enough of them (see :func:`_swallowed`)."""
    later = np.bincount(owner[lines & ~first], minlength=cells)
    opened = np.bincount(owner[lines & first], minlength=cells) > 0
    keep = (later >= RUNAWAY_RECORD_LINES) | ((later >= 1) & opened)
    return np.flatnonzero(lines & keep[owner])


class _Lazy:
    """The profile of a chunk (or of its rows above ``before``), built the first time a cell needs it
    (most chunks never do)."""

    def __init__(
        self, columns: Sequence[pa.Array | pa.ChunkedArray], rows: np.ndarray, before: int | None = None
    ) -> None:
        self._args = (columns, rows, before)
        self._profile: _Profile | None = None

    def get(self) -> _Profile:
        if self._profile is None:
            self._profile = _Profile.of(*self._args)
        return self._profile


def _like_records(
    lines: pa.Array, cells: np.ndarray, shift: np.ndarray, width: int, delimiter: str, profile: _Profile
) -> np.ndarray:
    """Whether each line reads like a record of the file, from column ``shift`` on.

    It does when none of its cells starts with white space where the column's values never do
    (prose: "no answer, left vm"), and two or more of its cells have shapes the column's values
    have and outnumber those that do not (a column with too few values to tell says nothing);
    with nothing to compare against, two filled cells and at least half the cells a record has
    from ``shift`` on do.
    """
    parts = pc.split_pattern(lines, delimiter)
    offsets = parts.offsets.to_numpy()
    offsets = offsets - offsets[0]
    values = parts.flatten()
    line = np.repeat(np.arange(len(lines)), np.diff(offsets))
    pos = np.arange(len(values)) - offsets[line] + shift[line]
    inside = pos < min(width, profile.seen.shape[0])
    col = np.where(inside, pos, 0)
    filled = pc.binary_length(values).to_numpy(zero_copy_only=False) > 0
    shape = _shape(values)
    seen = inside & profile.seen[col, shape]
    spaced = filled & (shape // 4 == _SPACE) & ~(inside & profile.spaced[col])
    n = len(lines)
    matched = np.bincount(line[filled & seen], minlength=n)
    against = np.bincount(line[filled & ~seen & inside & profile.rich[col]], minlength=n)
    unsure = np.bincount(line[filled & ~seen & ~(inside & profile.rich[col])], minlength=n)
    prose = np.bincount(line[spaced], minlength=n) > 0
    lo = np.maximum(2, -(-(width - shift) // 2))
    return ~prose & (
        ((matched >= 2) & (matched > against)) | ((matched + unsure >= 2) & (against == 0) & (cells >= lo))
    )


def find_runaway(
    columns: Sequence[pa.Array | pa.ChunkedArray], rows: np.ndarray, width: int, delimiter: str
) -> Runaway | None:
    """The first cell (lowest row) that swallowed other rows, if any.

    In a file of two columns or more a cell is runaway when it holds rows of the file read as
    text (:func:`_swallowed`), however many lines it has; a note of prose is not, however long.
    In a one-column file a line cannot be told from a row, so only a cell of more than
    :data:`MAX_CELL_LINE_BREAKS` line breaks is. Only cells holding a line break are looked at;
    columns without one are passed over by a byte search.

    The rows below a stray quote are out of step (a note's lines read as rows, ", prose" in the
    columns of names), so the whole chunk's values can make a note above it read like rows.
    Each cell found so is judged again by the rows above the next one found, in row order:
    were that next one the stray quote, those would be the rows still in step.
    """
    profile = _Lazy(columns, rows)
    found: list[tuple[np.ndarray, int, pa.ListArray, pa.Array]] = []
    for j, arr in enumerate(columns):
        if not len(arr) or not _has_break(arr):
            continue
        hit = np.flatnonzero(_flags(arr, r"[\r\n]"))
        cells = arr.take(pa.array(hit))
        if isinstance(cells, pa.ChunkedArray):
            cells = cells.combine_chunks()
        lines = pc.split_pattern_regex(cells, _BREAK.pattern)
        if width >= 2:
            bad = _swallowed(lines, j, width, delimiter, profile)
        else:
            bad = np.diff(lines.offsets.to_numpy()) - 1 > MAX_CELL_LINE_BREAKS
        if bad.any():
            found.append((rows[hit][bad], j, lines.filter(pa.array(bad)), cells.filter(pa.array(bad))))
    if not found:
        return None
    at = np.concatenate([r for r, *_ in found])
    column = np.concatenate([np.full(len(r), j) for r, j, *_ in found])
    index = np.concatenate([np.arange(len(r)) for r, *_ in found])
    part = {j: (lines, cells) for _, j, lines, cells in found}
    starts = np.unique(at)
    for k in np.lexsort((column, at)):  # by row, then column
        row, j, i = int(at[k]), int(column[k]), int(index[k])
        lines, cells = part[j]
        after = int(np.searchsorted(starts, row, side="right"))
        if width >= 2 and after < len(starts):
            before = _Lazy(columns, rows, int(starts[after]))
            if not _swallowed(lines.slice(i, 1), j, width, delimiter, before)[0]:
                continue
        text = str(cells[i].as_py())
        return Runaway(row, j, text, len(_BREAK.findall(text)))
    return None


def unclosed_at_end(cells: Sequence[str], row: int, tail: str) -> Runaway | None:
    """The last record's cell that a quote still open at the end of the file ran into, if any.

    ``tail``: the file's last characters. Such a cell is the record's last non-empty one, holds
    a line break, and runs to the end of the file: the file ends with the cell's own last
    characters, not with the quote that would have closed it (nor with a delimiter after it).
    """
    filled = [j for j, c in enumerate(cells) if c != ""]
    if not filled:
        return None
    j = filled[-1]
    text = cells[j]
    end = tail.rstrip("\r\n\t ")
    if not _BREAK.search(text) or end.endswith('"') or not end.endswith(text.rstrip("\r\n\t ")[-16:]):
        return None
    return Runaway(row, j, text, len(_BREAK.findall(text)))


def line_of(path: Path, encoding: str, text: str) -> int | None:
    """The line of the file where the cell ``text`` opens with a quote (None if not found).

    Only on the error path: the file is read through once, in blocks. The cell keeps the file's
    own line breaks, so its first 200 characters after a quote are found as they are.
    """
    if encoding.startswith("utf-16"):
        return None
    needle = ('"' + text[:200]).encode(encoding, errors="replace")
    lines, tail = 1, b""
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            data = tail + block
            at = data.find(needle)
            if at >= 0:
                return lines + _breaks(data, at)
            keep = min(len(data), len(needle) - 1)
            if keep < len(data) and data[len(data) - keep - 1 : len(data) - keep + 1] == b"\r\n":
                keep += 1  # a CR LF pair is counted once, in one block
            lines += _breaks(data, len(data) - keep)
            tail = data[len(data) - keep :]
    return None


def _breaks(data: bytes, end: int) -> int:
    """Line breaks (LF, CR LF, bare CR) in ``data[:end]``."""
    return data.count(b"\n", 0, end) + data.count(b"\r", 0, end) - data.count(b"\r\n", 0, end)


# ---- text encoded twice -------------------------------------------------------------------------

# What the bytes 0x80-0xBF (a UTF-8 character's continuation bytes) read as in Windows-1252, or
# in Latin-1 where Windows-1252 leaves them undefined.
_CONTINUATION = "\x80-\xbf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
# A lead byte and its continuation read that way: Â/Ã (Latin-1 letters: é -> Ã©, a no-break
# space -> Â + no-break space), Ä/Å (č, ł, š, ő), and â€ (’ “ ” – — … •). Those capitals are
# followed by letters in real text, never by these signs.
_MOJIBAKE = f"[ÂÃÄÅ][{_CONTINUATION}]|â€"
_MOJIBAKE_RE = re.compile(_MOJIBAKE)
_MOJIBAKE_BYTES = re.compile(b"\xc3[\x82-\x85]|\xc3\xa2\xe2\x82\xac")  # Â Ã Ä Å, â€ in UTF-8
_C1 = frozenset("\x81\x8d\x8f\x90\x9d")  # undefined in Windows-1252: kept as Latin-1 reads them
_SEQUENCE = re.compile(f"[\xc2-\xdf][{_CONTINUATION}]|[\xe0-\xef][{_CONTINUATION}]{{2}}")


def may_hold_mojibake(text: str) -> bool:
    """Whether ``text`` holds a character that starts a double-encoded one (Â Ã Ä Å, or â€):
    a quick look over a whole file, before :func:`find_mojibake` looks per cell."""
    return not text.isascii() and ("â€" in text or any(c in text for c in "ÂÃÄÅ"))


def find_mojibake(values: pd.Series) -> np.ndarray:
    """Bool mask of the cells that hold UTF-8 text read as Windows-1252 ("JosÃ©").

    Arrow strings: a column with no byte of 0xC3 or above (ASCII, most of a list) costs one
    ``max`` over its bytes, one with accents a byte search; the pattern runs only where that hits.
    """
    arr = arrow_strings(values)
    if arr is None:
        text = values.fillna("").astype("str")
        return text.str.contains(_MOJIBAKE, regex=True).to_numpy(dtype=bool)
    data = buffers(arr)[1]
    if not data.size or data.max() < 0xC3 or not _MOJIBAKE_BYTES.search(data.tobytes()):
        return np.zeros(len(arr), dtype=bool)
    return _flags(arr, _MOJIBAKE)


def undo_mojibake(text: str) -> str:
    """``text`` with each character that UTF-8 read as Windows-1252 made of put back: "JosÃ©" -> "José"."""

    def fix(m: re.Match[str]) -> str:
        raw = b"".join(c.encode("cp1252") if c not in _C1 else c.encode("latin-1") for c in m.group())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return m.group()

    return _SEQUENCE.sub(fix, text)


def mojibake_fragment(text: str, width: int = 40) -> tuple[str, str]:
    """(the first double-encoded part of ``text`` with some context, what it probably should read),
    each at most about ``width`` characters, for a message."""
    m = _MOJIBAKE_RE.search(text)
    start = max(0, (m.start() if m else 0) - width // 3)
    part = text[start : start + width]
    lead, tail = ("…" if start else ""), ("…" if start + width < len(text) else "")
    return lead + part + tail, lead + undo_mojibake(part) + tail
