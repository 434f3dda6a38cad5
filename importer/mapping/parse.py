"""Reading a mapping: YAML (a file or a preset's name) into a checked :class:`~importer.mapping.core.Mapping`,
with messages that name the file, the record and the key at fault.

Re-exported by :mod:`importer.mapping.model`.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from importer.errors import MappingError, quote
from importer.fields import (
    KIND_FIELDS,
    KINDS,
    MAX_CUSTOM_FIELDS,
    OMIT_FIELD,
    ON_INVALID_CHOICES,
    REJECT_RECORD,
    RELATION_FLAGS,
    REQUIRED_FIELDS,
    custom_field,
)
from importer.mapping.absent import (
    parse_aliases,
    parse_footer,
    parse_title,
)
from importer.mapping.core import Mapping, RecordMapping
from importer.mapping.transforms import (
    FieldSpec,
    link_specs,
    parse_skip,
    parse_spec,
)
from importer.mapping.yamlfile import read_yaml
from importer.suggestions import closest, did_you_mean

__all__ = ["find_preset", "load_mapping", "parse_mapping", "preset_names", "read_mapping_yaml"]


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


#: Where presets live: ``mappings/`` of a checkout, shipped in the package as ``importer/presets``.
_PRESET_DIRS = (Path(__file__).parents[1] / "presets", Path(__file__).parents[2] / "mappings")


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


_preset_lock = threading.Lock()
#: {preset file: ((size, modification time), its YAML)}: presets are read once per process.
_preset_yaml: dict[Path, tuple[tuple[int, int], Any]] = {}


def read_mapping_yaml(path: Path) -> Any:
    """A mapping file's YAML (:func:`~importer.mapping.yamlfile.read_yaml`); a preset's is parsed once
    per process while the file stays as it was (size, modification time), and a copy given each time
    (ranking the presets for a file, as the workbench does for each upload, reads them all)."""
    resolved = path.resolve()
    if resolved.parent not in {d.resolve() for d in _PRESET_DIRS}:
        return read_yaml(path)
    try:
        st = resolved.stat()
    except OSError:
        return read_yaml(path)  # says why it cannot be read
    version = (st.st_size, st.st_mtime_ns)
    with _preset_lock:
        known = _preset_yaml.get(resolved)
    if known is None or known[0] != version:
        known = (version, read_yaml(path))
        with _preset_lock:
            _preset_yaml[resolved] = known
    return copy.deepcopy(known[1])


def load_mapping(path_or_name: str | os.PathLike[str]) -> Mapping:
    """Read a mapping from a YAML file, or a preset by name (``propstream``)."""
    path = Path(path_or_name)
    if not path.exists() and path.suffix == "" and (preset := find_preset(str(path_or_name))):
        path = preset
    if path.is_dir():
        raise MappingError(f"mapping {path_or_name}: is a folder; give the mapping's YAML file")
    if not path.is_file():
        names = preset_names()
        presets = ", ".join(names) or "none installed"
        hint = closest(path.name, names) if path.suffix == "" else None
        why = f"; did you mean the preset '{hint}'?" if hint else ""
        raise MappingError(
            f"mapping {path_or_name}: no such file and no such preset{why} (presets: {presets})"
        )
    data = read_mapping_yaml(path)
    try:
        return parse_mapping(data, source=str(path))
    except RecursionError:  # within read_yaml's bounds aliases can still chain a few hundred levels deep
        raise MappingError(
            f"mapping {path}: nests too deep through its anchors and aliases (*name); write it out plainly"
        ) from None


def parse_mapping(data: Any, source: str = "<mapping>") -> Mapping:
    """Check a mapping's own consistency: kinds, fields, slots, flags. Raises MappingError."""
    if not isinstance(data, dict):
        what = "is empty" if data is None else f"is {_a(data)} ({quote(data)}), not a block of keys"
        raise MappingError(
            f"mapping {source}: {what}; expected a YAML mapping starting with 'kind:' and 'fields:'"
        )
    if "kind" not in data:
        raise MappingError(f"mapping {source}: 'kind' is missing; start it with 'kind: contact' or 'kind: property'")
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        text = str(kind).strip().lower() if isinstance(kind, str) else ""
        hint = text if text in KINDS else _close(text, KINDS)
        why = f" (did you mean '{hint}'?)" if hint else ""
        raise MappingError(f"mapping {source}: kind {quote(kind)} is not one of {', '.join(KINDS)}{why}")
    extra = {"aliases", "footer", "title"}
    if kind == "property-with-contacts":
        _only(data, {"kind", "property", "contacts", "skip", "on_invalid", "header_row", *extra}, source, "")
        every = _on_invalid_all(data.get("on_invalid"), source)
        prop = _record(data.get("property"), "property", "Property", source, "property", every=every)
        contacts_data = data.get("contacts")
        if contacts_data is None:
            contacts_data = []
        if not isinstance(contacts_data, list):
            raise MappingError(
                f"mapping {source}: contacts must be a list of contact blocks ('- label: ...'), "
                f"got {_a(contacts_data)}"
            )
        contacts = []
        for i, block in enumerate(contacts_data, start=1):
            label = _label(block, i, source)
            contacts.append(_record(block, "contact", label, source, f"contacts[{i}]", multi=True, every=every))
        labels = [c.label for c in contacts]
        if len(set(labels)) != len(labels):
            twice = next(x for x in labels if labels.count(x) > 1)
            raise MappingError(
                f"mapping {source}: contact labels must differ; {quote(twice)} is the label of two contacts"
            )
        skip = parse_skip(data.get("skip"), f"mapping {source}: skip")
        mapping = Mapping(kind, (prop, *contacts), source, skip, _header_row(data, source))
    else:
        _only(
            data,
            {"kind", "fields", "customfields", "defaults", "values", "skip", "on_invalid", "header_row", *extra},
            source,
            "",
        )
        rules = parse_skip(data.get("skip"), f"mapping {source}: skip")
        mapping = Mapping(kind, (_record(data, kind, "", source, ""),), source, rules, _header_row(data, source))
    return dataclasses.replace(
        mapping,
        aliases=parse_aliases(data.get("aliases"), source, mapping.columns),
        footer=parse_footer(data.get("footer"), source),
        title=parse_title(data.get("title"), source),
    )


