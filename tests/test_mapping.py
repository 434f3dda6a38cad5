"""Mappings: parsing, every refusal (naming the offender, with a hint), header binding, extraction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.errors import MappingError
from importer.mapping.model import Mapping, load_mapping, parse_mapping
from importer.mapping.transforms import Column, Constant, First, Join
from importer.problems import empty_problems
from importer.read.source import Chunk, open_source

REPO = Path(__file__).resolve().parents[1]


def chunk(data: dict[str, list[str]], first_row: int = 2) -> Chunk:
    """A loaded chunk as the load stage makes it: text cells, index = Excel row numbers."""
    n = len(next(iter(data.values())))
    index = pd.RangeIndex(first_row, first_row + n, name="row")
    frame = pd.DataFrame({k: pd.Series(v, index=index, dtype="string") for k, v in data.items()})
    return Chunk(frame, None, empty_problems())


def fields_of(mapping: Mapping, data: dict[str, list[str]]) -> pd.DataFrame:
    (extracted,) = mapping.bind(list(data)).extract(chunk(data))
    return extracted.fields


def refused(data: Any) -> str:
    with pytest.raises(MappingError) as exc:
        parse_mapping(data, source="m.yaml")
    message = str(exc.value)
    assert message.startswith("mapping m.yaml: "), message
    assert "\n" not in message
    return message


# -- parsing ---------------------------------------------------------------------------------------


def test_the_sample_contact_mapping_reads_as_documented() -> None:
    m = load_mapping(REPO / "mappings" / "contacts.yaml")
    assert m.kind == "contact" and len(m.records) == 1
    rec = m.records[0]
    assert rec.specs["fullname"] == Join(("First Name", "Last Name"))
    assert rec.specs["email"] == Column(("Email",))
    assert set(rec.specs) >= {"customfield_1", "customfield_4"} and "customfield_2" not in rec.specs
    assert rec.defaults == {"source": "Spring mailer"}
    assert rec.values == {"phonetype": {"cell": "Mobile", "landline": "Home"}}
    # API order first, then custom fields by slot; source comes from the defaults alone.
    assert rec.fields == (
        "fullname",
        "email",
        "phone",
        "phonetype",
        "source",
        "address",
        "city",
        "state",
        "zipcode",
        "type",
        "tags",
        "customfield_1",
        "customfield_4",
    )


def test_field_names_are_the_api_keys_in_any_case() -> None:
    m = parse_mapping({"kind": "contact", "fields": {"FullName": "Name", " ZipCode ": "Zip"}})
    assert set(m.records[0].specs) == {"fullname", "zipcode"}


def test_spec_forms() -> None:
    m = parse_mapping(
        {
            "kind": "contact",
            "fields": {
                "fullname": {"join": ["Last", "First"], "sep": ", "},
                "phone": {"first": ["Cell", "Home"]},
                "source": {"value": "Spring mailer"},
                "zipcode": 44113,  # a header that YAML reads as a number
            },
        }
    )
    specs = m.records[0].specs
    assert specs["fullname"] == Join(("Last", "First"), sep=", ")
    assert isinstance(specs["phone"], First) and specs["phone"].columns == ("Cell", "Home")
    assert isinstance(specs["source"], Constant) and specs["source"].columns == ()
    assert specs["zipcode"] == Column(("44113",))


def test_a_preset_by_name() -> None:
    assert load_mapping("propstream").kind == "property-with-contacts"


# -- refusals --------------------------------------------------------------------------------------

_BASE = {"kind": "contact", "fields": {"fullname": "Name"}}


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        (["kind", "contact"], ["expected a YAML mapping"]),
        ({"fields": {"fullname": "Name"}}, ["'kind' is missing", "kind: contact"]),
        ({"kind": "Contacts", "fields": {"fullname": "Name"}}, ["'Contacts'", "did you mean 'contact'"]),
        ({"kind": "person", "fields": {"fullname": "Name"}}, ["'person'", "contact, property"]),
        ({**_BASE, "field": {"email": "E"}}, ["unknown key 'field'", "fields"]),
        ({"kind": "contact", "fields": {"fullnme": "Name"}}, ["'fullnme'", "did you mean 'fullname'"]),
        ({**_BASE, "fields": {"fullname": "N", "zip": "Zip"}}, ["'zip'", "did you mean 'zipcode'"]),
        ({**_BASE, "fields": {"fullname": "N", "e-mail": "E"}}, ["'e-mail'", "did you mean 'email'"]),
        ({**_BASE, "fields": {"fullname": "N", "phone_type": "T"}}, ["'phone_type'", "did you mean 'phonetype'"]),
        ({**_BASE, "fields": {"fullname": "N", "custom1": "C"}}, ["'custom1'", "under 'customfields:'"]),
        ({**_BASE, "fields": {"fullname": "N", "customfields": "C"}}, ["under 'customfields:'"]),
        ({**_BASE, "fields": {"fullname": "N", "colour": "C"}}, ["unknown field 'colour' for a contact", "fields: "]),
        ({"kind": "property", "fields": {"address": "A", "email": "E"}}, ["'email' for a property", "only a contact"]),
        ({"kind": "property", "fields": {"address": "A", "type": "T"}}, ["'type' for a property", "only a contact"]),
        ({**_BASE, "customfields": {29: "C"}}, ["slot 29", "1..28"]),
        ({**_BASE, "customfields": {0: "C"}}, ["slot 0", "1..28"]),
        ({**_BASE, "customfields": {"four": "C"}}, ["slot 'four'", "1..28"]),
        ({**_BASE, "customfields": ["A", "B"]}, ["customfields must map slot numbers"]),
        ({**_BASE, "customfields": {1: "A", "01": "B"}}, ["same custom-field slot"]),
        ({"kind": "contact", "fields": {"fullname": "A", "FullName": "B"}}, ["'fullname' and 'FullName'", "same"]),
        ({**_BASE, "defaults": {29: "x"}}, ["defaults", "slot 29"]),
        ({**_BASE, "defaults": {"zip": "44113"}}, ["defaults", "'zip'", "zipcode"]),
        ({**_BASE, "defaults": {"source": ["a", "b"]}}, ["defaults.source must be one value"]),
        ({**_BASE, "values": {"phonetype": "Mobile"}}, ["values.phonetype must map cell values"]),
        ({**_BASE, "values": {"colour": {"a": "b"}}}, ["values", "'colour'"]),
        ({"kind": "contact", "fields": {"email": "E"}}, ["every contact needs 'fullname'"]),
        ({"kind": "property", "fields": {"city": "C"}}, ["every property needs 'address'"]),
        ({"kind": "contact", "fields": {}}, ["maps no fields"]),
        ({"kind": "contact", "fields": ["fullname"]}, ["fields must map API fields to columns"]),
        ({"kind": "contact", "fields": {"fullname": ""}}, ["fields.fullname", "empty"]),
        ({"kind": "contact", "fields": {"fullname": {"glue": ["A"]}}}, ["fields.fullname", "glue"]),
        ({"kind": "contact", "fields": {"fullname": []}}, ["fields.fullname"]),
    ],
)
def test_refusals_name_the_offender(data: Any, fragments: list[str]) -> None:
    message = refused(data)
    for fragment in fragments:
        assert fragment in message, message


def test_a_required_field_from_the_defaults_is_enough() -> None:
    m = parse_mapping({"kind": "property", "fields": {"city": "City"}, "defaults": {"address": "unknown"}})
    assert m.records[0].defaults == {"address": "unknown"}


def test_invalid_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("kind: contact\nfields:\n  fullname: [First, Last\n  email: Email\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"bad\.yaml: not valid YAML at line \d"):
        load_mapping(path)


def test_missing_file_lists_the_presets(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as exc:
        load_mapping(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(exc.value) and "contacts" in str(exc.value)


# -- binding to a file's header --------------------------------------------------------------------


def test_header_matching_ignores_case_and_white_space() -> None:
    m = parse_mapping({"kind": "contact", "fields": {"fullname": ["first name", "LAST  NAME"], "zipcode": "zip"}})
    bound = m.bind(["\ufeff First Name ", "Last Name", "ZIP"])
    assert bound.resolved == {"first name": "\ufeff First Name ", "LAST  NAME": "Last Name", "zip": "ZIP"}


def test_every_missing_column_is_named_with_a_hint() -> None:
    """Was: every missing column refused the file. Now only a required field's column does (with a
    hint); an optional field's missing column is a notice, with a hint too, and the field is empty."""
    m = parse_mapping({"kind": "contact", "fields": {"fullname": "Full Nmae", "email": "Email", "zipcode": "Postal"}})
    with pytest.raises(MappingError) as exc:
        m.bind(["Full Name", "E-mail", "Street"], file="leads.csv")
    message = str(exc.value)
    assert "leads.csv has no column for a required field: fullname needs 'Full Nmae'" in message
    assert "(did you mean 'Full Name'?)" in message
    assert "2 other columns are missing too" in message
    assert "customfields" not in message  # never a custom-field slot for a missing column
    bound = m.bind(["Full Nmae", "E-mail", "Street"], file="leads.csv")
    assert bound.missing == {"Email", "Postal"}
    assert bound.notices == (
        "no column 'Email' (did you mean 'E-mail'? add it under aliases): email left empty",
        "no column 'Postal': zipcode left empty",
    )


