"""The mapping page's model: a mapping in its YAML form (a dict), read and changed field by field.

The dict is exactly what a mapping file holds (``importer.mapping.model.parse_mapping`` reads it),
so the download is the CLI's format and an upload is any file the CLI reads. A preset fits a
file as :mod:`importer.mapping.fit` says (as ``mapping presets`` ranks them); saved mappings
remember the header they were made for, and are offered again for a file with the same header.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml

from importer.errors import MappingError
from importer.fields import KIND_FIELDS, MAX_CUSTOM_FIELDS, REQUIRED_FIELDS
from importer.mapping.fit import rank_presets
from importer.mapping.model import Mapping, find_preset, parse_mapping, preset_names
from importer.mapping.parse import read_mapping_yaml
from importer.mapping.suggest import Suggestion
from importer.mapping.yamlfile import read_yaml
from importer.read.source import normalize_header

__all__ = [
    "MappingMemory",
    "columns_of",
    "confidence",
    "describe_spec",
    "fitting_presets",
    "header_signature",
    "parts",
    "set_field",
    "switches",
    "to_mapping",
    "to_yaml",
]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,60}")


def parts(data: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(part label, record kind, record block) of each record: one, or the property and its contacts."""
    if data.get("kind") == "property-with-contacts":
        out = [("Property", "property", data.setdefault("property", {}))]
        out.extend((str(c.get("label", f"Contact {i}")), "contact", c)
                   for i, c in enumerate(data.get("contacts") or [], start=1))
        return out
    return [("", str(data.get("kind", "contact")), data)]


_COLUMN_KEYS = ("name", "company", "street", "unit", "zip_state", "join", "first", "columns", "care_of")


def columns_of(spec: Any) -> list[str]:
    """Every column a spec reads, in order (a join's, a name's, a street's and its unit's, ...)."""
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, list):
        return [c for item in spec for c in columns_of(item)]
    if isinstance(spec, dict):
        return [c for key in _COLUMN_KEYS if key in spec for c in columns_of(spec[key])]
    return []


def describe_spec(spec: Any) -> str:
    """A spec as one short line ("Owner 1 First Name + Owner 1 Last Name", "always 'PropStream'")."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict) and set(spec) == {"value"}:
        return f"always {spec['value']!r}"
    text = " + ".join(columns_of(spec)) or yaml.safe_dump(spec, default_flow_style=True).strip()
    if isinstance(spec, dict):
        if "name" in spec:
            text += ": a person's name" + (f", person {spec['person']}" if spec.get("person") else "")
            text += ", last name first" if spec.get("order") == "last-first" else ""
        elif "company" in spec:
            text += ": where it names a company"
        elif "first" in spec:
            text = "the first filled of " + text
        elif "street" in spec:
            text += ": street and unit"
    return text


def confidence(suggestion: Suggestion) -> dict[tuple[str, str], str]:
    """(part, field) -> how sure the suggestion is of it, and why when it is not sure."""
    return {
        ("Property" if c.record == "property" else c.record, c.field): c.confidence + (f": {c.reason}" * bool(c.reason))
        for c in suggestion.choices
    }


def field_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every API field of every part, required first, with its spec's columns (for the pickers)."""
    rows = []
    for label, kind, rec in parts(data):
        fields = rec.get("fields") or {}
        required = REQUIRED_FIELDS.get(kind, ())
        names = [*required, *(f for f in KIND_FIELDS.get(kind, ()) if f not in required)]
        for name in names:
            spec = fields.get(name)
            rows.append({
                "part": label, "kind": kind, "field": name, "required": name in required,
                "spec": spec, "column": spec if isinstance(spec, str) else "",
                "described": describe_spec(spec) if spec is not None else "",
                "columns": columns_of(spec) if spec is not None else [],
            })
        for slot, spec in sorted((rec.get("customfields") or {}).items(), key=lambda kv: int(kv[0])):
            rows.append({
                "part": label, "kind": kind, "field": f"customfield_{slot}", "required": False, "spec": spec,
                "column": spec if isinstance(spec, str) else "", "described": describe_spec(spec),
                "columns": columns_of(spec),
            })
    return rows