def _header_row(data: dict, source: str) -> int | None:
    """``header_row: N``: the row number (as Excel shows it) of the file's column headers."""
    value = data.get("header_row")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MappingError(
            f"mapping {source}: header_row must be a row number, 1 or more (as Excel shows it), not {quote(value)}"
        )
    return value


def _label(block: Any, i: int, source: str) -> str:
    """A contact block's ``label:`` (default "Contact i"); one line of text."""
    label = block.get("label") if isinstance(block, dict) else None
    if label is None or label == "":
        return f"Contact {i}"
    if isinstance(label, dict | list) or not str(label).strip():
        raise MappingError(
            f"mapping {source}: contacts[{i}].label must be a short text such as 'Owner 1', got {quote(label)}"
        )
    text = str(label).strip()
    if len(text) > 80 or len(text.splitlines()) > 1:
        raise MappingError(
            f"mapping {source}: contacts[{i}].label must be a short text on one line (at most 80 characters), "
            f"got {quote(text)}"
        )
    return text


def _a(value: Any) -> str:
    """What a YAML value is, for messages: "a list", "a number", "nothing (null)"."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a block of keys"
    return f"a {type(value).__name__}"


def _only(block: dict, allowed: set[str], source: str, where: str) -> None:
    unknown = sorted(set(block) - allowed, key=str)
    if unknown:
        at = f" in {where}" if where else ""
        keys = ", ".join(quote(k) for k in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        keys += did_you_mean(str(unknown[0]), sorted(allowed)) if len(unknown) == 1 else ""
        raise MappingError(
            f"mapping {source}: unknown key{'s' if len(unknown) > 1 else ''} {keys}{at}; "
            f"expected {', '.join(sorted(allowed))}"
        )


def _on_invalid_all(raw: Any, source: str) -> str | None:
    """A property-with-contacts mapping's top-level ``on_invalid``: one policy for every record."""
    if raw is None:
        return None
    if not isinstance(raw, str) or raw.strip().lower() not in ON_INVALID_CHOICES:
        raise MappingError(
            f"mapping {source}: on_invalid must be {' or '.join(ON_INVALID_CHOICES)} here (per field, put it "
            f"in the property or contact block), got {_a(raw)} ({quote(raw)})"
        )
    return raw.strip().lower()


