"""The map stage: field frames to API payloads (keys, arrays, custom-field slots, empties left out)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.errors import MappingError
from importer.fields import CONTACT_FIELDS, LIST_FIELDS, PROPERTY_FIELDS, custom_field
from importer.plans.payload import build_payloads, custom_slots
from importer.sandbox.rules import check_contact, check_property


def frame(data: dict[str, list[str | None]], first_row: int = 2) -> pd.DataFrame:
    n = len(next(iter(data.values())))
    index = pd.RangeIndex(first_row, first_row + n, name="row")
    return pd.DataFrame({k: pd.Series(v, index=index, dtype="string") for k, v in data.items()})


def test_the_reference_example_round_trips() -> None:
    values = frame(
        {
            "fullname": ["John Smith"],
            "email": ["test@email.com"],
            "companyname": ["Test LLC"],
            "phone": ["1112224444"],
            "phonetype": ["Work"],
            "source": ["google ads 1"],
            "address": ["123 Main St"],
            "city": ["Cleveland"],
            "state": ["OH"],
            "zipcode": ["44113"],
            "type": ["Buyer;Seller"],
            "tags": ["sms opt-in;active investors"],
            "customfield_1": ["this is custom 1"],
            "customfield_2": ["custom 2"],
            "customfield_4": ["custom 4"],
        }
    )
    (payload,) = build_payloads(values)
    assert payload == {
        "fullname": "John Smith",
        "email": "test@email.com",
        "companyname": "Test LLC",
        "phone": "1112224444",
        "phonetype": "Work",
        "source": "google ads 1",
        "address": "123 Main St",
        "city": "Cleveland",
        "state": "OH",
        "zipcode": "44113",
        "type": ["Buyer", "Seller"],
        "tags": ["sms opt-in", "active investors"],
        "customfields": ["this is custom 1", "custom 2", None, "custom 4"],
    }
    assert check_contact(payload).ok  # the sandbox, with its own copy of the rules, accepts it


def test_empty_optional_fields_are_left_out_and_values_trimmed() -> None:
    values = frame(
        {
            "address": ["  1 Main St ", "2 Oak Ave"],
            "city": ["", None],
            "tags": [" a ;; b ;", " ; "],
            "customfield_3": ["", "x"],
            "customfield_1": ["  ", "y "],
        }
    )
    assert build_payloads(values) == [
        {"address": "1 Main St", "tags": ["a", "b"]},
        {"address": "2 Oak Ave", "customfields": ["y", None, "x"]},
    ]


def test_rows_in_order_and_one_per_row() -> None:
    values = frame({"address": [f"{i} Main St" for i in range(7)]}, first_row=40)
    assert [p["address"] for p in build_payloads(values)] == [f"{i} Main St" for i in range(7)]
    assert build_payloads(values.iloc[:0]) == []


def test_custom_slots_sorted_by_number_and_bounded() -> None:
    assert custom_slots(["customfield_10", "city", "customfield_2"]) == [(2, "customfield_2"), (10, "customfield_10")]
    with pytest.raises(MappingError, match="29"):
        custom_slots(["customfield_29"])


# -- invariants ------------------------------------------------------------------------------------

_cells = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(list("ab, ;\t")), max_size=6),
    st.sampled_from(["", " ", "Buyer;Seller", " x ", "a,b", "44113"]),
)


@st.composite
def field_frames(draw: st.DrawFn) -> tuple[str, pd.DataFrame]:
    kind = draw(st.sampled_from(["contact", "property"]))
    names = CONTACT_FIELDS if kind == "contact" else PROPERTY_FIELDS
    fields = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    slots = draw(st.lists(st.integers(1, 28), unique=True, max_size=6))
    columns = [*fields, *(custom_field(s) for s in slots)]
    n = draw(st.integers(0, 6))
    data = {c: draw(st.lists(_cells, min_size=n, max_size=n)) for c in columns}
    return kind, pd.DataFrame(data, index=pd.RangeIndex(2, 2 + n, name="row"), dtype="string")


@settings(max_examples=150, deadline=None)
@given(field_frames())
def test_any_field_frame_gives_clean_payloads(case: tuple[str, pd.DataFrame]) -> None:
    kind, values = case
    payloads = build_payloads(values)
    assert len(payloads) == len(values)
    allowed = set(CONTACT_FIELDS if kind == "contact" else PROPERTY_FIELDS) | {"customfields"}
    slots = dict(custom_slots(values.columns))
    for payload, (_, row) in zip(payloads, values.iterrows(), strict=True):
        assert set(payload) <= allowed
        for key, value in payload.items():
            if key == "customfields":
                assert 0 < len(value) <= 28 and value[-1] is not None
                for pos, item in enumerate(value, start=1):
                    cell = row[slots[pos]] if pos in slots else None
                    expected = cell.strip() if isinstance(cell, str) and cell.strip() else None
                    assert item == expected
            elif key in LIST_FIELDS:
                assert isinstance(value, list) and value
                assert all(isinstance(v, str) and v and v == v.strip() and not {",", ";"} & set(v) for v in value)
            else:
                assert isinstance(value, str) and value and value == value.strip()
                assert value == row[key].strip()
        # Every filled field of the row made it into the payload.
        for key in values.columns:
            cell = row[key]
            strip = " ,;\t" if key in LIST_FIELDS else " \t"
            filled = isinstance(cell, str) and cell.strip(strip) != ""
            if not key.startswith("customfield_"):
                assert (key in payload) == filled, (key, cell)
        # The sandbox (its own copy of the API's rules) finds no structural fault in the payload.
        check = check_contact if kind == "contact" else check_property
        structural = [e for e in check(payload).errors if "must be a" in e or "Unknown field" in e]
        assert structural == []
