"""The one vocabulary of what became of a row (and of a record in the ledger).

``Status`` is a ``StrEnum``: a status *is* its text (``Status.CREATED == "created"``), so reports,
the ledger's columns and JSON carry the plain words while the code names each one once, here.

Row statuses, as the report shows them:
    valid        validate: the row would be sent as it is
    invalid      the row is not sent: ``error`` says why
    partial      some parts of a multi-record row exist or would be sent, others not
    skipped      a ``skip:`` rule, or the ledger says it was created before
    changed      push: an earlier run created this record (same identity) with other values; nothing
                 sent (the API cannot update records): a person edits it in Realeflow
    created      push: the API created it (``id`` when the API gave one)
    failed       push: the API refused it, or it could not be sent
    not-sent     push: never tried, because the run stopped; a re-run sends it
    unknown      no outcome was recorded (a bug; the report still lines up and says so)
Ledger states besides created, failed and not-sent:
    pending      sent, answer not yet recorded (a killed run's rows are looked for next time)
    uncertain    may or may not exist; a person checks (only --retry-failed sends it again)
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

__all__ = ["GOOD", "Status", "exit_code_for"]


class Status(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    PARTIAL = "partial"
    SKIPPED = "skipped"
    CHANGED = "changed"
    CREATED = "created"
    FAILED = "failed"
    NOT_SENT = "not-sent"
    UNKNOWN = "unknown"
    PENDING = "pending"
    UNCERTAIN = "uncertain"


#: Statuses that need no one's attention: a run of only these exits 0.
GOOD = frozenset({Status.VALID, Status.CREATED, Status.SKIPPED, Status.CHANGED})


def exit_code_for(counts: Mapping[str, int], *, fail_on_changed: bool = False, held_back: int = 0) -> int:
    """0 when every counted row went through (valid, created, skipped, changed), else 1.

    ``fail_on_changed``: a ``changed`` row counts as one needing attention (``--fail-on-changed``).
    ``held_back``: not-sent rows that ``--limit`` kept for a later run, which need no one's attention.
    """
    for status, n in counts.items():
        if status == Status.NOT_SENT:
            n -= held_back
        if n > 0 and (status not in GOOD or (fail_on_changed and status == Status.CHANGED)):
            return 1
    return 0
