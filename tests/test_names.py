"""Properties of the owner-name normaliser (importer.mapping.names) and the name field spec built on it."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.mapping.names import given_names, parse_owners, plain_cells, render
from importer.mapping.transforms import COMPANY_PATTERN, Name, is_company, parse_spec

_SURNAMES = ["SMITH", "GARCIA", "NGUYEN", "O'BRIEN", "MCDONALD", "SMITH-JONES", "VAN DER BERG", "DE LA CRUZ",
             "LE", "MACHADO", "MÜLLER", "PEÑA", "ZHANG"]  # fmt: skip
_GIVEN = ["JOHN", "MARY", "ANN", "JOSE", "LINDA", "ROBERT", "PATRICIA", "MARIA", "DAVID", "THANH"]
_MIDDLE = st.sampled_from(["", " A", " B", " J R", " ANN"])  # initials and given names: a middle name that is
# not a common given name ("SMITH JOHN & JOHN LEE") cannot be told from a surname written first
_JOINERS = st.sampled_from([" & ", " AND ", "/", " / ", "&"])
_COMPANY_WORDS = ["LLC", "INC", "TRUST", "ESTATE OF", "EST OF", "HEIRS", "DECD", "HOLDINGS", "PROPERTIES", "BANK"]


def _keys(text: str) -> list[str]:
    return [w.casefold() for w in text.replace("-", " ").replace("'", " ").split()]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_SURNAMES), st.sampled_from(_GIVEN), _MIDDLE, st.sampled_from(["", " JR", " III", " ETAL"]))
def test_a_last_first_owner_always_gives_a_first_and_a_last_name(last: str, first: str, middle: str, tail: str) -> None:
    owners = parse_owners(f"{last} {first}{middle}{tail}", "last-first")
    assert len(owners.people) == 1
    (person,) = owners.people
    assert person.given and person.surname
    assert _keys(" ".join(person.surname)) == _keys(last)
    assert _keys(" ".join(person.given)) == _keys(first + middle)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(_SURNAMES),
    st.lists(st.tuples(st.sampled_from(_GIVEN), _MIDDLE), min_size=1, max_size=3),
    st.lists(_JOINERS, min_size=3, max_size=3),
    st.lists(st.sampled_from([None, *_SURNAMES]), min_size=3, max_size=3),
)
def test_joint_owners_never_lose_a_person(
    last: str, firsts: list[tuple[str, str]], joiners: list[str], own: list[str | None]
) -> None:
    """ "SMITH JOHN & MARY", "SMITH JOHN/JONES MARY A", "SMITH JOHN & GARCIA ANA & LUIS": one person a
    name, each with their given names; one who names no surname has the surname of the one before."""
    cell = f"{last} {firsts[0][0]}{firsts[0][1]}"
    surnames = [last]
    for (first, middle), joiner, theirs in zip(firsts[1:], joiners, own, strict=False):
        cell += joiner + (f"{theirs} {first}{middle}" if theirs else f"{first}{middle}")
        surnames.append(theirs or surnames[-1])
    people = parse_owners(cell, "last-first").people
    assert len(people) == len(firsts), (cell, people)
    for person, (first, middle), surname in zip(people, firsts, surnames, strict=True):
        assert _keys(" ".join(person.given)) == _keys(first + middle), (cell, people)
        assert _keys(" ".join(person.surname)) == _keys(surname), (cell, people)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([*_SURNAMES, *_GIVEN, "&", "AND", "/", "JR", "ETAL"]), min_size=0, max_size=4),
    st.sampled_from(_COMPANY_WORDS),
    st.lists(st.sampled_from([*_SURNAMES, *_GIVEN, "&", "AND", "/"]), min_size=0, max_size=3),
    st.sampled_from(["first-last", "last-first"]),
)
def test_companies_trusts_and_estates_are_never_split(
    before: list[str], word: str, after: list[str], order: str
) -> None:
    cell = " ".join([*before, word, *after])
    index = pd.Index([2], name="row")
    cells = {"Owner": pd.Series([cell], index=index, dtype="str")}
    assert bool(is_company(cells["Owner"]).iloc[0]), (cell, COMPANY_PATTERN)
    one, warnings = parse_spec({"name": "Owner", "order": order, "person": 1}, "t").apply(cells, index)
    two, _ = parse_spec({"name": "Owner", "order": order, "person": 2}, "t").apply(cells, index)
    assert one.tolist() == [" ".join(cell.split())] and two.tolist() == [""]
    assert warnings.empty  # kept as written: nothing to warn about


_PLAIN_WORDS = ["SMITH", "Smith", "smith", "JOHN", "John", "MARY", "A", "b", "J2", "JOSÉ", "José", "ÉLODIE",
                "ØRSTED", "NGUYEN", "Thanh", "ÅSA", "x"]  # fmt: skip
_OTHER_WORDS = ["&", "AND", "/", "VAN", "DE", "LE", "O", "JR", "III", "ETAL", "EST", "OF", "MCDONALD", "MACLEOD",
                "O'BRIEN", "SMITH-JONES", "SMITH,", "ß", "Straße", "2ND", "a1b", "DR.", "H/W", "ǅ"]  # fmt: skip


_ANY_WORDS = st.lists(st.sampled_from(_PLAIN_WORDS + _OTHER_WORDS), min_size=1, max_size=6)
# Mostly plain words, "&" and one more word: the shapes read by whole columns, and their near misses.
_NEAR_PLAIN = st.builds(
    lambda a, b, c: [*a, *b, *c],
    st.lists(st.sampled_from(_PLAIN_WORDS), min_size=1, max_size=4),
    st.sampled_from([[], ["&"], ["AND"], ["/"]]),
    st.lists(st.sampled_from(_PLAIN_WORDS + _OTHER_WORDS[3:]), min_size=1, max_size=2),
)


@pytest.mark.parametrize("person", [None, 1, 2])
@pytest.mark.parametrize("case", ["auto", "keep", "title"])
@pytest.mark.parametrize("order", ["first-last", "last-first"])
@settings(max_examples=40, deadline=None)
@given(st.one_of(_ANY_WORDS, _NEAR_PLAIN))
def test_cells_read_by_whole_columns_read_as_the_token_rules_read_them(
    order: str, case: str, person: int | None, words: list[str]
) -> None:
    """The field spec reads plain cells ("SMITH JOHN A", "SMITH JOHN & MARY") with whole-column string
    operations and the others one by one (Name.read on parse_owners): the field, the warning's code and
    its reason are the same either way."""
    cell = " ".join(words)
    index = pd.Index([2, 3], name="row")
    spec = parse_spec({"name": "Owner", "order": order, "case": case, "person": person}, "t")
    assert isinstance(spec, Name)
    # A second, plain cell: a column of one plain cell and one other is read both ways in one call.
    cells = {"Owner": pd.Series([cell, "SMITH JOHN"], index=index, dtype="str")}
    values, warnings = spec.apply(cells, index)
    if bool(is_company(cells["Owner"]).iloc[0]):
        return
    out, why, code, n = spec.read(cell, parse_owners(cell, order))
    assert values.iloc[0] == out, (cell, plain_cells(cells["Owner"], order))
    mine = warnings[warnings["row"] == 2]
    if cell != out and (person != 2 or n > 1):
        assert mine["code"].tolist() == [code]
        assert mine["message"].iloc[0].endswith(f"({why})")
    else:
        assert mine.empty


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PLAIN_WORDS), min_size=2, max_size=4), st.sampled_from(["first-last", "last-first"]))
def test_plain_cells_are_read_by_whole_columns(words: list[str], order: str) -> None:
    """Two to four plain words (letters, maybe digits after them) are a plain cell, whatever the order;
    with "& WORD" after them, a plain pair in a last-first list."""
    cells = pd.Series([" ".join(words), " ".join(words) + " & MARY"], dtype="string")
    one, two = plain_cells(cells, order)
    assert one.tolist() == [True, False]
    assert two.tolist() == [False, order == "last-first"]


def test_given_names_are_the_census_list() -> None:
    names = given_names()
    assert {"john", "mary", "thanh"} <= names and "smith" not in names


def test_rendering_keeps_particles_lower_inside_a_surname() -> None:
    (person,) = parse_owners("VAN DER BERG JAN", "last-first").people
    assert render(person, title=True) == "Jan van der Berg"