def _record(
    block: Any, kind: str, label: str, source: str, where: str, *, multi: bool = False, every: str | None = None
) -> RecordMapping:
    if not isinstance(block, dict):
        raise MappingError(
            f"mapping {source}: {where or 'the mapping'} must be a block with 'fields:', got {_a(block)}"
        )
    allowed = {"fields", "customfields", "defaults", "values", "on_invalid"}
    if multi:
        allowed |= {"label", "relation", "skip"}
    if where:
        _only(block, allowed, source, where)
    r = _RecordReader(block, kind, source, where)
    specs = {**r.fields(), **r.customfields()}
    defaults = r.defaults()
    values = r.values()
    relation = r.relation() if multi else {}
    if not specs and not defaults:
        raise MappingError(f"mapping {source}: {where or 'the mapping'} maps no fields")
    for name in REQUIRED_FIELDS[kind]:
        if name not in specs and name not in defaults:
            raise MappingError(
                f"mapping {source}: {r.prefix}fields: every {kind} needs '{name}'; "
                f"map a column to it, e.g. '{name}: {_EXAMPLE_COLUMN[name]}'"
            )
    specs = link_specs(specs, f"mapping {source}: {r.prefix}")
    skip = parse_skip(block.get("skip"), f"mapping {source}: {r.prefix}skip") if multi else ()
    on_invalid = r.on_invalid()
    if every is not None:
        on_invalid.setdefault("*", every)
    return RecordMapping(
        kind, label, specs, defaults, values, relation, optional=multi, skip=skip, on_invalid=on_invalid
    )


