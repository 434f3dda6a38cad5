"""What a record holds, as the ledger compares it: a stable fingerprint and the fields that differ.

A record's *content* is the payload sent to create it. Two payloads are the same content when they
are equal once normalised (keys lower case, text trimmed with inner white space collapsed and
case-folded, ``type``/``tags`` as sets, custom fields by slot): the normalisation
:func:`fingerprint` hashes and :func:`changed_fields` compares field by field, so a re-run row is
``changed`` exactly when its fingerprint differs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["Change", "changed_fields", "fingerprint"]

_UNORDERED = {"type", "tags"}
_CUSTOM = "customfields"


def _canon(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    if isinstance(value, list):
        return [_canon(v) for v in value]
    return value


def _normalised(payload: dict[str, Any]) -> dict[str, Any]:
    canon: dict[str, Any] = {}
    for key, value in payload.items():
        k = str(key).lower()
        v = _canon(value)
        if k in _UNORDERED and isinstance(v, list):
            v = sorted({str(x) for x in v if x not in (None, "")})
        if v in (None, "", []):
            continue
        canon[k] = v
    return canon


def fingerprint(kind: str, payload: dict[str, Any]) -> str:
    """A stable 128-bit key for a record: its kind and payload, normalised.

    Normalised means: keys lower case, text trimmed with inner white space
    collapsed and case-folded, ``type``/``tags`` as sorted sets; custom fields
    keep their order (their position is their label). The payload is already
    the validated, normalised one ("Ohio" became "OH" before this).
    """
    text = kind + "\x1f" + json.dumps(_normalised(payload), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Change:
    """One field whose value differs: its pipeline name (``phone``, ``customfield_4``), old and new as sent."""

    field: str
    old: str
    new: str


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value if v not in (None, ""))
    return str(value)


def _slots(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with its ``customfields`` array spread into ``customfield_N`` entries."""
    flat = {str(k).lower(): v for k, v in payload.items() if str(k).lower() != _CUSTOM}
    for k, v in payload.items():
        if str(k).lower() == _CUSTOM and isinstance(v, list):
            flat.update({f"customfield_{i}": item for i, item in enumerate(v, start=1) if item not in (None, "")})
    return flat


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """The fields whose normalised value differs between two payloads, in the new payload's order.

    A field present in one and absent from the other differs (shown as "" on its absent side).
    Empty for two payloads with the same :func:`fingerprint`.
    """
    before, after = _slots(old), _slots(new)
    changes = []
    for name in dict.fromkeys([*after, *before]):
        a, b = before.get(name), after.get(name)
        ca, cb = _canon(a), _canon(b)
        if name in _UNORDERED:
            ca = sorted({str(x) for x in ca if x not in (None, "")}) if isinstance(ca, list) else ca
            cb = sorted({str(x) for x in cb if x not in (None, "")}) if isinstance(cb, list) else cb
        if ca in (None, "", []) and cb in (None, "", []):
            continue
        if ca != cb:
            changes.append(Change(name, _shown(a), _shown(b)))
    return changes
