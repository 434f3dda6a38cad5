"""The ledger: an embedded SQLite record of what every push sent, so re-runs never create twice.

Each record a push sends is kept under a *key*: for one-record rows the
fingerprint of its kind and normalised payload (:func:`fingerprint`); the
property-with-contacts plan keys its parts by their identity keys. Per key the
ledger holds a state, the API's integer id (and GUID once known), the run and
row that made it, and the last run and row that met it.

Identity apart from content (format 3): a created record keeps its *content*, the payload it was
created with, and the identity keys of one-record rows (:mod:`importer.plans.identity`: a contact
by name + mailing address, e-mail or phone; a property by its address) name the record in the
``identities`` table (the first record created under a key keeps it). A re-run row with another
fingerprint whose identity names a record of an earlier run is a record *changed* since then
(:meth:`Ledger.identified`, :func:`changed_fields`). The property-with-contacts plan's keys are
identity keys already: its parts keep their content the same way. Ledgers of format 2 get the
column and the table when opened; their records have no content (never reported changed).

States::

    pending    a create request may be on its way (written and committed BEFORE it is sent,
               with the payload, so a kill -9 leaves a trace the next run settles)
    created    the API answered with an id (or the record was found in the list)
    failed     the last try failed and nothing was created
    not-sent   the run stopped (401, outage) before the row was sent
    uncertain  the record may exist but could not be found: a person has to look

Durability: WAL journal with ``synchronous=NORMAL``. A commit is a write to
the WAL, not a disk flush, so committing often costs microseconds, and a
committed transaction survives the process being killed (kill -9, OOM); only
a power cut may lose the last ones. Writes from the push workers go through
:class:`Journal`, which commits everything queued in one event-loop pass as
one transaction (small groups: no transaction per row, and no request is
sent before its ``pending`` line is committed).

One writer: every SQL statement is in this module, and a run writes only through its
:class:`Journal` (``Journal.start`` records the run, ``Journal.finish`` how it ended, the rest
what each record became). The plans and the pusher decide *what* to note; this module decides
how it is stored. ``Ledger`` itself writes only the run history and migrations.

Scope: entries are kept per API base URL (a sandbox and production never see
each other's records), normalised by :func:`importer.endpoint.scope_of` so that
spellings of one URL (``localhost`` or ``127.0.0.1``, ``:443`` or none, a trailing
slash) share one scope. Ledgers of format 1 kept the URL as typed: they are
migrated when opened (their scopes merged, user info and the key it held erased).
Use a separate ``--ledger`` per Realeflow account.

Overlapping runs: :meth:`Ledger.open` takes an exclusive lock on
``<ledger>.lock`` (``flock``; the kernel releases it when the process dies,
however it dies) and raises :class:`LedgerLockedError` while another run holds it.

Default location: ``$REALEFLOW_LEDGER`` if set, else
``$XDG_STATE_HOME/realeflow-import/ledger.sqlite3`` (``~/.local/state/...``),
on macOS ``~/Library/Application Support/realeflow-import/ledger.sqlite3``,
on Windows ``%LOCALAPPDATA%\\realeflow-import\\ledger.sqlite3``.

Owns: the ledger's SQLite file, its SQL (every statement) and the run lock beside it
(:mod:`importer.ledger.files`). Ledger, Journal and the SQL stay in one module: it is the one
writer of the ledger, and a run's writes are only safe read together with the statements they run.
May import: the foundation.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from importer.config import default_ledger_path
from importer.endpoint import redact_url, scope_of
from importer.errors import LedgerError
from importer.ledger.content import Change, changed_fields, fingerprint
from importer.ledger.files import FileLock, check_writable, open_error
from importer.outcomes import Status

__all__ = [
    "Change",
    "Entry",
    "Journal",
    "Ledger",
    "RunRecord",
    "changed_fields",
    "fingerprint",
    "scope_of",
]

_SCHEMA_VERSION = "3"  # 3: created records keep their content, identities; 2: scopes normalised
#                        (1: the URL as typed, user info included)
_READABLE = ("1", "2")  # older formats whose run history can be read without migrating them
_LOOKUP_BATCH = 900  # keys per IN (...) query

_PENDING, _CREATED = Status.PENDING.value, Status.CREATED.value  # the states the SQL below names
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY, scope TEXT NOT NULL, command TEXT NOT NULL, file TEXT NOT NULL,
    mapping TEXT, started TEXT NOT NULL, finished TEXT, state TEXT NOT NULL, counts TEXT,
    exit_code INTEGER, pid INTEGER, host TEXT, max_seq INTEGER NOT NULL DEFAULT -1, note TEXT);
CREATE TABLE IF NOT EXISTS records (
    scope TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
    api_id INTEGER, guid TEXT, run_id INTEGER, row INTEGER,
    seq INTEGER, inflight INTEGER, mark INTEGER, payload TEXT, error TEXT,
    last_run INTEGER, last_row INTEGER, updated TEXT NOT NULL, content TEXT,
    PRIMARY KEY (scope, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_pending ON records (scope) WHERE state = '{_PENDING}';
CREATE INDEX IF NOT EXISTS records_api_id ON records (scope, kind, api_id) WHERE api_id IS NOT NULL;
"""
# Format 3: which record each identity key (importer.plans.identity: a contact's name + mailing
# address, e-mail or phone; a property's address) stands for, so a re-run row whose content changed
# is told apart from a new record. Created apart from _SCHEMA: a format-2 ledger opened only to read
# its history must not need a write.
_IDENTITIES = """
CREATE TABLE IF NOT EXISTS identities (
    scope TEXT NOT NULL, ident TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (scope, ident)) WITHOUT ROWID;
"""

