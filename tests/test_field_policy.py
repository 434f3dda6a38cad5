"""Issue 15: an invalid optional value is left out and the record still created (``on_invalid``).

End to end through the CLI against the sandbox over a real socket (what the server stored, the
three report formats, the summary, the exit code), plus the mapping key and the validate stage.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.errors import MappingError
from importer.mapping.model import parse_mapping
from importer.sandbox import SandboxServer
from importer.validate.rules import validate_fields

CONTACT_MAP = """\
kind: contact
fields:
  fullname: Name
  email: Email
  phone: Phone
  phonetype: Phone Type
  state: State
"""
ROWS = (
    "Name,Email,Phone,Phone Type,State\n"
    "Maria Garcia,maria.garcia@yahoo,(216) 555-0147,Mobile,OH\n"  # e-mail without a domain
    "Lisa Brown,lisa.brown@example.com,555-0199,Mobile,Ohio\n"  # a 7-digit phone
    "Ann Lee,ann@example.com,216-555-0101,Home,XX\n"  # a state that is none
    ",nobody@example.com,216-555-0102,Home,OH\n"  # no name: the record cannot be made
)


def _files(tmp_path: Path, mapping: str = CONTACT_MAP) -> tuple[Path, Path]:
    data = tmp_path / "leads.csv"
    data.write_text(ROWS, encoding="utf-8")
    (tmp_path / "map.yaml").write_text(mapping, encoding="utf-8")
    return data, tmp_path / "map.yaml"


def _bodies(sb: SandboxServer) -> dict[str, dict[str, Any]]:
    return {
        json.loads(r["body"])["fullname"]: json.loads(r["body"])
        for r in sb.store.requests("/api/contact/create")
        if r["outcome"] == "created"
    }


def _report(path: Path) -> pd.DataFrame:
    if path.suffix == ".json":
        rows = json.loads(path.read_text(encoding="utf-8"))["rows"]
        return pd.DataFrame(
            [{k: ("" if v is None else str(v)) for k, v in r.items() if k != "data"} for r in rows]
        ).set_index("row")
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False).set_index("row")
    ws = openpyxl.load_workbook(path).worksheets[0]
    values = [[("" if c.value is None else str(c.value)) for c in r] for r in ws.iter_rows()]
    return pd.DataFrame(values[1:], columns=values[0]).set_index("row")


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_a_contact_with_a_bad_email_is_created_without_it(
    env: SandboxServer, run_cli: Any, tmp_path: Path, fmt: str
) -> None:
    data, mapping = _files(tmp_path)
    report = tmp_path / f"r.{fmt}"
    code, out, _ = run_cli("push", data, "-m", mapping, "--report", report)
    assert code == 1  # row 5 has no name: still invalid
    bodies = _bodies(env)
    assert set(bodies) == {"Maria Garcia", "Lisa Brown", "Ann Lee"}
    assert "email" not in bodies["Maria Garcia"] and bodies["Maria Garcia"]["phone"] == "2165550147"
    # A phone left out takes its type with it; the rest of the contact is sent.
    assert "phone" not in bodies["Lisa Brown"] and "phonetype" not in bodies["Lisa Brown"]
    assert bodies["Lisa Brown"]["email"] == "lisa.brown@example.com" and bodies["Lisa Brown"]["state"] == "OH"
    assert "state" not in bodies["Ann Lee"] and bodies["Ann Lee"]["phone"] == "2165550101"

    rep = _report(report)
    assert rep["status"].tolist() == ["created", "created", "created", "invalid"]
    assert "email 'maria.garcia@yahoo'" in rep.loc["2", "warnings"]
    assert "left out, the record is sent without it" in rep.loc["2", "warnings"]
    assert rep.loc["2", "error"] == "" and rep.loc["2", "id"] != ""
    assert "phone '555-0199'" in rep.loc["3", "warnings"] and "state: Ohio → OH" in rep.loc["3", "warnings"]
    assert "state 'XX'" in rep.loc["4", "warnings"]
    assert "fullname is required" in rep.loc["5", "error"]
    assert "Fields left out: 3 invalid values not sent" in out
    if fmt == "xlsx":  # the left-out cell is marked red with its reason
        ws = openpyxl.load_workbook(report).worksheets[0]
        col = {c.value: c.column for c in ws[1]}
        cell = ws.cell(row=2, column=col["Email"])
        assert cell.fill.start_color.rgb.endswith("FFC7CE") and "left out" in cell.comment.text
    if fmt == "json":
        summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
        assert summary["fields_left_out"] == 3 and summary["problem_counts"]["email.left_out"] == 1


def test_reject_record_keeps_the_old_behaviour(env: SandboxServer, run_cli: Any, tmp_path: Path) -> None:
    data, mapping = _files(tmp_path, CONTACT_MAP + "on_invalid: reject-record\n")
    report = tmp_path / "r.csv"
    code, out, _ = run_cli("push", data, "-m", mapping, "--report", report)
    assert code == 1
    assert _bodies(env) == {}  # every row has an invalid value: nothing is sent
    rep = _report(report)
    assert rep["status"].tolist() == ["invalid"] * 4
    assert "email 'maria.garcia@yahoo'" in rep.loc["2", "error"] and "left out" not in rep.loc["2", "error"]
    assert "Fields left out" not in out


def test_per_field_policy(env: SandboxServer, run_cli: Any, tmp_path: Path) -> None:
    data, mapping = _files(tmp_path, CONTACT_MAP + "on_invalid:\n  email: reject-record\n")
    report = tmp_path / "r.csv"
    run_cli("push", data, "-m", mapping, "--report", report)
    assert set(_bodies(env)) == {"Lisa Brown", "Ann Lee"}  # the bad e-mail rejects; the others are left out
    assert _report(report)["status"].tolist() == ["invalid", "created", "created", "invalid"]


def test_validate_counts_the_same_and_sends_nothing(env: SandboxServer, run_cli: Any, tmp_path: Path) -> None:
    data, mapping = _files(tmp_path)
    code, out, _ = run_cli("validate", data, "-m", mapping, "--report", tmp_path / "v.csv")
    assert code == 1 and env.store.count("requests") == 0
    assert _report(tmp_path / "v.csv")["status"].tolist() == ["valid", "valid", "valid", "invalid"]
    assert "Fields left out: 3" in out


OWNERS_MAP = """\
kind: property-with-contacts
property:
  fields: {address: Address, city: City, state: State, zipcode: Zip}
