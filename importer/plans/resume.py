"""The property-with-contacts plan's memory across runs, kept in the ledger.

A part (property, owner, relation) recorded here is found again by the next run, so a re-run
links to the records it made instead of making them again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from importer.errors import LedgerError
from importer.ledger import Journal
from importer.outcomes import Status

__all__ = ["GraphState", "LedgerGraphState", "NullState", "StoredPart"]


@dataclass(frozen=True)
class StoredPart:
    """What an earlier run left for a part: its ids, or that its request's answer never came."""

    kind: str  # "property" | "contact" | "relation"
    state: str  # a Status: created | pending (sent, answer unknown) | uncertain (relation, answer lost)
    id: int | None = None
    guid: str | None = None
    row: int | None = None  # the row that created it
    run_id: int | None = None  # the run that created it
    content: dict[str, Any] | None = None  # the payload it was created with (None: not kept, or a relation)


class GraphState(Protocol):
    """Where the plan remembers what it created, keyed by the parts' identity keys.

    ``find`` is asked before every create; ``sending`` is told before the request
    goes out (so a crash leaves a trace), ``created``/``resolved``/``uncertain``
    after. A key is a string like ``property|12 main st|cleveland|oh|44113``.
    """

    def find(self, keys: Sequence[str]) -> StoredPart | None: ...

    def sending(self, keys: Sequence[str], kind: str, row: int) -> None: ...

    def created(
        self,
        keys: Sequence[str],
        kind: str,
        row: int,
        ident: int | None,
        guid: str | None,
        content: dict[str, Any] | None = None,
    ) -> None: ...

    def uncertain(self, keys: Sequence[str], kind: str, row: int, error: str) -> None: ...

    def failed(self, keys: Sequence[str], kind: str, row: int, error: str) -> None: ...


class NullState:
    """Remembers nothing between runs (no ledger): within a run the plan's own registry dedupes."""

    def find(self, keys: Sequence[str]) -> StoredPart | None:
        return None

    def sending(self, keys: Sequence[str], kind: str, row: int) -> None:
        pass

    def created(
        self,
        keys: Sequence[str],
        kind: str,
        row: int,
        ident: int | None,
        guid: str | None,
        content: dict[str, Any] | None = None,
    ) -> None:
        pass

    def uncertain(self, keys: Sequence[str], kind: str, row: int, error: str) -> None:
        pass

    def failed(self, keys: Sequence[str], kind: str, row: int, error: str) -> None:
        pass


class LedgerGraphState:
    """The :class:`GraphState` backed by the ledger: the property-with-contacts plan's memory.

    Every method commits at once (the plan calls them around single requests).
    ``find`` answers with the first of a part's identity keys the ledger knows.
    ``on_failure`` (the pusher's ``stop``): a ledger that fails stops the run instead of
    raising through the plan, so every row still gets its outcome; ``find`` then answers
    None and the stopped run sends nothing more.
    """

    def __init__(self, journal: Journal, on_failure: Callable[[LedgerError], None] | None = None) -> None:
        self.journal = journal
        self.on_failure = on_failure

    def _guard(self, action: Callable[[], Any]) -> Any:
        if self.on_failure is None:
            return action()
        try:
            return action()
        except LedgerError as exc:
            self.on_failure(exc)
            return None

    def find(self, keys: Sequence[str]) -> StoredPart | None:
        found = self._guard(lambda: self.journal.lookup(keys)) or {}
        for key in keys:
            entry = found.get(key)
            if entry is None or entry.state in (Status.FAILED, Status.NOT_SENT):
                continue
            return StoredPart(entry.kind, entry.state, entry.id, entry.guid, entry.row, entry.run_id, entry.content)
        return None

    def sending(self, keys: Sequence[str], kind: str, row: int) -> None:
        self._guard(lambda: self.journal.mark_pending(keys, kind, row))

    def created(
        self,
        keys: Sequence[str],
        kind: str,
        row: int,
        ident: int | None,
        guid: str | None,
        content: dict[str, Any] | None = None,
    ) -> None:
        if ident is None:
            self._settle(keys, kind, row, Status.UNCERTAIN, "created, but the API gave no id")
            return
        self._guard(lambda: self.journal.mark_created(keys, kind, row, ident, guid, content))

    def uncertain(self, keys: Sequence[str], kind: str, row: int, error: str) -> None:
        self._settle(keys, kind, row, Status.UNCERTAIN, error)

    def failed(self, keys: Sequence[str], kind: str, row: int, error: str) -> None:
        self._settle(keys, kind, row, Status.FAILED, error)

    def _settle(self, keys: Sequence[str], kind: str, row: int, state: str, error: str) -> None:
        self._guard(lambda: self.journal.settle_many([(k, kind, row) for k in keys], state, error))
