"""Issue 12: files a hostile tester built to make the loader lie or fail badly, through the CLI.

Inputs are tests/data/hostile (made by tests/data/hostile/make_hostile_fixtures.py). Each case
must end in a truthful result or a one-line error naming what to fix: never "internal error",
never a traceback, never exit 0 on a file that was misread. The subprocess runs are bounded in
time and memory (tests/bounds.py); the in-process ones assert what was read, reported and sent.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
import xlrd

from importer.sandbox import SandboxServer
from tests.bounds import run_bounded
from tests.conftest import RunCli

HOSTILE = Path(__file__).parent / "data" / "hostile"
MAPPING = HOSTILE / "contacts.yaml"


def report_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def validate(run_cli: RunCli, tmp_path: Path, name: str, *extra: str) -> tuple[int, str, str, Path]:
    report = tmp_path / f"{name}.report.csv"
    code, out, err = run_cli("validate", HOSTILE / name, "-m", MAPPING, "--report", report, "-q", *extra)
    return code, out, err, report


# -- every case as a person runs it: a subprocess, bounded ------------------------------------------

CASES = [
    # (file, extra arguments, exit code, text the output must hold)
    ("stray_quote_5.csv", (), 2, "row 4, column A: a quote opens the cell"),
    ("stray_quote_23.csv", (), 2, "close the quote in row 4, or pass --quotes none"),
    ("stray_quote_closed_late.csv", (), 2, "10 lines below it were read into that one cell"),
    ("stray_quote_big.csv", ("--workers", "2"), 2, "close the quote in row 20000"),
    ("stray_quote_5.csv", ("--quotes", "none"), 1, "row.too_many_cells"),
    ("multiline_cells.csv", (), 0, "5 rows"),
    ("multiline_note.csv", (), 0, "2 rows"),
    ("cr_only.csv", (), 0, "3 rows"),
    ("cr_in_quoted_cell.csv", (), 0, "3 rows"),  # its bad e-mail is left out (on_invalid), the row kept
    ("long_header.csv", (), 0, "1 rows"),
    ("wide_header.csv", (), 0, "3 rows"),
    # Read whole; the 200 KB e-mail itself is no address (64 characters before the @ at most): left out.
    ("big_cell_early.csv", (), 0, "5 rows"),
    # A title and a blank row above the header: the header row is found (it was exit 2 before).
    ("junk_above_header.csv", (), 0, "Header in row 3; rows 1–2 passed over"),
    # A full row above the header could be one: the mapping's columns say where they are.
    ("title_above_header.csv", (), 2, "columns are in row 2, not in row 1 read as the header; pass --header-row 2"),
    ("title_above_header.csv", ("--header-row", "2"), 0, "Header in row 2; row 1 passed over"),
    ("mixed_encoding.csv", (), 0, "row.not_utf8"),
    ("hidden_first_sheet.xlsx", (), 0, "'Leads' was read, sheet 2 of 3 ('Lookup' (hidden), 'Leads', 'Notes')"),
    ("hidden_first_sheet.xls", (), 0, "'Leads' was read, sheet 2 of 2 ('Lookup' (hidden), 'Leads')"),
    ("percent.xlsx", (), 0, "3 rows"),
    ("percent.xls", (), 0, "2 rows"),
]


@pytest.mark.parametrize(("name", "extra", "code", "says"), CASES, ids=[f"{c[0]}{''.join(c[1])}" for c in CASES])
def test_validate_in_a_subprocess_is_truthful_bounded_and_one_line(
    tmp_path: Path, name: str, extra: tuple[str, ...], code: int, says: str
) -> None:
    argv = [sys.executable, "-m", "importer", "validate", HOSTILE / name, "-m", MAPPING, "-q"]
    result = run_bounded([*argv, "--report", tmp_path / "r.csv", *extra], timeout=60, rss_mib=900, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert says in output
    assert "internal error" not in output and "Traceback" not in output
    if code == 2:
        assert result.stderr.count("\n") == 1 and result.stdout == ""  # one line, on stderr
        assert len(result.stderr) < 600  # capped: the swallowed rows are not quoted back


@pytest.mark.parametrize(
    "name", ["cr_only.csv", "cr_in_quoted_cell.csv", "long_header.csv", "big_cell_early.csv"]
)
def test_mapping_suggest_reads_them(tmp_path: Path, name: str) -> None:
    argv = [sys.executable, "-m", "importer", "mapping", "suggest", HOSTILE / name]
    result = run_bounded(argv, timeout=60, rss_mib=900, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "fullname: Name" in result.stdout and "email: Email" in result.stdout


@pytest.mark.parametrize(("name", "row"), [("stray_quote_5.csv", 4)])
def test_mapping_suggest_stops_with_the_row(tmp_path: Path, name: str, row: int) -> None:
    argv = [sys.executable, "-m", "importer", "mapping", "suggest", HOSTILE / name]
    result = run_bounded(argv, timeout=60, rss_mib=900, cwd=tmp_path)
    assert result.returncode == 2 and f"row {row}" in result.stderr and "internal error" not in result.stderr


def test_mapping_suggest_finds_the_header_below_a_title(tmp_path: Path) -> None:
    # junk_above_header.csv stopped mapping suggest ("row 1 does not look like a header") before.
    argv = [sys.executable, "-m", "importer", "mapping", "suggest", HOSTILE / "junk_above_header.csv"]
    result = run_bounded(argv, timeout=60, rss_mib=900, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "header in row 3; rows 1–2 passed over" in result.stderr
    assert "header_row: 3" in result.stdout and "fullname: Name" in result.stdout


# -- item 2: a quote never closed ---------------------------------------------------------------------


def test_push_of_a_file_with_a_stray_quote_sends_nothing(env: SandboxServer, run_cli: RunCli, tmp_path: Path) -> None:
    code, out, err = run_cli(
        "push", HOSTILE / "stray_quote_23.csv", "-m", MAPPING, "--report", tmp_path / "r.csv", "-q"
    )
    assert code == 2 and out == ""
    assert "row 4" in err and "20 lines below it" in err
    assert env.store.requests("/api/contact/create") == []


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_stray_quote_past_row_20000_stops_both_readers(run_cli: RunCli, tmp_path: Path, workers: str) -> None:
    code, _, err, _ = validate(run_cli, tmp_path, "stray_quote_big.csv", "--workers", workers)
    assert code == 2 and "row 20000, column A" in err and "2001 lines below it" in err


def test_quotes_none_reads_quotes_as_plain_characters(run_cli: RunCli, tmp_path: Path) -> None:
    code, _, _, report = validate(run_cli, tmp_path, "stray_quote_5.csv", "--quotes", "none")
    rows = report_rows(report)
    assert code == 1 and [r["row"] for r in rows] == ["2", "3", "4", "5"]
    assert rows[2]["Name"] == '"Ace Realty' and rows[2]["status"] == "invalid"  # one cell too many, as written
    assert rows[3]["Name"] == "Person 5"


def test_quoted_cells_with_a_few_line_breaks_are_not_stray_quotes(run_cli: RunCli, tmp_path: Path) -> None:
    code, _, _, report = validate(run_cli, tmp_path, "multiline_note.csv")
    assert code == 0
    assert report_rows(report)[0]["Notes"].count("\n") == 2


def test_quotes_option_is_refused_for_a_workbook(run_cli: RunCli, tmp_path: Path) -> None:
    code, _, err, _ = validate(run_cli, tmp_path, "percent.xlsx", "--quotes", "none")
    assert code == 2 and "--quotes only applies to delimited text files" in err


# -- item 12: a hidden first sheet --------------------------------------------------------------------


def test_push_reads_the_first_visible_sheet_not_a_hidden_one(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path
) -> None:
    code, out, _ = run_cli("push", HOSTILE / "hidden_first_sheet.xlsx", "-m", MAPPING, "--report", tmp_path / "r.csv")
    assert code == 0
    sent = [r["body"] for r in env.store.requests("/api/contact/create")]
    assert len(sent) == 3 and not any("Lookup Row" in body for body in sent)
    assert "Sheet: 'Leads' was read, sheet 2 of 3" in out


def test_sheets_shows_hidden_sheets(run_cli: RunCli) -> None:
    code, out, _ = run_cli("sheets", HOSTILE / "hidden_first_sheet.xlsx")
    assert code == 0
    assert out.splitlines() == ["1\tLookup\t1 rows\t(hidden)", "2\tLeads\t3 rows", "3\tNotes\t0 rows"]


def test_an_xls_hidden_first_sheet_is_passed_over_too(run_cli: RunCli, tmp_path: Path) -> None:
    assert [(s.name, s.visibility) for s in xlrd.open_workbook(HOSTILE / "hidden_first_sheet.xls").sheets()] == [
        ("Lookup", 1),  # a second reader agrees the fixture's first sheet is hidden
        ("Leads", 0),
    ]
    code, _, _, report = validate(run_cli, tmp_path, "hidden_first_sheet.xls")
    assert code == 0 and [r["Name"] for r in report_rows(report)] == ["Ann Lee", "Bob Stone"]
    code, out, _ = run_cli("sheets", HOSTILE / "hidden_first_sheet.xls")
    assert out.splitlines() == ["1\tLookup\t1 rows\t(hidden)", "2\tLeads\t2 rows"]


def test_a_hidden_sheet_is_still_read_when_named(run_cli: RunCli, tmp_path: Path) -> None:
    code, out, _, report = validate(run_cli, tmp_path, "hidden_first_sheet.xlsx", "--sheet", "Lookup")
    assert code == 0 and [r["Name"] for r in report_rows(report)] == ["Lookup Row"]
    assert "'Lookup' was read, sheet 1 of 3" in out


# -- item 13: mixed encodings -------------------------------------------------------------------------


def test_a_utf8_file_with_one_cp1252_line_is_read_line_by_line(run_cli: RunCli, tmp_path: Path) -> None:
    code, _, _, report = validate(run_cli, tmp_path, "mixed_encoding.csv")
    rows = report_rows(report)
    assert code == 0
    assert [r["Name"] for r in rows] == ["José Muñoz", "Zoë Brontë", "Renée Côté", "Ann Lee"]
    assert [bool(r["warnings"]) for r in rows] == [False, False, True, False]
    assert "Windows-1252" in rows[2]["warnings"]
    assert "Ã" not in report.read_text("utf-8-sig")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_mixed_encoding_in_the_workers_pieces(run_cli: RunCli, tmp_path: Path, workers: str) -> None:
    good = "José Muñoz,jose@example.com,OH\n".encode()
    bad = "Renée Côté,renee@example.com,IL\n".encode("cp1252")
    path = tmp_path / "big_mixed.csv"
    path.write_bytes(b"Name,Email,State\n" + good * 15_000 + bad + good * 10_000 + bad)
    report = tmp_path / "r.csv"
    code, _, _ = run_cli("validate", path, "-m", MAPPING, "--report", report, "-q", "--workers", workers)
    rows = report_rows(report)
    assert code == 0 and len(rows) == 25_002
    warned = [r["row"] for r in rows if r["warnings"]]
    assert warned == ["15002", "25003"]
    assert {r["Name"] for r in rows} == {"José Muñoz", "Renée Côté"}


# -- item 14: percentages -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["percent.xlsx", "percent.xls"])
def test_percent_cells_read_as_shown(run_cli: RunCli, tmp_path: Path, name: str) -> None:
    code, _, _, report = validate(run_cli, tmp_path, name)
    rows = report_rows(report)
    assert code == 0
    expected = ["23%", "150.00%", "12.5%"] if name.endswith("xlsx") else ["23%", "150.00%"]
    assert [r["Rate"] for r in rows] == expected
    assert [r["Plain"] for r in rows][:2] == ["0.23", "1.5"]  # no percent format: the plain number


# -- item 16: messages ----------------------------------------------------------------------------------


def test_a_long_header_is_not_reported_as_duplicates(run_cli: RunCli, tmp_path: Path) -> None:
    code, _, err, report = validate(run_cli, tmp_path, "long_header.csv")
    assert code == 0 and err == ""
    with report.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh))
    assert len(header) == 5 + 3 + 1_600 and header[-1].startswith("Extra column 1599")


def test_a_big_cell_early_on_is_read(run_cli: RunCli, tmp_path: Path) -> None:
    code, _, _, report = validate(run_cli, tmp_path, "big_cell_early.csv")
    rows = report_rows(report)
    assert code == 0 and [r["row"] for r in rows] == ["2", "3", "4", "5", "6"]
    assert len(rows[1]["Email"]) == 200_000 + len("@example.com")
    # The big cell is read as one value; as an e-mail it is too long: left out, the contact kept.
    assert [r["status"] for r in rows] == ["valid"] * 5
    assert "is not a valid e-mail address" in rows[1]["warnings"] and "left out" in rows[1]["warnings"]


def test_push_reads_the_whole_file_before_sending(env: SandboxServer, tmp_path: Path) -> None:
    """A stray quote several chunks down stops the push before its first request, not after chunks went out."""
    from importer import push_file
    from importer.errors import LoadError

    lines = [f"Person {i},p{i}@example.com,OH" for i in range(2, 3000)]
    lines[2500 - 2] = '"Ace Realty, LLC,c@example.com,OH'
    path = tmp_path / "late_stray.csv"
    path.write_text("Name,Email,State\n" + "\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LoadError, match="row 2500, column A"):
        push_file(path, MAPPING, report=False, ledger=False, chunk_rows=100)
    assert env.store.requests("/api/contact/create") == []
