"""GUID resolution for the property-with-contacts plan: the GUIDs of the records a run created.

**GUIDs.** A create answers with an integer ``Id`` but the relation endpoint
takes the GUIDs only the list endpoints show, for the 25 most recent records.
Each record's GUID is looked up right after its create (:class:`GuidResolver`),
and that stays correct under concurrency because of two rules:

1. at most :data:`RESOLVE_WINDOW` (20) records of a kind are *open* at once:
   a record is open from the moment its create is sent until a list answer
   has shown its GUID (a per-kind semaphore held across create + lookup);
2. every list answer is remembered (integer id -> GUID), whoever asked for it.

Take a record *r*. Until it is cached, every record of ours committed after it
is open too (a list that showed one of them would have shown *r* as well, as
it is older and, by rule 1, fewer than 20 of ours are newer). So the first
list taken after *r*'s commit that shows any later record of ours shows *r*:
fewer than 20 of our records plus at most 5 created by someone else are newer
than it. Lookups are single-flight: the workers waiting for GUIDs share one
list request, so a GUID costs a fraction of a request at concurrency 8.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from importer.errors import AuthError, TransientError
from importer.push.pusher import Pusher
from importer.push.recent import record_int_id

__all__ = ["RESOLVE_WINDOW", "GuidLookupError", "GuidResolver", "record_guid"]

#: Records of one kind that may be open (sent, GUID not yet seen in a list) at once. The list
#: endpoints show 25; the 5 left over absorb records someone else creates meanwhile.
RESOLVE_WINDOW = 20
#: Fresh list requests a GUID lookup may take before it gives up (a slow replica may lag).
_LOOKUP_TRIES = 3
_LOOKUP_PAUSE = 0.05  # seconds between them
#: Integer id -> GUID pairs remembered from list answers (FIFO; an open record is claimed long before).
_GUID_CACHE = 4096


def record_guid(record: dict[str, Any]) -> str | None:
    """A list record's GUID (its ``id``), or None."""
    value = record.get("id", record.get("Id"))
    return value.strip() if isinstance(value, str) and value.strip() else None


class GuidLookupError(Exception):
    """A GUID could not be had; the message says why, for the row's error."""


class GuidResolver:
    """Finds the GUIDs of records this run created, through the 25-record list endpoints.

    Use ``async with resolver.open(kind):`` around a create *and* its ``guid()``
    lookup: it is the window of rule 1 in the module docstring.
    """

    def __init__(self, pusher: Pusher, window: int = RESOLVE_WINDOW) -> None:
        self.pusher = pusher
        self.window = window
        self._open = {k: asyncio.Semaphore(window) for k in ("contact", "property")}
        self._locks = {k: asyncio.Lock() for k in ("contact", "property")}
        self._started = {"contact": 0, "property": 0}  # list requests begun, per kind
        self._finished = {"contact": 0, "property": 0}  # number of the last one answered
        self._cache: dict[str, OrderedDict[int, str]] = {"contact": OrderedDict(), "property": OrderedDict()}
        self.list_requests = 0

    @asynccontextmanager
    async def open(self, kind: str) -> AsyncIterator[None]:
        async with self._open[kind]:
            yield

    def remember(self, kind: str, records: list[dict[str, Any]]) -> None:
        """Keep the id -> GUID pairs of a list answer (any list answer helps)."""
        cache = self._cache[kind]
        for record in records:
            ident, guid = record_int_id(kind, record), record_guid(record)
            if ident is not None and guid is not None:
                cache[ident] = guid
                cache.move_to_end(ident)
        while len(cache) > _GUID_CACHE:
            cache.popitem(last=False)

    async def recent(self, kind: str) -> list[dict[str, Any]]:
        """One list request (retried like a create), remembered. Raises GuidLookupError."""
        try:
            async for attempt in self.pusher.retry.retrying():
                with attempt:
                    await self.pusher.pace()
                    self.list_requests += 1
                    records = await self.pusher.client.recent(kind)
        except AuthError as exc:
            self.pusher.fatal = self.pusher.fatal or exc
            raise GuidLookupError(f"not looked up: {exc}") from exc
        except TransientError as exc:
            raise GuidLookupError(f"the {kind} list could not be read: {exc}") from exc
        self.remember(kind, records)
        return records

    async def guid(self, kind: str, ident: int) -> str:
        """The GUID of the ``kind`` record with integer id ``ident``, created by us just now.

        Waits for (or makes) a list request that began after this call; gives
        up after :data:`_LOOKUP_TRIES` such requests without the record.
        """
        cache = self._cache[kind]
        asked_after = self._started[kind]  # list requests begun before we asked cannot prove absence
        while ident not in cache:
            async with self._locks[kind]:
                if ident in cache:
                    break
                if self._finished[kind] - asked_after >= _LOOKUP_TRIES:
                    raise GuidLookupError(
                        f"created as {kind} {ident}, but its GUID is not among the 25 most recent {kind}s "
                        "(records created meanwhile by someone else pushed it out); its relations were not "
                        "made: link it by hand in Realeflow"
                    )
                if self._finished[kind] > asked_after:
                    await asyncio.sleep(_LOOKUP_PAUSE)
                self._started[kind] += 1
                number = self._started[kind]
                await self.recent(kind)
                self._finished[kind] = number
        return cache.pop(ident)
