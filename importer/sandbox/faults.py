"""Faults the sandbox injects, reproducibly, and can change while it runs.

One ``Faults`` object is shared by the running server and whoever holds it:
assigning a field (``server.faults.error_rate = 0.2``) takes effect on the next
request. Each field is checked when it is set. Fault draws and latency jitter
come from two generators seeded from ``seed``, so a run with the same requests
in the same order meets the same faults.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from importer.errors import UsageError

__all__ = [
    "ERROR",
    "FAULT_KINDS",
    "LOST_ANSWER",
    "ODD_ANSWERS",
    "RATE_LIMIT",
    "SLOW_COMMIT",
    "STALL",
    "TIMEOUT",
    "Faults",
    "odd_body",
]

RATE_LIMIT = "rate_limit"
ERROR = "error"
TIMEOUT = "timeout"
LOST_ANSWER = "lost_answer"
SLOW_COMMIT = "slow_commit"
#: The per-request faults, in the order their shares are laid out on [0, 1) (new kinds go last,
#: so a seed keeps drawing the same faults of the older kinds).
FAULT_KINDS: tuple[str, ...] = (RATE_LIMIT, ERROR, TIMEOUT, LOST_ANSWER, SLOW_COMMIT)

#: The request-log ``fault`` of the one create whose answer is held (``stall_create``).
STALL = "stall"
#: Shapes of a successful create's answer that the reference does not show but a client may meet:
#: the record IS stored; only the answer's ``Id`` (or ``Successful``) is written oddly.
ODD_ANSWERS: dict[str, str] = {
    "no-id": 'no "Id" at all',
    "null-id": '"Id": null',
    "text-id": '"Id": "created" (text that is no number)',
    "bool-id": '"Id": true',
    "digits-id": 'the Id as text, "335012"',
    "float-id": "the Id as a float, 335012.0",
    "text-successful": '"Successful": "true" (text), with the Id',
}

_RATES = ("rate_limit_rate", "error_rate", "timeout_rate", "lost_answer_rate", "slow_commit_rate")
_SHARES = (*_RATES, "odd_answer_rate")
_NON_NEGATIVE = ("latency_ms", "jitter_ms", "retry_after", "hang_seconds", "stall_seconds")


def odd_body(mode: str, record_id: int) -> dict[str, Any]:
    """The answer to a successful create of ``record_id`` in one of the ``ODD_ANSWERS`` shapes."""
    body: dict[str, Any] = {"Successful": True, "Id": record_id, "Error": None}
    if mode == "no-id":
        del body["Id"]
    else:
        odd = {"null-id": None, "text-id": "created", "bool-id": True, "digits-id": str(record_id)}
        body["Id"] = odd.get(mode, float(record_id) if mode == "float-id" else record_id)
    if mode == "text-successful":
        body["Successful"] = "true"
    return body


@dataclass(eq=False)
class Faults:
    """What goes wrong, and how often, on the sandbox.

    The five rates are shares of POST create/relation requests; one uniform
    draw per request picks at most one of them, so they must sum to at most 1
    (checked at construction; if live edits push the sum above 1, the later
    kinds in ``FAULT_KINDS`` get only what is left).
    """

    #: Added before every answer (all endpoints), plus up to ``jitter_ms`` more, uniformly.
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    #: Share answered 500 ``{"Message": "An error has occurred."}``; nothing stored.
    error_rate: float = 0.0
    #: Share answered 429 with ``Retry-After: <retry_after>``; nothing stored.
    rate_limit_rate: float = 0.0
    retry_after: int = 1
    #: Share that hangs ``hang_seconds`` and then answers 500; nothing stored.
    timeout_rate: float = 0.0
    hang_seconds: float = 30.0
    #: Share whose record IS committed but whose answer is cut off after the status line.
    lost_answer_rate: float = 0.0
    #: Share that hangs ``hang_seconds`` and THEN is stored and answered as usual: a slow backend
    #: that carries out a request its client has given up on (a read timeout that still creates).
    slow_commit_rate: float = 0.0
    #: Which shape of ``ODD_ANSWERS`` successful contact and property creates answer in (None:
    #: the reference's), for a share ``odd_answer_rate`` of them (drawn from their own generator).
    odd_answer: str | None = None
    odd_answer_rate: float = 1.0
    #: The create request (1-based, counting POSTs to the create and relation endpoints) that is
    #: stored at once but whose answer is held ``stall_seconds``, while the others are answered.
    stall_create: int | None = None
    stall_seconds: float = 30.0
    #: After this many stored creates (contacts, properties, relations) every request gets 401.
    revoke_after: int | None = None
    #: What GET /api/account/status answers; creates are refused unless "Active".
    account_status: str = "Active"
    #: Seed of the fault and jitter generators (None: not reproducible).
    seed: int | None = 0

    _fault_rng: random.Random = field(init=False, repr=False)
    _jitter_rng: random.Random = field(init=False, repr=False)
    _odd_rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        total = sum(getattr(self, name) for name in _RATES)
        if total > 1.0 + 1e-9:
            raise UsageError(
                f"fault rates add up to {total:g} (error, rate-limit, timeout, lost-answer, slow-commit); "
                "each request meets at most one fault, so keep the sum at or below 1"
            )
        self.reseed(self.seed)

    def __setattr__(self, name: str, value: Any) -> None:
        # Checked on every assignment because the server reads these live.
        if name in _SHARES:
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise UsageError(f"{name} must be a share between 0 and 1, got {value!r}")
            value = float(value)
        elif name in _NON_NEGATIVE:
            if not isinstance(value, int | float) or value < 0:
                raise UsageError(f"{name} must be a number >= 0, got {value!r}")
        elif name == "revoke_after":
            if value is not None and (not isinstance(value, int) or value < 0):
                raise UsageError(f"revoke_after must be a whole number >= 0 or None, got {value!r}")
        elif name == "stall_create":
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise UsageError(f"stall_create must be a whole number >= 1 or None, got {value!r}")
        elif name == "odd_answer" and value is not None and value not in ODD_ANSWERS:
            raise UsageError(f"odd_answer must be one of {', '.join(ODD_ANSWERS)} or None, got {value!r}")
        elif name == "account_status" and (not isinstance(value, str) or not value):
            raise UsageError(f"account_status must be a non-empty string, got {value!r}")
        object.__setattr__(self, name, value)
        if name == "seed" and "_fault_rng" in self.__dict__:
            self.reseed(value)

    def reseed(self, seed: int | None) -> None:
        """Restart both generators (also done by assigning ``seed``)."""
        object.__setattr__(self, "seed", seed)
        object.__setattr__(self, "_fault_rng", random.Random(seed))
        object.__setattr__(self, "_jitter_rng", random.Random(None if seed is None else seed + 1))
        object.__setattr__(self, "_odd_rng", random.Random(None if seed is None else seed + 2))

    def draw(self) -> str | None:
        """The fault for one POST request (one of ``FAULT_KINDS``) or None.

        Always consumes exactly one number, so the sequence of faults depends
        only on the seed and the number of POST requests, not on the rates'
        history.
        """
        u = self._fault_rng.random()
        edge = 0.0
        for kind, name in zip(FAULT_KINDS, _RATES, strict=True):
            edge += getattr(self, name)
            if u < edge:
                return kind
        return None

    def delay_seconds(self) -> float:
        """The latency to add to one answer."""
        if self.latency_ms <= 0 and self.jitter_ms <= 0:
            return 0.0
        jitter = self._jitter_rng.uniform(0.0, self.jitter_ms) if self.jitter_ms > 0 else 0.0
        return (self.latency_ms + jitter) / 1000.0

    def revoked(self, stored_creates: int) -> bool:
        """Whether the key counts as revoked after ``stored_creates`` stored creates."""
        return self.revoke_after is not None and stored_creates >= self.revoke_after

    def odd(self) -> str | None:
        """The ``ODD_ANSWERS`` shape for one successful contact or property create, or None."""
        if self.odd_answer is None or self.odd_answer_rate <= 0:
            return None
        return self.odd_answer if self._odd_rng.random() < self.odd_answer_rate else None
