"""Field specs and skip rules (importer.transforms) and how the mapping's extract stage applies them."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.errors import MappingError
from importer.load import Chunk
from importer.mapping import parse_mapping
from importer.problems import empty_problems
from importer.transforms import is_company, parse_spec


def cells_of(**columns: list[str]) -> tuple[dict[str, pd.Series], pd.Index]:
    n = len(next(iter(columns.values())))
    index = pd.Index(range(2, n + 2), name="row")
    return {k.replace("_", " "): pd.Series(v, index=index, dtype="str") for k, v in columns.items()}, index


def run(spec: object, **columns: list[str]) -> tuple[list[str], pd.DataFrame]:
    cells, index = cells_of(**columns)
    value, warnings = parse_spec(spec, "test").apply(cells, index)
    return value.fillna("").tolist(), warnings


# -- names -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "cell", "expected"),
    [
        ({"name": "Owner", "order": "last-first"}, "SMITH JOHN A", "John A Smith"),
        ({"name": "Owner", "order": "last-first"}, "SMITH, JOHN", "John Smith"),
        ({"name": "Owner"}, "SMITH, JOHN", "John Smith"),  # a comma always means LAST, FIRST
        ({"name": "Owner", "order": "last-first"}, "MCDONALD RONALD III", "Ronald McDonald III"),
        ({"name": "Owner", "order": "last-first"}, "O'BRIEN PATRICK", "Patrick O'Brien"),
        ({"name": "Owner", "order": "last-first"}, "Lopez John & Ashley", "John & Ashley Lopez"),
        ({"name": "Owner", "person": 1}, "JOHN & MARY SMITH", "John Smith"),
        ({"name": "Owner", "person": 2}, "JOHN & MARY SMITH", "Mary Smith"),
        ({"name": "Owner", "person": 2}, "JOHN SMITH & MARY JONES", "Mary Jones"),
        ({"name": "Owner", "order": "last-first", "person": 2}, "LOPEZ JOHN & ASHLEY", "Ashley Lopez"),
        ({"name": "Owner", "order": "last-first", "person": 2}, "LOPEZ JOHN & GARCIA MARIA", "Maria Garcia"),
        ({"name": "Owner", "person": 2}, "JOHN SMITH", ""),
        ({"name": "Owner"}, "Ann de la Cruz", "Ann de la Cruz"),  # mixed case is kept as typed
        ({"name": "Owner", "case": "keep"}, "JOHN SMITH", "JOHN SMITH"),
    ],
)
def test_names(spec: dict, cell: str, expected: str) -> None:
    values, _ = run(spec, Owner=[cell])
    assert values == [expected]


def test_each_name_change_is_a_warning_naming_the_row_and_the_value() -> None:
    values, warnings = run(
        {"name": "Owner", "order": "last-first", "person": 1}, Owner=["John Smith", "SMITH, JOHN", "LEE ANN & BO"]
    )
    assert values == ["Smith John", "John Smith", "Ann Lee"]  # order: last-first was asked for
    by_row = dict(zip(warnings["row"], warnings["message"], strict=True))
    assert by_row[3] == "'SMITH, JOHN' → 'John Smith' (reordered as First Last)"
    assert by_row[4] == "'LEE ANN & BO' → 'Ann Lee' (the first of two names)"
    assert set(warnings["code"]) == {"name.reordered", "name.split"}
    assert (warnings["severity"] == "warning").all() and (warnings["column"] == "Owner").all()


def test_company_owner_gives_the_care_of_person_and_companyname() -> None:
    cells, index = cells_of(
        Owner=["Maple Ridge Holdings LLC", "ESTATE OF JANE DOE", "John Smith", "Keystone Trust"],
        CareOf=["C/O Ann Lee", "", "C/O Somebody", "ATTN: Bo Chan"],
    )
    full, warn = parse_spec({"name": "Owner", "care_of": "CareOf"}, "t").apply(cells, index)
    company, _ = parse_spec({"company": "Owner"}, "t").apply(cells, index)
    assert full.tolist() == ["Ann Lee", "ESTATE OF JANE DOE", "John Smith", "Bo Chan"]
    assert company.tolist() == ["Maple Ridge Holdings LLC", "ESTATE OF JANE DOE", "", "Keystone Trust"]
    assert warn["code"].tolist() == ["name.company", "name.company"]
    assert "kept in companyname" in warn["message"].iloc[0]


@pytest.mark.parametrize(
    ("name", "company"),
    [
        ("Blue Door Properties LLC", True),
        ("ACME INC.", True),
        ("Smith Family Trust", True),
        ("Estate of Mary Jones", True),
        ("First National Bank", True),
        ("John Company", True),
        ("Incognito Smith", False),
        ("Estella Cox", False),
        ("Colin Llewellyn", False),
    ],
)
def test_company_detection(name: str, company: bool) -> None:
    assert bool(is_company(pd.Series([name], dtype="str")).iloc[0]) is company


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.sampled_from(["JOHN", "MARY", "LEE", "ANN", "SMITH", "O'NEIL", "JR", "A"]), min_size=1, max_size=4),
    st.sampled_from(["first-last", "last-first"]),
)
def test_names_keep_their_words(words: list[str], order: str) -> None:
    """Reordering and title-casing never invent or lose a word (case aside)."""
    cell = " ".join(words)
    values, _ = run({"name": "Owner", "order": order}, Owner=[cell])
    assert sorted(values[0].casefold().split()) == sorted(cell.casefold().split())
    again, warnings = run({"name": "Owner", "order": "first-last"}, Owner=values)
    assert again == values and warnings.empty  # a name already First Last stays put


# -- first, follow, unless ------------------------------------------------------------------------------


def test_phone_type_follows_the_phone_taken_and_dnc_phones_are_passed_over() -> None:
    mapping = parse_mapping(
        {
            "kind": "contact",
            "fields": {
                "fullname": "Name",
                "phone": {"first": ["Phone 1", "Phone 2", "Phone 3"], "unless": ["DNC 1", "DNC 2", None]},
                "phonetype": {"first": ["Type 1", "Type 2", "Type 3"], "follow": "phone"},
            },
        }
    )
    frame = pd.DataFrame(
        {
            "Name": ["A", "B", "C", "D"],
            "Phone 1": ["2165550101", "", "2165550103", "2165550104"],
            "Type 1": ["Landline", "", "Mobile", "Mobile"],
            "DNC 1": ["No", "", "Yes", "Y"],
            "Phone 2": ["", "2165550202", "2165550203", ""],
            "Type 2": ["", "", "Home", ""],
            "DNC 2": ["", "No", "No", ""],
            "Phone 3": ["", "", "", ""],
            "Type 3": ["Work", "Work", "", ""],
        },
        index=pd.Index([2, 3, 4, 5], name="row"),
        dtype="str",
    )
    (ex,) = mapping.bind(frame.columns).extract(Chunk(frame, None, empty_problems()))
    assert ex.fields["phone"].tolist() == ["2165550101", "2165550202", "2165550203", ""]
    # Row 3 took Phone 2, whose type is empty: Type 3 ("Work") must not leak in.
    assert ex.fields["phonetype"].tolist() == ["Landline", "", "Home", ""]
    flagged = ex.problems[ex.problems["code"] == "transform.flagged"]
    assert flagged["row"].tolist() == [4, 5]
    assert flagged["field"].tolist() == ["phone", "phone"]
    assert "used 'Phone 2'" in flagged["message"].iloc[0]
    assert flagged["message"].iloc[1].startswith("phone: '2165550104' from 'Phone 1' not used: 'DNC 1' is 'Y'")


def test_first_of_joins_and_specs() -> None:
    values, _ = run(
        {"first": [["Matched First", "Matched Last"], ["Input First", "Input Last"], {"value": "Unknown"}]},
        Matched_First=["Ann", "", ""],
        Matched_Last=["Lee", "", ""],
        Input_First=["X", "Bo", ""],
        Input_Last=["Y", "Chan", ""],
    )
    assert values == ["Ann Lee", "Bo Chan", "Unknown"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"first": ["A", "B"], "unless": ["F"]}, "one flag column per candidate"),
        ({"first": ["A"], "follow": "phone", "unless": ["F"]}, "do not go together"),
        ({"name": "A", "order": "backwards"}, "first-last or last-first"),
        ({"name": "A", "person": 3}, "expected 1 or 2"),
        ({"street": "A"}, "needs both 'street' and 'unit'"),
        ({"columns": [], "add": []}, "expected a column name"),
        ({"from": [{"column": "A", "is": True}]}, "needs 'tag:"),
        ({"zip_state": "A", "extra": 1}, "unknown key 'extra'"),
        ({"frist": ["A"]}, "unknown spec"),
    ],
)
def test_spec_mistakes_are_mapping_errors(spec: dict, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        parse_spec(spec, "fields.x")


def test_follow_must_name_a_first_of_the_same_length() -> None:
    with pytest.raises(MappingError, match="as many candidates"):
        parse_mapping(
            {
                "kind": "contact",
                "fields": {
                    "fullname": "N",
                    "phone": {"first": ["P1", "P2"]},
                    "phonetype": {"first": ["T1"], "follow": "phone"},
                },
            }
        )
    with pytest.raises(MappingError, match="must be another field"):
        parse_mapping(
            {"kind": "contact", "fields": {"fullname": "N", "phonetype": {"first": ["T1"], "follow": "phone"}}}
        )


# -- places and tags -----------------------------------------------------------------------------------


def test_zip_state_lookup() -> None:
    values, warnings = run({"zip_state": "ZIP"}, ZIP=["92882", "44113-1234", "02134", "9021", "", "00000"])
    assert values == ["CA", "OH", "MA", "", "", ""]
    assert warnings["row"].tolist() == [5, 7]  # "9021" is not padded: it could be a truncated ZIP
    assert warnings["message"].iloc[0] == "no state known for ZIP '9021'; the state is left empty"


def test_street_and_unit() -> None:
    values, _ = run(
        {"street": "A", "unit": "U"}, A=["12 Oak St", "12 Oak St", "12 Oak St", ""], U=["4B", "Apt 4B", "", "7"]
    )
    assert values == ["12 Oak St #4B", "12 Oak St Apt 4B", "12 Oak St", "#7"]


def test_tags_from_lists_constants_and_values() -> None:
    spec = {
        "columns": ["Lists"],
        "add": ["PropStream", "Imported"],
        "from": [
            {"column": "Occupied", "values": {"No": "Absentee"}},
            {"column": "Vacant", "is": True, "tag": "Vacant"},
            {"column": "Type", "prefix": "Type: "},
        ],
    }
    values, _ = run(spec, Lists=["High Equity; Tired", ""], Occupied=["No", "Yes"], Vacant=["1", "0"], Type=["SFR", ""])
    assert values == ["High Equity; Tired;Absentee;Vacant;Type: SFR;PropStream;Imported", "PropStream;Imported"]


# -- skip rules --------------------------------------------------------------------------------------


def test_skip_rules_of_the_row_and_of_one_contact() -> None:
    mapping = parse_mapping(
        {
            "kind": "property-with-contacts",
            "skip": [{"column": "Do Not Mail", "is": True}, {"column": "Status", "is": ["Sold", "Pending"]}],
            "property": {"fields": {"address": "Address"}},
            "contacts": [
                {
                    "label": "Owner 1",
                    "fields": {"fullname": "Owner"},
                    "skip": [{"column": "Litigator", "is": True, "reason": "a known litigator"}],
                }
            ],
        }
    )
    frame = pd.DataFrame(
        {
            "Address": ["1 A St", "2 B St", "3 C St", "4 D St"],
            "Owner": ["Ann", "Bo", "Cy", "Di"],
            "Do Not Mail": ["No", "YES", "", "no"],
            "Status": ["", "", "pending", ""],
            "Litigator": ["", "", "", "y"],
        },
        index=pd.Index([2, 3, 4, 5], name="row"),
        dtype="str",
    )
    prop, owner = mapping.bind(frame.columns).extract(Chunk(frame, None, empty_problems()))
    assert prop.skip.tolist() == ["", "Do Not Mail = YES", "Status = pending", ""]
    assert owner.skip.tolist() == ["", "", "", "a known litigator"]
    assert owner.present.all()  # the Litigator column does not make the owner present or absent


def test_skipped_rows_are_reported_skipped_with_the_reason(tmp_path) -> None:
    from importer.pipeline import validate_file

    path = tmp_path / "list.csv"
    path.write_text("Name,Email,Do Not Mail\nAnn Lee,ann@example.com,No\nBo Chan,not-an-email,Yes\n", encoding="utf-8")
    mapping = parse_mapping(
        {"kind": "contact", "fields": {"fullname": "Name", "email": "Email"}, "skip": {"column": "Do Not Mail"}}
    )
    out = validate_file(path, mapping, report=False).outcomes
    assert out["status"].tolist() == ["valid", "skipped"]
    assert out.loc[3, "warnings"] == "skipped: Do Not Mail = Yes"
    assert out.loc[3, "error"] == ""  # nothing to fix on a row that is left out


def test_a_name_split_leaves_the_second_owner_out_where_there_is_none() -> None:
    mapping = parse_mapping(
        {
            "kind": "property-with-contacts",
            "property": {"fields": {"address": "Address"}},
            "contacts": [
                {"label": "Owner 1", "fields": {"fullname": {"name": "Owner", "person": 1}}},
                {"label": "Owner 2", "fields": {"fullname": {"name": "Owner", "person": 2}}},
            ],
        }
    )
    frame = pd.DataFrame(
        {"Address": ["1 A St", "2 B St"], "Owner": ["JOHN & MARY SMITH", "ANN LEE"]},
        index=pd.Index([2, 3], name="row"),
        dtype="str",
    )
    _, one, two = mapping.bind(frame.columns).extract(Chunk(frame, None, empty_problems()))
    assert one.fields["fullname"].tolist() == ["John Smith", "Ann Lee"]
    assert two.fields["fullname"].tolist() == ["Mary Smith", ""]
    assert two.present.tolist() == [True, False]
    assert two.problems["message"].tolist() == [
        "fullname: 'JOHN & MARY SMITH' → 'Mary Smith' (the second of two names)"
    ]
