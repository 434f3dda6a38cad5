"""A suggested mapping (:class:`Suggestion`, with why each field maps the way it does) and its YAML text.

:func:`render_yaml` gives the text a person runs as is or edits; comments say what to check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from importer.fields import MAX_CUSTOM_FIELDS
from importer.mapping.suggest_headers import SLOT_LABELS

__all__ = ["HIGH", "LOW", "MEDIUM", "FieldChoice", "Suggestion", "render_yaml", "spec_columns", "spec_text"]


HIGH, MEDIUM, LOW = "high", "medium", "low"


@dataclass(frozen=True)
class FieldChoice:
    """Why one field of one record maps the way it does."""

    record: str  # "" for a single-record mapping, else "property" or a contact label
    field: str  # API field, or "customfield_N"
    spec: Any  # the YAML spec: a column, a join list, {first: [...]}, {value: ...}
    confidence: str  # "high" | "medium" | "low"
    runners_up: tuple[str, ...] = ()  # other columns that could have served
    reason: str = ""


@dataclass
class Suggestion:
    """A suggested mapping (``mapping``, in the YAML format) and how sure each part of it is."""

    kind: str
    mapping: dict[str, Any]
    choices: list[FieldChoice]
    unmatched: list[str]  # columns the mapping does not read
    notes: list[str] = field(default_factory=list)  # things to check, one line each

    def choice(self, record: str, name: str) -> FieldChoice | None:
        return next((c for c in self.choices if c.record == record and c.field == name), None)


def spec_columns(spec: Any) -> list[str]:
    """The columns a spec reads (none for a constant)."""
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, list):
        return [str(s) for s in spec]
    if isinstance(spec, dict) and "first" in spec:
        return [str(s) for s in spec["first"]]
    return []


def spec_text(spec: Any) -> str:
    cols = spec_columns(spec)
    return " + ".join(f"'{c}'" for c in cols) if cols else repr(spec)


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False, allow_unicode=True)
    return text.removesuffix("\n...\n").strip()


def render_yaml(s: Suggestion) -> str:
    """The suggestion as YAML a person can run as is or edit; comments say what to check.

    ``yaml.safe_load`` of the text gives back ``s.mapping``.
    """
    lines = [
        "# Suggested mapping: check the lines marked 'check', then run it as is or edit it.",
        "# Forms: Column | [First, Last] (joined with a space) | {first: [A, B]} | {value: constant}",
        f"kind: {s.kind}",
    ]
    if s.mapping.get("skip"):
        lines.append("skip:   # rows where one of these yes/no columns is set are left out (reported as skipped)")
        lines.extend(f"  - {_flow(rule)}" for rule in s.mapping["skip"])
    leftovers = _leftover_slots(s)
    if s.kind == "property-with-contacts":
        lines.append("property:")
        lines.append("  fields:")
        _record_yaml(lines, s, s.mapping["property"], "property", "  ", leftovers)
        lines.append("contacts:" if s.mapping["contacts"] else "contacts: []   # check: no owner or contact names")
        for contact in s.mapping["contacts"]:
            lines.append(f"  - label: {_flow(contact['label'])}")
            lines.append("    fields:")
            _record_yaml(lines, s, contact, contact["label"], "    ", [])
            lines.append(f"    relation: {_flow(contact['relation'])}")
    else:
        lines.append("fields:")
        _record_yaml(lines, s, s.mapping, "", "", leftovers)
    if len(s.unmatched) > len(leftovers):
        rest = ", ".join(s.unmatched[len(leftovers) :])
        lines.append(f"# No custom-field slot left for: {rest}")
    lines.extend(f"# note: {n}" for n in s.notes)
    return "\n".join(lines) + "\n"


def _leftover_slots(s: Suggestion) -> list[tuple[int, str]]:
    """(free custom-field slot, unmatched column) pairs, offered as commented-out lines."""
    used_slots: set[int] = set()
    for rec in [s.mapping["property"], *s.mapping["contacts"]] if s.kind == "property-with-contacts" else []:
        used_slots.update(rec.get("customfields", {}))
    used_slots.update(s.mapping.get("customfields", {}))
    free = [n for n in range(1, MAX_CUSTOM_FIELDS + 1) if n not in used_slots]
    return list(zip(free, s.unmatched, strict=False))


def _record_yaml(
    lines: list[str], s: Suggestion, rec: dict[str, Any], key: str, indent: str, leftovers: list[tuple[int, str]]
) -> None:
    """Append one record's fields, custom fields (with ``leftovers`` commented out), defaults and values."""
    if not rec["fields"]:
        lines[-1] += " {}   # check: no column looks like an API field"
    for fld, spec in rec["fields"].items():
        lines.append(f"{indent}  {fld}: {_flow(spec)}{_comment(s.choice(key, fld))}")
    if "source" not in rec["fields"] and key in {"", "property"}:
        lines.append(f"{indent}  # source: {{value: My list}}   # Lead Source for every row")
    custom = rec.get("customfields", {})
    if custom:
        lines.append(f"{indent}customfields:")
        for slot, spec in custom.items():
            label = SLOT_LABELS.get(slot, "")
            note = f"   # {label}" if label and label.casefold() != str(spec).casefold() else ""
            lines.append(f"{indent}  {slot}: {_flow(spec)}{note}")
    if leftovers:
        if not custom:
            lines.append(f"{indent}# customfields:")
        lines.append(f"{indent}  # Columns not imported; uncomment a line to send one as that custom field:")
        lines.extend(f"{indent}  # {slot}: {_flow(col)}" for slot, col in leftovers)
    for section in ("defaults", "values"):
        if rec.get(section):
            lines.append(f"{indent}{section}:")
            for fld, value in rec[section].items():
                note = "   # check: guessed from the ZIPs" if section == "defaults" and fld == "state" else ""
                lines.append(f"{indent}  {fld}: {_flow(value)}{note}")


def _comment(choice: FieldChoice | None) -> str:
    if choice is None:
        return ""
    if choice.runners_up:
        return f"   # check ({choice.confidence}): also {', '.join(choice.runners_up)}"
    if choice.confidence != HIGH:
        return f"   # check ({choice.confidence}): {choice.reason}"
    return ""
