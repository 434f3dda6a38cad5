"""Mappings: which spreadsheet columns become which API fields.

A mapping is YAML (see README "Mapping format"). ``load_mapping`` reads and
checks it on its own (unknown kinds, fields, custom-field slots, relation
flags); ``Mapping.bind`` checks it against a file's header (every named column
must exist) before any row is read; ``BoundMapping.extract`` turns a loaded
chunk into one *field frame* per record of the row (one for a contact or
property; property + contacts for ``property-with-contacts``).

A field frame has the row numbers as index, one column per API field present
in the mapping (custom fields as ``customfield_N``), and text values ("" when
empty) with the mapping's ``values:`` maps and ``defaults:`` applied: it is
what the validate stage checks.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from importer.errors import MappingError
from importer.fields import (
    KIND_FIELDS,
    KINDS,
    LIST_FIELDS,
    MAX_CUSTOM_FIELDS,
    RELATION_FLAGS,
    REQUIRED_FIELDS,
    custom_field,
)
from importer.load import Chunk, normalize_header
from importer.problems import concat_problems
from importer.transforms import (
    FieldSpec,
    SkipRule,
    link_specs,
    parse_skip,
    parse_spec,
    picks_person,
    skip_reasons,
)

#: Cells of list fields (type, tags) hold several items separated by either.
LIST_SEPARATORS = r"[,;]"
#: Names people write for API fields, for the "did you mean" hint of an unknown field.
_FIELD_ALIASES: dict[str, str] = {
    "name": "fullname",
    "full name": "fullname",
    "full_name": "fullname",
    "contact name": "fullname",
    "company": "companyname",
    "company name": "companyname",
    "e-mail": "email",
    "mail": "email",
    "phone number": "phone",
    "mobile": "phone",
    "cell": "phone",
    "phone type": "phonetype",
    "street": "address",
    "street address": "address",
    "zip": "zipcode",
    "zip code": "zipcode",
    "postal code": "zipcode",
    "postcode": "zipcode",
    "lead source": "source",
    "contact type": "type",
    "types": "type",
    "tag": "tags",
    "custom": "customfields",
    "custom fields": "customfields",
}

__all__ = [
    "BoundMapping",
    "Extracted",
    "Mapping",
    "RecordMapping",
    "find_preset",
    "load_mapping",
    "parse_mapping",
    "preset_names",
]

#: Where presets live: ``mappings/`` of a checkout, shipped in the package as ``importer/presets``.
_PRESET_DIRS = (Path(__file__).with_name("presets"), Path(__file__).parents[1] / "mappings")


@dataclass(frozen=True)
class RecordMapping:
    """How one record (a contact or a property) is made from a row."""

    kind: str
    label: str  # "" for single-record mappings; "Property", "Owner 1", ... otherwise
    specs: dict[str, FieldSpec]  # API field (or customfield_N) -> spec
    defaults: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> casefolded cell -> value
    relation: dict[str, bool] = field(default_factory=dict)  # contact-property role flags
    optional: bool = False  # skipped on rows where all its cells are empty
    skip: tuple[SkipRule, ...] = ()  # a contact block's ``skip:``: leave this record out where one holds

    @property
    def columns(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for spec in self.specs.values():
            seen.update(dict.fromkeys(spec.columns))
        return tuple(seen)

    @property
    def fields(self) -> tuple[str, ...]:
        """Fields this record produces, in API order, then custom fields by slot."""
        names = set(self.specs) | set(self.defaults)
        api = [f for f in KIND_FIELDS[self.kind] if f in names]
        custom = sorted((n for n in names if n.startswith("customfield_")), key=lambda n: int(n[12:]))
        return (*api, *custom)


@dataclass(frozen=True)
class Mapping:
    """A parsed, self-consistent mapping (not yet checked against a file)."""

    kind: str
    records: tuple[RecordMapping, ...]
    source: str = "<mapping>"
    skip: tuple[SkipRule, ...] = ()  # the mapping's top-level ``skip:``: leave the whole row out

    @property
    def columns(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for rec in self.records:
            seen.update(dict.fromkeys(rec.columns))
        for rule in (*self.skip, *(r for rec in self.records for r in rec.skip)):
            seen.update(dict.fromkeys(rule.when.columns))
        return tuple(seen)

    def bind(self, headers: Iterable[str], *, file: str = "the file") -> BoundMapping:
        """Check every column the mapping names exists in ``headers``; resolve their exact spelling.

        Header matching ignores case and white space. All missing columns are
        reported in one error, each with the closest existing header as a hint.
        """
        headers = list(headers)
        by_key: dict[str, str] = {}
        for h in headers:
            by_key.setdefault(normalize_header(h), h)
        resolved: dict[str, str] = {}
        missing: list[str] = []
        for col in self.columns:
            actual = by_key.get(normalize_header(col))
            if actual is None:
                hint = difflib.get_close_matches(normalize_header(col), list(by_key), n=1, cutoff=0.6)
                missing.append(f"'{col}'" + (f" (did you mean '{by_key[hint[0]]}'?)" if hint else ""))
            else:
                resolved[col] = actual
        if missing:
            raise MappingError(
                f"mapping {self.source} names {'a column' if len(missing) == 1 else 'columns'} that "
                f"{file} lacks: {', '.join(missing)}; fix the mapping or the file's header"
            )
        return BoundMapping(self, resolved)


@dataclass(frozen=True)
class Extracted:
    """One record's field frame for one chunk, with what the validate stage needs to explain it."""

    record: RecordMapping
    fields: pd.DataFrame
    columns: dict[str, str]  # field -> the spreadsheet column(s) it came from, for messages
    zip_from_number: pd.Series | None  # the ZIP cell was a number in a workbook (pad back leading zeros)
    present: pd.Series  # bool per row: the record has any mapped cell filled (optional records)
    problems: pd.DataFrame  # warnings from transforms
    #: Why a skip rule leaves this record out, per row ("" = it does not). The first record's
    #: (the property's, or the one record's) holds the top-level rules: the whole row is skipped.
    skip: pd.Series | None = None


