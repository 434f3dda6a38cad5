"""What the sandbox accepts: the documented rules of the Realeflow API, checked strictly.

The sandbox keeps its own copy of the API's field tables instead of importing
the importer's: it stands in for the remote server, so a mistake in the client's
tables must show up as a rejection here, not be mirrored.

Keys are matched case-insensitively (the real API is .NET: its examples use
lowercase keys, its tables PascalCase); error texts use the PascalCase names of
the reference's tables. Every check returns *all* problems of a body, joined
with "; ", so one answer tells the caller everything to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CONTACT_FIELDS",
    "CONTACT_TYPES",
    "MAX_CUSTOM_FIELDS",
    "PHONE_TYPES",
    "PROPERTY_FIELDS",
    "RELATION_FLAGS",
    "STATE_CODES",
    "Verdict",
    "check_contact",
    "check_property",
    "check_record",
    "check_relation",
    "json_type",
]

#: lowercase key -> the name the reference's tables use.
CONTACT_FIELDS: dict[str, str] = {
    "fullname": "FullName",
    "email": "Email",
    "companyname": "CompanyName",
    "phone": "Phone",
    "phonetype": "PhoneType",
    "source": "Source",
    "address": "Address",
    "city": "City",
    "state": "State",
    "zipcode": "ZipCode",
    "type": "Type",
    "tags": "Tags",
    "customfields": "CustomFields",
}
PROPERTY_FIELDS: dict[str, str] = {
    "address": "Address",
    "city": "City",
    "state": "State",
    "zipcode": "ZipCode",
    "source": "Source",
    "tags": "Tags",
    "customfields": "CustomFields",
}
_REQUIRED: dict[str, str] = {"contact": "fullname", "property": "address"}
_LIST_KEYS = frozenset({"type", "tags", "customfields"})

MAX_CUSTOM_FIELDS = 28
#: lowercase -> canonical spelling (the reference accepts "buyer" in its example).
PHONE_TYPES: dict[str, str] = {"mobile": "Mobile", "work": "Work", "home": "Home"}
CONTACT_TYPES: dict[str, str] = {"buyer": "Buyer", "seller": "Seller"}

#: The 50 states, DC and the five inhabited territories (the set of the `us` package).
_STATES = "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC"
_MORE = "ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR VI"
STATE_CODES: frozenset[str] = frozenset(f"{_STATES} {_MORE}".split(" "))
_ZIP = re.compile(r"[0-9]{5}")
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")

#: The eighteen role flags of POST /api/contact/propertyrelation, as the reference spells them.
RELATION_FLAGS: tuple[str, ...] = (
    "IsOwner",
    "IsPrimaryContact",
    "IsRealtor",
    "IsOccupier",
    "IsInterested",
    "IsTitleEscrowAgent",
    "IsAttorney",
    "IsInsuranceAgent",
    "IsInspector",
    "IsLenderMtgBroker",
    "IsLossMitigator",
    "IsBpoAgent",
    "IsAppraiser",
    "IsContractor",
    "IsTenant",
    "IsPropertyManager",
    "IsHoaContact",
    "IsLienContact",
)
RELATION_FIELDS: dict[str, str] = {
    "propertyid": "PropertyId",
    "contactid": "ContactId",
    **{flag.lower(): flag for flag in RELATION_FLAGS},
}


@dataclass(slots=True)
class Verdict:
    """A body after checking: the record under lowercase keys, or the problems found."""

    record: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error(self) -> str | None:
        """All problems as the one ``Error`` string the API answers with."""
        return "; ".join(self.errors) if self.errors else None


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages ("got number 5")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _fold_keys(body: dict[str, Any], fields: dict[str, str], what: str, out: Verdict) -> dict[str, Any]:
    """Map the body's keys case-insensitively onto ``fields``; unknown or doubled keys are errors."""
    folded: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for key, value in body.items():
        low = key.lower()
        name = fields.get(low)
        if name is None:
            out.errors.append(f"Unknown field '{key}' for a {what}; accepted: {', '.join(fields.values())}")
        elif low in seen:
            out.errors.append(f"{name} is given twice ('{seen[low]}' and '{key}'); send it once")
        else:
            seen[low] = key
            folded[low] = value
    return folded


def _text(value: Any, name: str, out: Verdict) -> str | None:
    """A string-or-null field; .NET's System.Text.Json does not turn numbers into strings."""
    if value is None or isinstance(value, str):
        return value
    out.errors.append(f"{name} must be a string or null, got {json_type(value)} {value!r}")
    return None


