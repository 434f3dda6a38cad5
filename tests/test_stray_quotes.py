"""Issue 12 item 2: a stray quote that swallows rows stops the load; a note, however long, does not.

The property test builds CSVs the way exports come: 2 to 8 columns of names, e-mails, phones,
ZIPs, states, streets, amounts and dates, rows that leave out their trailing empty cells or end
with a delimiter, notes in quotes that run over many lines of prose, any of four delimiters.
Into some it puts one stray quote at the start of a cell, closed by the next quote of the file
(an inch mark, the opening quote of a note) or by none. What it asserts is the promise of
README.md: two or more whole rows swallowed stop the load naming the stray quote's row and
column; a file without a stray quote is read whole. The limits it leaves out are the ones the
README lists (a stray quote swallowing a single row, swallowed rows of fewer than two cells, a
note whose lines, read as rows after it closes the stray quote, outnumber the rows in step).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from importer.errors import LoadError
from importer.read.source import column_letter, open_source
from importer.sandbox import SandboxServer
from tests.conftest import RunCli

MAPPING = Path(__file__).parent / "data" / "hostile" / "contacts.yaml"

FIRST = ["Ann", "Bob", "Cy", "Dee", "José", "Mary Ann", "Li", "O'Neil"]
LAST = ["Lee", "Stone", "Diaz", "Fox", "Nguyen", "Smith-Jones", "Ray"]
STREETS = ["Main St", "Elm Ave", "Oak Dr", "W 25th St", "Church Rd"]
CITIES = ["Springfield", "East Cleveland", "Akron", "St. Louis", "Dayton"]
STATES = ["OH", "PA", "TX", "MI", "NY"]
WORDS = ["called", "no answer", "left vm", "spoke to owner", "call back", "mailed", "returned", "bad addr",
         "wants", "offer", "on 1/5", "at 3pm", "motivated", "tenant", "roof", "needs work", "maybe", "$1200"]

KINDS = {
    "name": st.tuples(st.sampled_from(FIRST), st.sampled_from(LAST)).map(" ".join),
    "email": st.tuples(st.sampled_from(FIRST), st.sampled_from(LAST), st.sampled_from(["", "7", "63"])).map(
        lambda t: f"{t[0].lower().replace(' ', '')}.{t[1].lower()}{t[2]}@example.com"
    ),
    "phone": st.tuples(st.integers(200, 999), st.integers(0, 9999)).flatmap(
        lambda t: st.sampled_from([f"({t[0]}) 555-{t[1]:04d}", f"{t[0]}555{t[1]:04d}"])
    ),
    "zip": st.integers(501, 99950).map(lambda n: f"{n:05d}"),
    "state": st.sampled_from(STATES),
    "city": st.sampled_from(CITIES),
    "street": st.tuples(st.integers(1, 9999), st.sampled_from(STREETS)).map(lambda t: f"{t[0]} {t[1]}"),
    "amount": st.integers(1000, 900000).map(str),
    "date": st.dates().map(str),
    # Quoted where the delimiter is a comma: its opening quote closes a stray one.
    "address": st.tuples(st.integers(1, 9999), st.sampled_from(STREETS), st.sampled_from(CITIES)).map(
        lambda t: f"{t[0]} {t[1]}, {t[2]}, OH"
    ),
}


@dataclass
class Built:
    text: str
    rows: list[list[str]]  # the data rows' values, as meant
    stray: tuple[int, int] | None  # (row, 0-based column) of the stray quote
    swallowed: int  # whole lines between the stray quote and the next quote (or the end of the file)
    outnumbered: bool = False  # the rows read out of step after the stray quote outnumber those in step


@st.composite
def prose(draw: st.DrawFn) -> str:
    """A note of 2 to 150 lines: clauses joined the way people write them (", ", "; ", " - ")."""
    joiner = draw(st.sampled_from([", ", "; ", " - "]))
    line = st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join), min_size=1, max_size=4)
    lines = draw(st.lists(line.map(lambda c: joiner.join(c).capitalize()), min_size=2, max_size=150))
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines)


def cell(value: str, delimiter: str) -> str:
    if value.startswith("Tall"):
        return value  # a quote inside a cell, as broken exports write it: a character, not quoting
    if any(c in value for c in (delimiter, '"', "\n", "\r")):
        return '"' + value.replace('"', '""') + '"'
    return value


def swallowed(text: str, at: int) -> int:
    """Whole lines between the quote at ``at`` and the next quote, or the end of the file."""
    close = text.find('"', at + 1)
    between = text[at:] if close < 0 else text[at:close]
    breaks = len(re.findall(r"\r\n|\r|\n", between))
    return breaks if close < 0 else max(0, breaks - 1)


@st.composite
def files(draw: st.DrawFn, stray: bool) -> Built:
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(2, 8))
    kinds = ["name", *draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=width - 1, max_size=width - 1))]
    notes = draw(st.none() | st.integers(2, width - 1)) if width > 2 else None
    style = draw(st.sampled_from(["full", "ragged", "trailing"]))
    n = draw(st.integers(3, 30))
    values: list[list[str]] = []
    for _ in range(n):
        row = [draw(KINDS[k]) if i < 2 or draw(st.integers(0, 9)) < 7 else "" for i, k in enumerate(kinds)]
        if notes is not None:
            row[notes] = draw(st.sampled_from(["", "left vm", "call back"]) | prose())
        values.append(row)
    at = column = None
    if stray:
        at = draw(st.integers(0, n - 1))
        column = draw(st.sampled_from([j for j, v in enumerate(values[at]) if v and j != notes]))
        end = draw(st.integers(at + 1, n))  # the first row after the stray quote that may hold a quote
        for row in values[at:end]:
            if notes is not None:
                row[notes] = ""
        if end < n and draw(st.booleans()):
            values[end][1] = "Tall 5'10\""
    lines = [delimiter.join(f"Col {k} {i}" for i, k in enumerate(kinds))]
    for r, row in enumerate(values):
        cells = [cell(v, delimiter) for v in row]
        if r == at:
            cells[column] = '"' + row[column] + draw(st.sampled_from(["", delimiter + "LLC"]))  # type: ignore[index]
        if style == "ragged":
            while len(cells) > 1 and cells[-1] == "":
                cells.pop()
        lines.append(delimiter.join(cells) + (delimiter if style == "trailing" else ""))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(lines) + newline
    if at is None:
        return Built(text, values, None, 0)
    starts = list(accumulate((len(line) + len(newline) for line in lines), initial=0))
    quote_at = text.index('"', starts[at + 1])
    where = (at + 2, column)
    return Built(text, values, where, swallowed(text, quote_at), outnumbered(text, quote_at, at, starts, delimiter))  # type: ignore[arg-type]


def outnumbered(text: str, at: int, row: int, starts: list[int], delimiter: str) -> bool:
    """Whether a note's lines, read as rows once its opening quote closes the stray quote at ``at``
    (of data row ``row``), outnumber the rows read in step: those above the stray quote and below
    the note. Then the rows the quote swallowed are compared with the note's lines, and a file
    whose first row holds a note of pasted rows above rows of prose parses the same (README)."""
    close = text.find('"', at + 1)
    if close < 0 or text[close - 1] not in (delimiter, "\n", "\r"):
        return False  # no quote, or an inch mark: the rows below it are read in step
    end = text.find('"', close + 1)
    lines = len(re.findall(r"\r\n|\r|\n", text[close : end if end >= 0 else len(text)]))
    note_row = bisect_right(starts, close) - 2  # the data row holding the note (starts[0] is the header's)
    return lines > row + (len(starts) - 2 - note_row - 1)


def read(path: Path) -> pd.DataFrame:
    return pd.concat([c.frame for c in open_source(path).chunks(read_ahead=False)])


def written(tmp_path: Path, built: Built) -> Path:
    path = tmp_path / "built.csv"
    path.write_text(built.text, encoding="utf-8", newline="")
    return path


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(built=files(stray=True))
@pytest.mark.timeout(120)
def test_a_stray_quote_swallowing_two_rows_or_more_stops_the_load_at_its_row(tmp_path: Path, built: Built) -> None:
    assume(built.swallowed >= 2)  # fewer: not promised (README)
    assume(not built.outnumbered)  # cannot be told apart (README)
    row, column = built.stray  # type: ignore[misc]
    with pytest.raises(LoadError, match=f"row {row}(?: \\(line \\d+ of the file\\))?, column {column_letter(column)}:"):
        read(written(tmp_path, built))


@PROPERTY
@given(built=files(stray=False))
@pytest.mark.timeout(120)
def test_a_file_without_a_stray_quote_is_read_whole(tmp_path: Path, built: Built) -> None:
    frame = read(written(tmp_path, built))
    assert frame.iloc[:, 0].tolist() == [r[0] for r in built.rows]
    assert frame.iloc[:, -1].tolist() == [r[-1] for r in built.rows]


# -- the two stray quotes of the review, through the CLI: every reader, and push ------------------------


def ragged_stray(path: Path, rows: int, at: int, trailing: str = "") -> Path:
    """Rows that leave out their empty last cell (``trailing``: or end with a delimiter), a stray quote
    opening row ``at``, closed by an inch mark eight rows below: the rows between vanish into one cell."""
    lines = [f"Person {i},p{i}@example.com{trailing}" for i in range(2, rows + 2)]
    lines[at - 2] = f'"Ace Realty, LLC,c@example.com{trailing}'
    lines[at - 2 + 8] = f"Tall 5'10\",t@example.com{trailing}"
    path.write_text("Name,Email,State\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("trailing", ["", ",OH,"])
@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.timeout(60)
def test_a_stray_quote_in_a_ragged_file_stops_validate_on_any_number_of_workers(
    run_cli: RunCli, tmp_path: Path, workers: str, trailing: str
) -> None:
    path = ragged_stray(tmp_path / "ragged.csv", 22_000, 20_000, trailing)  # big enough for two workers
    code, out, err = run_cli("validate", path, "-m", MAPPING, "--report", tmp_path / "r.csv", "--workers", workers)
    assert code == 2 and out == "", out + err
    assert "row 20000, column A: a quote opens the cell" in err and "8 lines below it" in err


@pytest.mark.timeout(60)
def test_push_of_a_ragged_file_with_a_stray_quote_sends_nothing(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path
) -> None:
    path = ragged_stray(tmp_path / "ragged.csv", 30, 3)
    code, out, err = run_cli("push", path, "-m", MAPPING, "--report", tmp_path / "r.csv", "-q")
    assert code == 2 and out == "" and "close the quote in row 3" in err
    assert env.store.requests("/api/contact/create") == []


# -- one row swallowed, and notes that are nearly rows ----------------------------------------------


def csv_file(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.timeout(30)
def test_one_row_swallowed_stops_the_load_when_the_stray_quotes_row_reads_like_a_row(tmp_path: Path) -> None:
    rows = [f"Person {i},p{i}@example.com,OH" for i in range(2, 22)]
    rows[3] = '"Bob Lee,b@example.com,OH'  # row 5; row 6 is swallowed whole, row 7 closes the quote
    rows[5] = "Tall 5'10\",t@example.com,OH"
    with pytest.raises(LoadError, match="row 5, column A: a quote opens the cell"):
        read(csv_file(tmp_path / "one.csv", ["Name,Email,State", *rows]))


@pytest.mark.timeout(30)
def test_notes_of_key_value_lines_and_of_prose_after_commas_are_read(tmp_path: Path) -> None:
    rows = [f"P {i},p{i}@example.com,ok" for i in range(20)]
    notes = ["Beds,3\nBaths,2\nSqft,1500", "Smith, John\nSmith, Mary\nLee, Ann", "Called,no answer\nLeft vm,call back"]
    lines = ["Name,Email,Notes", *rows, *(f'Ann,a@example.com,"{n}"' for n in notes)]
    assert read(csv_file(tmp_path / "notes.csv", lines))["Notes"].tolist()[-3:] == notes


@pytest.mark.timeout(30)
def test_a_note_above_a_stray_quote_is_not_blamed_for_the_rows_the_quote_puts_out_of_step(tmp_path: Path) -> None:
    # Found by the property test. The stray quote in row 4 is closed by the opening quote of row 5's
    # note, whose "Called; called" lines are then read as rows: " called" fills most of column B,
    # which made the note of row 3 (the same lines, in its quotes) read like rows of the file.
    row = "Ann Lee;1000;{};Ann Lee;1 Main St, Springfield, OH"
    lines = [
        "Col name 0;Col amount 1;Col amount 2;Col name 3;Col address 4",
        row.format(""),
        row.format('"Called\nCalled; called\nCalled; called"'),
        '"Ann Lee;1000;;Ann Lee;',
        row.format(""),
        row.format(""),
        row.format('"Called; called\nCalled; called\nCalled; called"'),
    ]
    with pytest.raises(LoadError, match="row 4, column A: a quote opens the cell"):
        read(csv_file(tmp_path / "out_of_step.csv", lines))
