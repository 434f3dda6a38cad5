"""The sandbox's SQLite store: contacts, properties, relations and a request log.

One connection guarded by one lock: the server writes from its event-loop
thread while tests read from theirs. WAL with ``synchronous=NORMAL`` keeps a
commit per request cheap (no fsync per commit), which is what lets one
process take a million creates. Each request's record and its log line are
committed together, so a record that exists always has its request logged.

Integer ids keep growing across ``reset()`` and reopenings of the same file, as
a real server's would: a stale ledger can never match a new record by id.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from importer.errors import UsageError

from .rules import CONTACT_FIELDS, PROPERTY_FIELDS, RELATION_FLAGS

__all__ = ["FIRST_IDS", "SandboxStore", "now_text"]

#: Where each integer sequence starts, far from spreadsheet row numbers.
FIRST_IDS: dict[str, int] = {"contacts": 335_000, "properties": 1_113_000, "relations": 52_000}

_JSON_COLUMNS = ("type", "tags", "customfields")
_CONTACT_COLUMNS = tuple(CONTACT_FIELDS)
_PROPERTY_COLUMNS = tuple(PROPERTY_FIELDS)
_FLAG_COLUMNS = tuple(flag.lower() for flag in RELATION_FLAGS)
_KINDS = {
    "contact": "contacts",
    "contacts": "contacts",
    "property": "properties",
    "properties": "properties",
    "relation": "relations",
    "relations": "relations",
    "request": "requests",
    "requests": "requests",
}
_ID_COLUMN = {"contacts": "contact_id", "properties": "property_id", "relations": "relation_id"}

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS contacts (
    contact_id INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE,
    {", ".join(f"{c} TEXT" for c in _CONTACT_COLUMNS)}, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS properties (
    property_id INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE,
    {", ".join(f"{c} TEXT" for c in _PROPERTY_COLUMNS)}, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS relations (
    relation_id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, property_id INTEGER NOT NULL,
    {", ".join(f"{c} INTEGER NOT NULL" for c in _FLAG_COLUMNS)}, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    request_id INTEGER PRIMARY KEY, at TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
    body TEXT, status INTEGER NOT NULL, outcome TEXT NOT NULL, fault TEXT, error TEXT,
    record_id INTEGER);
CREATE INDEX IF NOT EXISTS requests_path ON requests (path);
"""


