"""Field specs: how a mapping turns spreadsheet cells into one API field.

A mapping names, for each API field, a *spec*. The YAML forms are:

    Email                          one column
    [First Name, Last Name]        join the non-empty cells with one space
    {join: [A, B], sep: ", "}      join with another separator
    {value: PropStream}            a constant
    {first: [Phone 1, Phone 2]}    the first non-empty of several columns (or specs: a list item is a
                                   join, a mapping item any spec below)
      unless: [Phone 1 DNC, ...]   ... passing over a candidate whose flag column is set (Yes/Y/True/1/X)
      follow: phone                ... or the candidate at the position the field ``phone`` chose
                                   (Phone N Type follows the Phone N that was taken)
    {name: Owner, order: last-first, person: 2, care_of: C/O Name, case: auto}
                                   a person's name: "SMITH, JOHN" / "SMITH JOHN" -> "John Smith";
                                   "JOHN & MARY SMITH" -> person 1 "John Smith", person 2 "Mary Smith";
                                   a company owner (LLC, INC, TRUST, ESTATE OF, EST, HEIRS, DECD...)
                                   gives the care-of name when there is one (else the company's name)
    {company: Owner}               the cell where it names a company (LLC, INC, ...), else empty
    {zip_state: ZIP}               the state of a ZIP code, from the offline ``zipcodes`` data
    {street: Address, unit: Unit}  "12 Oak St" + "4B" -> "12 Oak St #4B" ("Apt 4B" is kept as written)
    {columns: [Lists], add: [PropStream], from: [...]}
                                   tags: list cells, constant tags, and tags from a column's value

Each spec knows the columns it reads (so a mapping can be checked against a
file's header before anything is sent) and computes the field for a whole
chunk at once with vectorised string operations (name parsing works on the
chunk's unique values). A spec that changes what a cell said (a reordered
name, a company moved out of the name, a phone passed over for its DNC flag)
returns one warning per changed cell: the report lists them. The mapping
fills in the warnings' ``field`` and ``part``.

Skip rules (:class:`SkipRule`, the mapping's ``skip:`` list) use the same
conditions (:class:`Condition`): a row, or one contact of a row, is left out
where a flag column is set, with the reason in the report.

This module parses the YAML forms (and re-exports every spec): the specs themselves are in
:mod:`~importer.mapping.specs` (the plain ones, tags, conditions), :mod:`~importer.mapping.person`
(names and companies) and :mod:`~importer.mapping.skip` (skip rules).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from importer.errors import MappingError, quote
from importer.mapping.person import (
    COMPANY_PATTERN,
    Company,
    Name,
    is_company,
    picks_person,
)
from importer.mapping.skip import SkipRule, skip_problems, skip_reasons
from importer.mapping.specs import (
    TRUE_WORDS,
    Column,
    Condition,
    Constant,
    FieldSpec,
    First,
    Join,
    Street,
    TagRule,
    Tags,
    ZipState,
    columns_of,
)
from importer.suggestions import did_you_mean

__all__ = [
    "COMPANY_PATTERN",
    "TRUE_WORDS",
    "Column",
    "Company",
    "Condition",
    "Constant",
    "FieldSpec",
    "First",
    "Join",
    "Name",
    "SkipRule",
    "Street",
    "TagRule",
    "Tags",
    "ZipState",
    "is_company",
    "link_specs",
    "parse_condition",
    "parse_skip",
    "parse_spec",
    "picks_person",
    "skip_problems",
    "skip_reasons",
]


# -- parsing ------------------------------------------------------------------------------------------


def _column_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if (
        not isinstance(value, Sequence)
        or not value
        or not all(isinstance(v, str | int | float) and not isinstance(v, bool) and str(v).strip() for v in value)
    ):
        raise MappingError(f"{where}: expected a column name or a list of column names, got {quote(value)}")
    return tuple(str(v).strip() for v in value)


def _only(spec: dict, allowed: set[str], where: str, form: str) -> None:
    unknown = sorted(set(spec) - allowed, key=str)
    if unknown:
        hint = did_you_mean(str(unknown[0]), sorted(allowed)) if len(unknown) == 1 else ""
        raise MappingError(
            f"{where}: unknown key {', '.join(map(quote, unknown))}{hint} in {form}; "
            f"expected {', '.join(sorted(allowed))}"
        )


def _text_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


_FORMS = (
    "a column name, a list of columns, {first: [...]}, {join: [...], sep: ...}, {value: ...}, "
    "{name: ...}, {company: ...}, {zip_state: ...}, {street: ..., unit: ...} or {columns/add/from: ...} for tags"
)


def parse_spec(spec: Any, where: str) -> FieldSpec:
    """Read one field spec from YAML; ``where`` names it in messages ("fields.phone")."""
    if isinstance(spec, str | int | float) and not isinstance(spec, bool):
        text = str(spec).strip()
        if not text:
            raise MappingError(f"{where}: the column name is empty")
        return Column((text,))
    if isinstance(spec, list):
        return Join(_column_list(spec, where))
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: expected {_FORMS}; got {'nothing (null)' if spec is None else quote(spec)}")
    keys = set(spec)
    if keys == {"value"}:
        return Constant((), value=_text_value(spec["value"]))
    if "first" in keys:
        return _parse_first(spec, where)
    if "join" in keys:
        _only(spec, {"join", "sep"}, where, "a join")
        return Join(_column_list(spec["join"], f"{where}.join"), sep=str(spec.get("sep", " ")))
    if "name" in keys:
        return _parse_name(spec, where)
    if "company" in keys:
        _only(spec, {"company"}, where, "a company spec")
        source = parse_spec(spec["company"], f"{where}.company")
        return Company(source.columns, source=source)
    if "zip_state" in keys:
        _only(spec, {"zip_state"}, where, "a ZIP-to-state lookup")
        source = parse_spec(spec["zip_state"], f"{where}.zip_state")
        return ZipState(source.columns, source=source)
    if "street" in keys or "unit" in keys:
        _only(spec, {"street", "unit"}, where, "a street and unit")
        if not {"street", "unit"} <= keys:
            raise MappingError(f"{where}: a street spec needs both 'street' and 'unit'")
        street = parse_spec(spec["street"], f"{where}.street")
        unit = parse_spec(spec["unit"], f"{where}.unit")
        return Street(columns_of([street, unit]), street=street, unit=unit)
    if keys and keys <= {"columns", "add", "from"}:
        return _parse_tags(spec, where)
    raise MappingError(f"{where}: unknown spec {quote(sorted(keys, key=str))}; use {_FORMS}")


def _parse_first(spec: dict, where: str) -> First:
    _only(spec, {"first", "unless", "follow"}, where, "a first spec")
    raw = spec["first"]
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise MappingError(f"{where}.first: expected a list of columns (or specs), got {quote(raw)}")
    items = tuple(parse_spec(item, f"{where}.first[{i}]") for i, item in enumerate(raw, start=1))
    unless: tuple[str | None, ...] = ()
    if spec.get("unless") is not None:
        flags = spec["unless"]
        if not isinstance(flags, list) or len(flags) != len(items):
            raise MappingError(
                f"{where}.unless: give one flag column per candidate ({len(items)}), or null for none; "
                f"got {quote(flags)}"
            )
        unless = tuple(None if f is None or str(f).strip() == "" else str(f).strip() for f in flags)
    follow = spec.get("follow")
    if follow is not None:
        if not isinstance(follow, str) or not follow.strip():
            raise MappingError(f"{where}.follow: expected the name of another field, got {quote(follow)}")
        follow = follow.strip().lower()
        if unless:
            raise MappingError(f"{where}: 'unless' and 'follow' do not go together (the followed field decides)")
    columns = columns_of([*items]) + tuple(c for c in unless if c)
    return First(tuple(dict.fromkeys(columns)), items=items, unless=unless, follow=follow)


def _parse_name(spec: dict, where: str) -> Name:
    _only(spec, {"name", "order", "person", "care_of", "case"}, where, "a name spec")
    source = parse_spec(spec["name"], f"{where}.name")
    order = str(spec.get("order", "first-last")).strip().lower().replace("_", "-").replace(" ", "-")
    if order not in {"first-last", "last-first"}:
        raise MappingError(f"{where}.order: expected first-last or last-first, got {quote(spec.get('order'))}")
    person = spec.get("person")
    if person is not None and (isinstance(person, bool) or person not in (1, 2)):
        raise MappingError(f"{where}.person: expected 1 or 2 (which of 'JOHN & MARY SMITH'), got {quote(person)}")
    case = str(spec.get("case", "auto")).strip().lower()
    if case not in {"auto", "keep", "title"}:
        raise MappingError(f"{where}.case: expected auto, keep or title, got {quote(spec.get('case'))}")
    care_of = parse_spec(spec["care_of"], f"{where}.care_of") if spec.get("care_of") is not None else None
    return Name(columns_of([source, care_of]), source=source, order=order, person=person, care_of=care_of, case=case)


def parse_condition(spec: Any, where: str) -> Condition:
    """``{column: C, is: true}`` (a flag set), ``{column: [A, B], is: [Yes, Pending]}``, ``{..., is: nonempty}``."""
    if not isinstance(spec, dict) or "column" not in spec:
        raise MappingError(f"{where}: expected {{column: ..., is: ...}}, got {quote(spec)}")
    columns = _column_list(spec["column"], f"{where}.column")
    test = spec.get("is", True)
    if test is True:
        return Condition(columns)
    if isinstance(test, str) and test.strip().casefold() in {"nonempty", "not empty", "any"}:
        return Condition(columns, nonempty=True)
    if test is False or test is None:
        raise MappingError(f"{where}.is: use true (a flag set), a value, a list of values or 'nonempty'")
    values = test if isinstance(test, list) else [test]
    if any(isinstance(v, dict | list) for v in values):
        raise MappingError(f"{where}.is: expected a value or a list of values, got {quote(test)}")
    words = frozenset(_text_value(v).strip().casefold() for v in values)
    if not words or "" in words:
        raise MappingError(f"{where}.is: the values must not be empty; got {quote(test)}")
    return Condition(columns, values=words)


def parse_skip(spec: Any, where: str) -> tuple[SkipRule, ...]:
    """A mapping's ``skip:`` list: ``- {column: Do Not Mail, is: true, reason: ...}``."""
    if spec is None:
        return ()
    if isinstance(spec, dict):
        spec = [spec]
    if not isinstance(spec, list):
        raise MappingError(f"{where}: expected a list of {{column: ..., is: ..., reason: ...}}, got {quote(spec)}")
    rules = []
    for i, item in enumerate(spec, start=1):
        at = f"{where}[{i}]"
        if isinstance(item, dict):
            _only(item, {"column", "is", "reason"}, at, "a skip rule")
        rules.append(SkipRule(parse_condition(item, at), str(item.get("reason") or "").strip()))
    return tuple(rules)