def test_binding_the_samples_to_their_files() -> None:
    for data, mapping in [("contacts.csv", "contacts.yaml"), ("properties.xlsx", "properties.yaml")]:
        source = open_source(REPO / "samples" / data)
        bound = load_mapping(REPO / "mappings" / mapping).bind(source.headers)
        assert set(bound.resolved.values()) <= set(source.headers)


# -- extraction: values, defaults, joins -----------------------------------------------------------


def test_values_then_defaults() -> None:
    m = parse_mapping(
        {
            "kind": "contact",
            "fields": {"fullname": "Name", "phonetype": "Kind", "source": "Src"},
            "defaults": {"source": "Spring mailer", "phonetype": "Mobile", "companyname": "Acme"},
            "values": {"phonetype": {"Cell": "Mobile", "Landline": "Home", "Unknown": None}},
        }
    )
    frame = fields_of(
        m,
        {
            "Name": ["A", "B", "C", "D", "E"],
            "Kind": [" cell ", "LANDLINE", "Work", "", "unknown"],
            "Src": ["web", "", "  ", "mail", ""],
        },
    )
    assert frame["phonetype"].tolist() == ["Mobile", "Home", "Work", "Mobile", "Mobile"]
    assert frame["source"].tolist() == ["web", "Spring mailer", "Spring mailer", "mail", "Spring mailer"]
    assert frame["companyname"].tolist() == ["Acme"] * 5  # a default with no column at all
    assert frame.index.tolist() == [2, 3, 4, 5, 6]


