"""Tests for the validate stage (importer.validate.rules) and its pandera schemas."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pytest

from importer.errors import MappingError
from importer.problems import PROBLEM_COLUMNS
from importer.validate import schemas
from importer.validate.rules import validate_fields

HEADERS = {"fullname": "'First Name' + 'Last Name'", "state": "ST", "zipcode": "Zip", "phone": "Phone"}


def frame(rows: dict[int, dict[str, str]], columns: list[str]) -> pd.DataFrame:
    df = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=columns).fillna("")
    df.index = pd.Index(list(rows), dtype="int64", name="row")
    return df.astype("str")


CONTACT_COLUMNS = ["fullname", "email", "phone", "phonetype", "state", "zipcode", "type", "tags"]


@pytest.fixture
def contacts() -> pd.DataFrame:
    return frame(
        {
            2: {"fullname": "John Smith", "state": "Ohio", "zipcode": "44113-1234", "phone": "(216) 555-1234",
                "phonetype": "Cell", "type": "buyer, seller", "tags": "vip, vip", "email": "j@X.com"},
            5: {"fullname": "", "state": "XX", "zipcode": "abc", "phone": "555-1234", "phonetype": "Pager",
                "type": "Lender", "email": "nope"},
            9: {"fullname": "Ann  Lee", "state": "OH", "zipcode": "44113", "phone": "2165551234"},
        },
        CONTACT_COLUMNS,
    )  # fmt: skip


def test_values_valid_and_problem_shape(contacts: pd.DataFrame) -> None:
    r = validate_fields(contacts, "contact", columns=HEADERS, part="Owner 2")
    assert list(r.problems.columns) == PROBLEM_COLUMNS
    assert r.valid.to_dict() == {2: True, 5: False, 9: True}
    assert r.values.index.equals(contacts.index) and list(r.values.columns) == CONTACT_COLUMNS
    assert r.values.loc[2].to_dict() == {
        "fullname": "John Smith", "email": "j@x.com", "phone": "2165551234", "phonetype": "Mobile",
        "state": "OH", "zipcode": "44113", "type": "Buyer;Seller", "tags": "vip",
    }  # fmt: skip
    assert r.values.loc[9, "fullname"] == "Ann Lee"
    assert set(r.problems["row"]) == {2, 5, 9}
    assert (r.problems["part"] == "Owner 2").all()
    assert r.problems["row"].is_monotonic_increasing


def test_error_rows_columns_values_and_messages(contacts: pd.DataFrame) -> None:
    r = validate_fields(contacts, "contact", columns=HEADERS)
    errors = r.problems[r.problems["severity"] == "error"].set_index("field")
    assert (errors["row"] == 5).all()
    assert errors.loc["fullname", "message"] == ("fullname is required (column 'First Name' + 'Last Name' is empty)")
    assert errors.loc["fullname", "column"] == "'First Name' + 'Last Name'"
    assert errors.loc["state", "message"].startswith("state 'XX' is not a US state code")
    assert (errors.loc["state", "column"], errors.loc["state", "value"]) == ("ST", "XX")
    assert errors.loc["zipcode", "code"] == "zipcode.invalid"
    assert errors.loc["phone", "code"] == "phone.length"
    assert errors.loc["phonetype", "message"] == (
        "phonetype 'Pager' is not Mobile, Work or Home; map it in the mapping's values: section"
    )
    assert errors.loc["type", "code"] == "type.invalid"
    assert errors.loc["email", "code"] == "email.invalid"


def test_warnings_one_per_cell_and_original_value(contacts: pd.DataFrame) -> None:
    r = validate_fields(contacts, "contact", columns=HEADERS)
    warnings = r.problems[r.problems["severity"] == "warning"]
    assert not warnings.duplicated(["row", "field"]).any()
    state = warnings[(warnings["row"] == 2) & (warnings["field"] == "state")].iloc[0]
    assert (state["message"], state["value"], state["code"]) == ("state: Ohio → OH", "Ohio", "state.normalized")
    assert set(warnings[warnings["row"] == 9]["field"]) == {"fullname"}
    assert not (warnings["row"] == 5).any()  # a cell in error gets no warning


def test_zip_from_number_pads_only_number_cells() -> None:
    df = frame({3: {"fullname": "A", "state": "MA", "zipcode": "2134"},
                4: {"fullname": "B", "state": "OH", "zipcode": "4411"},
                7: {"fullname": "C", "state": "PR", "zipcode": "901"}},
               ["fullname", "state", "zipcode"])  # fmt: skip
    flags = pd.Series([True, False, True], index=df.index)
    r = validate_fields(df, "contact", zip_from_number=flags)
    assert r.values["zipcode"].to_dict() == {3: "02134", 4: "4411", 7: "00901"}
    assert r.valid.to_dict() == {3: True, 4: False, 7: True}
    # CSV (no cell types): 2134 with state MA is a real MA ZIP once padded, 901/PR as well
    r = validate_fields(df, "contact")
    assert r.values["zipcode"].to_dict() == {3: "02134", 4: "4411", 7: "00901"}


def test_property_requires_address_and_custom_field_limit() -> None:
    df = frame({2: {"address": "1 Main St", "customfield_28": "x", "customfield_29": ""},
                6: {"address": "", "customfield_29": "too many"}},
               ["address", "customfield_28", "customfield_29"])  # fmt: skip
    r = validate_fields(df, "property", columns={"address": "Street", "customfield_29": "Notes 2"})
    assert r.valid.to_dict() == {2: True, 6: False}
    errs = r.problems.set_index("code")
    assert errs.loc["address.required", "message"] == "address is required (column 'Street' is empty)"
    assert errs.loc["customfield.limit", "row"] == 6
    assert "column 'Notes 2'" in errs.loc["customfield.limit", "message"]


def test_mapping_mistakes_raise() -> None:
    with pytest.raises(MappingError, match="email"):
        validate_fields(frame({2: {"address": "x", "email": "a@b.co"}}, ["address", "email"]), "property")
    with pytest.raises(MappingError, match="fullname"):
        validate_fields(frame({2: {"email": "a@b.co"}}, ["email"]), "contact")
    with pytest.raises(MappingError, match="kind"):
        validate_fields(frame({2: {"address": "x"}}, ["address"]), "house")


def test_clean_frame_has_no_problems() -> None:
    df = frame({2: {"fullname": "A B", "state": "OH", "zipcode": "44113", "phone": "2165551234"}},
               ["fullname", "state", "zipcode", "phone"])  # fmt: skip
    r = validate_fields(df, "contact")
    assert r.problems.empty and r.valid.all()
    assert r.values.equals(df)


def test_schema_is_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Changing a rule in the schema changes what validate accepts."""
    df = frame({2: {"fullname": "A", "state": "CA"}, 3: {"fullname": "B", "state": "OH"}}, ["fullname", "state"])
    assert validate_fields(df, "contact").valid.all()
    strict = schemas.build_schema("contact")
    strict.columns["state"] = strict.columns["state"].set_checks(
        [pa.Check.isin(["OH", ""], name="state.invalid", error="state.invalid")]
    )
    monkeypatch.setattr(schemas, "schema_for", lambda kind: strict)
    r = validate_fields(df, "contact")
    assert r.valid.to_dict() == {2: False, 3: True}
    assert r.problems["message"].iloc[0].startswith("state 'CA' is not a US state code")


def test_schema_checks_built_from_normalize_constants() -> None:
    schema = schemas.build_schema("contact")
    good = pd.DataFrame({"state": ["OH", "", "AE"], "zipcode": ["44113", "", "00901"]}, dtype="str")
    schema.validate(good)
    with pytest.raises(pa.errors.SchemaErrors):
        schema.validate(pd.DataFrame({"state": ["Ohio"], "zipcode": ["4411"]}, dtype="str"), lazy=True)