contacts:
  - label: Owner 1
    fields: {fullname: Owner, email: Owner Email, state: Mail State}
    relation: {IsOwner: true}
"""


def test_a_property_with_a_bad_location_is_rejected_its_owner_kept_without_a_bad_email(
    env: SandboxServer, run_cli: Any, tmp_path: Path
) -> None:
    data = tmp_path / "owners.csv"
    data.write_text(
        "Address,City,State,Zip,Owner,Owner Email,Mail State\n"
        "1 Oak St,Columbus,OH,43205,Ann Lee,ann@yahoo,XX\n"
        "2 Oak St,Columbus,ZZ,43205,Bo Chan,bo@example.com,OH\n",
        encoding="utf-8",
    )
    (tmp_path / "m.yaml").write_text(OWNERS_MAP, encoding="utf-8")
    code, _, _ = run_cli("push", data, "-m", tmp_path / "m.yaml", "--report", tmp_path / "r.csv")
    assert code == 1
    rep = _report(tmp_path / "r.csv")
    assert rep["status"].tolist() == ["created", "invalid"]
    assert [p["address"] for p in env.store.properties()] == ["1 Oak St"]
    (ann,) = env.store.contacts()
    assert ann["fullname"] == "Ann Lee" and not ann["email"] and not ann["state"]
    assert len(env.store.relations()) == 1
    assert "Owner 1: email 'ann@yahoo'" in rep.loc["2", "warnings"]
    assert "Property: state 'ZZ'" in rep.loc["3", "error"]


# -- the mapping key ------------------------------------------------------------------------------


def test_on_invalid_defaults_and_choices() -> None:
    contact = parse_mapping({"kind": "contact", "fields": {"fullname": "N", "email": "E", "state": "S"}})
    assert contact.records[0].omitted_when_invalid == {"email", "state"}
    prop = parse_mapping(
        {"kind": "property", "fields": {"address": "A", "state": "S", "tags": "T"}, "customfields": {3: "X"}}
    )
    assert prop.records[0].omitted_when_invalid == {"tags", "customfield_3"}
    every = parse_mapping({"kind": "property", "fields": {"address": "A", "state": "S"}, "on_invalid": "omit-field"})
    assert every.records[0].omitted_when_invalid == {"state"}  # never the required address
    graph = parse_mapping(
        {
            "kind": "property-with-contacts",
            "on_invalid": "reject-record",
            "property": {"fields": {"address": "A", "tags": "T"}},
            "contacts": [
                {"fields": {"fullname": "N", "email": "E", "phone": "P"}, "on_invalid": {"phone": "omit-field"}}
            ],
        }
    )
    assert graph.records[0].omitted_when_invalid == frozenset()
    assert graph.records[1].omitted_when_invalid == {"phone"}


@pytest.mark.parametrize(
    ("on_invalid", "needle"),
    [
        ("skip", "on_invalid must be omit-field or reject-record"),
        ({"fullname": "omit-field"}, "fullname is required for every contact, so it cannot be left out"),
        ({"emial": "omit-field"}, "unknown field 'emial'"),
        ({"email": "drop"}, "on_invalid.email must be omit-field or reject-record"),
    ],
)
def test_on_invalid_mistakes_are_named(on_invalid: Any, needle: str) -> None:
    with pytest.raises(MappingError, match=needle):
        parse_mapping({"kind": "contact", "fields": {"fullname": "N", "email": "E"}, "on_invalid": on_invalid})


# -- the validate stage ---------------------------------------------------------------------------

_EMAILS = st.sampled_from(["ann@example.com", "bad@example", "x@@y.com", "N/A", "", "bo@mail.example.org"])
_PHONES = st.sampled_from(["2165550147", "555-0199", "12345", "", "(216) 555-0101"])


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.tuples(_EMAILS, _PHONES), min_size=1, max_size=12))
def test_left_out_values_never_reach_the_values_and_never_make_a_row_invalid(
    cells: list[tuple[str, str]],
) -> None:
    index = pd.Index(range(2, 2 + len(cells)), name="row")
    fields = pd.DataFrame(
        {
            "fullname": ["Ann Lee"] * len(cells),
            "email": [e for e, _ in cells],
            "phone": [p for _, p in cells],
            "phonetype": ["Mobile"] * len(cells),
        },
        index=index,
    )
    strict = validate_fields(fields, "contact")
    kept = validate_fields(fields, "contact", omit={"email", "phone", "phonetype"})
    assert kept.valid.all()
    errors = strict.problems[strict.problems["severity"] == "error"]
    left = kept.problems[kept.problems["code"].str.endswith(".left_out")]
    # Exactly the cells the strict run rejects are left out, each said once, as a warning.
    assert sorted(zip(errors["row"], errors["field"], strict=True)) == sorted(
        zip(left["row"], left["field"], strict=True)
    )
    assert (left["severity"] == "warning").all()
    for row, fld in zip(left["row"], left["field"], strict=True):
        assert kept.values.loc[row, fld] == ""
        if fld == "phone":
            assert kept.values.loc[row, "phonetype"] == ""
    good = ~fields.index.isin(left["row"])
    pd.testing.assert_frame_equal(kept.values[good], strict.values[good])


def test_a_required_field_is_never_left_out() -> None:
    fields = pd.DataFrame({"fullname": [""], "email": ["bad"]}, index=pd.Index([2], name="row"))
    result = validate_fields(fields, "contact", omit={"fullname", "email"})
    assert not result.valid.iloc[0]
    assert set(result.problems["code"]) == {"fullname.required", "email.left_out"}