def used_slots(data: dict[str, Any]) -> dict[str, dict[int, str]]:
    """part -> {custom field slot: what it reads (a column, or how it is made)} of the slots in use."""
    used: dict[str, dict[int, str]] = {}
    for row in field_rows(data):
        if row["field"].startswith("customfield_") and row["spec"] is not None:
            what = repr(row["column"]) if row["column"] else row["described"]
            used.setdefault(row["part"], {})[int(row["field"].removeprefix("customfield_"))] = what
    return used


def _record(data: dict[str, Any], part: str) -> dict[str, Any]:
    for label, _, rec in parts(data):
        if label == part:
            return rec
    raise MappingError(f"the mapping has no part {part!r}")


def set_field(data: dict[str, Any], part: str, field: str, column: str) -> dict[str, Any]:
    """A copy of ``data`` with ``field`` of ``part`` read from ``column`` ("" leaves it unmapped)."""
    out = copy.deepcopy(data)
    rec = _record(out, part)
    if field.startswith("customfield_"):
        slot = int(field.removeprefix("customfield_"))
        if not 1 <= slot <= MAX_CUSTOM_FIELDS:
            raise MappingError(f"custom field slots are 1 to {MAX_CUSTOM_FIELDS}, not {slot}")
        section: dict[Any, Any] = rec.setdefault("customfields", {})
        key: int | str = slot
        section.pop(str(slot), None)
    else:
        section, key = rec.setdefault("fields", {}), field
    if column:
        section[key] = column
    else:
        section.pop(key, None)
    if not rec.get("customfields"):
        rec.pop("customfields", None)
    return out


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()


def switches(data: dict[str, Any], dropped: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The transforms a person may turn on and off, with their state: names read last name first,
    a company owner's name, the second person of a two-name cell, skip rules (``dropped``: those off)."""
    out = []
    contacts = data.get("contacts") or []
    for label, _, rec in parts(data):
        at = f"{label}: " if label else ""
        for name, spec in (rec.get("fields") or {}).items():
            if isinstance(spec, dict) and "name" in spec:
                out.append({"id": f"order|{label}|{name}", "on": spec.get("order") == "last-first",
                            "label": f"{at}{name}: names are written last name first "
                                     "(\"SMITH JOHN & MARY\" -> John Smith, Mary Smith)"})
            if isinstance(spec, dict) and "company" in spec:
                out.append({"id": f"field|{label}|{name}", "on": True,
                            "label": f"{at}{name}: the owner's name where it names a company (LLC, INC, TRUST...)"})
        second = any(isinstance(s, dict) and s.get("person") == 2 for s in (rec.get("fields") or {}).values())
        if second and rec in contacts:
            out.append({"id": f"contact|{label}", "on": True, "label": f"{label}: the second person of a cell "
                        "naming two (\"SMITH JOHN & MARY\" -> Mary Smith)"})
    for rule in data.get("skip") or []:
        out.append({"id": f"skip|{_flow(rule)}", "on": True, "label": f"leave out rows where {_flow(rule)}"})
    out.extend({"id": key, "on": False, "label": held["label"]} for key, held in dropped.items())
    return out


def flip(data: dict[str, Any], dropped: dict[str, dict[str, Any]], switch: str, on: bool) -> dict[str, Any]:
    """A copy of ``data`` with one switch of :func:`switches` set; ``dropped`` keeps what was turned off."""
    out = copy.deepcopy(data)
    kind, _, rest = switch.partition("|")
    if kind == "order":
        label, _, name = rest.partition("|")
        spec = _record(out, label)["fields"][name]
        if on:
            spec["order"] = "last-first"
        else:
            spec.pop("order", None)
        return out
    if on:
        held = dropped.pop(switch, None)
        if held is None:
            return out
        if kind == "field":
            label, _, name = rest.partition("|")
            _record(out, label).setdefault("fields", {})[name] = held["spec"]
        elif kind == "contact":
            contacts = out.setdefault("contacts", [])
            contacts.insert(min(held["at"], len(contacts)), held["block"])
        elif kind == "skip":
            out.setdefault("skip", []).append(held["rule"])
        return out
    label_of = {s["id"]: s["label"] for s in switches(out, {})}
    if switch not in label_of:
        return out
    if kind == "field":
        label, _, name = rest.partition("|")
        spec = _record(out, label)["fields"].pop(name)
        dropped[switch] = {"label": label_of[switch], "spec": spec}
    elif kind == "contact":
        contacts = out["contacts"]
        at = next(i for i, c in enumerate(contacts) if c.get("label") == rest)
        dropped[switch] = {"label": label_of[switch], "block": contacts.pop(at), "at": at}
    elif kind == "skip":
        rules = out["skip"]
        at = next(i for i, r in enumerate(rules) if f"skip|{_flow(r)}" == switch)
        dropped[switch] = {"label": label_of[switch], "rule": rules.pop(at)}
        if not rules:
            out.pop("skip")
    return out


def to_mapping(data: dict[str, Any], source: str) -> Mapping:
    """The dict checked as a mapping file is (MappingError for what a file could not say)."""
    return parse_mapping(copy.deepcopy(data), source=source)


def to_yaml(data: dict[str, Any], title: str) -> str:
    """The mapping as a YAML file the CLI reads."""
    head = f"# {title}\n# Made with realeflow-import ui; use it with: realeflow-import push FILE --mapping THIS.yaml\n"
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)