# Before a request: the row, its place in the run's sequence of creates, how many creates were
# in flight and the highest id known (what recovery needs), and the payload to match it by.
_PENDING_SQL = f"""
INSERT INTO records (scope, key, kind, state, run_id, row, seq, inflight, mark, payload, last_run, last_row,
                     updated)
VALUES (?, ?, ?, '{_PENDING}', ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (scope, key) DO UPDATE SET
    kind = excluded.kind, state = '{_PENDING}', run_id = excluded.run_id, row = excluded.row,
    seq = excluded.seq, inflight = excluded.inflight, mark = excluded.mark, payload = excluded.payload,
    error = NULL, last_run = excluded.last_run, last_row = excluded.last_row, updated = excluded.updated
"""
# The content kept is what was sent: the payload given, else the one its pending line holds.
_CREATED_SQL = f"""
INSERT INTO records (scope, key, kind, state, api_id, guid, run_id, row, last_run, last_row, updated, content)
VALUES (?, ?, ?, '{_CREATED}', ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (scope, key) DO UPDATE SET
    kind = excluded.kind, state = '{_CREATED}',
    guid = COALESCE(excluded.guid, CASE WHEN records.api_id = excluded.api_id THEN records.guid END),
    api_id = excluded.api_id, run_id = excluded.run_id, row = excluded.row, payload = NULL, error = NULL,
    last_run = excluded.last_run, last_row = excluded.last_row, updated = excluded.updated,
    content = COALESCE(excluded.content, records.payload, records.content)
"""
# An identity key names the first record created under it: a later record sharing it (the same
# phone, another name) does not take it over, unless the one it names was never created.
_IDENTITY_SQL = f"""
INSERT INTO identities (scope, ident, key) VALUES (?, ?, ?)
ON CONFLICT (scope, ident) DO UPDATE SET key = excluded.key
WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.scope = identities.scope AND r.key = identities.key
                  AND r.state = '{_CREATED}')
"""
# A failure never hides a record an earlier run created (a --force re-send that failed).
_SETTLED_SQL = f"""
INSERT INTO records (scope, key, kind, state, error, run_id, row, last_run, last_row, updated)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (scope, key) DO UPDATE SET
    state = CASE WHEN records.api_id IS NOT NULL THEN '{_CREATED}' ELSE excluded.state END,
    error = CASE WHEN records.api_id IS NOT NULL THEN NULL ELSE excluded.error END,
    run_id = CASE WHEN records.api_id IS NOT NULL THEN records.run_id ELSE excluded.run_id END,
    row = CASE WHEN records.api_id IS NOT NULL THEN records.row ELSE excluded.row END,
    payload = NULL, last_run = excluded.last_run, last_row = excluded.last_row, updated = excluded.updated
"""
_SEEN_SQL = "UPDATE records SET last_run = ?, last_row = ? WHERE scope = ? AND key = ?"