@dataclass(frozen=True)
class BoundMapping:
    """A mapping checked against one file's header."""

    mapping: Mapping
    resolved: dict[str, str]  # column as written in the mapping -> header as in the file

    def extract(self, chunk: Chunk) -> list[Extracted]:
        """The field frames of every record of the mapping for one chunk."""
        frame = chunk.frame
        cells = {col: frame[actual] for col, actual in self.resolved.items()}
        row_skip = skip_reasons(self.mapping.skip, cells, frame.index) if self.mapping.skip else None
        out = [self._extract_record(rec, chunk, cells) for rec in self.mapping.records]
        if row_skip is not None:
            first = out[0]
            own = first.skip if first.skip is not None else row_skip
            out[0] = dataclasses.replace(first, skip=row_skip.where(row_skip != "", own))
        return out

    def own_columns(self, rec: RecordMapping) -> tuple[str, ...]:
        """The columns that decide whether an optional record is on a row.

        Its own columns, not those it shares with another record of the mapping:
        Owner 2 with the owners' common mailing address is on a row when an Owner 2
        name cell is filled, not whenever the mailing address is. A field that picks
        one person out of a shared name cell (``{name: Owner, person: 2}``) decides
        as well (see ``_extract_record``), so such a record may have no own column.
        All its columns when it has neither.
        """
        others = {c for r in self.mapping.records if r is not rec for c in r.columns}
        own = tuple(c for c in rec.columns if c not in others)
        return own if own or any(picks_person(s) for s in rec.specs.values()) else rec.columns

    def _extract_record(self, rec: RecordMapping, chunk: Chunk, cells: dict[str, pd.Series]) -> Extracted:
        index = chunk.frame.index
        data: dict[str, pd.Series] = {}
        made: dict[str, pd.Series] = {}  # what each spec made, before values: and defaults:
        problems = []
        for name in rec.fields:
            spec = rec.specs.get(name)
            if spec is None:
                value = pd.Series("", index=index, dtype="string")
            else:
                value, warn = spec.apply(cells, index)
                made[name] = value
                if len(warn):  # transform warnings name the field they changed
                    warn = warn.assign(field=name, message=name + ": " + warn["message"])
                problems.append(warn)
            if name in rec.values:
                value = _map_values(value, rec.values[name], list_field=name in LIST_FIELDS)
            if name in rec.defaults:
                value = value.where(value.str.strip() != "", rec.defaults[name])
            data[name] = value
        fields = pd.DataFrame(data, index=index)
        # Present where a field read from its own columns, or one that picks a person out of a
        # shared name cell, comes out non-empty: a transform may leave a field empty although its
        # cells are not (the second of "SMITH JOHN & MARY" on a row with one name; a phone passed
        # over for its DNC flag).
        own = set(self.own_columns(rec))
        counted = [
            made[n].fillna("").str.strip() != ""
            for n, s in rec.specs.items()
            if own.intersection(s.columns) or picks_person(s)
        ]
        present = pd.concat(counted, axis=1).any(axis=1) if counted else pd.Series(True, index=index)
        skip = skip_reasons(rec.skip, cells, index) if rec.skip else None
        zip_spec = rec.specs.get("zipcode")
        zip_from_number = None
        if chunk.numeric is not None and zip_spec is not None and zip_spec.columns:
            zip_from_number = chunk.numeric[self.resolved[zip_spec.columns[0]]].astype(bool)
        columns = {name: spec.describe() for name, spec in rec.specs.items()}
        return Extracted(rec, fields, columns, zip_from_number, present, concat_problems(problems), skip)