def _parse_tags(spec: dict, where: str) -> Tags:
    lists = _column_list(spec["columns"], f"{where}.columns") if spec.get("columns") is not None else ()
    add_raw = spec.get("add") or []
    if isinstance(add_raw, str):
        add_raw = [add_raw]
    if not isinstance(add_raw, list) or not all(isinstance(t, str | int | float) for t in add_raw):
        raise MappingError(f"{where}.add: expected a list of tags, got {quote(add_raw)}")
    add = tuple(str(t).strip() for t in add_raw if str(t).strip())
    rules = []
    from_raw = spec.get("from") or []
    if isinstance(from_raw, dict):
        from_raw = [from_raw]
    if not isinstance(from_raw, list):
        raise MappingError(f"{where}.from: expected a list of {{column: ..., ...}}, got {quote(from_raw)}")
    for i, item in enumerate(from_raw, start=1):
        at = f"{where}.from[{i}]"
        if not isinstance(item, dict) or "column" not in item:
            raise MappingError(f"{at}: expected {{column: ..., prefix/values/is+tag: ...}}, got {quote(item)}")
        _only(item, {"column", "prefix", "values", "is", "tag"}, at, "a tag rule")
        (column,) = _column_list(item["column"], f"{at}.column")[:1]
        if "is" in item or "tag" in item:
            if not str(item.get("tag") or "").strip():
                raise MappingError(f"{at}: a conditional tag needs 'tag: <the tag>'")
            cond = parse_condition({"column": column, "is": item.get("is", True)}, at)
            rules.append(TagRule(column, when=cond, tag=str(item["tag"]).strip()))
        elif "values" in item:
            table = item["values"]
            if not isinstance(table, dict) or any(isinstance(v, dict | list) for v in table.values()):
                raise MappingError(f"{at}.values: expected cell value: tag pairs, got {quote(table)}")
            values = {_text_value(k).strip().casefold(): _text_value(v).strip() for k, v in table.items()}
            rules.append(TagRule(column, values=values))
        else:
            rules.append(TagRule(column, prefix=str(item.get("prefix") or "")))
    if not (lists or add or rules):
        raise MappingError(f"{where}: a tags spec needs columns, add or from")
    columns = tuple(dict.fromkeys([*lists, *(r.column for r in rules)]))
    return Tags(columns, lists=lists, add=add, rules=tuple(rules))


def link_specs(specs: dict[str, FieldSpec], where: str) -> dict[str, FieldSpec]:
    """Resolve ``follow:`` references between the fields of one record (after all are parsed)."""
    out = dict(specs)
    for name, spec in specs.items():
        if not isinstance(spec, First) or spec.follow is None:
            continue
        leader = specs.get(spec.follow)
        if not isinstance(leader, First) or leader.follow is not None:
            raise MappingError(
                f"{where}fields.{name}.follow: '{spec.follow}' must be another field of the same record "
                "given as {first: [...]} (without follow)"
            )
        if len(leader.items) != len(spec.items):
            raise MappingError(
                f"{where}fields.{name}: follows '{spec.follow}', so it needs as many candidates "
                f"({len(leader.items)}) as {spec.follow} has, in the same order; it has {len(spec.items)}"
            )
        out[name] = dataclasses.replace(spec, leader=leader)
    return out
