"""Tests of the results report (importer.report): every format, neutralising, summary."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.errors import ReportError
from importer.problems import WARNING, concat_problems, empty_problems, make_problems
from importer.report import (
    DANGEROUS_PREFIXES,
    RunSummary,
    default_report_path,
    neutralise,
    open_report,
    render_summary,
    report_front_columns,
    restore_neutralised,
)
from importer.report import xlsx as xlsx_module
from importer.report.cells import MISSING_OUTCOME_STATUS, as_text

HEADERS = ["Full Name", "State", "Zip", "Phone", "Notes"]
OUTCOMES = ["status", "id", "error", "warnings"]
RED, YELLOW, GREEN = "FFC7CE", "FFEB9C", "C6EFCE"


def chunk_one() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Rows 2, 3, 5, 9 (4, 6-8 were blank lines); outcomes arrive in another order."""
    inputs = pd.DataFrame(
        {
            "Full Name": ["Ann Lee", "Bob Roe", "José Díaz", ""],
            "State": ["ohio", "XX", "OH", "OH"],
            "Zip": ["02134", "4411", "44113", "44114"],
            "Phone": ["216-555-0100", "", "+1 216 555 0101", "2165550102"],
            "Notes": ["", "line one\nline two", 'said "hi", left', "#N/A"],
        },
        index=pd.Index([2, 3, 5, 9], name="row"),
        dtype="str",
    )
    outcomes = pd.DataFrame(
        {
            "status": ["created", "invalid", "failed", "created"],
            "id": [1235.0, None, None, 1234.0],  # floats because of the missing ids
            "error": ["", "state 'XX' is not a US state code", "API: duplicate contact", ""],
            "warnings": ["", "", "", "state 'ohio' was sent as 'OH'"],
        },
        index=[9, 3, 5, 2],
    )
    problems = concat_problems(
        [
            make_problems(
                [3],
                code="state.invalid",
                message="state 'XX' is not a US state code",
                field="state",
                column="State",
                value="XX",
            ),
            make_problems(
                [3],
                code="zipcode.invalid",
                message="zipcode '4411' is not five digits",
                field="zipcode",
                column="Zip",
                value="4411",
            ),
            make_problems(
                [2],
                code="state.normalised",
                message="state 'ohio' was sent as 'OH'",
                field="state",
                column="State",
                value="ohio",
                severity=WARNING,
            ),
            make_problems(
                [9], code="fullname.missing", message="fullname is empty", field="fullname", column="Full Name"
            ),
        ]
    )
    return inputs, outcomes, problems


def chunk_two() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    inputs = pd.DataFrame(
        {"Full Name": ["Cy Poe"], "State": ["PA"], "Zip": ["15201"], "Phone": ["-"], "Notes": ["=1+1"]},
        index=pd.Index([12], name="row"),
        dtype="str",
    )
    outcomes = pd.DataFrame({"status": ["created"], "id": [77], "error": [""], "warnings": [""]}, index=[12])
    return inputs, outcomes, empty_problems()


def write_report(path: Path, chunks: list[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]) -> RunSummary:
    summary = RunSummary()
    with open_report(path, headers=HEADERS, outcome_columns=OUTCOMES) as report:
        for inputs, outcomes, problems in chunks:
            report.write(inputs, outcomes, problems)
            summary.add(outcomes, problems)
        report.close(summary)
    return summary


def read_csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))


def xlsx_rows(path: Path) -> list[list[object]]:
    ws = openpyxl.load_workbook(path)["Report"]
    return [[c.value for c in row] for row in ws.iter_rows()]


# -- default_report_path -------------------------------------------------------------------


def test_default_report_path_sits_beside_the_input(tmp_path: Path) -> None:
    assert default_report_path(tmp_path / "leads.csv", "validate") == tmp_path / "leads.validate-report.csv"
    assert default_report_path(tmp_path / "leads.xlsx", "push") == tmp_path / "leads.push-report.csv"
    assert default_report_path(tmp_path / "leads.csv", "push", "xlsx") == tmp_path / "leads.push-report.xlsx"
    assert default_report_path(tmp_path / "leads", "push", ".JSON") == tmp_path / "leads.push-report.json"
    # A report of a report never names its input.
    again = tmp_path / "leads.push-report.csv"
    assert default_report_path(again, "push") != again


def test_default_report_path_refuses_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="csv, xlsx, json"):
        default_report_path(tmp_path / "leads.csv", "push", "txt")


# -- CSV -------------------------------------------------------------------------------------