# Format 1 -> 2: a key met under two spellings of one URL keeps the entry that says most: one with
# an id, then one a killed run left pending (to be looked for), then the newer.
_RANK = (
    f"CASE WHEN {{t}}.api_id IS NOT NULL THEN 2 WHEN {{t}}.state = '{_PENDING}' AND {{t}}.payload IS NOT NULL THEN 1 "
    "ELSE 0 END"
)
_MERGE_SCOPE_SQL = f"""
INSERT INTO records (scope, key, kind, state, api_id, guid, run_id, row, seq, inflight, mark, payload, error,
                     last_run, last_row, updated)
SELECT ?, key, kind, state, api_id, guid, run_id, row, seq, inflight, mark, payload, error, last_run, last_row, updated
FROM records WHERE scope = ? AND true
ON CONFLICT (scope, key) DO UPDATE SET
    kind = excluded.kind, state = excluded.state, api_id = excluded.api_id, guid = excluded.guid,
    run_id = excluded.run_id, row = excluded.row, seq = excluded.seq, inflight = excluded.inflight,
    mark = excluded.mark, payload = excluded.payload, error = excluded.error, last_run = excluded.last_run,
    last_row = excluded.last_row, updated = excluded.updated
WHERE {_RANK.format(t="excluded")} > {_RANK.format(t="records")}
   OR ({_RANK.format(t="excluded")} = {_RANK.format(t="records")} AND excluded.updated > records.updated)
"""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Entry:
    """What the ledger knows about one key."""

    key: str
    kind: str
    state: str
    id: int | None
    guid: str | None
    run_id: int | None
    row: int | None
    seq: int | None
    inflight: int | None
    mark: int | None
    payload: dict[str, Any] | None
    error: str | None
    last_run: int | None
    last_row: int | None
    updated: str
    content: dict[str, Any] | None = None  # the payload the record was created with (format 3 on)


@dataclass(frozen=True)
class RunRecord:
    """One run in the ledger's history."""

    run_id: int
    scope: str
    command: str
    file: str
    mapping: str | None
    started: str
    finished: str | None
    state: str  # running | finished | stopped | interrupted
    counts: dict[str, int]
    exit_code: int | None
    pid: int | None
    host: str | None
    max_seq: int
    note: str | None


_ENTRY_COLUMNS = (
    "key, kind, state, api_id, guid, run_id, row, seq, inflight, mark, payload, error, last_run, last_row, updated, "
    "content"
)


def _entry(row: Sequence[Any]) -> Entry:
    values = list(row)
    values[10] = json.loads(values[10]) if values[10] else None  # the payload
    values[15] = json.loads(values[15]) if values[15] else None  # the content
    return Entry(*values)


def _run(row: Sequence[Any]) -> RunRecord:
    values = list(row)
    values[8] = json.loads(values[8]) if values[8] else {}
    # A ledger opened read-only cannot be migrated: its old scopes and notes are shown without user info.
    values[1] = redact_url(values[1])
    values[13] = redact_url(values[13]) if values[13] else values[13]
    return RunRecord(*values)