def test_values_map_each_item_of_a_list_field() -> None:
    m = parse_mapping(
        {
            "kind": "contact",
            "fields": {"fullname": "Name", "type": "Type", "tags": "Tags"},
            "values": {"type": {"Investor": "Buyer", "Owner": "Seller"}, "tags": {"junk": None, "Both; Lists": "x"}},
        }
    )
    frame = fields_of(
        m,
        {
            "Name": ["A", "B", "C"],
            "Type": ["investor", "Investor; owner", "Buyer, Landlord"],
            "Tags": ["a, junk, b", "Both; Lists", "junk"],
        },
    )
    assert frame["type"].tolist() == ["Buyer", "Buyer;Seller", "Buyer;Landlord"]
    assert frame["tags"].tolist() == ["a;b", "x", ""]


def test_custom_field_defaults_and_values_by_slot() -> None:
    m = parse_mapping(
        {
            "kind": "property",
            "fields": {"address": "Addr"},
            "customfields": {2: "Status"},
            "defaults": {3: "imported"},
            "values": {2: {"A": "Active"}},
        }
    )
    frame = fields_of(m, {"Addr": ["1 Main St", "2 Main St"], "Status": ["a", "Sold"]})
    assert frame["customfield_2"].tolist() == ["Active", "Sold"]
    assert frame["customfield_3"].tolist() == ["imported", "imported"]


