"""Field specs and skip rules (importer.mapping.transforms) and how the mapping's extract stage applies them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.errors import MappingError
from importer.mapping.model import parse_mapping
from importer.mapping.transforms import is_company, parse_spec
from importer.problems import empty_problems
from importer.read.source import Chunk


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


@pytest.mark.parametrize("person", [None, 1])
def test_a_name_cell_without_a_name_warns_with_a_code_and_a_reason(person: int | None) -> None:
    # "&" or "," parse to nobody: the warning had no code (no title in the summary) and said "()".
    values, warnings = run({"name": "Owner", "person": person}, Owner=["&", ",", "John Smith"])
    assert values == ["", "", "John Smith"]
    assert warnings["code"].tolist() == ["name.unreadable", "name.unreadable"]
    assert warnings["message"].tolist() == ["'&' → (none) (no name found in it)", "',' → (none) (no name found in it)"]


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
        ("SMITH JOHN H EST OF", True),
        ("Smith John Heirs", True),
        ("SMITH JOHN DEC'D", True),
        ("SMITH JOHN DECD", True),
        ("Estes John", False),
        ("Decker Ann", False),
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


# -- owner names as county lists write them (issue 14) ----------------------------------------------


@pytest.mark.parametrize(
    ("cell", "order", "one", "two"),
    [
        ("VAN DER BERG JAN", "last-first", "Jan van der Berg", ""),
        ("DE LA CRUZ MARIA", "last-first", "Maria de la Cruz", ""),
        ("DEL RIO CARLOS", "last-first", "Carlos del Rio", ""),
        ("ST JAMES MARY", "last-first", "Mary St James", ""),
        ("LE JOHN", "last-first", "John Le", ""),  # a particle alone is the surname
        ("LE MARY ANN", "last-first", "Mary Ann Le", ""),
        ("SMITH JOHN JR", "last-first", "John Smith Jr", ""),
        ("SMITH JR JOHN", "last-first", "John Smith Jr", ""),
        ("SMITH JOHN A III", "last-first", "John A Smith III", ""),
        ("SMITH JOHN ETAL", "last-first", "John Smith", ""),
        ("SMITH JOHN ET AL", "last-first", "John Smith", ""),
        ("SMITH JOHN A ETUX", "last-first", "John A Smith", ""),
        ("SMITH JOHN TR", "last-first", "John Smith", ""),
        ("SMITH JOHN & MARY H/W", "last-first", "John Smith", "Mary Smith"),
        ("SMITH JOHN & MARY", "last-first", "John Smith", "Mary Smith"),
        ("SMITH JOHN / MARY", "last-first", "John Smith", "Mary Smith"),
        ("SMITH JOHN H/MARY L", "last-first", "John H Smith", "Mary L Smith"),
        ("SMITH JOHN H/W", "last-first", "John Smith", ""),  # H/W: husband and wife, not a joiner
        ("SMITH JOHN H & MARY L SMITH", "last-first", "John H Smith", "Mary L Smith"),
        ("JOHN SMITH & MARY JONES", "last-first", "John Smith", "Mary Jones"),
        ("O BRIEN PAT & MARY", "last-first", "Pat O'Brien", "Mary O'Brien"),
        ("LE VAN THANH", "last-first", "Van Thanh Le", ""),
        ("LE THI LAN", "last-first", "Thi Lan Le", ""),
        ("LE BLANC JEAN", "last-first", "Jean le Blanc", ""),  # French: Le is a particle here
        ("THANH VAN LE", "first-last", "Thanh Van Le", ""),
        ("SMITH JOHN&MARY", "last-first", "John Smith", "Mary Smith"),
        ("SMITH JOHN & JONES MARY", "last-first", "John Smith", "Mary Jones"),
        ("SMITH JOHN A & MARY B", "last-first", "John A Smith", "Mary B Smith"),
        ("SMITH JOHN & MARY ANN", "last-first", "John Smith", "Mary Ann Smith"),  # two given names
        ("SMITH JOHN JR & MARY", "last-first", "John Smith Jr", "Mary Smith"),
        ("VAN DER BERG JAN & MARIA", "last-first", "Jan van der Berg", "Maria van der Berg"),
        ("SMITH JOHN & MARY & PETER", "last-first", "John Smith", "Mary Smith"),  # the third: a warning
        ("SMITH, JOHN AND MARY", "last-first", "John Smith", "Mary Smith"),
        ("SMITH, JOHN AND MARY", "first-last", "John Smith", "Mary Smith"),
        ("JOHN & MARY SMITH", "first-last", "John Smith", "Mary Smith"),
        ("JOHN & MARY SMITH", "last-first", "John Smith", "Mary Smith"),  # first-last whatever the list says
        ("JOHN SMITH & MARY", "first-last", "John Smith", "Mary Smith"),
        ("JAN VAN DER BERG", "first-last", "Jan van der Berg", ""),
        ("ANA DA SILVA", "first-last", "Ana da Silva", ""),
        ("JOHN SMITH, JR", "first-last", "John Smith Jr", ""),
        ("SMITH JOHN PHD", "last-first", "John Smith PhD", ""),
        ("MACARTHUR DOUGLAS", "last-first", "Douglas MacArthur", ""),
        ("MACHADO JOSE", "last-first", "Jose Machado", ""),  # not "MacHado"
        ("MACKEY ANN", "last-first", "Ann Mackey", ""),
        ("MCDONALD RONALD", "last-first", "Ronald McDonald", ""),
        ("O'BRIEN PATRICK & MARY", "last-first", "Patrick O'Brien", "Mary O'Brien"),
        ("SMITH-JONES MARY", "last-first", "Mary Smith-Jones", ""),
        ("Jan van der Berg", "first-last", "Jan van der Berg", ""),  # already right: kept as typed
    ],
)
def test_owner_names(cell: str, order: str, one: str, two: str) -> None:
    assert run({"name": "Owner", "order": order, "person": 1}, Owner=[cell])[0] == [one]
    assert run({"name": "Owner", "order": order, "person": 2}, Owner=[cell])[0] == [two]


@pytest.mark.parametrize(
    "cell",
    ["SMITH FAMILY TRUST", "ACME LLC", "ESTATE OF JOHN SMITH", "SMITH JOHN TRUSTEE", "SMITH JOHN H EST OF",
     "SMITH JOHN & MARY HEIRS", "SMITH JOHN DECD & MARY"],
)  # fmt: skip
def test_companies_trusts_and_estates_are_not_split_into_people(cell: str) -> None:
    assert run({"name": "Owner", "order": "last-first", "person": 1}, Owner=[cell])[0] == [cell]
    assert run({"name": "Owner", "order": "last-first", "person": 2}, Owner=[cell])[0] == [""]
    assert run({"company": "Owner"}, Owner=[cell])[0] == [cell]


def test_what_a_name_loses_is_a_warning() -> None:
    spec = {"name": "Owner", "order": "last-first", "person": 2}
    values, warnings = run(spec, Owner=["SMITH JOHN & MARY & PETER", "SMITH JOHN ETAL"])
    assert values == ["Mary Smith", ""]
    assert warnings["message"].tolist() == [
        "'SMITH JOHN & MARY & PETER' → 'Mary Smith' "
        "(the second of three names; 'Peter Smith' left out: a row takes two owners)"
    ]
    values, warnings = run({**spec, "person": 1}, Owner=["SMITH JOHN ETAL"])
    assert values == ["John Smith"]
    assert warnings["message"].tolist() == [
        "'SMITH JOHN ETAL' → 'John Smith' (reordered as First Last; 'ETAL' left out)"
    ]
    values, warnings = run({"name": "Owner", "person": 1}, Owner=["John Smith et al"])
    assert values == ["John Smith"]
    assert warnings["message"].tolist() == ["'John Smith et al' → 'John Smith' ('et al' left out)"]
    assert warnings["code"].tolist() == ["name.dropped"]


def test_a_long_name_cell_is_quoted_short() -> None:
    cell = "SMITH JOHN " + "A" * 10_000
    _, warnings = run({"name": "Owner", "order": "last-first"}, Owner=[cell])
    assert len(warnings["message"].iloc[0]) < 300


_GIVEN = ["JOHN", "MARY", "ANN", "JOSE", "LINDA", "A", "B"]
_SURNAMES = ["SMITH", "GARCIA", "O'BRIEN", "MCDONALD", "SMITH-JONES", "NGUYEN"]
_EXTRAS = ["VAN", "DER", "DE", "LA", "DEL", "ST", "JR", "III", "ETAL", "TR", "&", "AND", ",", "ET AL"]
_NOISE = {"etal", "tr", "et", "al"}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(_GIVEN + _SURNAMES + _EXTRAS), min_size=1, max_size=7),
    st.sampled_from(["first-last", "last-first"]),
)
def test_owner_cells_lose_only_noise_and_person_2_needs_a_joiner(words: list[str], order: str) -> None:
    """Split into two people, no word is lost but ETAL/ET AL/TR (and a third owner, warned about);
    person 2 exists only where the cell joins names with & or AND."""
    from importer.mapping.names import parse_owners

    cell = " ".join(words).replace(" ,", ",")
    one, _ = run({"name": "Owner", "order": order, "person": 1}, Owner=[cell])
    two, warnings = run({"name": "Owner", "order": order, "person": 2}, Owner=[cell])
    if cell.upper() == cell:
        kept = {w.strip(",").casefold() for w in cell.replace("&", " ").split()} - {"and", ""}
        got = set(f"{one[0]} {two[0]}".casefold().split())
        owners = parse_owners(" ".join(cell.split()), order)
        got |= {w.casefold() for p in owners.people for w in p.words()}
        assert kept - got <= _NOISE, (cell, one, two)
        assert {d.casefold() for d in owners.dropped} <= {"etal", "tr", "et al"}
    joined = any(w.strip(",").casefold() in {"&", "and"} for w in cell.replace("&", " & ").split())
    if two[0]:
        assert joined, cell
        assert (warnings["code"] == "name.split").all()


_FIRST = st.sampled_from(["John", "Mary", "Ann", "José", "Linda", "Mary Ann", "John A", "J. R."])
_LAST = st.sampled_from(["Smith", "van der Berg", "de la Cruz", "O'Brien", "McDonald", "Smith-Jones", "Le"])
_SUFFIX = st.sampled_from(["", " Jr", " III", " Sr"])


@settings(max_examples=100, deadline=None)
@given(_FIRST, _LAST, _SUFFIX)
def test_normal_first_last_names_stay_as_they_are(first: str, last: str, suffix: str) -> None:
    cell = f"{first} {last}{suffix}"
    for person in (None, 1):
        spec = {"name": "Owner"} | ({"person": person} if person else {})
        values, warnings = run(spec, Owner=[cell])
        assert values == [cell] and warnings.empty
    assert run({"name": "Owner", "person": 2}, Owner=[cell])[0] == [""]


@settings(max_examples=100, deadline=None)
@given(_FIRST, _LAST, _SUFFIX, st.sampled_from(["first-last", "last-first"]))
def test_names_in_capitals_come_out_once_and_for_all(first: str, last: str, suffix: str, order: str) -> None:
    """A name in capitals, either order, comes out as First Last; that output read again is left alone."""
    words = f"{last.upper()} {first.upper()}" if order == "last-first" else f"{first.upper()} {last.upper()}"
    cell = words + suffix.upper()
    (out,), _ = run({"name": "Owner", "order": order, "person": 1}, Owner=[cell])
    assert out.casefold() == f"{first} {last}{suffix}".casefold()
    again, warnings = run({"name": "Owner", "person": 1}, Owner=[out])
    assert again == [out] and warnings.empty


def test_owner_2_of_a_shared_name_cell_is_absent_on_one_person_rows(tmp_path) -> None:
    """The README's Owner 2 block shares every column with Owner 1: on a one-person row it is absent,
    so the row is valid, not partial with "Owner 2: fullname is required"."""
    from importer.mapping.check import check_mapping
    from importer.pipeline import validate_file

    place = {"address": "Mailing Address", "city": "Mailing City", "state": "Mailing State", "zipcode": "Mailing Zip"}
    mapping = parse_mapping(
        {
            "kind": "property-with-contacts",
            "property": {"fields": {"address": "Property Address", "zipcode": "Property Zip"}},
            "contacts": [
                {"label": "Owner 1", "fields": {"fullname": {"name": "Owner Name", "order": "last-first",
                                                             "person": 1}, **place},
                 "relation": {"IsOwner": True, "IsPrimaryContact": True}},
                {"label": "Owner 2", "fields": {"fullname": {"name": "Owner Name", "order": "last-first",
                                                             "person": 2}, **place},
                 "relation": {"IsOwner": True}},
            ],
        }
    )  # fmt: skip
    path = Path(__file__).parent / "data" / "owners.csv"
    out = validate_file(path, mapping, report=False).outcomes
    assert set(out["status"]) == {"valid"}, out.loc[out["status"] != "valid", "error"].tolist()
    assert (out["error"] == "").all()
    frame = pd.read_csv(path, dtype=str)
    (_, ex_one, ex_two) = mapping.bind(frame.columns).extract(
        Chunk(frame.set_axis(pd.Index(range(2, len(frame) + 2), name="row")), None, empty_problems())
    )
    joint = frame["Owner Name"].str.contains("&").tolist()
    assert ex_two.present.tolist() == joint
    assert ex_one.present.all()
    findings = check_mapping(mapping, path).findings
    assert not [f for f in findings if f.code == "field.required_empty"], findings


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([*_GIVEN, *_SURNAMES, "VAN", "DE", "JR", "ETAL", "Ann", "mary"]), min_size=1, max_size=5),
    st.sampled_from(["first-last", "last-first"]),
)
def test_plain_cells_read_as_the_full_rules_read_them(words: list[str], order: str) -> None:
    """Plain cells take a shortcut; a trailing "&" (nobody after it) sends a cell through the full rules."""
    from importer.mapping.names import parse_owners

    cell = " ".join(words)
    assert parse_owners(cell, order).people == parse_owners(cell + " &", order).people