def _string_array(value: Any, name: str, out: Verdict, *, nulls: bool) -> list[Any] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        out.errors.append(f"{name} must be an array of strings, got {json_type(value)} {value!r}")
        return None
    for i, item in enumerate(value):
        if not (isinstance(item, str) or (nulls and item is None)):
            allowed = "a string or null" if nulls else "a string"
            out.errors.append(f"{name}[{i}] must be {allowed}, got {json_type(item)} {item!r}")
    return value


def _check_common(body: dict[str, Any], kind: str, fields: dict[str, str]) -> tuple[Verdict, dict[str, Any]]:
    """Checks shared by contacts and properties; also returns the case-folded body."""
    out = Verdict()
    folded = _fold_keys(body, fields, kind, out)
    record: dict[str, Any] = dict.fromkeys(fields)
    for key, value in folded.items():
        if key not in _LIST_KEYS:
            record[key] = _text(value, fields[key], out)

    required = _REQUIRED[kind]
    value = folded.get(required)
    if value is None or (isinstance(value, str) and not value.strip()):
        # A non-string was already reported by _text.
        out.errors.append(f"{fields[required]} is required for a {kind}")

    state = record.get("state")
    if state and state.upper() not in STATE_CODES:
        out.errors.append(f"State '{state}' is not a two-letter US state code (e.g. OH)")
    zipcode = record.get("zipcode")
    if zipcode and not _ZIP.fullmatch(zipcode):
        out.errors.append(f"ZipCode '{zipcode}' is not a five-digit US zip code (e.g. 44113)")

    record["tags"] = _string_array(folded.get("tags"), "Tags", out, nulls=False)
    custom = _string_array(folded.get("customfields"), "CustomFields", out, nulls=True)
    if custom is not None and len(custom) > MAX_CUSTOM_FIELDS:
        out.errors.append(f"CustomFields has {len(custom)} entries; at most {MAX_CUSTOM_FIELDS} are allowed")
    record["customfields"] = custom
    out.record = record
    return out, folded


def check_contact(body: dict[str, Any]) -> Verdict:
    """Check a POST /api/contact/create body against the reference's rules."""
    out, folded = _check_common(body, "contact", CONTACT_FIELDS)
    record = out.record
    phonetype = record.get("phonetype")
    if phonetype:
        canonical = PHONE_TYPES.get(phonetype.lower())
        if canonical is None:
            out.errors.append(f"PhoneType '{phonetype}' must be Mobile, Work or Home")
        record["phonetype"] = canonical
    elif record.get("phone"):
        record["phonetype"] = "Mobile"  # the documented default
    else:
        record["phonetype"] = None

    raw = folded.get("type")
    types: list[str] | None = None
    if raw is not None:
        if not isinstance(raw, list):
            out.errors.append(f"Type must be an array of Buyer/Seller, got {json_type(raw)} {raw!r}")
        else:
            types = []
            for i, item in enumerate(raw):
                canonical = CONTACT_TYPES.get(item.lower()) if isinstance(item, str) else None
                if canonical is None:
                    out.errors.append(f"Type[{i}] {item!r} must be Buyer or Seller")
                else:
                    types.append(canonical)
    record["type"] = types
    return out


def check_property(body: dict[str, Any]) -> Verdict:
    """Check a POST /api/property/create body against the reference's rules."""
    return _check_common(body, "property", PROPERTY_FIELDS)[0]


def check_record(kind: str, body: dict[str, Any]) -> Verdict:
    """Check a create body of ``kind`` ("contact" or "property")."""
    return check_contact(body) if kind == "contact" else check_property(body)


def _flag(value: Any, name: str, out: Verdict) -> bool:
    """A relation flag: JSON true/false, the strings "true"/"false" (any case), or null (false)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    out.errors.append(f"{name} must be true or false, got {json_type(value)} {value!r}")
    return False


def check_relation(body: dict[str, Any]) -> Verdict:
    """Check a POST /api/contact/propertyrelation body (shape only; existence is the store's).

    The record holds ``propertyid``/``contactid`` as trimmed lowercase GUIDs and
    each flag under its lowercase name as a bool.
    """
    out = Verdict()
    folded = _fold_keys(body, RELATION_FIELDS, "contact-property relation", out)
    record: dict[str, Any] = {}
    for key in ("propertyid", "contactid"):
        name = RELATION_FIELDS[key]
        value = folded.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            out.errors.append(f"{name} is required (the GUID 'id' of the list endpoints)")
        elif not isinstance(value, str):
            out.errors.append(f"{name} must be a GUID string, got {json_type(value)} {value!r}")
        elif not _GUID.fullmatch(value.strip()):
            out.errors.append(f"{name} '{value}' is not a GUID (the 'id' of the list endpoints)")
        else:
            record[key] = value.strip().lower()
    for flag in RELATION_FLAGS:
        record[flag.lower()] = _flag(folded.get(flag.lower()), flag, out)
    out.record = record
    return out
