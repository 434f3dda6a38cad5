"""Issue 2's contract, end to end: the CLI against the sandbox over a real loopback socket.

Every test asserts on what the server received (``sandbox.store``), on the
report's contents and on the exit code, never on the importer's internals.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from importer.sandbox import SandboxServer
from importer.sandbox.rules import CONTACT_FIELDS, PROPERTY_FIELDS

RunCli = Callable[..., tuple[int, str, str]]
REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
MAPPINGS = REPO / "mappings"

CONTACTS_CSV = SAMPLES / "contacts.csv"
PROPERTIES_XLSX = SAMPLES / "properties.xlsx"
CONTACTS_MAP = MAPPINGS / "contacts.yaml"
PROPERTIES_MAP = MAPPINGS / "properties.yaml"
CREATE = {"contact": "/api/contact/create", "property": "/api/property/create"}
FRONT = ["row", "status", "id", "error", "warnings"]

# What mappings/contacts.yaml makes of each valid row of samples/contacts.csv, worked out by hand
# from the file: names joined, Cell/Landline mapped, phones as 10 digits, "Ohio"/"oh" -> OH,
# ZIP+4 cut, list cells split on , or ;, slots 2-3 null, source from the defaults, and
# fields whose cells are empty left out.
CONTACT_PAYLOADS: dict[int, dict[str, Any]] = {
    2: {
        "fullname": "John Smith",
        "email": "john.smith@example.com",
        "phone": "2165550134",
        "phonetype": "Mobile",
        "source": "Spring mailer",
        "address": "123 Main St",
        "city": "Cleveland",
        "state": "OH",
        "zipcode": "44113",
        "type": ["Buyer"],
        "tags": ["sms opt-in", "active investors"],
        "customfields": ["85000", None, None, "2019-06-14"],
    },
    3: {
        "fullname": "Maria Garcia",
        "email": "maria.garcia@example.com",
        "phone": "2165550147",
        "phonetype": "Mobile",
        "source": "Spring mailer",
        "address": "4410 Lorain Ave",
        "city": "Cleveland",
        "state": "OH",
        "zipcode": "44102",
        "type": ["Seller"],
        "tags": ["absentee"],
        "customfields": ["120500", None, None, "2015-03-02"],
    },
    4: {
        "fullname": "José Muñoz",
        "email": "jose.munoz@example.com",
        "phone": "6145550112",
        "phonetype": "Home",
        "source": "Spring mailer",
        "address": "88 High St",
        "city": "Columbus",
        "state": "OH",
        "zipcode": "43215",
        "type": ["Buyer", "Seller"],
        "tags": ["cash buyer"],
    },
    5: {
        "fullname": "Linda O'Brien",
        "email": "lobrien@example.net",
        "phone": "6175550123",
        "phonetype": "Mobile",
        "source": "Spring mailer",
        "address": "17 Brighton Ave",
        "city": "Allston",
        "state": "MA",
        "zipcode": "02134",
        "type": ["Seller"],
        "tags": ["probate", "high equity"],
        "customfields": ["230000", None, None, "2008-11-20"],
    },
    6: {
        "fullname": "Robert Chen",
        "email": "rchen@example.org",
        "phone": "3125550166",
        "phonetype": "Work",
        "source": "Spring mailer",
        "address": "2100 N Clark St",
        "city": "Chicago",
        "state": "IL",
        "zipcode": "60614",
        "type": ["Buyer"],
    },
    7: {
        "fullname": "Aisha Johnson",
        "email": "aisha.j@example.com",
        "phone": "4045550181",
        "phonetype": "Home",
        "source": "Spring mailer",
        "address": "55 Peachtree St",
        "city": "Atlanta",
        "state": "GA",
        "zipcode": "30303",
        "type": ["Seller"],
        "tags": ["tired landlord"],
        "customfields": ["64000", None, None, "2012-07-30"],
    },
    # Rows 8, 9, 13, 14 and 15 hold one or two invalid optional values: each contact is created
    # without them (on_invalid: omit-field, the default for a contact's optional fields).
    8: {
        "fullname": "Tom Nguyen",
        "email": "tom.nguyen@example.com",
        "source": "Spring mailer",
        "address": "900 Congress Ave",
        "city": "Austin",
        "state": "TX",
        "zipcode": "78701",
        "type": ["Buyer"],
    },  # phone '555-0199' left out, and with it its type
    9: {
        "fullname": "Sarah Miller",
        "phone": "5035550142",
        "phonetype": "Mobile",
        "source": "Spring mailer",
        "address": "1200 SW Main St",
        "city": "Portland",
        "state": "OR",
        "zipcode": "97205",
        "type": ["Seller"],
        "customfields": ["41000", None, None, "2017-01-09"],
    },
    12: {
        "fullname": "Carlos Rivera",
        "email": "carlos.rivera@example.com",
        "phone": "7875550155",
        "phonetype": "Mobile",
        "source": "Spring mailer",
        "address": "Calle Fortaleza 20",
        "city": "San Juan",
        "state": "PR",
        "zipcode": "00901",
        "type": ["Seller"],
        "customfields": ["15000", None, None, "2020-02-11"],
    },
    13: {
        "fullname": "Emily Davis",
        "email": "emily.davis@example.com",
        "phone": "3135550178",
        "source": "Spring mailer",
        "address": "1 Woodward Ave",
        "city": "Detroit",
        "state": "MI",
        "zipcode": "48226",
        "type": ["Buyer"],
    },
    14: {
        "fullname": "Kevin Brown",
        "email": "kevin.brown@example.com",
        "phone": "2165550190",
        "phonetype": "Mobile",
        "source": "Spring mailer",
        "address": "77 Euclid Ave",
        "city": "Cleveland",
        "zipcode": "44113",
        "type": ["Seller"],
    },
    15: {
        "fullname": "Priya Patel",
        "email": "priya.patel@example.com",
        "phone": "2165550123",
        "phonetype": "Mobile",
        "source": "Spring mailer",
        "address": "3 Superior Ave",
        "city": "Cleveland",
        "state": "OH",
    },
    16: {
        "fullname": "Grace Lee",
        "email": "grace.lee@example.com",
        "phone": "2065550160",
        "phonetype": "Mobile",
        "source": "Spring mailer",
        "address": "400 Pine St",
        "city": "Seattle",
        "state": "WA",
        "zipcode": "98101",
        "type": ["Buyer"],
        "tags": ['=HYPERLINK("http://example.com")'],
        "customfields": ["99000", None, None, "2018-05-05"],
    },
    17: {
        "fullname": "Daniel Wilson",
        "email": "dan.wilson@example.com",
        "phone": "3035550188",
        "phonetype": "Work",
        "source": "Spring mailer",
        "address": "1600 Glenarm Pl",
        "city": "Denver",
        "state": "CO",
        "zipcode": "80202",
        "type": ["Seller"],
        "tags": ["vacant"],
        "customfields": ["180000", None, None, "2010-10-10"],
    },
}
# Invalid rows of samples/contacts.csv with a fragment of *every* reason each must carry.
CONTACT_INVALID: dict[int, list[str]] = {10: ["fullname is required"]}
# Rows created without some of their values, with a fragment of each value's warning.
CONTACT_LEFT_OUT: dict[int, list[str]] = {
    8: ["phone '555-0199'"],
    9: ["email 'sarah.miller@example'"],
    13: ["phonetype 'Pager'"],
    14: ["state 'XX'"],
    15: ["zipcode '4411'", "type 'Renter'"],
}


def _property(address: str, city: str, state: str, zipcode: str, custom: list[str], tags: list[str]) -> dict:
    return {
        "address": address,
        "city": city,
        "state": state,
        "zipcode": zipcode,
        "source": "County tax list",
        "tags": tags,
        "customfields": custom,
    }


_TD = ["tax delinquent"]
# samples/properties.xlsx, sheet "Delinquent": numeric ZIP cells padded back, whole numbers without
# ".0", dates as ISO 8601, "Ohio"/"ri" as codes, ZIP+4 cut.
PROPERTY_PAYLOADS: dict[int, dict[str, Any]] = {
    2: _property("1422 W 65th St", "Cleveland", "OH", "44102", ["123456789012", "84500", "2021-04-01"], _TD),
    3: _property(
        "3505 E 116th St", "Cleveland", "OH", "44105", ["13320045", "41200.5", "2020-10-15"], [*_TD, "vacant"]
    ),
    4: _property("12 Harvard Ave", "Allston", "MA", "02134", ["2134000017", "410000", "2022-01-03"], _TD),
    5: _property("7 Benefit St", "Providence", "RI", "02903", ["9030012", "355000", "2019-07-22"], _TD),
    6: _property("400 Asylum St", "Hartford", "CT", "06103", ["610300441", "198000", "2023-02-28"], _TD),
    7: _property("Calle Luna 155", "San Juan", "PR", "00901", ["90100155", "95000", "2021-09-09"], _TD),
    9: _property("88 Elm St", "Manchester", "NH", "03101", ["310100088", "230000", "2018-03-17"], _TD),
    10: _property("910 Church St", "Nashville", "TN", "37203", ["372030910", "310000", "2022-08-08"], _TD),
    13: _property("200 S Tryon St", "Charlotte", "NC", "28202", ["282020200", "640000", "2019-01-15"], _TD),
    14: _property("1 Monument Cir", "Indianapolis", "IN", "46204", ["462040001", "1200000", "2020-06-30"], _TD),
}
PROPERTY_INVALID: dict[int, list[str]] = {8: ["address is required"], 11: ["state 'VX'"]}


# -- helpers ---------------------------------------------------------------------------------------


def read_report(path: Path) -> pd.DataFrame:
    """Any report format as a frame of text, one row per input row, indexed by row number."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    elif suffix == ".json":
        rows = json.loads(path.read_text(encoding="utf-8"))["rows"]
        frame = pd.DataFrame(
            [
                {k: ("" if v is None else str(v)) for k, v in r.items() if k not in {"data", "problems"}} | r["data"]
                for r in rows
            ]
        )
    else:
        ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        values = list(ws.iter_rows(values_only=True))
        width = len(values[0])
        cells = [["" if v is None else str(v) for v in r] + [""] * (width - len(r)) for r in values[1:]]
        frame = pd.DataFrame(cells, columns=values[0])
    frame["row"] = frame["row"].astype(int)
    return frame.set_index("row", drop=False)