def header_signature(headers: list[str]) -> str:
    """What makes two files' headers the same for the mapping memory (case and spacing ignored)."""
    return hashlib.sha256("\x1f".join(normalize_header(h) for h in headers).encode()).hexdigest()[:16]


def fitting_presets(headers: list[str]) -> list[str]:
    """The presets that fit the header, the best first: the fit ``mapping presets`` ranks by (a
    preset that can merely run on the file -- tolerant presets run without their optional columns
    -- may read a small share of it, or none of its owners)."""
    return [f.name for f in rank_presets(headers) if f.fits]


def preset_data(name: str) -> dict[str, Any]:
    path = find_preset(name)
    if path is None:
        raise MappingError(f"no preset {name!r} (presets: {', '.join(preset_names())})")
    data = read_mapping_yaml(path)
    if not isinstance(data, dict):
        raise MappingError(f"preset {name}: is not a mapping")
    return data


class MappingMemory:
    """Mappings saved by name in a folder, each with the header signature it was made for."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _index(self) -> dict[str, str]:
        try:
            return dict(json.loads((self.folder / "index.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return {}

    def save(self, name: str, data: dict[str, Any], headers: list[str]) -> Path:
        name = name.strip()
        if not _NAME.fullmatch(name):
            raise MappingError(
                f"mapping name {name!r}: use letters, digits, spaces, '-', '_' or '.', up to 60 characters"
            )
        to_mapping(data, name)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.yaml"
        path.write_text(to_yaml(data, f"Mapping {name!r}"), encoding="utf-8")
        index = self._index()
        index[name] = header_signature(headers)
        (self.folder / "index.json").write_text(json.dumps(index, indent=1), encoding="utf-8")
        return path

    def names(self) -> list[str]:
        return sorted(self._index())

    def for_header(self, headers: list[str]) -> list[str]:
        sig = header_signature(headers)
        return sorted(n for n, s in self._index().items() if s == sig and (self.folder / f"{n}.yaml").is_file())

    def load(self, name: str) -> dict[str, Any]:
        if name not in self._index():
            raise MappingError(f"no saved mapping {name!r}")
        data = read_yaml(self.folder / f"{name}.yaml")
        if not isinstance(data, dict):
            raise MappingError(f"saved mapping {name!r} is not a mapping")
        return data
