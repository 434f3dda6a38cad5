"""The built-in sandbox as a rehearsal target, started in this process when first asked for.

Its database and its ledger live in the workbench's private folder, so a rehearsal's records and
runs never land in the person's account or ledger. Switching back to the real account leaves it
idle; it stops with the workbench.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from importer.sandbox import SandboxServer
from importer.sandbox.faults import Faults

from .connection import Connection
from .runs import Pushes

__all__ = ["SANDBOX_KEY", "Rehearsal", "Target"]

#: Where the sandbox's key came from, as the Connect page says it ("the key is ...").
SANDBOX_KEY = "the built-in sandbox's own"


@dataclass(frozen=True)
class Target:
    """Where pushes go: the API's address (None: the configured one), the ledger (None: the person's)."""

    base_url: str | None
    ledger: Path | None


class Rehearsal:
    """The in-process sandbox for one workbench: ``target()`` starts it once, ``close()`` stops it."""

    def __init__(self, folder: Path, faults: Faults | None = None) -> None:
        self.folder = folder
        self.faults = faults
        self.server: SandboxServer | None = None
        self._lock = threading.Lock()

    def start(self) -> SandboxServer:
        with self._lock:
            if self.server is None:
                self.server = SandboxServer(faults=self.faults, db_path=self.folder / "sandbox.sqlite3").start()
            return self.server

    def target(self) -> Target:
        # A rehearsal's runs stay out of the person's own ledger (as ``make demo``'s do).
        return Target(self.start().url, self.folder / "sandbox-ledger.sqlite3")

    def connect(self, workdir: Path) -> tuple[Connection, Pushes]:
        """A connection to the sandbox, checked as a typed key is, and pushes that go there."""
        target = self.target()
        conn = Connection(target.base_url)
        conn.connect(self.start().api_key, SANDBOX_KEY)
        return conn, Pushes(workdir, base_url=target.base_url, ledger=target.ledger)

    def close(self) -> None:
        with self._lock:
            if self.server is not None:
                self.server.stop()
                self.server.close()
                self.server = None