def created_bodies(sandbox: SandboxServer, kind: str) -> dict[int, dict[str, Any]]:
    """record id -> the JSON body the server received for every create it carried out."""
    out: dict[int, dict[str, Any]] = {}
    for r in sandbox.store.requests(CREATE[kind]):
        if r["outcome"] == "created":
            assert r["record_id"] not in out, f"record {r['record_id']} created twice"
            out[r["record_id"]] = json.loads(r["body"])
    return out


def assert_clean_payload(body: dict[str, Any], kind: str) -> None:
    """Reference keys only; no empty values; no surrounding white space; arrays where the API wants them."""
    allowed = CONTACT_FIELDS if kind == "contact" else PROPERTY_FIELDS
    assert set(body) <= set(allowed), set(body) - set(allowed)
    for key, value in body.items():
        if key in {"type", "tags", "customfields"}:
            assert isinstance(value, list) and value, (key, value)
            items = [v for v in value if v is not None]
            assert key == "customfields" or len(items) == len(value), (key, value)
            assert len(value) <= 28
            if key == "customfields":
                assert value[-1] is not None, value
        else:
            items = [value]
        for item in items:
            assert isinstance(item, str) and item, (key, value)
            assert item == item.strip(), (key, value)


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_mapping(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def clean_env() -> dict[str, str]:
    """The environment for a child process: no API settings, but the test's private ledger."""
    hidden = {"REALEFLOW_API_KEY", "REALEFLOW_API_URL", "REALEFLOW_SANDBOX_KEY"}
    return {k: v for k, v in os.environ.items() if k not in hidden}


def assert_nothing_sent(sandbox: SandboxServer) -> None:
    assert sandbox.store.requests() == []
    assert sandbox.store.count("contacts") == 0 and sandbox.store.count("properties") == 0


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("realeflow-import: error: "), err
    return lines[0]


# -- push of the samples ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_push_contacts_sample_creates_every_valid_row_once_with_the_mapped_payload(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path, fmt: str
) -> None:
    report = tmp_path / f"contacts.report.{fmt}"
    code, out, _ = run_cli("push", CONTACTS_CSV, "--mapping", CONTACTS_MAP, "--report", report, "-q")
    assert code == 1  # some rows are invalid on purpose

    rep = read_report(report)
    # One line per input row, in input order, Excel row numbers (row 11 is blank: skipped, not reported).
    assert rep["row"].tolist() == [*range(2, 11), *range(12, 18)]
    assert list(rep.columns[: len(FRONT)]) == FRONT
    assert list(rep.columns[len(FRONT) :]) == pd.read_csv(CONTACTS_CSV, nrows=0).columns.tolist()

    bodies = created_bodies(env, "contact")
    assert len(bodies) == len(CONTACT_PAYLOADS) == env.store.count("contacts")
    created = rep[rep["status"] == "created"]
    assert set(created["row"]) == set(CONTACT_PAYLOADS)
    for row, ident in zip(created["row"], created["id"], strict=True):
        body = bodies[int(float(ident))]
        assert body == CONTACT_PAYLOADS[row], row
        assert_clean_payload(body, "contact")
        assert rep.loc[row, "error"] == ""

    invalid = rep[rep["status"] == "invalid"]
    assert set(invalid["row"]) == set(CONTACT_INVALID)
    for row, fragments in CONTACT_INVALID.items():
        error = rep.loc[row, "error"]
        assert rep.loc[row, "id"] == ""
        for fragment in fragments:
            assert fragment in error, (row, error)
        assert error.count("; ") >= len(fragments) - 1
    for row, fragments in CONTACT_LEFT_OUT.items():
        warnings = rep.loc[row, "warnings"]
        for fragment in fragments:
            assert f"{fragment} " in warnings, (row, warnings)
        assert warnings.count("left out, the record is sent without it") == len(fragments), (row, warnings)
    # The input's own cells come back unchanged (apart from formula neutralisation).
    assert rep.loc[4, "Phone"] == "'+1 614 555 0112"
    assert rep.loc[5, "Zip"] == "2134"
    assert rep.loc[16, "Tags"] == '\'=HYPERLINK("http://example.com")'
    assert "created" in out and str(report) in out


