"""Delimited text (.csv, .tsv, .txt): encoding and delimiter detection, and streaming the rows.

CSV is parsed by pyarrow's streaming reader (about 4x faster than pandas' C
engine, with bounded memory). Rows with the wrong number of cells are handed
to pyarrow's ``invalid_row_handler`` (rare, so a Python call each is fine),
repaired with the ``csv`` module and put back in place by their record number.
For parallel dry runs a CSV is also handed out as byte pieces cut at record ends
(:meth:`CsvSource.slices`, :mod:`importer.read.byteranges`) that workers parse themselves.

Why one module: opening a CSV and reading it are one contract: what :func:`open_csv` detects (encoding,
mixed-encoding rows, delimiter, quoting, the header's length) becomes the settings every read through
:class:`CsvSource` depends on; what stands alone is in :mod:`importer.read.byteranges` and
:mod:`importer.read.csvtext`.
"""

from __future__ import annotations

import codecs
import csv
import io
import queue
import re
import sys
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from importer.errors import LoadError
from importer.problems import WARNING, concat_problems, empty_problems, make_problems
from importer.read.base import Chunk, Layout, Source, clip, column_letter, finish_chunk, make_layout
from importer.read.byteranges import CUTTABLE_ENCODINGS, CsvPiece, cut_csv
from importer.read.csvtext import (
    FALLBACK_ENCODING,
    RecodedReader,
    Runaway,
    find_runaway,
    line_of,
    may_hold_mojibake,
    recode,
    scan_mixed,
    unclosed_at_end,
)
from importer.read.header import SCAN_ROWS, detect_header_row
from importer.read.workbook import OLE2_MAGIC, ZIP_MAGIC

__all__ = ["QUOTES", "CsvSource", "open_csv"]

QUOTES = ("standard", "none")
#: --quotes -> csv.reader's quoting (typed as the literals its stub takes: 0 QUOTE_MINIMAL, 3 QUOTE_NONE)
_CSV_QUOTING: dict[str, Literal[0, 3]] = {"standard": csv.QUOTE_MINIMAL, "none": csv.QUOTE_NONE}
_STRADDLE = "straddling object"  # pyarrow's words for a record longer than its block
_DELIMITERS = (",", "\t", ";", "|")
_SNIFF_BYTES = 64 * 1024
_MAX_HEADER_BYTES = 16 << 20
_SCAN_BLOCK = 8 << 20
_CSV_BLOCK = 4 << 20
# Bytes that never occur in Windows-1252 text: C0 controls other than tab/LF/CR/VT/FF/EOF,
# and the five code points cp1252 leaves undefined.
_NOT_CP1252 = re.compile(rb"[\x00-\x08\x0e-\x19\x1b-\x1f\x81\x8d\x8f\x90\x9d]")


def _ragged_problems(rows: pd.Index, counts: np.ndarray, width: int) -> pd.DataFrame:
    """Problems for rows with too many / too few cells (counts aligned with rows)."""
    counts = np.asarray(counts)
    out = []
    many = counts > width
    if many.any():
        n = pd.Series(counts[many]).astype(str).to_numpy()
        out.append(
            make_problems(
                rows[many],
                code="row.too_many_cells",
                message=pd.Series(
                    "row has " + n + f" cells but the header row has {width} cells; the cells after "
                    f"column {column_letter(width - 1)} were ignored (quote values that contain the "
                    "delimiter)"
                ),
            )
        )
    few = counts < width
    if few.any():
        n = pd.Series(counts[few]).astype(str).to_numpy()
        out.append(
            make_problems(
                rows[few],
                code="row.too_few_cells",
                message=pd.Series(
                    "row has only " + n + f" cells but the header row has {width} cells; the missing "
                    "cells were read as empty",
                ),
                severity=WARNING,
            )
        )
    return concat_problems(out)


# The csv module refuses cells over 128 KiB (a process-wide limit): raised, never lowered, so that a
# big cell in a ragged row, or a quote that swallowed the rest of the file, is read and then judged.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))


def _csv_records(path: Path, text: str, delimiter: str, quotes: str) -> list[list[str]]:
    """``text`` parsed with the csv module; any line break (CR, LF, CR LF) ends a record outside quotes."""
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=_CSV_QUOTING[quotes]))
    except csv.Error as exc:  # pragma: no cover - universal newlines leave the csv module nothing to refuse
        raise LoadError(f"{path}: cannot be read as CSV ({exc}); save it again as CSV UTF-8") from exc