def _map_values(value: pd.Series, table: dict[str, str], *, list_field: bool) -> pd.Series:
    """Apply a ``values:`` map (keys casefolded) to a field's cells.

    A whole cell that matches a key is replaced. In a list field (type, tags) the
    items of other cells are mapped one by one, so ``{Investor: Buyer}`` turns
    "Investor; Seller" into "Buyer;Seller"; items without a key stay as typed.
    """
    key = value.str.strip().str.casefold()
    whole = key.map(table)
    out = whole.fillna(value).astype("string")
    if not list_field:
        return out
    rest = whole.isna() & key.str.contains(LIST_SEPARATORS, regex=True).fillna(False)
    if not rest.any():
        return out
    items = value[rest].str.split(LIST_SEPARATORS, regex=True).explode().str.strip()
    mapped = items.str.casefold().map(table).fillna(items).astype("string")
    mapped = mapped[mapped != ""]  # a key mapped to nothing drops the item
    joined = mapped.groupby(level=0, sort=False).agg(";".join)
    out.loc[rest] = joined.reindex(out.index[rest]).fillna("").astype("string")
    return out


# -- reading ---------------------------------------------------------------------------------------


def preset_names() -> list[str]:
    """Names usable as ``--mapping NAME``."""
    names: set[str] = set()
    for d in _PRESET_DIRS:
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.yaml"))
    return sorted(names)


def find_preset(name: str) -> Path | None:
    for d in _PRESET_DIRS:
        candidate = d / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    return None


def load_mapping(path_or_name: str | os.PathLike[str]) -> Mapping:
    """Read a mapping from a YAML file, or a preset by name (``propstream``)."""
    path = Path(path_or_name)
    if not path.exists() and path.suffix == "" and (preset := find_preset(str(path_or_name))):
        path = preset
    if not path.is_file():
        presets = ", ".join(preset_names()) or "none installed"
        raise MappingError(f"mapping {path_or_name}: no such file and no such preset (presets: {presets})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping {path}: cannot be read ({exc})") from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise MappingError(f"mapping {path}: not valid YAML{line}; {getattr(exc, 'problem', exc)}") from exc
    return parse_mapping(data, source=str(path))