def test_push_properties_workbook_by_sheet_name(env: SandboxServer, run_cli: RunCli, tmp_path: Path) -> None:
    report = tmp_path / "props.csv"
    code, _, _ = run_cli(
        "push", PROPERTIES_XLSX, "-m", PROPERTIES_MAP, "--sheet", "Delinquent", "--report", report, "-q"
    )
    assert code == 1
    rep = read_report(report)
    assert rep["row"].tolist() == [*range(2, 12), 13, 14]  # row 12 is blank
    assert rep.loc[4, "ZIP"] == "2134"  # the numeric cell as text, leading zero not invented in the report
    assert rep.loc[2, "Delinquent Since"] == "2021-04-01"

    bodies = created_bodies(env, "property")
    created = rep[rep["status"] == "created"]
    assert set(created["row"]) == set(PROPERTY_PAYLOADS)
    assert len(bodies) == len(PROPERTY_PAYLOADS) == env.store.count("properties")
    for row, ident in zip(created["row"], created["id"], strict=True):
        assert bodies[int(ident)] == PROPERTY_PAYLOADS[row], row
        assert_clean_payload(bodies[int(ident)], "property")
    for row, fragments in PROPERTY_INVALID.items():
        assert rep.loc[row, "status"] == "invalid"
        assert all(f in rep.loc[row, "error"] for f in fragments), rep.loc[row, "error"]
    # The list endpoint shows what was stored, newest first, with GUID id beside integer propertyId.
    stored = {p["property_id"]: p for p in env.store.properties()}
    assert {stored[int(i)]["address"] for i in created["id"]} == {p["address"] for p in PROPERTY_PAYLOADS.values()}