class _RecordTooLong(LoadError):
    """A record longer than the probe's small block: read again with the normal one."""


@dataclass(frozen=True)
class _CsvOptions:
    quotes: str = "standard"  # "none": quotes are plain characters
    probe_block: int = _SNIFF_BYTES
    mixed_rows: np.ndarray | None = None  # rows read as Windows-1252 in a mostly UTF-8 file
    twice: bool = True  # the text may hold characters encoded twice ("JosÃ©"): look for them per column


# long: every way of reading a CSV (chunks, preflight, probe, slices for workers) goes through one
# pyarrow reader and one repair of ragged and runaway-quote rows, which share the file's settings.
class CsvSource(Source):
    def __init__(self, path: Path, layout: Layout, encoding: str, delimiter: str, options: _CsvOptions) -> None:
        super().__init__(path, "csv", layout)
        self.encoding = encoding
        self.delimiter = delimiter
        self.quotes = options.quotes
        self._options = options
        self._tail: str | None = None

    def chunks(
        self, rows: int = 50_000, *, first_rows: int | None = None, read_ahead: bool = True
    ) -> Generator[Chunk, None, None]:
        chunks = self._chunks(rows, _CSV_BLOCK, first_rows)
        return _read_ahead(chunks) if read_ahead else chunks

    def preflight(self) -> None:
        # Parsing the file once costs little next to sending its rows, which take far longer.
        for _ in self._chunks(100_000, _CSV_BLOCK):
            pass

    def _probe(self) -> Iterator[Chunk]:
        # Small blocks: pyarrow parses (and checks) a block at once. A block must hold a whole
        # record, so a long header or a big cell early on gets a bigger one.
        try:
            yield from self._chunks(1000, self._options.probe_block)
        except _RecordTooLong:
            yield from self._chunks(1000, _CSV_BLOCK)

    def slices(self, rows: int, *, parsed_rows: int | None = None) -> Iterator[CsvPiece | Chunk]:
        """The data rows as pieces of ``rows`` records that workers parse themselves (:meth:`read_slice`).

        The file is cut at record ends found from its bytes (:mod:`importer.read.byteranges`); where it
        cannot be (UTF-16, a stray quote, a bare CR), the rest comes as chunks of ``parsed_rows``
        (default ``rows``) parsed here.
        """
        parsed_rows = parsed_rows or rows
        if self.encoding not in CUTTABLE_ENCODINGS:
            yield from self._chunks(parsed_rows, _CSV_BLOCK)
            return
        for piece in cut_csv(self.path, str(self.delimiter), rows, quoting=self.quotes != "none"):
            if piece.cut:
                yield piece
            else:
                yield from self._chunks(parsed_rows, _CSV_BLOCK, start=piece.start, first_record=piece.first_record)

    def read_slice(self, piece: CsvPiece) -> Chunk | None:
        """Parse one piece of :meth:`slices` (None when its rows are all blank)."""
        return next(
            self._chunks(sys.maxsize, _CSV_BLOCK, start=piece.start, end=piece.end, first_record=piece.first_record),
            None,
        )

    def _reader(self, source: Any, block_size: int, on_invalid: Any) -> Any:
        names = [str(i) for i in range(self._layout.raw_width)]
        return pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(
                column_names=names,
                encoding=self._arrow_encoding(),
                use_threads=False,
                block_size=block_size,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=self.delimiter,
                quote_char=False if self.quotes == "none" else '"',
                double_quote=True,
                newlines_in_values=self.quotes != "none",
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )

    def _chunks(
        self,
        rows: int,
        block_size: int,
        first_rows: int | None = None,
        *,
        start: int = 0,
        end: int | None = None,
        first_record: int = 1,
    ) -> Generator[Chunk, None, None]:
        """Parse records from byte ``start`` (record ``first_record``) to ``end`` in chunks of ``rows``."""
        invalid: list[tuple[int, str]] = []

        def on_invalid(row: Any) -> str:
            # Called for each row whose cell count differs from the header's: keep it for repair.
            if row.number is None:  # pragma: no cover - only with parallel parsing, which we do not use
                return "error"
            invalid.append((row.number + first_record - 1, row.text))
            return "skip"

        reader = self._open_reader(start, end, block_size, first_record, on_invalid)
        next_row = first_record  # from the start of the file, the header is record 1, parsed like any row
        limit = first_rows or rows
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        at_end = end is None
        try:
            for batch in reader:
                pending.append(batch)
                pending_rows += batch.num_rows
                while pending_rows >= limit:
                    table = pa.Table.from_batches(pending)
                    head, rest = table.slice(0, limit), table.slice(limit)
                    pending, pending_rows = rest.to_batches(), rest.num_rows
                    limit = rows
                    chunk, next_row = self._chunk(head, next_row, invalid, final=False)
                    if chunk is not None:
                        yield chunk
                if len(invalid) >= rows:  # mostly ragged rows: flush so memory and probes stay small
                    table = pa.Table.from_batches(pending, schema=reader.schema)
                    pending, pending_rows = [], 0
                    chunk, next_row = self._chunk(table, next_row, invalid, final=False)
                    if chunk is not None:
                        yield chunk
            table = pa.Table.from_batches(pending, schema=reader.schema)
            chunk, next_row = self._chunk(table, next_row, invalid, final=True, at_end=at_end)
            if chunk is not None:
                yield chunk
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if _STRADDLE in str(exc):
                # Every record before the one too long for a block was parsed and handed over.
                raise self._too_long(next_row + pending_rows + len(invalid), block_size) from exc
            raise LoadError(
                f"{self.path}: cannot be read as CSV near row {next_row} ({exc}); "
                "check the quoting there or save the file again as CSV UTF-8"
            ) from exc

    def _open_reader(self, start: int, end: int | None, block_size: int, first_record: int, on_invalid: Any) -> Any:
        """A pyarrow CSV reader of the bytes ``start`` to ``end``; LoadError when it cannot start."""
        source = self._input(start, end)
        try:
            return self._reader(source, block_size, on_invalid)
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
            if not isinstance(source, Path):
                source.close()
            if _STRADDLE in str(exc):
                raise self._too_long(first_record, block_size) from exc
            raise LoadError(f"{self.path}: cannot be read as CSV ({exc}); save it again as CSV UTF-8") from exc

    def _too_long(self, row: int, block_size: int) -> LoadError:
        if block_size < _CSV_BLOCK:
            return _RecordTooLong(str(row))
        return LoadError(
            f"{self.path}: row {row} is longer than {block_size / 2**20:g} MiB: a quote there (or soon after) "
            f"probably opens a cell and is never closed, so the rest of the file runs into it; close the quote, "
            f"or pass --quotes none to read quotes as plain characters"
        )

    def _input(self, start: int, end: int | None) -> Any:
        """What pyarrow reads: the file, or its bytes from ``start`` (to ``end``); recoded if mixed."""
        mixed = self._options.mixed_rows is not None
        if end is not None:  # a worker's piece: read whole, parsed from memory
            with open(self.path, "rb") as fh:
                fh.seek(start)
                data = fh.read(end - start)
            return pa.BufferReader(recode(data) if mixed else data)
        if mixed:
            return io.BufferedReader(RecodedReader(self.path, start), buffer_size=1 << 20)
        if not start:
            return self.path
        stream = pa.OSFile(str(self.path))
        stream.seek(start)
        return stream

    def _arrow_encoding(self) -> str:
        return "utf8" if self.encoding in ("utf-8", "utf-8-sig") else str(self.encoding)

    def _chunk(
        self, table: pa.Table, next_row: int, invalid: list[tuple[int, str]], *, final: bool, at_end: bool = False
    ) -> tuple[Chunk | None, int]:
        """Number the parsed rows (skipping records pyarrow set aside), splice the repaired ones in.

        ``at_end``: the table's last record is the file's last, where a quote still open shows.
        """
        m = table.num_rows
        skipped = np.array(sorted(n for n, _ in invalid), dtype=np.int64)
        span = np.arange(next_row, next_row + m + len(skipped), dtype=np.int64)
        numbers = span[~np.isin(span, skipped)][:m]
        last = int(numbers[-1]) if m else next_row - 1
        if final and invalid:
            last = max(last, int(skipped.max()))
        taken = set(skipped.tolist())
        while last + 1 in taken:  # set-aside rows right after the last parsed one come before any later row
            last += 1
        mine = [(n, t) for n, t in invalid if n <= last]
        invalid[:] = [(n, t) for n, t in invalid if n > last]
        table = table.combine_chunks()  # one Arrow chunk per column: kernels need no copy later
        columns: list[pa.Array | pa.ChunkedArray] = [c.combine_chunks() for c in table.columns]
        raw = table.to_pandas()
        raw.columns = range(self._layout.raw_width)
        raw.index = pd.Index(numbers)
        found = [self._recoded_problems(numbers)]
        rows = numbers
        if mine:
            fixed, problems = self._repair(mine)
            # Checked with the rest: a runaway row is often one of these, and the others show what rows look like.
            columns = [
                pa.chunked_array([c.cast(pa.large_string()), pa.array(fixed[j], type=pa.large_string())])
                for c, j in zip(columns, fixed.columns, strict=True)
            ]
            rows = np.concatenate([numbers, fixed.index.to_numpy(dtype=np.int64)])
            raw = pd.concat([raw, fixed]).sort_index()
            found.append(problems)
        self._check_quotes(columns, rows)
        if at_end and len(raw):
            self._check_end(raw)
        if len(raw) and raw.index[0] <= self.header_row:  # the header and the rows above it
            raw = raw.loc[raw.index > self.header_row]
        if not len(raw):
            return None, last + 1
        chunk = finish_chunk(self.path, self._layout, raw, None, concat_problems(found), twice=self._options.twice)
        return chunk, last + 1

    def _check_quotes(self, columns: list[pa.Array | pa.ChunkedArray], rows: np.ndarray) -> None:
        """LoadError when a cell swallowed other rows (a quote never closed); see importer.read.csvtext."""
        if self.quotes == "none" or not len(rows):
            return
        runaway = find_runaway(columns, rows, self._layout.raw_width, str(self.delimiter))
        if runaway is not None:
            raise self._runaway_error(runaway)

    def _check_end(self, raw: pd.DataFrame) -> None:
        if self.quotes == "none":
            return
        if self._tail is None:
            with open(self.path, "rb") as fh:
                fh.seek(max(0, self.path.stat().st_size - 64))
                tail = fh.read()
            mixed = self._options.mixed_rows is not None
            self._tail = codecs.decode(tail, "utf-8" if mixed else str(self.encoding), errors="ignore")
        row = int(raw.index[-1])
        runaway = unclosed_at_end([str(c) for c in raw.iloc[-1].tolist()], row, self._tail)
        if runaway is not None:
            raise self._runaway_error(runaway)

    def _runaway_error(self, runaway: Runaway) -> LoadError:
        row = runaway.row
        line = line_of(self.path, str(self.encoding), runaway.text)
        where = f"row {row}" + (f" (line {line} of the file)" if line is not None and line != row else "")
        preview = clip(runaway.text.split("\n", 1)[0].rstrip("\r"), 60)
        below = f"{runaway.breaks} lines below it were" if runaway.breaks != 1 else "the line below it was"
        return LoadError(
            f"{self.path}: {where}, column {column_letter(runaway.column)}: a quote opens the cell "
            f"\"{preview}\" and is not closed on its line, so {below} read into that one cell; "
            f"close the quote in row {row}, or pass --quotes none to read quotes as plain characters"
        )

    def _recoded_problems(self, rows: np.ndarray) -> pd.DataFrame:
        """Warnings for the rows of a mostly UTF-8 file that were read as Windows-1252."""
        recoded = self._options.mixed_rows
        if recoded is None or not len(rows):
            return empty_problems()
        hit = rows[np.isin(rows, recoded)]
        hit = hit[hit > self.header_row]
        if not len(hit):
            return empty_problems()
        return make_problems(
            pd.Index(hit),
            code="row.not_utf8",
            message=f"this row was not UTF-8 like the rest of the file, so it was read as Windows-1252 "
            f"({FALLBACK_ENCODING}); check its accented letters, or save the file again as CSV UTF-8",
            severity=WARNING,
        )

    def _repair(self, rows: list[tuple[int, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Parse the set-aside rows with the csv module; pad or cut them to the header's width."""
        width = self._layout.raw_width
        # One csv.reader pass over all set-aside rows: each text is one whole record.
        texts = "\n".join(t.replace("\r\n", "\n") if '"' not in t else t for _, t in rows)
        parsed = _csv_records(self.path, texts, str(self.delimiter), self.quotes)
        if len(parsed) != len(rows):  # pragma: no cover - defensive: fall back to one at a time
            parsed = [next(iter(_csv_records(self.path, t, str(self.delimiter), self.quotes)), []) for _, t in rows]
        numbers, cells, counts = [], [], []
        for (number, _), fields in zip(rows, parsed, strict=True):
            if not "".join(fields).strip():
                continue  # a blank or white-space-only line: skipped like any blank row
            if number <= self.header_row:
                continue  # a title or a note above the header (the header itself defines the width)
            numbers.append(number)
            counts.append(len(fields))
            cells.append((fields + [""] * width)[:width])
        index = pd.Index(numbers, dtype="int64")
        frame = pd.DataFrame(cells, index=index, columns=range(width), dtype="str")
        return frame, _ragged_problems(index, np.array(counts), width)


_DONE = object()


def _read_ahead(chunks: Generator[Chunk, None, None]) -> Generator[Chunk, None, None]:
    """Yield ``chunks`` while a background thread prepares the next one.

    pyarrow parses CSV with the GIL released, so on a machine with two cores the next chunk is
    read while the caller validates this one (measured ~1 s saved per million rows). At most
    one chunk waits ahead, so memory stays bounded. Errors (LoadError) reach the caller at the
    chunk where they happened; a caller that stops early stops the thread.
    """
    ready: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
        finally:
            chunks.close()

    worker = threading.Thread(target=produce, name="realeflow-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def open_csv(path: Path, encoding: str | None, quotes: str, header_row: int | None = None) -> Source:
    """Open a delimited text file; ``header_row`` (1-based) None: found (:mod:`importer.read.header`)."""
    head = _read_head(path)
    mixed, twice = None, True
    if encoding is None:
        if head.startswith(ZIP_MAGIC) or head.startswith(OLE2_MAGIC):
            kind = ".xlsx" if head.startswith(ZIP_MAGIC) else ".xls"
            raise LoadError(f"{path}: is an Excel workbook, not a text file; rename it to {kind} (or export it as CSV)")
        encoding, mixed, twice = _detect_encoding(path, head)
    else:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError as exc:
            raise LoadError(f"{path}: unknown encoding {encoding!r}; use e.g. utf-8 or cp1252") from exc
        _check_decodes(path, encoding)
    if len(head) >= _MAX_HEADER_BYTES and not _has_line_break(head):
        raise LoadError(
            f"{path}: row 1 is longer than {_MAX_HEADER_BYTES / 2**20:g} MiB, so it is no header row; "
            "check that this is a list with the column headers in row 1"
        )
    text = _decode_head(recode(head) if mixed is not None else head, "utf-8" if mixed is not None else encoding)
    delimiter = _sniff_delimiter(text, tsv=path.suffix.lower() == ".tsv", quotes=quotes)
    records = _csv_records(path, _whole_lines(text), delimiter, quotes)
    first = records[: max(SCAN_ROWS, header_row or 0)]
    row = header_row or detect_header_row(first)
    if row > len(records):
        raise LoadError(
            f"{path}: --header-row {row} is past the rows read from the top of the file ({len(records)}); "
            "give the row the column headers are in"
        )
    layout = make_layout(path, records[row - 1] if records else [], row=row)
    longest = max((len(line) for line in head.split(b"\n")[:row]), default=0)
    options = _CsvOptions(quotes, max(_SNIFF_BYTES, 4 * longest), mixed, twice)
    source = CsvSource(path, layout, encoding, delimiter, options)
    source.first_rows = first
    return source


def _read_head(path: Path) -> bytes:
    """The file's first 64 KiB, or more: up to twice the length of its first line (at most 16 MiB)."""
    size = _SNIFF_BYTES
    try:
        with path.open("rb") as f:
            head = f.read(size)
            while len(head) == size < _MAX_HEADER_BYTES and not _has_line_break(head[: size // 2]):
                head += f.read(size)
                size *= 2
    except OSError as exc:
        raise LoadError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from exc
    return head


def _has_line_break(data: bytes) -> bool:
    return b"\n" in data or b"\r" in data


def _whole_lines(text: str) -> str:
    """``text`` without its last line when that may be cut by the end of the sniffed bytes."""
    lines = text.splitlines(keepends=True)
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]
    return "".join(lines)


def _detect_encoding(path: Path, head: bytes) -> tuple[str, np.ndarray | None, bool]:
    """(encoding, rows read as Windows-1252 in a mostly UTF-8 file or None, whether the text may
    hold characters encoded twice: known only for UTF-8, from the pass that checks it).

    UTF-16 by BOM; else strict UTF-8 over the whole file; else, when every byte is possible in
    Windows-1252: a file with UTF-8 text is read line by line (its other lines as Windows-1252,
    see importer.read.csvtext), one without as Windows-1252.
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _check_decodes(path, "utf-16")
        return "utf-16", None, True
    bad_utf8, twice = _first_bad_utf8(path)
    if bad_utf8 is None:
        return ("utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"), None, twice
    bad_1252 = _first_match(path, _NOT_CP1252)
    if bad_1252 is None:
        mixed = scan_mixed(path)
        if mixed is not None:
            return ("utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"), mixed, True
        return "cp1252", None, True
    offset, byte = bad_1252
    raise LoadError(
        f"{path}: cannot be read as text: byte 0x{byte:02X} at offset {offset} is neither UTF-8 nor "
        f"Windows-1252 (the first invalid UTF-8 byte is at offset {bad_utf8}), so this looks like a "
        "binary file; export the data as CSV UTF-8, or pass the file's encoding"
    )


def _first_bad_utf8(path: Path) -> tuple[int | None, bool]:
    """(file offset of the first byte that is not valid UTF-8 (or a NUL), whether the text before
    it may hold characters encoded twice), streamed in blocks. The text decoded anyway tells the
    second at no cost for ASCII (``str.isascii`` is O(1)), a few character searches for the rest.
    """
    carry, base, twice, last = b"", 0, False, ""
    with path.open("rb") as f:
        while block := f.read(_SCAN_BLOCK):
            data = carry + block
            nul = data.find(b"\x00")
            try:
                text = data.decode("utf-8")
                carry = b""
            except UnicodeDecodeError as exc:
                if exc.reason == "unexpected end of data" and exc.end == len(data) and (nul < 0 or nul > exc.start):
                    carry = data[exc.start :]  # a character cut by the block boundary
                    data = data[: exc.start]
                    text = data.decode("utf-8")
                else:
                    return base + (min(exc.start, nul) if nul >= 0 else exc.start), True
            if nul >= 0:
                return base + nul, True
            twice = twice or may_hold_mojibake(last + text)
            last = text[-1:]
            base += len(data)
    return (base if carry else None), twice


def _first_match(path: Path, pattern: re.Pattern[bytes]) -> tuple[int, int] | None:
    base = 0
    with path.open("rb") as f:
        while block := f.read(_SCAN_BLOCK):
            m = pattern.search(block)
            if m:
                return base + m.start(), block[m.start()]
            base += len(block)
    return None


def _check_decodes(path: Path, encoding: str) -> None:
    """Decode the whole file strictly with ``encoding`` (streamed); LoadError at the first bad byte."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    base = 0
    with path.open("rb") as f:
        while True:
            block = f.read(_SCAN_BLOCK)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                raise LoadError(
                    f"{path}: cannot be decoded as {encoding}: bad byte near offset {base + max(exc.start, 0)}; "
                    "pass the file's real encoding or export it as CSV UTF-8"
                ) from exc
            if not block:
                return
            base += len(block)


def _decode_head(head: bytes, encoding: str) -> str:
    text = head.decode(encoding, errors="ignore")
    return text.lstrip("\ufeff")


def _sniff_delimiter(text: str, *, tsv: bool, quotes: str = "standard") -> str:
    """Pick the delimiter whose per-record count (quotes respected) is steady and > 0 in the header.

    The header is the first record; when no delimiter splits it (a title or notes above the table
    hold none), the first record that one splits in two cells or more.
    """
    sample = "".join(_whole_lines(text).splitlines(keepends=True)[:200])  # the last line may be cut
    counts: list[tuple[int, str, list[int]]] = []
    for rank, d in enumerate(_DELIMITERS):
        try:
            records = csv.reader(io.StringIO(sample, newline=""), delimiter=d, quoting=_CSV_QUOTING[quotes])
            counts.append((rank, d, [len(r) for r in records if r]))
        except csv.Error:  # pragma: no cover - universal newlines leave the csv module nothing to refuse
            continue
    best = _steadiest(counts, lead=False) or _steadiest(counts, lead=True)
    return best or ("\t" if tsv else ",")


def _steadiest(counts: list[tuple[int, str, list[int]]], *, lead: bool) -> str | None:
    """The delimiter whose records most often have as many cells as its header (``lead``: the first
    record of two cells or more, fewer lines passed over first), or None when none splits it."""
    best, best_score = None, (0.0, 0, 0, 0)
    for rank, d, all_lens in counts:
        skip = next((i for i, n in enumerate(all_lens[:SCAN_ROWS]) if n >= 2), 0) if lead else 0
        lens = all_lens[skip:]
        if not lens or lens[0] < 2:
            continue
        steady = sum(n == lens[0] for n in lens) / len(lens)
        score = (steady, -skip, lens[0], -rank)
        if score > best_score:
            best, best_score = d, score
    return best
