"""Cut a CSV file into pieces at record ends by looking at its bytes, so pieces can be parsed apart.

A line break ends a record unless it is inside a quoted field, and in RFC 4180 a
field is quoted when its first byte is ``"``, a quote inside it is doubled, and
the closing quote comes right before a delimiter or line break. So the number of
quotes before a line break says whether it is inside a field: even, it ends a
record. That holds only while every quote is where RFC 4180 puts it: a stray
quote in an unquoted field (``5'10"``) is a literal to the parser but would
flip the count. Each quote that the count says opens a field is therefore
checked to start one (right after a delimiter, a line break, or the quote
before it); at the first that does not, at a bare CR (a line break to the
parser, not to the count), and at a UTF-8 BOM past the file's start (files
joined with ``cat``: pyarrow drops a BOM that starts its input, so a piece
starting there would lose it), cutting stops and the caller parses the rest
in order.

Only for encodings in which these bytes never occur inside another character
(UTF-8, Windows-1252, Latin-1, ASCII): not UTF-16. numpy does the counting: one
pass of a few vector operations per 4 MiB block, no Python loop over rows.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["CUTTABLE_ENCODINGS", "CsvPiece", "cut_csv"]

#: Encodings (codecs names) in which '"', LF and CR bytes are always those characters.
CUTTABLE_ENCODINGS = frozenset({"utf-8", "utf-8-sig", "cp1252", "iso8859-1", "ascii"})
_BLOCK = 4 << 20
_QUOTE, _LF, _CR = ord('"'), ord("\n"), ord("\r")


@dataclass(frozen=True)
class CsvPiece:
    """Bytes ``start`` to ``end`` (None: the end of the file) hold whole records from ``first_record`` on.

    Records are numbered from 1, the header's, as the spreadsheet numbers rows. ``cut``
    False: the bytes from ``start`` could not be cut further (see the module docstring)
    and must be parsed in order; it is then the last piece.
    """

    start: int
    end: int | None
    first_record: int
    cut: bool = True


def cut_csv(
    path: str | Path, delimiter: str, rows: int, *, block_size: int = _BLOCK, quoting: bool = True
) -> Iterator[CsvPiece]:
    """The data records of a CSV (the header record left out) in pieces of ``rows`` records each.

    ``quoting`` False: quotes are plain characters (``--quotes none``), every line break ends a record.
    """
    if rows < 1:
        raise ValueError("rows must be at least 1")
    delim = ord(delimiter)
    with open(path, "rb") as fh:
        base = 3 if fh.read(3) == codecs.BOM_UTF8 else 0
        fh.seek(base)
        parity = 0  # 1 while inside a quoted field
        prev = _LF  # the byte before the current block: the file starts a record
        start: int | None = None  # where the piece being cut starts (None: still in the header)
        record = 1
        need = 1  # record ends still wanted for the current piece (the header: one)
        tail = b""  # the last bytes of the block before (a BOM cut in two)
        while block := fh.read(block_size):
            if block[-1] == _CR:  # keep a CR LF pair together
                block += fh.read(1)
            if block.count(b"\r") != block.count(b"\r\n"):
                break  # a bare CR: a line break to the parser, which the count below does not see
            if codecs.BOM_UTF8 in tail + block:
                break  # a BOM inside (files joined with cat): the parser would drop it at a piece's start
            tail = block[-2:]
            found = _record_ends(block, parity, prev, delim, quoting)
            if found is None:
                break  # a quote the parser takes literally: counting no longer tells
            ends, parity = found
            prev = block[-1]
            used = 0
            while len(ends) - used >= need:
                used += need
                cut = base + int(ends[used - 1]) + 1
                if start is not None:
                    yield CsvPiece(start, cut, record)
                    record += rows
                else:
                    record = 2
                start, need = cut, rows
            need -= len(ends) - used
            base += len(block)
        else:
            if start is not None and start < base:
                yield CsvPiece(start, None, record)
            return
    if start is None:  # the header itself cannot be cut: the whole file, in order
        yield CsvPiece(0, None, 1, cut=False)
    else:
        yield CsvPiece(start, None, record, cut=False)


def _record_ends(block: bytes, parity: int, prev: int, delim: int, quoting: bool) -> tuple[np.ndarray, int] | None:
    """(offsets in ``block`` of the line feeds that end a record, the quote parity after it); None when a
    quote in it is one the parser takes literally. ``parity`` 1: the block starts inside a quoted field;
    ``prev``: the byte before it."""
    data = np.frombuffer(block, dtype=np.uint8)
    breaks = np.flatnonzero(data == _LF)
    if not (quoting and b'"' in block):
        return (breaks if parity == 0 else breaks[:0]), parity
    quotes = np.flatnonzero(data == _QUOTE)
    opening = quotes[((parity + np.arange(len(quotes))) & 1) == 0]
    before = data[np.maximum(opening - 1, 0)]
    if len(opening) and opening[0] == 0:
        before[0] = prev
    if not np.isin(before, (delim, _LF, _QUOTE)).all():
        return None
    ends = breaks[((parity + np.searchsorted(quotes, breaks)) & 1) == 0]
    return ends, (parity + len(quotes)) & 1