def test_push_every_row_valid_exits_0_and_trims_and_omits_empty(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path
) -> None:
    data = write_csv(
        tmp_path / "clean.csv",
        "  FIRST NAME ,last name,E-mail,Zip,Tags,Note\n"
        '  Ann , Lee ,  ann@example.com  , 44113 ," a ; b ,, c ",  hello  \n'
        "Bo,,,,,\n",
    )
    mapping = write_mapping(
        tmp_path / "m.yaml",
        "kind: contact\n"
        "fields:\n"
        "  fullname: [first name, Last Name]\n"  # header matching ignores case and white space
        "  email: e-mail\n"
        "  zipcode: ZIP\n"
        "  tags: tags\n"
        "customfields:\n"
        "  3: note\n",
    )
    report = tmp_path / "r.json"
    code, _, err = run_cli("push", data, "-m", mapping, "--report", report, "-q")
    assert code == 0, err
    bodies = sorted(created_bodies(env, "contact").values(), key=lambda b: b["fullname"])
    assert bodies == [
        {
            "fullname": "Ann Lee",
            "email": "ann@example.com",
            "zipcode": "44113",
            "tags": ["a", "b", "c"],
            "customfields": [None, None, "hello"],
        },
        {"fullname": "Bo"},
    ]
    rep = read_report(report)
    assert rep["status"].tolist() == ["created", "created"]


