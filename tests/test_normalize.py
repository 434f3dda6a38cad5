"""Unit and property tests for importer.validate.normalize."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.validate import normalize as N


def col(*values: str) -> pd.Series:
    return pd.Series(list(values), dtype="str")


def one(result: N.Normalized) -> tuple[str, list[str], list[str]]:
    """(value, warning codes, error codes) of a one-cell result."""
    return result.values.iloc[0], list(result.warnings["code"]), list(result.errors["code"])


# ------------------------------------------------------------------ text


@pytest.mark.parametrize(
    ("raw", "clean", "warns"),
    [
        ("  Cleveland ", "Cleveland", False),  # trimming alone is silent
        ("New  York", "New York", True),
        ("123 Main St\nApt 4", "123 Main St Apt 4", True),
        ("a\x00b", "ab", True),
        ("\u200bJohn", "John", True),
        ("José\xa0Luis", "José Luis", True),
        ("María García", "María García", False),
        ("", "", False),
    ],
)
def test_clean_text(raw: str, clean: str, warns: bool) -> None:
    r = N.clean_text(col(raw), "city")
    assert r.values.iloc[0] == clean
    assert (list(r.warnings["code"]) == ["text.normalized"]) is warns


# ------------------------------------------------------------------ state


@pytest.mark.parametrize(
    ("raw", "code"),
    [("Ohio", "OH"), ("ohio", "OH"), ("oh", "OH"), ("N.Y.", "NY"), ("district of columbia", "DC"),
     ("Puerto Rico", "PR"), ("ae", "AE"), ("Washington DC", "DC")],
)  # fmt: skip
def test_state_normalized_with_warning(raw: str, code: str) -> None:
    value, warns, errs = one(N.normalize_state(col(raw)))
    assert (value, warns, errs) == (code, ["state.normalized"], [])
    assert N.normalize_state(col(raw)).warnings["message"].iloc[0] == f"state: {raw} → {code}"


def test_state_code_unchanged_and_unknown_rejected() -> None:
    r = N.normalize_state(col("OH", "XX", "FM", ""))
    assert r.values.tolist() == ["OH", "XX", "FM", ""]
    assert r.warnings.empty
    assert r.errors["pos"].tolist() == [1, 2]
    assert r.errors["message"].iloc[0].startswith("state 'XX' is not a US state code")


# ------------------------------------------------------------------ ZIP


def test_zip_plus_four_and_float() -> None:
    r = N.normalize_zipcode(col("44113-1234", "441131234", "44113.0", "44113", "44113 1234"))
    assert r.values.tolist() == ["44113"] * 5
    assert sorted(r.warnings["pos"].tolist()) == [0, 1, 2, 4]
    assert r.errors.empty


def test_zip_from_number_is_padded() -> None:
    r = N.normalize_zipcode(col("2134", "901", "2134"), col("MA", "PR", "MA"), [True, True, False])
    assert r.values.tolist()[:2] == ["02134", "00901"]
    assert r.warnings["code"].tolist()[:2] == ["zipcode.padded", "zipcode.padded"]
    # the third is text (CSV-like) but 02134 is a MA ZIP: padded too, with its reason
    assert r.values.iloc[2] == "02134"
    assert "it is a ZIP in MA" in r.warnings["message"].iloc[2]


def test_csv_short_zip_not_guessed() -> None:
    r = N.normalize_zipcode(col("4411", "4411", "4411"), col("OH", "", "ME"))
    assert r.values.tolist() == ["4411", "4411", "04411"]
    assert r.errors["pos"].tolist() == [0, 1]
    assert set(r.errors["code"]) == {"zipcode.leading_zeros"}
    assert "'4411'" in r.errors["message"].iloc[0]


@pytest.mark.parametrize("raw", ["abc", "12", "123456", "4411x", "44113-12"])
def test_zip_invalid(raw: str) -> None:
    value, _, errs = one(N.normalize_zipcode(col(raw), col("OH")))
    assert value == raw
    assert errs == ["zipcode.invalid"]


def test_zip_state_warnings() -> None:
    w = N.zip_state_warnings(col("44113", "90210", "00000", "44113"), col("OH", "OH", "OH", ""))
    assert dict(zip(w["pos"], w["code"], strict=True)) == {1: "zipcode.state_mismatch", 2: "zipcode.unknown"}
    assert w.set_index("pos").loc[1, "message"] == "zipcode 90210 is in CA, not OH; check the state and ZIP"


# ------------------------------------------------------------------ phone


@pytest.mark.parametrize(
    ("raw", "warn"),
    [("(216) 555-1234", False), ("216.555.1234", False), ("+1 216 555 1234", False), ("12165551234", False),
     ("2165551234", False), ("1.2165551234E+10", True), ("2165551234.0", True), ("216-555-1234 x123", True),
     ("(216) 555-1234 ext. 9", True)],
)  # fmt: skip
def test_phone_ok(raw: str, warn: bool) -> None:
    value, warns, errs = one(N.normalize_phone(col(raw)))
    assert value == "2165551234"
    assert errs == []
    assert (warns == ["phone.normalized"]) is warn


@pytest.mark.parametrize(
    ("raw", "code"),
    [("555-1234", "phone.length"), ("+44 20 7946 0958", "phone.length"), ("216-555-CALL", "phone.letters"),
     ("1.21656E+10", "phone.scientific"), ("216*555*1234", "phone.invalid"), ("22165551234", "phone.length")],
)  # fmt: skip
def test_phone_errors(raw: str, code: str) -> None:
    value, _, errs = one(N.normalize_phone(col(raw)))
    assert errs == [code]
    assert not re.fullmatch(N.PHONE_PATTERN, value)  # left unfixed: the schema rejects it


# ------------------------------------------------------------------ phone type, type, tags, email


@pytest.mark.parametrize(
    ("raw", "norm"),
    [("Cell", "Mobile"), ("cellular", "Mobile"), ("mobile phone", "Mobile"), ("C", "Mobile"), ("M", "Mobile"),
     ("Wireless", "Mobile"), ("Land Line", "Home"), ("landline", "Home"), ("Residence", "Home"),
     ("H", "Home"), ("Office", "Work"), ("B", "Work"), ("work", "Work")],
)  # fmt: skip
def test_phonetype_synonyms(raw: str, norm: str) -> None:
    assert one(N.normalize_phonetype(col(raw)))[:2] == (norm, ["phonetype.normalized"])


def test_phonetype_unknown() -> None:
    r = N.normalize_phonetype(col("Pager", "VOIP", "Mobile", ""))
    assert r.errors["pos"].tolist() == [0, 1]
    assert r.errors["message"].iloc[0] == (
        "phonetype 'Pager' is not Mobile, Work or Home; map it in the mapping's values: section"
    )
    assert r.warnings.empty


def test_contact_type() -> None:
    r = N.normalize_contact_type(col("buyer, SELLER", "Buyer;Seller", "Seller;buyer;Lender", "", "buyer;buyer"))
    assert r.values.tolist() == ["Buyer;Seller", "Buyer;Seller", "Seller;Buyer;Lender", "", "Buyer"]
    assert r.errors["pos"].tolist() == [2]
    assert r.errors["message"].iloc[0].startswith("type 'Lender' is not Buyer or Seller")
    assert sorted(r.warnings["pos"].tolist()) == [0, 2, 4]


def test_tags() -> None:
    r = N.normalize_tags(col("vip, sms opt-in; vip", " a ;; b ,", "", "x;y"))
    assert r.values.tolist() == ["vip;sms opt-in", "a;b", "", "x;y"]
    assert r.warnings["pos"].tolist() == [0]  # only the dropped duplicate is worth saying


def test_email() -> None:
    r = N.normalize_email(col("John@Example.COM", "a@b.co", "bad", "a@b", "a b@c.com", "x@y.z", ""))
    assert r.values.tolist()[:2] == ["John@example.com", "a@b.co"]
    assert r.warnings["message"].tolist() == ["email: John@Example.COM → John@example.com"]
    assert r.errors["pos"].tolist() == [2, 3, 4, 5]


# ------------------------------------------------------------------ properties

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=25)
_phone_like = st.text(alphabet="0123456789 ()-.+xeE#", max_size=20)
_zip_like = st.text(alphabet="0123456789-. ", max_size=11)
_relaxed = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_relaxed
@given(st.lists(_text, min_size=1, max_size=8))
def test_clean_text_idempotent_and_tidy(values: list[str]) -> None:
    once = N.clean_text(col(*values), "f").values
    twice = N.clean_text(once, "f")
    assert twice.values.tolist() == once.tolist()
    assert twice.warnings.empty
    for v in once:
        assert v == v.strip() and "  " not in v and not re.search(r"[\x00-\x1f\x7f]", v)


@_relaxed
@given(st.lists(st.one_of(_phone_like, _text), min_size=1, max_size=8))
def test_phone_is_ten_digits_or_flagged(values: list[str]) -> None:
    s = N.clean_text(col(*values), "phone").values
    r = N.normalize_phone(s)
    flagged = set(r.errors["pos"])
    for i, v in enumerate(r.values):
        assert v == "" or re.fullmatch(r"[0-9]{10}", v) or i in flagged
    again = N.normalize_phone(r.values.iloc[[i for i in range(len(s)) if i not in flagged]])
    assert again.warnings.empty and again.errors.empty


@_relaxed
@given(st.lists(st.one_of(_zip_like, _text), min_size=1, max_size=8), st.sampled_from(["OH", "MA", "", "PR"]))
def test_zip_is_five_digits_or_flagged(values: list[str], state: str) -> None:
    s = N.clean_text(col(*values), "zipcode").values
    r = N.normalize_zipcode(s, col(*[state] * len(values)))
    flagged = set(r.errors["pos"])
    for i, v in enumerate(r.values):
        assert v == "" or re.fullmatch(r"[0-9]{5}", v) or i in flagged
    again = N.normalize_zipcode(r.values, col(*[state] * len(values)))
    assert again.values.tolist() == r.values.tolist()


@_relaxed
@given(st.lists(st.one_of(st.sampled_from([*N.STATE_NAMES.values(), *N.STATE_CODES]), _text), max_size=8))
def test_state_in_code_set_or_flagged(values: list[str]) -> None:
    s = N.clean_text(col(*values), "state").values
    r = N.normalize_state(s)
    flagged = set(r.errors["pos"])
    for i, v in enumerate(r.values):
        assert v == "" or v in N.STATE_CODES or i in flagged
    assert N.normalize_state(r.values).values.tolist() == r.values.tolist()


@_relaxed
@given(st.lists(_text, min_size=1, max_size=6))
def test_list_fields_idempotent_and_no_crash(values: list[str]) -> None:
    s = N.clean_text(col(*values), "tags").values
    for fn in (N.normalize_tags, N.normalize_contact_type, N.normalize_phonetype, N.normalize_email):
        r = fn(s)
        again = fn(r.values)
        assert again.values.tolist() == r.values.tolist()
        assert again.warnings.empty
