"""E-mail addresses (importer.validate.emails, through normalize_email and validate_fields):
email-validator's syntax as the oracle on generated addresses, and the "did you mean" domain warning."""

from __future__ import annotations

import pandas as pd
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.validate import normalize as N
from importer.validate.emails import PLAIN_PATTERN, domain_suggestions, email_reasons
from importer.validate.rules import validate_fields

SETTINGS = settings(max_examples=200, deadline=None)


def col(*values: str) -> pd.Series:
    return pd.Series(list(values), dtype="str")


def library_accepts(address: str) -> bool:
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return len(checked.ascii_domain.rpartition(".")[2]) > 1  # our one addition: no one-letter TLD


def contacts(*emails: str) -> pd.DataFrame:
    rows = pd.Index(range(2, 2 + len(emails)), name="row")
    return pd.DataFrame({"fullname": ["Ann Lee"] * len(emails), "email": list(emails)}, index=rows, dtype="str")


# -- the addresses of issue 15 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "why"),
    [
        ("a..b@gmail.com", "two periods in a row"),
        ("maria.garcia@yahoo", "it should have a period"),
        ("lisa.brown@@gmail.com", "invalid characters: '@'"),
        ("N/A", "must have an @-sign"),
        ("x@foo.test", "special-use or reserved name"),
        ("ann@example.c", "no top-level domain has one letter"),
    ],
)
def test_malformed_addresses_are_errors_that_say_why(cell: str, why: str) -> None:
    result = validate_fields(contacts(cell), "contact")
    assert not result.valid.iloc[0]
    problem = result.problems.iloc[0]
    assert (problem["code"], problem["value"]) == ("email.invalid", cell)
    assert problem["message"].startswith(f"email '{cell}' is not a valid e-mail address (")
    assert why in problem["message"]


@pytest.mark.parametrize(
    ("cell", "meant"),
    [
        ("ann@gmail.con", "ann@gmail.com"),
        ("ann@yaho.com", "ann@yahoo.com"),
        ("ann@hotmial.com", "ann@hotmail.com"),
        ("ann@gmial.com", "ann@gmail.com"),
        ("Ann@Outlok.com", "Ann@outlook.com"),
        ("ann@comcast.ner", "ann@comcast.net"),
    ],
)
def test_a_typo_of_a_common_domain_is_a_warning_and_the_value_is_sent_as_written(cell: str, meant: str) -> None:
    result = validate_fields(contacts(cell), "contact")
    assert result.valid.iloc[0]
    assert result.problems["code"].tolist() == ["email.domain_typo"]
    assert result.problems["severity"].tolist() == ["warning"]
    assert f"did you mean '{meant}'?" in result.problems["message"].iloc[0]
    sent = result.values["email"].iloc[0]
    assert sent.rpartition("@")[2] == cell.rpartition("@")[2].lower()  # only the case of the domain changes


@pytest.mark.parametrize("cell", ["ann@att.com", "ann@aim.com", "ann@gmail.com", "ann@yahoo.ca", "ann@cox.com",
                                  "ann@example.com", "ann@mail.com", "ann@gmx.com", "ann@live.com"])  # fmt: skip
def test_real_domains_near_a_common_one_get_no_hint(cell: str) -> None:
    assert domain_suggestions(col(cell)).tolist() == [""]


# -- properties --------------------------------------------------------------------------------------

#: Text that looks like an address and often nearly is: the mistakes people make, shuffled in.
near_addresses = st.from_regex(
    r"\A[a-zA-Z0-9._%+'!-]{0,12}@{1,2}[a-zA-Z0-9.-]{0,12}(\.[a-zA-Z]{0,4})?\Z", fullmatch=True
)


@SETTINGS
@given(st.lists(st.one_of(st.emails(), near_addresses, st.text(max_size=20)), min_size=1, max_size=30))
def test_the_verdict_is_email_validators_address_by_address(cells: list[str]) -> None:
    """The fast pattern for plain addresses never lets through what the library refuses, and the
    rest goes through the library: the column's verdict is the library's for each address."""
    cells = [c.strip() for c in cells]
    verdict = (email_reasons(col(*cells)) == "").tolist()
    assert verdict == [c == "" or library_accepts(c) for c in cells]


@SETTINGS
@given(st.from_regex(rf"\A{PLAIN_PATTERN}\Z", fullmatch=True))
def test_what_the_fast_pattern_accepts_the_library_accepts_or_we_ask_it(address: str) -> None:
    reason = email_reasons(col(address)).iloc[0]
    assert (reason == "") == library_accepts(address)


@SETTINGS
@given(st.emails())
def test_valid_syntax_addresses_pass_with_the_domain_lower_cased(address: str) -> None:
    if not library_accepts(address):
        return  # hypothesis' generator allows a few the library refuses (one-letter TLDs)
    result = N.normalize_email(col(address))
    assert result.errors.empty
    local, _, domain = address.rpartition("@")
    assert result.values.iloc[0] == local + "@" + domain.lower()


@SETTINGS
@given(
    local=st.from_regex(r"\A[a-z][a-z0-9.]{0,10}[a-z0-9]\Z", fullmatch=True),
    broken=st.sampled_from(["..", "@@", "no-at", "no-dot", ". start", "dot. end"]),
)
def test_addresses_broken_in_a_known_way_are_always_flagged(local: str, broken: str) -> None:
    if ".." in local:
        return
    address = {
        "..": f"{local[0]}..{local[1:]}@gmail.com",
        "@@": f"{local}@@gmail.com",
        "no-at": f"{local}.gmail.com",
        "no-dot": f"{local}@gmail",
        ". start": f".{local}@gmail.com",
        "dot. end": f"{local}.@gmail.com",
    }[broken]
    result = validate_fields(contacts(address), "contact")
    assert not result.valid.iloc[0]
    assert result.problems["code"].tolist() == ["email.invalid"]