def test_push_retries_server_errors_and_creates_each_row_once(run_cli: RunCli, tmp_path: Path, monkeypatch) -> None:
    from importer.sandbox import Faults

    rows = "".join(f"Person {i},{44100 + i}\n" for i in range(12))
    data = write_csv(tmp_path / "many.csv", "Name,Zip\n" + rows)
    mapping = write_mapping(tmp_path / "m.yaml", "kind: contact\nfields:\n  fullname: Name\n  zipcode: Zip\n")
    with SandboxServer(faults=Faults(error_rate=0.3, seed=7)) as sb:
        monkeypatch.setenv("REALEFLOW_API_URL", str(sb.url))
        monkeypatch.setenv("REALEFLOW_API_KEY", sb.api_key)
        code, _, err = run_cli("push", data, "-m", mapping, "--report", tmp_path / "r.csv", "--max-attempts", "8", "-q")
        assert code == 0, err
        assert any(r["outcome"] == "fault" for r in sb.store.requests(CREATE["contact"]))
        names = sorted(c["fullname"] for c in sb.store.contacts())
        sb.close()
    assert names == sorted(f"Person {i}" for i in range(12))


# -- validate --------------------------------------------------------------------------------------


def test_validate_sends_nothing_and_needs_no_key(
    sandbox: SandboxServer, run_cli: RunCli, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REALEFLOW_API_URL", str(sandbox.url))
    monkeypatch.delenv("REALEFLOW_API_KEY", raising=False)
    data = samples / "samples" / "contacts.csv"
    code, out, _ = run_cli("validate", data, "-m", samples / "mappings" / "contacts.yaml", "-q")
    assert code == 1
    assert_nothing_sent(sandbox)
    default = samples / "samples" / "contacts.validate-report.csv"  # the documented default place
    assert default.is_file() and str(default) in out
    rep = read_report(default)
    assert set(rep.loc[rep["status"] == "valid", "row"]) == set(CONTACT_PAYLOADS)
    assert set(rep.loc[rep["status"] == "invalid", "row"]) == set(CONTACT_INVALID)
    assert set(rep["status"]) == {"valid", "invalid"}
    # Row 15's two bad values are both said, in its warnings: the contact is still valid.
    assert rep.loc[15, "error"] == "" and rep.loc[15, "warnings"].count("left out") == 2


def test_validate_all_valid_exits_0(env: SandboxServer, run_cli: RunCli, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "ok.csv", "Name,State\nAnn,ohio\nBo,TX\n")
    mapping = write_mapping(tmp_path / "m.yaml", "kind: contact\nfields: {fullname: Name, state: State}\n")
    code, out, _ = run_cli("validate", data, "-m", mapping, "--report", tmp_path / "r.xlsx", "-q")
    assert code == 0
    assert "valid" in out
    assert_nothing_sent(env)
    assert read_report(tmp_path / "r.xlsx")["status"].tolist() == ["valid", "valid"]


def test_default_push_report_next_to_input(env: SandboxServer, run_cli: RunCli, samples: Path) -> None:
    data = samples / "samples" / "properties.xlsx"
    code, out, _ = run_cli("push", data, "-m", samples / "mappings" / "properties.yaml", "-q")
    assert code == 1
    default = samples / "samples" / "properties.push-report.csv"
    assert default.is_file() and str(default) in out
    assert len(read_report(default)) == 12


# -- exit 2: refused before anything is sent --------------------------------------------------------

_BAD_MAPPINGS = {
    "missing column": ("kind: contact\nfields:\n  fullname: Full Nme\n", ["'Full Nme'", "did you mean 'Full Name'"]),
    "unknown field": ("kind: contact\nfields:\n  fullname: Full Name\n  zip: Zip\n", ["'zip'", "zipcode"]),
    "slot 29": ("kind: contact\nfields:\n  fullname: Full Name\ncustomfields:\n  29: Zip\n", ["29", "1..28"]),
    "field the kind lacks": (
        "kind: property\nfields:\n  address: Street\n  email: Full Name\n",
        ["'email'", "property", "contact"],
    ),
    "bad kind": ("kind: person\nfields:\n  fullname: Full Name\n", ["'person'", "contact"]),
    "not yaml": ("kind: contact\nfields: [fullname: {\n", ["YAML"]),
    # Issue 12 item 15: YAML keeps the last of two equal keys, so this made contacts named by street.
    "same field twice": (
        "kind: contact\nfields:\n  fullname: Full Name\n  fullname: Street\n",
        ["'fullname' is given twice in fields", "lines 3 and 4"],
    ),
    # Issue 12 item 16: a list where the role flags' block belongs was an internal error.
    "relation as a list": (
        "kind: property-with-contacts\nproperty:\n  fields: {address: Street}\ncontacts:\n"
        "  - fields: {fullname: Full Name}\n    relation: [IsOwner]\n",
        ["contacts[1].relation must give each role flag true or false", "IsOwner: true"],
    ),
}


@pytest.mark.parametrize("case", sorted(_BAD_MAPPINGS))
@pytest.mark.parametrize("command", ["validate", "push"])
def test_mapping_errors_exit_2_name_the_offender_and_send_nothing(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path, case: str, command: str
) -> None:
    text, fragments = _BAD_MAPPINGS[case]
    data = write_csv(tmp_path / "in.csv", "Full Name,Street,Zip\nAnn Lee,1 Main St,44113\n")
    mapping = write_mapping(tmp_path / "m.yaml", text)
    code, _, err = run_cli(command, data, "-m", mapping, "-q")
    assert code == 2
    line = one_line_error(err)
    assert str(mapping) in line
    for fragment in fragments:
        assert fragment in line, line
    assert_nothing_sent(env)
    assert not list(tmp_path.glob("*-report.*")), "no report for a run refused up front"


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("missing.csv", None, "file not found"),
        ("broken.xlsx", b"PK\x03\x04 this is not really a workbook", "broken.xlsx"),
        ("empty.csv", b"", "empty"),
        ("notes.pdf", b"%PDF-1.4", ".pdf"),
    ],
)
def test_unreadable_file_exits_2(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path, name: str, content: bytes | None, fragment: str
) -> None:
    data = tmp_path / name
    if content is not None:
        data.write_bytes(content)
    code, _, err = run_cli("push", data, "-m", CONTACTS_MAP, "-q")
    assert code == 2
    assert fragment in one_line_error(err)
    assert_nothing_sent(env)


