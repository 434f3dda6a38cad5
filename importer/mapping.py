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
    MAX_CUSTOM_FIELDS,
    RELATION_FLAGS,
    custom_field,
)
from importer.load import Chunk, normalize_header
from importer.problems import concat_problems
from importer.transforms import FieldSpec, parse_spec

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

    @property
    def columns(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for rec in self.records:
            seen.update(dict.fromkeys(rec.columns))
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


@dataclass(frozen=True)
class BoundMapping:
    """A mapping checked against one file's header."""

    mapping: Mapping
    resolved: dict[str, str]  # column as written in the mapping -> header as in the file

    def extract(self, chunk: Chunk) -> list[Extracted]:
        """The field frames of every record of the mapping for one chunk."""
        frame = chunk.frame
        cells = {col: frame[actual] for col, actual in self.resolved.items()}
        return [self._extract_record(rec, chunk, cells) for rec in self.mapping.records]

    def _extract_record(self, rec: RecordMapping, chunk: Chunk, cells: dict[str, pd.Series]) -> Extracted:
        index = chunk.frame.index
        data: dict[str, pd.Series] = {}
        problems = []
        for name in rec.fields:
            spec = rec.specs.get(name)
            if spec is None:
                value = pd.Series("", index=index, dtype="string")
            else:
                value, warn = spec.apply(cells, index)
                problems.append(warn)
            if name in rec.values:
                table = rec.values[name]
                key = value.str.strip().str.casefold()
                value = key.map(table).fillna(value).astype("string")
            if name in rec.defaults:
                value = value.where(value.str.strip() != "", rec.defaults[name])
            data[name] = value
        fields = pd.DataFrame(data, index=index)
        if rec.columns:
            present = pd.concat([cells[c].str.strip() != "" for c in rec.columns], axis=1).any(axis=1)
        else:
            present = pd.Series(True, index=index)
        zip_spec = rec.specs.get("zipcode")
        zip_from_number = None
        if chunk.numeric is not None and zip_spec is not None and zip_spec.columns:
            zip_from_number = chunk.numeric[self.resolved[zip_spec.columns[0]]].astype(bool)
        columns = {name: spec.describe() for name, spec in rec.specs.items()}
        return Extracted(rec, fields, columns, zip_from_number, present, concat_problems(problems))


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
    kind = data.get("kind")
    if kind not in KINDS:
        raise MappingError(f"mapping {source}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if kind == "property-with-contacts":
        _only(data, {"kind", "property", "contacts"}, source, "")
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
        return Mapping(kind, (prop, *contacts), source)
    _only(data, {"kind", "fields", "customfields", "defaults", "values"}, source, "")
    return Mapping(kind, (_record(data, kind, "", source, ""),), source)


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
        allowed |= {"label", "relation"}
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
            why = f" (only a {other[0]} has it)" if other else ""
            raise MappingError(
                f"mapping {source}: {prefix}{section}: unknown field '{name}' for a {kind}{why}; "
                f"fields: {', '.join(known)}"
            )
        return name

    fields = block.get("fields") or {}
    if not isinstance(fields, dict):
        raise MappingError(f"mapping {source}: {prefix}fields must map API fields to columns")
    for name, spec in fields.items():
        key = check_field(name, "fields")
        specs[key] = parse_spec(spec, f"{prefix}fields.{key}")

    custom = block.get("customfields") or {}
    if not isinstance(custom, dict):
        raise MappingError(f"mapping {source}: {prefix}customfields must map slot numbers 1..28 to columns")
    for slot, spec in custom.items():
        try:
            n = int(str(slot).strip())
        except ValueError:
            n = -1
        if not 1 <= n <= MAX_CUSTOM_FIELDS:
            raise MappingError(
                f"mapping {source}: {prefix}customfields: slot {slot!r} is outside 1..{MAX_CUSTOM_FIELDS}"
            )
        specs[custom_field(n)] = parse_spec(spec, f"{prefix}customfields.{n}")

    defaults: dict[str, str] = {}
    for name, value in (block.get("defaults") or {}).items():
        key = _slot_or_field(name, check_field, "defaults")
        defaults[key] = _scalar_text(value)

    values: dict[str, dict[str, str]] = {}
    for name, table in (block.get("values") or {}).items():
        key = _slot_or_field(name, check_field, "values")
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
    return RecordMapping(kind, label, specs, defaults, values, relation, optional=multi)


def _slot_or_field(name: Any, check_field: Any, section: str) -> str:
    text = str(name).strip()
    if text.isdigit():
        return custom_field(int(text))
    return check_field(text, section)


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