class _RecordReader:
    """Reads the sections of one record block (``fields``, ``customfields``, ...), naming each in messages."""

    def __init__(self, block: dict, kind: str, source: str, where: str) -> None:
        self.block = block
        self.kind = kind
        self.source = source
        self.where = where
        self.prefix = f"{where}." if where else ""
        self.known = KIND_FIELDS[kind]

    def fail(self, message: str) -> MappingError:
        return MappingError(f"mapping {self.source}: {self.prefix}{message}")

    def section(self, name: str, expected: str) -> dict:
        """The block under ``name`` ({} when absent or empty); a list or a text there is refused."""
        raw = self.block.get(name)
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail(f"{name} must {expected}, got {_a(raw)} ({quote(raw)})")
        return raw

    def check_field(self, name: Any, section: str) -> str:
        text = str(name).strip().lower() if isinstance(name, str | int | float) else None
        if text == "customfields":
            raise self.fail(f"{section}: put custom fields under 'customfields:'")
        if text not in self.known:
            other = [k for k, fs in KIND_FIELDS.items() if text in fs and k != self.kind]
            why = ""
            if other:
                why = f" (only a {other[0]} has it)"
            elif text is not None:
                custom = "customfields" if text.startswith("custom") else None
                hint = _FIELD_ALIASES.get(text) or custom or _close(text, self.known)
                if hint == "customfields":
                    why = " (custom fields go under 'customfields:' by slot number 1..28)"
                elif hint in self.known:
                    why = f" (did you mean '{hint}'?)"
            raise self.fail(
                f"{section}: unknown field {quote(text if text is not None else name)} for a {self.kind}{why}; "
                f"fields: {', '.join(self.known)}"
            )
        return text

    def slot_or_field(self, name: Any, section: str) -> str:
        number = isinstance(name, int) and not isinstance(name, bool)
        if number or (isinstance(name, str) and name.strip().isdigit()):
            return custom_field(_slot(name, self.source, f"{self.prefix}{section}"))
        return self.check_field(name, section)

    def unique(self, name: str, given: Any, seen: dict[str, Any], section: str) -> None:
        if name in seen:
            raise self.fail(
                f"{section}: {quote(str(seen[name]))} and {quote(str(given))} are the same "
                f"{'custom-field slot' if name.startswith('customfield_') else 'field'}; keep one of them"
            )
        seen[name] = given

    def fields(self) -> dict[str, FieldSpec]:
        specs: dict[str, FieldSpec] = {}
        seen: dict[str, Any] = {}
        for name, spec in self.section("fields", "map API fields to columns").items():
            key = self.check_field(name, "fields")
            self.unique(key, name, seen, "fields")
            specs[key] = parse_spec(spec, f"mapping {self.source}: {self.prefix}fields.{key}")
        return specs

    def customfields(self) -> dict[str, FieldSpec]:
        specs: dict[str, FieldSpec] = {}
        seen: dict[str, Any] = {}
        for slot, spec in self.section("customfields", "map slot numbers 1..28 to columns").items():
            n = _slot(slot, self.source, f"{self.prefix}customfields")
            self.unique(custom_field(n), slot, seen, "customfields")
            specs[custom_field(n)] = parse_spec(spec, f"mapping {self.source}: {self.prefix}customfields.{n}")
        return specs

    def defaults(self) -> dict[str, str]:
        defaults: dict[str, str] = {}
        seen: dict[str, Any] = {}
        for name, value in self.section("defaults", "map API fields to values").items():
            key = self.slot_or_field(name, "defaults")
            self.unique(key, name, seen, "defaults")
            defaults[key] = self.one_value(value, f"defaults.{key}")
        return defaults

    def values(self) -> dict[str, dict[str, str]]:
        values: dict[str, dict[str, str]] = {}
        seen: dict[str, Any] = {}
        for name, table in self.section("values", "map API fields to value maps").items():
            key = self.slot_or_field(name, "values")
            self.unique(key, name, seen, "values")
            if not isinstance(table, dict):
                raise self.fail(f"values.{key} must map cell values to API values, got {_a(table)}")
            at = f"values.{key}"
            values[key] = {
                self.one_value(k, at).strip().casefold(): self.one_value(v, f"{at}.{_scalar_text(k)[:40]}")
                for k, v in table.items()
            }
        return values

    def relation(self) -> dict[str, bool]:
        by_key = {f.casefold(): f for f in RELATION_FLAGS}
        relation: dict[str, bool] = {}
        raw = self.block.get("relation")
        if raw is not None and not isinstance(raw, dict):
            raise self.fail(
                f"relation must give each role flag true or false, e.g. 'relation: {{IsOwner: true}}', "
                f"got {_a(raw)} ({quote(raw)})"
            )
        for flag, value in (raw or {}).items():
            name = by_key.get(flag.casefold()) if isinstance(flag, str) else None
            if name is None:
                raise self.fail(f"relation: unknown flag {quote(flag)}; flags: {', '.join(RELATION_FLAGS)}")
            if not isinstance(value, bool):
                raise self.fail(f"relation.{name} must be true or false, got {quote(value)}")
            relation[name] = value
        return relation

    def on_invalid(self) -> dict[str, str]:
        """``on_invalid: omit-field`` (every field) or ``on_invalid: {email: reject-record, 3: omit-field}``."""
        raw = self.block.get("on_invalid")
        if raw is None:
            return {}
        choices = " or ".join(ON_INVALID_CHOICES)

        def policy(value: Any, at: str) -> str:
            text = value.strip().lower() if isinstance(value, str) else None
            if text not in ON_INVALID_CHOICES:
                raise self.fail(f"{at} must be {choices}, got {_a(value)} ({quote(value)})")
            return text

        if not isinstance(raw, dict):
            return {"*": policy(raw, "on_invalid")}
        out: dict[str, str] = {}
        for name, value in raw.items():
            key = self.slot_or_field(name, "on_invalid")
            out[key] = policy(value, f"on_invalid.{key}")
            if out[key] == OMIT_FIELD and key in REQUIRED_FIELDS[self.kind]:
                raise self.fail(
                    f"on_invalid.{key}: {key} is required for every {self.kind}, so it cannot be left out; "
                    f"use {REJECT_RECORD} or remove the line"
                )
        return out

    def one_value(self, value: Any, at: str) -> str:
        if isinstance(value, dict | list):
            raise self.fail(f"{at} must be one value, got {_a(value)} ({quote(value)})")
        return _scalar_text(value)


_EXAMPLE_COLUMN = {"fullname": "[First Name, Last Name]", "address": "Property Address"}


def _slot(slot: Any, source: str, where: str) -> int:
    """A custom-field label number 1..28, or MappingError naming it."""
    try:
        n = int(str(slot).strip()) if isinstance(slot, int | str) and not isinstance(slot, bool) else -1
    except ValueError:  # not a number (or one of more digits than int() reads)
        n = -1
    if not 1 <= n <= MAX_CUSTOM_FIELDS:
        raise MappingError(
            f"mapping {source}: {where}: slot {quote(slot)} is outside 1..{MAX_CUSTOM_FIELDS}; "
            f"Realeflow has custom-field labels 1 to {MAX_CUSTOM_FIELDS}"
        )
    return n


def _close(text: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``text`` (the one matcher: case, spaces, "_" and "-" do not count)."""
    return closest(text, choices)


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