def test_missing_key_exits_2_naming_the_variable(
    sandbox: SandboxServer, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REALEFLOW_API_URL", str(sandbox.url))
    monkeypatch.setenv("REALEFLOW_API_KEY", "   ")
    code, _, err = run_cli("push", CONTACTS_CSV, "-m", CONTACTS_MAP, "--report", tmp_path / "r.csv", "-q")
    assert code == 2
    assert "REALEFLOW_API_KEY" in one_line_error(err)
    assert_nothing_sent(sandbox)
    monkeypatch.delenv("REALEFLOW_API_KEY")
    code, _, err = run_cli("status")
    assert code == 2 and "REALEFLOW_API_KEY" in one_line_error(err)


def test_key_is_not_a_command_line_option(run_cli: RunCli, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run_cli("push", CONTACTS_CSV, "-m", CONTACTS_MAP, "--api-key", "secret")
    assert exc.value.code == 2


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--concurrency", "0"], "--concurrency"),
        (["--report", "r.txt"], ".txt"),
        (["--sheet", "Nope"], "'Delinquent'"),
        (["--sheet", "Notes"], "no data rows"),
    ],
)
def test_usage_errors_exit_2(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path, args: list[str], fragment: str
) -> None:
    args = [str(tmp_path / a) if a.endswith(".txt") else a for a in args]
    code, _, err = run_cli("push", PROPERTIES_XLSX, "-m", PROPERTIES_MAP, *args, "-q")
    assert code == 2
    assert fragment in one_line_error(err)
    assert env.store.count("properties") == 0
    assert not env.store.requests("/api/property/create")


