"""Reading the list endpoints' 25 most recent records: which one holds a payload, whether a
request's record would be among them if it had been created, and which ids a run already knows.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from importer.push.client import parse_id

__all__ = ["LIST_SIZE", "OUTSIDE_MARGIN", "KnownIds", "covered", "matches", "record_int_id"]

#: What the list endpoints show: the 25 most recent records of a kind.
LIST_SIZE = 25
#: Records someone else may create while we are not looking (kept free in the 25).
OUTSIDE_MARGIN = 3


def covered(records: list[dict[str, Any]], mark: int | None, inflight: int | None, newer: int, foreign: bool) -> bool:
    """Would the record of a request be in this list if the request had created it?

    ``foreign``: the list shows records newer than ``mark`` that are none of ours, so
    someone else is creating records too and counting our own creates proves nothing.
    """
    if len(records) < LIST_SIZE:
        return True  # the whole account is listed
    ids = [i for r in records for k, v in r.items() if k.lower() in ("contactid", "propertyid") and (i := parse_id(v))]
    if mark is not None and ids and min(ids) <= mark:
        return True  # the list reaches back past the newest record known before the request
    # Fewer of our creates could have come after it than the list holds (with room for others').
    return not foreign and inflight is not None and inflight + newer + 1 <= LIST_SIZE - OUTSIDE_MARGIN


def record_int_id(kind: str, record: dict[str, Any]) -> int | None:
    """A list record's integer id (``contactId`` / ``propertyId``), read by :func:`parse_id`."""
    key = "contactid" if kind == "contact" else "propertyid"
    for k, v in record.items():
        if k.lower() == key:
            return parse_id(v)
    return None


def _canon(value: Any) -> str:
    return " ".join(str(value).split()).casefold() if value is not None else ""


def _name_words(value: Any) -> list[str]:
    """A name's words in order-free form: the reference's list shows "John, Smith" for "John Smith"."""
    return sorted(_canon(str(value or "").replace(",", " ")).split())


def _digits(value: Any) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())[-10:]


_COMPARED = {
    "contact": ("fullname", "email", "companyname", "address", "city", "state", "zipcode", "source"),
    "property": ("address", "city", "state", "zipcode", "source"),
}


def matches(kind: str, payload: dict[str, Any], record: dict[str, Any]) -> bool:
    """Does a list-endpoint record hold what ``payload`` created? Compares every field the list shows.

    Text is compared with white space collapsed and case folded; phones by their
    last ten digits; tags as sets; custom fields slot by slot.
    """
    lower = {k.lower(): v for k, v in record.items()}
    for f in _COMPARED[kind]:
        same = f not in payload or _canon(payload[f]) == _canon(lower.get(f))
        if not same and (f != "fullname" or _name_words(payload[f]) != _name_words(lower.get(f))):
            return False
    if kind == "contact" and payload.get("phone"):
        shown = lower.get("phone") or lower.get("mobilephonedigits")
        if shown and _digits(shown) != _digits(payload["phone"]):
            return False
    tags = lower.get("tags")
    if (
        tags
        and isinstance(tags, list)
        and payload.get("tags") is not None
        and {_canon(t) for t in tags} != {_canon(t) for t in payload["tags"]}
    ):
        return False
    custom = lower.get("customfields")
    if isinstance(custom, list) and custom:
        mine = list(payload.get("customfields") or [])
        width = max(len(mine), len(custom))
        if [_canon(v) for v in mine + [None] * (width - len(mine))] != [
            _canon(v) for v in custom + [None] * (width - len(custom))
        ]:
            return False
    return True


_CLAIMED_MEMORY = 4096  # recent ids given to rows; older ones are below every mark anyway


class KnownIds:
    """The ids one run knows: the highest per kind (a request's *mark*), and those given to its rows.

    A record in the list whose id a row already has is not another row's lost create.
    """

    def __init__(self) -> None:
        self._marks: dict[str, int] = {}
        self._claimed: set[tuple[str, int]] = set()
        self._claimed_order: deque[tuple[str, int]] = deque()

    def mark(self, kind: str) -> int | None:
        """The highest id of ``kind`` known so far (None before any)."""
        return self._marks.get(kind)

    def claimed(self, kind: str, ident: int) -> bool:
        return (kind, ident) in self._claimed

    def see(self, kind: str, ident: int | None, *, claim: bool = True) -> None:
        """An id met (in an answer or a list); ``claim``: a row of this run has it."""
        if ident is None:
            return
        if ident > self._marks.get(kind, -1):
            self._marks[kind] = ident
        if claim and (kind, ident) not in self._claimed:
            self._claimed.add((kind, ident))
            self._claimed_order.append((kind, ident))
            if len(self._claimed_order) > _CLAIMED_MEMORY:
                self._claimed.discard(self._claimed_order.popleft())

    def match(
        self, kind: str, payload: dict[str, Any], records: list[dict[str, Any]], mark: int | None, taken: set[int]
    ) -> tuple[int, str | None] | None:
        """The oldest unclaimed record newer than ``mark`` that holds ``payload``: (id, GUID)."""
        for r in reversed(records):  # newest first from the API: the oldest match is the earliest send
            ident = record_int_id(kind, r)
            if ident is None or (mark is not None and ident <= mark):
                continue
            if ident in taken or (kind, ident) in self._claimed:
                continue
            if matches(kind, payload, r):
                guid = r.get("id")
                return ident, guid if isinstance(guid, str) else None
        return None
