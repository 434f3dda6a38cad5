"""Phones against the North American Numbering Plan (importer.validate.phones, through normalize_phone
and validate_fields): generated numbers, with phonenumbers' own per-number verdict as the oracle."""

from __future__ import annotations

import re

import pandas as pd
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.validate import normalize as N
from importer.validate.phones import PLAN_PATTERN, REGIONS, phone_reasons, phone_valid
from importer.validate.rules import validate_fields

SETTINGS = settings(max_examples=200, deadline=None)


def col(*values: str) -> pd.Series:
    return pd.Series(list(values), dtype="str")


def library_says_valid(digits: str) -> bool:
    """phonenumbers' verdict, one number at a time: valid, and in one of the regions we accept."""
    # Built, not parsed: parse("011...", "US") reads 011 as the international dialling prefix.
    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(digits))
    return phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) in REGIONS


def plan_rules_hold(digits: str) -> bool:
    return re.fullmatch(PLAN_PATTERN, digits) is not None


def contacts(*phones: str) -> pd.DataFrame:
    rows = pd.Index(range(2, 2 + len(phones)), name="row")
    return pd.DataFrame({"fullname": ["Ann Lee"] * len(phones), "phone": list(phones)}, index=rows, dtype="str")


# -- the numbers of issue 15 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "why"),
    [
        ("1234567890", "area code 123, which never starts with 0 or 1"),
        ("0001112222", "area code 000, which never starts with 0 or 1"),
        ("999-999-9999", "not a number in service in the US or Canada (area code 999"),
        ("(411) 555-1234", "area code 411, a service code (N11)"),
        ("216-911-5555", "exchange 911 (digits 4-6), a service code (N11)"),
        ("216-055-1234", "exchange 055 (digits 4-6), which never starts with 0 or 1"),
        ("+1 876 555 1234", "not a number in service in the US or Canada (area code 876"),  # Jamaica
    ],
)
def test_numbers_outside_the_plan_are_errors_that_say_why(cell: str, why: str) -> None:
    result = validate_fields(contacts(cell), "contact")
    assert not result.valid.iloc[0]
    problem = result.problems.iloc[0]
    assert (problem["code"], problem["field"], problem["value"]) == ("phone.invalid", "phone", cell)
    assert problem["message"].startswith(f"phone '{cell}' ") and why in problem["message"]


@pytest.mark.parametrize(
    ("cell", "digits"),
    [
        ("(216) 555-0134", "2165550134"),  # 555-01xx, the range kept for fiction: accepted
        ("+1 216 555 0134", "2165550134"),
        ("1-216-555-0134", "2165550134"),
        ("2.16555E+9", None),  # scientific notation that lost digits stays its own error
        ("2.165550134E+9", "2165550134"),
        ("216-555-0134 x12", "2165550134"),
        ("2165550134.0", "2165550134"),
        ("(613) 555-0123", "6135550123"),  # Ottawa
        ("(787) 555-0123", "7875550123"),  # Puerto Rico
        ("800-555-1212", "8005551212"),  # toll free
    ],
)
def test_formats_that_worked_keep_working(cell: str, digits: str | None) -> None:
    result = validate_fields(contacts(cell), "contact")
    if digits is None:
        assert result.problems["code"].tolist() == ["phone.scientific"]
        return
    assert result.valid.iloc[0], result.problems["message"].tolist()
    assert result.values["phone"].iloc[0] == digits


# -- properties ---------------------------------------------------------------------------------------

nxx = st.integers(200, 999).map(str)
line = st.integers(0, 9999).map(lambda n: f"{n:04d}")
any_ten = st.from_regex(r"\A[0-9]{10}\Z")


@SETTINGS
@given(st.lists(any_ten, min_size=1, max_size=40))
def test_the_column_verdict_is_the_library_verdict_number_by_number(numbers: list[str]) -> None:
    """The one RE2 pattern built from phonenumbers' metadata, plus the plan's rules, says what
    phonenumbers.is_valid_number says for each number (and the plan's rules, which it does not
    check for an exchange)."""
    verdict = phone_valid(col(*numbers)).tolist()
    assert verdict == [library_says_valid(n) and plan_rules_hold(n) for n in numbers]
    assert ((phone_reasons(col(*numbers)) == "").tolist()) == verdict


@SETTINGS
@given(area=nxx, exchange=nxx, rest=line)
def test_valid_nanp_numbers_always_pass(area: str, exchange: str, rest: str) -> None:
    digits = area + exchange + rest
    if not (library_says_valid(digits) and plan_rules_hold(digits)):
        return  # not a number in service: the properties below cover those
    for cell in (digits, f"({area}) {exchange}-{rest}", f"+1 {area} {exchange} {rest}", f"{area}.{exchange}.{rest}"):
        result = N.normalize_phone(col(cell))
        assert result.values.tolist() == [digits] and result.errors.empty


@SETTINGS
@given(
    area=nxx,
    exchange=nxx,
    rest=line,
    broken=st.sampled_from(["area 0", "area 1", "area N11", "exchange 0", "exchange 1", "exchange N11"]),
)
def test_a_number_breaking_a_plan_rule_is_always_flagged(area: str, exchange: str, rest: str, broken: str) -> None:
    part, rule = broken.split()
    if rule == "N11":
        bad = area[0] + "11" if part == "area" else exchange[0] + "11"
    else:
        bad = rule + (area if part == "area" else exchange)[1:]
    digits = bad + exchange + rest if part == "area" else area + bad + rest
    result = validate_fields(contacts(f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"), "contact")
    assert not result.valid.iloc[0]
    assert result.problems["code"].tolist() == ["phone.invalid"]


def test_errors_land_on_the_rows_holding_the_bad_number() -> None:
    """Numbers already 10 digits (no formatting to repair) are checked too, each on its own row."""
    cells = col(*(["2165550134", "1234567890"] * 5000))
    result = N.normalize_phone(cells)
    assert len(result.errors) == 5000 and set(result.errors["pos"] % 2) == {1}