_cell = st.text(alphabet=st.sampled_from(list("ab Z\t")), max_size=5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_cell, _cell, _cell), min_size=1, max_size=8))
def test_a_list_of_columns_joins_the_non_empty_cells_with_one_space(rows: list[tuple[str, str, str]]) -> None:
    m = parse_mapping({"kind": "contact", "fields": {"fullname": ["A", "B", "C"]}})
    data = {c: [r[i] for r in rows] for i, c in enumerate("ABC")}
    got = fields_of(m, data)["fullname"].tolist()
    assert got == [" ".join(c.strip() for c in r if c.strip()) for r in rows]


# -- reading the YAML within bounds (issue 12 items 11, 15) ----------------------------------------


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("kind: contact\nkind: property\n", ["key 'kind' is given twice (lines 1 and 2)"]),
        ("kind: contact\nfields:\n  fullname: A\n  email: B\n  fullname: C\n", ["twice in fields (lines 3 and 5)"]),
        ("kind: contact\nfields: {fullname: A}\ncustomfields:\n  1: B\n  01: C\n",
         ["'01' is given twice in customfields"]),
        ("kind: contact\nfields: {fullname: {first: [A, B], first: [C]}}\n",
         ["twice in fields.fullname (line 2, columns 21 and 36)"]),
        ("kind: contact\nfields: {fullname: A}\nvalues:\n  phonetype: {Cell: Mobile, Cell: Home}\n",
         ["'Cell' is given twice in values.phonetype"]),
    ],
)  # fmt: skip
def test_a_key_given_twice_is_refused_at_every_level(tmp_path: Path, text: str, fragments: list[str]) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as exc:
        load_mapping(path)
    message = str(exc.value)
    assert message.startswith(f"mapping {path}: key ") and "keep one of them" in message
    for fragment in fragments:
        assert fragment in message, message


def test_a_merge_key_may_be_overridden_in_the_block_that_merges(tmp_path: Path) -> None:
    """``<<: *base`` then the same key again is YAML's way to override one value: not a repeat."""
    path = tmp_path / "merge.yaml"
    path.write_text(
        "kind: contact\nfields: &base {fullname: Name, email: Email}\n"
        "defaults: {<<: {source: a, city: b}, source: c}\n",
        encoding="utf-8",
    )
    assert load_mapping(path).records[0].defaults == {"source": "c", "city": "b"}


def test_quote_looks_at_a_bounded_part_of_any_value() -> None:
    from importer.errors import MappingError as Error
    from importer.errors import one_line, quote

    big = "x" * 10_000_000
    assert len(quote(big)) < 120 and quote(big).endswith("(10,000,000 characters)")
    shared: list[Any] = ["lol"] * 9
    for _ in range(9):
        shared = [shared] * 9  # 9**10 items if walked: quoting must not walk it
    assert len(quote(shared)) <= 80
    assert quote(10**5000) == "<a number of 16,610 bits>"
    assert quote("a\nb\x0cc") == "'a\\nb\\x0cc'"
    assert one_line("a\nb\r\nc\x85d\u2028e") == "a b c d e"
    message = str(Error("first part " + "y" * 100_000 + " what to do"))
    assert len(message) <= 2000 and message.startswith("first part") and message.endswith("what to do")
