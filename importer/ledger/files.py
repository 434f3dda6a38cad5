"""The files beside the ledger's database: the run lock, and what to say when they cannot be used."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from pathlib import Path
from typing import IO

from importer.errors import LedgerError, LedgerLockedError

__all__ = ["FileLock", "check_writable", "open_error"]


class FileLock:
    """An exclusive, non-blocking lock on a file, released by the kernel when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def acquire(self, what: str) -> None:
        try:
            fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        except OSError as exc:
            raise LedgerError(
                f"cannot create the ledger lock {self.path}: {exc.strerror or exc}; "
                "check the folder's permissions or choose another --ledger"
            ) from exc
        try:
            _lock_file(fh)
        except OSError as exc:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise LedgerLockedError(
                f"the ledger {self.path.with_suffix('')} is in use by another realeflow-import run ({holder}); "
                "wait for it to finish (a scheduled run may still be going), or use another --ledger"
            ) from exc
        fh.seek(0)
        fh.truncate()
        fh.write(what)
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.seek(0)
                self._fh.truncate()
                _unlock_file(self._fh)
            self._fh.close()
            self._fh = None


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock_file(fh: IO[str]) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock_file(fh: IO[str]) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_file(fh: IO[str]) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_file(fh: IO[str]) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def check_writable(path: Path) -> None:
    """LedgerError when a run could not write the ledger or the files SQLite keeps beside it."""
    if path.exists() and not os.access(path, os.W_OK):
        raise LedgerError(
            f"the ledger {path} is read-only, and a push must record what it sends; make it writable "
            f"(chmod u+w {path}) or pass --ledger with another file"
        )
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LedgerError(
            f"cannot create files in {folder}, the folder of the ledger {path} (SQLite and the run's lock "
            "keep files beside it): make the folder writable or pass --ledger with a path in another folder"
        )


def open_error(path: Path, exc: sqlite3.DatabaseError) -> LedgerError:
    """What to tell a person when SQLite cannot open the ledger: read-only, not a database, damaged."""
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith("SQLITE_READONLY") or name.startswith("SQLITE_CANTOPEN") or name == "SQLITE_PERM":
        return LedgerError(
            f"cannot write the ledger {path} or the files beside it ({exc}); make the ledger and its folder "
            "writable, or pass --ledger with a path in another folder"
        )
    if name == "SQLITE_NOTADB":
        return LedgerError(
            f"{path} is not a ledger (not an SQLite database); if --ledger names the wrong file, point it at "
            "the ledger or at a new path; if it is a damaged ledger, move it aside (a new one is created, "
            "but rows already created will then be sent again)"
        )
    return LedgerError(
        f"cannot use the ledger {path}: {exc}; if it is damaged, move it aside (a new one is created, "
        "but rows already created will then be sent again) or point --ledger elsewhere"
    )