def _migrate_scopes(db: sqlite3.Connection) -> str:
    """Format 1 -> 2: every scope normalised (spellings of one URL merged), user info erased; returns "2"."""
    # Erased text (a key in a URL's user info) is overwritten with zeros, not left in free pages.
    db.execute("PRAGMA secure_delete=ON")
    db.execute("BEGIN IMMEDIATE")
    try:
        scopes = [s for (s,) in db.execute("SELECT scope FROM records UNION SELECT scope FROM runs")]
        for old in scopes:
            new = scope_of(old)
            if new != old:
                db.execute(_MERGE_SCOPE_SQL, (new, old))
                db.execute("DELETE FROM records WHERE scope = ?", (old,))
                db.execute("UPDATE runs SET scope = ? WHERE scope = ?", (new, old))
        for run_id, note in db.execute("SELECT run_id, note FROM runs WHERE note LIKE '%@%'").fetchall():
            db.execute("UPDATE runs SET note = ? WHERE run_id = ?", (redact_url(note), run_id))
        for scope, key, error in db.execute("SELECT scope, key, error FROM records WHERE error LIKE '%@%'").fetchall():
            db.execute("UPDATE records SET error = ? WHERE scope = ? AND key = ?", (redact_url(error), scope, key))
        db.execute("UPDATE meta SET value = '2' WHERE name = 'schema'")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the old pages out of the write-ahead log too
    return "2"


