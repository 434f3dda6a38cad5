"""Cutting a CSV into pieces at record ends from its bytes (importer.read.byteranges), and parsing the pieces apart.

The promise: the pieces hold every data record exactly once, in order, each piece
starting at a record's first byte with that record's number; where bytes alone
cannot tell (a stray quote, a bare CR), cutting stops at the last record end known
for sure and the rest is parsed in order, so a source read in pieces gives exactly
the chunks it gives read in one go.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.read.byteranges import CsvPiece, cut_csv
from importer.read.source import Chunk, open_source

# Cells with what makes CSV hard: delimiters, quotes, line breaks (LF and CR LF), non-ASCII text.
FIELD = st.lists(st.sampled_from(["a", "é", " ", ",", '"', "\n", "\r\n", ";", "1"]), max_size=6).map("".join)


def _records(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _write(path: Path, rows: list[list[str]], terminator: str = "\r\n", bom: bool = False) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator=terminator).writerows(rows)
    data = (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")
    path.write_bytes(data)
    return data


def _pieces_parsed(data: bytes, pieces: list[CsvPiece]) -> list[list[str]]:
    records: list[list[str]] = []
    for piece in pieces:
        records += _records(data[piece.start : piece.end])
    return records


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(FIELD, min_size=3, max_size=3), min_size=1, max_size=25),
    per_piece=st.integers(1, 4),
    block=st.integers(1, 40),
    terminator=st.sampled_from(["\r\n", "\n"]),
    bom=st.booleans(),
)
def test_pieces_hold_every_record_once_in_order(
    tmp_path: Path, rows: list[list[str]], per_piece: int, block: int, terminator: str, bom: bool
) -> None:
    path = tmp_path / "cut.csv"
    data = _write(path, [["First", "Last", "Phone"], *rows], terminator, bom)
    pieces = list(cut_csv(path, ",", per_piece, block_size=block))
    assert all(p.cut for p in pieces)  # csv.writer quotes by the rules: every record end is found
    assert _pieces_parsed(data, pieces) == _records(data)[1:]
    # Each piece starts where the one before ended, with the number of its first record.
    expected = 2
    for before, piece in zip([None, *pieces], pieces, strict=False):
        if before is not None:
            assert piece.start == before.end
        assert piece.first_record == expected
        expected += len(_records(data[piece.start : piece.end]))
    assert pieces[-1].end in (None, len(data))


def test_a_doubled_quote_and_a_line_break_across_a_block_boundary(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    data = _write(path, [["a", "b"], ['say ""hi""', "x"], ["line\none", 'q"'], ["3", "4"]])
    for block in range(1, len(data) + 1):
        pieces = list(cut_csv(path, ",", 1, block_size=block))
        assert [p.first_record for p in pieces] == [2, 3, 4] and all(p.cut for p in pieces)
        assert _pieces_parsed(data, pieces) == _records(data)[1:]


def test_a_stray_quote_stops_cutting_before_its_block(tmp_path: Path) -> None:
    path = tmp_path / "stray.csv"
    body = "Name,Height\r\n" + "".join(f"P{i},6 ft\r\n" for i in range(10)) + "Tall,5'10\"\r\n" + "Q,1\r\nR,2\r\n"
    path.write_text(body, encoding="utf-8")
    pieces = list(cut_csv(path, ",", 2, block_size=16))
    *cut, rest = pieces
    assert all(p.cut for p in cut) and not rest.cut and rest.end is None
    assert body.encode().index(b"Tall") >= rest.start  # the stray quote is in what is parsed in order
    assert _records(body.encode()[rest.start :])[0] == [f"P{rest.first_record - 2}", "6 ft"]


def test_a_bare_cr_stops_cutting(tmp_path: Path) -> None:
    path = tmp_path / "cr.csv"
    path.write_bytes(b"a,b\r\n1,2\r\n3,4\r5,6\r\n")
    assert list(cut_csv(path, ",", 1, block_size=1 << 20)) == [CsvPiece(0, None, 1, cut=False)]


def test_a_bom_inside_the_file_stops_cutting(tmp_path: Path) -> None:
    """Two exports joined with cat: the second's BOM stays in its cell, as when parsed in order."""
    path = tmp_path / "joined.csv"
    path.write_bytes(b"First,Last\r\nAnn,Lee\r\n\xef\xbb\xbfBob,Ray\r\nCy,Moe\r\n")
    pieces = list(cut_csv(path, ",", 1, block_size=4))
    assert not pieces[-1].cut and pieces[-1].start <= path.read_bytes().index(b"\xef\xbb\xbf")
    frame, _, _ = _in_pieces(path, 1)
    assert frame["First"].tolist() == ["Ann", "\ufeffBob", "Cy"] == _in_one_go(path, 1)[0]["First"].tolist()


def test_a_header_with_a_stray_quote_leaves_the_whole_file_in_order(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(b'a,b"c\r\n1,2\r\n')
    assert list(cut_csv(path, ",", 1)) == [CsvPiece(0, None, 1, cut=False)]


# -- the source read in pieces gives exactly what it gives in one go -----------------------------


def _in_pieces(path: Path, rows: int) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    source = open_source(path)
    frames, problems, parsed_here = [], [], 0
    for item in source.slices(rows):
        if isinstance(item, Chunk):
            parsed_here += 1
            chunk: Chunk | None = item
        else:
            chunk = source.read_slice(item)
        if chunk is not None:
            frames.append(chunk.frame)
            problems.append(chunk.problems)
    return pd.concat(frames), pd.concat(problems, ignore_index=True), parsed_here


def _in_one_go(path: Path, rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    chunks = list(open_source(path).chunks(rows))
    return pd.concat([c.frame for c in chunks]), pd.concat([c.problems for c in chunks], ignore_index=True)


def _messy(path: Path, *, encoding: str = "utf-8", stray: bool = False) -> None:
    lines = ["First Name,Last Name,Phone,Notes"]
    for i in range(60):
        if i == 7:
            lines.append("")  # a blank line: skipped, still counted
        if i == 20:
            lines.append(f"Ann{i},Lee,216555{i:04d},too,many,cells")  # ragged
        if i == 33:
            lines.append(f'Bo{i},"Ray\nJr",216555{i:04d},"said ""hi"""')  # a line break inside a cell
        if stray and i == 41:
            lines.append(f"Cy{i},Moe,216555{i:04d},5'10\"")
        lines.append(f"Dee{i},Señor,216555{i:04d},ok")
    path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")


@pytest.mark.parametrize(
    ("encoding", "stray", "parsed_here"),
    [("utf-8", False, 0), ("cp1252", False, 0), ("utf-8", True, 1), ("utf-16", False, 4)],
)
def test_source_in_pieces_equals_source_in_one_go(tmp_path: Path, encoding: str, stray: bool, parsed_here: int) -> None:
    path = tmp_path / "messy.csv"
    _messy(path, encoding=encoding, stray=stray)
    frame, problems, here = _in_pieces(path, 16)
    ref_frame, ref_problems = _in_one_go(path, 16)
    pd.testing.assert_frame_equal(frame, ref_frame)
    pd.testing.assert_frame_equal(problems, ref_problems)
    assert (here > 0) == (parsed_here > 0)  # UTF-16 and what follows a stray quote: parsed in order here
    assert 9 not in frame.index  # the blank line (file row 9) is left out
    assert problems["row"].tolist() == [23]  # the ragged row, numbered as the file numbers it
