"""Dry runs on several cores (importer.parallel) and workbooks read during imports (importer.read.workbook).

The promise: a run on worker processes writes exactly the report, and counts exactly
what, a run in one process does, for CSV and workbook input and every report format.
"""

from __future__ import annotations

import csv
import json
import os
import threading
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from importer.cli import main
from importer.errors import LoadError, MappingError, WorkerError
from importer.parallel import MIN_PARALLEL_CHUNK_ROWS, DryRunPool, plan_workers, sent_rows
from importer.pipeline import validate_file
from importer.read import delimited as load
from importer.read import workbook
from importer.read.source import open_source
from importer.report.summary import RunSummary

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "contacts.csv"
MAPPING = ROOT / "mappings" / "contacts.yaml"
DATA = Path(__file__).resolve().parent / "data"
ROWS = 24_000  # enough for workers to engage (20,000 at least)


def _sample_rows() -> tuple[list[str], list[list[str]]]:
    with SAMPLE.open(newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    return header, rows


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's rows (good and damaged) repeated, with a blank line, a ragged row,
    a ="..." cell and a formula-like cell dropped in along the way."""
    header, rows = _sample_rows()
    path = tmp_path_factory.mktemp("parallel") / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        for i in range(ROWS):
            row = list(rows[i % len(rows)])
            if i == 11_000:
                row[0] = "=HYPERLINK(1)"
            if i == 15_000:
                row[8] = '="02134"'
            out.writerow(row)
            if i == 9_000:
                fh.write("\r\n")  # a blank line: left out, still counted
            if i == 17_000:
                out.writerow([*row, "extra", "cells"])  # ragged: one problem row
    return path


@pytest.fixture(scope="module")
def big_xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample as a workbook: ZIPs and equity as number cells, one more blank row."""
    header, rows = _sample_rows()
    path = tmp_path_factory.mktemp("parallel") / "big.xlsx"
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Leads")
    ws.append(header)
    for i in range(ROWS):
        row: list[object] = list(rows[i % len(rows)])
        for col in (8, 11):  # Zip, Equity
            if col < len(row) and str(row[col]).isdigit():
                row[col] = int(str(row[col]))
        ws.append(row)
        if i == 13_000:
            ws.append([])
    wb.save(path)
    return path


def _data_rows() -> int:
    """Rows of the big files that are not blank (the sample has a blank line of its own)."""
    _, rows = _sample_rows()
    return sum(any(c.strip() for c in rows[i % len(rows)]) for i in range(ROWS))


def _validate(path: Path, tmp_path: Path, workers: int, fmt: str = "csv", **kw: object):
    """A dry run; ``fmt`` "none": no report (the workers send outcomes and problems back, not lines)."""
    report = tmp_path / f"w{workers}.{fmt}"
    result = validate_file(
        path, MAPPING, report=report if fmt != "none" else False, workers=workers, chunk_rows=6_000, **kw
    )
    return result, report


# -- plan_workers ------------------------------------------------------------------------------


def test_small_files_and_one_worker_check_in_process() -> None:
    assert plan_workers(None, 5_000, 100_000) == (1, 100_000)
    assert plan_workers(None, None, 100_000) == (1, 100_000)  # size unknown
    assert plan_workers(1, 10_000_000, 100_000) == (1, 100_000)


def test_big_files_get_smaller_pieces_and_a_worker_per_core() -> None:
    assert plan_workers(2, 1_000_000, 100_000) == (2, 75_000)
    assert plan_workers(4, 1_000_000, 100_000) == (4, 75_000)
    assert sent_rows(75_000) == 50_000  # chunks parsed here are held here while in flight: smaller
    assert sent_rows(12_000) == MIN_PARALLEL_CHUNK_ROWS


def test_a_file_of_few_chunks_gets_two_per_worker_not_below_the_floor() -> None:
    assert plan_workers(2, 100_000, 100_000) == (2, 25_000)
    workers, rows = plan_workers(2, 24_000, 100_000)
    assert (workers, rows) == (2, MIN_PARALLEL_CHUNK_ROWS)


# -- same report, same counts -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json", "none"])
def test_csv_input_on_two_workers_reports_exactly_as_in_process(big_csv: Path, tmp_path: Path, fmt: str) -> None:
    one, one_report = _validate(big_csv, tmp_path, 1, fmt)
    two, two_report = _validate(big_csv, tmp_path, 2, fmt)
    assert two.summary.as_dict() == one.summary.as_dict()
    assert one.summary.total == _data_rows() + 1  # the ragged row is a row too
    assert one.summary.counts["invalid"] > 0 and one.summary.counts["valid"] > 0
    pd.testing.assert_frame_equal(two.outcomes, one.outcomes)
    if fmt == "json":
        assert json.loads(two_report.read_text("utf-8")) == json.loads(one_report.read_text("utf-8"))
    elif fmt == "csv":
        assert two_report.read_bytes() == one_report.read_bytes()


@pytest.mark.parametrize("variant", ["as written", "stray quote", "utf-16"])
def test_the_workers_parse_the_csv_pieces_and_the_main_process_what_cannot_be_cut(
    big_csv: Path, tmp_path: Path, variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers parse pieces of a CSV cut at record ends; past a stray quote, or in UTF-16, the main
    process parses and sends the chunks instead (importer.read.byteranges): the report is the same."""
    text = big_csv.read_text("utf-8")
    path = tmp_path / "input.csv"
    if variant == "stray quote":
        at = text.index("\n", len(text) // 2) + 1  # a row of its own halfway down
        path.write_text(text[:at] + "Tall,Guy,,,,,,,,,,,5'10\"\r\n" + text[at:], encoding="utf-8")
    else:
        path.write_text(text, encoding="utf-8" if variant == "as written" else "utf-16")
    one, one_report = _validate(path, tmp_path, 1)
    parsed_here: list[int] = []  # chunks parsed by this process (a forked worker counts in its own copy)
    parse = load.CsvSource._chunks

    def counting(self: load.CsvSource, *args: object, **kw: object) -> object:
        parsed_here.append(1)
        return parse(self, *args, **kw)

    monkeypatch.setattr(load.CsvSource, "_chunks", counting)
    two, two_report = _validate(path, tmp_path, 2)
    assert two_report.read_bytes() == one_report.read_bytes()
    assert two.summary.as_dict() == one.summary.as_dict()
    assert one.summary.total == _data_rows() + 1 + (variant == "stray quote")
    # Opening the file parses a small probe here; cut pieces are parsed by the workers only.
    assert (len(parsed_here) > 1) == (variant != "as written")


def test_report_lines_up_with_the_input_rows(big_csv: Path, tmp_path: Path) -> None:
    _, report = _validate(big_csv, tmp_path, 2)
    with report.open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.DictReader(fh))
    numbers = [int(r["row"]) for r in lines]
    assert numbers == sorted(numbers) and len(numbers) == len(set(numbers))
    assert 9_003 not in numbers  # the blank line after data row 9,001 (file row 9,002)
    formula = next(r for r in lines if r["First Name"].endswith("HYPERLINK(1)"))
    assert formula["First Name"] == "'=HYPERLINK(1)"  # neutralised in the worker too
    assert int(formula["row"]) == 11_000 + 2 + 1  # header, 0-based i, the blank line before it
    unwrapped = next(r for r in lines if r["row"] == str(15_000 + 2 + 1))
    assert unwrapped["Zip"] == "02134"


@pytest.mark.parametrize("fmt", ["csv", "none"])
def test_workbook_read_by_the_workers_reports_exactly_as_in_process(big_xlsx: Path, tmp_path: Path, fmt: str) -> None:
    one, one_report = _validate(big_xlsx, tmp_path, 1, fmt)
    two, two_report = _validate(big_xlsx, tmp_path, 2, fmt)
    assert two.summary.as_dict() == one.summary.as_dict()
    assert one.summary.total == _data_rows()
    pd.testing.assert_frame_equal(two.outcomes, one.outcomes)
    if fmt == "csv":
        assert two_report.read_bytes() == one_report.read_bytes()
    else:  # no report: outcomes and problems came back, the zero of a number ZIP restored in a worker
        assert "zipcode: 2134 → 02134" in "".join(two.outcomes["warnings"])


def test_workers_without_fork_give_the_same_report(big_csv: Path, tmp_path: Path) -> None:
    """Another thread is running: the workers come from a fork server (the plan is pickled)."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        two, two_report = _validate(big_csv, tmp_path, 2)
    finally:
        stop.set()
        other.join()
    one, one_report = _validate(big_csv, tmp_path, 1)
    assert two_report.read_bytes() == one_report.read_bytes()
    assert two.summary.as_dict() == one.summary.as_dict()


# -- failures ----------------------------------------------------------------------------------


class _DyingPlan:
    outcome_columns = ("status", "id", "error", "warnings")

    def validate(self, chunk: object) -> None:
        os._exit(3)  # as the OOM killer would


class _BrokenPlan:
    outcome_columns = ("status", "id", "error", "warnings")

    def validate(self, chunk: object) -> None:
        raise MappingError("the mapping broke on this chunk")


def test_a_worker_that_dies_is_a_worker_error(big_csv: Path) -> None:
    source = open_source(big_csv)
    with DryRunPool(_DyingPlan(), 2, source=source) as pool, pytest.raises(WorkerError, match="--workers 1"):
        list(pool.run(source, 10_000))


def test_an_error_raised_in_a_worker_reaches_the_caller_as_raised(big_csv: Path) -> None:
    source = open_source(big_csv)
    with DryRunPool(_BrokenPlan(), 2, source=source) as pool, pytest.raises(MappingError, match="broke"):
        list(pool.run(source, 10_000))


def test_cli_workers_option(big_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = []
    for workers in ("1", "2"):
        report = tmp_path / f"cli{workers}.csv"
        code = main(["validate", str(big_csv), "-m", str(MAPPING), "--report", str(report), "-q", "--workers", workers])
        assert code == 1  # the sample has invalid rows
        reports.append(report.read_bytes())
    assert reports[0] == reports[1]
    assert main(["validate", str(big_csv), "-m", str(MAPPING), "--workers", "0"]) == 2
    assert "--workers must be 1 or more" in capsys.readouterr().err


# -- summaries add up --------------------------------------------------------------------------


def test_summaries_of_chunks_merge_into_the_summary_of_the_whole() -> None:
    outcomes = pd.DataFrame({"status": ["valid", "invalid", "invalid", "valid"]}, index=[2, 3, 4, 5])
    problems = pd.DataFrame(
        {
            "row": [3, 4, 4, 5],
            "part": ["", "", "", "Owner 1"],
            "field": ["state", "zipcode", "state", "phone"],
            "column": ["State", "Zip", "State", "Phone"],
            "value": ["XX", "123", "YY", "x"],
            "code": ["state.invalid", "zipcode.invalid", "state.invalid", "text.normalized"],
            "message": ["bad state", "bad zip", "bad state 2", "cleaned"],
            "severity": ["error", "error", "error", "warning"],
        }
    )
    whole = RunSummary.of(outcomes, problems)
    merged = RunSummary()
    for rows in ([2, 3], [4, 5]):
        merged.merge(RunSummary.of(outcomes.loc[rows], problems[problems["row"].isin(rows)]))
    assert merged.as_dict() == whole.as_dict()
    assert merged.top_problems(1)[0][:3] == ("state.invalid", 2, 3)  # the earliest example is kept


# -- workbooks read ahead ----------------------------------------------------------------------


def test_prefetched_sheet_is_the_one_read(big_xlsx: Path) -> None:
    workbook.prefetch(big_xlsx)
    assert workbook._pending  # reading on its thread
    ahead = next(open_source(big_xlsx).chunks(1_000)).frame
    assert not workbook._pending  # taken, the thread joined
    fresh = next(open_source(big_xlsx).chunks(1_000)).frame
    pd.testing.assert_frame_equal(ahead, fresh)


def test_a_bad_workbook_read_ahead_fails_as_it_would_without(tmp_path: Path) -> None:
    for name in ("corrupt.xlsx", "encrypted.xlsx", "bomb.xlsx"):
        with pytest.raises(LoadError) as plain:
            open_source(DATA / name)
        workbook.prefetch(DATA / name)
        with pytest.raises(LoadError) as ahead:
            open_source(DATA / name)
        assert str(ahead.value) == str(plain.value)


def test_a_sheet_read_ahead_of_a_file_changed_since_is_not_used(big_xlsx: Path, tmp_path: Path) -> None:
    path = tmp_path / "leads.xlsx"
    path.write_bytes((DATA / "basic.xlsx").read_bytes())
    workbook.prefetch(path)
    path.write_bytes(big_xlsx.read_bytes())  # replaced before the run reads it
    assert open_source(path).headers == open_source(big_xlsx).headers
    workbook._pending.clear()


def test_prefetch_ignores_other_files() -> None:
    workbook.prefetch(SAMPLE)
    workbook.prefetch(ROOT / "no-such-file.xlsx")
    assert not workbook._pending