def _migrate_content(db: sqlite3.Connection) -> str:
    """Format 2 -> 3: a ``content`` column for created records and the identities table; returns "3".

    Records created before keep no content: they are still skipped when met again with the same
    content, and compared once a later run has created records with their content.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        columns = {row[1] for row in db.execute("PRAGMA table_info(records)")}
        if "content" not in columns:
            db.execute("ALTER TABLE records ADD COLUMN content TEXT")
        db.execute(_IDENTITIES.strip())
        db.execute("UPDATE meta SET value = ? WHERE name = 'schema'", (_SCHEMA_VERSION,))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return _SCHEMA_VERSION


class Ledger:
    """The ledger database. ``Ledger.open(path)`` for a run (locked), ``lock=False`` to read history."""

    def __init__(self, path: Path, db: sqlite3.Connection, lock: FileLock | None) -> None:
        self.path = path
        self._db = db
        self._lock = lock
        self._runs: dict[int, RunRecord] = {}

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, lock: bool = True) -> Ledger:
        """Open (creating it if needed) the ledger at ``path`` (default: :func:`default_ledger_path`).

        With ``lock`` (the default, for runs that write) an overlapping run is
        refused with :class:`LedgerLockedError`.
        """
        path = Path(path) if path is not None else default_ledger_path()
        if path.is_dir():
            raise LedgerError(
                f"the ledger {path} is a folder; give --ledger a file name, e.g. {path / 'ledger.sqlite3'}"
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LedgerError(f"cannot create the folder of the ledger {path}: {exc.strerror or exc}") from exc
        if lock:
            check_writable(path)
        held = None
        if lock:
            held = FileLock(path.with_name(path.name + ".lock"))
            held.acquire(f"pid {os.getpid()} on {socket.gethostname()}, since {_now()}")
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
            db.executescript(_SCHEMA)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (_SCHEMA_VERSION,))
            version = db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()[0]
            try:
                if version == "1":
                    version = _migrate_scopes(db)
                if version == "2":
                    version = _migrate_content(db)
                if version == _SCHEMA_VERSION:
                    db.execute(_IDENTITIES.strip())  # a new ledger's (an existing one's: no write)
            except sqlite3.OperationalError:
                if lock:
                    raise  # a run must not write under scopes of the old kind, nor without identities
                # history from a ledger it cannot write (read-only, busy): read as it is
        except sqlite3.DatabaseError as exc:
            if held is not None:
                held.release()
            raise open_error(path, exc) from exc
        if version != _SCHEMA_VERSION and not (version in _READABLE and not lock):  # older formats can be read
            db.close()
            if held is not None:
                held.release()
            raise LedgerError(
                f"the ledger {path} has format {version}; this version of realeflow-import reads {_SCHEMA_VERSION}"
            )
        return cls(path, db, held)

    def close(self) -> None:
        """Close the database and release the lock."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs -------------------------------------------------------------------------------------

    def start_run(self, scope: str, command: str, file: str, mapping: str | None = None) -> int:
        """Record a new run; runs left 'running' by a process that died become 'interrupted'."""
        with self._write() as db:
            db.execute(
                "UPDATE runs SET state = 'interrupted', note = 'the process ended without finishing the run' "
                "WHERE state = 'running'"
            )
            cur = db.execute(
                "INSERT INTO runs (scope, command, file, mapping, started, state, pid, host) "
                "VALUES (?, ?, ?, ?, ?, 'running', ?, ?)",
                (scope, command, file, mapping, _now(), os.getpid(), socket.gethostname()),
            )
            assert cur.lastrowid is not None
            return int(cur.lastrowid)

    def finish_run(
        self, run_id: int, state: str, counts: dict[str, int], exit_code: int | None, note: str | None = None
    ) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE runs SET finished = ?, state = ?, counts = ?, exit_code = ?, note = ? WHERE run_id = ?",
                (_now(), state, json.dumps(counts), exit_code, note, run_id),
            )
        self._runs.pop(run_id, None)

    def runs(self, limit: int | None = 20) -> list[RunRecord]:
        """Past runs, newest first."""
        sql = "SELECT * FROM runs ORDER BY run_id DESC"
        args: tuple[Any, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            args = (limit,)
        return [_run(r) for r in self._read(sql, args)]

    def run(self, run_id: int) -> RunRecord | None:
        if run_id not in self._runs:
            rows = self._read("SELECT * FROM runs WHERE run_id = ?", (run_id,))
            if not rows:
                return None
            self._runs[run_id] = _run(rows[0])
        return self._runs[run_id]

    # -- records ----------------------------------------------------------------------------------

    def lookup(self, scope: str, keys: Iterable[str]) -> dict[str, Entry]:
        """The entries of ``keys`` that exist (batched queries; any number of keys)."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, Entry] = {}
        for i in range(0, len(keys), _LOOKUP_BATCH):
            batch = keys[i : i + _LOOKUP_BATCH]
            sql = f"SELECT {_ENTRY_COLUMNS} FROM records WHERE scope = ? AND key IN ({','.join('?' * len(batch))})"
            for row in self._read(sql, (scope, *batch)):
                entry = _entry(row)
                found[entry.key] = entry
        return found

    def identified(self, scope: str, idents: Iterable[str]) -> dict[str, Entry]:
        """Per identity key of ``idents`` that names a created record, that record's entry (batched)."""
        idents = list(dict.fromkeys(idents))
        found: dict[str, Entry] = {}
        columns = ", ".join("r." + c.strip() for c in _ENTRY_COLUMNS.split(","))  # the records' columns
        for i in range(0, len(idents), _LOOKUP_BATCH):
            batch = idents[i : i + _LOOKUP_BATCH]
            sql = (
                f"SELECT i.ident, {columns} FROM identities i JOIN records r ON r.scope = i.scope AND r.key = i.key "
                f"WHERE i.scope = ? AND r.state = '{_CREATED}' AND i.ident IN ({','.join('?' * len(batch))})"
            )
            for row in self._read(sql, (scope, *batch)):
                found[str(row[0])] = _entry(row[1:])
        return found

    def pending(self, scope: str) -> list[Entry]:
        """Entries left ``pending`` with a payload (sent by a run that died), oldest first."""
        sql = (
            f"SELECT {_ENTRY_COLUMNS} FROM records WHERE scope = ? AND state = '{_PENDING}' "
            "AND payload IS NOT NULL ORDER BY run_id, seq"
        )
        return [_entry(r) for r in self._read(sql, (scope,))]

    def known_ids(self, scope: str, kind: str, ids: Iterable[int]) -> set[int]:
        """Which of ``ids`` the ledger has already given to some key."""
        ids = list(ids)
        if not ids:
            return set()
        sql = f"SELECT api_id FROM records WHERE scope = ? AND kind = ? AND api_id IN ({','.join('?' * len(ids))})"
        return {int(r[0]) for r in self._read(sql, (scope, kind, *ids))}

    def counts(self, scope: str | None = None) -> dict[str, int]:
        """Entries per state (all scopes unless ``scope``)."""
        sql = "SELECT state, COUNT(*) FROM records"
        args: tuple[Any, ...] = ()
        if scope is not None:
            sql += " WHERE scope = ?"
            args = (scope,)
        return {str(s): int(n) for s, n in self._read(sql + " GROUP BY state", args)}

    # -- writing ----------------------------------------------------------------------------------

    def _commit(self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        """Run ``(sql, rows)`` pairs with executemany, all in one committed transaction (for :class:`Journal`)."""
        with self._write() as db:
            for sql, rows in statements:
                db.executemany(sql, rows)

    @contextlib.contextmanager
    def _write(self) -> Any:
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise LedgerError(
                f"cannot write to the ledger {self.path}: {exc}; check free disk space and permissions "
                "(the run stopped so that nothing is sent without being recorded)"
            ) from exc

    def _read(self, sql: str, args: Sequence[Any]) -> list[Sequence[Any]]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot read the ledger {self.path}: {exc}") from exc


class Journal:
    """One run's view of the ledger: reads, and writes committed in groups for async workers.

    Workers ``await`` a write; everything queued during one pass of the event
    loop is committed as one transaction, then all of them resume. ``pending``
    is awaited before a request is sent; ``settled`` after it. ``created``
    returns at once: it is committed with the next transaction, at the latest
    with the worker's next ``pending`` (so a worker never has a new request in
    flight before its last create is on disk; killed in between, the row is
    still ``pending`` and a re-run finds it in the list), and a row costs one
    wait for a commit instead of two (~3 % of a push's time at 50 ms latency).
    """

    def __init__(self, ledger: Ledger, scope: str, run_id: int) -> None:
        self.ledger = ledger
        self.scope = scope
        self.run_id = run_id
        self._queue: dict[str, list[Sequence[Any]]] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._scheduled = False
        self._max_seq = -1
        self._failure: LedgerError | None = None  # a failed commit nobody waited for: raised at the next write
        self.commits = 0  # transactions so far (for the benchmark's figures)

    @classmethod
    def start(cls, ledger: Ledger, scope: str, command: str, file: str, mapping: str | None = None) -> Journal:
        """Record a new run in ``ledger`` and return its journal."""
        return cls(ledger, scope, ledger.start_run(scope, command, file, mapping))

    def finish(self, state: str, counts: dict[str, int], exit_code: int | None, note: str | None = None) -> None:
        """Record how the run ended (call :meth:`flush_now` first: what is queued belongs before it)."""
        self.ledger.finish_run(self.run_id, state, counts, exit_code, note)

    # -- reads --------------------------------------------------------------------------------------

    def lookup(self, keys: Iterable[str]) -> dict[str, Entry]:
        return self.ledger.lookup(self.scope, keys)

    def identified(self, idents: Iterable[str]) -> dict[str, Entry]:
        """The created records that identity keys name (see :meth:`Ledger.identified`)."""
        return self.ledger.identified(self.scope, idents)

    def run(self, run_id: int) -> RunRecord | None:
        return self.ledger.run(run_id)

    def left_pending(self) -> list[Entry]:
        """What killed runs left ``pending`` in this scope, oldest first (see :meth:`Ledger.pending`)."""
        return self.ledger.pending(self.scope)

    def known_ids(self, kind: str, ids: Iterable[int]) -> set[int]:
        """Which of ``ids`` the ledger has already given to some key of this scope."""
        return self.ledger.known_ids(self.scope, kind, ids)

    # -- writes (async, grouped) ----------------------------------------------------------------------

    async def pending(
        self,
        key: str,
        kind: str,
        row: int,
        seq: int,
        inflight: int,
        mark: int | None,
        payload: dict[str, Any],
        identity: Sequence[str] = (),
    ) -> None:
        """A create about to be sent, with its payload and the identity keys its record will answer to."""
        self._max_seq = max(self._max_seq, seq)
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        params = (self.scope, key, kind, self.run_id, row, seq, inflight, mark, body, self.run_id, row, _now())
        for ident in identity:  # committed in the same transaction as the pending line
            self._queue.setdefault(_IDENTITY_SQL, []).append((self.scope, ident, key))
        await self._enqueue(_PENDING_SQL, params)

    async def created(self, key: str, kind: str, row: int, ident: int | None, guid: str | None = None) -> None:
        """A key's record was created (committed with the next transaction: see the class docstring).

        ``ident`` None: the API said it created the record but gave no usable id; the key is
        ``created`` all the same (never sent again), with its id unknown.
        """
        params = (self.scope, key, kind, ident, guid, self.run_id, row, self.run_id, row, _now(), None)
        self._queue_write(_CREATED_SQL, params)

    async def settled(self, key: str, kind: str, row: int, state: str, error: str = "") -> None:
        """A key whose request ended without a record: failed, not-sent or uncertain."""
        params = (self.scope, key, kind, state, error, self.run_id, row, self.run_id, row, _now())
        await self._enqueue(_SETTLED_SQL, params)

    # -- writes (sync, whole chunks) ------------------------------------------------------------------

    def seen(self, rows: Sequence[tuple[str, int]]) -> None:
        """Note the rows that met an existing key this run (skipped ones), so a later duplicate names them."""
        if rows:
            self.ledger._commit([(_SEEN_SQL, [(self.run_id, row, self.scope, key) for key, row in rows])])

    def settle_many(self, rows: Sequence[tuple[str, str, int]], state: str, error: str) -> None:
        """(key, kind, row) triples that end in ``state`` without a request (e.g. not-sent)."""
        if rows:
            now = _now()
            params = [(self.scope, k, kind, state, error, self.run_id, r, self.run_id, r, now) for k, kind, r in rows]
            self.ledger._commit([(_SETTLED_SQL, params)])

    def recovered(self, entry: Entry, ident: int, guid: str | None) -> None:
        """A killed run's pending entry found in the list: recorded as that run's creation."""
        run, row = entry.run_id, entry.row
        params = (self.scope, entry.key, entry.kind, ident, guid, run, row, run, row, _now(), None)
        self.ledger._commit([(_CREATED_SQL, [params])])

    def flush_now(self) -> None:
        """Commit whatever is queued (also called by the event loop on its own); LedgerError if that fails."""
        self._flush()
        self._raise_failure()

    # -- group commit -----------------------------------------------------------------------------------

    async def _enqueue(self, sql: str, params: Sequence[Any]) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._queue_write(sql, params)
        await waiter

    def _queue_write(self, sql: str, params: Sequence[Any]) -> None:
        self._raise_failure()
        self._queue.setdefault(sql, []).append(params)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _flush(self) -> None:
        self._scheduled = False
        queue, waiters = self._queue, self._waiters
        self._queue, self._waiters = {}, []
        if not queue:
            return
        statements: list[tuple[str, Sequence[Sequence[Any]]]] = list(queue.items())
        statements.append(
            ("UPDATE runs SET max_seq = MAX(max_seq, ?) WHERE run_id = ?", [(self._max_seq, self.run_id)])
        )
        try:
            self.ledger._commit(statements)
            self.commits += 1
        except LedgerError as exc:
            self._failure = exc  # the writes nobody waits for are lost: every later write fails with it
            for w in waiters:
                if not w.done():
                    w.set_exception(exc)
            return
        for w in waiters:
            if not w.done():
                w.set_result(None)

    def mark_pending(self, keys: Sequence[str], kind: str, row: int) -> None:
        """Record parts about to be sent (committed at once: a single request follows)."""
        now = _now()
        rows = [(self.scope, k, kind, self.run_id, row, None, None, None, None, self.run_id, row, now) for k in keys]
        self.ledger._commit([(_PENDING_SQL, rows)])

    def mark_created(
        self,
        keys: Sequence[str],
        kind: str,
        row: int,
        ident: int,
        guid: str | None,
        content: dict[str, Any] | None = None,
    ) -> None:
        """Record created parts with their id and GUID, and the payload they were created with (committed at once)."""
        now = _now()
        body = json.dumps(content, ensure_ascii=False, separators=(",", ":")) if content is not None else None
        rows = [(self.scope, k, kind, ident, guid, self.run_id, row, self.run_id, row, now, body) for k in keys]
        self.ledger._commit([(_CREATED_SQL, rows)])