def test_csv_report_content_lines_up_with_input(tmp_path: Path) -> None:
    path = tmp_path / "leads.push-report.csv"
    write_report(path, [chunk_one()])
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == 5  # header + 4 rows; the line break inside a value stays LF
    rows = read_csv_rows(path)
    assert rows == [
        ["row", "status", "id", "error", "warnings", *HEADERS],
        ["2", "created", "1234", "", "state 'ohio' was sent as 'OH'", "Ann Lee", "ohio", "02134", "216-555-0100", ""],
        [
            "3",
            "invalid",
            "",
            "state 'XX' is not a US state code",
            "",
            "Bob Roe",
            "XX",
            "4411",
            "",
            "line one\nline two",
        ],
        [
            "5",
            "failed",
            "",
            "API: duplicate contact",
            "",
            "José Díaz",
            "OH",
            "44113",
            "'+1 216 555 0101",
            'said "hi", left',
        ],
        ["9", "created", "1235", "", "", "", "OH", "44114", "2165550102", "#N/A"],
    ]


def test_csv_two_chunks_append_with_one_header(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_report(path, [chunk_one(), chunk_two()])
    rows = read_csv_rows(path)
    assert [r[0] for r in rows] == ["row", "2", "3", "5", "9", "12"]
    assert rows[-1] == ["12", "created", "77", "", "", "Cy Poe", "PA", "15201", "'-", "'=1+1"]
    # What the loader does with a fixed report: drop the front columns, undo the quote.
    back = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    back = back.drop(columns=report_front_columns(OUTCOMES))
    back = back.apply(restore_neutralised)
    expected = pd.concat([chunk_one()[0], chunk_two()[0]]).reset_index(drop=True)
    assert list(back.columns) == HEADERS
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)