def test_sheet_named_like_a_number_is_picked_by_name(env: SandboxServer, run_cli: RunCli, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "2"
    first.append(["Property Address"])
    first.append(["1 Wrong Sheet Rd"])
    second = wb.create_sheet("2024")
    second.append(["Property Address"])
    second.append(["9 Right Sheet Rd"])
    wb.save(tmp_path / "years.xlsx")
    mapping = write_mapping(tmp_path / "m.yaml", "kind: property\nfields:\n  address: Property Address\n")
    code, _, err = run_cli("push", tmp_path / "years.xlsx", "-m", mapping, "--sheet", "2024", "-q")
    assert code == 0, err
    assert [p["address"] for p in env.store.properties()] == ["9 Right Sheet Rd"]
    code, _, err = run_cli("push", tmp_path / "years.xlsx", "-m", mapping, "--sheet", "2", "-q")
    assert code == 0, err  # "2" is a sheet's name here, so it wins over "the second sheet"
    assert [p["address"] for p in env.store.properties()] == ["9 Right Sheet Rd", "1 Wrong Sheet Rd"]


def test_sheet_on_a_csv_is_a_usage_error(env: SandboxServer, run_cli: RunCli) -> None:
    code, _, err = run_cli("validate", CONTACTS_CSV, "-m", CONTACTS_MAP, "--sheet", "Data", "-q")
    assert code == 2
    assert "--sheet" in one_line_error(err)


# -- exit 3: the API refuses us --------------------------------------------------------------------


def test_wrong_key_exits_3_and_creates_nothing(
    sandbox: SandboxServer, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REALEFLOW_API_URL", str(sandbox.url))
    monkeypatch.setenv("REALEFLOW_API_KEY", "not-the-key-0123456789")
    code, out, err = run_cli("push", CONTACTS_CSV, "-m", CONTACTS_MAP, "--report", tmp_path / "r.csv", "-q")
    assert code == 3
    line = one_line_error(err)
    assert "401" in line and "REALEFLOW_API_KEY" in line
    assert "not-the-key-0123456789" not in out + err
    assert sandbox.store.count("contacts") == 0
    assert [r["status"] for r in sandbox.store.requests()] == [401]  # stopped at the first answer
    code, _, err = run_cli("status")
    assert code == 3 and "401" in err


@pytest.mark.parametrize("status", ["Suspended", "Cancelled"])
def test_inactive_account_exits_3_and_creates_nothing(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path, status: str
) -> None:
    env.faults.account_status = status
    code, _, err = run_cli("push", CONTACTS_CSV, "-m", CONTACTS_MAP, "--report", tmp_path / "r.csv", "-q")
    assert code == 3
    assert f"'{status}'" in one_line_error(err)
    assert env.store.requests(CREATE["contact"]) == []
    assert env.store.count("contacts") == 0
    code, out, err = run_cli("status")
    assert code == 3 and status in out


def test_status_prints_the_account_status(env: SandboxServer, run_cli: RunCli) -> None:
    code, out, err = run_cli("status")
    assert code == 0, err
    assert "Active" in out and str(env.url) in out
    assert [r["path"] for r in env.store.requests()] == ["/api/account/status"]


# -- the key stays secret; errors are one line -----------------------------------------------------


def test_api_key_never_printed_logged_or_written(
    env: SandboxServer, run_cli: RunCli, tmp_path: Path, caplog: pytest.LogCaptureFixture, private_ledger: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    key = env.api_key
    texts: list[str] = []
    log = tmp_path / "requests.jsonl"
    for fmt in ("csv", "json", "xlsx"):
        report = tmp_path / f"r.{fmt}"
        args = ["--report", report, "--log-file", log, "--force", "-q"]
        code, out, err = run_cli("--debug", "push", CONTACTS_CSV, "-m", CONTACTS_MAP, *args)
        assert code == 1
        texts += [out, err, read_report(report).to_csv()]
        if fmt != "xlsx":
            texts.append(report.read_text(encoding="utf-8-sig"))
    code, out, err = run_cli("--debug", "status")
    texts += [out, err]
    env.api_key = "rotated-key"  # now ours is wrong: the 401 path must not echo it either
    code, out, err = run_cli("--debug", "push", CONTACTS_CSV, "-m", CONTACTS_MAP, "--report", tmp_path / "x.csv")
    assert code == 3
    texts += [out, err, caplog.text, log.read_text(encoding="utf-8")]
    assert log.stat().st_size > 0
    assert all(key not in t for t in texts)
    basic = base64.b64encode(f"{key}:".encode()).decode()
    assert all(basic not in t for t in texts)
    # Nor in the ledger's bytes (SQLite file and its write-ahead log).
    stored = b"".join(p.read_bytes() for p in private_ledger.parent.glob(private_ledger.name + "*"))
    assert stored and key.encode() not in stored and basic.encode() not in stored


def test_errors_are_one_line_without_traceback_unless_debug(run_cli: RunCli, tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    code, _, err = run_cli("validate", missing, "-m", CONTACTS_MAP)
    assert code == 2
    assert str(missing) in one_line_error(err)
    code, _, err = run_cli("--debug", "validate", missing, "-m", CONTACTS_MAP)
    assert code == 2
    assert "Traceback" in err and str(missing) in err.splitlines()[-1]
    code, _, err = run_cli("validate", missing, "-m", CONTACTS_MAP, "--debug")
    assert "Traceback" in err  # --debug after the command works too


def test_python_dash_m_importer_runs_the_cli(tmp_path: Path) -> None:
    env = clean_env()
    report = tmp_path / "r.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "importer",
            "validate",
            str(CONTACTS_CSV),
            "-m",
            str(CONTACTS_MAP),
            "--report",
            str(report),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert str(report) in proc.stdout
    assert json.loads(report.read_text(encoding="utf-8"))["summary"]["counts"] == {"valid": 14, "invalid": 1}
    proc = subprocess.run(
        [sys.executable, "-m", "importer", "push", str(CONTACTS_CSV), "-m", str(CONTACTS_MAP)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "realeflow-import: error: no API key: set the environment variable REALEFLOW_API_KEY "
        "(never pass it on the command line)"
    )


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("realeflow-import")
    assert script.exists()
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert all(c in proc.stdout for c in ("validate", "push", "status", "sandbox"))


def test_demo_runs_from_the_repository(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(SAMPLES, tmp_path / "samples", ignore=shutil.ignore_patterns("*-report.*"))
    shutil.copytree(MAPPINGS, tmp_path / "mappings")
    env = clean_env()
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run(
        [sys.executable, "-m", "importer.demo"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    reports = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"contacts.push-report.xlsx", "properties.push-report.csv"} <= reports
    contacts = read_report(tmp_path / "out" / "contacts.push-report.xlsx")
    assert set(contacts.loc[contacts["status"] == "created", "row"]) == set(CONTACT_PAYLOADS)
    properties = read_report(tmp_path / "out" / "properties.push-report.csv")
    assert set(properties.loc[properties["status"] == "created", "row"]) == set(PROPERTY_PAYLOADS)
    assert "sandbox now holds" in proc.stdout
    # Issue 15: "exit code 1" four times, unexplained, read like a failure; each now says why.
    codes = [line for line in proc.stdout.splitlines() if line.strip().startswith("exit code")]
    assert codes and all("on purpose" in line for line in codes if line.strip().startswith("exit code 1"))
    assert "Exit code 1 is what the demo should give: the samples hold rows broken on purpose" in proc.stdout


def test_sandbox_command_serves_the_api_it_prints(tmp_path: Path) -> None:
    env = clean_env()
    env["REALEFLOW_SANDBOX_KEY"] = "given-sandbox-key"
    proc = subprocess.Popen(
        [sys.executable, "-m", "importer", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        exports: dict[str, str] = {}
        assert proc.stdout is not None
        while len(exports) < 2:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "sandbox ended"
            if line.strip().startswith("export "):
                name, _, value = line.strip()[len("export ") :].partition("=")
                exports[name] = value
        assert exports["REALEFLOW_API_KEY"] == "given-sandbox-key"
        run_env = {**env, **exports}
        status = subprocess.run(
            [sys.executable, "-m", "importer", "status"], capture_output=True, text=True, env=run_env, timeout=60
        )
        assert status.returncode == 0, status.stderr
        assert "Active" in status.stdout
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_library_calls_as_the_readme_shows(env: SandboxServer, tmp_path: Path) -> None:
    import importer

    result = importer.push_file(CONTACTS_CSV, CONTACTS_MAP, report=tmp_path / "leads.report.xlsx")
    assert result.counts == {"created": len(CONTACT_PAYLOADS), "invalid": len(CONTACT_INVALID)}
    assert result.report_path == tmp_path / "leads.report.xlsx" and result.report_path.is_file()
    assert result.exit_code == 1
    outcomes = result.outcomes
    assert outcomes is not None
    assert set(outcomes.index[outcomes["status"] == "created"]) == set(CONTACT_PAYLOADS)
    assert {"status", "id", "error"} <= set(outcomes.columns)
    checked = importer.validate_file(CONTACTS_CSV, CONTACTS_MAP, report=False)
    assert checked.counts == {"valid": len(CONTACT_PAYLOADS), "invalid": len(CONTACT_INVALID)}
    assert checked.report_path is None


def test_sheets_lists_a_workbooks_sheets(run_cli: RunCli) -> None:
    code, out, _ = run_cli("sheets", PROPERTIES_XLSX)
    assert code == 0
    assert out.splitlines() == ["1\tDelinquent\t12 rows", "2\tNotes\t0 rows"]
    code, _, err = run_cli("sheets", CONTACTS_CSV)
    assert code == 2 and "not an Excel workbook" in one_line_error(err)