def parse_mapping(data: Any, source: str = "<mapping>") -> Mapping:
    """Check a mapping's own consistency: kinds, fields, slots, flags. Raises MappingError."""
    if not isinstance(data, dict):
        raise MappingError(f"mapping {source}: expected a YAML mapping with 'kind' and 'fields'")
    if "kind" not in data:
        raise MappingError(f"mapping {source}: 'kind' is missing; start it with 'kind: contact' or 'kind: property'")
    kind = data.get("kind")
    if kind not in KINDS:
        text = str(kind).strip().lower()
        hint = text if text in KINDS else _close(text, KINDS)
        why = f" (did you mean '{hint}'?)" if hint else ""
        raise MappingError(f"mapping {source}: kind '{kind}' is not one of {', '.join(KINDS)}{why}")
    if kind == "property-with-contacts":
        _only(data, {"kind", "property", "contacts", "skip"}, source, "")
        prop = _record(data.get("property"), "property", "Property", source, "property")
        contacts_data = data.get("contacts") or []
        if not isinstance(contacts_data, list):
            raise MappingError(f"mapping {source}: 'contacts' must be a list of contact blocks")
        contacts = []
        for i, block in enumerate(contacts_data, start=1):
            label = (block or {}).get("label") or f"Contact {i}" if isinstance(block, dict) else f"Contact {i}"
            contacts.append(_record(block, "contact", str(label), source, f"contacts[{i}]", multi=True))
        labels = [c.label for c in contacts]
        if len(set(labels)) != len(labels):
            raise MappingError(f"mapping {source}: contact labels must differ, got {labels}")
        return Mapping(kind, (prop, *contacts), source, parse_skip(data.get("skip"), f"mapping {source}: skip"))
    _only(data, {"kind", "fields", "customfields", "defaults", "values", "skip"}, source, "")
    rules = parse_skip(data.get("skip"), f"mapping {source}: skip")
    return Mapping(kind, (_record(data, kind, "", source, ""),), source, rules)


def _only(block: dict, allowed: set[str], source: str, where: str) -> None:
    unknown = sorted(set(block) - allowed)
    if unknown:
        at = f" in {where}" if where else ""
        raise MappingError(
            f"mapping {source}: unknown key {', '.join(map(repr, unknown))}{at}; expected {', '.join(sorted(allowed))}"
        )