def test_csv_report_is_streamed_and_flushed_per_chunk(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    with open_report(path, headers=HEADERS, outcome_columns=OUTCOMES) as report:
        report.write(*chunk_one())
        # Already on disk before close: a run that dies keeps the rows it did.
        assert len(read_csv_rows(path)) == 5


# -- JSON ------------------------------------------------------------------------------------


def test_json_report_structure(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_report(path, [chunk_one(), chunk_two()])
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{"summary": ')
    doc = json.loads(text)
    assert doc["summary"]["total"] == 5
    assert doc["summary"]["counts"] == {"created": 3, "failed": 1, "invalid": 1}
    assert doc["summary"]["problem_counts"]["state.invalid"] == 1
    assert doc["summary"]["complete"] is True
    rows = doc["rows"]
    assert [r["row"] for r in rows] == [2, 3, 5, 9, 12]
    assert [r["id"] for r in rows] == [1234, None, None, 1235, 77]
    assert list(rows[0]) == ["row", "status", "id", "error", "warnings", "problems", "data"]
    assert rows[0]["data"] == {
        "Full Name": "Ann Lee",
        "State": "ohio",
        "Zip": "02134",
        "Phone": "216-555-0100",
        "Notes": "",
    }
    assert rows[0]["problems"] == [
        {
            "part": "",
            "field": "state",
            "column": "State",
            "value": "ohio",
            "code": "state.normalised",
            "message": "state 'ohio' was sent as 'OH'",
            "severity": "warning",
        }
    ]
    assert [p["code"] for p in rows[1]["problems"]] == ["state.invalid", "zipcode.invalid"]
    assert rows[4]["problems"] == [] and rows[4]["data"]["Notes"] == "'=1+1"
    assert not list(tmp_path.glob(".*rows"))  # the temporary rows file is gone


def test_json_report_after_a_failed_run_is_valid_and_marked_incomplete(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    with pytest.raises(RuntimeError), open_report(path, headers=HEADERS, outcome_columns=OUTCOMES) as report:
        report.write(*chunk_one())
        raise RuntimeError("API went away")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["summary"]["complete"] is False
    assert doc["summary"]["total"] == 4
    assert [r["row"] for r in doc["rows"]] == [2, 3, 5, 9]


# -- XLSX ------------------------------------------------------------------------------------


def test_xlsx_report_content_styles_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    write_report(path, [chunk_one(), chunk_two()])
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Report", "Summary"]
    ws = wb["Report"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:J6"
    assert all(c.font.b for c in ws[1])
    assert [c.value for c in ws[1]] == ["row", *OUTCOMES, *HEADERS]
    assert [ws.cell(r, 1).value for r in range(2, 7)] == [2, 3, 5, 9, 12]
    # Values are text: the ZIP keeps its zero, "#N/A" is not an Excel error, no formulas.
    assert ws["H2"].value == "02134" and ws["H2"].data_type == "s"
    assert ws["J5"].value == "#N/A" and ws["J5"].data_type == "s"
    assert ws["J6"].value == "'=1+1" and ws["J6"].data_type == "s"
    assert ws["C2"].value == "1234"
    # Error cells: red with the reasons; warning-only cells: yellow with the change.
    assert ws["G3"].fill.fgColor.rgb.endswith(RED)
    assert ws["G3"].comment.text == "state 'XX' is not a US state code"
    assert ws["H3"].fill.fgColor.rgb.endswith(RED)
    assert ws["F5"].fill.fgColor.rgb.endswith(RED) and ws["F5"].comment.text == "fullname is empty"
    assert ws["G2"].fill.fgColor.rgb.endswith(YELLOW)
    assert ws["G2"].comment.text == "state 'ohio' was sent as 'OH'"
    assert ws["F2"].fill.fill_type is None and ws["F2"].comment is None
    # Status colours.
    assert ws["B2"].fill.fgColor.rgb.endswith(GREEN)
    assert ws["B3"].fill.fgColor.rgb.endswith(RED)
    assert ws["B4"].fill.fgColor.rgb.endswith(RED)
    # Reasonable widths: at least the header, never huge.
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    assert widths["F"] >= len("Full Name") and all(6 <= w <= 60 for w in widths.values())
    summary_rows = list(wb["Summary"].values)
    assert summary_rows[0][:2] == ("Rows", 5)
    assert ("Problem", "Code", "Severity", "Rows", "Example row", "Example message") in summary_rows
    assert ("State not a US state", "state.invalid", "error", 1, 3, "state 'XX' is not a US state code") in summary_rows
    # A code the catalogue lacks is shown as itself.
    assert ("state.normalised", "state.normalised", "warning", 1, 2, "state 'ohio' was sent as 'OH'") in summary_rows


def test_xlsx_warning_comment_shows_original_when_cell_differs(tmp_path: Path) -> None:
    inputs, outcomes, _ = chunk_one()
    problems = make_problems(
        [5],
        code="phone.normalised",
        message="phone sent as 12165550101",
        column="Phone",
        value="+1 (216) 555-0101",
        severity=WARNING,
    )
    path = tmp_path / "r.xlsx"
    with open_report(path, headers=HEADERS, outcome_columns=OUTCOMES) as report:
        report.write(inputs, outcomes, problems)
    ws = openpyxl.load_workbook(path)["Report"]
    assert ws["I4"].comment.text == "phone sent as 12165550101\nwas: +1 (216) 555-0101"


def test_xlsx_removes_characters_xml_cannot_hold(tmp_path: Path) -> None:
    inputs, outcomes, problems = chunk_one()
    inputs.loc[2, "Notes"] = "bell\x07 and nul\x00 here"
    path = tmp_path / "r.xlsx"
    write_report(path, [(inputs, outcomes, problems)])
    assert xlsx_rows(path)[1][-1] == "bell and nul here"


def test_xlsx_round_trips_as_input(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    write_report(path, [chunk_one(), chunk_two()])
    # keep_default_na=False, or pandas turns the text "#N/A" into a missing value.
    back = pd.read_excel(path, sheet_name="Report", dtype=str, engine="calamine", keep_default_na=False)
    back = back.drop(columns=report_front_columns(OUTCOMES)).apply(restore_neutralised)
    expected = pd.concat([chunk_one()[0], chunk_two()[0]]).reset_index(drop=True)
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)


def test_xlsx_row_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ReportError, match=r"\.csv"):
        open_report(tmp_path / "big.xlsx", headers=HEADERS, outcome_columns=OUTCOMES, expected_rows=1_048_576)
    assert not (tmp_path / "big.xlsx").exists()
    monkeypatch.setattr(xlsx_module, "EXCEL_MAX_ROWS", 5)  # header + 4 rows
    with pytest.raises(ReportError, match="do not fit in an Excel sheet"):  # noqa: SIM117
        with open_report(tmp_path / "r.xlsx", headers=HEADERS, outcome_columns=OUTCOMES) as report:
            report.write(*chunk_one())
            report.write(*chunk_two())


# -- neutralising, in every format ------------------------------------------------------------


@pytest.mark.parametrize("prefix", DANGEROUS_PREFIXES)
@pytest.mark.parametrize("ext", ["csv", "json", "xlsx"])
def test_every_dangerous_prefix_is_neutralised(tmp_path: Path, prefix: str, ext: str) -> None:
    value = f"{prefix}HYPERLINK(evil)"
    inputs, outcomes, problems = chunk_two()
    inputs.loc[12, "Notes"] = value
    outcomes.loc[12, "error"] = value  # outcome text too (an API message could be hostile)
    path = tmp_path / f"r.{ext}"
    write_report(path, [(inputs, outcomes, problems)])
    if ext == "csv":
        row = read_csv_rows(path)[1]
        notes, error = row[-1], row[3]
    elif ext == "json":
        row = json.loads(path.read_text(encoding="utf-8"))["rows"][0]
        notes, error = row["data"]["Notes"], row["error"]
    else:
        row = xlsx_rows(path)[1]
        notes, error = row[-1], row[3]
        value = value.replace("\r", "\n")  # XML turns a raw CR into LF when the sheet is read
    assert notes == error == "'" + value


@given(st.lists(st.text(max_size=8), max_size=20))
def test_neutralise_then_restore_is_lossless(values: list[str]) -> None:
    series = pd.Series(values, dtype="str")
    safe = neutralise(series)
    assert not safe.str.startswith(DANGEROUS_PREFIXES).any()
    assert neutralise(safe).tolist() == safe.tolist()  # idempotent
    ambiguous = series.str.match(r"'[=+\-@\t\r]")  # already looked neutralised
    assert restore_neutralised(safe)[~ambiguous].tolist() == series[~ambiguous].tolist()


@given(st.lists(st.one_of(st.none(), st.integers(-(10**15), 10**15)), max_size=20))
def test_ids_render_as_whole_numbers(ids: list[int | None]) -> None:
    expected = ["" if i is None else str(i) for i in ids]
    as_float = pd.Series([float("nan") if i is None else float(i) for i in ids], dtype="float64")
    assert as_text(as_float).tolist() == expected
    assert as_text(pd.Series(ids, dtype=object)).tolist() == expected
    assert as_text(pd.Series(ids, dtype="Int64")).tolist() == expected


# -- RunSummary and render_summary -----------------------------------------------------------


def test_run_summary_counts_and_top_problems() -> None:
    summary = RunSummary()
    _, outcomes, problems = chunk_one()
    summary.add(outcomes, problems)
    more = concat_problems(
        [
            make_problems(
                [12, 13, 14],
                code="state.normalised",
                message="state 'pa' was sent as 'PA'",
                column="State",
                value="pa",
                severity=WARNING,
            ),
            make_problems(
                [13],
                code="state.invalid",
                message="state 'ZZ' is not a US state code",
                column="State",
                value="ZZ",
                part="Owner 2",
            ),
        ]
    )
    summary.add(pd.DataFrame({"status": ["created", "invalid", "invalid"]}, index=[12, 13, 14]), more)
    assert summary.total == 7
    assert summary.counts == {"created": 3, "invalid": 3, "failed": 1}
    assert summary.problem_counts == {
        "state.normalised": 4,
        "state.invalid": 2,
        "fullname.missing": 1,
        "zipcode.invalid": 1,
    }
    assert summary.rows_with_errors == 3 and summary.rows_with_warnings == 4
    # Errors first (by count), then warnings; examples are the earliest rows.
    assert summary.top_problems(3) == [
        ("state.invalid", 2, 3, "state 'XX' is not a US state code"),
        ("fullname.missing", 1, 9, "fullname is empty"),
        ("zipcode.invalid", 1, 3, "zipcode '4411' is not five digits"),
    ]
    assert summary.top_problems(5, severity=WARNING) == [("state.normalised", 4, 2, "state 'ohio' was sent as 'OH'")]
    data = json.loads(json.dumps(summary.as_dict()))
    assert data["counts"]["invalid"] == 3 and data["problem_counts"]["state.invalid"] == 2
    assert data["problems"][-1]["code"] == "state.normalised"
    assert data["problems"][-1]["severity"] == "warning"


def test_summary_counts_rows_per_problem_and_gives_its_title() -> None:
    """A row with the same problem in two parts is one row (two problems); JSON and text say which."""

    def bad_state(rows: list[int], part: str) -> pd.DataFrame:
        return make_problems(rows, code="state.invalid", message="state 'XX' is not a US state code", part=part)

    status = pd.DataFrame({"status": ["partial", "partial"]}, index=[5, 6])
    summary = RunSummary.of(status, concat_problems([bad_state([5, 6], "Owner 1"), bad_state([5], "Owner 2")]))
    summary.merge(RunSummary.of(pd.DataFrame({"status": ["invalid"]}, index=[9]), bad_state([9], "")))
    assert summary.problem_counts == {"state.invalid": 4} and summary.problem_rows == {"state.invalid": 3}
    data = json.loads(json.dumps(summary.as_dict()))
    assert data["problems"] == [
        {
            "code": "state.invalid",
            "title": "State not a US state",
            "severity": "error",
            "count": 4,
            "rows": 3,
            "example_row": 5,
            "example_message": "Owner 1: state 'XX' is not a US state code",
        }
    ]
    text = render_summary(summary, None).splitlines()
    assert text[text.index("Most common problems:") + 1] == (
        "  State not a US state (state.invalid): 3 rows, e.g. row 5: Owner 1: state 'XX' is not a US state code"
    )


def test_render_summary_text(tmp_path: Path) -> None:
    summary = RunSummary()
    _, outcomes, problems = chunk_one()
    summary.add(outcomes, problems)
    text = render_summary(summary, tmp_path / "leads.push-report.csv")
    lines = text.splitlines()
    assert lines[0] == "4 rows"
    assert any(line.split() == ["created", "2"] for line in lines)
    assert "Most common problems:" in lines
    # The title with the code in brackets, the rows it is on, the first example.
    assert "  State not a US state (state.invalid): 1 row, e.g. row 3: state 'XX' is not a US state code" in lines
    assert "  state.normalised (warning): 1 row, e.g. row 2: state 'ohio' was sent as 'OH'" in lines
    assert lines[-1] == f"Report: {tmp_path / 'leads.push-report.csv'}"
    assert "No problems found." in render_summary(RunSummary(), None)


# -- errors and contract edges ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["r.txt", "r.xls", "report"])
def test_unsupported_extension(tmp_path: Path, name: str) -> None:
    with pytest.raises(ReportError, match=r"\.csv, \.xlsx or \.json") as info:
        open_report(tmp_path / name, headers=HEADERS, outcome_columns=OUTCOMES)
    assert name in str(info.value) and "\n" not in str(info.value)


def test_unwritable_paths(tmp_path: Path) -> None:
    for path in (tmp_path / "missing" / "r.csv", tmp_path / "folder.csv"):
        if path.name == "folder.csv":
            path.mkdir()
        with pytest.raises(ReportError, match=str(path)):
            open_report(path, headers=HEADERS, outcome_columns=OUTCOMES)
    afile = tmp_path / "plain.txt"
    afile.write_text("x")
    with pytest.raises(ReportError, match="cannot write the report"):
        open_report(afile / "r.json", headers=HEADERS, outcome_columns=OUTCOMES)


def test_refuses_to_overwrite_the_input(tmp_path: Path) -> None:
    src = tmp_path / "leads.csv"
    src.write_text("Full Name\nAnn\n")
    with pytest.raises(ReportError, match="overwrite the input"):
        open_report(src, headers=HEADERS, outcome_columns=OUTCOMES, input_path=src)
    assert src.read_text() == "Full Name\nAnn\n"


def test_row_without_outcome_is_reported_not_dropped(tmp_path: Path) -> None:
    inputs, outcomes, problems = chunk_one()
    path = tmp_path / "r.csv"
    write_report(path, [(inputs, outcomes.drop(index=5), problems)])
    rows = read_csv_rows(path)
    assert [r[0] for r in rows[1:]] == ["2", "3", "5", "9"]
    assert rows[3][1] == MISSING_OUTCOME_STATUS and "no outcome" in rows[3][3]


def test_multi_id_outcome_columns(tmp_path: Path) -> None:
    columns = ["status", "property_id", "contact_1_id", "contact_2_id", "error", "warnings"]
    inputs, _, _ = chunk_two()
    outcomes = pd.DataFrame(
        {
            "status": ["partial"],
            "property_id": [10],
            "contact_1_id": [11.0],
            "contact_2_id": [None],
            "error": ["Owner 2: API refused"],
            "warnings": [""],
        },
        index=[12],
    )
    path = tmp_path / "r.json"
    with open_report(path, headers=HEADERS, outcome_columns=columns) as report:
        report.write(inputs, outcomes, empty_problems())
    row = json.loads(path.read_text(encoding="utf-8"))["rows"][0]
    assert (row["property_id"], row["contact_1_id"], row["contact_2_id"]) == (10, 11, None)


@pytest.mark.parametrize(
    ("status", "colour"),
    [
        ("created", GREEN),
        ("valid", GREEN),
        ("invalid", RED),
        ("failed", RED),
        ("not-sent", YELLOW),
        ("skipped", "D9D9D9"),
        ("API-failure", RED),
        ("something else", None),
    ],
)
def test_status_colours(status: str, colour: str | None) -> None:
    assert xlsx_module.status_colour(status) == colour