def now_text() -> str:
    """UTC now as the API writes ``created``: ISO 8601, no zone, milliseconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


class SandboxStore:
    """Thread-safe SQLite storage of everything the sandbox received and created."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA cache_size=-65536")  # 64 MiB: the GUID index of 1M rows stays hot
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise UsageError(f"sandbox database {self.path} cannot be opened ({exc}); pass another --db path") from exc
        self._lock = threading.Lock()
        self._next = {table: max(first, self._max_id(table) + 1) for table, first in FIRST_IDS.items()}
        #: Creates stored since opening or the last reset(); drives Faults.revoke_after.
        self.stored_creates = 0

    def _max_id(self, table: str) -> int:
        row = self._db.execute(f"SELECT MAX({_ID_COLUMN[table]}) FROM {table}").fetchone()
        return int(row[0] or 0)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- writes (the server) -------------------------------------------------------------------

    def add_record(self, kind: str, record: dict[str, Any], log: dict[str, Any]) -> tuple[int, str]:
        """Store a checked contact or property and its request-log line; return (id, guid)."""
        table = _KINDS[kind]
        columns = _CONTACT_COLUMNS if table == "contacts" else _PROPERTY_COLUMNS
        values = [
            json.dumps(record[c]) if c in _JSON_COLUMNS and record.get(c) is not None else record.get(c)
            for c in columns
        ]
        guid = str(uuid.uuid4())
        with self._transaction() as db:
            new_id = self._next[table]
            db.execute(
                f"INSERT INTO {table} ({_ID_COLUMN[table]}, guid, {', '.join(columns)}, created) "
                f"VALUES (?, ?, {', '.join('?' * len(columns))}, ?)",
                (new_id, guid, *values, now_text()),
            )
            self._log(db, {**log, "record_id": new_id})
            self._next[table] = new_id + 1
            self.stored_creates += 1
        return new_id, guid

    def add_relation(self, record: dict[str, Any], log: dict[str, Any]) -> tuple[int | None, str | None]:
        """Store a checked relation if both GUIDs exist; return (id, None) or (None, error).

        The log line is written either way, in the same transaction.
        """
        with self._transaction() as db:
            contact = db.execute("SELECT contact_id FROM contacts WHERE guid = ?", (record["contactid"],)).fetchone()
            prop = db.execute("SELECT property_id FROM properties WHERE guid = ?", (record["propertyid"],)).fetchone()
            missing = []
            if prop is None:
                missing.append(f"no property has PropertyId '{record['propertyid']}'")
            if contact is None:
                missing.append(f"no contact has ContactId '{record['contactid']}'")
            if missing:
                error = "; ".join(missing) + " (use the 'id' GUIDs of /api/*/list)"
                self._log(db, {**log, "outcome": "rejected", "error": error})
                return None, error
            new_id = self._next["relations"]
            db.execute(
                f"INSERT INTO relations (relation_id, contact_id, property_id, {', '.join(_FLAG_COLUMNS)}, "
                f"created) VALUES (?, ?, ?, {', '.join('?' * len(_FLAG_COLUMNS))}, ?)",
                (new_id, contact[0], prop[0], *(int(record[c]) for c in _FLAG_COLUMNS), now_text()),
            )
            self._log(db, {**log, "record_id": new_id})
            self._next["relations"] = new_id + 1
            self.stored_creates += 1
        return new_id, None

    def log_request(self, log: dict[str, Any]) -> None:
        """Record a request that stored nothing (refused, rejected, faulted or a GET)."""
        with self._transaction() as db:
            self._log(db, log)

    @staticmethod
    def _log(db: sqlite3.Connection, log: dict[str, Any]) -> None:
        db.execute(
            "INSERT INTO requests (at, method, path, body, status, outcome, fault, error, record_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                now_text(),
                log["method"],
                log["path"],
                log.get("body"),
                log["status"],
                log["outcome"],
                log.get("fault"),
                log.get("error"),
                log.get("record_id"),
            ),
        )

    # -- reads (the API's list endpoints) ----------------------------------------------------------

    def recent(self, kind: str, limit: int = 25) -> list[dict[str, Any]]:
        """The newest ``limit`` contacts or properties, newest first, as stored-record dicts."""
        table = _KINDS[kind]
        with self._lock:
            cur = self._db.execute(f"SELECT * FROM {table} ORDER BY {_ID_COLUMN[table]} DESC LIMIT ?", (limit,))
            return self._dicts(cur)

    # -- reads for tests and rehearsals -----------------------------------------------------------

    def contacts(self) -> list[dict[str, Any]]:
        """All contacts, oldest first: ``contact_id``, ``guid``, the lowercase API fields, ``created``."""
        return self._all("contacts")

    def properties(self) -> list[dict[str, Any]]:
        """All properties, oldest first: ``property_id``, ``guid``, the lowercase API fields, ``created``."""
        return self._all("properties")

    def relations(self) -> list[dict[str, Any]]:
        """All relations, oldest first, with both integer ids, both GUIDs and the flags as bools."""
        flags = ", ".join(f"r.{c}" for c in _FLAG_COLUMNS)
        with self._lock:
            cur = self._db.execute(
                f"SELECT r.relation_id, r.contact_id, c.guid AS contact_guid, r.property_id, "
                f"p.guid AS property_guid, {flags}, r.created FROM relations r "
                "JOIN contacts c USING (contact_id) JOIN properties p USING (property_id) "
                "ORDER BY r.relation_id"
            )
            rows = self._dicts(cur)
        for row in rows:
            for flag in RELATION_FLAGS:
                row[flag] = bool(row.pop(flag.lower()))
        return rows

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """The request log, oldest first, optionally only one path ("/api/contact/create").

        Each dict: request_id, at, method, path, body (the received text), status
        (sent, or begun for a lost answer), outcome, fault, error, record_id.
        """
        sql = "SELECT * FROM requests"
        args: tuple[Any, ...] = ()
        if path is not None:
            sql += " WHERE path = ?"
            args = (path,)
        with self._lock:
            return self._dicts(self._db.execute(sql + " ORDER BY request_id", args), decode=False)

    def count(self, kind: str) -> int:
        """How many contacts, properties, relations or requests are stored (singular or plural)."""
        table = _KINDS.get(kind)
        if table is None:
            raise ValueError(f"unknown kind {kind!r}; use one of {sorted(set(_KINDS.values()))}")
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def reset(self) -> None:
        """Forget every record and request (ids keep growing) and the revoke count."""
        with self._transaction() as db:
            for table in ("relations", "contacts", "properties", "requests"):
                db.execute(f"DELETE FROM {table}")
            self.stored_creates = 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _all(self, table: str) -> list[dict[str, Any]]:
        with self._lock:
            return self._dicts(self._db.execute(f"SELECT * FROM {table} ORDER BY {_ID_COLUMN[table]}"))

    @staticmethod
    def _dicts(cur: sqlite3.Cursor, *, decode: bool = True) -> list[dict[str, Any]]:
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        if decode:
            for row in rows:
                for c in _JSON_COLUMNS:
                    if row.get(c) is not None:
                        row[c] = json.loads(row[c])
        return rows