def _record(block: Any, kind: str, label: str, source: str, where: str, *, multi: bool = False) -> RecordMapping:
    if not isinstance(block, dict):
        raise MappingError(f"mapping {source}: {where or 'the mapping'} must be a block with 'fields'")
    allowed = {"fields", "customfields", "defaults", "values"}
    if multi:
        allowed |= {"label", "relation", "skip"}
    if where:
        _only(block, allowed, source, where)
    prefix = f"{where}." if where else ""
    known = KIND_FIELDS[kind]
    specs: dict[str, FieldSpec] = {}

    def check_field(name: Any, section: str) -> str:
        name = str(name).strip().lower()
        if name == "customfields":
            raise MappingError(f"mapping {source}: {prefix}{section}: put custom fields under 'customfields:'")
        if name not in known:
            other = [k for k, fs in KIND_FIELDS.items() if name in fs and k != kind]
            if other:
                why = f" (only a {other[0]} has it)"
            else:
                custom = "customfields" if name.startswith("custom") else None
                hint = _FIELD_ALIASES.get(name) or custom or _close(name, known)
                if hint == "customfields":
                    why = " (custom fields go under 'customfields:' by slot number 1..28)"
                elif hint in known:
                    why = f" (did you mean '{hint}'?)"
                else:
                    why = ""
            raise MappingError(
                f"mapping {source}: {prefix}{section}: unknown field '{name}' for a {kind}{why}; "
                f"fields: {', '.join(known)}"
            )
        return name

    def check_unique(name: str, given: Any, seen: dict[str, Any], section: str) -> None:
        if name in seen:
            raise MappingError(
                f"mapping {source}: {prefix}{section}: '{seen[name]}' and '{given}' are the same "
                f"{'custom-field slot' if name.startswith('customfield_') else 'field'}; keep one of them"
            )
        seen[name] = given

    fields = block.get("fields") or {}
    if not isinstance(fields, dict):
        raise MappingError(f"mapping {source}: {prefix}fields must map API fields to columns")
    seen: dict[str, Any] = {}
    for name, spec in fields.items():
        key = check_field(name, "fields")
        check_unique(key, name, seen, "fields")
        specs[key] = parse_spec(spec, f"mapping {source}: {prefix}fields.{key}")

    custom = block.get("customfields") or {}
    if not isinstance(custom, dict):
        raise MappingError(f"mapping {source}: {prefix}customfields must map slot numbers 1..28 to columns")
    seen = {}
    for slot, spec in custom.items():
        n = _slot(slot, source, f"{prefix}customfields")
        check_unique(custom_field(n), slot, seen, "customfields")
        specs[custom_field(n)] = parse_spec(spec, f"mapping {source}: {prefix}customfields.{n}")

    def slot_or_field(name: Any, section: str) -> str:
        if isinstance(name, int) or str(name).strip().isdigit():
            return custom_field(_slot(name, source, f"{prefix}{section}"))
        return check_field(name, section)

    defaults: dict[str, str] = {}
    raw_defaults = block.get("defaults") or {}
    if not isinstance(raw_defaults, dict):
        raise MappingError(f"mapping {source}: {prefix}defaults must map API fields to values")
    seen = {}
    for name, value in raw_defaults.items():
        key = slot_or_field(name, "defaults")
        check_unique(key, name, seen, "defaults")
        if isinstance(value, dict | list):
            raise MappingError(f"mapping {source}: {prefix}defaults.{key} must be one value, got {value!r}")
        defaults[key] = _scalar_text(value)

    values: dict[str, dict[str, str]] = {}
    raw_values = block.get("values") or {}
    if not isinstance(raw_values, dict):
        raise MappingError(f"mapping {source}: {prefix}values must map API fields to value maps")
    seen = {}
    for name, table in raw_values.items():
        key = slot_or_field(name, "values")
        check_unique(key, name, seen, "values")
        if not isinstance(table, dict):
            raise MappingError(f"mapping {source}: {prefix}values.{key} must map cell values to API values")
        values[key] = {_scalar_text(k).strip().casefold(): _scalar_text(v) for k, v in table.items()}

    relation: dict[str, bool] = {}
    if multi:
        by_key = {f.casefold(): f for f in RELATION_FLAGS}
        for flag, value in (block.get("relation") or {}).items():
            name = by_key.get(str(flag).casefold())
            if name is None:
                raise MappingError(
                    f"mapping {source}: {where}.relation: unknown flag '{flag}'; flags: {', '.join(RELATION_FLAGS)}"
                )
            if not isinstance(value, bool):
                raise MappingError(f"mapping {source}: {where}.relation.{name} must be true or false")
            relation[name] = value
    if not specs and not defaults:
        raise MappingError(f"mapping {source}: {where or 'the mapping'} maps no fields")
    for name in REQUIRED_FIELDS[kind]:
        if name not in specs and name not in defaults:
            raise MappingError(
                f"mapping {source}: {prefix}fields: every {kind} needs '{name}'; "
                f"map a column to it, e.g. '{name}: {_EXAMPLE_COLUMN[name]}'"
            )
    specs = link_specs(specs, f"mapping {source}: {prefix}")
    skip = parse_skip(block.get("skip"), f"mapping {source}: {prefix}skip") if multi else ()
    return RecordMapping(kind, label, specs, defaults, values, relation, optional=multi, skip=skip)


_EXAMPLE_COLUMN = {"fullname": "[First Name, Last Name]", "address": "Property Address"}


def _slot(slot: Any, source: str, where: str) -> int:
    """A custom-field label number 1..28, or MappingError naming it."""
    try:
        n = int(str(slot).strip()) if not isinstance(slot, bool) else -1
    except ValueError:
        n = -1
    if not 1 <= n <= MAX_CUSTOM_FIELDS:
        raise MappingError(
            f"mapping {source}: {where}: slot {slot!r} is outside 1..{MAX_CUSTOM_FIELDS}; "
            f"Realeflow has custom-field labels 1 to {MAX_CUSTOM_FIELDS}"
        )
    return n


def _close(text: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``text`` (ignoring spaces, "_" and "-"), if any is close enough."""
    squash = {c.replace("_", "").replace("-", "").replace(" ", ""): c for c in choices}
    key = text.replace("_", "").replace("-", "").replace(" ", "")
    if key in squash:
        return squash[key]
    hit = difflib.get_close_matches(key, list(squash), n=1, cutoff=0.75)
    return squash[hit[0]] if hit else None


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
